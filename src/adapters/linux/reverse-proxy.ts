/**
 * The reverse proxy of one controller pod: a program, started inside the pod's namespace by
 * ./http-proxies.ts (`node reverse-proxy.js SPEC`). It compiles the controller's router from the spec
 * (the same `compileRouter` the simulator uses, src/core/routing/router.ts), binds each listener's pod
 * port on every address (HTTP/1.1; HTTPS with the certificate and key the spec names) and handles each
 * request with ./http-proxy.ts; a client that does not speak HTTP gets the pod listener's identity line. Prints `ready` once every listener listens; exits 2 with a message
 * when the spec cannot be read or a port cannot be bound.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { ProxySpec } from "../../core/dataplane/http.ts";
import { compileRouter, type RouterSpec } from "../../core/routing/router.ts";
import { proxyHandler, sniffing } from "./http-proxy.ts";

function fail(message: string): never {
  process.stderr.write(`reverse proxy: ${message}\n`);
  process.exit(2);
}

let spec: ProxySpec;
try {
  spec = JSON.parse(readFileSync(process.argv[2], "utf8")) as ProxySpec;
} catch (e) {
  fail(`cannot read the spec ${process.argv[2]}: ${(e as Error).message}`);
}
const router = compileRouter(spec.router as RouterSpec);
const tls = spec.tls ? { cert: readFileSync(spec.tls.cert), key: readFileSync(spec.tls.key) } : undefined;

let pending = spec.listeners.length;
for (const { listener, containerPort } of spec.listeners) {
  const scheme = listener.protocol === "HTTPS" ? "https" : "http";
  const handler = proxyHandler({ spec, router, scheme, port: listener.port });
  if (scheme === "https" && !tls) fail(`listener ${listener.name} is HTTPS but the spec has no certificate`);
  const server = scheme === "https" ? https.createServer({ ...tls! }, handler) : http.createServer(handler);
  // Bounded: an idle client cannot hold a connection for long.
  server.headersTimeout = 10000;
  server.requestTimeout = 15000;
  server.keepAliveTimeout = 5000;
  // Plain TCP probes get the identity line the pod listeners give (podnet probe judges them alike).
  const identity = (client: string) =>
    JSON.stringify({ pod: spec.pod, port: containerPort, protocol: "TCP", ip: spec.ip, client });
  const front = sniffing(server, scheme === "https", identity);
  front.on("error", (e) => fail(`listener ${listener.name} on port ${containerPort}: ${e.message}`));
  front.listen(containerPort, "0.0.0.0", () => {
    if (--pending === 0) process.stdout.write("ready\n");
  });
}
if (spec.listeners.length === 0) process.stdout.write("ready\n");
