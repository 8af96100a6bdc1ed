/**
 * Benchmark: kinds podnet does not model cost a scan, not a parse. Loads an application install
 * shaped like argo-cd's install.yaml (generateInstall: three CustomResourceDefinitions of hundreds of
 * KiB of nested schema, then RBAC, ConfigMaps, Services, Deployments, NetworkPolicies) and the same
 * file without its CRDs, alternately, each run in a fresh process (as the CLI loads once): read,
 * parse, decode, resolve. Also times the CLI end to end (`podnet get pods -f FILE`, needs a build).
 * Prints every run, the medians and their ratio (target: with CRDs within 1.25× of without).
 *
 *   node --import tsx bench/skip.ts                 # seed 1, CRDs of 420, 560 and 180 KiB, 7 runs
 *   node --import tsx bench/skip.ts --runs 11 --crd-kib 300,300,300
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generateInstall } from "./generate.ts";

interface Run {
  /** Wall-clock milliseconds from reading the file to the resolved cluster. */
  wallMs: number;
  /** CPU milliseconds (user + system) of the same span; less disturbed by other processes. */
  cpuMs: number;
  parseMs: number;
  objects: number;
  pods: number;
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function child(file: string): Promise<void> {
  const { Diagnostics } = await import("../src/core/diagnostics.ts");
  const { parseSource } = await import("../src/core/manifests/parse.ts");
  const { decodeObjects } = await import("../src/core/manifests/decode.ts");
  const { resolveCluster } = await import("../src/core/control/resolve.ts");
  const w0 = performance.now();
  const c0 = cpu();
  const text = readFileSync(file, "utf8");
  const diags = new Diagnostics();
  const raws = parseSource({ file, text }, diags);
  const w1 = performance.now();
  const state = resolveCluster(decodeObjects(raws, diags), diags);
  const r: Run = {
    wallMs: performance.now() - w0,
    cpuMs: cpu() - c0,
    parseMs: w1 - w0,
    objects: raws.length,
    pods: state.pods.length,
  };
  if (diags.hasErrors) throw new Error(`benchmark input has errors: ${diags.errors[0].message}`);
  process.stdout.write(JSON.stringify(r));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: "string" },
      seed: { type: "string", default: "1" },
      runs: { type: "string", default: "7" },
      "crd-kib": { type: "string", default: "420,560,180" },
    },
  });
  if (values.child) return child(values.child);
  const docs = generateInstall(Number(values.seed), values["crd-kib"].split(",").map(Number));
  const dir = mkdtempSync(join(tmpdir(), "podnet-bench-"));
  const cli = new URL("../bin/podnet.js", import.meta.url).pathname;
  const withCli = existsSync(new URL("../dist/src/cli/main.js", import.meta.url));
  try {
    const files = {
      with: join(dir, "install.yaml"),
      without: join(dir, "install-without-crds.yaml"),
    };
    const all = docs.map((d) => d.text).join("---\n");
    const rest = docs
      .filter((d) => !d.crd)
      .map((d) => d.text)
      .join("---\n");
    writeFileSync(files.with, all);
    writeFileSync(files.without, rest);
    console.log(
      `podnet skipped-kinds benchmark: seed ${values.seed}; with CRDs ${(all.length / 1024).toFixed(0)} KiB (${docs.length} documents, CRDs ${docs
        .filter((d) => d.crd)
        .map((d) => `${(d.text.length / 1024).toFixed(0)} KiB`)
        .join(", ")}), without ${(rest.length / 1024).toFixed(0)} KiB; node ${process.version}`,
    );
    const runs: Record<"with" | "without", Run[]> = { with: [], without: [] };
    const cliMs: Record<"with" | "without", number[]> = { with: [], without: [] };
    for (let i = 0; i < Number(values.runs); i++) {
      for (const k of ["with", "without"] as const) {
        const out = execFileSync(
          process.execPath,
          ["--import", "tsx", new URL(import.meta.url).pathname, "--child", files[k]],
          { encoding: "utf8" },
        );
        runs[k].push(JSON.parse(out) as Run);
        if (withCli) {
          const t0 = performance.now();
          execFileSync(process.execPath, [cli, "get", "pods", "-A", "-f", files[k]], { stdio: "ignore" });
          cliMs[k].push(performance.now() - t0);
        }
      }
      const w = runs.with[i];
      const wo = runs.without[i];
      console.log(
        `  run ${i + 1}: with CRDs ${w.wallMs.toFixed(1)} ms (cpu ${w.cpuMs.toFixed(1)}, parse ${w.parseMs.toFixed(1)}), without ${wo.wallMs.toFixed(1)} ms (cpu ${wo.cpuMs.toFixed(1)}, parse ${wo.parseMs.toFixed(1)})${withCli ? `; CLI ${cliMs.with[i].toFixed(0)} / ${cliMs.without[i].toFixed(0)} ms` : ""}; ${w.objects} / ${wo.objects} objects, ${w.pods} pods`,
      );
    }
    const m = (k: "with" | "without", f: (r: Run) => number) => median(runs[k].map(f));
    const line = (name: string, f: (r: Run) => number) =>
      `${name} ${m("with", f).toFixed(1)} ms with CRDs, ${m("without", f).toFixed(1)} ms without: ${(m("with", f) / m("without", f)).toFixed(2)}×`;
    console.log(
      `median load (read → resolved cluster): ${line("wall", (r) => r.wallMs)}; ${line("cpu", (r) => r.cpuMs)}`,
    );
    if (withCli) {
      const a = median(cliMs.with);
      const b = median(cliMs.without);
      console.log(
        `median CLI (podnet get pods -A -f, whole process): ${a.toFixed(0)} ms with CRDs, ${b.toFixed(0)} ms without: ${(a / b).toFixed(2)}×`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
