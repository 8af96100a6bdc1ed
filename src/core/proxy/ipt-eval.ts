/**
 * A tracer over rendered `iptables-save` text (iptables.ts): parses the filter and nat tables back and
 * runs a packet through the built-in chains of each hook, with iptables' semantics — `-s/-d` (negated
 * too), `-p` with `--dport`, conntrack state (every traced packet is NEW), addrtype LOCAL, marks,
 * jump/RETURN, REJECT/DROP/ACCEPT, DNAT, MASQUERADE, `MARK` (`--set-xmark`, `--or-mark`,
 * `--xor-mark`, `--and-mark`), `-m physdev ! --physdev-is-in`. A run of `-m statistic --mode random`
 * rules is one random choice among its targets; `-m recent --rcheck` never matches (no client is
 * remembered yet). A mode whose rules use other match options (IPVS: ipset's `--match-set`, the ipvs
 * match) supplies them as `IptMatchOption`s and walks its chains with this evaluator
 * (./ipvs/eval.ts).
 *
 *   prerouting: nat PREROUTING → route → filter INPUT | filter FORWARD
 *   output:     nat OUTPUT → filter OUTPUT
 *
 * Shares nothing with service-proxy.ts but the rendered text.
 */
import { Cidr, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import { type Flow, walkChains } from "../nft/walk.ts";
import type { EvalOutcome, EvalPacket } from "./nft-eval.ts";

interface Rule {
  text: string;
  args: string[];
}

/** Parsed `iptables-save` text: table name → chain name → its rules in order (`args`: after `-A CHAIN`). */
export type IptTables = Map<string, Map<string, Rule[]>>;

/**
 * A match option the shared walk does not know, supplied by the mode whose rules use it: `matches`
 * reads the option's `operands` words from `args[at]` on (the option itself is `args[at - 1]`) and
 * says whether the packet matches, before a `!` in front of the option negates it.
 */
export interface IptMatchOption {
  operands: number;
  matches(args: readonly string[], at: number, p: EvalPacket): boolean;
}

export function parseIptablesSave(text: string): IptTables {
  const tables: IptTables = new Map();
  let table: Map<string, Rule[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line === "COMMIT") continue;
    if (line.startsWith("*")) {
      table = new Map();
      tables.set(line.slice(1), table);
    } else if (line.startsWith(":")) {
      table!.set(line.slice(1).split(" ")[0], []);
    } else if (line.startsWith("-A ")) {
      const args = tokenize(line);
      const chain = args[1];
      if (!table!.has(chain)) throw new Error(`iptables: rule for undeclared chain ${chain}`);
      table!.get(chain)!.push({ text: line, args: args.slice(2) });
    } else throw new Error(`iptables: cannot read "${line}"`);
  }
  return tables;
}

function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]);
  return out;
}

const BUILTIN = new Set(["ACCEPT", "DROP", "REJECT", "RETURN", "DNAT", "MASQUERADE", "MARK"]);

export class IptEvaluator {
  /** `-s`/`-d` operands parsed on first use (KUBE-SERVICES has a rule per Service port). */
  readonly #cidrs = new Map<string, Cidr>();

  readonly #matches: ReadonlyMap<string, IptMatchOption>;

  /** `matches`: match options beyond iptables' own, by option (`--match-set`), for a mode's rules. */
  constructor(
    readonly tables: IptTables,
    options: { matches?: Record<string, IptMatchOption> } = {},
  ) {
    this.#matches = new Map(Object.entries(options.matches ?? {}));
  }

  inCidr(ip: IPv4, text: string): boolean {
    let c = this.#cidrs.get(text);
    if (!c) {
      c = parseOperand(text);
      this.#cidrs.set(text, c);
    }
    return c.contains(ip);
  }

  runHook(
    hook: "prerouting" | "input" | "forward" | "output" | "postrouting",
    p: EvalPacket,
    out: EvalOutcome,
    pick: (c: { ip: IPv4; port: number; chain: string }[]) => number,
  ): void {
    const order: [string, string][] =
      hook === "prerouting"
        ? [["nat", "PREROUTING"]]
        : hook === "input"
          ? [["filter", "INPUT"]]
          : hook === "forward"
            ? [["filter", "FORWARD"]]
            : hook === "output"
              ? [
                  ["nat", "OUTPUT"],
                  ["filter", "OUTPUT"],
                ]
              : [["nat", "POSTROUTING"]];
    for (const [table, chain] of order) {
      if (out.verdict !== "accept") return;
      this.runChain(table, chain, p, out, pick);
    }
  }

  /** Runs built-in chain `start` of `tableName` (and what it jumps to) with the shared walker (../nft/walk.ts). */
  runChain(
    tableName: string,
    start: string,
    p: EvalPacket,
    out: EvalOutcome,
    pick: (c: { ip: IPv4; port: number; chain: string }[]) => number,
  ): void {
    const table = this.tables.get(tableName);
    if (!table) throw new Error(`iptables: no ${tableName} table`);
    walkChains<Rule>(
      start,
      (chain) => table.get(chain),
      (rules, index, chain) => {
        const rule = rules[index];
        // A run of statistic rules ending in an unconditional one: one random choice among their
        // targets, as a jump that comes back after the run.
        if (rule.args.includes("statistic")) {
          let end = index;
          while (end < rules.length && rules[end].args.includes("statistic")) end++;
          const run = rules.slice(index, end + 1);
          const candidates = run.map((r) => {
            const target = r.args[r.args.indexOf("-j") + 1];
            return { ...this.dnatOf(table, target), chain: target };
          });
          out.candidates = candidates;
          out.trail.push(...run.map((r) => r.text));
          return {
            kind: "jump",
            chain: candidates[pick(candidates) % candidates.length].chain,
            resume: end + 1,
          };
        }
        const flow = this.runRule(rule, p, out, tableName, chain);
        // A rule with a single endpoint has no statistic match: it is the only candidate.
        if (flow.kind === "jump" && flow.chain.startsWith("KUBE-SEP-") && !out.candidates)
          out.candidates = [{ ...this.dnatOf(table, flow.chain), chain: flow.chain }];
        return flow;
      },
      out,
      `iptables (${tableName})`,
    );
  }

  runRule(rule: Rule, p: EvalPacket, out: EvalOutcome, table: string, chain: string): Flow {
    const a = rule.args;
    let negate = false;
    let proto: string | undefined;
    let i = 0;
    for (; i < a.length && a[i] !== "-j"; i++) {
      const w = a[i];
      if (w === "!") {
        negate = true;
        continue;
      }
      let ok = true;
      if (w === "-s" || w === "-d") ok = this.inCidr(w === "-s" ? p.src : p.dst, a[++i]);
      else if (w === "-p") {
        proto = a[++i];
        ok = p.protocol === proto;
      } else if (w === "--dport") ok = p.dport === Number(a[++i]);
      else if (w === "--comment") i++;
      else if (w === "--ctstate") ok = a[++i].split(",").includes("NEW");
      else if (w === "--dst-type" || w === "--src-type")
        ok = a[++i] === "LOCAL" && p.isLocal(w === "--dst-type" ? p.dst : p.src);
      else if (w === "--mark") {
        const [value, mask] = a[++i].split("/").map(Number);
        ok = (p.mark & mask) === value;
      } else if (w === "--rcheck") ok = false;
      // podnet's packets are routed, never bridged: no packet came in on a bridge port.
      else if (w === "--physdev-is-in") ok = false;
      else if (w === "-m" || w === "--set" || w === "--reap" || w === "--rsource") {
        if (w === "-m") i++;
      } else if (
        w === "--seconds" ||
        w === "--name" ||
        w === "--mask" ||
        w === "--mode" ||
        w === "--probability"
      )
        i++;
      else {
        const option = this.#matches.get(w);
        if (!option) throw new Error(`iptables: cannot evaluate "${rule.text}" at "${w}"`);
        ok = option.matches(a, i + 1, p);
        i += option.operands;
      }
      if (ok === negate) return { kind: "continue" };
      negate = false;
    }
    out.trail.push(rule.text);
    if (i >= a.length) return { kind: "continue" }; // a rule without a target only counts packets
    const target = a[i + 1];
    const opts = a.slice(i + 2);
    switch (target) {
      case "ACCEPT":
        return { kind: "verdict", verdict: "accept", rule: rule.text };
      case "DROP":
        return { kind: "verdict", verdict: "drop", rule: rule.text };
      case "REJECT":
        return { kind: "verdict", verdict: "reject", rule: rule.text };
      case "RETURN":
        return { kind: "return" };
      case "DNAT": {
        const [ip, port] = opts[opts.indexOf("--to-destination") + 1].split(":");
        p.dst = parseIPv4(ip)!;
        p.dport = Number(port);
        out.dnat = { ip: p.dst, port: p.dport, chain };
        return { kind: "verdict", verdict: "accept", rule: rule.text };
      }
      case "MASQUERADE":
        out.masquerade = true;
        return { kind: "verdict", verdict: "accept", rule: rule.text };
      case "MARK": {
        const [value, mask] = markChange(opts, rule.text);
        p.mark = (p.mark & ~mask) ^ value;
        return { kind: "continue" };
      }
      default:
        if (BUILTIN.has(target)) throw new Error(`iptables: unhandled target ${target}`);
        if (
          table === "nat" &&
          (chain === "KUBE-SERVICES" || chain === "KUBE-NODEPORTS") &&
          /^KUBE-(SVC|SVL|EXT|FW)-/.test(target)
        ) {
          out.dispatched = {
            map: chain === "KUBE-NODEPORTS" ? "service-nodeports" : "service-ips",
            key: rule.text,
            target: `goto ${target}`,
          };
        }
        return { kind: "jump", chain: target };
    }
  }

  /** The DNAT target an endpoint chain ends in. */
  dnatOf(table: Map<string, Rule[]>, chain: string): { ip: IPv4; port: number } {
    for (const r of table.get(chain) ?? []) {
      const k = r.args.indexOf("--to-destination");
      if (k >= 0) {
        const [ip, port] = r.args[k + 1].split(":");
        return { ip: parseIPv4(ip)!, port: Number(port) };
      }
    }
    throw new Error(`iptables: chain ${chain} does not DNAT`);
  }
}

/**
 * The MARK target's option as the `value/mask` of `--set-xmark` (mark = (mark & ~mask) ^ value), the
 * form iptables itself reduces the others to (iptables extensions/libxt_MARK.c: `--or-mark bits` is
 * bits/bits, `--xor-mark bits` is bits/0, `--and-mark bits` is 0/~bits).
 */
function markChange(opts: readonly string[], text: string): [value: number, mask: number] {
  const [option, operand] = opts;
  const bits = Number(operand);
  if (option === "--set-xmark") {
    const [value, mask] = operand.split("/").map(Number);
    return [value, mask];
  }
  if (option === "--or-mark") return [bits, bits];
  if (option === "--xor-mark") return [bits, 0];
  if (option === "--and-mark") return [0, ~bits];
  throw new Error(`iptables: cannot evaluate "${text}": MARK ${option ?? "without an option"}`);
}

/** `-s`/`-d` operands: an address (a /32) or a prefix. */
function parseOperand(text: string): Cidr {
  const c = Cidr.parse(text.includes("/") ? text : `${text}/32`);
  if (c.ok) return c.cidr;
  // Source ranges may carry host bits; compare by prefix.
  const [addr, bits] = text.split("/");
  return Cidr.of(parseIPv4(addr)!, Number(bits));
}
