/**
 * NetworkPolicy (networking.k8s.io/v1), exactly as upstream defines it, evaluated one connection at a
 * time with the reasons: which policies select each side, which rule allowed the traffic, or why it
 * was denied. This is the plain, direct evaluator — the reference the fast cluster-scale engine
 * (issue #4) must agree with.
 *
 *   a connection src → dst:port/proto is allowed  ⇔  egress allows it at src  ∧  ingress allows it at dst
 *   a direction allows it  ⇔  no policy of that type selects the pod  ∨  some rule of one that does matches
 *   (with the admin tier consulted before and the baseline tier after NetworkPolicy: ./tiers.ts)
 *
 * - policyTypes, when absent or empty, defaults to [Ingress], plus Egress when the egress list is not
 *   empty (defaults.go SetDefaults_NetworkPolicy).
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
import { compileTierPolicy, orderTier, type TierAction, type TierPolicy } from "./tiers.ts";

/** One side of a connection, as NetworkPolicy sees it. */
export type PolicyPeer =
  /** `addressless`: a pod whose address is unknown (of ipBlocks, only one holding every address matches). */
  { kind: "pod"; pod: Pod; ip: IPv4; addressless?: boolean } | { kind: "address"; ip: IPv4 };

/**
 * A compiled peer. `nsKey`/`podKey`/`key` identify the selectors' text, so engines that work on sets
 * can compute one peer's members once however many policies repeat it.
 */
export type Peer =
  | { kind: "pods"; namespaces: LabelMatcher | "own"; pods: LabelMatcher; nsKey: string; podKey: string }
  | { kind: "nodes"; nodes: LabelMatcher; key: string }
  | {
      kind: "ipBlock";
      cidr: { base: number; prefix: number };
      except: { base: number; prefix: number }[];
      text: string;
    };

/** `protocol: "any"` is a tier policy's named port, which matches a container port of any protocol. */
export type PortRule = { protocol: Protocol | "any"; port?: number; endPort?: number; name?: string };

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
  /** The NetworkPolicy and rule (0-based) that allowed it, when one did. */
  allowedBy?: { policy: string; rule: number };
  /** The tier that decided: an admin policy, NetworkPolicy, a baseline policy, or the default. */
  tier: "admin" | "networkpolicy" | "baseline" | "default";
  /** The tier walk: each admin and baseline policy rule consulted on the way, in order. */
  walk: string[];
  reason: string;
}

export interface PolicyVerdict {
  allowed: boolean;
  egress: DirectionVerdict;
  ingress: DirectionVerdict;
}

export function cidrOf(text: string): { base: number; prefix: number } | undefined {
  const [addr, bits] = text.split("/");
  const ip = parseIPv4(addr);
  if (ip === undefined) return undefined; // IPv6 blocks never match the IPv4 addresses podnet allocates
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ip & mask) >>> 0, prefix };
}

/** Whether an address lies in a CIDR block. */
export function inBlock(ip: IPv4, b: { base: number; prefix: number }): boolean {
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
  // The API server's defaulting (kubernetes pkg/apis/networking/v1 defaults.go): an absent or empty
  // policyTypes becomes [Ingress], plus Egress when the egress list is not empty (`egress: []` adds
  // nothing).
  const types = spec.policyTypes?.length
    ? spec.policyTypes
    : spec.egress?.length
      ? ["Ingress", "Egress"]
      : ["Ingress"];
  const rules = (
    list: { from?: unknown[]; to?: unknown[]; ports?: unknown[] }[] | undefined,
    field: "from" | "to",
  ): Rule[] => (list ?? []).map((r) => ({ peers: compilePeers(r[field]), ports: compilePorts(r.ports) }));
  return {
    name: `${obj.metadata.namespace}/${obj.metadata.name}`,
    namespace: obj.metadata.namespace!,
    selects: sharedSelector(spec.podSelector ?? {}),
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
    const nsKey = peer.namespaceSelector ? selectorKey(peer.namespaceSelector) : "own";
    const podKey = selectorKey(peer.podSelector ?? {});
    return {
      kind: "pods",
      namespaces: peer.namespaceSelector ? sharedSelector(peer.namespaceSelector, nsKey) : "own",
      pods: sharedSelector(peer.podSelector ?? {}, podKey),
      nsKey,
      podKey,
    };
  });
}

/**
 * A selector's matcher, compiled once per distinct selector (by `selectorKey`) however many policies
 * repeat it: a cluster's policies name the same few selectors over and over, and 10,000 policies'
 * matchers were a quarter of what a policy diff allocated (issue 17). A matcher is a pure function of
 * the selector, so sharing one is safe; the table is emptied when it holds 100,000 selectors.
 */
function sharedSelector(sel: LabelSelector, key = selectorKey(sel)): LabelMatcher {
  let matcher = MATCHERS.get(key);
  if (!matcher) {
    if (MATCHERS.size >= 100_000) MATCHERS.clear();
    matcher = compileSelector(sel);
    MATCHERS.set(key, matcher);
  }
  return matcher;
}

const MATCHERS = new Map<string, LabelMatcher>();

/** A selector's identity: its JSON with map keys sorted (so key order in the YAML does not matter). */
export function selectorKey(sel: unknown): string {
  return canonicalJSON(sel) ?? "";
}

/**
 * JSON with every object's keys in code-unit order and undefined members left out (as JSON.stringify
 * leaves them out): equal parsed values give equal text. Written out rather than through a replacer,
 * which made compiling 10,000 policies' selectors a tenth of a policy diff (issue 17).
 */
function canonicalJSON(v: unknown): string | undefined {
  if (v === undefined || typeof v === "function" || typeof v === "symbol") return undefined;
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJSON(x) ?? "null").join(",")}]`;
  const o = v as Record<string, unknown>;
  let out = "";
  for (const k of Object.keys(o).sort()) {
    const text = canonicalJSON(o[k]);
    if (text !== undefined) out += `${out ? "," : ""}${JSON.stringify(k)}:${text}`;
  }
  return `{${out}}`;
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
  /** Admin-tier and baseline-tier policies, each in evaluation order. */
  readonly admin: TierPolicy[];
  readonly baseline: TierPolicy[];
  readonly #byNamespace = new Map<string, CompiledPolicy[]>();
  readonly #nsLabels = new Map<string, Labels>();
  readonly #nodeByIP = new Map<IPv4, Labels>();

  /**
   * `compile` turns each NetworkPolicy object into its compiled form (default compileNetworkPolicy;
   * diff passes a memoized one, as it builds several engines over the same objects).
   */
  constructor(
    readonly state: ClusterState,
    compile: (obj: KubeObject) => CompiledPolicy = compileNetworkPolicy,
  ) {
    this.policies = state.networkPolicies.map((o) => compile(o));
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
    // `nodes` peers select "the IPs present in the node.Status.Addresses field": every InternalIP and
    // ExternalIP (network-policy-api's AdminNetworkPolicyEgressPeer), not only the primary.
    for (const node of state.nodes) for (const a of node.addresses) this.#nodeByIP.set(a.ip, node.labels);
    const tiers = [
      ...state.adminNetworkPolicies,
      ...state.clusterNetworkPolicies,
      ...state.baselineAdminNetworkPolicies,
    ].map(compileTierPolicy);
    this.admin = orderTier(tiers.filter((t) => t.tier === "admin"));
    this.baseline = orderTier(tiers.filter((t) => t.tier === "baseline"));
  }

  /** A namespace's labels as selectors see them (undeclared namespaces: only the automatic name label). */
  namespaceLabels(ns: string): Labels | undefined {
    return this.#nsLabels.get(ns);
  }

  /** Policies of one type that select a pod (host-network pods are never selected). */
  selecting(pod: Pod, direction: "ingress" | "egress"): CompiledPolicy[] {
    return this.#subject(pod, direction).selecting.slice();
  }

  /** Admin or baseline policies whose subject is the pod and that have rules for the direction. */
  tierSelecting(tier: "admin" | "baseline", pod: Pod, direction: "ingress" | "egress"): TierPolicy[] {
    return this.#subject(pod, direction)[tier].slice();
  }

  /**
   * Which policies of each tier select pods of one class (same namespace, same labels object, same
   * hostNetwork) for one direction. A trace asks this for every policy hook it meets, and filtering
   * every policy of the namespace and every admin policy by label selectors each time was the largest
   * single cost of a trace (issue 13); the policies, namespaces and pods never change after the
   * engine is built, so the answer is kept. Keyed by the pod's labels object: pods of one workload
   * commonly share it (control/workloads.ts), so the memory grows with the classes asked about, not
   * with the pods; pods with equal but separate label objects just get an entry each.
   */
  #subject(pod: Pod, direction: "ingress" | "egress"): SubjectPolicies {
    if (pod.spec.hostNetwork) return NO_POLICIES;
    const ns = pod.metadata.namespace!;
    const labels = pod.metadata.labels;
    const byNs = direction === "ingress" ? this.#ingressSubjects : this.#egressSubjects;
    let byLabels = byNs.get(ns);
    if (!byLabels) {
      byLabels = new Map();
      byNs.set(ns, byLabels);
    }
    const known = byLabels.get(labels);
    if (known) return known;
    const nsLabels = this.#nsLabels.get(ns);
    const tier = (policies: TierPolicy[]) =>
      policies.filter(
        (t) => t[direction].length > 0 && t.subject.namespaces(nsLabels) && t.subject.pods(labels),
      );
    const selecting = (this.#byNamespace.get(ns) ?? []).filter(
      (p) => p[direction] !== undefined && p.selects(labels),
    );
    const admin = tier(this.admin);
    const baseline = tier(this.baseline);
    const subject: SubjectPolicies = {
      selecting,
      admin,
      baseline,
      // The baseline tier is consulted only for pods no NetworkPolicy selects (#direction).
      selectedBy: [
        ...admin.map((t) => t.name),
        ...selecting.map((p) => p.name),
        ...(selecting.length ? [] : baseline.map((t) => t.name)),
      ],
      selectingNames: selecting.map((p) => p.name).join(", "),
    };
    byLabels.set(labels, subject);
    return subject;
  }

  readonly #ingressSubjects = new Map<string, Map<Labels | undefined, SubjectPolicies>>();
  readonly #egressSubjects = new Map<string, Map<Labels | undefined, SubjectPolicies>>();

  /** Whether a new connection from `src` to `dst` on `port/protocol` is allowed, with the reasons. */
  check(src: PolicyPeer, dst: PolicyPeer, port: number, protocol: Protocol): PolicyVerdict {
    const egress = this.checkDirection("egress", src, dst, port, protocol);
    const ingress = this.checkDirection("ingress", src, dst, port, protocol);
    return { allowed: egress.allowed && ingress.allowed, egress, ingress };
  }

  /**
   * One direction of `check` (its `egress` or `ingress`, the same object shape and reasons): egress is
   * judged at `src`, ingress at `dst`; a side that is not a pod is outside NetworkPolicy. The tracer
   * checks each direction at its own hook, so it asks for one at a time rather than both.
   */
  checkDirection(
    direction: "ingress" | "egress",
    src: PolicyPeer,
    dst: PolicyPeer,
    port: number,
    protocol: Protocol,
  ): DirectionVerdict {
    if (direction === "egress")
      return src.kind === "pod"
        ? this.#direction("egress", src.pod, dst, dst, port, protocol)
        : outside("egress");
    return dst.kind === "pod"
      ? this.#direction("ingress", dst.pod, src, dst, port, protocol)
      : outside("ingress");
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
    const policies = this.#subject(subject, direction);
    const { selecting, admin } = policies;
    const baseline = selecting.length ? NONE : policies.baseline;
    const selectedBy = policies.selectedBy.slice();
    const walk: string[] = [];
    // Each verdict is one object literal in DirectionVerdict's key order: spreading a shared base
    // into each (as this did) made V8 build them the slow way, a tenth of a trace (issue 13).
    const verdict = (
      allowed: boolean,
      tier: DirectionVerdict["tier"],
      reason: string,
      allowedBy?: DirectionVerdict["allowedBy"],
    ): DirectionVerdict =>
      allowedBy
        ? { direction, subject: name, selectedBy, walk, allowed, tier, allowedBy, reason }
        : { direction, subject: name, selectedBy, walk, allowed, tier, reason };

    // An admin or baseline rule's Allow or Deny is final; a Pass (or no match) goes on.
    const decided = (tier: "admin" | "baseline", policies: TierPolicy[]): DirectionVerdict | undefined => {
      const d = this.#tier(policies, direction, peer, dst, port, protocol, walk);
      if (!d || d.action === "pass") return undefined;
      const allowed = d.action === "allow";
      return verdict(allowed, tier, `${allowed ? "allowed" : "denied"} by ${d.what}`);
    };

    // 1. Admin tier: the first matching rule decides, unless it passes to NetworkPolicy.
    const byAdmin = decided("admin", admin);
    if (byAdmin) return byAdmin;

    // 2. NetworkPolicy: when one selects the pod, it decides.
    if (selecting.length > 0) {
      for (const policy of selecting) {
        const rules = policy[direction]!;
        for (let i = 0; i < rules.length; i++) {
          if (this.#ruleMatches(rules[i], policy.namespace, peer, dst, port, protocol)) {
            return verdict(true, "networkpolicy", `allowed by ${policy.name} ${direction} rule ${i + 1}`, {
              policy: policy.name,
              rule: i,
            });
          }
        }
      }
      const what = direction === "ingress" ? "from this source" : "to this destination";
      return verdict(
        false,
        "networkpolicy",
        `denied: pod ${name} is selected by ${policies.selectingNames} for ${direction === "ingress" ? "Ingress" : "Egress"}, and no rule of them allows ${protocol} ${port} ${what}`,
      );
    }

    // 3. Baseline tier, for pods no NetworkPolicy selects.
    const byBaseline = decided("baseline", baseline);
    if (byBaseline) return byBaseline;

    // 4. Default: allowed.
    const why = subject.spec.hostNetwork
      ? "host-network pods are not selected by network policies"
      : `no NetworkPolicy with ${direction === "ingress" ? "Ingress" : "Egress"} selects pod ${name}${admin.length + baseline.length ? ", and no admin or baseline policy rule matches" : ""}`;
    return verdict(true, "default", `allowed: ${why}`);
  }

  /** Walk one tier's policies in order; the first matching rule is returned (and every step recorded). */
  #tier(
    policies: TierPolicy[],
    direction: "ingress" | "egress",
    peer: PolicyPeer,
    dst: PolicyPeer,
    port: number,
    protocol: Protocol,
    walk: string[],
  ): { action: TierAction; what: string } | undefined {
    for (const t of policies) {
      const rules = t[direction];
      for (let i = 0; i < rules.length; i++) {
        const r = rules[i];
        if (r.ports !== "all" && !r.ports.some((p) => portMatches(p, dst, port, protocol))) continue;
        if (!r.peers.some((p) => this.peerMatches(p, "", peer))) continue;
        const what = `${t.name} (priority ${t.priority > 1000 ? "baseline" : t.priority}) ${direction} rule ${i + 1} "${r.name}"`;
        walk.push(
          `${what}: ${r.action === "pass" ? "Pass, on to NetworkPolicy" : r.action === "allow" ? "Allow" : "Deny"}`,
        );
        return { action: r.action, what };
      }
      walk.push(`${t.name}: no rule matches`);
    }
    return undefined;
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
    return rule.peers.some((p) => this.peerMatches(p, policyNs, peer));
  }

  /** Whether one compiled peer matches a side (policyNs: the namespace of a NetworkPolicy peer without namespaceSelector). */
  peerMatches(p: Peer, policyNs: string, peer: PolicyPeer): boolean {
    if (p.kind === "ipBlock") {
      if (p.cidr.prefix > 32) return false;
      // An unknown address lies in a block only if the block is every address.
      if (peer.kind === "pod" && peer.addressless) return p.cidr.prefix === 0 && p.except.length === 0;
      return inBlock(peer.ip, p.cidr) && !p.except.some((e) => inBlock(peer.ip, e));
    }
    if (p.kind === "nodes") {
      if (peer.kind === "pod" && peer.addressless) return false;
      const labels = this.#nodeByIP.get(peer.ip);
      return labels !== undefined && p.nodes(labels);
    }
    if (peer.kind !== "pod" || peer.pod.spec.hostNetwork) return false;
    const ns = peer.pod.metadata.namespace!;
    const nsOk = p.namespaces === "own" ? ns === policyNs : p.namespaces(this.#nsLabels.get(ns));
    return nsOk && p.pods(peer.pod.metadata.labels);
  }

  /**
   * What the policies distinguish, for engines that work on classes: every CIDR a peer names (cidr and
   * except, node addresses for `nodes` peers), per direction; every numeric port boundary per
   * protocol; and whether any rule names a port.
   */
  features(): PolicyFeatures {
    // The policies never change after construction: compute once, however many views ask.
    this.#features ??= this.#computeFeatures();
    return this.#features;
  }

  #features?: PolicyFeatures;

  #computeFeatures(): PolicyFeatures {
    const blocks = new Map<string, { direction: "ingress" | "egress"; base: number; prefix: number }>();
    const bounds = new Map<Protocol, Set<number>>(PROTOCOLS.map((p) => [p, new Set([1])]));
    let named = false;
    const addPorts = (ports: PortRule[] | "all") => {
      if (ports === "all") return;
      for (const p of ports) {
        if (p.name !== undefined) named = true;
        else if (p.port !== undefined && p.protocol !== "any") {
          const set = bounds.get(p.protocol)!;
          set.add(p.port);
          if ((p.endPort ?? p.port) < 65535) set.add((p.endPort ?? p.port) + 1);
        }
      }
    };
    const addPeers = (direction: "ingress" | "egress", peers: Peer[] | "all") => {
      if (peers === "all") return;
      for (const p of peers) {
        const cidrs =
          p.kind === "ipBlock"
            ? [p.cidr, ...p.except].filter((c) => c.prefix <= 32)
            : p.kind === "nodes"
              ? [...this.#nodeByIP.keys()].map((ip) => ({ base: ip, prefix: 32 }))
              : [];
        for (const c of cidrs) blocks.set(`${direction}/${c.base}/${c.prefix}`, { direction, ...c });
      }
    };
    // A NetworkPolicy's part is kept per rule list: engines over two versions of a cluster (diff)
    // share the compiled rules of every policy the change left alone. (Its peers never name nodes.)
    // Indexed loops: this runs once per engine, mostly before the JIT optimizes it, where every
    // for-of step allocates (10,000 policies: a tenth of a policy diff's garbage, issue 17).
    for (let i = 0; i < this.policies.length; i++)
      for (let d = 0; d < 2; d++) {
        const direction = d === 0 ? "ingress" : "egress";
        const rules = this.policies[i][direction];
        if (!rules) continue;
        let part = RULE_FEATURES[direction].get(rules);
        if (!part) {
          const own = new Map<string, { direction: "ingress" | "egress"; base: number; prefix: number }>();
          const ownBounds: [Protocol, number][] = [];
          let ownNamed = false;
          for (const r of rules) {
            if (r.ports !== "all")
              for (const p of r.ports) {
                if (p.name !== undefined) ownNamed = true;
                else if (p.port !== undefined && p.protocol !== "any") {
                  ownBounds.push([p.protocol, p.port]);
                  if ((p.endPort ?? p.port) < 65535) ownBounds.push([p.protocol, (p.endPort ?? p.port) + 1]);
                }
              }
            if (r.peers !== "all")
              for (const p of r.peers)
                if (p.kind === "ipBlock")
                  for (const c of [p.cidr, ...p.except])
                    if (c.prefix <= 32) own.set(`${direction}/${c.base}/${c.prefix}`, { direction, ...c });
          }
          part = { blocks: [...own], bounds: ownBounds, named: ownNamed };
          RULE_FEATURES[direction].set(rules, part);
        }
        for (let k = 0; k < part.blocks.length; k++) blocks.set(part.blocks[k][0], part.blocks[k][1]);
        for (let k = 0; k < part.bounds.length; k++) bounds.get(part.bounds[k][0])!.add(part.bounds[k][1]);
        if (part.named) named = true;
      }
    for (const t of [...this.admin, ...this.baseline])
      for (const direction of ["ingress", "egress"] as const)
        for (const r of t[direction]) {
          addPorts(r.ports);
          addPeers(direction, r.peers);
        }
    return { blocks: [...blocks.values()], bounds, named };
  }
}

/** Per compiled NetworkPolicy rule list (one direction): the CIDRs, port boundaries and named ports it draws. */
type RuleFeatures = {
  blocks: [string, { direction: "ingress" | "egress"; base: number; prefix: number }][];
  bounds: [Protocol, number][];
  named: boolean;
};
const RULE_FEATURES = {
  ingress: new WeakMap<object, RuleFeatures>(),
  egress: new WeakMap<object, RuleFeatures>(),
};

/** The policies of each tier that select one class of pods for one direction (PolicyEngine.#subject). */
interface SubjectPolicies {
  readonly selecting: CompiledPolicy[];
  readonly admin: TierPolicy[];
  /** Every baseline policy selecting the pod, whether or not a NetworkPolicy selects it too. */
  readonly baseline: TierPolicy[];
  /** `DirectionVerdict.selectedBy`: admin, NetworkPolicy, then baseline names (baseline only when no NetworkPolicy selects). */
  readonly selectedBy: readonly string[];
  /** The selecting NetworkPolicies' names, comma-separated (the denial's reason names them). */
  readonly selectingNames: string;
}

const NONE: TierPolicy[] = [];
const NO_POLICIES: SubjectPolicies = {
  selecting: [],
  admin: [],
  baseline: [],
  selectedBy: [],
  selectingNames: "",
};

/** What the policies distinguish (see PolicyEngine.features); shared, so callers copy before changing. */
export interface PolicyFeatures {
  readonly blocks: readonly { direction: "ingress" | "egress"; base: number; prefix: number }[];
  readonly bounds: ReadonlyMap<Protocol, ReadonlySet<number>>;
  readonly named: boolean;
}

const PROTOCOLS: readonly Protocol[] = ["SCTP", "TCP", "UDP"];

function portMatches(p: PortRule, dst: PolicyPeer, port: number, protocol: Protocol): boolean {
  if (p.protocol !== "any" && p.protocol !== protocol) return false;
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
    tier: "default",
    walk: [],
    reason: `allowed: the ${direction === "egress" ? "source" : "destination"} is not a pod, so no NetworkPolicy applies on that side`,
  };
}

/** The policy view of an address: the pod that has it (host-network pods are just addresses), or the address. */
export function peerFor(podByIP: ReadonlyMap<IPv4, Pod>, ip: IPv4): PolicyPeer {
  const pod = podByIP.get(ip);
  return pod ? { kind: "pod", pod, ip } : { kind: "address", ip };
}
