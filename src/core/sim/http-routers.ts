/**
 * Where the HTTP trace (./http-trace.ts) gets each controller's router: the routing core of issue 15
 * part A, `compileRouter(routerSpecs(state))` in ../routing/router.ts. Until that module is part of
 * podnet this answers `undefined`, and `trace --to http://…` says that HTTP routing is not available
 * rather than answering without it.
 */
import type { ClusterState } from "../control/state.ts";
import type { Router } from "../routing/types.ts";

/** Every Ingress class's and Gateway's compiled router for `state`, or undefined when podnet has no routing core. */
export function clusterRouters(_state: ClusterState): Router[] | undefined {
  return undefined;
}
