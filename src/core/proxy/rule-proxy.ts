/**
 * kube-proxy decisions answered by the rendered nftables rules: renders each node's ruleset
 * (nftables.ts), parses it back and runs the packet through the hooks (nft-eval.ts). It answers the
 * same questions as ServiceProxy.decide, so the tracer can run on either and the packet-flow cases can
 * hold the two to the same results.
 */
import { fnv32a } from "../control/names.ts";
import type { ClusterState, NodeState } from "../control/state.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import { servicePortChainBase } from "./chain-names.ts";
import { type EvalOutcome, NftEvaluator, parseRuleset, type Ruleset } from "./nft-eval.ts";
import { renderNftables } from "./nftables.ts";
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

export class RuleProxy implements ProxyDecider {
  readonly #rules = new Map<string, Ruleset>();
  readonly #byChain = new Map<string, ServicePortInfo>();

  constructor(
    readonly state: ClusterState,
    readonly index: ServiceProxy,
    readonly isLocal: (node: NodeState, ip: number) => boolean,
  ) {
    for (const info of index.ports) this.#byChain.set(servicePortChainBase(info), info);
  }

  rulesOf(node: NodeState): Ruleset {
    let rs = this.#rules.get(node.name);
    if (!rs) {
      rs = parseRuleset(renderNftables(this.state, node, this.index));
      this.#rules.set(node.name, rs);
    }
    return rs;
  }

  decide(p: ProxyPacket): ProxyResult {
    const rs = this.rulesOf(p.node);
    const ev = new NftEvaluator(rs);
    const original = p.dst;
    const pkt = {
      src: p.src,
      sport: p.sport,
      dst: p.dst,
      dport: p.dport,
      protocol: p.protocol.toLowerCase(),
      mark: 0,
      isLocal: (ip: number) => this.isLocal(p.node, ip),
    };
    const out: EvalOutcome = { verdict: "accept", masquerade: false, trail: [] };
    const pick = (cands: { chain: string }[]) => {
      const sticky = rs.chains.get(cands[0].chain)?.texts.some((t) => t.startsWith("update @affinity-"));
      return sticky ? fnv32a(formatIPv4(p.src)) : fnv32a(`${formatIPv4(p.src)}:${p.sport}`);
    };
    if (p.fromHost) ev.runHook("output", pkt, out, pick);
    else {
      ev.runHook("prerouting", pkt, out, pick);
      if (out.verdict === "accept") ev.runHook(pkt.isLocal(pkt.dst) ? "input" : "forward", pkt, out, pick);
    }
    if (out.verdict !== "accept") {
      return { kind: out.verdict, reason: `nftables: ${out.by}`, rule: out.trail.join(" → ") };
    }
    if (!out.dnat || !out.dispatched) return { kind: "none" };
    const base = out.dispatched.target.replace(/^goto (service|external|local)-/, "");
    const info = this.#byChain.get(base);
    if (!info) throw new Error(`nftables dispatched to an unknown chain ${out.dispatched.target}`);
    const endpoint = (c: { ip: number; port: number }): EndpointInfo =>
      info.endpoints.find((e) => e.ip === c.ip && e.port === c.port) ?? {
        ip: c.ip,
        port: c.port,
        ready: true,
        serving: true,
        terminating: false,
      };
    const candidates = (out.candidates ?? [{ ...out.dnat }]).map(endpoint);
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
      candidates,
      chosen: endpoint(out.dnat),
      masquerade: (pkt.mark & 0x4000) !== 0,
      notes: [],
      rule: `nftables: ${out.trail.join(" → ")}`,
    };
  }
}
