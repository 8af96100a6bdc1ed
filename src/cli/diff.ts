/**
 * `podnet diff -f OLD… --against NEW… [--fail-on added,removed,changed] [-o txt|json|csv|md|sarif]`:
 * the connections a change adds, removes or changes (src/core/policy/diff.ts); with --fail-on, exit 1
 * when the change has any of those, for CI gates. `-o md` is a pull-request comment
 * (./render/diff-md.ts); `-o sarif` a code-scanning log located at the changed policies
 * (./render/diff-sarif.ts).
 */
import { Command, Option } from "commander";
import { type ConnectionDiff, DIFF_KINDS, type DiffKind, diffConnections } from "../core/policy/diff.ts";
import {
  addInputOptions,
  CliExit,
  EXIT_BAD_INPUT,
  EXIT_FINDING,
  type InputOptions,
  loadOrExit,
  packageVersion,
  parseFailOn,
} from "./common.ts";
import { noRunningPods, printNote } from "./empty-answer.ts";
import { renderDiffMarkdown } from "./render/diff-md.ts";
import { diffFindings } from "./render/diff-sarif.ts";
import { DIFF_RULES, renderSarif } from "./render/sarif.ts";

type Format = "txt" | "json" | "csv" | "md" | "sarif";

/** The diff in one of the text formats (`sarif` needs both clusters: see diffFindings). */
export function renderDiff(
  diffs: readonly ConnectionDiff[],
  format: Exclude<Format, "sarif">,
  failOn: readonly DiffKind[] = [],
): string {
  const csvField = (s = "") => (s.includes(",") ? `"${s}"` : s);
  switch (format) {
    case "json":
      return `${JSON.stringify(diffs, null, 2)}\n`;
    case "csv":
      return `diff,src,dst,old,new\n${diffs.map((d) => [d.kind, d.src, d.dst, csvField(d.old), csvField(d.new)].join(",")).join("\n")}${diffs.length ? "\n" : ""}`;
    case "md":
      return renderDiffMarkdown(diffs, { failOn });
    default: {
      if (diffs.length === 0) return "no connection added, removed or changed\n";
      const sign = { added: "+", removed: "-", changed: "~" } as const;
      const lines = diffs.map((d) => {
        const conn = d.kind === "changed" ? `${d.old} -> ${d.new}` : (d.new ?? d.old);
        return `${sign[d.kind]} ${d.src} => ${d.dst} : ${conn}\n`;
      });
      const count = (k: DiffKind) => diffs.filter((d) => d.kind === k).length;
      return `${lines.join("")}${count("added")} added, ${count("removed")} removed, ${count("changed")} changed\n`;
    }
  }
}

export function diffCommand(): Command {
  const cmd = new Command("diff")
    .description("connections a change adds, removes or changes (-f the old manifests, --against the new)")
    .requiredOption(
      "--against <path>",
      "the new manifests: file or directory; repeatable",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option("--fail-on <kinds>", `exit 1 when the change has any of these (${DIFF_KINDS.join(",")})`)
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["txt", "json", "csv", "md", "sarif"])
        .default("txt"),
    );
  addInputOptions(cmd);
  return cmd.action((opts: InputOptions & { against: string[]; failOn?: string; output: Format }) => {
    const failOn = opts.failOn === undefined ? [] : parseFailOn(opts.failOn, DIFF_KINDS);
    if (opts.against.length === 0)
      throw new CliExit(EXIT_BAD_INPUT, "error: --against: give the new manifests (a file or directory)");
    const before = loadOrExit(opts.filename);
    // With a live cluster (--context), the new state is that cluster with --against applied to it.
    const after = loadOrExit(opts.against, undefined, { overlay: true, flag: "--against" });
    // PODNET_DEBUG=1: how the diff was computed (scoped or in full, the old analysis reused or why not).
    const note = process.env.PODNET_DEBUG
      ? (line: string) => process.stderr.write(`diff: ${line}\n`)
      : undefined;
    const started = { wall: performance.now(), cpu: process.cpuUsage() };
    let diffs = diffConnections(before, after, note ? { note } : {});
    if (note) {
      const cpu = process.cpuUsage(started.cpu);
      note(
        `analysed in ${Math.round(performance.now() - started.wall)} ms after both loads (CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms)`,
      );
    }
    if (opts.namespace && !opts.allNamespaces)
      diffs = diffs.filter(
        (d) => d.src.startsWith(`${opts.namespace}/`) || d.dst.startsWith(`${opts.namespace}/`),
      );
    process.stdout.write(
      opts.output === "sarif"
        ? renderSarif({
            version: packageVersion(),
            rules: DIFF_RULES,
            findings: diffFindings(before, after, diffs, failOn),
          })
        : renderDiff(diffs, opts.output, failOn),
    );
    if (diffs.length === 0) {
      const ns = opts.namespace && !opts.allNamespaces ? opts.namespace : undefined;
      for (const [side, state] of [
        ["-f", before],
        ["--against", after],
      ] as const) {
        const note = noRunningPods(state, ns);
        if (note) printNote(`${side} input: ${note}`);
      }
    }
    const failing = diffs.filter((d) => failOn.includes(d.kind));
    if (failing.length > 0) {
      throw new CliExit(
        EXIT_FINDING,
        `diff: ${failing.length} connection${failing.length === 1 ? "" : "s"} ${[...new Set(failing.map((d) => d.kind))].join(" or ")} (--fail-on ${failOn.join(",")})`,
      );
    }
  });
}
