/**
 * kube-proxy decisions answered by the rendered rules: the cluster's proxy mode (./modes/) renders each
 * node's rules (nftables: nftables.ts; iptables: iptables.ts), reads them back (nft-eval.ts,
 * ipt-eval.ts) and runs packets through them hook by hook. It answers the
 * same questions as ServiceProxy.decide, so the tracer can run on either and the packet-flow cases can
 * hold them to the same results.
 */
import { fnv32a } from "../control/names.ts";
import type { ClusterState, NodeState } from "../control/state.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import type { PickEndpoint, ProxyMode, RuleEvaluator } from "./modes/mode.ts";
import { proxyMode } from "./modes/registry.ts";
import type { EvalOutcome, EvalPacket } from "./nft-eval.ts";
import type {
  EndpointInfo,
  Frontend,
  ProxyPacket,
  ProxyResult,
  ServicePortInfo,
  ServiceProxy,
} from "./service-proxy.ts";

/** What the tracer asks kube-proxy: ServiceProxy (the model) and RuleProxy (the rules) both answer. */
export interface ProxyDecider {
  decide(p: ProxyPacket): ProxyResult;
}

/**
 * The hooks a packet meets on a node: the node's own traffic takes the output path (and, when it is
 * for one of the node's own addresses, loops back through input, where the nodePort checks are);
 * traffic from pods and the wire takes prerouting, then input when (after DNAT) it is for the node,
 * else forward.
 */
function walkHooks(
  ev: RuleEvaluator,
  p: EvalPacket,
  out: EvalOutcome,
  fromHost: boolean,
  pick: PickEndpoint,
) {
  if (fromHost) {
    ev.runHook("output", p, out, pick);
    if (out.verdict === "accept" && p.isLocal(p.dst)) ev.runHook("input", p, out, pick);
  } else {
    ev.runHook("prerouting", p, out, pick);
    if (out.verdict === "accept") ev.runHook(p.isLocal(p.dst) ? "input" : "forward", p, out, pick);
  }
}

export class RuleProxy implements ProxyDecider {
  readonly #evaluators = new Map<string, RuleEvaluator>();
  /** The cluster's kube-proxy mode: it renders the rules and reads them back. */
  readonly mode: ProxyMode;
  /** Dispatch targets (`service-…`, `KUBE-SVC-…`, …) to the Service port they belong to. */
  readonly #byChain = new Map<string, ServicePortInfo>();

  constructor(
    readonly state: ClusterState,
    readonly index: ServiceProxy,
    readonly isLocal: (node: NodeState, ip: number) => boolean,
  ) {
    this.mode = proxyMode(state.config.proxyMode);
    for (const info of index.ports)
      for (const chain of this.mode.dispatchChains(info)) this.#byChain.set(chain, info);
  }

  /** The node's rules, rendered by the mode and read back once. */
  evaluatorOf(node: NodeState): RuleEvaluator {
    let ev = this.#evaluators.get(node.name);
    if (!ev) {
      ev = this.mode.evaluator(this.mode.render(this.state, node, this.index));
      this.#evaluators.set(node.name, ev);
    }
    return ev;
  }

  decide(p: ProxyPacket): ProxyResult {
    const ev = this.evaluatorOf(p.node);
    const original = p.dst;
    const pkt: EvalPacket = {
      src: p.src,
      sport: p.sport,
      dst: p.dst,
      dport: p.dport,
      protocol: p.protocol.toLowerCase(),
      mark: 0,
      isLocal: (ip) => this.isLocal(p.node, ip),
    };
    const out: EvalOutcome = { verdict: "accept", masquerade: false, trail: [] };
    const pick: PickEndpoint = (cands) =>
      ev.remembersClient(cands[0].chain)
        ? fnv32a(formatIPv4(p.src))
        : fnv32a(`${formatIPv4(p.src)}:${p.sport}`);
    walkHooks(ev, pkt, out, p.fromHost, pick);
    const mode = this.mode.name;
    if (out.verdict !== "accept")
      return { kind: out.verdict, reason: `${mode}: ${out.by}`, rule: out.trail.join(" → ") };
    if (!out.dnat || !out.dispatched) return { kind: "none" };
    const info = this.#byChain.get(out.dispatched.target.replace(/^goto /, ""));
    if (!info) throw new Error(`${mode} dispatched to an unknown chain ${out.dispatched.target}`);
    const endpoint = (c: { ip: number; port: number }): EndpointInfo =>
      info.endpoints.find((e) => e.ip === c.ip && e.port === c.port) ?? {
        ip: c.ip,
        port: c.port,
        ready: true,
        serving: true,
        terminating: false,
      };
    const frontend: Frontend =
      out.dispatched.map === "service-nodeports"
        ? "nodePort"
        : original === info.clusterIP
          ? "clusterIP"
          : info.lbIPs.includes(original)
            ? "loadBalancer"
            : "externalIP";
    return {
      kind: "dnat",
      service: info,
      frontend,
      candidates: (out.candidates ?? [out.dnat]).map(endpoint),
      chosen: endpoint(out.dnat),
      masquerade: (pkt.mark & 0x4000) !== 0,
      // The rules marked the packet for the endpoint they chose; a hairpin mark is that endpoint's own.
      // (Both at once — a hairpin that the Service masquerades anyway — reads as hairpin only.)
      serviceMasquerade: (pkt.mark & 0x4000) !== 0 && out.dnat.ip !== pkt.src,
      notes: [],
      rule: `${mode}: ${out.trail.join(" → ")}`,
    };
  }
}
