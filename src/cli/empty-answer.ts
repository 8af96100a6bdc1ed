/**
 * Silence is never success: when a command's answer is empty (or stands on no pod at all) because
 * nothing could be scheduled, started or selected, it says so on stderr, with the reasons the
 * scheduler and the pod IPAM left in the pods' status, instead of printing nothing and exiting 0.
 */
import type { ClusterState } from "../core/control/state.ts";
import { formatSelector, matchesMap } from "../core/labels.ts";
import type { Pod } from "../core/model/k8s.ts";
import { pendingReason } from "../core/views.ts";

/** A pod that stays Pending, with the reason its status gives (the scheduler's, or the IPAM's). */
export interface PendingPod {
  /** `namespace/name`. */
  readonly pod: string;
  readonly reason: string;
}

/** Pods that are not Running and why: Pending ones with their reason, and finished ones counted. */
export interface PodCensus {
  readonly running: number;
  readonly pending: PendingPod[];
  /** Succeeded or Failed pods (completed Jobs): they hold no address. */
  readonly finished: number;
}

/** The pods of `namespace` (every namespace when undefined), by phase. One pass over the pods. */
export function podCensus(state: ClusterState, namespace?: string): PodCensus {
  let running = 0;
  let finished = 0;
  const pending: PendingPod[] = [];
  for (const p of state.pods) {
    if (namespace !== undefined && p.metadata.namespace !== namespace) continue;
    const phase = p.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") finished++;
    else if (p.status?.podIP) running++;
    else pending.push({ pod: `${p.metadata.namespace}/${p.metadata.name}`, reason: pendingReason(p) });
  }
  return { running, pending, finished };
}

/**
 * "0 pods are Running: 14 are Pending (reason)", for the pods in scope, when none of them runs;
 * undefined when some pod runs. Distinct reasons are listed with their counts, most frequent first.
 */
export function noRunningPods(state: ClusterState, namespace?: string): string | undefined {
  // The usual case, some pod runs, ends at the first one.
  const runs = (p: Pod) =>
    (namespace === undefined || p.metadata.namespace === namespace) &&
    p.status?.podIP !== undefined &&
    p.status.phase !== "Succeeded" &&
    p.status.phase !== "Failed";
  if (state.pods.some(runs)) return undefined;
  const c = podCensus(state, namespace);
  if (c.running > 0) return undefined;
  const where = namespace === undefined ? "" : ` in namespace ${namespace}`;
  if (c.pending.length === 0 && c.finished === 0) {
    const others = namespace === undefined ? 0 : state.pods.length;
    return others > 0
      ? `namespace ${namespace} has no pods (the input's ${others} pod${others === 1 ? " is" : "s are"} in other namespaces)`
      : "the input has no pods (no Pod and no workload that creates pods)";
  }
  const parts: string[] = [];
  if (c.pending.length > 0)
    parts.push(
      `${c.pending.length} ${c.pending.length === 1 ? "is" : "are"} Pending (${reasons(c.pending)})`,
    );
  if (c.finished > 0) parts.push(`${c.finished} ${c.finished === 1 ? "has" : "have"} finished`);
  return `0 pods are Running${where}: ${parts.join("; ")}`;
}

/**
 * Why Service `ns/name` has no endpoint, when the reason is its pods: "its selector app=web matches 2
 * pods, none Running: 2 are Pending (reason)", or "its selector … matches no pod". Undefined when the
 * Service has no selector (its endpoints are given by hand) or some selected pod runs.
 */
export function serviceWithoutPods(state: ClusterState, id: string): string | undefined {
  // `id` is the trace's Service id: `ns/name`, or `ns/name:port` when the Service port is named.
  const [ns, rest = ""] = id.split("/");
  const name = rest.split(":")[0];
  const svc = state.services.find((s) => s.metadata.namespace === ns && s.metadata.name === name);
  const selector = svc?.spec.selector;
  if (!selector || Object.keys(selector).length === 0) return undefined;
  const selected = state.pods.filter(
    (p) => p.metadata.namespace === ns && matchesMap(selector, p.metadata.labels),
  );
  const what = `Service ${ns}/${name}'s selector ${formatSelector(selector)}`;
  if (selected.length === 0) return `${what} matches no pod in namespace ${ns}`;
  if (selected.some((p) => p.status?.podIP && p.status.phase !== "Succeeded" && p.status.phase !== "Failed"))
    return undefined;
  const pending = selected
    .filter((p) => !p.status?.podIP)
    .map((p) => ({ pod: `${p.metadata.namespace}/${p.metadata.name}`, reason: pendingReason(p) }));
  return `${what} matches ${selected.length} pod${selected.length === 1 ? "" : "s"}, none Running${pending.length > 0 ? `: ${pending.length} ${pending.length === 1 ? "is" : "are"} Pending (${reasons(pending)})` : ""}`;
}

/** "3 pods of namespace NS are Pending (reason)" when some are; undefined otherwise. */
export function pendingPods(state: ClusterState, namespace?: string): string | undefined {
  const { pending } = podCensus(state, namespace);
  if (pending.length === 0) return undefined;
  const where = namespace === undefined ? "" : ` of namespace ${namespace}`;
  return `${pending.length} pod${pending.length === 1 ? "" : "s"}${where} ${pending.length === 1 ? "is" : "are"} Pending (${reasons(pending)})`;
}

function reasons(pending: readonly PendingPod[]): string {
  const counts = new Map<string, number>();
  for (const p of pending) counts.set(p.reason, (counts.get(p.reason) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const shown = sorted
    .slice(0, 3)
    .map(([r, n]) => (sorted.length === 1 ? r : `${n} × ${r}`))
    .join("; ");
  return sorted.length > 3 ? `${shown}; and ${sorted.length - 3} other reasons` : shown;
}

/** Writes `note` to stderr as a note line (nothing when undefined). */
export function printNote(note: string | undefined): void {
  if (note) process.stderr.write(`note: ${note}\n`);
}
