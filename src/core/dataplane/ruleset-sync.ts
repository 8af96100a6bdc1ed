/**
 * How each ruleset tool brings a network namespace's netfilter from the ruleset it last loaded to the
 * next one, as kube-proxy syncs: `nft` (only changed chains flushed and refilled, elements added and
 * deleted, in one transaction: ./nft-sync.ts) and `iptables-restore` (every chain declared, only
 * changed chains' rules written, `--noflush`: ./iptables-sync.ts). Which tool a cluster's kube-proxy
 * rules use is its proxy mode's `dataplane.tool` (../proxy/modes/); the NetworkPolicy ruleset is
 * nftables in every mode (./policy-rules.ts).
 *
 * A sync is a list of attempts: the shell runs `ip netns exec NS <tool> <args>` with the input, and
 * stops at the first one the kernel accepts (a partial sync first, then the whole ruleset again).
 */
import type { RulesetTool } from "../proxy/modes/mode.ts";
import { iptablesSyncScript } from "./iptables-sync.ts";
import { refillScript, replaceTable, type SyncKind, syncScript } from "./nft-sync.ts";

export type { RulesetTool } from "../proxy/modes/mode.ts";

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
