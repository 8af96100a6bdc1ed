/**
 * Which node(s) receive a LoadBalancer IP's traffic, as a bare-metal load balancer announces the IP
 * (the Cluster config's `spec.loadBalancer.mode`, ../model/config.ts):
 *
 * - **l2** (MetalLB's layer-2 mode, metallb/metallb speaker/layer2_controller.go `ShouldAnnounce`):
 *   nothing is announced while the Service has no serving endpoint. The eligible nodes are those with
 *   a speaker (MetalLB's speaker DaemonSet runs on every node) less the nodes whose Node carries the
 *   label `node.kubernetes.io/exclude-from-external-load-balancers` or the condition
 *   `NetworkUnavailable=True` (`speakersForPool`); with `externalTrafficPolicy: Local` only those among
 *   them with a serving endpoint of the Service (`nodesWithEndpoint`). The eligible nodes are sorted by
 *   SHA-256 of `<node name>#<IP>` (the Service's first load-balancer IP), byte-wise, and the first one
 *   alone answers ARP for the IP: every packet for it enters there.
 * - **bgp** (MetalLB's BGP mode, speaker/bgp_controller.go `ShouldAnnounce`): every eligible node
 *   announces the IP (with `externalTrafficPolicy: Local`, only those with a serving endpoint; with
 *   `Cluster`, all of them as long as the Service has a serving endpoint anywhere) and the upstream
 *   router spreads flows over them equal-cost (ECMP): a flow enters at one of them, by the router's
 *   hash of the flow.
 *
 * An endpoint serves when its `ready` condition is true or unset, or it is `serving` while terminating
 * (MetalLB's epslices.EndpointCanServe). Pure: the answer is a function of the ClusterState.
 */
import { sha256 } from "@noble/hashes/sha2";
import type { LoadBalancerMode } from "../model/config.ts";
import type { EndpointConditions, Service } from "../model/k8s.ts";
import { fnv32a } from "./names.ts";
import type { ClusterState, NodeState } from "./state.ts";

/** The label that keeps a node out of every external load balancer (k8s.io/api/core/v1 well_known_labels.go). */
export const EXCLUDE_FROM_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";

/** One node's place in the announcement of one IP, with the reason in words. */
export interface NodeStanding {
  node: string;
  /** Announces the IP (l2: the elected node only; bgp: every eligible node). */
  announces: boolean;
  /** Why (`elected: first of 3 eligible nodes by SHA-256 of "node-2#198.51.100.1"`, `excluded: label …`). */
  why: string;
}

/** Who announces one LoadBalancer IP and why. */
export interface Announcement {
  /** The load-balancer IP, dotted. */
  ip: string;
  /** The Service(s) holding the IP (`namespace/name`; several share an IP only by MetalLB's allow-shared-ip). */
  services: string[];
  mode: LoadBalancerMode;
  externalTrafficPolicy: "Cluster" | "Local";
  /** The announcing nodes: l2: at most one; bgp: every eligible node. Empty: the IP is not announced. */
  nodes: string[];
  /** Every node of the cluster in election order (l2: by hash; eligible first), with its standing. */
  standings: NodeStanding[];
  /** The whole answer in one sentence. */
  reason: string;
}

/** Every Service with `ip` among its `status.loadBalancer.ingress` addresses, in the state's order. */
export function servicesAtLoadBalancerIP(state: ClusterState, ip: string): Service[] {
  return state.services.filter(
    (s) => s.spec.type === "LoadBalancer" && (s.status?.loadBalancer?.ingress ?? []).some((i) => i.ip === ip),
  );
}

/** MetalLB's epslices.EndpointCanServe: ready (unset counts as ready), or serving while terminating. */
function canServe(c: EndpointConditions | undefined): boolean {
  if (!c || c.ready === undefined || c.ready === true) return true;
  return c.serving === true && c.terminating === true;
}

/** The names of nodes holding a serving endpoint of the Service (EndpointSlices labelled with its name). */
function nodesWithServingEndpoints(state: ClusterState, svc: Service): { any: boolean; nodes: Set<string> } {
  const nodes = new Set<string>();
  let any = false;
  for (const slice of state.endpointSlices) {
    if (slice.metadata.namespace !== svc.metadata.namespace) continue;
    if (slice.metadata.labels?.["kubernetes.io/service-name"] !== svc.metadata.name) continue;
    for (const ep of slice.endpoints) {
      if (!canServe(ep.conditions)) continue;
      any = true;
      if (ep.nodeName) nodes.add(ep.nodeName);
    }
  }
  return { any, nodes };
}

/** Why a node cannot announce any IP (MetalLB's speakersForPool), or undefined when it can. */
function excluded(n: NodeState): string | undefined {
  if (n.labels[EXCLUDE_FROM_LB_LABEL] !== undefined)
    return `excluded: it carries label ${EXCLUDE_FROM_LB_LABEL}`;
  const unavailable = n.obj.status?.conditions?.some(
    (c) => c.type === "NetworkUnavailable" && c.status === "True",
  );
  return unavailable ? "excluded: its condition NetworkUnavailable is True" : undefined;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * Who announces the load-balancer IP `ip` (dotted) under `state.config.loadBalancer.mode`, or
 * undefined when no LoadBalancer Service holds the IP. When several Services share it, the first
 * (in the input's order) decides the election, as they must agree on `externalTrafficPolicy` to share.
 */
export function announcementFor(state: ClusterState, ip: string): Announcement | undefined {
  const services = servicesAtLoadBalancerIP(state, ip);
  if (services.length === 0) return undefined;
  const svc = services[0];
  const mode = state.config.loadBalancer.mode;
  const policy = svc.spec.externalTrafficPolicy === "Local" ? "Local" : "Cluster";
  const id = `${svc.metadata.namespace}/${svc.metadata.name}`;
  // MetalLB hashes the Service's first IP, whichever of its IPs is asked about.
  const first = svc.status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip ?? ip;
  const base = {
    ip,
    services: services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`),
    mode,
    externalTrafficPolicy: policy,
  } as const;
  const serving = nodesWithServingEndpoints(state, svc);
  if (!serving.any) {
    return {
      ...base,
      nodes: [],
      standings: state.nodes.map((n) => ({
        node: n.name,
        announces: false,
        why: `Service ${id} has no serving endpoint: nothing announces its IP`,
      })),
      reason: `no node announces ${ip}: Service ${id} has no serving endpoint, so ${mode === "l2" ? "no speaker answers ARP for it" : "no speaker advertises a route to it"} and packets for it go nowhere`,
    };
  }
  const standings: (NodeStanding & { key?: string })[] = state.nodes.map((n) => {
    const out = excluded(n);
    if (out) return { node: n.name, announces: false, why: out };
    if (policy === "Local" && !serving.nodes.has(n.name))
      return {
        node: n.name,
        announces: false,
        why: "not eligible: externalTrafficPolicy Local and no serving endpoint of the Service on this node",
      };
    return {
      node: n.name,
      announces: true,
      why: "",
      key: hex(sha256(new TextEncoder().encode(`${n.name}#${first}`))),
    };
  });
  const eligible = standings.filter((s) => s.announces);
  const others = standings.filter((s) => !s.announces);
  if (eligible.length === 0) {
    return {
      ...base,
      nodes: [],
      standings: others,
      reason: `no node announces ${ip}: no node is eligible (${policy === "Local" ? "externalTrafficPolicy Local wants a serving endpoint on the node, and the nodes with one are excluded" : "every node is excluded"})`,
    };
  }
  const why = policy === "Local" ? "eligible (a serving endpoint of the Service runs here)" : "eligible";
  if (mode === "bgp") {
    for (const s of eligible)
      s.why = `${why}; announces the IP over BGP, one of ${eligible.length} equal-cost paths`;
    const nodes = eligible.map((s) => s.node);
    return {
      ...base,
      nodes,
      standings: [...eligible, ...others].map(({ key: _, ...s }) => s),
      reason: `bgp: ${nodes.length === 1 ? `node ${nodes[0]} announces` : `nodes ${nodes.join(", ")} announce`} ${ip}; the router spreads flows over ${nodes.length === 1 ? "it" : "them (equal-cost multipath, by its hash of each flow)"}`,
    };
  }
  eligible.sort((a, b) => (a.key! < b.key! ? -1 : a.key! > b.key! ? 1 : 0));
  eligible.forEach((s, i) => {
    s.announces = i === 0;
    const rank = `SHA-256("${s.node}#${first}") = ${s.key!.slice(0, 8)}…`;
    s.why =
      i === 0
        ? `${why}; elected: first of ${eligible.length} eligible node${eligible.length === 1 ? "" : "s"} by ${rank}`
        : `${why}; not elected: ${ordinal(i + 1)} by ${rank}`;
  });
  const winner = eligible[0].node;
  return {
    ...base,
    nodes: [winner],
    standings: [...eligible, ...others].map(({ key: _, ...s }) => s),
    reason: `l2: node ${winner} answers ARP for ${ip} (MetalLB's election: eligible nodes${policy === "Local" ? " with a serving endpoint" : ""} sorted by SHA-256 of "<node>#${first}", first wins), so every packet for ${ip} enters there`,
  };
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${s}`;
}

/**
 * The node a given flow enters at: l2: the elected node; bgp: one of the announcing nodes, picked by a
 * stable hash of the flow (`flow`, e.g. `203.0.113.7:40000>198.51.100.1:80`), as a router's ECMP hash
 * of the 5-tuple would. Undefined when nothing announces the IP.
 */
export function entryNode(a: Announcement, flow: string): string | undefined {
  if (a.nodes.length === 0) return undefined;
  if (a.nodes.length === 1) return a.nodes[0];
  return a.nodes[fnv32a(flow) % a.nodes.length];
}
