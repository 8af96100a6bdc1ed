/**
 * Benchmark: read the benchmark cluster (bench/generate.ts: 5,000 nodes, 150,000 pods, 10,000
 * Services by default) live from a local API server (test/live-server.ts: HTTPS, the items' JSON
 * made once as an API server's watch cache keeps it), and `podnet snapshot --anonymize` of it. The
 * served objects are the cluster as podnet resolves it (pods with their addresses, EndpointSlices,
 * ReplicaSets: what a real API server holds), without podnet's Cluster config. Each run is a fresh
 * child process running the built code (dist/: run `npx tsc -p tsconfig.build.json` first), so its
 * time includes loading the modules, as a user's command does, and its peak memory (VmHWM) is that
 * of one run; the server runs in this process. Prints each run (wall and CPU time, peak RSS) and
 * the medians, and the load average.
 *
 *   node --import tsx bench/live.ts                 # 3 runs of each
 *   node --import tsx bench/live.ts --pods 15000 --nodes 500 --services 1000 --runs 5
 *   node --import tsx bench/live.ts --page-size 500 --only read
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { findResourceType } from "../src/cli/render/resources.ts";
import { resolveManifests } from "../src/core/cluster.ts";
import { Diagnostics } from "../src/core/diagnostics.ts";
import { kubeconfigText, makePki, resourceOf, startFakeApi } from "../test/live-server.ts";
import { GENERATE_OPTIONS, type GenerateOptions, generateCluster, generateOptionsFrom } from "./generate.ts";

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
  cpuMs: number;
  peakRssMB: number;
  objects: number;
}

function vmHwmMB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
}

async function child(mode: string, kubeconfig: string, out: string, pageSize?: number): Promise<void> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const dist = (f: string) => pathToFileURL(join(process.cwd(), "dist", "src", f)).href;
  let objects = 0;
  if (mode === "read") {
    const { readLive } = (await import(
      dist("adapters/manifests/live.js")
    )) as typeof import("../src/adapters/manifests/live.ts");
    const read = await readLive({
      kubeconfig,
      env: {},
      home: "/nonexistent",
      ...(pageSize ? { pageSize } : {}),
    });
    objects = read.items.length;
  } else {
    const { main } = (await import(dist("cli/main.js"))) as typeof import("../src/cli/main.ts");
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
  }
  const cpu = process.cpuUsage(c0);
  const result: RunResult = {
    totalMs: performance.now() - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMB: vmHwmMB(),
    objects,
  };
  // Counted after the peak was taken: each item of the dump's list is a line `{"apiVersion":…`
  // (and so is the List's own first line).
  if (mode !== "read")
    result.objects = (readFileSync(out, "utf8").match(/^\{"apiVersion"/gm) ?? []).length - 1;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** The benchmark cluster's objects as an API server holds them (the resolved model is dropped). */
function servedObjects(gen: GenerateOptions): Record<string, unknown>[] {
  const resolved = resolveManifests([{ file: "bench.yaml", text: generateCluster(gen) }], new Diagnostics());
  if (!resolved.ok) throw new Error("the benchmark cluster does not resolve");
  const objects: Record<string, unknown>[] = [];
  for (const kind of SERVED_KINDS) {
    const type = findResourceType(kind);
    if (!type) throw new Error(`no resource type ${kind}`);
    for (const o of type.list(resolved.cluster)) objects.push(JSON.parse(JSON.stringify(o)));
  }
  return objects;
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
      "page-size": { type: "string" },
      only: { type: "string" },
      child: { type: "string" },
      kubeconfig: { type: "string" },
      out: { type: "string" },
    },
  });
  const pageSize = values["page-size"] ? Number(values["page-size"]) : undefined;
  if (values.child) return child(values.child, values.kubeconfig ?? "", values.out ?? "", pageSize);
  if (!existsSync("dist/src/cli/main.js"))
    throw new Error("no dist/: build first (npx tsc -p tsconfig.build.json)");
  const gen = generateOptionsFrom(values);
  const dir = mkdtempSync(join(tmpdir(), "podnet-bench-live-"));
  try {
    process.stderr.write(
      `resolving the benchmark cluster (${gen.nodes} nodes, ${gen.pods} pods, ${gen.services} Services)…\n`,
    );
    const pki = makePki();
    let served = 0;
    const api = await startFakeApi(
      pki,
      (() => {
        const objects = servedObjects(gen);
        served = objects.filter((o) => resourceOf(o)).length;
        return { objects, tokens: ["bench"] };
      })(),
    );
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      kubeconfigText({ server: api.url, caCert: pki.caCert, user: { token: "bench" } }),
    );
    process.stderr.write(`serving ${served} objects at ${api.url}\n`);
    const runs = Number(values.runs);
    const report: string[] = [];
    const label = (mode: string) => (mode === "read" ? "live read        " : "snapshot --anon. ");
    for (const mode of ["read", "snapshot"]) {
      if (values.only && values.only !== mode) continue;
      const results: RunResult[] = [];
      for (let i = 0; i < runs; i++) {
        // Asynchronously: the server answering the child runs in this process.
        const out = await new Promise<string>((resolve, reject) =>
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
              ...(pageSize ? ["--page-size", String(pageSize)] : []),
            ],
            { maxBuffer: 1 << 20 },
            (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
          ),
        );
        const r = JSON.parse(out.trim().split("\n").pop() ?? "{}") as RunResult;
        results.push(r);
        process.stdout.write(
          `${label(mode)} run ${i + 1}: ${(r.totalMs / 1000).toFixed(2)} s wall, ${(r.cpuMs / 1000).toFixed(2)} s CPU, peak ${r.peakRssMB} MB, ${r.objects} objects\n`,
        );
      }
      report.push(
        `${label(mode)} median: ${(median(results.map((r) => r.totalMs)) / 1000).toFixed(2)} s wall, ${(median(results.map((r) => r.cpuMs)) / 1000).toFixed(2)} s CPU, peak ${median(results.map((r) => r.peakRssMB))} MB`,
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
