/**
 * The reverse proxy's request handling (src/adapters/linux/http-proxy.ts), without root, on loopback:
 * what the router is asked, the answers the proxy gives itself (404, the decision's 500/503, 503 when
 * the backend cannot be reached), and what it relays from a backend.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { proxyHandler, ruleText, sniffing } from "../src/adapters/linux/http-proxy.ts";
import { backendAddress, proxyAction, proxyServices } from "../src/core/dataplane/http.ts";
import type { HttpBackend, HttpRequest, RouteDecision, RuleRef } from "../src/core/routing/types.ts";
import { ENVOY_STATUSES, INGRESS_NGINX_STATUSES } from "../src/core/sim/http-trace.ts";
import { cluster } from "./helpers.ts";

const rule: RuleRef = { kind: "Ingress", namespace: "shop", name: "web", rule: 0, match: 1 };
const backend = (service: string, port: number | string = 80): HttpBackend => ({
  namespace: "shop",
  service,
  port,
  weight: 1,
});
const routed = (b: HttpBackend): RouteDecision => ({
  outcome: "routed",
  rule,
  matched: "host shop.example.com, Prefix /cart",
  backends: [b],
  chosen: b,
  filters: [],
  considered: [],
});

/** A router that decides by path, recording what it was asked. */
function fakeRouter(asked: HttpRequest[]) {
  return {
    decide(req: HttpRequest): RouteDecision {
      asked.push(req);
      if (req.path.startsWith("/cart")) return routed(backend("cart", cartPort));
      if (req.path === "/named") return routed(backend("cart", "http"));
      if (req.path === "/gone") return routed(backend("missing"));
      if (req.path === "/empty")
        return {
          outcome: "backend-error",
          status: 503,
          rule,
          reason: "Service shop/empty has no endpoints",
          considered: [],
        };
      if (req.path === "/throw") throw new Error("boom");
      return { outcome: "not-found", status: 404, considered: [] };
    },
  };
}

let backendServer: http.Server;
let proxy: http.Server;
/** The backend's port, as the Service port of shop/cart. */
let cartPort = 0;
const asked: HttpRequest[] = [];
const seen: http.IncomingHttpHeaders[] = [];

function listen(s: net.Server): Promise<number> {
  return new Promise((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));
}

before(async () => {
  backendServer = http.createServer((req, res) => {
    seen.push(req.headers);
    const body = JSON.stringify({
      pod: "shop/cart-1",
      client: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
    });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  });
  const port = await listen(backendServer);
  cartPort = port;
  proxy = http.createServer(
    proxyHandler({
      spec: {
        pod: "ingress-nginx/controller-1",
        services: {
          "shop/cart": { clusterIP: "127.0.0.1", ports: [{ name: "http", port }] },
        },
      },
      router: fakeRouter(asked),
      scheme: "http",
      port: 80,
      timeoutMs: 300,
    }),
  );
  await listen(proxy);
});

after(() => {
  proxy.close();
  backendServer.close();
});

/** GET through the proxy: status, headers, parsed body. */
function get(path: string, headers: Record<string, string> = {}) {
  const { port } = proxy.address() as AddressInfo;
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }>(
    (resolve, reject) => {
      http
        .get(
          { host: "127.0.0.1", port, path, headers: { host: "Shop.Example.com:80", ...headers } },
          (res) => {
            let text = "";
            res.on("data", (d) => {
              text += d;
            });
            res.on("end", () =>
              resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }),
            );
          },
        )
        .on("error", reject);
    },
  );
}

describe("the reverse proxy's handling", () => {
  it("asks the router with the request as it sees it: host without port, lower-case; path as sent; query in order", async () => {
    asked.length = 0;
    await get("/nothing/../x?a=1&b=2&a=3", { "X-Test": "v" });
    const r = asked[0];
    assert.equal(r.host, "shop.example.com");
    assert.equal(r.path, "/nothing/../x");
    assert.deepEqual(r.query, [
      ["a", "1"],
      ["b", "2"],
      ["a", "3"],
    ]);
    assert.equal(r.method, "GET");
    assert.equal(r.scheme, "http");
    assert.equal(r.port, 80);
    assert.ok(r.headers.some(([k, v]) => k === "X-Test" && v === "v"));
  });

  it("routed: forwards to the backend Service's address and relays its answer, naming the controller and rule", async () => {
    seen.length = 0;
    const r = await get("/cart/1");
    assert.equal(r.status, 200);
    assert.equal(r.body.pod, "shop/cart-1");
    assert.equal(r.headers["x-podnet-controller"], "ingress-nginx/controller-1");
    assert.equal(r.headers["x-podnet-rule"], "Ingress shop/web rule 0 path 1");
    assert.equal(seen[0]["x-forwarded-for"], "127.0.0.1");
    assert.equal(seen[0]["x-forwarded-proto"], "http");
    assert.equal(seen[0].host, "Shop.Example.com:80", "the Host header goes through unchanged");
  });

  it("a backend by Service port name", async () => {
    assert.equal((await get("/named")).status, 200);
  });

  it("nothing matches: 404 of its own", async () => {
    const r = await get("/elsewhere");
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, {
      controller: "ingress-nginx/controller-1",
      status: 404,
      why: "no rule matches",
    });
    assert.equal(r.headers["x-podnet-rule"], undefined);
  });

  it("the decision's backend error: its status and reason", async () => {
    const r = await get("/empty");
    assert.equal(r.status, 503);
    assert.equal(r.body.why, "Service shop/empty has no endpoints");
  });

  it("a backend Service that does not exist: 503", async () => {
    const r = await get("/gone");
    assert.equal(r.status, 503);
    assert.equal(r.body.why, "Service shop/missing does not exist");
  });

  it("the router fails: 500, not a crash", async () => {
    const r = await get("/throw");
    assert.equal(r.status, 500);
    assert.match(String(r.body.why), /boom/);
  });
});

describe("the prober's HTTP requests (src/adapters/linux/prober.ts)", () => {
  /**
   * Runs the prober program on targets given on stdin, as probes.ts runs it inside a namespace
   * (asynchronously: the proxy it asks runs in this process).
   */
  const probe = (targets: unknown[]) =>
    new Promise<{ id: number; ok: boolean; answer?: Record<string, unknown>; error?: string }[]>(
      (resolve, reject) => {
        const child = spawn(
          process.execPath,
          ["--import", "tsx", "src/adapters/linux/prober.ts", "-", "2000"],
          {
            stdio: ["pipe", "pipe", "inherit"],
          },
        );
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
        });
        child.on("error", reject);
        child.on("close", () => resolve(JSON.parse(out)));
        child.stdin.end(JSON.stringify(targets));
      },
    );

  it("status, the controller pod that handled it, and the backend pod and client from its JSON", async () => {
    const { port } = proxy.address() as AddressInfo;
    const req = (id: number, target: string) => ({
      id,
      ip: "127.0.0.1",
      port,
      protocol: "TCP",
      http: {
        scheme: "http",
        host: "shop.example.com",
        target,
        method: "GET",
        headers: [["Host", "shop.example.com"]],
      },
    });
    const [routed, missing, refused] = await probe([
      req(0, "/cart/x?a=1"),
      req(1, "/elsewhere"),
      { ...req(2, "/"), port: 1 },
    ]);
    assert.equal(routed.ok, true);
    assert.equal(routed.answer?.status, 200);
    assert.equal(routed.answer?.controller, "ingress-nginx/controller-1");
    assert.equal(routed.answer?.pod, "shop/cart-1");
    assert.match(String(routed.answer?.client), /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(missing.answer, { status: 404, controller: "ingress-nginx/controller-1" });
    assert.deepEqual([refused.ok, refused.error], [false, "ECONNREFUSED"]);
  });
});

describe("an unreachable backend: the controller's own statuses (src/core/sim/http-trace.ts)", () => {
  const servers: http.Server[] = [];
  const ports = new Map<string, number>();
  before(async () => {
    const slow = net.createServer(() => {});
    const slowPort = await listen(slow);
    const closed = net.createServer();
    const closedAt = await listen(closed);
    await new Promise((r) => closed.close(r));
    for (const [pod, statuses] of [
      ["gw/envoy-1", ENVOY_STATUSES],
      ["ingress/nginx-1", INGRESS_NGINX_STATUSES],
    ] as const) {
      const server = http.createServer(
        proxyHandler({
          spec: {
            pod,
            services: {
              "shop/closed": { clusterIP: "127.0.0.1", ports: [{ port: closedAt }] },
              "shop/slow": { clusterIP: "127.0.0.1", ports: [{ port: slowPort }] },
              "shop/empty": { clusterIP: "127.0.0.1", ports: [{ port: closedAt }], ready: 0 },
            },
            statuses,
          },
          router: {
            decide: (req) =>
              routed(
                req.path === "/slow"
                  ? backend("slow", slowPort)
                  : req.path === "/closed"
                    ? backend("closed", closedAt)
                    : req.path === "/empty"
                      ? backend("empty", closedAt)
                      : backend("missing", 80),
              ),
          },
          scheme: "http",
          port: 80,
          timeoutMs: 300,
        }),
      );
      servers.push(server);
      ports.set(pod, await listen(server));
    }
    servers[0].on("close", () => slow.close());
  });
  after(() => {
    for (const s of servers) s.close();
  });
  const at = (pod: string, path: string) =>
    new Promise<{ status: number; body: Record<string, unknown>; ms: number }>((resolve, reject) => {
      const t0 = performance.now();
      http
        .get({ host: "127.0.0.1", port: ports.get(pod), path }, (res) => {
          let text = "";
          res.on("data", (d) => {
            text += d;
          });
          res.on("end", () =>
            resolve({ status: res.statusCode!, body: JSON.parse(text), ms: performance.now() - t0 }),
          );
        })
        .on("error", reject);
    });

  it("refused: Envoy 503, ingress-nginx 502, with the reason", async () => {
    const envoy = await at("gw/envoy-1", "/closed");
    assert.equal(envoy.status, 503);
    assert.match(String(envoy.body.why), /ECONNREFUSED/);
    assert.equal((await at("ingress/nginx-1", "/closed")).status, 502);
  });

  it("silent: Envoy 503, ingress-nginx 504, after the timeout, not later", async () => {
    const r = await at("gw/envoy-1", "/slow");
    assert.equal(r.status, 503);
    assert.match(String(r.body.why), /no answer within 300 ms/);
    assert.ok(r.ms < 2000, `took ${r.ms} ms`);
    assert.equal((await at("ingress/nginx-1", "/slow")).status, 504);
  });

  it("no ready endpoint: 503 from both, without connecting; a missing Service: Envoy 500, ingress-nginx 503", async () => {
    for (const pod of ["gw/envoy-1", "ingress/nginx-1"]) {
      const r = await at(pod, "/empty");
      assert.equal(r.status, 503);
      assert.match(String(r.body.why), /Service shop\/empty has no endpoints/);
    }
    assert.equal((await at("gw/envoy-1", "/missing")).status, 500);
    assert.equal((await at("ingress/nginx-1", "/missing")).status, 503);
  });
});

describe("backend addresses", () => {
  const state = cluster(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: dns, port: 53, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 5432}]
`);
  const services = proxyServices(state);

  it("by port number or name, at the ClusterIP; UDP ports are not HTTP backends", () => {
    const ip = state.services.find((s) => s.metadata.name === "web")!.spec.clusterIP!;
    assert.deepEqual(backendAddress(services, backend("web", 80)), { ok: true, address: { ip, port: 80 } });
    assert.deepEqual(backendAddress(services, backend("web", "http")), {
      ok: true,
      address: { ip, port: 80 },
    });
    assert.deepEqual(backendAddress(services, backend("web", 53)), {
      ok: false,
      why: "Service shop/web has no TCP port 53",
    });
  });

  it("a headless Service has no address to connect to", () => {
    assert.deepEqual(backendAddress(services, backend("db", 5432)), {
      ok: false,
      why: "Service shop/db is headless (no ClusterIP to connect to)",
    });
  });

  it("the proxy's own answers follow the decision", () => {
    assert.deepEqual(proxyAction(services, { outcome: "not-found", status: 404, considered: [] }), {
      kind: "answer",
      status: 404,
      why: "no rule matches",
    });
    assert.equal(proxyAction(services, routed(backend("nope"))).kind, "answer");
    assert.equal(ruleText({ ...rule, rule: -1, match: -1 }), "Ingress shop/web defaultBackend");
  });
});

describe("plain TCP probes at a proxy's port (sniffing)", () => {
  const identity = (client: string) => JSON.stringify({ pod: "ingress/c-1", client });
  const dir = mkdtempSync(join(tmpdir(), "podnet-sniff-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const ask = (port: number, bytes: Buffer) =>
    new Promise<string>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => s.write(bytes));
      let out = "";
      s.on("data", (d) => {
        out += d;
      });
      s.on("end", () => resolve(out));
      s.on("error", reject);
    });

  it("HTTP goes to the server (with the first bytes); anything else gets the identity line", async () => {
    const inner = http.createServer((req, res) =>
      res.end(`hello ${req.url} from ${req.socket.remoteAddress}`),
    );
    const front = sniffing(inner, false, identity);
    const port = await listen(front);
    try {
      const body = await new Promise<string>((resolve, reject) =>
        http
          .get({ host: "127.0.0.1", port, path: "/x" }, (res) => {
            let t = "";
            res.on("data", (d) => {
              t += d;
            });
            res.on("end", () => resolve(t));
          })
          .on("error", reject),
      );
      assert.equal(body, "hello /x from 127.0.0.1");
      const line = await ask(port, Buffer.from([0x00, 0x21, 0x5e, 0xed]));
      assert.equal(JSON.parse(line).pod, "ingress/c-1");
      assert.match(JSON.parse(line).client, /^127\.0\.0\.1:\d+$/);
    } finally {
      front.close();
    }
  });

  it("HTTPS: a TLS handshake goes to the server", async () => {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    const made = spawnSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=shop.example.com",
      "-keyout",
      key,
      "-out",
      cert,
    ]);
    assert.equal(made.status, 0, String(made.stderr));
    const inner = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) =>
      res.end(`tls ${req.url}`),
    );
    const front = sniffing(inner, true, identity);
    const port = await listen(front);
    try {
      const body = await new Promise<string>((resolve, reject) =>
        https
          .get(
            {
              host: "127.0.0.1",
              port,
              path: "/s",
              servername: "shop.example.com",
              rejectUnauthorized: false,
            },
            (res) => {
              let t = "";
              res.on("data", (d) => {
                t += d;
              });
              res.on("end", () => resolve(t));
            },
          )
          .on("error", reject),
      );
      assert.equal(body, "tls /s");
      assert.equal(JSON.parse(await ask(port, Buffer.from([0x00, 0x21]))).pod, "ingress/c-1");
    } finally {
      front.close();
    }
  });
});
