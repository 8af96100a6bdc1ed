/**
 * Brings every ruleset of a plan into the kernel (kube-proxy's, in the proxy mode's tool, and the
 * NetworkPolicy table), each synced against what was loaded last (../../core/dataplane/ruleset-sync.ts:
 * a partial sync first, the whole ruleset again when there is nothing to start from or the kernel
 * refuses the partial one — it was changed behind podnet's back).
 *
 *   per node namespace, side by side:   for each ruleset in order:
 *     <cluster>.rules/<file> (as loaded) ─► attempts ─► ip netns exec NS nft -f - | iptables-restore [--noflush]
 *     ─► the new text takes the old one's place once the kernel has it
 *
 * A ruleset's new text is written beside the old one while the tool runs, and replaces it once the
 * kernel accepted it: what is kept always describes what was loaded.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { SyncKind } from "../../core/dataplane/nft-sync.ts";
import type { Plan } from "../../core/dataplane/plan.ts";
import { RULESET_SYNC } from "../../core/dataplane/ruleset-sync.ts";
import { DataPlaneError } from "./runner.ts";
import { type Host, readText, rulesDir, rulesPath } from "./state.ts";

/** How many rulesets were synced each way; throws a DataPlaneError naming every ruleset the kernel refused. */
export async function syncRules(host: Host, plan: Plan): Promise<Record<SyncKind, number>> {
  const count: Record<SyncKind, number> = { none: 0, partial: 0, full: 0 };
  const byNetns = new Map<string, Plan["rules"]>();
  for (const r of plan.rules) byNetns.set(r.netns, [...(byNetns.get(r.netns) ?? []), r]);
  const failures: string[] = [];
  mkdirSync(rulesDir(host, plan.cluster), { recursive: true });
  await Promise.all(
    [...byNetns.values()].map(async (rulesets) => {
      for (const r of rulesets) {
        const path = rulesPath(host, plan.cluster, r);
        const attempts = RULESET_SYNC[r.tool](readText(path), r.text);
        if (attempts.length === 0) {
          count.none++;
          continue;
        }
        writeFileSync(`${path}.next`, r.text);
        let refused = "";
        const loaded = await (async () => {
          for (const a of attempts) {
            const res = await host.runner.run({
              cmd: "ip",
              args: ["netns", "exec", r.netns, r.tool, ...a.args],
              input: a.input,
            });
            if (res.code === 0) return a.kind;
            refused = res.stderr.trim();
          }
          return undefined;
        })();
        if (loaded === undefined) {
          failures.push(`${r.tool} in ${r.netns}: ${refused}`);
          rmSync(`${path}.next`, { force: true });
          continue;
        }
        count[loaded]++;
        renameSync(`${path}.next`, path);
      }
    }),
  );
  if (failures.length) throw new DataPlaneError(failures.join("\n"));
  return count;
}
