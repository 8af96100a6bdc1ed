/**
 * HTTP routing, as Ingress controllers and Gateway API implementations do it: the shapes every part
 * of podnet shares — the simulator's trace (src/core/sim), the views, and the reverse proxy the data
 * plane runs in controller pods (src/adapters/linux). The routing tables themselves are built in
 * ./ingress.ts and ./gateway.ts and compiled in ./router.ts; this file holds only the contract.
 *
 * A router is built from plain data (`RouterSpec`, JSON-safe) so that the same decision runs in the
 * simulator and, serialized, in the real reverse proxy: one function decides, everywhere.
 */

/**
 * Who routes: an Ingress controller, known by its IngressClass (`kind: "IngressClass"`, the class's
 * name; the IngressClass's `spec.controller` in `controller`), or one Gateway (`kind: "Gateway"`): each
 * Gateway is its own proxy in Gateway API implementations (its GatewayClass's `spec.controllerName` in
 * `controller`).
 */
export type ControllerKey =
  | { kind: "IngressClass"; name: string; controller: string }
  | { kind: "Gateway"; namespace: string; name: string; className: string; controller: string };

/** One HTTP request as a controller sees it. */
export interface HttpRequest {
  scheme: "http" | "https";
  /** The Host header (or TLS SNI), lower-case, without a port. */
  host: string;
  /** The port the request arrived on (80/443, or a Gateway listener's port). */
  port: number;
  /** The absolute path, without the query string, as sent (not normalised). */
  path: string;
  /** Query parameters in order (`?a=1&a=2` → two entries). */
  query: ReadonlyArray<readonly [string, string]>;
  /** Upper-case method (`GET`). */
  method: string;
  /** Headers in order; names compare case-insensitively. */
  headers: ReadonlyArray<readonly [string, string]>;
}

/** A Service port a rule sends to (Ingress: port number or name; HTTPRoute: port number). */
export interface HttpBackend {
  namespace: string;
  service: string;
  port: number | string;
  /** HTTPRoute backendRef weight (default 1); 1 for Ingress backends. */
  weight: number;
}

/** Which rule of which object matched (`path`: the Ingress path's or HTTPRoute match's index). */
export interface RuleRef {
  kind: "Ingress" | "HTTPRoute";
  namespace: string;
  name: string;
  /** Index into spec.rules; -1 for an Ingress's spec.defaultBackend. */
  rule: number;
  /** Index into rules[rule].http.paths (Ingress) or rules[rule].matches (HTTPRoute); -1 when none. */
  match: number;
}

/** A rule that was looked at and not taken, and why, in one line (`host shop.example.com ≠ api.example.com`). */
export interface RejectedRule {
  rule: RuleRef;
  why: string;
}

/**
 * What the controller does with a request:
 * - `routed`: a rule matched; `backends` are the weighted choices (the trace follows `chosen`);
 * - `not-found`: no rule matched (status 404, as ingress-nginx's default backend and Gateway API's
 *   "no matching route" answer);
 * - `backend-error`: a rule matched but its backend cannot be used (status 500 for a backendRef
 *   Gateway API marks unresolved, 503 for a Service without endpoints), `reason` says which.
 */
export type RouteDecision =
  | {
      outcome: "routed";
      rule: RuleRef;
      /** The hostname and match that won, in words (`host *.example.com, Prefix /cart`). */
      matched: string;
      backends: HttpBackend[];
      /** The backend a deterministic choice picks among `backends` (by weight), as the trace follows it. */
      chosen: HttpBackend;
      /** Filters the rule applies (HTTPRoute `filters[].type`, shown, e.g. `RequestHeaderModifier`). */
      filters: string[];
      considered: RejectedRule[];
    }
  | { outcome: "not-found"; status: 404; considered: RejectedRule[] }
  | {
      outcome: "backend-error";
      status: 500 | 503;
      rule: RuleRef;
      reason: string;
      considered: RejectedRule[];
    };

/** A listener a controller serves requests on (Ingress controllers: 80 and, with TLS hosts, 443). */
export interface HttpListener {
  /** Gateway listener name (sectionName); `http` / `https` for an Ingress controller. */
  name: string;
  protocol: "HTTP" | "HTTPS";
  port: number;
  /** The listener's hostname (Gateway) or undefined (any host). */
  hostname?: string;
  /** TLS hosts this listener terminates (Ingress spec.tls[].hosts; Gateway HTTPS listeners' hostname). */
  tlsHosts?: string[];
}

/** One (host, path) that leads to a backend: what connlist and the views list per rule. */
export interface RouteListing {
  rule: RuleRef;
  /** The hostname the rule serves (undefined: any host). */
  host?: string;
  /** The path match in words (`Prefix /cart`, `Exact /`, `any`), with header/query/method matches after it. */
  path: string;
  backends: HttpBackend[];
}

/**
 * A controller's compiled routing table (src/core/routing/router.ts `compileRouter`, from a JSON-safe
 * `RouterSpec` made by `routerSpecs(state)`): the same object decides in the simulator and in the data
 * plane's reverse proxy.
 */
export interface Router {
  readonly controller: ControllerKey;
  readonly listeners: readonly HttpListener[];
  /** Decides one request. Pure; ≤ 10 µs with 10,000 rules (bench/routing.ts). */
  decide(req: HttpRequest): RouteDecision;
  /** Every (host, path) → backends this controller routes, in precedence order. */
  listing(): RouteListing[];
}
