/**
 * An HTTP request from outside (or from a pod) traced the whole way, as the third reference article
 * follows it: the host's address → the node the load balancer delivers it to and why
 * (../control/load-balancers.ts) → kube-proxy → the controller pod (NetworkPolicy at its ingress) →
 * the controller's routing decision (which rule of which Ingress or HTTPRoute matched, and why the
 * others did not: ../routing/types.ts `Router.decide`) → the controller's own connection to the
 * backend Service → kube-proxy → the backend pod (policy at the controller's egress and the backend's
 * ingress) → the reply. The two TCP legs are `trace()` (./trace.ts); this file only composes them.
 *
 * The address of a host: an Ingress whose rules name the host and whose `status.loadBalancer.ingress`
 * gives an IP, else the LoadBalancer IP of the Service in front of the controller that routes the host
 * (../control/ingress-controllers.ts); a host written as an IPv4 address is that address. A
 * controller routes a host when its router's decision for the request is not "no rule matched"; when
 * no controller routes it and the cluster has one controller, that one answers (404).
 *
 * The HTTP status a controller answers with when it does not proxy the request: 404 when no rule
 * matches, 500 for a backend the route cannot resolve, 503 for a backend Service without endpoints
 * (the router's decision); when the controller's connection to the backend fails, ingress-nginx
 * answers 502 for a refused connection and 504 when it times out (a dropped SYN) — nginx's
 * ngx_http_upstream `NGX_HTTP_BAD_GATEWAY` / `NGX_HTTP_GATEWAY_TIME_OUT` — and Envoy answers 503
 * ("upstream connect error", envoyproxy/envoy source/common/router/router.cc).
 */
import { type ControllerInstance, controllerInstance } from "../control/ingress-controllers.ts";
import { announcementFor, entryNode } from "../control/load-balancers.ts";
import type { Pod, Service } from "../model/k8s.ts";
import { formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import { hostMatches } from "../routing/router.ts";
import type { HttpBackend, HttpRequest, RouteDecision, Router } from "../routing/types.ts";
import type { Network } from "./network.ts";
import { type Source, type TraceResult, trace } from "./trace.ts";

/** What `podnet trace --to http://…` asks: the URL's parts, headers and method. */
export interface HttpTraceRequest {
  source: Source;
  request: HttpRequest;
  /**
   * Where the client connects: the URL's host, lower-case (curl connects there whatever `Host:` says),
   * an IPv4 address (a controller Service's load-balancer IP or ClusterIP, or a node's address with
   * the Service's nodePort as the port) or a name (placed at the controller that serves it). Default:
   * `request.host`.
   */
  connect?: string;
  /**
   * An outside source's entry node was chosen by the user (`--node`): it enters there, not where the
   * load balancer announces the address (as the TCP trace does).
   */
  entryForced?: boolean;
  /** Also trace each leg's reply back through connection tracking. */
  reply?: boolean;
}

/**
 * How the request ends:
 * - `delivered`: the controller proxied it and the backend pod received it (its status is its own);
 * - `http-error`: the controller answered itself with `status` (404, 500, 502, 503, 504);
 * - `dropped` / `rejected`: the client's connection to the controller never got there (no HTTP at all);
 * - `unrouted`: no controller serves the host's address (nothing answers HTTP there).
 */
export type HttpVerdict = "delivered" | "http-error" | "dropped" | "rejected" | "unrouted";

export interface HttpTraceResult {
  verdict: HttpVerdict;
  /** The status the controller answers with itself (http-error); undefined when the backend answers. */
  status?: number;
  reason: string;
  request: HttpRequest;
  /** The host's address and why (`shop.example.com → 198.51.100.2: the LoadBalancer IP of Service …`). */
  address: { ip: string; port: number; why: string };
  /** The controller that received the connection: its key, implementation, pods and Service. */
  controller?: {
    key: ControllerInstance["key"];
    implementation: string;
    supplied: boolean;
    service?: string;
    pod?: string;
    why: string;
  };
  /** The client's TCP connection to the controller (to the address, through kube-proxy). */
  toController: TraceResult;
  decision?: RouteDecision;
  /** The Service port the controller connects to (the decision's chosen backend, resolved). */
  backend?: { service: string; port: number; clusterIP: string; why: string };
  /** The controller pod's own TCP connection to the backend Service. */
  toBackend?: TraceResult;
}

/** A bad request (the CLI exits 2 with it): what is wrong and how to fix it. */
export interface HttpTraceError {
  error: string;
}

type Candidate = { router: Router; instance: ControllerInstance };

function routes(d: RouteDecision): boolean {
  return d.outcome !== "not-found";
}

/**
 * Whether a router has a rule for `host`: named (exact, or a wildcard as the API reads it: one label
 * for Ingress, any number for Gateway API) when `named`, else a rule for any host.
 */
function servesHost(router: Router, host: string, named: boolean): boolean {
  const wildcard = router.controller.kind === "IngressClass" ? "label" : "suffix";
  return router
    .listing()
    .some((l) =>
      named ? l.host !== undefined && hostMatches(l.host, host, wildcard) : l.host === undefined,
    );
}

function svcId(s: Service): string {
  return `${s.metadata.namespace}/${s.metadata.name}`;
}

function podId(p: Pod): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}

function lbIP(s: Service | undefined): string | undefined {
  return s?.status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip;
}

/**
 * Where the request goes: the controller (router + pods) and the address the client connects to, or
 * an error naming the fix.
 */
function locate(
  net: Network,
  routers: readonly Router[],
  req: HttpRequest,
  connect: string,
):
  | { ok: true; cand: Candidate; ip: IPv4; routePort: number; why: string }
  | { ok: false; error: string; unrouted?: boolean } {
  const state = net.state;
  const cands: Candidate[] = routers.map((router) => ({
    router,
    instance: controllerInstance(state, router.controller),
  }));
  const literal = parseIPv4(connect);
  if (literal !== undefined) {
    const lb = cands.find((c) => lbIP(c.instance.service) === connect);
    if (lb)
      return {
        ok: true,
        cand: lb,
        ip: literal,
        routePort: req.port,
        why: `${connect} is the load-balancer IP of Service ${svcId(lb.instance.service!)}`,
      };
    const cluster = cands.find((c) => c.instance.service?.spec.clusterIP === connect);
    if (cluster)
      return {
        ok: true,
        cand: cluster,
        ip: literal,
        routePort: req.port,
        why: `${connect} is the ClusterIP of Service ${svcId(cluster.instance.service!)}`,
      };
    // A node's address and a nodePort of a controller's Service: kube-proxy sends it to the controller,
    // which sees the Service port's target (its listener), so the request is routed as on that port.
    const node = state.nodes.find((n) => n.ips.includes(literal));
    if (node) {
      for (const c of cands) {
        const sp = c.instance.service?.spec.ports?.find((p) => p.nodePort === req.port);
        if (sp)
          return {
            ok: true,
            cand: c,
            ip: literal,
            routePort: sp.port,
            why: `${connect} is node ${node.name}'s address and ${req.port} the nodePort of Service ${svcId(c.instance.service!)} port ${sp.port}`,
          };
      }
    }
    const known = cands
      .flatMap((c) => {
        const s = c.instance.service;
        if (!s) return [];
        const np = (s.spec.ports ?? []).flatMap((p) =>
          p.nodePort ? [`a node's address:${p.nodePort}`] : [],
        );
        return [lbIP(s), s.spec.clusterIP, ...np].filter((x): x is string => !!x && x !== "None");
      })
      .join(", ");
    return {
      ok: false,
      unrouted: true,
      error: `${connect}:${req.port} is no address of an Ingress or Gateway controller's Service (${known || "none has one"})`,
    };
  }
  if (cands.length === 0)
    return {
      ok: false,
      error: `no Ingress or Gateway in the input routes HTTP, so nothing answers for ${req.host}`,
    };
  const named = connect === req.host ? req : { ...req, host: connect };
  // A controller with a rule naming the host comes first (its address is where the host's DNS
  // points), then one whose rules route this request anyway (a rule for any host, a catch-all
  // defaultBackend), then one with a rule for any host.
  const claiming = [
    ...new Set([
      ...cands.filter((c) => servesHost(c.router, connect, true)),
      ...cands.filter((c) => routes(c.router.decide(named))),
      ...cands.filter((c) => servesHost(c.router, connect, false)),
    ]),
  ];
  const cand = claiming[0] ?? (cands.length === 1 ? cands[0] : undefined);
  if (!cand)
    return {
      ok: false,
      error: `no Ingress or HTTPRoute serves host ${connect} on port ${req.port}, and the cluster has ${cands.length} controllers: write the controller's address in the URL (http://<load-balancer IP>/…) with -H 'Host: ${req.host}'`,
    };
  // An Ingress of this controller that names the host and states its address (status.loadBalancer).
  for (const ing of state.ingresses) {
    const spec = (ing as { spec?: { rules?: { host?: string }[] } }).spec;
    const status = (ing as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }).status;
    const ip = status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip;
    if (!ip || !spec?.rules?.some((r) => r.host === connect)) continue;
    const parsed = parseIPv4(ip);
    if (parsed !== undefined)
      return {
        ok: true,
        cand,
        ip: parsed,
        routePort: req.port,
        why: `${connect} → ${ip}: the address Ingress ${ing.metadata.namespace}/${ing.metadata.name}'s status.loadBalancer gives`,
      };
  }
  const ip = lbIP(cand.instance.service);
  if (ip === undefined)
    return {
      ok: false,
      error: `${cand.instance.why}; it has no LoadBalancer Service with an address, so ${connect} has no address outside the cluster`,
    };
  const also =
    claiming.length > 1 ? ` (${claiming.length} controllers claim this host; the first is taken)` : "";
  return {
    ok: true,
    cand,
    ip: parseIPv4(ip)!,
    routePort: req.port,
    why: `${connect} → ${ip}: the load-balancer IP of Service ${svcId(cand.instance.service!)}, in front of the controller that routes the host${also}`,
  };
}

/** The Service and port number a backend names (by number, or by a Service port's name). */
function backendService(
  net: Network,
  b: HttpBackend,
): { ok: true; svc: Service; port: number; ip: IPv4 } | { ok: false; why: string } {
  const svc = net.state.services.find(
    (s) => s.metadata.namespace === b.namespace && s.metadata.name === b.service,
  );
  if (!svc) return { ok: false, why: `Service ${b.namespace}/${b.service} does not exist` };
  const sp = (svc.spec.ports ?? []).find((p) =>
    typeof b.port === "number" ? p.port === b.port : p.name === b.port,
  );
  if (!sp) return { ok: false, why: `Service ${svcId(svc)} has no port ${b.port}` };
  const ip = parseIPv4(svc.spec.clusterIP ?? "");
  if (ip === undefined) return { ok: false, why: `Service ${svcId(svc)} has no IPv4 ClusterIP (headless)` };
  return { ok: true, svc, port: sp.port, ip };
}

/**
 * The statuses a controller answers with itself when it cannot relay a routed request, by
 * implementation (see the header): the one definition the simulator, `probe --http`'s prediction and
 * the data plane's reverse proxy (../dataplane/http.ts) share.
 */
export interface ControllerStatuses {
  /** The rule names a Service or port that does not exist (Gateway API: 500; ingress-nginx: 503). */
  missingBackend: number;
  /** The backend Service has no ready endpoint (both: 503). */
  noEndpoints: number;
  /** The connection to the backend is refused (ingress-nginx: 502; Envoy: 503). */
  refused: number;
  /** The connection to the backend times out, a dropped SYN (ingress-nginx: 504; Envoy: 503). */
  timeout: number;
}

/** ingress-nginx's statuses: nginx's NGX_HTTP_BAD_GATEWAY / NGX_HTTP_GATEWAY_TIME_OUT for upstream failures. */
export const INGRESS_NGINX_STATUSES: Readonly<ControllerStatuses> = Object.freeze({
  missingBackend: 503,
  noEndpoints: 503,
  refused: 502,
  timeout: 504,
});

/** Envoy's (a Gateway's) statuses: 500 for an unresolved backendRef, 503 "upstream connect error" otherwise. */
export const ENVOY_STATUSES: Readonly<ControllerStatuses> = Object.freeze({
  missingBackend: 500,
  noEndpoints: 503,
  refused: 503,
  timeout: 503,
});

/** The statuses of a controller: Envoy's for a Gateway or an Envoy implementation, else ingress-nginx's. */
export function controllerStatuses(
  instance: Pick<ControllerInstance, "implementation" | "key">,
): Readonly<ControllerStatuses> {
  const envoy = instance.implementation.includes("Envoy") || instance.key.kind === "Gateway";
  return envoy ? ENVOY_STATUSES : INGRESS_NGINX_STATUSES;
}

/**
 * The status a controller answers with when its connection to the backend (`t`, traced from the
 * controller pod to the Service's ClusterIP) does not get there, and why.
 */
export function upstreamFailure(
  statuses: Readonly<ControllerStatuses>,
  t: TraceResult,
): { status: number; why: string } {
  if (t.endpoints.length === 0 && t.service)
    return { status: statuses.noEndpoints, why: `Service ${t.service} has no endpoints` };
  if (t.verdict === "rejected")
    return {
      status: statuses.refused,
      why: `the controller's connection to the upstream is refused (${t.reason})`,
    };
  return {
    status: statuses.timeout,
    why: `the controller's connection to the upstream times out (${t.verdict}: ${t.reason})`,
  };
}

/**
 * Traces one HTTP request. `routers`: every controller's compiled router (src/core/routing/router.ts
 * `compileRouter(routerSpecs(state))`). Returns an error (bad request) when the request cannot be
 * placed at all: no controller routes the host and several exist, or the host's controller has no
 * address.
 */
export function httpTrace(
  net: Network,
  routers: readonly Router[],
  q: HttpTraceRequest,
): HttpTraceResult | HttpTraceError {
  const where = locate(net, routers, q.request, q.connect ?? q.request.host);
  if (!where.ok) return { error: where.error };
  const { cand, ip, why } = where;
  const instance = cand.instance;
  let source = q.source;
  const dport = q.request.port;
  // The controller routes the request on the port it received it on: a nodePort's Service port.
  const req = where.routePort === dport ? q.request : { ...q.request, port: where.routePort };
  if (source.kind === "external" && !q.entryForced) source = enterAtLoadBalancer(net, source, ip, dport);
  const address = { ip: formatIPv4(ip), port: dport, why };
  const toController = trace(net, { source, dst: ip, dport, protocol: "TCP" }, { reply: q.reply });
  const controllerPod = toController.delivered?.pod;
  const controller = {
    key: instance.key,
    implementation: instance.implementation,
    supplied: instance.supplied,
    ...(instance.service ? { service: svcId(instance.service) } : {}),
    ...(controllerPod ? { pod: controllerPod } : {}),
    why: instance.why,
  };
  const base = { request: req, address, controller, toController };
  if (toController.verdict !== "delivered" || !controllerPod) {
    const verdict = toController.verdict === "rejected" ? "rejected" : "dropped";
    return {
      verdict,
      reason: `the connection to ${address.ip}:${dport} does not reach a controller pod (${toController.verdict}: ${toController.reason}): no HTTP is spoken`,
      ...base,
    };
  }
  if (!instance.pods.some((p) => podId(p) === controllerPod))
    return {
      verdict: "unrouted",
      reason: `${address.ip}:${dport} leads to pod ${controllerPod}, which is not a pod of the controller (${instance.why})`,
      ...base,
    };
  const decision = cand.router.decide(req);
  if (decision.outcome === "not-found")
    return {
      verdict: "http-error",
      status: 404,
      reason: `${instance.implementation} answers 404: no rule of ${keyWords(instance)} matches ${req.host}${req.path}`,
      ...base,
      decision,
    };
  if (decision.outcome === "backend-error")
    return {
      verdict: "http-error",
      status: decision.status,
      reason: `${instance.implementation} answers ${decision.status}: ${decision.reason}`,
      ...base,
      decision,
    };
  const statuses = controllerStatuses(instance);
  const b = backendService(net, decision.chosen);
  if (!b.ok)
    return {
      verdict: "http-error",
      status: statuses.missingBackend,
      reason: `${instance.implementation} answers ${statuses.missingBackend}: ${b.why}`,
      ...base,
      decision,
    };
  const pod = net.podByName.get(controllerPod)!;
  const backend = {
    service: svcId(b.svc),
    port: b.port,
    clusterIP: formatIPv4(b.ip),
    why: `the rule sends to Service ${svcId(b.svc)} port ${decision.chosen.port}${typeof decision.chosen.port === "string" ? ` (= ${b.port})` : ""}; the controller connects to its ClusterIP ${formatIPv4(b.ip)}:${b.port}`,
  };
  const toBackend = trace(
    net,
    { source: { kind: "pod", pod }, dst: b.ip, dport: b.port, protocol: "TCP" },
    { reply: q.reply },
  );
  if (toBackend.verdict !== "delivered" && toBackend.verdict !== "arrived") {
    const f = upstreamFailure(statuses, toBackend);
    return {
      verdict: "http-error",
      status: f.status,
      reason: `${instance.implementation} answers ${f.status}: ${f.why}`,
      ...base,
      decision,
      backend,
      toBackend,
    };
  }
  const at = toBackend.delivered?.pod ?? toBackend.reason;
  return {
    verdict: "delivered",
    reason: `${instance.implementation} (pod ${controllerPod}) routes ${req.host}${req.path} by ${decision.matched} to Service ${svcId(b.svc)}; pod ${at} receives the request from ${toBackend.delivered?.seenSource ?? "the controller"}`,
    ...base,
    decision,
    backend,
    toBackend,
  };
}

/**
 * An outside source sending to `dst`: when `dst` is a LoadBalancer IP, it enters at the node the
 * Cluster config's load-balancer mode announces it from (../control/load-balancers.ts; bgp: the
 * announcing node this flow hashes to), with the reason; when nothing announces it, the source says
 * so and the trace ends dropped. Any other destination: the source as given.
 */
export function enterAtLoadBalancer(
  net: Network,
  src: Extract<Source, { kind: "external" }>,
  dst: number,
  dport: number,
): Extract<Source, { kind: "external" }> {
  const a = announcementFor(net.state, formatIPv4(dst));
  if (!a) return src;
  const node = entryNode(a, `${formatIPv4(src.ip)}>${formatIPv4(dst)}:${dport}`);
  if (node === undefined) return { ...src, unannounced: a.reason };
  const entered = net.nodeByName.get(node)!;
  const entry = a.mode === "l2" ? a.reason : `${a.reason}; this flow hashes to node ${node}`;
  return { ...src, node: entered, entry };
}

function keyWords(i: ControllerInstance): string {
  const k = i.key;
  return k.kind === "IngressClass" ? `IngressClass ${k.name}` : `Gateway ${k.namespace}/${k.name}`;
}

/**
 * Parses what `trace --to` takes for HTTP: `http://host[:port]/path?query` or `https://…`, `-H 'Name:
 * value'` (repeatable; `Host:` replaces the URL's host in the request, as curl does, while the client
 * still connects to the URL's host: `connect`) and `-X METHOD`. The path is the
 * URL's, dot segments resolved as curl does without --path-as-is. Errors say what to write.
 */
export function parseHttpRequest(
  url: string,
  headers: readonly string[] = [],
  method = "GET",
): { ok: true; request: HttpRequest; connect: string } | { ok: false; option: string; message: string } {
  let u: URL;
  const port = /^[^/]*\/\/[^/?#]*:(\d+)(?:[/?#]|$)/.exec(url)?.[1];
  if (port !== undefined && (Number(port) > 65535 || Number(port) === 0))
    return {
      ok: false,
      option: "--to",
      message: `port ${port} in "${url}" is not a TCP port: write 1-65535`,
    };
  try {
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) throw new Error("no //");
    u = new URL(url);
  } catch {
    return {
      ok: false,
      option: "--to",
      message: `"${url}" is not a URL: write http://host/path or https://host/path`,
    };
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    return {
      ok: false,
      option: "--to",
      message: `${u.protocol.slice(0, -1)}:// is not traced as HTTP: write http:// or https://`,
    };
  const scheme = u.protocol === "https:" ? "https" : "http";
  if (!u.hostname) return { ok: false, option: "--to", message: `"${url}" has no host` };
  if (u.username || u.password)
    return {
      ok: false,
      option: "--to",
      message: "credentials in the URL are not sent as routing input: remove user:pass@",
    };
  const dport = u.port ? Number(u.port) : scheme === "https" ? 443 : 80;
  const list: [string, string][] = [];
  // A fully qualified name's trailing dot is no part of the host a rule matches (nginx strips it).
  const urlHost = u.hostname.toLowerCase().replace(/(?<=.)\.$/, "");
  let host = urlHost;
  for (const h of headers) {
    const i = h.indexOf(":");
    const name = i < 0 ? "" : h.slice(0, i).trim();
    if (i < 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      return { ok: false, option: "-H", message: `"${h}" is not a header: write -H 'Name: value'` };
    const value = h.slice(i + 1).trim();
    if (name.toLowerCase() === "host") {
      host = value
        .replace(/:\d+$/, "")
        .toLowerCase()
        .replace(/(?<=.)\.$/, "");
      if (!host)
        return {
          ok: false,
          option: "-H",
          message: `"${h}" names no host: write -H 'Host: name.example.com'`,
        };
      continue;
    }
    list.push([name, value]);
  }
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method))
    return { ok: false, option: "-X", message: `"${method}" is not an HTTP method: write e.g. GET or POST` };
  if (method !== method.toUpperCase())
    return {
      ok: false,
      option: "-X",
      message: `"${method}": methods are case-sensitive and routes match them upper-case; write ${method.toUpperCase()}`,
    };
  return {
    ok: true,
    connect: urlHost,
    request: {
      scheme,
      host,
      port: dport,
      path: u.pathname || "/",
      query: [...u.searchParams.entries()],
      method,
      headers: [["Host", host], ...list],
    },
  };
}

/** One request the demo follows from outside: the URL as a user would type it, and the request. */
export interface HttpTourRequest {
  title: string;
  url: string;
  request: HttpRequest;
}

/**
 * The requests `podnet demo` follows from outside: for the first Ingress controller and the first
 * Gateway that route anything, their first rule's host (a wildcard's `*` as `www`) and path (a Prefix
 * or Exact path as written; `/` for any other match), on the router's first listener's port.
 */
export function httpTourRequests(routers: readonly Router[]): HttpTourRequest[] {
  const out: HttpTourRequest[] = [];
  for (const kind of ["IngressClass", "Gateway"] as const) {
    for (const router of routers) {
      if (router.controller.kind !== kind) continue;
      const entry = router.listing().find((l) => l.host !== undefined);
      if (!entry?.host) continue;
      const host = entry.host.replace(/^\*\./, "www.");
      const written = /^(?:Prefix|Exact) (\/\S*)/.exec(entry.path)?.[1] ?? "/";
      const listener = router.listeners.find((l) => l.protocol === "HTTP") ?? router.listeners[0];
      const scheme = listener?.protocol === "HTTPS" ? "https" : "http";
      const port = listener?.port ?? 80;
      const url = `${scheme}://${host}${port === (scheme === "https" ? 443 : 80) ? "" : `:${port}`}${written}`;
      const parsed = parseHttpRequest(url);
      if (!parsed.ok) continue;
      const k = router.controller;
      const what = k.kind === "IngressClass" ? `IngressClass ${k.name}` : `Gateway ${k.namespace}/${k.name}`;
      out.push({
        title: `through ${what} (${entry.rule.kind} ${entry.rule.namespace}/${entry.rule.name})`,
        url,
        request: parsed.request,
      });
      break;
    }
  }
  return out;
}
