/**
 * Partial syncs of an nftables table, as kube-proxy does them: from the table last loaded and the table
 * wanted, the few commands that turn one into the other in one `nft -f` transaction — new chains and
 * sets added, changed chains flushed and refilled, map and set elements deleted and added one by one,
 * chains and sets nobody needs any more flushed and deleted. Replacing the whole table instead costs
 * time in proportion to its size (about a second for 10,000 Services); a partial sync costs in
 * proportion to the change.
 *
 * Works on the text podnet renders (`table F N { set … map … chain … }`) and on `nft list table`
 * output, which has the same shape. Pure: the shell runs the script, and falls back to replacing the
 * whole table if the kernel refuses it (someone changed the table behind podnet's back).
 */
import { collapse, type NftTable, parseTable } from "../nft/parse.ts";

export type SyncKind = "none" | "partial" | "full";

/**
 * The `nft -f` script that turns table `prev` into `next`: "none" when they are equal, "partial" when
 * only chains' rules, set elements, and whole regular chains or sets come and go, "full" (drop and
 * reload the table) when anything else changed — a base chain, a set's type, the table itself.
 */
export function syncScript(
  prevText: string,
  nextText: string,
  opts: { narrow?: boolean } = {},
): { kind: SyncKind; script: string } {
  if (prevText === nextText) return { kind: "none", script: "" };
  const full = () => ({ kind: "full" as const, script: replaceTable(nextText) });
  let prev: NftTable;
  let next: NftTable;
  try {
    // Only the blocks between the texts' common beginning and common end can differ: the rest is not
    // even cut into blocks. Of those, blocks whose text did not change are left out before parsing:
    // with 10,000 Services nearly every block is unchanged, and comparing text is much cheaper than
    // parsing it.
    const { from, same: tail } = opts.narrow === false ? { from: 0, same: 0 } : differing(prevText, nextText);
    // Each side is cut up to a block's end with at most `tail` characters after it. Both must stop
    // the same distance from their ends, so that the text after is the same, block for block. In a
    // well-formed table they do (the same closing line ends a block in both); for text where they do
    // not, the side that stopped farther from its end goes on.
    let a = rawBlocks(prevText, from, tail);
    let b = rawBlocks(nextText, from, a.rest);
    while (a.rest !== b.rest) {
      a = rawBlocks(prevText, from, b.rest);
      if (a.rest !== b.rest) b = rawBlocks(nextText, from, a.rest);
    }
    if (a.table !== b.table || !same(a.head, b.head)) return full();
    const changed = (x: typeof a, y: typeof a) =>
      [...x.blocks].filter(([key, text]) => y.blocks.get(key) !== text).map(([, text]) => text);
    prev = parseTable(`${a.table}\n${changed(a, b).join("\n")}\n}`);
    next = parseTable(`${b.table}\n${changed(b, a).join("\n")}\n}`);
  } catch {
    return full();
  }
  for (const [name, c] of next.chains) {
    const old = prev.chains.get(name);
    if ((old && !same(old.head, c.head)) || (!old && c.head.some((l) => l.startsWith("type "))))
      return full();
  }
  for (const [name, c] of prev.chains)
    if (!next.chains.has(name) && c.head.some((l) => l.startsWith("type "))) return full();
  for (const [name, s] of next.sets) {
    const old = prev.sets.get(name);
    if (old && (old.kind !== s.kind || !same(old.decl, s.decl))) return full();
  }

  const t = `${next.family} ${next.name}`;
  const flushed: string[] = [];
  const block: string[] = [];
  const elements: string[] = [];
  const removals: string[] = [];
  for (const [name, s] of next.sets) {
    const old = prev.sets.get(name);
    if (!old) {
      block.push(`\t${s.kind} ${name} {`, ...s.decl.map((l) => `\t\t${l}`));
      if (s.elements.size) block.push(`\t\telements = { ${[...s.elements.values()].join(", ")} }`);
      block.push("\t}");
      continue;
    }
    const gone: string[] = [];
    const added: string[] = [];
    for (const [key, e] of old.elements) if (s.elements.get(key) !== e) gone.push(key);
    for (const [key, e] of s.elements) if (old.elements.get(key) !== e) added.push(e);
    if (gone.length) elements.push(`delete element ${t} ${name} { ${gone.join(", ")} }`);
    if (added.length) elements.push(`add element ${t} ${name} { ${added.join(", ")} }`);
  }
  for (const [name, c] of next.chains) {
    const old = prev.chains.get(name);
    if (old && same(old.rules, c.rules)) continue;
    if (old) flushed.push(`flush chain ${t} ${name}`);
    block.push(
      `\tchain ${name} {`,
      ...c.head.map((l) => `\t\t${l}`),
      ...c.rules.map((r) => `\t\t${r}`),
      "\t}",
    );
  }
  // Chains that go are emptied first (they may jump to each other), then deleted; sets after them.
  const goneChains = [...prev.chains.keys()].filter((n) => !next.chains.has(n));
  for (const name of goneChains) removals.push(`flush chain ${t} ${name}`);
  for (const name of goneChains) removals.push(`delete chain ${t} ${name}`);
  for (const [name, s] of prev.sets) if (!next.sets.has(name)) removals.push(`delete ${s.kind} ${t} ${name}`);

  const script = [
    ...flushed,
    ...(block.length ? [`table ${t} {`, ...block, "}"] : []),
    ...elements,
    ...removals,
  ];
  return script.length ? { kind: "partial", script: `${script.join("\n")}\n` } : { kind: "none", script: "" };
}

/**
 * A table's text cut into its top-level blocks (`chain X`, `set X`, `map X`), each kept as written,
 * by kind and name; `table` is the opening line and `head` the table-level lines.
 */
function rawBlocks(
  text: string,
  start = 0,
  keep = 0,
): { table: string; head: string[]; blocks: Map<string, string>; rest: number } {
  const tableAt = /^[ \t]*table \S+ \S+ \{$/m.exec(text);
  if (!tableAt) throw new Error("nft-sync: no `table FAMILY NAME {` block");
  const head: string[] = [];
  const blocks = new Map<string, string>();
  const headLines = (from: number, to: number) => {
    if (to - from > 1)
      for (const l of text.slice(from, to).split("\n"))
        if (l.trim() && l.trim() !== "}") head.push(collapse(l));
  };
  // A block ends at the first line after it that is its own indentation and "}". Found with indexOf
  // over the whole text: a table of 10,000 Services is about 5 MB.
  const open = /^([ \t]*)(set|map|chain) (\S+) \{$/gm;
  let from = Math.max(tableAt.index + tableAt[0].length, start);
  open.lastIndex = from;
  const closers = new Map<string, string>();
  for (let m = open.exec(text); m; m = open.exec(text)) {
    headLines(from, m.index);
    const close = closers.get(m[1]) ?? closers.set(m[1], `\n${m[1]}}`).get(m[1])!;
    let end = text.indexOf(close, m.index);
    while (end >= 0 && end + close.length < text.length && text.charCodeAt(end + close.length) !== 10)
      end = text.indexOf(close, end + 1);
    if (end < 0) throw new Error(`nft-sync: ${m[2]} ${m[3]} is not closed`);
    blocks.set(`${m[2]} ${m[3]}`, text.slice(m.index, end + close.length));
    from = end + close.length;
    if (keep > 0 && text.length - from <= keep)
      return { table: tableAt[0].trim(), head, blocks, rest: text.length - from };
    open.lastIndex = from;
  }
  // What follows the last block: the table's closing brace (and nothing else of ours).
  headLines(from, text.length);
  return { table: tableAt[0].trim(), head, blocks, rest: 0 };
}

/**
 * Where two tables can differ: `from`, the start of the block (or of the text) in which they first
 * differ — both texts are equal before it — and `same`, how many characters at their ends they
 * share. The texts are compared in chunks of 64 KiB (string equality), so the common parts of two
 * 5 MB tables cost a few milliseconds to find.
 */
function differing(a: string, b: string): { from: number; same: number } {
  const max = Math.min(a.length, b.length);
  const CHUNK = 65536;
  let p = 0;
  while (p + CHUNK <= max && a.slice(p, p + CHUNK) === b.slice(p, p + CHUNK)) p += CHUNK;
  while (p < max && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  const room = max - p;
  let s = 0;
  while (
    s + CHUNK <= room &&
    a.slice(a.length - s - CHUNK, a.length - s) === b.slice(b.length - s - CHUNK, b.length - s)
  )
    s += CHUNK;
  while (s < room && a.charCodeAt(a.length - s - 1) === b.charCodeAt(b.length - s - 1)) s++;
  // Back to the opening line of the block the first difference lies in; the start of the text when
  // none is found (a difference in the table's own lines).
  const lineStart = a.lastIndexOf("\n", p - 1) + 1;
  let from = 0;
  for (const kind of ["chain ", "set ", "map "]) {
    const at = a.lastIndexOf(`\t${kind}`, lineStart);
    if (at < 0) continue;
    const bol = a.lastIndexOf("\n", at) + 1;
    const eol = a.indexOf("\n", bol);
    if (bol > from && /^[ \t]*(set|map|chain) \S+ \{$/.test(a.slice(bol, eol < 0 ? a.length : eol)))
      from = bol;
  }
  return { from, same: s };
}

/**
 * A full sync as kube-proxy does one, without dropping the table: every chain flushed and every set
 * and map emptied (but the dynamic ones, which hold session affinity), everything of `next` written
 * again, and what `prev` had that `next` lacks deleted — one transaction. Cheaper than dropping and reloading (the kernel keeps the chains and sets), and
 * it needs the table as `prev` describes it; when that is not known, use replaceTable.
 */
export function refillScript(prevText: string, nextText: string): string {
  const [a, b] = [rawBlocks(prevText), rawBlocks(nextText)];
  const t = a.table.replace(/^table /, "").replace(/ \{$/, "");
  if (a.table !== b.table || !same(a.head, b.head)) return replaceTable(nextText);
  const kinds = (x: typeof a) =>
    new Map([...x.blocks.keys()].map((k) => [k.slice(k.indexOf(" ") + 1), k.slice(0, k.indexOf(" "))]));
  const [before, after] = [kinds(a), kinds(b)];
  for (const [name, kind] of after)
    if (before.has(name) && before.get(name) !== kind) return replaceTable(nextText);
  // A set's type or a chain's hook cannot be changed in place: those changes go the long way.
  const fixed = (x: typeof a) =>
    parseTable(
      `${x.table}\n${[...x.blocks]
        .filter(([k, text]) => !k.startsWith("chain ") || / hook /.test(text))
        .map(([, text]) => text)
        .join("\n")}\n}`,
    );
  const [fa, fb] = [fixed(a), fixed(b)];
  for (const [name, set] of fb.sets) {
    const old = fa.sets.get(name);
    if (old && !same(old.decl, set.decl)) return replaceTable(nextText);
  }
  const hookOf = (x: NftTable, name: string) =>
    x.chains.get(name)?.head.find((l) => l.startsWith("type ")) ?? "";
  for (const [name, kind] of after)
    if (kind === "chain" && before.has(name) && hookOf(fa, name) !== hookOf(fb, name))
      return replaceTable(nextText);
  const out = [`flush table ${t}`];
  // Sets and maps are emptied and refilled, except the ones the kernel fills (session affinity's
  // dynamic sets), which keep what they learnt.
  for (const [name, kind] of before)
    if (
      kind !== "chain" &&
      after.has(name) &&
      !fa.sets.get(name)?.decl.some((l) => /^flags .*dynamic/.test(l))
    )
      out.push(`flush ${kind} ${t} ${name}`);
  out.push(nextText.slice(/^table \S+ \S+ \{$/m.exec(nextText)!.index).trimEnd());
  for (const [name, kind] of before)
    if (kind === "chain" && !after.has(name)) out.push(`delete chain ${t} ${name}`);
  for (const [name, kind] of before)
    if (kind !== "chain" && !after.has(name)) out.push(`delete ${kind} ${t} ${name}`);
  return `${out.join("\n")}\n`;
}

/** The text that drops table `text` (if it exists) and loads it anew, in one transaction. */
export function replaceTable(text: string): string {
  const head = /^table (\S+) (\S+) \{$/m.exec(text);
  if (!head) throw new Error("nft-sync: no `table FAMILY NAME {` block");
  const body = text.slice(head.index);
  return `table ${head[1]} ${head[2]}\ndelete table ${head[1]} ${head[2]}\n${body}`;
}

/**
 * A table in a canonical form for comparison: chains, sets and elements sorted, whitespace collapsed.
 * Two tables with the same canonical form hold the same rules (the kernel lists chains in the order
 * they were created, so a partial sync and a fresh load list them in different orders). nft's default
 * capacity of a dynamic set, `size 65535`, is left out: nft sets it on a set created in the same load
 * as a rule that updates it, so it depends on when the set was made, not on what it does.
 */
export function canonicalTable(text: string): string {
  const t = parseTable(text);
  const out = [`table ${t.family} ${t.name}`, ...t.head];
  for (const name of [...t.sets.keys()].sort()) {
    const s = t.sets.get(name)!;
    out.push(
      `${s.kind} ${name}`,
      ...s.decl.filter((l) => l !== "size 65535").map((l) => `  ${l}`),
      ...[...s.elements.values()].sort().map((e) => `  = ${e}`),
    );
  }
  for (const name of [...t.chains.keys()].sort()) {
    const c = t.chains.get(name)!;
    out.push(`chain ${name}`, ...c.head.map((l) => `  ${l}`), ...c.rules.map((r) => `  - ${r}`));
  }
  return out.join("\n");
}

function same(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
