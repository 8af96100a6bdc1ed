/**
 * `--context`/`--kubeconfig` on every command that takes -f: each such command has the shared input
 * options, and the commands that once had their own -f (probe) or ignored the live cluster (ui,
 * report) read it, against the local stand-in API server (test/live-server.ts). `up` and `probe` are
 * checked up to their read (a live object's fault names its URL; a forbidden kind warns), without
 * building a data plane. CLI cases run the built CLI (dist/), asynchronously, since the server runs
 * in this process.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Command } from "commander";
import { LIVE_RESOURCES } from "../src/adapters/manifests/live.ts";
import { requestTimeoutSeconds } from "../src/cli/common.ts";
import { buildProgram } from "../src/cli/main.ts";
import { Diagnostics } from "../src/core/diagnostics.ts";
import { KINDS } from "../src/core/manifests/kinds.ts";
import { parseSource } from "../src/core/manifests/parse.ts";
import { runPodnet } from "./helpers.ts";
import { type FakeApi, kubeconfigText, makePki, type Pki, startFakeApi } from "./live-server.ts";

const TOKEN = "livefast-token";
let tmp: string;
let pki: Pki;
const servers: FakeApi[] = [];

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/podnet.js", ...args],
      { env: { ...process.env, NO_COLOR: "1", KUBECONFIG: "", HOME: tmp }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number((error as { code?: number }).code ?? 1) : 0,
          out: stdout,
          err: stderr,
        }),
    );
  });
}

function dumpObjects(): Record<string, unknown>[] {
  const file = "examples/live-dump/cluster-dump.yaml";
  return parseSource({ file, text: readFileSync(file, "utf8") }, new Diagnostics()).map((r) => r.value);
}

async function serveKubeconfig(
  name: string,
  objects: Record<string, unknown>[],
  opts: { forbidden?: string[] } = {},
): Promise<{ api: FakeApi; kc: string }> {
  const api = await startFakeApi(pki, { objects, tokens: [TOKEN], ...opts });
  servers.push(api);
  const kc = join(tmp, name);
  writeFileSync(
    kc,
    kubeconfigText({ server: api.url, caCert: pki.caCert, context: "prod", user: { token: TOKEN } }),
  );
  return { api, kc };
}

describe("what a live read lists", () => {
  it("--request-timeout: seconds or kubectl's durations; 0 and over an hour refused with the fix", () => {
    assert.equal(requestTimeoutSeconds("30"), 30);
    assert.equal(requestTimeoutSeconds("30s"), 30);
    assert.equal(requestTimeoutSeconds("2m"), 120);
    assert.equal(requestTimeoutSeconds("500ms"), 0.5);
    assert.equal(requestTimeoutSeconds("1h"), 3600);
    // Go durations, as kubectl reads them: compound, fractional, other units; a bare number only whole.
    assert.equal(requestTimeoutSeconds("1m30s"), 90);
    assert.equal(requestTimeoutSeconds("1.5m"), 90);
    assert.equal(requestTimeoutSeconds("1h0m0s"), 3600);
    assert.equal(requestTimeoutSeconds("2500000us"), 2.5);
    assert.equal(requestTimeoutSeconds("+45"), 45);
    assert.throws(() => requestTimeoutSeconds("1.5"), /--request-timeout 1\.5: write whole seconds \(30\)/);
    assert.throws(() => requestTimeoutSeconds("-5s"), /more than 0 and at most 1h/);
    assert.throws(() => requestTimeoutSeconds("1m 30s"), /write whole seconds/);
    assert.throws(() => requestTimeoutSeconds("0s"), /kubectl reads 0 as no limit/);
    // A bad value is refused even when the command reads only files.
    const r = runPodnet(["get", "pods", "-f", "examples/articles", "--request-timeout", "soon"]);
    assert.equal(r.code, 2);
    assert.equal(r.out, "");
    assert.match(r.err, /^error: --request-timeout soon: write whole seconds \(30\)/);
    assert.equal(runPodnet(["get", "pods", "-f", "examples/articles", "--request-timeout", "1m30s"]).code, 0);
    assert.throws(
      () => requestTimeoutSeconds("0"),
      /kubectl reads 0 as no limit, but podnet bounds every read/,
    );
    assert.throws(() => requestTimeoutSeconds("2h"), /at most 1h/);
    assert.throws(() => requestTimeoutSeconds("abc"), /--request-timeout abc: write whole seconds \(30\)/);
  });

  it("every kind podnet decodes from files, in a version it decodes (Endpoints aside: EndpointSlices are read)", () => {
    const missing = Object.entries(KINDS)
      .filter(([kind]) => kind !== "Endpoints")
      .filter(
        ([kind, info]) =>
          !LIVE_RESOURCES.some(
            (r) => r.kind === kind && info.versions.includes(r.group ? `${r.group}/${r.version}` : r.version),
          ),
      )
      .map(([kind]) => kind);
    assert.deepEqual(missing, []);
  });
});

describe("--context on every command that takes -f", () => {
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "podnet-live-cli-"));
    pki = makePki();
  });
  after(async () => {
    for (const s of servers) await s.close();
  });

  it("every command with -f also has --kubeconfig, --context and --request-timeout", () => {
    const withF = (buildProgram().commands as Command[]).filter((c) =>
      c.options.some((o) => o.long === "--filename"),
    );
    assert.ok(withF.length >= 20, `${withF.length} commands take -f`);
    for (const c of withF)
      for (const flag of ["--kubeconfig", "--context", "--request-timeout"])
        assert.ok(
          c.options.some((o) => o.long === flag),
          `${c.name()} takes -f but not ${flag}`,
        );
  });

  it("probe --context reads the live cluster (its warning shows) before looking for the running cluster", async () => {
    const { api, kc } = await serveKubeconfig("kc-probe", dumpObjects(), {
      forbidden: ["networkpolicies.networking.k8s.io"],
    });
    const r = await run(["probe", "--kubeconfig", kc, "--context", "prod", "--name", "livefast-none"]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /warning: context prod: .*RBAC forbids listing networkpolicies\.networking\.k8s\.io/);
    assert.ok(
      api.requests.some((q) => q.startsWith("GET /api/v1/pods?")),
      "the pods were listed",
    );
    assert.doesNotMatch(r.err, /\n\s+at .+:\d+:\d+/, "no stack trace");
    const bad = await run(["probe", "--kubeconfig", kc, "--context", "staging", "--name", "livefast-none"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--context staging: no such context .* it has prod/);
  });

  it("up --context decodes the live cluster: a live object's fault names its URL, and nothing is built", async () => {
    const objects = dumpObjects();
    const pod = objects.find((o) => o.kind === "Pod") as {
      metadata: { name: string; namespace?: string };
      spec: { containers: { ports?: unknown[] }[] };
    };
    pod.spec.containers[0].ports = [{ containerPort: "http" }];
    const { api, kc } = await serveKubeconfig("kc-up", objects);
    const r = await run(["up", "--kubeconfig", kc, "--context", "prod", "--name", "livefast-up"]);
    assert.equal(r.code, 2, r.err);
    const url = `${api.url}/api/v1/namespaces/${pod.metadata.namespace ?? "default"}/pods/${pod.metadata.name}`;
    assert.ok(r.err.includes(url), `the fault names ${url}: ${r.err}`);
    assert.match(r.err, /containerPort/);
    const status = await run(["status"]);
    assert.doesNotMatch(status.out, /livefast-up/, "nothing was built");
  });

  it("report --context writes the live cluster's views; --against applies a change to it", async () => {
    const { kc } = await serveKubeconfig("kc-report", dumpObjects());
    const out = join(tmp, "report.html");
    const r = await run(["report", "--kubeconfig", kc, "-o", out]);
    assert.equal(r.code, 0, r.err);
    const html = readFileSync(out, "utf8");
    assert.match(html, /podnet report: context prod/);
    assert.match(html, /coredns/);
    const none = await run(["report", "-o", join(tmp, "none.html")]);
    assert.equal(none.code, 2);
    assert.match(none.err, /no input: .*--context NAME/);
  });
});
