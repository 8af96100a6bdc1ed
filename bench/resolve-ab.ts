/**
 * Benchmark: the control plane of two (or more) source trees in one process, alternately, on the
 * same input file: each round parses and decodes the file afresh with each tree's own reader, runs a
 * full GC, then times that tree's `resolveCluster` (CPU ms, user + system). On a shared machine the
 * alternation pairs each run with one of the other tree made seconds apart, under the same load.
 *
 *   git archive <commit> src | tar -x -C /tmp/before    # the other tree (beside this one's node_modules)
 *   node --expose-gc --max-old-space-size=4096 --import tsx bench/resolve-ab.ts \
 *     --file cluster.json --rounds 5 /tmp/before .
 *
 * Prints each tree's runs and the median after the first round (a warm-up), and the median of the
 * per-round ratios of each tree to the first.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

interface Tree {
  dir: string;
  run: (file: string, text: string) => number;
  cpuMs: number[];
}

const { values, positionals } = parseArgs({
  options: { file: { type: "string" }, rounds: { type: "string", default: "5" } },
  allowPositionals: true,
});
if (!values.file || positionals.length === 0) throw new Error("usage: --file FILE [--rounds N] DIR…");
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

const trees: Tree[] = [];
for (const d of positionals) {
  const dir = resolve(d);
  const { Diagnostics } = await import(`${dir}/src/core/diagnostics.ts`);
  const { parseSource } = await import(`${dir}/src/core/manifests/parse.ts`);
  const { decodeObjects } = await import(`${dir}/src/core/manifests/decode.ts`);
  const { resolveCluster } = await import(`${dir}/src/core/control/resolve.ts`);
  const run = (file: string, text: string): number => {
    const diags = new Diagnostics();
    const inv = decodeObjects(parseSource({ file, text }, diags), diags);
    gc();
    const c0 = process.cpuUsage();
    resolveCluster(inv, diags);
    const c = process.cpuUsage(c0);
    if (diags.hasErrors) throw new Error(`${dir}: input has errors: ${diags.errors[0].message}`);
    return (c.user + c.system) / 1000;
  };
  trees.push({ dir, run, cpuMs: [] });
}

const text = readFileSync(values.file, "utf8");
for (let r = 0; r < Number(values.rounds); r++) for (const t of trees) t.cpuMs.push(t.run(values.file, text));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const t of trees) {
  const ratio = median(t.cpuMs.slice(1).map((ms, i) => ms / trees[0].cpuMs[i + 1]));
  console.log(
    `${t.dir}: resolve CPU ms ${t.cpuMs.map((x) => x.toFixed(0)).join(" ")}; median ${median(t.cpuMs.slice(1)).toFixed(0)}, ratio to the first ${ratio.toFixed(2)}`,
  );
}
