/**
 * `podnet lint -f … [-o text|json|sarif]`: findings about the policies (src/core/policy/lint.ts) and
 * about HTTP routing (src/core/routing/lint.ts), each at its file, line and column; exit 1 when there
 * is one. `-o sarif` writes a SARIF 2.1.0 log (./render/sarif.ts) for code-scanning tools; the checks
 * it skipped are then told on stderr.
 */
import { Command, Option } from "commander";
import { diagnosticToJSON, formatDiagnostic, sortDiagnostics } from "../core/diagnostics.ts";
import { lintPolicies } from "../core/policy/lint.ts";
import { lintRouting, ROUTING_LINT_RULES } from "../core/routing/lint.ts";
import {
  addInputOptions,
  CliExit,
  EXIT_FINDING,
  type InputOptions,
  loadOrExit,
  packageVersion,
} from "./common.ts";
import { noRunningPods, printNote } from "./empty-answer.ts";
import { diagnosticFinding, LINT_RULES, renderSarif } from "./render/sarif.ts";

export function lintCommand(): Command {
  const cmd = new Command("lint")
    .description(
      "findings about the policies (selectors that match nothing, unmatched named ports, blocked DNS, policies without effect) and HTTP routing (shadowed rules, missing backends, routes no Gateway accepts, hosts two controllers claim); exit 1 when any",
    )
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "json", "sarif"]).default("text"),
    );
  addInputOptions(cmd);
  return cmd.action((opts: InputOptions & { output: "text" | "json" | "sarif" }) => {
    const state = loadOrExit(opts.filename);
    const policy = lintPolicies(state);
    const routing = lintRouting(state);
    const report = {
      findings: [...policy.findings, ...routing.findings],
      skipped: [...policy.skipped, ...routing.skipped],
    };
    let findings = sortDiagnostics(report.findings);
    if (opts.namespace && !opts.allNamespaces)
      findings = findings.filter(
        (d) => d.object?.includes(` ${opts.namespace}/`) || d.object?.startsWith(`${opts.namespace}/`),
      );
    if (opts.output === "sarif") {
      process.stdout.write(
        renderSarif({
          version: packageVersion(),
          rules: [...LINT_RULES, ...ROUTING_LINT_RULES],
          findings: findings.map(diagnosticFinding),
        }),
      );
      for (const s of report.skipped) process.stderr.write(`skipped ${s}\n`);
    } else if (opts.output === "json") {
      process.stdout.write(
        `${JSON.stringify({ findings: findings.map(diagnosticToJSON), skipped: report.skipped }, null, 2)}\n`,
      );
    } else {
      for (const d of findings) process.stdout.write(`${formatDiagnostic(d)}\n`);
      for (const s of report.skipped) process.stdout.write(`skipped ${s}\n`);
      process.stdout.write(`${findings.length} finding${findings.length === 1 ? "" : "s"}\n`);
    }
    // Policies judged against no running pod: say so, whatever the findings.
    printNote(noRunningPods(state, opts.namespace && !opts.allNamespaces ? opts.namespace : undefined));
    if (findings.length > 0) throw new CliExit(EXIT_FINDING);
  });
}
