/**
 * Benchmark (as root): bringing up the Linux data plane (issue #5: 1,000 pods on 10 nodes ready in
 * under 20 s, all listeners under 1 GB), against the reference CNI plugins doing the pods' networking
 * for the same pods in the same run (Debian's containernetworking-plugins: `bridge` + `host-local`,
 * invoked through the CNI protocol inside each node's namespace), and pod-to-pod TCP throughput across
 * nodes (iperf3) against a bare veth + VXLAN path between two namespaces.
 *
 * And `apply` of one changed endpoint with 10,000 Services, kube-proxy's rules in nftables mode beside
 * iptables mode (iptables-restore --noflush), same run.
 *
 *   node --import tsx bench/dataplane.ts [--pods 1000 --nodes 10 --runs 3 --seconds 5 --services 10000]
 *   node --import tsx bench/dataplane.ts --only apply [--services 10000 --runs 3]
 *
 * Everything happens in namespaces named podnet-bench*; nothing touches the host's own namespace.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { apply, dataPlaneUnavailable, down, up } from "../src/adapters/linux/dataplane.ts";
import { runOrThrow, spawnRunner } from "../src/adapters/linux/runner.ts";
import { resolveManifests } from "../src/core/cluster.ts";
import { planCluster } from "../src/core/dataplane/plan.ts";
import { generateCluster } from "./generate.ts";

const run = (cmd: string, args: string[], input?: string) => runOrThrow(spawnRunner, { cmd, args, input });

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    pods: { type: "string", default: "1000" },
    nodes: { type: "string", default: "10" },
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "5" },
    services: { type: "string", default: "10000" },
    only: { type: "string" },
  },
});
const why = dataPlaneUnavailable(["iptables-restore"]);
if (why) {
  console.error(`bench/dataplane: ${why}`);
  process.exit(2);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pods = Number(values.pods);
const nodes = Number(values.nodes);
const runs = Number(values.runs);

if (values.only === "apply") {
  await applyByMode();
  process.exit(0);
}

const text = generateCluster({
  seed: Number(values.seed),
  nodes,
  pods,
  services: 50,
  namespaces: 10,
  policies: 0,
});
const r = resolveManifests([{ file: "bench.yaml", text }]);
if (!r.ok) throw new Error("benchmark input has errors");
const state = r.cluster;
console.log(
  `podnet data plane benchmark: ${state.nodes.length} nodes, ${state.pods.length} pods, ${runs} runs, node ${process.version}`,
);

// 1. podnet up, whole: namespaces, links, routes, rules, listeners.
const ups: number[] = [];
let listenerMB = 0;
for (let i = 0; i < runs; i++) {
  const plan = planCluster(state, "bench");
  const t0 = performance.now();
  const { record } = await up(plan);
  ups.push(performance.now() - t0);
  const pid = record.processes[0]?.pid;
  if (pid)
    listenerMB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  down("bench");
}
console.log(
  `  podnet up: ${ups.map((x) => `${(x / 1000).toFixed(2)} s`).join(" / ")} → median ${(median(ups) / 1000).toFixed(2)} s, ${Math.round(pods / (median(ups) / 1000))} pods/s; one listener process for all pods: ${listenerMB.toFixed(0)} MiB RSS`,
);

// 2. The reference CNI plugins for the same pods: per pod, `bridge` (with `host-local` IPAM) via the CNI
//    protocol, run inside the pod's node namespace. Namespaces are made the same way as podnet's.
const CNI = "/usr/lib/cni";
if (!existsSync(join(CNI, "bridge"))) {
  console.log(
    `  reference CNI plugins: ${CNI}/bridge is missing (Debian: apt install containernetworking-plugins); skipped`,
  );
} else {
  const cniRuns: number[] = [];
  for (let i = 0; i < runs; i++) {
    const plan = planCluster(state, "benchcni");
    const dataDir = mkdtempSync(join(tmpdir(), "podnet-bench-cni-"));
    const all = [...plan.nodes.map((n) => n.netns), ...plan.pods.map((p) => p.netns)];
    try {
      run("ip", ["-batch", "-"], `${all.map((n) => `netns add ${n}`).join("\n")}\n`);
      const t0 = performance.now();
      await Promise.all(
        state.nodes.map(async (node, k) => {
          const netns = plan.nodes[k].netns;
          for (const pod of plan.pods.filter((p) => p.node === node.name)) {
            const conf = JSON.stringify({
              cniVersion: "1.0.0",
              name: "bench",
              type: "bridge",
              bridge: "cni0",
              isGateway: true,
              ipMasq: false,
              hairpinMode: true,
              ipam: { type: "host-local", ranges: [[{ subnet: node.podCIDR.toString() }]], dataDir },
            });
            await new Promise<void>((resolve, reject) => {
              const child = spawn("ip", ["netns", "exec", netns, join(CNI, "bridge")], {
                env: {
                  CNI_COMMAND: "ADD",
                  CNI_CONTAINERID: pod.netns,
                  CNI_NETNS: `/run/netns/${pod.netns}`,
                  CNI_IFNAME: "eth0",
                  CNI_PATH: CNI,
                  PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
                },
                stdio: ["pipe", "ignore", "pipe"],
              });
              let err = "";
              child.stderr.on("data", (d) => {
                err += d;
              });
              child.on("close", (code) =>
                code === 0 ? resolve() : reject(new Error(`bridge plugin: ${err}`)),
              );
              child.stdin.end(conf);
            });
          }
        }),
      );
      cniRuns.push(performance.now() - t0);
    } finally {
      spawnSync("ip", ["-force", "-batch", "-"], {
        input: `${all.map((n) => `netns del ${n}`).join("\n")}\n`,
      });
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  console.log(
    `  reference CNI (bridge + host-local, one ADD per pod, nodes in parallel; namespaces made beforehand, not timed): ${cniRuns.map((x) => `${(x / 1000).toFixed(2)} s`).join(" / ")} → median ${(median(cniRuns) / 1000).toFixed(2)} s, ${Math.round(pods / (median(cniRuns) / 1000))} pods/s`,
  );
}

// 3. Throughput: iperf3 between pods on two nodes (VXLAN) against a bare veth + VXLAN pair of namespaces.
if (spawnSync("iperf3", ["--version"]).error) {
  console.log("  throughput: iperf3 is missing (Debian: apt install iperf3); skipped");
} else {
  const seconds = values.seconds;
  const iperf = (serverNs: string, clientNs: string, serverIp: string): number => {
    const server = spawn("ip", ["netns", "exec", serverNs, "iperf3", "-s", "-1", "-p", "5299"], {
      stdio: "ignore",
    });
    spawnSync("sleep", ["0.5"]);
    const c = spawnSync(
      "ip",
      ["netns", "exec", clientNs, "iperf3", "-c", serverIp, "-p", "5299", "-t", seconds, "-J"],
      {
        encoding: "utf8",
        timeout: (Number(seconds) + 10) * 1000,
      },
    );
    server.kill();
    const j = JSON.parse(c.stdout || "{}") as { end?: { sum_received?: { bits_per_second?: number } } };
    return (j.end?.sum_received?.bits_per_second ?? 0) / 1e9;
  };
  // podnet: two pods on different nodes of a small cluster.
  const small = resolveManifests([
    {
      file: "tp.yaml",
      text: generateCluster({ seed: 1, nodes: 2, pods: 20, services: 1, namespaces: 1, policies: 0 }),
    },
  ]);
  if (!small.ok) throw new Error("throughput input has errors");
  const plan = planCluster(small.cluster, "benchtp");
  await up(plan);
  const a = plan.pods.find((p) => p.node === plan.nodes[0].name)!;
  const b = plan.pods.find((p) => p.node === plan.nodes[1].name)!;
  const podnetRuns: number[] = [];
  for (let i = 0; i < runs; i++) podnetRuns.push(iperf(b.netns, a.netns, b.ip));
  down("benchtp");
  // Bare: two namespaces joined by a veth, with a VXLAN device on each end carrying 10.99.0.0/24.
  const bare = ["podnet-benchbare-a", "podnet-benchbare-b"];
  const bareRuns: number[] = [];
  try {
    run("ip", ["-batch", "-"], `${bare.map((n) => `netns add ${n}`).join("\n")}\n`);
    run(
      "ip",
      ["-n", bare[0], "-batch", "-"],
      [
        "link set lo up",
        `link add eth0 type veth peer name eth0 netns ${bare[1]}`,
        "addr add 192.168.77.1/24 dev eth0",
        "link set eth0 up",
        "link add vx type vxlan id 1 dstport 8472 local 192.168.77.1 remote 192.168.77.2 dev eth0",
        "addr add 10.99.0.1/24 dev vx",
        "link set vx up",
      ].join("\n") + "\n",
    );
    run(
      "ip",
      ["-n", bare[1], "-batch", "-"],
      [
        "link set lo up",
        "addr add 192.168.77.2/24 dev eth0",
        "link set eth0 up",
        "link add vx type vxlan id 1 dstport 8472 local 192.168.77.2 remote 192.168.77.1 dev eth0",
        "addr add 10.99.0.2/24 dev vx",
        "link set vx up",
      ].join("\n") + "\n",
    );
    for (let i = 0; i < runs; i++) bareRuns.push(iperf(bare[1], bare[0], "10.99.0.2"));
  } finally {
    spawnSync("ip", ["-force", "-batch", "-"], {
      input: `${bare.map((n) => `netns del ${n}`).join("\n")}\n`,
    });
  }
  console.log(
    `  throughput, ${seconds} s per run: podnet pod → pod across nodes ${podnetRuns.map((x) => x.toFixed(2)).join(" / ")} Gbit/s (median ${median(podnetRuns).toFixed(2)}); bare veth + VXLAN ${bareRuns.map((x) => x.toFixed(2)).join(" / ")} Gbit/s (median ${median(bareRuns).toFixed(2)}) → ${((median(podnetRuns) / median(bareRuns)) * 100).toFixed(0)} %`,
  );
}
await applyByMode();

/**
 * 4. `apply` of one changed endpoint with `--services` Services (2 nodes, 20 pods, one endpoint each;
 *    Service s0 gains pod p1, relabelled), kube-proxy's rules in nftables mode and in iptables mode,
 *    alternating in the same run: the whole apply (plan given; every node's rulesets synced), as
 *    `podnet apply` reports it.
 */
async function applyByMode(): Promise<void> {
  const services = Number(values.services);
  const svcCluster = (mode: "nftables" | "iptables", extra: boolean) => {
    const docs = [
      `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: modes}\nspec: {nodes: 2, proxyMode: ${mode}}\n`,
    ];
    for (let i = 0; i < 20; i++)
      docs.push(
        `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: default, labels: {idx: "${i}"${i === 0 || (extra && i === 1) ? ', target: "yes"' : ""}}}\nspec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}\n`,
      );
    for (let k = 0; k < services; k++)
      docs.push(
        `apiVersion: v1\nkind: Service\nmetadata: {name: s${k}, namespace: default}\nspec: {selector: {${k === 0 ? 'target: "yes"' : `idx: "${k % 20}"`}}, ports: [{name: http, port: 80, targetPort: http}]}\n`,
      );
    const res = resolveManifests([{ file: "modes.yaml", text: docs.join("---\n") }]);
    if (!res.ok) throw new Error("benchmark input has errors");
    return res.cluster;
  };
  const times: Record<"nftables" | "iptables", number[]> = { nftables: [], iptables: [] };
  for (let i = 0; i < runs; i++)
    for (const mode of ["nftables", "iptables"] as const) {
      const before = planCluster(svcCluster(mode, false), "benchmode");
      const after = planCluster(svcCluster(mode, true), "benchmode");
      await up(before);
      try {
        const { report } = await apply(after);
        if (report.rules.partial !== after.nodes.length || report.rules.full)
          throw new Error(`${mode}: expected one partial sync per node: ${JSON.stringify(report.rules)}`);
        times[mode].push(report.ms);
      } finally {
        down("benchmode");
      }
    }
  const show = (xs: number[]) =>
    `${xs.map((x) => x.toFixed(0)).join(" / ")} ms (median ${median(xs).toFixed(0)} ms)`;
  console.log(
    `  apply of one changed endpoint, ${services} Services, 2 nodes: nftables mode ${show(times.nftables)}; iptables mode ${show(times.iptables)}`,
  );
}
