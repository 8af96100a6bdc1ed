/**
 * Runs probes from inside pods and nodes: one prober process per source (./prober.ts, started with
 * `ip netns exec NS node prober.js TARGETS TIMEOUT`), four sources at a time, through the host's Runner.
 */
import { program } from "./pod-listeners.ts";
import { type ClusterRecord, machine } from "./state.ts";

export type ProbeResult = { ok: boolean; answer?: unknown; error?: string };

/** The results by target id; a source that is not in the cluster, or whose prober fails, fails each of its targets. */
export async function runProbes(
  record: ClusterRecord,
  targets: { id: number; from: string; ip: string; port: number; protocol: "TCP" | "UDP" }[],
  timeoutMs: number,
  host = machine(),
): Promise<Map<number, ProbeResult>> {
  const bySource = new Map<string, typeof targets>();
  for (const t of targets) (bySource.get(t.from) ?? bySource.set(t.from, []).get(t.from)!).push(t);
  const results = new Map<number, ProbeResult>();
  const queue = [...bySource];
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const [from, list] = item;
      const netns = from.startsWith("node/")
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
        list.map(({ id, ip, port, protocol }) => ({ id, ip, port, protocol })),
      );
      const out = await host.runner.run({
        cmd: "ip",
        args: ["netns", "exec", netns, process.execPath, program("prober"), targetsJson, String(timeoutMs)],
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
