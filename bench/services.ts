/**
 * Benchmark (as root): Services in the Linux data plane (issue #5). With 10,000 Services installed,
 * new-connection latency to a ClusterIP against the latency with one Service (both in this run); the
 * time of a full rule sync of 10,000 Services (one node's `nft -f`: refilled in place as kube-proxy
 * does it, and dropped and reloaded); and the time `apply` takes for one changed endpoint.
 *
 *   node --import tsx bench/services.ts [--services 10000 --connections 500 --runs 3]
 *
 * Cluster: 2 nodes, 20 pods; each Service has one endpoint (see `cluster`). Namespaces podnet-bench*.
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { apply, dataPlaneUnavailable, down, up } from "../src/adapters/linux/dataplane.ts";
import { resolveManifests } from "../src/core/cluster.ts";
import { refillScript, replaceTable, syncScript } from "../src/core/dataplane/nft-sync.ts";
import { planCluster } from "../src/core/dataplane/plan.ts";

const { values } = parseArgs({
  options: {
    services: { type: "string", default: "10000" },
    connections: { type: "string", default: "500" },
    runs: { type: "string", default: "3" },
  },
});
const why = dataPlaneUnavailable();
if (why) {
  console.error(`bench/services: ${why}`);
  process.exit(2);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = Number(values.runs);
const connections = Number(values.connections);

/**
 * 2 nodes, 20 pods, and `services` Services of one endpoint each: Service sK selects pod p(K mod 20),
 * except s0, the one connected to, which selects the pods labelled `target: "yes"` (p0, and with
 * `extraEndpoint` p1 as well, relabelled: a change to exactly one Service's endpoints).
 */
function cluster(services: number, extraEndpoint = false) {
  const docs = ["apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: svc}\nspec: {nodes: 2}\n"];
  const pod = (name: string, labels: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: default, labels: {${labels}}}\nspec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}\n`;
  const target = (i: number) => i === 0 || (extraEndpoint && i === 1);
  for (let i = 0; i < 20; i++) docs.push(pod(`p${i}`, `idx: "${i}"${target(i) ? ', target: "yes"' : ""}`));
  for (let k = 0; k < services; k++)
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata: {name: s${k}, namespace: default}\nspec: {selector: {${k === 0 ? 'target: "yes"' : `idx: "${k % 20}"`}}, ports: [{name: http, port: 80, targetPort: http}]}\n`,
    );
  const r = resolveManifests([{ file: "svc.yaml", text: docs.join("---\n") }]);
  if (!r.ok) throw new Error("benchmark input has errors");
  return r.cluster;
}

/** Median microseconds for a new TCP connection (SYN to established) to `ip:port`, `connections` in a row, from a pod. */
function latency(netns: string, ip: string, port: number): number {
  const script = `const net=require("net");const t=[];let i=0;const go=()=>{if(i++>=${connections}){t.sort((a,b)=>a-b);console.log(t[t.length>>1]);return}const s0=process.hrtime.bigint();const s=net.connect(${port},"${ip}");s.on("connect",()=>{t.push(Number(process.hrtime.bigint()-s0)/1000);s.destroy();go()});s.on("error",()=>{t.push(1e9);go()});s.setTimeout(2000,()=>s.destroy())};go()`;
  const r = spawnSync("ip", ["netns", "exec", netns, process.execPath, "-e", script], {
    encoding: "utf8",
    timeout: 120000,
  });
  return Number(r.stdout.trim());
}

console.log(
  `podnet Services benchmark: ${values.services} Services, ${connections} connections per measurement, ${runs} runs, node ${process.version}`,
);
const results: Record<string, number[]> = {
  one: [],
  many: [],
  sync: [],
  replace: [],
  endpoint: [],
  plan: [],
  nftEndpoint: [],
  nftElement: [],
};
const targetName = "s0";
for (let run = 0; run < runs; run++) {
  for (const [label, count] of [
    ["one", 1],
    ["many", Number(values.services)],
  ] as const) {
    const state = cluster(count);
    const plan = planCluster(state, `bench${label}`);
    await up(plan);
    try {
      const client = plan.pods.find((p) => p.node === plan.nodes[0].name)!;
      const svc = state.services.find((s) => s.metadata.name === targetName)!;
      results[label].push(latency(client.netns, svc.spec.clusterIP!, svc.spec.ports![0].port));
      if (label === "many") {
        // A full sync: one node's kube-proxy table replaced in one transaction.
        const rules = plan.rules.find(
          (r) => r.netns === plan.nodes[0].netns && r.text.startsWith("table ip kube-proxy"),
        )!;
        const timed = (script: string) => {
          const t0 = performance.now();
          const r = spawnSync("ip", ["netns", "exec", rules.netns, "nft", "-f", "-"], { input: script });
          if (r.status !== 0) throw new Error(`nft: ${r.stderr}`);
          return performance.now() - t0;
        };
        // As kube-proxy does it: every chain flushed, every map emptied, all of it written again.
        results.sync.push(timed(refillScript(rules.text, rules.text)));
        // The long way: the table dropped and loaded anew.
        results.replace.push(timed(replaceTable(rules.text)));
        // One changed endpoint: p1 relabelled into s0, nothing else. The plan (the model and every
        // node's rulesets rendered) is timed apart from the sync.
        const p0 = performance.now();
        const plan2 = planCluster(cluster(count, true), `bench${label}`);
        results.plan.push(performance.now() - p0);
        const { report } = await apply(plan2);
        if (report.rules.partial !== plan2.nodes.length || report.rules.full || report.listenersRestarted)
          throw new Error(`expected one partial sync per node: ${JSON.stringify(report)}`);
        results.endpoint.push(report.ms);
        // nft by itself on one node, for the floor under that: the same change's script (back and
        // forth), and the smallest change a table can have, one set element (added and removed).
        const rules2 = plan2.rules.find(
          (r) => r.netns === rules.netns && r.text.startsWith("table ip kube-proxy"),
        )!;
        const back = syncScript(rules2.text, rules.text).script;
        const forth = syncScript(rules.text, rules2.text).script;
        results.nftEndpoint.push((timed(back) + timed(forth)) / 2);
        results.nftElement.push(
          (timed("add element ip kube-proxy cluster-ips { 10.255.255.1 }\n") +
            timed("delete element ip kube-proxy cluster-ips { 10.255.255.1 }\n")) /
            2,
        );
      }
    } finally {
      down(`bench${label}`);
    }
  }
}
const f = (xs: number[], unit: string, d = 0) =>
  `${xs.map((x) => x.toFixed(d)).join(" / ")} ${unit} (median ${median(xs).toFixed(d)})`;
console.log(`  new connection, 1 Service: ${f(results.one, "µs")}`);
console.log(
  `  new connection, ${values.services} Services: ${f(results.many, "µs")} → ${((median(results.many) / median(results.one) - 1) * 100).toFixed(1)} %`,
);
console.log(
  `  full sync of ${values.services} Services (one node's table refilled in place, one nft -f): ${f(results.sync, "ms")}`,
);
console.log(`    (the same table dropped and loaded anew instead: ${f(results.replace, "ms")})`);
console.log(
  `  one endpoint more (podnet apply: partial sync of both nodes' kube-proxy tables): ${f(results.endpoint, "ms", 1)}`,
);
console.log(
  `    (before it, the model and the rulesets for ${values.services} Services rendered: ${f(results.plan, "ms")})`,
);
console.log(
  `    (nft -f alone, one node: that change's script ${f(results.nftEndpoint, "ms", 1)}; one set element ${f(results.nftElement, "ms", 1)})`,
);
