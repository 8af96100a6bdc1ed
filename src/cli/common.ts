/**
 * What every podnet command shares: the input options (`-f`, `-n`, `-A`), loading with diagnostics
 * printed to stderr, and the exit codes (0 success, 1 a finding the command was asked to fail on,
 * 2 bad input or usage).
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { readSources } from "../adapters/manifests/read.ts";
import { resolveManifests } from "../core/cluster.ts";
import type { ClusterState } from "../core/control/state.ts";
import { type Diagnostic, Diagnostics, formatDiagnostic, sortDiagnostics } from "../core/diagnostics.ts";
import { dns1123LabelError } from "../core/manifests/check.ts";

export const EXIT_OK = 0;
export const EXIT_FINDING = 1;
export const EXIT_BAD_INPUT = 2;

/** Thrown by commands to stop with an exit code after printing a message. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = "",
    /** The input's diagnostics when the exit is for bad input (for `-o json`'s error object). */
    readonly diagnostics?: readonly Diagnostic[],
  ) {
    super(message);
  }
}

export interface InputOptions {
  filename: string[];
  namespace?: string;
  allNamespaces?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addInputOptions(
  cmd: Command,
  opts: { filenameRequired: boolean } = { filenameRequired: true },
): Command {
  return cmd
    .option(
      "-f, --filename <path>",
      `manifest file or directory (recursive; .yaml, .yml, .json); repeatable; - reads stdin${opts.filenameRequired ? "" : " (default: the bundled example)"}`,
      collect,
      [],
    )
    .option(
      "-n, --namespace <ns>",
      "only this namespace; objects that name no namespace are placed in it (as kubectl apply -n)",
    )
    .option("-A, --all-namespaces", "all namespaces (the default)")
    .hook("preAction", (command) => {
      const ns = command.opts().namespace;
      loadNamespace = typeof ns === "string" ? ns : undefined;
      loadCommand = command.name();
    });
}

/**
 * The `-n` of the command being run, recorded before its action starts, so that every command
 * that loads places namespace-less objects there without passing it along.
 */
let loadNamespace: string | undefined;
/** The command being run (`get` lists an empty namespace as kubectl does, see `loadOrExit`). */
let loadCommand: string | undefined;

const color = {
  enabled: process.stderr.isTTY === true && !process.env.NO_COLOR,
  red: (s: string) => (color.enabled ? `\x1b[31m${s}\x1b[0m` : s),
  yellow: (s: string) => (color.enabled ? `\x1b[33m${s}\x1b[0m` : s),
};

export function printDiagnostics(diags: readonly Diagnostic[]): void {
  for (const d of sortDiagnostics(diags)) {
    const text = formatDiagnostic(d);
    const tag = `${d.severity}:`;
    process.stderr.write(
      `${text.replace(tag, d.severity === "error" ? color.red(tag) : color.yellow(tag))}\n`,
    );
  }
  const errors = diags.filter((d) => d.severity === "error").length;
  if (errors > 0) process.stderr.write(`${errors} error${errors === 1 ? "" : "s"}; nothing was resolved.\n`);
}

/**
 * Loads the cluster from `-f` inputs; prints diagnostics (but the warnings of the codes in
 * `opts.reportsItself`, which the command reports in its own answer); throws CliExit(2) on any error,
 * and when `-n` names a namespace the cluster does not have (`requireNamespace`; not for `get`).
 * `namespace` (default: the command's `-n`) is where objects that name no namespace are placed,
 * as `kubectl apply -n NS` does; the command still filters its views by `-n` itself.
 */
export function loadOrExit(
  files: readonly string[],
  namespace = loadNamespace,
  opts: { reportsItself?: readonly string[] } = {},
): ClusterState {
  if (files.length === 0) {
    throw new CliExit(
      EXIT_BAD_INPUT,
      "error: no input: give manifests with -f FILE|DIR (repeatable; - reads standard input)",
    );
  }
  const nsErr = namespace === undefined ? undefined : dns1123LabelError(namespace);
  if (nsErr)
    throw new CliExit(
      EXIT_BAD_INPUT,
      `error: -n ${namespace}: ${nsErr}; namespace names are DNS-1123 labels`,
    );
  const diags = new Diagnostics();
  const sources = readSources(files, diags);
  const result = diags.hasErrors
    ? { ok: false as const, diagnostics: diags.items }
    : resolveManifests(sources, diags, { namespace });
  // Warnings the command reports itself, one line per object (check's Pending pods), are left out
  // here, so that no fault is reported twice.
  const omit = new Set(opts.reportsItself ?? []);
  printDiagnostics(
    result.ok
      ? result.diagnostics.filter((d) => d.severity === "error" || !omit.has(d.code))
      : result.diagnostics,
  );
  if (!result.ok) throw new CliExit(EXIT_BAD_INPUT, "", result.diagnostics);
  // A view narrowed to a namespace the cluster does not have is an error, not an empty answer;
  // `get` answers "No resources found in NS namespace." as kubectl does.
  if (loadCommand !== "get") requireNamespace(result.cluster, namespace);
  return result.cluster;
}

/**
 * Throws CliExit(2) when `-n NS` names a namespace the cluster does not have (none of its objects
 * is in it, and no Namespace object defines it), naming the namespaces there are: a view narrowed
 * to a namespace that does not exist would print empty tables as if that were the answer.
 */
export function requireNamespace(state: ClusterState, namespace: string | undefined): void {
  if (namespace === undefined || state.namespaces.some((n) => n.metadata.name === namespace)) return;
  const names = state.namespaces.map((n) => n.metadata.name);
  throw new CliExit(
    EXIT_BAD_INPUT,
    `error: -n ${namespace}: the cluster has no namespace "${namespace}"; it has ${names.join(", ")}`,
  );
}

/** The installed package's root (works from src/ under tsx and from dist/ alike). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "podnet") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("podnet's package.json not found");
    dir = up;
  }
}

export function packageVersion(): string {
  return JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")).version;
}
