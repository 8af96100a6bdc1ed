/**
 * What a controller finds when it looks up a backend Service: the Service, its port (by number or,
 * for Ingress, by name) and whether it has ready endpoints. Shared by ./ingress.ts and ./gateway.ts.
 */
import type { ClusterState } from "../control/state.ts";
import type { KubeObject, Service } from "../model/k8s.ts";

/** Services by `namespace/name`, and the count of ready endpoints per Service. */
export interface ServiceIndex {
  readonly services: ReadonlyMap<string, Service>;
  readonly ready: ReadonlyMap<string, number>;
}

/** Indexes `state`'s Services and EndpointSlices (label `kubernetes.io/service-name`). */
export function serviceIndex(state: ClusterState): ServiceIndex {
  const services = new Map<string, Service>();
  for (const s of state.services) services.set(`${s.metadata.namespace}/${s.metadata.name}`, s);
  const ready = new Map<string, number>();
  for (const slice of state.endpointSlices) {
    const svc = slice.metadata.labels?.["kubernetes.io/service-name"];
    if (!svc) continue;
    const k = `${slice.metadata.namespace}/${svc}`;
    const n = slice.endpoints.filter((e) => e.conditions.ready !== false).length;
    ready.set(k, (ready.get(k) ?? 0) + n);
  }
  return { services, ready };
}

/**
 * Why a backend (Service `namespace/name`, port number or name) cannot be used, in one line, or
 * undefined when it can: the Service is missing, has no such port, or (with `endpoints`) has no ready
 * endpoint. `kind`: whether a missing object is a "not found" (lookups) or "no ready endpoints" (503).
 */
export function backendProblem(
  idx: ServiceIndex,
  b: { namespace: string; service: string; port: number | string },
): { kind: "missing" | "port" | "endpoints"; reason: string } | undefined {
  const key = `${b.namespace}/${b.service}`;
  const svc = idx.services.get(key);
  if (!svc) return { kind: "missing", reason: `Service ${key} does not exist` };
  const ports = svc.spec.ports ?? [];
  if (svc.spec.type !== "ExternalName") {
    const found =
      typeof b.port === "number"
        ? ports.some((p) => p.port === b.port)
        : ports.some((p) => p.name === b.port);
    if (!found)
      return {
        kind: "port",
        reason: `Service ${key} has no port ${typeof b.port === "number" ? b.port : `named ${b.port}`} (it has ${
          ports.map((p) => (p.name ? `${p.port} (${p.name})` : `${p.port}`)).join(", ") || "none"
        })`,
      };
    if ((idx.ready.get(key) ?? 0) === 0)
      return { kind: "endpoints", reason: `Service ${key} has no ready endpoints` };
  }
  return undefined;
}

/** creationTimestamp, then `namespace/name`: the age order both APIs break ties with (a missing timestamp sorts first, as Go's zero time). */
export function byAge(a: KubeObject, b: KubeObject): number {
  const ta = String(a.metadata.creationTimestamp ?? "");
  const tb = String(b.metadata.creationTimestamp ?? "");
  if (ta !== tb)
    return (
      Date.parse(ta || "0001-01-01T00:00:00Z") - Date.parse(tb || "0001-01-01T00:00:00Z") ||
      (ta < tb ? -1 : 1)
    );
  const na = `${a.metadata.namespace ?? ""}/${a.metadata.name}`;
  const nb = `${b.metadata.namespace ?? ""}/${b.metadata.name}`;
  return na < nb ? -1 : na > nb ? 1 : 0;
}
