/**
 * What changes when a cluster switches kube-proxy mode (`podnet proxy-diff`): every Service frontend
 * (ClusterIP:port; the nodePort on each kind of node address — the primary IP, the first further node
 * IP, the first of the network plugin's device addresses (cni0's), 127.0.0.1; externalIP:port;
 * load-balancer IP:port), plus a port no
 * Service defines on each ClusterIP and one unused address of serviceCIDR, reached by every kind of
 * client (a pod on the node, a pod on another node, the node itself, its localhost, an outside
 * client), traced in mode `from` and in mode `to` — the same cluster with `proxyMode` swapped — and
 * compared: the verdict, what the packet reaches, the endpoints it can reach, whether its source is
 * masqueraded. The flows that differ come back grouped by kind of change, each with its reason.
 *
 * Scale by shape: a flow's fate depends only on the kind of client, the frontend, and the Service's
 * shape as kube-proxy sees it from the deciding node (endpoints at all, endpoints on that node, the
 * traffic policies, source ranges, hairpin), not on which of the thousands of pods or nodes sends it.
 * Nodes are taken as classes (those with an endpoint of a `Local` Service and those without; every
 * node otherwise), one representative node per class; flows of one shape share one traced
 * representative per mode, and each member's endpoints are its own (all of its endpoints, or its
 * local ones, as the representative's were). `exhaustive` traces every flow instead (tests hold the
 * two equal).
 *
 * NetworkPolicy is left out (traced with policies off): it does not depend on the proxy mode, and
 * a masquerade change, which changes the source a policy sees, is reported as such.
 *
 * The mode differences named in reasons are the registry's (../proxy/modes/mode.ts); no mode name is
 * tested here, so a newly registered mode (IPVS) is compared like the others.
 *
 * Upstream: kube-proxy's modes as pkg/proxy/nftables/proxier.go and pkg/proxy/iptables/proxier.go
 * build them (the facts each ProxyMode property cites); traces by ../sim/trace.ts.
 */
import type { ClusterState, NodeState } from "../control/state.ts";
import type { ProxyModeName } from "../model/config.ts";
import type { Pod, Protocol } from "../model/k8s.ts";
import { formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import type { ProxyMode } from "../proxy/modes/mode.ts";
import { proxyMode } from "../proxy/modes/registry.ts";
import { categorize, type EndpointInfo, type ServicePortInfo } from "../proxy/service-proxy.ts";
import { Network } from "../sim/network.ts";
import { servedPorts } from "../sim/served-ports.ts";
import { type Source, type TraceResult, trace, type Verdict } from "../sim/trace.ts";

/** The frontends compared: a Service's, or an address kube-proxy guards without a Service port. */
export type DiffFrontend =
  | "clusterIP"
  | "nodePort"
  | "externalIP"
  | "loadBalancer"
  /** A port no Service defines on a ClusterIP. */
  | "undefinedPort"
  /** An address of serviceCIDR no Service has. */
  | "unusedServiceIP";

/**
 * Who sends: `pod` (a pod on the deciding node), `remote-pod` (a pod on another node, to a nodePort),
 * `node` (a process of the node, from its own address), `localhost` (a process of the node to
 * 127.0.0.1, for nodePorts), `outside` (a client outside the cluster whose packet the network brings to
 * the node).
 */
export type ClientKind = "pod" | "remote-pod" | "node" | "localhost" | "outside";

/** The kind of node address a nodePort is reached on. */
export type AddressKind = "primary IP" | "other node IP" | "device address" | "loopback";

/** What a packet comes to, for a trace: `endpoint` (a Service's), `pod`, `node`, `outside`, `nothing`. */
export type Reaches = "endpoint" | "pod" | "node" | "outside" | "nothing";

/**
 * Kinds of change, most serious first: `lost` (reached a pod, endpoint or node in `from`; rejected or
 * dropped in `to`), `gained` (the reverse), `rerouted` (routed elsewhere: it ends at another kind of
 * place — a Service endpoint against the node itself, or out of the node towards the outside, as a
 * Service address no rule claims is), `verdict` (stopped in both, rejected against dropped),
 * `endpoints` (the endpoints it can reach differ), `masquerade` (the source is masqueraded in one only).
 */
export const CHANGE_KINDS = ["lost", "gained", "rerouted", "verdict", "endpoints", "masquerade"] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** One flow's fate in one mode. */
export interface FlowOutcome {
  verdict: Verdict;
  reaches: Reaches;
  /** Every endpoint (`ip:port`) kube-proxy could send it to, sorted; empty when no Service translated it. */
  endpoints: string[];
  masquerade: boolean;
}

/** A flow whose fate differs between the two modes; it stands for `nodes` nodes of one class. */
export interface FlowChange {
  /** Every kind that applies, most serious first (CHANGE_KINDS order). */
  kinds: ChangeKind[];
  /** `ns/name:port-name` (kube-proxy's service port name); absent for an unused Service address. */
  service?: string;
  frontend: DiffFrontend;
  /** `ip:port` as sent (for a nodePort, the representative node's address). */
  address: string;
  protocol: Protocol;
  /** For nodePorts: the kind of node address. */
  addressKind?: AddressKind;
  client: ClientKind;
  /** The representative node: where the packet is decided (the client's node, or the node it reaches). */
  node: string;
  /** How many nodes this flow stands for (the node class's size). */
  nodes: number;
  /** The node class: `all nodes`, `nodes with an endpoint`, `nodes without an endpoint`. */
  nodeClass: string;
  from: FlowOutcome;
  to: FlowOutcome;
  /** The ProxyMode property (../proxy/modes/mode.ts) that explains it, when one does. */
  property?: string;
  /** Why, in one line. */
  reason: string;
  /** Its group: an index into `ProxyDiff.groups`. */
  group: number;
}

/** Flows of one kind of change, from-fate → to-fate and reason alike. */
export interface ChangeGroup {
  kind: ChangeKind;
  /** `delivered → rejected` (with `, masquerade yes → no` etc. when that changes too). */
  change: string;
  property?: string;
  reason: string;
  /** Rows (flows as listed) in the group. */
  rows: number;
  /** Flows counted per node (a row counts its `nodes`). */
  flows: number;
  /** One flow of the group as traced, with the two traces' own reasons. */
  example: { flow: string; from: string; to: string };
}

export interface ProxyDiff {
  from: string;
  to: string;
  judge: "model" | "rules";
  /** The namespace whose Services' flows are reported, when narrowed (ProxyDiffOptions.namespace). */
  namespace?: string;
  /** Rows examined (flows per node class) and flows counted per node. */
  examined: { rows: number; flows: number };
  /** Distinct shapes traced (twice each: once per mode). */
  traced: number;
  groups: ChangeGroup[];
  changes: FlowChange[];
}

export interface ProxyDiffOptions {
  /** Mode names (the registry's). Throws for an unregistered name (the CLI checks them first). */
  from: string;
  to: string;
  /** Who answers kube-proxy's questions: the model (default) or each mode's rendered rules. */
  judge?: "model" | "rules";
  /** Trace every flow instead of one per shape (slow; tests compare the two). */
  exhaustive?: boolean;
  /** Report only flows to this namespace's Services (every flow is still examined). */
  namespace?: string;
}

/**
 * A mode property that can explain a change, when it differs between the two modes and applies to the
 * flow. Facts from kube-proxy as ../proxy/modes/mode.ts documents them.
 */
interface PropertyRule {
  /** The ProxyMode property's name (optional ones read as their documented default when absent). */
  property: string;
  /** Its value in a mode. */
  value(m: ProxyMode): unknown;
  applies(f: FlowSpec, state: ClusterState): boolean;
  say(a: ProxyMode, b: ProxyMode, f: FlowSpec): string;
}

/**
 * A property a mode may not have yet (an optional one another mode adds to ProxyMode), read by name:
 * `fallback` when absent, as ProxyMode documents it.
 */
function optional(m: ProxyMode, name: string, fallback: unknown): unknown {
  return (m as unknown as Record<string, unknown>)[name] ?? fallback;
}

/** What `localPolicy` does, in words (IPVS's `local-else-cluster`; the default `short-circuit`). */
function localPolicyWords(m: ProxyMode): string {
  return optional(m, "localPolicy", "short-circuit") === "local-else-cluster"
    ? "sends Local traffic to this node's endpoints, or to every endpoint when it has none"
    : "sends Local traffic to this node's endpoints only (none: dropped), pods' external traffic to all";
}

const PROPERTY_RULES: readonly PropertyRule[] = [
  {
    property: "localhostNodePorts",
    value: (m) => m.localhostNodePorts,
    applies: (f) => f.frontend === "nodePort" && f.addressKind === "loopback",
    say: (a, b) => {
      const [on, off] = a.localhostNodePorts ? [a, b] : [b, a];
      return `localhostNodePorts: ${on.name} answers nodePorts on 127.0.0.1, ${off.name} does not`;
    },
  },
  {
    property: "nodePortAddressesDefault",
    value: (m) => m.nodePortAddressesDefault,
    applies: (f, state) =>
      f.frontend === "nodePort" &&
      f.addressKind !== "primary IP" &&
      f.addressKind !== "loopback" &&
      state.config.kubeProxy.nodePortAddresses.length === 0,
    say: (a, b) =>
      `nodePortAddressesDefault (nodePortAddresses unset): ${a.name} accepts nodePorts on ${words(a.nodePortAddressesDefault)}, ${b.name} on ${words(b.nodePortAddressesDefault)}`,
  },
  {
    property: "checksExternalEndpointsOnOutput",
    value: (m) => m.checksExternalEndpointsOnOutput,
    applies: (f) => (f.frontend === "externalIP" || f.frontend === "loadBalancer") && f.client === "node",
    say: (a, b) => {
      const [on, off] = a.checksExternalEndpointsOnOutput ? [a, b] : [b, a];
      return `checksExternalEndpointsOnOutput: ${on.name} checks the node's own traffic to external and load-balancer IPs for endpoints before translating it, ${off.name} does not`;
    },
  },
  {
    property: "localPolicy",
    value: (m) => optional(m, "localPolicy", "short-circuit"),
    applies: (f) =>
      f.info !== undefined && (f.frontend === "clusterIP" ? f.info.internalLocal : f.info.externalLocal),
    say: (a, b) => `localPolicy: ${a.name} ${localPolicyWords(a)}; ${b.name} ${localPolicyWords(b)}`,
  },
  {
    property: "guardsServiceRange",
    value: (m) => m.guardsServiceRange,
    applies: (f) => f.frontend === "undefinedPort" || f.frontend === "unusedServiceIP",
    say: (a, b, f) => {
      const [on, off] = a.guardsServiceRange ? [a, b] : [b, a];
      return f.frontend === "undefinedPort"
        ? `guardsServiceRange: ${on.name} rejects ports no Service defines on a ClusterIP, ${off.name} has no such rule`
        : `guardsServiceRange: ${on.name} drops serviceCIDR addresses no Service has, ${off.name} routes them like any address`;
    },
  },
  {
    property: "bindsServiceAddresses",
    value: (m) => optional(m, "bindsServiceAddresses", false),
    applies: (f) => f.frontend !== "nodePort" && f.frontend !== "unusedServiceIP",
    say: (a, b) => {
      const [on, off] = optional(a, "bindsServiceAddresses", false) ? [a, b] : [b, a];
      return `bindsServiceAddresses: ${on.name} makes every ClusterIP, externalIP and load-balancer IP a local address of each node (undefined ports rejected), ${off.name} does not`;
    },
  },
];

function words(d: ProxyMode["nodePortAddressesDefault"]): string {
  return d === "primary" ? "the primary IP only" : "every local address";
}

/** A flow to examine: a frontend, a client kind and a node class, with the representative to trace. */
interface FlowSpec {
  info?: ServicePortInfo;
  /** The Service (`ns/name`) a ClusterIP with an undefined port belongs to. */
  owner?: string;
  frontend: DiffFrontend;
  dst: IPv4;
  dport: number;
  protocol: Protocol;
  addressKind?: AddressKind;
  client: ClientKind;
  /** The node that decides (the client's, or the one the packet is brought to). */
  node: NodeState;
  /** The client's own node, for `remote-pod`. */
  clientNode?: NodeState;
  nodes: number;
  nodeClass: string;
  /** Everything the fate depends on beyond names and addresses; flows with one shape share a trace. */
  shape: string;
  /** The endpoints kube-proxy categorizes for the deciding node: all usable ones, and the local ones. */
  cluster: readonly EndpointInfo[];
  local: readonly EndpointInfo[];
}

const OUTSIDE_CLIENTS = ["203.0.113.7", "198.51.100.7", "192.0.2.7"].map((a) => parseIPv4(a)!);

/**
 * Compares the cluster's flows in two proxy modes. `state` may be in either mode (its `proxyMode` is
 * replaced). Pure; throws only for a mode name the registry does not have.
 */
export function diffProxyModes(state: ClusterState, opts: ProxyDiffOptions): ProxyDiff {
  const modeA = proxyMode(opts.from);
  const modeB = proxyMode(opts.to);
  const judge = opts.judge ?? "model";
  const inMode = (name: ProxyModeName): ClusterState =>
    state.config.proxyMode === name ? state : { ...state, config: { ...state.config, proxyMode: name } };
  const netA = new Network(inMode(modeA.name), { proxy: judge, policies: false });
  // The other mode's network is built in full, not netA with another decider: a mode may change what
  // the network itself is (IPVS binds every Service address to each node), not only the decisions.
  const netB =
    modeA.name === modeB.name ? netA : new Network(inMode(modeB.name), { proxy: judge, policies: false });
  const outside = pickOutsideClient(netA);
  const specs = enumerateFlows(netA);
  const rules = PROPERTY_RULES.filter((r) => r.value(modeA) !== r.value(modeB));

  const byShape = new Map<string, Representative>();
  const changes: { change: FlowChange; key: string }[] = [];
  const groups = new Map<string, ChangeGroup>();
  let flows = 0;
  for (const spec of specs) {
    flows += spec.nodes;
    let rep = opts.exhaustive ? undefined : byShape.get(spec.shape);
    if (!rep) {
      rep = representative(spec, traceFlow(netA, spec, outside), traceFlow(netB, spec, outside));
      byShape.set(opts.exhaustive ? `${byShape.size}` : spec.shape, rep);
    }
    // Members share the representative's verdict, destination and masquerade, and their endpoints
    // stand in the same relation to their own: a representative that does not change, none does.
    if (rep.unchanged) continue;
    const a = outcomeFor(rep.a, rep.relA, spec);
    const b = outcomeFor(rep.b, rep.relB, spec);
    const kinds = changeKinds(a, b);
    if (kinds.length === 0) continue;
    const where = flowOf(spec);
    if (opts.namespace !== undefined && !where.service?.startsWith(`${opts.namespace}/`)) continue;
    const rule = rules.find((r) => r.applies(spec, state));
    const change: FlowChange = {
      kinds,
      ...where,
      nodes: spec.nodes,
      nodeClass: spec.nodeClass,
      from: a,
      to: b,
      ...(rule ? { property: rule.property } : {}),
      reason: rule
        ? rule.say(modeA, modeB, spec)
        : `the traces differ: ${modeA.name} ${fate(a)}, ${modeB.name} ${fate(b)} (no mode property names this difference)`,
      group: -1,
    };
    const summary = changeSummary(a, b);
    const key = `${kinds[0]}\u0000${summary}\u0000${change.reason}`;
    changes.push({ change, key });
    let g = groups.get(key);
    if (!g) {
      g = {
        kind: kinds[0],
        change: summary,
        ...(rule ? { property: rule.property } : {}),
        reason: change.reason,
        rows: 0,
        flows: 0,
        example: {
          flow: flowLabel(flowOf(rep.spec)),
          from: `${modeA.name}: ${rep.a.reason}`,
          to: `${modeB.name}: ${rep.b.reason}`,
        },
      };
      groups.set(key, g);
    }
    g.rows++;
    g.flows += spec.nodes;
  }
  const order = (k: ChangeKind) => CHANGE_KINDS.indexOf(k);
  const sorted = [...groups].sort(([, x], [, y]) => order(x.kind) - order(y.kind) || y.flows - x.flows);
  const index = new Map(sorted.map(([key], i) => [key, i]));
  for (const c of changes) c.change.group = index.get(c.key)!;
  return {
    from: modeA.name,
    to: modeB.name,
    judge,
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    examined: { rows: specs.length, flows },
    traced: byShape.size,
    groups: sorted.map(([, g]) => g),
    changes: changes.map((c) => c.change),
  };
}

/** What names a flow: its Service, frontend, address, client and node. */
type FlowPlace = Pick<
  FlowChange,
  "service" | "frontend" | "address" | "protocol" | "addressKind" | "client" | "node"
>;

function flowOf(spec: FlowSpec): FlowPlace {
  const owner = spec.info?.name ?? spec.owner;
  return {
    ...(owner ? { service: owner } : {}),
    frontend: spec.frontend,
    address: `${formatIPv4(spec.dst)}:${spec.dport}`,
    protocol: spec.protocol,
    ...(spec.addressKind ? { addressKind: spec.addressKind } : {}),
    client: spec.client,
    node: spec.node.name,
  };
}

/** `pod → 10.96.0.10:80/TCP (ns/web:http, clusterIP) on n1`: a flow in a few words. */
export function flowLabel(c: FlowPlace): string {
  const who =
    c.client === "remote-pod" ? "pod on another node" : c.client === "outside" ? "outside client" : c.client;
  const what = c.service ? `${c.service}, ${c.frontend}` : c.frontend;
  const addr = c.addressKind ? `, ${c.addressKind}` : "";
  return `${who} → ${c.address}/${c.protocol} (${what}${addr}) on ${c.node}`;
}

function fate(o: FlowOutcome): string {
  return o.reaches === "nothing" || o.reaches === "endpoint" ? o.verdict : `${o.verdict} (${o.reaches})`;
}

/** `delivered → rejected`, with what else changes: `, masquerade no → yes`. */
function changeSummary(a: FlowOutcome, b: FlowOutcome): string {
  const parts = [fate(a) === fate(b) ? fate(a) : `${fate(a)} → ${fate(b)}`];
  if (fate(a) === fate(b) && a.endpoints.join() !== b.endpoints.join()) parts.push("other endpoints");
  if (a.masquerade !== b.masquerade)
    parts.push(`masquerade ${a.masquerade ? "yes" : "no"} → ${b.masquerade ? "yes" : "no"}`);
  return parts.join(", ");
}

/** The kinds of change between two fates of one flow (CHANGE_KINDS order); none when they agree. */
export function changeKinds(a: FlowOutcome, b: FlowOutcome): ChangeKind[] {
  const out: ChangeKind[] = [];
  // Reaching a pod, an endpoint or a node counts as getting there; leaving the node for the outside
  // (a Service address routed like any other) is neither: it is routed elsewhere.
  const there = (o: FlowOutcome) => o.reaches !== "nothing" && o.reaches !== "outside";
  const stopped = (o: FlowOutcome) => o.reaches === "nothing";
  if (there(a) && stopped(b)) out.push("lost");
  else if (stopped(a) && there(b)) out.push("gained");
  else if (a.reaches !== b.reaches || (!stopped(a) && a.verdict !== b.verdict)) out.push("rerouted");
  else if (a.verdict !== b.verdict) out.push("verdict");
  if (a.endpoints.join() !== b.endpoints.join()) out.push("endpoints");
  if (a.masquerade !== b.masquerade) out.push("masquerade");
  return out;
}

/** Which of a flow's endpoints a trace could reach: none, all usable ones, or this node's. */
type Relation = "none" | "cluster" | "local";

/** A shape's traces in the two modes, with the relation of each one's endpoints to the flow's own. */
interface Representative {
  /** The flow traced. */
  spec: FlowSpec;
  a: TraceResult;
  b: TraceResult;
  relA: Relation;
  relB: Relation;
  /** Neither the fate nor the endpoints' relation differ: no member of the shape changes. */
  unchanged: boolean;
}

function representative(spec: FlowSpec, a: TraceResult, b: TraceResult): Representative {
  const relA = relationOf(a, spec);
  const relB = relationOf(b, spec);
  const oa = outcomeFor(a, relA, spec);
  const ob = outcomeFor(b, relB, spec);
  return { spec, a, b, relA, relB, unchanged: relA === relB && changeKinds(oa, ob).length === 0 };
}

function relationOf(r: TraceResult, spec: FlowSpec): Relation {
  if (r.endpoints.length === 0) return "none";
  const got = [...r.endpoints].sort().join();
  if (got === keys(spec.cluster).join()) return "cluster";
  if (got === keys(spec.local).join()) return "local";
  // The shape key makes this unreachable; fail loudly rather than report another Service's endpoints.
  throw new Error(
    `proxy-diff: endpoints ${got} are neither all nor the local endpoints of ${spec.info?.name}`,
  );
}

/**
 * A member's fate from its shape's representative trace: the verdict, what it reaches and masquerade
 * are the shape's; the endpoints are the member's own, in the representative's relation.
 */
function outcomeFor(r: TraceResult, rel: Relation, member: FlowSpec): FlowOutcome {
  const endpoints = rel === "none" ? [] : keys(rel === "cluster" ? member.cluster : member.local);
  return { verdict: r.verdict, reaches: reachesOf(r), endpoints, masquerade: r.masquerade };
}

function keys(eps: readonly EndpointInfo[]): string[] {
  return eps.map((e) => `${formatIPv4(e.ip)}:${e.port}`).sort();
}

function reachesOf(r: TraceResult): Reaches {
  if (r.verdict === "dropped" || r.verdict === "rejected") return "nothing";
  if (r.verdict === "forwarded") return "outside";
  if (r.chosen) return "endpoint";
  return r.delivered?.pod && !r.delivered.node
    ? "pod"
    : r.hops.at(-1)?.at.startsWith("pod ")
      ? "pod"
      : "node";
}

function traceFlow(net: Network, f: FlowSpec, outside: IPv4): TraceResult {
  const node = net.nodeByName.get(f.node.name)!;
  let source: Source;
  switch (f.client) {
    case "pod":
    case "remote-pod": {
      const on = f.client === "pod" ? node : net.nodeByName.get(f.clientNode!.name)!;
      source = { kind: "pod", pod: clientPod(net, on, f.cluster)! };
      break;
    }
    case "node":
      source = { kind: "node", node };
      break;
    case "localhost":
      source = { kind: "node", node, ip: LOOPBACK };
      break;
    case "outside":
      source = { kind: "external", ip: outside, node };
      break;
  }
  return trace(net, { source, dst: f.dst, dport: f.dport, protocol: f.protocol });
}

const LOOPBACK = parseIPv4("127.0.0.1")!;

/** An outside client's address: one outside every cluster range and node address. */
function pickOutsideClient(net: Network): IPv4 {
  const cfg = net.state.config;
  const free = (ip: IPv4) =>
    !cfg.clusterCIDR.contains(ip) &&
    !cfg.serviceCIDR.contains(ip) &&
    !net.nodeByIP.has(ip) &&
    !net.podByIP.has(ip);
  return OUTSIDE_CLIENTS.find(free) ?? OUTSIDE_CLIENTS[0];
}

/** A pod on `node` to send from: the first that is not one of `endpoints` (else the first: hairpin). */
function clientPod(net: Network, node: NodeState, endpoints: readonly EndpointInfo[]) {
  const pods = podsByNode(net).get(node.name) ?? [];
  const eps = new Set(endpoints.map((e) => e.ip));
  return pods.find((p) => !eps.has(net.podFacts(p).ip)) ?? pods[0];
}

const podsCache = new WeakMap<Network, Map<string, Pod[]>>();

/** Running pods with their own network namespace, by node name (cluster order). */
function podsByNode(net: Network): Map<string, Pod[]> {
  let m = podsCache.get(net);
  if (!m) {
    m = new Map();
    for (const p of net.podByIP.values()) {
      const n = p.spec.nodeName;
      if (!n) continue;
      const list = m.get(n);
      if (list) list.push(p);
      else m.set(n, [p]);
    }
    podsCache.set(net, m);
  }
  return m;
}

/**
 * Every flow to examine, one per (frontend, client kind, node class), each with its representative
 * node and its shape. Node classes: for a Service whose traffic policy for the frontend is `Local`,
 * the nodes with a usable endpoint of it and those without; otherwise every node, as one.
 */
function enumerateFlows(net: Network): FlowSpec[] {
  const state = net.state;
  const nodes = state.nodes;
  if (nodes.length === 0) return [];
  const byNode = podsByNode(net);
  const hasPods = (n: NodeState) => (byNode.get(n.name)?.length ?? 0) > 0;
  const otherIPs = (n: NodeState) => n.ips.filter((ip) => ip !== n.ip);
  const deviceIPs = (n: NodeState) => net.plugin.nodeAddresses(state, n).filter((ip) => !n.ips.includes(ip));
  const out: FlowSpec[] = [];

  /** A node class: its representative for a client kind, and its size. */
  interface NodeClass {
    label: string;
    members: (n: NodeState) => boolean;
    /** Known sizes for the whole-cluster class, to skip a scan of every node per Service. */
    all: boolean;
  }
  const ALL: NodeClass = { label: "all nodes", members: () => true, all: true };
  // Whole-cluster counts per requirement, computed once.
  const countCache = new Map<string, number>();
  const firstCache = new Map<string, NodeState | undefined>();
  const requirement = (need: (n: NodeState) => boolean, name: string, cls: NodeClass) => {
    if (cls.all) {
      if (!countCache.has(name)) {
        countCache.set(name, nodes.filter(need).length);
        firstCache.set(name, nodes.find(need));
      }
      return { count: countCache.get(name)!, rep: firstCache.get(name) };
    }
    let count = 0;
    let rep: NodeState | undefined;
    for (const n of nodes)
      if (cls.members(n) && need(n)) {
        count++;
        rep ??= n;
      }
    return { count, rep };
  };
  const needs: Record<string, (n: NodeState) => boolean> = {
    any: () => true,
    pods: hasPods,
    other: (n) => otherIPs(n).length > 0,
    otherPods: (n) => otherIPs(n).length > 0 && hasPods(n),
    device: (n) => deviceIPs(n).length > 0,
  };
  const podNodes = nodes.filter(hasPods);
  const outside = pickOutsideClient(net);
  const served = servedPorts(state);

  const classesFor = (info: ServicePortInfo, local: boolean): NodeClass[] => {
    if (!local) return [ALL];
    const { cluster } = categorize(info.endpoints, "");
    const at = new Set(cluster.map((e) => e.nodeName).filter((n): n is string => n !== undefined));
    return [
      { label: "nodes with an endpoint", members: (n) => at.has(n.name), all: false },
      { label: "nodes without an endpoint", members: (n) => !at.has(n.name), all: false },
    ];
  };

  /** The shape of a Service port as the deciding node sees it (everything but names and addresses). */
  // The flows of one Service port come one after another: its categorized endpoints per node, once.
  let seen: { info: ServicePortInfo; byNode: Map<string, ReturnType<typeof categorize>> } | undefined;
  const categorized = (info: ServicePortInfo, node: NodeState) => {
    if (seen?.info !== info) seen = { info, byNode: new Map() };
    let c = seen.byNode.get(node.name);
    if (!c) {
      c = categorize(info.endpoints, node.name);
      seen.byNode.set(node.name, c);
    }
    return c;
  };
  const serviceShape = (info: ServicePortInfo, node: NodeState, client: IPv4 | undefined) => {
    const { cluster, local } = categorized(info, node);
    const anyPod = (eps: readonly EndpointInfo[]) => eps.every((e) => net.podByIP.has(e.ip));
    const ranges =
      info.sourceRanges.length === 0
        ? "-"
        : client === undefined
          ? "?"
          : info.sourceRanges.some((r) => r.contains(client))
            ? "in"
            : "out";
    return {
      cluster,
      local,
      shape: [
        info.protocol,
        cluster.length > 0 ? (cluster.every((e) => e.ready) ? "ready" : "terminating") : "none",
        local.length > 0 ? (local.length === cluster.length ? "all-local" : "some-local") : "no-local",
        info.internalLocal ? "itp-local" : "itp-cluster",
        info.externalLocal ? "etp-local" : "etp-cluster",
        info.affinity ? "affinity" : "-",
        ranges,
        anyPod(cluster) ? "pods" : "not-only-pods",
      ].join(","),
    };
  };

  const add = (
    f: Omit<FlowSpec, "shape" | "cluster" | "local" | "node" | "nodes" | "nodeClass">,
    cls: NodeClass,
    need: string,
  ) => {
    const { count, rep } = requirement(needs[need], need, cls);
    if (!rep || count === 0) return;
    let clientNode: NodeState | undefined;
    if (f.client === "remote-pod") {
      clientNode = podNodes.find((n) => n !== rep);
      if (!clientNode) return;
    }
    const clientIP =
      f.client === "outside" ? outside : f.client === "pod" || f.client === "remote-pod" ? undefined : rep.ip;
    const s = f.info
      ? serviceShape(f.info, rep, clientIP)
      : { cluster: [] as EndpointInfo[], local: [] as EndpointInfo[], shape: "-" };
    // A pod client that is itself an endpoint is hairpin traffic: its own shape.
    let hairpin = "-";
    if (f.client === "pod" || f.client === "remote-pod") {
      const pod = clientPod(net, f.client === "pod" ? rep : clientNode!, s.cluster);
      hairpin = pod && s.cluster.some((e) => e.ip === net.podFacts(pod).ip) ? "hairpin" : "-";
    }
    // Where no Service port answers (a nodePort a mode does not accept on this address), the packet
    // arrives at the node: a host-network pod serving that port there makes it delivered instead.
    const hostServed =
      f.frontend === "nodePort" &&
      (net.hostNetworkPods.get(rep.name) ?? []).some((p) => served.find(p, f.dport, f.protocol) !== undefined)
        ? "host-served"
        : "-";
    out.push({
      ...f,
      ...(clientNode ? { clientNode } : {}),
      node: rep,
      nodes: count,
      nodeClass: cls.label,
      cluster: s.cluster,
      local: s.local,
      shape: [f.frontend, f.client, f.addressKind ?? "-", cls.label, s.shape, hairpin, hostServed].join("|"),
    });
  };

  const VIP_CLIENTS: [ClientKind, string][] = [
    ["pod", "pods"],
    ["node", "any"],
    ["outside", "any"],
  ];
  // A ClusterIP's Service ports, for its undefined port.
  const portsAt = new Map<IPv4, Set<number>>();
  const ownerOf = new Map<IPv4, string>();
  for (const info of net.proxy.ports) {
    if (info.clusterIP !== undefined) {
      const set = portsAt.get(info.clusterIP) ?? new Set<number>();
      if (info.protocol === "TCP") set.add(info.port.port);
      portsAt.set(info.clusterIP, set);
      ownerOf.set(info.clusterIP, `${info.service.metadata.namespace}/${info.service.metadata.name}`);
      for (const cls of classesFor(info, info.internalLocal))
        for (const [client, need] of VIP_CLIENTS)
          add(
            {
              info,
              frontend: "clusterIP",
              dst: info.clusterIP,
              dport: info.port.port,
              protocol: info.protocol,
              client,
            },
            cls,
            need,
          );
    }
    for (const [frontend, ips] of [
      ["externalIP", info.externalIPs],
      ["loadBalancer", info.lbIPs],
    ] as const)
      for (const ip of ips)
        for (const cls of classesFor(info, info.externalLocal))
          for (const [client, need] of VIP_CLIENTS)
            add(
              { info, frontend, dst: ip, dport: info.port.port, protocol: info.protocol, client },
              cls,
              need,
            );
    if (info.nodePort !== undefined) {
      const np = info.nodePort;
      for (const cls of classesFor(info, info.externalLocal)) {
        const base = { info, frontend: "nodePort" as const, dport: np, protocol: info.protocol };
        // The representative's own address of each kind: dst is filled in per representative below.
        for (const [addressKind, clients] of [
          [
            "primary IP",
            [
              ["pod", "pods"],
              ["remote-pod", "any"],
              ["node", "any"],
              ["outside", "any"],
            ],
          ],
          [
            "other node IP",
            [
              ["pod", "otherPods"],
              ["remote-pod", "other"],
              ["node", "other"],
              ["outside", "other"],
            ],
          ],
          // Only the node itself: a pod's packet to its node's bridge address is switched on the link
          // after DNAT by the tracer (sim/trace.ts), which would report a drop the kernel does not make.
          ["device address", [["node", "device"]]],
          ["loopback", [["localhost", "any"]]],
        ] as const)
          for (const [client, need] of clients) {
            const { rep } = requirement(needs[need], need, cls);
            if (!rep) continue;
            const dst =
              addressKind === "primary IP"
                ? rep.ip
                : addressKind === "other node IP"
                  ? otherIPs(rep)[0]
                  : addressKind === "device address"
                    ? deviceIPs(rep)[0]
                    : LOOPBACK;
            add({ ...base, dst, addressKind, client }, cls, need);
          }
      }
    }
  }
  // A port no Service defines on each ClusterIP: the first port above its first one that is free.
  for (const [ip, used] of portsAt) {
    let port = (used.values().next().value ?? 80) + 1;
    while (used.has(port)) port = port >= 65535 ? 1 : port + 1;
    for (const [client, need] of VIP_CLIENTS)
      add(
        { frontend: "undefinedPort", owner: ownerOf.get(ip), dst: ip, dport: port, protocol: "TCP", client },
        ALL,
        need,
      );
  }
  // One address of serviceCIDR no Service has (the first after the network address).
  const cidr = state.config.serviceCIDR;
  for (let ip = cidr.base + 1; ip < cidr.last; ip++) {
    if (portsAt.has(ip) || net.proxy.ports.some((p) => p.externalIPs.includes(ip) || p.lbIPs.includes(ip)))
      continue;
    for (const [client, need] of VIP_CLIENTS)
      add({ frontend: "unusedServiceIP", dst: ip, dport: 80, protocol: "TCP", client }, ALL, need);
    break;
  }
  return out;
}
