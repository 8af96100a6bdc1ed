/**
 * What the data plane's reverse proxy in a controller pod is given (JSON, written into the state
 * directory at `up`) and the few decisions it shares with `probe --http`'s predictions, so that both
 * take them from one function: where a routed request's backend Service is reached, and which status
 * a proxy answers when it cannot reach it. Pure.
 *
 * The routing decision itself is `Router.decide` (../routing/types.ts), compiled from `router` (a
 * `RouterSpec`) in the proxy and in the simulator alike.
 */
import type { ClusterState } from "../control/state.ts";
import type { HttpBackend, HttpListener, RouteDecision } from "../routing/types.ts";
import { type ControllerStatuses, INGRESS_NGINX_STATUSES } from "../sim/http-trace.ts";

/** One listener of a proxy: the pod port it binds, and whether it terminates TLS. */
export interface ProxyListener {
  /** The listener as the router names it (its `name`, `protocol`, `port`: what a request arrives on). */
  listener: HttpListener;
  /** The pod's port the proxy binds (the controller's container port behind the listener). */
  containerPort: number;
}

/** A backend Service port as the proxy connects to it: ClusterIP and port number, through kube-proxy. */
export interface BackendAddress {
  ip: string;
  port: number;
}

/**
 * Everything one controller pod's proxy needs: JSON-safe. `services` holds each Service a rule
 * refers to, as `backendAddress` resolves it (a Service without a ClusterIP, or without the port,
 * is absent from `ports`).
 */
export interface ProxySpec {
  /** `ns/name` of the controller pod. */
  pod: string;
  ip: string;
  listeners: ProxyListener[];
  /** The router's spec (`RouterSpec` of src/core/routing/router.ts), as `routerSpecs(state)` gives it. */
  router: unknown;
  /**
   * `ns/name` → the Service's ClusterIP, its ports by name and number, and how many ready endpoints
   * it has (`ready: 0`: the controller answers `statuses.noEndpoints` without connecting, as
   * ingress-nginx and Envoy know their upstreams from the EndpointSlices).
   */
  services: Record<string, { clusterIP?: string; ports: { name?: string; port: number }[]; ready?: number }>;
  /**
   * The statuses the proxy answers with itself when it cannot relay (../sim/http-trace.ts
   * `controllerStatuses` of the controller: ingress-nginx's or Envoy's). Default: ingress-nginx's.
   */
  statuses?: ControllerStatuses;
  /** Files of the TLS certificate and key (PEM) the HTTPS listeners present, when there are any. */
  tls?: { cert: string; key: string };
}

/** The Services of `state` as `ProxySpec.services` holds them (TCP ports only: HTTP runs on TCP). */
export function proxyServices(state: ClusterState): ProxySpec["services"] {
  const out: ProxySpec["services"] = {};
  const ready = new Map<string, number>();
  for (const slice of state.endpointSlices) {
    const name = slice.metadata.labels?.["kubernetes.io/service-name"];
    if (!name) continue;
    const key = `${slice.metadata.namespace}/${name}`;
    const n = slice.endpoints.filter((e) => e.conditions?.ready !== false).length;
    ready.set(key, (ready.get(key) ?? 0) + n);
  }
  for (const s of state.services) {
    const ip = s.spec.clusterIP;
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    out[key] = {
      ...(ip && ip !== "None" ? { clusterIP: ip } : {}),
      ports: (s.spec.ports ?? [])
        .filter((p) => (p.protocol ?? "TCP") === "TCP")
        .map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port })),
      ...(s.spec.selector && Object.keys(s.spec.selector).length ? { ready: ready.get(key) ?? 0 } : {}),
    };
  }
  return out;
}

/**
 * Where the proxy connects for `backend`: the Service's ClusterIP and the Service port it names (by
 * number, or by name as Ingress's `service.port.name`), or why it cannot (a missing Service or port,
 * a headless Service: no ClusterIP for kube-proxy to translate).
 */
export function backendAddress(
  services: ProxySpec["services"],
  backend: HttpBackend,
): { ok: true; address: BackendAddress } | { ok: false; why: string } {
  const key = `${backend.namespace}/${backend.service}`;
  const svc = services[key];
  if (!svc) return { ok: false, why: `Service ${key} does not exist` };
  const port =
    typeof backend.port === "number"
      ? svc.ports.find((p) => p.port === backend.port)
      : svc.ports.find((p) => p.name === backend.port);
  if (!port) return { ok: false, why: `Service ${key} has no TCP port ${backend.port}` };
  if (!svc.clusterIP) return { ok: false, why: `Service ${key} is headless (no ClusterIP to connect to)` };
  return { ok: true, address: { ip: svc.clusterIP, port: port.port } };
}

/**
 * What the proxy does with a decision before it connects anywhere: answer with a status of its own
 * (404 when nothing matched, the decision's 500/503, `statuses.missingBackend` when the chosen
 * backend has no address, `statuses.noEndpoints` when its Service has no ready endpoint), or connect
 * to an address. `statuses`: the controller's (../sim/http-trace.ts `controllerStatuses`), default
 * ingress-nginx's.
 */
export function proxyAction(
  services: ProxySpec["services"],
  d: RouteDecision,
  statuses: ControllerStatuses = INGRESS_NGINX_STATUSES,
):
  | { kind: "answer"; status: number; why: string }
  | { kind: "connect"; address: BackendAddress; backend: HttpBackend } {
  if (d.outcome === "not-found") return { kind: "answer", status: d.status, why: "no rule matches" };
  if (d.outcome === "backend-error") return { kind: "answer", status: d.status, why: d.reason };
  const a = backendAddress(services, d.chosen);
  if (!a.ok) return { kind: "answer", status: statuses.missingBackend, why: a.why };
  const key = `${d.chosen.namespace}/${d.chosen.service}`;
  if (services[key]?.ready === 0)
    return { kind: "answer", status: statuses.noEndpoints, why: `Service ${key} has no endpoints` };
  return { kind: "connect", address: a.address, backend: d.chosen };
}
