/**
 * The connection options `trace` and `explain` share (`--from`, `--to`, `--protocol`, `--node`) and
 * their resolution against the cluster's network, with the usage errors both print.
 */
import { type Command, Option } from "commander";
import { clusterDnsService, type Resolution, resolve } from "../core/dns/resolv.ts";
import { ClusterZone } from "../core/dns/zone.ts";
import type { Pod, Protocol } from "../core/model/k8s.ts";
import { parseIPv4 } from "../core/net/ipv4.ts";
import { Network } from "../core/sim/network.ts";
import { type Destination, resolveDestination, resolveSource } from "../core/sim/targets.ts";
import type { Source } from "../core/sim/trace.ts";
import { CliExit, EXIT_BAD_INPUT, EXIT_FINDING, type InputOptions, loadOrExit } from "./common.ts";

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
  /** How the pod resolved a name given as the destination. */
  dns?: Resolution;
} {
  const net = new Network(loadOrExit(opts.filename));
  const protocol = opts.protocol ? (opts.protocol.toUpperCase() as Protocol) : undefined;
  const src = resolveSource(net, opts.from, opts.node);
  if (!src.ok) throw new CliExit(EXIT_BAD_INPUT, `error: --from: ${src.message}`);
  // A name from a pod is resolved through the cluster DNS, when the cluster has one (a Service at
  // dnsServiceIP); without it a name is looked up directly, as from a node.
  const dns =
    src.value.kind === "pod" && clusterDnsService(net.state)
      ? resolveByDns(net, src.value.pod, opts.to)
      : undefined;
  const dst = resolveDestination(net, dns?.to ?? opts.to, protocol);
  if (!dst.ok) throw new CliExit(EXIT_BAD_INPUT, `error: --to: ${dst.message}`);
  if (dns) dst.value.label = `${dns.name} = ${dst.value.label}`;
  return { net, src: src.value, dst: dst.value, dns: dns?.resolution };
}

/** A destination name that does not resolve from the pod: the packet does not get there (exit 1). */
export class UnresolvedName extends CliExit {
  constructor(
    readonly resolution: Resolution,
    message: string,
  ) {
    super(EXIT_FINDING, message);
  }
}

/**
 * A destination written as a name (not ns/pod, node/NAME or an address), from a pod: resolved as the
 * pod's resolver would (its resolv.conf, search list, ndots) against the cluster zone. Returns the
 * address to use instead of the name, or a usage error when the name does not resolve.
 */
function resolveByDns(
  net: Network,
  pod: Pod,
  to: string,
): { name: string; to: string; resolution: Resolution } | undefined {
  const m = /^(.*?)(?::([A-Za-z0-9-]+))?$/.exec(to)!;
  const name = m[1];
  if (name.includes("/") || parseIPv4(name) !== undefined || name === "") return undefined;
  const resolution = resolve(net.state, new ClusterZone(net.state), pod, name, "A");
  const address = resolution.result?.answer.answers.find((a) => a.type === "A");
  if (!address) {
    const last = resolution.queries.at(-1);
    throw new UnresolvedName(
      resolution,
      `error: --to: "${name}" does not resolve from ${pod.metadata.namespace}/${pod.metadata.name}${last ? ` (${resolution.queries.length} queries, the last ${last.answer.rcode}: ${last.answer.why})` : ""}; podnet resolve shows each query`,
    );
  }
  return { name, to: `${address.data}${m[2] ? `:${m[2]}` : ""}`, resolution };
}
