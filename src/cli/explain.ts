/**
 * `podnet explain -f … --from A --to B[:PORT] [--protocol P] [--node NAME] [-o text|json]`
 *
 * Why a connection is allowed or denied by NetworkPolicy: per direction, the policies that select
 * each side and the rule that allowed it or the reason it was denied. For a Service, each endpoint it
 * could pick is explained (the verdict applies to the endpoint and its target port, after kube-proxy's
 * translation). Built on the tracer, so an explanation always agrees with `podnet trace`.
 */
import { Command, Option } from "commander";
import { explainConnection, renderExplanations } from "../core/sim/explain.ts";
import { addInputOptions } from "./common.ts";
import { addEndpointOptions, type EndpointOptions, resolveEndpointsOrExit } from "./endpoints.ts";

interface ExplainOptions extends EndpointOptions {
  output: "text" | "json";
}

export function explainCommand(): Command {
  const cmd = addEndpointOptions(
    new Command("explain").description(
      "why NetworkPolicy allows or denies a connection: the policies that select each side and the deciding rule",
    ),
  )
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      "\nExample:\n  podnet explain -f examples/articles --from default/pod1 --to database.default:5432",
    );
  addInputOptions(cmd);
  return cmd.action((opts: ExplainOptions) => {
    const { net, src, dst } = resolveEndpointsOrExit(opts);
    const req = { source: src, dst: dst.ip, dport: dst.port, protocol: dst.protocol };
    const { service, explanations } = explainConnection(net, req);
    if (opts.output === "json") {
      process.stdout.write(
        `${JSON.stringify({ from: opts.from, to: dst.label, port: dst.port, protocol: dst.protocol, service, explanations }, null, 2)}\n`,
      );
      return;
    }
    process.stdout.write(
      renderExplanations(
        `explain ${dst.protocol} ${opts.from} → ${dst.label}:${dst.port}`,
        service,
        explanations,
      ),
    );
  });
}
