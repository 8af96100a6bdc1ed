/**
 * Where the HTTP trace (./http-trace.ts), connlist and the demo get each controller's router: the
 * routing core's `compileRouter(routerSpecs(state))` (../routing/router.ts). When podnet supplied the
 * default controller (../control/ingress-controllers.ts) and the input has no IngressClass, its class
 * (`nginx`, controller `k8s.io/ingress-nginx`) counts as the default IngressClass, as ingress-nginx's
 * own manifest would install it.
 */
import {
  controllerInstance,
  INGRESS_NGINX_CONTROLLER,
  isSuppliedController,
} from "../control/ingress-controllers.ts";
import type { ClusterState } from "../control/state.ts";
import type { Pod } from "../model/k8s.ts";
import { compileRouter, routerSpecs } from "../routing/router.ts";
import type { Router } from "../routing/types.ts";

/** The IngressClass of the supplied controller (ingress-nginx's manifest names it `nginx`). */
export const SUPPLIED_INGRESS_CLASS = Object.freeze({ name: "nginx", controller: INGRESS_NGINX_CONTROLLER });

/** Whether podnet supplied the default controller in this cluster. */
export function hasSuppliedController(state: ClusterState): boolean {
  return state.pods.some(isSuppliedController);
}

/** Every Ingress class's and Gateway's compiled router for `state`, in routerSpecs' order. */
export function clusterRouters(state: ClusterState): Router[] {
  const supplied = hasSuppliedController(state) && state.ingressClasses.length === 0;
  return routerSpecs(state, supplied ? { suppliedIngressClass: { ...SUPPLIED_INGRESS_CLASS } } : {}).map(
    compileRouter,
  );
}

/**
 * The Ingresses (`Ingress ns/name`) routed by a controller that is a running pod of the input (not the
 * supplied one): connlist lists that pod's own lines for them instead of `{ingress-controller}`.
 */
export function ingressesWithRealController(state: ClusterState): Set<string> {
  const out = new Set<string>();
  if (state.ingresses.length === 0) return out;
  for (const router of clusterRouters(state)) {
    if (router.controller.kind !== "IngressClass") continue;
    const c = controllerInstance(state, router.controller);
    if (c.supplied || c.pods.length === 0) continue;
    for (const l of router.listing())
      if (l.rule.kind === "Ingress") out.add(`Ingress ${l.rule.namespace}/${l.rule.name}`);
  }
  return out;
}

/**
 * The input's own controller pods (not the supplied one; running) whose routes (an Ingress or an
 * HTTPRoute) send to one of `services` (`ns/name`): per route (`Ingress ns/name`, `HTTPRoute ns/name`,
 * sorted), the controller's first pod. Ingress controllers and Gateways alike
 * (../control/ingress-controllers.ts `controllerInstance`).
 */
export function realControllersTo(
  state: ClusterState,
  services: ReadonlySet<string>,
): { route: string; pod: Pod }[] {
  const out = new Map<string, Pod>();
  for (const router of clusterRouters(state)) {
    const c = controllerInstance(state, router.controller);
    if (c.supplied || c.pods.length === 0) continue;
    for (const l of router.listing())
      if (l.backends.some((b) => services.has(`${b.namespace}/${b.service}`)))
        out.set(`${l.rule.kind} ${l.rule.namespace}/${l.rule.name}`, c.pods[0]);
  }
  return [...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([route, pod]) => ({ route, pod }));
}

/** One (host, path) → backends line of a controller's routing table, for connlist's route listing. */
export interface RouteLine {
  /** The controller's pod workload (`ns/name[Deployment]`), or `{ingress-controller}` when none runs. */
  controller: string;
  /** `Ingress ns/name rule 0 path 1` / `HTTPRoute ns/name rule 0 match 0`. */
  rule: string;
  host: string;
  path: string;
  backends: string[];
}

/** Every controller's routing table as lines (Router.listing(), in precedence order). */
export function routeLines(state: ClusterState, owner: (pod: Pod) => string): RouteLine[] {
  const out: RouteLine[] = [];
  for (const router of clusterRouters(state)) {
    const c = controllerInstance(state, router.controller);
    const controller = c.pods.length > 0 ? owner(c.pods[0]) : "{ingress-controller}";
    for (const l of router.listing()) {
      const r = l.rule;
      const part = r.kind === "Ingress" ? "path" : "match";
      out.push({
        controller,
        rule: `${r.kind} ${r.namespace}/${r.name} ${r.rule < 0 ? "defaultBackend" : `rule ${r.rule}${r.match >= 0 ? ` ${part} ${r.match}` : ""}`}`,
        host: l.host ?? "*",
        path: l.path,
        backends: l.backends.map(
          (b) =>
            `${b.namespace}/${b.service}:${b.port}${l.backends.length > 1 ? ` (weight ${b.weight})` : ""}`,
        ),
      });
    }
  }
  return out;
}

/**
 * The addresses each Ingress and Gateway is published at, as their controllers write them into the
 * status: ingress-nginx (with `--publish-service`, its Helm chart's default) copies its Service's
 * `status.loadBalancer.ingress` into every Ingress it routes; a Gateway implementation puts its
 * Gateway Service's into `status.addresses`. Keyed `Ingress ns/name` and `Gateway ns/name`; an empty
 * list while the Service's load balancer is pending or no controller pod serves the object.
 */
export function publishedAddresses(state: ClusterState): Map<string, LoadBalancerIngress[]> {
  const out = new Map<string, LoadBalancerIngress[]>();
  if (state.ingresses.length === 0 && state.gateways.length === 0) return out;
  for (const router of clusterRouters(state)) {
    const c = controllerInstance(state, router.controller);
    // Each entry's ip, else its hostname, as the controllers copy them.
    const addresses: LoadBalancerIngress[] =
      c.pods.length === 0
        ? []
        : (c.service?.status?.loadBalancer?.ingress ?? []).flatMap((i): LoadBalancerIngress[] =>
            i.ip ? [{ ip: i.ip }] : i.hostname ? [{ hostname: i.hostname }] : [],
          );
    if (router.controller.kind === "Gateway")
      out.set(`Gateway ${router.controller.namespace}/${router.controller.name}`, addresses);
    else
      for (const l of router.listing())
        if (l.rule.kind === "Ingress") out.set(`Ingress ${l.rule.namespace}/${l.rule.name}`, addresses);
  }
  return out;
}

/** One entry of a `status.loadBalancer.ingress` list (a Service's, an Ingress's). */
export type LoadBalancerIngress = { ip?: string; hostname?: string };

/** The addresses of a `status.loadBalancer.ingress` list as kubectl prints them: each entry's ip, else its hostname. */
export function loadBalancerAddresses(ingress: readonly LoadBalancerIngress[] | undefined): string[] {
  return (ingress ?? []).map((i) => i.ip ?? i.hostname ?? "").filter((a) => a !== "");
}
