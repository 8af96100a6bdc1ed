/**
 * `podnet connlist -f … [-o txt|json|csv|md|dot]`: every allowed connection, aggregated per workload
 * (src/core/policy/connlist.ts), in the grammar users of connectivity analysers know:
 * `ns/a[Deployment] => ns/b[Deployment] : TCP 8080`.
 */
import { Command, Option } from "commander";
import type { ClusterState } from "../core/control/state.ts";
import { type Connection, connlist, connText, workloadOf } from "../core/policy/connlist.ts";
import { ingressesWithRealController, routeLines } from "../core/sim/http-routers.ts";
import { connlistGraph } from "../core/views/policy.ts";
import { drawGraph } from "../ui/draw/graph.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, type InputOptions, loadOrExit } from "./common.ts";
import { noRunningPods, podCensus, printNote } from "./empty-answer.ts";

/**
 * The lines in one format: `txt` (`src => dst : conn`), `json` (the Connection objects, `ownNode: true`
 * on the lines only the own-node exception makes), `csv` and `md` (columns src, dst, conn), `dot` (a
 * graph, a cluster per namespace). Outside json, an own-node line's conn ends with OWN_NODE_MARK; in dot
 * its edge is also dashed.
 */
export function renderConnlist(
  lines: readonly Connection[],
  format: "txt" | "json" | "csv" | "md" | "dot",
): string {
  const conn = connText;
  switch (format) {
    case "json":
      return `${JSON.stringify(lines, null, 2)}\n`;
    case "csv":
      return `src,dst,conn\n${lines.map((l) => `${l.src},${l.dst},${conn(l).includes(",") ? `"${conn(l)}"` : conn(l)}`).join("\n")}\n`;
    case "md":
      return `| src | dst | conn |\n|-----|-----|------|\n${lines.map((l) => `| ${l.src} | ${l.dst} | ${conn(l)} |`).join("\n")}\n`;
    case "dot": {
      const nodes = new Set(lines.flatMap((l) => [l.src, l.dst]));
      const byNs = new Map<string, string[]>();
      const outside: string[] = [];
      for (const n of [...nodes].sort()) {
        const slash = n.indexOf("/");
        if (n.endsWith("[External]") || slash < 0) outside.push(n);
        else byNs.set(n.slice(0, slash), [...(byNs.get(n.slice(0, slash)) ?? []), n]);
      }
      const out = ["digraph {"];
      for (const [ns, members] of byNs) {
        out.push(`\tsubgraph "cluster_${ns}[namespace]" {`, '\t\tcolor="black"', '\t\tfontcolor="black"');
        for (const m of members)
          out.push(`\t\t"${m}" [label="${m.slice(ns.length + 1)}" color="blue" fontcolor="blue"]`);
        out.push(`\t\tlabel="${ns}[namespace]"`, "\t}");
      }
      for (const n of outside) out.push(`\t"${n}" [label="${n}" color="red2" fontcolor="red2"]`);
      for (const l of lines)
        out.push(
          `\t"${l.src}" -> "${l.dst}" [label="${conn(l)}" color="gold2" fontcolor="darkgreen"${l.ownNode ? " style=dashed" : ""}]`,
        );
      out.push("}");
      return `${out.join("\n")}\n`;
    }
    default:
      return lines.map((l) => `${l.src} => ${l.dst} : ${conn(l)}\n`).join("");
  }
}

export function connlistCommand(): Command {
  const cmd = new Command("connlist")
    .description(
      "every allowed connection under NetworkPolicy, aggregated per workload (ns/a[Deployment] => ns/b[Deployment] : TCP 8080)",
    )
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["txt", "json", "csv", "md", "dot", "svg"])
        .default("txt"),
    )
    .option(
      "--routes",
      "instead: every Ingress/HTTPRoute rule as `controller => host path : backends (rule)`, in each controller's precedence order",
    );
  addInputOptions(cmd);
  return cmd.action(
    async (
      opts: InputOptions & { output: "txt" | "json" | "csv" | "md" | "dot" | "svg"; routes?: boolean },
    ) => {
      const state = loadOrExit(opts.filename);
      if (opts.routes) {
        writeRoutes(state, opts);
        return;
      }
      // An Ingress whose controller runs as a pod of the input: that pod's lines are the controller's.
      let lines = connlist(state, { realControllers: ingressesWithRealController(state) });
      if (opts.namespace && !opts.allNamespaces)
        lines = lines.filter(
          (l) => l.src.startsWith(`${opts.namespace}/`) || l.dst.startsWith(`${opts.namespace}/`),
        );
      // svg: the lines as a graph (core/views/policy.ts), laid out in-process with elkjs.
      process.stdout.write(
        opts.output === "svg"
          ? await drawGraph(
              connlistGraph(lines),
              `connlist${opts.namespace && !opts.allNamespaces ? ` -n ${opts.namespace}` : ""}`,
            )
          : renderConnlist(lines, opts.output),
      );
      if (lines.length === 0) {
        const ns = opts.namespace && !opts.allNamespaces ? opts.namespace : undefined;
        const running = podCensus(state, ns).running;
        printNote(
          noRunningPods(state, ns) ??
            `no allowed connection between different workloads among the ${running} Running pod${running === 1 ? "" : "s"}${ns ? ` of namespace ${ns}` : ""} (a workload's connections to itself are not listed)`,
        );
      }
    },
  );
}

/**
 * `connlist --routes`: each controller's routing table (the routing core's `Router.listing()`), one
 * line per (host, path) with its backends and the rule it comes from; `-o json` gives the objects.
 */
function writeRoutes(state: ClusterState, opts: InputOptions & { output: string }): void {
  const all = routeLines(state, workloadOf(state));
  const ns = opts.namespace && !opts.allNamespaces ? opts.namespace : undefined;
  // -n keeps a line with an end in the namespace, as for connections: the controller's workload, a
  // backend Service, or the Ingress/HTTPRoute the line comes from.
  const rows = ns
    ? all.filter(
        (r) =>
          r.controller.startsWith(`${ns}/`) ||
          r.rule.split(" ")[1].startsWith(`${ns}/`) ||
          r.backends.some((b) => b.startsWith(`${ns}/`)),
      )
    : all;
  if (opts.output === "json") process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else if (opts.output !== "txt")
    throw new CliExit(EXIT_BAD_INPUT, "error: -o: connlist --routes prints txt or json");
  else
    process.stdout.write(
      rows
        .map((r) => `${r.controller} => ${r.host} ${r.path} : ${r.backends.join(", ")} (${r.rule})\n`)
        .join(""),
    );
  if (all.length === 0) printNote("no Ingress or HTTPRoute routes anything in the input");
  else if (rows.length === 0)
    printNote(
      `none of the input's ${all.length} route line${all.length === 1 ? "" : "s"} has its controller, backend or route object in namespace ${ns}`,
    );
}
