/**
 * `podnet check -f …`: verifies the Kubernetes networking model's requirements on the cluster
 * (src/core/sim/check.ts); prints each violation with the path that breaks it; exit 1 on violations.
 * Pods left Pending are reported too, each with the scheduler's (or the pod IPAM's) reason, and fail
 * the check: the model's requirements say nothing about a pod that never got an address, so an "ok"
 * over them would be silence taken for success.
 */
import { Command, Option } from "commander";
import { checkModel } from "../core/sim/check.ts";
import { Network } from "../core/sim/network.ts";
import { addInputOptions, CliExit, EXIT_FINDING, type InputOptions, loadOrExit } from "./common.ts";
import { podCensus } from "./empty-answer.ts";

export function checkCommand(): Command {
  const cmd = new Command("check")
    .description(
      "verify the networking model's requirements (unique addresses, localhost, pod↔pod and node→pod without NAT); exit 1 on violations",
    )
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"),
    );
  addInputOptions(cmd);
  return cmd.action((opts: InputOptions & { output: "text" | "json" }) => {
    // Every Pending pod is listed below with its reason: the load's summary of them would repeat it.
    const state = loadOrExit(opts.filename, undefined, { reportsItself: ["unschedulable"] });
    const report = checkModel(new Network(state));
    const { running, pending } = podCensus(state);
    if (opts.output === "json")
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
