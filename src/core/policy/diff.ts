/**
 * What a change to the manifests does to connectivity: the connlists of two clusters, compared per
 * (source, destination).
 *
 *   old cluster, new cluster ──► connlist of each, outside ranges cut at the union of both sides' cuts
 *   per (src, dst): only in new → added; only in old → removed; both, different ports → changed
 *
 * Workloads are matched by `ns/name[Kind]`, so a renamed workload shows as removed and added.
 *
 * A pull request usually changes a policy or two and nothing else. Then only the lines can differ
 * whose destination's pods a changed policy selects for ingress (in either version), or whose
 * source's pods it selects for egress: every other pod pair keeps the egress verdict at its source
 * and the ingress verdict at its destination (NetworkPolicy, kubernetes/api networking/v1 types.go:
 * a policy only ever affects the pods its podSelector selects, in the directions of its
 * policyTypes). So `diffConnections` lists just those lines on both sides (connlist's `only`) and
 * compares them; with any other change (pods, namespaces, Services, the admin tiers …) it compares the
 * full connlists (`diffConnectionsFull`). Both give the same answer (test/diff-incremental.test.ts).
 *
 * Both sides' analyses are then lazy (./reach.ts `ReachabilityOptions.lazy`): the scoped lines read the
 * ingress of the scope's destinations and every source's egress towards them, so only those profiles
 * and egress columns are computed. For the same reason the new side's reachability starts from the old
 * side's (`ReachabilityOptions.previous`): the same classes and atoms; a CIDR the old side never split
 * at makes it compute the new side's classes in full. `DiffOptions.note` tells which path was taken.
 */
import type { ClusterState } from "../control/state.ts";
import type { KubeObject, Pod } from "../model/k8s.ts";
import { ingressesWithRealController } from "../sim/http-routers.ts";
import {
  type Connection,
  type ConnlistOptions,
  connlist,
  connText,
  rangeCuts,
  workloadOf,
} from "./connlist.ts";
import { type CompiledPolicy, compileNetworkPolicy, PolicyEngine } from "./netpol.ts";
import type { Reachability } from "./reach.ts";

export type DiffKind = "added" | "removed" | "changed";
export const DIFF_KINDS: readonly DiffKind[] = ["added", "removed", "changed"];

export interface ConnectionDiff {
  kind: DiffKind;
  src: string;
  dst: string;
  /** The allowed connections before (absent when added) and after (absent when removed). */
  old?: string;
  new?: string;
}

/**
 * The connections added, removed and changed from `before` to `after`, sorted by source then
 * destination; computed only where a policy change can reach when that is the only change (see the
 * header), else in full.
 */
export function diffConnections(
  before: ClusterState,
  after: ClusterState,
  opts: DiffOptions = {},
): ConnectionDiff[] {
  const scope = changeScope(before, after);
  if (!scope) opts.note?.("not a NetworkPolicy-only change: both connlists computed in full");
  return scope
    ? compare(before, after, scope, opts.note, opts.reuse ?? true)
    : diffConnectionsFull(before, after);
}

export interface DiffOptions {
  /**
   * Receives one line per step taken, for a debug log (`PODNET_DEBUG=1 podnet diff …`): whether the
   * change was scoped, and whether the new side's analysis started from the old side's or why not.
   */
  note?: (line: string) => void;
  /**
   * Start the new side's reachability from the old side's when the change allows it (default true);
   * false computes each side's classes and atoms on its own (the benchmark's comparison; with a
   * scope, both analyses stay lazy).
   */
  reuse?: boolean;
}

/** The same answer from the two full connlists: the reference the scoped diff is tested against. */
export function diffConnectionsFull(before: ClusterState, after: ClusterState): ConnectionDiff[] {
  return compare(before, after, undefined);
}

/** Workloads whose lines a change can alter: as sources (egress) and as destinations (ingress). */
export interface ChangeScope {
  sources: Set<string>;
  destinations: Set<string>;
  /** The NetworkPolicies that differ (`ns/name`: added, deleted, or with another spec). */
  policies: Set<string>;
}

/**
 * When the clusters differ only in NetworkPolicies: the workloads whose pods a changed policy (added,
 * deleted, or with another spec) selects in either version — for ingress as destinations, for egress
 * as sources. Undefined when anything else differs (pods, their order, namespaces, nodes, Services,
 * EndpointSlices, Ingresses, Routes, the admin and baseline tiers), which the full diff handles.
 */
export function changeScope(before: ClusterState, after: ClusterState): ChangeScope | undefined {
  if (!sameApartFromNetworkPolicies(before, after)) return undefined;
  const byName = (state: ClusterState) =>
    new Map(state.networkPolicies.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
  const a = byName(before);
  const b = byName(after);
  // The same document text decodes alike (Origin.document): most policies are told equal without
  // comparing their specs field by field.
  const differs = (o: KubeObject, other: KubeObject | undefined) => {
    if (!other) return true;
    const text = before.origins.get(o)?.document;
    if (text !== undefined && text === after.origins.get(other)?.document) return false;
    return !same(o.spec, other.spec);
  };
  // Each changed policy in both versions (the old one selects too); each pair compared once.
  const changed: KubeObject[] = [];
  const differing = new Set<string>();
  for (const [k, o] of a)
    if (differs(o, b.get(k))) {
      changed.push(o);
      differing.add(k);
    }
  for (const [k, o] of b) if (!a.has(k) || differing.has(k)) changed.push(o);
  const scope: ChangeScope = {
    sources: new Set(),
    destinations: new Set(),
    policies: new Set(changed.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)),
  };
  if (changed.length === 0) return scope;
  // The pods are the same on both sides (checked above): one index serves both.
  const owner = workloadOf(after);
  const byNs = new Map<string, Pod[]>();
  // Indexed: run once, mostly before the JIT optimizes it, a for-of step allocates.
  for (let i = 0; i < after.pods.length; i++) {
    const p = after.pods[i];
    const list = byNs.get(p.metadata.namespace!);
    if (list) list.push(p);
    else byNs.set(p.metadata.namespace!, [p]);
  }
  for (const obj of changed) {
    const policy = compileNetworkPolicy(obj);
    // A superset is safe (more lines computed, the same answer): host-network pods are kept too.
    for (const pod of byNs.get(policy.namespace) ?? []) {
      if (!policy.selects(pod.metadata.labels)) continue;
      if (policy.ingress) scope.destinations.add(owner(pod));
      if (policy.egress) scope.sources.add(owner(pod));
    }
  }
  return scope;
}

/** Whether everything connlist reads, but the NetworkPolicies, is the same in both clusters. */
function sameApartFromNetworkPolicies(a: ClusterState, b: ClusterState): boolean {
  if (a.pods.length !== b.pods.length || a.workloads.length !== b.workloads.length) return false;
  for (let i = 0; i < a.pods.length; i++) {
    const p = a.pods[i];
    const q = b.pods[i];
    if (
      p.metadata.namespace !== q.metadata.namespace ||
      p.metadata.name !== q.metadata.name ||
      p.status?.podIP !== q.status?.podIP ||
      p.status?.phase !== q.status?.phase ||
      p.spec.nodeName !== q.spec.nodeName ||
      !p.spec.hostNetwork !== !q.spec.hostNetwork ||
      a.generated.has(p) !== b.generated.has(q) ||
      !shared(p.metadata.labels, q.metadata.labels) ||
      !shared(p.metadata.ownerReferences, q.metadata.ownerReferences) ||
      !sameContainerPorts(p, q)
    )
      return false;
  }
  for (let i = 0; i < a.workloads.length; i++) {
    const v = a.workloads[i];
    const w = b.workloads[i];
    if (
      v.kind !== w.kind ||
      v.metadata.namespace !== w.metadata.namespace ||
      v.metadata.name !== w.metadata.name ||
      a.generated.has(v) !== b.generated.has(w) ||
      !shared(v.metadata.ownerReferences, w.metadata.ownerReferences)
    )
      return false;
  }
  const rest = (s: ClusterState) => [
    s.namespaces.map((n) => [n.metadata.name, n.metadata.labels]),
    s.nodes.map((n) => [n.name, n.labels, n.addresses]),
    s.services,
    s.endpointSlices,
    s.ingresses,
    // Which Ingresses a controller pod of the input serves (their lines are that pod's, not
    // `{ingress-controller}`'s) follows from the IngressClasses too.
    s.ingressClasses,
    s.routes,
    s.adminNetworkPolicies,
    s.baselineAdminNetworkPolicies,
    s.clusterNetworkPolicies,
  ];
  return same(rest(a), rest(b));
}

/** Whether two pods' containers declare the same ports (the ports named rules resolve against). */
function sameContainerPorts(p: Pod, q: Pod): boolean {
  const a = p.spec.containers;
  const b = q.spec.containers;
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (!shared(a[k].ports, b[k].ports)) return false;
  return true;
}

/**
 * Structural equality, remembered per pair of objects: the pods of one workload share their labels,
 * ownerReferences and container ports (src/core/control/workloads.ts), so 100,000 pods cost a few
 * thousand comparisons. Only for those: remembering every nested object of 10,000 policy specs and
 * thousands of EndpointSlices cost more than comparing them (a WeakMap entry per object).
 */
function shared(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== "object" || typeof y !== "object" || x === null || y === null) return false;
  if (EQUAL.get(x) === y) return true;
  if (!sameParts(x, y)) return false;
  EQUAL.set(x, y);
  return true;
}

/** `shared`'s pairs found equal, by identity (parsed manifests are not changed after loading). */
const EQUAL = new WeakMap<object, object>();

/** Structural equality of parsed manifests (plain objects, arrays, scalars), stopping at the first difference. */
function same(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== "object" || typeof y !== "object" || x === null || y === null) return false;
  return sameParts(x, y);
}

function sameParts(x: object, y: object): boolean {
  if (Array.isArray(x) !== Array.isArray(y)) return false;
  if (Array.isArray(x)) {
    const ys = y as unknown[];
    if (x.length !== ys.length) return false;
    for (let i = 0; i < x.length; i++) if (!same(x[i], ys[i])) return false;
    return true;
  }
  const xo = x as Record<string, unknown>;
  const yo = y as Record<string, unknown>;
  // Counted rather than listed: thousands of Services and EndpointSlices are compared per diff.
  let count = 0;
  for (const k in xo) {
    if (!Object.hasOwn(xo, k) || xo[k] === undefined) continue;
    count++;
    if (!same(xo[k], yo[k])) return false;
  }
  for (const k in yo) if (Object.hasOwn(yo, k) && yo[k] !== undefined) count--;
  return count === 0;
}

function compare(
  before: ClusterState,
  after: ClusterState,
  only: ChangeScope | undefined,
  note?: (line: string) => void,
  reuse = true,
): ConnectionDiff[] {
  if (only && only.sources.size === 0 && only.destinations.size === 0) {
    note?.(`NetworkPolicy-only change (${only.policies.size} policies) that selects no pod: nothing differs`);
    return [];
  }
  // Every engine below compiles its policies: each object once.
  const cache = new Map<KubeObject, CompiledPolicy>();
  const compile = (o: KubeObject) => {
    const known = cache.get(o);
    if (known) return known;
    const p = compileNetworkPolicy(o);
    cache.set(o, p);
    return p;
  };
  // A policy the change left alone (the same spec: changeScope) compiles as its old version did.
  if (only) {
    const old = new Map(before.networkPolicies.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
    for (const o of after.networkPolicies) {
      const name = `${o.metadata.namespace}/${o.metadata.name}`;
      const was = old.get(name);
      if (was && !only.policies.has(name)) cache.set(o, { ...compile(was), obj: o });
    }
  }
  const engine = (state: ClusterState) => new PolicyEngine(state, compile);
  // One engine per side for both directions' cuts.
  const [b, a] = [engine(before), engine(after)];
  const cuts = {
    ingress: [...rangeCuts(before, "ingress", b), ...rangeCuts(after, "ingress", a)],
    egress: [...rangeCuts(before, "egress", b), ...rangeCuts(after, "egress", a)],
  };
  const key = (c: Connection) => `${c.src}\u0000${c.dst}`;
  // The new side's reachability starts from the old side's: only the changed policies' classes differ.
  // With a scope, each side's analysis is lazy (./reach.ts ReachabilityOptions.lazy): it computes the
  // profiles and egress columns the scoped lines read, so every policy is kept as it is.
  // As `podnet connlist` lists them: an Ingress whose controller is a pod of the input gets that
  // pod's lines, not `{ingress-controller}`'s.
  const side = (state: ClusterState, whole: PolicyEngine, extra: ConnlistOptions) =>
    connlist(state, {
      cuts,
      ...(only ? { only } : {}),
      engine: whole,
      realControllers: ingressesWithRealController(state),
      ...extra,
    });
  let first: Reachability | undefined;
  const old = new Map(side(before, b, { analysed: (r) => (first = r) }).map((c) => [key(c), c]));
  if (only)
    note?.(
      `NetworkPolicy-only change (${[...only.policies].join(", ")}): lines towards ${only.destinations.size} and from ${only.sources.size} workloads compared`,
    );
  const now = new Map(
    side(after, a, {
      ...(only && first && reuse ? { previous: { reach: first, changed: only.policies } } : {}),
      ...(only ? { analysed: (r: Reachability) => note?.(`new side's reachability ${r.reuse}`) } : {}),
    }).map((c) => [key(c), c]),
  );
  // Compared as connlist shows them: a line that comes to exist only through the own-node exception
  // (or stops) has changed, though its ports have not.
  const out: ConnectionDiff[] = [];
  for (const [k, c] of now) {
    const was = old.get(k);
    if (!was) out.push({ kind: "added", src: c.src, dst: c.dst, new: connText(c) });
    else if (connText(was) !== connText(c))
      out.push({ kind: "changed", src: c.src, dst: c.dst, old: connText(was), new: connText(c) });
  }
  for (const [k, c] of old)
    if (!now.has(k)) out.push({ kind: "removed", src: c.src, dst: c.dst, old: connText(c) });
  return out.sort((a, b) =>
    a.src < b.src ? -1 : a.src > b.src ? 1 : a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0,
  );
}
