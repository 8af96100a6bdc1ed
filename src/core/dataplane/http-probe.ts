/**
 * What `podnet probe --http` sends and what the simulator predicts for it. For every controller, every
 * listener and every (host, path) its router lists (`Router.listing()`), one request from the outside
 * client to the controller Service's load-balancer IP, and one from each of a few pods to its
 * ClusterIP. A prediction has two hops, each traced as `probe` traces Services (../sim/trace.ts,
 * per endpoint, with the reply):
 *
 *   client ──► controller Service ──► controller pod C   (which C may answer: their traces deliver)
 *   C: Router.decide(request) ──► proxyAction (./http.ts): its own status (404, 500/503, 503)
 *                              └► ClusterIP:port of the chosen backend ──► backend pod B (traces from C
 *                                 that deliver, with the client address B sees; none: 503)
 *
 * `judgeHttp` compares the real answer with it: the controller pod that handled the request (its
 * `x-podnet-controller` header) must be one the first hop allows; then the status must be the one
 * predicted for that pod, and for a relayed answer the backend pod and the client address it saw must
 * be among those the second hop allows. Pure.
 */
import type { ClusterState } from "../control/state.ts";
import type { Service } from "../model/k8s.ts";
import { parseIPv4 } from "../net/ipv4.ts";
import type { HttpListener, HttpRequest, RouteListing, Router } from "../routing/types.ts";
import { type ControllerStatuses, INGRESS_NGINX_STATUSES, upstreamFailure } from "../sim/http-trace.ts";
import { Network } from "../sim/network.ts";
import { type Source, type TraceResult, traceEachEndpoint } from "../sim/trace.ts";
import { proxyAction, proxyServices } from "./http.ts";
import { OUTSIDE_CLIENT } from "./outside.ts";
import { OUTSIDE_SOURCE } from "./probe.ts";

/** One controller as `probe --http` addresses it: its router, its pods and the Service in front of them. */
export interface HttpController {
  router: Router;
  /** The controller's Service (clients connect to its ClusterIP and load-balancer IPs). */
  service: Service;
  /** Per router listener, the Service port a client connects to for it. */
  listeners: { listener: HttpListener; servicePort: number }[];
  /**
   * The statuses it answers with itself (../sim/http-trace.ts `controllerStatuses`, the simulator's
   * and the proxy's). Default: ingress-nginx's.
   */
  statuses?: ControllerStatuses;
}

/** What a controller pod does with one request, as predicted. */
export interface ControllerOutcome {
  /** The status the client gets: the backend's 200, or the proxy's own. */
  status: number;
  /** For a relayed answer: per backend pod that may answer, the client address it sees. */
  backends: Map<string, string>;
  /** In words: the decision, and the backend hop's outcome. */
  why: string;
}

/** One HTTP request `probe --http` sends, with its prediction. */
export interface HttpProbeCase {
  id: number;
  /** `ns/pod`, or `outside`. */
  from: string;
  /** `http://shop.example.com/cart via 198.51.100.1:80 (ns/svc)`. */
  to: string;
  ip: string;
  port: number;
  request: HttpRequest;
  /** Per controller pod the first hop delivers to: what it does with the request. */
  controllers: Map<string, ControllerOutcome>;
  /** How many controller pods the Service sends to (the first hop's endpoints). */
  endpoints: number;
  /** Why the first hop delivers to none (or not to all), when it does not. */
  reason?: string;
}

export interface HttpProbeOptions {
  /** Requests from the outside client to each load-balancer IP (the cluster has the outside network). */
  fromOutside?: boolean;
  /** How many pods send requests to the controllers' ClusterIPs (the first by name, controllers excepted). Default 2. */
  podSources?: number;
  /** At most this many cases (the rest are left out, and `truncated` says how many). Default 5,000. */
  limit?: number;
  /** Which node(s) receive a load-balancer IP from outside (the plan's placement). */
  entryNodes?: (service: Service, ip: string) => string[];
}

/** A concrete host for a listing's host: `*.example.com` → `probe.example.com`; none → the listener's, or `podnet.test`. */
export function concreteHost(host: string | undefined, listener?: HttpListener): string {
  const h = host ?? listener?.hostname ?? "podnet.test";
  return h.startsWith("*.") ? `probe.${h.slice(2)}` : h.toLowerCase();
}

/**
 * A request that a listing's path (`Prefix /cart`, `Exact /`, `PathPrefix /api`, `any`, then matches
 * in words) leads to: the path as given (a prefix is a path of its own), `/` for `any`; a
 * RegularExpression's pattern is not turned into a path (the request goes to `/`, and the router says
 * what that meets). Header matches written `header NAME=VALUE` / `NAME: VALUE`, query `query K=V`,
 * method `method M` are added; anything else is left out — the prediction asks the router about the
 * request actually sent, so a request that misses the rule is judged all the same.
 */
export function listingRequest(
  l: RouteListing,
  listener: HttpListener,
): Pick<HttpRequest, "host" | "path" | "query" | "method" | "headers"> {
  const words = l.path.trim();
  const m = /^(Exact|Prefix|PathPrefix|ImplementationSpecific)\s+(\/\S*)/.exec(words);
  const path = m ? m[2] : "/";
  const headers: [string, string][] = [];
  for (const h of words.matchAll(/header\s+([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(?:=|:)\s*([^\s,;]+)/g))
    headers.push([h[1], h[2]]);
  const query: [string, string][] = [];
  for (const q of words.matchAll(/query\s+([^\s=,;]+)\s*=\s*([^\s,;]+)/g)) query.push([q[1], q[2]]);
  const method = /method\s+([A-Z]+)/.exec(words)?.[1] ?? "GET";
  return { host: concreteHost(l.host, listener), path, query, method, headers };
}

/** The path and query of a request as sent (`/cart?a=1`). */
export function requestTarget(r: Pick<HttpRequest, "path" | "query">): string {
  if (r.query.length === 0) return r.path;
  return `${r.path}?${r.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`;
}

/** Delivered traces' pods and the client address each sees; why the others do not deliver, and the first of them. */
function delivering(traces: TraceResult[]): {
  pods: Map<string, string>;
  reason?: string;
  failed?: TraceResult;
} {
  const pods = new Map<string, string>();
  let reason: string | undefined;
  let failed: TraceResult | undefined;
  for (const r of traces) {
    // A reply to the outside leaves the node (`forwarded`) with the client receiving it (`delivered` set).
    const back = r.reply === undefined || r.reply.verdict === "delivered" || r.reply.delivered !== undefined;
    if (r.verdict === "delivered" && r.delivered?.pod && back)
      pods.set(r.delivered.pod, r.delivered.seenSource.split(":")[0]);
    else {
      reason ??= `${r.verdict}: ${back ? r.reason : `the answer does not come back: ${r.reply!.reason}`}`;
      failed ??= r;
    }
  }
  return { pods, ...(reason ? { reason } : {}), ...(failed ? { failed } : {}) };
}

/** Every case of `probe --http` for these controllers, and how many were left out by `limit`. */
export function httpProbeCases(
  state: ClusterState,
  controllers: readonly HttpController[],
  opts: HttpProbeOptions = {},
): { cases: HttpProbeCase[]; truncated: number } {
  const net = new Network(state);
  const services = proxyServices(state);
  const limit = opts.limit ?? 5000;
  const cases: HttpProbeCase[] = [];
  let truncated = 0;
  const podByKey = new Map(state.pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
  const controllerPods = new Set<string>();
  // Which controller pods a Service's endpoints are: the first hop's candidates.
  for (const c of controllers)
    for (const s of state.endpointSlices)
      if (
        s.metadata.namespace === c.service.metadata.namespace &&
        s.metadata.labels?.["kubernetes.io/service-name"] === c.service.metadata.name
      )
        for (const e of s.endpoints)
          if (e.targetRef?.kind === "Pod") controllerPods.add(`${e.targetRef.namespace}/${e.targetRef.name}`);
  const sources: { from: string; source: (ip: string, svc: Service) => Source[] }[] = [];
  const podSources = state.pods
    .filter(
      (p) =>
        p.status?.podIP &&
        !p.spec.hostNetwork &&
        p.status.phase !== "Succeeded" &&
        p.status.phase !== "Failed" &&
        !controllerPods.has(`${p.metadata.namespace}/${p.metadata.name}`),
    )
    .map((p) => ({ key: `${p.metadata.namespace}/${p.metadata.name}`, pod: p }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, opts.podSources ?? 2);
  for (const { key, pod } of podSources) sources.push({ from: key, source: () => [{ kind: "pod", pod }] });
  const nodeByName = new Map(state.nodes.map((n) => [n.name, n]));
  // Per controller pod and request: its outcome (the same for every source: the second hop starts at C).
  const outcomes = new Map<string, ControllerOutcome>();
  const outcomeOf = (c: HttpController, podKey: string, req: HttpRequest): ControllerOutcome => {
    const memo = `${podKey} ${req.scheme} ${req.port} ${req.host} ${requestTarget(req)} ${req.method} ${JSON.stringify(req.headers)}`;
    const known = outcomes.get(memo);
    if (known) return known;
    const d = c.router.decide(req);
    const statuses = c.statuses ?? INGRESS_NGINX_STATUSES;
    const action = proxyAction(services, d, statuses);
    let out: ControllerOutcome;
    const pod = podByKey.get(podKey);
    if (action.kind === "answer") out = { status: action.status, backends: new Map(), why: action.why };
    else if (!pod)
      out = {
        status: statuses.timeout,
        backends: new Map(),
        why: `controller pod ${podKey} is not in the cluster`,
      };
    else {
      const { first, traces } = traceEachEndpoint(
        net,
        {
          source: { kind: "pod", pod },
          dst: parseIPv4(action.address.ip)!,
          dport: action.address.port,
          protocol: "TCP",
        },
        { reply: true },
      );
      const hop = delivering(traces.length ? traces : [first]);
      const to = `${action.backend.namespace}/${action.backend.service}:${action.address.port}`;
      // No backend answers: the simulator's status for the failure (../sim/http-trace.ts `upstreamFailure`).
      const f = hop.pods.size ? undefined : upstreamFailure(statuses, hop.failed ?? first);
      out = f
        ? { status: f.status, backends: new Map(), why: `→ ${to}: no backend answers (${f.why})` }
        : { status: 200, backends: hop.pods, why: `${d.outcome === "routed" ? d.matched : ""} → ${to}` };
    }
    outcomes.set(memo, out);
    return out;
  };
  const add = (
    c: HttpController,
    from: string,
    srcs: Source[],
    ip: string,
    port: number,
    request: HttpRequest,
    svcName: string,
  ) => {
    if (cases.length >= limit) {
      truncated++;
      return;
    }
    const controllersAt = new Map<string, ControllerOutcome>();
    let endpoints = 0;
    let reason: string | undefined;
    for (const source of srcs) {
      const { first, traces } = traceEachEndpoint(
        net,
        { source, dst: parseIPv4(ip)!, dport: port, protocol: "TCP" },
        { reply: true },
      );
      const all = traces.length ? traces : [first];
      endpoints += all.length;
      const hop = delivering(all);
      reason ??= hop.reason;
      for (const podKey of hop.pods.keys()) controllersAt.set(podKey, outcomeOf(c, podKey, request));
    }
    if (srcs.length === 0) reason = "no node receives the load-balancer IP";
    cases.push({
      id: cases.length,
      from,
      to: `${request.scheme}://${request.host}${requestTarget(request)} via ${ip}:${port} (${svcName})`,
      ip,
      port,
      request,
      controllers: controllersAt,
      endpoints: Math.max(endpoints, 1),
      ...(reason ? { reason } : {}),
    });
  };
  for (const c of controllers) {
    const svc = c.service;
    const svcName = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const listing = c.router.listing();
    for (const { listener, servicePort } of c.listeners) {
      for (const entry of listing) {
        const base = listingRequest(entry, listener);
        const request: HttpRequest = {
          scheme: listener.protocol === "HTTPS" ? "https" : "http",
          port: listener.port,
          ...base,
          headers: [["Host", base.host], ...base.headers],
        };
        if (opts.fromOutside)
          for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
            if (!ing.ip || parseIPv4(ing.ip) === undefined) continue;
            const entries = (opts.entryNodes?.(svc, ing.ip) ?? [])
              .map((n) => nodeByName.get(n))
              .filter((n) => n !== undefined);
            const srcs: Source[] = entries.map((node) => ({
              kind: "external",
              ip: parseIPv4(OUTSIDE_CLIENT)!,
              node,
            }));
            add(c, OUTSIDE_SOURCE, srcs, ing.ip, servicePort, request, svcName);
          }
        const vip = svc.spec.clusterIP;
        if (vip && vip !== "None")
          for (const s of sources) add(c, s.from, s.source(vip, svc), vip, servicePort, request, svcName);
      }
    }
  }
  return { cases, truncated };
}

/** What a real request got: the status, the controller pod that handled it, and the backend's JSON. */
export interface HttpKernelResult {
  ok: boolean;
  answer?: { status?: number; controller?: string; pod?: string; client?: string };
  error?: string;
}

export interface HttpJudgement {
  agree: boolean;
  kernel: string;
  simulator: string;
}

/** Compare one real request with its prediction (see the header). */
export function judgeHttp(c: HttpProbeCase, k: HttpKernelResult): HttpJudgement {
  const a = k.answer ?? {};
  const kernel = !k.ok
    ? `no answer (${k.error ?? "?"})`
    : `${a.status ?? "?"} from ${a.controller ?? "?"}${a.pod ? `, answered by ${a.pod}, client ${a.client ?? "?"}` : ""}`;
  const simulator =
    c.controllers.size === 0
      ? `no controller pod answers${c.reason ? `: ${c.reason}` : ""}`
      : [...c.controllers]
          .map(
            ([pod, o]) =>
              `${pod}: ${o.status}${o.backends.size ? ` by ${[...o.backends].map(([b, ip]) => `${b} seeing ${ip}`).join(" or ")}` : ""} (${o.why})`,
          )
          .join("; ");
  if (!k.ok) return { agree: c.controllers.size < c.endpoints, kernel, simulator };
  const want = a.controller ? c.controllers.get(a.controller) : undefined;
  if (!want || a.status !== want.status) return { agree: false, kernel, simulator };
  if (want.backends.size === 0) return { agree: a.pod === undefined, kernel, simulator };
  const seen = a.pod ? want.backends.get(a.pod) : undefined;
  return { agree: seen !== undefined && (a.client ?? "").split(":")[0] === seen, kernel, simulator };
}
