/**
 * The control plane, in the order the real one converges:
 *
 *   config ─► nodes (IPs, podCIDRs) ─► workloads → pods ─► scheduler ─► pod IPAM (the network plugin's)
 *          ─► namespaces ─► Services (ClusterIP, nodePorts, LB IPs) ─► EndpointSlices ─► workload status
 *
 * What every running cluster has and the input lacks is supplied on the way (addons.ts): kubelet's
 * node labels with the nodes, kubeadm's CoreDNS add-on after the input's workloads, then a default
 * Ingress controller when the input has Ingresses and runs none (ingress-controllers.ts).
 *
 * Pure and deterministic: the same inventory always yields the same ClusterState.
 */
import { networkPlugin } from "../cni/registry.ts";
import type { Diagnostics, Origin } from "../diagnostics.ts";
import type { Entry, Inventory } from "../manifests/decode.ts";
import { PODNET_API } from "../manifests/kinds.ts";
import { type ClusterConfig, defaultConfig } from "../model/config.ts";
import type { KubeObject, Namespace, OwnerReference, Pod, Workload } from "../model/k8s.ts";
import { objectRef } from "../model/k8s.ts";
import { supplyClusterDNS } from "./addons.ts";
import { resolveEndpointSlices } from "./endpoints.ts";
import { supplyIngressController } from "./ingress-controllers.ts";
import { uidFor } from "./names.ts";
import { resolveNodes } from "./nodes.ts";
import { isPodReady, isTerminal } from "./pod-ipam.ts";
import { schedulePods } from "./scheduler.ts";
import { resolveServices } from "./services.ts";
import { type ClusterState, GroupedWarnings, type NodeState } from "./state.ts";
import { controllerRef, expandWorkloads, ownerKey, referencedNodeNames } from "./workloads.ts";

/** Namespaces every cluster has, whether or not the manifests mention them. */
export const BUILTIN_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"];

export function resolveCluster(inv: Inventory, diags: Diagnostics): ClusterState {
  const config: ClusterConfig = inv.config ?? defaultConfig();
  const grouped = new GroupedWarnings();
  const origins = new Map<KubeObject, Origin>();
  for (const e of inv.pods) origins.set(e.obj, e.origin);
  // Workloads too (not only pods and policies): findings about a pod podnet made point at its workload.
  for (const e of inv.workloads) origins.set(e.obj, e.origin);

  const nodes = resolveNodes({
    config,
    configOrigin: inv.configOrigin,
    nodeEntries: inv.nodes,
    referencedNodeNames: referencedNodeNames(inv.pods, inv.workloads),
    diags,
    grouped,
  });

  const { pods, workloads, generated } = expandWorkloads({
    workloads: inv.workloads,
    pods: inv.pods,
    nodes,
    diags,
  });
  // What every cluster has and the input lacks (addons.ts): its pods come after every pod of the
  // input, so they are scheduled and addressed last and never move an input pod.
  const dns = supplyClusterDNS(inv, config, diags);
  const supplied: Pod[] = [];
  if (dns && dns.workloads.length > 0) {
    const added = expandWorkloads({ workloads: dns.workloads, pods: [], nodes, diags });
    supplied.push(...added.pods);
    pods.push(...added.pods);
    workloads.push(...added.workloads);
    for (const o of added.generated) generated.add(o);
  }
  // The default Ingress controller (ingress-controllers.ts), after the DNS add-on, likewise last.
  const ingressController = supplyIngressController(inv, config, diags);
  if (ingressController && ingressController.workloads.length > 0) {
    const added = expandWorkloads({ workloads: ingressController.workloads, pods: [], nodes, diags });
    supplied.push(...added.pods);
    pods.push(...added.pods);
    workloads.push(...added.workloads);
    for (const o of added.generated) generated.add(o);
  }

  // Scheduling: pods already bound (given nodeName, DaemonSet pods) count against their node first.
  const nodeIndex = new Map(nodes.map((n, i) => [n.name, i]));
  const counts = nodes.map(() => 0);
  const pending: Pod[] = [];
  const isSupplied = new Set(supplied);
  for (const p of pods) {
    if (p.status?.phase === "Succeeded" || p.status?.phase === "Failed") continue;
    const i = p.spec.nodeName ? nodeIndex.get(p.spec.nodeName) : undefined;
    if (i !== undefined) counts[i]++;
    else if (!p.spec.nodeName && !isSupplied.has(p)) pending.push(p);
  }
  // Where a pod's warnings point: its own definition, or for a pod a workload made, the workload
  // the input defines (the Deployment, not the ReplicaSet podnet generated for it).
  const madeBy = workloadOrigins(inv.workloads, workloads);
  const placeOf = (pod: Pod): { object: string; origin?: Origin } => {
    const own = origins.get(pod);
    return own ? { object: objectRef(pod), origin: own } : (madeBy(pod) ?? { object: objectRef(pod) });
  };
  const { unschedulable } = schedulePods(pending, nodes, counts);
  unschedulable.push(...scheduleSpread(supplied, nodes, counts));
  for (const { pod, reason } of unschedulable) {
    pod.status = {
      ...pod.status,
      phase: "Pending",
      conditions: [
        { type: "PodScheduled", status: "False", reason: "Unschedulable", message: reason } as never,
      ],
    };
    grouped.add(
      "unschedulable",
      { ...placeOf(pod), detail: `${pod.metadata.namespace}/${pod.metadata.name}: ${reason}` },
      (count, first) =>
        `${count} pod${count === 1 ? "" : "s"} could not be scheduled and stay Pending (first: ${first})`,
      "add nodes (spec.nodes in the Cluster config), or relax nodeSelector, affinity or tolerations",
    );
  }

  const plugin = networkPlugin(config.cni);
  // A Calico cluster's dump read without a Cluster config (or with another cni) would silently
  // become a flannel network with other addresses: the pools say which plugin the cluster runs.
  if (inv.ipPools.length > 0 && !plugin.readsIPPools) {
    const first = inv.ipPools[0];
    diags.warn({
      code: "ippools-unused",
      message: `${inv.ipPools.length} Calico IPPool${inv.ipPools.length === 1 ? "" : "s"} in the input, but the cluster's network plugin is ${plugin.name}${inv.config ? "" : " (no Cluster config: podnet's default)"}, which takes pod addresses from clusterCIDR ${config.clusterCIDR}: the pools are listed, not used`,
      hint: `if the cluster runs Calico, set spec.cni: calico in a Cluster config (${PODNET_API})`,
      object: `IPPool ${first.obj.metadata.name ?? ""}`,
      origin: first.origin,
    });
  }
  if (supplied.length > 0)
    leaveWithoutAddress(supplied, pods, nodes, diags, (n) => plugin.nodePodCapacity?.(config, n));
  // The network plugin's IPAM (flannel: host-local on each podCIDR; Calico: blocks from its pools).
  const podNetwork = plugin.assignPodAddresses({
    pods,
    nodes,
    config,
    inventory: inv,
    originOf: (p) => placeOf(p).origin,
    diags,
    grouped,
  });

  const namespaces = resolveNamespaces(inv, pods, workloads);
  const services = resolveServices({
    services: [...inv.services, ...(dns?.services ?? []), ...(ingressController?.services ?? [])],
    nodes,
    config,
    diags,
    grouped,
  });
  const endpointSlices = resolveEndpointSlices({
    services,
    pods,
    nodes,
    givenSlices: inv.endpointSlices,
    givenEndpoints: inv.endpoints,
  });
  fillWorkloadStatus(workloads, pods);
  grouped.flush(diags);

  const objs = (entries: Entry[]) =>
    entries.map((e) => {
      origins.set(e.obj, e.origin);
      return e.obj;
    });
  return {
    config,
    namespaces,
    nodes,
    podNetwork,
    pods,
    workloads,
    services,
    endpointSlices,
    generated,
    networkPolicies: objs(inv.networkPolicies),
    ingresses: objs(inv.ingresses),
    ingressClasses: objs(inv.ingressClasses),
    routes: objs(inv.routes),
    ipPools: objs(inv.ipPools),
    adminNetworkPolicies: objs(inv.adminNetworkPolicies),
    baselineAdminNetworkPolicies: objs(inv.baselineAdminNetworkPolicies),
    clusterNetworkPolicies: objs(inv.clusterNetworkPolicies),
    gatewayClasses: objs(inv.gatewayClasses),
    gateways: objs(inv.gateways),
    httpRoutes: objs(inv.httpRoutes),
    referenceGrants: objs(inv.referenceGrants),
    origins,
    configOrigin: inv.configOrigin,
  };
}

/**
 * The supplied CoreDNS pods, after the input's, one at a time: each prefers a node whose
 * `kubernetes.io/hostname` holds none of them yet (kubeadm gives them a preferred pod anti-affinity on
 * that key), and falls back to every node, as a preference does. Among the preferred nodes the
 * scheduler's own choice applies (fewest pods).
 */
function scheduleSpread(
  supplied: readonly Pod[],
  nodes: readonly NodeState[],
  counts: number[],
): { pod: Pod; reason: string }[] {
  const unschedulable: { pod: Pod; reason: string }[] = [];
  const hosts = new Set<string>();
  for (const pod of supplied) {
    const free = nodes
      .map((_node, i) => i)
      .filter((i) => {
        const host = nodes[i].labels["kubernetes.io/hostname"];
        return host !== undefined && !hosts.has(host);
      });
    let placed = false;
    if (free.length > 0 && free.length < nodes.length) {
      const sub = free.map((i) => counts[i]);
      placed =
        schedulePods(
          [pod],
          free.map((i) => nodes[i]),
          sub,
        ).unschedulable.length === 0;
      if (placed)
        free.forEach((i, k) => {
          counts[i] = sub[k];
        });
    }
    if (!placed) unschedulable.push(...schedulePods([pod], nodes, counts).unschedulable);
    const node = nodes.find((n) => n.name === pod.spec.nodeName);
    const host = node?.labels["kubernetes.io/hostname"];
    if (host !== undefined) hosts.add(host);
  }
  return unschedulable;
}

/**
 * Supplied pods bound to a node whose podCIDR the input's pods already fill are taken off the node and
 * left Pending with that reason, and one warning: what podnet adds must never turn a valid input into
 * an exhausted pool (which is an error for the input's own pods).
 */
function leaveWithoutAddress(
  supplied: readonly Pod[],
  pods: readonly Pod[],
  nodes: readonly NodeState[],
  diags: Diagnostics,
  capacity: (node: NodeState) => number | undefined,
): void {
  const isSupplied = new Set(supplied);
  const needsAddress = (p: Pod) => p.spec.nodeName && !p.spec.hostNetwork && !isTerminal(p);
  // Only the nodes the supplied pods are bound to are counted (a handful, against every pod's node).
  const used = new Map<string, number>();
  for (const p of supplied) if (needsAddress(p)) used.set(p.spec.nodeName!, 0);
  for (const p of pods) {
    const n = p.spec.nodeName;
    if (n !== undefined && used.has(n) && !isSupplied.has(p) && needsAddress(p))
      used.set(n, used.get(n)! + 1);
  }
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const left: string[] = [];
  for (const p of supplied) {
    const node = needsAddress(p) ? byName.get(p.spec.nodeName!) : undefined;
    if (!node) continue;
    const n = used.get(node.name) ?? 0;
    // The plugin's capacity of the node (host-local: its podCIDR less network, gateway and broadcast).
    const room = capacity(node);
    if (room === undefined || n < room) {
      used.set(node.name, n + 1);
      continue;
    }
    const message = `node ${node.name}'s podCIDR ${node.podCIDR} has no pod address left for it`;
    p.spec.nodeName = undefined;
    p.status = {
      ...p.status,
      phase: "Pending",
      conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message } as never],
    };
    left.push(`${p.metadata.namespace}/${p.metadata.name}`);
  }
  if (left.length > 0)
    diags.warn({
      code: "supplied-pods-pending",
      message: `${left.length} supplied CoreDNS pod${left.length === 1 ? " stays" : "s stay"} Pending: the input's pods take every address of ${left.length === 1 ? "its node's" : "their nodes'"} podCIDR (first: ${left[0]})`,
      hint: "lower nodeCIDRMaskSize in the Cluster config, or set spec.supply.clusterDNS: false",
    });
}

function resolveNamespaces(
  inv: Inventory,
  pods: readonly Pod[],
  workloads: readonly Workload[],
): Namespace[] {
  const byName = new Map<string, Namespace>();
  for (const { obj } of inv.namespaces) byName.set(obj.metadata.name, obj);
  const mention = (name: string | undefined) => {
    if (name && !byName.has(name))
      byName.set(name, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  };
  for (const n of BUILTIN_NAMESPACES) mention(n);
  const namespaced: readonly (readonly { metadata: { namespace?: string } }[])[] = [
    pods,
    workloads,
    objsOf(inv.services),
    objsOf(inv.endpoints),
    objsOf(inv.endpointSlices),
    objsOf(inv.networkPolicies),
    objsOf(inv.ingresses),
    objsOf(inv.routes),
    objsOf(inv.gateways),
    objsOf(inv.httpRoutes),
    objsOf(inv.referenceGrants),
  ];
  for (const list of namespaced) for (const o of list) mention(o.metadata.namespace);
  const out = [...byName.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const ns of out) {
    ns.metadata.labels = { ...ns.metadata.labels, "kubernetes.io/metadata.name": ns.metadata.name };
    ns.metadata.uid ??= uidFor(`Namespace/${ns.metadata.name}`);
    ns.spec ??= { finalizers: ["kubernetes"] };
    ns.status ??= { phase: "Active" };
  }
  return out;
}

function objsOf<T extends KubeObject>(entries: readonly Entry<T>[]): T[] {
  return entries.map((e) => e.obj);
}

/** Status as the controllers would report it, for workloads whose input carries none. */
function fillWorkloadStatus(workloads: readonly Workload[], pods: readonly Pod[]): void {
  const stats = new Map<string, { total: number; ready: number }>();
  const bump = (key: string, ready: boolean) => {
    const s = stats.get(key) ?? { total: 0, ready: 0 };
    s.total++;
    if (ready) s.ready++;
    stats.set(key, s);
  };
  const parentOf = new Map<string, string>();
  for (const w of workloads) {
    const ref = controllerRef(w);
    if (ref)
      parentOf.set(
        ownerKey(w.kind, w.metadata.namespace, w.metadata.name),
        ownerKey(ref.kind, w.metadata.namespace, ref.name),
      );
  }
  // The owner's key per ownerReferences list: the pods a workload creates share one list, so 150,000
  // pods build a key per workload rather than one each. The namespace is checked too: YAML aliases
  // can share one list between pods of different namespaces.
  const keyOfRefs = new Map<readonly OwnerReference[], { ns?: string; key?: string }>();
  for (const p of pods) {
    if (p.status?.phase === "Succeeded" || p.status?.phase === "Failed") continue;
    const refs = p.metadata.ownerReferences;
    if (!refs) continue;
    let cached = keyOfRefs.get(refs);
    if (!cached || cached.ns !== p.metadata.namespace) {
      const ref = controllerRef(p);
      cached = { ns: p.metadata.namespace, key: ref && ownerKey(ref.kind, p.metadata.namespace, ref.name) };
      keyOfRefs.set(refs, cached);
    }
    const key = cached.key;
    if (key === undefined) continue;
    const ready = isPodReady(p);
    bump(key, ready);
    const parent = parentOf.get(key);
    if (parent) bump(parent, ready);
  }
  for (const w of workloads) {
    if (w.status) continue;
    const s = stats.get(ownerKey(w.kind, w.metadata.namespace, w.metadata.name)) ?? { total: 0, ready: 0 };
    switch (w.kind) {
      case "Deployment":
      case "ReplicaSet":
      case "StatefulSet":
      case "ReplicationController":
        w.status = { replicas: s.total, readyReplicas: s.ready, availableReplicas: s.ready };
        break;
      case "DaemonSet":
        w.status = { desiredNumberScheduled: s.total, currentNumberScheduled: s.total, numberReady: s.ready };
        break;
      case "Job":
        w.status = { active: s.total, ready: s.ready };
        break;
    }
  }
}

/**
 * The workload of the input that made a pod (following controller references up through the
 * ReplicaSets and Jobs podnet generates), as `{object, origin}` for messages; undefined for a pod
 * no given workload made.
 */
function workloadOrigins(
  given: readonly Entry[],
  all: readonly KubeObject[],
): (pod: Pod) => { object: string; origin: Origin } | undefined {
  const byKey = new Map<string, { obj: KubeObject; origin?: Origin }>();
  for (const e of given) byKey.set(ownerKey(e.obj.kind, e.obj.metadata.namespace, e.obj.metadata.name), e);
  for (const w of all) {
    const key = ownerKey(w.kind, w.metadata.namespace, w.metadata.name);
    if (!byKey.has(key)) byKey.set(key, { obj: w });
  }
  return (pod) => {
    let o: KubeObject = pod;
    for (let depth = 0; depth < 4; depth++) {
      const ref = controllerRef(o);
      const w = ref && byKey.get(ownerKey(ref.kind, o.metadata.namespace, ref.name));
      if (!w) return undefined;
      if (w.origin) return { object: objectRef(w.obj), origin: w.origin };
      o = w.obj;
    }
    return undefined;
  };
}
