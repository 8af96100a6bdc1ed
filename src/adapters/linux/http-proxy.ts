/**
 * The request handling of the reverse proxy that runs in each controller pod (./reverse-proxy.ts):
 * every request is decided by the controller's `Router` (the one the simulator uses), then answered
 * by the proxy itself (404 when nothing matches, the decision's 500/503, and the controller's own
 * statuses — ../../core/sim/http-trace.ts `ControllerStatuses` — for a missing backend, one without
 * endpoints, a refused or timed-out connection) or forwarded over HTTP/1.1 to the chosen backend Service's ClusterIP:port, through
 * kube-proxy as a real controller's connection would go, and the backend's answer relayed.
 *
 * Every answer carries `x-podnet-controller: ns/pod` (which controller pod handled it: `probe --http`
 * judges it) and, when routed, `x-podnet-rule` (the rule that matched). Answers of the proxy's own
 * have a JSON body `{"controller","status","why"}`. The backend sees the proxy's own connection (its
 * client address is the controller pod's), with `x-forwarded-for`, `-proto` and `-host` set as
 * ingress-nginx and Envoy set them.
 */
import http from "node:http";
import net from "node:net";
import { Duplex } from "node:stream";
import { type ProxySpec, proxyAction } from "../../core/dataplane/http.ts";
import type { HttpRequest, Router, RuleRef } from "../../core/routing/types.ts";
import { INGRESS_NGINX_STATUSES } from "../../core/sim/http-trace.ts";

/** How a handler is set up: the proxy's spec, its compiled router, and the listener it serves. */
export interface ProxyHandlerOptions {
  spec: Pick<ProxySpec, "pod" | "services" | "statuses">;
  router: Pick<Router, "decide">;
  scheme: "http" | "https";
  /** The port the request arrives on, as the router knows the listener (80, 443, a Gateway listener's). */
  port: number;
  /** Bound on connecting to the backend and on waiting for its answer (ms). Default 3,000. */
  timeoutMs?: number;
}

/**
 * The request as the router sees it: Host header (lower-case, without its port; the TLS SNI name when
 * there is none), the path as sent (without the query), the query parameters in order, the method
 * and the headers in order.
 */
export function routerRequest(
  req: http.IncomingMessage,
  scheme: "http" | "https",
  port: number,
): HttpRequest {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? [] : [...new URLSearchParams(url.slice(q + 1))].map(([k, v]) => [k, v] as const);
  const hostHeader = req.headers.host || (req.socket as { servername?: string | false }).servername || "";
  const host = hostHeader
    .replace(/:\d+$/, "")
    .replace(/^\[(.*)\]$/, "$1")
    .toLowerCase();
  const headers: (readonly [string, string])[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
    headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  return { scheme, host, port, path, query, method: (req.method ?? "GET").toUpperCase(), headers };
}

/** `Ingress ns/name rule 0 path 1`, `HTTPRoute ns/name rule 2 match 0`, `… defaultBackend`. */
export function ruleText(r: RuleRef): string {
  const what =
    r.rule < 0 ? "defaultBackend" : `rule ${r.rule} ${r.kind === "Ingress" ? "path" : "match"} ${r.match}`;
  return `${r.kind} ${r.namespace}/${r.name} ${what}`;
}

/** The request handler of one listener (see the header). Never throws; every request is answered. */
export function proxyHandler(opts: ProxyHandlerOptions): http.RequestListener {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const pod = opts.spec.pod;
  const statuses = opts.spec.statuses ?? INGRESS_NGINX_STATUSES;
  const own = (res: http.ServerResponse, status: number, why: string, rule?: RuleRef) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `${JSON.stringify({ controller: pod, status, why })}\n`;
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "x-podnet-controller": pod,
      ...(rule ? { "x-podnet-rule": ruleText(rule) } : {}),
    });
    res.end(body);
  };
  return (req, res) => {
    let decision: ReturnType<Router["decide"]>;
    try {
      decision = opts.router.decide(routerRequest(req, opts.scheme, opts.port));
    } catch (e) {
      own(res, 500, `the router failed: ${(e as Error).message}`);
      return;
    }
    const rule = decision.outcome === "not-found" ? undefined : decision.rule;
    const action = proxyAction(opts.spec.services, decision, statuses);
    if (action.kind === "answer") {
      req.resume();
      own(res, action.status, action.why, rule);
      return;
    }
    const { ip, port } = action.address;
    const client = req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "";
    const prior = req.headers["x-forwarded-for"];
    const headers: http.OutgoingHttpHeaders = {
      ...req.headers,
      "x-forwarded-for": prior ? `${prior}, ${client}` : client,
      "x-forwarded-proto": opts.scheme,
      "x-forwarded-host": req.headers.host ?? "",
      connection: "close",
    };
    const upstream = http.request({
      host: ip,
      port,
      method: req.method,
      path: req.url,
      headers,
      agent: false,
    });
    let answered = false;
    const fail = (status: number, why: string) => {
      if (answered) return;
      answered = true;
      upstream.destroy();
      own(
        res,
        status,
        `upstream connect error or disconnect/reset before headers: ${why} (${ip}:${port})`,
        rule,
      );
    };
    // A refused connection (a reset, or kube-proxy's reject) is `statuses.refused`; anything that
    // does not answer in time (a dropped SYN) is `statuses.timeout`: ../../core/sim/http-trace.ts.
    const timer = setTimeout(() => fail(statuses.timeout, `no answer within ${timeoutMs} ms`), timeoutMs);
    upstream.on("error", (e) => {
      clearTimeout(timer);
      if (answered) {
        res.destroy();
        return;
      }
      const code = (e as NodeJS.ErrnoException).code ?? e.message;
      const refused = ["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET"].includes(code);
      fail(refused ? statuses.refused : statuses.timeout, code);
    });
    upstream.on("response", (up) => {
      clearTimeout(timer);
      if (answered) {
        up.resume();
        return;
      }
      answered = true;
      const out: http.OutgoingHttpHeaders = { ...up.headers, "x-podnet-controller": pod };
      if (rule) out["x-podnet-rule"] = ruleText(rule);
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
      up.on("error", () => res.destroy());
    });
    // The request line and headers go out at once: the backend listener tells HTTP from a plain probe
    // by the first bytes it gets, and waits for them only briefly (./listener.ts).
    upstream.flushHeaders();
    req.pipe(upstream);
    req.on("error", () => upstream.destroy());
  };
}

/**
 * Serve `server` (HTTP or HTTPS) on connections accepted by a plain TCP server, so that a client that
 * does not speak HTTP — `podnet probe`'s plain probes, which send a DNS query and wait for a line —
 * gets the identity line the pod listeners answer (`identity(client)`, ./listener.ts) instead of an
 * HTTP 400. A connection whose first bytes are an HTTP method and a space (a TLS handshake, for HTTPS)
 * goes to `server`; one that sends nothing within 1 s gets the line too, as the pod listener does.
 */
export function sniffing(
  server: http.Server,
  tls: boolean,
  identity: (client: string) => string,
): net.Server {
  return net.createServer((socket) => {
    const client = `${socket.remoteAddress?.replace(/^::ffff:/, "")}:${socket.remotePort}`;
    let decided = false;
    const plain = () => {
      if (decided) return;
      decided = true;
      socket.end(`${identity(client)}\n`);
    };
    // Only a client that never speaks waits this long (plain probes speak first); an HTTP client on a
    // loaded machine sends its request a while after connecting, and must not get the line instead.
    const timer = setTimeout(plain, 1000);
    socket.on("error", () => socket.destroy());
    socket.once("data", (d: Buffer) => {
      clearTimeout(timer);
      if (decided) return;
      // An HTTP request starts with its method and a space; a TLS connection with a handshake record.
      const speaks = tls ? d[0] === 0x16 : /^[A-Z]{3,10} /.test(d.subarray(0, 11).toString("latin1"));
      if (!speaks) return plain();
      decided = true;
      server.emit("connection", bridge(socket, d));
    });
  });
}

/**
 * A stream over `socket` that starts with `first` (the bytes read to tell HTTP apart): the server
 * parses from it as from the socket. (A server given the socket itself reads from its handle and would
 * miss `first`, even put back with unshift.) It carries the socket's addresses, for x-forwarded-for.
 */
function bridge(socket: net.Socket, first: Buffer): Duplex {
  const b = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  socket.on("data", (d: Buffer) => {
    if (!b.push(d)) socket.pause();
  });
  socket.on("end", () => b.push(null));
  socket.on("close", () => b.destroy());
  b.push(first);
  const noop = () => b;
  return Object.assign(b, {
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
    setTimeout: (ms: number, cb?: () => void) => {
      socket.setTimeout(ms, cb);
      return b;
    },
    setNoDelay: noop,
    setKeepAlive: noop,
    ref: noop,
    unref: noop,
  });
}
