/** Helpers the routing tests share: a request from a URL. */
import type { HttpRequest } from "../src/core/routing/types.ts";

/** The request a client sends for `url` (GET, no headers), with `more` fields replaced. */
export function req(url: string, more: Partial<HttpRequest> = {}): HttpRequest {
  const u = new URL(url);
  return {
    scheme: u.protocol === "https:" ? "https" : "http",
    host: u.hostname,
    port: Number(u.port || (u.protocol === "https:" ? 443 : 80)),
    path: u.pathname,
    query: [...u.searchParams],
    method: "GET",
    headers: [],
    ...more,
  };
}
