/**
 * The text of one nftables table, as podnet renders it for `nft -f` and as `nft list table` prints it
 * (the same shape): its table-level lines, its sets and maps with their elements, and its chains with
 * their head (hook, priority, policy, comment) and their rules, one logical line each, whitespace
 * collapsed. One reader for the partial syncs (../dataplane/nft-sync.ts), which compare tables, and
 * for the rule tracer (../proxy/nft-eval.ts), which runs packets through them.
 */

export interface NftTable {
  family: string;
  name: string;
  /** Table-level lines (its comment, flags). */
  head: string[];
  sets: Map<string, NftSet>;
  chains: Map<string, NftChain>;
}

export interface NftSet {
  kind: "set" | "map";
  /** The declaration: type, flags, timeout, comment — everything but the elements. */
  decl: string[];
  /** Each element as written (whitespace collapsed), by its key. */
  elements: Map<string, string>;
}

export interface NftChain {
  /** Base-chain line (`type … hook … priority …; policy …;`) and comment. */
  head: string[];
  rules: string[];
}

/** Parses one table. Lines before `table F N {` (a `delete table` prefix) are skipped. */
export function parseTable(text: string): NftTable {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  let i = lines.findIndex((l) => /^table \S+ \S+ \{$/.test(l));
  if (i < 0) throw new Error("nft parse: no `table FAMILY NAME {` block");
  const [, family, name] = /^table (\S+) (\S+) \{$/.exec(lines[i])!;
  const table: NftTable = { family, name, head: [], sets: new Map(), chains: new Map() };
  i++;
  // A logical line: continuation lines are joined while braces are open (a map's 10,000 elements
  // are 10,000 lines: the depth is kept as they come, not recounted over the growing line).
  const logical = (): string => {
    const parts = [lines[i++]];
    let open = depth(parts[0]);
    while (open > 0 && i < lines.length) {
      parts.push(lines[i++]);
      open += depth(parts[parts.length - 1]);
    }
    return collapse(parts.join(" "));
  };
  while (i < lines.length) {
    const line = lines[i++];
    if (line === "}") break;
    const block = /^(set|map|chain) (\S+) \{$/.exec(line);
    if (!block) {
      table.head.push(collapse(line));
      continue;
    }
    const [, kind, blockName] = block;
    const body: string[] = [];
    while (i < lines.length && lines[i] !== "}") body.push(logical());
    i++;
    if (kind === "chain") {
      const isHead = (l: string) => /^type \S+ hook /.test(l) || /^comment "/.test(l) || /^policy /.test(l);
      table.chains.set(blockName, { head: body.filter(isHead), rules: body.filter((l) => !isHead(l)) });
    } else {
      const set: NftSet = { kind: kind as "set" | "map", decl: [], elements: new Map() };
      for (const l of body) {
        const el = /^elements = \{(.*)\}$/.exec(l);
        if (!el) set.decl.push(l);
        else for (const e of splitTop(el[1]).map(collapse)) set.elements.set(elementKey(e), e);
      }
      table.sets.set(blockName, set);
    }
  }
  return table;
}

/** Splits at top-level commas (outside braces and quoted strings), each part trimmed. */
export function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = "";
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === "{") depth++;
    if (!quoted && ch === "}") depth--;
    if (ch === "," && depth === 0 && !quoted) {
      if (cur.trim()) out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** An element's key: the element without its comment and, in a map, without ` : value`. */
function elementKey(e: string): string {
  const noComment = e.replace(/ comment "[^"]*"/, "");
  const at = noComment.indexOf(" : ");
  return at < 0 ? noComment : noComment.slice(0, at);
}

function depth(line: string): number {
  let d = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === "{") d++;
    else if (!quoted && ch === "}") d--;
  }
  return d;
}

export function collapse(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}
