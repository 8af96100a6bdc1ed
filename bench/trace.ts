/**
 * Benchmark: building the network model and tracing packets in a large cluster (issue #3: one trace
 * under 1 ms after loading; the model for 5,000 nodes / 150,000 pods built in under 10 s; issue 13:
 * under 100 µs in every network plugin). The cluster is resolved once per registered network plugin
 * (its IPAM gives the pods their addresses), then measured. Fixed seeds: the cluster from
 * bench/generate.ts, the traced pairs from the same PRNG.
 *
 *   node --import tsx bench/trace.ts [--nodes 5000 --pods 150000 --services 10000 --traces 20000] [--cni NAME,…]
 */
import { parseArgs } from "node:util";
import { resolveManifests } from "../src/core/cluster.ts";
import { networkPluginNames } from "../src/core/cni/registry.ts";
import { parseIPv4 } from "../src/core/net/ipv4.ts";
import { Network } from "../src/core/sim/network.ts";
import { trace } from "../src/core/sim/trace.ts";
import { GENERATE_OPTIONS, generateCluster, generateOptionsFrom, prng } from "./generate.ts";

const { values } = parseArgs({
  options: {
    ...GENERATE_OPTIONS,
    traces: { type: "string", default: "20000" },
    runs: { type: "string", default: "3" },
    /** Comma-separated plugin names; default every registered one. */
    cni: { type: "string" },
  },
});
const opts = generateOptionsFrom(values);
const generated = generateCluster(opts);
const plugins = values.cni ? values.cni.split(",") : [...networkPluginNames];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary: string[] = [];
for (const cni of plugins) {
  const text = generated.replace(
    "kind: Cluster\nmetadata: {name: bench}\nspec:\n",
    `kind: Cluster\nmetadata: {name: bench}\nspec:\n  cni: ${cni}\n`,
  );
  const r = resolveManifests([{ file: "bench.yaml", text }]);
  if (!r.ok) throw new Error(`benchmark input has errors (cni ${cni})`);
  const state = r.cluster;
  console.log(
    `podnet trace benchmark, network plugin ${cni}: seed ${opts.seed}, ${state.nodes.length} nodes, ${state.pods.length} pods, ${state.services.length} Services; ${values.traces} traces per run; node ${process.version}`,
  );
  const builds: number[] = [];
  const podTrace: number[] = [];
  const svcTrace: number[] = [];
  for (let run = 0; run < Number(values.runs); run++) {
    const t0 = performance.now();
    const net = new Network(state);
    const buildMs = performance.now() - t0;
    builds.push(buildMs);
    const pods = [...net.podByIP.values()];
    const vips = net.proxy.ports.filter((p) => p.clusterIP !== undefined && p.endpoints.length > 0);
    const rand = prng(opts.seed + run);
    const n = Number(values.traces);
    let delivered = 0;
    const t1 = performance.now();
    for (let i = 0; i < n; i++) {
      const a = pods[Math.floor(rand() * pods.length)];
      const b = pods[Math.floor(rand() * pods.length)];
      const res = trace(net, {
        source: { kind: "pod", pod: a },
        dst: parseIPv4(b.status!.podIP!)!,
        dport: 8080,
        protocol: "TCP",
      });
      if (res.verdict !== "dropped") delivered++;
    }
    const t2 = performance.now();
    for (let i = 0; i < n; i++) {
      const a = pods[Math.floor(rand() * pods.length)];
      const s = vips[Math.floor(rand() * vips.length)];
      trace(net, {
        source: { kind: "pod", pod: a },
        dst: s.clusterIP!,
        dport: s.port.port,
        protocol: s.protocol,
      });
    }
    const t3 = performance.now();
    podTrace.push(((t2 - t1) * 1000) / n);
    svcTrace.push(((t3 - t2) * 1000) / n);
    console.log(
      `  run ${run + 1}: model ${(buildMs / 1000).toFixed(2)} s; pod→pod ${(((t2 - t1) * 1000) / n).toFixed(1)} µs/trace (${delivered}/${n} reached the pod); pod→Service ${(((t3 - t2) * 1000) / n).toFixed(1)} µs/trace`,
    );
  }
  const line = `${cni}: median model ${(median(builds) / 1000).toFixed(2)} s; pod→pod ${median(podTrace).toFixed(1)} µs/trace; pod→Service ${median(svcTrace).toFixed(1)} µs/trace`;
  summary.push(line);
  console.log(line);
}
console.log(
  `\nper plugin (medians):\n${summary.map((l) => `  ${l}`).join("\n")}\npeak RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
);
