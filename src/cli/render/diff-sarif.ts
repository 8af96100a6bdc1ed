/**
 * `diff -o sarif`: each added, removed or changed connection as a SARIF result (./sarif.ts), located
 * at the YAML of the policy that the change touched and that decides it.
 *
 *   touched policies: NetworkPolicies, AdminNetworkPolicies and BaselineAdminNetworkPolicies that one
 *                     side has and the other not, or whose spec differs
 *   per connection:   the touched policies selecting the destination's pods for ingress or the
 *                     source's pods for egress, in the new cluster first (where the line now is), else
 *                     in the old one (a policy deleted or no longer selecting: the old file's line)
 *   none touched:     the change is in the workloads (labels, ports, pods): the destination's workload
 *                     in the new cluster, else the source's
 *
 * Kinds in --fail-on are errors, the others notes, so the log carries the whole change and the gate's
 * reason alike.
 */
import type { ClusterState } from "../../core/control/state.ts";
import type { Pod } from "../../core/model/k8s.ts";
import { workloadOf } from "../../core/policy/connlist.ts";
import type { ConnectionDiff, DiffKind } from "../../core/policy/diff.ts";
import { PolicyEngine } from "../../core/policy/netpol.ts";
import { objectWhere, originOf, type SarifFinding, type SarifWhere } from "./sarif.ts";

/** One side's look-ups: a live pod per workload, and which policies select a pod. */
interface Side {
  state: ClusterState;
  engine: PolicyEngine;
  podOf: Map<string, Pod>;
}

function side(state: ClusterState): Side {
  const owner = workloadOf(state);
  const podOf = new Map<string, Pod>();
  for (const p of state.pods)
    if (p.status?.podIP && p.status.phase !== "Succeeded" && p.status.phase !== "Failed") {
      const w = owner(p);
      if (!podOf.has(w)) podOf.set(w, p);
    }
  return { state, engine: new PolicyEngine(state), podOf };
}

const policyKey = (kind: string, ns: string | undefined, name: string) =>
  `${kind} ${ns ? `${ns}/` : ""}${name}`;

function policies(state: ClusterState): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of [
    ...state.networkPolicies,
    ...state.adminNetworkPolicies,
    ...state.baselineAdminNetworkPolicies,
  ])
    out.set(policyKey(o.kind, o.metadata.namespace, o.metadata.name), JSON.stringify(o.spec ?? null));
  return out;
}

/** `Kind ns/name` of the policies one side has and the other not, or with a different spec. */
export function touchedPolicies(before: ClusterState, after: ClusterState): Set<string> {
  const a = policies(before);
  const b = policies(after);
  const out = new Set<string>();
  for (const [k, spec] of a) if (b.get(k) !== spec) out.add(k);
  for (const k of b.keys()) if (!a.has(k)) out.add(k);
  return out;
}

/** The touched policies deciding s → d on one side, as `Kind ns/name`. */
function deciding(s: Side, src: string, dst: string, touched: Set<string>): string[] {
  const out: string[] = [];
  const consider = (pod: Pod | undefined, direction: "ingress" | "egress") => {
    if (!pod) return;
    // A compiled NetworkPolicy's name is `ns/name` already.
    for (const p of s.engine.selecting(pod, direction)) out.push(`NetworkPolicy ${p.name}`);
    for (const tier of ["admin", "baseline"] as const)
      for (const t of s.engine.tierSelecting(tier, pod, direction)) out.push(t.name.replace("/", " "));
  };
  consider(s.podOf.get(dst), "ingress");
  consider(s.podOf.get(src), "egress");
  return [...new Set(out)].filter((k) => touched.has(k));
}

function whereOf(state: ClusterState, key: string): SarifWhere | undefined {
  const [kind, ref] = key.split(" ");
  const [ns, name] = ref.includes("/") ? ref.split("/") : [undefined, ref];
  const found = originOf(state, kind, ns, name);
  return found && objectWhere(found.origin);
}

/** `ns/name[Kind]` → kind, namespace, name; undefined for address ranges and the ingress controller. */
function workload(text: string): { kind: string; ns: string; name: string } | undefined {
  const m = /^([^/[\]]+)\/([^/[\]]+)\[([A-Za-z]+)\]$/.exec(text);
  return m ? { ns: m[1], name: m[2], kind: m[3] } : undefined;
}

const SIGN: Record<DiffKind, string> = {
  added: "now allowed",
  removed: "no longer allowed",
  changed: "changed",
};

/**
 * The diff as SARIF findings: rule `connection-KIND`, level error for the kinds in `failOn` and note
 * otherwise, at the touched policy that decides each connection (see the header).
 */
export function diffFindings(
  before: ClusterState,
  after: ClusterState,
  diffs: readonly ConnectionDiff[],
  failOn: readonly DiffKind[],
): SarifFinding[] {
  if (diffs.length === 0) return [];
  const touched = touchedPolicies(before, after);
  const old = side(before);
  const now = side(after);
  return diffs.map((d) => {
    const what =
      d.kind === "changed"
        ? `${d.src} => ${d.dst}: ${d.old} -> ${d.new}`
        : `${d.src} => ${d.dst}: ${d.new ?? d.old}`;
    let where: SarifWhere | undefined;
    let object: string | undefined;
    let why: string;
    const nowKeys = deciding(now, d.src, d.dst, touched);
    const oldKeys = nowKeys.length ? [] : deciding(old, d.src, d.dst, touched);
    if (nowKeys.length || oldKeys.length) {
      const keys = nowKeys.length ? nowKeys : oldKeys;
      object = keys[0];
      where = whereOf(nowKeys.length ? after : before, object);
      why = `decided by the changed ${keys.join(", ")}${nowKeys.length ? "" : " (in the old manifests)"}`;
    } else {
      const w = workload(d.dst) ?? workload(d.src);
      why = "no changed policy selects either end: the workloads changed";
      if (w) {
        object = `${w.kind} ${w.ns}/${w.name}`;
        const found = originOf(after, w.kind, w.ns, w.name) ?? originOf(before, w.kind, w.ns, w.name);
        where = found && objectWhere(found.origin);
      }
    }
    return {
      ruleId: `connection-${d.kind}`,
      level: failOn.includes(d.kind) ? "error" : "note",
      message: `${SIGN[d.kind]}: ${what}; ${why}`,
      ...(where ? { where } : {}),
      ...(object ? { object } : {}),
    };
  });
}
