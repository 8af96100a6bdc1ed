/**
 * Name resolution as a pod does it: the resolv.conf kubelet writes for the pod, and the stub
 * resolver's walk over it (glibc's res_search), each query answered by the cluster zone (./zone.ts).
 *
 * kubelet (pkg/kubelet/network/dns):
 *   ClusterFirst (the default)     nameserver <dnsServiceIP>; search <ns>.svc.<zone> svc.<zone> <zone>
 *                                  plus the node's search list; options ndots:5. A hostNetwork pod
 *                                  gets Default instead.
 *   ClusterFirstWithHostNet        ClusterFirst, for hostNetwork pods too
 *   Default                        the node's resolv.conf (podnet's nodes have none: no nameserver)
 *   None                           nothing but dnsConfig
 *   then dnsConfig: nameservers and searches appended (duplicates dropped), options merged by name
 *   (the pod's value wins); at most 3 nameservers and 32 search domains (2048 characters) are kept.
 *
 * glibc: a name ending in "." is asked as is, once. Otherwise, with at least ndots dots it is asked as
 * is first, then with each search domain; with fewer, the search domains come first and the name as
 * is last. NXDOMAIN and an empty answer move on to the next candidate; the first answer wins. A
 * nameserver that refuses, fails, cannot be reached or does not answer is followed by the next one;
 * when all of them did, the walk goes on only after a SERVFAIL, and stops otherwise (glibc's
 * res_search: TRY_AGAIN ends the search unless the last answer's rcode was SERVFAIL).
 *
 * Whether the cluster DNS hears the query at all is the network's business (./exchange.ts): a query
 * that does not reach a DNS pod gets no answer (TIMEOUT).
 */
import type { ClusterState } from "../control/state.ts";
import type { Pod, Service } from "../model/k8s.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import type { DnsExchange } from "./exchange.ts";
import type { ClusterZone, DnsAnswer, Rcode } from "./zone.ts";

export const MAX_NAMESERVERS = 3;
export const MAX_SEARCH_DOMAINS = 32;
export const MAX_SEARCH_CHARS = 2048;

export interface ResolvConf {
  /** The dnsPolicy in effect (after the hostNetwork fallback). */
  policy: "ClusterFirst" | "ClusterFirstWithHostNet" | "Default" | "None";
  nameservers: string[];
  search: string[];
  options: { name: string; value?: string }[];
  /** What kubelet changed or dropped, and why. */
  notes: string[];
}

export interface DnsConfig {
  nameservers?: string[];
  searches?: string[];
  options?: { name: string; value?: string }[];
}

/** The Service at the cluster's DNS address (dnsServiceIP), if any: without it, pods resolve nothing. */
export function clusterDnsService(state: ClusterState): Service | undefined {
  const dns = formatIPv4(state.config.dnsServiceIP);
  return state.services.find((s) => s.spec.clusterIP === dns);
}

export function podResolvConf(state: ClusterState, pod: Pod): ResolvConf {
  const zone = state.config.clusterDomain;
  const ns = pod.metadata.namespace ?? "default";
  const asked = (pod.spec.dnsPolicy as ResolvConf["policy"] | undefined) ?? "ClusterFirst";
  const notes: string[] = [];
  let policy = asked;
  if (asked === "ClusterFirst" && pod.spec.hostNetwork) {
    policy = "Default";
    notes.push(
      "dnsPolicy ClusterFirst on a hostNetwork pod falls back to Default (use ClusterFirstWithHostNet)",
    );
  }
  let nameservers: string[] = [];
  let search: string[] = [];
  let options: ResolvConf["options"] = [];
  if (policy === "ClusterFirst" || policy === "ClusterFirstWithHostNet") {
    nameservers = [formatIPv4(state.config.dnsServiceIP)];
    search = [`${ns}.svc.${zone}`, `svc.${zone}`, zone];
    options = [{ name: "ndots", value: "5" }];
  } else if (policy === "Default") notes.push("the node's resolv.conf is used, and podnet's nodes have none");
  const cfg = pod.spec.dnsConfig as DnsConfig | undefined;
  if (cfg) {
    nameservers = unique([...nameservers, ...(cfg.nameservers ?? [])]);
    search = unique([...search, ...(cfg.searches ?? [])]);
    for (const o of cfg.options ?? []) {
      const at = options.findIndex((x) => x.name === o.name);
      if (at >= 0) options[at] = o;
      else options.push(o);
    }
  }
  if (nameservers.length > MAX_NAMESERVERS) {
    notes.push(
      `kubelet keeps the first ${MAX_NAMESERVERS} nameservers and drops ${nameservers.slice(MAX_NAMESERVERS).join(", ")}`,
    );
    nameservers = nameservers.slice(0, MAX_NAMESERVERS);
  }
  let chars = 0;
  const kept: string[] = [];
  for (const d of search) {
    if (kept.length === MAX_SEARCH_DOMAINS || chars + d.length + kept.length > MAX_SEARCH_CHARS) {
      notes.push(
        `kubelet cuts the search list to ${MAX_SEARCH_DOMAINS} domains and ${MAX_SEARCH_CHARS} characters, dropping ${d} and after`,
      );
      break;
    }
    kept.push(d);
    chars += d.length;
  }
  return { policy, nameservers, search: kept, options, notes };
}

export function formatResolvConf(rc: ResolvConf): string {
  const lines: string[] = [];
  if (rc.search.length) lines.push(`search ${rc.search.join(" ")}`);
  for (const n of rc.nameservers) lines.push(`nameserver ${n}`);
  if (rc.options.length)
    lines.push(
      `options ${rc.options.map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`)).join(" ")}`,
    );
  return lines.length ? `${lines.join("\n")}\n` : "";
}

export function ndotsOf(rc: ResolvConf): number {
  const v = rc.options.find((o) => o.name === "ndots")?.value;
  const n = v === undefined ? 1 : Number(v);
  return Number.isInteger(n) ? Math.min(Math.max(n, 0), 15) : 1;
}

/** The names the stub resolver asks, in order, for `name` (glibc's res_search). */
export function candidates(rc: ResolvConf, name: string): { names: string[]; why: string } {
  if (name.endsWith(".")) return { names: [name], why: `"${name}" ends with a dot: it is asked as is, once` };
  const dots = (name.match(/\./g) ?? []).length;
  const ndots = ndotsOf(rc);
  const searched = rc.search.map((d) => `${name}.${d}.`);
  if (dots >= ndots)
    return {
      names: [`${name}.`, ...searched],
      why: `"${name}" has ${dots} dot${dots === 1 ? "" : "s"}, at least ndots ${ndots}: it is asked as is first, then with each search domain`,
    };
  return {
    names: [...searched, `${name}.`],
    why: `"${name}" has ${dots} dot${dots === 1 ? "" : "s"}, fewer than ndots ${ndots}: each search domain first, then the name as is`,
  };
}

export interface Query {
  name: string;
  type: string;
  nameserver: string;
  /**
   * The answer. When the query does not reach the nameserver, no answer comes: rcode TIMEOUT (the
   * packet is dropped), or REJECTED (an ICMP error comes back, as kube-proxy's reject of a Service
   * without endpoints).
   */
  answer: Omit<DnsAnswer, "rcode"> & { rcode: Rcode | "TIMEOUT" | "REJECTED" };
}

export interface Resolution {
  resolvConf: ResolvConf;
  why: string;
  queries: Query[];
  /** The answer that ended the walk (NOERROR with records), or undefined. */
  result?: Query;
  /** The query's way to the cluster DNS, when resolved on the network (./exchange.ts resolveFrom). */
  exchange?: DnsExchange;
}

/**
 * Every query a pod sends for `name` and type `type`, with each answer. Only the cluster DNS
 * (`dnsServiceIP`) answers: another nameserver from dnsConfig is outside what podnet models, and the
 * answer says so (SERVFAIL). With `reach`, the cluster DNS answers only when its queries arrive
 * (`reach.reaches`); otherwise each query to it is a TIMEOUT (`reach.why` tells where it ends).
 */
export function resolve(
  state: ClusterState,
  zone: ClusterZone,
  pod: Pod,
  name: string,
  type = "A",
  reach?: { reaches: boolean; why: string; query?: { verdict: string } },
): Resolution {
  const rc = podResolvConf(state, pod);
  const { names, why } = candidates(rc, name);
  const queries: Query[] = [];
  const dns = formatIPv4(state.config.dnsServiceIP);
  const none = { answers: [], authority: [], additionals: [], authoritative: false };
  walk: for (const n of rc.nameservers.length ? names : []) {
    let last: Query | undefined;
    for (const server of rc.nameservers) {
      const answer: Query["answer"] =
        server !== dns
          ? {
              rcode: "SERVFAIL",
              ...none,
              why: `nameserver ${server} is outside the cluster: podnet does not know its answers`,
            }
          : reach && !reach.reaches
            ? reach.query?.verdict === "rejected"
              ? {
                  rcode: "REJECTED",
                  ...none,
                  why: "refused on the way (ICMP): the query does not reach a DNS pod",
                }
              : { rcode: "TIMEOUT", ...none, why: "no answer: the query does not reach a DNS pod" }
            : zone.lookup(n, type);
      last = { name: n, type, nameserver: server, answer };
      queries.push(last);
      if (answer.rcode === "NOERROR" && answer.answers.length > 0)
        return { resolvConf: rc, why, queries, result: last };
      // NXDOMAIN and NODATA are final for this name; a refusal, failure or silence tries the next nameserver.
      if (answer.rcode === "NXDOMAIN" || answer.rcode === "NOERROR") continue walk;
    }
    // Every nameserver failed this name: only a SERVFAIL lets the search go on.
    if (last && last.answer.rcode !== "SERVFAIL") break;
  }
  return {
    resolvConf: rc,
    why: rc.nameservers.length ? why : "the pod has no nameserver: nothing is asked",
    queries,
  };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
