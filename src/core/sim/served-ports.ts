/**
 * Which ports of a pod are known to be served. In Kubernetes `containerPort` is informational: an
 * application listens where it listens, declared or not, and nothing stops a connection to a port
 * no container lists (API reference, `ContainerPort`: "Not specifying a port here DOES NOT prevent
 * that port from being exposed"). podnet therefore knows a port is served in two cases:
 *
 *   declared   a container of the pod lists it (containerPort and protocol): that container serves it;
 *   service    a Service sends traffic there — an EndpointSlice lists the pod (by `targetRef`, or by
 *              address for hand-written slices) with that port, i.e. a Service's targetPort resolves
 *              to it (a number the containers do not declare: the endpointslice controller takes a
 *              numeric targetPort as it is). Which container serves it is unknown.
 *
 * Anywhere else a packet *arrives* at the pod and whether a process listens is unknown: the tracer's
 * `arrived` outcome. The data plane's listeners follow the same rule (../dataplane/plan.ts): a socket
 * on every declared port and on every port a Service sends to.
 *
 * Built once per cluster state (cached), in one pass over the pods and the EndpointSlices.
 */
import type { ClusterState } from "../control/state.ts";
import type { Pod, Protocol } from "../model/k8s.ts";

/** A port of a pod known to be served, and why it is known. */
export interface ServedPort {
  port: number;
  protocol: Protocol;
  /** The container that declares it; absent when only a Service targets it. */
  container?: string;
  /** The declared port's name, or the Service port's name for a Service-only port. */
  name?: string;
  /** `declared` (a container lists it) or `service` (only a Service's targetPort leads there). */
  by: "declared" | "service";
  /** For `service`: the Services (`ns/name`) whose endpoints send there, in slice order. */
  services?: string[];
}

/** The served ports of every pod of a cluster, by `ns/name`. */
export class ServedPorts {
  readonly #byPod = new Map<string, ServedPort[]>();
  /**
   * The same lists by pod object: a trace asks at every delivery, and building the `ns/name` key
   * and hashing it each time was a few per cent of a trace (issue 13).
   */
  readonly #byPodObject = new Map<Pod, ServedPort[]>();

  constructor(state: ClusterState) {
    const byIP = new Map<string, string>();
    for (const pod of state.pods) {
      const key = podKey(pod);
      const ports: ServedPort[] = [];
      for (const c of pod.spec.containers)
        for (const p of c.ports ?? [])
          ports.push({
            port: p.containerPort,
            protocol: p.protocol ?? "TCP",
            container: c.name,
            ...(p.name ? { name: p.name } : {}),
            by: "declared",
          });
      this.#byPod.set(key, ports);
      this.#byPodObject.set(pod, ports);
      const phase = pod.status?.phase;
      if (pod.status?.podIP && !pod.spec.hostNetwork && phase !== "Succeeded" && phase !== "Failed")
        byIP.set(pod.status.podIP, key);
    }
    for (const slice of state.endpointSlices) {
      const service = slice.metadata.labels?.["kubernetes.io/service-name"];
      const id = service ? `${slice.metadata.namespace}/${service}` : undefined;
      for (const ep of slice.endpoints) {
        const key =
          ep.targetRef?.kind === "Pod"
            ? `${ep.targetRef.namespace ?? slice.metadata.namespace}/${ep.targetRef.name}`
            : ep.addresses.map((a) => byIP.get(a)).find((k) => k !== undefined);
        const ports = key === undefined ? undefined : this.#byPod.get(key);
        if (!ports) continue;
        for (const sp of slice.ports ?? []) {
          if (sp.port === undefined) continue;
          const protocol = sp.protocol ?? "TCP";
          const known = ports.find((p) => p.port === sp.port && p.protocol === protocol);
          if (!known)
            ports.push({
              port: sp.port,
              protocol,
              ...(sp.name ? { name: sp.name } : {}),
              by: "service",
              services: id ? [id] : [],
            });
          else if (known.by === "service" && id && !known.services!.includes(id)) known.services!.push(id);
        }
      }
    }
  }

  /** Every served port of a pod: the declared ones in container order, then the Service-only ones. */
  of(pod: Pod): readonly ServedPort[] {
    return this.#byPodObject.get(pod) ?? this.#byPod.get(podKey(pod)) ?? [];
  }

  /** The served port a connection to `port`/`protocol` meets in the pod, if it is known to be served. */
  find(pod: Pod, port: number, protocol: Protocol): ServedPort | undefined {
    return this.of(pod).find((p) => p.port === port && p.protocol === protocol);
  }
}

const cache = new WeakMap<ClusterState, ServedPorts>();

/** The served ports of a cluster state, computed once per state object. */
export function servedPorts(state: ClusterState): ServedPorts {
  let s = cache.get(state);
  if (!s) {
    s = new ServedPorts(state);
    cache.set(state, s);
  }
  return s;
}

function podKey(pod: Pod): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}
