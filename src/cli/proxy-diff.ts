/**
 * `podnet proxy-diff -f … [--from MODE] --to MODE [-o text|json|md] [--fail-on KINDS]`: the flows
 * whose fate changes when the cluster switches kube-proxy mode (src/core/views/proxy-diff.ts),
 * grouped by kind of change with counts and a reason each; with --fail-on, exit 1 when any flow
 * changes in one of those kinds, for CI gates. `--from` defaults to the cluster's own `proxyMode`.
 */
import { Command, Option } from "commander";
import { proxyModeNames } from "../core/proxy/modes/registry.ts";
import {
  CHANGE_KINDS,
  type ChangeKind,
  diffProxyModes,
  type FlowChange,
  type FlowOutcome,
  flowLabel,
  type ProxyDiff,
} from "../core/views/proxy-diff.ts";
import {
  addInputOptions,
  CliExit,
  EXIT_BAD_INPUT,
  EXIT_FINDING,
  type InputOptions,
  loadOrExit,
  parseFailOn,
} from "./common.ts";

type Format = "text" | "json" | "md";

/** What each kind of change means, for the text and markdown headings. */
const KIND_TITLES: Record<ChangeKind, string> = {
  lost: "lost: reached in the old mode, rejected or dropped in the new one",
  gained: "gained: rejected or dropped in the old mode, reached in the new one",
  rerouted: "rerouted: routed elsewhere (another kind of place, or out of the node)",
  verdict: "verdict: stopped in both, rejected against dropped",
  endpoints: "endpoints: other endpoints can be reached",
  masquerade: "masquerade: the source is masqueraded in one mode only",
};

/** Rows a text group lists before "… and N more" (all with --all). */
const TEXT_ROWS = 5;

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

function outcome(o: FlowOutcome): string {
  const where = o.reaches === "nothing" ? "" : ` → ${o.reaches}`;
  const eps = o.endpoints.length ? ` [${o.endpoints.join(" ")}]` : "";
  return `${o.verdict}${where}${eps}${o.masquerade ? ", masqueraded" : ""}`;
}

function rowLine(c: FlowChange): string {
  const many = c.nodes > 1 ? ` (×${plural(c.nodes, "node")}: ${c.nodeClass})` : "";
  return `${flowLabel(c)}${many}: ${outcome(c.from)} ⇒ ${outcome(c.to)}`;
}

/** The diff as text, markdown or JSON. `all`: every row of every group in text (default: the first 5). */
export function renderProxyDiff(d: ProxyDiff, format: Format, opts: { all?: boolean } = {}): string {
  if (format === "json") return `${JSON.stringify(d, null, 2)}\n`;
  const judge = d.judge === "model" ? "the model" : "each mode's rendered rules";
  const changed = d.changes.reduce((n, c) => n + c.nodes, 0);
  const head = `${d.from} → ${d.to}: ${plural(d.examined.rows, "flow")} examined (${plural(d.examined.flows, "flow")} counted per node, ${plural(d.traced, "shape")} traced in each mode, kube-proxy decisions by ${judge}); ${plural(d.changes.length, "flow")} change (${changed.toLocaleString("en-US")} per node)`;
  if (format === "md") {
    const esc = (s: string) => s.replace(/\|/g, "\\|");
    const lines = [
      `**proxy-diff** ${esc(head)}`,
      "",
      "| kind | change | flows | per node | reason | example |",
      "|------|--------|------:|---------:|--------|---------|",
      ...d.groups.map(
        (g) =>
          `| ${g.kind} | ${esc(g.change)} | ${g.rows} | ${g.flows} | ${esc(g.reason)} | ${esc(g.example.flow)} |`,
      ),
    ];
    if (d.changes.length > 0) {
      lines.push(
        "",
        `| kinds | flow | nodes | ${d.from} | ${d.to} |`,
        "|-------|------|------:|------|------|",
        ...d.changes.map(
          (c) =>
            `| ${c.kinds.join(", ")} | ${esc(flowLabel(c))} | ${c.nodes} | ${esc(outcome(c.from))} | ${esc(outcome(c.to))} |`,
        ),
      );
    }
    return `${lines.join("\n")}\n`;
  }
  const out = [head];
  if (d.groups.length === 0)
    return `${head}\nno flow${d.namespace ? ` to a Service of namespace ${d.namespace}` : ""} changes between ${d.from} and ${d.to} mode\n`;
  for (const kind of CHANGE_KINDS) {
    const groups = d.groups.filter((g) => g.kind === kind);
    if (groups.length === 0) continue;
    const rows = groups.reduce((n, g) => n + g.rows, 0);
    const flows = groups.reduce((n, g) => n + g.flows, 0);
    out.push(
      "",
      `${KIND_TITLES[kind]} — ${plural(rows, "flow")} (${flows.toLocaleString("en-US")} per node)`,
    );
    for (const g of groups) {
      out.push(`  ${g.change} — ${plural(g.rows, "flow")} (${g.flows.toLocaleString("en-US")} per node)`);
      out.push(`    why: ${g.reason}`);
      const gi = d.groups.indexOf(g);
      const members = d.changes.filter((c) => c.group === gi);
      const shown = opts.all ? members : members.slice(0, TEXT_ROWS);
      for (const c of shown) out.push(`    - ${rowLine(c)}`);
      if (shown.length < members.length)
        out.push(
          `    … and ${plural(members.length - shown.length, "more flow")} (--all or -o json lists them)`,
        );
      out.push(`    e.g. ${g.example.from}`, `         ${g.example.to}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** A mode name the registry has, or exit 2 naming the registered ones. */
function checkMode(option: string, name: string): string {
  const names: readonly string[] = proxyModeNames();
  if (!names.includes(name)) {
    // Mode names are case-sensitive, as kube-proxy's --proxy-mode; a case-only slip names the one meant.
    const near = names.find((n) => n.toLowerCase() === name.toLowerCase());
    throw new CliExit(
      EXIT_BAD_INPUT,
      `error: ${option}: unknown proxy mode "${name}"${near ? ` (did you mean ${near}?)` : ""}; the registered modes are ${names.join(", ")}`,
    );
  }
  return name;
}

export function proxyDiffCommand(): Command {
  const cmd = new Command("proxy-diff")
    .description(
      "flows whose fate changes when the cluster switches kube-proxy mode (--from the cluster's own, --to another)",
    )
    .option(
      "--from <mode>",
      `the mode switched from (${proxyModeNames().join(", ")}; default: the cluster's proxyMode)`,
    )
    .requiredOption("--to <mode>", `the mode switched to (${proxyModeNames().join(", ")})`)
    .option(
      "--fail-on <kinds>",
      `exit 1 when any flow changes in one of these kinds (${CHANGE_KINDS.join(",")})`,
    )
    .option("--all", "text: list every flow of each group (default: the first 5)")
    .addOption(
      new Option(
        "--judge <judge>",
        "who answers kube-proxy's questions: the model or each mode's rendered rules",
      )
        .choices(["model", "rules"])
        .default("model"),
    )
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "json", "md"]).default("text"),
    );
  addInputOptions(cmd);
  return cmd.action(
    (
      opts: InputOptions & {
        from?: string;
        to: string;
        failOn?: string;
        all?: boolean;
        judge: "model" | "rules";
        output: Format;
      },
    ) => {
      const failOn = opts.failOn === undefined ? [] : parseFailOn(opts.failOn, CHANGE_KINDS);
      const to = checkMode("--to", opts.to);
      if (opts.from !== undefined) checkMode("--from", opts.from);
      const state = loadOrExit(opts.filename);
      const from = opts.from ?? state.config.proxyMode;
      const others = proxyModeNames()
        .filter((n) => n !== from)
        .join(", ");
      if (from === to)
        throw new CliExit(
          EXIT_BAD_INPUT,
          opts.from === undefined
            ? `error: --to ${to}: the cluster already runs in ${from} mode (its proxyMode); name another mode (${others}) or give --from`
            : `error: --from and --to both name ${to}: nothing to compare; name two different modes (${proxyModeNames().join(", ")})`,
        );
      const namespace = opts.namespace && !opts.allNamespaces ? opts.namespace : undefined;
      const diff = diffProxyModes(state, { from, to, judge: opts.judge, namespace });
      process.stdout.write(renderProxyDiff(diff, opts.output, { all: opts.all }));
      const failing = diff.changes.filter((c) => c.kinds.some((k) => failOn.includes(k)));
      if (failing.length > 0) {
        const kinds = new Set(failing.flatMap((c) => c.kinds.filter((k) => failOn.includes(k))));
        throw new CliExit(
          EXIT_FINDING,
          `proxy-diff: ${plural(failing.length, "flow")} changed (${[...kinds].join(", ")}) from ${from} to ${to} (--fail-on ${failOn.join(",")})`,
        );
      }
    },
  );
}
