/**
 * The scenarios of `podnet demo`: which packets its walk-throughs follow and which connections its
 * "who may talk to whom" section explains, chosen so that they mean something on any input.
 *
 *   served ports   a pod serves a port when a container declares it or a Service's targetPort resolves
 *                  to that pod — the rule trace and the data plane follow, from one place
 *                  (./served-ports.ts)
 *   walk-throughs  a. a pod to another pod on its node, b. to a pod on another node (when two nodes
 *                  have pods), c. to a Service backed by other pods, and the reply, d. an outside
 *                  client to a NodePort — the reference articles' four, each on a served port, one
 *                  client for a–c, preferring what the policies allow so that the packet gets there
 *   who may talk   a destination pod and port that policies close to some pod, with a pod they let in
 *                  when there is one — found on pod classes (policy/reach.ts), so that it is there
 *                  whenever any policy denies any pod a served port (else any port)
 *
 * Application pods come first: pods outside kube-system, kube-public, kube-node-lease and the
 * namespaces ingress and Gateway controllers run in (and, with a preferred namespace, that
 * namespace's pods before all). Every search is bounded (clients,
 * candidates per client, traces), so the tour stays instant at any size; the answer is deterministic.
 */
import { controllerRole } from "../control/ingress-controllers.ts";
import type { ClusterState, NodeState } from "../control/state.ts";
import { resolveFrom } from "../dns/exchange.ts";
import { podResolvConf, type Resolution } from "../dns/resolv.ts";
import { ClusterZone } from "../dns/zone.ts";
import type { Pod, Protocol, Service } from "../model/k8s.ts";
import { parseIPv4 } from "../net/ipv4.ts";
import { has } from "../policy/bitset.ts";
import type { PolicyPeer } from "../policy/netpol.ts";
import { Reachability } from "../policy/reach.ts";
import type { ServicePortInfo } from "../proxy/service-proxy.ts";
import { type Explanation, explainConnection } from "./explain.ts";
import type { Network } from "./network.ts";
import { type ServedPorts, servedPorts } from "./served-ports.ts";
import { type TraceRequest, type TraceResult, trace } from "./trace.ts";

/** One walk-through: the packet to trace and what it stands for. */
export interface Walk {
  /** `same-node`, `cross-node`, `service` (traced with its reply) or `node-port`. */
  kind: "same-node" | "cross-node" | "service" | "node-port";
  title: string;
  /** `pod ns/name`, `node NAME`, `client 203.0.113.10`. */
  from: string;
  /** `pod ns/name`, `Service ns/name:port-name`, `node NAME, NodePort of ns/name:port-name`. */
  to: string;
  request: TraceRequest;
  /** The pod the packet is meant for (a–b), or the Service's endpoint pods (c, d). */
  serverPods: string[];
  reply: boolean;
}

/** A policy verdict the tour explains: a pod reaching a destination pod's port, maybe through a Service. */
export interface PolicyExample {
  allowed: boolean;
  /** `ns/name` of the source pod and of the destination pod. */
  from: string;
  to: string;
  port: number;
  protocol: Protocol;
  /** `ns/name:port-name` when the destination is reached through a Service's ClusterIP. */
  service?: string;
  /** The Service port, or the pod's port. */
  dport: number;
  /** The explanation of the verdict at the destination pod (the one endpoint, for a Service). */
  explanation: Explanation;
}

export interface TourPlan {
  walks: Walk[];
  /** Walk-throughs left out, each `KIND: why` (`cross-node: the cluster has one node`). */
  missing: string[];
  /** An allowed and a denied connection to one destination; only `denied` when no pod is let in. */
  policy?: { allowed?: PolicyExample; denied: PolicyExample };
  /**
   * A pod and a Service of its namespace (with a ClusterIP; application namespaces first, `default`
   * included, the `kubernetes` Service not), for the names section; a pod not behind the Service first.
   * `lookups`: the pod resolving the Service's short name and an outside name, on the network
   * (../dns/exchange.ts `resolveFrom`, as `podnet resolve` and `trace --to NAME` do): a query that
   * policy or a missing DNS endpoint keeps from the DNS pods gets no answer.
   */
  names?: { pod: Pod; service: Service; lookups: NameLookup[] };
}

/** A name the tour's pod resolves, and how (every query, each answer, the DNS exchange). */
export interface NameLookup {
  name: string;
  resolution: Resolution;
}

/** The outside name the names section resolves: it shows the search list walked to the end. */
export const OUTSIDE_NAME = "api.example.com";

/** Namespaces of the cluster's own components: their pods come after the application's. */
const SYSTEM_NAMESPACES = new Set(["kube-system", "kube-public", "kube-node-lease"]);

const infrastructureCache = new WeakMap<ClusterState, ReadonlySet<string>>();

/**
 * The namespaces of the cluster's own components, which the tour shows after the application's:
 * Kubernetes' system namespaces, and those an ingress or Gateway controller runs in on its own
 * (ingress-nginx's, Envoy Gateway's `envoy-gateway-system`, the supplied controller's; not a
 * Gateway's namespace where its proxy pods run beside the application). Computed once per cluster.
 */
function infrastructureNamespaces(state: ClusterState): ReadonlySet<string> {
  let set = infrastructureCache.get(state);
  if (set) return set;
  const out = new Set(SYSTEM_NAMESPACES);
  for (const p of state.pods) {
    const ns = p.metadata.namespace ?? "default";
    const role = controllerRole(ns, p.metadata.labels, p.spec);
    if (role && (role.kind === "ingress-nginx" || role.namespace !== ns)) out.add(ns);
  }
  set = out;
  infrastructureCache.set(state, set);
  return set;
}
/** An outside client's address (TEST-NET-3, RFC 5737). */
export const OUTSIDE_CLIENT = "203.0.113.10";

const MAX_CLIENTS = 20;
const MAX_CANDIDATES = 200;
const MAX_NODEPORT_TRACES = 30;
const MAX_CLASS_TESTS = 2_000_000;

const podName = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;

/**
 * Whether a trace got to where it was sent: delivered to a listener, arrived at the pod (no port
 * known to be served there, so whether a process listens is unknown), or forwarded out of the cluster.
 */
export function reachedDestination(r: TraceResult): boolean {
  const v: string = r.verdict;
  return v === "delivered" || v === "arrived" || v === "forwarded";
}

/** Chooses the tour's walk-throughs and policy example for a cluster (see the module comment). */
export function planTour(net: Network, opts: { namespace?: string } = {}): TourPlan {
  const served = servedPorts(net.state);
  const infra = infrastructureNamespaces(net.state);
  const rank = (p: Pod) =>
    (opts.namespace && p.metadata.namespace === opts.namespace ? 0 : 2) +
    (infra.has(p.metadata.namespace!) ? 1 : 0);
  // Running pods with a network of their own, application pods first, else in input order.
  const pods = [...net.podByIP.values()]
    .map((p, i) => ({ p, i, r: rank(p) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.p);
  const portsOf = (p: Pod) => served.of(p);
  const peer = (p: Pod): PolicyPeer => ({ kind: "pod", pod: p, ip: parseIPv4(p.status!.podIP!)! });
  const allowed = (from: Pod, to: Pod, port: number, protocol: Protocol) =>
    !net.policy || net.policy.check(peer(from), peer(to), port, protocol).allowed;
  const servers = pods.filter((p) => portsOf(p).length > 0);
  const byNode = new Map<string, Pod[]>();
  for (const p of servers) {
    const n = p.spec.nodeName ?? "";
    (byNode.get(n) ?? byNode.set(n, []).get(n)!).push(p);
  }
  const services = net.proxy.ports
    .filter(
      (s) =>
        s.clusterIP !== undefined &&
        s.endpoints.some((e) => e.ready || e.serving) &&
        !(s.service.metadata.namespace === "default" && s.service.metadata.name === "kubernetes"),
    )
    .map((s, i) => ({ s, i, r: serviceRank(s, opts.namespace, infra) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.s);

  type Choice<T> = { value: T; allowed: boolean } | undefined;
  /** The first candidate on a served port, preferring one the policies allow (bounded). */
  const pick = <T>(
    candidates: Iterable<T>,
    ok: (c: T) => boolean | undefined /* undefined: not a candidate */,
  ): Choice<T> => {
    let fallback: Choice<T>;
    let seen = 0;
    for (const c of candidates) {
      const verdict = ok(c);
      if (verdict === undefined) continue;
      if (verdict) return { value: c, allowed: true };
      fallback ??= { value: c, allowed: false };
      if (++seen >= MAX_CANDIDATES) break;
    }
    return fallback;
  };
  const firstPort = (from: Pod, to: Pod) => {
    const ports = portsOf(to);
    return ports.find((p) => allowed(from, to, p.port, p.protocol)) ?? ports[0];
  };
  const podChoice = (from: Pod, to: Iterable<Pod>) =>
    pick(to, (p) => {
      if (p === from) return undefined;
      const port = firstPort(from, p);
      return port ? allowed(from, p, port.port, port.protocol) : undefined;
    });
  function* otherNodes(a: Pod) {
    for (const p of servers) if (p.spec.nodeName !== a.spec.nodeName) yield p;
  }
  const serviceChoice = (a: Pod) =>
    pick(services, (s) => {
      const behind = s.endpoints.filter((e) => e.ready || e.serving);
      // Backed by other pods: the client must not be one of the endpoints.
      if (behind.some((e) => e.pod === podName(a) || e.ip === parseIPv4(a.status!.podIP!))) return undefined;
      return behind.every((e) => {
        const p = e.pod ? net.podByName.get(e.pod) : undefined;
        return !p || p.spec.hostNetwork || allowed(a, p, e.port, s.protocol);
      });
    });

  // The client: the first (bounded) whose a–c choices are the most allowed.
  let best:
    | { a: Pod; same: Choice<Pod>; cross: Choice<Pod>; svc: Choice<ServicePortInfo>; score: number }
    | undefined;
  for (const a of pods.slice(0, MAX_CLIENTS)) {
    const same = podChoice(a, byNode.get(a.spec.nodeName ?? "") ?? []);
    const cross = podChoice(a, otherNodes(a));
    const svc = serviceChoice(a);
    const score = [same, cross, svc].reduce((n, c) => n + (c ? (c.allowed ? 3 : 1) : 0), 0);
    if (!best || score > best.score) best = { a, same, cross, svc, score };
    if (same?.allowed && (cross?.allowed || byNode.size < 2) && svc?.allowed) break;
  }

  const walks: Walk[] = [];
  const missing: string[] = [];
  const toPod = (kind: "same-node" | "cross-node", title: string, a: Pod, b: Pod) => {
    const port = firstPort(a, b)!;
    walks.push({
      kind,
      title,
      from: `pod ${podName(a)}`,
      to: `pod ${podName(b)}`,
      request: {
        source: { kind: "pod", pod: a },
        dst: parseIPv4(b.status!.podIP!)!,
        dport: port.port,
        protocol: port.protocol,
      },
      serverPods: [podName(b)],
      reply: false,
    });
  };
  if (!best)
    for (const kind of ["same-node", "cross-node", "service"])
      missing.push(`${kind}: no running pod has a network of its own`);
  else {
    if (best.same) toPod("same-node", "Pod to pod on one node", best.a, best.same.value);
    else missing.push(`same-node: no other pod on ${best.a.spec.nodeName} serves a known port`);
    if (best.cross) toPod("cross-node", "Pod to pod across nodes", best.a, best.cross.value);
    else
      missing.push(
        net.state.nodes.length < 2
          ? "cross-node: the cluster has one node"
          : "cross-node: no pod on another node serves a known port",
      );
    if (best.svc) {
      const s = best.svc.value;
      walks.push({
        kind: "service",
        title: "Pod to Service, and the reply",
        from: `pod ${podName(best.a)}`,
        to: `Service ${s.name}`,
        request: {
          source: { kind: "pod", pod: best.a },
          dst: s.clusterIP!,
          dport: s.port.port,
          protocol: s.protocol,
        },
        serverPods: s.endpoints.flatMap((e) => (e.pod ? [e.pod] : [])),
        reply: true,
      });
    } else missing.push("service: no Service with a ClusterIP has endpoints other than the client");
  }
  const np = nodePortWalk(net, opts.namespace);
  if (np) walks.push(np);
  else missing.push("node-port: no NodePort Service has endpoints");
  const names = namesExample(net, pods, opts.namespace);
  return { walks, missing, ...policyPart(net, pods, served), ...(names ? { names } : {}) };
}

/** A pod that asks for a Service of its own namespace, and its lookups (see TourPlan.names). */
function namesExample(net: Network, pods: Pod[], namespace: string | undefined): TourPlan["names"] {
  // Only a pod whose resolver asks the cluster DNS can show a Service name resolving (dnsPolicy
  // Default, as CoreDNS's own pods have, uses the node's resolver; None has its own nameservers).
  const askers = pods.filter((p) => {
    const policy = podResolvConf(net.state, p).policy;
    return policy === "ClusterFirst" || policy === "ClusterFirstWithHostNet";
  });
  if (askers.length === 0) return undefined;
  const infra = infrastructureNamespaces(net.state);
  const rank = (ns: string) => (namespace && ns === namespace ? 0 : 2) + (infra.has(ns) ? 1 : 0);
  const services = net.state.services
    .filter(
      (s) =>
        s.spec.clusterIP &&
        s.spec.clusterIP !== "None" &&
        !(s.metadata.namespace === "default" && s.metadata.name === "kubernetes"),
    )
    .map((s, i) => ({ s, i, r: rank(s.metadata.namespace!) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.s);
  for (const service of services) {
    const key = `${service.metadata.namespace}/${service.metadata.name}`;
    const behind = new Set(
      net.proxy.ports
        .filter((p) => `${p.service.metadata.namespace}/${p.service.metadata.name}` === key)
        .flatMap((p) => p.endpoints.map((e) => e.pod)),
    );
    // A pod of the Service's namespace asks for the short name; any other application pod asks for
    // name.namespace. Never a pod behind the Service itself.
    const ns = service.metadata.namespace!;
    const pod =
      askers.find((p) => p.metadata.namespace === ns && !behind.has(podName(p))) ??
      askers.find((p) => !behind.has(podName(p)) && rank(p.metadata.namespace!) <= rank(ns));
    if (!pod) continue;
    const asked = pod.metadata.namespace === ns ? service.metadata.name : `${service.metadata.name}.${ns}`;
    const zone = new ClusterZone(net.state);
    const lookups = [asked, OUTSIDE_NAME].map((name) => ({
      name,
      resolution: resolveFrom(net, pod, name, "A", { zone }),
    }));
    return { pod, service, lookups };
  }
  return undefined;
}

function serviceRank(s: ServicePortInfo, namespace: string | undefined, infra: ReadonlySet<string>): number {
  const ns = s.service.metadata.namespace!;
  return (namespace && ns === namespace ? 0 : 2) + (infra.has(ns) ? 1 : 0);
}

/**
 * An outside client to a NodePort: application Services first, entering at the last node first (the
 * articles' choice), the first whose trace gets there; else the first candidate.
 */
function nodePortWalk(net: Network, namespace: string | undefined): Walk | undefined {
  const infra = infrastructureNamespaces(net.state);
  const candidates = net.proxy.ports
    .filter((s) => s.nodePort !== undefined && s.endpoints.length > 0)
    .map((s, i) => ({ s, i, r: serviceRank(s, namespace, infra) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.s);
  const nodes = [...net.state.nodes].reverse();
  const client = parseIPv4(OUTSIDE_CLIENT)!;
  const walk = (s: ServicePortInfo, node: NodeState): Walk => ({
    kind: "node-port",
    title: "Outside client to a NodePort",
    from: `client ${OUTSIDE_CLIENT}`,
    to: `node ${node.name}, NodePort of ${s.name}`,
    request: {
      source: { kind: "external", ip: client, node },
      dst: node.ip,
      dport: s.nodePort!,
      protocol: s.protocol,
    },
    serverPods: s.endpoints.flatMap((e) => (e.pod ? [e.pod] : [])),
    reply: false,
  });
  if (candidates.length === 0 || nodes.length === 0) return undefined;
  let traces = 0;
  for (const s of candidates)
    for (const node of nodes) {
      if (traces++ >= MAX_NODEPORT_TRACES) return walk(candidates[0], nodes[0]);
      const w = walk(s, node);
      if (reachedDestination(trace(net, w.request))) return w;
    }
  return walk(candidates[0], nodes[0]);
}

/**
 * A destination pod and served port that the policies close to some pod, with a pod they let in when
 * one exists; on classes, so it is found whenever it exists. The policies deny nothing between pods
 * → no example. Host-network pods are left out on both sides (to policies they are addresses).
 */
function policyPart(
  net: Network,
  pods: Pod[],
  served: ServedPorts,
): { policy?: { allowed?: PolicyExample; denied: PolicyExample } } {
  const state = net.state;
  if (
    !net.policy ||
    state.networkPolicies.length +
      state.adminNetworkPolicies.length +
      state.baselineAdminNetworkPolicies.length +
      state.clusterNetworkPolicies.length ===
      0
  )
    return {};
  const reach = new Reachability(state, { engine: net.policy });
  const index = new Map(reach.pods.map((p, i) => [p, i]));
  // Per class, its first pod in tour order (application pods first).
  const repOf = new Map<number, Pod>();
  /** A second pod of the class, which may be the source when the first is the destination. */
  const secondOf = new Map<number, Pod>();
  for (const p of pods) {
    const i = index.get(p);
    if (i === undefined) continue;
    const c = reach.classOf[i];
    if (!repOf.has(c)) repOf.set(c, p);
    else if (!secondOf.has(c)) secondOf.set(c, p);
  }
  // Sources are tried in this order: application pods' classes, then another pod of the destination's
  // own class (a different workload shows more), then the cluster's own components.
  const infra = infrastructureNamespaces(net.state);
  const system = (c: number) => infra.has(repOf.get(c)!.metadata.namespace!);
  const classes = [...repOf.keys()];
  const appClasses = classes.filter((c) => !system(c));
  const systemClasses = classes.filter(system);
  const anyEgressClosed = reach.egress.some((p) => !p.open);
  // Class pairs tested so far: once a denial is found, the search for one with an allowed source too
  // stops at MAX_CLASS_TESTS (the first denial is always searched for to the end).
  let tests = 0;
  const find = (d: number, protocol: Protocol, port: number) => {
    const a = reach.atomOf(protocol, port);
    if (a < 0) return undefined;
    if (reach.ingress[reach.inProfile[d]].open && !anyEgressClosed) return undefined;
    let denied: number | undefined;
    let allowedBy: number | undefined;
    const sources = [appClasses, secondOf.has(d) ? [d] : [], systemClasses];
    search: for (const list of sources)
      for (const s of list) {
        if (s === d && list !== sources[1]) continue;
        tests++;
        if (reach.classAllowed(s, d, a)) allowedBy ??= s;
        else denied ??= s;
        if (denied !== undefined && allowedBy !== undefined) break search;
      }
    return denied === undefined ? undefined : { denied, allowed: allowedBy };
  };
  type Found = { d: number; port: number; protocol: Protocol; denied: number; allowed?: number };
  let first: Found | undefined;
  const consider = (f: Found | undefined) => {
    if (f) first ??= f;
    return f?.allowed !== undefined || (first !== undefined && tests >= MAX_CLASS_TESTS);
  };
  // Served ports first; only when no policy closes one, any port a rule draws a boundary at.
  search: for (const d of classes) {
    for (const p of served.of(repOf.get(d)!)) {
      const f = find(d, p.protocol, p.port);
      if (consider(f && { d, port: p.port, protocol: p.protocol, ...f })) break search;
    }
  }
  // No served port is closed: any port. A profile's rows are what its members admit per atom, so a row
  // that lacks some class is a denial (one pass over the profiles' rows, not over class pairs).
  if (!first) first = anyDenial(reach, repOf, classes);
  const found = first as Found | undefined;
  if (!found) return {};
  const dst = repOf.get(found.d)!;
  const example = (src: Pod): PolicyExample | undefined => {
    const to = podName(dst);
    // Through a Service when one sends to this pod and port, as the articles do.
    const svc = net.proxy.ports.find(
      (s) =>
        s.clusterIP !== undefined &&
        s.protocol === found.protocol &&
        s.endpoints.some((e) => e.pod === to && e.port === found.port),
    );
    const req: TraceRequest = svc
      ? {
          source: { kind: "pod", pod: src },
          dst: svc.clusterIP!,
          dport: svc.port.port,
          protocol: svc.protocol,
        }
      : {
          source: { kind: "pod", pod: src },
          dst: parseIPv4(dst.status!.podIP!)!,
          dport: found.port,
          protocol: found.protocol,
        };
    // One explanation per endpoint of a Service: this pod's (denied at the source's egress, it names
    // no pod, so it is found by its endpoint address).
    const endpoint = `${dst.status!.podIP}:${found.port}`;
    const explanations = explainConnection(net, req).explanations;
    const explanation = svc
      ? explanations.find((e) => e.endpoint === endpoint || (e.endpoint === undefined && e.pod === to))
      : explanations[0];
    if (!explanation) return undefined;
    return {
      allowed: explanation.allowed,
      from: podName(src),
      to,
      port: found.port,
      protocol: found.protocol,
      ...(svc ? { service: svc.name } : {}),
      dport: req.dport,
      explanation,
    };
  };
  const source = (c: number) => (c === found.d ? secondOf.get(c)! : repOf.get(c)!);
  const denied = example(source(found.denied));
  if (!denied || denied.allowed) return {};
  const allowed = found.allowed !== undefined ? example(source(found.allowed)) : undefined;
  return { policy: { ...(allowed?.allowed ? { allowed } : {}), denied } };
}

/**
 * Some denial between pods with a network of their own, on any port: an ingress row of a profile that
 * lacks a source class, or an egress row that lacks a destination class. Exact, and linear in the
 * profiles' rows times the classes.
 */
function anyDenial(
  reach: Reachability,
  repOf: ReadonlyMap<number, Pod>,
  classes: readonly number[],
): { d: number; port: number; protocol: Protocol; denied: number } | undefined {
  for (const direction of ["ingress", "egress"] as const)
    for (const profile of reach[direction]) {
      if (profile.open) continue;
      const members = profile.members.filter((c) => repOf.has(c));
      if (members.length === 0) continue;
      for (let r = 0; r < profile.rows.length; r++) {
        // A TCP port when the row has one: the most familiar example.
        let atom = -1;
        for (let a = 0; a < profile.atomRow.length; a++)
          if (profile.atomRow[a] === r && (atom < 0 || reach.atoms[a].protocol === "TCP")) {
            atom = a;
            if (reach.atoms[a].protocol === "TCP") break;
          }
        if (atom < 0) continue;
        const self = members[0];
        const peer = classes.find((c) => c !== self && !has(profile.rows[r], c));
        if (peer === undefined) continue;
        const { protocol, start } = reach.atoms[atom];
        return direction === "ingress"
          ? { d: self, port: start, protocol, denied: peer }
          : { d: peer, port: start, protocol, denied: self };
      }
    }
  return undefined;
}
