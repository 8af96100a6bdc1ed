/**
 * What a change to the manifests does to connectivity: the connlists of two clusters, compared per
 * (source, destination).
 *
 *   old cluster, new cluster ──► connlist of each, outside ranges cut at the union of both sides' cuts
 *   per (src, dst): only in new → added; only in old → removed; both, different ports → changed
 *
 * Workloads are matched by `ns/name[Kind]`, so a renamed workload shows as removed and added.
 */
import type { ClusterState } from "../control/state.ts";
import { type Connection, connlist, rangeCuts } from "./connlist.ts";

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

export function diffConnections(before: ClusterState, after: ClusterState): ConnectionDiff[] {
  const cuts = {
    ingress: [...rangeCuts(before, "ingress"), ...rangeCuts(after, "ingress")],
    egress: [...rangeCuts(before, "egress"), ...rangeCuts(after, "egress")],
  };
  const key = (c: Connection) => `${c.src}\u0000${c.dst}`;
  const old = new Map(connlist(before, { cuts }).map((c) => [key(c), c]));
  const now = new Map(connlist(after, { cuts }).map((c) => [key(c), c]));
  const out: ConnectionDiff[] = [];
  for (const [k, c] of now) {
    const was = old.get(k);
    if (!was) out.push({ kind: "added", src: c.src, dst: c.dst, new: c.conn });
    else if (was.conn !== c.conn)
      out.push({ kind: "changed", src: c.src, dst: c.dst, old: was.conn, new: c.conn });
  }
  for (const [k, c] of old)
    if (!now.has(k)) out.push({ kind: "removed", src: c.src, dst: c.dst, old: c.conn });
  return out.sort((a, b) =>
    a.src < b.src ? -1 : a.src > b.src ? 1 : a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0,
  );
}
