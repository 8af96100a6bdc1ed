/**
 * A pod's DNS query on the network: the packet its resolver sends to the cluster DNS
 * (`dnsServiceIP`, UDP 53), traced hop by hop like any other (../sim/trace.ts) — its node's routes,
 * kube-proxy's translation to one DNS endpoint, the pod's egress NetworkPolicy (and admin tiers) on
 * the translated destination, the DNS pod's ingress policy. The query is answered only when that
 * packet arrives; otherwise the resolver hears nothing (a timeout) and the name does not resolve.
 *
 * `podnet resolve` (`resolveFrom`), `podnet trace --to NAME` and `explain` (`resolveDestinationName`,
 * which is `resolveFrom`) and the demo's names section share one resolution, so they cannot disagree
 * on the queries, the answer, whether a name resolves, nor on why not.
 */
import type { Pod } from "../model/k8s.ts";
import { formatIPv4, parseIPv4 } from "../net/ipv4.ts";
import type { Network } from "../sim/network.ts";
import { type Source, type TraceResult, trace } from "../sim/trace.ts";
import { noAddressReason } from "../views.ts";
import { podResolvConf, type Resolution, resolve } from "./resolv.ts";
import { ClusterZone, type ZoneOptions } from "./zone.ts";

/** The DNS port every query goes to (kubelet's resolv.conf names no port: 53). */
export const DNS_PORT = 53;

/** Trace verdicts under which a DNS pod receives the query (`arrived`: at the pod, listener unknown). */
const RECEIVED = new Set<string>(["delivered", "arrived"]);

export interface DnsExchange {
  /** Whether the query reaches a DNS pod, so that the cluster zone answers it. */
  reaches: boolean;
  /** It reaches one only through another endpoint than kube-proxy's pick: some lookups fail. */
  partial: boolean;
  /**
   * The query's trace: UDP from the pod to dnsServiceIP:53, to the endpoint kube-proxy picks for
   * this pod's (stable) source port, as `podnet trace` follows it; when that one does not take it
   * but another DNS endpoint does, the trace to that one (kube-proxy picks per query, so the
   * resolver gets its answers there: the name resolves, and `why` says some lookups fail).
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
 * The query a pod (or any source) sends to the cluster DNS, and whether it arrives at some DNS pod
 * (the same question as `lint`'s dns-egress-blocked: can the workload reach any kube-dns endpoint on
 * UDP 53). Tracing is per DNS endpoint (a handful), never per pod pair. Errors: none; a source
 * without an address is the caller's to refuse (see `resolveFrom`).
 */
export function dnsExchange(net: Network, source: Source): DnsExchange {
  const dnsIP = net.state.config.dnsServiceIP;
  const request = { source, dst: dnsIP, dport: DNS_PORT, protocol: "UDP" as const };
  const picked = trace(net, request);
  const endpoints: DnsExchange["endpoints"] = [];
  let other: TraceResult | undefined;
  const frontend = net.proxy.frontendAt(dnsIP, "UDP", DNS_PORT)?.info;
  for (const e of frontend?.endpoints ?? []) {
    const endpoint = `${formatIPv4(e.ip)}:${e.port}`;
    if (!picked.endpoints.includes(endpoint)) continue;
    const t = endpoint === picked.chosen ? picked : trace(net, { ...request, endpoint: e });
    const reaches = RECEIVED.has(t.verdict);
    endpoints.push({ endpoint, reaches, reason: t.reason });
    if (reaches && !other && t !== picked) other = t;
  }
  const target = `the DNS query to ${formatIPv4(dnsIP)}:${DNS_PORT}/UDP`;
  const ends = (t: TraceResult) => {
    const at = t.hops.at(-1)?.at;
    return `${t.verdict === "forwarded" ? "leaves the cluster" : `is ${t.verdict}`}${at ? ` at ${at}` : ""}: ${t.reason}`;
  };
  if (RECEIVED.has(picked.verdict))
    return {
      reaches: true,
      partial: false,
      query: picked,
      why: `${target} reaches the DNS pod (${picked.reason})`,
      endpoints,
    };
  if (other)
    // kube-proxy picks an endpoint per query (per source port): the resolver's queries reach this
    // one, the ones sent to the picked endpoint are lost. The name resolves, though not every time.
    return {
      reaches: true,
      partial: true,
      query: other,
      why: `${target} reaches DNS endpoint ${other.chosen} (${other.reason}); sent to ${picked.chosen} it ${ends(picked)}, so some of the pod's lookups fail`,
      endpoints,
    };
  return { reaches: false, partial: false, query: picked, why: `${target} ${ends(picked)}`, endpoints };
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
      why: `pod ${pod.metadata.namespace ?? "default"}/${pod.metadata.name} has no address (${noAddressReason(pod)}): it sends no query`,
    };
  }
  const exchange = dnsExchange(net, { kind: "pod", pod });
  return { ...resolve(net.state, zone, pod, name, type, exchange), exchange };
}

/**
 * A destination written as a name, as `trace --to NAME[:PORT]` and `explain` take it from a pod:
 * `resolved` with the address the pod's resolver gets (the first A record), or not, with the reason.
 * Either way `resolution` is `resolveFrom`'s — the same queries, answers and DNS exchange that
 * `podnet resolve` shows — so the queries displayed, the answer and the verdict come from one place.
 */
export type NameDestination =
  | {
      resolved: true;
      name: string;
      /** The first A record: where the connection goes. */
      address: string;
      /** Every distinct A record, in answer order (a headless Service's name: each ready endpoint). */
      addresses: string[];
      port?: string;
      resolution: Resolution;
    }
  | { resolved: false; name: string; reason: string; resolution: Resolution };

/**
 * `to` (`NAME` or `NAME:PORT`, PORT a number or a port name) resolved from `pod` on the network
 * (`resolveFrom`, type A). Undefined when `to` is not a name: `ns/pod`, `node/NAME`, an IPv4
 * address, or empty. Unresolved when the DNS query does not reach a DNS pod (the reason names where
 * it ends) or when every query the resolver sends is answered without an address.
 */
export function resolveDestinationName(
  net: Network,
  pod: Pod,
  to: string,
  opts: { zone?: ClusterZone } = {},
): NameDestination | undefined {
  const m = /^(.*?)(?::([A-Za-z0-9-]+))?$/.exec(to)!;
  const name = m[1];
  if (name === "" || name.includes("/") || parseIPv4(name) !== undefined) return undefined;
  const resolution = resolveFrom(net, pod, name, "A", opts);
  const addresses = [
    ...new Set(
      resolution.result?.answer.answers.flatMap((a) => (a.type === "A" ? [String(a.data)] : [])) ?? [],
    ),
  ];
  if (addresses.length > 0)
    return {
      resolved: true,
      name,
      address: addresses[0],
      addresses,
      ...(m[2] ? { port: m[2] } : {}),
      resolution,
    };
  const query = resolution.exchange?.query;
  if (resolution.exchange && !resolution.exchange.reaches && query)
    return {
      resolved: false,
      name,
      reason: `the name cannot be resolved: the DNS query does not arrive (${query.verdict}: ${query.reason}), so no connection is made`,
      resolution,
    };
  const last = resolution.queries.at(-1);
  const n = resolution.queries.length;
  const asked = last
    ? ` (${n} quer${n === 1 ? "y" : "ies"}, the last ${last.answer.rcode}: ${last.answer.why})`
    : ` (${resolution.why})`;
  return {
    resolved: false,
    name,
    reason: `"${name}" does not resolve from ${pod.metadata.namespace}/${pod.metadata.name}${asked}; podnet resolve shows each query`,
    resolution,
  };
}
