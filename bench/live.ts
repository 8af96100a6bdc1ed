/**
 * Benchmark: read the benchmark cluster (bench/generate.ts: 5,000 nodes, 150,000 pods, 10,000
 * Services by default) live from a local API server (test/live-server.ts: HTTPS, pages of 500, as
 * kubectl's chunk size), and `podnet snapshot --anonymize` of it. The served objects are the cluster
 * as podnet resolves it (pods with their addresses, EndpointSlices, ReplicaSets: what a real API
 * server holds), without podnet's Cluster config. Each run is a fresh child process, so its peak
 * memory (VmHWM) is that of one run; the server runs in this process. Prints each run and medians.
 *
 *   node --import tsx bench/live.ts                 # 3 runs of each
 *   node --import tsx bench/live.ts --pods 15000 --nodes 500 --services 1000 --runs 5
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { findResourceType } from "../src/cli/render/resources.ts";
import { resolveManifests } from "../src/core/cluster.ts";
import { Diagnostics } from "../src/core/diagnostics.ts";
import { kubeconfigText, makePki, resourceOf, startFakeApi } from "../test/live-server.ts";
import { GENERATE_OPTIONS, generateCluster, generateOptionsFrom } from "./generate.ts";

const SERVED_KINDS = [
  "namespaces",
  "nodes",
  "pods",
  "services",
  "endpointslices",
  "deployments",
  "replicasets",
  "networkpolicies",
];

interface RunResult {
  totalMs: number;
  peakRssMB: number;
  objects: number;
}

function vmHwmMB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
}

async function child(mode: string, kubeconfig: string, out: string): Promise<void> {
  const t0 = performance.now();
  let objects = 0;
  if (mode === "read") {
    const { readLive } = await import("../src/adapters/manifests/live.ts");
    const read = await readLive({ kubeconfig, env: {}, home: "/nonexistent" });
    objects = read.items.length;
  } else {
    const { main } = await import("../src/cli/main.ts");
    const code = await main([
      "snapshot",
      "--kubeconfig",
      kubeconfig,
      "--anonymize",
      "--seed",
      "bench",
      "-o",
      out,
    ]);
    if (code !== 0) throw new Error(`snapshot exited ${code}`);
    objects = (readFileSync(out, "utf8").match(/^- apiVersion:/gm) ?? []).length;
  }
  const result: RunResult = { totalMs: performance.now() - t0, peakRssMB: vmHwmMB(), objects };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...GENERATE_OPTIONS,
      runs: { type: "string", default: "3" },
      child: { type: "string" },
      kubeconfig: { type: "string" },
      out: { type: "string" },
    },
  });
  if (values.child) return child(values.child, values.kubeconfig ?? "", values.out ?? "");
  const gen = generateOptionsFrom(values);
  const dir = mkdtempSync(join(tmpdir(), "podnet-bench-live-"));
  try {
    process.stderr.write(
      `resolving the benchmark cluster (${gen.nodes} nodes, ${gen.pods} pods, ${gen.services} Services)…\n`,
    );
    const resolved = resolveManifests(
      [{ file: "bench.yaml", text: generateCluster(gen) }],
      new Diagnostics(),
    );
    if (!resolved.ok) throw new Error("the benchmark cluster does not resolve");
    const objects: Record<string, unknown>[] = [];
    for (const kind of SERVED_KINDS) {
      const type = findResourceType(kind);
      if (!type) throw new Error(`no resource type ${kind}`);
      for (const o of type.list(resolved.cluster)) objects.push(JSON.parse(JSON.stringify(o)));
    }
    const served = objects.filter((o) => resourceOf(o)).length;
    const pki = makePki();
    const api = await startFakeApi(pki, { objects, tokens: ["bench"] });
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      kubeconfigText({ server: api.url, caCert: pki.caCert, user: { token: "bench" } }),
    );
    process.stderr.write(`serving ${served} objects at ${api.url}\n`);
    const runs = Number(values.runs);
    const report: string[] = [];
    for (const mode of ["read", "snapshot"]) {
      const results: RunResult[] = [];
      for (let i = 0; i < runs; i++) {
        const out = await new Promise<string>((resolve, reject) => {
          // Asynchronously: the server answering the child runs in this process.
          import("node:child_process").then(({ execFile }) =>
            execFile(
              process.execPath,
              [
                "--import",
                "tsx",
                "bench/live.ts",
                "--child",
                mode,
                "--kubeconfig",
                kubeconfig,
                "--out",
                join(dir, "snap.yaml"),
              ],
              { maxBuffer: 1 << 20 },
              (err, stdout, stderr) =>
                err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
            ),
          );
        });
        const r = JSON.parse(out.trim().split("\n").pop() ?? "{}") as RunResult;
        results.push(r);
        process.stdout.write(
          `${mode === "read" ? "live read        " : "snapshot --anon. "} run ${i + 1}: ${(r.totalMs / 1000).toFixed(2)} s, peak ${r.peakRssMB} MB, ${r.objects} objects\n`,
        );
      }
      report.push(
        `${mode === "read" ? "live read        " : "snapshot --anon. "} median: ${(median(results.map((r) => r.totalMs)) / 1000).toFixed(2)} s, peak ${median(results.map((r) => r.peakRssMB))} MB`,
      );
    }
    await api.close();
    const load = execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" })
      .split(" ")
      .slice(0, 3)
      .join(" ");
    process.stdout.write(`${report.join("\n")}\nload average: ${load}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
