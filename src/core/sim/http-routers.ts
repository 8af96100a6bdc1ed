/**
 * Where the HTTP trace (./http-trace.ts), connlist and the demo get each controller's router: the
 * routing core's `compileRouter(routerSpecs(state))` (../routing/router.ts). When podnet supplied the
 * default controller (../control/ingress-controllers.ts) and the input has no IngressClass, its class
 * (`nginx`, controller `k8s.io/ingress-nginx`) counts as the default IngressClass, as ingress-nginx's
 * own manifest would install it.
 */
import {
  INGRESS_NGINX_CONTROLLER,
  SUPPLIED_ANNOTATION,
  SUPPLIED_CONTROLLER,
} from "../control/ingress-controllers.ts";
import type { ClusterState } from "../control/state.ts";
import { compileRouter, routerSpecs } from "../routing/router.ts";
import type { Router } from "../routing/types.ts";

/** The IngressClass of the supplied controller (ingress-nginx's manifest names it `nginx`). */
export const SUPPLIED_INGRESS_CLASS = Object.freeze({ name: "nginx", controller: INGRESS_NGINX_CONTROLLER });

/** Whether podnet supplied the default controller in this cluster. */
export function hasSuppliedController(state: ClusterState): boolean {
  return state.services.some(
    (s) =>
      s.metadata.namespace === SUPPLIED_CONTROLLER.namespace &&
      s.metadata.annotations?.[SUPPLIED_ANNOTATION] === "true",
  );
}

/** Every Ingress class's and Gateway's compiled router for `state`, in routerSpecs' order. */
export function clusterRouters(state: ClusterState): Router[] {
  const supplied = hasSuppliedController(state) && state.ingressClasses.length === 0;
  return routerSpecs(state, supplied ? { suppliedIngressClass: { ...SUPPLIED_INGRESS_CLASS } } : {}).map(
    compileRouter,
  );
}
