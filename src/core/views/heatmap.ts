/**
 * The reachability matrix as a heatmap that scales: cells are groups of pods (namespaces, workloads,
 * or single pods), each holding how many of its ordered pod pairs are allowed. Built on the same
 * compiled reachability as `podnet matrix` (../policy/reach.ts) with the same meaning of a cell:
 * a pod reaches itself, a class row allows the pair, or the own-node exception does — so a pod-level
 * heatmap equals `matrix -o json`, and a group's count is the sum of its pods' cells.
 *
 * Cost: one class-by-class matrix per protocol and port (cached), then per cell the classes of the
 * row group times those of the column group: at most classes² bit tests for a whole level, never
 * pods². Pod level is capped (`POD_LIMIT` per side): drill down to a workload first.
 */
import type { ClusterState } from "../control/state.ts";
import type { Pod, Protocol } from "../model/k8s.ts";
import { type Bits, has } from "../policy/bitset.ts";
import { Reachability, sameNodePairs } from "../policy/reach.ts";
import { declaredPorts } from "./policy.ts";
import { workloadOfCached } from "./topology.ts";

/** What one row or column of the heatmap stands for. */
export type HeatmapLevel = "namespace" | "workload" | "pod";

/** Most rows or columns shown at pod level; more are cut (`truncated`). */
export const POD_LIMIT = 400;

export interface HeatmapQuery {
  /** Default TCP. */
  protocol?: Protocol;
  /** One port; default: a cell counts a pair allowed when some port of the protocol is. */
  port?: number;
  level: HeatmapLevel;
  /**
   * Narrow the rows (sources) or columns (destinations) to one namespace (`ns`) or one workload
   * (`ns/name[Kind]`, as connlist names it). Default: all.
   */
  rows?: string;
  cols?: string;
}

/** A row or column: a namespace, a workload (`ns/name[Kind]`) or a pod (`ns/name`), and its pod count. */
export interface HeatmapGroup {
  id: string;
  pods: number;
  /** The group one level up: a workload's namespace, a pod's workload (absent for namespaces). */
  parent?: string;
  /** Pod level: the container ports the pod declares for the protocol, for explaining a cell on one. */
  ports?: number[];
}

export interface Heatmap {
  protocol: Protocol;
  port: number | null;
  level: HeatmapLevel;
  rows: HeatmapGroup[];
  cols: HeatmapGroup[];
  /** `allowed[r][c]`: ordered pod pairs (source in rows[r], destination in cols[c]) allowed. */
  allowed: number[][];
  /** Pods left out at pod level beyond POD_LIMIT, per side. */
  truncated?: { rows: number; cols: number };
  /** Pod classes (pods no policy tells apart) and port atoms, as `matrix -o stats` counts them. */
  classes: number;
}

/**
 * Holds the compiled reachability of one cluster and answers heatmap queries on it; class matrices
 * are cached per protocol and port, so a drill-down after the first view costs only its cells.
 */
export class ReachabilityView {
  readonly reach: Reachability;
  readonly #workload: string[];
  readonly #matrices = new Map<string, Bits[]>();
  readonly #exempt: [number, number][];
  #all?: Int32Array;
  #byScope?: Map<string, number[]>;

  constructor(
    readonly state: ClusterState,
    reach?: Reachability,
  ) {
    this.reach = reach ?? new Reachability(state);
    const owner = workloadOfCached(state);
    this.#workload = this.reach.pods.map(owner);
    // Both directions of each pair the own-node exception allows.
    this.#exempt = sameNodePairs(this.reach.pods).flatMap(([h, q]): [number, number][] => [
      [h, q],
      [q, h],
    ]);
  }

  /** Pods as `matrix` lists them (`ns/name`, by namespace then name). */
  get pods(): readonly Pod[] {
    return this.reach.pods;
  }

  #matrix(protocol: Protocol, port: number | undefined): Bits[] {
    const key = `${protocol}/${port ?? ""}`;
    let m = this.#matrices.get(key);
    if (!m) {
      let lo: number;
      let hi: number;
      if (port !== undefined) lo = hi = this.reach.atomOf(protocol, port);
      else [lo, hi] = this.reach.atomRange(protocol);
      m = this.reach.classMatrix(lo, hi);
      this.#matrices.set(key, m);
    }
    return m;
  }

  /** The group id of pod `i` at a level. */
  groupOf(i: number, level: HeatmapLevel): string {
    const p = this.reach.pods[i];
    if (level === "namespace") return p.metadata.namespace!;
    if (level === "workload") return this.#workload[i];
    return `${p.metadata.namespace}/${p.metadata.name}`;
  }

  /** Pods of a scope: a namespace name, a workload id (`ns/name[Kind]`), or all. Indexed once. */
  #scopePods(scope: string | undefined): ArrayLike<number> {
    if (!scope) {
      this.#all ??= Int32Array.from(this.reach.pods.keys());
      return this.#all;
    }
    if (!this.#byScope) {
      const by = new Map<string, number[]>();
      const push = (k: string, i: number) => {
        const list = by.get(k);
        if (list) list.push(i);
        else by.set(k, [i]);
      };
      this.reach.pods.forEach((p, i) => {
        push(p.metadata.namespace!, i);
        push(this.#workload[i], i);
      });
      this.#byScope = by;
    }
    return this.#byScope.get(scope) ?? [];
  }

  /**
   * The heatmap for a query. Linear in the pods of the rows' and columns' scopes, plus, per class of
   * the rows, one pass over the bitset words that hold a class of the columns.
   */
  heatmap(q: HeatmapQuery): Heatmap {
    const protocol = q.protocol ?? "TCP";
    const classes = this.#matrix(protocol, q.port);
    const { classOf } = this.reach;
    const n = this.reach.pods.length;
    const side = (scope: string | undefined) => {
      const index = new Map<string, number>();
      const groups: HeatmapGroup[] = [];
      /** Per group, class → pods of that class in it. */
      const members: Map<number, number>[] = [];
      const groupOfPod = new Int32Array(n).fill(-1);
      const pods = this.#scopePods(scope);
      let cut = 0;
      for (let k = 0; k < pods.length; k++) {
        const i = pods[k];
        const id = this.groupOf(i, q.level);
        let g = index.get(id);
        if (g === undefined) {
          if (q.level === "pod" && groups.length >= POD_LIMIT) {
            cut++;
            continue;
          }
          g = groups.length;
          index.set(id, g);
          const parent =
            q.level === "workload"
              ? this.reach.pods[i].metadata.namespace!
              : q.level === "pod"
                ? this.#workload[i]
                : undefined;
          groups.push({
            id,
            pods: 0,
            ...(parent !== undefined ? { parent } : {}),
            ...(q.level === "pod" ? { ports: declaredPorts(this.reach.pods[i], protocol) } : {}),
          });
          members.push(new Map());
        }
        groups[g].pods++;
        const m = members[g];
        m.set(classOf[i], (m.get(classOf[i]) ?? 0) + 1);
        groupOfPod[i] = g;
      }
      return { groups, members, groupOfPod, cut };
    };
    const rows = side(q.rows);
    const cols = side(q.cols);
    const allowed = rows.groups.map(() => new Array<number>(cols.groups.length).fill(0));
    // Column classes: a mask, and per class the (group, pods) pairs it has among the columns.
    const classCount = this.reach.reps.length;
    const mask = new Uint32Array((classCount + 31) >>> 5);
    const inCols: (number[] | undefined)[] = new Array(classCount);
    cols.members.forEach((m, c) => {
      for (const [d, nd] of m) {
        mask[d >>> 5] |= 1 << (d & 31);
        const list = inCols[d];
        if (list) list.push(c, nd);
        else inCols[d] = [c, nd];
      }
    });
    const words: number[] = [];
    for (let w = 0; w < mask.length; w++) if (mask[w] !== 0) words.push(w);
    rows.members.forEach((m, r) => {
      const out = allowed[r];
      for (const [s, ns] of m) {
        const row = classes[s];
        for (const w of words) {
          let x = row[w] & mask[w];
          while (x !== 0) {
            const low = x & -x;
            x ^= low;
            const pairs = inCols[(w << 5) + 31 - Math.clz32(low)]!;
            for (let k = 0; k < pairs.length; k += 2) out[pairs[k]] += ns * pairs[k + 1];
          }
        }
      }
    });
    // A pod always reaches itself: count the self pairs the class row does not allow.
    const rowPods = this.#scopePods(q.rows);
    for (let k = 0; k < rowPods.length; k++) {
      const i = rowPods[k];
      const r = rows.groupOfPod[i];
      const c = cols.groupOfPod[i];
      if (r >= 0 && c >= 0 && !has(classes[classOf[i]], classOf[i])) allowed[r][c]++;
    }
    // The own-node exception, where the classes do not allow the pair already.
    for (const [a, b] of this.#exempt) {
      const r = rows.groupOfPod[a];
      const c = cols.groupOfPod[b];
      if (r >= 0 && c >= 0 && !has(classes[classOf[a]], classOf[b])) allowed[r][c]++;
    }
    return {
      protocol,
      port: q.port ?? null,
      level: q.level,
      rows: rows.groups,
      cols: cols.groups,
      allowed,
      ...(rows.cut || cols.cut ? { truncated: { rows: rows.cut, cols: cols.cut } } : {}),
      classes: this.reach.reps.length,
    };
  }
}
