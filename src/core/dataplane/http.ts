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
  /** `ns/name` → the Service's ClusterIP and its ports by name and number. */
  services: Record<string, { clusterIP?: string; ports: { name?: string; port: number }[] }>;
  /** Files of the TLS certificate and key (PEM) the HTTPS listeners present, when there are any. */
  tls?: { cert: string; key: string };
}

/** The Services of `state` as `ProxySpec.services` holds them (TCP ports only: HTTP runs on TCP). */
export function proxyServices(state: ClusterState): ProxySpec["services"] {
  const out: ProxySpec["services"] = {};
  for (const s of state.services) {
    const ip = s.spec.clusterIP;
    out[`${s.metadata.namespace}/${s.metadata.name}`] = {
      ...(ip && ip !== "None" ? { clusterIP: ip } : {}),
      ports: (s.spec.ports ?? [])
        .filter((p) => (p.protocol ?? "TCP") === "TCP")
        .map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port })),
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
 * The status a proxy answers when it cannot reach the backend: 503, as Envoy answers "upstream connect
 * error or disconnect/reset before headers" (envoyproxy/envoy source/common/router/router.cc) and as
 * ingress-nginx answers a Service it has no endpoints or address for.
 */
export const UNREACHABLE_STATUS = 503;

/**
 * What the proxy does with a decision before it connects anywhere: answer with a status of its own
 * (404 when nothing matched, the decision's 500/503, 503 when the chosen backend has no address), or
 * connect to an address.
 */
export function proxyAction(
  services: ProxySpec["services"],
  d: RouteDecision,
):
  | { kind: "answer"; status: number; why: string }
  | { kind: "connect"; address: BackendAddress; backend: HttpBackend } {
  if (d.outcome === "not-found") return { kind: "answer", status: d.status, why: "no rule matches" };
  if (d.outcome === "backend-error") return { kind: "answer", status: d.status, why: d.reason };
  const a = backendAddress(services, d.chosen);
  if (!a.ok) return { kind: "answer", status: UNREACHABLE_STATUS, why: a.why };
  return { kind: "connect", address: a.address, backend: d.chosen };
}
