/**
 * `podnet explain -f … --from A --to B[:PORT] [--protocol P] [--node NAME] [-o text|json]`
 *
 * Why a connection is allowed or denied by NetworkPolicy: per direction, the policies that select
 * each side and the rule that allowed it or the reason it was denied. For a Service, each endpoint it
 * could pick is explained (the verdict applies to the endpoint and its target port, after kube-proxy's
 * translation). Built on the tracer, so an explanation always agrees with `podnet trace`.
 */
import { Command, Option } from "commander";
import type { Protocol } from "../core/model/k8s.ts";
import { explainConnection, renderExplanations } from "../core/sim/explain.ts";
import { Network } from "../core/sim/network.ts";
import { resolveDestination, resolveSource } from "../core/sim/targets.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, type InputOptions, loadOrExit } from "./common.ts";

interface ExplainOptions extends InputOptions {
  from: string;
  to: string;
  protocol?: string;
  node?: string;
  output: "text" | "json";
}

export function explainCommand(): Command {
  const cmd = new Command("explain")
    .description(
      "why NetworkPolicy allows or denies a connection: the policies that select each side and the deciding rule",
    )
    .requiredOption("--from <src>", "ns/pod, node/NAME or an IP address")
    .requiredOption("--to <dst>", "ns/pod, node/NAME, name.namespace (a Service) or an IP, with :PORT")
    .addOption(new Option("--protocol <p>", "protocol").choices(["tcp", "udp", "sctp", "TCP", "UDP", "SCTP"]))
    .option("--node <name>", "the node where an outside source enters (default: the first node)")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      "\nExample:\n  podnet explain -f examples/articles --from default/pod1 --to database.default:5432",
    );
  addInputOptions(cmd);
  return cmd.action((opts: ExplainOptions) => {
    const state = loadOrExit(opts.filename);
    const net = new Network(state);
    const protocol = opts.protocol ? (opts.protocol.toUpperCase() as Protocol) : undefined;
    const src = resolveSource(net, opts.from, opts.node);
    if (!src.ok) throw new CliExit(EXIT_BAD_INPUT, `error: --from: ${src.message}`);
    const dst = resolveDestination(net, opts.to, protocol);
    if (!dst.ok) throw new CliExit(EXIT_BAD_INPUT, `error: --to: ${dst.message}`);
    const req = { source: src.value, dst: dst.value.ip, dport: dst.value.port, protocol: dst.value.protocol };
    const { service, explanations } = explainConnection(net, req);
    if (opts.output === "json") {
      process.stdout.write(
        `${JSON.stringify({ from: opts.from, to: dst.value.label, port: dst.value.port, protocol: dst.value.protocol, service, explanations }, null, 2)}\n`,
      );
      return;
    }
    process.stdout.write(
      renderExplanations(
        `explain ${dst.value.protocol} ${opts.from} → ${dst.value.label}:${dst.value.port}`,
        service,
        explanations,
      ),
    );
  });
}
