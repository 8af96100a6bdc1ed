/**
 * The connection options `trace` and `explain` share (`--from`, `--to`, `--protocol`, `--node`) and
 * their resolution against the cluster's network, with the usage errors both print.
 */
import { type Command, Option } from "commander";
import { clusterDnsService, type Resolution } from "../core/dns/resolv.ts";
import { Network } from "../core/sim/network.ts";
import type { Destination } from "../core/sim/targets.ts";
import type { Source } from "../core/sim/trace.ts";
import { resolveEnds } from "../core/views/questions.ts";
import { CliExit, EXIT_BAD_INPUT, EXIT_FINDING, type InputOptions, loadOrExit } from "./common.ts";
import { printNote, serviceWithoutPods } from "./empty-answer.ts";

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
  /**
   * How the pod resolved a name given as the destination (core/dns/exchange.ts `resolveFrom`, as
   * `podnet resolve` does); its `exchange.query` is the DNS query's trace.
   */
  dns?: Resolution;
} {
  const net = new Network(loadOrExit(opts.filename));
  const ends = resolveEnds(net, opts);
  if (ends.ok) return { net, ...ends };
  if (ends.kind === "bad-input") throw new CliExit(EXIT_BAD_INPUT, `error: ${ends.option}: ${ends.message}`);
  // The DNS query finds no endpoint because CoreDNS's pods do not run: say why (silence is never success).
  if (ends.dnsUnreachable) noteDnsUnreachable(net);
  throw new UnresolvedName(ends.resolution, ends.reason);
}

/** The note printed when a name's DNS query reaches no DNS pod: why the cluster DNS has none. */
export function noteDnsUnreachable(net: Network): void {
  const dnsService = clusterDnsService(net.state);
  if (dnsService)
    printNote(serviceWithoutPods(net.state, `${dnsService.metadata.namespace}/${dnsService.metadata.name}`));
}

/**
 * A destination name that does not resolve from the pod, or whose DNS query does not arrive: the
 * packet is never sent (exit 1). `reason` is the core's (no "error:" prefix); the message adds it.
 */
export class UnresolvedName extends CliExit {
  constructor(
    readonly resolution: Resolution,
    readonly reason: string,
  ) {
    super(EXIT_FINDING, `error: --to: ${reason}`);
  }
}
