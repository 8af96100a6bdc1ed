/**
 * `podnet check -f …`: verifies the Kubernetes networking model's requirements on the cluster
 * (src/core/sim/check.ts); prints each violation with the path that breaks it; exit 1 on violations.
 * Pods left Pending are reported too, each with the scheduler's (or the pod IPAM's) reason, and fail
 * the check: the model's requirements say nothing about a pod that never got an address, so an "ok"
 * over them would be silence taken for success.
 *
 * `-o sarif` (./render/sarif.ts): each violation and Pending pod a result, its rule the requirement
 * (or `pod-pending`), located at the first object the violation names (`pod ns/name`, `node name`,
 * `Service ns/name`) — for a pod podnet created, the workload it was made from.
 */
import { Command, Option } from "commander";
import type { ClusterState } from "../core/control/state.ts";
import { checkModel, type Violation } from "../core/sim/check.ts";
import { Network } from "../core/sim/network.ts";
import {
  addInputOptions,
  CliExit,
  EXIT_FINDING,
  type InputOptions,
  loadOrExit,
  packageVersion,
} from "./common.ts";
import { type PendingPod, podCensus } from "./empty-answer.ts";
import { CHECK_RULES, objectWhere, originOf, renderSarif, type SarifFinding } from "./render/sarif.ts";

/** The object kinds a violation's message names, as the message spells them. */
const NAMED = /\b(pod|node|Service) ([a-z0-9][a-z0-9.-]*(?:\/[a-z0-9][a-z0-9.-]*)?)/;

/**
 * A violation or Pending pod as a SARIF finding, at the object it names first (undefined position
 * when that object has no origin, as for objects podnet supplies).
 */
export function checkFinding(state: ClusterState, v: Violation | { pending: PendingPod }): SarifFinding {
  let ruleId: string;
  let message: string;
  let object: { kind: string; ns?: string; name: string } | undefined;
  if ("pending" in v) {
    ruleId = "pod-pending";
    message = `pod ${v.pending.pod} is Pending: ${v.pending.reason}`;
    const [ns, name] = v.pending.pod.split("/");
    object = { kind: "Pod", ns, name };
  } else {
    ruleId = v.requirement;
    message = [v.message, ...(v.path ?? [])].join("\n");
    const m = NAMED.exec(v.message);
    if (m) {
      const kind = m[1] === "pod" ? "Pod" : m[1] === "node" ? "Node" : "Service";
      const [a, b] = m[2].split("/");
      object = b === undefined ? { kind, name: a } : { kind, ns: a, name: b };
    }
  }
  const found = object && originOf(state, object.kind, object.ns, object.name);
  return {
    ruleId,
    level: "error",
    message,
    ...(found ? { where: objectWhere(found.origin) } : {}),
    ...(object ? { object: `${object.kind} ${object.ns ? `${object.ns}/` : ""}${object.name}` } : {}),
  };
}

export function checkCommand(): Command {
  const cmd = new Command("check")
    .description(
      "verify the networking model's requirements (unique addresses, localhost, pod↔pod and node→pod without NAT); exit 1 on violations",
    )
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "json", "sarif"]).default("text"),
    );
  addInputOptions(cmd);
  return cmd.action((opts: InputOptions & { output: "text" | "json" | "sarif" }) => {
    // Every Pending pod is listed below with its reason: the load's summary of them would repeat it.
    const state = loadOrExit(opts.filename, undefined, { reportsItself: ["unschedulable"] });
    const report = checkModel(new Network(state));
    const { running, pending } = podCensus(state);
    if (opts.output === "sarif")
      process.stdout.write(
        renderSarif({
          version: packageVersion(),
          rules: CHECK_RULES,
          findings: [
            ...report.violations.map((v) => checkFinding(state, v)),
            ...pending.map((p) => checkFinding(state, { pending: p })),
          ],
        }),
      );
    else if (opts.output === "json")
      process.stdout.write(`${JSON.stringify({ ...report, running, pending }, null, 2)}\n`);
    else {
      const out: string[] = [];
      for (const v of report.violations) {
        out.push(`violation (${v.requirement}): ${v.message}`);
        for (const h of v.path ?? []) out.push(`    ${h}`);
      }
      for (const p of pending) out.push(`pending: ${p.pod}: ${p.reason}`);
      const v = report.violations.length;
      const failed = [
        ...(v > 0 ? [`${v} violation${v === 1 ? "" : "s"}`] : []),
        ...(pending.length > 0
          ? [`${pending.length} pod${pending.length === 1 ? "" : "s"} Pending, ${running} Running`]
          : []),
      ];
      out.push(
        `${failed.length === 0 ? "ok" : failed.join(", ")}: ${report.traced} traces covering ${report.coverage}`,
      );
      process.stdout.write(`${out.join("\n")}\n`);
    }
    if (report.violations.length > 0 || pending.length > 0) throw new CliExit(EXIT_FINDING);
  });
}
