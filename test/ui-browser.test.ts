/**
 * The web UI and the report in a real browser: Debian's chromium driven by playwright-core (no
 * browser download). Every view is opened on the examples; a trace is stepped through, heatmap cells
 * are opened and explained, a diff is shown — and what the page shows is compared with the CLI's
 * `-o json` for the same question. The report is opened from a file with the network off. A hostile
 * input (markup in annotations, in a file name, in an invalid name) must not run script or add
 * elements. Screenshots of each view go to test/screenshots/ (ignored by git; the README's are
 * copied to docs/).
 *
 * Without chromium the suite is skipped with the reason; under CI=true that is a failure.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { UiApi } from "../src/ui/api.ts";
import { loadInput } from "../src/ui/load.ts";
import { startUiServer, type UiServer } from "../src/ui/server.ts";
import { runPodnet } from "./helpers.ts";

const CHROMIUM = [process.env.PODNET_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (p): p is string => !!p && existsSync(p),
);
let playwright: typeof import("playwright-core") | undefined;
try {
  playwright = await import("playwright-core");
} catch {
  playwright = undefined;
}
const missing = !CHROMIUM
  ? "chromium is not installed (apt-get install chromium; .ci/run does it as root)"
  : !playwright
    ? "playwright-core is not installed (npm ci)"
    : undefined;
if (missing && process.env.CI === "true")
  it("the browser tests can run", () => assert.fail(`browser tests cannot run under CI: ${missing}`));

const SHOTS = "test/screenshots";
const CHANGE = ["examples/articles", "test/fixtures/diff/change.yaml"];

const cli = (args: string[]) => {
  const r = runPodnet(args);
  assert.ok(r.code === 0 || r.code === 1, `${args.join(" ")}: exit ${r.code}: ${r.err}`);
  return r.out;
};
const cliJson = (args: string[]) => JSON.parse(cli([...args, "-o", "json"]));

describe("web UI in chromium", { skip: missing }, () => {
  let browser: Browser;
  let articles: UiServer;
  let shop: UiServer;
  let calico: UiServer;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    articles = await startUiServer({
      api: new UiApi(loadInput(["examples/articles"]), loadInput(CHANGE)),
      title: "podnet: examples/articles",
    });
    shop = await startUiServer({
      api: new UiApi(loadInput(["examples/shop"])),
      title: "podnet: examples/shop",
    });
    calico = await startUiServer({
      api: new UiApi(loadInput(["examples/calico"])),
      title: "podnet: examples/calico",
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on("pageerror", (e) => errors.push(String(e)));
  });
  after(async () => {
    await browser?.close();
    await articles?.close();
    await shop?.close();
    await calico?.close();
  });

  async function open(server: UiServer | string, hash: string, shot?: string): Promise<void> {
    const base = typeof server === "string" ? server : server.url;
    // A fresh document each time: a hash change alone would find the last view still "ready".
    await page.goto("about:blank");
    await page.goto(`${base}${hash}`);
    await page.waitForSelector("body[data-state=ready]");
    if (shot) await page.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: false });
  }
  const texts = (selector: string) => page.$$eval(selector, (xs) => xs.map((x) => x.textContent ?? ""));

  it("topology: every node and namespace, a namespace's pods, a node's devices", async () => {
    await open(shop, "#/topology", "topology");
    const nodes = cliJson(["get", "nodes", "-f", "examples/shop"]).items.map(
      (n: { metadata: { name: string } }) => n.metadata.name,
    );
    assert.deepEqual(await texts(".card.node .title"), nodes);
    await page.click('.card.ns a.title:text-is("shop")');
    await page.waitForSelector("body[data-state=ready] .card.workload");
    await page.screenshot({ path: join(SHOTS, "namespace.png") });
    const pods = cliJson(["get", "pods", "-n", "shop", "-f", "examples/shop"]).items.map(
      (p: { metadata: { name: string }; status: { podIP: string } }) =>
        `${p.metadata.name} ${p.status.podIP}`,
    );
    const shown = (await texts(".card.workload .pods li")).join("\n");
    for (const p of pods) assert.ok(shown.includes(p), p);
    await open(shop, "#/topology?node=worker-a", "node");
    const devices = await texts("table.devices td:first-child");
    assert.ok(
      devices.includes("cni0") && devices.includes("flannel.1") && devices.includes("eth0"),
      devices.join(),
    );
    const routes = cli(["routes", "-f", "examples/shop", "--node", "worker-a"]);
    assert.equal(`${(await texts("main pre.text"))[0]}`, routes);
  });

  for (const [example, server] of [
    ["examples/articles", () => articles],
    ["examples/calico", () => calico],
  ] as const)
    it(`topology picture of ${example}: each node's pods and devices are routes -o json's`, async () => {
      await open(server(), "#/topology");
      await page.waitForSelector(".drawing.topology[data-state=ready]");
      await page.screenshot({ path: join(SHOTS, `topology-picture-${example.split("/")[1]}.png`) });
      const nodes = cliJson(["get", "nodes", "-f", example]).items.map(
        (n: { metadata: { name: string } }) => n.metadata.name,
      );
      const drawn = await page.$$eval(".drawing g.tp-node", (xs) =>
        xs.map((x) => x.getAttribute("data-node")),
      );
      assert.deepEqual(drawn, nodes);
      for (const node of nodes) {
        const want = cliJson(["routes", "-f", example, "--node", node]);
        const devices = await page.$$eval(`.drawing g.tp-dev[data-node="${node}"]`, (xs) =>
          xs.map((x) => `${x.getAttribute("data-device")} ${x.getAttribute("data-kind")}`),
        );
        assert.deepEqual(
          devices.sort(),
          want.interfaces
            .filter((i: { kind: string }) => i.kind !== "loopback")
            .map((i: { name: string; kind: string }) => `${i.name} ${i.kind}`)
            .sort(),
          node,
        );
        const pods = await page.$$eval(`.drawing g.tp-pod[data-node="${node}"]`, (xs) =>
          xs.map((x) => ({
            pod: x.getAttribute("data-pod"),
            ip: x.querySelector("text:nth-of-type(2)")?.textContent?.replace(/^eth0 /, ""),
            hostInterface: x.getAttribute("data-link"),
          })),
        );
        assert.deepEqual(pods, want.pods, node);
        assert.ok(pods.length > 0, `${node} holds pods`);
      }
      // The plugin's devices, by kind: a bridge and flannel.1 (VXLAN) or Calico's tunl0 and cali… links.
      const kinds = await page.$$eval(".drawing g.tp-dev", (xs) =>
        xs.map((x) => `${x.getAttribute("data-device")}:${x.getAttribute("data-kind")}`),
      );
      if (example.endsWith("calico"))
        assert.ok(kinds.includes("tunl0:ipip") && kinds.some((k) => /^cali.*:veth$/.test(k)), kinds.join());
      else assert.ok(kinds.includes("cni0:bridge") && kinds.includes("flannel.1:vxlan"), kinds.join());
      // A node opens into its network namespaces.
      await page.click(`.drawing g.tp-node[data-node="${nodes[0]}"] a`);
      await page.waitForSelector("body[data-state=ready] table.devices");
      assert.equal(
        (await texts("main pre.text"))[0],
        cli(["routes", "-f", example, "--node", nodes[0]]).replace(/\n# [^\n]*\n\n[\s\S]*$/, ""),
      );
    });

  it("trace: the hops and verdicts are trace -o json's; step, back and play move along the path", async () => {
    const q = ["--from", "default/pod1", "--to", "service1.default", "--reply"];
    const want = cliJson(["trace", "-f", "examples/articles", ...q]);
    await open(articles, "#/trace?from=default/pod1&to=service1.default&reply=1");
    const hops = [...want.hops, ...want.reply.hops];
    const shown = await page.$$eval(".hops li.hop", (xs) =>
      xs.map((x) => ({
        step: x.querySelector("strong")?.textContent,
        detail: x.querySelector(".detail")?.textContent,
      })),
    );
    assert.deepEqual(
      shown,
      hops.map((h: { step: string; detail: string }) => ({ step: h.step, detail: h.detail })),
    );
    const verdicts = (await texts(".verdicts .badge")).map((t) => t.replace(/^[✓✗] /, ""));
    assert.deepEqual(verdicts.slice(0, 2), [want.verdict, want.reply.verdict]);
    for (let i = 0; i < 3; i++) await page.click("text=step ▶");
    await page.click("text=◀ back");
    assert.equal(await page.getAttribute(".hops li.current", "data-step"), "1");
    assert.equal(await page.getAttribute(".drawing g.current", "data-step"), "1");
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.getAttribute(".hops li.current", "data-step"), "2");
    await page.screenshot({ path: join(SHOTS, "trace.png") });
    await page.click("text=▶ play");
    await page.waitForFunction(
      (n) => document.querySelector(".hops li.current")?.getAttribute("data-step") === String(n),
      hops.length - 1,
      { timeout: 30_000 },
    );
    // A hop that rewrote the destination marks it.
    const dnat = want.hops.findIndex((h: { step: string }) => h.step === "dnat");
    assert.match((await texts(`.hops li[data-step="${dnat}"] .badge.changed`))[0] ?? "", /dst/);
  });

  for (const [example, server, from, to] of [
    ["examples/calico", () => calico, "default/pod1", "pod2.default"],
    ["examples/articles", () => articles, "default/pod1", "default/pod3:8080"],
  ] as const)
    it(`trace over the topology of ${example}: stepping highlights trace -o json's hops, there and back`, async () => {
      const want = cliJson(["trace", "-f", example, "--from", from, "--to", to, "--reply"]);
      const hops: { at: string; device?: string; step: string }[] = [...want.hops, ...want.reply.hops];
      await open(server(), `#/trace?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&reply=1`);
      await page.waitForSelector(".drawing.topology[data-state=ready]");
      const shown: string[] = [];
      for (let i = 0; i < hops.length; i++) {
        await page.click("text=step ▶");
        shown.push(
          await page.$eval(".drawing.topology g.tp-current", (g) =>
            g.classList.contains("tp-pod")
              ? `pod ${g.getAttribute("data-pod")}`
              : g.classList.contains("tp-dev")
                ? `node ${g.getAttribute("data-node")} ${g.getAttribute("data-device")}`
                : g.classList.contains("tp-stack")
                  ? `node ${g.getAttribute("data-node")}`
                  : g.classList.contains("tp-underlay")
                    ? "wire"
                    : (g.getAttribute("class") ?? ""),
          ),
        );
        assert.equal(await page.getAttribute(".hops li.current", "data-step"), String(i));
      }
      // A pod's hops are in its box (its eth0); a node's on the device named, or its IP stack.
      assert.deepEqual(
        shown,
        hops.map((h) => (h.at.startsWith("node ") && h.device ? `${h.at} ${h.device}` : h.at)),
      );
      await page.click("text=◀ back");
      assert.equal(
        await page.$$eval(".drawing.topology g.tp-current", (xs) => xs.length),
        1,
        "one place is current",
      );
      // The path is marked both ways, and the header rewrites beside the hops that made them.
      assert.ok((await page.$$(".drawing.topology g.tp-path")).length > 0);
      assert.ok((await page.$$(".drawing.topology g.tp-path-reply")).length > 0);
      const marks = (await texts(".drawing.topology text.tp-mark")).join(" | ");
      assert.match(marks, /encapsulated: encap/);
      assert.match(marks, /decapsulated: decap/);
      if (want.hops.some((h: { step: string }) => h.step === "dnat")) assert.match(marks, /DNAT: dst, dport/);
      await page.screenshot({
        path: join(SHOTS, `trace-topology-${example.split("/")[1]}.png`),
        fullPage: true,
      });
    });

  it("trace: every endpoint of a Service, and bad input shows the CLI's message", async () => {
    const want = cliJson([
      "trace",
      "-f",
      "examples/articles",
      "--from",
      "default/pod1",
      "--to",
      "database.default:5432",
      "--all-endpoints",
    ]);
    await open(articles, "#/trace?from=default/pod1&to=database.default:5432&all=1");
    assert.equal((await texts(".hops li.part")).length, want.traces.length);
    assert.match((await texts(".verdicts .summary"))[0], new RegExp(want.reason));
    await open(articles, "#/trace?from=default/nope&to=default/pod1:8080");
    const err = runPodnet([
      "trace",
      "-f",
      "examples/articles",
      "--from",
      "default/nope",
      "--to",
      "default/pod1:8080",
    ]);
    assert.equal(`error: ${(await texts(".error"))[0].replace(/^error: /, "")}\n`, err.err);
  });

  it("policy: pod cells are matrix -o json's; a cell opens its explanation, equal to explain -o json", async () => {
    const m = cliJson(["matrix", "-f", "examples/articles"]);
    await open(articles, "#/policy?level=pod", "heatmap");
    const rows = await texts("table.heatmap tbody th");
    assert.deepEqual(rows, m.pods);
    const cells = await page.$$eval("table.heatmap td", (xs) =>
      xs.map((x) => ({
        r: Number(x.getAttribute("data-r")),
        c: Number(x.getAttribute("data-c")),
        t: x.textContent,
      })),
    );
    assert.equal(cells.length, m.pods.length ** 2);
    for (const { r, c, t } of cells) assert.equal(t === "✓", m.matrix[r][c], `${m.pods[r]} → ${m.pods[c]}`);
    // A denied cell, by click: the page explains it on the destination's first declared port.
    const denied = cells.find((x) => x.t === "·");
    assert.ok(denied, "a denied cell");
    await page.click(`table.heatmap td[data-r="${denied.r}"][data-c="${denied.c}"]`);
    await page.waitForSelector(".explain .badge");
    const heading = (await texts(".explain h3"))[0];
    assert.equal(heading.split(" → ")[0], m.pods[denied.r]);
    const to = heading.split(" → ")[1];
    assert.ok(to.startsWith(`${m.pods[denied.c]}:`), heading);
    const want = cliJson([
      "explain",
      "-f",
      "examples/articles",
      "--from",
      m.pods[denied.r],
      "--to",
      to,
      "--protocol",
      "TCP",
    ]);
    assert.equal(want.allowed, false);
    const shown = (await texts(".explain > div > p .badge"))[0];
    assert.equal(shown, want.allowed ? "✓ allowed" : "✗ denied");
    assert.match(
      (await texts(".explain"))[0],
      new RegExp(want.explanations[0].outcome.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
    );
    await page.screenshot({ path: join(SHOTS, "explain.png") });
  });

  it("policy: namespace cells drill down to workloads and pods, by mouse and by keyboard", async () => {
    await open(shop, "#/policy", "heatmap-namespaces");
    const namespaces = await texts("table.heatmap tbody th");
    const r = namespaces.indexOf("shop");
    await page.click(`table.heatmap td[data-r="${r}"][data-c="${r}"]`);
    await page.waitForFunction(() => location.hash.includes("level=workload"));
    await page.waitForSelector("body[data-state=ready] table.heatmap");
    const workloads = await texts("table.heatmap tbody th");
    assert.ok(workloads.length > 1 && workloads.every((w) => w.startsWith("shop/")), workloads.join());
    await page.screenshot({ path: join(SHOTS, "heatmap-workloads.png") });
    await page.focus('table.heatmap td[data-r="0"][data-c="0"]');
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => location.hash.includes("level=pod"));
    await page.waitForSelector("body[data-state=ready] table.heatmap");
    const u = new URLSearchParams(await page.evaluate(() => location.hash.split("?")[1]));
    assert.equal(u.get("rows"), workloads[0]);
    // The keyboard keeps its place: the focus is on the opened heatmap's first cell, not the page.
    assert.deepEqual(
      await page.evaluate(() => {
        const a = document.activeElement as HTMLElement | null;
        return [a?.tagName, a?.dataset.r, a?.dataset.c];
      }),
      ["TD", "0", "0"],
    );
  });

  it("connections: the table is connlist -o json's; the graph has an edge per line", async () => {
    const want = cliJson(["connlist", "-f", "examples/shop"]);
    await open(shop, "#/connlist?level=workload", "connlist");
    const rows = await page.$$eval("table.lines tbody tr", (xs) =>
      xs.map((x) => [...x.querySelectorAll("td")].map((td) => td.textContent)),
    );
    assert.deepEqual(
      rows,
      want.map((l: { src: string; dst: string; conn: string; ownNode?: boolean }) => [
        l.src,
        l.dst,
        `${l.conn}${l.ownNode ? " (own node)" : ""}`,
      ]),
    );
    assert.equal(await page.locator(".drawing g.edge").count(), want.length);
    // The graph opens whole, scaled to the page's width; a button shows it at its actual size.
    const widths = () =>
      page.$eval(".drawing svg", (svg) => [
        Math.round(svg.getBoundingClientRect().width),
        Math.round((svg.parentElement as HTMLElement).clientWidth),
        Number(svg.getAttribute("width")),
      ]);
    const [shown, box, natural] = await widths();
    assert.ok(natural > box, `the shop graph is wider than the page (${natural} > ${box})`);
    assert.ok(shown <= box, `fitted: ${shown} <= ${box}`);
    await page.click("button.zoom");
    assert.equal((await widths())[0], natural);
    await open(shop, "#/connlist?namespace=monitoring&level=workload");
    const filtered = (await texts("table.lines tbody td:first-child")).length;
    assert.equal(
      filtered,
      want.filter(
        (l: { src: string; dst: string }) =>
          l.src.startsWith("monitoring/") || l.dst.startsWith("monitoring/"),
      ).length,
    );
  });

  it("diff: the lines and counts are diff -o json's", async () => {
    const want = cliJson(["diff", "-f", "examples/articles", "--against", CHANGE[0], "--against", CHANGE[1]]);
    await open(articles, "#/diff", "diff");
    const lines = await texts("ul.diffs li");
    assert.equal(lines.length, want.length);
    want.forEach((d: { kind: string; src: string; dst: string }, i: number) => {
      assert.ok(lines[i].includes(`${d.src} => ${d.dst}`) && lines[i].includes(d.kind), lines[i]);
    });
    const count = (k: string) => want.filter((d: { kind: string }) => d.kind === k).length;
    assert.deepEqual(await texts(".counts .badge"), [
      `+ ${count("added")} added`,
      `− ${count("removed")} removed`,
      `~ ${count("changed")} changed`,
    ]);
  });

  it("rules and DNS: the ruleset is podnet rules's, the hit chains marked; the queries are resolve -o json's", async () => {
    await open(articles, "#/trace?from=default/pod1&to=service1.default");
    await page.click("text=node node-1");
    await page.waitForSelector("body[data-state=ready] pre.rules");
    await page.screenshot({ path: join(SHOTS, "rules.png") });
    const text = (await texts("pre.rules"))[0].replaceAll("  ◀ hit", "");
    assert.equal(text, cli(["rules", "-f", "examples/articles", "--node", "node-1"]));
    assert.ok((await page.locator("pre.rules mark.hit").count()) > 0);
    const want = cliJson(["resolve", "-f", "examples/shop", "--from", "shop/cart-redis-0", "cart"]);
    await open(shop, "#/dns?from=shop/cart-redis-0&name=cart", "dns");
    const queries = await texts("ol.queries li");
    assert.equal(queries.length, want.queries.length);
    want.queries.forEach((x: { name: string; answer: { rcode: string } }, i: number) => {
      assert.ok(queries[i].includes(x.name) && queries[i].includes(x.answer.rcode), queries[i]);
    });
  });

  it("the report opens from a file with the network off: views, a drill-down, an explanation, the diff", async () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-report-"));
    const file = join(dir, "report.html");
    const r = runPodnet(["report", "-f", "examples/shop", "--against", "examples/shop", "-o", file]);
    assert.equal(r.code, 0, r.err);
    const context = await browser.newContext({ offline: true, viewport: { width: 1400, height: 900 } });
    const requests: string[] = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("file:")) return route.continue();
      requests.push(url);
      return route.abort();
    });
    const p = await context.newPage();
    const pageErrors: string[] = [];
    p.on("pageerror", (e) => pageErrors.push(String(e)));
    const url = pathToFileURL(file).href;
    await p.goto(`${url}#/topology`);
    await p.waitForSelector("body[data-state=ready] .card.node");
    await p.screenshot({ path: join(SHOTS, "report.png") });
    await p.goto(`${url}#/policy?level=pod&protocol=TCP&rows=shop&cols=shop`);
    await p.waitForSelector("body[data-state=ready] table.heatmap td");
    const cell = p.locator("table.heatmap td").nth(1);
    await cell.click();
    await p.waitForSelector(".explain h3");
    assert.doesNotMatch((await p.textContent(".explain")) ?? "", /was not answered/);
    await p.goto(`${url}#/diff`);
    await p.waitForSelector("body[data-state=ready] .counts");
    assert.equal(await p.textContent(".counts .badge.added"), "+ 0 added");
    await p.goto(`${url}#/trace`);
    await p.waitForSelector("body[data-state=ready] .presets a");
    await p.click(".presets a >> nth=2");
    await p.waitForSelector("body[data-state=ready] .hops li.hop");
    // What a report cannot answer is not offered: its DNS view lists the names it resolves, each
    // answered; the connections say where to filter.
    await p.goto(`${url}#/dns`);
    await p.waitForSelector("body[data-state=ready] .presets a");
    const names = await p.locator(".presets a").count();
    assert.ok(names > 0);
    await p.click(".presets a >> nth=0");
    await p.waitForSelector("body[data-state=ready] ol.queries li");
    assert.doesNotMatch((await p.textContent("main")) ?? "", /was not answered/);
    assert.equal(await p.locator("main form").count(), 0);
    await p.goto(`${url}#/connlist`);
    await p.waitForSelector("body[data-state=ready] table");
    assert.equal(await p.locator("main form").count(), 0);
    assert.match((await p.textContent("main .note")) ?? "", /podnet ui -f …` filters it/);
    assert.deepEqual(requests, []);
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  it("a hostile input runs no script and adds no element; its text is shown as text", async () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-hostile-"));
    const evil = `"><img src=x onerror="window.__pwned=1">`;
    writeFileSync(
      join(dir, `${evil.replaceAll("/", "")}.yaml`),
      `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
  labels: {app: web}
  annotations:
    note: '<script>window.__pwned=2</script>${evil.replaceAll("'", "''")}'
spec:
  containers: [{name: c, image: nginx, ports: [{containerPort: 80, name: http}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny
  namespace: default
  annotations:
    why: '<script>window.__pwned=3</script>${evil.replaceAll("'", "''")}'
spec:
  podSelector: {}
  policyTypes: [Ingress]
`,
    );
    const bad = mkdtempSync(join(tmpdir(), "podnet-hostile-bad-"));
    writeFileSync(
      join(bad, "bad.yaml"),
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: "<script>window.__pwned=4</script>"\nspec:\n  containers: [{name: c, image: x}]\n`,
    );
    const good = await startUiServer({ api: new UiApi(loadInput([dir])), title: `podnet: ${evil}` });
    const broken = await startUiServer({ api: new UiApi(loadInput([bad])), title: "podnet: bad" });
    try {
      for (const [server, hash] of [
        [good, "#/topology"],
        [good, "#/topology?ns=default"],
        [good, "#/yaml?kind=NetworkPolicy&name=default/deny"],
        [good, "#/policy?level=pod"],
        [good, "#/connlist"],
        [good, "#/trace?from=default/web&to=default/web:80"],
        [broken, "#/topology"],
      ] as const) {
        await open(server, hash);
        // The pictures come after the view: wait for them too.
        if (server === good && (hash === "#/topology" || hash.startsWith("#/trace")))
          await page.waitForSelector(".drawing.topology[data-state=ready]");
        if (server === good && hash.startsWith("#/yaml")) {
          await page.screenshot({ path: join(SHOTS, "hostile.png") });
          assert.match((await texts("pre.text"))[0], /<script>window.__pwned=3<\/script>/);
        }
        if (server === broken) assert.match((await texts("#problems"))[0], /__pwned=4/);
        assert.equal(
          await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned),
          undefined,
          hash,
        );
        assert.equal(await page.locator("img").count(), 0, hash);
        // The page's own two scripts ran and were replaced by the views: no script element is left.
        assert.equal(await page.locator("script").count(), 0, hash);
      }
    } finally {
      await good.close();
      await broken.close();
    }
    assert.deepEqual(errors, []);
  });
});
