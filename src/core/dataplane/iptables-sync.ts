/**
 * Partial syncs of kube-proxy's iptables rules, as kube-proxy's iptables proxier does them
 * (pkg/proxy/iptables/proxier.go, syncProxyRules): from the `iptables-save` text last restored and the
 * text wanted, the input of one `iptables-restore --noflush` that turns one into the other.
 *
 *   every sync writes    each table's own chains that are not per Service (filter: KUBE-SERVICES,
 *                        KUBE-FORWARD, …; nat: KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, …):
 *                        a `:CHAIN - [0:0]` line (with --noflush it flushes the chain) and its rules
 *   only when changed    the per-Service chains (KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-FW-, KUBE-SEP-):
 *                        kube-proxy leaves out the chains of Services whose Service and endpoints did not
 *                        change; here, the chains whose rules did not change
 *   stale chains         a `:CHAIN - [0:0]` line (flushes it) and `-X CHAIN` (deletes it), after every
 *                        rule written, so nothing refers to them any more when they go
 *   built-in chains      never written by a partial sync: kube-proxy adds its jumps from them once
 *                        (`iptables -C` / `-I`) and leaves them. When they (or their policies, or the
 *                        tables) differ, the sync is "full": the whole text restored without --noflush,
 *                        which replaces tables filter and nat (podnet's node namespaces have no other
 *                        rules in them).
 *
 * Pure: the shell runs the input (`ip netns exec NS iptables-restore [--noflush]`), and falls back to a
 * full restore if the kernel refuses the partial one.
 */
import type { SyncKind } from "./nft-sync.ts";

/** One table of an `iptables-save` text: its chains in order, each with its policy and rules. */
export interface SavedTable {
  name: string;
  chains: Map<string, { policy: string; rules: string[] }>;
}

const BUILTIN = new Set(["INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"]);

/** kube-proxy's isServiceChainName: the chains of one Service port or one endpoint. */
export function isServiceChainName(chain: string): boolean {
  return /^KUBE-(SVC|SVL|EXT|FW|SEP)-/.test(chain);
}

/**
 * The tables of an `iptables-save` text, in order. Rules are kept as written (`-A CHAIN …`), by the
 * chain they append to. Throws on text that is not iptables-save input (a rule for an undeclared chain,
 * a table without COMMIT).
 */
export function parseIptablesSave(text: string): SavedTable[] {
  const tables: SavedTable[] = [];
  let table: SavedTable | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    if (line.startsWith("*")) {
      if (table) throw new Error(`iptables-sync: table ${table.name} has no COMMIT`);
      table = { name: line.slice(1), chains: new Map() };
      continue;
    }
    if (!table) throw new Error(`iptables-sync: "${line}" is outside a table`);
    if (line === "COMMIT") {
      tables.push(table);
      table = undefined;
    } else if (line.startsWith(":")) {
      const [name, policy] = line.slice(1).split(" ");
      table.chains.set(name, { policy, rules: [] });
    } else if (line.startsWith("-A ")) {
      const chain = line.split(" ")[1];
      const c = table.chains.get(chain);
      if (!c) throw new Error(`iptables-sync: rule for undeclared chain ${chain} in table ${table.name}`);
      c.rules.push(line);
    } else throw new Error(`iptables-sync: unexpected line "${line}"`);
  }
  if (table) throw new Error(`iptables-sync: table ${table.name} has no COMMIT`);
  return tables;
}

/**
 * The `iptables-restore --noflush` input that turns `prevText` into `nextText`: "none" when they are
 * equal; "partial" (script for --noflush) when only user-defined chains' rules changed or chains came
 * and went; "full" (script = `nextText`, restored without --noflush) when a table, a built-in chain's
 * policy or rules differ, or either text cannot be read.
 */
export function iptablesSyncScript(prevText: string, nextText: string): { kind: SyncKind; script: string } {
  if (prevText === nextText) return { kind: "none", script: "" };
  const full = { kind: "full" as const, script: nextText };
  let prev: SavedTable[];
  let next: SavedTable[];
  try {
    prev = parseIptablesSave(prevText);
    next = parseIptablesSave(nextText);
  } catch {
    return full;
  }
  if (prev.map((t) => t.name).join() !== next.map((t) => t.name).join()) return full;
  const out: string[] = [];
  for (const [i, t] of next.entries()) {
    const old = prev[i].chains;
    for (const name of BUILTIN) {
      const a = old.get(name);
      const b = t.chains.get(name);
      if (!a !== !b) return full;
      if (a && b && (a.policy !== b.policy || !same(a.rules, b.rules))) return full;
    }
    const written = [...t.chains].filter(
      ([name, c]) =>
        !BUILTIN.has(name) &&
        (!isServiceChainName(name) || !old.has(name) || !same(old.get(name)!.rules, c.rules)),
    );
    const stale = [...old.keys()].filter((name) => !BUILTIN.has(name) && !t.chains.has(name));
    out.push(
      `*${t.name}`,
      ...written.map(([name]) => `:${name} - [0:0]`),
      ...stale.map((name) => `:${name} - [0:0]`),
      ...written.flatMap(([, c]) => c.rules),
      ...stale.map((name) => `-X ${name}`),
      "COMMIT",
    );
  }
  return { kind: "partial", script: `${out.join("\n")}\n` };
}

/**
 * A text in a canonical form for comparison with `iptables-save` output: tables and chains sorted,
 * counters dropped, each chain's rules in order.
 */
export function canonicalSave(text: string): string {
  const out: string[] = [];
  for (const t of [...parseIptablesSave(text)].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    out.push(`*${t.name}`);
    for (const name of [...t.chains.keys()].sort()) {
      const c = t.chains.get(name)!;
      out.push(`:${name} ${c.policy}`, ...c.rules);
    }
  }
  return out.join("\n");
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
