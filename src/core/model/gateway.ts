/**
 * The Gateway API kinds podnet reads (gateway.networking.k8s.io: GatewayClass, Gateway and HTTPRoute
 * v1, ReferenceGrant v1beta1 and v1), in their API shape. The field names and meanings follow
 * kubernetes-sigs/gateway-api `apis/v1/{gatewayclass,gateway,httproute,shared}_types.go` and
 * `apis/v1beta1/referencegrant_types.go`; every field podnet does not use is carried along untouched.
 */
import type { KubeObject, LabelSelector } from "./k8s.ts";

/** The API group of every kind here. */
export const GATEWAY_GROUP = "gateway.networking.k8s.io";

/** A status condition (metav1.Condition) as Gateway API controllers write them. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface GatewayClass extends KubeObject {
  kind: "GatewayClass";
  /** `controllerName`: the implementation (`example.net/gateway-controller`), a domain-prefixed path. */
  spec: { controllerName: string; description?: string; [extra: string]: unknown };
  status?: { conditions?: Condition[] };
}

/** Which namespaces and kinds of Routes may attach to a listener (`allowedRoutes`). */
export interface AllowedRoutes {
  /** Default `{from: Same}`. */
  namespaces?: { from?: "All" | "Same" | "Selector" | "None"; selector?: LabelSelector };
  /** Default: the kinds the listener's protocol supports (HTTPRoute for HTTP and HTTPS). */
  kinds?: { group?: string; kind: string }[];
}

export interface Listener {
  /** The listener's name (sectionName in parentRefs), unique in its Gateway. */
  name: string;
  /** Precise (`shop.example.com`) or wildcard (`*.example.com`); absent: every hostname. */
  hostname?: string;
  port: number;
  /** `HTTP`, `HTTPS`, `TLS`, `TCP`, `UDP` or a domain-prefixed implementation protocol. */
  protocol: string;
  tls?: { mode?: "Terminate" | "Passthrough"; certificateRefs?: unknown[]; [extra: string]: unknown };
  allowedRoutes?: AllowedRoutes;
}

export interface Gateway extends KubeObject {
  kind: "Gateway";
  spec: {
    gatewayClassName: string;
    listeners: Listener[];
    addresses?: { type?: string; value: string }[];
    [extra: string]: unknown;
  };
  status?: {
    addresses?: { type?: string; value: string }[];
    conditions?: Condition[];
    listeners?: {
      name: string;
      supportedKinds: { group?: string; kind: string }[];
      attachedRoutes: number;
      conditions: Condition[];
    }[];
  };
}

/** A reference to a Route's parent (a Gateway), optionally one of its listeners. */
export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface HTTPPathMatch {
  /** Default PathPrefix. */
  type?: "Exact" | "PathPrefix" | "RegularExpression";
  /** Default `/`. */
  value?: string;
}

export interface HTTPHeaderMatch {
  /** Default Exact. */
  type?: "Exact" | "RegularExpression";
  name: string;
  value: string;
}

export interface HTTPRouteMatch {
  path?: HTTPPathMatch;
  headers?: HTTPHeaderMatch[];
  queryParams?: HTTPHeaderMatch[];
  method?: string;
}

export interface HTTPBackendRef {
  group?: string;
  /** Default Service. */
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  /** Default 1; 0 sends nothing to this backend. */
  weight?: number;
  filters?: { type: string; [extra: string]: unknown }[];
}

export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: { type: string; [extra: string]: unknown }[];
  backendRefs?: HTTPBackendRef[];
  [extra: string]: unknown;
}

export interface RouteParentStatus {
  parentRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}

export interface HTTPRoute extends KubeObject {
  kind: "HTTPRoute";
  spec: {
    parentRefs?: ParentReference[];
    hostnames?: string[];
    rules?: HTTPRouteRule[];
    [extra: string]: unknown;
  };
  status?: { parents: RouteParentStatus[] };
}

/** ReferenceGrant: lets objects of `from` (group, kind, namespace) refer to objects of `to` in its own namespace. */
export interface ReferenceGrant extends KubeObject {
  kind: "ReferenceGrant";
  spec: {
    from: { group: string; kind: string; namespace: string }[];
    to: { group: string; kind: string; name?: string }[];
  };
}
