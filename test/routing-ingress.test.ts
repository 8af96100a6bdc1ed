/**
 * Ingress routing facts, from the Ingress API documentation (kubernetes/website
 * concepts/services-networking/ingress.md: the path-matching examples table, hostname wildcards,
 * default IngressClass) and ingress-nginx's behaviour (podnet's ImplementationSpecific).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClusterState } from "../src/core/control/state.ts";
import { compileRouter, routerSpecs } from "../src/core/routing/router.ts";
import type { RouteDecision } from "../src/core/routing/types.ts";
import { cluster, deployment } from "./helpers.ts";
import { req } from "./routing-helpers.ts";

/** A Deployment and a Service `name` (port 80 named http → 8080) in `ns`. */
function backend(name: string, ns = "default"): string {
  return `${deployment(name, { ns })}---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec: {selector: {app: ${name}}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
`;
}

const nginxClass = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: k8s.io/ingress-nginx}
---
`;

/** An Ingress `name` with one rule per `[host, [[pathType, path, service]…]]`. */
function ingress(
  name: string,
  rules: [string | undefined, [string, string, string][]][],
  extra = "",
): string {
  const r = rules
    .map(
      ([host, paths]) =>
        `  - ${host ? `host: "${host}"\n    ` : ""}http:
      paths:
${paths.map(([t, p, s]) => `      - {pathType: ${t}, path: "${p}", backend: {service: {name: ${s}, port: {number: 80}}}}`).join("\n")}`,
    )
    .join("\n");
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ${name}, namespace: default}
spec:
${extra}  rules:
${r}
---
`;
}

function routerOf(state: ClusterState) {
  const specs = routerSpecs(state);
  assert.equal(specs.length, 1, "one controller");
  return compileRouter(specs[0]);
}

/** The backend Service a decision routes to, or its outcome and status. */
function where(d: RouteDecision): string {
  return d.outcome === "routed" ? d.chosen.service : `${d.outcome} ${d.status}`;
}

describe("Ingress path matching (the API docs' examples table)", () => {
  const services = ["a", "b", "c"].map((s) => backend(s)).join("");
  const one = (t: string, p: string) =>
    routerOf(cluster(nginxClass + services + ingress("i", [[undefined, [[t, p, "a"]]]])));
  const cases: [string, string, string, boolean][] = [
    ["Prefix", "/", "/anything", true],
    ["Exact", "/foo", "/foo", true],
    ["Exact", "/foo", "/bar", false],
    ["Exact", "/foo", "/foo/", false],
    ["Exact", "/foo/", "/foo", false],
    ["Prefix", "/foo", "/foo", true],
    ["Prefix", "/foo", "/foo/", true],
    ["Prefix", "/foo/", "/foo", true],
    ["Prefix", "/foo/", "/foo/", true],
    ["Prefix", "/aaa/bb", "/aaa/bbb", false],
    ["Prefix", "/aaa/bbb", "/aaa/bbb", true],
    ["Prefix", "/aaa/bbb/", "/aaa/bbb", true],
    ["Prefix", "/aaa/bbb", "/aaa/bbb/", true],
    ["Prefix", "/aaa/bbb", "/aaa/bbb/ccc", true],
    ["Prefix", "/aaa/bbb", "/aaa/bbbxyz", false],
    ["Prefix", "/foo", "/foobar", false],
    // podnet's ImplementationSpecific: a plain string prefix, as ingress-nginx's location /foo.
    ["ImplementationSpecific", "/foo", "/foobar", true],
    ["ImplementationSpecific", "/foo", "/fo", false],
  ];
  for (const [t, p, path, ok] of cases)
    it(`${t} ${p} ${ok ? "matches" : "does not match"} ${path}`, () => {
      assert.equal(where(one(t, p).decide(req(`http://x.example${path}`))), ok ? "a" : "not-found 404");
    });

  it("multiple paths: the longest wins, then Exact over Prefix", () => {
    const r = routerOf(
      cluster(
        nginxClass +
          services +
          ingress("i", [
            [
              undefined,
              [
                ["Prefix", "/", "a"],
                ["Prefix", "/aaa", "b"],
                ["Exact", "/aaa", "c"],
              ],
            ],
          ]),
      ),
    );
    assert.equal(where(r.decide(req("http://x/aaa/ccc"))), "b");
    assert.equal(where(r.decide(req("http://x/aaa"))), "c");
    assert.equal(where(r.decide(req("http://x/ccc"))), "a");
  });

  it("a longer Prefix beats a shorter Exact the request also matches", () => {
    const r = routerOf(
      cluster(
        nginxClass +
          services +
          ingress("i", [
            [
              undefined,
              [
                ["Exact", "/foo", "a"],
                ["Prefix", "/foo/", "b"],
              ],
            ],
          ]),
      ),
    );
    assert.equal(where(r.decide(req("http://x/foo"))), "b");
  });
});

describe("Ingress hosts", () => {
  const services = ["a", "b", "c"].map((s) => backend(s)).join("");
  const r = () =>
    routerOf(
      cluster(
        nginxClass +
          services +
          ingress("i", [
            ["foo.bar.com", [["Prefix", "/", "a"]]],
            ["*.foo.com", [["Prefix", "/", "b"]]],
            [undefined, [["Prefix", "/", "c"]]],
          ]),
      ),
    );
  it("exact host, then a one-label wildcard, then the rule without host", () => {
    const router = r();
    assert.equal(where(router.decide(req("http://foo.bar.com/"))), "a");
    assert.equal(where(router.decide(req("http://bar.foo.com/"))), "b");
    assert.equal(where(router.decide(req("http://baz.bar.foo.com/"))), "c", "the wildcard covers one label");
    assert.equal(
      where(router.decide(req("http://foo.com/"))),
      "c",
      "the wildcard does not cover the bare domain",
    );
  });
  it("no fallback to a less specific host: a host whose paths miss answers 404", () => {
    const router = routerOf(
      cluster(
        nginxClass +
          services +
          ingress("i", [
            ["shop.example.com", [["Prefix", "/cart", "a"]]],
            [undefined, [["Prefix", "/", "c"]]],
          ]),
      ),
    );
    const d = router.decide(req("http://shop.example.com/other"));
    assert.equal(where(d), "not-found 404");
    assert.match(d.considered.map((c) => c.why).join("\n"), /Prefix \/cart: path \/other does not match/);
  });
});

describe("Ingress across objects, classes and backends", () => {
  const services = ["a", "b"].map((s) => backend(s)).join("");
  it("the same host and path in two Ingresses: the oldest wins, then namespace/name", () => {
    const newer = ingress("a-new", [["h.example", [["Prefix", "/", "a"]]]]).replace(
      "namespace: default}",
      "namespace: default, creationTimestamp: '2026-02-01T00:00:00Z'}",
    );
    const older = ingress("z-old", [["h.example", [["Prefix", "/", "b"]]]]).replace(
      "namespace: default}",
      "namespace: default, creationTimestamp: '2026-01-01T00:00:00Z'}",
    );
    assert.equal(
      where(routerOf(cluster(nginxClass + services + newer + older)).decide(req("http://h.example/"))),
      "b",
    );
    const same =
      ingress("a-new", [["h.example", [["Prefix", "/", "a"]]]]) +
      ingress("z-old", [["h.example", [["Prefix", "/", "b"]]]]);
    assert.equal(
      where(routerOf(cluster(nginxClass + services + same)).decide(req("http://h.example/"))),
      "a",
    );
  });

  it("defaultBackend answers what no rule matches", () => {
    const ing = ingress(
      "i",
      [["h.example", [["Exact", "/x", "a"]]]],
      "  defaultBackend: {service: {name: b, port: {name: http}}}\n",
    );
    const r = routerOf(cluster(nginxClass + services + ing));
    assert.equal(where(r.decide(req("http://h.example/x"))), "a");
    assert.equal(where(r.decide(req("http://h.example/y"))), "b");
    const d = r.decide(req("http://h.example/y"));
    assert.equal(d.outcome === "routed" && d.chosen.port, "http", "by port name");
    // An Ingress with rules keeps its defaultBackend to its own hosts: another host is no request of
    // its (ingress-nginx's createServers makes the catch-all only of an Ingress without rules).
    assert.equal(r.decide(req("http://other.example/")).outcome, "not-found");
    const catchAll = ingress("c", [], "  defaultBackend: {service: {name: b, port: {name: http}}}\n");
    const r2 = routerOf(cluster(nginxClass + services + ing + catchAll));
    assert.equal(where(r2.decide(req("http://other.example/"))), "b");
    assert.equal(where(r2.decide(req("http://h.example/x"))), "a");
  });

  it("an Ingress naming a missing Service or port answers 503 and says why", () => {
    const ing = ingress("i", [[undefined, [["Prefix", "/", "nope"]]]]);
    const d = routerOf(cluster(nginxClass + services + ing)).decide(req("http://h/"));
    assert.equal(d.outcome, "backend-error");
    assert.equal(d.outcome === "backend-error" && d.status, 503);
    assert.match(d.outcome === "backend-error" ? d.reason : "", /Service default\/nope does not exist/);
    const bad = ingress("i", [[undefined, [["Prefix", "/", "a"]]]]).replace("number: 80", "number: 81");
    const d2 = routerOf(cluster(nginxClass + services + bad)).decide(req("http://h/"));
    assert.match(d2.outcome === "backend-error" ? d2.reason : "", /has no port 81 \(it has 80 \(http\)\)/);
  });

  it("the owner: ingressClassName, else the default class; none without a default", () => {
    const other = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: other}
spec: {controller: example.com/other}
---
`;
    const named = ingress("by-name", [["n.example", [["Prefix", "/", "a"]]]], "  ingressClassName: other\n");
    const plain = ingress("by-default", [["p.example", [["Prefix", "/", "b"]]]]);
    const specs = routerSpecs(cluster(nginxClass + other + services + named + plain));
    assert.deepEqual(
      specs.map((s) => [
        s.controller.kind === "IngressClass" && s.controller.name,
        s.entries.map((e) => e.rule.name),
      ]),
      [
        ["nginx", ["by-default"]],
        ["other", ["by-name"]],
      ],
    );
    assert.deepEqual(routerSpecs(cluster(other + services + plain)), [], "no default class: nobody owns it");
    const supplied = routerSpecs(cluster(services + plain), {
      suppliedIngressClass: { name: "podnet", controller: "podnet.dev/ingress" },
    });
    assert.equal(supplied[0].controller.kind === "IngressClass" && supplied[0].controller.name, "podnet");
  });

  it("TLS hosts make the https listener's tlsHosts; https requests route the same", () => {
    const ing = ingress(
      "i",
      [["h.example", [["Prefix", "/", "a"]]]],
      "  tls: [{hosts: [h.example], secretName: s}]\n",
    );
    const state = cluster(nginxClass + services + ing);
    const r = routerOf(state);
    assert.deepEqual(r.listeners.find((l) => l.protocol === "HTTPS")?.tlsHosts, ["h.example"]);
    assert.equal(where(r.decide(req("https://h.example/"))), "a");
    assert.equal(where(r.decide(req("http://h.example:8080/"))), "not-found 404", "no listener on 8080");
  });

  it("listing names every host and path with its backends, in precedence order", () => {
    const r = routerOf(
      cluster(
        nginxClass +
          services +
          ingress("i", [
            [
              "h.example",
              [
                ["Prefix", "/", "a"],
                ["Exact", "/x", "b"],
              ],
            ],
          ]),
      ),
    );
    assert.deepEqual(
      r.listing().map((l) => `${l.host} ${l.path} → ${l.backends.map((b) => b.service)}`),
      ["h.example Exact /x → b", "h.example Prefix / → a"],
    );
  });
});

describe("RouterSpec is plain data", () => {
  it("a spec through JSON decides exactly as the original (the data plane's reverse proxy gets it so)", () => {
    const services = ["a", "b"].map((s) => backend(s)).join("");
    const state = cluster(
      nginxClass +
        services +
        ingress(
          "i",
          [
            [
              "*.example.com",
              [
                ["Prefix", "/x", "a"],
                ["ImplementationSpecific", "/im", "b"],
              ],
            ],
            [undefined, [["Exact", "/", "b"]]],
          ],
          "  defaultBackend: {service: {name: a, port: {number: 80}}}\n",
        ),
    );
    const spec = routerSpecs(state)[0];
    const copy = JSON.parse(JSON.stringify(spec));
    assert.deepEqual(copy, spec);
    const a = compileRouter(spec);
    const b = compileRouter(copy);
    for (const url of [
      "http://s.example.com/x/y",
      "http://s.example.com/imx",
      "http://other/",
      "http://other/z",
      "http://a.b.example.com/x",
    ])
      assert.deepEqual(b.decide(req(url)), a.decide(req(url)), url);
    assert.deepEqual(b.listing(), a.listing());
  });
});

describe("the routing API is exported from the package (README 'HTTP routing', F21)", () => {
  it("the README's example runs through src/index.ts and routes shop.example.com", async () => {
    const lib = await import("../src/index.ts");
    const r = lib.loadCluster({ files: ["examples/ingress"] });
    assert.ok(r.ok, "examples/ingress loads");
    const specs = lib.routerSpecs(r.cluster);
    assert.ok(specs.length >= 2, "one spec per IngressClass and per Gateway");
    const request: import("../src/index.ts").HttpRequest = {
      scheme: "http",
      host: "shop.example.com",
      port: 80,
      path: "/",
      query: [],
      method: "GET",
      headers: [],
    };
    const kinds = specs
      .map((s) => [s.controller.kind, lib.compileRouter(s).decide(request).outcome])
      .filter(([, d]) => d === "routed");
    assert.ok(kinds.length > 0, `some controller routes shop.example.com/: ${JSON.stringify(kinds)}`);
    assert.equal(typeof lib.analyzeGateways, "function");
    assert.ok(lib.lintRouting(r.cluster).findings !== undefined);
  });
});
