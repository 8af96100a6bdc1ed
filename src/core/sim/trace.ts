/**
 * The packet tracer: follows one packet hop by hop through the pod and node namespaces the CNI built
 * and through kube-proxy's rules, as the reference articles walk through them.
 *
 *   pod netns: route lookup ─► plugin.leavePod (flannel: veth ─► bridge cni0)
 *     [on the pod's link: prerouting, then plugin.switchOnLink ─► a pod on the bridge]
 *   node: prerouting (kube-proxy DNAT) ─► route lookup (plugin.routeTo) ─► plugin.forward:
 *                     ─► a local pod (cni0 → veth → pod)                        (same node)
 *                     ─► another node: the plugin's encapsulation (flannel.1 VXLAN, tunl0 IP-in-IP)
 *                        ─► eth0 ─► wire ─► eth0 ─► plugin.decapsulate ─► … ─► the pod
 *                     ─► eth0 (an unencapsulated next hop: host-gw) ─► wire ─► the next node
 *                     ─► local address: input ─► a host-network listener
 *                     ─► default route: forwarded (with the plugin's masquerade for pod sources)
 *     postrouting: masquerade marked packets to the egress device's address
 *
 * No step here knows a plugin's devices: the hops come from the plugin (../cni/plugin.ts).
 *
 * The end is `delivered` (to a port known to be served — a container declares it or a Service sends
 * there, ./served-ports.ts — with the source the receiver sees), `arrived` (at the pod or node, on a
 * port nobody declares: whether a process listens is unknown, as containerPort is informational),
 * `forwarded`, `dropped` or `rejected`. `reply` traces the answer back through
 * connection tracking, which undoes the NAT on the nodes that applied it. NetworkPolicy is checked
 * where kernel implementations enforce it: egress of the source pod at its node, after kube-proxy's
 * translation (a Service's traffic is judged on the chosen endpoint and port), and ingress as the
 * packet reaches the destination pod (on the source address it carries, masqueraded or not).
 */

import type { HopNote, LocalDelivery, OuterHeader } from "../cni/plugin.ts";
import { fnv32a } from "../control/names.ts";
import type { NodeState } from "../control/state.ts";
import { renderRoute } from "../graph/devices.ts";
import type { Pod, Protocol } from "../model/k8s.ts";
import { formatIPv4, type IPv4 } from "../net/ipv4.ts";
import { type DirectionVerdict, type PolicyPeer, peerFor } from "../policy/netpol.ts";
import { type EndpointInfo, HAIRPIN_NOTE, type ProxyResult } from "../proxy/service-proxy.ts";
import type { Network } from "./network.ts";
import { type ServedPort, servedPorts } from "./served-ports.ts";

/**
 * How a packet's journey ends. `delivered`, `arrived` and `forwarded` get there (the packet reaches
 * its destination, or leaves the cluster towards it); `dropped` and `rejected` do not.
 */
export type Verdict = "delivered" | "arrived" | "forwarded" | "dropped" | "rejected";

/** The verdicts under which a packet gets where it was sent: `podnet trace` exits 0 on these. */
export const GETS_THERE: ReadonlySet<Verdict> = new Set<Verdict>(["delivered", "arrived", "forwarded"]);

export interface PacketHeader {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  protocol: Protocol;
  /** Present while encapsulated. */
  outer?: OuterHeader;
}

export interface Hop {
  /** `pod ns/name`, `node NAME`, `wire`, `client`. */
  at: string;
  device?: string;
  /** What happened: `route`, `veth`, `bridge`, `dnat`, `snat`, `encap`, `decap`, `policy`, `deliver`… */
  step: string;
  /** The lookup made and the entry that matched. */
  detail: string;
  /** The packet after this hop. */
  packet: PacketHeader;
}

/** Where a packet starts. */
export type Source =
  | { kind: "pod"; pod: Pod }
  /** `ip`: the node's address the process binds to (any of its own); else the route's source. */
  | { kind: "node"; node: NodeState; ip?: IPv4 }
  /**
   * An outside client; its packets enter the cluster at `node`. `entry`: why there (the load
   * balancer's announcement, ../control/load-balancers.ts); `unannounced`: no node announces the
   * load-balancer IP it sends to, so the packet never enters (the trace ends dropped, with this reason).
   */
  | { kind: "external"; ip: IPv4; node: NodeState; entry?: string; unannounced?: string };

export interface TraceRequest {
  source: Source;
  dst: IPv4;
  dport: number;
  protocol: Protocol;
  sport?: number;
  /** Force this endpoint when a Service could pick several. */
  endpoint?: EndpointInfo;
}

export interface TraceResult {
  verdict: Verdict;
  reason: string;
  /** Every backend the Service could pick (`ip:port`); empty when no Service matched. */
  endpoints: string[];
  chosen?: string;
  service?: string;
  masquerade: boolean;
  delivered?: { pod?: string; node?: string; container?: string; seenSource: string };
  /** The NetworkPolicy verdicts met on the way (egress at the source pod, ingress at the destination). */
  policy?: { egress?: DirectionVerdict; ingress?: DirectionVerdict };
  hops: Hop[];
  reply?: TraceResult;
}

interface NatEntry {
  node: string;
  kind: "dnat" | "snat";
  from: { ip: IPv4; port: number };
  to: { ip: IPv4; port: number };
}

/** Where the packet is now. */
type Place =
  | { kind: "pod"; pod: Pod; node: NodeState; arrived?: boolean }
  | { kind: "host"; node: NodeState }
  | { kind: "wire"; from: NodeState; to: NodeState };

const MAX_HOPS = 64;

export function ephemeralPort(seed: string): number {
  return 32768 + (fnv32a(seed) % 28232);
}

export function trace(net: Network, req: TraceRequest, opts: { reply?: boolean } = {}): TraceResult {
  const t = new Tracer(net);
  const result = t.run(req);
  if (opts.reply && t.receiver) result.reply = t.reply(req, result);
  return result;
}

/** One of the traces of `traceEachEndpoint`: the endpoint it was sent to (`ip:port`) and its trace. */
export type EndpointTrace = TraceResult & { endpoint: string };

/**
 * One trace per endpoint a Service frontend could send the packet to, whatever the frontend the packet
 * meets (a ClusterIP, a nodePort on any address the node accepts it on, an externalIP, a load-balancer
 * IP; from a pod, a node or outside): the first trace finds kube-proxy's candidates where it meets
 * them (for `externalTrafficPolicy: Local`, the local ones), then each is forced in turn. `traces` is
 * empty when no Service translated the packet (then `first` is the only trace).
 */
export function traceEachEndpoint(
  net: Network,
  req: TraceRequest,
  opts: { reply?: boolean } = {},
): { first: TraceResult; traces: EndpointTrace[] } {
  const t = new Tracer(net);
  const first = t.run(req);
  if (opts.reply && t.receiver) first.reply = t.reply(req, first);
  const candidates = t.proxied?.candidates ?? [];
  const traces = candidates.map((e) => ({
    endpoint: `${formatIPv4(e.ip)}:${e.port}`,
    ...trace(net, { ...req, endpoint: e }, opts),
  }));
  return { first, traces };
}

/**
 * The traces `trace --all-endpoints` and `explain` give for one destination: one per endpoint of
 * the Service frontend the packet meets (`traceEachEndpoint`); when no Service translates it, one
 * per address the destination name stands for (`addresses`: a headless Service's A records, each
 * a pod), else the single trace. `first` is the trace to `req.dst` as given.
 */
export function traceEachDestination(
  net: Network,
  req: TraceRequest,
  opts: { reply?: boolean; addresses?: readonly IPv4[] } = {},
): { first: TraceResult; traces: EndpointTrace[] } {
  const { first, traces } = traceEachEndpoint(net, req, { reply: opts.reply });
  if (traces.length > 0) return { first, traces };
  const one = (t: TraceResult, ip: IPv4) => ({ endpoint: `${formatIPv4(ip)}:${req.dport}`, ...t });
  const addresses = opts.addresses ?? [];
  if (addresses.length < 2) return { first, traces: [one(first, req.dst)] };
  return {
    first,
    traces: addresses.map((ip) =>
      one(ip === req.dst ? first : trace(net, { ...req, dst: ip }, { reply: opts.reply }), ip),
    ),
  };
}

/**
 * What several traces of one connection (one per endpoint or address it may reach) come to: their
 * common verdict when they all end alike, else `mixed`; `getsThere` only when every one gets there
 * (GETS_THERE). The reason counts the verdicts: `of 3 endpoints: 2 delivered, 1 dropped`.
 */
export function summarizeTraces(traces: readonly Pick<TraceResult, "verdict" | "reason">[]): {
  verdict: Verdict | "mixed";
  reason: string;
  getsThere: boolean;
} {
  const counts = new Map<Verdict, number>();
  for (const t of traces) counts.set(t.verdict, (counts.get(t.verdict) ?? 0) + 1);
  const getsThere = traces.length > 0 && traces.every((t) => GETS_THERE.has(t.verdict));
  if (counts.size === 1) {
    const [verdict] = counts.keys();
    const reason = traces.length === 1 ? traces[0].reason : `all ${traces.length} endpoints: ${verdict}`;
    return { verdict, reason, getsThere };
  }
  const parts = [...counts].map(([v, n]) => `${n} ${v}`);
  return { verdict: "mixed", reason: `of ${traces.length} endpoints: ${parts.join(", ")}`, getsThere };
}

class Tracer {
  readonly hops: Hop[] = [];
  readonly nat: NatEntry[] = [];
  src: IPv4 = 0;
  sport = 0;
  dst: IPv4 = 0;
  dport = 0;
  protocol: Protocol = "TCP";
  outer: PacketHeader["outer"];
  masquerade = false;
  marked = false;
  proxied: Extract<ProxyResult, { kind: "dnat" }> | undefined;
  forced: EndpointInfo | undefined;
  /** The source pod whose egress policy is still to be checked (after its node's translation). */
  pendingEgress: Pod | undefined;
  /** Replies of an allowed connection pass NetworkPolicy through connection tracking. */
  isReply = false;
  policy: { egress?: DirectionVerdict; ingress?: DirectionVerdict } = {};
  /**
   * Where the packet ended when it `delivered` or `arrived` (a pod, or a node's own address): where an
   * answer starts — the process's, or, where nothing listens, the kernel's reset (TCP).
   */
  receiver: { pod?: string; node?: string } | undefined;

  constructor(readonly net: Network) {}

  header(): PacketHeader {
    const h: PacketHeader = {
      src: formatIPv4(this.src),
      sport: this.sport,
      dst: formatIPv4(this.dst),
      dport: this.dport,
      protocol: this.protocol,
    };
    if (this.outer) h.outer = { ...this.outer };
    return h;
  }

  /**
   * Records a hop with the packet as it is now. Two literals rather than a conditional spread for
   * `device`: V8 builds a spread object the slow way, and this runs a dozen times per trace.
   */
  hop(at: string, step: string, detail: string, device?: string): void {
    const packet = this.header();
    this.hops.push(device ? { at, step, detail, device, packet } : { at, step, detail, packet });
  }

  /**
   * The result, its keys always in this order (JSON output and golden files show it): verdict,
   * reason, endpoints, [chosen, service], masquerade, [policy], hops, then `extra`'s (which replace
   * a value in place, as an object spread does). Assigned rather than spread: see `hop`.
   */
  end(verdict: Verdict, reason: string, extra?: Partial<TraceResult>): TraceResult {
    const p = this.proxied;
    const endpoints = p ? p.candidates.map((e) => `${formatIPv4(e.ip)}:${e.port}`) : [];
    const masquerade = this.masquerade;
    const hops = this.hops;
    const policy = this.policy.egress || this.policy.ingress ? this.policy : undefined;
    let r: TraceResult;
    if (p) {
      const chosen = `${formatIPv4(p.chosen.ip)}:${p.chosen.port}`;
      const service = p.service.name;
      r = policy
        ? { verdict, reason, endpoints, chosen, service, masquerade, policy, hops }
        : { verdict, reason, endpoints, chosen, service, masquerade, hops };
    } else
      r = policy
        ? { verdict, reason, endpoints, masquerade, policy, hops }
        : { verdict, reason, endpoints, masquerade, hops };
    return extra ? Object.assign(r, extra) : r;
  }

  run(req: TraceRequest): TraceResult {
    this.protocol = req.protocol;
    this.dst = req.dst;
    this.dport = req.dport;
    this.forced = req.endpoint;
    const s = req.source;
    if (s.kind === "pod") {
      const node = this.net.nodeOf(s.pod)!;
      if (s.pod.spec.hostNetwork) return this.fromHost(node, req, `pod ${name(s.pod)} (host network)`);
      const facts = this.net.podFacts(s.pod);
      this.src = facts.ip;
      this.sport = req.sport ?? ephemeralPort(`${facts.name}>${formatIPv4(req.dst)}:${req.dport}`);
      this.pendingEgress = s.pod;
      return this.walk({ kind: "pod", pod: s.pod, node });
    }
    if (s.kind === "node") return this.fromHost(s.node, req, `node ${s.node.name}`, s.ip);
    this.src = s.ip;
    this.sport = req.sport ?? ephemeralPort(`${formatIPv4(s.ip)}>${formatIPv4(req.dst)}:${req.dport}`);
    if (s.unannounced !== undefined) {
      this.hop("client", "wire", `an outside client sends to ${formatIPv4(req.dst)}; ${s.unannounced}`);
      return this.end("dropped", s.unannounced);
    }
    this.hop(
      "client",
      "wire",
      `an outside client sends to ${formatIPv4(req.dst)}; ${s.entry ?? `the network delivers it to node ${s.node.name}`}`,
    );
    this.hop(`node ${s.node.name}`, "receive", `arrives on eth0 (${formatIPv4(s.node.ip)})`, "eth0");
    return this.walk({ kind: "host", node: s.node }, { entering: true });
  }

  /** A process in a node's root namespace: route first (to pick the source), then the output hook. */
  fromHost(node: NodeState, req: TraceRequest, who: string, bind?: IPv4): TraceResult {
    const r = this.net.nodeRoute(node, req.dst);
    this.src = r.src ?? this.net.deviceAddress(node, r.dev);
    // To one of its own addresses: the local route's source is that address itself.
    if (this.net.isNodeAddress(node, req.dst)) this.src = req.dst;
    if (bind !== undefined) this.src = bind;
    this.sport = req.sport ?? ephemeralPort(`${who}>${formatIPv4(req.dst)}:${req.dport}`);
    // A local destination (127.0.0.0/8, a node address, a Service address IPVS binds to kube-ipvs0)
    // is found in the local table before main: `ip route get` answers `local X dev lo table local`.
    const local = this.net.isNodeAddress(node, req.dst);
    const route = local
      ? `local ${formatIPv4(req.dst)} dev lo table local src ${formatIPv4(req.dst)}`
      : renderRoute(r);
    this.hop(
      `node ${node.name}`,
      "route",
      `${who} sends; route lookup: ${route} → source address ${formatIPv4(this.src)}`,
      local ? "lo" : r.dev,
    );
    const stop = this.proxy(node, { fromHost: true, hook: "output" });
    if (stop) return stop;
    return this.walk({ kind: "host", node }, { routed: true });
  }

  /** kube-proxy's nat rules at prerouting/output; returns a final result for reject/drop. */
  proxy(node: NodeState, how: { fromHost: boolean; hook: "prerouting" | "output" }): TraceResult | undefined {
    // A reply belongs to a tracked connection: kube-proxy's nat rules and its `ct state new` filters
    // see only a connection's first packet.
    if (this.isReply) return undefined;
    const decision = this.net.decider.decide({
      node,
      src: this.src,
      sport: this.sport,
      dst: this.dst,
      dport: this.dport,
      protocol: this.protocol,
      fromHost: how.fromHost,
      toLocalAddress: this.net.isNodeAddress(node, this.dst),
    });
    const at = `node ${node.name}`;
    if (decision.kind === "none") return undefined;
    // Where the proxy mode meets the packet: it says (IPVS: on input, after routing), trace asks.
    const where =
      this.net.proxy.mode.hookLabel?.(how.hook, decision.kind === "dnat" ? "dnat" : "refuse") ??
      `kube-proxy ${how.hook}`;
    if (decision.kind !== "dnat") {
      this.hop(
        at,
        decision.kind === "reject" ? "reject" : "drop",
        `${where}: ${decision.rule} (${decision.reason})`,
      );
      return this.end(
        decision.kind === "reject" ? "rejected" : "dropped",
        decision.reason,
        decision.service ? { service: decision.service.name } : {},
      );
    }
    const chosen =
      this.forced && decision.candidates.some((e) => e.ip === this.forced!.ip && e.port === this.forced!.port)
        ? this.forced
        : decision.chosen;
    // Masquerade is decided per endpoint: the Service's reasons, plus hairpin for the one chosen here.
    const hairpin = chosen.ip === this.src;
    // Written out rather than spread from `decision` (see `hop`): the same fields, in the same order.
    const decided: Extract<ProxyResult, { kind: "dnat" }> = {
      kind: "dnat",
      service: decision.service,
      frontend: decision.frontend,
      candidates: decision.candidates,
      chosen,
      masquerade: decision.serviceMasquerade || hairpin,
      serviceMasquerade: decision.serviceMasquerade,
      notes: [...decision.notes.filter((n) => n !== HAIRPIN_NOTE), ...(hairpin ? [HAIRPIN_NOTE] : [])],
      rule: decision.rule,
    };
    this.proxied = decided;
    const before = `${formatIPv4(this.dst)}:${this.dport}`;
    this.nat.push({
      node: node.name,
      kind: "dnat",
      from: { ip: this.dst, port: this.dport },
      to: { ip: chosen.ip, port: chosen.port },
    });
    this.dst = chosen.ip;
    this.dport = chosen.port;
    const many = decision.candidates.length > 1 ? ` — one of ${decision.candidates.length} endpoints` : "";
    const notes = decided.notes.length ? `; ${decided.notes.join("; ")}` : "";
    this.hop(
      at,
      "dnat",
      `${where}: ${decision.rule} → DNAT ${before} → ${formatIPv4(chosen.ip)}:${chosen.port}${chosen.pod ? ` (${chosen.pod})` : ""}${many}${notes}`,
    );
    if (decided.masquerade) this.marked = true;
    return undefined;
  }

  /** The source pod's egress policy, once its node has translated the destination (Services). */
  egressCheck(node: NodeState): TraceResult | undefined {
    const pod = this.pendingEgress;
    if (!pod) return undefined;
    this.pendingEgress = undefined;
    return this.policyCheck("egress", pod, node);
  }

  /**
   * A NetworkPolicy hook: egress leaving the source pod (checked against the translated destination),
   * ingress reaching the destination pod (against the source address the packet carries then).
   */
  policyCheck(direction: "ingress" | "egress", pod: Pod, node: NodeState): TraceResult | undefined {
    const engine = this.net.policy;
    const facts = this.net.podFacts(pod);
    const veth = facts.hostInterface;
    const at = direction === "egress" ? `node ${node.name}` : `pod ${facts.name}`;
    const dev = direction === "egress" ? veth : "eth0";
    if (!engine) {
      this.hop(
        at,
        "policy",
        `NetworkPolicy ${direction} of pod ${facts.name}: not evaluated (policies are switched off)`,
        dev,
      );
      return undefined;
    }
    if (this.isReply) {
      this.hop(
        at,
        "policy",
        `NetworkPolicy ${direction}: a reply of an allowed connection (connection tracking lets it through)`,
        dev,
      );
      return undefined;
    }
    const self: PolicyPeer = { kind: "pod", pod, ip: facts.ip };
    const other = peerFor(this.net.podByIP, direction === "egress" ? this.dst : this.src);
    let v =
      direction === "egress"
        ? engine.checkDirection("egress", self, other, this.dport, this.protocol)
        : engine.checkDirection("ingress", other, self, this.dport, this.protocol);
    const exempt = v.allowed ? undefined : this.exemption(direction, pod, self.ip);
    if (exempt) v = { ...v, allowed: true, allowedBy: undefined, tier: "default", reason: exempt };
    this.policy[direction] = v;
    const when = direction === "egress" && this.proxied ? " (checked on the translated destination)" : "";
    const tier =
      v.tier === "admin"
        ? "admin-tier policy"
        : v.tier === "baseline"
          ? "baseline-tier policy"
          : "NetworkPolicy";
    this.hop(at, "policy", `${tier} ${direction} of pod ${facts.name}${when}: ${v.reason}`, dev);
    if (v.allowed) return undefined;
    return this.end("dropped", `${tier} ${direction} ${v.reason}`);
  }

  /**
   * What Kubernetes lets through whatever the policies say: traffic between a pod and the node it runs
   * on, and a pod reaching itself (through a Service: hairpin). "From the node" means sent by the node
   * itself — its processes (the kubelet's probes) and host-network pods — judged by the source the
   * connection had before a masquerade on the pod's own node (what its conntrack knows); traffic that
   * only passes a node and is masqueraded to one of its addresses (a NodePort) is not exempt, nor is
   * the node's own traffic that another node masqueraded (its nodePort sending it back).
   */
  exemption(direction: "ingress" | "egress", pod: Pod, ip: IPv4): string | undefined {
    const node = this.net.nodeOf(pod);
    if (!node) return undefined;
    const own = (a: IPv4) => a >>> 24 !== 127 && this.net.isNodeAddress(node, a);
    if (direction === "egress")
      return own(this.dst)
        ? `allowed: to its own node ${node.name} (${formatIPv4(this.dst)}), which NetworkPolicy never blocks`
        : undefined;
    // The node knows a connection's source before masquerade only when it masqueraded it itself (its
    // conntrack: `ct original ip saddr`); one masqueraded on another node arrives as that node's.
    const original = this.nat.find((n) => n.kind === "snat" && n.node === node.name)?.from.ip ?? this.src;
    if (original === ip)
      return "allowed: the pod reaches itself (through a Service), which NetworkPolicy never blocks";
    if (own(original))
      return `allowed: from its own node ${node.name} (${formatIPv4(original)}), which NetworkPolicy never blocks`;
    return undefined;
  }

  /** Postrouting: masquerade a marked packet to the egress device's address. */
  postrouting(node: NodeState, dev: string): void {
    if (!this.marked) return;
    this.marked = false;
    const to = this.net.deviceAddress(node, dev);
    const port = this.sport;
    this.nat.push({
      node: node.name,
      kind: "snat",
      from: { ip: this.src, port: this.sport },
      to: { ip: to, port },
    });
    const before = formatIPv4(this.src);
    this.src = to;
    this.masquerade = true;
    this.hop(
      `node ${node.name}`,
      "snat",
      `kube-proxy postrouting: mark 0x4000 → masquerade ${before} → ${formatIPv4(to)} (the address of ${dev})`,
      dev,
    );
  }

  walk(start: Place, flags: { entering?: boolean; routed?: boolean } = {}): TraceResult {
    let place: Place = start;
    let entering = flags.entering ?? false;
    let routed = flags.routed ?? false;
    for (let guard = 0; guard < MAX_HOPS; guard++) {
      if (place.kind === "pod") {
        const { pod, node } = place;
        if (place.arrived) {
          const denied = this.policyCheck("ingress", pod, node);
          if (denied) return denied;
          return this.deliverInPod(pod, "eth0", `arrives on eth0 (${formatIPv4(this.dst)})`);
        }
        const podIP = this.net.podFacts(pod).ip;
        if (this.dst === podIP || this.dst >>> 24 === 127)
          return this.deliverInPod(
            pod,
            "lo",
            "the destination is the pod's own address: loopback, shared by its containers",
          );
        const r = this.net.podRoute(node, pod, this.dst);
        const exit = this.net.plugin.leavePod(this.net, node, pod, r, this.dst);
        this.notes(exit.hops);
        if (exit.onLink) {
          // On the pod's link: the node switches the frame at layer 2 (netfilter still sees it).
          // A reply is matched by the node's conntrack there (br_netfilter: bridged frames pass
          // prerouting), which restores the Service address the client sent to. A reply to a
          // masqueraded address goes to the node's own address instead: the host path undoes that.
          if (
            this.isReply &&
            !this.nat.some(
              (e) =>
                e.kind === "snat" && e.node === node.name && e.to.ip === this.dst && e.to.port === this.dport,
            )
          )
            this.conntrackReply(node);
          const original = this.dst;
          const stop = this.proxy(node, { fromHost: false, hook: "prerouting" }) ?? this.egressCheck(node);
          if (stop) return stop;
          if (this.dst !== original && this.net.isNodeAddress(node, original)) {
            // The frame went to the bridge's own address (a nodePort on cni0's address, say): the
            // bridge passes it up to the node's IP stack, where prerouting translated it, and the node
            // routes the translated packet (net/bridge/br_input.c: frames for the bridge's own MAC are
            // delivered locally, not switched).
            this.hop(
              `node ${node.name}`,
              "input",
              `${formatIPv4(original)} was the node's own address on the pod's link: the frame went up to the node's IP stack, which routes the translated packet`,
            );
            place = { kind: "host", node };
            continue;
          }
          const next = this.local(this.net.plugin.switchOnLink(this.net, node, pod, this.dst), node);
          if (next.kind === "end") return next.result;
          if (next.kind === "pod") {
            place = next.place;
            continue;
          }
        }
        place = { kind: "host", node };
        entering = true;
        continue;
      }
      if (place.kind === "wire") {
        const { from, to } = place;
        this.hop("wire", "wire", `underlay: ${formatIPv4(from.ip)} → ${formatIPv4(to.ip)}`);
        this.hop(`node ${to.name}`, "receive", `arrives on eth0 (${formatIPv4(to.ip)})`, "eth0");
        if (this.outer) {
          const o = this.outer;
          this.outer = undefined;
          this.notes([this.net.plugin.decapsulate(this.net, to, o)]);
        }
        place = { kind: "host", node: to };
        entering = true;
        continue;
      }
      // The node's root namespace.
      const node = place.node;
      const at = `node ${node.name}`;
      if (entering) {
        entering = false;
        const back = this.conntrackReply(node);
        if (!back) {
          const stop = this.proxy(node, { fromHost: false, hook: "prerouting" }) ?? this.egressCheck(node);
          if (stop) return stop;
        }
      }
      if (this.net.isNodeAddress(node, this.dst)) {
        this.hop(at, "input", `${formatIPv4(this.dst)} is an address of this node → input path`);
        return this.deliverToHost(node);
      }
      const r = this.net.nodeRoute(node, this.dst);
      if (!routed) this.hop(at, "route", `route lookup: ${renderRoute(r)}`, r.dev);
      routed = false;
      this.postrouting(node, r.dev);
      const fwd = this.net.plugin.forward(this.net, node, r, this.dst);
      if (fwd?.kind === "node") {
        this.notes(fwd.hops);
        if (fwd.outer) this.outer = { ...fwd.outer };
        place = { kind: "wire", from: node, to: fwd.to };
        continue;
      }
      if (fwd) {
        const next = this.local(fwd, node);
        if (next.kind === "end") return next.result;
        if (next.kind === "pod") {
          place = next.place;
          continue;
        }
        // Up to the node itself: its input path.
        this.hop(at, "input", `${formatIPv4(this.dst)} is an address of this node → input path`);
        return this.deliverToHost(node);
      }
      // eth0: another node (the underlay's next hop: host-gw, unencapsulated routes) or the outside world.
      // The next hop's node, or the node that has the destination among its addresses (any of them).
      const target =
        (r.via !== undefined ? this.net.nodeByIP.get(r.via) : undefined) ?? this.net.nodeByIP.get(this.dst);
      if (target && target !== node) {
        place = { kind: "wire", from: node, to: target };
        continue;
      }
      // The nat table sees a connection's first packet only: a reply leaves as the node's conntrack
      // has it (the request came in through this node), never masqueraded anew.
      if (!this.isReply && this.net.plugin.masqueradesEgress(this.net.state, this.src, this.dst)) {
        const before = formatIPv4(this.src);
        this.nat.push({
          node: node.name,
          kind: "snat",
          from: { ip: this.src, port: this.sport },
          to: { ip: node.ip, port: this.sport },
        });
        this.src = node.ip;
        this.masquerade = true;
        this.hop(
          at,
          "snat",
          `CNI masquerade (pod traffic leaving the cluster network): ${before} → ${formatIPv4(node.ip)}`,
          "eth0",
        );
      }
      this.hop(
        at,
        "forward",
        `out of eth0 towards ${formatIPv4(this.dst)}${r.via !== undefined ? ` via ${formatIPv4(r.via)}` : ""}`,
        "eth0",
      );
      return this.end(
        "forwarded",
        `left node ${node.name} towards ${formatIPv4(this.dst)}, an address outside the cluster`,
      );
    }
    return this.end("dropped", `more than ${MAX_HOPS} hops: a routing loop`);
  }

  /** Records the plugin's hops, each with the packet as it is now. */
  notes(hops: readonly HopNote[]): void {
    for (const h of hops) {
      if (h.outer) this.outer = { ...h.outer };
      this.hop(h.at, h.step, h.detail, h.device);
    }
  }

  /**
   * Follows a local delivery the plugin decided: into a pod (the next place), up to the node, or the
   * end of the trace (dropped).
   */
  local(
    d: LocalDelivery,
    node: NodeState,
  ): { kind: "pod"; place: Place } | { kind: "host" } | { kind: "end"; result: TraceResult } {
    this.notes(d.hops);
    if (d.kind === "pod") return { kind: "pod", place: { kind: "pod", pod: d.pod, node, arrived: true } };
    if (d.kind === "drop") return { kind: "end", result: this.end("dropped", d.reason) };
    return { kind: "host" };
  }

  /**
   * The packet is in the destination pod's namespace: delivered when the port is known to be served
   * (declared, or a Service sends there), otherwise it arrives and whether a process listens is unknown.
   */
  deliverInPod(pod: Pod, dev: string, why: string): TraceResult {
    const served = servedPorts(this.net.state).find(pod, this.dport, this.protocol);
    const at = `pod ${name(pod)}`;
    this.receiver = { pod: name(pod) };
    const port = `${this.dport}/${this.protocol}`;
    if (!served) {
      this.hop(
        at,
        "arrive",
        `${why}; no container declares ${port} and no Service sends there: whether a process listens is unknown (containerPort is informational)`,
        dev,
      );
      return this.end(
        "arrived",
        `arrives at pod ${name(pod)} on ${port}; no container declares the port and no Service sends there, so whether a process listens is unknown`,
      );
    }
    const seen = `${formatIPv4(this.src)}:${this.sport}`;
    const fibDst = dev === "lo" && this.dst >>> 24 === 127 ? formatIPv4(this.dst) : pod.status!.podIP!;
    const target = served.container ? `${name(pod)}/${served.container}` : name(pod);
    const fib = `FIB[${name(pod)}]: [* * ${fibDst} ${this.dport} Deliver(${target})]`;
    this.hop(at, "deliver", `${why}; delivered ${servedText(served, port)} — ${fib}`, dev);
    return this.end("delivered", `${receiver(served, `pod ${name(pod)}`)} receives it from ${seen}`, {
      delivered: {
        pod: name(pod),
        ...(served.container ? { container: served.container } : {}),
        seenSource: seen,
      },
    });
  }

  /**
   * The packet is for one of a node's addresses: a host-network pod on the node serving the port (the
   * first by name), a Service endpoint outside any pod, or else it arrives at the node and whether a
   * process of the node listens there is unknown.
   */
  deliverToHost(node: NodeState): TraceResult {
    const seen = `${formatIPv4(this.src)}:${this.sport}`;
    const port = `${this.dport}/${this.protocol}`;
    const served = servedPorts(this.net.state);
    for (const p of this.net.hostNetworkPods.get(node.name) ?? []) {
      const s = served.find(p, this.dport, this.protocol);
      if (s) {
        this.receiver = { pod: name(p), node: node.name };
        this.hop(
          `node ${node.name}`,
          "deliver",
          `delivered ${servedText(s, port)} of host-network pod ${name(p)}`,
        );
        return this.end(
          "delivered",
          `${receiver(s, `pod ${name(p)}`)} (host network) receives it from ${seen}`,
          {
            delivered: {
              pod: name(p),
              node: node.name,
              ...(s.container ? { container: s.container } : {}),
              seenSource: seen,
            },
          },
        );
      }
    }
    this.receiver = { node: node.name };
    if (this.proxied && this.dst === this.proxied.chosen.ip && !this.proxied.chosen.pod) {
      this.hop(
        `node ${node.name}`,
        "deliver",
        `delivered to the node's ${formatIPv4(this.dst)}:${this.dport} (a Service endpoint outside any pod)`,
      );
      return this.end("delivered", `node ${node.name} receives it on ${port} from ${seen}`, {
        delivered: { node: node.name, seenSource: seen },
      });
    }
    this.hop(
      `node ${node.name}`,
      "arrive",
      `arrives at ${formatIPv4(this.dst)}:${port}; no host-network pod declares it and no Service sends there: whether a process of the node listens is unknown`,
    );
    return this.end(
      "arrived",
      `arrives at node ${node.name} on ${port}; no host-network pod declares the port and no Service sends there, so whether a process listens is unknown`,
    );
  }

  /** Connection tracking: a reply entering a node that NATed the original undoes it here. */
  conntrackReply(node: NodeState): boolean {
    let undone = false;
    for (const e of this.nat) {
      if (e.node !== node.name || e.kind === "dnat") continue;
      if (this.dst === e.to.ip && this.dport === e.to.port) {
        this.dst = e.from.ip;
        this.dport = e.from.port;
        this.hop(
          `node ${node.name}`,
          "conntrack",
          `conntrack: reply to masqueraded ${formatIPv4(e.to.ip)} → destination restored to ${formatIPv4(e.from.ip)}`,
        );
        undone = true;
      }
    }
    for (const e of this.nat) {
      if (e.node !== node.name || e.kind === "snat") continue;
      if (this.src === e.to.ip && this.sport === e.to.port) {
        this.src = e.from.ip;
        this.sport = e.from.port;
        this.hop(
          `node ${node.name}`,
          "conntrack",
          `conntrack: reply from endpoint ${formatIPv4(e.to.ip)}:${e.to.port} → source restored to ${formatIPv4(e.from.ip)}:${e.from.port}`,
        );
        undone = true;
      }
    }
    return undone;
  }

  /** Traces the answer: from the receiver back to the address it saw, through the recorded NAT. */
  reply(req: TraceRequest, forward: TraceResult): TraceResult {
    const back = new Tracer(this.net);
    back.isReply = true;
    back.nat.push(...this.nat);
    back.protocol = this.protocol;
    back.src = this.dst;
    back.sport = this.dport;
    back.dst = this.src;
    back.dport = this.sport;
    const d = this.receiver ?? forward.delivered!;
    const pod = d.pod ? this.net.podByName.get(d.pod) : undefined;
    const client = req.source;
    const origin = {
      ip:
        client.kind === "pod"
          ? this.net.podFacts(client.pod).ip
          : client.kind === "external"
            ? client.ip
            : undefined,
    };
    let result: TraceResult;
    if (pod && !pod.spec.hostNetwork) {
      back.hop(
        `pod ${name(pod)}`,
        "reply",
        `the reply leaves ${formatIPv4(back.src)}:${back.sport} for ${formatIPv4(back.dst)}:${back.dport}`,
        "eth0",
      );
      result = back.walkReply({ kind: "pod", pod, node: this.net.nodeOf(pod)! }, origin.ip, req);
    } else {
      const node =
        this.net.nodeByName.get(d.node ?? (pod ? pod.spec.nodeName! : "")) ?? this.net.state.nodes[0];
      back.hop(
        `node ${node.name}`,
        "reply",
        `the reply leaves ${formatIPv4(back.src)}:${back.sport} for ${formatIPv4(back.dst)}:${back.dport}`,
      );
      result = back.walkReply({ kind: "host", node }, origin.ip, req);
    }
    return result;
  }

  walkReply(start: Place, originalClient: IPv4 | undefined, req: TraceRequest): TraceResult {
    const r = this.walk(start, start.kind === "host" ? { entering: true } : {});
    // The client's connection tracking matches the reply only if it comes from where the client sent
    // the request. A DNAT made on the client's own node is undone there (the bridge's traffic passes
    // its conntrack); one made on another node that the reply bypassed (an endpoint on the client's
    // own node behind another node's nodePort) is not: no connection of the client matches, its
    // kernel resets it.
    const client =
      req.source.kind === "pod"
        ? req.source.pod.spec.nodeName
        : req.source.kind === "node"
          ? req.source.node.name
          : undefined;
    const undoneHere = this.nat.some(
      (e) =>
        e.kind === "dnat" &&
        e.node === client &&
        e.to.ip === this.src &&
        e.to.port === this.sport &&
        e.from.ip === req.dst &&
        e.from.port === req.dport,
    );
    if (
      client !== undefined &&
      r.verdict === "arrived" &&
      (this.src !== req.dst || this.sport !== req.dport) &&
      !undoneHere
    )
      return {
        ...r,
        verdict: "dropped",
        reason: `the reply comes from ${formatIPv4(this.src)}:${this.sport}, not from ${formatIPv4(req.dst)}:${req.dport} where the client sent the request (the NAT was not undone on its way back): no connection of the client matches it`,
      };
    // An outside client's TCP stack matches the reply only if it comes from the address and port it
    // sent to: a reply that bypassed the node which translated the request (externalTrafficPolicy
    // Local falling back to another node's endpoint, say) comes from the endpoint instead.
    if (
      req.source.kind === "external" &&
      r.verdict === "forwarded" &&
      originalClient !== undefined &&
      this.dst === originalClient &&
      (this.src !== req.dst || this.sport !== req.dport)
    )
      return {
        ...r,
        verdict: "dropped",
        reason: `the reply comes from ${formatIPv4(this.src)}:${this.sport}, not from ${formatIPv4(req.dst)}:${req.dport} where the client sent the request (it left without passing the node that translated the request): no connection of the client matches it`,
      };
    // The reply reaches the original client: a pod (delivered by walk), the node itself, or the outside.
    if (r.verdict === "arrived" && r.hops.at(-1)?.at.startsWith("pod ")) {
      const last = r.hops.at(-1)!;
      last.step = "deliver";
      last.detail =
        "the reply reaches the client's socket (connection tracking matches it to the open connection)";
      return {
        ...r,
        verdict: "delivered",
        reason: `the client receives the reply from ${formatIPv4(this.src)}:${this.sport}`,
        delivered: { seenSource: `${formatIPv4(this.src)}:${this.sport}` },
      };
    }
    if (
      r.verdict === "arrived" ||
      (r.verdict === "forwarded" && originalClient !== undefined && this.dst === originalClient)
    ) {
      return {
        ...r,
        verdict: r.verdict === "forwarded" ? "forwarded" : "delivered",
        reason: `the client receives the reply from ${formatIPv4(this.src)}:${this.sport}`,
        delivered: { seenSource: `${formatIPv4(this.src)}:${this.sport}` },
      };
    }
    return r;
  }
}

/** How a served port is served, for a hop: `to container web on 8080/TCP`, or the Services that send there. */
function servedText(s: ServedPort, port: string): string {
  if (s.container) return `to container ${s.container} on ${port}`;
  const n = s.services?.length ?? 0;
  const by =
    n === 0
      ? "a Service sends"
      : n === 1
        ? `Service ${s.services![0]} sends`
        : `Services ${s.services!.join(", ")} send`;
  return `on ${port}, which no container declares but ${by} there (containerPort is informational)`;
}

/** Who receives a delivered packet: `container web of pod ns/p`, or the pod itself. */
function receiver(s: ServedPort, who: string): string {
  return s.container ? `container ${s.container} of ${who}` : who;
}

function name(p: Pod): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}
