/**
 * `podnet ui`'s HTTP server on node:http: the page at `/`, the read-only JSON API at `/api/…`
 * (src/ui/api.ts), nothing else. Only GET and HEAD. A request whose Host header is not the address
 * served (`127.0.0.1:PORT`, `localhost:PORT`, or the `--listen` address) is refused with 421, so a
 * web page elsewhere cannot reach the API by DNS rebinding.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, isIP } from "node:net";
import type { UiApi } from "./api.ts";
import { renderPage } from "./page.ts";

export interface UiServerOptions {
  api: UiApi;
  title: string;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free one). */
  port?: number;
  /** Compile the reachability after the first view is served (default true). */
  warm?: boolean;
}

export interface UiServer {
  server: Server;
  /** `http://HOST:PORT/`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Whether a Host header names the server bound to `host:port`: that address with the port, and
 * `localhost` for a loopback address. Bound to every address (`0.0.0.0`, `::`), any IP literal with
 * the port is accepted — never a DNS name other than localhost, which is what DNS rebinding needs.
 */
export function hostAllowed(header: string, host: string, port: number): boolean {
  const h = header.toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[^:]+):(\d+)$/.exec(h);
  if (!m || Number(m[2]) !== port) return false;
  const name = m[1].startsWith("[") ? m[1].slice(1, -1) : m[1];
  const loopback = host === "127.0.0.1" || host === "::1" || host === "localhost";
  if (name === host.toLowerCase()) return true;
  if (name === "localhost") return loopback || host === "0.0.0.0" || host === "::";
  if (loopback) return name === "127.0.0.1" || name === "::1";
  if (host === "0.0.0.0" || host === "::") return isIP(name) !== 0;
  return false;
}

export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const host = opts.host ?? "127.0.0.1";
  const page = await renderPage({ mode: "server", title: opts.title });
  let port = 0;
  let warmed = opts.warm === false;
  const server = createServer((req, res) => {
    void handle(req, res).catch((e) => {
      send(res, 500, { error: `internal error: ${(e as Error)?.message ?? e}` });
    });
  });
  const send = (res: ServerResponse, status: number, body: unknown, head = false) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    res.end(head ? undefined : text);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const hostHeader = (req.headers.host ?? "").toLowerCase();
    if (!hostAllowed(hostHeader, host, port)) {
      res.writeHead(421, { "content-type": "text/plain; charset=utf-8" });
      res.end(`podnet ui answers to the address it serves only, not to Host "${hostHeader}"\n`);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      res.end("podnet ui is read-only: GET and HEAD only\n");
      return;
    }
    const url = new URL(req.url ?? "/", "http://placeholder");
    const head = req.method === "HEAD";
    if (url.pathname === "/" || url.pathname === "/index.html") {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": page.csp,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cache-control": "no-store",
      });
      res.end(head ? undefined : page.html);
      return;
    }
    if (url.pathname.startsWith("/api/")) {
      const r = await opts.api.get(url.pathname, url.searchParams);
      send(res, r.status, r.body, head);
      // The first view is out: compile the reachability now, so that the policy view answers at once.
      // (Once the answer has left: a large answer still being written would wait for the compile.)
      if (!warmed && url.pathname === "/api/overview") {
        warmed = true;
        res.once("finish", () => setTimeout(() => opts.api.warm(), 100));
      }
      return;
    }
    send(res, 404, { error: `not found: ${url.pathname}` }, head);
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    server,
    url: `http://${shown}:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
