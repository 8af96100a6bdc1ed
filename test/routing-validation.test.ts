/**
 * Gateway API and Ingress input the API server refuses (the Gateway API CRDs' schema and CEL rules,
 * config/crd/standard/*.yaml; Ingress `ValidateIngressSpec`): each an error at file:line:col with a fix.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { errors as allErrors, cluster, warnings } from "./helpers.ts";

/** The error lines without their fix (checked where it matters). */
const errors = (text: string) => allErrors(text).map((e) => e.split("\n")[0]);

const route = (spec: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
${spec}
`;

describe("HTTPRoute validation", () => {
  it("path values: absolute, no '//', no '#', valid characters; every failing CEL rule reported", () => {
    const errs = errors(route("  rules:\n  - matches:\n    - path: {type: PathPrefix, value: 'foo//bar#x'}"));
    assert.deepEqual(errs, [
      `test.yaml:7:39: error: HTTPRoute default/r: spec.rules[0].matches[0].path.value: path "foo//bar#x" must be an absolute path and start with '/' (type PathPrefix)`,
      `test.yaml:7:39: error: HTTPRoute default/r: spec.rules[0].matches[0].path.value: path "foo//bar#x" must not contain '//' (type PathPrefix)`,
      `test.yaml:7:39: error: HTTPRoute default/r: spec.rules[0].matches[0].path.value: path "foo//bar#x" must not contain '#' (type PathPrefix)`,
      `test.yaml:7:39: error: HTTPRoute default/r: spec.rules[0].matches[0].path.value: path "foo//bar#x" must only contain valid characters (RFC 3986 pchar, '/' and %-escapes) (type PathPrefix)`,
    ]);
    assert.match(
      allErrors(route("  rules:\n  - matches: [{path: {value: 'foo'}}]"))[0],
      /fix: write an absolute, normalised path such as \/foo/,
    );
  });
  it("Exact path with a space is refused; a RegularExpression path is free-form", () => {
    assert.match(
      errors(route("  rules:\n  - matches: [{path: {type: Exact, value: '/a b'}}]"))[0],
      /must only contain valid characters/,
    );
    cluster(route("  rules:\n  - matches: [{path: {type: RegularExpression, value: '/a b.*'}}]"));
    assert.match(
      warnings(route("  rules:\n  - matches: [{path: {type: RegularExpression, value: '/a(('}}]")).join("\n"),
      /cannot read/,
    );
  });
  it("hostnames: lower-case names or *. wildcards (the CRD's pattern lets an IPv4 address through)", () => {
    const errs = errors(route("  hostnames: [Shop.example.com, '10.0.0.1', '*.ok.com', 'a.*.com']"));
    assert.equal(errs.length, 2);
    assert.match(errs[1], /spec\.hostnames\[3\]: hostname "a\.\*\.com" is not valid/);
    assert.match(
      errs[0],
      /^test\.yaml:5:15: error: HTTPRoute default\/r: spec\.hostnames\[0\]: hostname "Shop\.example\.com" is not valid/,
    );
  });
  it("a Service backendRef needs a port; weights 0-1000000; method and filter enums; filter combos", () => {
    const errs = errors(
      route(`  rules:
  - backendRefs: [{name: a}, {name: b, port: 80, weight: -1}]
    matches: [{method: FETCH}]
    filters: [{type: RequestRedirect, requestRedirect: {}}, {type: URLRewrite, urlRewrite: {}}, {type: CORS}]`),
    );
    assert.deepEqual(errs, [
      'test.yaml:7:24: error: HTTPRoute default/r: spec.rules[0].matches[0].method: "FETCH" is not one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH',
      "test.yaml:8:97: error: HTTPRoute default/r: spec.rules[0].filters[2]: filter.cors must be specified for CORS filter.type",
      "test.yaml:8:14: error: HTTPRoute default/r: spec.rules[0].filters: May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both",
      "test.yaml:6:19: error: HTTPRoute default/r: spec.rules[0].backendRefs[0]: Must have port for Service reference",
      "test.yaml:6:58: error: HTTPRoute default/r: spec.rules[0].backendRefs[1].weight: weight -1 is out of range (0-1000000)",
    ]);
  });
  it("duplicate header names (a list-map keyed by name); too many rules", () => {
    assert.match(
      errors(route("  rules:\n  - matches: [{headers: [{name: x, value: '1'}, {name: x, value: '2'}]}]"))[0],
      /duplicate header name x/,
    );
    const many = Array.from({ length: 17 }, () => "  - {}").join("\n");
    assert.match(errors(route(`  rules:\n${many}`))[0], /rules: at most 16 items, found 17/);
  });
});

describe("Gateway, GatewayClass and ReferenceGrant validation", () => {
  const gw = (listeners: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: g}
spec:
  gatewayClassName: c
  listeners:
${listeners}
`;
  it("listener names unique; port/protocol/hostname unique; tls rules", () => {
    const errs = errors(
      gw(`  - {name: a, port: 80, protocol: HTTP}
  - {name: a, port: 80, protocol: HTTP}
  - {name: s, port: 443, protocol: HTTPS}
  - {name: t, port: 81, protocol: HTTP, tls: {certificateRefs: [{name: x}]}}`),
    );
    assert.deepEqual(errs, [
      "test.yaml:8:12: error: Gateway default/g: spec.listeners[1].name: Listener name must be unique within the Gateway: a is also listener 0",
      "test.yaml:8:5: error: Gateway default/g: spec.listeners[1]: Combination of port, protocol and hostname must be unique for each listener: listener 0 has 80/HTTP too",
      "test.yaml:9:5: error: Gateway default/g: spec.listeners[2]: an HTTPS listener needs tls with certificateRefs",
      "test.yaml:10:46: error: Gateway default/g: spec.listeners[3].tls: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP'] (this listener is HTTP)",
    ]);
  });
  it("GatewayClass controllerName is a domain-prefixed path", () => {
    const errs = allErrors(
      "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: c}\nspec: {controllerName: nginx}\n",
    );
    assert.match(
      errs[0],
      /^test\.yaml:4:24: error: GatewayClass c: spec\.controllerName: controllerName "nginx" is not valid .*\n {2}fix: write a domain-prefixed path/,
    );
  });
  it("ReferenceGrant needs from and to, each with group and kind", () => {
    const errs = errors(
      "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g}\nspec:\n  from: [{kind: HTTPRoute, namespace: a}]\n",
    );
    assert.equal(errs.length, 2);
    assert.match(errs[0], /spec\.from\[0\]\.group: group is required/);
    assert.match(errs[1], /spec\.to/);
  });
  it("a near-miss Gateway API kind is refused; other Gateway API kinds are skipped", () => {
    assert.match(
      allErrors(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HttpRoute\nmetadata: {name: r}\nspec: {}\n",
      )[0],
      /did you mean kind: HTTPRoute\?/,
    );
    assert.match(
      warnings(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: r}\nspec: {}\n",
      ).join("\n"),
      /skipped 1 object of kind GRPCRoute/,
    );
  });
});

describe("Ingress validation (ValidateIngressCreate, validateIngressTLS)", () => {
  const ing = (meta: string, spec: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i${meta}}
spec:
${spec}
  defaultBackend: {service: {name: s, port: {number: 80}}}
`;
  it("the legacy class annotation and spec.ingressClassName exclude each other", () => {
    assert.deepEqual(
      errors(ing(", annotations: {kubernetes.io/ingress.class: nginx}", "  ingressClassName: nginx")),
      [
        "test.yaml:3:64: error: Ingress default/i: metadata.annotations.kubernetes.io/ingress.class: kubernetes.io/ingress.class can not be set when the class field (spec.ingressClassName) is also set",
      ],
    );
  });
  it("TLS hosts are DNS names or *. wildcards", () => {
    assert.match(
      errors(ing("", "  tls: [{hosts: ['a.*.example.com']}]"))[0],
      /spec\.tls\[0\]\.hosts\[0\]: "a\.\*\.example\.com" may hold a wildcard only as its first label/,
    );
    assert.match(
      errors(
        ing(
          "",
          "  rules: [{http: {paths: [{path: foo, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}]}}]",
        ),
      )[0],
      /path "foo" must be an absolute path/,
    );
  });
});

describe("unknown fields in the routing kinds (strict field validation; a warning, as for other Kubernetes kinds)", () => {
  /** The unknown-field warnings of `yaml`, each as "field path: did-you-mean hint". */
  const unknown = (yaml: string) =>
    warnings(yaml)
      .filter((w) => w.includes("unknown field"))
      .map((w) => {
        const m = /: ([^ :]+): unknown field "[^"]+".*\n {2}fix: (did you mean [^?]+\?|.*)/.exec(w);
        return m ? `${m[1]}: ${m[2]}` : w;
      });
  it("HTTPRoute: spec, parentRefs, rules, matches, path, headers, filters, backendRefs", () => {
    assert.deepEqual(
      unknown(
        route(`  parentRef: [{name: g}]
  parentRefs: [{name: g, sectionNme: h}]
  rules:
  - matchs: [{path: {type: PathPrefix, value: /admin}}]
    filter: []
    backendRefs: [{name: s, port: 80, wieght: 2}]
  - matches: [{pth: {value: /}, path: {typ: Exact, value: /x}, headers: [{name: a, vaule: b}]}]
    filters: [{type: RequestHeaderModifier, requestHeaderModifer: {}, requestHeaderModifier: {}}]`),
      ),
      [
        "spec.parentRef: did you mean parentRefs?",
        "spec.parentRefs[0].sectionNme: did you mean sectionName?",
        "spec.rules[0].matchs: did you mean matches?",
        "spec.rules[0].filter: did you mean filters?",
        "spec.rules[0].backendRefs[0].wieght: did you mean weight?",
        "spec.rules[1].matches[0].pth: did you mean path?",
        "spec.rules[1].matches[0].path.typ: did you mean type?",
        "spec.rules[1].matches[0].headers[0].vaule: did you mean value?",
        "spec.rules[1].filters[0].requestHeaderModifer: did you mean requestHeaderModifier?",
      ],
    );
  });
  it("Gateway: spec, listeners, tls, certificateRefs, allowedRoutes, namespaces, kinds; GatewayClass", () => {
    const yaml = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: c}
spec: {controllerName: example.net/gw, descripton: x}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: g}
spec:
  gatewayClassName: c
  adresses: []
  listeners:
  - name: h
    port: 443
    protocol: HTTPS
    hostnme: a.example.com
    tls: {mdoe: Terminate, certificateRefs: [{name: c, namepsace: x}]}
    allowedRoute: {}
    allowedRoutes: {namespace: {}, namespaces: {form: All}, kinds: [{knd: HTTPRoute, kind: HTTPRoute}]}
`;
    assert.deepEqual(unknown(yaml), [
      "spec.descripton: did you mean description?",
      "spec.adresses: did you mean addresses?",
      "spec.listeners[0].hostnme: did you mean hostname?",
      "spec.listeners[0].allowedRoute: did you mean allowedRoutes?",
      "spec.listeners[0].tls.mdoe: did you mean mode?",
      "spec.listeners[0].tls.certificateRefs[0].namepsace: did you mean namespace?",
      "spec.listeners[0].allowedRoutes.namespace: did you mean namespaces?",
      "spec.listeners[0].allowedRoutes.namespaces.form: did you mean from?",
      "spec.listeners[0].allowedRoutes.kinds[0].knd: did you mean kind?",
    ]);
  });
  it("ReferenceGrant: spec, from, to", () => {
    assert.deepEqual(
      unknown(`apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: a, nmae: x}]
  to: [{group: "", kind: Service, namespace: b}]
  form: []
`),
      [
        "spec.form: did you mean from?",
        "spec.from[0].nmae: a ReferenceGrant from entry has the fields group, kind, namespace",
        "spec.to[0].namespace: a ReferenceGrant to entry has the fields group, kind, name",
      ],
    );
  });
  it("Ingress and IngressClass: spec, rules, http, paths, backends (F14: servce → service)", () => {
    const yaml = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controler: k8s.io/ingress-nginx, parameters: {kind: X, name: y, scpe: Cluster}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec:
  rule: []
  tls: [{host: [a.example.com]}]
  defaultBackend: {service: {name: s, port: {number: 80, nmber: 81}}}
  rules:
  - hots: a.example.com
    http:
      path: []
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: s, prot: {}, port: {number: 80}}}}
      - {path: /b, pathtype: Prefix, pathType: Prefix, backend: {servce: {name: s, port: {number: 80}}}}
`;
    assert.deepEqual(unknown(yaml), [
      "spec.controler: did you mean controller?",
      "spec.parameters.scpe: did you mean scope?",
      "spec.rule: did you mean rules?",
      "spec.tls[0].host: did you mean hosts?",
      "spec.defaultBackend.service.port.nmber: did you mean number?",
      "spec.rules[0].hots: did you mean host?",
      "spec.rules[0].http.path: did you mean paths?",
      "spec.rules[0].http.paths[0].backend.service.prot: did you mean port?",
      "spec.rules[0].http.paths[1].pathtype: did you mean pathType?",
      "spec.rules[0].http.paths[1].backend.servce: did you mean service?",
    ]);
  });
});

describe("path fixes suggest a normalised path (F12)", () => {
  for (const [bad, good] of [
    ["/a/../b", "/b"],
    ["/a/./b/", "/a/b/"],
    ["/a%2Fb//c/..", "/a/b"],
  ])
    it(`${bad} → ${good}`, () => {
      const errs = allErrors(route(`  rules:\n  - matches: [{path: {type: Exact, value: '${bad}'}}]`));
      assert.ok(errs.length > 0);
      for (const e of errs)
        assert.match(e, new RegExp(`fix: write an absolute, normalised path such as ${good}$`));
    });
});
