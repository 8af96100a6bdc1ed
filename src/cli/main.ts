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
 * Whether the command line asks for JSON (`-o json`, `-ojson`, `--output json`, `--output=json`),
 * read from argv itself so that usage errors commander reports before any action know it too. Never
 * for `snapshot`, whose `-o` is a file.
 */
export function wantsJson(argv: readonly string[]): boolean {
  // `snapshot -o` names the file to write, not a format (a `-o json` there is refused as such).
  if (argv.find((a) => !a.startsWith("-")) === "snapshot") return false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") return false;
    if ((a === "-o" || a === "--output") && argv[i + 1] === "json") return true;
    if (a === "-ojson" || a === "--output=json") return true;
  }
  return false;
}

/**
 * Runs the CLI; returns the exit code. With `-o json`, a run that fails before its command printed
 * its answer still prints one JSON object on stdout, `{error, exitCode, diagnostics?}` (the
 * diagnostics of bad input as `diagnosticToJSON` gives them), so a JSON reader always gets JSON;
 * the message goes to stderr as well.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const json = wantsJson(argv);
  let answered = false;
  const write = process.stdout.write;
  if (json)
    process.stdout.write = function (this: typeof process.stdout, ...args: Parameters<typeof write>) {
      answered = true;
      return write.apply(this, args);
    } as typeof write;
  const jsonError = (code: number, message: string, diagnostics?: readonly Diagnostic[]): number => {
    if (json && !answered && code !== 0) {
      const errors = diagnostics?.filter((d) => d.severity === "error") ?? [];
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
      return jsonError(e.code, e.message, e.diagnostics);
    }
    if (e instanceof CommanderError) {
      // Help and version are successes; everything else commander reports is a usage error.
      if (
        e.code === "commander.helpDisplayed" ||
        e.code === "commander.version" ||
        e.code === "commander.help"
      )
        return 0;
      return jsonError(EXIT_BAD_INPUT, e.message);
    }
    if ((e as NodeJS.ErrnoException)?.code === "EPIPE") return 0;
    process.stderr.write(
      `podnet: internal error: ${(e as Error)?.message ?? e}\nPlease report this with the input that caused it.\n`,
    );
    if (process.env.PODNET_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return jsonError(70, `internal error: ${(e as Error)?.message ?? e}`);
  } finally {
    if (json) process.stdout.write = write;
  }
}
