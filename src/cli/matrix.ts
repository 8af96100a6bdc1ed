/**
 * `podnet matrix -f … [--protocol P] [--port N] [-n NS] [-o table|json|csv|md|stats]`: who can reach
 * whom under NetworkPolicy, pod by pod (src/core/policy/matrix.ts). Rows are sources, columns
 * destinations, pods sorted by namespace then name. Without --port a cell is true when some port of the
 * protocol is allowed.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import type { Protocol } from "../core/model/k8s.ts";
import { computeMatrix } from "../core/policy/matrix.ts";
import { type HeatmapLevel, POD_LIMIT, ReachabilityView } from "../core/views/heatmap.ts";
import { drawHeatmap } from "../ui/draw/heatmap.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, type InputOptions, loadOrExit } from "./common.ts";
import { noRunningPods, printNote } from "./empty-answer.ts";

interface MatrixOptions extends InputOptions {
  protocol: string;
  port?: string;
  output: "table" | "json" | "csv" | "md" | "stats" | "svg";
  groupBy: HeatmapLevel;
}

export function matrixCommand(): Command {
  const cmd = new Command("matrix")
    .description("pod-by-pod reachability under NetworkPolicy (rows: from, columns: to)")
    .addOption(
      new Option("--protocol <p>", "protocol")
        .choices(["tcp", "udp", "sctp", "TCP", "UDP", "SCTP"])
        .default("TCP"),
    )
    .addOption(
      new Option("--port <n>", "one port (default: a cell is true when some port is allowed)").argParser(
        (v) => {
          if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535)
            throw new InvalidArgumentError("a port number (1-65535) is expected");
          return v;
        },
      ),
    )
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["table", "json", "csv", "md", "stats", "svg"])
        .default("table"),
    )
    .addOption(
      new Option(
        "--group-by <level>",
        "-o svg: a cell per pod, or per workload or namespace (allowed pairs counted)",
      )
        .choices(["pod", "workload", "namespace"])
        .default("pod"),
    );
  addInputOptions(cmd);
  return cmd.action((opts: MatrixOptions) => {
    if (opts.groupBy !== "pod" && opts.output !== "svg")
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: --group-by ${opts.groupBy} groups the cells of -o svg only; -o ${opts.output} has a row per pod\n  fix: add -o svg, or open the heatmap of \`podnet ui\` (it groups by namespace and workload)`,
      );
    const state = loadOrExit(opts.filename);
    if (opts.output === "svg") {
      // The heatmap view (core/views/heatmap.ts): the same cells as below, counted per group.
      const ns = opts.namespace && !opts.allNamespaces ? opts.namespace : undefined;
      const h = new ReachabilityView(state).heatmap({
        protocol: opts.protocol.toUpperCase() as Protocol,
        ...(opts.port ? { port: Number(opts.port) } : {}),
        level: opts.groupBy,
        rows: ns,
        cols: ns,
      });
      if (h.truncated)
        printNote(
          `the first ${POD_LIMIT} pods are drawn (${h.truncated.rows} left out): use --group-by workload or namespace, or -n`,
        );
      process.stdout.write(
        drawHeatmap(
          h,
          `matrix ${h.protocol} port ${h.port ?? "any"}${ns ? ` -n ${ns}` : ""}, by ${opts.groupBy}`,
        ),
      );
      return;
    }
    const started = performance.now();
    const m = computeMatrix(state, {
      protocol: opts.protocol.toUpperCase() as Protocol,
      ...(opts.port ? { port: Number(opts.port) } : {}),
      ...(opts.namespace && !opts.allNamespaces ? { namespace: opts.namespace } : {}),
    });
    const n = m.pods.length;
    if (n === 0)
      printNote(noRunningPods(state, opts.namespace && !opts.allNamespaces ? opts.namespace : undefined));
    const row = (i: number) => Array.from({ length: n }, (_, j) => m.allowed(i, j));
    const portText = m.port !== undefined ? String(m.port) : "any";
    switch (opts.output) {
      case "json":
        process.stdout.write(
          `${JSON.stringify({ protocol: m.protocol, port: m.port ?? null, pods: m.pods, matrix: Array.from({ length: n }, (_, i) => row(i)) })}\n`,
        );
        return;
      case "csv":
        process.stdout.write(
          `${["from\\to", ...m.pods].join(",")}\n${m.pods.map((p, i) => [p, ...row(i)].join(",")).join("\n")}\n`,
        );
        return;
      case "md":
        process.stdout.write(
          `| from \\ to | ${m.pods.join(" | ")} |\n|${" --- |".repeat(n + 1)}\n${m.pods
            .map(
              (p, i) =>
                `| ${p} | ${row(i)
                  .map((x) => (x ? "✓" : "✗"))
                  .join(" | ")} |`,
            )
            .join("\n")}\n`,
        );
        return;
      case "stats": {
        const allowed = m.allowedPairs();
        const ms = performance.now() - started;
        process.stdout.write(
          `protocol ${m.protocol}, port ${portText}: ${n} pods in ${m.classes} classes, ${m.atoms} port atoms, ${m.profiles.ingress} ingress and ${m.profiles.egress} egress profiles; ${allowed} of ${n * n} ordered pairs allowed (${n * n - allowed} denied); ${ms.toFixed(1)} ms\n`,
        );
        return;
      }
      default: {
        const width = String(n).length;
        const names = m.pods.map((p, i) => `${String(i + 1).padStart(width)} ${p}`);
        const pad = names.reduce((w, x) => Math.max(w, x.length), 9);
        const header = `${"from \\ to".padEnd(pad)}  ${m.pods.map((_, j) => String(j + 1).padStart(width)).join(" ")}`;
        const lines = names.map(
          (name, i) =>
            `${name.padEnd(pad)}  ${row(i)
              .map((x) => (x ? "✓" : "·").padStart(width))
              .join(" ")}`,
        );
        process.stdout.write(
          `${m.protocol} port ${portText}: ✓ allowed, · denied (columns are numbered like the rows)\n${header}\n${lines.join("\n")}\n`,
        );
      }
    }
  });
}
