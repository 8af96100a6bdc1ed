/**
 * Benchmark: queries per second of `podnet dns` on loopback (issue #6), with a load generator in the
 * same run, for the query kind CoreDNS's published figure uses ("internal": a Service name, answered
 * from the cluster zone).
 *
 *   node --import tsx bench/dns.ts [--queries 200000 --inflight 64 --runs 3]
 *   node --max-old-space-size=4096 --import tsx bench/dns.ts --big
 *
 * The server is the CLI (`podnet dns -f examples/shop --listen 127.0.0.1:0 -q`, built: run `npm run
 * build` first) in its own process; this process keeps `inflight` queries outstanding over UDP,
 * names drawn from the shop's Services by a fixed-seed PRNG, until `queries` are answered or 60 s
 * pass. Also: the answer function alone (no sockets), for the cost of the DNS work itself.
 *
 * `--big`: instead, the zone of the load benchmark's cluster (seed 1: 5,000 nodes, 150,000 pods,
 * 10,000 Services) — the time to build it, its records, and the time per look-up.
 */
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import { parseArgs } from "node:util";
import packet from "dns-packet";
import { resolveManifests } from "../src/core/cluster.ts";
import { respond } from "../src/core/dns/wire.ts";
import { ClusterZone } from "../src/core/dns/zone.ts";
import { loadCluster } from "../src/index.ts";
import { generateCluster, prng } from "./generate.ts";

const { values } = parseArgs({
  options: {
    queries: { type: "string", default: "200000" },
    inflight: { type: "string", default: "64" },
    runs: { type: "string", default: "3" },
    big: { type: "boolean", default: false },
  },
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

if (values.big) {
  const text = generateCluster({
    seed: 1,
    nodes: 5000,
    pods: 150000,
    services: 10000,
    namespaces: 200,
    policies: 0,
  });
  const r = resolveManifests([{ file: "big.yaml", text }]);
  if (!r.ok) throw new Error("the generated cluster has errors");
  const builds: number[] = [];
  let z: ClusterZone | undefined;
  for (let i = 0; i < Number(values.runs); i++) {
    const t0 = performance.now();
    z = new ClusterZone(r.cluster);
    builds.push(performance.now() - t0);
  }
  const svc = r.cluster.services.map((s) => `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`);
  const t0 = performance.now();
  for (let i = 0; i < 1_000_000; i++) z!.lookup(svc[i % svc.length], "A");
  const perLookup = (performance.now() - t0) / 1000;
  console.log(
    `zone of 150,000 pods and ${svc.length} Services: ${z!.records().length} records; built in ${builds.map((b) => (b / 1000).toFixed(2)).join(" / ")} s (median ${(median(builds) / 1000).toFixed(2)} s); ${perLookup.toFixed(2)} µs per look-up (1,000,000 A look-ups); peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
  process.exit(0);
}
const total = Number(values.queries);
const inflight = Number(values.inflight);
const runs = Number(values.runs);

const loaded = loadCluster({ files: ["examples/shop"] });
if (!loaded.ok) throw new Error("examples/shop does not load");
const zone = new ClusterZone(loaded.cluster);
const names = loaded.cluster.services
  .filter((s) => s.spec.clusterIP && s.spec.clusterIP !== "None")
  .map((s) => `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`);
const rand = prng(6);
const queries = Array.from({ length: 4096 }, (_, i) =>
  Buffer.from(
    packet.encode({
      type: "query",
      id: i,
      flags: packet.RECURSION_DESIRED,
      questions: [{ type: "A", name: names[Math.floor(rand() * names.length)] }],
    }),
  ),
);

console.log(
  `podnet DNS benchmark: ${total} A queries for ${names.length} Service names, ${inflight} in flight, ${runs} runs, node ${process.version}`,
);

// The answer function alone.
const alone: number[] = [];
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  for (let i = 0; i < total; i++) respond(zone, queries[i % queries.length], "udp");
  alone.push(total / ((performance.now() - t0) / 1000));
}

async function startServer(): Promise<{ port: number; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ["bin/podnet.js", "dns", "-f", "examples/shop", "--listen", "127.0.0.1:0", "-q"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = / on 127\.0\.0\.1:(\d+) /.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`podnet dns exited (${code}): ${out}`)));
  });
  return { port, stop: () => child.kill("SIGTERM") };
}

/** Keeps `inflight` queries outstanding until `total` are answered (or 60 s pass). */
function load(port: number): Promise<{ qps: number; p50: number; answered: number }> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    const sentAt = new Float64Array(65536);
    const latencies: number[] = [];
    let sent = 0;
    let answered = 0;
    const t0 = performance.now();
    const send = () => {
      const q = queries[sent % queries.length];
      const id = sent & 0xffff;
      q.writeUInt16BE(id, 0);
      sentAt[id] = performance.now();
      sent++;
      sock.send(q, port, "127.0.0.1");
    };
    const finish = () => {
      clearTimeout(deadline);
      sock.close();
      const seconds = (performance.now() - t0) / 1000;
      resolve({ qps: answered / seconds, p50: median(latencies) * 1000, answered });
    };
    const deadline = setTimeout(finish, 60000);
    sock.on("message", (m) => {
      answered++;
      if (answered % 16 === 0) latencies.push(performance.now() - sentAt[m.readUInt16BE(0)]);
      if (answered >= total) finish();
      else if (sent < total) send();
    });
    sock.bind(0, "127.0.0.1", () => {
      for (let i = 0; i < inflight; i++) send();
    });
  });
}

const server = await startServer();
const qps: number[] = [];
const p50: number[] = [];
try {
  await load(server.port); // warm-up: the server's JIT
  for (let r = 0; r < runs; r++) {
    const res = await load(server.port);
    if (res.answered < total) throw new Error(`only ${res.answered} of ${total} queries answered`);
    qps.push(res.qps);
    p50.push(res.p50);
  }
} finally {
  server.stop();
}
const f = (xs: number[], d = 0) =>
  `${xs.map((x) => x.toFixed(d)).join(" / ")} (median ${median(xs).toFixed(d)})`;
console.log(`  answer function alone: ${f(alone)} queries/s`);
console.log(`  server on loopback (UDP): ${f(qps)} queries/s, median latency ${f(p50)} µs`);
