/**
 * Gateway API objects (gateway.networking.k8s.io): the OpenAPI schema and CEL rules of the standard
 * CRDs (kubernetes-sigs/gateway-api `config/crd/standard/gateway.networking.k8s.io_*.yaml`, generated
 * from `apis/v1/*_types.go`), which the API server enforces on create. Defaults the CRDs apply
 * (path `PathPrefix /`, header type Exact, weight 1, allowedRoutes `Same`) are left to the router,
 * which reads absent fields as those defaults.
 */
import type { Check, Rec } from "../check.ts";
import { checkSelector } from "./shared.ts";

type Path = (string | number)[];

/*
 * The fields of each Gateway API type podnet reads (json names in kubernetes-sigs/gateway-api
 * `apis/v1/{gatewayclass,gateway,httproute,shared}_types.go` and `apis/v1beta1/referencegrant_types.go`,
 * experimental-channel fields included so that they are not reported). Other keys get the
 * "unknown field" warning the API server's strict field validation gives as an error.
 */
const GATEWAYCLASS_SPEC = ["controllerName", "parametersRef", "description"];
const GATEWAY_SPEC = [
  "gatewayClassName",
  "listeners",
  "addresses",
  "infrastructure",
  "allowedListeners",
  "tls",
  "defaultScope",
];
const LISTENER = ["name", "hostname", "port", "protocol", "tls", "allowedRoutes"];
const LISTENER_TLS = ["mode", "certificateRefs", "options"];
/** `SecretObjectReference`. */
const SECRET_REF = ["group", "kind", "name", "namespace"];
const ALLOWED_ROUTES = ["namespaces", "kinds"];
const ROUTE_NAMESPACES = ["from", "selector"];
const ROUTE_GROUP_KIND = ["group", "kind"];
/** `HTTPRouteSpec` with the inlined `CommonRouteSpec`. */
const HTTPROUTE_SPEC = ["parentRefs", "useDefaultGateways", "hostnames", "rules"];
const PARENT_REF = ["group", "kind", "namespace", "name", "sectionName", "port"];
const HTTPROUTE_RULE = [
  "name",
  "matches",
  "filters",
  "backendRefs",
  "timeouts",
  "retry",
  "sessionPersistence",
];
const HTTPROUTE_MATCH = ["path", "headers", "queryParams", "method"];
const PATH_MATCH = ["type", "value"];
const VALUE_MATCH = ["type", "name", "value"];
const FILTER = [
  "type",
  "requestHeaderModifier",
  "responseHeaderModifier",
  "requestMirror",
  "requestRedirect",
  "urlRewrite",
  "cors",
  "externalAuth",
  "extensionRef",
];
/** `HTTPBackendRef`: the inlined `BackendRef` (`BackendObjectReference` and weight) and filters. */
const HTTP_BACKEND_REF = ["group", "kind", "name", "namespace", "port", "weight", "filters"];
const REFERENCEGRANT_SPEC = ["from", "to"];
const REFERENCEGRANT_FROM = ["group", "kind", "namespace"];
const REFERENCEGRANT_TO = ["group", "kind", "name"];

/** `Hostname` (shared_types.go): lower-case RFC 1123 name, optionally `*.`-prefixed; 1-253 characters; no IP. */
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** `SectionName`: a DNS-1123 subdomain. */
const SECTION_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** `GatewayController`: a domain-prefixed path (`example.net/gateway-controller`). */
const CONTROLLER =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;
/** `ProtocolType`. */
const PROTOCOL =
  /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$/;
/** `Kind`. */
const KIND = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
/** `Group`: empty (core) or a DNS subdomain. */
const GROUP = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** `Namespace`: a DNS-1123 label. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** `HTTPHeaderName`: an RFC 7230 token. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
/** Characters an Exact or PathPrefix value may hold (RFC 3986 pchar and `/`). */
const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;
const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"] as const;
const FILTER_TYPES = [
  "RequestHeaderModifier",
  "ResponseHeaderModifier",
  "RequestMirror",
  "RequestRedirect",
  "URLRewrite",
  "ExtensionRef",
  "CORS",
] as const;
/** The field each filter type carries its settings in. */
const FILTER_FIELD: Record<(typeof FILTER_TYPES)[number], string> = {
  RequestHeaderModifier: "requestHeaderModifier",
  ResponseHeaderModifier: "responseHeaderModifier",
  RequestMirror: "requestMirror",
  RequestRedirect: "requestRedirect",
  URLRewrite: "urlRewrite",
  ExtensionRef: "extensionRef",
  CORS: "cors",
};

/** A string field matching `re` with a length in [min, max]; `what` names it in the message. */
function pattern(
  c: Check,
  v: unknown,
  at: Path,
  re: RegExp,
  opts: { what: string; min?: number; max: number; fix: string },
): string | undefined {
  const s = c.string(v, at);
  if (s === undefined) return undefined;
  const min = opts.min ?? 1;
  if (s.length < min || s.length > opts.max) {
    c.error(
      at,
      "invalid-value",
      `${opts.what} must be ${min}-${opts.max} characters long, found ${s.length}`,
      opts.fix,
    );
    return undefined;
  }
  if (!re.test(s)) {
    c.error(
      at,
      "invalid-value",
      `${opts.what} ${JSON.stringify(s)} is not valid (must match ${re.source})`,
      opts.fix,
    );
    return undefined;
  }
  return s;
}

/** A list with at most `max` items (`maxItems`) and, with `min`, at least that many. */
function boundedList(
  c: Check,
  v: unknown,
  at: Path,
  what: string,
  max: number,
  min = 0,
): unknown[] | undefined {
  const list = c.list(v, at, "keep");
  if (!list) return undefined;
  if (list.length > max)
    c.error(
      at,
      "too-many",
      `${what}: at most ${max} items, found ${list.length}`,
      `split them over several objects or remove ${list.length - max}`,
    );
  if (list.length < min)
    c.error(at, "missing-field", `${what} needs at least ${min} item${min === 1 ? "" : "s"}`, `add ${what}`);
  return list;
}

function hostname(c: Check, v: unknown, at: Path): string | undefined {
  return pattern(c, v, at, HOSTNAME, {
    what: "hostname",
    max: 253,
    fix: "write a lower-case DNS name such as shop.example.com or *.example.com (no IP address, no port)",
  });
}

/** GatewayClass: `spec.controllerName` is a required domain-prefixed path of at most 253 characters. */
export function validateGatewayClass(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.controllerName, e.g. example.net/gateway-controller"))
    return;
  c.fields(spec, ["spec"], GATEWAYCLASS_SPEC, "a GatewayClass's spec");
  if (
    c.required(
      spec.controllerName,
      ["spec", "controllerName"],
      "spec.controllerName",
      "add controllerName: example.net/gateway-controller",
      spec,
    )
  )
    pattern(c, spec.controllerName, ["spec", "controllerName"], CONTROLLER, {
      what: "controllerName",
      max: 253,
      fix: "write a domain-prefixed path, e.g. example.net/gateway-controller",
    });
  const desc = c.string(spec.description, ["spec", "description"]);
  if (desc !== undefined && desc.length > 64)
    c.error(
      ["spec", "description"],
      "invalid-value",
      `description must be at most 64 characters, found ${desc.length}`,
      "shorten it",
    );
}

/**
 * Gateway: gatewayClassName; 1-64 listeners, each with a unique name, a port, a protocol and
 * optionally a hostname, TLS settings where the protocol takes them, and allowedRoutes; the CEL rules
 * on listeners (unique names; unique port/protocol/hostname; no tls for HTTP, TCP, UDP; tls mode
 * Terminate for HTTPS; no hostname for TCP, UDP).
 */
export function validateGateway(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.gatewayClassName and spec.listeners")) return;
  c.fields(spec, ["spec"], GATEWAY_SPEC, "a Gateway's spec");
  if (
    c.required(
      spec.gatewayClassName,
      ["spec", "gatewayClassName"],
      "spec.gatewayClassName",
      "name the GatewayClass, e.g. gatewayClassName: example",
      spec,
    )
  )
    pattern(c, spec.gatewayClassName, ["spec", "gatewayClassName"], SECTION_NAME, {
      what: "gatewayClassName",
      max: 253,
      fix: "name a GatewayClass (kubectl get gatewayclasses)",
    });
  const lat = ["spec", "listeners"];
  if (
    !c.required(
      spec.listeners,
      lat,
      "spec.listeners",
      "add a listener: {name: http, port: 80, protocol: HTTP}",
      spec,
    )
  )
    return;
  const listeners = boundedList(c, spec.listeners, lat, "listeners", 64, 1);
  if (!listeners) return;
  const seen = new Map<string, number>();
  const combos = new Map<string, number>();
  listeners.forEach((l, i) => {
    const at = [...lat, i];
    const m = c.map(l, at);
    if (!m) {
      if (l === null) c.error(at, "wrong-type", "a listener cannot be null", "remove the empty `-` line");
      return;
    }
    c.fields(m, at, LISTENER, "a listener");
    const name = c.required(m.name, [...at, "name"], "a listener name", "add name: http", m)
      ? pattern(c, m.name, [...at, "name"], SECTION_NAME, {
          what: "listener name",
          max: 253,
          fix: "use a lower-case DNS name such as http or https-shop",
        })
      : undefined;
    if (name !== undefined) {
      const first = seen.get(name);
      if (first !== undefined)
        c.error(
          [...at, "name"],
          "duplicate",
          `Listener name must be unique within the Gateway: ${name} is also listener ${first}`,
          "rename one of them",
        );
      else seen.set(name, i);
    }
    const port = c.required(m.port, [...at, "port"], "a listener port", "add port: 80", m)
      ? c.port(m.port, [...at, "port"])
      : undefined;
    const protocol = c.required(
      m.protocol,
      [...at, "protocol"],
      "a listener protocol",
      "add protocol: HTTP",
      m,
    )
      ? pattern(c, m.protocol, [...at, "protocol"], PROTOCOL, {
          what: "protocol",
          max: 255,
          fix: "use HTTP, HTTPS, TLS, TCP or UDP",
        })
      : undefined;
    const host =
      m.hostname === undefined || m.hostname === null
        ? undefined
        : hostname(c, m.hostname, [...at, "hostname"]);
    if (protocol && (protocol === "TCP" || protocol === "UDP") && host !== undefined)
      c.error(
        [...at, "hostname"],
        "invalid-value",
        "hostname must not be specified for protocols ['TCP', 'UDP']",
        "remove the hostname",
      );
    const tls = c.map(m.tls, [...at, "tls"]);
    if (protocol && tls && ["HTTP", "TCP", "UDP"].includes(protocol))
      c.error(
        [...at, "tls"],
        "invalid-value",
        `tls must not be specified for protocols ['HTTP', 'TCP', 'UDP'] (this listener is ${protocol})`,
        "remove tls, or use protocol: HTTPS",
      );
    if (tls) {
      c.fields(tls, [...at, "tls"], LISTENER_TLS, "a listener's tls");
      const mode =
        c.oneOf(tls.mode, [...at, "tls", "mode"], ["Terminate", "Passthrough"] as const) ?? "Terminate";
      if (protocol === "HTTPS" && mode !== "Terminate")
        c.error(
          [...at, "tls", "mode"],
          "invalid-value",
          "tls mode must be Terminate for protocol HTTPS",
          "use mode: Terminate, or protocol: TLS for passthrough",
        );
      const refs = boundedList(
        c,
        tls.certificateRefs,
        [...at, "tls", "certificateRefs"],
        "certificateRefs",
        64,
      );
      refs?.forEach((r, j) => {
        const rm = c.map(r, [...at, "tls", "certificateRefs", j]);
        if (rm) c.fields(rm, [...at, "tls", "certificateRefs", j], SECRET_REF, "a certificateRef");
      });
      if (mode === "Terminate" && !refs?.length && !tls.options)
        c.error(
          [...at, "tls"],
          "missing-field",
          "certificateRefs or options must be specified when mode is Terminate",
          "add certificateRefs: [{name: my-cert}] (a Secret of type kubernetes.io/tls)",
        );
    } else if (protocol === "HTTPS" || protocol === "TLS")
      c.error(
        at,
        "missing-field",
        protocol === "TLS"
          ? "tls mode must be set for protocol TLS"
          : "an HTTPS listener needs tls with certificateRefs",
        "add tls: {mode: Terminate, certificateRefs: [{name: my-cert}]}",
      );
    if (port !== undefined && protocol !== undefined) {
      const k = `${port}/${protocol}/${host ?? ""}`;
      const first = combos.get(k);
      if (first !== undefined)
        c.error(
          at,
          "duplicate",
          `Combination of port, protocol and hostname must be unique for each listener: listener ${first} has ${port}/${protocol}${host ? `/${host}` : ""} too`,
          "change the port or the hostname of one of them",
        );
      else combos.set(k, i);
    }
    const ar = c.map(m.allowedRoutes, [...at, "allowedRoutes"]);
    if (ar) {
      c.fields(ar, [...at, "allowedRoutes"], ALLOWED_ROUTES, "a listener's allowedRoutes");
      const ns = c.map(ar.namespaces, [...at, "allowedRoutes", "namespaces"]);
      if (ns) {
        c.fields(ns, [...at, "allowedRoutes", "namespaces"], ROUTE_NAMESPACES, "allowedRoutes.namespaces");
        const from = c.oneOf(ns.from, [...at, "allowedRoutes", "namespaces", "from"], [
          "All",
          "Same",
          "Selector",
          "None",
        ] as const);
        if (ns.selector !== undefined && ns.selector !== null)
          checkSelector(c, ns.selector, [...at, "allowedRoutes", "namespaces", "selector"]);
        else if (from === "Selector")
          c.error(
            [...at, "allowedRoutes", "namespaces"],
            "missing-field",
            "from: Selector needs a selector",
            "add selector: {matchLabels: {…}} naming the namespaces whose routes may attach",
          );
      }
      boundedList(c, ar.kinds, [...at, "allowedRoutes", "kinds"], "allowedRoutes.kinds", 8)?.forEach(
        (k, j) => {
          const km = c.map(k, [...at, "allowedRoutes", "kinds", j]);
          if (!km) return;
          c.fields(km, [...at, "allowedRoutes", "kinds", j], ROUTE_GROUP_KIND, "an allowedRoutes kind");
          if (
            c.required(
              km.kind,
              [...at, "allowedRoutes", "kinds", j, "kind"],
              "kind",
              "add kind: HTTPRoute",
              km,
            )
          )
            pattern(c, km.kind, [...at, "allowedRoutes", "kinds", j, "kind"], KIND, {
              what: "kind",
              max: 63,
              fix: "write a kind such as HTTPRoute",
            });
          if (km.group !== undefined)
            pattern(c, km.group, [...at, "allowedRoutes", "kinds", j, "group"], GROUP, {
              what: "group",
              min: 0,
              max: 253,
              fix: "write gateway.networking.k8s.io",
            });
        },
      );
    }
  });
}

/** A parentRef / backendRef `namespace`, `group` and `kind` field. */
function refFields(c: Check, m: Rec, at: Path): void {
  if (m.namespace !== undefined)
    pattern(c, m.namespace, [...at, "namespace"], NAMESPACE, {
      what: "namespace",
      max: 63,
      fix: "write a namespace name",
    });
  if (m.group !== undefined)
    pattern(c, m.group, [...at, "group"], GROUP, {
      what: "group",
      min: 0,
      max: 253,
      fix: 'write "" for core kinds or an API group',
    });
  if (m.kind !== undefined)
    pattern(c, m.kind, [...at, "kind"], KIND, {
      what: "kind",
      max: 63,
      fix: "write a kind such as Gateway or Service",
    });
}

/**
 * `value` as an absolute path without what the path CEL rules refuse: the fragment dropped, `%2f`
 * read as `/`, empty and `.` segments removed and `..` segments resolved (RFC 3986 section 5.2.4),
 * e.g. `/a/../b` → `/b`, `foo//bar#x` → `/foo/bar`. A trailing `/` is kept.
 */
export function normalisedPath(value: string): string {
  const raw = value.replace(/#.*$/, "").replace(/%2f/gi, "/");
  const out: string[] = [];
  for (const seg of raw.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  const trailing = /\/$/.test(raw) && out.length > 0;
  return `/${out.join("/")}${trailing ? "/" : ""}`;
}

/** The `path` of an HTTPRouteMatch: type enum; for Exact and PathPrefix the CEL rules on the value. */
function validatePathMatch(c: Check, v: unknown, at: Path): void {
  const p = c.map(v, at);
  if (!p) return;
  c.fields(p, at, PATH_MATCH, "a path match");
  const type =
    c.oneOf(p.type, [...at, "type"], ["Exact", "PathPrefix", "RegularExpression"] as const) ?? "PathPrefix";
  const value = c.string(p.value, [...at, "value"]) ?? "/";
  const vat = [...at, "value"];
  if (value.length > 1024)
    c.error(
      vat,
      "invalid-value",
      `a path must be at most 1024 characters, found ${value.length}`,
      "shorten it",
    );
  if (type === "RegularExpression") {
    try {
      new RegExp(value);
    } catch (e) {
      c.warn(
        vat,
        "regex-dialect",
        `podnet cannot read ${JSON.stringify(value)} as a regular expression (${(e as Error).message}): the match never applies in podnet`,
        "write the expression in the common subset of RE2 and JavaScript",
      );
    }
    return;
  }
  const bad = (message: string) =>
    c.error(
      vat,
      "invalid-value",
      `path ${JSON.stringify(value)} ${message} (type ${type})`,
      `write an absolute, normalised path such as ${normalisedPath(value)}`,
    );
  // Each CEL rule is its own message, as the API server lists every rule that fails.
  if (!value.startsWith("/")) bad("must be an absolute path and start with '/'");
  for (const seq of ["//", "/./", "/../", "%2f", "%2F", "#"])
    if (value.includes(seq)) bad(`must not contain '${seq}'`);
  for (const suffix of ["/..", "/."]) if (value.endsWith(suffix)) bad(`must not end with '${suffix}'`);
  if (!PATH_CHARS.test(value)) bad("must only contain valid characters (RFC 3986 pchar, '/' and %-escapes)");
}

/** Header or query parameter matches: at most 16, names unique (a list-map keyed by name), values 1-max characters. */
function validateValueMatches(c: Check, v: unknown, at: Path, what: string, maxValue: number): void {
  const seen = new Map<string, number>();
  boundedList(c, v, at, what, 16)?.forEach((h, i) => {
    const hm = c.map(h, [...at, i]);
    if (!hm) return;
    c.fields(hm, [...at, i], VALUE_MATCH, `a ${what} match`);
    c.oneOf(hm.type, [...at, i, "type"], ["Exact", "RegularExpression"] as const);
    if (c.required(hm.name, [...at, i, "name"], "a name", "add name: …", hm)) {
      const name = pattern(c, hm.name, [...at, i, "name"], HEADER_NAME, {
        what: `${what} name`,
        max: 256,
        fix: "use a header token such as x-version (letters, digits, !#$%&'*+-.^_`|~)",
      });
      if (name !== undefined) {
        const first = seen.get(name);
        if (first !== undefined)
          c.error(
            [...at, i, "name"],
            "duplicate",
            `duplicate ${what} name ${name} (also item ${first}); the API server keys this list by name`,
            "keep one of them",
          );
        else seen.set(name, i);
      }
    }
    if (c.required(hm.value, [...at, i, "value"], "a value", "add value: …", hm)) {
      const value = c.string(hm.value, [...at, i, "value"]);
      if (value !== undefined && (value.length < 1 || value.length > maxValue))
        c.error(
          [...at, i, "value"],
          "invalid-value",
          `a ${what} value must be 1-${maxValue} characters long, found ${value.length}`,
          "shorten it",
        );
    }
  });
}

/** Filters of a rule or a backendRef: at most 16, type enum, its settings field present, CEL rules on combinations. */
function validateFilters(c: Check, v: unknown, at: Path): void {
  const list = boundedList(c, v, at, "filters", 16);
  if (!list) return;
  const counts = new Map<string, number>();
  list.forEach((f, i) => {
    const fm = c.map(f, [...at, i]);
    if (!fm) return;
    c.fields(fm, [...at, i], FILTER, "a filter");
    if (
      !c.required(
        fm.type,
        [...at, i, "type"],
        "the filter type",
        `add type: one of ${FILTER_TYPES.join(", ")}`,
        fm,
      )
    )
      return;
    const type = c.oneOf(fm.type, [...at, i, "type"], FILTER_TYPES);
    if (!type) return;
    counts.set(type, (counts.get(type) ?? 0) + 1);
    const field = FILTER_FIELD[type];
    if (fm[field] === undefined || fm[field] === null)
      c.error(
        [...at, i],
        "missing-field",
        `filter.${field} must be specified for ${type} filter.type`,
        `add ${field}: {…}`,
      );
    for (const [t, other] of Object.entries(FILTER_FIELD))
      if (t !== type && fm[other] !== undefined && fm[other] !== null)
        c.error(
          [...at, i, other],
          "invalid-value",
          `filter.${other} must be nil if the filter.type is not ${t}`,
          `remove ${other}, or set type: ${t}`,
        );
  });
  if (counts.has("RequestRedirect") && counts.has("URLRewrite"))
    c.error(
      at,
      "invalid-value",
      "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both",
      "keep one of RequestRedirect and URLRewrite",
    );
  for (const t of [
    "CORS",
    "RequestHeaderModifier",
    "ResponseHeaderModifier",
    "RequestRedirect",
    "URLRewrite",
  ])
    if ((counts.get(t) ?? 0) > 1)
      c.error(at, "duplicate", `${t} filter cannot be repeated`, `merge the ${t} filters into one`);
}

/**
 * HTTPRoute: parentRefs (at most 32; name required; sectionName, port), hostnames (at most 16),
 * rules (at most 16; matches at most 64 per rule and 128 in all; path CEL rules; headers and query
 * parameters; method), filters and backendRefs (at most 16; name required; a Service needs a port;
 * weight 0-1,000,000).
 */
export function validateHTTPRoute(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.parentRefs and spec.rules")) return;
  c.fields(spec, ["spec"], HTTPROUTE_SPEC, "an HTTPRoute's spec");
  boundedList(c, spec.parentRefs, ["spec", "parentRefs"], "parentRefs", 32)?.forEach((p, i) => {
    const at = ["spec", "parentRefs", i];
    const m = c.map(p, at);
    if (!m) return;
    c.fields(m, at, PARENT_REF, "a parentRef");
    if (c.required(m.name, [...at, "name"], "the parent's name", "add name: <the Gateway's name>", m))
      pattern(c, m.name, [...at, "name"], SECTION_NAME, { what: "name", max: 253, fix: "name a Gateway" });
    refFields(c, m, at);
    if (m.sectionName !== undefined)
      pattern(c, m.sectionName, [...at, "sectionName"], SECTION_NAME, {
        what: "sectionName",
        max: 253,
        fix: "name one of the Gateway's listeners",
      });
    if (m.port !== undefined) c.port(m.port, [...at, "port"]);
  });
  const hosts = boundedList(c, spec.hostnames, ["spec", "hostnames"], "hostnames", 16);
  hosts?.forEach((h, i) => {
    hostname(c, h, ["spec", "hostnames", i]);
  });
  const rules = boundedList(c, spec.rules, ["spec", "rules"], "rules", 16);
  let matchCount = 0;
  rules?.forEach((r, i) => {
    const at = ["spec", "rules", i];
    const m = c.map(r, at);
    if (!m) return;
    c.fields(m, at, HTTPROUTE_RULE, "an HTTPRoute rule");
    const matches = boundedList(c, m.matches, [...at, "matches"], "matches", 64);
    matchCount += matches?.length ?? 0;
    matches?.forEach((mm, j) => {
      const mat = [...at, "matches", j];
      const match = c.map(mm, mat);
      if (!match) return;
      c.fields(match, mat, HTTPROUTE_MATCH, "an HTTPRoute match");
      validatePathMatch(c, match.path, [...mat, "path"]);
      validateValueMatches(c, match.headers, [...mat, "headers"], "header", 4096);
      validateValueMatches(c, match.queryParams, [...mat, "queryParams"], "query parameter", 1024);
      c.oneOf(match.method, [...mat, "method"], METHODS);
    });
    validateFilters(c, m.filters, [...at, "filters"]);
    boundedList(c, m.backendRefs, [...at, "backendRefs"], "backendRefs", 16)?.forEach((b, j) => {
      const bat = [...at, "backendRefs", j];
      const bm = c.map(b, bat);
      if (!bm) return;
      c.fields(bm, bat, HTTP_BACKEND_REF, "a backendRef");
      c.required(
        c.string(bm.name, [...bat, "name"]),
        [...bat, "name"],
        "the backend's name",
        "add name: <a Service>",
        bm,
      );
      refFields(c, bm, bat);
      const core = (bm.group ?? "") === "" && (bm.kind ?? "Service") === "Service";
      if (bm.port !== undefined && bm.port !== null) c.port(bm.port, [...bat, "port"]);
      else if (core)
        c.error(
          bat,
          "missing-field",
          "Must have port for Service reference",
          "add port: <the Service's port number>",
        );
      c.int(bm.weight, [...bat, "weight"], 0, 1_000_000, "weight");
      validateFilters(c, bm.filters, [...bat, "filters"]);
    });
  });
  if (matchCount > 128)
    c.error(
      ["spec", "rules"],
      "too-many",
      `at most 128 matches over all rules, found ${matchCount}`,
      "split the route into several HTTPRoutes",
    );
}

/** ReferenceGrant: 1-16 `from` (group, kind, namespace) and 1-16 `to` (group, kind, optional name). */
export function validateReferenceGrant(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.from and spec.to")) return;
  c.fields(spec, ["spec"], REFERENCEGRANT_SPEC, "a ReferenceGrant's spec");
  for (const side of ["from", "to"] as const) {
    if (
      !c.required(
        spec[side],
        ["spec", side],
        `spec.${side}`,
        side === "from"
          ? "add from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: …}]"
          : 'add to: [{group: "", kind: Service}]',
        spec,
      )
    )
      continue;
    boundedList(c, spec[side], ["spec", side], side, 16, 1)?.forEach((e, i) => {
      const at = ["spec", side, i];
      const m = c.map(e, at);
      if (!m) return;
      c.fields(
        m,
        at,
        side === "from" ? REFERENCEGRANT_FROM : REFERENCEGRANT_TO,
        `a ReferenceGrant ${side} entry`,
      );
      if (m.group === undefined || m.group === null)
        c.error(
          [...at, "group"],
          "missing-field",
          "group is required",
          'write group: "" for core kinds (Service, Secret)',
        );
      else
        pattern(c, m.group, [...at, "group"], GROUP, {
          what: "group",
          min: 0,
          max: 253,
          fix: 'write "" for core kinds or an API group',
        });
      if (
        c.required(
          m.kind,
          [...at, "kind"],
          "kind",
          side === "from" ? "add kind: HTTPRoute" : "add kind: Service",
          m,
        )
      )
        pattern(c, m.kind, [...at, "kind"], KIND, { what: "kind", max: 63, fix: "write a kind" });
      if (side === "from") {
        if (
          c.required(
            m.namespace,
            [...at, "namespace"],
            "namespace",
            "add the namespace the references come from",
            m,
          )
        )
          pattern(c, m.namespace, [...at, "namespace"], NAMESPACE, {
            what: "namespace",
            max: 63,
            fix: "write a namespace name",
          });
      } else if (m.name !== undefined)
        pattern(c, m.name, [...at, "name"], SECTION_NAME, {
          what: "name",
          max: 253,
          fix: "name the object, or leave name out to allow all",
        });
    });
  }
}
