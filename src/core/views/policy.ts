/**
 * Policy views as graphs: the connlist as workloads (grouped by namespace) joined by edges labelled
 * with their ports, the diff between two inputs as the same graph with each edge marked added,
 * removed or changed, and where each policy was written (file:line and its text), for explanations
 * that link to the rule that decided. The lines are `connlist`'s and `diff`'s own
 * (../policy/connlist.ts, ../policy/diff.ts), so the graph and `-o json` hold the same edges.
 */
import { stringify } from "yaml";
import type { ClusterState } from "../control/state.ts";
import { compileSelector, type LabelMatcher, selectorProblems } from "../labels.ts";
import type { KubeObject, LabelSelector, Pod } from "../model/k8s.ts";
import type { Connection } from "../policy/connlist.ts";
import { workloadOf } from "../policy/connlist.ts";
import type { ConnectionDiff, DiffKind } from "../policy/diff.ts";

/** A workload or an outside range, placed in its namespace's group (outside ranges in none). */
export interface GraphNode {
  id: string;
  label: string;
  group?: string;
}

export interface GraphEdge {
  src: string;
  dst: string;
  /** The connections: `TCP 8080`, `All Connections`; a changed edge `old -> new`. */
  label: string;
  ownNode?: boolean;
  /** Diff graphs only. */
  kind?: DiffKind;
}

/** Nodes grouped by namespace and the edges between them. */
export interface ConnGraph {
  groups: string[];
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Diff graphs only: how many edges of each kind. */
  counts?: Record<DiffKind, number>;
}

/** Which lines to keep: an end in the namespace, an end whose pods carry the labels, the port allowed. */
export interface GraphFilter {
  namespace?: string;
  /** A label selector (`app=web,tier!=db`), matched against the pods of a line's ends. */
  selector?: string;
  /** Keep lines whose connections include this port (of any protocol). */
  port?: number;
}

/** Whether a connlist `conn` (`All Connections`, `TCP 80,8000-8100,UDP 53`) includes the port. */
export function connIncludesPort(conn: string, port: number): boolean {
  if (conn.startsWith("All Connections")) return true;
  for (const m of conn.matchAll(/(\d+)(?:-(\d+))?/g)) {
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (port >= lo && port <= hi) return true;
  }
  return false;
}

/**
 * The filter as a predicate over lines, or an error message (a bad selector). The selector is matched
 * against the labels of the workload's pods (the pods of one workload share labels): one pass over pods.
 */
export function lineFilter(
  state: ClusterState,
  f: GraphFilter,
): { ok: true; keep: (src: string, dst: string, conn: string) => boolean } | { ok: false; message: string } {
  let labelled: Set<string> | undefined;
  if (f.selector) {
    const sel = parseLabelSelector(f.selector);
    if (!sel.ok) return sel;
    labelled = new Set();
    const owner = workloadOf(state);
    for (const p of state.pods) if (sel.matches(p.metadata.labels)) labelled.add(owner(p));
  }
  const inNs = (id: string) => id.startsWith(`${f.namespace}/`);
  return {
    ok: true,
    keep: (src, dst, conn) =>
      (!f.namespace || inNs(src) || inNs(dst)) &&
      (!labelled || labelled.has(src) || labelled.has(dst)) &&
      (f.port === undefined || connIncludesPort(conn, f.port)),
  };
}

/**
 * A label selector in kubectl's `-l` syntax: comma-separated `key=value`, `key==value`, `key!=value`,
 * `key` (exists) and `!key` (does not exist). Errors name the part at fault.
 */
export function parseLabelSelector(
  text: string,
): { ok: true; matches: LabelMatcher } | { ok: false; message: string } {
  const sel: Required<Pick<LabelSelector, "matchExpressions">> = { matchExpressions: [] };
  for (const raw of text.split(",")) {
    const part = raw.trim();
    const m = /^(!?)([^=!\s]+)\s*(?:(==|=|!=)\s*(\S*))?$/.exec(part);
    if (!m || (m[1] && m[3]))
      return {
        ok: false,
        message: `label selector "${text}": "${part}" is not key=value, key!=value, key or !key`,
      };
    const [, not, key, op, value] = m;
    if (not) sel.matchExpressions.push({ key, operator: "DoesNotExist" });
    else if (!op) sel.matchExpressions.push({ key, operator: "Exists" });
    else sel.matchExpressions.push({ key, operator: op === "!=" ? "NotIn" : "In", values: [value] });
  }
  const problems = selectorProblems(sel);
  if (problems.length > 0)
    return { ok: false, message: `label selector "${text}": ${problems.map((p) => p.message).join("; ")}` };
  return { ok: true, matches: compileSelector(sel) };
}

function nodesOf(ids: Iterable<string>): { groups: string[]; nodes: GraphNode[] } {
  const nodes: GraphNode[] = [];
  const groups = new Set<string>();
  for (const id of [...new Set(ids)].sort()) {
    const slash = id.indexOf("/");
    if (id.endsWith("[External]") || slash < 0) nodes.push({ id, label: id });
    else {
      const ns = id.slice(0, slash);
      groups.add(ns);
      nodes.push({ id, label: id.slice(slash + 1), group: ns });
    }
  }
  return { groups: [...groups].sort(), nodes };
}

/** The connlist's lines as a graph: a node per workload or outside range, an edge per line. */
export function connlistGraph(lines: readonly Connection[]): ConnGraph {
  return {
    ...nodesOf(lines.flatMap((l) => [l.src, l.dst])),
    edges: lines.map((l) => ({
      src: l.src,
      dst: l.dst,
      label: l.conn,
      ...(l.ownNode ? { ownNode: true } : {}),
    })),
  };
}

/** The diff's lines as a graph, each edge marked with its kind, with the counts. */
export function diffGraph(diffs: readonly ConnectionDiff[]): ConnGraph {
  const counts: Record<DiffKind, number> = { added: 0, removed: 0, changed: 0 };
  for (const d of diffs) counts[d.kind]++;
  return {
    ...nodesOf(diffs.flatMap((d) => [d.src, d.dst])),
    edges: diffs.map((d) => ({
      src: d.src,
      dst: d.dst,
      label: d.kind === "changed" ? `${d.old} -> ${d.new}` : (d.new ?? d.old ?? ""),
      kind: d.kind,
    })),
    counts,
  };
}

/**
 * A graph too large to read per workload, folded into namespaces: a node per namespace (and per
 * outside range), an edge per pair of them with the number of workload lines it stands for.
 */
export function namespaceGraph(g: ConnGraph): ConnGraph {
  const nsOf = new Map(g.nodes.map((n) => [n.id, n.group ?? n.id]));
  const edges = new Map<string, GraphEdge & { n: number }>();
  for (const e of g.edges) {
    const src = nsOf.get(e.src)!;
    const dst = nsOf.get(e.dst)!;
    const key = `${src}\u0000${dst}`;
    const x = edges.get(key);
    if (x) x.n++;
    else edges.set(key, { src, dst, label: "", n: 1 });
  }
  const ids = [...new Set(nsOf.values())].sort();
  return {
    groups: [],
    nodes: ids.map((id) => ({ id, label: id })),
    edges: [...edges.values()].map(({ n, ...e }) => ({ ...e, label: `${n} line${n === 1 ? "" : "s"}` })),
    ...(g.counts ? { counts: g.counts } : {}),
  };
}

/** Where a policy was written and its text. */
export interface PolicySource {
  kind: string;
  /** `ns/name`, or the name of a cluster-scoped policy. */
  name: string;
  file?: string;
  line?: number;
}

/** The object as YAML (as the input gave it, after defaulting), for showing a policy's text. */
export function policyYaml(o: KubeObject): string {
  return stringify(o, { lineWidth: 0 });
}

/**
 * Every policy of the cluster (NetworkPolicy and the admin tiers) by kind and name, without its
 * position: finding a position reads the source file's structure, so `locatePolicy` does it for the
 * few a view shows.
 */
export function policySources(state: ClusterState): { kind: string; name: string; object: KubeObject }[] {
  const all: KubeObject[] = [
    ...state.adminNetworkPolicies,
    ...state.clusterNetworkPolicies,
    ...state.networkPolicies,
    ...state.baselineAdminNetworkPolicies,
  ];
  return all.map((o) => ({
    kind: o.kind,
    name: o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name,
    object: o,
  }));
}

/** A policy with where it was written (file and line of the object), when the input says. */
export function locatePolicy(
  state: ClusterState,
  p: { kind: string; name: string; object: KubeObject },
): PolicySource {
  const origin = state.origins.get(p.object);
  const at = origin?.locate([]);
  return {
    kind: p.kind,
    name: p.name,
    ...(origin ? { file: origin.file } : {}),
    ...(at ? { line: at.line } : {}),
  };
}

/** The container ports a pod declares for a protocol, for explaining a heatmap cell on a real port. */
export function declaredPorts(pod: Pod, protocol: string): number[] {
  const out = new Set<number>();
  for (const c of pod.spec.containers)
    for (const p of c.ports ?? []) if ((p.protocol ?? "TCP") === protocol) out.add(p.containerPort);
  return [...out].sort((a, b) => a - b);
}
