/**
 * Benchmark: load and resolve a synthetic cluster (read the file, parse it, validate, run the
 * control plane), as `podnet get` does, from YAML (one document per object) and from the same objects
 * as JSON in `kubectl get -o json`'s shape (one v1 List with items, 4-space indentation). Each run is
 * a fresh child process, so peak memory (VmHWM) is that of one run; prints each run and the medians.
 *
 *   npm run bench                      # 5,000 nodes, 150,000 pods, 10,000 Services, 3 runs, YAML and JSON
 *   npm run bench -- --pods 15000 --nodes 500 --services 1000 --runs 5 --format json
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Diagnostics } from "../src/core/diagnostics.ts";
import { parseSource } from "../src/core/manifests/parse.ts";
import { GENERATE_OPTIONS, generateCluster, generateOptionsFrom } from "./generate.ts";

interface RunResult {
  /** CPU time (user + system, all threads) of the whole span, less disturbed by other processes. */
  cpuMs: number;
  readMs: number;
  parseMs: number;
  resolveMs: number;
  totalMs: number;
  peakRssMB: number;
  pods: number;
  nodes: number;
  services: number;
  slices: number;
}

async function child(file: string): Promise<void> {
  const { Diagnostics } = await import("../src/core/diagnostics.ts");
  const { parseSource } = await import("../src/core/manifests/parse.ts");
  const { decodeObjects } = await import("../src/core/manifests/decode.ts");
  const { resolveCluster } = await import("../src/core/control/resolve.ts");
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const text = readFileSync(file, "utf8");
  const t1 = performance.now();
  const diags = new Diagnostics();
  const inv = decodeObjects(parseSource({ file, text }, diags), diags);
  const t2 = performance.now();
  const state = resolveCluster(inv, diags);
  const t3 = performance.now();
  if (diags.hasErrors) throw new Error(`benchmark input has errors: ${diags.errors[0].message}`);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  const c = process.cpuUsage(c0);
  const r: RunResult = {
    cpuMs: (c.user + c.system) / 1000,
    readMs: t1 - t0,
    parseMs: t2 - t1,
    resolveMs: t3 - t2,
    totalMs: t3 - t0,
    peakRssMB: hwm ? Number(hwm[1]) / 1024 : process.memoryUsage().rss / 2 ** 20,
    pods: state.pods.filter((p) => p.status?.podIP).length,
    nodes: state.nodes.length,
    services: state.services.length,
    slices: state.endpointSlices.length,
  };
  process.stdout.write(JSON.stringify(r));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...GENERATE_OPTIONS,
      child: { type: "string" },
      runs: { type: "string", default: "3" },
      format: { type: "string", default: "yaml,json" },
    },
  });
  if (values.child) return child(values.child);

  const dir = mkdtempSync(join(tmpdir(), "podnet-bench-"));
  try {
    const text = generateCluster(generateOptionsFrom(values));
    const files: Record<string, string> = {};
    for (const format of (values.format ?? "yaml").split(",")) {
      const file = join(dir, `cluster.${format}`);
      if (format === "yaml") writeFileSync(file, text);
      else if (format === "json") writeFileSync(file, asKubectlJson(text));
      else throw new Error(`unknown --format ${format} (yaml, json)`);
      files[format] = file;
    }
    console.log(
      `podnet load+resolve benchmark: seed ${values.seed}, ${values.nodes} nodes, ${values.pods} pods (Deployments), ${values.services} Services, ${values.policies} NetworkPolicies; input ${Object.entries(
        files,
      )
        .map(([f, file]) => `${(readFileSync(file).length / 2 ** 20).toFixed(1)} MiB ${f.toUpperCase()}`)
        .join(", ")}; node ${process.version}`,
    );
    for (const [format, file] of Object.entries(files)) {
      const results: RunResult[] = [];
      for (let i = 0; i < Number(values.runs); i++) {
        const out = execFileSync(
          process.execPath,
          [
            "--max-old-space-size=4096",
            "--import",
            "tsx",
            new URL(import.meta.url).pathname,
            "--child",
            file,
          ],
          { encoding: "utf8", maxBuffer: 1 << 20 },
        );
        const r = JSON.parse(out) as RunResult;
        results.push(r);
        console.log(
          `  ${format} run ${i + 1}: total ${(r.totalMs / 1000).toFixed(2)} s, cpu ${(r.cpuMs / 1000).toFixed(2)} s (read ${r.readMs.toFixed(0)} ms, parse+validate ${(r.parseMs / 1000).toFixed(2)} s, control plane ${(r.resolveMs / 1000).toFixed(2)} s), peak RSS ${r.peakRssMB.toFixed(0)} MiB; ${r.pods} pods with IPs on ${r.nodes} nodes, ${r.services} Services, ${r.slices} EndpointSlices`,
        );
      }
      const m = (f: (r: RunResult) => number) => median(results.map(f));
      console.log(
        `${format} median: total ${(m((r) => r.totalMs) / 1000).toFixed(2)} s, cpu ${(m((r) => r.cpuMs) / 1000).toFixed(2)} s (parse+validate ${(m((r) => r.parseMs) / 1000).toFixed(2)} s, control plane ${(m((r) => r.resolveMs) / 1000).toFixed(2)} s), peak RSS ${m((r) => r.peakRssMB).toFixed(0)} MiB`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The generated objects as `kubectl get -o json` prints a list: one v1 List, 4-space indentation. */
function asKubectlJson(yamlText: string): string {
  const diags = new Diagnostics();
  const items = parseSource({ file: "cluster.yaml", text: yamlText }, diags).map((r) => r.value);
  return `${JSON.stringify({ apiVersion: "v1", kind: "List", items, metadata: { resourceVersion: "" } }, null, 4)}\n`;
}

await main();
