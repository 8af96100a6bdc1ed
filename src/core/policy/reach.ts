/**
 * Cluster-scale reachability: every pod pair, every port, under the AdminNetworkPolicy, NetworkPolicy
 * and BaselineAdminNetworkPolicy tiers, compiled into pod classes and bitsets.
 *
 *   pods ──(namespace, labels, named ports, CIDR memberships; host-network pods by address)──► classes
 *   ports ──(every boundary a rule draws: numbers, ranges, resolved names)──► atoms (all protocols)
 *   per class and direction: the policies selecting it ──► a profile, shared by every class with the same
 *   per profile and atom: one bitset row of the peer classes allowed (first-match over the tiers)
 *
 * A connection s → d on atom a is allowed ⇔ egressRow(s, a) ∋ d ∧ ingressRow(d, a) ∋ s: a query is
 * two array look-ups and two bit tests. Atoms that no selecting rule tells apart share a row, so a
 * profile holds a handful of rows, not one per atom. Two pods of one class are indistinguishable to
 * every policy on either side, so the class answer is the pod answer. A pod always reaches itself.
 *
 * Sets of classes (a peer's members, a rule's peers) are computed once per distinct selector text,
 * however many policies repeat it. The direct evaluator (./netpol.ts) is the reference this engine is
 * property-tested against (test/policy-matrix.test.ts).
 *
 * An analysis can start from an earlier one of the same cluster whose NetworkPolicies alone changed
 * (`ReachabilityOptions.previous`, used by ./diff.ts): a NetworkPolicy only affects the pods its
 * podSelector selects, in the directions of its policyTypes (kubernetes/api networking/v1 types.go),
 * so the classes, peer sets and every other class's profile carry over; a new port boundary splits
 * atoms (the kept profiles treat both halves as the whole), a new CIDR needs the full computation.
 * A lazy analysis (`ReachabilityOptions.lazy`, diff's scoped lines) computes a class's profiles on
 * first use, and a source's egress towards one destination class column-wise: the rules whose peers
 * hold that class, decided per atom. test/diff-incremental.test.ts compares them with the full
 * computation cell by cell.
 */
import type { ClusterState } from "../control/state.ts";
import type { Pod, Protocol } from "../model/k8s.ts";
import { formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import {
  add,
  and,
  andInto,
  andNotInto,
  type Bits,
  empty,
  forEach,
  full,
  has,
  isEmpty,
  orInto,
  Weights,
} from "./bitset.ts";
import {
  type CompiledPolicy,
  inBlock,
  type Peer,
  PolicyEngine,
  type PolicyPeer,
  type PortRule,
} from "./netpol.ts";
import type { TierAction, TierPolicy } from "./tiers.ts";

/**
 * The pod pairs Kubernetes allows whatever the policies say, because one side is the other's node: a
 * host-network pod (to policies, its node's address) and a pod with its own network on the same node —
 * traffic "to and from the node where a Pod is running is always allowed". Indexes into `pods`, each
 * pair meaning both directions.
 */
export function sameNodePairs(pods: readonly Pod[]): [host: number, pod: number][] {
  if (!pods.some((p) => p.spec.hostNetwork)) return [];
  const byNode = new Map<string, { host: number[]; pods: number[] }>();
  pods.forEach((p, i) => {
    const node = p.spec.nodeName;
    if (!node) return;
    const entry = byNode.get(node) ?? byNode.set(node, { host: [], pods: [] }).get(node)!;
    (p.spec.hostNetwork ? entry.host : entry.pods).push(i);
  });
  const out: [number, number][] = [];
  for (const { host, pods: own } of byNode.values())
    for (const h of host) for (const q of own) out.push([h, q]);
  return out;
}

/** Ports `start`…`end` of one protocol, treated alike by every rule. */
export interface PortAtom {
  protocol: Protocol;
  start: number;
  end: number;
}

/** The policies of each tier selecting a class for one direction, and the profile key they make. */
interface Selection {
  nps: CompiledPolicy[];
  admin: TierPolicy[];
  /** Empty when a NetworkPolicy selects the class: the baseline tier is then not consulted. */
  baseline: TierPolicy[];
  key: string;
}

/** One direction's answers for the classes selected by the same policies. */
interface Profile {
  /** atom → index into `rows`. */
  atomRow: Int32Array;
  /** Per row, the peer classes allowed (sources for ingress, destinations for egress). */
  rows: Bits[];
  /** No policy applies: every row is every class. */
  open: boolean;
  /** The classes with this profile. */
  members: number[];
  /** Per row, the atoms that use it (computed on demand). */
  masks?: Bits[];
}

/** A rule in the order its tier consults it: admin rules decide first-match, NetworkPolicy rules only allow. */
interface Step {
  stage: "admin" | "networkpolicy" | "baseline";
  action: TierAction;
  peers: Bits;
  /** Atoms the rule's numeric ports (or `ports` absent) match. */
  numeric: Uint8Array;
  /** Named ports: name and protocol ("any" for the tiers' namedPort). */
  named: { name: string; protocol: Protocol | "any" }[];
}

type AnyRule = { peers: Peer[] | "all"; ports: PortRule[] | "all" };

const PROTOCOL_ORDER: readonly Protocol[] = ["SCTP", "TCP", "UDP"];

export interface ReachabilityOptions {
  /** The direct engine over the same state, when the caller has one already. */
  engine?: PolicyEngine;
  /** Addresses outside the pods to give classes of their own (see `addressClass`). */
  addresses?: readonly IPv4[];
  /**
   * The analysis of an earlier version of this cluster that differs only in the NetworkPolicies named
   * in `changed` (`ns/name`: added, deleted or edited) — the same pods in the same order, namespaces,
   * nodes and admin tiers, the same `addresses` (src/core/policy/diff.ts `changeScope` checks this
   * before passing one). The new analysis then starts from it: see `reuse`.
   */
  previous?: { reach: Reachability; changed: ReadonlySet<string> };
  /**
   * Compute each class's profiles on first use rather than all up front (used by ./connlist.ts for
   * diff's scoped lines, which read a few classes' ingress and every class's egress towards a few
   * destinations only). Until then `inProfile`/`outProfile` hold -1 for a class; read a lazy
   * analysis through its methods (`profileIndex`, `admits`, `isOpen`, `classAllowed`, …), which
   * compute what they need, never through those arrays. With `previous`, the classes and atoms are
   * still taken from it, the profiles computed anew on demand.
   */
  lazy?: boolean;
}

/**
 * The key under which a peer's class set is kept: its selector texts (a pod selector in its policy's
 * own namespace keys by that namespace), so that equal peers of different policies share one set.
 */
function peerKey(p: Peer, policyNs: string): string {
  return p.kind === "pods"
    ? `pods|${p.nsKey === "own" ? `own:${policyNs}` : p.nsKey}|${p.podKey}`
    : p.kind === "nodes"
      ? `nodes|${p.key}`
      : `ip|${p.text}`;
}

export class Reachability {
  /** Every pod with an address that has not finished, sorted by namespace then name. */
  readonly pods: Pod[];
  /** Pod index → class. */
  readonly classOf: Int32Array;
  /** A representative pod per class. */
  readonly reps: Pod[];
  /** Pods per class. */
  readonly sizes: Int32Array;
  readonly atoms: PortAtom[];
  readonly ingress: Profile[] = [];
  readonly egress: Profile[] = [];
  /** Class → its ingress and egress profile. */
  readonly inProfile: Int32Array;
  readonly outProfile: Int32Array;
  readonly engine: PolicyEngine;
  /** The class of each of `opts.addresses`, in order (classes of no pods: their size is 0). */
  readonly addressClass: number[];

  /**
   * What this analysis took from `opts.previous`, one line for a debug log: the classes and atoms
   * reused and the classes whose profiles were recomputed, or why it was computed in full.
   */
  readonly reuse: string;

  readonly #all: Bits;
  /** Peer sets by selector text: a function of the classes, namespaces and nodes, so shared with a derived analysis. */
  readonly #peerSets: Map<string, Bits>;
  readonly #ruleSets = new Map<object, Bits>();
  readonly #numeric = new Map<object, Uint8Array>();
  /** `name/atom` → classes having a container port of that name at that atom's protocol and port. */
  readonly #namedSet: Map<string, Bits>;
  /** name → atoms where some class has a container port of that name. */
  readonly #namedAtoms: Map<string, number[]>;
  /** Per class, its named container ports as `name/atom`. */
  readonly #classNamed: string[][];
  readonly #classesByNs: Map<string, number[]>;
  /** `pods[i]` is `state.pods[order[i]]`. */
  readonly #order: Int32Array;
  /** Per class, the index into `pods` of its representative (-1: an address class). */
  readonly #repAt: Int32Array;

  constructor(
    readonly state: ClusterState,
    opts: ReachabilityOptions = {},
  ) {
    const engine = opts.engine ?? new PolicyEngine(state);
    this.engine = engine;
    const { blocks, bounds, named } = engine.features();
    const previous = opts.previous;
    const blocker = previous ? reuseBlocker(previous.reach, state, engine, opts.addresses ?? []) : "";
    if (previous && typeof blocker === "object") {
      // Same pods and classes: only the profiles of the classes a changed policy selects differ. New
      // port boundaries split atoms; every other profile treats both halves as it treated the whole.
      const from = previous.reach;
      const split = splitAtoms(from.atoms, blocker.starts);
      this.#order = from.#order;
      this.pods = new Array(from.#order.length);
      for (let k = 0; k < from.#order.length; k++) this.pods[k] = state.pods[from.#order[k]];
      this.classOf = from.classOf;
      this.sizes = from.sizes;
      this.#repAt = from.#repAt;
      this.reps = from.reps.map((p, c) => (from.#repAt[c] >= 0 ? this.pods[from.#repAt[c]] : p));
      this.addressClass = from.addressClass;
      this.#all = from.#all;
      this.#peerSets = from.#peerSets;
      this.#classesByNs = from.#classesByNs;
      this.#nodePairs = from.#nodePairs;
      if (split) {
        // Named container ports sit in atoms of one port, which no boundary splits: only their indexes move.
        const { atoms, moved } = split;
        const rekey = (key: string) => {
          const slash = key.lastIndexOf("/");
          return `${key.slice(0, slash)}/${moved[Number(key.slice(slash + 1))]}`;
        };
        this.atoms = atoms;
        this.#namedSet = new Map([...from.#namedSet].map(([k, v]) => [rekey(k), v]));
        this.#namedAtoms = new Map([...from.#namedAtoms].map(([k, v]) => [k, v.map((a) => moved[a])]));
        this.#classNamed = from.#classNamed.map((keys) => keys.map(rekey));
      } else {
        this.atoms = from.atoms;
        this.#namedSet = from.#namedSet;
        this.#namedAtoms = from.#namedAtoms;
        this.#classNamed = from.#classNamed;
      }
      this.inProfile = new Int32Array(this.reps.length);
      this.outProfile = new Int32Array(this.reps.length);
      if (opts.lazy) {
        this.#lazy = true;
        this.inProfile.fill(-1);
        this.outProfile.fill(-1);
        this.#egressFrom = { from, changed: previous.changed, parent: split?.parent };
        this.reuse = `reused the previous analysis: ${this.reps.length} classes, ${from.atoms.length} port atoms${split ? ` (${this.atoms.length} after the new port boundaries)` : ""}; profiles computed on demand`;
        return;
      }
      const counts = this.#profiles({ from, changed: previous.changed, parent: split?.parent });
      this.reuse = `reused the previous analysis: ${this.reps.length} classes, ${from.atoms.length} port atoms${split ? ` (${this.atoms.length} after the new port boundaries)` : ""}, and the profiles of every class but ${counts.ingress} (ingress) and ${counts.egress} (egress) that a changed NetworkPolicy selects`;
      return;
    }
    this.reuse = previous ? `computed in full: ${blocker as string}` : "computed in full";
    this.#peerSets = new Map();
    this.#namedSet = new Map();
    this.#namedAtoms = new Map();
    this.#classesByNs = new Map();
    const kept: number[] = [];
    state.pods.forEach((p, i) => {
      if (p.status?.podIP && p.status.phase !== "Succeeded" && p.status.phase !== "Failed") kept.push(i);
    });
    // Sorted by namespace, then name, then place in the manifests: namespaces first (a thousand, say),
    // then each namespace's pods by name, which compares each name with its own namespace's only.
    // (Indexed loops: this runs once per analysis, mostly before the JIT optimizes it, where each
    // for-of step over 100,000 pods allocates.)
    const inNs = new Map<string, number[]>();
    for (let k = 0; k < kept.length; k++) {
      const i = kept[k];
      const ns = state.pods[i].metadata.namespace!;
      const list = inNs.get(ns);
      if (list) list.push(i);
      else inNs.set(ns, [i]);
    }
    kept.length = 0;
    for (const ns of [...inNs.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const list = inNs.get(ns)!;
      list.sort((i, j) => {
        const a = state.pods[i].metadata.name;
        const b = state.pods[j].metadata.name;
        return a < b ? -1 : a > b ? 1 : i - j;
      });
      for (let k = 0; k < list.length; k++) kept.push(list[k]);
    }
    this.#order = new Int32Array(kept);
    this.pods = new Array(kept.length);
    for (let k = 0; k < kept.length; k++) this.pods[k] = state.pods[kept[k]];

    // Classes. Every distinct CIDR a rule names splits the pods it contains from the others; pods of
    // one namespace with the same labels and named container ports share a template, so a class is a
    // (template, CIDR membership) pair, and a host-network pod is a class of its own address.
    const cidrs = new Map<string, { base: number; prefix: number }>();
    for (const b of blocks) cidrs.set(`${b.base}/${b.prefix}`, b);
    const membership = cidrMembership([...cidrs.values()]);
    const template = podTemplates(named);
    this.classOf = new Int32Array(this.pods.length);
    this.reps = [];
    const keys = new Map<string, number>(); // host-network classes, by address
    const classes = new Map<number, number>(); // template × membership → class
    const sizes: number[] = [];
    const repAt: number[] = [];
    const newClass = (p: Pod, i: number) => {
      const c = this.reps.length;
      this.reps.push(p);
      repAt.push(i);
      sizes.push(0);
      return c;
    };
    this.pods.forEach((p, i) => {
      let c: number | undefined;
      if (p.spec.hostNetwork) {
        const key = `host|${p.status!.podIP}`;
        c = keys.get(key);
        if (c === undefined) {
          c = newClass(p, i);
          keys.set(key, c);
        }
      } else {
        const key = template(p) * membership.count + membership.of(parseIPv4(p.status!.podIP!) ?? 0);
        c = classes.get(key);
        if (c === undefined) {
          c = newClass(p, i);
          classes.set(key, c);
        }
      }
      sizes[c]++;
      this.classOf[i] = c;
    });
    // Addresses outside the pods, as classes of no pods: to policies an address is what a
    // host-network pod is, so it gets such a stand-in.
    this.addressClass = (opts.addresses ?? []).map((ip) => {
      const text = formatIPv4(ip);
      const key = `host|${text}`;
      let c = keys.get(key);
      if (c === undefined) {
        c = this.reps.length;
        keys.set(key, c);
        this.reps.push({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: text, namespace: "" },
          spec: { hostNetwork: true, containers: [] },
          status: { podIP: text },
        });
        repAt.push(-1);
        sizes.push(0);
      }
      return c;
    });
    this.sizes = Int32Array.from(sizes);
    this.#repAt = Int32Array.from(repAt);
    const n = this.reps.length;
    this.#all = full(n);
    this.reps.forEach((p, c) => {
      if (p.spec.hostNetwork) return;
      const list = this.#classesByNs.get(p.metadata.namespace!) ?? [];
      list.push(c);
      this.#classesByNs.set(p.metadata.namespace!, list);
    });

    // Port atoms, all protocols: the first port of every interval between boundaries.
    const starts = new Map<Protocol, Set<number>>(PROTOCOL_ORDER.map((p) => [p, new Set(bounds.get(p))]));
    if (named)
      for (const p of this.reps)
        if (!p.spec.hostNetwork)
          for (const c of p.spec.containers)
            for (const x of c.ports ?? [])
              if (x.name) {
                const set = starts.get(x.protocol ?? "TCP")!;
                set.add(x.containerPort);
                if (x.containerPort < 65535) set.add(x.containerPort + 1);
              }
    this.atoms = [];
    for (const protocol of PROTOCOL_ORDER) {
      const list = [...starts.get(protocol)!].filter((x) => x >= 1 && x <= 65535).sort((a, b) => a - b);
      list.forEach((start, i) => {
        this.atoms.push({ protocol, start, end: i + 1 < list.length ? list[i + 1] - 1 : 65535 });
      });
    }

    // Named container ports, per class and per name.
    this.#classNamed = this.reps.map((p, c) => {
      const out: string[] = [];
      if (!named || p.spec.hostNetwork) return out;
      for (const ct of p.spec.containers)
        for (const x of ct.ports ?? []) {
          if (!x.name) continue;
          const atom = this.atomOf(x.protocol ?? "TCP", x.containerPort);
          const key = `${x.name}/${atom}`;
          out.push(key);
          let set = this.#namedSet.get(key);
          if (!set) {
            set = empty(n);
            this.#namedSet.set(key, set);
            const atoms = this.#namedAtoms.get(x.name) ?? [];
            atoms.push(atom);
            this.#namedAtoms.set(x.name, atoms);
          }
          add(set, c);
        }
      return out;
    });

    this.inProfile = new Int32Array(n);
    this.outProfile = new Int32Array(n);
    if (opts.lazy) {
      this.#lazy = true;
      this.inProfile.fill(-1);
      this.outProfile.fill(-1);
    } else this.#profiles();
  }

  /**
   * `sameNodePairs` of `pods`, indexes into `pods`: none without a host-network class, which the
   * classes tell without reading 100,000 pods. Computed on first use; an analysis started from this
   * one (the same pods in the same order) shares it.
   */
  nodePairs(): [host: number, pod: number][] {
    this.#nodePairs ??= this.reps.some((p, c) => this.sizes[c] > 0 && p.spec.hostNetwork)
      ? sameNodePairs(this.pods)
      : [];
    return this.#nodePairs;
  }

  #nodePairs?: [host: number, pod: number][];

  /** Profiles are computed on first use (`ReachabilityOptions.lazy`). */
  #lazy = false;
  /**
   * A lazy analysis started from another (diff's new side): a class whose egress no changed policy
   * selects, in either version, lets out what it let out there (the same policies, the same classes;
   * a split atom keeps its whole's verdict), so its egress is read from that analysis.
   */
  #egressFrom?: {
    from: Reachability;
    changed: ReadonlySet<string>;
    /** When atoms were split: per atom here, the atom of `from` it lies in. */
    parent?: Int32Array;
    /** Per class, whether a changed policy selects it for egress (computed on first use). */
    affected?: Uint8Array;
  };

  /** The analysis to read class `c`'s egress from (`#egressFrom`), when the change leaves it alone. */
  #egressSource(c: number): Reachability | undefined {
    const e = this.#egressFrom;
    if (!e) return undefined;
    e.affected ??= this.#affected(e.from, e.changed, "egress");
    return e.affected[c] ? undefined : e.from;
  }
  /** Per direction, profile key → index: profiles shared by the classes the same policies select. */
  readonly #byKey = { ingress: new Map<string, number>(), egress: new Map<string, number>() };
  /** Lazy egress columns: `profile key` → per peer class, the atoms on which that profile lets it out. */
  readonly #columns = new Map<string, Map<number, Bits>>();

  /**
   * The index into `ingress`/`egress` of class `c`'s profile for `direction`, computed first if this
   * is a lazy analysis that has not needed it yet.
   */
  profileIndex(direction: "ingress" | "egress", c: number): number {
    const of = direction === "ingress" ? this.inProfile : this.outProfile;
    if (of[c] < 0) this.#computeProfile(direction, c, this.#byKey[direction]);
    return of[c];
  }

  /** Every class's profiles, for the methods that read them all (a no-op unless lazy). */
  #complete(direction: "ingress" | "egress"): void {
    if (!this.#lazy) return;
    const of = direction === "ingress" ? this.inProfile : this.outProfile;
    for (let c = 0; c < of.length; c++)
      if (of[c] < 0) this.#computeProfile(direction, c, this.#byKey[direction]);
  }

  /** Whether no policy of any tier applies to class `c` in `direction` (every peer, every port). */
  isOpen(direction: "ingress" | "egress", c: number): boolean {
    const of = direction === "ingress" ? this.inProfile : this.outProfile;
    if (of[c] >= 0) return (direction === "ingress" ? this.ingress : this.egress)[of[c]].open;
    const earlier = direction === "egress" ? this.#egressSource(c) : undefined;
    if (earlier) return earlier.isOpen("egress", c);
    const { nps, admin, baseline } = this.#selection(direction, c);
    // The baseline tier is left out of the selection when a NetworkPolicy selects the class.
    return nps.length === 0 && admin.length === 0 && baseline.length === 0;
  }

  /**
   * The atoms (a bitset over `atoms`) on which class `subject`'s `direction` lets class `peer` through:
   * for ingress the subject is the destination and the peer a source, for egress the other way round.
   * A lazy analysis answers egress for a profile it has not computed column-wise (`#egressColumn`):
   * the same atoms, without the rows over every class.
   */
  admits(direction: "ingress" | "egress", subject: number, peer: number): Bits {
    const of = direction === "ingress" ? this.inProfile : this.outProfile;
    if (direction === "egress" && of[subject] < 0) {
      const earlier = this.#egressSource(subject);
      if (!earlier) return this.#egressColumn(subject, peer);
      const there = earlier.admits("egress", subject, peer);
      const parent = this.#egressFrom!.parent;
      if (!parent) return there;
      const out = empty(this.atoms.length);
      for (let a = 0; a < parent.length; a++) if (has(there, parent[a])) add(out, a);
      return out;
    }
    return this.#admits(
      (direction === "ingress" ? this.ingress : this.egress)[this.profileIndex(direction, subject)],
      peer,
    );
  }

  /**
   * Profiles, shared by the classes that the same policies select. With `reuse`, a class keeps its
   * profile from that analysis unless a changed NetworkPolicy selects it for the direction in its old
   * or new version (a policy only ever affects the pods its podSelector selects, in the directions of
   * its policyTypes: kubernetes/api networking/v1 types.go); returns how many classes were recomputed.
   */
  #profiles(reuse?: {
    from: Reachability;
    changed: ReadonlySet<string>;
    /** When atoms were split: per atom here, the atom of `from` it lies in. */
    parent?: Int32Array;
  }): { ingress: number; egress: number } {
    const n = this.reps.length;
    const recomputed = { ingress: 0, egress: 0 };
    for (const direction of ["ingress", "egress"] as const) {
      const profiles = direction === "ingress" ? this.ingress : this.egress;
      const of = direction === "ingress" ? this.inProfile : this.outProfile;
      const byKey = this.#byKey[direction];
      const affected = reuse ? this.#affected(reuse.from, reuse.changed, direction) : undefined;
      const before = reuse && (direction === "ingress" ? reuse.from.ingress : reuse.from.egress);
      const beforeOf = reuse && (direction === "ingress" ? reuse.from.inProfile : reuse.from.outProfile);
      const kept = new Map<number, number>(); // profile index there → here
      for (let c = 0; c < n; c++) {
        if (affected && !affected[c]) {
          const old = beforeOf![c];
          let index = kept.get(old);
          if (index === undefined) {
            index = profiles.length;
            kept.set(old, index);
            const p = before![old];
            const parent = reuse!.parent;
            const atomRow = parent ? parent.map((a) => p.atomRow[a]) : p.atomRow;
            profiles.push({ atomRow, rows: p.rows, open: p.open, members: [] });
          }
          profiles[index].members.push(c);
          of[c] = index;
          continue;
        }
        if (affected) recomputed[direction]++;
        this.#computeProfile(direction, c, byKey);
      }
    }
    return recomputed;
  }

  /** The policies of each tier selecting class `c` for `direction`, and the profile key they make. */
  #selection(direction: "ingress" | "egress", c: number): Selection {
    const cache = this.#selections[direction];
    const known = cache[c];
    if (known) return known;
    const engine = this.engine;
    this.#npIndex ??= new Map(engine.policies.map((p, i) => [p, i]));
    this.#tierIndex ??= new Map([...engine.admin, ...engine.baseline].map((t, i) => [t, i]));
    const [npIndex, tierIndex] = [this.#npIndex, this.#tierIndex];
    const rep = this.reps[c];
    const nps = engine.selecting(rep, direction);
    const admin = engine.tierSelecting("admin", rep, direction);
    const baseline = nps.length ? [] : engine.tierSelecting("baseline", rep, direction);
    const key = `${admin.map((t) => tierIndex.get(t)).join(",")}|${nps.map((p) => npIndex.get(p)).join(",")}|${baseline.map((t) => tierIndex.get(t)).join(",")}`;
    cache[c] = { nps, admin, baseline, key };
    return cache[c];
  }

  /** `#selection`'s answers per direction and class. */
  readonly #selections: Record<"ingress" | "egress", Selection[]> = { ingress: [], egress: [] };

  #npIndex?: Map<CompiledPolicy, number>;
  #tierIndex?: Map<TierPolicy, number>;

  /** Class `c`'s profile for `direction`: an existing one with the same key, or a new one. */
  #computeProfile(direction: "ingress" | "egress", c: number, byKey: Map<string, number>): void {
    const profiles = direction === "ingress" ? this.ingress : this.egress;
    const of = direction === "ingress" ? this.inProfile : this.outProfile;
    const { nps, admin, baseline, key: base } = this.#selection(direction, c);
    let key = base;
    const steps = this.#steps(direction, admin, nps, baseline);
    // An ingress rule's named port is resolved against the selected pod itself.
    if (direction === "ingress" && steps.some((s) => s.named.length))
      key += `|${this.#classNamed[c].join(",")}`;
    let index = byKey.get(key);
    if (index === undefined) {
      index = profiles.length;
      byKey.set(key, index);
      profiles.push(this.#profile(direction, steps, nps.length > 0, c));
    }
    profiles[index].members.push(c);
    of[c] = index;
  }

  /**
   * The atoms on which class `s`'s egress lets class `d` out, without computing the profile's rows:
   * the rules whose peers contain `d` (each peer tested against `d` alone), decided per atom by the
   * same first-match over the tiers as `#decide` (admin allow/deny/pass, then NetworkPolicy's union
   * when one selects `s`, else the baseline, then allow). Kept per profile key and `d`.
   */
  #egressColumn(s: number, d: number): Bits {
    const { nps, admin, baseline, key } = this.#selection("egress", s);
    const count = this.atoms.length;
    if (nps.length === 0 && admin.length === 0 && baseline.length === 0) return full(count);
    const byPeer = this.#columns.get(key) ?? this.#columns.set(key, new Map()).get(key)!;
    const known = byPeer.get(d);
    if (known) return known.slice();
    // The rules matching d, in tier order, each with the atoms where it matches d.
    const rules: { stage: Step["stage"]; action: TierAction; at: Uint8Array }[] = [];
    const push = (stage: Step["stage"], action: TierAction, rule: AnyRule, ns: string) => {
      if (rule.peers !== "all" && !rule.peers.some((p) => this.#peerHas(p, ns, d))) return;
      const numeric = this.#numericAtoms(rule);
      let at = numeric;
      if (rule.ports !== "all")
        for (const e of rule.ports) {
          if (e.name === undefined) continue;
          for (const a of this.#namedAtoms.get(e.name) ?? [])
            if (
              (e.protocol === "any" || e.protocol === this.atoms[a].protocol) &&
              !numeric[a] &&
              this.#classNamed[d].includes(`${e.name}/${a}`)
            ) {
              if (at === numeric) at = numeric.slice();
              at[a] = 1;
            }
        }
      rules.push({ stage, action, at });
    };
    for (const t of admin) for (const r of t.egress) push("admin", r.action, r, "");
    for (const p of nps) for (const r of p.egress!) push("networkpolicy", "allow", r, p.namespace);
    for (const t of baseline) for (const r of t.egress) push("baseline", r.action, r, "");
    const out = empty(count);
    const selected = nps.length > 0;
    for (let a = 0; a < count; a++) {
      // The first rule matching d here decides, except that an admin "pass" hands over to the next
      // tiers (skipping the admin rules after it); NetworkPolicy rules only allow, and when one
      // selects s the baseline is not consulted.
      let verdict: boolean | undefined;
      let npMatched = false;
      let passed = false; // a "pass" skips the rest of the admin tier
      for (const r of rules) {
        if (!r.at[a] || (passed && r.stage === "admin")) continue;
        if (r.stage === "admin") {
          if (r.action === "pass") passed = true;
          else {
            verdict = r.action === "allow";
            break;
          }
          continue;
        }
        if (r.stage === "networkpolicy") npMatched = true;
        else if (!selected) {
          verdict = r.action === "allow";
          break;
        }
      }
      verdict ??= selected ? npMatched : true;
      if (verdict) add(out, a);
    }
    byPeer.set(d, out);
    return out.slice();
  }

  /** Whether class `c` is in the set one peer matches (`#peerSet`'s answer for one class). */
  #peerHas(p: Peer, policyNs: string, c: number): boolean {
    const key = peerKey(p, policyNs);
    const set = this.#peerSets.get(key);
    if (set) return has(set, c);
    const rep = this.reps[c];
    if (p.kind !== "pods") return this.engine.peerMatches(p, "", peerOf(rep));
    if (rep.spec.hostNetwork) return false;
    const ns = rep.metadata.namespace!;
    const nsOk = p.namespaces === "own" ? ns === policyNs : p.namespaces(this.engine.namespaceLabels(ns));
    return nsOk && p.pods(rep.metadata.labels);
  }

  /**
   * Per class (1 = yes), whether a NetworkPolicy named in `changed` selects it for `direction` in the
   * previous analysis's version or in this one.
   */
  #affected(from: Reachability, changed: ReadonlySet<string>, direction: "ingress" | "egress"): Uint8Array {
    const out = new Uint8Array(this.reps.length);
    for (const p of [...from.engine.policies, ...this.engine.policies]) {
      if (!changed.has(p.name) || p[direction] === undefined) continue;
      for (const c of this.#classesByNs.get(p.namespace) ?? [])
        if (p.selects(this.reps[c].metadata.labels)) out[c] = 1;
    }
    return out;
  }

  /** The atom holding `port` of `protocol` (-1 when the port is out of range). */
  atomOf(protocol: Protocol, port: number): number {
    let lo = 0;
    let hi = this.atoms.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const a = this.atoms[mid];
      const cmp = compareProtocol(a.protocol, protocol) || (a.start <= port ? -1 : 1);
      if (cmp < 0) {
        if (a.protocol === protocol) found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && port <= this.atoms[found].end ? found : -1;
  }

  /** An atom set (a bitset over `atoms`) as port ranges per protocol, adjacent atoms merged. */
  portRanges(atoms: Bits): Map<Protocol, [number, number][]> {
    const out = new Map<Protocol, [number, number][]>();
    this.atoms.forEach((atom, a) => {
      if (!has(atoms, a)) return;
      const list = out.get(atom.protocol) ?? out.set(atom.protocol, []).get(atom.protocol)!;
      const last = list.at(-1);
      if (last && last[1] === atom.start - 1) last[1] = atom.end;
      else list.push([atom.start, atom.end]);
    });
    return out;
  }

  /** The atoms of one protocol: indexes lo…hi (inclusive). */
  atomRange(protocol: Protocol): [number, number] {
    let lo = -1;
    let hi = -2;
    this.atoms.forEach((a, i) => {
      if (a.protocol !== protocol) return;
      if (lo < 0) lo = i;
      hi = i;
    });
    return [lo, hi];
  }

  /** Whether class `s` may open a connection to class `d` on atom `a` (classes, not pods: no loopback rule). */
  classAllowed(s: number, d: number, a: number): boolean {
    const q = this.egress[this.profileIndex("egress", s)];
    const p = this.ingress[this.profileIndex("ingress", d)];
    return has(q.rows[q.atomRow[a]], d) && has(p.rows[p.atomRow[a]], s);
  }

  /** Whether pod `from` may open a connection to pod `to` (indexes into `pods`) on `port`/`protocol`. */
  allowed(from: number, to: number, protocol: Protocol, port: number): boolean {
    if (from === to) return true;
    const a = this.atomOf(protocol, port);
    return a >= 0 && this.classAllowed(this.classOf[from], this.classOf[to], a);
  }

  /**
   * The atoms (a bitset over `atoms`) on which a profile lets a peer class in (ingress: a source) or
   * out (egress: a destination).
   */
  admitted(direction: "ingress" | "egress", profile: number, peer: number): Bits {
    return this.#admits((direction === "ingress" ? this.ingress : this.egress)[profile], peer);
  }

  /** The atoms whose rows in profile `p` contain class `peer`. */
  #admits(p: Profile, peer: number): Bits {
    const words = (this.atoms.length + 31) >>> 5;
    const out = empty(this.atoms.length);
    p.rows.forEach((row, r) => {
      if (has(row, peer)) orInto(out, atomMask(p, r, words));
    });
    return out;
  }

  /**
   * Every class `s` may open a connection to, with the atoms it may use (a bitset over `atoms`):
   * `visit(d, atoms)` once per destination class with at least one atom.
   */
  atomsFrom(s: number, visit: (d: number, atoms: Bits) => void): void {
    this.#complete("ingress");
    const q = this.egress[this.profileIndex("egress", s)];
    for (const p of this.ingress) {
      const admitted = this.#admits(p, s);
      if (isEmpty(admitted)) continue;
      for (const d of p.members) {
        if (q.open) {
          visit(d, admitted);
          continue;
        }
        const out = this.#admits(q, d);
        andInto(out, admitted);
        if (!isEmpty(out)) visit(d, out);
      }
    }
  }

  /**
   * The class-by-class matrix over atoms lo…hi: row s holds the classes d that s reaches on some atom of
   * the range (one atom: that port; a protocol's whole range: any port of it).
   */
  classMatrix(lo: number, hi: number): Bits[] {
    const n = this.reps.length;
    const out = this.reps.map(() => empty(n));
    if (hi < lo) return out;
    this.#complete("ingress");
    this.#complete("egress");
    const openSources = this.#openSources();
    // Sources whose egress is open: the ingress rows decide, one profile at a time.
    for (const p of this.ingress) {
      const any = empty(n);
      rowAtomCounts(p, lo, hi).forEach((atoms, r) => {
        if (atoms > 0) orInto(any, p.rows[r]);
      });
      andInto(any, openSources);
      forEach(any, (s) => {
        const row = out[s];
        for (const d of p.members) add(row, d);
      });
    }
    // The others: per egress row, the destinations in it whose ingress admits the source on one of
    // that row's atoms.
    const shape = this.#ingressShapes(lo, hi);
    for (const q of this.egress) {
      if (q.open) continue;
      const atomsOfRow = rowAtomCounts(q, lo, hi);
      for (const s of q.members) {
        const row = out[s];
        const sw = s >>> 5;
        const sb = 1 << (s & 31);
        atomsOfRow.forEach((atoms, qi) => {
          if (atoms === 0) return;
          const qRow = q.rows[qi];
          for (let w = 0; w < qRow.length; w++) {
            let x = qRow[w] & ~row[w];
            while (x !== 0) {
              const low = x & -x;
              x ^= low;
              const d = (w << 5) + 31 - Math.clz32(low);
              const p = this.ingress[this.inProfile[d]];
              const { base, exceptions } = shape[this.inProfile[d]];
              // The exception atoms under this egress row decide by their own rows; the others by the base row.
              let under = 0;
              let admitted = false;
              for (const e of exceptions)
                if (q.atomRow[e] === qi) {
                  under++;
                  if (p.rows[p.atomRow[e]][sw] & sb) {
                    admitted = true;
                    break;
                  }
                }
              if (admitted || (atoms > under && p.rows[base][sw] & sb)) row[w] |= low;
            }
          }
        });
      }
    }
    return out;
  }

  /**
   * Allowed ordered pod pairs in a class matrix, a pod to itself included (loopback is always allowed).
   * `weights` (pods per class) restricts the count to some pods; default: all.
   */
  countPairs(matrix: Bits[], weights: ArrayLike<number> = this.sizes): number {
    const table = new Weights(weights);
    let total = 0;
    matrix.forEach((row, s) => {
      if (weights[s] === 0) return;
      total += weights[s] * table.of(row);
      if (!has(row, s)) total += weights[s];
    });
    return total;
  }

  /** Per atom lo…hi, the allowed ordered pod pairs (a pod to itself included). Every port class at once. */
  countPerAtom(lo: number, hi: number): Float64Array {
    const n = this.reps.length;
    const out = new Float64Array(Math.max(0, hi - lo + 1));
    if (hi < lo) return out;
    this.#complete("ingress");
    this.#complete("egress");
    const table = new Weights(this.sizes);
    const openSources = this.#openSources();
    for (const p of this.ingress) {
      let dst = 0;
      for (const d of p.members) dst += this.sizes[d];
      const perRow = p.rows.map((r) => table.of(and(r, openSources)) * dst);
      for (let a = lo; a <= hi; a++) out[a - lo] += perRow[p.atomRow[a]];
    }
    // Sources with egress rules: per egress row and destination in it, the weight of the sources the
    // destination's base ingress row admits counts for all the row's atoms (gathered per row, spread
    // once at the end); the destination's exception atoms are corrected one by one.
    const shape = this.#ingressShapes(lo, hi);
    const sizes = this.sizes;
    const srcWeight = (members: number[], pRow: Bits) => {
      let w = 0;
      for (const s of members) if (pRow[s >>> 5] & (1 << (s & 31))) w += sizes[s];
      return w;
    };
    for (const q of this.egress) {
      if (q.open) continue;
      const perRow = new Float64Array(q.rows.length);
      rowAtomCounts(q, lo, hi).forEach((atoms, qi) => {
        if (atoms === 0) return;
        forEach(q.rows[qi], (d) => {
          const p = this.ingress[this.inProfile[d]];
          const { base, exceptions } = shape[this.inProfile[d]];
          const dw = sizes[d];
          const baseWeight = srcWeight(q.members, p.rows[base]) * dw;
          perRow[qi] += baseWeight;
          for (const e of exceptions)
            if (q.atomRow[e] === qi)
              out[e - lo] += srcWeight(q.members, p.rows[p.atomRow[e]]) * dw - baseWeight;
        });
      });
      for (let a = lo; a <= hi; a++) out[a - lo] += perRow[q.atomRow[a]];
    }
    // Loopback: a pod reaches itself even where its class does not reach its own class.
    for (let c = 0; c < n; c++)
      for (let a = lo; a <= hi; a++) if (!this.classAllowed(c, c, a)) out[a - lo] += this.sizes[c];
    return out;
  }

  #openSources(): Bits {
    const out = empty(this.reps.length);
    for (let s = 0; s < this.reps.length; s++) if (this.egress[this.outProfile[s]].open) add(out, s);
    return out;
  }

  /**
   * Per ingress profile over atoms lo…hi: the row most of the atoms use (base) and the atoms that use
   * another (exceptions, typically a named or numeric port or two).
   */
  #ingressShapes(lo: number, hi: number): { base: number; exceptions: number[] }[] {
    return this.ingress.map((p) => {
      const uses = new Int32Array(p.rows.length);
      for (let a = lo; a <= hi; a++) uses[p.atomRow[a]]++;
      let base = 0;
      for (let r = 1; r < uses.length; r++) if (uses[r] > uses[base]) base = r;
      const exceptions: number[] = [];
      for (let a = lo; a <= hi; a++) if (p.atomRow[a] !== base) exceptions.push(a);
      return { base, exceptions };
    });
  }

  /** The rules consulted for one direction of the classes these policies select, in tier order. */
  #steps(
    direction: "ingress" | "egress",
    admin: TierPolicy[],
    nps: CompiledPolicy[],
    baseline: TierPolicy[],
  ): Step[] {
    const steps: Step[] = [];
    const push = (stage: Step["stage"], action: TierAction, rule: AnyRule, ns: string) => {
      steps.push({
        stage,
        action,
        peers: this.#ruleSet(rule, ns),
        numeric: this.#numericAtoms(rule),
        named:
          rule.ports === "all"
            ? []
            : rule.ports
                .filter((x) => x.name !== undefined)
                .map((x) => ({ name: x.name!, protocol: x.protocol })),
      });
    };
    for (const t of admin) for (const r of t[direction]) push("admin", r.action, r, "");
    for (const p of nps) for (const r of p[direction]!) push("networkpolicy", "allow", r, p.namespace);
    for (const t of baseline) for (const r of t[direction]) push("baseline", r.action, r, "");
    return steps;
  }

  /**
   * One direction's profile: atoms grouped by which rules match them (and, for egress named ports, at
   * which destinations), one row per group by first-match over the tiers.
   */
  #profile(direction: "ingress" | "egress", steps: Step[], selected: boolean, subject: number): Profile {
    const count = this.atoms.length;
    if (steps.length === 0 && !selected)
      return {
        atomRow: new Int32Array(count),
        rows: [this.#all],
        open: true,
        members: [],
      };
    // Per atom, the steps that can match there: "i" (numeric) or "i:name" (a named port at this atom).
    const parts: string[][] = new Array(count);
    const mark = (a: number, part: string) => {
      const list = parts[a];
      if (list) list.push(part);
      else parts[a] = [part];
    };
    steps.forEach((step, i) => {
      for (let a = 0; a < count; a++) if (step.numeric[a]) mark(a, `${i}`);
      for (const e of step.named) {
        if (direction === "ingress") {
          for (const key of this.#classNamed[subject]) {
            const slash = key.lastIndexOf("/");
            const a = Number(key.slice(slash + 1));
            if (
              key.slice(0, slash) === e.name &&
              (e.protocol === "any" || e.protocol === this.atoms[a].protocol) &&
              !step.numeric[a]
            )
              mark(a, `${i}`);
          }
        } else {
          for (const a of this.#namedAtoms.get(e.name) ?? [])
            if ((e.protocol === "any" || e.protocol === this.atoms[a].protocol) && !step.numeric[a])
              mark(a, `${i}:${e.name}`);
        }
      }
    });
    const atomRow = new Int32Array(count);
    const rows: Bits[] = [];
    const bySig = new Map<string, number>();
    const byHash = new Map<number, number[]>();
    for (let a = 0; a < count; a++) {
      const list = parts[a];
      // A step's named entries at an egress atom depend on that atom's destinations: the atom joins the key.
      const sig = list
        ? list.some((x) => x.includes(":"))
          ? `${a}@${list.join(",")}`
          : [...new Set(list)].join(",")
        : "";
      let r = bySig.get(sig);
      if (r === undefined) {
        // Different rules can still allow the same peers: rows are shared by content too.
        const row = this.#decide(steps, list ?? [], a, selected);
        const hash = hashBits(row);
        r = (byHash.get(hash) ?? []).find((i) => sameBits(rows[i], row));
        if (r === undefined) {
          r = rows.length;
          rows.push(row);
          byHash.set(hash, [...(byHash.get(hash) ?? []), r]);
        }
        bySig.set(sig, r);
      }
      atomRow[a] = r;
    }
    return { atomRow, rows, open: false, members: [] };
  }

  /** The peer classes allowed at one atom: admin rules first-match, then NetworkPolicy or the baseline, then allow. */
  #decide(steps: Step[], parts: string[], atom: number, selected: boolean): Bits {
    const n = this.reps.length;
    // The set each matching step covers at this atom.
    const matching = new Map<number, Bits>();
    for (const part of parts) {
      const colon = part.indexOf(":");
      const i = Number(colon < 0 ? part : part.slice(0, colon));
      if (colon < 0) {
        matching.set(i, steps[i].peers);
        continue;
      }
      const named = this.#namedSet.get(`${part.slice(colon + 1)}/${atom}`);
      if (!named || matching.get(i) === steps[i].peers) continue;
      const set = and(steps[i].peers, named);
      const prev = matching.get(i);
      if (prev) orInto(set, prev);
      matching.set(i, set);
    }
    const order = [...matching.keys()].sort((x, y) => x - y);
    if (selected && order.every((i) => steps[i].stage === "networkpolicy")) {
      // NetworkPolicy alone: the union of the matching rules' peers.
      const allowed = empty(n);
      for (const i of order) orInto(allowed, matching.get(i)!);
      return allowed;
    }
    const allowed = empty(n);
    const open = full(n); // not yet decided by the admin tier
    const passed = empty(n);
    for (const i of order) {
      if (steps[i].stage !== "admin") continue;
      const m = and(matching.get(i)!, open);
      andNotInto(open, m);
      if (steps[i].action === "allow") orInto(allowed, m);
      else if (steps[i].action === "pass") orInto(passed, m);
    }
    orInto(open, passed);
    if (selected) {
      const np = empty(n);
      for (const i of order) if (steps[i].stage === "networkpolicy") orInto(np, matching.get(i)!);
      andInto(np, open);
      orInto(allowed, np);
      return allowed;
    }
    for (const i of order) {
      if (steps[i].stage !== "baseline") continue;
      const m = and(matching.get(i)!, open);
      andNotInto(open, m);
      if (steps[i].action === "allow") orInto(allowed, m);
    }
    orInto(allowed, open); // default allow
    return allowed;
  }

  /** Atoms matched by a rule's numeric ports (every atom when `ports` is absent). */
  #numericAtoms(rule: AnyRule): Uint8Array {
    let out = this.#numeric.get(rule);
    if (out) return out;
    out = new Uint8Array(this.atoms.length);
    if (rule.ports === "all") out.fill(1);
    else
      for (const p of rule.ports) {
        if (p.name !== undefined) continue;
        this.atoms.forEach((a, i) => {
          if (p.protocol !== a.protocol) return;
          if (p.port === undefined || (a.start >= p.port && a.start <= (p.endPort ?? p.port))) out![i] = 1;
        });
      }
    this.#numeric.set(rule, out);
    return out;
  }

  /** The classes a rule's peers match (every class when `from`/`to` is absent or empty). */
  #ruleSet(rule: AnyRule, policyNs: string): Bits {
    if (rule.peers === "all") return this.#all;
    let set = this.#ruleSets.get(rule);
    if (set) return set;
    set = empty(this.reps.length);
    for (const p of rule.peers) orInto(set, this.#peerSet(p, policyNs));
    this.#ruleSets.set(rule, set);
    return set;
  }

  /** The classes one peer matches, computed once per distinct selector text. */
  #peerSet(p: Peer, policyNs: string): Bits {
    const key = peerKey(p, policyNs);
    let set = this.#peerSets.get(key);
    if (set) return set;
    set = empty(this.reps.length);
    if (p.kind === "pods" && p.namespaces === "own") {
      for (const c of this.#classesByNs.get(policyNs) ?? [])
        if (p.pods(this.reps[c].metadata.labels)) add(set, c);
    } else if (p.kind === "pods") {
      for (const [ns, classes] of this.#classesByNs) {
        if (p.namespaces === "own" ? ns !== policyNs : !p.namespaces(this.engine.namespaceLabels(ns)))
          continue;
        for (const c of classes) if (p.pods(this.reps[c].metadata.labels)) add(set, c);
      }
    } else {
      for (let c = 0; c < this.reps.length; c++)
        if (this.engine.peerMatches(p, "", peerOf(this.reps[c]))) add(set, c);
    }
    this.#peerSets.set(key, set);
    return set;
  }
}

/**
 * Why an analysis of `state` cannot start from `previous` (a sentence), or the port boundaries it
 * draws that `previous` did not (`starts`: they split atoms, see splitAtoms). Classes split at every
 * CIDR a rule names: a new CIDR would split them, so it needs the full computation; boundaries that
 * went away leave classes or atoms finer than needed, which gives the same answers. The caller vouches that only NetworkPolicies changed (ReachabilityOptions.previous);
 * what is cheap to check is checked again here.
 */
function reuseBlocker(
  previous: Reachability,
  state: ClusterState,
  engine: PolicyEngine,
  addresses: readonly IPv4[],
): string | { starts: { protocol: Protocol; start: number }[] } {
  if (state.pods.length !== previous.state.pods.length) return "the pods differ";
  if (
    addresses.length !== previous.addressClass.length ||
    addresses.some((ip, k) => previous.reps[previous.addressClass[k]].status?.podIP !== formatIPv4(ip))
  )
    return "the outside addresses differ";
  const tiers = (s: ClusterState) =>
    JSON.stringify([s.adminNetworkPolicies, s.baselineAdminNetworkPolicies, s.clusterNetworkPolicies]);
  if (tiers(state) !== tiers(previous.state)) return "the admin or baseline tier differs";
  const was = previous.engine.features();
  const now = engine.features();
  if (now.named && !was.named)
    return "a rule now names a port (named ports split classes and atoms), and none did before";
  const known = new Set(was.blocks.map((b) => `${b.base}/${b.prefix}`));
  const fresh = now.blocks.find((b) => !known.has(`${b.base}/${b.prefix}`));
  if (fresh)
    return `a rule names ${formatIPv4(fresh.base)}/${fresh.prefix}, a CIDR the previous analysis did not split at`;
  const starts: { protocol: Protocol; start: number }[] = [];
  for (const [protocol, bounds] of now.bounds)
    for (const start of bounds) {
      if (start < 1 || start > 65535) continue;
      const a = previous.atomOf(protocol, start);
      if (a < 0 || previous.atoms[a].start !== start) starts.push({ protocol, start });
    }
  return { starts };
}

/**
 * Which of `blocks` an address lies in, as a small number: addresses with the same number lie in the
 * same blocks. The blocks' edges cut the address space into intervals; an address is placed by binary
 * search over the edges (log₂ of twice the blocks' count), and intervals lying in the same blocks share
 * one number. `count` bounds the numbers.
 */
export function cidrMembership(blocks: readonly { base: number; prefix: number }[]): {
  of: (ip: number) => number;
  count: number;
} {
  const size = (b: { prefix: number }) => 2 ** (32 - b.prefix);
  // Every interval starts at 0 or at a block's first or one-past-last address.
  const edges = [...new Set([0, ...blocks.flatMap((b) => [b.base, b.base + size(b)])])]
    .filter((x) => x < 2 ** 32)
    .sort((a, b) => a - b);
  const starts = Float64Array.from(edges);
  const ids = new Map<string, number>();
  const intervalId = Int32Array.from(edges, (x) => {
    const key = blocks.map((b) => (inBlock(x, b) ? "1" : "0")).join("");
    return ids.get(key) ?? ids.set(key, ids.size).get(key)!;
  });
  return {
    count: Math.max(1, ids.size),
    of(ip) {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (starts[mid] <= ip) lo = mid;
        else hi = mid - 1;
      }
      return intervalId[lo];
    },
  };
}

/**
 * Numbers a pod's template: its namespace, labels and (when `named`) its named container ports, what
 * policies may tell pods apart by besides their address. Pods created from one workload share their
 * labels object and containers list (src/core/control/workloads.ts), so the key is built once for them.
 */
function podTemplates(named: boolean): (p: Pod) => number {
  const ids = new Map<string, number>();
  const known = new Map<object, { ns: string; containers: unknown; id: number }>();
  return (p) => {
    const { labels, namespace } = p.metadata;
    const containers = p.spec.containers;
    const hit = labels && known.get(labels);
    if (hit && hit.ns === namespace && (!named || hit.containers === containers)) return hit.id;
    let ports = "";
    if (named)
      for (const c of containers)
        for (const x of c.ports ?? [])
          if (x.name) ports += `${x.name}/${x.protocol ?? "TCP"}/${x.containerPort},`;
    const key = `${namespace}|${labelKey(labels)}|${ports}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
    }
    if (labels) known.set(labels, { ns: namespace!, containers, id });
    return id;
  };
}

/**
 * The atoms with new starts added (undefined when there are none): `parent` maps each new atom to
 * the old one it lies in, `moved` each old atom to the new one that starts where it did.
 */
function splitAtoms(
  atoms: readonly PortAtom[],
  starts: readonly { protocol: Protocol; start: number }[],
): { atoms: PortAtom[]; parent: Int32Array; moved: Int32Array } | undefined {
  if (starts.length === 0) return undefined;
  const extra = new Map<Protocol, number[]>();
  for (const { protocol, start } of starts) extra.set(protocol, [...(extra.get(protocol) ?? []), start]);
  const out: PortAtom[] = [];
  const parent: number[] = [];
  const moved = new Int32Array(atoms.length);
  atoms.forEach((atom, a) => {
    moved[a] = out.length;
    const cuts = (extra.get(atom.protocol) ?? [])
      .filter((x) => x > atom.start && x <= atom.end)
      .sort((x, y) => x - y);
    let start = atom.start;
    for (const cut of [...cuts, atom.end + 1]) {
      out.push({ protocol: atom.protocol, start, end: cut - 1 });
      parent.push(a);
      start = cut;
    }
  });
  return { atoms: out, parent: Int32Array.from(parent), moved };
}

function peerOf(p: Pod): PolicyPeer {
  const ip = parseIPv4(p.status!.podIP!)!;
  return p.spec.hostNetwork ? { kind: "address", ip } : { kind: "pod", pod: p, ip };
}

function labelKey(labels: Record<string, string> | undefined): string {
  if (!labels) return "";
  // Pods of one workload commonly share their labels object (src/core/control/workloads.ts).
  const known = LABEL_KEYS.get(labels);
  if (known !== undefined) return known;
  const keys = Object.keys(labels).sort();
  let out = "";
  for (const k of keys) out += `${k}=${labels[k]}\u0000`;
  LABEL_KEYS.set(labels, out);
  return out;
}

/** labelKey's answers by labels object (parsed manifests are not changed after loading). */
const LABEL_KEYS = new WeakMap<object, string>();

function compareProtocol(a: Protocol, b: Protocol): number {
  return PROTOCOL_ORDER.indexOf(a) - PROTOCOL_ORDER.indexOf(b);
}

function hashBits(b: Bits): number {
  let h = 0x811c9dc5;
  for (let w = 0; w < b.length; w++) h = Math.imul(h ^ b[w], 16777619);
  return h >>> 0;
}

function sameBits(a: Bits, b: Bits): boolean {
  for (let w = 0; w < a.length; w++) if (a[w] !== b[w]) return false;
  return true;
}

/** The atoms (a bitset over all atoms) that use row r of a profile; cached on the profile. */
function atomMask(p: Profile, r: number, words: number): Bits {
  p.masks ??= [];
  let mask = p.masks[r];
  if (!mask) {
    mask = new Uint32Array(words);
    for (let a = 0; a < p.atomRow.length; a++) if (p.atomRow[a] === r) add(mask, a);
    p.masks[r] = mask;
  }
  return mask;
}

/** Per row of a profile, how many of atoms lo…hi use it. */
function rowAtomCounts(p: Profile, lo: number, hi: number): Int32Array {
  const out = new Int32Array(p.rows.length);
  for (let a = lo; a <= hi; a++) out[p.atomRow[a]]++;
  return out;
}
