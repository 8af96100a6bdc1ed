/**
 * Benchmark (as root): `up` of the same cluster with Calico networking (no encapsulation: cali…
 * veths with proxy ARP, a route per pod and per block, blackholes) beside flannel VXLAN (a bridge per
 * node, flannel.1), in the same run, alternating. Issue 13's target: Calico within 1.2× of flannel.
 *
 *   node --import tsx bench/calico-up.ts [--pods 1000 --nodes 10 --runs 3]
 *
 * Everything happens in namespaces named podnet-calbench*; nothing touches the host's own namespace.
 */
import { parseArgs } from "node:util";
import { dataPlaneUnavailable, down, up } from "../src/adapters/linux/dataplane.ts";
import { resolveManifests } from "../src/core/cluster.ts";
import { planCluster } from "../src/core/dataplane/plan.ts";
import { generateCluster } from "./generate.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    pods: { type: "string", default: "1000" },
    nodes: { type: "string", default: "10" },
    runs: { type: "string", default: "3" },
  },
});
const why = dataPlaneUnavailable();
if (why) {
  console.error(`bench/calico-up: ${why}`);
  process.exit(2);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = Number(values.runs);
const base = generateCluster({
  seed: Number(values.seed),
  nodes: Number(values.nodes),
  pods: Number(values.pods),
  services: 50,
  namespaces: 10,
  policies: 0,
});
// The same cluster twice: flannel VXLAN (the default cni), and Calico with an unencapsulated pool.
const variants = {
  "flannel vxlan": base,
  "calico (no encapsulation)": `${base.replace("spec:\n  clusterCIDR:", "spec:\n  cni: calico\n  clusterCIDR:")}---
apiVersion: crd.projectcalico.org/v1
kind: IPPool
metadata: {name: bench}
spec: {cidr: 10.0.0.0/16, blockSize: 26, ipipMode: Never, vxlanMode: Never, natOutgoing: true}
`,
};
const states = Object.entries(variants).map(([name, text]) => {
  const r = resolveManifests([{ file: "bench.yaml", text }]);
  if (!r.ok) throw new Error(`${name}: benchmark input has errors`);
  return { name, state: r.cluster };
});
console.log(
  `podnet up, Calico beside flannel: ${states[0].state.nodes.length} nodes, ${states[0].state.pods.length} pods, ${runs} runs each (alternating), node ${process.version}`,
);
const times = new Map<string, number[]>(states.map((s) => [s.name, []]));
for (let i = 0; i < runs; i++) {
  for (const { name, state } of states) {
    const plan = planCluster(state, "calbench");
    const t0 = performance.now();
    await up(plan);
    times.get(name)!.push(performance.now() - t0);
    down("calbench");
  }
}
for (const [name, xs] of times)
  console.log(
    `  ${name}: ${xs.map((x) => `${(x / 1000).toFixed(2)} s`).join(" / ")} → median ${(median(xs) / 1000).toFixed(2)} s`,
  );
const [flannel, calicoTimes] = [...times.values()];
const ratio = median(calicoTimes) / median(flannel);
console.log(`  calico / flannel: ${ratio.toFixed(2)}× (target ≤ 1.2×) ${ratio <= 1.2 ? "✓" : "✗"}`);
