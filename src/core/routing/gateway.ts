/**
 * Gateway API routing (gateway.networking.k8s.io/v1) as a conformant implementation does it, after
 * kubernetes-sigs/gateway-api `apis/v1/{gateway,httproute,shared}_types.go` and
 * `apis/v1beta1/referencegrant_types.go`:
 * - every GatewayClass is accepted (podnet plays whichever controller `spec.controllerName` names);
 * - each Gateway of an existing class is one proxy (one RouterSpec); its HTTP and HTTPS listeners
 *   serve requests. Other protocols are `Accepted: False, UnsupportedProtocol` (podnet routes HTTP
 *   only); listeners sharing a port with another protocol are `Conflicted: True, ProtocolConflict`;
 *   on the same port, protocol and hostname `HostnameConflict`;
 * - an HTTPRoute attaches through each parentRef (group/kind Gateway, namespace defaulting to the
 *   route's, `sectionName` and `port` narrowing the listeners) to the listeners that allow it
 *   (`allowedRoutes.namespaces.from` Same (default) / All / Selector / None, and `kinds`) and whose
 *   hostname intersects the route's; per parent `Accepted` is True (`Accepted`) or False with
 *   `NoMatchingParent`, `NotAllowedByListeners` or `NoMatchingListenerHostname`;
 * - `ResolvedRefs`: each backendRef must be a core Service (`InvalidKind`), in the route's namespace
 *   unless a ReferenceGrant in the Service's namespace allows HTTPRoutes of the route's namespace
 *   (`RefNotPermitted`), and exist with that port (`BackendNotFound`). Requests a rule would send to
 *   an invalid backendRef answer 500; to a Service without ready endpoints, 503.
 * - Hostnames: the intersection of listener and route hostnames; a `*.` wildcard covers any number
 *   of labels (`*.example.com` matches `a.b.example.com`, not `example.com`).
 */
import type { ClusterState } from "../control/state.ts";
import { compileSelector } from "../labels.ts";
import {
  type Condition,
  GATEWAY_GROUP,
  type Gateway,
  type HTTPRoute,
  type HTTPRouteMatch,
  type Listener,
  type ParentReference,
  type ReferenceGrant,
  type RouteParentStatus,
} from "../model/gateway.ts";
import type { KubeObject } from "../model/k8s.ts";
import { backendProblem, byAge, type ServiceIndex, serviceIndex } from "./backends.ts";
import { hostMatches } from "./router.ts";
import type { RouteEntry, RouterSpec, SpecBackend, ValueMatch } from "./spec.ts";
import type { HttpListener } from "./types.ts";

/** The controllerName podnet writes into HTTPRoute parent statuses when the class names none. */
const ROUTE_KINDS = new Set(["HTTPRoute"]);

/** The computed status of one listener (Gateway `status.listeners[]`). */
export interface ListenerStatus {
  name: string;
  supportedKinds: { group: string; kind: string }[];
  attachedRoutes: number;
  conditions: Condition[];
}

/** The computed status of one Gateway. */
export interface GatewayStatus {
  conditions: Condition[];
  listeners: ListenerStatus[];
}

/** Everything a conformant implementation would write and route, for every Gateway API object. */
export interface GatewayAnalysis {
  /** GatewayClass → `status.conditions`. */
  classes: Map<KubeObject, Condition[]>;
  gateways: Map<KubeObject, GatewayStatus>;
  /** HTTPRoute → `status.parents` (one per parentRef a known controller handles). */
  routes: Map<KubeObject, RouteParentStatus[]>;
  specs: RouterSpec[];
}

const cond = (type: string, ok: boolean | "Unknown", reason: string, message: string): Condition => ({
  type,
  status: ok === "Unknown" ? "Unknown" : ok ? "True" : "False",
  reason,
  message,
});

/** Whether a ReferenceGrant in `toNamespace` lets a `fromKind` of `fromNamespace` refer to `toKind` `name` (group "" is core). */
export function referenceAllowed(
  grants: readonly KubeObject[],
  from: { group: string; kind: string; namespace: string },
  to: { group: string; kind: string; namespace: string; name: string },
): boolean {
  if (from.namespace === to.namespace) return true;
  return grants.some((g) => {
    if (g.metadata.namespace !== to.namespace) return false;
    const spec = (g as ReferenceGrant).spec;
    return (
      spec.from.some(
        (f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace,
      ) &&
      spec.to.some(
        (t) => (t.group ?? "") === to.group && t.kind === to.kind && (!t.name || t.name === to.name),
      )
    );
  });
}

/**
 * The hostnames a route serves on a listener: the intersection of the two sets (see
 * HTTPRouteSpec.Hostnames). `[]` with `ok` means every host; `ok: false` means none intersects.
 */
export function intersectHostnames(
  listener: string | undefined,
  route: readonly string[],
): { ok: boolean; hostnames: string[] } {
  if (!listener) return { ok: true, hostnames: [...route] };
  if (route.length === 0) return { ok: true, hostnames: [listener] };
  const out = new Set<string>();
  for (const h of route) {
    if (h === listener || hostMatches(listener, h, "suffix")) out.add(h);
    else if (
      h.startsWith("*.") &&
      hostMatches(h, listener.startsWith("*.") ? listener.slice(2) : listener, "suffix")
    )
      out.add(listener);
  }
  return { ok: out.size > 0, hostnames: [...out] };
}

interface ListenerState {
  listener: Listener;
  /**
   * Whether the listener serves requests: Accepted, not Conflicted, ResolvedRefs True (so
   * Programmed True). Routes attach to listeners that are not (they count in attachedRoutes, as
   * `ListenerStatus.AttachedRoutes` in apis/v1/gateway_types.go says), but reach no request there.
   */
  valid: boolean;
  status: ListenerStatus;
  allows: (routeNamespace: string) => boolean;
}

function listenerStates(gw: Gateway, state: ClusterState, grants: readonly KubeObject[]): ListenerState[] {
  const listeners = gw.spec.listeners ?? [];
  const ns = gw.metadata.namespace ?? "default";
  return listeners.map((l) => {
    const conditions: Condition[] = [];
    let valid = true;
    const proto = l.protocol;
    const samePort = listeners.filter((o) => o !== l && o.port === l.port);
    const httpish = proto === "HTTP" || proto === "HTTPS";
    if (!httpish) {
      valid = false;
      conditions.push(
        cond(
          "Accepted",
          false,
          "UnsupportedProtocol",
          `podnet routes HTTP and HTTPS listeners only, not ${proto}`,
        ),
      );
    } else if (samePort.some((o) => o.protocol !== proto)) {
      valid = false;
      conditions.push(
        cond(
          "Conflicted",
          true,
          "ProtocolConflict",
          `another listener uses port ${l.port} with another protocol (${samePort
            .filter((o) => o.protocol !== proto)
            .map((o) => `${o.name}: ${o.protocol}`)
            .join(", ")})`,
        ),
      );
    } else if (samePort.some((o) => o.protocol === proto && (o.hostname ?? "") === (l.hostname ?? ""))) {
      valid = false;
      conditions.push(
        cond(
          "Conflicted",
          true,
          "HostnameConflict",
          `another listener on port ${l.port} has the same hostname ${l.hostname ?? "(none)"}`,
        ),
      );
    } else conditions.push(cond("Conflicted", false, "NoConflicts", "no conflicts"));
    // Route kinds: HTTPRoute is the one podnet routes.
    const asked = l.allowedRoutes?.kinds;
    const supportedKinds = asked
      ? asked
          .filter((k) => (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && ROUTE_KINDS.has(k.kind))
          .map((k) => ({ group: GATEWAY_GROUP, kind: k.kind }))
      : httpish
        ? [{ group: GATEWAY_GROUP, kind: "HTTPRoute" }]
        : [];
    let resolved = cond("ResolvedRefs", true, "ResolvedRefs", "all references resolved");
    if (asked && supportedKinds.length < asked.length)
      resolved = cond(
        "ResolvedRefs",
        false,
        "InvalidRouteKinds",
        `unsupported route kinds: ${asked
          .filter((k) => !ROUTE_KINDS.has(k.kind) || (k.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP)
          .map((k) => k.kind)
          .join(", ")}`,
      );
    for (const ref of (l.tls?.certificateRefs ?? []) as {
      namespace?: string;
      name?: string;
      kind?: string;
      group?: string;
    }[]) {
      const toNs = ref.namespace ?? ns;
      if (
        !referenceAllowed(
          grants,
          { group: GATEWAY_GROUP, kind: "Gateway", namespace: ns },
          { group: ref.group ?? "", kind: ref.kind ?? "Secret", namespace: toNs, name: ref.name ?? "" },
        )
      )
        resolved = cond(
          "ResolvedRefs",
          false,
          "RefNotPermitted",
          `certificateRef ${toNs}/${ref.name} is in another namespace and no ReferenceGrant there allows it`,
        );
    }
    conditions.push(resolved);
    if (valid && !conditions.some((c) => c.type === "Accepted"))
      conditions.unshift(cond("Accepted", true, "Accepted", "listener accepted"));
    if (conditions.every((c) => c.type !== "Accepted"))
      conditions.unshift(cond("Accepted", false, "Invalid", "listener conflicts"));
    // Programmed is the summary: a listener with unresolved references (a certificate it may not
    // read, route kinds it cannot serve) is not programmed either (conformance
    // tests/gateway-with-attached-routes.go: "AttachedRoutes set even when Gateway has unresolved
    // refs" expects Programmed False with ResolvedRefs False).
    const programmed = valid && resolved.status === "True";
    conditions.push(
      programmed
        ? cond("Programmed", true, "Programmed", "listener programmed")
        : cond(
            "Programmed",
            false,
            "Invalid",
            valid ? `listener not programmed: ResolvedRefs ${resolved.reason}` : "listener not valid",
          ),
    );
    const from = l.allowedRoutes?.namespaces?.from ?? "Same";
    const sel = l.allowedRoutes?.namespaces?.selector;
    const matcher = from === "Selector" && sel ? compileSelector(sel) : undefined;
    const nsLabels = new Map(state.namespaces.map((n) => [n.metadata.name, n.metadata.labels]));
    const allows = (routeNs: string) =>
      from === "All" ||
      (from === "Same" && routeNs === ns) ||
      (from === "Selector" &&
        !!matcher &&
        matcher(nsLabels.get(routeNs) ?? { "kubernetes.io/metadata.name": routeNs }));
    return {
      listener: l,
      valid: programmed && supportedKinds.length > 0,
      status: { name: l.name, supportedKinds, attachedRoutes: 0, conditions },
      allows,
    };
  });
}

/** Why a listener serves no requests: its failing conditions (`Conflicted: ProtocolConflict`). */
export function notServing(l: { status: ListenerStatus }): string {
  return l.status.conditions
    .filter(
      (c) =>
        (c.type === "Conflicted" && c.status === "True") ||
        (c.type !== "Conflicted" && c.type !== "Programmed" && c.status !== "True"),
    )
    .map((c) => `${c.type}: ${c.reason}`)
    .join(", ");
}

/** The parent a parentRef names, as a `namespace/name` key, when it is a Gateway. */
function parentKey(route: KubeObject, p: ParentReference): string | undefined {
  if ((p.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (p.kind ?? "Gateway") !== "Gateway") return undefined;
  return `${p.namespace ?? route.metadata.namespace}/${p.name}`;
}

/** First entries with an equivalent name only (header names case-insensitively), as the spec says. */
function firstByName(
  list: readonly { type?: string; name: string; value: string }[] | undefined,
  fold: boolean,
): ValueMatch[] {
  const seen = new Set<string>();
  const out: ValueMatch[] = [];
  for (const m of list ?? []) {
    const k = fold ? m.name.toLowerCase() : m.name;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({
      type: m.type === "RegularExpression" ? "RegularExpression" : "Exact",
      name: m.name,
      value: m.value,
    });
  }
  return out;
}

/** Resolves one backendRef: the backend and, when unusable, why (reason as ResolvedRefs spells it). */
function resolveBackend(
  route: HTTPRoute,
  ref: NonNullable<HTTPRoute["spec"]["rules"]>[number]["backendRefs"] extends (infer B)[] | undefined
    ? B
    : never,
  services: ServiceIndex,
  grants: readonly KubeObject[],
): { backend: SpecBackend; problem?: { reason: string; message: string } } {
  const ns = ref.namespace ?? route.metadata.namespace ?? "default";
  const backend: SpecBackend = {
    namespace: ns,
    service: ref.name,
    port: ref.port ?? 0,
    weight: ref.weight ?? 1,
  };
  const group = ref.group ?? "";
  const kind = ref.kind ?? "Service";
  const fail = (reason: string, message: string) => {
    backend.invalid = `${reason}: ${message}`;
    return { backend, problem: { reason, message } };
  };
  if (group !== "" || kind !== "Service")
    return fail(
      "InvalidKind",
      `backendRef ${group ? `${group}/` : ""}${kind} ${ref.name}: podnet routes to core Services only`,
    );
  if (
    !referenceAllowed(
      grants,
      { group: GATEWAY_GROUP, kind: "HTTPRoute", namespace: route.metadata.namespace ?? "default" },
      { group: "", kind: "Service", namespace: ns, name: ref.name },
    )
  )
    return fail(
      "RefNotPermitted",
      `backendRef Service ${ns}/${ref.name} is in another namespace and no ReferenceGrant in ${ns} allows HTTPRoutes of ${route.metadata.namespace} to refer to it`,
    );
  const p = backendProblem(services, backend);
  if (p?.kind === "missing" || p?.kind === "port") return fail("BackendNotFound", p.reason);
  if (p?.kind === "endpoints") backend.unavailable = p.reason;
  return { backend };
}

/** Computes the status of every Gateway API object and the routing table of every Gateway. */
export function analyzeGateways(state: ClusterState): GatewayAnalysis {
  const classes = new Map<KubeObject, Condition[]>();
  const classByName = new Map<string, KubeObject>();
  for (const gc of state.gatewayClasses) {
    classByName.set(gc.metadata.name, gc);
    classes.set(gc, [
      cond(
        "Accepted",
        true,
        "Accepted",
        `podnet accepts the class (controller ${String((gc.spec as { controllerName?: string }).controllerName)})`,
      ),
    ]);
  }
  const grants = state.referenceGrants;
  const services = serviceIndex(state);
  const gateways = new Map<KubeObject, GatewayStatus>();
  const gwByKey = new Map<string, { gw: Gateway; cls?: KubeObject; listeners: ListenerState[] }>();
  for (const g of state.gateways) {
    const gw = g as Gateway;
    const cls = classByName.get(gw.spec.gatewayClassName);
    const ls = listenerStates(gw, state, grants);
    gwByKey.set(`${gw.metadata.namespace}/${gw.metadata.name}`, { gw, cls, listeners: ls });
    const conditions = cls
      ? ls.some((l) => !l.valid)
        ? [
            cond(
              "Accepted",
              ls.some((l) => l.valid),
              "ListenersNotValid",
              `listeners not valid: ${ls
                .filter((l) => !l.valid)
                .map((l) => l.listener.name)
                .join(", ")}`,
            ),
            cond(
              "Programmed",
              ls.some((l) => l.valid),
              ls.some((l) => l.valid) ? "Programmed" : "Invalid",
              ls.some((l) => l.valid) ? "podnet programs the valid listeners" : "no listener is programmed",
            ),
          ]
        : [
            cond("Accepted", true, "Accepted", "gateway accepted"),
            cond("Programmed", true, "Programmed", "gateway programmed"),
          ]
      : [
          cond(
            "Accepted",
            "Unknown",
            "Pending",
            `no GatewayClass ${gw.spec.gatewayClassName}: no controller reconciles this Gateway`,
          ),
          cond("Programmed", "Unknown", "Pending", "waiting for a controller"),
        ];
    gateways.set(gw, { conditions, listeners: ls.map((l) => l.status) });
  }

  const routes = new Map<KubeObject, RouteParentStatus[]>();
  // Entries per Gateway, with the attached routes in age order.
  const attached = new Map<string, { route: HTTPRoute; listeners: ListenerState[] }[]>();
  const sortedRoutes = [...state.httpRoutes].sort(byAge) as HTTPRoute[];
  for (const route of sortedRoutes) {
    const parents: RouteParentStatus[] = [];
    const refs = route.spec.parentRefs ?? [];
    // ResolvedRefs is the route's, the same under every parent.
    const problems: { reason: string; message: string }[] = [];
    for (const rule of route.spec.rules ?? [])
      for (const b of rule.backendRefs ?? []) {
        const r = resolveBackend(route, b, services, grants);
        if (r.problem) problems.push(r.problem);
      }
    const resolved = problems.length
      ? cond("ResolvedRefs", false, problems[0].reason, problems.map((p) => p.message).join("; "))
      : cond("ResolvedRefs", true, "ResolvedRefs", "all backendRefs resolved");
    for (const p of refs) {
      const key = parentKey(route, p);
      if (!key) continue;
      const gw = gwByKey.get(key);
      const parentRef = { group: GATEWAY_GROUP, kind: "Gateway", ...p };
      const controllerName = String(
        (gw?.cls?.spec as { controllerName?: string } | undefined)?.controllerName ??
          "podnet.dev/gateway-controller",
      );
      const accepted = (ok: boolean, reason: string, message: string) =>
        parents.push({
          parentRef,
          controllerName,
          conditions: [cond("Accepted", ok, reason, message), resolved],
        });
      if (!gw) {
        accepted(false, "NoMatchingParent", `no Gateway ${key}`);
        continue;
      }
      if (!gw.cls) continue; // no controller for this Gateway: nobody writes a status
      const named = gw.listeners.filter(
        (l) =>
          (p.sectionName === undefined || l.listener.name === p.sectionName) &&
          (p.port === undefined || l.listener.port === p.port),
      );
      if (named.length === 0) {
        accepted(
          false,
          "NoMatchingParent",
          `Gateway ${key} has no listener${p.sectionName ? ` named ${p.sectionName}` : ""}${p.port ? ` on port ${p.port}` : ""}`,
        );
        continue;
      }
      const routeNs = route.metadata.namespace ?? "default";
      // Attachment depends on allowedRoutes and the parentRef alone, not on the listener's own
      // status (apis/v1/gateway_types.go `ListenerStatus.AttachedRoutes`): a route on a conflicted
      // or unresolved listener is Accepted and counted, and serves no request until it is fixed.
      const takesKind = named.filter((l) => l.status.supportedKinds.some((k) => k.kind === "HTTPRoute"));
      const allowing = takesKind.filter((l) => l.allows(routeNs));
      if (allowing.length === 0) {
        accepted(
          false,
          "NotAllowedByListeners",
          takesKind.length === 0
            ? `no listener of Gateway ${key}${p.sectionName ? ` (${p.sectionName})` : ""} takes HTTPRoutes (its allowedRoutes.kinds or protocol exclude them)`
            : `no listener of Gateway ${key}${p.sectionName ? ` (${p.sectionName})` : ""} allows HTTPRoutes from namespace ${routeNs}`,
        );
        continue;
      }
      const hostOk = allowing.filter(
        (l) => intersectHostnames(l.listener.hostname, route.spec.hostnames ?? []).ok,
      );
      if (hostOk.length === 0) {
        accepted(
          false,
          "NoMatchingListenerHostname",
          `no hostname of the route (${(route.spec.hostnames ?? []).join(", ")}) intersects a listener's of Gateway ${key}`,
        );
        continue;
      }
      const idle = hostOk.filter((l) => !l.valid);
      accepted(
        true,
        "Accepted",
        `attached to listener${hostOk.length === 1 ? "" : "s"} ${hostOk.map((l) => l.listener.name).join(", ")}${
          idle.length
            ? `; ${idle.map((l) => `${l.listener.name} (${notServing(l)})`).join(", ")} ${idle.length === 1 ? "is" : "are"} not programmed and ${idle.length === hostOk.length ? "no request reaches this route" : "route nothing"}`
            : ""
        }`,
      );
      const list = attached.get(key) ?? [];
      attached.set(key, list);
      const prev = list.find((a) => a.route === route);
      if (prev)
        for (const l of hostOk) {
          if (!prev.listeners.includes(l)) prev.listeners.push(l);
        }
      else list.push({ route, listeners: [...hostOk] });
    }
    routes.set(route, parents);
  }
  for (const list of attached.values())
    for (const a of list) for (const l of a.listeners) l.status.attachedRoutes++;

  const specs: RouterSpec[] = [];
  const gwKeys = [...gwByKey.keys()].sort();
  for (const key of gwKeys) {
    const { gw, cls, listeners } = gwByKey.get(key)!;
    if (!cls) continue;
    const httpListeners: HttpListener[] = listeners
      .filter((l) => l.valid)
      .map((l) => ({
        name: l.listener.name,
        protocol: l.listener.protocol as "HTTP" | "HTTPS",
        port: l.listener.port,
        ...(l.listener.hostname ? { hostname: l.listener.hostname } : {}),
        ...(l.listener.protocol === "HTTPS"
          ? { tlsHosts: l.listener.hostname ? [l.listener.hostname] : [] }
          : {}),
      }));
    const entries: RouteEntry[] = [];
    (attached.get(key) ?? []).forEach(({ route, listeners: ls }, rank) => {
      const ns = route.metadata.namespace ?? "default";
      (route.spec.rules ?? [{}]).forEach((rule, i) => {
        const backends = (rule.backendRefs ?? []).map(
          (b) => resolveBackend(route, b, services, grants).backend,
        );
        const matches: HTTPRouteMatch[] = rule.matches?.length ? rule.matches : [{}];
        matches.forEach((m, j) => {
          for (const l of ls.filter((x) => x.valid)) {
            const hosts = intersectHostnames(l.listener.hostname, route.spec.hostnames ?? []).hostnames;
            const type = m.path?.type ?? "PathPrefix";
            entries.push({
              rule: { kind: "HTTPRoute", namespace: ns, name: route.metadata.name, rule: i, match: j },
              listeners: [l.listener.name],
              hostnames: hosts.map((h) => h.toLowerCase()),
              path: { type: type === "PathPrefix" ? "Prefix" : type, value: m.path?.value ?? "/" },
              ...(m.method ? { method: m.method } : {}),
              headers: firstByName(m.headers, true),
              queryParams: firstByName(m.queryParams, false),
              backends,
              filters: (rule.filters ?? []).map((f) => f.type),
              order: rank * 1_000_000 + i * 1_000 + j,
            });
          }
        });
      });
    });
    specs.push({
      controller: {
        kind: "Gateway",
        namespace: gw.metadata.namespace ?? "default",
        name: gw.metadata.name,
        className: gw.spec.gatewayClassName,
        controller: String((cls.spec as { controllerName?: string }).controllerName ?? ""),
      },
      api: "Gateway",
      listeners: httpListeners,
      entries,
    });
  }
  return { classes, gateways, routes, specs };
}

/** The routing table of every Gateway whose GatewayClass exists, in `namespace/name` order. */
export function gatewayRouterSpecs(state: ClusterState): RouterSpec[] {
  return analyzeGateways(state).specs;
}
