/**
 * An HTTP request traced from outside to a pod (src/core/sim/http-trace.ts): the address, the node the
 * load balancer picks, the controller pod, the routing decision, the controller's connection to the
 * backend, the backend pod; the statuses a controller answers with itself (404, 503, 504); from a pod
 * too; bad requests.
 *
 * The routing decision is the contract's (src/core/routing/types.ts `Router`): the router here is a
 * small table written for this test (exact host, path prefix) so that the composition is checked on
 * its own; the real Ingress/Gateway matching has its own tests.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadOrExit } from "../src/cli/common.ts";
import type { ClusterState } from "../src/core/control/state.ts";
import type {
  ControllerKey,
  HttpBackend,
  HttpRequest,
  RejectedRule,
  RouteDecision,
  Router,
  RuleRef,
} from "../src/core/routing/types.ts";
import { type HttpTraceResult, httpTrace, parseHttpRequest } from "../src/core/sim/http-trace.ts";
import { Network } from "../src/core/sim/network.ts";
import { resolveSource } from "../src/core/sim/targets.ts";
import { explainQuestion } from "../src/core/views/questions.ts";
import { cluster, runPodnet } from "./helpers.ts";

const NGINX: ControllerKey = { kind: "IngressClass", name: "nginx", controller: "k8s.io/ingress-nginx" };

/** A routing table for tests: rules in order, exact host and path prefix; the first that matches wins. */
function tableRouter(
  rules: { host: string; prefix: string; service: string; port: number | string }[],
): Router {
  const ref = (i: number): RuleRef => ({
    kind: "Ingress",
    namespace: "shop",
    name: "shop",
    rule: 0,
    match: i,
  });
  const backend = (r: (typeof rules)[number]): HttpBackend => ({
    namespace: "shop",
    service: r.service,
    port: r.port,
    weight: 1,
  });
  return {
    controller: NGINX,
    listeners: [{ name: "http", protocol: "HTTP", port: 80 }],
    decide(req: HttpRequest): RouteDecision {
      const considered: RejectedRule[] = [];
      for (const [i, r] of rules.entries()) {
        if (r.host !== req.host) {
          considered.push({ rule: ref(i), why: `host ${req.host} ≠ ${r.host}` });
          continue;
        }
        if (!req.path.startsWith(r.prefix)) {
          considered.push({ rule: ref(i), why: `path ${req.path} is not under ${r.prefix}` });
          continue;
        }
        const b = backend(r);
        return {
          outcome: "routed",
          rule: ref(i),
          matched: `host ${r.host}, Prefix ${r.prefix}`,
          backends: [b],
          chosen: b,
          filters: [],
          considered,
        };
      }
      return { outcome: "not-found", status: 404, considered };
    },
    listing: () => [],
  };
}

const ROUTER = tableRouter([
  { host: "shop.example.com", prefix: "/cart", service: "cart", port: 80 },
  { host: "shop.example.com", prefix: "/ghost", service: "ghost", port: "http" },
  { host: "shop.example.com", prefix: "/missing", service: "nosuch", port: 80 },
  { host: "shop.example.com", prefix: "/", service: "web", port: 80 },
]);

const app = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: shop}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: 80, targetPort: http}]
---
`;

const INPUT = `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: http}
spec: {nodes: 3, supply: {clusterDNS: false}}
---
${app("web", 2)}${app("cart", 1)}apiVersion: v1
kind: Service
metadata: {name: ghost, namespace: shop}
spec:
  selector: {app: nobody}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
---
`;

/** Only the controller's namespace may reach cart; nothing may reach web. */
const POLICIES = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: cart-from-ingress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: cart}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-closed, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
---
`;

function run(
  s: ClusterState,
  url: string,
  from = "203.0.113.7",
  opts: { headers?: string[]; method?: string } = {},
): HttpTraceResult {
  const net = new Network(s);
  const src = resolveSource(net, from);
  assert.ok(src.ok);
  const req = parseHttpRequest(url, opts.headers, opts.method);
  assert.ok(req.ok, req.ok ? "" : req.message);
  const r = httpTrace(net, [ROUTER], { source: src.value, request: req.request });
  assert.ok(!("error" in r), "error" in r ? r.error : "");
  return r;
}

describe("http trace: from outside to a pod, through the controller", () => {
  const s = cluster(INPUT);
  const controllerPod = s.pods.find((p) => p.metadata.namespace === "ingress-nginx")!;
  const controllerNode = controllerPod.spec.nodeName!;

  it("routed: LB IP → the node with the controller (Local) → controller pod → rule → Service → backend pod", () => {
    const r = run(s, "http://shop.example.com/cart/items?x=1");
    assert.equal(r.verdict, "delivered");
    assert.equal(r.status, undefined);
    assert.deepEqual(r.address, {
      ip: "198.51.100.1",
      port: 80,
      why: "shop.example.com → 198.51.100.1: the load-balancer IP of Service ingress-nginx/ingress-nginx-controller, in front of the controller that routes the host",
    });
    // externalTrafficPolicy Local: the one node with a controller pod is elected.
    assert.match(
      r.toController.hops[0].detail,
      new RegExp(`node ${controllerNode} answers ARP for 198\\.51\\.100\\.1`),
    );
    assert.equal(r.toController.hops[1].at, `node ${controllerNode}`);
    assert.equal(r.controller?.pod, `ingress-nginx/${controllerPod.metadata.name}`);
    assert.equal(r.controller?.supplied, true);
    // Local keeps the client's address all the way to the controller.
    assert.match(r.toController.delivered!.seenSource, /^203\.0\.113\.7:/);
    assert.ok(r.decision?.outcome === "routed");
    assert.equal(r.decision.matched, "host shop.example.com, Prefix /cart");
    assert.equal(r.backend?.service, "shop/cart");
    assert.equal(r.backend?.port, 80);
    assert.match(r.toBackend!.delivered!.pod!, /^shop\/cart-/);
    // The backend sees the controller pod's address, not the client's.
    assert.match(
      r.toBackend!.delivered!.seenSource,
      new RegExp(`^${controllerPod.status!.podIP!.replaceAll(".", "\\.")}:`),
    );
    assert.equal(r.request.query[0][0], "x");
  });

  it("no rule matches: 404 from the controller, with the rules considered", () => {
    const r = run(s, "http://shop.example.com/", "203.0.113.7", { headers: ["Host: api.example.com"] });
    assert.equal(r.verdict, "http-error");
    assert.equal(r.status, 404);
    assert.ok(r.decision?.outcome === "not-found");
    assert.equal(r.decision.considered.length, 4);
    assert.match(r.decision.considered[0].why, /host api\.example\.com ≠ shop\.example\.com/);
    assert.equal(r.toBackend, undefined);
  });

  it("a Service without endpoints: 503; a missing Service: 503 (ingress-nginx)", () => {
    const ghost = run(s, "http://shop.example.com/ghost");
    assert.equal(ghost.status, 503);
    assert.match(ghost.reason, /answers 503: Service shop\/ghost:http has no endpoints/);
    const missing = run(s, "http://shop.example.com/missing");
    assert.equal(missing.status, 503);
    assert.match(missing.reason, /Service shop\/nosuch does not exist/);
  });

  it("NetworkPolicy: the controller may reach cart (its namespace is allowed), web drops it: 504", () => {
    const p = cluster(INPUT + POLICIES);
    const cart = run(p, "http://shop.example.com/cart");
    assert.equal(cart.verdict, "delivered");
    assert.equal(cart.toBackend?.policy?.ingress?.allowed, true);
    const web = run(p, "http://shop.example.com/");
    assert.equal(web.verdict, "http-error");
    assert.equal(web.status, 504);
    assert.equal(web.toBackend?.verdict, "dropped");
  });

  it("from a pod: to the LB IP, through the controller, to the backend", () => {
    const web = s.pods.find((p) => p.metadata.name.startsWith("web-"))!;
    const r = run(s, "http://shop.example.com/cart", `shop/${web.metadata.name}`);
    assert.equal(r.verdict, "delivered");
    assert.match(r.toBackend!.delivered!.pod!, /^shop\/cart-/);
  });

  it("a port in the URL the controller's Service does not serve: the connection fails, no HTTP", () => {
    const r = run(s, "http://shop.example.com:8081/cart");
    assert.equal(r.address.port, 8081);
    assert.ok(r.verdict === "dropped" || r.verdict === "rejected");
    assert.equal(r.decision, undefined);
  });

  it("bad requests: the option and what to write", () => {
    assert.deepEqual(parseHttpRequest("ftp://x/"), {
      ok: false,
      option: "--to",
      message: "ftp:// is not traced as HTTP: write http:// or https://",
    });
    const m = parseHttpRequest("http://x/", [], "get");
    assert.ok(!m.ok && m.option === "-X" && /write GET/.test(m.message));
    const h = parseHttpRequest("http://x/", ["NoColon"]);
    assert.ok(!h.ok && h.option === "-H" && /write -H 'Name: value'/.test(h.message));
    const https = parseHttpRequest("https://Shop.Example.com/a/../b");
    assert.ok(https.ok);
    assert.equal(https.request.port, 443);
    assert.equal(https.request.host, "shop.example.com");
    assert.equal(https.request.path, "/b");
  });
});

describe("http trace on examples/ingress: the routing core's decisions, the CLI", () => {
  const ex = ["trace", "-f", "examples/ingress", "--from", "203.0.113.7"];
  const json = (args: string[]) => {
    const r = runPodnet([...ex, ...args, "-o", "json"]);
    return { code: r.code, body: JSON.parse(r.out) as HttpTraceResult };
  };

  it("Ingress: shop.example.com/cart → ingress-nginx on node-1 → Ingress shop/shop rule 0 path 0 → a cart pod", () => {
    const { code, body } = json(["--to", "http://shop.example.com/cart"]);
    assert.equal(code, 0);
    assert.equal(body.verdict, "delivered");
    assert.equal(body.address.ip, "198.51.100.2");
    assert.equal(body.toController.hops[1].at, "node node-1");
    assert.match(body.controller!.pod!, /^ingress-nginx\/ingress-nginx-controller-/);
    assert.equal(body.controller!.supplied, false);
    assert.ok(body.decision?.outcome === "routed");
    assert.deepEqual(body.decision.rule, {
      kind: "Ingress",
      namespace: "shop",
      name: "shop",
      rule: 0,
      match: 0,
    });
    assert.deepEqual(body.backend && [body.backend.service, body.backend.port], ["shop/cart", 80]);
    assert.match(body.toBackend!.delivered!.pod!, /^shop\/cart-/);
    // NetworkPolicy cart-from-ingress-nginx lets the controller's namespace in.
    assert.equal(body.toBackend!.policy?.ingress?.allowed, true);
  });

  it("Gateway: api.example.com/v1/items → Envoy → HTTPRoute shop/api → the api pod; /other → 404", () => {
    const { code, body } = json(["--to", "http://api.example.com/v1/items"]);
    assert.equal(code, 0);
    assert.equal(body.address.ip, "198.51.100.1");
    assert.equal(body.controller!.implementation, "Envoy Gateway");
    assert.ok(body.decision?.outcome === "routed");
    assert.equal(body.decision.rule.kind, "HTTPRoute");
    assert.equal(`${body.decision.rule.namespace}/${body.decision.rule.name}`, "shop/api");
    assert.match(body.toBackend!.delivered!.pod!, /^shop\/api-/);
    const miss = json(["--to", "http://api.example.com/other"]);
    assert.equal(miss.code, 1);
    assert.equal(miss.body.verdict, "http-error");
    assert.equal(miss.body.status, 404);
  });

  it("the controller's address in the URL with -H Host; text output names the rule and the status", () => {
    const r = runPodnet([...ex, "--to", "http://198.51.100.2/", "-H", "Host: shop.example.com"]);
    assert.equal(r.code, 0);
    assert.match(r.out, /matched: Ingress shop\/shop rule 0 match 1 \(host shop\.example\.com, Prefix \/\)/);
    assert.match(
      r.out,
      /delivered: ingress-nginx \(pod ingress-nginx\/ingress-nginx-controller-[^)]+\) routes shop\.example\.com\/ /,
    );
    const miss = runPodnet([...ex, "--to", "http://api.example.com/nothing"]);
    assert.equal(miss.code, 1);
    assert.match(
      miss.out,
      /\nHTTP 404: Envoy Gateway answers 404: no rule of Gateway shop\/eg matches api\.example\.com\/nothing\n$/,
    );
  });

  it("the client connects to the URL's address whatever Host says (as curl): another controller's IP answers with its own rules", () => {
    // 198.51.100.2 is ingress-nginx's address: it has no rule for api.example.com (Envoy's host) → 404.
    const nginx = json(["--to", "http://198.51.100.2/v1", "-H", "Host: api.example.com"]);
    assert.equal(nginx.code, 1);
    assert.equal(nginx.body.address.ip, "198.51.100.2");
    assert.equal(nginx.body.controller!.implementation, "ingress-nginx");
    assert.equal(nginx.body.status, 404);
    // And the other way round: Envoy's address with ingress-nginx's host.
    const envoy = json(["--to", "http://198.51.100.1/cart", "-H", "Host: shop.example.com"]);
    assert.equal(envoy.body.address.ip, "198.51.100.1");
    assert.equal(envoy.body.controller!.implementation, "Envoy Gateway");
    assert.equal(envoy.body.status, 404);
  });

  it("a node's address and the controller Service's nodePort: routed as on the Service port", () => {
    const svc = runPodnet(["get", "services", "-f", "examples/ingress", "-n", "ingress-nginx", "-o", "json"]);
    const items = (
      JSON.parse(svc.out) as { items: { spec: { ports: { port: number; nodePort: number }[] } }[] }
    ).items;
    const nodePort = items[0].spec.ports.find((p) => p.port === 80)!.nodePort;
    const { code, body } = json([
      "--to",
      `http://172.18.0.3:${nodePort}/cart`,
      "-H",
      "Host: shop.example.com",
    ]);
    assert.equal(code, 0, body.reason);
    assert.equal(body.verdict, "delivered");
    assert.equal(body.request.port, 80);
    assert.match(
      body.address.why,
      new RegExp(`^172\\.18\\.0\\.3 is node node-2's address and ${nodePort} the nodePort`),
    );
    // kube-proxy on node-2 (the address's node) sends it to the controller.
    assert.ok(body.toController.hops.some((h) => h.at === "node node-2" && h.step === "dnat"));
    // No controller's address: exit 2, naming the addresses that are.
    const none = runPodnet([...ex, "--to", "http://172.18.0.3:31999/", "-H", "Host: shop.example.com"]);
    assert.equal(none.code, 2);
    assert.match(
      none.err,
      /error: --to: 172\.18\.0\.3:31999 is no address of an Ingress or Gateway controller's Service \(.*198\.51\.100\.2/,
    );
  });

  it("a catch-all Ingress (defaultBackend, no rules) does not take a host another controller's rule names", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-catchall-"));
    cpSync("examples/ingress", dir, { recursive: true });
    writeFileSync(
      join(dir, "50-catch-all.yaml"),
      "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: catch-all, namespace: shop}\nspec:\n  ingressClassName: nginx\n  defaultBackend: {service: {name: web, port: {number: 80}}}\n",
    );
    const at = (url: string) =>
      JSON.parse(
        runPodnet(["trace", "-f", dir, "--from", "203.0.113.7", "--to", url, "-o", "json"]).out,
      ) as HttpTraceResult;
    const body = at("http://api.example.com/v1");
    assert.equal(body.controller!.implementation, "Envoy Gateway");
    assert.equal(body.verdict, "delivered");
    // A host no rule names goes to the catch-all.
    assert.equal(at("http://other.example.com/").controller!.implementation, "ingress-nginx");
  });

  it("--node forces the outside client's entry node, as for a TCP trace", () => {
    const { code, body } = json(["--to", "http://shop.example.com/cart", "--node", "node-3"]);
    assert.equal(code, 1);
    assert.equal(body.verdict, "dropped");
    assert.equal(body.toController.hops[1].at, "node node-3");
  });

  it("URL details: a port out of range, a mistyped scheme, an empty Host, a trailing dot", () => {
    const port = runPodnet([...ex, "--to", "http://shop.example.com:99999/"]);
    assert.equal(port.code, 2);
    assert.match(
      port.err,
      /error: --to: port 99999 in "http:\/\/shop\.example\.com:99999\/" is not a TCP port: write 1-65535/,
    );
    const slash = runPodnet([...ex, "--to", "http:/shop.example.com/"]);
    assert.equal(slash.code, 2);
    assert.match(
      slash.err,
      /error: --to: "http:\/shop\.example\.com\/" is not a URL: write http:\/\/host\/path/,
    );
    const host = runPodnet([...ex, "--to", "http://shop.example.com/", "-H", "Host:"]);
    assert.equal(host.code, 2);
    assert.match(host.err, /error: -H: "Host:" names no host/);
    // nginx strips a fully qualified name's trailing dot before matching server names.
    const dot = json(["--to", "http://shop.example.com./cart"]);
    assert.equal(dot.code, 0);
    assert.equal(dot.body.request.host, "shop.example.com");
    assert.doesNotMatch(dot.body.address.why, /controllers claim this host/);
  });

  it("bad input exits 2 with the option and the fix", () => {
    const m = runPodnet([...ex, "--to", "http://shop.example.com/", "-X", "get"]);
    assert.equal(m.code, 2);
    assert.match(m.err, /error: -X: "get": methods are case-sensitive .* write GET/);
    const h = runPodnet([...ex, "--to", "http://nope.example.com/"]);
    assert.equal(h.code, 2);
    assert.match(
      h.err,
      /error: --to: no Ingress or HTTPRoute serves host nope\.example\.com on port 80, and the cluster has 2 controllers/,
    );
  });
});

describe("connlist with the real controllers of examples/ingress", () => {
  it("--routes: per rule, the controller's workload, host, path and backends; no {ingress-controller} line", () => {
    const r = runPodnet(["connlist", "-f", "examples/ingress", "--routes"]);
    assert.equal(r.code, 0);
    assert.equal(
      r.out,
      "ingress-nginx/ingress-nginx-controller[Deployment] => shop.example.com Prefix /cart : shop/cart:http (Ingress shop/shop rule 0 path 0)\n" +
        "ingress-nginx/ingress-nginx-controller[Deployment] => shop.example.com Prefix / : shop/web:80 (Ingress shop/shop rule 0 path 1)\n" +
        "envoy-gateway-system/envoy-shop-eg[Deployment] => api.example.com Prefix /v1 : shop/api:80 (HTTPRoute shop/api rule 0 match 0)\n",
    );
    const lines = runPodnet(["connlist", "-f", "examples/ingress"]).out;
    assert.doesNotMatch(lines, /\{ingress-controller\}/);
    assert.match(
      lines,
      /^ingress-nginx\/ingress-nginx-controller\[Deployment\] => shop\/cart\[Deployment\] : All Connections$/m,
    );
    // The cart admits only the ingress-nginx namespace: Envoy's proxy has no line to it.
    assert.doesNotMatch(lines, /^envoy-gateway-system\/envoy-shop-eg\[Deployment\] => shop\/cart/m);
  });

  it("--routes -n keeps the lines with an end in the namespace: the controller's, a backend's or the route's", () => {
    const envoy = runPodnet(["connlist", "-f", "examples/ingress", "--routes", "-n", "envoy-gateway-system"]);
    assert.equal(envoy.code, 0);
    assert.equal(
      envoy.out,
      "envoy-gateway-system/envoy-shop-eg[Deployment] => api.example.com Prefix /v1 : shop/api:80 (HTTPRoute shop/api rule 0 match 0)\n",
    );
    const sys = runPodnet(["connlist", "-f", "examples/ingress", "--routes", "-n", "kube-system"]);
    assert.equal(sys.out, "");
    assert.match(
      sys.err,
      /none of the input's 3 route lines has its controller, backend or route object in namespace kube-system/,
    );
  });
});

describe("trace options that do not fit an HTTP request", () => {
  it("--all-endpoints with a URL, -H without one: exit 2 naming the option", () => {
    const all = runPodnet([
      "trace",
      "-f",
      "examples/ingress",
      "--from",
      "203.0.113.7",
      "--to",
      "http://shop.example.com/",
      "--all-endpoints",
    ]);
    assert.equal(all.code, 2);
    assert.match(all.err, /error: --all-endpoints: not for an HTTP request/);
    const h = runPodnet([
      "trace",
      "-f",
      "examples/ingress",
      "--from",
      "203.0.113.7",
      "--to",
      "198.51.100.2:80",
      "-H",
      "X: y",
    ]);
    assert.equal(h.code, 2);
    assert.match(h.err, /error: -H: only for an HTTP request/);
  });
});

describe("explain --from {ingress-controller} with the real controllers of examples/ingress", () => {
  const net = new Network(loadOrExit(["examples/ingress"]));
  const ask = (to: string) => {
    const x = explainQuestion(net, { from: "{ingress-controller}", to });
    assert.ok(x.ok, to);
    return x;
  };

  it("Ingress: from the ingress-nginx pod, egress and ingress, as connlist's own lines for it", () => {
    const x = ask("cart.shop:80");
    assert.match(x.controller!, /^ingress-nginx\/ingress-nginx-controller-/);
    assert.deepEqual(x.routes, ["Ingress shop/shop"]);
    assert.equal(x.allowed, true);
    assert.ok(x.explanations.length > 0 && x.explanations.every((e) => e.egress && e.ingress?.allowed));
    assert.equal(x.answer.controller, x.controller);
  });

  it("Gateway: from the Envoy pod (api-from-envoy admits it; the unknown controller would be denied)", () => {
    const x = ask("api.shop:80");
    assert.match(x.controller!, /^envoy-gateway-system\/envoy-shop-eg-/);
    assert.deepEqual(x.routes, ["HTTPRoute shop/api"]);
    assert.equal(x.allowed, true);
  });

  it("no route sends there: the unknown controller's verdicts, no controller named", () => {
    const x = ask("kube-dns.kube-system:53");
    assert.equal(x.controller, undefined);
  });
});
