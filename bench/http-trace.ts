/**
 * Benchmark: one HTTP request traced from outside to a pod (src/core/sim/http-trace.ts) on
 * examples/ingress — the load balancer's election, both TCP legs, the routing decision — for the
 * Ingress and the Gateway request, and the same with --reply. Prints the median of `--runs` rounds of
 * `--n` traces each. Not a test.
 *
 *   node --import tsx bench/http-trace.ts [--n 200 --runs 7]
 */
import { parseArgs } from "node:util";
import { clusterRouters } from "../src/core/sim/http-routers.ts";
import { httpTrace, parseHttpRequest } from "../src/core/sim/http-trace.ts";
import { Network } from "../src/core/sim/network.ts";
import { resolveSource } from "../src/core/sim/targets.ts";
import { loadCluster } from "../src/index.ts";

const { values } = parseArgs({
  options: { n: { type: "string", default: "200" }, runs: { type: "string", default: "7" } },
});
const n = Number(values.n);
const runs = Number(values.runs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const r = loadCluster({ files: ["examples/ingress"] });
if (!r.ok) throw new Error("examples/ingress does not load");
const net = new Network(r.cluster);
const src = resolveSource(net, "203.0.113.7");
if (!src.ok) throw new Error(src.message);
const routersStart = performance.now();
const routers = clusterRouters(net.state);
const routersMs = performance.now() - routersStart;
console.log(`routers (routerSpecs + compileRouter): ${routersMs.toFixed(2)} ms`);
for (const url of ["http://shop.example.com/cart", "http://api.example.com/v1/items"]) {
  const req = parseHttpRequest(url);
  if (!req.ok) throw new Error(req.message);
  for (const reply of [false, true]) {
    const times: number[] = [];
    for (let k = 0; k < runs; k++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) httpTrace(net, routers, { source: src.value, request: req.request, reply });
      times.push((performance.now() - t0) / n);
    }
    console.log(
      `${url}${reply ? " --reply" : ""}: median ${(median(times) * 1000).toFixed(0)} µs per request`,
    );
  }
}
