/**
 * The `podnet` command line: one file per command under src/cli, wired here. Usage errors exit 2,
 * like bad input; no command prints a stack trace for a user's mistake.
 */

import { Command, CommanderError } from "commander";
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
import { reportCommand } from "./report.ts";
import { routesCommand } from "./routes.ts";
import { rulesCommand } from "./rules.ts";
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
  ]) {
    program.addCommand(cmd.exitOverride().showHelpAfterError("(run with --help for usage)"));
  }
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CliExit) {
      if (e.message) process.stderr.write(`${e.message}\n`);
      return e.code;
    }
    if (e instanceof CommanderError) {
      // Help and version are successes; everything else commander reports is a usage error.
      if (
        e.code === "commander.helpDisplayed" ||
        e.code === "commander.version" ||
        e.code === "commander.help"
      )
        return 0;
      return EXIT_BAD_INPUT;
    }
    if ((e as NodeJS.ErrnoException)?.code === "EPIPE") return 0;
    process.stderr.write(
      `podnet: internal error: ${(e as Error)?.message ?? e}\nPlease report this with the input that caused it.\n`,
    );
    if (process.env.PODNET_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return 70;
  }
}
