/**
 * What `podnet ui` and `podnet report` share: the `--against` option (a second input, for the diff
 * view) and loading both inputs as the web UI keeps them (src/ui/load.ts), their diagnostics printed
 * as every command prints them. A bad input does not stop either command: the page shows it.
 */
import type { Command } from "commander";
import type { LoadedInput } from "../ui/api.ts";
import { loadInput } from "../ui/load.ts";
import {
  CliExit,
  EXIT_BAD_INPUT,
  type InputOptions,
  liveObjectsForLoad,
  liveRead,
  printDiagnostics,
} from "./common.ts";

/** The input options with `--against`. */
export interface UiInputOptions extends InputOptions {
  against: string[];
}

/** Adds `--against <path>` (repeatable); `what` says what the second input adds. */
export function addAgainstOption(cmd: Command, what: string): Command {
  return cmd.option(
    "--against <path>",
    `a second input (the change)${what}; repeatable`,
    (v: string, prev: string[]) => [...prev, v],
    [] as string[],
  );
}

/**
 * Loads `-f` (and `--against` when given) with `-n`, and the live cluster of `--context` /
 * `--kubeconfig` when given (`--against` then applies to it, as `diff --context --against` does),
 * printing each one's diagnostics to stderr. Throws CliExit (exit 2) when there is no input.
 */
export function loadUiInputs(opts: UiInputOptions): { input: LoadedInput; against?: LoadedInput } {
  const live = liveRead();
  if (opts.filename.length === 0 && !live)
    throw new CliExit(
      EXIT_BAD_INPUT,
      "error: no input: give manifests with -f FILE|DIR (repeatable; - reads standard input) or read a live cluster with --context NAME / --kubeconfig PATH",
    );
  const ns = opts.namespace && !opts.allNamespaces ? opts.namespace : undefined;
  const liveInput = (overlay: boolean) => {
    const objects = liveObjectsForLoad();
    return live && objects ? { objects, overlay, name: `context ${live.context}` } : undefined;
  };
  const input = loadInput(opts.filename, ns, liveInput(false));
  printDiagnostics(input.diagnostics);
  const against = opts.against.length ? loadInput(opts.against, ns, liveInput(true)) : undefined;
  if (against) printDiagnostics(against.diagnostics);
  return { input, ...(against ? { against } : {}) };
}

/** What the page's title names: the `-f` paths and the live context, if any. */
export function inputTitle(opts: UiInputOptions): string {
  const live = liveRead();
  return [...opts.filename, ...(live ? [`context ${live.context}`] : [])].join(", ");
}
