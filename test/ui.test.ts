/**
 * The web front ends without a browser: the view models agree with the CLI's answers (the heatmap
 * with `matrix -o json`, the API's trace, explain, connlist and diff with the commands' `-o json`),
 * `-o svg` draws what the JSON says, the report of examples/shop stays under 2 MB, the server refuses
 * foreign Host headers and writes, and a hostile input never reaches the page as markup.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { computeMatrix } from "../src/core/policy/matrix.ts";
import { ReachabilityView } from "../src/core/views/heatmap.ts";
import { topologyPicture } from "../src/core/views/picture.ts";
import { connIncludesPort, parseLabelSelector } from "../src/core/views/policy.ts";
import { hopChanges } from "../src/core/views/trace-path.ts";
import { loadCluster } from "../src/index.ts";
import { UiApi } from "../src/ui/api.ts";
import { esc } from "../src/ui/draw/svg.ts";
import { loadInput } from "../src/ui/load.ts";
import { scriptJson } from "../src/ui/page.ts";
import { buildReport } from "../src/ui/report.ts";
import { hostAllowed, startUiServer, type UiServer } from "../src/ui/server.ts";
import { runPodnet } from "./helpers.ts";

const EXAMPLES = ["examples/articles", "examples/shop", "examples/live-dump"];

function load(files: string[]) {
  const r = loadCluster({ files });
  assert.ok(r.ok, `${files.join(",")} loads`);
  return r.cluster;
}

const json = (args: string[]) => {
  const r = runPodnet(args);
  assert.ok(r.code === 0 || r.code === 1, `${args.join(" ")}: exit ${r.code}: ${r.err}`);
  return JSON.parse(r.out);
};

describe("heatmap view", () => {
  for (const ex of EXAMPLES)
    it(`${ex}: pod cells equal matrix's, and every group is the sum of its pods' cells`, () => {
      const state = load([ex]);
      const view = new ReachabilityView(state);
      for (const opts of [
        { protocol: "TCP" as const },
        { protocol: "TCP" as const, port: 8080 },
        { protocol: "UDP" as const },
      ]) {
        const m = computeMatrix(state, opts);
        const pods = view.heatmap({ ...opts, level: "pod" });
        assert.deepEqual(
          pods.rows.map((r) => r.id),
          m.pods,
        );
        let pairs = 0;
        pods.rows.forEach((_, i) => {
          pods.cols.forEach((_, j) => {
            assert.equal(pods.allowed[i][j], m.allowed(i, j) ? 1 : 0, `${m.pods[i]} → ${m.pods[j]}`);
            pairs += pods.allowed[i][j];
          });
        });
        assert.equal(pairs, m.allowedPairs());
        for (const level of ["namespace", "workload"] as const) {
          const h = view.heatmap({ ...opts, level });
          const index = new Map(m.pods.map((p, i) => [p, i]));
          const members = (g: string) =>
            m.pods.filter((_, i) => view.groupOf(i, level) === g).map((p) => index.get(p)!);
          h.rows.forEach((r, i) => {
            h.cols.forEach((c, j) => {
              let sum = 0;
              for (const a of members(r.id)) for (const b of members(c.id)) sum += m.allowed(a, b) ? 1 : 0;
              assert.equal(h.allowed[i][j], sum, `${level} ${r.id} → ${c.id}`);
            });
          });
        }
      }
    });

  it("narrows rows and columns to a namespace or a workload", () => {
    const view = new ReachabilityView(load(["examples/shop"]));
    const all = view.heatmap({ level: "workload" });
    const shop = view.heatmap({ level: "workload", rows: "shop", cols: "monitoring" });
    assert.ok(shop.rows.length > 0 && shop.rows.every((r) => r.parent === "shop"));
    assert.ok(shop.cols.every((c) => c.parent === "monitoring"));
    for (const [i, r] of shop.rows.entries())
      for (const [j, c] of shop.cols.entries()) {
        const a = all.rows.findIndex((x) => x.id === r.id);
        const b = all.cols.findIndex((x) => x.id === c.id);
        assert.equal(shop.allowed[i][j], all.allowed[a][b]);
      }
    const wl = shop.rows[0].id;
    const pods = view.heatmap({ level: "pod", rows: wl, cols: wl });
    assert.ok(pods.rows.length > 0 && pods.rows.every((r) => r.parent === wl));
  });
});

describe("view helpers", () => {
  it("hopChanges names the rewritten fields", () => {
    const p = { src: "a", sport: 1, dst: "b", dport: 2, protocol: "TCP" as const };
    assert.deepEqual(
      hopChanges([
        { packet: p },
        { packet: { ...p, dst: "c", dport: 3 } },
        { packet: { ...p, dst: "c", dport: 3, outer: { src: "x", dst: "y", protocol: "UDP" as const } } },
        { packet: { ...p, src: "n", dst: "c", dport: 3 } },
      ]),
      [[], ["dst", "dport"], ["encap"], ["src", "decap"]],
    );
  });

  it("connIncludesPort reads connlist's port lists", () => {
    assert.ok(connIncludesPort("All Connections", 1));
    assert.ok(connIncludesPort("TCP 80,8000-8100,UDP 53", 8050));
    assert.ok(connIncludesPort("TCP 80,8000-8100,UDP 53", 53));
    assert.ok(!connIncludesPort("TCP 80,8000-8100,UDP 53", 81));
  });

  it("parseLabelSelector takes kubectl's -l syntax and names what is wrong", () => {
    const s = parseLabelSelector("app=web,tier!=db,canary,!legacy");
    assert.ok(s.ok);
    assert.ok(s.matches({ app: "web", tier: "fe", canary: "" }));
    assert.ok(!s.matches({ app: "web", tier: "db", canary: "" }));
    assert.ok(!s.matches({ app: "web", canary: "", legacy: "1" }));
    const bad = parseLabelSelector("app=web,=x");
    assert.ok(!bad.ok);
    assert.match(bad.message, /"=x" is not key=value/);
  });

  it("esc and scriptJson keep input text out of markup", () => {
    assert.equal(esc(`"><img src=x onerror='a'>&`), "&quot;&gt;&lt;img src=x onerror=&#39;a&#39;&gt;&amp;");
    assert.doesNotMatch(scriptJson({ a: "</script><script>alert(1)</script>" }), /</);
    assert.deepEqual(JSON.parse(scriptJson({ a: "</script>\u2028" })), { a: "</script>\u2028" });
  });
});

describe("the API answers as the CLI does", () => {
  const api = new UiApi(loadInput(["examples/articles"]));
  const ask = async (path: string, q: Record<string, string>) => {
    const r = await api.get(`/api/${path}`, new URLSearchParams(q));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as Record<string, unknown>;
  };

  it("a node's pod range is its plugin's blocks (Calico: IPAM blocks, not the Node's podCIDR), as get -o wide shows", async () => {
    for (const [ex, term] of [
      ["examples/calico", "IPAM block"],
      ["examples/articles", "podCIDR"],
    ]) {
      const r = await new UiApi(loadInput([ex])).get("/api/overview", new URLSearchParams());
      const nodes = (
        r.body as { topology: { nodes: { name: string; podBlocks: string; blockTerm: string }[] } }
      ).topology.nodes;
      const wide = runPodnet(["get", "pods", "-o", "wide", "-A", "-f", ex]).out.split("\n").slice(1);
      let checked = 0;
      for (const n of nodes) {
        assert.equal(n.blockTerm, term, ex);
        // Every pod-network pod's block (get's PODCIDR column) is one of its node's blocks.
        for (const line of wide.filter(
          (l) => l.split(/\s+/)[5] === n.name && /\d+\/\d+/.test(l.split(/\s+/)[6] ?? ""),
        )) {
          checked++;
          assert.ok(
            n.podBlocks.split(", ").includes(line.split(/\s+/)[6]),
            `${ex} ${n.name}: ${line} in ${n.podBlocks}`,
          );
        }
      }
      assert.ok(checked >= 2, `${ex}: ${checked} pods checked`);
    }
  });

  it("picture: routes -o json's devices and pods per node; routes -o json lists what routes prints", async () => {
    for (const ex of ["examples/articles", "examples/calico", "examples/shop"]) {
      const r = await new UiApi(loadInput([ex])).get("/api/picture", new URLSearchParams());
      assert.equal(r.status, 200);
      const { picture, svg } = r.body as {
        picture: {
          nodes: {
            name: string;
            devices: { name: string }[];
            shownPods: { id: string; hostInterface: string }[];
          }[];
        };
        svg: string;
      };
      for (const n of picture.nodes) {
        const want = json(["routes", "-f", ex, "--node", n.name, "-o", "json"]);
        const text = runPodnet(["routes", "-f", ex, "--node", n.name]).out;
        // `ip addr`'s interface lines name the same devices, in the same order.
        assert.deepEqual(
          [...text.matchAll(/^\d+: ([^:@]+)[:@]/gm)].map((m) => m[1]),
          want.interfaces.map((i: { name: string }) => i.name),
        );
        assert.deepEqual(
          n.devices.map((d) => d.name),
          want.interfaces
            .filter((i: { kind: string }) => i.kind !== "loopback")
            .map((i: { name: string }) => i.name),
        );
        assert.deepEqual(
          n.shownPods.map((p) => [p.id, p.hostInterface]),
          want.pods.map((p: { pod: string; hostInterface: string }) => [p.pod, p.hostInterface]),
        );
        for (const d of n.devices)
          assert.ok(svg.includes(`data-node="${esc(n.name)}" data-device="${esc(d.name)}"`), d.name);
      }
    }
  });

  it("picture: aggregates beyond its limits, draws asked-for pods on their own", async () => {
    const state = load(["examples/shop"]);
    const few = topologyPicture(state, { nodeLimit: 1, podLimit: 2, serviceLimit: 3 });
    assert.equal(few.nodes.length, 1);
    assert.equal(few.otherNodes.nodes, state.nodes.length - 1);
    const n = few.nodes[0];
    assert.equal(n.shownPods.length, 0);
    const counted = n.groups.reduce((s, g) => s + g.pods, 0);
    assert.equal(counted + n.hostNetworkPods, n.pods);
    assert.ok(n.linksNotShown > 0 && !n.devices.some((d) => d.kind === "veth"));
    assert.equal(few.services.length, 0);
    assert.equal(few.otherServices, state.services.length);
    const pod = state.pods.find((p) => p.spec.nodeName === n.name && !p.spec.hostNetwork && p.status?.podIP)!;
    const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const asked = topologyPicture(state, {
      nodes: [n.name],
      pods: [id],
      podLimit: 2,
      serviceLimit: 3,
      services: ["frontend.shop"],
    });
    assert.deepEqual(
      asked.nodes[0].shownPods.map((p) => p.id),
      [id],
    );
    assert.equal(asked.nodes[0].linksNotShown, n.linksNotShown - 1);
    assert.deepEqual(
      asked.services.map((s) => s.id),
      ["frontend.shop"],
    );
  });

  it("trace: the answer is trace -o json's, the drawing has a circle per hop", async () => {
    for (const [q, args] of [
      [{ from: "default/pod1", to: "default/pod3:8080" }, []],
      [{ from: "default/pod1", to: "service1.default", reply: "1" }, ["--reply"]],
      [{ from: "default/pod1", to: "service1.default", all: "1" }, ["--all-endpoints"]],
      [{ from: "203.0.113.7", node: "node-2", to: "172.18.0.3:30080" }, ["--node", "node-2"]],
    ] as const) {
      const body = await ask("trace", q);
      const cli = json([
        "trace",
        "-f",
        "examples/articles",
        "--from",
        q.from,
        "--to",
        q.to,
        ...args,
        "-o",
        "json",
      ]);
      assert.deepEqual(body.answer, cli);
      const hops = (body.parts as { hops: unknown[] }[]).reduce((n, p) => n + p.hops.length, 0);
      assert.equal((String(body.svg).match(/<g class="hop"/g) ?? []).length, hops);
    }
  });

  it("connlist and heatmap take the same ports; an unknown namespace is a 404 naming those there are", async () => {
    for (const path of ["connlist", "heatmap"])
      for (const port of ["0", "99999", "http"]) {
        const r = await api.get(`/api/${path}`, new URLSearchParams({ port }));
        assert.equal(r.status, 400, `${path} port ${port}`);
        assert.match(String((r.body as { error: string }).error), /a number from 1 to 65535/);
      }
    for (const [path, key] of [
      ["connlist", "namespace"],
      ["namespace", "name"],
    ]) {
      const r = await api.get(`/api/${path}`, new URLSearchParams({ [key]: "nope" }));
      assert.equal(r.status, 404, path);
      assert.match(
        String((r.body as { error: string }).error),
        /namespace "nope" not found; the cluster has default, kube-node-lease, kube-public, kube-system/,
      );
    }
  });

  it("trace: bad input is a 400 with the CLI's message", async () => {
    const r = await api.get(
      "/api/trace",
      new URLSearchParams({ from: "default/nope", to: "default/pod1:8080" }),
    );
    assert.equal(r.status, 400);
    const cli = runPodnet([
      "trace",
      "-f",
      "examples/articles",
      "--from",
      "default/nope",
      "--to",
      "default/pod1:8080",
    ]);
    assert.equal(cli.code, 2);
    assert.equal(`error: ${(r.body as { error: string }).error}\n`, cli.err);
  });

  it("explain, connlist and diff: the answers are the commands' -o json", async () => {
    const explained = await ask("explain", { from: "default/pod1", to: "database.default:5432" });
    assert.deepEqual(
      explained.answer,
      json([
        "explain",
        "-f",
        "examples/articles",
        "--from",
        "default/pod1",
        "--to",
        "database.default:5432",
        "-o",
        "json",
      ]),
    );
    const lines = await ask("connlist", {});
    assert.deepEqual(lines.lines, json(["connlist", "-f", "examples/articles", "-o", "json"]));
    const change = ["examples/articles", "test/fixtures/diff/change.yaml"];
    const withDiff = new UiApi(loadInput(["examples/articles"]), loadInput(change));
    const d = await withDiff.get("/api/diff", new URLSearchParams());
    assert.equal(d.status, 200);
    const cli = json([
      "diff",
      "-f",
      "examples/articles",
      "--against",
      change[0],
      "--against",
      change[1],
      "-o",
      "json",
    ]);
    const body = d.body as { diffs: unknown[]; counts: Record<string, number>; svg: string };
    assert.deepEqual(body.diffs, cli);
    assert.equal(body.counts.added + body.counts.removed + body.counts.changed, cli.length);
    assert.equal((body.svg.match(/<g class="edge"/g) ?? []).length, cli.length);
  });

  it("examples/ingress (real controller pods): connlist and explain --from {ingress-controller} are the commands'", async () => {
    const ingress = new UiApi(loadInput(["examples/ingress"]));
    const get = async (path: string, q: Record<string, string>) => {
      const r = await ingress.get(`/api/${path}`, new URLSearchParams(q));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body as Record<string, unknown>;
    };
    const lines = (await get("connlist", {})).lines as { src: string }[];
    assert.deepEqual(lines, json(["connlist", "-f", "examples/ingress", "-o", "json"]));
    // The controller's own lines, no stand-in.
    assert.ok(lines.some((l) => l.src === "ingress-nginx/ingress-nginx-controller[Deployment]"));
    assert.ok(!lines.some((l) => l.src === "{ingress-controller}"));
    const explained = await get("explain", { from: "{ingress-controller}", to: "api.shop:80" });
    assert.deepEqual(
      explained.answer,
      json([
        "explain",
        "-f",
        "examples/ingress",
        "--from",
        "{ingress-controller}",
        "--to",
        "api.shop:80",
        "-o",
        "json",
      ]),
    );
    assert.match(String((explained.answer as { controller?: string }).controller), /^envoy-gateway-system\//);
  });

  it("a bad input is shown with the CLI's diagnostics", async () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-ui-"));
    writeFileSync(
      join(dir, "bad.yaml"),
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Name\nspec:\n  containers: []\n",
    );
    const bad = new UiApi(loadInput([dir]));
    const o = (await bad.get("/api/overview", new URLSearchParams())).body as {
      ok: boolean;
      diagnostics: { text: string }[];
    };
    assert.equal(o.ok, false);
    const cli = runPodnet(["get", "-f", dir]);
    assert.equal(cli.code, 2);
    for (const d of o.diagnostics) assert.ok(cli.err.includes(d.text), d.text);
    assert.match(o.diagnostics[0].text, /bad\.yaml:\d+:\d+/);
    assert.equal((await bad.get("/api/heatmap", new URLSearchParams())).status, 409);
  });
});

describe("ui and report: errors say what to do", () => {
  it("report -o into a missing directory or onto a directory: at once, with the fix", () => {
    let r = runPodnet(["report", "-f", "examples/articles", "-o", "/nonexistent-podnet-dir/x.html"]);
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      "error: -o /nonexistent-podnet-dir/x.html: cannot write the report: ENOENT\n  fix: its directory does not exist: create /nonexistent-podnet-dir first, or write elsewhere\n",
    );
    r = runPodnet(["report", "-f", "examples/articles", "-o", tmpdir()]);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /cannot write the report: EISDIR\n {2}fix: it is a directory: give a file name in it/,
    );
    // A file where a directory should be, and an empty name: exit 2 with the fix, never an internal error.
    const dir = mkdtempSync(join(tmpdir(), "podnet-report-"));
    writeFileSync(join(dir, "afile"), "");
    r = runPodnet(["report", "-f", "examples/articles", "-o", join(dir, "afile", "r.html")]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /cannot write the report: ENOTDIR\n {2}fix: a part of the path is a file/);
    r = runPodnet(["report", "-f", "examples/articles", "-o", ""]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^error: -o: the file name is empty\n/);
  });
  it("ui --listen: an address this machine lacks, or a port written into it", () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never a machine's own address.
    let r = runPodnet(["ui", "-f", "examples/articles", "--listen", "192.0.2.1", "--port", "0"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /EADDRNOTAVAIL\n {2}fix: 192\.0\.2\.1 is not an address of this machine/);
    r = runPodnet(["ui", "-f", "examples/articles", "--listen", "127.0.0.1:9000"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /give an IP address .*; the port goes in --port/);
  });
});

describe("-o svg", () => {
  it("trace -o svg to a name that does not resolve says unresolved, not only the DNS query's delivered", () => {
    const args = [
      "trace",
      "-f",
      "examples/shop",
      "--from",
      "shop/frontend-8656d6c4b9-hzn5v",
      "--to",
      "nosuch",
    ];
    const answer = JSON.parse(runPodnet([...args, "-o", "json"]).out) as { verdict: string; reason: string };
    assert.equal(answer.verdict, "unresolved");
    const r = runPodnet([...args, "-o", "svg"]);
    assert.equal(r.code, 1);
    const outcome = [...r.out.matchAll(/<text class="outcome"[^>]*>([^<]*)<\/text>/g)].map((m) =>
      m[1].replace(/&quot;/g, '"').replace(/&#39;/g, "'"),
    );
    assert.deepEqual(outcome, [`unresolved: ${answer.reason}`, `unresolved: ${answer.reason}`]);
    // A single delivered trace needs no such line: its own verdict is the answer.
    const one = runPodnet([
      "trace",
      "-f",
      "examples/articles",
      "--from",
      "default/pod1",
      "--to",
      "default/pod2:8080",
      "-o",
      "svg",
    ]);
    assert.equal(one.code, 0, one.err);
    assert.doesNotMatch(one.out, /class="outcome"/);
  });

  it("matrix -o svg: one cell per pod pair, ✓ where matrix -o json says true", () => {
    const m = json(["matrix", "-f", "examples/articles", "-o", "json"]);
    const r = runPodnet(["matrix", "-f", "examples/articles", "-o", "svg"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const cells = [
      ...r.out.matchAll(
        /<g class="cell" data-r="(\d+)" data-c="(\d+)"[^>]*><title>[^<]*: (\d+) of (\d+) pod pairs/g,
      ),
    ];
    assert.equal(cells.length, m.pods.length ** 2);
    for (const [, i, j, a] of cells) assert.equal(a === "1", m.matrix[Number(i)][Number(j)]);
  });

  it("connlist -o svg: an edge per line; trace -o svg: a hop per hop", () => {
    const lines = json(["connlist", "-f", "examples/shop", "-o", "json"]);
    const svg = runPodnet(["connlist", "-f", "examples/shop", "-o", "svg"]);
    assert.equal(svg.code, 0, svg.err);
    assert.equal((svg.out.match(/<g class="edge"/g) ?? []).length, lines.length);
    const t = json([
      "trace",
      "-f",
      "examples/articles",
      "--from",
      "default/pod1",
      "--to",
      "default/pod3:8080",
      "-o",
      "json",
    ]);
    const drawn = runPodnet([
      "trace",
      "-f",
      "examples/articles",
      "--from",
      "default/pod1",
      "--to",
      "default/pod3:8080",
      "-o",
      "svg",
    ]);
    assert.equal(drawn.code, 0);
    assert.equal((drawn.out.match(/<g class="hop"/g) ?? []).length, t.hops.length);
    assert.match(drawn.out, new RegExp(`${t.verdict}: `));
  });
});

describe("report", () => {
  it("examples/shop: one file under 2 MB with the answers embedded, no external reference", async () => {
    const { html, answers } = await buildReport(loadInput(["examples/shop"]), undefined, { title: "shop" });
    assert.ok(html.length <= 2 * 1024 * 1024, `${html.length} bytes`);
    assert.ok(answers > 50);
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    assert.match(html, /connect-src &#39;none&#39;/);
  });

  it("podnet report writes the file; --against adds the diff", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-report-"));
    const out = join(dir, "r.html");
    const r = runPodnet([
      "report",
      "-f",
      "examples/articles",
      "--against",
      "examples/articles",
      "--against",
      "test/fixtures/diff/change.yaml",
      "-o",
      out,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /wrote .*r\.html/);
  });
});

describe("server", () => {
  let server: UiServer;
  before(async () => {
    server = await startUiServer({ api: new UiApi(loadInput(["examples/articles"])), title: "t" });
  });
  after(() => server.close());

  it("hostAllowed: the served address and localhost only; IP literals when bound to every address", () => {
    assert.ok(hostAllowed("127.0.0.1:8080", "127.0.0.1", 8080));
    assert.ok(hostAllowed("localhost:8080", "127.0.0.1", 8080));
    assert.ok(!hostAllowed("localhost:8081", "127.0.0.1", 8080));
    assert.ok(!hostAllowed("evil.example:8080", "127.0.0.1", 8080));
    assert.ok(!hostAllowed("127.0.0.1", "127.0.0.1", 8080));
    assert.ok(hostAllowed("192.0.2.5:8080", "0.0.0.0", 8080));
    assert.ok(!hostAllowed("rebind.example:8080", "0.0.0.0", 8080));
    assert.ok(hostAllowed("[::1]:8080", "::1", 8080));
  });

  it("serves the page and the API; refuses foreign hosts (421) and writes (405)", async () => {
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'sha256-/);
    const o = await fetch(`${server.url}api/overview`);
    assert.equal(o.status, 200);
    assert.equal(((await o.json()) as { ok: boolean }).ok, true);
    const { request } = await import("node:http");
    const status = (method: string, host: string) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(server.url);
        const req = request(
          { host: u.hostname, port: u.port, path: "/api/overview", method, headers: { host } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end();
      });
    const u = new URL(server.url);
    assert.equal(await status("GET", `evil.example:${u.port}`), 421);
    assert.equal(await status("GET", `localhost:${u.port}`), 200);
    assert.equal(await status("POST", u.host), 405);
    assert.equal((await fetch(`${server.url}api/nope`)).status, 404);
  });
});
