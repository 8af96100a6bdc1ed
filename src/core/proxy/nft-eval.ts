/**
 * A tracer over rendered nftables rules: parses the `nft -f` text of nftables.ts back (the subset of
 * the nft language kube-proxy's rules use) and runs a packet through the hooks in priority order,
 * with nft's semantics — jump/goto/return, verdict maps with concatenated keys, sets, `numgen random
 * mod N vmap`, `dnat to`, `masquerade`, marks, `fib … type local`, `ct state new`.
 *
 * It shares nothing with service-proxy.ts but the rendered text, so running the same packet-flow cases
 * through both checks each against the other (and, later, against the kernel that loads the text).
 *
 *   prerouting: filter-prerouting (dstnat-10) → nat-prerouting (dstnat) → route → input | forward (filter, dstnat-10)
 *   output:     filter-output (dstnat-10) → nat-output (dstnat) → filter-output-post-dnat (dstnat+10)
 *   postrouting: nat-postrouting (srcnat)
 */
import { Cidr, formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import { parseTable, splitTop } from "../nft/parse.ts";
import { type Flow, type Verdict, walkChains } from "../nft/walk.ts";

export type Hook = "prerouting" | "input" | "forward" | "output" | "postrouting";

/** One rule: its text as the ruleset has it, and its tokens (the trailing comment left out). */
export interface NftRule {
  text: string;
  tokens: string[];
}

/** A chain, with its hook, type and numeric priority when it is a base chain. */
export interface ChainDef {
  name: string;
  hook?: Hook;
  type?: "filter" | "nat";
  priority?: number;
  rules: NftRule[];
}

export interface Ruleset {
  sets: Map<string, string[]>;
  maps: Map<string, Map<string, string>>;
  chains: Map<string, ChainDef>;
}

const PRIORITY: Record<string, number> = { dstnat: -100, srcnat: 100, filter: 0 };

/** Parses the `table ip kube-proxy { … }` text (../nft/parse.ts), each rule tokenized for evaluation. */
export function parseRuleset(text: string): Ruleset {
  const table = parseTable(text);
  const rs: Ruleset = { sets: new Map(), maps: new Map(), chains: new Map() };
  for (const [name, set] of table.sets) {
    if (set.kind === "set") {
      rs.sets.set(name, [...set.elements.values()]);
      continue;
    }
    const map = new Map<string, string>();
    for (const item of set.elements.values()) {
      const cleaned = item.replace(/ comment "[^"]*"/, "");
      const at = cleaned.indexOf(" : ");
      map.set(normKey(cleaned.slice(0, at)), cleaned.slice(at + 3).trim());
    }
    rs.maps.set(name, map);
  }
  for (const [name, c] of table.chains) {
    const chain: ChainDef = { name, rules: [] };
    for (const l of c.head) {
      const base = /^type (filter|nat) hook (\w+) priority (-?\w+)(?: ([+-]) (\d+))?; policy accept;$/.exec(
        l,
      );
      if (!base) continue; // the chain's comment
      chain.type = base[1] as "filter" | "nat";
      chain.hook = base[2] as Hook;
      const named = /^-?\d+$/.test(base[3]) ? Number(base[3]) : PRIORITY[base[3]];
      chain.priority = named + (base[4] ? (base[4] === "-" ? -1 : 1) * Number(base[5]) : 0);
    }
    for (const l of c.rules)
      chain.rules.push({ text: l, tokens: tokenize(l.replace(/ comment "[^"]*"$/, "")) });
    rs.chains.set(name, chain);
  }
  return rs;
}

/** A concatenated key as `a . b . c` (the parts are separated by " . "; addresses keep their dots). */
function normKey(k: string): string {
  return k
    .trim()
    .split(/\s+\.\s+/)
    .map((x) => x.trim())
    .join(" . ");
}

/** Whitespace tokens, with `{ … }` kept as one token. */
function tokenize(rule: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < rule.length) {
    if (rule[i] === " ") {
      i++;
      continue;
    }
    if (rule[i] === "{") {
      const end = rule.indexOf("}", i);
      out.push(rule.slice(i, end + 1));
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < rule.length && rule[j] !== " ") j++;
    out.push(rule.slice(i, j));
    i = j;
  }
  return out;
}

export interface EvalPacket {
  src: IPv4;
  sport: number;
  dst: IPv4;
  dport: number;
  protocol: string;
  mark: number;
  /** `fib … type local`: is this one of the node's addresses? */
  isLocal: (ip: IPv4) => boolean;
}

export interface EvalOutcome {
  verdict: Verdict;
  /** The rule that decided a drop/reject, or undefined. */
  by?: string;
  /** DNAT applied (by the endpoint chain the packet took). */
  dnat?: { ip: IPv4; port: number; chain: string };
  /** Every endpoint the numgen/affinity dispatch could have taken, as `ip:port` with its chain. */
  candidates?: { ip: IPv4; port: number; chain: string }[];
  /** The service-dispatch map element that matched (`service-ips` or `service-nodeports`). */
  dispatched?: { map: string; key: string; target: string };
  masquerade: boolean;
  /** Every rule that matched, as text, in order. */
  trail: string[];
}

export class NftEvaluator {
  /** Base chains by hook, by priority: found once, not per packet (a table has 20,000 chains at 10,000 Services). */
  readonly #bases = new Map<Hook, ChainDef[]>();
  /** Address operands (`@cluster-ips`, `{ … }`, a prefix) parsed on first use. */
  readonly #addressSets = new Map<string, AddressSet>();

  constructor(readonly rs: Ruleset) {
    for (const c of rs.chains.values()) {
      if (!c.hook) continue;
      const list = this.#bases.get(c.hook) ?? this.#bases.set(c.hook, []).get(c.hook)!;
      list.push(c);
    }
    for (const list of this.#bases.values()) list.sort((a, b) => a.priority! - b.priority!);
  }

  /**
   * Runs every base chain of `hook`, by priority. `pick(n)` chooses among numgen branches.
   * Mutates the packet (DNAT, mark) as the kernel would.
   */
  runHook(
    hook: Hook,
    p: EvalPacket,
    out: EvalOutcome,
    pick: (candidates: { ip: IPv4; port: number; chain: string }[]) => number,
  ): void {
    for (const base of this.#bases.get(hook) ?? []) {
      if (out.verdict !== "accept") return;
      this.runChain(base.name, p, out, pick);
    }
  }

  /** Runs base chain `start` (and what it jumps to) with the shared walker (../nft/walk.ts). */
  runChain(
    start: string,
    p: EvalPacket,
    out: EvalOutcome,
    pick: (c: { ip: IPv4; port: number; chain: string }[]) => number,
  ): void {
    walkChains<NftRule>(
      start,
      (name) => this.rs.chains.get(name)?.rules,
      (rules, index) => this.runRule(rules[index].tokens, rules[index].text, p, out, pick),
      out,
      "nft",
    );
  }

  /** Evaluates one rule: matches left to right, then the statement. */
  runRule(
    t: string[],
    text: string,
    p: EvalPacket,
    out: EvalOutcome,
    pick: (c: { ip: IPv4; port: number; chain: string }[]) => number,
  ): Flow {
    let i = 0;
    const matched = () => out.trail.push(text);
    while (i < t.length) {
      const w = t[i];
      if (w === "ct" && t[i + 1] === "state" && t[i + 2] === "new") {
        i += 3; // every traced packet opens a connection
      } else if ((w === "ip" || w === "meta") && t[i + 2] === ".") {
        // A concatenated key for a verdict map: `ip daddr . meta l4proto . th dport vmap @m`.
        const parts: string[] = [];
        while (t[i] !== "vmap") {
          if (t[i] === ".") i++;
          const sel = `${t[i]} ${t[i + 1]}`;
          parts.push(this.selector(sel, p));
          i += 2;
        }
        const map = this.rs.maps.get(t[i + 1].slice(1))!;
        const key = parts.join(" . ");
        const v = map.get(key);
        if (v === undefined) return { kind: "continue" };
        matched();
        if (t[i + 1] === "@service-ips" || t[i + 1] === "@service-nodeports")
          out.dispatched = { map: t[i + 1].slice(1), key, target: v };
        return this.verdict(v, text);
      } else if (w === "ip" && (t[i + 1] === "saddr" || t[i + 1] === "daddr")) {
        const value = t[i + 1] === "saddr" ? p.src : p.dst;
        const negate = t[i + 2] === "!=";
        const operand = t[i + (negate ? 3 : 2)];
        if (this.ipMatches(value, operand) === negate) return { kind: "continue" };
        i += negate ? 4 : 3;
      } else if ((w === "tcp" || w === "udp" || w === "sctp") && t[i + 1] === "dport") {
        if (p.protocol !== w || p.dport !== Number(t[i + 2])) return { kind: "continue" };
        i += 3;
      } else if (w === "meta" && t[i + 1] === "l4proto" && t[i + 2] !== ".") {
        if (p.protocol !== t[i + 2]) return { kind: "continue" };
        i += 3;
      } else if (w === "fib" && t[i + 2] === "type" && t[i + 3] === "local") {
        const ip = t[i + 1] === "saddr" ? p.src : p.dst;
        if (!p.isLocal(ip)) return { kind: "continue" };
        i += 4;
      } else if (w === "meta" && t[i + 1] === "mark" && t[i + 2] === "&") {
        // meta mark & M == 0 …
        const m = Number(t[i + 3]);
        if ((p.mark & m) !== Number(t[i + 5])) return { kind: "continue" };
        i += 6;
      } else if (w === "meta" && t[i + 1] === "mark" && t[i + 2] === "set") {
        const m = Number(t[i + 6]);
        p.mark = t[i + 5] === "|" ? p.mark | m : p.mark ^ m;
        matched();
        return { kind: "continue" };
      } else if (w === "update") {
        matched(); // session affinity: remembers the client for later connections
        return { kind: "continue" };
      } else if (w === "numgen") {
        const branches = t[i + 5]
          .slice(1, -1)
          .split(",")
          .map((b) => b.trim().split(/\s+/))
          .map((b) => b[3]);
        const candidates = branches.map((chain) => ({ ...this.dnatOf(chain), chain }));
        out.candidates = candidates;
        matched();
        return { kind: "goto", chain: candidates[pick(candidates) % candidates.length].chain };
      } else if (w === "dnat" && t[i + 1] === "to") {
        const [ip, port] = t[i + 2].split(":");
        p.dst = parseIPv4(ip)!;
        p.dport = Number(port);
        out.dnat = { ip: p.dst, port: p.dport, chain: "" };
        matched();
        return { kind: "verdict", verdict: "accept", rule: text };
      } else if (w === "masquerade") {
        out.masquerade = true;
        matched();
        return { kind: "verdict", verdict: "accept", rule: text };
      } else if (w === "jump" || w === "goto") {
        matched();
        return { kind: w, chain: t[i + 1] };
      } else if (w === "return") {
        matched();
        return { kind: "return" };
      } else if (w === "drop" || w === "reject" || w === "accept") {
        matched();
        return { kind: "verdict", verdict: w, rule: text };
      } else {
        throw new Error(`nft: cannot evaluate "${text}" at "${w}"`);
      }
    }
    return { kind: "continue" };
  }

  /** The DNAT target an endpoint chain ends in. */
  dnatOf(chain: string): { ip: IPv4; port: number } {
    const def = this.rs.chains.get(chain)!;
    for (const { tokens: r } of def.rules) {
      const k = r.indexOf("dnat");
      if (k >= 0) {
        const [ip, port] = r[k + 2].split(":");
        return { ip: parseIPv4(ip)!, port: Number(port) };
      }
    }
    throw new Error(`nft: chain ${chain} does not DNAT`);
  }

  selector(sel: string, p: EvalPacket): string {
    switch (sel) {
      case "ip daddr":
        return formatIPv4(p.dst);
      case "ip saddr":
        return formatIPv4(p.src);
      case "meta l4proto":
        return p.protocol;
      case "th dport":
        return String(p.dport);
      default:
        throw new Error(`nft: unknown selector ${sel}`);
    }
  }

  /** Is `ip` in the operand (`@set`, `{ a, b/24 }`, an address or a prefix)? Each operand is parsed once. */
  ipMatches(ip: IPv4, operand: string): boolean {
    let m = this.#addressSets.get(operand);
    if (!m) {
      const items = operand.startsWith("@")
        ? (this.rs.sets.get(operand.slice(1)) ?? [])
        : operand.startsWith("{")
          ? splitTop(operand.slice(1, -1))
          : [operand];
      m = addressSet(items);
      this.#addressSets.set(operand, m);
    }
    return m.addresses.has(ip) || m.prefixes.some((c) => c.contains(ip));
  }

  verdict(v: string, rule: string): Flow {
    const [word, chain] = v.split(/\s+/);
    if (word === "goto" || word === "jump") return { kind: word, chain };
    return { kind: "verdict", verdict: word as Verdict, rule };
  }
}

/** Addresses and prefixes, as an nft set of `ipv4_addr` (with `flags interval` for prefixes) holds them. */
interface AddressSet {
  addresses: Set<IPv4>;
  prefixes: Cidr[];
}

function addressSet(items: readonly string[]): AddressSet {
  const out: AddressSet = { addresses: new Set(), prefixes: [] };
  for (const e of items) {
    if (e.includes("/")) {
      const c = Cidr.parse(e);
      if (c.ok) out.prefixes.push(c.cidr);
    } else {
      const ip = parseIPv4(e);
      if (ip !== undefined) out.addresses.add(ip);
    }
  }
  return out;
}
