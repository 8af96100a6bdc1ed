/**
 * What every podnet command shares: the input options (`-f`, `-n`, `-A`), loading with diagnostics
 * printed to stderr, and the exit codes (0 success, 1 a finding the command was asked to fail on,
 * 2 bad input or usage).
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import type { LiveRead } from "../adapters/manifests/live.ts";
import { readSources } from "../adapters/manifests/read.ts";
import { resolveManifests } from "../core/cluster.ts";
import type { ClusterState } from "../core/control/state.ts";
import { type Diagnostic, Diagnostics, formatDiagnostic, sortDiagnostics } from "../core/diagnostics.ts";
import { dns1123LabelError } from "../core/manifests/check.ts";
import type { RawObject } from "../core/manifests/parse.ts";

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
  /** `--kubeconfig PATH`: read the live cluster of this kubeconfig. */
  kubeconfig?: string;
  /** `--context [NAME]`: read the live cluster of this context (bare: the current context). */
  context?: string | true;
  /** `--request-timeout SECONDS` of the live read. */
  requestTimeout?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * A `--fail-on` list (`removed,changed`): the comma-separated kinds, each one of `kinds`; an unknown
 * kind is a usage error (exit 2) naming the kinds there are.
 */
export function parseFailOn<K extends string>(value: string, kinds: readonly K[]): K[] {
  const list = value.split(",").map((s) => s.trim());
  for (const k of list)
    if (!(kinds as readonly string[]).includes(k))
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: --fail-on: unknown kind "${k}"; use ${kinds.join(", ")} (comma-separated)`,
      );
  return list as K[];
}

/**
 * Adds the input options every command that reads a cluster shares: `-f`, `-n`, `-A`, and the live
 * cluster's `--kubeconfig`, `--context` and `--request-timeout`, read before the command's action
 * (see `liveRead`). `filenameHelp` replaces the help of `-f` (for a command whose `-f` has its own
 * default, as `probe`'s).
 */
export function addInputOptions(
  cmd: Command,
  opts: { filenameRequired: boolean; filenameHelp?: string } = { filenameRequired: true },
): Command {
  return cmd
    .option(
      "-f, --filename <path>",
      opts.filenameHelp ??
        `manifest file or directory (recursive; .yaml, .yml, .json); repeatable; - reads stdin${opts.filenameRequired ? "" : " (default: the bundled example)"}`,
      collect,
      [],
    )
    .option(
      "-n, --namespace <ns>",
      "only this namespace; objects that name no namespace are placed in it (as kubectl apply -n)",
    )
    .option("-A, --all-namespaces", "all namespaces (the default)")
    .option(
      "--kubeconfig <path>",
      "read the live cluster of this kubeconfig file (as kubectl; with -f, both are read)",
    )
    .option(
      "--context [name]",
      "read the live cluster of this kubeconfig context (KUBECONFIG, ~/.kube/config or in-cluster; bare: the current context)",
    )
    .option(
      "--request-timeout <duration>",
      "the live read's limit per request: whole seconds, or a duration as kubectl (30s, 1m30s, 1h)",
      "30",
    )
    .hook("preAction", async (command) => {
      const o = command.opts() as InputOptions;
      loadNamespace = typeof o.namespace === "string" ? o.namespace : undefined;
      loadCommand = command.name();
      live = undefined;
      liveUses = 0;
      // Checked whether or not this run reads a cluster: a bad value is bad input either way.
      requestTimeoutSeconds(o.requestTimeout ?? "30");
      if (o.kubeconfig !== undefined || o.context !== undefined) live = await readLiveOrExit(o);
    });
}

/** The live cluster read for the command being run (`--kubeconfig`/`--context`), if any. */
let live: LiveRead | undefined;
/** How many loads used `live`'s objects (the first uses them as they are, later ones copies). */
let liveUses = 0;

/** The live read of the command being run, if it was given `--kubeconfig` or `--context`. */
export function liveRead(): LiveRead | undefined {
  return live;
}

/**
 * Reads the live cluster of `o` (see readLiveOrExit) as the command's input, as if it had been given
 * `--kubeconfig`/`--context`: for a command whose default input is one recorded earlier (`probe`
 * re-reads the context `up` read).
 */
export async function useLive(o: InputOptions): Promise<LiveRead> {
  live = await readLiveOrExit(o);
  liveUses = 0;
  return live;
}

/**
 * The live cluster's objects for one more load (undefined without `--kubeconfig`/`--context`):
 * decoding defaults fields in place, so each load after the first gets copies. For loaders other
 * than `loadOrExit` (the web UI's `loadInput`).
 */
export function liveObjectsForLoad(): RawObject[] | undefined {
  return live ? liveObjects(live) : undefined;
}

/**
 * `--request-timeout` in seconds, read as kubectl reads it (client-go clientcmd: a whole number is
 * seconds, anything else a Go duration — `30s`, `1m30s`, `1.5h`, `500ms`, units ns us µs ms s m h).
 * Throws CliExit(2) for anything else, for 0 (kubectl: no limit; podnet bounds every read), for a
 * negative value and above an hour.
 */
export function requestTimeoutSeconds(text: string): number {
  const seconds = /^[+-]?\d+$/.test(text) ? Number(text) : goDurationSeconds(text);
  if (seconds === 0)
    throw new CliExit(
      EXIT_BAD_INPUT,
      "error: --request-timeout 0: kubectl reads 0 as no limit, but podnet bounds every read: give a limit up to 1h (e.g. 30s, 5m)",
    );
  if (!(seconds !== undefined && seconds > 0 && seconds <= 3600))
    throw new CliExit(
      EXIT_BAD_INPUT,
      `error: --request-timeout ${text}: write whole seconds (30) or a duration as kubectl does (30s, 1m30s, 1h), more than 0 and at most 1h`,
    );
  return seconds;
}

/** Go's time.ParseDuration, in seconds: a sign, then one or more `<decimal><unit>`; undefined when it does not parse. */
function goDurationSeconds(text: string): number | undefined {
  const m = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(text);
  if (!m) return undefined;
  const unit: Record<string, number> = {
    ns: 1e-9,
    us: 1e-6,
    µs: 1e-6,
    μs: 1e-6,
    ms: 1e-3,
    s: 1,
    m: 60,
    h: 3600,
  };
  let total = 0;
  for (const [, n, u] of m[2].matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g))
    total += Number(n) * unit[u];
  return m[1] === "-" ? -total : total;
}

/**
 * Reads the live cluster of `--kubeconfig`/`--context` (adapters/manifests/live.ts); prints its
 * warning (kinds not served or forbidden) to stderr; throws CliExit(2) with the reader's message
 * on any failure (configuration, unreachable server, TLS, credentials).
 */
export async function readLiveOrExit(o: InputOptions): Promise<LiveRead> {
  const seconds = requestTimeoutSeconds(o.requestTimeout ?? "30");
  // Loaded on first use: the Kubernetes client library takes a while to load, and only live reads need it.
  const { readLive, LiveError, KubeconfigError } = await import("../adapters/manifests/live.ts");
  try {
    const read = await readLive({
      ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
      ...(typeof o.context === "string" ? { context: o.context } : {}),
      timeoutMs: seconds * 1000,
    });
    if (read.warning) printDiagnostics([read.warning]);
    return read;
  } catch (e) {
    if (e instanceof LiveError || e instanceof KubeconfigError) throw new CliExit(EXIT_BAD_INPUT, e.message);
    throw e;
  }
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
 * as `kubectl apply -n NS` does; the command still filters its views by `-n` itself. `opts.flag`
 * names the option the paths came from in a path's error (default `-f`).
 */
export function loadOrExit(
  files: readonly string[],
  namespace = loadNamespace,
  opts: { reportsItself?: readonly string[]; overlay?: boolean; flag?: string } = {},
): ClusterState {
  if (files.length === 0 && !live) {
    throw new CliExit(
      EXIT_BAD_INPUT,
      "error: no input: give manifests with -f FILE|DIR (repeatable; - reads standard input) or read a live cluster with --context NAME / --kubeconfig PATH",
    );
  }
  const nsErr = namespace === undefined ? undefined : dns1123LabelError(namespace);
  if (nsErr)
    throw new CliExit(
      EXIT_BAD_INPUT,
      `error: -n ${namespace}: ${nsErr}; namespace names are DNS-1123 labels`,
    );
  const diags = new Diagnostics();
  const sources = readSources(files, diags, undefined, opts.flag);
  const result = diags.hasErrors
    ? { ok: false as const, diagnostics: diags.items }
    : resolveManifests(sources, diags, {
        namespace,
        ...(live ? { objects: liveObjects(live), overlay: !!opts.overlay } : {}),
      });
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

/** The live objects for one load: decoding defaults fields in place, so loads after the first get copies. */
function liveObjects(read: LiveRead): RawObject[] {
  if (liveUses++ === 0) return read.objects;
  return read.objects.map((r) => ({ value: structuredClone(r.value), origin: r.origin }));
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
