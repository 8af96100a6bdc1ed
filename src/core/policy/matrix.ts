/**
 * The pod-by-pod reachability matrix of `podnet matrix`: a view over the compiled reachability
 * (./reach.ts) for one protocol and either one port or any port, optionally one namespace's pods.
 */
import type { ClusterState } from "../control/state.ts";
import type { Protocol } from "../model/k8s.ts";
import { type Bits, has } from "./bitset.ts";
import { Reachability } from "./reach.ts";

export interface Matrix {
  protocol: Protocol;
  port?: number;
  /** `ns/name`, sorted by namespace then name. */
  pods: string[];
  /** rows = from, columns = to (indexes into `pods`). */
  allowed(from: number, to: number): boolean;
  /** Allowed ordered pairs, a pod to itself included; computed on classes, so cheap at any size. */
  allowedPairs(): number;
  classes: number;
  atoms: number;
  profiles: { ingress: number; egress: number };
}

export function computeMatrix(
  state: ClusterState,
  opts: { protocol: Protocol; port?: number; namespace?: string },
  reach: Reachability = new Reachability(state),
): Matrix {
  const keep: number[] = [];
  reach.pods.forEach((p, i) => {
    if (!opts.namespace || p.metadata.namespace === opts.namespace) keep.push(i);
  });
  let lo: number;
  let hi: number;
  if (opts.port !== undefined) lo = hi = reach.atomOf(opts.protocol, opts.port);
  else [lo, hi] = reach.atomRange(opts.protocol);
  const classes: Bits[] = reach.classMatrix(lo, hi);
  const classOf = keep.map((i) => reach.classOf[i]);
  // Pairs of a host-network pod and a pod on its node: allowed both ways, whatever the classes say.
  const position = new Map(keep.map((i, k) => [i, k]));
  const exempt = new Set<number>();
  const pairs: [number, number][] = [];
  for (const [h, q] of reach.nodePairs()) {
    const [a, b] = [position.get(h), position.get(q)];
    if (a === undefined || b === undefined) continue;
    pairs.push([a, b], [b, a]);
    exempt.add(a * keep.length + b).add(b * keep.length + a);
  }
  return {
    protocol: opts.protocol,
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    pods: keep.map((i) => `${reach.pods[i].metadata.namespace}/${reach.pods[i].metadata.name}`),
    allowed: (from, to) =>
      from === to || has(classes[classOf[from]], classOf[to]) || exempt.has(from * keep.length + to),
    allowedPairs: () => {
      const weights = new Int32Array(reach.reps.length);
      for (const c of classOf) weights[c]++;
      let extra = 0;
      for (const [a, b] of pairs) if (!has(classes[classOf[a]], classOf[b])) extra++;
      return reach.countPairs(classes, weights) + extra;
    },
    classes: reach.reps.length,
    atoms: hi - lo + 1,
    profiles: { ingress: reach.ingress.length, egress: reach.egress.length },
  };
}
