/**
 * Benchmark: `proxy-diff` on the 10,000-Service cluster (issue 16: ≤ 10 s). The cluster from
 * bench/generate.ts (fixed seed; defaults 5,000 nodes, 150,000 pods, 10,000 Services) is resolved once;
 * each run then compares its flows in two proxy modes (src/core/views/proxy-diff.ts: both networks
 * built, every frontend and kind of client enumerated, one trace per shape and mode). Wall-clock and
 * CPU time (user + system, which a loaded shared machine disturbs less) per run, and their medians.
 *
 *   node --import tsx bench/proxy-diff.ts [--nodes 5000 --pods 150000 --services 10000] [--from nftables --to iptables] [--runs 3]
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { resolveManifests } from "../src/core/cluster.ts";
import { diffProxyModes } from "../src/core/views/proxy-diff.ts";
import { GENERATE_OPTIONS, generateCluster, generateOptionsFrom } from "./generate.ts";

const { values } = parseArgs({
  options: {
    ...GENERATE_OPTIONS,
    from: { type: "string", default: "nftables" },
    to: { type: "string", default: "iptables" },
    runs: { type: "string", default: "3" },
  },
});
const opts = generateOptionsFrom(values);
const r = resolveManifests([{ file: "bench.yaml", text: generateCluster(opts) }]);
if (!r.ok) throw new Error("benchmark input has errors");
const state = r.cluster;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `podnet proxy-diff benchmark: seed ${opts.seed}, ${state.nodes.length} nodes, ${state.pods.length} pods, ${state.services.length} Services; ${values.from} → ${values.to}; node ${process.version}; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
const wall: number[] = [];
const cpu: number[] = [];
for (let run = 0; run < Number(values.runs); run++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const d = diffProxyModes(state, { from: values.from, to: values.to });
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  wall.push(ms / 1000);
  cpu.push((c.user + c.system) / 1e6);
  const changed = d.changes.reduce((n, x) => n + x.nodes, 0);
  console.log(
    `run ${run + 1}: ${(ms / 1000).toFixed(2)} s wall, ${((c.user + c.system) / 1e6).toFixed(2)} s CPU — ${d.examined.rows} flows examined (${d.examined.flows} per node), ${d.traced} shapes traced per mode, ${d.changes.length} flows change (${changed} per node) in ${d.groups.length} groups`,
  );
}
console.log(
  `median: ${median(wall).toFixed(2)} s wall, ${median(cpu).toFixed(2)} s CPU (target ≤ 10 s); load average now ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
