/**
 * `diff -o md`: the change as a pull-request comment (GitHub-flavoured Markdown).
 *
 *   one summary line: the counts of added, removed and changed connections (and the --fail-on verdict)
 *   per kind (added, removed, changed) a section, per namespace a table of source, destination and
 *   connections; a namespace table longer than `collapseOver` rows is folded into <details>, so a big
 *   change still reads as a short comment
 *
 * A connection belongs to its destination's namespace (the side whose ingress policies usually
 * decide); one to an address range, to its source's; ranges and the ingress controller at both ends
 * do not occur. Rows keep the diff's order (source, then destination).
 */
import type { ConnectionDiff, DiffKind } from "../../core/policy/diff.ts";

const TITLE: Record<DiffKind, string> = { added: "Added", removed: "Removed", changed: "Changed" };

/** The namespace of `ns/name[Kind]`; undefined for address ranges and `{ingress-controller}`. */
function namespaceOf(end: string): string | undefined {
  const m = /^([a-z0-9][a-z0-9-]*)\/[^/]+\[[A-Za-z]+\]$/.exec(end);
  return m?.[1];
}

/** A table cell: code spans keep `[Kind]` and `*` literal; a backtick inside is doubled around. */
function code(text: string): string {
  const safe = text.replace(/\|/g, "\\|");
  return safe.includes("`") ? `\`\` ${safe} \`\`` : `\`${safe}\``;
}

/**
 * The diff as Markdown for a pull-request comment. `failOn`: the --fail-on kinds, named in the
 * summary with the verdict; `collapseOver`: namespace tables with more rows are folded (default 10).
 */
export function renderDiffMarkdown(
  diffs: readonly ConnectionDiff[],
  opts: { failOn?: readonly DiffKind[]; collapseOver?: number } = {},
): string {
  const failOn = opts.failOn ?? [];
  const collapseOver = opts.collapseOver ?? 10;
  const count = (k: DiffKind) => diffs.filter((d) => d.kind === k).length;
  const plural = (n: number) => `${n} connection${n === 1 ? "" : "s"}`;
  if (diffs.length === 0)
    return `**podnet diff**: no connection added, removed or changed${failOn.length ? ` (passes --fail-on ${failOn.join(",")})` : ""}\n`;
  const failing = diffs.filter((d) => failOn.includes(d.kind)).length;
  const verdict = failOn.length
    ? failing
      ? ` — **fails** --fail-on ${failOn.join(",")} (${plural(failing)})`
      : ` — passes --fail-on ${failOn.join(",")}`
    : "";
  const out = [
    `**podnet diff**: ${count("added")} added, ${count("removed")} removed, ${count("changed")} changed${verdict}`,
  ];
  for (const kind of ["added", "removed", "changed"] as const) {
    const rows = diffs.filter((d) => d.kind === kind);
    if (rows.length === 0) continue;
    out.push("", `### ${TITLE[kind]} (${plural(rows.length)})`);
    const groups = new Map<string, ConnectionDiff[]>();
    for (const d of rows) {
      const ns = namespaceOf(d.dst) ?? namespaceOf(d.src) ?? "(outside the cluster)";
      const list = groups.get(ns) ?? groups.set(ns, []).get(ns)!;
      list.push(d);
    }
    for (const [ns, list] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const head =
        kind === "changed"
          ? "| source | destination | before | after |"
          : "| source | destination | connections |";
      const rule = kind === "changed" ? "|---|---|---|---|" : "|---|---|---|";
      const lines = list.map((d) =>
        kind === "changed"
          ? `| ${code(d.src)} | ${code(d.dst)} | ${code(d.old ?? "")} | ${code(d.new ?? "")} |`
          : `| ${code(d.src)} | ${code(d.dst)} | ${code((kind === "added" ? d.new : d.old) ?? "")} |`,
      );
      const outside = ns === "(outside the cluster)";
      const n = plural(list.length);
      // Markdown is not read inside <summary>: the namespace is HTML code there.
      if (list.length > collapseOver)
        out.push(
          "",
          `<details><summary>${outside ? ns : `namespace <code>${ns}</code>`}: ${n}</summary>`,
          "",
          head,
          rule,
          ...lines,
          "",
          "</details>",
        );
      else out.push("", `#### ${outside ? ns : `namespace \`${ns}\``}: ${n}`, "", head, rule, ...lines);
    }
  }
  return `${out.join("\n")}\n`;
}
