/**
 * Reading a live cluster (--kubeconfig/--context) from a local HTTPS stand-in for the API server
 * (test/live-server.ts): the read equals kubectl's `get -A -o yaml` from the same server for every
 * example; pagination, an expired continue token, a forbidden kind and an unserved group; each
 * authentication method; each failure exits 2 with a message; snapshots replay to the same answers.
 * CLI cases run the built CLI (dist/), asynchronously, since the server runs in this process.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LIVE_RESOURCES, readLive, resourceName } from "../src/adapters/manifests/live.ts";
import { Diagnostics } from "../src/core/diagnostics.ts";
import { anonymizeObjects } from "../src/core/manifests/anonymize.ts";
import { parseSource } from "../src/core/manifests/parse.ts";
import { type FakeApi, kubeconfigText, makePki, type Pki, resourceOf, startFakeApi } from "./live-server.ts";

const TOKEN = "good-token";

/** The objects of an example directory (or file), Lists flattened, as podnet's parser reads them. */
function exampleObjects(path: string): Record<string, unknown>[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => join(path, f))
    : [path];
  const diags = new Diagnostics();
  return files.flatMap((file) =>
    parseSource({ file, text: readFileSync(file, "utf8") }, diags).map((r) => r.value),
  );
}

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/podnet.js", ...args],
      { env: { ...process.env, NO_COLOR: "1", KUBECONFIG: "", HOME: tmp, ...env }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number((error as { code?: number }).code ?? 1) : 0,
          out: stdout,
          err: stderr,
        }),
    );
  });
}

function runKubectl(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      "kubectl",
      args,
      { env: { ...process.env, HOME: tmp }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number((error as { code?: number }).code ?? 1) : 0,
          out: stdout,
          err: stderr,
        }),
    );
  });
}

function assertNoStack(text: string) {
  assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, "no stack trace");
}

const keyOf = (o: Record<string, unknown>) => {
  const m = o.metadata as { namespace?: string; name?: string };
  return `${o.apiVersion}/${o.kind}/${m.namespace ?? ""}/${m.name}`;
};
const sorted = (xs: Record<string, unknown>[]) =>
  [...xs].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));

let tmp: string;
let pki: Pki;
const servers: FakeApi[] = [];

function writeKubeconfig(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

async function serve(
  objects: Record<string, unknown>[],
  opts: Partial<Parameters<typeof startFakeApi>[1]> = {},
) {
  const api = await startFakeApi(pki, { objects, tokens: [TOKEN], maxPage: 2, ...opts });
  servers.push(api);
  return api;
}

const RESOLVED_KINDS =
  "nodes,namespaces,pods,services,endpointslices,deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs,networkpolicies,ingresses,ingressclasses,gatewayclasses,gateways,httproutes,referencegrants";

/** The commands whose answers are compared between reads. */
const COMPARED = [
  ["get", "pods,services", "-A", "-o", "wide"],
  ["connlist"],
  ["connlist", "--routes"],
  ["get", "ingresses,gateways,httproutes", "-A"],
  ["lint"],
];

const kubectlFound = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status === 0;
const EXAMPLES = ["examples/live-dump", "examples/articles", "examples/shop", "examples/calico"];

describe("live clusters (--kubeconfig, --context)", () => {
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "podnet-live-"));
    pki = makePki();
  });
  after(async () => {
    for (const s of servers) await s.close();
  });

  for (const example of EXAMPLES) {
    it(`${example}: the live read equals podnet's read of kubectl get -A -o yaml from the same server`, async (t) => {
      if (!kubectlFound) {
        const reason = "kubectl is not installed (Debian: apt-get install kubernetes-client)";
        if (process.env.CI === "true") assert.fail(reason);
        t.skip(reason);
        return;
      }
      const objects = exampleObjects(example);
      const api = await serve(objects, { expireOnce: ["pods"] });
      const kc = writeKubeconfig(
        `kc-${example.replace(/\W/g, "-")}`,
        kubeconfigText({ server: api.url, caCert: pki.caCert, user: { token: TOKEN } }),
      );
      const live = await readLive({ kubeconfig: kc, home: tmp, env: {} });
      const expected = objects.filter((o) => resourceOf(o));
      assert.ok(expected.length > 0);
      assert.equal(live.items.length, expected.length, "every served object is read");
      assert.equal(live.warning, undefined);
      assert.equal(live.serverVersion, "v1.32.0-podnet-test");
      const kinds = [...new Set(LIVE_RESOURCES.map(resourceName))].join(",");
      const k = await runKubectl([
        "--kubeconfig",
        kc,
        "--cache-dir",
        join(tmp, "kubectl-cache"),
        "get",
        kinds,
        "-A",
        "-o",
        "yaml",
        "--chunk-size=3",
      ]);
      assert.equal(k.code, 0, k.err);
      const dump = join(tmp, `kubectl-${example.replace(/\W/g, "-")}.yaml`);
      writeFileSync(dump, k.out);
      const fromKubectl = parseSource({ file: dump, text: k.out }, new Diagnostics()).map((r) => r.value);
      assert.deepEqual(sorted(live.items), sorted(fromKubectl));
      // And every answer is the same: podnet on the live cluster and on kubectl's dump. The objects
      // are equal (above), so the other examples check the answer that reads most of them
      // (connlist: pods, Services, policies) and the real cluster's dump checks every one.
      for (const args of example === "examples/live-dump" ? COMPARED : [["connlist"]]) {
        const a = await run([...args, "--kubeconfig", kc]);
        const b = await run([...args, "-f", dump]);
        assertNoStack(a.err);
        assert.equal(a.code, b.code, `${args.join(" ")}: ${a.err}`);
        assert.equal(a.out, b.out, args.join(" "));
        // An answer, or its absence said (`No resources found`): never silence.
        assert.ok(a.out.length > 0 || a.err.length > 0, args.join(" "));
      }
    });
  }

  it("pages with limit/continue, restarts a list whose continue token expired (410), warns once of 403 and 404", async () => {
    const objects = exampleObjects("examples/live-dump");
    const api = await serve(objects, {
      expireOnce: ["pods"],
      forbidden: ["networkpolicies.networking.k8s.io"],
      notServedGroups: ["policy.networking.k8s.io"],
    });
    const kc = writeKubeconfig(
      "kc-paging",
      kubeconfigText({ server: api.url, caCert: pki.caCert, user: { token: TOKEN } }),
    );
    const live = await readLive({ kubeconfig: kc, home: tmp, env: {}, pageSize: 500 });
    const podLists = api.requests.filter((r) => r.startsWith("GET /api/v1/pods?"));
    const firstPages = podLists.filter((r) => !r.includes("continue="));
    assert.equal(firstPages.length, 2, `the pod list restarted once after 410: ${podLists.join(" | ")}`);
    const pods = objects.filter((o) => o.kind === "Pod").length;
    assert.equal(
      live.items.filter((o) => o.kind === "Pod").length,
      pods,
      "no pod lost or doubled by the restart",
    );
    assert.ok(podLists.length >= Math.ceil(pods / 2) + 2, "pages of at most 2 items");
    assert.ok(live.warning);
    assert.match(live.warning.message, /does not serve adminnetworkpolicies\.policy\.networking\.k8s\.io/);
    assert.match(live.warning.message, /RBAC forbids listing networkpolicies\.networking\.k8s\.io \(403\)/);
    assert.doesNotMatch(live.warning.message, /cilium/, "a CNI's own API missing is no news");
    for (const it of live.items)
      assert.equal((it.metadata as Record<string, unknown>).managedFields, undefined);
    const r = await run(["get", "pods", "--kubeconfig", kc]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err.match(/warning: context test:/g)?.length, 1, r.err);
    assert.match(r.out, /coredns/);
  });

  it("authenticates with a client certificate and with an exec credential plugin", async () => {
    const api = await serve(exampleObjects("examples/articles"), { tokens: ["exec-token"] });
    const certKc = writeKubeconfig(
      "kc-cert",
      kubeconfigText({
        server: api.url,
        caCert: pki.caCert,
        user: {
          "client-certificate-data": Buffer.from(pki.clientCert).toString("base64"),
          "client-key-data": Buffer.from(pki.clientKey).toString("base64"),
        },
      }),
    );
    const plugin = join(tmp, "exec-plugin.mjs");
    writeFileSync(
      plugin,
      `process.stdout.write(JSON.stringify({apiVersion:"client.authentication.k8s.io/v1beta1",kind:"ExecCredential",status:{token:"exec-token"}}));\n`,
    );
    const execKc = writeKubeconfig(
      "kc-exec",
      kubeconfigText({
        server: api.url,
        caCert: pki.caCert,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: process.execPath,
            args: [plugin],
            interactiveMode: "Never",
          },
        },
      }),
    );
    const byCert = await run(["get", "pods", "--kubeconfig", certKc]);
    const byExec = await run(["get", "pods", "--kubeconfig", execKc]);
    assert.equal(byCert.code, 0, byCert.err);
    assert.equal(byExec.code, 0, byExec.err);
    assert.match(byCert.out, /pod1/);
    assert.equal(byCert.out, byExec.out);
    // Without credentials the server says 401: a message, exit 2.
    const none = writeKubeconfig(
      "kc-none",
      kubeconfigText({ server: api.url, caCert: pki.caCert, user: { token: "wrong" } }),
    );
    const r = await run(["get", "pods", "--kubeconfig", none]);
    assert.equal(r.code, 2);
    assert.match(r.err, /rejected the credentials \(401 Unauthorized\)/);
    assertNoStack(r.err);
    // A failing exec plugin is named.
    const badExec = writeKubeconfig(
      "kc-bad-exec",
      kubeconfigText({
        server: api.url,
        caCert: pki.caCert,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: process.execPath,
            args: ["-e", "process.stderr.write('no session'); process.exit(1)"],
            interactiveMode: "Never",
          },
        },
      }),
    );
    const e = await run(["get", "pods", "--kubeconfig", badExec]);
    assert.equal(e.code, 2, e.err);
    assert.match(e.err, /exec credential plugin of user "test-user"/);
    assertNoStack(e.err);
  });

  it("KUBECONFIG merges several files (the first definition wins) and --context picks one", async () => {
    const a = await serve(exampleObjects("examples/articles"));
    const b = await serve(exampleObjects("examples/live-dump"));
    const fa = writeKubeconfig(
      "kc-a",
      kubeconfigText({ server: a.url, caCert: pki.caCert, context: "alpha", user: { token: TOKEN } }),
    );
    const fb = writeKubeconfig(
      "kc-b",
      kubeconfigText({ server: b.url, caCert: pki.caCert, context: "beta", user: { token: TOKEN } }),
    );
    const env = { KUBECONFIG: `${join(tmp, "missing")}:${fa}:${fb}` };
    const cur = await run(["get", "pods", "--context"], env);
    assert.equal(cur.code, 0, cur.err);
    assert.match(cur.out, /pod1/, "the first file's current-context");
    const beta = await run(["get", "pods", "--context", "beta"], env);
    assert.equal(beta.code, 0, beta.err);
    assert.match(beta.out, /coredns/);
    // -f and a live cluster combine.
    const extra = join(tmp, "extra.yaml");
    writeFileSync(
      extra,
      "apiVersion: v1\nkind: Pod\nmetadata: {name: extra-pod, namespace: default}\nspec:\n  containers: [{name: c, image: nginx}]\n",
    );
    const both = await run(["get", "pods", "--context", "beta", "-f", extra], env);
    assert.equal(both.code, 0, both.err);
    assert.match(both.out, /extra-pod/);
    assert.match(both.out, /coredns/);
  });

  it("diff --context --against: what a change would do to the running cluster", async () => {
    const api = await serve(exampleObjects("examples/articles"));
    const kc = writeKubeconfig(
      "kc-diff",
      kubeconfigText({ server: api.url, caCert: pki.caCert, user: { token: TOKEN } }),
    );
    const deny = join(tmp, "deny.yaml");
    writeFileSync(
      deny,
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all, namespace: default}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
    );
    const r = await run(["diff", "--kubeconfig", kc, "--against", deny]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^- /m, "the deny-all policy removes connections");
    assert.match(r.out, /\d+ added, [1-9]\d* removed/);
    const same = await run(["diff", "--kubeconfig", kc, "--against", join(tmp, "extra.yaml")]);
    assert.equal(same.code, 0, same.err);
  });

  it("each failure is a message and exit 2: missing file, unknown context, bad certificate, unreachable server", async () => {
    const api = await serve(exampleObjects("examples/articles"));
    const good = kubeconfigText({ server: api.url, caCert: pki.caCert, user: { token: TOKEN } });
    const cases: [string, string[], RegExp][] = [
      ["missing file", ["--kubeconfig", join(tmp, "nope")], /--kubeconfig .*nope: no such file/],
      [
        "unknown context",
        ["--kubeconfig", writeKubeconfig("kc-ctx", good), "--context", "prod"],
        /--context prod: no such context in .*; it has test/,
      ],
      [
        "a server certificate the CA did not sign",
        [
          "--kubeconfig",
          writeKubeconfig(
            "kc-other-ca",
            kubeconfigText({ server: api.url, caCert: pki.otherCaCert, user: { token: TOKEN } }),
          ),
        ],
        /certificate cannot be verified/,
      ],
      [
        "an unreadable client certificate",
        [
          "--kubeconfig",
          writeKubeconfig(
            "kc-bad-cert",
            kubeconfigText({
              server: api.url,
              caCert: pki.caCert,
              user: { "client-certificate": join(tmp, "no-cert.pem"), "client-key": join(tmp, "no-key.pem") },
            }),
          ),
        ],
        /cannot read the credentials of user "test-user"/,
      ],
      [
        "a malformed kubeconfig",
        ["--kubeconfig", writeKubeconfig("kc-garbage", "clusters: [ {")],
        /not a readable kubeconfig/,
      ],
    ];
    // A closed port: refused at once.
    const closed = createTcpServer();
    await new Promise<void>((res) => closed.listen(0, "127.0.0.1", res));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((res) => closed.close(() => res()));
    cases.push([
      "a refused connection",
      [
        "--kubeconfig",
        writeKubeconfig(
          "kc-refused",
          kubeconfigText({
            server: `https://127.0.0.1:${closedPort}`,
            caCert: pki.caCert,
            user: { token: TOKEN },
          }),
        ),
      ],
      /server unreachable \(ECONNREFUSED\)/,
    ]);
    for (const [what, args, message] of cases) {
      const r = await run(["get", "pods", ...args]);
      assert.equal(r.code, 2, `${what}: ${r.err}`);
      assert.match(r.err, message, what);
      assertNoStack(r.err);
    }
    // A server that accepts and never answers: the timeout, not a hang.
    const silent = createTcpServer(() => {});
    await new Promise<void>((res) => silent.listen(0, "127.0.0.1", res));
    const port = (silent.address() as { port: number }).port;
    const kc = writeKubeconfig(
      "kc-silent",
      kubeconfigText({ server: `https://127.0.0.1:${port}`, caCert: pki.caCert, user: { token: TOKEN } }),
    );
    const t0 = Date.now();
    const r = await run(["get", "pods", "--kubeconfig", kc, "--request-timeout", "1"]);
    silent.close();
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /no answer within 1 s/);
    assert.ok(Date.now() - t0 < 15_000, "bounded by the timeout");
  });

  it("snapshot writes a dump that replays to the same answers (header: context, server version, time)", async () => {
    const api = await serve(exampleObjects("examples/live-dump"));
    const kc = writeKubeconfig(
      "kc-snap",
      kubeconfigText({ server: api.url, caCert: pki.caCert, user: { token: TOKEN } }),
    );
    const out = join(tmp, "snap.yaml");
    const r = await run(["snapshot", "--kubeconfig", kc, "-o", out]);
    assert.equal(r.code, 0, r.err);
    const text = readFileSync(out, "utf8");
    assert.match(
      text,
      /^# podnet snapshot of context test \(https:\/\/127\.0\.0\.1:\d+, Kubernetes v1\.32\.0-podnet-test\), read 20\d\d-/,
    );
    assert.doesNotMatch(text, /managedFields/);
    for (const args of COMPARED) {
      const a = await run([...args, "--kubeconfig", kc]);
      const b = await run([...args, "-f", out]);
      assert.equal(a.code, b.code, `${args.join(" ")}: ${b.err}`);
      assert.equal(b.out, a.out, args.join(" "));
    }
    const none = await run(["snapshot"]);
    assert.equal(none.code, 2);
    assert.match(none.err, /nothing to snapshot/);
  });

  for (const example of ["examples/live-dump", "examples/shop", "examples/ingress"]) {
    it(`${example}: snapshot --anonymize gives every answer renamed`, async () => {
      // A live cluster's objects are all given (pods, addresses); a manifest example becomes one as
      // podnet resolves it (`get … -o yaml`), since names and addresses podnet derives itself from
      // the manifests' text are not the cluster's.
      let objects = exampleObjects(example);
      if (!objects.some((o) => o.kind === "Pod" && (o.status as { podIP?: string } | undefined)?.podIP)) {
        const resolved = await run(["get", RESOLVED_KINDS, "-A", "-o", "yaml", "-f", example]);
        assert.equal(resolved.code, 0, resolved.err);
        const file = join(tmp, `resolved-${example.replace(/\W/g, "-")}.yaml`);
        writeFileSync(file, resolved.out);
        objects = exampleObjects(file);
      }
      objects = objects.filter((o) => resourceOf(o));
      const api = await serve(objects);
      const kc = writeKubeconfig(
        `kc-anon-${example.replace(/\W/g, "-")}`,
        kubeconfigText({ server: api.url, caCert: pki.caCert, user: { token: TOKEN } }),
      );
      const plain = join(tmp, `plain-${example.replace(/\W/g, "-")}.yaml`);
      const anon = join(tmp, `anon-${example.replace(/\W/g, "-")}.yaml`);
      assert.equal((await run(["snapshot", "--kubeconfig", kc, "-o", plain])).code, 0);
      const r = await run(["snapshot", "--kubeconfig", kc, "--anonymize", "--seed", "s3cret", "-o", anon]);
      assert.equal(r.code, 0, r.err);
      const text = readFileSync(anon, "utf8");
      assert.doesNotMatch(
        text,
        /127\.0\.0\.1|context test/,
        "the header names neither the server nor the context",
      );
      // The same renaming as the core computes with the same seed.
      const live = await readLive({ kubeconfig: kc, home: tmp, env: {} });
      const { names, addresses } = anonymizeObjects(live.items, "s3cret");
      const kept = new Set([
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "kubernetes",
        "kube-dns",
        "coredns",
        "kube-proxy",
      ]);
      for (const o of parseSource({ file: anon, text }, new Diagnostics())) {
        const m = o.value.metadata as { name: string; namespace?: string };
        for (const n of [m.name, m.namespace ?? "default"])
          assert.ok(
            kept.has(n) ||
              /^n[0-9a-z]{9}(-[0-9a-z]+)*$/.test(n) ||
              [...kept].some((k) => k && n.startsWith(`${k}-`)),
            `renamed: ${n}`,
          );
      }
      const translate = (s: string) =>
        s.replace(
          /[A-Za-z0-9][A-Za-z0-9._-]*(\/\d+)?/g,
          // A port's name (`http:80/TCP`) and a number (`0 findings`) are kept, whatever else bears that name.
          (tok: string, _cidr: string, at: number, all: string) =>
            /^\d+$/.test(tok) ||
            /^:\d+\//.test(all.slice(at + tok.length)) ||
            // An HTTP path (`Prefix /cart`) is no name: the anonymizer keeps paths.
            all.slice(Math.max(0, at - 2), at) === " /"
              ? tok
              : (names.get(tok) ??
                addresses.get(tok) ??
                // A DNS name (a host): label by label.
                (/^[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z][A-Za-z0-9-]*)+$/.test(tok)
                  ? tok
                      .split(".")
                      .map((l) => names.get(l) ?? l)
                      .join(".")
                  : tok)),
        );
      const lines = (s: string) =>
        s
          .split("\n")
          .map((l) => l.replace(/\s+/g, " ").trim())
          .filter(Boolean)
          .sort();
      let compared = 0;
      for (const args of COMPARED) {
        const a = await run([...args, "-f", plain]);
        const b = await run([...args, "-f", anon]);
        assert.equal(b.code, a.code, `${args.join(" ")}: ${b.err}`);
        assert.deepEqual(lines(b.out), lines(translate(a.out)), args.join(" "));
        compared += lines(a.out).length;
      }
      assert.ok(compared > 5);
    });
  }

  it("anonymize: deterministic by seed, prefix-preserving, anchors kept, secrets dropped", () => {
    const pod = (name: string, ip: string) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace: "payments",
        labels: { app: "ledger" },
        annotations: {
          "kubectl.kubernetes.io/last-applied-configuration": "{secret}",
          "acme.com/owner": "bob",
        },
      },
      spec: {
        containers: [
          {
            name: "c",
            image: "acme/ledger:1",
            env: [{ name: "PASSWORD", value: "hunter2" }],
            command: ["run"],
          },
        ],
      },
      status: { podIP: ip },
    });
    const input = [
      pod("a", "10.244.1.5"),
      pod("b", "10.244.1.9"),
      pod("c", "10.244.2.7"),
      pod("d", "10.96.3.4"),
      pod("e", "34.1.2.3"),
    ];
    const one = anonymizeObjects(input, "seed-1");
    assert.deepEqual(anonymizeObjects(input, "seed-1").objects, one.objects, "the same seed renames alike");
    assert.notDeepEqual(anonymizeObjects(input, "seed-2").objects, one.objects);
    const text = JSON.stringify(one.objects);
    for (const secret of ["hunter2", "PASSWORD", "last-applied", "bob", "payments", "ledger", "acme"])
      assert.ok(!text.includes(secret), secret);
    const ip = (i: number) => (one.objects[i].status as { podIP: string }).podIP;
    assert.match(ip(0), /^10\.244\.\d+\.5$/, "in the cluster CIDR; the host part kept");
    assert.equal(
      ip(0).split(".").slice(0, 3).join("."),
      ip(1).split(".").slice(0, 3).join("."),
      "one /24 stays one /24",
    );
    assert.notEqual(ip(0).split(".")[2], ip(2).split(".")[2], "two /24s stay two");
    const third = Number(ip(3).split(".")[1]);
    assert.ok(third >= 96 && third < 112, `a Service CIDR address stays in 10.96.0.0/12: ${ip(3)}`);
    assert.ok(
      !/^(10|172|192|100|127|169|198|203|0|22\d|23\d|24\d|25\d)\./.test(ip(4)) || ip(4).startsWith("34."),
      `a public address stays public: ${ip(4)}`,
    );
    // Prefix preservation over many random pairs in 10.0.0.0/8.
    const cpl = (x: string, y: string) => {
      const n = (s: string) => s.split(".").reduce((a, b) => a * 256 + Number(b), 0);
      return Math.clz32((n(x) ^ n(y)) >>> 0);
    };
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 255;
    };
    for (let i = 0; i < 500; i++) {
      const a = `10.${rnd()}.${rnd()}.${rnd()}`;
      const b = `10.${rnd() & 0xf0}.${rnd()}.${rnd()}`;
      assert.equal(Math.min(cpl(one.address(a), one.address(b)), 24), Math.min(cpl(a, b), 24), `${a} ${b}`);
    }
  });
});
