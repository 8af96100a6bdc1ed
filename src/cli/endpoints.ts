/**
 * The connection options `trace` and `explain` share (`--from`, `--to`, `--protocol`, `--node`) and
 * their resolution against the cluster's network, with the usage errors both print.
 */
import { type Command, Option } from "commander";
import { resolveDestinationName } from "../core/dns/exchange.ts";
import { clusterDnsService, type Resolution } from "../core/dns/resolv.ts";
import type { Protocol } from "../core/model/k8s.ts";
import { parseIPv4 } from "../core/net/ipv4.ts";
import { Network } from "../core/sim/network.ts";
import { type Destination, resolveDestination, resolveSource } from "../core/sim/targets.ts";
import type { Source } from "../core/sim/trace.ts";
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
  const protocol = opts.protocol ? (opts.protocol.toUpperCase() as Protocol) : undefined;
  const src = resolveSource(net, opts.from, opts.node);
  if (!src.ok) throw new CliExit(EXIT_BAD_INPUT, `error: ${src.option ?? "--from"}: ${src.message}`);
  // A name from a pod is resolved through the cluster DNS, when the cluster has one (a Service at
  // dnsServiceIP); without it a name is looked up directly, as from a node.
  const dns =
    src.value.kind === "pod" && clusterDnsService(net.state)
      ? resolveDestinationName(net, src.value.pod, opts.to)
      : undefined;
  if (dns && !dns.resolved) {
    // The DNS query finds no endpoint because CoreDNS's pods do not run: say why (silence is never success).
    const dnsService = clusterDnsService(net.state);
    if (dnsService && dns.resolution.exchange && !dns.resolution.exchange.reaches)
      printNote(
        serviceWithoutPods(net.state, `${dnsService.metadata.namespace}/${dnsService.metadata.name}`),
      );
    throw new UnresolvedName(dns.resolution, dns.reason);
  }
  const to = dns ? `${dns.address}${dns.port ? `:${dns.port}` : ""}` : opts.to;
  const dst = resolveDestination(net, to, protocol);
  if (!dst.ok) throw new CliExit(EXIT_BAD_INPUT, `error: --to: ${dst.message}`);
  if (dns) {
    dst.value.label = `${dns.name} = ${dst.value.label}`;
    // Every address the name stands for, for --all-endpoints (each A record of the pod's answer).
    if (!dst.value.addresses && dns.addresses.length > 1)
      dst.value.addresses = dns.addresses.map((a) => parseIPv4(a)!);
  }
  return { net, src: src.value, dst: dst.value, dns: dns?.resolution };
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
