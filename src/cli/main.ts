/**
 * The `podnet` command line: one file per command under src/cli, wired here. Usage errors exit 2,
 * like bad input; no command prints a stack trace for a user's mistake.
 */

import { Command, CommanderError } from "commander";
import { type Diagnostic, diagnosticToJSON, sortDiagnostics } from "../core/diagnostics.ts";
import { checkCommand } from "./check.ts";
import { CliExit, EXIT_BAD_INPUT, packageVersion } from "./common.ts";
import { connlistCommand } from "./connlist.ts";
import {
  applyCommand,
  downCommand,
  execCommand,
  probeCommand,
  statusCommand,
  upCommand,
} from "./dataplane.ts";
import { demoCommand } from "./demo.ts";
import { diffCommand } from "./diff.ts";
import { dnsCommand, resolveCommand } from "./dns.ts";
import { explainCommand } from "./explain.ts";
import { fibCommand } from "./fib.ts";
import { getCommand } from "./get.ts";
import { lintCommand } from "./lint.ts";
import { matrixCommand } from "./matrix.ts";
import { proxyDiffCommand } from "./proxy-diff.ts";
import { diagnosticFinding, renderSarif } from "./render/sarif.ts";
import { reportCommand } from "./report.ts";
import { routesCommand } from "./routes.ts";
import { rulesCommand } from "./rules.ts";
import { snapshotCommand } from "./snapshot.ts";
import { traceCommand } from "./trace.ts";
import { uiCommand } from "./ui.ts";

export function buildProgram(): Command {
  const program = new Command("podnet")
    .description(
      "Kubernetes cluster networking from real manifests: the cluster Kubernetes would build, explained",
    )
    .version(packageVersion(), "--version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const cmd of [
    getCommand(),
    traceCommand(),
    routesCommand(),
    rulesCommand(),
    fibCommand(),
    explainCommand(),
    resolveCommand(),
    matrixCommand(),
    connlistCommand(),
    diffCommand(),
    proxyDiffCommand(),
    lintCommand(),
    checkCommand(),
    demoCommand(),
    uiCommand(),
    reportCommand(),
    dnsCommand(),
    upCommand(),
    execCommand(),
    probeCommand(),
    applyCommand(),
    statusCommand(),
    downCommand(),
    snapshotCommand(),
  ]) {
    program.addCommand(cmd.exitOverride().showHelpAfterError("(run with --help for usage)"));
  }
  return program;
}

/**
 * The output format the command line asks for (`-o F`, `-oF`, `--output F`, `--output=F`), read from
 * argv itself so that usage errors commander reports before any action know it too. Never for the
 * commands whose `-o` is a file (FILE_OUTPUT).
 */
export function outputFormat(argv: readonly string[]): string | undefined {
  if (FILE_OUTPUT.has(argv.find((a) => !a.startsWith("-")) ?? "")) return undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") return undefined;
    if ((a === "-o" || a === "--output") && i + 1 < argv.length) return argv[i + 1];
    if (a.startsWith("--output=")) return a.slice("--output=".length);
    if (a.startsWith("-o") && a.length > 2 && !a.startsWith("--")) return a.slice(2);
  }
  return undefined;
}

/** The commands whose `-o` names the file to write, not a format. */
const FILE_OUTPUT = new Set(["snapshot", "report"]);

/**
 * Runs the CLI; returns the exit code. With `-o json`, a run that fails before its command printed
 * its answer still prints one JSON object on stdout, `{error, exitCode, diagnostics?}` (the
 * diagnostics of bad input as `diagnosticToJSON` gives them), so a JSON reader always gets JSON;
 * the message goes to stderr as well. With `-o sarif`, input that does not load still gives a SARIF
 * log: its errors as results at their file:line:col, so code scanning marks the lines that stop the
 * command (other failures have no position and print no log).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const format = outputFormat(argv);
  const json = format === "json";
  const sarif = format === "sarif";
  let answered = false;
  const write = process.stdout.write;
  if (json || sarif)
    process.stdout.write = function (this: typeof process.stdout, ...args: Parameters<typeof write>) {
      answered = true;
      return write.apply(this, args);
    } as typeof write;
  const failureOutput = (code: number, message: string, diagnostics?: readonly Diagnostic[]): number => {
    const errors = diagnostics?.filter((d) => d.severity === "error") ?? [];
    if (sarif && !answered && code !== 0 && errors.length > 0)
      write.call(
        process.stdout,
        renderSarif({
          version: packageVersion(),
          rules: [],
          findings: sortDiagnostics(errors).map(diagnosticFinding),
        }),
      );
    if (json && !answered && code !== 0) {
      const text =
        message.replace(/^error: /, "") ||
        (errors.length
          ? `${errors.length} error${errors.length === 1 ? "" : "s"} in the input; nothing was resolved`
          : "failed");
      write.call(
        process.stdout,
        `${JSON.stringify({ error: text, exitCode: code, ...(diagnostics ? { diagnostics: sortDiagnostics(diagnostics).map(diagnosticToJSON) } : {}) }, null, 2)}\n`,
      );
    }
    return code;
  };
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CliExit) {
      if (e.message) process.stderr.write(`${e.message}\n`);
      return failureOutput(e.code, e.message, e.diagnostics);
    }
    if (e instanceof CommanderError) {
      // Help and version are successes; everything else commander reports is a usage error.
      if (
        e.code === "commander.helpDisplayed" ||
        e.code === "commander.version" ||
        e.code === "commander.help"
      )
        return 0;
      return failureOutput(EXIT_BAD_INPUT, e.message);
    }
    if ((e as NodeJS.ErrnoException)?.code === "EPIPE") return 0;
    process.stderr.write(
      `podnet: internal error: ${(e as Error)?.message ?? e}\nPlease report this with the input that caused it.\n`,
    );
    if (process.env.PODNET_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return failureOutput(70, `internal error: ${(e as Error)?.message ?? e}`);
  } finally {
    if (json || sarif) process.stdout.write = write;
  }
}
