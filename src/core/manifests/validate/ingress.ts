/**
 * Ingress, IngressClass and OpenShift Route: the backends (Service name and port) podnet follows.
 */
import { canonicalIP } from "../../net/ipv4.ts";
import { type Check, dns1035LabelError, dns1123SubdomainError, portNameError, type Rec } from "../check.ts";

/**
 * Ingress (`ValidateIngressSpec`): a default backend or rules; each backend exactly one of a
 * Service or a resource; a Service backend's port exactly one of a name (IANA service name) or a
 * number (1-65535).
 */
/*
 * The fields of each networking.k8s.io/v1 type podnet reads (kubernetes/api
 * `networking/v1/types.go`); other keys get the "unknown field" warning.
 */
const INGRESS_SPEC = ["ingressClassName", "defaultBackend", "tls", "rules"];
const INGRESS_TLS = ["hosts", "secretName"];
const INGRESS_RULE = ["host", "http"];
const INGRESS_PATH = ["path", "pathType", "backend"];
const INGRESS_BACKEND = ["service", "resource"];
const SERVICE_BACKEND = ["name", "port"];
const SERVICE_BACKEND_PORT = ["name", "number"];
const INGRESSCLASS_SPEC = ["controller", "parameters"];
const INGRESSCLASS_PARAMETERS = ["apiGroup", "kind", "name", "scope", "namespace"];

export function validateIngress(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  const rules = c.list(spec?.rules, ["spec", "rules"]);
  if (c.hasError(["spec"]) || c.hasError(["spec", "rules"])) return; // reported already, once
  if (spec) c.fields(spec, ["spec"], INGRESS_SPEC, "an Ingress's spec");
  if (!spec || (!spec.defaultBackend && !rules?.length)) {
    c.error(
      spec ? ["spec"] : [],
      "missing-field",
      "either defaultBackend or rules must be specified",
      "add spec.rules (host and paths) or spec.defaultBackend",
    );
    return;
  }
  // ValidateIngressSpec: an IngressClass name is a DNS-1123 subdomain.
  const className = c.string(spec.ingressClassName, ["spec", "ingressClassName"]);
  const classErr = className === undefined ? undefined : dns1123SubdomainError(className);
  if (classErr)
    c.error(
      ["spec", "ingressClassName"],
      "invalid-name",
      classErr,
      "name an IngressClass (kubectl get ingressclass)",
    );
  // ValidateIngressCreate: the legacy class annotation and the class field exclude each other.
  const meta = (obj.metadata ?? {}) as Rec;
  const annotations = (meta.annotations ?? {}) as Rec;
  if (className !== undefined && annotations["kubernetes.io/ingress.class"] !== undefined)
    c.error(
      ["metadata", "annotations", "kubernetes.io/ingress.class"],
      "invalid-value",
      "kubernetes.io/ingress.class can not be set when the class field (spec.ingressClassName) is also set",
      "remove the annotation; spec.ingressClassName names the class",
    );
  // validateIngressTLS: each TLS host a DNS name or a *. wildcard, as rule hosts.
  c.list(spec.tls, ["spec", "tls"])?.forEach((t, i) => {
    const tm = c.map(t, ["spec", "tls", i]);
    if (tm) c.fields(tm, ["spec", "tls", i], INGRESS_TLS, "an Ingress tls entry");
    c.list(tm?.hosts, ["spec", "tls", i, "hosts"], "string")?.forEach((h, j) => {
      validateIngressHost(c, h, ["spec", "tls", i, "hosts", j]);
    });
  });
  if (spec.defaultBackend !== undefined && spec.defaultBackend !== null)
    validateIngressBackend(c, spec.defaultBackend, ["spec", "defaultBackend"]);
  rules?.forEach((r, i) => {
    const m = c.map(r, ["spec", "rules", i]);
    if (!m) return;
    c.fields(m, ["spec", "rules", i], INGRESS_RULE, "an Ingress rule");
    validateIngressHost(c, m.host, ["spec", "rules", i, "host"]);
    const http = c.map(m.http, ["spec", "rules", i, "http"]);
    if (!http) return;
    c.fields(http, ["spec", "rules", i, "http"], ["paths"], "an Ingress rule's http");
    const pathsAt = ["spec", "rules", i, "http", "paths"];
    const paths = c.list(http.paths, pathsAt);
    if (!paths?.length) {
      if (http.paths === undefined || http.paths === null || paths)
        c.error(
          pathsAt,
          "missing-field",
          "http.paths is required",
          "list at least one path with its backend",
        );
      return;
    }
    paths.forEach((p, j) => {
      const pm = c.map(p, [...pathsAt, j]);
      if (!pm) return;
      c.fields(pm, [...pathsAt, j], INGRESS_PATH, "an Ingress path");
      validateIngressPath(c, pm, [...pathsAt, j]);
      validateIngressBackend(c, pm.backend, [...pathsAt, j, "backend"]);
    });
  });
}

const PATH_TYPES = ["Exact", "Prefix", "ImplementationSpecific"] as const;
/** Path parts refused for Exact and Prefix paths (upstream's invalidPathSequences / Suffixes). */
const INVALID_PATH_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES = ["/..", "/."];

/**
 * One HTTP path (`validateHTTPIngressPath`): pathType is required and one of Exact, Prefix,
 * ImplementationSpecific. Exact and Prefix paths must be absolute and contain none of `//`, `/./`,
 * `/../`, `%2f`, `%2F` nor end in `/..` or `/.`; an ImplementationSpecific path, when given, must be
 * absolute.
 */
function validateIngressPath(c: Check, pm: Rec, at: (string | number)[]): void {
  const path = c.string(pm.path, [...at, "path"]) ?? "";
  if (pm.pathType === undefined || pm.pathType === null) {
    c.required(
      undefined,
      [...at, "pathType"],
      "pathType",
      `add pathType: Prefix (or Exact, or ImplementationSpecific)`,
      pm,
    );
    return;
  }
  const type = c.oneOf(pm.pathType, [...at, "pathType"], PATH_TYPES);
  if (type === undefined) return;
  const absolute = () =>
    c.error(
      [...at, "path"],
      "invalid-value",
      `path ${JSON.stringify(path)} must be an absolute path (starting with "/")`,
      `write /${path.replace(/^\/*/, "")}`,
    );
  if (type === "ImplementationSpecific") {
    if (path !== "" && !path.startsWith("/")) absolute();
    return;
  }
  if (!path.startsWith("/")) absolute();
  if (path === "") return;
  for (const seq of INVALID_PATH_SEQUENCES)
    if (path.includes(seq))
      c.error(
        [...at, "path"],
        "invalid-value",
        `path ${JSON.stringify(path)} must not contain '${seq}' (pathType ${type})`,
        "write the path without it, or use pathType: ImplementationSpecific",
      );
  for (const suffix of INVALID_PATH_SUFFIXES)
    if (path.endsWith(suffix))
      c.error(
        [...at, "path"],
        "invalid-value",
        `path ${JSON.stringify(path)} cannot end with '${suffix}' (pathType ${type})`,
        "write the path without it, or use pathType: ImplementationSpecific",
      );
}

/**
 * A rule's host (`validateIngressRules`): a DNS-1123 subdomain, or a wildcard `*.` followed by
 * one (`IsWildcardDNS1123Subdomain`); never an IP address.
 */
function validateIngressHost(c: Check, v: unknown, at: (string | number)[]): void {
  const host = c.string(v, at);
  if (!host) return;
  if (canonicalIP(host) !== undefined) {
    c.error(
      at,
      "invalid-value",
      `host ${JSON.stringify(host)} must be a DNS name, not an IP address`,
      "name the host, e.g. shop.example.com, or leave host out to match every host",
    );
    return;
  }
  const name = host.startsWith("*.") ? host.slice(2) : host;
  const err =
    host.includes("*") && !host.startsWith("*.")
      ? `"${host}" may hold a wildcard only as its first label (*.example.com)`
      : dns1123SubdomainError(name);
  if (err) c.error(at, "invalid-value", err, "write a host name such as shop.example.com or *.example.com");
}

function validateIngressBackend(c: Check, v: unknown, at: (string | number)[]): void {
  const b = c.map(v, at);
  if (!c.required(b, at, "a backend", "add backend.service with a name and a port")) return;
  c.fields(b, at, INGRESS_BACKEND, "an Ingress backend");
  const hasService = b.service !== undefined && b.service !== null;
  const hasResource = b.resource !== undefined && b.resource !== null;
  if (hasService === hasResource) {
    c.error(
      at,
      "invalid-value",
      hasService ? "cannot set both service and resource backends" : "a backend needs service or resource",
      "give the backend a service: {name, port}",
    );
    return;
  }
  const svc = c.map(b.service, [...at, "service"]);
  if (!svc) return;
  c.fields(svc, [...at, "service"], SERVICE_BACKEND, "an Ingress backend's service");
  const svcName = c.string(svc.name, [...at, "service", "name"]);
  if (c.required(svcName, [...at, "service", "name"], "the backend Service's name")) {
    const err = dns1035LabelError(svcName);
    if (err)
      c.error(
        [...at, "service", "name"],
        "invalid-name",
        err,
        "name a Service (Service names are DNS-1035 labels)",
      );
  }
  const pp = [...at, "service", "port"];
  const port = c.map(svc.port, pp);
  if (port) c.fields(port, pp, SERVICE_BACKEND_PORT, "a backend service's port");
  const name = c.string(port?.name, [...pp, "name"]);
  const hasNumber = port?.number !== undefined && port.number !== null && port.number !== 0;
  if (name && hasNumber) {
    c.error(pp, "invalid-value", "cannot set both port name and port number", "keep one of them");
  } else if (name) {
    const err = portNameError(name);
    if (err) c.error([...pp, "name"], "invalid-port-name", err, "use the Service port's name");
  } else if (hasNumber) {
    c.port(port.number, [...pp, "number"]);
  } else {
    c.error(
      pp,
      "missing-field",
      "port name or number is required",
      "add port: {number: 80} or port: {name: http}",
    );
  }
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
  if (!spec) return;
  c.fields(spec, ["spec"], INGRESSCLASS_SPEC, "an IngressClass's spec");
  c.string(spec.controller, ["spec", "controller"]);
  const params = c.map(spec.parameters, ["spec", "parameters"]);
  if (params) c.fields(params, ["spec", "parameters"], INGRESSCLASS_PARAMETERS, "IngressClass parameters");
}
