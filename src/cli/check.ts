/**
 * `podnet check -f …`: verifies the Kubernetes networking model's requirements on the cluster
 * (src/core/sim/check.ts); prints each violation with the path that breaks it; exit 1 on violations.
 */
import { Command, Option } from "commander";
import { checkModel } from "../core/sim/check.ts";
import { Network } from "../core/sim/network.ts";
import { addInputOptions, CliExit, EXIT_FINDING, type InputOptions, loadOrExit } from "./common.ts";

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
    const state = loadOrExit(opts.filename);
    const report = checkModel(new Network(state));
    if (opts.output === "json") process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      const out: string[] = [];
      for (const v of report.violations) {
        out.push(`violation (${v.requirement}): ${v.message}`);
        for (const h of v.path ?? []) out.push(`    ${h}`);
      }
      out.push(
        `${report.violations.length === 0 ? "ok" : `${report.violations.length} violation${report.violations.length === 1 ? "" : "s"}`}: ${report.traced} traces covering ${report.coverage}`,
      );
      process.stdout.write(`${out.join("\n")}\n`);
    }
    if (report.violations.length > 0) throw new CliExit(EXIT_FINDING);
  });
}
