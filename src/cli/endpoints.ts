/**
 * The connection options `trace` and `explain` share (`--from`, `--to`, `--protocol`, `--node`) and
 * their resolution against the cluster's network, with the usage errors both print.
 */
import { type Command, Option } from "commander";
import type { Protocol } from "../core/model/k8s.ts";
import { Network } from "../core/sim/network.ts";
import { type Destination, resolveDestination, resolveSource } from "../core/sim/targets.ts";
import type { Source } from "../core/sim/trace.ts";
import { CliExit, EXIT_BAD_INPUT, type InputOptions, loadOrExit } from "./common.ts";

export interface EndpointOptions extends InputOptions {
  from: string;
  to: string;
  protocol?: string;
  node?: string;
}

export function addEndpointOptions(cmd: Command): Command {
  return cmd
    .requiredOption(
      "--from <src>",
      "ns/pod, node/NAME, or an IP address (a pod's, a node's, or an outside client)",
    )
    .requiredOption(
      "--to <dst>",
      "ns/pod, node/NAME, name.namespace (a Service) or an IP, with :PORT (number or port name)",
    )
    .addOption(new Option("--protocol <p>", "protocol").choices(["tcp", "udp", "sctp", "TCP", "UDP", "SCTP"]))
    .option("--node <name>", "the node where an outside source enters (default: the first node)");
}

/** Load the input, build its network and resolve both ends; a bad end is a usage error (exit 2). */
export function resolveEndpointsOrExit(opts: EndpointOptions): {
  net: Network;
  src: Source;
  dst: Destination;
} {
  const net = new Network(loadOrExit(opts.filename));
  const protocol = opts.protocol ? (opts.protocol.toUpperCase() as Protocol) : undefined;
  const src = resolveSource(net, opts.from, opts.node);
  if (!src.ok) throw new CliExit(EXIT_BAD_INPUT, `error: --from: ${src.message}`);
  const dst = resolveDestination(net, opts.to, protocol);
  if (!dst.ok) throw new CliExit(EXIT_BAD_INPUT, `error: --to: ${dst.message}`);
  return { net, src: src.value, dst: dst.value };
}
