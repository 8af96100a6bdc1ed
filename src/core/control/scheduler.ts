/**
 * Scheduling, as kube-scheduler's filters decide it: a pod fits a node when the node is schedulable,
 * matches the pod's nodeSelector and required node affinity, carries no NoSchedule/NoExecute taint the
 * pod does not tolerate, and has room (allocatable pods). Among fitting nodes the pod goes to the one
 * with the fewest pods, ties broken by node order: an even, deterministic spread.
 *
 * Performance: pods are grouped by their constraint shape; each shape computes its fitting nodes once
 * and keeps a lazy min-heap over them keyed by the shared pod counts (a stale entry is re-pushed with
 * the current count when popped, counts only grow). 150,000 pods on 5,000 nodes: O(P log N).
 */
import type { NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec, Toleration } from "../model/k8s.ts";
import type { NodeState } from "./state.ts";

/** Tolerations the DaemonSet controller adds to every daemon pod. */
export const DAEMONSET_TOLERATIONS: readonly Toleration[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
];

/** Why a node does not fit, or undefined when it fits (capacity is checked by the caller). */
export function nodeMismatch(
  spec: PodSpec,
  node: NodeState,
  extraTolerations: readonly Toleration[] = [],
): string | undefined {
  const tolerations = [...(spec.tolerations ?? []), ...extraTolerations];
  if (
    node.unschedulable &&
    !tolerates(tolerations, { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" })
  ) {
    return "node is unschedulable";
  }
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) {
    if (node.labels[k] !== v) return `node(s) didn't match Pod's node selector (${k}=${v})`;
  }
  const terms =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && !terms.some((t) => termMatches(t, node))) return "node(s) didn't match Pod's node affinity";
  for (const t of node.taints) {
    if (t.effect === "PreferNoSchedule") continue;
    if (!tolerates(tolerations, t))
      return `node(s) had untolerated taint {${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}}`;
  }
  return undefined;
}

function tolerates(
  tolerations: readonly Toleration[],
  taint: { key: string; value?: string; effect: string },
): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === "Exists") return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
  });
}

function termMatches(term: NodeSelectorTerm, node: NodeState): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false; // an empty term matches no node
  return (
    exprs.every((r) => requirementMatches(r, node.labels[r.key])) &&
    fields.every((r) => r.key === "metadata.name" && requirementMatches(r, node.name))
  );
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      if (value === undefined || !/^-?\d+$/.test(value)) return false;
      const a = Number(value);
      const b = Number(values[0]);
      return r.operator === "Gt" ? a > b : a < b;
    }
  }
}

export interface ScheduleResult {
  /** Pods that found no node, with the scheduler's reason. */
  unschedulable: { pod: Pod; reason: string }[];
}

/**
 * Places every pod of `pending` on a node (sets spec.nodeName). `counts[i]` holds the pods already on
 * node i (pods placed by hand, DaemonSet pods) and is updated as pods are placed.
 */
export function schedulePods(
  pending: readonly Pod[],
  nodes: readonly NodeState[],
  counts: number[],
): ScheduleResult {
  const unschedulable: ScheduleResult["unschedulable"] = [];
  const shapes = new Map<string, ShapeQueue>();
  for (const pod of pending) {
    const key = constraintKey(pod.spec);
    let q = shapes.get(key);
    if (!q) {
      q = new ShapeQueue(pod.spec, nodes, counts);
      shapes.set(key, q);
    }
    const i = q.take();
    if (i === undefined) {
      unschedulable.push({ pod, reason: q.reason() });
      continue;
    }
    counts[i]++;
    pod.spec.nodeName = nodes[i].name;
  }
  return { unschedulable };
}

function constraintKey(spec: PodSpec): string {
  if (!spec.nodeSelector && !spec.affinity && !spec.tolerations) return "";
  return JSON.stringify([
    spec.nodeSelector ?? null,
    spec.affinity?.nodeAffinity ?? null,
    spec.tolerations ?? null,
  ]);
}

/** A lazy min-heap of (pod count, node index) over the nodes one constraint shape fits. */
class ShapeQueue {
  readonly #heap: number[] = []; // packed: count * 2^20 + index (index < 2^20 nodes)
  readonly #mismatches = new Map<string, number>();
  #fitting = 0;

  constructor(
    spec: PodSpec,
    readonly nodes: readonly NodeState[],
    readonly counts: number[],
  ) {
    nodes.forEach((n, i) => {
      const why = nodeMismatch(spec, n);
      if (why) this.#mismatches.set(why, (this.#mismatches.get(why) ?? 0) + 1);
      else {
        this.#fitting++;
        this.#push(counts[i] * 2 ** 20 + i);
      }
    });
  }

  take(): number | undefined {
    while (this.#heap.length > 0) {
      const top = this.#pop();
      const i = top % 2 ** 20;
      const count = Math.floor(top / 2 ** 20);
      const now = this.counts[i];
      if (now !== count) {
        this.#push(now * 2 ** 20 + i); // stale: the node got pods since this entry was pushed
        continue;
      }
      if (now >= this.nodes[i].maxPods) continue; // full: never fits again
      this.#push((now + 1) * 2 ** 20 + i);
      return i;
    }
    return undefined;
  }

  reason(): string {
    const parts = [...this.#mismatches].map(([why, n]) => `${n} ${why}`);
    if (this.#fitting > 0) parts.push(`${this.#fitting} Too many pods`);
    return `0/${this.nodes.length} nodes are available: ${parts.join(", ")}`;
  }

  #push(v: number): void {
    const h = this.#heap;
    h.push(v);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p] <= v) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = v;
  }

  #pop(): number {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r] < h[l] ? r : l;
        if (h[c] >= last) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
