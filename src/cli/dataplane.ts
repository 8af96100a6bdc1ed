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
import { Command, Option } from "commander";
import {
  alive,
  DataPlaneError,
  dataPlaneUnavailable,
  down,
  knownClusters,
  listNamespaces,
  readRecord,
  up,
} from "../adapters/linux/dataplane.ts";
import { clusterNameProblem, planCluster } from "../core/dataplane/plan.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, type InputOptions, loadOrExit } from "./common.ts";

const EXIT_FAILED = 1;

function requireDataPlane(): void {
  const why = dataPlaneUnavailable();
  if (why) throw new CliExit(EXIT_BAD_INPUT, `error: ${why}`);
}

function clusterName(name: string | undefined, fallback: string): string {
  const n = name ?? fallback;
  const problem = clusterNameProblem(n);
  if (problem) throw new CliExit(EXIT_BAD_INPUT, `error: ${problem} (--name)`);
  return n;
}

export function upCommand(): Command {
  const cmd = new Command("up")
    .description("build the cluster for real: a network namespace per node and pod, as root")
    .option("--name <cluster>", "cluster name (default: the Cluster object's metadata.name)");
  addInputOptions(cmd);
  return cmd.action((opts: InputOptions & { name?: string }) => {
    const state = loadOrExit(opts.filename);
    const name = clusterName(opts.name, state.config.name);
    requireDataPlane();
    let plan: ReturnType<typeof planCluster>;
    try {
      plan = planCluster(state, name);
    } catch (e) {
      throw new CliExit(EXIT_BAD_INPUT, `error: ${(e as Error).message}`);
    }
    const started = performance.now();
    const tty = process.stderr.isTTY === true;
    try {
      const record = up(plan, {
        progress: tty
          ? (what, done, total) => process.stderr.write(`\r${what}: ${done}/${total}\x1b[K`)
          : undefined,
      });
      if (tty) process.stderr.write("\r\x1b[K");
      process.stdout.write(
        `cluster ${name} is up: ${record.nodes.length} nodes, ${record.pods.length} pods, ${record.processes.length} listeners, ${record.namespaces.length} network namespaces (${((performance.now() - started) / 1000).toFixed(2)} s)\n`,
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
          `cluster ${c} is down: ${r.namespaces} network namespaces and ${r.processes} processes removed\n`,
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
        const listeners = r.processes.filter(alive).length;
        process.stdout.write(
          `${c}: ${r.nodes.length} nodes, ${r.pods.length} pods; ${ns}/${r.namespaces.length} namespaces, ${listeners}/${r.processes.length} listeners alive; up since ${r.createdAt}\n`,
        );
      }
    });
}

export function execCommand(): Command {
  return new Command("exec")
    .description("run a command in a pod's network namespace (ns/pod) or a node's (node/NAME)")
    .argument("<target>", "ns/pod, or node/NAME")
    .argument("<command...>", "the command and its arguments (after --)")
    .addOption(new Option("--name <cluster>", "the cluster (default: the only one running)"))
    .action((target: string, command: string[], opts: { name?: string }) => {
      requireDataPlane();
      const cluster = pick(opts.name);
      const record = cluster ? readRecord(cluster) : undefined;
      if (!record)
        throw new CliExit(EXIT_BAD_INPUT, "error: no cluster is running; start one with podnet up -f …");
      const netns = target.startsWith("node/")
        ? record.nodes.find((n) => n.name === target.slice(5))?.netns
        : record.pods.find((p) => p.key === (target.includes("/") ? target : `default/${target}`))?.netns;
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
