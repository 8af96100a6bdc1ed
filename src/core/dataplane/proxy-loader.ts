/**
 * What the data plane loads for kube-proxy, by proxy mode, and how each ruleset tool syncs: the one
 * place of the data plane that asks which proxy mode a cluster runs.
 *
 *   nftables   kube-proxy's `table ip kube-proxy` (../proxy/nftables.ts)   nft -f -
 *   iptables   kube-proxy's tables filter and nat, as iptables-save text   iptables-restore [--noflush]
 *              (../proxy/iptables.ts); net.ipv4.conf.all.route_localnet=1 in the node's namespace, as
 *              kube-proxy sets it for localhost nodePorts
 *
 * The NetworkPolicy ruleset is the policy plugin's, not kube-proxy's: nftables in both modes (its
 * chains run after kube-proxy's filter chains: ./policy-rules.ts).
 *
 * A sync is a list of attempts: the shell runs `ip netns exec NS <tool> <args>` with the input, and
 * stops at the first one the kernel accepts (a partial sync first, then the whole ruleset again).
 */
import type { ClusterState, NodeState } from "../control/state.ts";
import type { ProxyMode } from "../model/config.ts";
import { Cidr, parseIPv4 } from "../net/ipv4.ts";
import { renderIptables } from "../proxy/iptables.ts";
import { renderNftables } from "../proxy/nftables.ts";
import { iptablesSyncScript } from "./iptables-sync.ts";
import { refillScript, replaceTable, type SyncKind, syncScript } from "./nft-sync.ts";

/** A program that loads rulesets into a network namespace's netfilter. */
export type RulesetTool = "nft" | "iptables-restore";

/** One way to bring a ruleset into the kernel: `<tool> …args` with `input` on stdin. */
export interface LoadAttempt {
  kind: Exclude<SyncKind, "none">;
  args: string[];
  input: string;
}

/**
 * How a tool brings the kernel from ruleset `prev` (as last loaded; undefined when nothing was) to
 * `next`: the attempts in order; none when nothing changed.
 */
export const RULESET_SYNC: Record<RulesetTool, (prev: string | undefined, next: string) => LoadAttempt[]> = {
  nft(prev, next) {
    const replace: LoadAttempt = { kind: "full", args: ["-f", "-"], input: replaceTable(next) };
    if (prev === undefined) return [replace];
    const sync = syncScript(prev, next);
    if (sync.kind === "none") return [];
    // A structural change: refilled in place as kube-proxy does, dropped and reloaded if that fails.
    const first = sync.kind === "partial" ? sync.script : refillScript(prev, next);
    return [{ kind: sync.kind, args: ["-f", "-"], input: first }, replace];
  },
  "iptables-restore"(prev, next) {
    const restore: LoadAttempt = { kind: "full", args: [], input: next };
    if (prev === undefined) return [restore];
    const sync = iptablesSyncScript(prev, next);
    if (sync.kind === "none") return [];
    if (sync.kind === "full") return [restore];
    return [{ kind: "partial", args: ["--noflush"], input: sync.script }, restore];
  },
};

/** What the data plane loads for one proxy mode. */
export interface ProxyLoader {
  tool: RulesetTool;
  /** The node's kube-proxy ruleset, exactly as `podnet rules` prints it. */
  render(state: ClusterState, node: NodeState): string;
  /** The sysctls kube-proxy sets in the node's namespace for this mode (beyond forwarding). */
  sysctls(state: ClusterState, node: NodeState): { key: string; value: string }[];
}

const LOOPBACK = parseIPv4("127.0.0.1")!;

const LOADERS: Record<ProxyMode, ProxyLoader> = {
  nftables: { tool: "nft", render: (state, node) => renderNftables(state, node), sysctls: () => [] },
  iptables: {
    tool: "iptables-restore",
    render: (state, node) => renderIptables(state, node),
    // kube-proxy (cmd/kube-proxy, iptables mode): with localhost nodePorts on (the default,
    // --iptables-localhost-nodeports) and nodePortAddresses holding 127.0.0.1 (unset: every local
    // address), it sets route_localnet, so that a packet from 127.0.0.1 DNATed to a pod may leave the node.
    sysctls: (state) => {
      const npa = state.config.kubeProxy.nodePortAddresses;
      const holdsLoopback =
        npa.length === 0 ||
        npa.some((a) => {
          const r = Cidr.parse(a);
          return r.ok && r.cidr.contains(LOOPBACK);
        });
      return holdsLoopback ? [{ key: "net.ipv4.conf.all.route_localnet", value: "1" }] : [];
    },
  },
};

/** The loader of a proxy mode. */
export function proxyLoader(mode: ProxyMode): ProxyLoader {
  return LOADERS[mode];
}
