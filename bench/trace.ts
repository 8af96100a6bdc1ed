/**
 * Benchmark: building the network model and tracing packets in a large cluster (issue #3: one trace
 * under 1 ms after loading; the model for 5,000 nodes / 150,000 pods built in under 10 s; issue 13:
 * under 100 µs in every network plugin). The cluster is resolved once per registered network plugin
 * (its IPAM gives the pods their addresses), then measured. Fixed seeds: the cluster from
 * bench/generate.ts, the traced pairs from the same PRNG.
 *
 *   node --import tsx bench/trace.ts [--nodes 5000 --pods 150000 --services 10000 --traces 20000] [--cni NAME,…] [--proxy-mode ipvs]
 *
 * `--proxy-mode` sets the cluster's kube-proxy mode (the cluster's default, nftables, unless given):
 * with `ipvs` the pod→Service traces go through IPVS (issue 16: ≤ 100 µs at 150,000 pods).
 *
 * Each figure is given twice: wall-clock time per trace, and the process's CPU time (user + system,
 * `process.cpuUsage`) per trace, which a busy shared machine disturbs far less (the process waits
 * for a core rather than burning more). The model build is timed the same way.
 */
import { parseArgs } from "node:util";
import { resolveManifests } from "../src/core/cluster.ts";
import { networkPluginNames } from "../src/core/cni/registry.ts";
import { parseIPv4 } from "../src/core/net/ipv4.ts";
import { proxyModeNames } from "../src/core/proxy/modes/registry.ts";
import { Network } from "../src/core/sim/network.ts";
import { trace } from "../src/core/sim/trace.ts";
import { GENERATE_OPTIONS, generateCluster, generateOptionsFrom, prng } from "./generate.ts";

const USAGE = `usage: node --import tsx bench/trace.ts [options]
  --nodes N --pods N --services N --namespaces N --policies N --seed N
                        the generated cluster (defaults ${Object.entries(GENERATE_OPTIONS)
                          .map(([k, o]) => `${k} ${o.default}`)
                          .join(", ")})
  --traces N            traces per kind and run (default 20000)
  --runs N              runs per network plugin; medians are printed (default 3)
  --cni NAME,…          network plugins (default every registered one: ${networkPluginNames.join(", ")})
  --proxy-mode MODE     kube-proxy mode of the cluster: ${proxyModeNames().join(", ")} (default: the cluster's, nftables)
  -h, --help            this text`;

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      ...GENERATE_OPTIONS,
      traces: { type: "string", default: "20000" },
      runs: { type: "string", default: "3" },
      /** Comma-separated plugin names; default every registered one. */
      cni: { type: "string" },
      "proxy-mode": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
try {
  parsed = parse();
} catch (e) {
  console.error(`bench/trace.ts: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const plugins = values.cni ? values.cni.split(",") : [...networkPluginNames];
const mode = values["proxy-mode"];
const checks: [string, readonly string[], readonly string[]][] = [
  ["network plugin", plugins, networkPluginNames],
  ["proxy mode", mode === undefined ? [] : [mode], proxyModeNames()],
];
for (const [what, given, known] of checks)
  for (const name of given)
    if (!known.includes(name)) {
      console.error(`bench/trace.ts: unknown ${what} "${name}"; known: ${known.join(", ")}\n${USAGE}`);
      process.exit(2);
    }
const opts = generateOptionsFrom(values);
const generated = generateCluster(opts);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary: string[] = [];
for (const cni of plugins) {
  const text = generated.replace(
    "kind: Cluster\nmetadata: {name: bench}\nspec:\n",
    `kind: Cluster\nmetadata: {name: bench}\nspec:\n  cni: ${cni}\n${mode ? `  proxyMode: ${mode}\n` : ""}`,
  );
  const r = resolveManifests([{ file: "bench.yaml", text }]);
  if (!r.ok) throw new Error(`benchmark input has errors (cni ${cni})`);
  const state = r.cluster;
  console.log(
    `podnet trace benchmark, network plugin ${cni}, proxy mode ${state.config.proxyMode}: seed ${opts.seed}, ${state.nodes.length} nodes, ${state.pods.length} pods, ${state.services.length} Services; ${values.traces} traces per run; node ${process.version}`,
  );
  const builds: number[] = [];
  const podTrace: number[] = [];
  const svcTrace: number[] = [];
  const buildsCpu: number[] = [];
  const podCpu: number[] = [];
  const svcCpu: number[] = [];
  /** CPU time (user + system) since `since`, in µs. */
  const cpuSince = (since: NodeJS.CpuUsage) => {
    const d = process.cpuUsage(since);
    return d.user + d.system;
  };
  for (let run = 0; run < Number(values.runs); run++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const net = new Network(state);
    const buildMs = performance.now() - t0;
    builds.push(buildMs);
    buildsCpu.push(cpuSince(c0) / 1000);
    const pods = [...net.podByIP.values()];
    const vips = net.proxy.ports.filter((p) => p.clusterIP !== undefined && p.endpoints.length > 0);
    const rand = prng(opts.seed + run);
    const n = Number(values.traces);
    let delivered = 0;
    const c1 = process.cpuUsage();
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
    const podCpuUs = cpuSince(c1) / n;
    const c2 = process.cpuUsage();
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
    const svcCpuUs = cpuSince(c2) / n;
    podTrace.push(((t2 - t1) * 1000) / n);
    svcTrace.push(((t3 - t2) * 1000) / n);
    podCpu.push(podCpuUs);
    svcCpu.push(svcCpuUs);
    console.log(
      `  run ${run + 1}: model ${(buildMs / 1000).toFixed(2)} s (CPU ${(buildsCpu[run] / 1000).toFixed(2)} s); pod→pod ${(((t2 - t1) * 1000) / n).toFixed(1)} µs/trace (CPU ${podCpuUs.toFixed(1)}; ${delivered}/${n} reached the pod); pod→Service ${(((t3 - t2) * 1000) / n).toFixed(1)} µs/trace (CPU ${svcCpuUs.toFixed(1)})`,
    );
  }
  const line = `${cni}: median model ${(median(builds) / 1000).toFixed(2)} s (CPU ${(median(buildsCpu) / 1000).toFixed(2)} s); pod→pod ${median(podTrace).toFixed(1)} µs/trace (CPU ${median(podCpu).toFixed(1)}); pod→Service ${median(svcTrace).toFixed(1)} µs/trace (CPU ${median(svcCpu).toFixed(1)})`;
  summary.push(line);
  console.log(line);
}
console.log(
  `\nper plugin (medians):\n${summary.map((l) => `  ${l}`).join("\n")}\npeak RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
);
