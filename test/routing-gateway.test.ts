/**
 * Gateway API routing facts, from kubernetes-sigs/gateway-api: the conformance tests
 * (conformance/tests/httproute-path-match-order, -matching-across-routes, -listener-hostname-matching,
 * -hostname-intersection, -reference-grant, -invalid-*, -weight) and the precedence text of
 * apis/v1/httproute_types.go (HTTPRouteRule.Matches), run against podnet's router and statuses.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClusterState } from "../src/core/control/state.ts";
import { analyzeGateways, intersectHostnames } from "../src/core/routing/gateway.ts";
import { lintRouting } from "../src/core/routing/lint.ts";
import { compileRouter, routerSpecs } from "../src/core/routing/router.ts";
import type { RouteDecision } from "../src/core/routing/types.ts";
import { cluster, deployment, runPodnet } from "./helpers.ts";
import { req } from "./routing-helpers.ts";

const NS = "gateway-conformance-infra";

/** Deployment + Service `name` on port 8080 in `ns`. */
function svc(name: string, ns = NS): string {
  return `${deployment(name, { ns })}---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec: {selector: {app: ${name}}, ports: [{port: 8080, targetPort: 8080}]}
---
`;
}

const BASE = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: conformance}
spec: {controllerName: example.net/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: same-namespace, namespace: ${NS}}
spec:
  gatewayClassName: conformance
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}
---
${svc("infra-backend-v1")}${svc("infra-backend-v2")}${svc("infra-backend-v3")}`;

function router(state: ClusterState, gw = "same-namespace") {
  const spec = routerSpecs(state).find((s) => s.controller.kind === "Gateway" && s.controller.name === gw);
  assert.ok(spec, `a router for Gateway ${gw}`);
  return compileRouter(spec);
}

function where(d: RouteDecision): string {
  return d.outcome === "routed" ? d.chosen.service.replace("infra-backend-", "") : `${d.outcome} ${d.status}`;
}

/** An HTTPRoute `name` in NS with the given spec body (YAML, indented two spaces). */
function route(name: string, body: string, meta = ""): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: ${NS}${meta}}
spec:
${body}
---
`;
}

const rule = (match: string, backend: string) =>
  `  - matches: [${match}]\n    backendRefs: [{name: infra-backend-${backend}, port: 8080}]`;

describe("HTTPRoute match precedence", () => {
  it("path match order (conformance httproute-path-match-order)", () => {
    const r = router(
      cluster(
        BASE +
          route(
            "path-matching-order",
            `  parentRefs: [{name: same-namespace}]
  rules:
${[
  rule("{path: {type: Exact, value: /match}}", "v1"),
  rule("{path: {type: Exact, value: /match/exact}}", "v2"),
  rule("{path: {type: Exact, value: /match/exact/one}}", "v3"),
  rule("{path: {type: PathPrefix, value: /match/}}", "v3"),
  rule("{path: {type: PathPrefix, value: /match/prefix/}}", "v1"),
  rule("{path: {type: PathPrefix, value: /match/prefix/one}}", "v2"),
].join("\n")}`,
          ),
      ),
    );
    const cases: [string, string][] = [
      ["/match/exact/one", "v3"],
      ["/match/exact", "v2"],
      ["/match", "v1"],
      ["/match/prefix/one/any", "v2"],
      ["/match/prefix/any", "v1"],
      ["/match/any", "v3"],
    ];
    for (const [path, want] of cases)
      assert.equal(where(r.decide(req(`http://example.com${path}`))), want, path);
  });

  it("matching across routes (conformance httproute-matching-across-routes)", () => {
    const r = router(
      cluster(
        BASE +
          route(
            "matching-part1",
            `  parentRefs: [{name: same-namespace}]
  hostnames: [example.com, example.net]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}, {headers: [{name: version, value: one}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]`,
          ) +
          route(
            "matching-part2",
            `  parentRefs: [{name: same-namespace}]
  hostnames: [example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}, {headers: [{name: version, value: two}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]`,
          ),
      ),
    );
    const cases: [string, [string, string][], string][] = [
      ["http://example.com/", [], "v1"],
      ["http://example.com/example", [], "v1"],
      ["http://example.net/example", [], "v1"],
      ["http://example.com/example", [["Version", "one"]], "v1"],
      ["http://example.com/v2", [], "v2"],
      ["http://example.net/v2", [], "v1"],
      ["http://example.com/v2/example", [], "v2"],
      ["http://example.com/", [["Version", "two"]], "v2"],
    ];
    for (const [url, headers, want] of cases)
      assert.equal(where(r.decide(req(url, { headers }))), want, `${url} ${JSON.stringify(headers)}`);
  });

  it("method, then most headers, then most query parameters; then the oldest route; then namespace/name", () => {
    const r = router(
      cluster(
        BASE +
          route(
            "b-route",
            `  parentRefs: [{name: same-namespace}]
  rules:
${[
  rule("{path: {value: /p}, queryParams: [{name: a, value: '1'}, {name: b, value: '2'}]}", "v1"),
  rule("{path: {value: /p}, headers: [{name: x, value: '1'}]}", "v2"),
  rule("{path: {value: /p}, method: POST}", "v3"),
].join("\n")}`,
          ) +
          route(
            "a-route",
            `  parentRefs: [{name: same-namespace}]\n  rules:\n${rule("{path: {value: /same}}", "v1")}`,
          ) +
          route(
            "c-route",
            `  parentRefs: [{name: same-namespace}]\n  rules:\n${rule("{path: {value: /same}}", "v2")}`,
          ) +
          route(
            "d-route",
            `  parentRefs: [{name: same-namespace}]\n  rules:\n${rule("{path: {value: /old}}", "v1")}`,
            ", creationTimestamp: '2026-03-01T00:00:00Z'",
          ) +
          route(
            "e-route",
            `  parentRefs: [{name: same-namespace}]\n  rules:\n${rule("{path: {value: /old}}", "v2")}`,
            ", creationTimestamp: '2026-01-01T00:00:00Z'",
          ),
      ),
    );
    const q = (s: string) => [...new URLSearchParams(s)] as [string, string][];
    assert.equal(
      where(r.decide(req("http://h/p", { method: "POST", headers: [["x", "1"]], query: q("a=1&b=2") }))),
      "v3",
    );
    assert.equal(where(r.decide(req("http://h/p", { headers: [["X", "1"]], query: q("a=1&b=2") }))), "v2");
    assert.equal(where(r.decide(req("http://h/p", { query: q("a=1&b=2") }))), "v1");
    assert.equal(where(r.decide(req("http://h/p", { query: q("a=1&b=3") }))), "not-found 404");
    assert.equal(where(r.decide(req("http://h/same"))), "v1", "a-route before c-route");
    assert.equal(where(r.decide(req("http://h/old"))), "v2", "the older e-route");
  });

  it("RegularExpression paths (podnet: after Exact, before PathPrefix, whole-path match)", () => {
    const r = router(
      cluster(
        BASE +
          route(
            "re",
            `  parentRefs: [{name: same-namespace}]
  rules:
${[rule("{path: {type: PathPrefix, value: /api}}", "v1"), rule("{path: {type: RegularExpression, value: '/api/v[0-9]+'}}", "v2")].join("\n")}`,
          ),
      ),
    );
    assert.equal(where(r.decide(req("http://h/api/v2"))), "v2");
    assert.equal(where(r.decide(req("http://h/api/v2/x"))), "v1", "the regex must match the whole path");
  });
});

describe("Gateway listeners and hostnames", () => {
  it("listener hostname matching (conformance httproute-listener-hostname-matching)", () => {
    const gw = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: httproute-listener-hostname-matching, namespace: ${NS}}
spec:
  gatewayClassName: conformance
  listeners:
  - {name: listener-1, port: 80, protocol: HTTP, hostname: bar.com}
  - {name: listener-2, port: 80, protocol: HTTP, hostname: foo.bar.com}
  - {name: listener-3, port: 80, protocol: HTTP, hostname: "*.bar.com"}
  - {name: listener-4, port: 80, protocol: HTTP, hostname: "*.foo.com"}
---
`;
    const attach = (name: string, section: string, backend: string) =>
      route(
        name,
        `  parentRefs: [{name: httproute-listener-hostname-matching, sectionName: ${section}}]\n  rules:\n  - backendRefs: [{name: infra-backend-${backend}, port: 8080}]`,
      );
    const r = router(
      cluster(
        BASE +
          gw +
          attach("backend-v1", "listener-1", "v1") +
          attach("backend-v2", "listener-2", "v2") +
          route(
            "backend-v3",
            `  parentRefs: [{name: httproute-listener-hostname-matching, sectionName: listener-3}, {name: httproute-listener-hostname-matching, sectionName: listener-4}]\n  rules:\n  - backendRefs: [{name: infra-backend-v3, port: 8080}]`,
          ),
      ),
      "httproute-listener-hostname-matching",
    );
    const cases: [string, string][] = [
      ["bar.com", "v1"],
      ["foo.bar.com", "v2"],
      ["baz.bar.com", "v3"],
      ["boo.bar.com", "v3"],
      ["multiple.prefixes.bar.com", "v3"],
      ["multiple.prefixes.foo.com", "v3"],
      ["foo.com", "not-found 404"],
      ["no.matching.host", "not-found 404"],
    ];
    for (const [host, want] of cases) assert.equal(where(r.decide(req(`http://${host}/`))), want, host);
  });

  it("hostname intersection between listener and route (HTTPRouteSpec.Hostnames)", () => {
    assert.deepEqual(intersectHostnames("test.example.com", ["*.example.com"]).hostnames, [
      "test.example.com",
    ]);
    assert.deepEqual(
      intersectHostnames("*.example.com", ["test.example.com", "test.example.net"]).hostnames,
      ["test.example.com"],
    );
    assert.deepEqual(intersectHostnames("*.example.com", ["foo.test.example.com"]).hostnames, [
      "foo.test.example.com",
    ]);
    assert.equal(intersectHostnames("*.example.com", ["example.com"]).ok, false);
    assert.deepEqual(intersectHostnames("*.example.com", []).hostnames, ["*.example.com"]);
    assert.deepEqual(intersectHostnames(undefined, ["a.b"]).hostnames, ["a.b"]);
    assert.deepEqual(intersectHostnames("*.foo.example.com", ["*.example.com"]).hostnames, [
      "*.foo.example.com",
    ]);
  });
});

describe("HTTPRoute status and backends", () => {
  const other = "gateway-conformance-web-backend";
  const parents = (state: ClusterState, name: string) => {
    const r = state.httpRoutes.find((o) => o.metadata.name === name)!;
    return analyzeGateways(state)
      .routes.get(r)!
      .map((p) => p.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`).join(" "));
  };

  it("a cross-namespace backendRef needs a ReferenceGrant (conformance httproute-reference-grant, -invalid-cross-namespace-backend-ref)", () => {
    const rt = route(
      "reference-grant",
      `  parentRefs: [{name: same-namespace}]\n  rules:\n  - backendRefs: [{name: web-backend, namespace: ${other}, port: 8080}]`,
    );
    const grant = `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: reference-grant, namespace: ${other}}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ${NS}}]
  to: [{group: "", kind: Service, name: web-backend}]
---
`;
    const without = cluster(BASE + svc("web-backend", other) + rt);
    assert.deepEqual(parents(without, "reference-grant"), [
      "Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted",
    ]);
    const d = router(without).decide(req("http://h/"));
    assert.equal(where(d), "backend-error 500");
    const withGrant = cluster(BASE + svc("web-backend", other) + rt + grant);
    assert.deepEqual(parents(withGrant, "reference-grant"), [
      "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs",
    ]);
    assert.equal(router(withGrant).decide(req("http://h/")).outcome, "routed");
    const wrongName = cluster(
      BASE + svc("web-backend", other) + rt + grant.replace("name: web-backend}", "name: other}"),
    );
    assert.deepEqual(parents(wrongName, "reference-grant"), [
      "Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted",
    ]);
  });

  it("a missing Service is BackendNotFound and answers 500; a non-Service kind is InvalidKind", () => {
    const state = cluster(
      BASE +
        route(
          "nonexistent",
          `  parentRefs: [{name: same-namespace}]\n  rules:\n  - backendRefs: [{name: nonexistent, port: 8080}]`,
        ) +
        route(
          "kind",
          `  parentRefs: [{name: same-namespace}]\n  hostnames: [k.example]\n  rules:\n  - backendRefs: [{group: example.com, kind: Thing, name: t, port: 8080}]`,
        ),
    );
    assert.deepEqual(parents(state, "nonexistent"), [
      "Accepted=True/Accepted ResolvedRefs=False/BackendNotFound",
    ]);
    assert.deepEqual(parents(state, "kind"), ["Accepted=True/Accepted ResolvedRefs=False/InvalidKind"]);
    const d = router(state).decide(req("http://h/"));
    assert.equal(where(d), "backend-error 500");
    assert.match(
      d.outcome === "backend-error" ? d.reason : "",
      /BackendNotFound: Service gateway-conformance-infra\/nonexistent does not exist/,
    );
  });

  it("parentRef reasons: NoMatchingParent, NotAllowedByListeners, NoMatchingListenerHostname", () => {
    const gw = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: hosts, namespace: ${NS}}
spec:
  gatewayClassName: conformance
  listeners:
  - {name: only-foo, port: 8080, protocol: HTTP, hostname: foo.example.com}
---
`;
    const state = cluster(
      BASE +
        gw +
        route(
          "missing",
          `  parentRefs: [{name: nope}]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]`,
        ) +
        route(
          "section",
          `  parentRefs: [{name: same-namespace, sectionName: nope}]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]`,
        ) +
        route(
          "host",
          `  parentRefs: [{name: hosts}]\n  hostnames: [bar.example.com]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]`,
        ) +
        `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: elsewhere, namespace: default}
spec:
  parentRefs: [{name: same-namespace, namespace: ${NS}}]
  rules: [{backendRefs: [{name: x, port: 80}]}]
---
`,
    );
    assert.match(parents(state, "missing")[0], /^Accepted=False\/NoMatchingParent/);
    assert.match(parents(state, "section")[0], /^Accepted=False\/NoMatchingParent/);
    assert.match(parents(state, "host")[0], /^Accepted=False\/NoMatchingListenerHostname/);
    assert.match(parents(state, "elsewhere")[0], /^Accepted=False\/NotAllowedByListeners/);
    // A route not accepted routes nothing.
    assert.equal(where(router(state, "hosts").decide(req("http://bar.example.com:8080/"))), "not-found 404");
  });

  it("listener conflicts and unsupported protocols, attachedRoutes, Gateway conditions", () => {
    const gw = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: mixed, namespace: ${NS}}
spec:
  gatewayClassName: conformance
  listeners:
  - {name: web, port: 80, protocol: HTTP}
  - {name: secure, port: 80, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}
  - {name: tcp, port: 9000, protocol: TCP}
  - {name: ok, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
---
`;
    const state = cluster(
      BASE +
        gw +
        route(
          "r",
          `  parentRefs: [{name: mixed}]\n  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]`,
        ),
    );
    const a = analyzeGateways(state);
    const st = a.gateways.get(state.gateways.find((g) => g.metadata.name === "mixed")!)!;
    const show = (n: string) => {
      const l = st.listeners.find((x) => x.name === n)!;
      return `${l.attachedRoutes} ${l.conditions.filter((c) => c.status !== (c.type === "Conflicted" ? "False" : "True")).map((c) => `${c.type}=${c.reason}`)}`;
    };
    // attachedRoutes counts the route on the conflicted listener too: attachment depends on
    // allowedRoutes and parentRefs alone (apis/v1/gateway_types.go ListenerStatus.AttachedRoutes).
    assert.equal(show("web"), "1 Accepted=Invalid,Conflicted=ProtocolConflict,Programmed=Invalid");
    assert.equal(show("tcp"), "0 Accepted=UnsupportedProtocol,Programmed=Invalid");
    assert.equal(show("ok"), "1 ");
    assert.deepEqual(
      st.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`),
      ["Accepted=True/ListenersNotValid", "Programmed=True/Programmed"],
    );
  });

  it("weights: weight 0 never chosen; all 0 answers 500; the chosen one is the heaviest", () => {
    const state = cluster(
      BASE +
        route(
          "weighted",
          `  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {value: /w}}]
    backendRefs: [{name: infra-backend-v1, port: 8080, weight: 1}, {name: infra-backend-v2, port: 8080, weight: 3}, {name: infra-backend-v3, port: 8080, weight: 0}]
  - matches: [{path: {value: /zero}}]
    backendRefs: [{name: infra-backend-v1, port: 8080, weight: 0}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: x, value: y}]}}]`,
        ),
    );
    const d = router(state).decide(req("http://h/w"));
    assert.equal(where(d), "v2");
    assert.deepEqual(d.outcome === "routed" && d.backends.map((b) => b.weight), [1, 3, 0]);
    assert.equal(where(router(state).decide(req("http://h/zero"))), "backend-error 500");
    const f = router(state).decide(req("http://h/zero"));
    assert.match(f.outcome === "backend-error" ? f.reason : "", /weight 0/);
  });
});

describe("routing lint", () => {
  const codes = (state: ClusterState) =>
    lintRouting(state).findings.map((f) => `${f.code} ${f.object} ${f.path?.join(".")}`);

  it("shadowed matches, missing backends, routes not accepted", () => {
    const state = cluster(
      BASE +
        route(
          "shadow",
          `  parentRefs: [{name: same-namespace}]
  rules:
${[
  rule("{path: {type: PathPrefix, value: /a}}", "v1"),
  rule("{path: {type: PathPrefix, value: /a/}, headers: [{name: x, value: '1'}]}", "v2"),
  rule("{path: {type: PathPrefix, value: /a}}", "v3"),
  rule("{path: {type: Exact, value: /a/b}}", "v3"),
].join("\n")}
  - matches: [{path: {value: /missing}}]
    backendRefs: [{name: nope, port: 80}]`,
        ) +
        route(
          "orphan",
          `  parentRefs: [{name: same-namespace, sectionName: nope}]\n  rules:\n${rule("{}", "v1")}`,
        ),
    );
    assert.deepEqual(codes(state), [
      `route-not-accepted HTTPRoute ${NS}/orphan spec.parentRefs.0`,
      `backend-not-found HTTPRoute ${NS}/shadow spec.rules.4.backendRefs.0`,
      `route-shadowed HTTPRoute ${NS}/shadow spec.rules.2.matches.0`,
    ]);
  });

  it("hosts two controllers claim; Ingresses no class owns", () => {
    const ing = (name: string, cls: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ${name}, namespace: ${NS}}
spec:
  ingressClassName: ${cls}
  rules: [{host: shop.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: infra-backend-v1, port: {number: 8080}}}}]}}]
---
`;
    const state = cluster(
      `${BASE}apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
${ing("one", "nginx")}${ing("two", "missing")}${route("r", `  parentRefs: [{name: same-namespace}]\n  hostnames: [shop.example.com]\n  rules:\n${rule("{}", "v1")}`)}`,
    );
    const f = lintRouting(state).findings;
    assert.deepEqual(codes(state), [
      `ingress-no-controller Ingress ${NS}/two spec.ingressClassName`,
      `host-claimed-twice HTTPRoute ${NS}/r spec.hostnames`,
    ]);
    assert.match(f[0].message, /no IngressClass named missing/);
    assert.match(
      f[1].message,
      /served by Gateway gateway-conformance-infra\/same-namespace and by IngressClass nginx/,
    );
  });
});

describe("listener and Gateway problems (issue 15: F19, F20, F1)", () => {
  const codes = (state: ClusterState) =>
    lintRouting(state).findings.map((f) => `${f.code} ${f.object} ${f.path?.join(".")}`);
  const conds = (cs: { type: string; status: string; reason: string }[]) =>
    cs.map((c) => `${c.type}=${c.status}/${c.reason}`).join(",");

  it("a route on a conflicted listener is Accepted (attachment ignores listener status) and names the conflict; lint blames the listener", () => {
    const state = cluster(
      `${BASE}apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: clash, namespace: ${NS}}
spec:
  gatewayClassName: conformance
  listeners:
  - {name: h1, port: 80, protocol: HTTP}
  - {name: h2, port: 80, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}
---
${route(
  "r2",
  `  parentRefs: [{name: clash, sectionName: h1}]
  rules:
${rule("{}", "v1")}`,
)}`,
    );
    const a = analyzeGateways(state);
    const parent = a.routes.get(state.httpRoutes.find((r) => r.metadata.name === "r2")!)![0];
    const accepted = parent.conditions.find((c) => c.type === "Accepted")!;
    assert.equal(`${accepted.status}/${accepted.reason}`, "True/Accepted");
    assert.match(
      accepted.message,
      /h1 \(Accepted: Invalid, Conflicted: ProtocolConflict\) is not programmed and no request reaches this route/,
    );
    assert.doesNotMatch(JSON.stringify(lintRouting(state).findings), /NotAllowedByListeners|allowedRoutes/);
    const f = lintRouting(state).findings.filter((x) => x.object === `Gateway ${NS}/clash`);
    assert.deepEqual(
      f.map((x) => `${x.code} ${x.path?.join(".")}`),
      ["listener-not-accepted spec.listeners.0", "listener-not-accepted spec.listeners.1"],
    );
    assert.match(f[0].message, /ProtocolConflict.*1 attached route gets no requests through it/);
    assert.match(f[0].hint!, /same protocol/);
    // No request goes through the conflicted listener.
    assert.equal(router(state, "clash").decide(req("http://h/")).outcome, "not-found");
  });

  it("certificateRefs RefNotPermitted and InvalidRouteKinds: ResolvedRefs False, Programmed False, lint at the field", () => {
    const state = cluster(
      `${BASE}apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: refs, namespace: ${NS}}
spec:
  gatewayClassName: conformance
  listeners:
  - {name: h3, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: c, namespace: other}]}}
  - {name: k, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: FooRoute}]}}
  - {name: ok, port: 8080, protocol: HTTP}
---
`,
    );
    const st = analyzeGateways(state).gateways.get(state.gateways.find((g) => g.metadata.name === "refs")!)!;
    assert.equal(
      conds(st.listeners[0].conditions),
      "Accepted=True/Accepted,Conflicted=False/NoConflicts,ResolvedRefs=False/RefNotPermitted,Programmed=False/Invalid",
    );
    assert.equal(
      conds(st.listeners[1].conditions),
      "Accepted=True/Accepted,Conflicted=False/NoConflicts,ResolvedRefs=False/InvalidRouteKinds,Programmed=False/Invalid",
    );
    assert.equal(conds(st.conditions), "Accepted=True/ListenersNotValid,Programmed=True/Programmed");
    assert.deepEqual(codes(state), [
      `listener-not-accepted Gateway ${NS}/refs spec.listeners.0.tls.certificateRefs`,
      `listener-not-accepted Gateway ${NS}/refs spec.listeners.1.allowedRoutes.kinds`,
    ]);
    assert.match(lintRouting(state).findings[0].hint!, /ReferenceGrant in the Secret's namespace/);
  });

  it("a Gateway whose GatewayClass is missing, and routes to it, get findings", () => {
    const state = cluster(
      `${BASE}apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw-noclass, namespace: ${NS}}
spec:
  gatewayClassName: nope
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
${route(
  "r",
  `  parentRefs: [{name: gw-noclass}]
  rules:
${rule("{}", "v1")}`,
)}`,
    );
    assert.deepEqual(codes(state), [
      `gateway-not-accepted Gateway ${NS}/gw-noclass spec.gatewayClassName`,
      `route-not-accepted HTTPRoute ${NS}/r spec.parentRefs.0`,
    ]);
    assert.match(lintRouting(state).findings[0].hint!, /one of conformance/);
  });

  it("a backendRef without a ReferenceGrant: one finding, at the backendRef (F1)", () => {
    const state = cluster(
      `${BASE}${svc("other", "infra")}${route(
        "x",
        `  parentRefs: [{name: same-namespace}]
  rules:
  - backendRefs: [{name: other, namespace: infra, port: 8080}]
  - matches: [{path: {value: /b}}]\n    backendRefs: [{name: absent, namespace: infra, port: 8080}]`,
      )}`,
    );
    assert.deepEqual(codes(state), [
      `backend-not-found HTTPRoute ${NS}/x spec.rules.0.backendRefs.0`,
      `backend-not-found HTTPRoute ${NS}/x spec.rules.1.backendRefs.0`,
    ]);
    const f = lintRouting(state).findings;
    assert.match(f[0].message, /RefNotPermitted: Service infra\/other/);
    assert.match(f[1].message, /RefNotPermitted: Service infra\/absent/);
  });
});

describe("via the CLI", () => {
  it("get gatewayclasses,gateways,httproutes shows the computed conditions; lint lists routing findings", () => {
    const input = `${BASE}${route("orphan", `  parentRefs: [{name: same-namespace, sectionName: nope}]\n  rules:\n${rule("{}", "v1")}`)}`;
    const r = runPodnet(
      ["get", "gatewayclasses,gateways.gateway.networking.k8s.io,httproutes", "-A", "-f", "-"],
      input,
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /gatewayclass\/conformance\s+example\.net\/gateway-controller\s+True/);
    // No pod of the input serves the class: podnet's supplied controller stands in (as traces use
    // it), and its Service's address is the one published.
    assert.match(r.out, /gateway\/same-namespace\s+conformance\s+\d+\.\d+\.\d+\.\d+\s+True\s+http: 0 routes/);
    assert.match(
      r.out,
      /httproute\/orphan\s+<none>\s+same-namespace\/nope: Accepted=False \(NoMatchingParent\)/,
    );
    const y = runPodnet(["get", "httproute/orphan", "-n", NS, "-o", "yaml", "-f", "-"], input);
    assert.match(
      y.out,
      /reason: NoMatchingParent\n\s+message: Gateway gateway-conformance-infra\/same-namespace has no listener named nope/,
    );
    const l = runPodnet(["lint", "-f", "-"], input);
    assert.equal(l.code, 1);
    assert.match(
      l.out,
      /^<stdin>:\d+:\d+: warning: HTTPRoute gateway-conformance-infra\/orphan: spec\.parentRefs\[0\]: not accepted by Gateway/m,
    );
  });
});

describe("hostname intersection (conformance httproute-hostname-intersection)", () => {
  const gw = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: httproute-hostname-intersection, namespace: ${NS}}
spec:
  gatewayClassName: conformance
  listeners:
  - {name: listener-1, port: 80, protocol: HTTP, hostname: very.specific.com}
  - {name: listener-2, port: 80, protocol: HTTP, hostname: "*.wildcard.io"}
  - {name: listener-3, port: 80, protocol: HTTP, hostname: "*.anotherwildcard.io"}
---
`;
  const r = (name: string, hosts: string[], path: string, backend: string) =>
    route(
      name,
      `  parentRefs: [{name: httproute-hostname-intersection}]
  hostnames: [${hosts.map((h) => `"${h}"`).join(", ")}]
  rules:
${rule(`{path: {type: PathPrefix, value: ${path}}}`, backend)}`,
    );
  const state = cluster(
    BASE +
      gw +
      r(
        "specific-host-matches-listener-specific-host",
        ["non.matching.com", "*.nonmatchingwildcard.io", "very.specific.com"],
        "/s1",
        "v1",
      ) +
      r(
        "specific-host-matches-listener-wildcard-host",
        ["non.matching.com", "wildcard.io", "foo.wildcard.io", "bar.wildcard.io", "foo.bar.wildcard.io"],
        "/s2",
        "v2",
      ) +
      r("wildcard-host-matches-listener-specific-host", ["non.matching.com", "*.specific.com"], "/s3", "v3") +
      r("wildcard-host-matches-listener-wildcard-host", ["*.anotherwildcard.io"], "/s4", "v1") +
      r("no-intersecting-hosts", ["specific.but.wrong.com", "wildcard.io"], "/s5", "v2"),
  );
  it("routes each host and path as the conformance test expects", () => {
    const router_ = router(state, "httproute-hostname-intersection");
    const cases: [string, string, string][] = [
      ["very.specific.com", "/s1", "v1"],
      ["non.matching.com", "/s1", "not-found 404"],
      ["foo.nonmatchingwildcard.io", "/s1", "not-found 404"],
      ["foo.wildcard.io", "/s1", "not-found 404"],
      ["very.specific.com", "/non-matching-prefix", "not-found 404"],
      ["foo.wildcard.io", "/s2", "v2"],
      ["bar.wildcard.io", "/s2", "v2"],
      ["foo.bar.wildcard.io", "/s2", "v2"],
      ["non.matching.com", "/s2", "not-found 404"],
      ["wildcard.io", "/s2", "not-found 404"],
      ["very.specific.com", "/s2", "not-found 404"],
      ["very.specific.com", "/s3", "v3"],
      ["foo.specific.com", "/s3", "not-found 404"],
      ["foo.wildcard.io", "/s3", "not-found 404"],
      ["foo.anotherwildcard.io", "/s4", "v1"],
      ["foo.bar.anotherwildcard.io", "/s4", "v1"],
      ["anotherwildcard.io", "/s4", "not-found 404"],
      ["very.specific.com", "/s4", "not-found 404"],
      ["specific.but.wrong.com", "/s5", "not-found 404"],
      ["wildcard.io", "/s5", "not-found 404"],
    ];
    for (const [host, path, want] of cases)
      assert.equal(where(router_.decide(req(`http://${host}${path}`))), want, `${host}${path}`);
  });
  it("the route with no intersecting hostname is not accepted", () => {
    const route_ = state.httpRoutes.find((o) => o.metadata.name === "no-intersecting-hosts")!;
    const parents = analyzeGateways(state).routes.get(route_)!;
    assert.deepEqual(
      parents.map((p) => `${p.conditions[0].status}/${p.conditions[0].reason}`),
      ["False/NoMatchingListenerHostname"],
    );
  });
});

describe("published addresses (get ingresses, gateways)", () => {
  it("an Ingress and a Gateway show their controller Service's load-balancer address, as the controllers publish it", () => {
    const svc = runPodnet(["get", "svc", "-A", "-f", "examples/ingress"]);
    assert.equal(svc.code, 0, svc.err);
    const lbOf = (name: string) => {
      const line = svc.out.split("\n").find((l) => l.split(/\s+/)[1] === name);
      assert.ok(line, `Service ${name} in:\n${svc.out}`);
      return line.split(/\s+/)[4];
    };
    const nginx = lbOf("ingress-nginx-controller");
    const envoy = lbOf("envoy-shop-eg");
    assert.match(nginx, /^\d+\.\d+\.\d+\.\d+$/);
    const r = runPodnet(["get", "ingresses,gateways", "-A", "-f", "examples/ingress"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\n/);
    assert.match(
      r.out,
      new RegExp(`ingress/shop\\s+nginx\\s+shop\\.example\\.com\\s+${nginx.replaceAll(".", "\\.")}\\s+80\\n`),
    );
    assert.match(r.out, new RegExp(`gateway/eg\\s+eg\\s+${envoy.replaceAll(".", "\\.")}\\s+True`));
    const y = runPodnet(["get", "ingress/shop", "-n", "shop", "-o", "yaml", "-f", "examples/ingress"]);
    assert.match(
      y.out,
      new RegExp(`status:\\n\\s+loadBalancer:\\n\\s+ingress:\\n\\s+- ip: ${nginx.replaceAll(".", "\\.")}\\n`),
    );
    const g = runPodnet(["get", "gateway/eg", "-n", "shop", "-o", "yaml", "-f", "examples/ingress"]);
    assert.match(
      g.out,
      new RegExp(`addresses:\\n\\s+- type: IPAddress\\n\\s+value: ${envoy.replaceAll(".", "\\.")}\\n`),
    );
  });

  it("TLS adds port 443; no controller pod (none supplied either), no address", () => {
    const input = `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: c}
spec: {supply: {ingressController: false}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: secure, namespace: default}
spec:
  ingressClassName: other
  tls: [{hosts: [a.example.com], secretName: a-tls}]
  rules: [{host: a.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: other}
spec: {controller: example.com/unknown}
`;
    const r = runPodnet(["get", "ingresses", "-f", "-"], input);
    assert.equal(r.code, 0, r.err);
    // kubectl leaves ADDRESS empty until the controller publishes one.
    assert.match(r.out, /^default\s+secure\s+other\s+a\.example\.com\s+80, 443\n/m);
  });
});
