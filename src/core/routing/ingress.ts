/**
 * Ingress routing (networking.k8s.io/v1), as the API documents it (kubernetes/website
 * `concepts/services-networking/ingress.md`, kubernetes `pkg/apis/networking/types.go`) and
 * ingress-nginx implements it:
 * - the owner: `spec.ingressClassName`, else the deprecated `kubernetes.io/ingress.class` annotation,
 *   else the one IngressClass annotated `ingressclass.kubernetes.io/is-default-class: "true"` (with two
 *   or more defaults, or none, an Ingress without a class has no controller);
 * - hosts: exact, or `*.` covering exactly one DNS label (`*.foo.com` matches `bar.foo.com`, not
 *   `baz.bar.foo.com` nor `foo.com`); exact hosts before wildcards before rules without a host;
 * - paths: Exact, Prefix (element-wise on `/`), ImplementationSpecific (podnet: a plain string prefix,
 *   as ingress-nginx's `location` without `use-regex`); the longest path first, Exact before Prefix
 *   on ties; then the oldest Ingress (creationTimestamp), then `namespace/name`, then rule order;
 * - `spec.defaultBackend`: for requests no path of the Ingress's hosts matches; for hosts no rule names
 *   only when the Ingress has no rules (ingress-nginx's catch-all, `createServers`);
 * - backends by Service port number or name; a missing Service or port, or a Service without ready
 *   endpoints, answers 503 (ingress-nginx's answer for an upstream it cannot fill);
 * - TLS: `spec.tls[].hosts` are the https listener's `tlsHosts` (port 443 serves every host, as
 *   ingress-nginx does with its default certificate).
 */
import type { ClusterState } from "../control/state.ts";
import type { KubeObject } from "../model/k8s.ts";
import { backendProblem, byAge, serviceIndex } from "./backends.ts";
import type { RouterSpecOptions } from "./router.ts";
import type { PathMatchType, RouteEntry, RouterSpec, SpecBackend } from "./spec.ts";
import type { HttpListener } from "./types.ts";

/** The annotation marking an IngressClass as the cluster's default (networking.k8s.io/v1 `AnnotationIsDefaultIngressClass`). */
export const DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";
/** The deprecated annotation that named an Ingress's class before `spec.ingressClassName`. */
export const LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

interface IngressSpecShape {
  ingressClassName?: string;
  defaultBackend?: BackendShape;
  tls?: { hosts?: string[]; secretName?: string }[];
  rules?: {
    host?: string;
    http?: { paths: { path?: string; pathType: PathMatchType; backend: BackendShape }[] };
  }[];
}
interface BackendShape {
  service?: { name: string; port: { number?: number; name?: string } };
  resource?: { kind: string; name: string };
}

/** An IngressClass as routing needs it. */
export interface IngressClassInfo {
  name: string;
  controller: string;
  isDefault: boolean;
  /** The IngressClass object (undefined for the one podnet supplies). */
  obj?: KubeObject;
}

/** Who owns an Ingress: its class, or why it has none. */
export type IngressOwner =
  | { owned: true; class: IngressClassInfo; via: "ingressClassName" | "annotation" | "default" }
  | { owned: false; reason: string };

/** The IngressClasses of `state` (plus the supplied one when the input has none). */
export function ingressClasses(state: ClusterState, opts: RouterSpecOptions = {}): IngressClassInfo[] {
  const out: IngressClassInfo[] = state.ingressClasses.map((o) => ({
    name: o.metadata.name,
    controller: String((o.spec as { controller?: string } | undefined)?.controller ?? ""),
    isDefault: o.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true",
    obj: o,
  }));
  if (out.length === 0 && opts.suppliedIngressClass)
    out.push({ ...opts.suppliedIngressClass, isDefault: true });
  return out;
}

/** The class that owns `ing` (see the module comment), or why none does. */
export function ingressOwner(ing: KubeObject, classes: readonly IngressClassInfo[]): IngressOwner {
  const spec = (ing.spec ?? {}) as IngressSpecShape;
  const named = spec.ingressClassName ?? ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (named !== undefined) {
    const c = classes.find((k) => k.name === named);
    if (c)
      return {
        owned: true,
        class: c,
        via: spec.ingressClassName !== undefined ? "ingressClassName" : "annotation",
      };
    return { owned: false, reason: `no IngressClass named ${named}` };
  }
  const defaults = classes.filter((k) => k.isDefault);
  if (defaults.length === 1) return { owned: true, class: defaults[0], via: "default" };
  if (defaults.length === 0)
    return { owned: false, reason: "it names no ingressClassName and no IngressClass is marked default" };
  return {
    owned: false,
    reason: `it names no ingressClassName and ${defaults.length} IngressClasses are marked default (${defaults.map((d) => d.name).join(", ")})`,
  };
}

/** An Ingress's rule hosts (lower-case, without duplicates). */
function hostsOf(spec: IngressSpecShape): string[] {
  return [...new Set((spec.rules ?? []).map((r) => r.host?.toLowerCase()).filter((h): h is string => !!h))];
}

/**
 * One RouterSpec per IngressClass that owns at least one Ingress, in class-name order: listeners
 * `http` (80) and `https` (443, `tlsHosts` from spec.tls), and one entry per path.
 */
export function ingressRouterSpecs(state: ClusterState, opts: RouterSpecOptions = {}): RouterSpec[] {
  const classes = ingressClasses(state, opts);
  const owned = new Map<string, { cls: IngressClassInfo; ingresses: KubeObject[] }>();
  for (const ing of state.ingresses) {
    const o = ingressOwner(ing, classes);
    if (!o.owned) continue;
    let g = owned.get(o.class.name);
    if (!g) {
      g = { cls: o.class, ingresses: [] };
      owned.set(o.class.name, g);
    }
    g.ingresses.push(ing);
  }
  const services = serviceIndex(state);
  const specs: RouterSpec[] = [];
  for (const { cls, ingresses } of [...owned.values()].sort((a, b) => (a.cls.name < b.cls.name ? -1 : 1))) {
    const entries: RouteEntry[] = [];
    const tlsHosts = new Set<string>();
    let order = 0;
    for (const ing of [...ingresses].sort(byAge)) {
      const spec = (ing.spec ?? {}) as IngressSpecShape;
      const ns = ing.metadata.namespace ?? "default";
      const ref = (rule: number, match: number) =>
        ({ kind: "Ingress", namespace: ns, name: ing.metadata.name, rule, match }) as const;
      for (const t of spec.tls ?? []) for (const h of t.hosts ?? []) tlsHosts.add(h.toLowerCase());
      const backendOf = (b: BackendShape): Pick<RouteEntry, "backends" | "error"> => {
        if (!b.service)
          return {
            backends: [],
            error: {
              status: 503,
              reason: `a resource backend (${b.resource?.kind} ${b.resource?.name}): podnet routes to Services only`,
            },
          };
        const port = b.service.port.name ?? b.service.port.number ?? 0;
        const backend: SpecBackend = { namespace: ns, service: b.service.name, port, weight: 1 };
        const p = backendProblem(services, backend);
        return p
          ? { backends: [backend], error: { status: 503, reason: p.reason } }
          : { backends: [backend] };
      };
      (spec.rules ?? []).forEach((r, i) => {
        (r.http?.paths ?? []).forEach((p, j) => {
          entries.push({
            rule: ref(i, j),
            hostnames: r.host ? [r.host.toLowerCase()] : [],
            path: { type: p.pathType, value: p.path ?? (p.pathType === "ImplementationSpecific" ? "" : "/") },
            headers: [],
            queryParams: [],
            filters: [],
            order: order++,
            ...backendOf(p.backend),
          });
        });
      });
      if (spec.defaultBackend) {
        const b = backendOf(spec.defaultBackend);
        const base = (hostnames: string[]): RouteEntry => ({
          rule: ref(-1, -1),
          hostnames,
          path: { type: "Prefix", value: "/" },
          headers: [],
          queryParams: [],
          filters: [],
          fallback: true,
          order: order++,
          ...b,
        });
        // ingress-nginx (internal/ingress/controller/controller.go createServers): an Ingress's
        // defaultBackend becomes the controller-wide catch-all only when the Ingress has no rules;
        // with rules, it serves the paths of its own hosts that nothing else matches.
        if ((spec.rules ?? []).length === 0) entries.push(base([]));
        const hosts = hostsOf(spec);
        if (hosts.length) entries.push(base(hosts));
      }
    }
    const listeners: HttpListener[] = [
      { name: "http", protocol: "HTTP", port: 80 },
      { name: "https", protocol: "HTTPS", port: 443, tlsHosts: [...tlsHosts].sort() },
    ];
    specs.push({
      controller: { kind: "IngressClass", name: cls.name, controller: cls.controller },
      api: "Ingress",
      listeners,
      entries,
    });
  }
  return specs;
}
