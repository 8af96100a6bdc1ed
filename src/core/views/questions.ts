/**
 * The questions `trace` and `explain` answer, asked in the words a user types (`--from`, `--to`,
 * `--protocol`, `--node`), answered as data. The CLI prints these answers (`-o json` is exactly
 * `answer`) and the web UI shows them, so both give the same answer by construction.
 *
 * Resolving the two ends: `from` is `ns/pod`, `node/NAME` or an IP; `to` is `ns/pod`, `node/NAME`,
 * an IP or a name, with `:PORT`. A name from a pod is resolved as that pod's resolver would, on the
 * network (../dns/exchange.ts `resolveDestinationName`, the function `podnet resolve` uses).
 */
import { resolveDestinationName } from "../dns/exchange.ts";
import { clusterDnsService, type Resolution } from "../dns/resolv.ts";
import type { Protocol } from "../model/k8s.ts";
import { parseIPv4 } from "../net/ipv4.ts";
import { INGRESS_CONTROLLER_NAME } from "../policy/connlist.ts";
import {
  type Explanation,
  explainConnection,
  explainFromIngressController,
  servicesAt,
} from "../sim/explain.ts";
import { realControllersTo } from "../sim/http-routers.ts";
import { enterAtLoadBalancer } from "../sim/http-trace.ts";
import type { Network } from "../sim/network.ts";
import { type Destination, resolveDestination, resolveSource } from "../sim/targets.ts";
import {
  type EndpointTrace,
  GETS_THERE,
  type Source,
  summarizeTraces,
  type TraceRequest,
  type TraceResult,
  trace,
  traceEachDestination,
} from "../sim/trace.ts";

/** A connection as a user names it (the options of `trace` and `explain`). */
export interface ConnectionQuestion {
  from: string;
  to: string;
  /** `tcp`, `udp`, `sctp` in any case; default: the port's. */
  protocol?: string;
  /** Where an outside source enters (default: the first node). */
  node?: string;
}

/** Both ends resolved, or why not. */
export type Ends =
  | { ok: true; src: Source; dst: Destination; dns?: Resolution }
  /** Bad input (the CLI exits 2): `option` is the option at fault, `message` says what and the fix. */
  | { ok: false; kind: "bad-input"; option: string; message: string }
  /**
   * The name does not resolve from the pod, or its DNS query does not arrive: the packet is never
   * sent (a finding, exit 1). `dnsUnreachable`: the query found no DNS pod to answer it.
   */
  | { ok: false; kind: "unresolved"; reason: string; resolution: Resolution; dnsUnreachable: boolean };

/** Resolves `from` and `to` against the network; never throws for bad input. */
export function resolveEnds(net: Network, q: ConnectionQuestion): Ends {
  const protocol = q.protocol ? (q.protocol.toUpperCase() as Protocol) : undefined;
  if (protocol && protocol !== "TCP" && protocol !== "UDP" && protocol !== "SCTP")
    return {
      ok: false,
      kind: "bad-input",
      option: "--protocol",
      message: `unknown protocol "${q.protocol}"; use tcp, udp or sctp`,
    };
  const src = resolveSource(net, q.from, q.node);
  if (!src.ok) return { ok: false, kind: "bad-input", option: src.option ?? "--from", message: src.message };
  // A name from a pod is resolved through the cluster DNS, when the cluster has one (a Service at
  // dnsServiceIP); without it a name is looked up directly, as from a node.
  const dns =
    src.value.kind === "pod" && clusterDnsService(net.state)
      ? resolveDestinationName(net, src.value.pod, q.to)
      : undefined;
  if (dns && !dns.resolved)
    return {
      ok: false,
      kind: "unresolved",
      reason: dns.reason,
      resolution: dns.resolution,
      dnsUnreachable: dns.resolution.exchange !== undefined && !dns.resolution.exchange.reaches,
    };
  const to = dns ? `${dns.address}${dns.port ? `:${dns.port}` : ""}` : q.to;
  const dst = resolveDestination(net, to, protocol);
  if (!dst.ok) return { ok: false, kind: "bad-input", option: "--to", message: dst.message };
  // An outside client sending to a load-balancer IP enters where the load balancer announces it,
  // unless --node says where.
  if (src.value.kind === "external" && q.node === undefined)
    src.value = enterAtLoadBalancer(net, src.value, dst.value.ip, dst.value.port);
  if (dns) {
    dst.value.label = `${dns.name} = ${dst.value.label}`;
    // Every address the name stands for, for --all-endpoints (each A record of the pod's answer).
    if (!dst.value.addresses && dns.addresses.length > 1)
      dst.value.addresses = dns.addresses.map((a) => parseIPv4(a)!);
  }
  return { ok: true, src: src.value, dst: dst.value, ...(dns ? { dns: dns.resolution } : {}) };
}

/**
 * A name's resolution as trace shows it: the resolver's queries and answers, and the trace of its
 * query to the cluster DNS (kept once, as `query`, not again inside the resolution).
 */
export interface DnsPart {
  resolution: Omit<Resolution, "exchange">;
  query?: TraceResult;
}

/** The resolution without its exchange, and the exchange's query trace beside it. */
export function dnsPartOf(r: Resolution): DnsPart {
  const { exchange, ...resolution } = r;
  return { resolution, ...(exchange ? { query: exchange.query } : {}) };
}

export interface TraceOptions {
  reply?: boolean;
  allEndpoints?: boolean;
  /** The client's port (1-65535); default: a stable ephemeral port. */
  sourcePort?: number;
}

/**
 * `podnet trace`'s answer. `answer` is what `-o json` prints: a TraceResult (plus `dns`); with
 * `allEndpoints` `{verdict, reason, endpoints, service?, masquerade, dns?, traces}`; for a name that
 * does not resolve `{verdict: "unresolved", reason, endpoints: [], masquerade: false, hops: [], dns}`.
 * `getsThere`: the exit status is 0. `heading` names the connection (`TCP default/pod1 → …:8080`).
 */
export type TraceAnswer =
  | { ok: false; kind: "bad-input"; option: string; message: string }
  | {
      ok: true;
      heading: string;
      getsThere: boolean;
      /** Set when the name did not resolve because no DNS pod answers (the CLI adds a note why). */
      dnsUnreachable?: boolean;
      dns?: DnsPart;
      /** The single trace (without `allEndpoints`), or undefined when unresolved. */
      single?: TraceResult;
      /** One trace per endpoint (with `allEndpoints`). */
      traces?: EndpointTrace[];
      answer: Record<string, unknown>;
    };

/** Resolves the question and traces it, as `podnet trace` does. */
export function traceQuestion(net: Network, q: ConnectionQuestion, opts: TraceOptions = {}): TraceAnswer {
  if (
    opts.sourcePort !== undefined &&
    (!Number.isInteger(opts.sourcePort) || opts.sourcePort < 1 || opts.sourcePort > 65535)
  )
    return {
      ok: false,
      kind: "bad-input",
      option: "--source-port",
      message: "must be a port number (1-65535)",
    };
  const ends = resolveEnds(net, q);
  if (!ends.ok && ends.kind === "bad-input") return ends;
  if (!ends.ok) {
    const dns = dnsPartOf(ends.resolution);
    return {
      ok: true,
      heading: `${q.from} → ${q.to}`,
      getsThere: false,
      dnsUnreachable: ends.dnsUnreachable,
      dns,
      answer: { verdict: "unresolved", reason: ends.reason, endpoints: [], masquerade: false, hops: [], dns },
    };
  }
  const { src, dst } = ends;
  const dns = ends.dns ? dnsPartOf(ends.dns) : undefined;
  const req: TraceRequest = {
    source: src,
    dst: dst.ip,
    dport: dst.port,
    protocol: dst.protocol,
    sport: opts.sourcePort,
  };
  const heading = `${dst.protocol} ${q.from} → ${dst.label}:${dst.port}`;
  if (!opts.allEndpoints) {
    const single = trace(net, req, { reply: opts.reply });
    return {
      ok: true,
      heading,
      getsThere: GETS_THERE.has(single.verdict),
      ...(dns ? { dns } : {}),
      single,
      answer: { ...single, ...(dns ? { dns } : {}) },
    };
  }
  const { first, traces } = traceEachDestination(net, req, { reply: opts.reply, addresses: dst.addresses });
  const summary = summarizeTraces(traces);
  return {
    ok: true,
    heading,
    getsThere: summary.getsThere,
    ...(dns ? { dns } : {}),
    traces,
    answer: {
      verdict: summary.verdict,
      reason: summary.reason,
      // A Service's endpoints, or the addresses a headless Service's name stands for.
      endpoints:
        first.endpoints.length || traces.length < 2 ? first.endpoints : traces.map((t) => t.endpoint),
      ...(first.service ? { service: first.service } : {}),
      masquerade: traces.some((t) => t.masquerade),
      ...(dns ? { dns } : {}),
      traces,
    },
  };
}

/**
 * `podnet explain`'s answer; `answer` is what `-o json` prints: `{from, to, port, protocol, allowed,
 * service?, routes?, controller?, explanations}`. `unresolved` (a name that does not resolve) is a finding.
 */
export type ExplainAnswer =
  | { ok: false; kind: "bad-input"; option: string; message: string }
  | {
      ok: false;
      kind: "unresolved";
      reason: string;
      resolution: Resolution;
      dnsUnreachable: boolean;
      /** What `-o json` prints: `{from, to, allowed: false, resolved: false, reason, explanations: []}`. */
      answer: { from: string; to: string; allowed: false; resolved: false; reason: string; explanations: [] };
    }
  | {
      ok: true;
      allowed: boolean;
      dst: Destination;
      service?: string;
      routes?: string[];
      /**
       * `--from {ingress-controller}`: the input's own controller pod (`ns/name`) explained from, when
       * it runs the controller of an Ingress that sends there (else the unknown controller's verdicts).
       */
      controller?: string;
      explanations: Explanation[];
      answer: {
        from: string;
        to: string;
        port: number;
        protocol: Protocol;
        allowed: boolean;
        service?: string;
        routes?: string[];
        controller?: string;
        explanations: Explanation[];
      };
    };

/** Resolves the question and explains it, as `podnet explain` does (also from `{ingress-controller}`). */
export function explainQuestion(net: Network, q: ConnectionQuestion): ExplainAnswer {
  let dst: Destination;
  let found: { service?: string; routes?: string[]; controller?: string; explanations: Explanation[] };
  if (q.from === INGRESS_CONTROLLER_NAME) {
    const protocol = q.protocol ? (q.protocol.toUpperCase() as Protocol) : undefined;
    const d = resolveDestination(net, q.to, protocol);
    if (!d.ok) return { ok: false, kind: "bad-input", option: "--to", message: d.message };
    dst = d.value;
    found = explainFromIngressController(net, dst);
    // The input runs the controller of an Ingress or HTTPRoute that sends there: explain from its pod,
    // as connlist lists that pod's own lines instead of `{ingress-controller}` (../sim/http-routers.ts).
    const real = realControllersTo(net.state, servicesAt(net, dst.ip));
    if (real.length > 0) {
      const { pod } = real[0];
      const name = `${pod.metadata.namespace}/${pod.metadata.name}`;
      found = {
        routes: [...new Set([...(found.routes ?? []), ...real.map((r) => r.route)])].sort(),
        controller: name,
        ...explainConnection(
          net,
          { source: { kind: "pod", pod }, dst: dst.ip, dport: dst.port, protocol: dst.protocol },
          dst.addresses,
        ),
      };
    }
  } else {
    const ends = resolveEnds(net, q);
    if (!ends.ok && ends.kind === "bad-input") return ends;
    if (!ends.ok)
      return {
        ...ends,
        answer: {
          from: q.from,
          to: q.to,
          allowed: false,
          resolved: false,
          reason: ends.reason,
          explanations: [],
        },
      };
    dst = ends.dst;
    // A headless Service's name stands for each of its pods: each address is explained.
    found = explainConnection(
      net,
      { source: ends.src, dst: dst.ip, dport: dst.port, protocol: dst.protocol },
      dst.addresses,
    );
  }
  const allowed = !found.explanations.some((e) => !e.allowed);
  return {
    ok: true,
    allowed,
    dst,
    ...found,
    answer: {
      from: q.from,
      to: dst.label,
      port: dst.port,
      protocol: dst.protocol,
      allowed,
      service: found.service,
      ...(found.routes ? { routes: found.routes } : {}),
      ...(found.controller ? { controller: found.controller } : {}),
      explanations: found.explanations,
    },
  };
}
