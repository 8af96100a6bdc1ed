/**
 * Benchmark: `diff` of a one-policy change (issue 17: on the policy benchmark's 100,000-pod cluster,
 * the analysis after both loads in at most 1 s, by reusing what the change leaves untouched),
 * measured beside the full recompute in the same run.
 *
 * The cluster is bench/policy.ts's (bench/generate.ts's pods and namespaces, its policy mix; fixed
 * seed). The change is one NetworkPolicy's ingress rules (the first policy with ingress rules that
 * selects a pod: they become one rule, from anywhere on TCP 9091, a new port boundary), as a pull
 * request makes it. Both sides are loaded afresh before every timed run (not timed: that is the load
 * benchmark's), so that no run reads what an earlier run left on the loaded objects (the scope's
 * comparisons, the rule lists' features, the label keys are remembered per object), as a `podnet diff`
 * process starts with nothing; then per run, interleaved so that both see the same load:
 *
 *   incremental   diffConnections: the scope (the workloads the changed policy selects), both
 *                 connlists restricted to the lines touching it over lazy analyses (only the profiles
 *                 and egress columns those lines read), the new side's reachability started from the
 *                 old side's (src/core/policy/diff.ts, reach.ts ReachabilityOptions.previous and lazy)
 *   no reuse      the same with `reuse: false`: the new side's classes and atoms computed from
 *                 scratch too (still lazy)
 *   full          (--full-runs N, default 0) diffConnectionsFull: both connlists in full, compared
 *
 * Wall and CPU time (process.cpuUsage, user + system) are printed: the machine is shared. `--verbose`
 * prints each step's note with the time it was reached. All answers must be identical, or the
 * benchmark fails.
 *
 *   node --max-old-space-size=6144 --import tsx bench/diff-incremental.ts [--runs 3] [--verbose]
 *   node --import tsx bench/diff-incremental.ts --pods 20000 --policies 2000 --namespaces 200 --full-runs 1
 *   node --cpu-prof --import tsx bench/diff-incremental.ts --runs 1 --baseline-runs 0   # profile the incremental path
 *
 * `--write DIR` writes both sides as DIR/before.yaml and DIR/after.yaml and stops, for timing the CLI
 * itself, whose JIT starts cold (`PODNET_DEBUG=1` prints the analysis time after both loads):
 *
 *   node --import tsx bench/diff-incremental.ts --write /tmp/diff-bench
 *   PODNET_DEBUG=1 podnet diff -f /tmp/diff-bench/before.yaml --against /tmp/diff-bench/after.yaml >/dev/null
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { resolveManifests } from "../src/core/cluster.ts";
import type { ClusterState } from "../src/core/control/state.ts";
import {
  type ConnectionDiff,
  changeScope,
  diffConnections,
  diffConnectionsFull,
} from "../src/core/policy/diff.ts";
import { compileNetworkPolicy } from "../src/core/policy/netpol.ts";
import { generateCluster } from "./generate.ts";
import { generatePolicies } from "./policy.ts";

/**
 * The policies' text with one NetworkPolicy changed: the first, in the order generated, that has
 * ingress rules and selects a pod of `state` now has one rule, from anywhere on TCP 9091.
 */
export function changeOnePolicy(policies: string, state: ClusterState): { text: string; name: string } {
  const selecting = state.networkPolicies.find((o) => {
    const p = compileNetworkPolicy(o);
    return (
      p.ingress !== undefined &&
      state.pods.some((pod) => pod.metadata.namespace === p.namespace && p.selects(pod.metadata.labels))
    );
  });
  if (!selecting) throw new Error("no NetworkPolicy with ingress rules selects a pod");
  const name = selecting.metadata.name;
  const docs = policies.split("---\n");
  const i = docs.findIndex((d) => d.includes(`{name: ${name}, `));
  docs[i] = docs[i].replace(/\n {2}ingress: \[.*/, "\n  ingress: [{ports: [{protocol: TCP, port: 9091}]}]");
  return { text: docs.join("---\n"), name: `${selecting.metadata.namespace}/${name}` };
}

function load(text: string): ClusterState {
  const r = resolveManifests([{ file: "bench.yaml", text }]);
  if (!r.ok) throw new Error("benchmark input has errors");
  return r.cluster;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const peakMB = () => {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return hwm ? Number(hwm[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      seed: { type: "string", default: "1" },
      pods: { type: "string", default: "100000" },
      policies: { type: "string", default: "10000" },
      namespaces: { type: "string", default: "1000" },
      runs: { type: "string", default: "3" },
      "full-runs": { type: "string", default: "0" },
      verbose: { type: "boolean", default: false },
      "baseline-runs": { type: "string" },
      write: { type: "string" },
    },
  });
  const seed = Number(values.seed);
  const pods = Number(values.pods);
  const namespaces = Number(values.namespaces);
  console.log(
    `podnet diff benchmark (one-policy change): seed ${seed}, node ${process.version}, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  const t0 = performance.now();
  const cluster = generateCluster({
    seed,
    nodes: Math.max(4, Math.ceil(pods / 100)),
    pods,
    services: Math.max(1, Math.floor(pods / 50)),
    namespaces,
    policies: 0,
  });
  const policies = generatePolicies(seed, Number(values.policies), namespaces);
  // The change, and what it touches, from one load; each timed run then loads both sides afresh.
  let changed = "";
  {
    const before = load(`${cluster}---\n${policies}`);
    const change = changeOnePolicy(policies, before);
    changed = change.text;
    const after = load(`${cluster}---\n${changed}`);
    console.log(
      `  ${before.pods.length} pods, ${before.networkPolicies.length} NetworkPolicies, ${before.namespaces.length} namespaces; changed ${change.name}'s ingress rules to one, TCP 9091 from anywhere (both loaded in ${fmt(performance.now() - t0)}, not counted)`,
    );
    const scope = changeScope(before, after);
    if (!scope) throw new Error("the change is not a policy-only change");
    console.log(`  scope: ${scope.destinations.size} destination and ${scope.sources.size} source workloads`);
  }
  if (values.write) {
    mkdirSync(values.write, { recursive: true });
    writeFileSync(join(values.write, "before.yaml"), `${cluster}---\n${policies}`);
    writeFileSync(join(values.write, "after.yaml"), `${cluster}---\n${changed}`);
    console.log(`  wrote ${join(values.write, "before.yaml")} and ${join(values.write, "after.yaml")}`);
    process.exit(0);
  }
  /** Both sides loaded again: every timed run starts from objects no earlier run has read. */
  const fresh = () => ({
    before: load(`${cluster}---\n${policies}`),
    after: load(`${cluster}---\n${changed}`),
  });
  /** One timed diff: wall and CPU time, the answer, and the steps' notes with the time each was reached. */
  const timed = (f: (note: (line: string) => void) => ConnectionDiff[]) => {
    const notes: string[] = [];
    const cpu = process.cpuUsage();
    const t = performance.now();
    const cpuAt = () => {
      const u = process.cpuUsage(cpu);
      return (u.user + u.system) / 1000;
    };
    const answer = f((line) => notes.push(`${fmt(performance.now() - t)} (CPU ${fmt(cpuAt())}): ${line}`));
    const ms = performance.now() - t;
    const used = process.cpuUsage(cpu);
    return { ms, cpu: (used.user + used.system) / 1000, answer, notes };
  };
  const runs = Number(values.runs);
  const series = {
    baseline: {
      label: "new side not started from the old side's",
      wall: [] as number[],
      cpu: [] as number[],
    },
    incremental: { label: "incremental", wall: [] as number[], cpu: [] as number[] },
  };
  let answer: ConnectionDiff[] | undefined;
  const same = (x: ConnectionDiff[]) => {
    if (answer && JSON.stringify(x) !== JSON.stringify(answer))
      throw new Error(`the answers differ (${x.length} vs ${answer.length} lines)`);
    answer = x;
  };
  // Interleaved, so that both see the same load.
  const baselineRuns = Number(values["baseline-runs"] ?? runs);
  for (let r = 0; r < runs; r++)
    for (const kind of ["baseline", "incremental"] as const) {
      if (kind === "baseline" && r >= baselineRuns) continue;
      const sides = fresh();
      const run = timed((note) =>
        diffConnections(sides.before, sides.after, { note, reuse: kind === "incremental" }),
      );
      same(run.answer);
      series[kind].wall.push(run.ms);
      series[kind].cpu.push(run.cpu);
      console.log(
        `  ${series[kind].label} run ${r + 1}: ${fmt(run.ms)} (CPU ${fmt(run.cpu)}; ${run.answer.length} connections differ)`,
      );
      if (values.verbose) for (const n of run.notes) console.log(`      ${n}`);
    }
  const full: number[] = [];
  for (let r = 0; r < Number(values["full-runs"]); r++) {
    const sides = fresh();
    const run = timed(() => diffConnectionsFull(sides.before, sides.after));
    same(run.answer);
    full.push(run.ms);
    console.log(`  full connlists run ${r + 1}: ${fmt(run.ms)} (CPU ${fmt(run.cpu)})`);
  }
  const b = series.baseline;
  const inc = series.incremental;
  console.log(
    `  median incremental ${fmt(median(inc.wall))} (CPU ${fmt(median(inc.cpu))})${b.wall.length ? `, without reuse ${fmt(median(b.wall))} (CPU ${fmt(median(b.cpu))}) → ${(median(b.wall) / median(inc.wall)).toFixed(1)}× faster` : ""}${full.length ? `; full connlists ${fmt(median(full))}` : ""}; answers identical; peak RSS ${peakMB().toFixed(0)} MiB; load average now ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
}
