/**
 * Every allowed connection, aggregated per workload: the "connlist" view users of connectivity
 * analysers know (`ns/a[Deployment] => ns/b[Deployment] : TCP 8080`).
 *
 *   pods ──► workloads: the owner the input names (a given pod's controller ownerReference), or the
 *            top-level workload podnet expanded it from; bare pods stand alone as `[Pod]`
 *   outside ──► IP ranges: 0.0.0.0/0 cut at every ingress CIDR boundary (sources) and every egress
 *            CIDR boundary (destinations); the addresses of one range are treated alike
 *   workload × workload, range × workload, workload × range ──► the allowed connections per protocol
 *            as port ranges, from the policy engine on one port per atom
 *
 *   Ingress / Route backends ──► `{ingress-controller} => workload : ports`, where the workload's
 *            ingress policies let an arbitrary pod in (INGRESS_CONTROLLER); an Ingress whose
 *            controller is a pod of the input (`realControllers`) gets none: that pod's workload
 *            lines are the controller's connections
 *
 * A workload's connections to itself are not listed. Lines are sorted by source, then destination.
 * Ranges stand for addresses outside the pods: traffic from a pod is always the pod's workload.
 *
 * A line that exists only because NetworkPolicy never blocks traffic between a pod and its own node
 * (a host-network workload and a workload with a pod on the same node, both ways; see sameNodePairs)
 * carries `ownNode: true`: without that exception, no policy would allow any of it.
 */
import type { ClusterState } from "../control/state.ts";
import type { KubeObject, Pod, Protocol } from "../model/k8s.ts";
import { formatIPv4, parseIPv4 } from "../net/ipv4.ts";
import { PolicyEngine, type PolicyPeer } from "./netpol.ts";
import { Reachability } from "./reach.ts";

export const CONN_PROTOCOLS: readonly Protocol[] = ["SCTP", "TCP", "UDP"];

export interface Connection {
  src: string;
  dst: string;
  /** `All Connections`, or `TCP 80,8000-8100,UDP 53` (protocols in order SCTP, TCP, UDP). */
  conn: string;
  /**
   * Present (true) when the line exists only through the own-node exception: one end is a
   * host-network workload with a pod on a node where the other has a pod, and the policies themselves
   * allow nothing between them (Kubernetes: traffic to and from a pod's node is always allowed).
   */
  ownNode?: true;
}

/** What a line's connections read with when it exists only through the own-node exception (`ownNode`). */
export const OWN_NODE_MARK = " (own node)";

/** A line's connections as the text outputs show them: `conn`, marked when only the own-node exception makes it. */
export function connText(c: Pick<Connection, "conn" | "ownNode">): string {
  return c.ownNode ? `${c.conn}${OWN_NODE_MARK}` : c.conn;
}

/**
 * `ns/name[Kind]` of each pod's workload: for a pod the input gives, its controller as the
 * ownerReference names it (a live dump's pods show their ReplicaSet); for a pod podnet created, the
 * workload the input gave (climbing the ReplicaSets and Jobs podnet created on the way); else `[Pod]`.
 */
export function workloadOf(state: ClusterState): (pod: Pod) => string {
  // One per cluster: diff asks for each side's twice (the change's scope, the lines).
  let owner = OWNERS.get(state);
  if (!owner) {
    owner = ownerOf(state);
    OWNERS.set(state, owner);
  }
  return owner;
}

const OWNERS = new WeakMap<ClusterState, (pod: Pod) => string>();

function ownerOf(state: ClusterState): (pod: Pod) => string {
  const byKey = new Map<string, KubeObject>();
  for (const w of state.workloads) byKey.set(`${w.kind}/${w.metadata.namespace}/${w.metadata.name}`, w);
  const controller = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller);
  // The pods of one workload share one ownerReferences list (src/core/control/workloads.ts): its
  // answer is kept per list, namespace and whether podnet created the pod.
  const known = new Map<object, { ns?: string; generated: boolean; name: string }>();
  return (pod) => {
    const ns = pod.metadata.namespace;
    const refs = pod.metadata.ownerReferences;
    const generated = state.generated.has(pod);
    const seen = refs && known.get(refs);
    if (seen && seen.ns === ns && seen.generated === generated) return seen.name;
    const ref = controller(pod);
    if (!ref) return `${ns}/${pod.metadata.name}[Pod]`;
    let kind = ref.kind;
    let name = ref.name;
    if (generated) {
      for (let o = byKey.get(`${kind}/${ns}/${name}`); o && state.generated.has(o); ) {
        const up = controller(o);
        if (!up) break;
        kind = up.kind;
        name = up.name;
        o = byKey.get(`${kind}/${ns}/${name}`);
      }
    }
    const out = `${ns}/${name}[${kind}]`;
    if (refs) known.set(refs, { ns, generated, name: out });
    return out;
  };
}

/** Where the CIDRs the policies name for one direction cut 0.0.0.0/0 (the first address of each piece). */
export function rangeCuts(
  state: ClusterState,
  direction: "ingress" | "egress",
  engine = new PolicyEngine(state),
): number[] {
  const cuts = new Set<number>([0]);
  for (const b of engine.features().blocks) {
    if (b.direction !== direction) continue;
    const size = 2 ** (32 - b.prefix);
    cuts.add(b.base);
    if (b.base + size - 1 < 0xffffffff) cuts.add(b.base + size);
  }
  return [...cuts].sort((a, b) => a - b);
}

/** The disjoint ranges the cuts (the policies' own, plus any extra) make of 0.0.0.0/0. */
export function outsideRanges(
  state: ClusterState,
  engine: PolicyEngine,
  direction: "ingress" | "egress",
  extra: readonly number[] = [],
): { first: number; last: number }[] {
  const sorted = [...new Set([...rangeCuts(state, direction, engine), ...extra])].sort((a, b) => a - b);
  return sorted.map((first, i) => ({ first, last: i + 1 < sorted.length ? sorted[i + 1] - 1 : 0xffffffff }));
}

/** A pod as policies see it: host-network pods are their address. */
function policyPeer(pod: Pod): PolicyPeer {
  const ip = parseIPv4(pod.status!.podIP!)!;
  return pod.spec.hostNetwork ? { kind: "address", ip } : { kind: "pod", pod, ip };
}

/** The connection-set text: `All Connections` or `TCP 80,8000-8100,UDP 53`. */
export function formatConnections(allowed: Map<Protocol, [number, number][]>): string {
  const full = CONN_PROTOCOLS.every((p) => {
    const r = allowed.get(p) ?? [];
    return r.length === 1 && r[0][0] === 1 && r[0][1] === 65535;
  });
  if (full) return "All Connections";
  const parts: string[] = [];
  for (const p of CONN_PROTOCOLS) {
    const r = allowed.get(p) ?? [];
    if (r.length === 0) continue;
    parts.push(`${p} ${r.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)).join(",")}`);
  }
  return parts.join(",");
}

export const INGRESS_CONTROLLER_NAME = "{ingress-controller}";

/**
 * The cluster's ingress controller, as a source: some pod, in a namespace of its own, whose labels and
 * address nobody knows. Only peers that match any pod in any namespace let it in: a namespaceSelector
 * and podSelector that match empty labels (as `namespaceSelector: {}` does), or an ipBlock of every
 * address (0.0.0.0/0 without excepts).
 * Its own egress is not modelled (allowed).
 */
export const INGRESS_CONTROLLER: PolicyPeer = {
  kind: "pod",
  pod: {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: INGRESS_CONTROLLER_NAME, namespace: INGRESS_CONTROLLER_NAME, labels: {} },
    spec: { containers: [] },
  },
  ip: 0,
  addressless: true,
};

/** A Service an Ingress or OpenShift Route sends to, and the port it names. */
export interface BackendRef {
  /** `Ingress ns/name` or `Route ns/name`. */
  by: string;
  ns: string;
  service: string;
  port?: { number?: number; name?: string; target?: number | string };
}

/** Every Service backend of every Ingress (default backend and paths) and Route (to, alternates). */
export function ingressBackendRefs(state: ClusterState): BackendRef[] {
  const backends: BackendRef[] = [];
  for (const ing of state.ingresses) {
    const ns = ing.metadata.namespace!;
    type B = { service?: { name: string; port?: { number?: number; name?: string } } } | undefined;
    const spec = (ing.spec ?? {}) as {
      defaultBackend?: B;
      rules?: { http?: { paths?: { backend?: B }[] } }[];
    };
    const list = [
      spec.defaultBackend,
      ...(spec.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend)),
    ];
    for (const b of list)
      if (b?.service?.name)
        backends.push({
          by: `Ingress ${ns}/${ing.metadata.name}`,
          ns,
          service: b.service.name,
          port: { number: b.service.port?.number, name: b.service.port?.name },
        });
  }
  for (const route of state.routes) {
    const ns = route.metadata.namespace!;
    const spec = (route.spec ?? {}) as {
      to?: { kind?: string; name?: string };
      alternateBackends?: { kind?: string; name?: string }[];
      port?: { targetPort?: number | string };
    };
    for (const to of [spec.to, ...(spec.alternateBackends ?? [])])
      if (to?.name && (to.kind ?? "Service") === "Service")
        backends.push({
          by: `Route ${ns}/${route.metadata.name}`,
          ns,
          service: to.name,
          ...(spec.port?.targetPort !== undefined ? { port: { target: spec.port.targetPort } } : {}),
        });
  }
  return backends;
}

/**
 * The workloads an Ingress or OpenShift Route sends to, with the ports it uses and the pods behind each:
 * the backend Service's EndpointSlices (ready endpoints), narrowed to the port the backend names —
 * Ingress `port.number` (a Service port) or `port.name`; Route `port.targetPort`, a Service port name
 * or a target port number; no port: all of the Service's ports.
 */
export function ingressBackends(
  state: ClusterState,
  owner: (pod: Pod) => string,
  /** `Ingress ns/name`s left out (their controller is a pod of the input, listed as itself). */
  skip: ReadonlySet<string> = new Set(),
): Map<string, Map<Protocol, Map<number, Pod[]>>> {
  const backends = ingressBackendRefs(state).filter((b) => !skip.has(b.by));
  const out = new Map<string, Map<Protocol, Map<number, Pod[]>>>();
  if (backends.length === 0) return out;
  const podByIP = new Map<string, Pod>();
  for (const pod of state.pods)
    if (pod.status?.podIP && !pod.spec.hostNetwork) podByIP.set(pod.status.podIP, pod);
  // Services and their EndpointSlices by `ns/name`, the first Service of a name as before.
  const services = new Map<string, (typeof state.services)[number]>();
  for (const s of state.services) {
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    if (!services.has(key)) services.set(key, s);
  }
  const slices = new Map<string, (typeof state.endpointSlices)[number][]>();
  for (const slice of state.endpointSlices) {
    const name = slice.metadata.labels?.["kubernetes.io/service-name"];
    if (name === undefined) continue;
    const key = `${slice.metadata.namespace}/${name}`;
    (slices.get(key) ?? slices.set(key, []).get(key)!).push(slice);
  }
  for (const b of backends) {
    const svc = services.get(`${b.ns}/${b.service}`);
    const byNumber =
      b.port?.number !== undefined ? svc?.spec.ports?.find((p) => p.port === b.port!.number) : undefined;
    if (b.port?.number !== undefined && !byNumber) continue;
    for (const slice of slices.get(`${b.ns}/${b.service}`) ?? []) {
      for (const sp of slice.ports ?? []) {
        if (sp.port === undefined) continue;
        const name = sp.name ?? "";
        if (byNumber && name !== (byNumber.name ?? "")) continue;
        if (b.port?.name !== undefined && name !== b.port.name) continue;
        if (typeof b.port?.target === "string" && name !== b.port.target) continue;
        if (typeof b.port?.target === "number" && sp.port !== b.port.target) continue;
        const protocol = sp.protocol ?? "TCP";
        for (const e of slice.endpoints) {
          if (e.conditions.ready === false) continue;
          for (const ip of e.addresses) {
            const pod = podByIP.get(ip);
            if (!pod) continue;
            const w = owner(pod);
            const perProtocol = out.get(w) ?? new Map<Protocol, Map<number, Pod[]>>();
            out.set(w, perProtocol);
            const perPort = perProtocol.get(protocol) ?? new Map<number, Pod[]>();
            perProtocol.set(protocol, perPort);
            const pods = perPort.get(sp.port) ?? [];
            if (!pods.includes(pod)) pods.push(pod);
            perPort.set(sp.port, pods);
          }
        }
      }
    }
  }
  return out;
}

export interface ConnlistOptions {
  /** Extra range starts, so that two clusters' outside ranges line up (used by diff). */
  cuts?: { ingress: readonly number[]; egress: readonly number[] };
  /**
   * Ingresses (`Ingress ns/name`) whose controller is a real pod of the input (../sim/http-routers.ts
   * `ingressesWithRealController`): their backends get no `{ingress-controller}` line, as the
   * controller's own workload lines show what it may reach.
   */
  realControllers?: ReadonlySet<string>;
  /**
   * Only the lines whose source is one of `sources` or whose destination is one of `destinations`
   * (workload names, `ns/name[Kind]`), the others not computed: diff's scope when a change touches
   * only some workloads' policies (./diff.ts). Every line listed is the one the full list has.
   */
  only?: { sources: ReadonlySet<string>; destinations: ReadonlySet<string> };
  /**
   * An earlier analysis of this cluster (differing only in the NetworkPolicies named in `changed`) to
   * start the reachability from (./reach.ts ReachabilityOptions.previous): diff's second side.
   */
  previous?: { reach: Reachability; changed: ReadonlySet<string> };
  /** The policy engine over `state`, when the caller has built one. */
  engine?: PolicyEngine;
  /** Called with the reachability the lines were computed from (diff keeps the first side's). */
  analysed?: (reach: Reachability) => void;
}

/**
 * Which workloads each class holds and which classes each workload's pods fall into: a workload's
 * pods may fall into several classes (named ports, CIDR memberships), and a class may hold pods of
 * several workloads (the same labels in one namespace). Kept per `classOf` array: an analysis started
 * from another (ReachabilityOptions.previous, whose pods are the same, with the same owners) shares
 * that array, so diff's second side reuses the first side's answer.
 */
function classWorkloads(
  reach: Reachability,
  owner: (pod: Pod) => string,
): { workloadsOf: Map<number, Set<string>>; classesOf: Map<string, Set<number>> } {
  const known = CLASS_WORKLOADS.get(reach.classOf);
  if (known) return known;
  const workloadsOf = new Map<number, Set<string>>();
  const classesOf = new Map<string, Set<number>>();
  reach.pods.forEach((pod, i) => {
    const c = reach.classOf[i];
    const w = owner(pod);
    (workloadsOf.get(c) ?? workloadsOf.set(c, new Set()).get(c)!).add(w);
    (classesOf.get(w) ?? classesOf.set(w, new Set()).get(w)!).add(c);
  });
  const out = { workloadsOf, classesOf };
  CLASS_WORKLOADS.set(reach.classOf, out);
  return out;
}

const CLASS_WORKLOADS = new WeakMap<
  Int32Array,
  { workloadsOf: Map<number, Set<string>>; classesOf: Map<string, Set<number>> }
>();

export function connlist(state: ClusterState, opts: ConnlistOptions = {}): Connection[] {
  const engine = opts.engine ?? new PolicyEngine(state);
  const owner = workloadOf(state);
  const sources = outsideRanges(state, engine, "ingress", opts.cuts?.ingress);
  const destinations = outsideRanges(state, engine, "egress", opts.cuts?.egress);
  // One engine for pods and outside ranges: each range is an address class (its first address).
  const reach = new Reachability(state, {
    engine,
    addresses: [...sources, ...destinations].map((r) => r.first),
    ...(opts.previous ? { previous: opts.previous } : {}),
    // The scoped lines read a few classes' profiles (and every egress towards a few destinations).
    lazy: opts.only !== undefined,
  });
  opts.analysed?.(reach);
  const rangeName = (r: { first: number; last: number }) =>
    `${formatIPv4(r.first)}-${formatIPv4(r.last)}[External]`;

  const { workloadsOf, classesOf } = classWorkloads(reach, owner);
  const sourceClass = sources.map((_, k) => reach.addressClass[k]);
  const destinationNames = new Map<number, string[]>(); // class → the egress ranges it stands for
  destinations.forEach((r, k) => {
    const c = reach.addressClass[sources.length + k];
    (destinationNames.get(c) ?? destinationNames.set(c, []).get(c)!).push(rangeName(r));
  });

  const lines: Connection[] = [];
  const add = (src: string, dst: string, allowed: Map<Protocol, [number, number][]>, ownNode = false) => {
    if (allowed.size > 0)
      lines.push({
        src,
        dst,
        conn: formatConnections(allowed),
        ...(ownNode ? { ownNode: true as const } : {}),
      });
  };
  const words = (reach.atoms.length + 31) >>> 5;
  /** From some classes: the atoms towards each workload and each egress range. */
  const from = (classes: Iterable<number>): Map<string, Uint32Array> => {
    const out = new Map<string, Uint32Array>();
    for (const s of classes)
      reach.atomsFrom(s, (d, atoms) => {
        for (const name of [...(workloadsOf.get(d) ?? []), ...(destinationNames.get(d) ?? [])]) {
          const mask = out.get(name) ?? out.set(name, new Uint32Array(words)).get(name)!;
          for (let w = 0; w < words; w++) mask[w] |= atoms[w];
        }
      });
    return out;
  };
  // A host-network workload and a workload with a pod on the same node: every port, both ways.
  const everything = new Uint32Array(words);
  for (let a = 0; a < reach.atoms.length; a++) everything[a >>> 5] |= 1 << (a & 31);
  const sameNode = new Map<string, Set<string>>();
  for (const [h, q] of reach.nodePairs())
    for (const [a, b] of [
      [owner(reach.pods[h]), owner(reach.pods[q])],
      [owner(reach.pods[q]), owner(reach.pods[h])],
    ])
      (sameNode.get(a) ?? sameNode.set(a, new Set()).get(a)!).add(b);
  /**
   * From some classes towards some workloads only: per source class and destination class, the atoms
   * its egress lets out and the destination's ingress lets in (atomsFrom's answer, for those pairs;
   * with the lazy analysis, the sources' egress is computed towards those destinations only).
   */
  const towards = (classes: Iterable<number>, targets: Iterable<string>): Map<string, Uint32Array> => {
    const out = new Map<string, Uint32Array>();
    for (const b of targets) {
      const dsts = classesOf.get(b);
      if (!dsts) continue;
      let mask: Uint32Array | undefined;
      for (const s of classes) {
        for (const d of dsts) {
          // The destination's ingress first: where it admits nothing, the source's egress (which
          // policies select s, their rules towards d) need not be worked out at all.
          const atoms = reach.admits("ingress", d, s);
          let any = 0;
          for (let w = 0; w < words; w++) any |= atoms[w];
          if (any === 0) continue;
          if (!reach.isOpen("egress", s)) {
            const out2 = reach.admits("egress", s, d);
            any = 0;
            for (let w = 0; w < words; w++) any |= atoms[w] &= out2[w];
          }
          if (any === 0) continue;
          mask ??= new Uint32Array(words);
          for (let w = 0; w < words; w++) mask[w] |= atoms[w];
        }
      }
      if (mask) out.set(b, mask);
    }
    return out;
  };
  const only = opts.only;
  for (const [a, classes] of classesOf) {
    const masks = !only || only.sources.has(a) ? from(classes) : towards(classes, only.destinations);
    // Lines the policies alone would not have: the exception is all that makes them.
    const onlyOwnNode = new Set<string>();
    for (const b of sameNode.get(a) ?? []) {
      if (only && !only.sources.has(a) && !only.destinations.has(b)) continue;
      if (!masks.has(b)) onlyOwnNode.add(b);
      masks.set(b, everything);
    }
    for (const [b, atoms] of masks) if (b !== a) add(a, b, reach.portRanges(atoms), onlyOwnNode.has(b));
  }
  sources.forEach((r, k) => {
    const masks = only ? towards([sourceClass[k]], only.destinations) : from([sourceClass[k]]);
    for (const [b, atoms] of masks) if (classesOf.has(b)) add(rangeName(r), b, reach.portRanges(atoms));
  });

  for (const [workload, ports] of ingressBackends(state, owner, opts.realControllers)) {
    if (only && !only.destinations.has(workload)) continue;
    const allowed = new Map<Protocol, [number, number][]>();
    for (const p of CONN_PROTOCOLS) {
      const list: [number, number][] = [];
      for (const port of [...(ports.get(p)?.keys() ?? [])].sort((x, y) => x - y)) {
        const pods = ports.get(p)!.get(port)!;
        if (!pods.some((pod) => engine.check(INGRESS_CONTROLLER, policyPeer(pod), port, p).ingress.allowed))
          continue;
        const last = list.at(-1);
        if (last && last[1] === port - 1) last[1] = port;
        else list.push([port, port]);
      }
      if (list.length) allowed.set(p, list);
    }
    add(INGRESS_CONTROLLER_NAME, workload, allowed);
  }
  return lines.sort((x, y) =>
    x.src < y.src ? -1 : x.src > y.src ? 1 : x.dst < y.dst ? -1 : x.dst > y.dst ? 1 : 0,
  );
}
