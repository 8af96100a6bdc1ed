/**
 * `probe --http`'s cases and judging (src/core/dataplane/http-probe.ts), without root: the requests
 * made from a router's listing, the two-hop prediction (client → controller pod, controller pod →
 * backend), and how real answers are judged against it. The router here is a small one written for
 * the test against the routing contract (src/core/routing/types.ts).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadOrExit } from "../src/cli/common.ts";
import { clusterHttpControllers, httpControllers } from "../src/core/dataplane/http-controllers.ts";
import {
  type HttpController,
  httpProbeCases,
  judgeHttp,
  listingRequest,
} from "../src/core/dataplane/http-probe.ts";
import { loadBalancerRoutes, OUTSIDE_CLIENT } from "../src/core/dataplane/outside.ts";
import { routerSpecs } from "../src/core/routing/router.ts";
import type {
  HttpBackend,
  HttpListener,
  HttpRequest,
  RouteDecision,
  RouteListing,
  Router,
} from "../src/core/routing/types.ts";
import { clusterRouters } from "../src/core/sim/http-routers.ts";
import { ENVOY_STATUSES, httpTrace } from "../src/core/sim/http-trace.ts";
import { Network } from "../src/core/sim/network.ts";
import { resolveSource } from "../src/core/sim/targets.ts";
import { cluster } from "./helpers.ts";

const http: HttpListener = { name: "http", protocol: "HTTP", port: 80 };

/**
 * Two nodes; the controller (2 pods) behind a LoadBalancer Service in ingress; shop/cart (2 pods) and
 * shop/empty (no pods) as backends; a client pod; with `deny`, shop's pods admit nothing.
 */
function yaml(opts: { deny?: boolean } = {}) {
  return `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: h}
spec: {nodes: 2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller, namespace: ingress}
spec:
  replicas: 2
  selector: {matchLabels: {app: controller}}
  template:
    metadata: {labels: {app: controller}}
    spec: {containers: [{name: proxy, image: p, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: controller, namespace: ingress}
spec:
  type: LoadBalancer
  selector: {app: controller}
  ports: [{name: http, port: 80, targetPort: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec: {containers: [{name: cart, image: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default}
spec: {containers: [{name: c, image: c}]}
${
  opts.deny
    ? `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
`
    : ""
}`;
}

const cart: HttpBackend = { namespace: "shop", service: "cart", port: 80, weight: 1 };
const missing: HttpBackend = { namespace: "shop", service: "gone", port: 80, weight: 1 };
const rule = (n: number) => ({ kind: "Ingress" as const, namespace: "shop", name: "web", rule: 0, match: n });

/** A router for the test: `/cart` (Prefix) → shop/cart, `/gone` (Exact) → a missing Service, else 404. */
const router: Router = {
  controller: { kind: "IngressClass", name: "nginx", controller: "k8s.io/ingress-nginx" },
  listeners: [http],
  decide(req: HttpRequest): RouteDecision {
    if (req.host !== "shop.example.com") return { outcome: "not-found", status: 404, considered: [] };
    if (req.path === "/cart" || req.path.startsWith("/cart/"))
      return {
        outcome: "routed",
        rule: rule(0),
        matched: "Prefix /cart",
        backends: [cart],
        chosen: cart,
        filters: [],
        considered: [],
      };
    if (req.path === "/gone")
      return {
        outcome: "routed",
        rule: rule(1),
        matched: "Exact /gone",
        backends: [missing],
        chosen: missing,
        filters: [],
        considered: [],
      };
    return { outcome: "not-found", status: 404, considered: [] };
  },
  listing(): RouteListing[] {
    return [
      { rule: rule(0), host: "shop.example.com", path: "Prefix /cart", backends: [cart] },
      { rule: rule(1), host: "shop.example.com", path: "Exact /gone", backends: [missing] },
      { rule: rule(2), host: "*.example.com", path: "any", backends: [cart] },
    ];
  },
};

function setup(opts: { deny?: boolean } = {}) {
  const state = cluster(yaml(opts));
  const service = state.services.find((s) => s.metadata.name === "controller")!;
  const controllers: HttpController[] = [
    { router, service, listeners: [{ listener: http, servicePort: 80 }] },
  ];
  const controllerPods = state.pods
    .filter((p) => p.metadata.namespace === "ingress")
    .map((p) => `ingress/${p.metadata.name}`);
  const cartPods = state.pods
    .filter((p) => p.metadata.namespace === "shop")
    .map((p) => `shop/${p.metadata.name}`);
  const ipOf = (key: string) =>
    state.pods.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === key)!.status!.podIP!;
  return { state, service, controllers, controllerPods, cartPods, ipOf };
}

describe("probe --http: requests from the listing", () => {
  it("paths and hosts as the listing gives them; a wildcard host gets a label; `any` is /", () => {
    const [a, b, c] = router.listing().map((l) => listingRequest(l, http));
    assert.deepEqual([a.host, a.path], ["shop.example.com", "/cart"]);
    assert.deepEqual([b.host, b.path], ["shop.example.com", "/gone"]);
    assert.deepEqual([c.host, c.path], ["probe.example.com", "/"]);
  });

  it("header, query and method matches written in the listing are sent", () => {
    const r = listingRequest(
      { rule: rule(0), path: "PathPrefix /api, header X-Env=canary, query v=2, method POST", backends: [] },
      http,
    );
    assert.deepEqual(r.headers, [["X-Env", "canary"]]);
    assert.deepEqual(r.query, [["v", "2"]]);
    assert.equal(r.method, "POST");
    assert.equal(r.host, "podnet.test");
  });
});

describe("probe --http: predictions", () => {
  it("from a pod: any controller pod; routed → a cart pod that sees the controller pod's address", () => {
    const { state, controllers, controllerPods, cartPods, ipOf } = setup();
    const { cases, truncated } = httpProbeCases(state, controllers, { podSources: 1 });
    assert.equal(truncated, 0);
    assert.equal(cases.length, 3, "one per listing entry, from one pod");
    const c = cases[0];
    assert.equal(c.from, "default/client");
    assert.match(
      c.to,
      /^http:\/\/shop\.example\.com\/cart via 10\.\d+\.\d+\.\d+:80 \(ingress\/controller\)$/,
    );
    assert.deepEqual([...c.controllers.keys()].sort(), controllerPods.sort());
    for (const [pod, o] of c.controllers) {
      assert.equal(o.status, 200);
      assert.deepEqual([...o.backends.keys()].sort(), cartPods.sort());
      for (const client of o.backends.values())
        assert.equal(client, ipOf(pod), "the backend sees the controller pod");
    }
    // A missing Service: 503 from the proxy; another host: 404.
    for (const o of cases[1].controllers.values())
      assert.deepEqual([o.status, o.why], [503, "Service shop/gone does not exist"]);
    for (const o of cases[2].controllers.values()) assert.equal(o.status, 404);
  });

  it("from outside: through the node the placement names, when the cluster has the outside network", () => {
    const { state, controllers, service } = setup();
    const lb = service.status!.loadBalancer!.ingress![0].ip!;
    const { cases } = httpProbeCases(state, controllers, {
      fromOutside: true,
      podSources: 0,
      entryNodes: () => ["node-1"],
    });
    assert.equal(cases.length, 3);
    assert.ok(cases.every((c) => c.from === "outside" && c.ip === lb));
    assert.equal(cases[0].controllers.size, 2);
    // Nothing receives the IP: no controller pod answers.
    const none = httpProbeCases(state, controllers, {
      fromOutside: true,
      podSources: 0,
      entryNodes: () => [],
    }).cases;
    assert.equal(none[0].controllers.size, 0);
    assert.match(none[0].reason!, /no node receives/);
  });

  it("a policy denies the backends: the controller's timeout status (ingress-nginx 504, Envoy 503)", () => {
    const { state, controllers } = setup({ deny: true });
    const [c] = httpProbeCases(state, controllers, { podSources: 1 }).cases;
    for (const o of c.controllers.values()) {
      assert.equal(o.status, 504);
      assert.match(o.why, /no backend answers/);
    }
    const envoy = controllers.map((x) => ({ ...x, statuses: ENVOY_STATUSES }));
    for (const o of httpProbeCases(state, envoy, { podSources: 1 }).cases[0].controllers.values())
      assert.equal(o.status, 503);
  });

  it("bounded: `limit` cases at most, the rest counted", () => {
    const { state, controllers } = setup();
    const r = httpProbeCases(state, controllers, { podSources: 2, limit: 4 });
    assert.equal(r.cases.length, 4);
    assert.equal(r.truncated, 2);
  });
});

describe("probe --http: judging", () => {
  const { state, controllers, controllerPods, cartPods, ipOf } = setup();
  const [routed, gone, other] = httpProbeCases(state, controllers, { podSources: 1 }).cases;
  const ctl = controllerPods[0];

  it("a relayed answer agrees when controller, status, backend pod and its client address are predicted", () => {
    const ok = {
      ok: true,
      answer: { status: 200, controller: ctl, pod: cartPods[0], client: `${ipOf(ctl)}:41000` },
    };
    assert.ok(judgeHttp(routed, ok).agree);
    assert.ok(
      !judgeHttp(routed, { ...ok, answer: { ...ok.answer, client: "10.9.9.9:1" } }).agree,
      "wrong client",
    );
    assert.ok(
      !judgeHttp(routed, { ...ok, answer: { ...ok.answer, pod: "shop/elsewhere" } }).agree,
      "wrong pod",
    );
    assert.ok(!judgeHttp(routed, { ...ok, answer: { ...ok.answer, status: 404 } }).agree, "wrong status");
    assert.ok(
      !judgeHttp(routed, { ...ok, answer: { ...ok.answer, controller: "x/y" } }).agree,
      "unknown controller",
    );
    assert.ok(
      !judgeHttp(routed, { ok: false, error: "ECONNREFUSED" }).agree,
      "every controller pod is reachable",
    );
  });

  it("the proxy's own answers agree on the status alone, and never with a backend pod", () => {
    assert.ok(judgeHttp(gone, { ok: true, answer: { status: 503, controller: ctl } }).agree);
    assert.ok(judgeHttp(other, { ok: true, answer: { status: 404, controller: ctl } }).agree);
    assert.ok(
      !judgeHttp(other, { ok: true, answer: { status: 404, controller: ctl, pod: cartPods[0] } }).agree,
    );
    assert.match(judgeHttp(other, { ok: true, answer: { status: 200, controller: ctl } }).simulator, /404/);
  });
});

describe("probe --http on the fixture, with the routing core's router", () => {
  const state = loadOrExit([join(import.meta.dirname, "fixtures", "http")]);
  const byKey = (key: string) =>
    state.pods.filter((p) => `${p.metadata.namespace}/${p.metadata.name}`.startsWith(key));
  const found = httpControllers(state, routerSpecs(state), () => ({
    pods: byKey("ingress/controller"),
    service: state.services.find((s) => s.metadata.name === "controller"),
  }));

  it("one controller with both listeners, one proxy per controller pod, tied to the pods' ports", () => {
    assert.deepEqual(found.notes, []);
    assert.equal(found.controllers.length, 1);
    assert.deepEqual(
      found.controllers[0].listeners.map((l) => [l.listener.name, l.servicePort]),
      [
        ["http", 80],
        ["https", 443],
      ],
    );
    assert.equal(found.proxies.length, 2);
    assert.deepEqual(
      found.proxies[0].listeners.map((l) => [l.listener.protocol, l.containerPort]),
      [
        ["HTTP", 80],
        ["HTTPS", 443],
      ],
    );
  });

  it("predictions: the router's decisions, then the backend hop", () => {
    const { cases } = httpProbeCases(state, found.controllers, { podSources: 1 });
    const at = (scheme: string, host: string, path: string) =>
      cases.find((c) => c.request.scheme === scheme && c.request.host === host && c.request.path === path)!;
    const statuses = (c: (typeof cases)[number]) => [
      ...new Set([...c.controllers.values()].map((o) => o.status)),
    ];
    const cart = at("http", "shop.example.com", "/cart");
    assert.deepEqual(statuses(cart), [200]);
    for (const [ctl, o] of cart.controllers) {
      assert.deepEqual(
        [...o.backends.keys()].sort(),
        byKey("shop/cart")
          .map((p) => `shop/${p.metadata.name}`)
          .sort(),
      );
      const ip = state.pods.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === ctl)!.status!.podIP!;
      assert.ok([...o.backends.values()].every((client) => client === ip));
    }
    assert.deepEqual(statuses(at("http", "shop.example.com", "/soon")), [503], "no endpoints");
    assert.deepEqual(statuses(at("https", "shop.example.com", "/cart")), [200]);
    // The defaultBackend serves any other host.
    assert.deepEqual(statuses(at("http", "podnet.test", "/")), [200]);
  });
});

describe("probe --http's prediction is the simulator's http trace (examples/ingress, l2 and bgp)", () => {
  const dir = join(import.meta.dirname, "..", "examples", "ingress");
  const files = Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => [f, readFileSync(join(dir, f), "utf8")]),
  );
  for (const mode of ["l2", "bgp"] as const) {
    it(`${mode}: every request from outside: the same controller pod, status and backend pod`, () => {
      const state = cluster({
        ...files,
        "00-cluster.yaml": files["00-cluster.yaml"].replace("mode: l2", `mode: ${mode}`),
      });
      assert.equal(state.config.loadBalancer.mode, mode);
      const found = clusterHttpControllers(state);
      // The input's ingress-nginx and Envoy Gateway pods are the controllers (no supplied one).
      assert.deepEqual(found.proxies.map((p) => p.pod.split("/")[0]).sort(), [
        "envoy-gateway-system",
        "ingress-nginx",
        "ingress-nginx",
      ]);
      const entries = new Map(
        loadBalancerRoutes(state).map((r) => [r.ip, r.placement.nodes.map((n) => n.name)]),
      );
      const { cases } = httpProbeCases(state, found.controllers, {
        fromOutside: true,
        podSources: 0,
        entryNodes: (_svc, ip) => entries.get(ip) ?? [],
      });
      assert.ok(cases.length >= 5, `${cases.length} cases`);
      const net = new Network(state);
      const routers = clusterRouters(state);
      const src = resolveSource(net, OUTSIDE_CLIENT);
      assert.ok(src.ok);
      for (const c of cases) {
        const t = httpTrace(net, routers, { source: src.value, request: c.request });
        assert.ok(!("error" in t), c.to);
        // The trace enters at a node the kernel's route goes through, and reaches a pod the probe allows.
        assert.equal(t.address.ip, c.ip, c.to);
        const pod = t.controller?.pod;
        assert.ok(pod && c.controllers.has(pod), `${c.to}: trace's controller ${pod}`);
        const want = c.controllers.get(pod)!;
        if (t.verdict === "delivered") {
          assert.equal(want.status, 200, c.to);
          assert.ok(want.backends.has(t.toBackend!.delivered!.pod!), c.to);
        } else {
          assert.equal(t.verdict, "http-error", c.to);
          assert.equal(want.status, t.status, c.to);
        }
      }
      // Both APIs, both schemes.
      assert.ok(cases.some((c) => c.request.scheme === "https"));
      assert.ok(cases.some((c) => c.request.host === "api.example.com"));
    });
  }
});
