/**
 * NetworkPolicy (networking.k8s.io/v1), exactly as upstream defines it, evaluated one connection at a
 * time with the reasons: which policies select each side, which rule allowed the traffic, or why it
 * was denied. This is the plain, direct evaluator — the reference the fast cluster-scale engine
 * (issue #4) must agree with.
 *
 *   a connection src → dst:port/proto is allowed  ⇔  egress allows it at src  ∧  ingress allows it at dst
 *   a direction allows it  ⇔  no policy of that type selects the pod  ∨  some rule of one that does matches
 *
 * - policyTypes defaults to [Ingress], plus Egress when the policy has egress rules.
 * - A rule's `from`/`to` absent or empty matches every peer; `ports` absent or empty matches every
 *   port and protocol. A peer is podSelector (same namespace), namespaceSelector (all pods of the
 *   matching namespaces), both (the pods matching podSelector in matching namespaces), or ipBlock
 *   (`cidr` minus `except`).
 * - ipBlock matches any address, pod addresses included, as kernel-based network plugins do.
 * - Ports: protocol defaults to TCP; a port entry without `port` matches every port of its protocol;
 *   `endPort` makes a range; a named port is looked up in the destination pod's containers by name and
 *   protocol (for ingress the selected pod, for egress the peer) and never matches a non-pod address.
 * - Host-network pods are not selected by any pod selector, as subjects or as peers: to policies they
 *   are just their node's address.
 * - Replies of an allowed connection are allowed (connection tracking); callers check new connections.
 */
import type { ClusterState } from "../control/state.ts";
import { compileSelector, type LabelMatcher } from "../labels.ts";
import type { KubeObject, LabelSelector, Labels, Pod, Protocol } from "../model/k8s.ts";
import { type IPv4, parseIPv4 } from "../net/ipv4.ts";

/** One side of a connection, as NetworkPolicy sees it. */
export type PolicyPeer = { kind: "pod"; pod: Pod; ip: IPv4 } | { kind: "address"; ip: IPv4 };

type Peer =
  | { kind: "pods"; namespaces: LabelMatcher | "own"; pods: LabelMatcher }
  | {
      kind: "ipBlock";
      cidr: { base: number; prefix: number };
      except: { base: number; prefix: number }[];
      text: string;
    };

type PortRule = { protocol: Protocol; port?: number; endPort?: number; name?: string };

interface Rule {
  peers: Peer[] | "all";
  ports: PortRule[] | "all";
}

export interface CompiledPolicy {
  name: string;
  namespace: string;
  selects: LabelMatcher;
  ingress?: Rule[];
  egress?: Rule[];
  obj: KubeObject;
}

export interface DirectionVerdict {
  direction: "ingress" | "egress";
  /** The pod this direction is checked at, or undefined for an address (nothing is checked there). */
  subject?: string;
  /** `ns/name` of every policy of this type that selects the subject. */
  selectedBy: string[];
  allowed: boolean;
  /** The policy and rule (0-based) that allowed it, when one did. */
  allowedBy?: { policy: string; rule: number };
  reason: string;
}

export interface PolicyVerdict {
  allowed: boolean;
  egress: DirectionVerdict;
  ingress: DirectionVerdict;
}

function cidrOf(text: string): { base: number; prefix: number } | undefined {
  const [addr, bits] = text.split("/");
  const ip = parseIPv4(addr);
  if (ip === undefined) return undefined; // IPv6 blocks never match the IPv4 addresses podnet allocates
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ip & mask) >>> 0, prefix };
}

function inBlock(ip: IPv4, b: { base: number; prefix: number }): boolean {
  const mask = b.prefix === 0 ? 0 : (0xffffffff << (32 - b.prefix)) >>> 0;
  return (ip & mask) >>> 0 === b.base;
}

export function compileNetworkPolicy(obj: KubeObject): CompiledPolicy {
  const spec = (obj.spec ?? {}) as {
    podSelector?: LabelSelector;
    policyTypes?: string[];
    ingress?: { from?: unknown[]; ports?: unknown[] }[];
    egress?: { to?: unknown[]; ports?: unknown[] }[];
  };
  const types = spec.policyTypes ?? (spec.egress ? ["Ingress", "Egress"] : ["Ingress"]);
  const rules = (
    list: { from?: unknown[]; to?: unknown[]; ports?: unknown[] }[] | undefined,
    field: "from" | "to",
  ): Rule[] => (list ?? []).map((r) => ({ peers: compilePeers(r[field]), ports: compilePorts(r.ports) }));
  return {
    name: `${obj.metadata.namespace}/${obj.metadata.name}`,
    namespace: obj.metadata.namespace!,
    selects: compileSelector(spec.podSelector ?? {}),
    ...(types.includes("Ingress") ? { ingress: rules(spec.ingress, "from") } : {}),
    ...(types.includes("Egress")
      ? { egress: rules(spec.egress as { to?: unknown[]; ports?: unknown[] }[], "to") }
      : {}),
    obj,
  };
}

function compilePeers(list: unknown[] | undefined): Peer[] | "all" {
  if (!list || list.length === 0) return "all";
  return list.map((p) => {
    const peer = p as {
      podSelector?: LabelSelector;
      namespaceSelector?: LabelSelector;
      ipBlock?: { cidr: string; except?: string[] };
    };
    if (peer.ipBlock) {
      return {
        kind: "ipBlock",
        cidr: cidrOf(peer.ipBlock.cidr) ?? { base: 0, prefix: 33 },
        except: (peer.ipBlock.except ?? [])
          .map(cidrOf)
          .filter((x): x is { base: number; prefix: number } => !!x),
        text:
          peer.ipBlock.cidr +
          (peer.ipBlock.except?.length ? ` except ${peer.ipBlock.except.join(", ")}` : ""),
      };
    }
    return {
      kind: "pods",
      namespaces: peer.namespaceSelector ? compileSelector(peer.namespaceSelector) : "own",
      pods: compileSelector(peer.podSelector ?? {}),
    };
  });
}

function compilePorts(list: unknown[] | undefined): PortRule[] | "all" {
  if (!list || list.length === 0) return "all";
  return list.map((p) => {
    const e = p as { protocol?: Protocol; port?: number | string; endPort?: number };
    const protocol = e.protocol ?? "TCP";
    if (typeof e.port === "string") return { protocol, name: e.port };
    return {
      protocol,
      ...(e.port !== undefined ? { port: e.port } : {}),
      ...(e.endPort !== undefined ? { endPort: e.endPort } : {}),
    };
  });
}

export class PolicyEngine {
  readonly policies: CompiledPolicy[];
  readonly #byNamespace = new Map<string, CompiledPolicy[]>();
  readonly #nsLabels = new Map<string, Labels>();

  constructor(readonly state: ClusterState) {
    this.policies = state.networkPolicies.map(compileNetworkPolicy);
    for (const p of this.policies) {
      const list = this.#byNamespace.get(p.namespace) ?? [];
      list.push(p);
      this.#byNamespace.set(p.namespace, list);
    }
    for (const ns of state.namespaces)
      this.#nsLabels.set(
        ns.metadata.name,
        ns.metadata.labels ?? { "kubernetes.io/metadata.name": ns.metadata.name },
      );
  }

  /** Policies of one type that select a pod (host-network pods are never selected). */
  selecting(pod: Pod, direction: "ingress" | "egress"): CompiledPolicy[] {
    if (pod.spec.hostNetwork) return [];
    return (this.#byNamespace.get(pod.metadata.namespace!) ?? []).filter(
      (p) => p[direction] !== undefined && p.selects(pod.metadata.labels),
    );
  }

  /** Whether a new connection from `src` to `dst` on `port/protocol` is allowed, with the reasons. */
  check(src: PolicyPeer, dst: PolicyPeer, port: number, protocol: Protocol): PolicyVerdict {
    const egress =
      src.kind === "pod" ? this.#direction("egress", src.pod, dst, dst, port, protocol) : outside("egress");
    const ingress =
      dst.kind === "pod" ? this.#direction("ingress", dst.pod, src, dst, port, protocol) : outside("ingress");
    return { allowed: egress.allowed && ingress.allowed, egress, ingress };
  }

  #direction(
    direction: "ingress" | "egress",
    subject: Pod,
    peer: PolicyPeer,
    dst: PolicyPeer,
    port: number,
    protocol: Protocol,
  ): DirectionVerdict {
    const name = `${subject.metadata.namespace}/${subject.metadata.name}`;
    const selecting = this.selecting(subject, direction);
    const selectedBy = selecting.map((p) => p.name);
    if (selecting.length === 0) {
      const why = subject.spec.hostNetwork
        ? "host-network pods are not selected by NetworkPolicies"
        : `no NetworkPolicy with ${direction === "ingress" ? "Ingress" : "Egress"} selects pod ${name}`;
      return { direction, subject: name, selectedBy, allowed: true, reason: `allowed: ${why}` };
    }
    for (const policy of selecting) {
      const rules = policy[direction]!;
      for (let i = 0; i < rules.length; i++) {
        if (this.#ruleMatches(rules[i], policy.namespace, peer, dst, port, protocol)) {
          return {
            direction,
            subject: name,
            selectedBy,
            allowed: true,
            allowedBy: { policy: policy.name, rule: i },
            reason: `allowed by ${policy.name} ${direction} rule ${i + 1}`,
          };
        }
      }
    }
    const what = direction === "ingress" ? "from this source" : "to this destination";
    return {
      direction,
      subject: name,
      selectedBy,
      allowed: false,
      reason: `denied: pod ${name} is selected by ${selectedBy.join(", ")} for ${direction === "ingress" ? "Ingress" : "Egress"}, and no rule of them allows ${protocol} ${port} ${what}`,
    };
  }

  #ruleMatches(
    rule: Rule,
    policyNs: string,
    peer: PolicyPeer,
    dst: PolicyPeer,
    port: number,
    protocol: Protocol,
  ): boolean {
    if (rule.ports !== "all" && !rule.ports.some((p) => portMatches(p, dst, port, protocol))) return false;
    if (rule.peers === "all") return true;
    return rule.peers.some((p) => this.#peerMatches(p, policyNs, peer));
  }

  #peerMatches(p: Peer, policyNs: string, peer: PolicyPeer): boolean {
    if (p.kind === "ipBlock") {
      if (p.cidr.prefix > 32) return false;
      return inBlock(peer.ip, p.cidr) && !p.except.some((e) => inBlock(peer.ip, e));
    }
    if (peer.kind !== "pod" || peer.pod.spec.hostNetwork) return false;
    const ns = peer.pod.metadata.namespace!;
    const nsOk = p.namespaces === "own" ? ns === policyNs : p.namespaces(this.#nsLabels.get(ns));
    return nsOk && p.pods(peer.pod.metadata.labels);
  }
}

function portMatches(p: PortRule, dst: PolicyPeer, port: number, protocol: Protocol): boolean {
  if (p.protocol !== protocol) return false;
  if (p.name !== undefined) {
    if (dst.kind !== "pod") return false;
    return dst.pod.spec.containers.some((c) =>
      (c.ports ?? []).some(
        (cp) => cp.name === p.name && (cp.protocol ?? "TCP") === protocol && cp.containerPort === port,
      ),
    );
  }
  if (p.port === undefined) return true;
  return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
}

function outside(direction: "ingress" | "egress"): DirectionVerdict {
  return {
    direction,
    selectedBy: [],
    allowed: true,
    reason: `allowed: the ${direction === "egress" ? "source" : "destination"} is not a pod, so no NetworkPolicy applies on that side`,
  };
}

/** The policy view of an address: the pod that has it (host-network pods are just addresses), or the address. */
export function peerFor(podByIP: ReadonlyMap<IPv4, Pod>, ip: IPv4): PolicyPeer {
  const pod = podByIP.get(ip);
  return pod ? { kind: "pod", pod, ip } : { kind: "address", ip };
}
