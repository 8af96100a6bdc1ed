/**
 * Benchmark: the web UI on the 150,000-pod cluster (issue #14: first view ≤ 3 s after loading, a
 * click answered in ≤ 100 ms). The cluster is bench/generate.ts's (seed 1: 5,000 nodes, 150,000
 * pods, 10,000 Services, 200 namespaces, 1,000 NetworkPolicies). "Loading" is reading and resolving
 * the manifests, as `podnet ui` does before it listens; then, per run, in a fresh server:
 *
 * - first view: the browser opens the page until the topology is drawn (the overview's answer,
 *   the page's script, 5,000 node and 200 namespace cards);
 * - policy view: the namespace heatmap (200 × 200 cells); the server compiles the reachability
 *   right after it served the first view, so the policy view opened at once waits for the rest of
 *   that compile (reported apart, and once more when compiled);
 * - clicks: a namespace cell opening its workloads, a workload cell opening its pods, a pod cell
 *   explained, a trace asked from the form — each from the click until the page shows the answer.
 *
 * The browser runs against `podnet ui` started as a user starts it (bin/podnet.js, its own process;
 * needs the build); "in the page" times are the page's own, from the URL's change to the view shown,
 * without the driver's overhead. Also the API alone (no browser, in this process) for the same
 * questions. Without chromium only the API is timed.
 *
 *   node --max-old-space-size=4096 --import tsx bench/ui.ts
 *   node --import tsx bench/ui.ts --pods 20000 --nodes 700 --services 2000 --runs 1
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { resolveManifests } from "../src/core/cluster.ts";
import { UiApi } from "../src/ui/api.ts";
import { GENERATE_OPTIONS, generateCluster, generateOptionsFrom } from "./generate.ts";

const { values } = parseArgs({ options: { ...GENERATE_OPTIONS, runs: { type: "string", default: "3" } } });
const opts = generateOptionsFrom(values);
const text = generateCluster(opts);
const t0 = performance.now();
const r = resolveManifests([{ file: "bench.yaml", text }]);
if (!r.ok) throw new Error("benchmark input has errors");
const loadMs = performance.now() - t0;
const state = r.cluster;
const inputFile = join(mkdtempSync(join(tmpdir(), "podnet-bench-ui-")), "bench.yaml");
writeFileSync(inputFile, text);
console.log(
  `podnet ui benchmark: seed ${opts.seed}, ${state.nodes.length} nodes, ${state.pods.length} pods, ${state.services.length} Services, ${state.networkPolicies.length} NetworkPolicies; loading ${(loadMs / 1000).toFixed(1)} s; node ${process.version}`,
);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
const rows = new Map<string, number[]>();
const record = (name: string, ms: number) => rows.set(name, [...(rows.get(name) ?? []), ms]);

const podA = state.pods.find((p) => p.status?.podIP && !p.spec.hostNetwork)!;
const podB = state.pods.filter((p) => p.status?.podIP && !p.spec.hostNetwork).at(-1)!;
const id = (p: typeof podA) => `${p.metadata.namespace}/${p.metadata.name}`;
const port = String(podB.spec.containers[0].ports?.[0]?.containerPort ?? 8080);

// The API alone.
for (let run = 0; run < Number(values.runs); run++) {
  const api = new UiApi({ files: ["bench.yaml"], state, diagnostics: [] });
  const time = async (name: string, path: string, q: Record<string, string>) => {
    const t = performance.now();
    const res = await api.get(`/api/${path}`, new URLSearchParams(q));
    record(`api: ${name}`, performance.now() - t);
    if (res.status !== 200) throw new Error(`${path}: ${JSON.stringify(res.body).slice(0, 300)}`);
    return res.body as Record<string, unknown>;
  };
  await time("overview (first view)", "overview", {});
  await time("topology picture (drawn after the first view)", "picture", {});
  await time("heatmap, namespaces (compiles reachability)", "heatmap", { level: "namespace" });
  await time("heatmap, namespaces again", "heatmap", { level: "namespace", protocol: "TCP" });
  const ns = podA.metadata.namespace!;
  const w = (await time("heatmap, a namespace pair's workloads", "heatmap", {
    level: "workload",
    rows: ns,
    cols: ns,
  })) as {
    heatmap: { rows: { id: string }[] };
  };
  const wl = w.heatmap.rows[0].id;
  await time("heatmap, a workload pair's pods", "heatmap", { level: "pod", rows: wl, cols: wl });
  await time("explain a pod cell", "explain", { from: id(podA), to: `${id(podB)}:${port}`, protocol: "TCP" });
  const traced = (await time("trace pod to pod", "trace", { from: id(podA), to: `${id(podB)}:${port}` })) as {
    picture: Record<string, string>;
  };
  await time("the trace's topology picture", "picture", traced.picture);
  await time("namespace detail", "namespace", { name: ns });
  await time("node detail", "node", { name: state.nodes[0].name });
}

for (const [name, xs] of rows)
  console.log(`${name.padEnd(62)} median ${fmt(median(xs)).padStart(8)}  (${xs.map(fmt).join(", ")})`);
rows.clear();

/**
 * `podnet ui` as a user starts it, in its own process (the server compiles the reachability after
 * the first view; in this process that would also stall the browser driver and skew the times).
 * Needs the build (`npm run build`). Resolves once it prints its URL: loading is done.
 */
async function startCli(): Promise<{ url: string; close(): void }> {
  const child = spawn(
    process.execPath,
    ["--max-old-space-size=6144", "bin/podnet.js", "ui", "-f", inputFile, "--port", "0"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /(http:\/\/\S+\/)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`podnet ui exited ${code}`)));
  });
  return { url, close: () => child.kill("SIGTERM") };
}

// In the browser.
const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
if (chromium) {
  const { chromium: pw } = await import("playwright-core");
  const browser = await pw.launch({ executablePath: chromium, args: ["--no-sandbox"] });
  for (let run = 0; run < Number(values.runs); run++) {
    const server = await startCli();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const ready = () => page.waitForSelector("body[data-state=ready]", { timeout: 120_000 });
    let t = performance.now();
    await page.goto(`${server.url}#/topology`);
    await ready();
    await page.waitForSelector(".card.node");
    record("browser: first view (topology)", performance.now() - t);
    record(
      "in the page: first view (topology)",
      Number(await page.evaluate(() => document.body.dataset.took)),
    );
    await page.waitForSelector(".drawing.topology[data-state=ready]", { timeout: 120_000 });
    record("browser: topology picture drawn (after the first view)", performance.now() - t);
    t = performance.now();
    await page.goto(`${server.url}#/policy`);
    await ready();
    await page.waitForSelector("table.heatmap td, canvas.heatmap-canvas");
    record("browser: policy view right after the first view (compile finishing)", performance.now() - t);
    await page.goto(`${server.url}#/topology`);
    await ready();
    t = performance.now();
    await page.goto(`${server.url}#/policy`);
    await ready();
    await page.waitForSelector("table.heatmap td, canvas.heatmap-canvas");
    record("browser: policy view again (200 × 200 cells)", performance.now() - t);
    const click = async (name: string, selector: string, until: () => Promise<unknown>) => {
      const s = performance.now();
      await page.click(selector);
      await until();
      record(`browser: click, ${name}`, performance.now() - s);
    };
    // 200 namespaces: the heatmap is a canvas (170 px of row labels, 150 of column labels, 12 px cells).
    const ns = podA.metadata.namespace!;
    const namespaces = [
      ...new Set(state.pods.filter((p) => p.status?.podIP).map((p) => p.metadata.namespace!)),
    ].sort();
    const r = namespaces.indexOf(ns);
    const box = (await page.locator("canvas.heatmap-canvas").boundingBox())!;
    const started = performance.now();
    await page.mouse.click(box.x + 170 + r * 12 + 6, box.y + 150 + r * 12 + 6);
    await page.waitForFunction(
      () => location.hash.includes("level=workload") && document.body.dataset.state === "ready",
    );
    record("browser: click, namespace cell → its workloads", performance.now() - started);
    record(
      "in the page: namespace cell → its workloads",
      Number(await page.evaluate(() => document.body.dataset.took)),
    );
    await click("workload cell → its pods", 'table.heatmap td[data-r="0"][data-c="0"]', async () => {
      await page.waitForFunction(
        () => location.hash.includes("level=pod") && document.body.dataset.state === "ready",
      );
    });
    record(
      "in the page: workload cell → its pods",
      Number(await page.evaluate(() => document.body.dataset.took)),
    );
    await click("pod cell → its explanation", 'table.heatmap td[data-r="0"][data-c="1"]', () =>
      page.waitForSelector(".explain[data-took]"),
    );
    record(
      "in the page: pod cell → its explanation",
      Number(await page.getAttribute(".explain", "data-took")),
    );
    await page.goto(`${server.url}#/trace`);
    await ready();
    await page.fill("input[name=from]", id(podA));
    await page.fill("input[name=to]", `${id(podB)}:${port}`);
    const traceAsked = Promise.resolve(performance.now());
    await click("trace asked → hops shown", "form.ask button[type=submit]", async () => {
      await page.waitForSelector(".hops li.hop");
    });
    record(
      "in the page: trace asked → hops shown",
      Number(await page.evaluate(() => document.body.dataset.took)),
    );
    // The trace's path over the topology of its nodes (asked after the hops are shown).
    await page.waitForSelector(".drawing.topology[data-state=ready]", { timeout: 120_000 });
    record("browser: trace asked → path over the topology drawn", performance.now() - (await traceAsked));
    await page.goto(`${server.url}#/topology?node=${encodeURIComponent(state.nodes[0].name)}`);
    await ready();
    record("in the page: a node's detail", Number(await page.evaluate(() => document.body.dataset.took)));
    await page.close();
    server.close();
  }
  await browser.close();
} else console.log("chromium not found: the browser is not timed");

for (const [name, xs] of rows)
  console.log(`${name.padEnd(62)} median ${fmt(median(xs)).padStart(8)}  (${xs.map(fmt).join(", ")})`);
