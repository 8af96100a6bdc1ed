/**
 * podnet as a library.
 *
 * ```ts
 * import { loadCluster } from "podnet";
 * const result = loadCluster({ files: ["examples/shop"] });
 * if (result.ok) for (const pod of result.cluster.pods) console.log(pod.metadata.name, pod.status?.podIP);
 * else for (const d of result.diagnostics) console.error(formatDiagnostic(d));
 * ```
 */
import { readSources } from "./adapters/manifests/read.ts";
import { type ResolveResult, resolveManifests } from "./core/cluster.ts";
import { Diagnostics } from "./core/diagnostics.ts";
import type { Source } from "./core/manifests/parse.ts";

export interface LoadOptions {
  /** Files and directories, as with `-f` (`-` reads standard input). */
  files?: readonly string[];
  /** In-memory manifests, resolved after the files. */
  sources?: readonly Source[];
}

/** Reads, validates and resolves manifests into the cluster Kubernetes would build from them. */
export function loadCluster(options: LoadOptions): ResolveResult {
  const diags = new Diagnostics();
  const sources = [...readSources(options.files ?? [], diags), ...(options.sources ?? [])];
  if (diags.hasErrors) return { ok: false, diagnostics: diags.items };
  return resolveManifests(sources, diags);
}

export { type ResolveResult, resolveManifests } from "./core/cluster.ts";
export type { ClusterState, NodeState } from "./core/control/state.ts";
export {
  type Diagnostic,
  diagnosticToJSON,
  formatDiagnostic,
  type Severity,
} from "./core/diagnostics.ts";
export type { Source } from "./core/manifests/parse.ts";
export { type ClusterConfig, DEFAULT_CONFIG } from "./core/model/config.ts";
export type * from "./core/model/k8s.ts";
export { Cidr, formatIPv4, parseIPv4 } from "./core/net/ipv4.ts";
/*
 * HTTP routing (src/core/routing): each Ingress controller's and Gateway's routing table as data,
 * the router that decides one request, Gateway API status and the routing lint (README "HTTP
 * routing: Ingress and Gateway API").
 */
export {
  analyzeGateways,
  type GatewayAnalysis,
  type GatewayStatus,
  type ListenerStatus,
} from "./core/routing/gateway.ts";
export { lintRouting, ROUTING_LINT_RULES, type RoutingLintReport } from "./core/routing/lint.ts";
export {
  compileRouter,
  type PathMatchType,
  type RouteEntry,
  type RouterSpec,
  type RouterSpecOptions,
  routerSpecs,
  type SpecBackend,
  type ValueMatch,
} from "./core/routing/router.ts";
export type {
  ControllerKey,
  HttpBackend,
  HttpListener,
  HttpRequest,
  RejectedRule,
  RouteDecision,
  RouteListing,
  Router,
  RuleRef,
} from "./core/routing/types.ts";
