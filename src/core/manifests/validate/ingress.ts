/**
 * Ingress, IngressClass and OpenShift Route: the backends (Service name and port) podnet follows.
 */
import type { Check, Rec } from "../check.ts";

export function validateIngress(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!spec) return;
  c.string(spec.ingressClassName, ["spec", "ingressClassName"]);
  validateIngressBackend(c, spec.defaultBackend, ["spec", "defaultBackend"]);
  c.list(spec.rules, ["spec", "rules"])?.forEach((r, i) => {
    const m = c.map(r, ["spec", "rules", i]);
    if (!m) return;
    c.string(m.host, ["spec", "rules", i, "host"]);
    const http = c.map(m.http, ["spec", "rules", i, "http"]);
    c.list(http?.paths, ["spec", "rules", i, "http", "paths"])?.forEach((p, j) => {
      const pm = c.map(p, ["spec", "rules", i, "http", "paths", j]);
      if (pm) validateIngressBackend(c, pm.backend, ["spec", "rules", i, "http", "paths", j, "backend"]);
    });
  });
}

function validateIngressBackend(c: Check, v: unknown, at: (string | number)[]): void {
  const b = c.map(v, at);
  const svc = c.map(b?.service, [...at, "service"]);
  if (!svc) return;
  c.required(
    c.string(svc.name, [...at, "service", "name"]),
    [...at, "service", "name"],
    "the backend Service's name",
  );
  const port = c.map(svc.port, [...at, "service", "port"]);
  if (port?.number !== undefined) c.port(port.number, [...at, "service", "port", "number"]);
  c.string(port?.name, [...at, "service", "port", "name"]);
}

/** OpenShift Route: the Service it sends to (and alternates), and the target port. */
export function validateRoute(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.to with the Service the route sends to")) return;
  const backend = (v: unknown, at: (string | number)[]) => {
    const to = c.map(v, at);
    if (!to) return;
    const kind = c.string(to.kind, [...at, "kind"]);
    if (kind !== undefined && kind !== "Service")
      c.error(
        [...at, "kind"],
        "invalid-value",
        `a route sends to a Service, not a ${kind}`,
        "use kind: Service",
      );
    c.required(c.string(to.name, [...at, "name"]), [...at, "name"], "the Service's name", undefined, to);
  };
  if (c.required(spec.to, ["spec", "to"], "spec.to", "add spec.to: {kind: Service, name: …}", spec))
    backend(spec.to, ["spec", "to"]);
  c.list(spec.alternateBackends, ["spec", "alternateBackends"])?.forEach((b, i) => {
    backend(b, ["spec", "alternateBackends", i]);
  });
  const port = c.map(spec.port, ["spec", "port"]);
  const target = port?.targetPort;
  if (typeof target === "number") c.port(target, ["spec", "port", "targetPort"], "target port");
  else if (target !== undefined) c.string(target, ["spec", "port", "targetPort"]);
}

export function validateIngressClass(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  c.string(spec?.controller, ["spec", "controller"]);
}
