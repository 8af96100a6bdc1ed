/**
 * A pod's DNS query on the network: the packet its resolver sends to the cluster DNS
 * (`dnsServiceIP`, UDP 53), traced hop by hop like any other (../sim/trace.ts) — its node's routes,
 * kube-proxy's translation to one DNS endpoint, the pod's egress NetworkPolicy (and admin tiers) on
 * the translated destination, the DNS pod's ingress policy. The query is answered only when that
 * packet arrives; otherwise the resolver hears nothing (a timeout) and the name does not resolve.
 *
 * `podnet resolve` and `podnet trace --to NAME` both ask `dnsExchange`, so they cannot disagree on
 * whether a name resolves, nor on why not.
 */
import type { Pod } from "../model/k8s.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import type { Network } from "../sim/network.ts";
import { type Source, type TraceResult, trace } from "../sim/trace.ts";
import { podResolvConf, type Resolution, resolve } from "./resolv.ts";
import { ClusterZone, type ZoneOptions } from "./zone.ts";

/** The DNS port every query goes to (kubelet's resolv.conf names no port: 53). */
export const DNS_PORT = 53;

/** Trace verdicts under which a DNS pod receives the query (`arrived`: at the pod, listener unknown). */
const RECEIVED = new Set<string>(["delivered", "arrived"]);

export interface DnsExchange {
  /** Whether the query reaches a DNS pod, so that the cluster zone answers it. */
  reaches: boolean;
  /**
   * The query's trace: UDP from the pod to dnsServiceIP:53, to the endpoint kube-proxy picks for
   * this pod's (stable) source port, exactly as `podnet trace` follows it.
   */
  query: TraceResult;
  /** For people: where the query ends and why (the hop, the policy that denies it, the endpoint). */
  why: string;
  /**
   * Every DNS endpoint (`ip:port`) and whether the query reaches it when kube-proxy picks it: a
   * resolver's later queries leave from other ports and may be sent to another one.
   */
  endpoints: { endpoint: string; reaches: boolean; reason: string }[];
}

/**
 * The query a pod (or any source) sends to the cluster DNS, and whether it arrives. Tracing is
 * per DNS endpoint (a handful), never per pod pair. Errors: none; a source without an address is
 * the caller's to refuse (see `resolveFrom`).
 */
export function dnsExchange(net: Network, source: Source): DnsExchange {
  const dnsIP = net.state.config.dnsServiceIP;
  const request = { source, dst: dnsIP, dport: DNS_PORT, protocol: "UDP" as const };
  const query = trace(net, request);
  const reaches = RECEIVED.has(query.verdict);
  const endpoints: DnsExchange["endpoints"] = [];
  const frontend = net.proxy.frontendAt(dnsIP, "UDP", DNS_PORT)?.info;
  for (const e of frontend?.endpoints ?? []) {
    const endpoint = `${formatIPv4(e.ip)}:${e.port}`;
    if (!query.endpoints.includes(endpoint)) continue;
    const t = endpoint === query.chosen ? query : trace(net, { ...request, endpoint: e });
    endpoints.push({ endpoint, reaches: RECEIVED.has(t.verdict), reason: t.reason });
  }
  const target = `the DNS query to ${formatIPv4(dnsIP)}:${DNS_PORT}/UDP`;
  const others = endpoints.filter((e) => e.reaches && e.endpoint !== query.chosen).length;
  const at = query.hops.at(-1)?.at;
  const why = reaches
    ? `${target} reaches the DNS pod (${query.reason})`
    : `${target} ${query.verdict === "forwarded" ? "leaves the cluster" : `is ${query.verdict}`}${at ? ` at ${at}` : ""}: ${query.reason}${
        others > 0
          ? ` (${others} other DNS endpoint${others === 1 ? "" : "s"} would take it: kube-proxy picks one per query, so the name resolves only sometimes)`
          : ""
      }`;
  return { reaches, query, why, endpoints };
}

/**
 * `resolve` (./resolv.ts) from a pod on the cluster's network: the queries to the cluster DNS are
 * answered only when `dnsExchange` says they arrive; otherwise each is a TIMEOUT and, as glibc's
 * res_search, the walk stops. A pod without an address (Pending) sends nothing: no query, no result.
 * The Resolution carries the exchange.
 */
export function resolveFrom(
  net: Network,
  pod: Pod,
  name: string,
  type = "A",
  opts: ZoneOptions & { zone?: ClusterZone } = {},
): Resolution {
  const zone = opts.zone ?? new ClusterZone(net.state, opts);
  if (!pod.status?.podIP || !pod.spec.nodeName) {
    return {
      resolvConf: podResolvConf(net.state, pod),
      queries: [],
      why: `pod ${pod.metadata.namespace ?? "default"}/${pod.metadata.name} has no address (it is ${pod.status?.phase ?? "Pending"}): it sends no query`,
    };
  }
  const exchange = dnsExchange(net, { kind: "pod", pod });
  return { ...resolve(net.state, zone, pod, name, type, exchange), exchange };
}
