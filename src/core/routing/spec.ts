/**
 * The JSON-safe routing table of one controller (`RouterSpec`): what ./ingress.ts and ./gateway.ts
 * make from the cluster's objects and ./router.ts compiles into an index. Plain data only, so the
 * data plane can hand it to the reverse proxy it runs in a controller pod and decide there exactly
 * as the simulator does.
 */
import type { ControllerKey, HttpBackend, HttpListener, RuleRef } from "./types.ts";

/**
 * How a path is matched:
 * - `Exact`: the request path equals `value` (case-sensitive, no normalisation);
 * - `Prefix` (Ingress Prefix, HTTPRoute PathPrefix): element-wise on `/`, a trailing `/` of `value`
 *   ignored: `/foo` matches `/foo`, `/foo/` and `/foo/bar`, not `/foobar`;
 * - `ImplementationSpecific` (Ingress): a plain string prefix, as ingress-nginx's `location /foo`
 *   without `use-regex` (`/foo` matches `/foobar` too); an empty path is `/`;
 * - `RegularExpression` (HTTPRoute): `value` as a JavaScript regular expression that must match the
 *   whole path.
 */
export type PathMatchType = "Exact" | "Prefix" | "ImplementationSpecific" | "RegularExpression";

/** A header or query parameter condition (HTTPHeaderMatch / HTTPQueryParamMatch). */
export interface ValueMatch {
  type: "Exact" | "RegularExpression";
  name: string;
  value: string;
}

/** A backend as a spec carries it: `invalid` says why Gateway API marks it unresolved (500). */
export interface SpecBackend extends HttpBackend {
  /** Why Gateway API marks this backendRef unresolved (`BackendNotFound: …`): requests to it get 500. */
  invalid?: string;
  /** Why the backend cannot answer although it resolves (no ready endpoints): requests to it get 503. */
  unavailable?: string;
}

/**
 * One match of one rule: the hosts it serves, its path and other conditions, and where it sends.
 * Entries are kept in input order; the router orders them by the API's precedence.
 */
export interface RouteEntry {
  rule: RuleRef;
  /** Listener names (Gateway sectionNames) the entry is served on; absent: every listener. */
  listeners?: string[];
  /** Hostnames the entry serves: precise or `*.` wildcards, lower-case; empty: every host. */
  hostnames: string[];
  path: { type: PathMatchType; value: string };
  /** HTTPRoute method match (upper-case). */
  method?: string;
  headers: ValueMatch[];
  queryParams: ValueMatch[];
  backends: SpecBackend[];
  /** The rule matched but cannot forward: status and why (missing Service, no endpoints …). */
  error?: { status: 500 | 503; reason: string };
  /** HTTPRoute rule filters' types, shown. */
  filters: string[];
  /** An Ingress's spec.defaultBackend: taken only when no other entry of the host matches. */
  fallback?: boolean;
  /**
   * Rank among entries the API's precedence rules leave tied (0 first): Ingresses and HTTPRoutes by
   * creationTimestamp, then namespace/name, then rule and match index.
   */
  order: number;
}

/** One controller's routing table, as `routerSpecs(state)` makes it. */
export interface RouterSpec {
  controller: ControllerKey;
  /**
   * Which API the entries come from: it decides the wildcard and precedence rules. `Ingress`: a
   * `*.` wildcard covers exactly one label; longest path first, Exact before Prefix on ties.
   * `Gateway`: a wildcard covers any number of labels; Exact, then RegularExpression, then the
   * longest PathPrefix, then method, most headers, most query parameters.
   */
  api: "Ingress" | "Gateway";
  listeners: HttpListener[];
  entries: RouteEntry[];
}
