/**
 * Read-only views over a ClusterState that more than one front end needs: the legacy v1 Endpoints
 * of a Service (what `kubectl get endpoints` shows), a Service's endpoint addresses, a pod's owner.
 */
import { isTerminal } from "./control/pod-ipam.ts";
import type { ClusterState } from "./control/state.ts";
import type {
  EndpointAddress,
  EndpointSlice,
  Endpoints,
  KubeObject,
  Pod,
  Protocol,
  Service,
} from "./model/k8s.ts";

/** Slices grouped by `namespace/service`. */
export function slicesByService(state: ClusterState): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const s of state.endpointSlices) {
    const svc = s.metadata.labels?.["kubernetes.io/service-name"];
    if (!svc) continue;
    const key = `${s.metadata.namespace}/${svc}`;
    const list = out.get(key);
    if (list) list.push(s);
    else out.set(key, [s]);
  }
  return out;
}

/** `ip:port` of every ready endpoint of the Service, over all its ports, in slice order. */
export function readyEndpointAddresses(slices: readonly EndpointSlice[]): string[] {
  const out: string[] = [];
  for (const s of slices) {
    for (const e of s.endpoints) {
      if (e.conditions.ready === false) continue;
      for (const a of e.addresses) {
        const ports = (s.ports ?? []).filter((p) => p.port !== undefined);
        if (ports.length === 0) out.push(a);
        for (const p of ports) out.push(a.includes(":") ? `[${a}]:${p.port}` : `${a}:${p.port}`);
      }
    }
  }
  return out;
}

/** The v1 Endpoints object the endpoints controller would keep beside the slices. */
export function legacyEndpoints(svc: Service, slices: readonly EndpointSlice[]): Endpoints {
  const subsets: NonNullable<Endpoints["subsets"]> = [];
  for (const s of slices) {
    const addresses: EndpointAddress[] = [];
    const notReadyAddresses: EndpointAddress[] = [];
    for (const e of s.endpoints) {
      for (const ip of e.addresses) {
        const a: EndpointAddress = { ip };
        if (e.hostname) a.hostname = e.hostname;
        if (e.nodeName) a.nodeName = e.nodeName;
        if (e.targetRef) a.targetRef = e.targetRef;
        (e.conditions.ready === false ? notReadyAddresses : addresses).push(a);
      }
    }
    if (addresses.length === 0 && notReadyAddresses.length === 0) continue;
    subsets.push({
      ...(addresses.length ? { addresses } : {}),
      ...(notReadyAddresses.length ? { notReadyAddresses } : {}),
      ports: (s.ports ?? [])
        .filter((p) => p.port !== undefined)
        .map((p) => ({
          ...(p.name ? { name: p.name } : {}),
          port: p.port!,
          protocol: (p.protocol ?? "TCP") as Protocol,
        })),
    });
  }
  return {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels: svc.metadata.labels },
    ...(subsets.length ? { subsets } : {}),
  };
}

/**
 * A pod's top-level owner: its controller, or that controller's controller when it is a Deployment or
 * CronJob (pods of a Deployment belong to the Deployment, not to its ReplicaSet). Indexed once.
 */
export function podOwners(state: ClusterState): (pod: Pod) => { kind: string; name: string } | undefined {
  const parents = new Map<string, KubeObject>();
  for (const w of state.workloads) parents.set(`${w.kind}/${w.metadata.namespace}/${w.metadata.name}`, w);
  return (pod) => {
    const ref = pod.metadata.ownerReferences?.find((o) => o.controller);
    if (!ref) return undefined;
    const parent = parents.get(`${ref.kind}/${pod.metadata.namespace}/${ref.name}`);
    const grand = parent?.metadata.ownerReferences?.find((o) => o.controller);
    if (grand && (grand.kind === "Deployment" || grand.kind === "CronJob"))
      return { kind: grand.kind, name: grand.name };
    return { kind: ref.kind, name: ref.name };
  };
}

/** Pods holding an address on each node (terminal and Pending pods excluded). */
export function podsPerNode(state: ClusterState): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of state.pods) {
    if (!p.spec.nodeName || !p.status?.podIP || isTerminal(p)) continue;
    out.set(p.spec.nodeName, (out.get(p.spec.nodeName) ?? 0) + 1);
  }
  return out;
}

/**
 * Why a pod has no address: the message the scheduler recorded in its `PodScheduled=False` condition
 * (control/scheduler.ts, as kube-scheduler's "0/N nodes are available: …"), or the node it was bound
 * to having no pod address left (control/pod-ipam.ts), else "not scheduled".
 */
export function pendingReason(p: Pod): string {
  const scheduled = p.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False") as
    | { message?: string }
    | undefined;
  if (scheduled?.message) return scheduled.message;
  if (p.spec.nodeName) return `node ${p.spec.nodeName} had no pod address left for it`;
  return "not scheduled";
}

/**
 * Why a pod holds no address, for messages: `it is Pending: <the scheduler's reason>`, or, for a
 * finished pod, `it is Succeeded` / `it is Failed` (a finished pod's address is released).
 */
export function noAddressReason(p: Pod): string {
  const phase = p.status?.phase;
  if (isTerminal(p)) return `it is ${phase}: a finished pod holds no address`;
  return `it is Pending: ${pendingReason(p)}`;
}
