/**
 * A tracer over the printed IPVS state (./render.ts: kube-ipvs0's addresses, `ipvsadm -Sn`,
 * `ipset save`, `iptables-save`), sharing nothing with the Service model but that text. It runs a
 * packet through the hooks as the kernel orders them in IPVS mode:
 *
 *   prerouting: nat PREROUTING (KUBE-SERVICES: marks for masquerade, never DNAT)
 *     → route: an address on kube-ipvs0 is local → input: filter INPUT (KUBE-IPVS-FILTER,
 *       KUBE-PROXY-FIREWALL, KUBE-NODE-PORT) → IPVS (NF_INET_LOCAL_IN): the virtual server for
 *       (protocol, address, port) picks a real server (weight > 0) and translates the destination;
 *       none there: ICMP port unreachable (the kernel's ip_vs_leave)
 *     → else forward: filter FORWARD (KUBE-PROXY-FIREWALL, KUBE-FORWARD)
 *   output: nat OUTPUT → IPVS (NF_INET_LOCAL_OUT, after nat) → filter OUTPUT (KUBE-IPVS-OUT-FILTER,
 *     whose `-m ipvs --vaddr` matches what IPVS scheduled)
 *
 * The iptables part is read and walked by the iptables evaluator (../ipt-eval.ts: parseIptablesSave,
 * IptEvaluator with its matches, targets and the shared chain walker); this file adds only what IPVS
 * mode brings: the virtual servers, the ipsets behind `-m set --match-set NAME dirs` (hash:ip,
 * hash:ip,port, hash:ip,port,ip, hash:ip,port,net, bitmap:port), the ipvs match (`--vaddr`,
 * `--vproto`, `--vport`: what IPVS scheduled for the packet), and the hooks in IPVS's order.
 */
import { fnv32a } from "../../control/names.ts";
import { Cidr, formatIPv4, type IPv4, parseIPv4 } from "../../net/ipv4.ts";
import { IptEvaluator, type IptTables, parseIptablesSave } from "../ipt-eval.ts";
import type { PickEndpoint, RuleEvaluator, RuleHook } from "../modes/mode.ts";
import type { EvalOutcome, EvalPacket } from "../nft-eval.ts";

/** A virtual server read back from `ipvsadm -Sn` and the `# name frontend` line before it. */
export interface ParsedVirtualServer {
  key: string;
  scheduler: string;
  persistent: boolean;
  real: { ip: IPv4; port: number; weight: number }[];
  service: string;
  frontend: string;
}

interface ParsedSet {
  type: string;
  members: Set<string>;
  /** hash:ip,port,net members as (ip,proto:port) → nets. */
  nets?: Map<string, Cidr[]>;
}

/** The printed IPVS state, read back. Throws on a line `renderIpvs` never prints. */
export interface IpvsState {
  bound: Set<IPv4>;
  servers: Map<string, ParsedVirtualServer>;
  sets: Map<string, ParsedSet>;
  tables: IptTables;
}

/** `-a <key> -r <address>:<port> -m -w <weight>`: key, its protocol flag, address, port, weight. */
const REAL_SERVER = /^-a ((-t|-u|--sctp-service) \S+) -r (\S+):(\d+) -m -w (\d+)$/;

/** Reads `renderIpvs`'s text back; throws on a line it never prints. */
export function parseIpvsState(text: string): IpvsState {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split("\n")) {
    const head = /^# (ip -4 addr show dev kube-ipvs0|ipvsadm -Sn|ipset save|iptables-save)$/.exec(line);
    if (head) {
      current = [];
      sections.set(head[1], current);
    } else if (line.trim() !== "") {
      if (!current) throw new Error(`ipvs: text before the first section: "${line}"`);
      current.push(line);
    }
  }
  const bound = new Set<IPv4>();
  for (const line of sections.get("ip -4 addr show dev kube-ipvs0") ?? []) {
    const m = /^inet (\S+)\/32 scope global kube-ipvs0$/.exec(line);
    const ip = m ? parseIPv4(m[1]) : undefined;
    if (ip === undefined) throw new Error(`ipvs: cannot read kube-ipvs0 address "${line}"`);
    bound.add(ip);
  }
  const servers = new Map<string, ParsedVirtualServer>();
  let label: { service: string; frontend: string } | undefined;
  // The virtual server the `-a` lines that follow belong to (ipvsadm -Sn prints them after its -A).
  let last: ParsedVirtualServer | undefined;
  for (const line of sections.get("ipvsadm -Sn") ?? []) {
    // Real-server lines are nearly all of them (390,000 at 10,000 Services): tried first, alone.
    const rs = line.startsWith("-a ") ? REAL_SERVER.exec(line) : null;
    if (rs) {
      const ip = parseIPv4(rs[3]);
      if (ip === undefined) throw new Error(`ipvs: bad real server "${line}"`);
      const vs = last?.key === rs[1] ? last : servers.get(rs[1]);
      if (!vs) throw new Error(`ipvs: real server of no virtual server "${line}"`);
      vs.real.push({ ip, port: Number(rs[4]), weight: Number(rs[5]) });
      continue;
    }
    const named = /^# (\S+) (\S+)$/.exec(line);
    const vs = /^-A ((?:-t|-u|--sctp-service) \S+) -s (\S+)(?: -b \S+)?(?: -p (\d+))?$/.exec(line);
    if (named) label = { service: named[1], frontend: named[2] };
    else if (vs && label) {
      last = { key: vs[1], scheduler: vs[2], persistent: vs[3] !== undefined, real: [], ...label };
      servers.set(vs[1], last);
      label = undefined;
    } else throw new Error(`ipvs: cannot read ipvsadm line "${line}"`);
  }
  const sets = new Map<string, ParsedSet>();
  for (const line of sections.get("ipset save") ?? []) {
    const create = /^create (\S+) (\S+)/.exec(line);
    const add = /^add (\S+) (\S+)$/.exec(line);
    if (create) sets.set(create[1], { type: create[2], members: new Set() });
    else if (add && sets.has(add[1])) {
      const set = sets.get(add[1])!;
      if (set.type === "hash:ip,port,net") {
        const [ip, pp, net] = add[2].split(",");
        const c = Cidr.parse(net);
        if (!c.ok) throw new Error(`ipvs: bad net in "${line}"`);
        set.nets ??= new Map();
        const k = `${ip},${pp}`;
        set.nets.set(k, [...(set.nets.get(k) ?? []), c.cidr]);
      } else set.members.add(add[2]);
    } else throw new Error(`ipvs: cannot read ipset line "${line}"`);
  }
  const tables = parseIptablesSave((sections.get("iptables-save") ?? []).join("\n"));
  return { bound, servers, sets, tables };
}

/** Runs packets through the printed IPVS state; see the file comment. */
export class IpvsEvaluator implements RuleEvaluator {
  /** What IPVS scheduled for the packet in flight (for `-m ipvs --vaddr` in filter OUTPUT). */
  #scheduled: { vaddr: IPv4; vport: number; vproto: string } | undefined;
  /** The iptables part, with the match options IPVS mode's rules add. */
  readonly #iptables: IptEvaluator;

  constructor(readonly state: IpvsState) {
    this.#iptables = new IptEvaluator(state.tables, {
      matches: {
        "--match-set": { operands: 2, matches: (a, at, p) => this.inSet(a[at], a[at + 1], p) },
        "--vaddr": {
          operands: 1,
          matches: (a, at) => !!this.#scheduled && this.#iptables.inCidr(this.#scheduled.vaddr, a[at]),
        },
        "--vproto": { operands: 1, matches: (a, at) => this.#scheduled?.vproto === a[at] },
        "--vport": { operands: 1, matches: (a, at) => this.#scheduled?.vport === Number(a[at]) },
      },
    });
  }

  remembersClient(key: string): boolean {
    const vs = this.state.servers.get(key);
    // Persistence (ClientIP affinity) and source hashing: the client's address alone picks.
    return !!vs && (vs.persistent || vs.scheduler === "sh");
  }

  runHook(hook: RuleHook, p: EvalPacket, out: EvalOutcome, pick: PickEndpoint): void {
    // The printed kube-ipvs0 addresses are local on this node: routing delivers them to input.
    const isLocal = p.isLocal;
    if (!(isLocal as { ipvs?: boolean }).ipvs) {
      const wrapped = (ip: IPv4) => this.state.bound.has(ip) || isLocal(ip);
      (wrapped as { ipvs?: boolean }).ipvs = true;
      p.isLocal = wrapped;
    }
    if (hook === "prerouting") this.chain("nat", "PREROUTING", p, out, pick);
    else if (hook === "output") {
      this.#scheduled = undefined;
      this.chain("nat", "OUTPUT", p, out, pick);
      if (out.verdict === "accept") this.ipvs(p, out, pick);
      if (out.verdict === "accept") this.chain("filter", "OUTPUT", p, out, pick);
    } else if (hook === "input" || (hook === "forward" && this.state.bound.has(p.dst))) {
      this.chain("filter", "INPUT", p, out, pick);
      if (out.verdict === "accept") this.ipvs(p, out, pick);
    } else this.chain("filter", "FORWARD", p, out, pick);
  }

  /** IPVS: the virtual server for the packet's destination, if any, picks a real server. */
  ipvs(p: EvalPacket, out: EvalOutcome, pick: PickEndpoint): void {
    const flag = p.protocol === "tcp" ? "-t" : p.protocol === "udp" ? "-u" : "--sctp-service";
    const key = `${flag} ${formatIPv4(p.dst)}:${p.dport}`;
    const vs = this.state.servers.get(key);
    if (!vs) return;
    const line = `ipvs: -A ${key} -s ${vs.scheduler}${vs.persistent ? " -p" : ""}`;
    out.trail.push(line);
    const candidates = vs.real
      .filter((r) => r.weight > 0)
      .map((r) => ({ ip: r.ip, port: r.port, chain: key }));
    if (candidates.length === 0) {
      out.verdict = "reject";
      out.by = `${line}: no real server with weight > 0, so IPVS answers ICMP port unreachable`;
      return;
    }
    // dh hashes the destination (the virtual address): every client gets the same real server.
    const index = vs.scheduler === "dh" && !vs.persistent ? fnv32a(formatIPv4(p.dst)) : pick(candidates);
    const chosen = candidates[index % candidates.length];
    this.#scheduled = { vaddr: p.dst, vport: p.dport, vproto: p.protocol };
    out.candidates = candidates;
    out.dispatched = {
      map: vs.frontend === "nodePort" ? "service-nodeports" : "service-ips",
      key,
      target: vs.service,
    };
    out.trail.push(`ipvs: -a ${key} -r ${formatIPv4(chosen.ip)}:${chosen.port} -m`);
    p.dst = chosen.ip;
    p.dport = chosen.port;
    out.dnat = { ip: chosen.ip, port: chosen.port, chain: key };
  }

  /** Runs built-in chain `start` of `table` with the iptables evaluator. */
  chain(table: string, start: string, p: EvalPacket, out: EvalOutcome, pick: PickEndpoint): void {
    this.#iptables.runChain(table, start, p, out, pick);
  }

  /** `-m set --match-set NAME dirs`: the packet's fields named by `dirs`, looked up in the printed set. */
  inSet(name: string, dirs: string, p: EvalPacket): boolean {
    const set = this.state.sets.get(name);
    if (!set) throw new Error(`ipvs: no ipset ${name}`);
    const d = dirs.split(",");
    const ip = (dir: string) => formatIPv4(dir === "src" ? p.src : p.dst);
    const port = (dir: string) => `${p.protocol}:${dir === "src" ? p.sport : p.dport}`;
    switch (set.type) {
      case "hash:ip":
        return set.members.has(ip(d[0]));
      case "bitmap:port":
        return set.members.has(String(d[0] === "src" ? p.sport : p.dport));
      case "hash:ip,port":
        return set.members.has(`${ip(d[0])},${port(d[1])}`);
      case "hash:ip,port,ip":
        return set.members.has(`${ip(d[0])},${port(d[1])},${ip(d[2])}`);
      case "hash:ip,port,net":
        return (set.nets?.get(`${ip(d[0])},${port(d[1])}`) ?? []).some((c) =>
          c.contains(d[2] === "src" ? p.src : p.dst),
        );
      default:
        throw new Error(`ipvs: ipset type ${set.type} of ${name} is not evaluated`);
    }
  }
}
