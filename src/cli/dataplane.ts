/**
 * The real cluster (issue #5): `podnet up`, `down`, `status` and `exec`. The plan is pure
 * (src/core/dataplane/plan.ts); src/adapters/linux runs it inside network namespaces it creates.
 *
 *   podnet up -f examples/articles [--name NAME]     build it (replaces a running cluster of that name)
 *   podnet exec default/pod1 -- curl -s http://10.96.0.10   run a command in a pod's (or node/NAME's) netns
 *   podnet status                                     what runs
 *   podnet down [--name NAME | --all]                 remove everything podnet made
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { Command, Option } from "commander";
import {
  type ApplyReport,
  alive,
  apply,
  DataPlaneError,
  dataPlaneUnavailable,
  down,
  knownClusters,
  type LiveSource,
  listNamespaces,
  readRecord,
  runProbes,
  up,
} from "../adapters/linux/dataplane.ts";
import type { ClusterState } from "../core/control/state.ts";
import { clusterHttpControllers } from "../core/dataplane/http-controllers.ts";
import {
  type HttpKernelResult,
  httpProbeCases,
  judgeHttp,
  requestTarget,
} from "../core/dataplane/http-probe.ts";
import { loadBalancerRoutes } from "../core/dataplane/outside.ts";
import { clusterNameProblem, DataplaneRefused, planCluster } from "../core/dataplane/plan.ts";
import { judge, type KernelResult, probeCases } from "../core/dataplane/probe.ts";
import { formatDiagnostic } from "../core/diagnostics.ts";
import {
  addInputOptions,
  CliExit,
  EXIT_BAD_INPUT,
  type InputOptions,
  liveRead,
  loadOrExit,
  useLive,
} from "./common.ts";

const EXIT_FAILED = 1;

/** Exit 2 when the data plane cannot run here; `tools`: the ruleset tools a plan needs beyond nft. */
function requireDataPlane(tools: Parameters<typeof dataPlaneUnavailable>[0] = []): void {
  const why = dataPlaneUnavailable(tools);
  if (why) throw new CliExit(EXIT_BAD_INPUT, `error: ${why}`);
}

function clusterName(name: string | undefined, fallback: string): string {
  const n = name ?? fallback;
  const problem = clusterNameProblem(n);
  if (problem) throw new CliExit(EXIT_BAD_INPUT, `error: ${problem} (--name)`);
  return n;
}

/** The cluster name and plan for `-f` manifests, or a usage error (exit 2). */
function planFor(opts: InputOptions & { name?: string }): {
  name: string;
  plan: ReturnType<typeof planCluster>;
} {
  const state = loadOrExit(opts.filename);
  const name = clusterName(opts.name, state.config.name);
  requireDataPlane();
  let plan: ReturnType<typeof planCluster>;
  try {
    plan = planCluster(state, name, { proxies: clusterHttpControllers(state).proxies });
  } catch (e) {
    if (!(e instanceof DataplaneRefused)) throw e;
    throw new CliExit(EXIT_BAD_INPUT, `${formatDiagnostic(e.diagnostic)}\nnothing was built.`, [
      e.diagnostic,
    ]);
  }
  requireDataPlane(plan.rules.map((r) => r.tool));
  return { name, plan };
}

/** The live cluster this command read (`--kubeconfig`/`--context`), as the record keeps it for `probe`. */
function liveSource(opts: InputOptions): { live?: LiveSource } {
  const read = liveRead();
  if (!read) return {};
  return {
    live: { ...(opts.kubeconfig ? { kubeconfig: resolve(opts.kubeconfig) } : {}), context: read.context },
  };
}

export function upCommand(): Command {
  const cmd = new Command("up")
    .description("build the cluster for real: a network namespace per node and pod, as root")
    .option("--name <cluster>", "cluster name (default: the Cluster object's metadata.name)");
  addInputOptions(cmd);
  return cmd.action(async (opts: InputOptions & { name?: string }) => {
    const { name, plan } = planFor(opts);
    const started = performance.now();
    const tty = process.stderr.isTTY === true;
    try {
      const { record, report } = await up(plan, {
        sources: opts.filename.filter((f) => f !== "-").map((f) => resolve(f)),
        ...liveSource(opts),
        progress: tty
          ? (what, done, total) => process.stderr.write(`\r${what}: ${done}/${total}\x1b[K`)
          : undefined,
      });
      if (tty) process.stderr.write("\r\x1b[K");
      if (report) process.stdout.write(syncReport(name, report));
      process.stdout.write(
        `cluster ${name} is up: ${record.nodes.length} nodes, ${record.pods.length} pods, ${record.namespaces.length} network namespaces, listeners on ${[...plan.pods, ...plan.hostPods].reduce((n, p) => n + p.ports.filter((x) => x.protocol !== "SCTP").length, 0)} ports${plan.proxies.length ? `, reverse proxies in ${plan.proxies.length} controller pods` : ""}${plan.outside ? `, outside client ${plan.outside.client} (podnet exec outside -- …)` : ""} (${((performance.now() - started) / 1000).toFixed(2)} s)\n`,
      );
    } catch (e) {
      if (tty) process.stderr.write("\r\x1b[K");
      if (e instanceof DataPlaneError)
        throw new CliExit(
          EXIT_FAILED,
          `error: ${e.message}\nnothing was left behind (the cluster was removed)`,
        );
      throw e;
    }
  });
}

export function downCommand(): Command {
  return new Command("down")
    .description("remove a cluster podnet built: its namespaces, links, rules, processes and state")
    .option("--name <cluster>", "the cluster (default: the only one running)")
    .option("--all", "every cluster podnet built")
    .action((opts: { name?: string; all?: boolean }) => {
      requireDataPlane();
      const clusters = opts.all ? knownClusters() : [pick(opts.name)].filter((x): x is string => !!x);
      if (clusters.length === 0) {
        process.stdout.write("no cluster is running\n");
        return;
      }
      for (const c of clusters) {
        const r = down(c);
        process.stdout.write(
          `cluster ${c} is down: ${plural(r.namespaces, "network namespace")} and ${plural(r.processes, "process", "processes")} removed\n`,
        );
      }
    });
}

/** The named cluster, or the only one there is. */
function pick(name: string | undefined): string | undefined {
  if (name) return clusterName(name, name);
  const all = knownClusters();
  if (all.length > 1)
    throw new CliExit(
      EXIT_BAD_INPUT,
      `error: several clusters run (${all.join(", ")}); choose one with --name`,
    );
  return all[0];
}

export function statusCommand(): Command {
  return new Command("status")
    .description("the clusters podnet built and whether their parts are alive")
    .action(() => {
      requireDataPlane();
      const clusters = knownClusters();
      if (clusters.length === 0) {
        process.stdout.write("no cluster is running\n");
        return;
      }
      const present = new Set(listNamespaces());
      for (const c of clusters) {
        const r = readRecord(c);
        if (!r) {
          process.stdout.write(
            `${c}: left over without a state file (${[...present].filter((n) => n.startsWith(`podnet-${c}-`)).length} namespaces); run podnet down --name ${c}\n`,
          );
          continue;
        }
        const ns = r.namespaces.filter((n) => present.has(n)).length;
        const listeners = r.processes.every((p) => alive(p)) ? "running" : "NOT running";
        process.stdout.write(
          `${c}: ${r.nodes.length} nodes, ${r.pods.length} pods; ${ns}/${r.namespaces.length} namespaces; listeners ${listeners}; up since ${r.createdAt}\n`,
        );
      }
    });
}

export function execCommand(): Command {
  return new Command("exec")
    .description(
      "run a command in a pod's network namespace (ns/pod), a node's (node/NAME) or the outside client's (outside)",
    )
    .argument("<target>", "ns/pod, node/NAME, or outside")
    .argument("<command...>", "the command and its arguments (after --)")
    .addOption(new Option("--name <cluster>", "the cluster (default: the only one running)"))
    .action((target: string, command: string[], opts: { name?: string }) => {
      requireDataPlane();
      const cluster = pick(opts.name);
      const record = cluster ? readRecord(cluster) : undefined;
      if (!record)
        throw new CliExit(EXIT_BAD_INPUT, "error: no cluster is running; start one with podnet up -f …");
      const netns =
        target === "outside"
          ? record.outside?.netns
          : target.startsWith("node/")
            ? record.nodes.find((n) => n.name === target.slice(5))?.netns
            : record.pods.find((p) => p.key === (target.includes("/") ? target : `default/${target}`))?.netns;
      if (!netns && target === "outside")
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: cluster ${record.cluster} has no outside network (its nodeNetwork has no gateway address, 203.0.113.0/24 is the cluster's own, or it was built before podnet made one: run podnet up again)`,
        );
      if (!netns)
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: ${target} is not a pod or node of cluster ${record.cluster}; pods: ${record.pods
            .slice(0, 5)
            .map((p) => p.key)
            .join(", ")}${record.pods.length > 5 ? ", …" : ""}`,
        );
      const r = spawnSync("ip", ["netns", "exec", netns, ...command], { stdio: "inherit" });
      if (r.error) throw new CliExit(EXIT_BAD_INPUT, `error: ${r.error.message}`);
      throw new CliExit(r.status ?? 1);
    });
}

interface ProbeOptions extends InputOptions {
  name?: string;
  protocol?: string;
  port?: string;
  toServices?: boolean;
  /** false with --no-nodes. */
  nodes: boolean;
  http?: boolean;
  podSources: string;
  limit: string;
  timeout?: string;
  output: "table" | "json";
}

export function probeCommand(): Command {
  const cmd = new Command("probe")
    .description(
      "measure real reachability with real connections and compare it with the simulator's; exit 1 on any disagreement",
    )
    .option("--name <cluster>", "the cluster (default: the only one running)");
  addInputOptions(cmd, {
    filenameRequired: false,
    filenameHelp:
      "manifests to predict from (default: those `up` was given, and the live cluster it read); repeatable; - reads stdin",
  });
  return cmd
    .addOption(new Option("--protocol <p>", "only this protocol").choices(["TCP", "UDP", "tcp", "udp"]))
    .option("--port <n>", "only this port")
    .option("--to-services", "also probe every Service ClusterIP port from every source")
    .option("--no-nodes", "pods as sources only (by default each node is one too, as the kubelet would be)")
    .option(
      "--http",
      "instead: an HTTP request for every rule of every Ingress controller and Gateway (host, path, headers), from outside and from pods, through the controller pods' reverse proxies",
    )
    .option("--pod-sources <n>", "with --http: how many pods send requests (0-100)", "2")
    .option("--limit <n>", "with --http: at most this many requests (1-100000)", "5000")
    .option("--timeout <ms>", "per connection (50-10000; default 1000, with --http 5000)")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .action(async (opts: ProbeOptions) => {
      requireDataPlane();
      const cluster = pick(opts.name);
      const record = cluster ? readRecord(cluster) : undefined;
      if (!record)
        throw new CliExit(EXIT_BAD_INPUT, "error: no cluster is running; start one with podnet up -f …");
      // Without -f or a live cluster: what `up` was given, its manifests and the context it read.
      let files = opts.filename;
      if (files.length === 0 && !liveRead()) {
        files = record.sources;
        if (record.live) await useLive({ ...opts, ...record.live });
        else if (files.length === 0)
          throw new CliExit(
            EXIT_BAD_INPUT,
            "error: the cluster was built from standard input; give the manifests with -f (or the live cluster with --context)",
          );
      }
      const port = opts.port === undefined ? undefined : Number(opts.port);
      if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))
        throw new CliExit(EXIT_BAD_INPUT, "error: --port must be a port number (1-65535)");
      const timeout = Number(opts.timeout ?? (opts.http ? 5000 : 1000));
      if (!(Number.isInteger(timeout) && timeout >= 50 && timeout <= 10000))
        throw new CliExit(EXIT_BAD_INPUT, "error: --timeout must be 50-10000 milliseconds");
      const state = loadOrExit(files);
      if (opts.http) return probeHttp(record, state, opts, timeout);
      const cases = probeCases(state, {
        ...(opts.protocol ? { protocol: opts.protocol.toUpperCase() as "TCP" | "UDP" } : {}),
        ...(port !== undefined ? { port } : {}),
        toServices: !!opts.toServices,
        fromNodes: opts.nodes,
        fromOutside: record.outside !== undefined,
      });
      const started = performance.now();
      // A timeout on a busy machine is not yet a verdict: a probe that timed out where the simulator
      // expects an answer (or a refusal) is tried once more with a longer timeout.
      const byId = new Map(cases.map((c) => [c.id, c]));
      const results = await runProbes(record, cases, timeout, {
        retryTimedOut: (t, r) => !judge(byId.get(t.id)!, r as KernelResult).agree,
      });
      const ms = performance.now() - started;
      const judged = cases.map((c) => ({
        c,
        j: judge(c, (results.get(c.id) as KernelResult | undefined) ?? { ok: false, error: "not run" }),
      }));
      const disagreements = judged.filter((x) => !x.j.agree);
      if (opts.output === "json") {
        process.stdout.write(
          `${JSON.stringify({
            cluster: record.cluster,
            probes: judged.map(({ c, j }) => ({
              from: c.from,
              to: c.to,
              kernel: j.kernel,
              simulator: j.simulator,
              agree: j.agree,
            })),
            disagreements: disagreements.length,
          })}\n`,
        );
      } else {
        for (const { c, j } of judged)
          process.stdout.write(
            `${j.agree ? "  " : "✗ "}${c.from} → ${c.to}: kernel ${j.kernel}; simulator ${j.simulator}\n`,
          );
        process.stdout.write(
          `${cases.length} probes in ${(ms / 1000).toFixed(2)} s: ${cases.length - disagreements.length} agree, ${disagreements.length} disagree\n`,
        );
      }
      if (disagreements.length > 0) throw new CliExit(EXIT_FAILED);
    });
}

/** A whole number option within bounds, or a usage error naming it. */
function bounded(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= min && n <= max))
    throw new CliExit(EXIT_BAD_INPUT, `error: ${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/**
 * `probe --http`: the requests of src/core/dataplane/http-probe.ts, sent by the prober from the outside
 * namespace and from pods, judged against the simulator; exit 1 on any disagreement, or when there is
 * nothing to probe (no controller with pods and a Service).
 */
async function probeHttp(
  record: NonNullable<ReturnType<typeof readRecord>>,
  state: ClusterState,
  opts: ProbeOptions,
  timeout: number,
): Promise<void> {
  const found = clusterHttpControllers(state);
  for (const note of found.notes) process.stderr.write(`note: ${note}\n`);
  const entries = new Map(loadBalancerRoutes(state).map((r) => [r.ip, r.placement.nodes.map((n) => n.name)]));
  const { cases, truncated } = httpProbeCases(state, found.controllers, {
    fromOutside: record.outside !== undefined,
    podSources: bounded(opts.podSources, "--pod-sources", 0, 100),
    limit: bounded(opts.limit, "--limit", 1, 100000),
    entryNodes: (_svc, ip) => entries.get(ip) ?? [],
  });
  if (cases.length === 0)
    throw new CliExit(
      EXIT_FAILED,
      `error: nothing to probe over HTTP: ${found.controllers.length === 0 ? "no Ingress controller or Gateway with running pods and a Service (see the notes above)" : "no source: no pod to send from and no outside network"}`,
    );
  const started = performance.now();
  const byId = new Map(cases.map((c) => [c.id, c]));
  const results = await runProbes(
    record,
    cases.map((c) => ({
      id: c.id,
      from: c.from,
      ip: c.ip,
      port: c.port,
      protocol: "TCP" as const,
      http: {
        scheme: c.request.scheme,
        host: c.request.host,
        target: requestTarget(c.request),
        method: c.request.method,
        headers: c.request.headers.map(([k, v]) => [k, v] as [string, string]),
      },
    })),
    timeout,
    { retryTimedOut: (t, r) => !judgeHttp(byId.get(t.id)!, r as HttpKernelResult).agree },
  );
  const ms = performance.now() - started;
  const judged = cases.map((c) => ({
    c,
    j: judgeHttp(c, (results.get(c.id) as HttpKernelResult | undefined) ?? { ok: false, error: "not run" }),
  }));
  const disagreements = judged.filter((x) => !x.j.agree);
  if (opts.output === "json")
    process.stdout.write(
      `${JSON.stringify({
        cluster: record.cluster,
        requests: judged.map(({ c, j }) => ({
          from: c.from,
          to: c.to,
          kernel: j.kernel,
          simulator: j.simulator,
          agree: j.agree,
        })),
        truncated,
        disagreements: disagreements.length,
      })}\n`,
    );
  else {
    for (const { c, j } of judged)
      process.stdout.write(
        `${j.agree ? "  " : "✗ "}${c.from} → ${c.to}: kernel ${j.kernel}; simulator ${j.simulator}\n`,
      );
    process.stdout.write(
      `${cases.length} HTTP requests in ${(ms / 1000).toFixed(2)} s: ${cases.length - disagreements.length} agree, ${disagreements.length} disagree${truncated ? ` (${truncated} more left out by --limit)` : ""}\n`,
    );
  }
  if (disagreements.length > 0) throw new CliExit(EXIT_FAILED);
}

export function applyCommand(): Command {
  const cmd = new Command("apply")
    .description(
      "change a running cluster to new manifests, touching only what changed; reports how long it took",
    )
    .option("--name <cluster>", "cluster name (default: the Cluster object's metadata.name)");
  addInputOptions(cmd);
  return cmd.action(async (opts: InputOptions & { name?: string }) => {
    const { name, plan } = planFor(opts);
    if (!readRecord(name))
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: cluster ${name} is not running; start it with podnet up -f …`,
      );
    try {
      const { report } = await apply(plan, {
        sources: opts.filename.filter((f) => f !== "-").map((f) => resolve(f)),
        ...liveSource(opts),
      });
      process.stdout.write(syncReport(name, report));
    } catch (e) {
      if (e instanceof DataPlaneError)
        throw new CliExit(
          EXIT_FAILED,
          `error: ${e.message}\nthe cluster was removed (nothing half-applied is left); run podnet up again`,
        );
      throw e;
    }
  });
}

/** What `apply` (or `up` on a running cluster) did, on one line. */
function syncReport(name: string, report: ApplyReport): string {
  const list = (xs: string[]) =>
    xs.length ? ` (${xs.slice(0, 5).join(", ")}${xs.length > 5 ? ", …" : ""})` : "";
  return report.rebuilt
    ? `cluster ${name} rebuilt (its nodes changed) in ${report.ms.toFixed(0)} ms\n`
    : `cluster ${name} synced in ${report.ms.toFixed(0)} ms: ${plural(report.added.length, "pod")} added${list(report.added)}, ${report.removed.length} removed${list(report.removed)}; rulesets: ${rulesSummary(report.rules)}; listeners ${report.listenersRestarted ? "restarted" : "kept"}\n`;
}

/** "2 partial syncs, 1 replaced, 3 unchanged", leaving out the kinds that did not occur. */
function rulesSummary(r: Record<"none" | "partial" | "full", number>): string {
  const parts = [
    r.partial ? `${r.partial} partial sync${r.partial === 1 ? "" : "s"}` : "",
    r.full ? `${r.full} replaced` : "",
    r.none ? `${r.none} unchanged` : "",
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "none";
}

/** "1 process", "2 processes". */
function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
