/**
 * nftables objects as data, rendered to the text `nft -f` reads: a table with its sets, maps and
 * chains (base chains with their hook, type, priority and policy). Rules stay text, one statement
 * line each, as nft's own rule syntax is the clearest way to write them. Both rulesets podnet loads
 * are built this way: kube-proxy's (../proxy/nftables.ts) and the policy rules
 * (../dataplane/policy-rules.ts); ./parse.ts reads the text back.
 *
 * Two layouts: `listing`, as `nft list table` prints a table (tabs, a blank line after the table's own
 * lines and before each chain), and `compact` (two spaces, no blank lines).
 */

/** A base chain's attachment: `type <type> hook <hook> priority <priority>; policy <policy>;`. */
export interface BaseChainSpec {
  type: "filter" | "nat" | "route";
  hook: "prerouting" | "input" | "forward" | "output" | "postrouting";
  /** A number (kube-proxy writes dstnat-10 as -110) or a standard priority name (`filter`). */
  priority: number | string;
  policy: "accept" | "drop";
}

export interface ChainSpec {
  name: string;
  /** Present for a base chain. */
  base?: BaseChainSpec;
  comment?: string;
  /** Each rule as nft writes it (`ip daddr @cluster-ips reject`). */
  rules: string[];
}

/** A named set (`set`) or map (`map`, a verdict map when its type ends in `: verdict`). */
export interface SetSpec {
  kind: "set" | "map";
  name: string;
  /** `ipv4_addr`, `ipv4_addr . inet_proto . inet_service : verdict`, … */
  type: string;
  flags?: string[];
  /** Seconds (`timeout 10800s`). */
  timeoutSeconds?: number;
  comment?: string;
  /** Each element as nft writes it (`10.96.0.1 . tcp . 443 : goto service-…`). */
  elements: string[];
}

export interface TableSpec {
  family: "ip" | "ip6" | "inet" | "arp" | "bridge" | "netdev";
  name: string;
  comment?: string;
  /** Sets and maps, in the order they are written (before the chains). */
  sets: SetSpec[];
  chains: ChainSpec[];
}

/** `listing`: as `nft list table` prints it; `compact`: two-space indent, no blank lines. */
export type Layout = "listing" | "compact";

const LAYOUTS: Record<Layout, { indent: string; spaced: boolean }> = {
  listing: { indent: "\t", spaced: true },
  compact: { indent: "  ", spaced: false },
};

/** The table as `nft -f` text, ending in a newline. */
export function renderTable(t: TableSpec, layout: Layout = "listing"): string {
  const { indent: i1, spaced } = LAYOUTS[layout];
  const i2 = i1 + i1;
  // Elements continue on lines aligned under the first one, as nft lists them.
  const continuation = `,\n${i2}${i1}     `;
  const out: string[] = [`table ${t.family} ${t.name} {`];
  if (t.comment !== undefined) out.push(`${i1}comment "${t.comment}"`);
  if (spaced && out.length > 1) out.push("");
  for (const s of t.sets) {
    const body = [`${i2}type ${s.type}`];
    if (s.flags?.length) body.push(`${i2}flags ${s.flags.join(",")}`);
    if (s.timeoutSeconds !== undefined) body.push(`${i2}timeout ${s.timeoutSeconds}s`);
    if (s.comment !== undefined) body.push(`${i2}comment "${s.comment}"`);
    if (s.elements.length) body.push(`${i2}elements = { ${s.elements.join(continuation)} }`);
    out.push(`${i1}${s.kind} ${s.name} {\n${body.join("\n")}\n${i1}}`);
  }
  for (const c of t.chains) {
    if (spaced) out.push("");
    out.push(`${i1}chain ${c.name} {`);
    if (c.base) out.push(`${i2}${baseChainLine(c.base)}`);
    if (c.comment !== undefined) out.push(`${i2}comment "${c.comment}"`);
    for (const r of c.rules) out.push(`${i2}${r}`);
    out.push(`${i1}}`);
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}

/**
 * The table as a script that replaces any earlier table of its name in one transaction: `table F N`
 * (creates it when missing, so that the delete cannot fail), `delete table F N`, then the table.
 */
export function renderReplacing(t: TableSpec, layout: Layout = "listing"): string {
  return `table ${t.family} ${t.name}\ndelete table ${t.family} ${t.name}\n${renderTable(t, layout)}`;
}

/** `type filter hook input priority -110; policy accept;` */
export function baseChainLine(b: BaseChainSpec): string {
  return `type ${b.type} hook ${b.hook} priority ${b.priority}; policy ${b.policy};`;
}
