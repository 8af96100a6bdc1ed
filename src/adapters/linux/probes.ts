/**
 * Runs probes from inside pods and nodes: one prober process per source (./prober.ts, started with
 * `ip netns exec NS node prober.js TARGETS TIMEOUT`), four sources at a time, through the host's Runner.
 */
import { program } from "./pod-listeners.ts";
import { type ClusterRecord, type Host, machine } from "./state.ts";

export type ProbeResult = { ok: boolean; answer?: unknown; error?: string };

/**
 * One connection to try: from a pod (`ns/name`), a node (`node/NAME`) or the outside client
 * (`outside`, the namespace of ../../core/dataplane/outside.ts) of the cluster to ip:port.
 */
export interface ProbeTarget {
  id: number;
  from: string;
  ip: string;
  port: number;
  protocol: "TCP" | "UDP";
  /** An HTTP request instead of the plain probe (`probe --http`; see ./prober.ts). */
  http?: {
    scheme: "http" | "https";
    host: string;
    /** Path and query, as sent. */
    target: string;
    method: string;
    headers: [string, string][];
  };
}

export interface ProbeOptions {
  host?: Host;
  /**
   * Which timed-out targets to try once more, with `retryTimeoutMs(timeoutMs)`: a timeout on a busy
   * machine is not yet a verdict (`podnet probe` retries those the simulator expects an answer for).
   */
  retryTimedOut?: (target: ProbeTarget, result: ProbeResult) => boolean;
}

/** The timeout of a timed-out probe's second try (ms): five times the first, within 2–10 s. */
export function retryTimeoutMs(timeoutMs: number): number {
  return Math.min(10000, Math.max(2000, timeoutMs * 5));
}

/**
 * The results by target id; a source that is not in the cluster, or whose prober fails, fails each of
 * its targets. Each probe is bounded by `timeoutMs` (50–10,000 ms; the prober clamps it), a retried
 * one by `retryTimeoutMs(timeoutMs)`; nothing is tried more than twice.
 */
export async function runProbes(
  record: ClusterRecord,
  targets: ProbeTarget[],
  timeoutMs: number,
  opts: ProbeOptions = {},
): Promise<Map<number, ProbeResult>> {
  const host = opts.host ?? machine();
  const results = await probeOnce(record, targets, timeoutMs, host);
  const retry = opts.retryTimedOut;
  if (!retry) return results;
  const again = targets.filter((t) => {
    const r = results.get(t.id);
    return r !== undefined && !r.ok && r.error === "timeout" && retry(t, r);
  });
  if (again.length > 0)
    for (const [id, r] of await probeOnce(record, again, retryTimeoutMs(timeoutMs), host)) results.set(id, r);
  return results;
}

async function probeOnce(
  record: ClusterRecord,
  targets: ProbeTarget[],
  timeoutMs: number,
  host: Host,
): Promise<Map<number, ProbeResult>> {
  const bySource = new Map<string, typeof targets>();
  for (const t of targets) (bySource.get(t.from) ?? bySource.set(t.from, []).get(t.from)!).push(t);
  const results = new Map<number, ProbeResult>();
  const queue = [...bySource];
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const [from, list] = item;
      const netns =
        from === "outside"
          ? record.outside?.netns
          : from.startsWith("node/")
            ? record.nodes.find((n) => `node/${n.name}` === from)?.netns
            : record.pods.find((p) => p.key === from)?.netns;
      if (!netns) {
        for (const t of list)
          results.set(t.id, {
            ok: false,
            error: `${from} is not a pod or node of cluster ${record.cluster}`,
          });
        continue;
      }
      const targetsJson = JSON.stringify(
        list.map(({ id, ip, port, protocol, http }) => ({
          id,
          ip,
          port,
          protocol,
          ...(http ? { http } : {}),
        })),
      );
      const viaStdin = list.some((t) => t.http);
      const out = await host.runner.run({
        cmd: "ip",
        args: [
          "netns",
          "exec",
          netns,
          process.execPath,
          program("prober"),
          viaStdin ? "-" : targetsJson,
          String(timeoutMs),
        ],
        ...(viaStdin ? { input: targetsJson } : {}),
      });
      let parsed: (ProbeResult & { id: number })[] = [];
      try {
        parsed = JSON.parse(out.stdout);
      } catch {
        // the prober did not finish: every target of this source counts as unanswered
      }
      for (const t of list)
        results.set(t.id, parsed.find((r) => r.id === t.id) ?? { ok: false, error: "prober failed" });
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return results;
}
