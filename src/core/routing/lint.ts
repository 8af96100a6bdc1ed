/**
 * Findings about HTTP routing, each a warning at the field it concerns:
 *
 *   route-shadowed          an Ingress path or HTTPRoute match no request can reach: an entry that
 *                           takes precedence (./router.ts `precedenceKey`) on the same hosts and
 *                           listeners matches every request it matches
 *   backend-not-found       a backend names a Service or a Service port that does not exist (Ingress:
 *                           503; HTTPRoute: ResolvedRefs False, 500); RefNotPermitted and InvalidKind
 *                           backendRefs too
 *   backend-no-endpoints    a backend Service without ready endpoints (the controller answers 503)
 *   route-not-accepted      an HTTPRoute parentRef no Gateway accepts (NoMatchingParent,
 *                           NotAllowedByListeners, NoMatchingListenerHostname), or a route with none
 *   ingress-no-controller   an Ingress no IngressClass owns
 *   listener-not-accepted   a Gateway listener that is not programmed: not accepted (unsupported
 *                           protocol), conflicting with another, or with unresolved references
 *                           (certificateRefs RefNotPermitted, allowedRoutes.kinds InvalidRouteKinds)
 *   gateway-not-accepted    a Gateway whose GatewayClass does not exist (no controller reconciles it)
 *   host-claimed-twice      a hostname two controllers (IngressClasses, Gateways) both serve
 */
import type { ClusterState } from "../control/state.ts";
import type { Diagnostic, FieldPath } from "../diagnostics.ts";
import { GATEWAY_GROUP } from "../model/gateway.ts";
import type { KubeObject } from "../model/k8s.ts";
import { lintFinding } from "../policy/lint.ts";
import { backendProblem, serviceIndex } from "./backends.ts";
import { analyzeGateways, referenceAllowed } from "./gateway.ts";
import { ingressClasses, ingressOwner, ingressRouterSpecs } from "./ingress.ts";
import {
  compareKeys,
  describeMatch,
  precedenceKey,
  prefixMatches,
  type RouteEntry,
  type RouterSpec,
  type RouterSpecOptions,
} from "./router.ts";
import type { ControllerKey, RuleRef } from "./types.ts";

/** Above this many entries on one host, the shadow check (quadratic) is skipped and said so. */
const MAX_SHADOW_GROUP = 2000;

export interface RoutingLintReport {
  findings: Diagnostic[];
  /** Checks not run, with the reason. */
  skipped: string[];
}

/** Whether every path `inner` matches is matched by `outer`. Conservative: false when unsure. */
function pathCovers(outer: RouteEntry["path"], inner: RouteEntry["path"]): boolean {
  if (outer.type === "Prefix" && (outer.value === "/" || outer.value === "")) return true;
  if (inner.type === "RegularExpression" || outer.type === "RegularExpression")
    return outer.type === inner.type && outer.value === inner.value;
  const iv = inner.type === "ImplementationSpecific" && inner.value === "" ? "/" : inner.value;
  switch (outer.type) {
    case "Exact":
      return inner.type === "Exact" && inner.value === outer.value;
    case "Prefix":
      // A Prefix covers an Exact it matches, and a Prefix or string prefix inside it element-wise.
      return inner.type === "Exact"
        ? prefixMatches(outer.value, iv)
        : inner.type === "Prefix" && prefixMatches(outer.value, iv);
    case "ImplementationSpecific":
      return iv.startsWith(outer.value === "" ? "/" : outer.value);
  }
}

/** Whether `outer`'s method, header and query conditions hold whenever `inner`'s do. */
function conditionsCover(outer: RouteEntry, inner: RouteEntry): boolean {
  if (outer.method && outer.method !== inner.method) return false;
  const has = (list: RouteEntry["headers"], m: RouteEntry["headers"][number], fold: boolean) =>
    list.some(
      (x) =>
        x.type === m.type &&
        x.value === m.value &&
        (fold ? x.name.toLowerCase() === m.name.toLowerCase() : x.name === m.name),
    );
  return (
    outer.headers.every((h) => has(inner.headers, h, true)) &&
    outer.queryParams.every((q) => has(inner.queryParams, q, false))
  );
}

/** The field path of an entry's rule in its object. */
function rulePath(r: RuleRef): FieldPath {
  if (r.kind === "Ingress")
    return r.rule < 0 ? ["spec", "defaultBackend"] : ["spec", "rules", r.rule, "http", "paths", r.match];
  return ["spec", "rules", r.rule, "matches", r.match];
}

function refWords(r: RuleRef): string {
  if (r.kind === "Ingress")
    return `Ingress ${r.namespace}/${r.name} ${r.rule < 0 ? "defaultBackend" : `rule ${r.rule} path ${r.match}`}`;
  return `HTTPRoute ${r.namespace}/${r.name} rule ${r.rule} match ${r.match}`;
}

function controllerWords(c: ControllerKey): string {
  return c.kind === "IngressClass" ? `IngressClass ${c.name}` : `Gateway ${c.namespace}/${c.name}`;
}

/**
 * Routing findings about `state` (see the module comment), judged on the routing tables
 * `routerSpecs(state, opts)` makes.
 */
export function lintRouting(state: ClusterState, opts: RouterSpecOptions = {}): RoutingLintReport {
  const findings: Diagnostic[] = [];
  const skipped: string[] = [];
  const byRef = new Map<string, KubeObject>();
  for (const o of [...state.ingresses, ...state.httpRoutes])
    byRef.set(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, o);
  const at = (obj: KubeObject, path: FieldPath, code: string, message: string, hint: string) =>
    findings.push(lintFinding(state, obj, path, code, message, hint));
  const objOf = (r: RuleRef) => byRef.get(`${r.kind}/${r.namespace}/${r.name}`);

  // Owners of Ingresses.
  const classes = ingressClasses(state, opts);
  for (const ing of state.ingresses) {
    const o = ingressOwner(ing, classes);
    if (!o.owned)
      at(
        ing,
        (ing.spec as { ingressClassName?: string })?.ingressClassName !== undefined
          ? ["spec", "ingressClassName"]
          : [],
        "ingress-no-controller",
        `no controller routes this Ingress: ${o.reason}`,
        classes.length === 0
          ? "add an IngressClass (and the controller it names), or set ingressClassName to an existing one"
          : `set spec.ingressClassName to one of ${classes.map((c) => c.name).join(", ")}`,
      );
  }

  // Gateway API statuses.
  const analysis = analyzeGateways(state);
  for (const [gw, st] of analysis.gateways) {
    const className = (gw.spec as { gatewayClassName?: string }).gatewayClassName;
    if (st.conditions.some((c) => c.type === "Accepted" && c.reason === "Pending"))
      at(
        gw,
        ["spec", "gatewayClassName"],
        "gateway-not-accepted",
        `no GatewayClass ${className}: no controller reconciles this Gateway, so it routes nothing (Accepted Unknown, Pending)`,
        state.gatewayClasses.length
          ? `set gatewayClassName to one of ${state.gatewayClasses.map((c) => c.metadata.name).join(", ")}, or add GatewayClass ${className}`
          : `add a GatewayClass ${className} naming the controller (spec.controllerName)`,
      );
    st.listeners.forEach((l, i) => {
      const bad = l.conditions.filter(
        (c) =>
          (c.type === "Accepted" && c.status !== "True") ||
          (c.type === "Conflicted" && c.status === "True") ||
          (c.type === "ResolvedRefs" && c.status !== "True"),
      );
      if (bad.length === 0) return;
      const c = bad[0];
      const attached = l.attachedRoutes
        ? `; ${l.attachedRoutes} attached route${l.attachedRoutes === 1 ? "" : "s"} get${l.attachedRoutes === 1 ? "s" : ""} no requests through it`
        : "";
      at(
        gw,
        c.reason === "RefNotPermitted"
          ? ["spec", "listeners", i, "tls", "certificateRefs"]
          : c.reason === "InvalidRouteKinds"
            ? ["spec", "listeners", i, "allowedRoutes", "kinds"]
            : ["spec", "listeners", i],
        "listener-not-accepted",
        `listener ${l.name} is not programmed: ${bad.map((b) => `${b.type} ${b.reason}`).join(", ")}: ${bad.map((b) => b.message).join("; ")}${attached}`,
        c.reason === "UnsupportedProtocol"
          ? "use protocol HTTP or HTTPS"
          : c.reason === "RefNotPermitted"
            ? `add a ReferenceGrant in the Secret's namespace with from [{group: ${GATEWAY_GROUP}, kind: Gateway, namespace: ${gw.metadata.namespace}}] and to [{group: "", kind: Secret}], or use a Secret in the Gateway's namespace`
            : c.reason === "InvalidRouteKinds"
              ? "list only kinds this Gateway serves (HTTPRoute) in allowedRoutes.kinds"
              : "give each listener on a port the same protocol and its own hostname",
      );
    });
  }
  for (const [route, parents] of analysis.routes) {
    const refs = (route.spec as { parentRefs?: unknown[] }).parentRefs ?? [];
    if (refs.length === 0)
      at(
        route,
        ["spec"],
        "route-not-accepted",
        "the HTTPRoute names no parentRefs: no Gateway routes it",
        "add parentRefs: [{name: <a Gateway>}]",
      );
    refs.forEach((r, i) => {
      const ref = r as { name?: string; namespace?: string; group?: string; kind?: string };
      if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? "Gateway") !== "Gateway") return;
      const ns = ref.namespace ?? route.metadata.namespace;
      const gw = state.gateways.find((g) => g.metadata.namespace === ns && g.metadata.name === ref.name);
      const st = gw && analysis.gateways.get(gw);
      if (gw && st?.conditions.some((c) => c.type === "Accepted" && c.reason === "Pending"))
        at(
          route,
          ["spec", "parentRefs", i],
          "route-not-accepted",
          `Gateway ${ns}/${ref.name} has no GatewayClass (${(gw.spec as { gatewayClassName?: string }).gatewayClassName}): no controller reconciles it, so nobody accepts this route`,
          "fix the Gateway's gatewayClassName (see the gateway-not-accepted finding)",
        );
    });
    parents.forEach((p) => {
      const accepted = p.conditions.find((c) => c.type === "Accepted");
      if (accepted && accepted.status !== "True") {
        const i = refs.findIndex(
          (r) =>
            (r as { name?: string }).name === p.parentRef.name &&
            (r as { sectionName?: string }).sectionName === p.parentRef.sectionName &&
            (r as { namespace?: string }).namespace === p.parentRef.namespace,
        );
        at(
          route,
          ["spec", "parentRefs", Math.max(i, 0)],
          "route-not-accepted",
          `not accepted by Gateway ${p.parentRef.namespace ?? route.metadata.namespace}/${p.parentRef.name}: ${accepted.reason}: ${accepted.message}`,
          accepted.reason === "NotAllowedByListeners"
            ? "allow the route's namespace in the listener's allowedRoutes, or move the route"
            : accepted.reason === "NoMatchingListenerHostname"
              ? "give the route a hostname the listener serves"
              : "name an existing Gateway and listener (sectionName, port)",
        );
      }
    });
  }

  // Backends: HTTPRoute backendRefs that do not resolve, and Services without ready endpoints.
  const services = serviceIndex(state);
  for (const route of state.httpRoutes) {
    const rules =
      (
        route.spec as {
          rules?: {
            backendRefs?: {
              name: string;
              namespace?: string;
              port?: number;
              kind?: string;
              group?: string;
            }[];
          }[];
        }
      ).rules ?? [];
    rules.forEach((rule, i) => {
      (rule.backendRefs ?? []).forEach((b, k) => {
        const bat = ["spec", "rules", i, "backendRefs", k];
        const ns = b.namespace ?? route.metadata.namespace ?? "default";
        // One finding per backendRef, at it: the first ResolvedRefs reason that applies, in the
        // order gateway.ts `resolveBackend` checks them (InvalidKind, RefNotPermitted, BackendNotFound).
        if ((b.group ?? "") !== "" || (b.kind ?? "Service") !== "Service") {
          at(
            route,
            bat,
            "backend-not-found",
            `ResolvedRefs InvalidKind: backendRef ${b.group ? `${b.group}/` : ""}${b.kind} ${b.name}: podnet routes to core Services only; requests this rule sends there get 500`,
            'refer to a core Service (group "", kind Service)',
          );
          return;
        }
        const routeNs = route.metadata.namespace ?? "default";
        if (
          !referenceAllowed(
            state.referenceGrants,
            { group: GATEWAY_GROUP, kind: "HTTPRoute", namespace: routeNs },
            { group: "", kind: "Service", namespace: ns, name: b.name },
          )
        ) {
          at(
            route,
            bat,
            "backend-not-found",
            `ResolvedRefs RefNotPermitted: Service ${ns}/${b.name} is in another namespace and no ReferenceGrant in ${ns} allows HTTPRoutes of ${routeNs} to refer to it; requests this rule sends there get 500`,
            `add a ReferenceGrant in ${ns} with from [{group: ${GATEWAY_GROUP}, kind: HTTPRoute, namespace: ${routeNs}}] and to [{group: "", kind: Service}]`,
          );
          return;
        }
        const p = backendProblem(services, { namespace: ns, service: b.name, port: b.port ?? 0 });
        if (p)
          at(
            route,
            bat,
            p.kind === "endpoints" ? "backend-no-endpoints" : "backend-not-found",
            `${p.reason}: requests this rule sends there get ${p.kind === "endpoints" ? 503 : 500}`,
            p.kind === "endpoints"
              ? "check the Service's selector matches running pods"
              : "name an existing Service and one of its ports",
          );
      });
    });
  }
  for (const ing of state.ingresses) {
    const spec = (ing.spec ?? {}) as {
      defaultBackend?: { service?: { name: string; port: { number?: number; name?: string } } };
      rules?: {
        http?: {
          paths: { backend: { service?: { name: string; port: { number?: number; name?: string } } } }[];
        };
      }[];
    };
    const check = (
      svc: { name: string; port: { number?: number; name?: string } } | undefined,
      path: FieldPath,
    ) => {
      if (!svc) return;
      const p = backendProblem(services, {
        namespace: ing.metadata.namespace ?? "default",
        service: svc.name,
        port: svc.port.name ?? svc.port.number ?? 0,
      });
      if (p)
        at(
          ing,
          [...path, "service", p.kind === "port" ? "port" : "name"],
          p.kind === "endpoints" ? "backend-no-endpoints" : "backend-not-found",
          `${p.reason}: the controller answers 503`,
          p.kind === "endpoints"
            ? "check the Service's selector matches running pods"
            : "name an existing Service and one of its ports",
        );
    };
    check(spec.defaultBackend?.service, ["spec", "defaultBackend"]);
    spec.rules?.forEach((r, i) => {
      r.http?.paths.forEach((p, j) => {
        check(p.backend.service, ["spec", "rules", i, "http", "paths", j, "backend"]);
      });
    });
  }

  // Shadowed entries and hosts claimed twice, from the routing tables.
  const specs: RouterSpec[] = [...ingressRouterSpecs(state, opts), ...analysis.specs];
  const claimed = new Map<string, { controller: ControllerKey; rule: RuleRef }>();
  for (const spec of specs) {
    const groups = new Map<string, RouteEntry[]>();
    for (const e of spec.entries) {
      if (e.fallback) continue;
      for (const h of e.hostnames.length ? e.hostnames : [""]) {
        for (const l of e.listeners ?? [""]) {
          const k = `${l}\u0000${h}`;
          const g = groups.get(k) ?? [];
          groups.set(k, g);
          g.push(e);
        }
        if (h && !h.startsWith("*.")) {
          const prev = claimed.get(h);
          if (!prev) claimed.set(h, { controller: spec.controller, rule: e.rule });
          else if (controllerWords(prev.controller) !== controllerWords(spec.controller)) {
            const obj = objOf(e.rule);
            if (obj)
              at(
                obj,
                e.rule.kind === "Ingress" ? ["spec", "rules", e.rule.rule, "host"] : ["spec", "hostnames"],
                "host-claimed-twice",
                `host ${h} is served by ${controllerWords(spec.controller)} and by ${controllerWords(prev.controller)} (${refWords(prev.rule)}): which one a client reaches depends on where DNS points`,
                "serve each host from one controller",
              );
            prev.controller = spec.controller; // one finding per further controller
          }
        }
      }
    }
    const reported = new Set<RouteEntry>();
    for (const [k, list] of groups) {
      if (list.length > MAX_SHADOW_GROUP) {
        skipped.push(
          `the shadowed-rule check for host ${k.split("\u0000")[1] || "*"} of ${controllerWords(spec.controller)} (${list.length} rules; at most ${MAX_SHADOW_GROUP})`,
        );
        continue;
      }
      const keyed = list
        .map((e) => ({ e, key: precedenceKey(spec.api, e) }))
        .sort((a, b) => compareKeys(a.key, b.key));
      for (let i = 0; i < keyed.length; i++) {
        const e = keyed[i].e;
        if (reported.has(e)) continue;
        for (let j = 0; j < i; j++) {
          const f = keyed[j].e;
          if (f === e || !pathCovers(f.path, e.path) || !conditionsCover(f, e)) continue;
          // The same hosts and listeners, or more: f is in every group e is in.
          const fh = new Set(f.hostnames);
          if (f.hostnames.length && !(e.hostnames.length && e.hostnames.every((h) => fh.has(h)))) continue;
          if (!f.hostnames.length && e.hostnames.length) continue;
          if (f.listeners && !(e.listeners ?? []).every((l) => f.listeners!.includes(l))) continue;
          if (f.listeners && !e.listeners) continue;
          const obj = objOf(e.rule);
          if (!obj) break;
          reported.add(e);
          at(
            obj,
            rulePath(e.rule),
            "route-shadowed",
            `no request reaches ${describeMatch(e)}: ${refWords(f.rule)} (${describeMatch(f)}) takes precedence on the same host${e.hostnames.length ? ` (${e.hostnames.join(", ")})` : "s"} and matches every request it matches`,
            "remove the rule, or make it more specific than the one that shadows it",
          );
          break;
        }
      }
    }
  }
  return { findings, skipped };
}

/** The routing findings' codes with what each finds and the usual fix (SARIF rules of `podnet lint -o sarif`). */
export const ROUTING_LINT_RULES: readonly {
  id: string;
  description: string;
  help: string;
  level: "warning";
}[] = [
  {
    id: "route-shadowed",
    description:
      "An Ingress path or HTTPRoute match no request can reach: a rule with higher precedence on the same hosts matches every request it matches.",
    help: "Remove the rule, or make it more specific than the one that shadows it.",
    level: "warning",
  },
  {
    id: "backend-not-found",
    description:
      "A backend names a missing Service or Service port (Ingress: 503; HTTPRoute: 500), or a backendRef is RefNotPermitted or InvalidKind.",
    help: "Name an existing Service and one of its ports; for another namespace, add a ReferenceGrant there.",
    level: "warning",
  },
  {
    id: "backend-no-endpoints",
    description: "A backend Service has no ready endpoints: the controller answers 503.",
    help: "Check that the Service's selector matches running, ready pods.",
    level: "warning",
  },
  {
    id: "route-not-accepted",
    description:
      "An HTTPRoute parentRef no Gateway accepts (NoMatchingParent, NotAllowedByListeners, NoMatchingListenerHostname), or a route without parentRefs.",
    help: "Name an existing Gateway and listener, allow the route's namespace there, and give the route a hostname the listener serves.",
    level: "warning",
  },
  {
    id: "ingress-no-controller",
    description: "An Ingress no IngressClass owns (no such class, or no single default class).",
    help: "Set spec.ingressClassName to an existing IngressClass, or mark one class as the default.",
    level: "warning",
  },
  {
    id: "listener-not-accepted",
    description:
      "A Gateway listener that is not programmed: not accepted (unsupported protocol), conflicting with another on its port, or with unresolved references (RefNotPermitted certificateRefs, InvalidRouteKinds).",
    help: "Use HTTP or HTTPS, one protocol per port, a distinct hostname per listener, certificates the Gateway may read, and route kinds it serves.",
    level: "warning",
  },
  {
    id: "gateway-not-accepted",
    description:
      "A Gateway whose GatewayClass does not exist: no controller reconciles it and it routes nothing.",
    help: "Set gatewayClassName to an existing GatewayClass, or add the class.",
    level: "warning",
  },
  {
    id: "host-claimed-twice",
    description: "A hostname two controllers (IngressClasses or Gateways) both serve.",
    help: "Serve each host from one controller.",
    level: "warning",
  },
];
