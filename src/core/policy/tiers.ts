/**
 * The cluster-wide policy tiers around NetworkPolicy: AdminNetworkPolicy and
 * BaselineAdminNetworkPolicy (policy.networking.k8s.io/v1alpha1) and their successor
 * ClusterNetworkPolicy (v1alpha2, `tier: Admin | Baseline`), compiled into one form.
 *
 *   a direction of a connection at a selected pod is decided by the first of:
 *     admin tier     policies by priority (lower first), rules in order: Allow/Accept, Deny, or Pass
 *                    (Pass skips the rest of the admin tier)
 *     NetworkPolicy  when one selects the pod for that direction (always a final decision)
 *     baseline tier  policies by priority, rules in order: Allow/Accept or Deny
 *     default        allowed
 *
 * - Subjects and the `namespaces`/`pods` peers never include host-network pods (as NetworkPolicy).
 * - `nodes` peers (egress) match every IPv4 InternalIP and ExternalIP in the node's `status.addresses`
 *   (as the API documents), so also the host-network pods on it;
 *   `networks` peers match addresses, pod addresses included (as ipBlock does).
 * - Ports: `portNumber`, `portRange` and `namedPort` (v1alpha1); `protocols` with
 *   `tcp`/`udp`/`sctp` `destinationPort` (`number` or `range`) and `destinationNamedPort` (v1alpha2).
 *   A named port matches a destination pod's container port of that name, whatever its protocol.
 * - Policies of equal priority: the API leaves the order to the implementation; podnet orders them by
 *   name. Within the baseline tier, ClusterNetworkPolicies come by priority and the
 *   BaselineAdminNetworkPolicy last.
 */
import { compileSelector, type LabelMatcher } from "../labels.ts";
import type { KubeObject, LabelSelector, Protocol } from "../model/k8s.ts";
import { cidrOf, type Peer, type PortRule, selectorKey } from "./netpol.ts";

export type TierAction = "allow" | "deny" | "pass";

export interface TierRule {
  /** The rule's `name`, or its position when it has none. */
  name: string;
  action: TierAction;
  peers: Peer[];
  ports: PortRule[] | "all";
}

export interface TierPolicy {
  /** `AdminNetworkPolicy/name`, `BaselineAdminNetworkPolicy/default`, `ClusterNetworkPolicy/name`. */
  name: string;
  tier: "admin" | "baseline";
  priority: number;
  subject: { namespaces: LabelMatcher; pods: LabelMatcher };
  ingress: TierRule[];
  egress: TierRule[];
}

type Rec = Record<string, unknown>;

const everything: LabelMatcher = () => true;

function namespaced(pods: { namespaceSelector?: LabelSelector; podSelector?: LabelSelector }) {
  return {
    namespaces: compileSelector(pods.namespaceSelector ?? {}),
    pods: compileSelector(pods.podSelector ?? {}),
    nsKey: selectorKey(pods.namespaceSelector ?? {}),
    podKey: selectorKey(pods.podSelector ?? {}),
  };
}

function compilePeer(p: Rec): Peer[] {
  if (p.namespaces)
    return [
      {
        kind: "pods",
        namespaces: compileSelector(p.namespaces as LabelSelector),
        pods: everything,
        nsKey: selectorKey(p.namespaces),
        podKey: "{}",
      },
    ];
  if (p.pods) return [{ kind: "pods", ...namespaced(p.pods as Rec) }];
  if (p.nodes)
    return [{ kind: "nodes", nodes: compileSelector(p.nodes as LabelSelector), key: selectorKey(p.nodes) }];
  if (Array.isArray(p.networks))
    return (p.networks as string[]).flatMap((n) => {
      const cidr = cidrOf(n);
      return cidr ? [{ kind: "ipBlock" as const, cidr, except: [], text: n }] : [];
    });
  return [];
}

const PROTOCOL_KEYS: Record<string, Protocol> = { tcp: "TCP", udp: "UDP", sctp: "SCTP" };

function compilePorts(rule: Rec): PortRule[] | "all" {
  // v1alpha1: ports: [{portNumber: {protocol, port}} | {portRange: {protocol, start, end}} | {namedPort}]
  if (Array.isArray(rule.ports) && rule.ports.length > 0) {
    return (rule.ports as Rec[]).map((p): PortRule => {
      if (typeof p.namedPort === "string") return { protocol: "any", name: p.namedPort };
      const range = p.portRange as { protocol?: Protocol; start: number; end: number } | undefined;
      if (range) return { protocol: range.protocol ?? "TCP", port: range.start, endPort: range.end };
      const num = (p.portNumber ?? {}) as { protocol?: Protocol; port?: number };
      return { protocol: num.protocol ?? "TCP", ...(num.port !== undefined ? { port: num.port } : {}) };
    });
  }
  // v1alpha2: protocols: [{tcp: {destinationPort: {number} | {range: {start, end}}}} | {destinationNamedPort}]
  if (Array.isArray(rule.protocols) && rule.protocols.length > 0) {
    return (rule.protocols as Rec[]).map((p): PortRule => {
      if (typeof p.destinationNamedPort === "string")
        return { protocol: "any", name: p.destinationNamedPort };
      const key = Object.keys(PROTOCOL_KEYS).find((k) => p[k] !== undefined) ?? "tcp";
      const dest = ((p[key] ?? {}) as Rec).destinationPort as
        | { number?: number; range?: { start: number; end: number } }
        | undefined;
      const protocol = PROTOCOL_KEYS[key];
      if (dest?.range) return { protocol, port: dest.range.start, endPort: dest.range.end };
      return { protocol, ...(dest?.number !== undefined ? { port: dest.number } : {}) };
    });
  }
  return "all";
}

const ACTIONS: Record<string, TierAction> = { Allow: "allow", Accept: "allow", Deny: "deny", Pass: "pass" };

/** Compile an AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy (already validated). */
export function compileTierPolicy(obj: KubeObject): TierPolicy {
  const spec = (obj.spec ?? {}) as Rec;
  const subject = (spec.subject ?? {}) as Rec;
  const rules = (list: unknown, field: "from" | "to"): TierRule[] =>
    ((list ?? []) as Rec[]).map((r, i) => ({
      name: typeof r.name === "string" && r.name ? r.name : `#${i + 1}`,
      action: ACTIONS[r.action as string] ?? "deny",
      peers: ((r[field] ?? []) as Rec[]).flatMap(compilePeer),
      ports: compilePorts(r),
    }));
  return {
    name: `${obj.kind}/${obj.metadata.name}`,
    tier:
      obj.kind === "AdminNetworkPolicy" || (obj.kind === "ClusterNetworkPolicy" && spec.tier === "Admin")
        ? "admin"
        : "baseline",
    // The BaselineAdminNetworkPolicy has no priority: it comes after every baseline ClusterNetworkPolicy.
    priority: typeof spec.priority === "number" ? spec.priority : 1001,
    subject: subject.pods
      ? namespaced(subject.pods as Rec)
      : { namespaces: compileSelector((subject.namespaces ?? {}) as LabelSelector), pods: everything },
    ingress: rules(spec.ingress, "from"),
    egress: rules(spec.egress, "to"),
  };
}

/** Tier policies in evaluation order: by priority, then by name. */
export function orderTier(policies: TierPolicy[]): TierPolicy[] {
  return [...policies].sort(
    (a, b) => a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}
