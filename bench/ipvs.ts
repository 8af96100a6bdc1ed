/**
 * Benchmark: kube-proxy's IPVS mode (issue 16) — rendering one node's IPVS state (kube-ipvs0
 * addresses, `ipvsadm -Sn`, `ipset save`, `iptables-save`) for the generated cluster's Services
 * (≤ 1 s at 10,000 Services), reading it back for the rule tracer, and tracing a pod's packet to a
 * ClusterIP through IPVS at 150,000 pods (≤ 100 µs) with the model deciding, and one decision at the
 * node by the evaluator over the printed state. Fixed seeds: the cluster from bench/generate.ts, the traced pairs
 * from the same PRNG. Medians of `--runs`; wall-clock and the process's CPU time (user + system);
 * each render is printed too (the first is what `podnet rules` pays: one render per process).
 *
 *   node --import tsx bench/ipvs.ts [--nodes 5000 --pods 150000 --services 10000 --traces 20000 --runs 5]
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { resolveManifests } from "../src/core/cluster.ts";
import { proxyMode } from "../src/core/proxy/modes/registry.ts";
import { Network } from "../src/core/sim/network.ts";
import { trace } from "../src/core/sim/trace.ts";
import { GENERATE_OPTIONS, generateCluster, generateOptionsFrom, prng } from "./generate.ts";

const { values } = parseArgs({
  options: {
    ...GENERATE_OPTIONS,
    traces: { type: "string", default: "20000" },
    runs: { type: "string", default: "5" },
  },
});
const opts = generateOptionsFrom(values);
const text = generateCluster(opts).replace(
  "kind: Cluster\nmetadata: {name: bench}\nspec:\n",
  "kind: Cluster\nmetadata: {name: bench}\nspec:\n  proxyMode: ipvs\n",
);
const r = resolveManifests([{ file: "bench.yaml", text }]);
if (!r.ok) throw new Error("benchmark input has errors");
const state = r.cluster;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpu = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};
const ipvs = proxyMode("ipvs");
const model = new Network(state);
const rules = new Network(state, { proxy: "rules" });
const node = state.nodes[0];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
console.log(
  `podnet IPVS benchmark: seed ${opts.seed}, ${state.nodes.length} nodes, ${state.pods.length} pods, ${state.services.length} Services (${model.proxy.ports.length} Service ports); node ${process.version}; load average ${load()}`,
);

const render: number[] = [];
const renderCpu: number[] = [];
const parse: number[] = [];
const parseCpu: number[] = [];
let lines = 0;
for (let run = 0; run < Number(values.runs); run++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = ipvs.render(state, node, model.proxy);
  render.push(performance.now() - t0);
  renderCpu.push(cpu(c0));
  lines = out.split("\n").length - 1;
  const c1 = process.cpuUsage();
  const t1 = performance.now();
  ipvs.evaluator(out);
  parse.push(performance.now() - t1);
  parseCpu.push(cpu(c1));
  console.log(
    `  run ${run + 1}: render ${render[run].toFixed(0)} ms (CPU ${renderCpu[run].toFixed(0)} ms); read back ${parse[run].toFixed(0)} ms (CPU ${parseCpu[run].toFixed(0)} ms)`,
  );
}
console.log(
  `render node ${node.name}: median ${median(render).toFixed(0)} ms (CPU ${median(renderCpu).toFixed(0)} ms), ${lines} lines; read back: median ${median(parse).toFixed(0)} ms (CPU ${median(parseCpu).toFixed(0)} ms)`,
);

const pods = [...model.podByIP.values()].filter((p) => !p.spec.hostNetwork);
const vips = model.proxy.ports.filter((p) => p.clusterIP !== undefined && p.endpoints.length > 0);
const per: number[] = [];
const perCpu: number[] = [];
for (let run = 0; run < Number(values.runs); run++) {
  const rand = prng(opts.seed + run);
  const n = Number(values.traces);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let delivered = 0;
  for (let i = 0; i < n; i++) {
    const a = pods[Math.floor(rand() * pods.length)];
    const s = vips[Math.floor(rand() * vips.length)];
    const res = trace(model, {
      source: { kind: "pod", pod: a },
      dst: s.clusterIP!,
      dport: s.port.port,
      protocol: s.protocol,
    });
    if (res.verdict === "delivered") delivered++;
  }
  per.push(((performance.now() - t0) * 1000) / n);
  perCpu.push((cpu(c0) * 1000) / n);
  if (run === 0) console.log(`  ${delivered}/${n} delivered`);
}
console.log(
  `trace pod→ClusterIP through IPVS (the model deciding): median ${median(per).toFixed(1)} µs/trace (CPU ${median(perCpu).toFixed(1)})`,
);

// The evaluator over the printed state: one decision at node-1 (a whole trace through the rules
// would render every node the packet enters, seconds each at 10,000 Services).
const decide: number[] = [];
const decideCpu: number[] = [];
const local = pods.filter((p) => p.spec.nodeName === node.name);
const source = local.length > 0 ? local : pods;
rules.decider.decide({
  node,
  src: 0,
  sport: 1,
  dst: vips[0].clusterIP!,
  dport: vips[0].port.port,
  protocol: vips[0].protocol,
  fromHost: false,
  toLocalAddress: true,
});
for (let run = 0; run < Number(values.runs); run++) {
  const rand = prng(opts.seed + run);
  const n = Number(values.traces);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const a = source[Math.floor(rand() * source.length)];
    const s = vips[Math.floor(rand() * vips.length)];
    rules.decider.decide({
      node,
      src: model.podFacts(a).ip,
      sport: 40000 + (i % 20000),
      dst: s.clusterIP!,
      dport: s.port.port,
      protocol: s.protocol,
      fromHost: false,
      toLocalAddress: true,
    });
  }
  decide.push(((performance.now() - t0) * 1000) / n);
  decideCpu.push((cpu(c0) * 1000) / n);
}
console.log(
  `one decision at ${node.name} by the evaluator over the printed state: median ${median(decide).toFixed(1)} µs (CPU ${median(decideCpu).toFixed(1)})`,
);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; load average now ${load()}`);
