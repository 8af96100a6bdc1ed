/**
 * kube-proxy decisions answered by the rendered rules: for `proxyMode: nftables` the ruleset of
 * nftables.ts run by nft-eval.ts, for `iptables` the `iptables-save` text of iptables.ts run by
 * ipt-eval.ts. Each node's rules are rendered, parsed back and evaluated hook by hook. It answers the
 * same questions as ServiceProxy.decide, so the tracer can run on either and the packet-flow cases can
 * hold them to the same results.
 */
import { fnv32a } from "../control/names.ts";
import type { ClusterState, NodeState } from "../control/state.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import { servicePortChainBase } from "./chain-names.ts";
import { IptEvaluator, parseIptablesSave } from "./ipt-eval.ts";
import { iptablesChains, renderIptables } from "./iptables.ts";
import { type EvalOutcome, type EvalPacket, NftEvaluator, parseRuleset } from "./nft-eval.ts";
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

type Pick = (candidates: { chain: string }[]) => number;

interface Judge {
  run(p: EvalPacket, out: EvalOutcome, fromHost: boolean, pick: Pick): void;
  /** Does this endpoint chain remember clients (sessionAffinity ClientIP)? */
  sticky(chain: string): boolean;
}

/** Both evaluators run a packet through one netfilter hook at a time. */
interface HookRunner {
  runHook(
    hook: "prerouting" | "input" | "forward" | "output",
    p: EvalPacket,
    out: EvalOutcome,
    pick: Pick,
  ): void;
}

/**
 * The hooks a packet meets on a node: the node's own traffic takes the output path (and, when it is
 * for one of the node's own addresses, loops back through input, where the nodePort checks are);
 * traffic from pods and the wire takes prerouting, then input when (after DNAT) it is for the node,
 * else forward.
 */
function walkHooks(ev: HookRunner): Judge["run"] {
  return (p, out, fromHost, pick) => {
    if (fromHost) {
      ev.runHook("output", p, out, pick);
      if (out.verdict === "accept" && p.isLocal(p.dst)) ev.runHook("input", p, out, pick);
    } else {
      ev.runHook("prerouting", p, out, pick);
      if (out.verdict === "accept") ev.runHook(p.isLocal(p.dst) ? "input" : "forward", p, out, pick);
    }
  };
}

export class RuleProxy implements ProxyDecider {
  readonly #judges = new Map<string, Judge>();
  /** Dispatch targets (`service-…`, `KUBE-SVC-…`, …) to the Service port they belong to. */
  readonly #byChain = new Map<string, ServicePortInfo>();

  constructor(
    readonly state: ClusterState,
    readonly index: ServiceProxy,
    readonly isLocal: (node: NodeState, ip: number) => boolean,
  ) {
    for (const info of index.ports) {
      const base = servicePortChainBase(info);
      for (const prefix of ["service-", "local-", "external-"]) this.#byChain.set(prefix + base, info);
      for (const chain of Object.values(iptablesChains(info))) this.#byChain.set(chain, info);
    }
  }

  judgeOf(node: NodeState): Judge {
    let j = this.#judges.get(node.name);
    if (j) return j;
    if (this.state.config.proxyMode === "iptables") {
      const tables = parseIptablesSave(renderIptables(this.state, node, this.index));
      j = {
        run: walkHooks(new IptEvaluator(tables)),
        sticky: (chain) => (tables.get("nat")?.get(chain) ?? []).some((r) => r.args.includes("--set")),
      };
    } else {
      const rs = parseRuleset(renderNftables(this.state, node, this.index));
      j = {
        run: walkHooks(new NftEvaluator(rs)),
        sticky: (chain) => !!rs.chains.get(chain)?.rules.some((r) => r.text.startsWith("update @affinity-")),
      };
    }
    this.#judges.set(node.name, j);
    return j;
  }

  decide(p: ProxyPacket): ProxyResult {
    const judge = this.judgeOf(p.node);
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
    const pick: Pick = (cands) =>
      judge.sticky(cands[0].chain) ? fnv32a(formatIPv4(p.src)) : fnv32a(`${formatIPv4(p.src)}:${p.sport}`);
    judge.run(pkt, out, p.fromHost, pick);
    const mode = this.state.config.proxyMode;
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
