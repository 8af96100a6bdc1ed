/**
 * The cluster's topology as front ends draw it, aggregated so that it stays small at any size: the
 * overview lists nodes (with their pod ranges and pod counts) and namespaces (with workload, pod and
 * Service counts); a namespace opens into its workloads, their pods and its Services over their
 * endpoints; a node opens into its network namespaces and devices, as `podnet routes` describes them.
 * Every function is one pass over the objects it lists (nothing per pair of pods).
 */
import type { ClusterState, NodeState } from "../control/state.ts";
import {
  hostInterfaceName,
  nodeNamespace,
  pluginOf,
  podNamespace,
  podsOnNode,
  renderNamespace,
} from "../graph/devices.ts";
import type { Pod } from "../model/k8s.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import { workloadOf } from "../policy/connlist.ts";
import { noAddressReason } from "../views.ts";
import { type DeviceView, deviceView, nodeTitle, podTitle } from "./devices.ts";

export interface TopologyNode {
  name: string;
  /** Primary address (kubelet's choice). */
  ip: string;
  /** Every InternalIP and ExternalIP. */
  addresses: string[];
  /** The Node's spec.podCIDR (kube-controller-manager's; a Calico cluster does not use it). */
  podCIDR: string;
  /** The pod address blocks the network plugin's IPAM gave the node (`podBlocks`). */
  podBlocks: string;
  /** What the plugin calls those blocks ("podCIDR", "IPAM block"). */
  blockTerm: string;
  /** Pods holding an address on the node (host-network pods included). */
  pods: number;
}

export interface TopologyNamespace {
  name: string;
  workloads: number;
  /** Pods with an address that have not finished. */
  pods: number;
  /** Pods without an address (Pending) or finished. */
  notRunning: number;
  services: number;
}

/** The first view: the cluster at a glance. */
export interface TopologyOverview {
  cluster: string;
  /** `vxlan`, `host-gw`, `ipip` …: the network plugin, which decides the devices between nodes. */
  cni: string;
  proxyMode: string;
  clusterCIDR: string;
  serviceCIDR: string;
  nodes: TopologyNode[];
  namespaces: TopologyNamespace[];
  totals: { nodes: number; pods: number; services: number; workloads: number; networkPolicies: number };
}

const running = (p: Pod) =>
  Boolean(p.status?.podIP) && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";

/** Nodes and namespaces with counts; linear in pods. */
export function topologyOverview(state: ClusterState): TopologyOverview {
  const perNode = new Map<string, number>();
  const ns = new Map<string, TopologyNamespace & { ws: Set<string> }>();
  const entry = (name: string) => {
    let e = ns.get(name);
    if (!e) {
      e = { name, workloads: 0, pods: 0, notRunning: 0, services: 0, ws: new Set() };
      ns.set(name, e);
    }
    return e;
  };
  for (const n of state.namespaces) entry(n.metadata.name);
  const owner = workloadOfCached(state);
  const workloads = new Set<string>();
  for (const p of state.pods) {
    const e = entry(p.metadata.namespace!);
    const w = owner(p);
    e.ws.add(w);
    workloads.add(w);
    if (running(p)) {
      e.pods++;
      if (p.spec.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    } else e.notRunning++;
  }
  for (const s of state.services) entry(s.metadata.namespace!).services++;
  const namespaces = [...ns.values()]
    .map(({ ws, ...e }) => ({ ...e, workloads: ws.size }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    cluster: state.config.name,
    cni: state.config.cni,
    proxyMode: state.config.proxyMode,
    clusterCIDR: state.config.clusterCIDR.toString(),
    serviceCIDR: state.config.serviceCIDR.toString(),
    nodes: state.nodes.map((n) => nodeSummary(state, n, perNode.get(n.name) ?? 0)),
    namespaces,
    totals: {
      nodes: state.nodes.length,
      pods: state.pods.length,
      services: state.services.length,
      workloads: workloads.size,
      networkPolicies: state.networkPolicies.length,
    },
  };
}

function nodeSummary(state: ClusterState, n: NodeState, pods: number): TopologyNode {
  return {
    name: n.name,
    ip: formatIPv4(n.ip),
    addresses: n.addresses.map((a) => formatIPv4(a.ip)),
    podCIDR: n.podCIDR.toString(),
    ...podBlocks(state, n),
    pods,
  };
}

/**
 * A node's pod address blocks as its network plugin's IPAM allocated them (flannel: its podCIDR;
 * Calico: its affine IPAM blocks, none until a pod needs one), joined, with the plugin's word for
 * them; what the views show as the node's pod range.
 */
export function podBlocks(state: ClusterState, n: NodeState): { podBlocks: string; blockTerm: string } {
  const blocks = state.podNetwork.blocks.get(n.name) ?? [];
  const term = pluginOf(state).blockTerm ?? "pod address block";
  return {
    podBlocks: blocks.length ? blocks.map(String).join(", ") : "none",
    blockTerm: blocks.length > 1 && !term.endsWith("s") ? `${term}s` : term,
  };
}

export interface TopologyPod {
  name: string;
  ip?: string;
  node?: string;
  phase: string;
  hostNetwork: boolean;
  /** Why it holds no address (Pending with the scheduler's reason, or finished). */
  noAddress?: string;
}

export interface TopologyWorkload {
  /** `ns/name[Kind]`, as connlist names it. */
  id: string;
  kind: string;
  name: string;
  pods: TopologyPod[];
}

export interface TopologyService {
  name: string;
  type: string;
  clusterIP?: string;
  /** `name port/protocol → targetPort` (nodePort when set). */
  ports: string[];
  /** Each endpoint address with the pod behind it and whether it is ready. */
  endpoints: { ip: string; pod?: string; ready: boolean }[];
}

/** One namespace opened: its workloads with their pods, and its Services over their endpoints. */
export interface NamespaceDetail {
  name: string;
  workloads: TopologyWorkload[];
  services: TopologyService[];
}

/** A namespace's workloads and Services; undefined when the cluster has nothing in it. */
export function namespaceDetail(state: ClusterState, name: string): NamespaceDetail | undefined {
  const owner = workloadOfCached(state);
  const ws = new Map<string, TopologyWorkload>();
  for (const p of state.pods) {
    if (p.metadata.namespace !== name) continue;
    const id = owner(p);
    let w = ws.get(id);
    if (!w) {
      const m = /^[^/]*\/(.*)\[([^\]]*)\]$/.exec(id);
      w = { id, name: m?.[1] ?? id, kind: m?.[2] ?? "", pods: [] };
      ws.set(id, w);
    }
    w.pods.push({
      name: p.metadata.name,
      ...(p.status?.podIP ? { ip: p.status.podIP } : {}),
      ...(p.spec.nodeName ? { node: p.spec.nodeName } : {}),
      phase: p.status?.phase ?? "Pending",
      hostNetwork: p.spec.hostNetwork === true,
      ...(running(p) ? {} : { noAddress: noAddressReason(p) }),
    });
  }
  const services: TopologyService[] = [];
  const slices = new Map<string, TopologyService["endpoints"]>();
  for (const s of state.endpointSlices) {
    if (s.metadata.namespace !== name) continue;
    const svc = s.metadata.labels?.["kubernetes.io/service-name"];
    if (!svc) continue;
    const list = slices.get(svc) ?? [];
    for (const e of s.endpoints)
      for (const ip of e.addresses)
        list.push({
          ip,
          ...(e.targetRef?.kind === "Pod" ? { pod: `${name}/${e.targetRef.name}` } : {}),
          ready: e.conditions.ready !== false,
        });
    slices.set(svc, list);
  }
  for (const s of state.services) {
    if (s.metadata.namespace !== name) continue;
    services.push({
      name: s.metadata.name,
      type: s.spec.type ?? "ClusterIP",
      ...(s.spec.clusterIP ? { clusterIP: s.spec.clusterIP } : {}),
      ports: (s.spec.ports ?? []).map(
        (p) =>
          `${p.name ? `${p.name} ` : ""}${p.port}/${p.protocol ?? "TCP"} → ${p.targetPort ?? p.port}${p.nodePort ? ` (nodePort ${p.nodePort})` : ""}`,
      ),
      endpoints: slices.get(s.metadata.name) ?? [],
    });
  }
  if (ws.size === 0 && services.length === 0 && !state.namespaces.some((n) => n.metadata.name === name))
    return undefined;
  return { name, workloads: [...ws.values()], services };
}

/** One node opened: its root network namespace and each pod's, as `podnet routes` prints them. */
export interface NodeDetail {
  node: TopologyNode;
  cni: string;
  /**
   * `podnet routes --node NAME`'s text; with a `limit`, the first `limit` routes, neighbours and FDB
   * entries of each list (the rest counted in `entries`).
   */
  root: string;
  /** How many routes, neighbours and FDB entries the root namespace holds, and how many `root` shows. */
  entries: { routes: number; neighbours: number; fdb: number; shown: number | null };
  /** Devices of the root namespace: name, kind and addresses. */
  devices: DeviceView[];
  /**
   * Pods with their own network namespace on the node: the host end of each one's veth pair, and
   * `podnet routes --pod`'s text for each.
   */
  pods: { pod: string; ip: string; veth: string; text: string }[];
}

/** Entries of each list of a node's root namespace shown before "show all" (see `nodeDetail`). */
export const NODE_ENTRY_LIMIT = 50;

/**
 * Undefined when no node has that name. The devices are `podnet routes -o json`'s
 * (./devices.ts `deviceView` over the same namespace), so the page and the CLI list the same ones.
 * `limit`: the root namespace's text shows that many routes, neighbours and FDB entries of each list
 * (a node of a 5,000-node cluster holds ~5,000 of each: ~1 MB of text the page would lay out).
 */
export function nodeDetail(
  state: ClusterState,
  name: string,
  opts: { limit?: number } = {},
): NodeDetail | undefined {
  const node = state.nodes.find((n) => n.name === name);
  if (!node) return undefined;
  const pods = podsOnNode(state, node);
  const root = nodeNamespace(state, node, pods);
  let count = 0;
  for (const p of state.pods) if (p.spec.nodeName === name && running(p)) count++;
  const limit = opts.limit;
  const shown =
    limit === undefined
      ? root
      : {
          ...root,
          routes: root.routes.slice(0, limit),
          neighbours: root.neighbours.slice(0, limit),
          fdb: root.fdb.slice(0, limit),
        };
  return {
    node: nodeSummary(state, node, count),
    cni: state.config.cni,
    root: renderNamespace(shown, { title: nodeTitle(state, node) }),
    entries: {
      routes: root.routes.length,
      neighbours: root.neighbours.length,
      fdb: root.fdb.length,
      shown: limit ?? null,
    },
    devices: root.interfaces.map(deviceView),
    pods: pods.map((p) => ({
      pod: `${p.metadata.namespace}/${p.metadata.name}`,
      ip: p.status!.podIP!,
      veth: hostInterfaceName(state, p),
      text: renderNamespace(podNamespace(state, node, p), { title: podTitle(state, node, p) }),
    })),
  };
}

/**
 * `workloadOf` (../policy/connlist.ts) remembered per controller reference: the pods of one
 * ReplicaSet climb to their Deployment once, not once each (150,000 pods: a few thousand climbs).
 */
export function workloadOfCached(state: ClusterState): (pod: Pod) => string {
  const owner = workloadOf(state);
  const memo = new Map<string, Map<string, string>>();
  return (pod) => {
    const ref = pod.metadata.ownerReferences?.find((r) => r.controller);
    if (!ref) return owner(pod);
    const key = `${state.generated.has(pod) ? "g" : "i"}${ref.kind}/${ref.name}`;
    let ns = memo.get(pod.metadata.namespace!);
    if (!ns) {
      ns = new Map();
      memo.set(pod.metadata.namespace!, ns);
    }
    let w = ns.get(key);
    if (w === undefined) {
      w = owner(pod);
      ns.set(key, w);
    }
    return w;
  };
}
