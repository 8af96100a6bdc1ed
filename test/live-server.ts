/**
 * A local stand-in for a Kubernetes API server, for the live-read tests and bench/live.ts: HTTPS
 * (certificates made with the openssl CLI), the discovery documents kubectl reads (/api, /apis,
 * /api/v1, /apis/GROUP/VERSION), `/version`, and cluster-wide lists in the API's own list format
 * (`{kind: PodList, apiVersion, metadata: {resourceVersion, continue}, items}`, items without
 * apiVersion/kind, with managedFields) paginated by `limit`/`continue`. It can expire a continue
 * token once (410 Gone, reason Expired), forbid a resource (403) and not serve a group (404).
 * Authentication: a bearer token from `tokens`, or a client certificate signed by the test CA.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LIVE_RESOURCES, type LiveResource } from "../src/adapters/manifests/live.ts";
import { kindInfo } from "../src/core/manifests/kinds.ts";

/** PEM files made for one test run. */
export interface Pki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second CA, which signed nothing the server holds (for "bad certificate"). */
  otherCaCert: string;
}

/** Makes a CA, a server certificate for 127.0.0.1/localhost and a client certificate, with openssl. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), "podnet-pki-"));
  const ossl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  for (const ca of ["ca", "other-ca"])
    ossl(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${ca}.key`,
      "-out",
      `${ca}.crt`,
      "-days",
      "2",
      "-subj",
      `/CN=${ca}`,
    );
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  for (const [name, subj, ext] of [
    ["server", "/CN=kube-apiserver", ["-extfile", "san.ext"]],
    ["client", "/CN=podnet-test/O=system:masters", []],
  ] as const) {
    ossl(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      subj,
    );
    ossl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "2",
      ...ext,
    );
  }
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return {
    dir,
    caCert: read("ca.crt"),
    serverCert: read("server.crt"),
    serverKey: read("server.key"),
    clientCert: read("client.crt"),
    clientKey: read("client.key"),
    otherCaCert: read("other-ca.crt"),
  };
}

export interface FakeApiOptions {
  /** Objects (with apiVersion and kind) to serve; kinds not in LIVE_RESOURCES are dropped. */
  objects: readonly Record<string, unknown>[];
  /** Bearer tokens accepted. */
  tokens?: readonly string[];
  /** Largest page, whatever `limit` asks (forces pagination on small inputs). */
  maxPage?: number;
  /** Resources (`pods`, `deployments.apps`) whose first continue token expires (410, once). */
  expireOnce?: readonly string[];
  /** Resources RBAC forbids (403). */
  forbidden?: readonly string[];
  /** API groups not served (404). */
  notServedGroups?: readonly string[];
}

export interface FakeApi {
  server: Server;
  url: string;
  /** Requests served, as `METHOD path` (for asserting pagination and restarts). */
  requests: string[];
  close(): Promise<void>;
}

const rname = (r: LiveResource) => (r.group ? `${r.resource}.${r.group}` : r.resource);
const apiVersionOf = (r: LiveResource) => (r.group ? `${r.group}/${r.version}` : r.version);

function namespaced(r: LiveResource): boolean {
  if (r.kind === "GlobalNetworkPolicy" || r.kind === "CiliumClusterwideNetworkPolicy") return false;
  return kindInfo(r.kind)?.namespaced ?? true;
}

/** The LIVE_RESOURCES entry an object belongs to. */
export function resourceOf(obj: Record<string, unknown>): LiveResource | undefined {
  return LIVE_RESOURCES.find((r) => apiVersionOf(r) === obj.apiVersion && r.kind === obj.kind);
}

/** Starts the server on 127.0.0.1 (a free port). */
export async function startFakeApi(pki: Pki, opts: FakeApiOptions): Promise<FakeApi> {
  const byResource = new Map<string, Record<string, unknown>[]>();
  for (const o of opts.objects) {
    const r = resourceOf(o);
    if (!r) continue;
    const { apiVersion: _a, kind: _k, ...rest } = structuredClone(o) as Record<string, unknown>;
    const meta = { ...((rest.metadata as Record<string, unknown>) ?? {}) };
    if (namespaced(r) && !meta.namespace) meta.namespace = "default";
    meta.managedFields = [{ manager: "kubectl", operation: "Update", apiVersion: apiVersionOf(r) }];
    rest.metadata = meta;
    const list = byResource.get(rname(r)) ?? [];
    list.push(rest);
    byResource.set(rname(r), list);
  }
  const key = (o: Record<string, unknown>) => {
    const m = o.metadata as { namespace?: string; name?: string };
    return `${m.namespace ?? ""}/${m.name ?? ""}`;
  };
  for (const list of byResource.values())
    list.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  // The items' JSON is made once (as an API server's watch cache keeps it), and the objects dropped.
  const texts = new Map([...byResource].map(([name, list]) => [name, list.map((o) => JSON.stringify(o))]));
  byResource.clear();
  const expire = new Set(opts.expireOnce ?? []);
  const forbidden = new Set(opts.forbidden ?? []);
  const notServed = new Set(opts.notServedGroups ?? []);
  const tokens = new Set(opts.tokens ?? []);
  const served = LIVE_RESOURCES.filter((r) => !notServed.has(r.group));
  const requests: string[] = [];
  const server = createServer(
    {
      key: pki.serverKey,
      cert: pki.serverCert,
      ca: pki.caCert,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, {
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(text),
        });
        res.end(text);
      };
      const status = (code: number, reason: string, message: string) =>
        send(code, {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message,
          reason,
          code,
        });
      const url = new URL(req.url ?? "/", "https://x");
      requests.push(`${req.method} ${url.pathname}${url.search}`);
      const auth = req.headers.authorization ?? "";
      const tlsSocket = req.socket as import("node:tls").TLSSocket;
      const byToken = auth.startsWith("Bearer ") && tokens.has(auth.slice(7));
      const byCert = tlsSocket.authorized === true;
      if (!byToken && !byCert) return status(401, "Unauthorized", "Unauthorized");
      const p = url.pathname.replace(/\/+$/, "");
      if (p === "/version")
        return send(200, {
          major: "1",
          minor: "32",
          gitVersion: "v1.32.0-podnet-test",
          platform: "linux/amd64",
        });
      if (p === "/api")
        return send(200, {
          kind: "APIVersions",
          versions: ["v1"],
          serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1:443" }],
        });
      if (p === "/apis") {
        const groups = new Map<string, string[]>();
        for (const r of served)
          if (r.group) groups.set(r.group, [...new Set([...(groups.get(r.group) ?? []), r.version])]);
        return send(200, {
          kind: "APIGroupList",
          apiVersion: "v1",
          groups: [...groups].map(([name, versions]) => ({
            name,
            versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
            preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
          })),
        });
      }
      const gv = /^\/api\/v1$/.test(p) ? "v1" : /^\/apis\/([^/]+\/[^/]+)$/.exec(p)?.[1];
      if (gv) {
        const rs = served.filter((r) => apiVersionOf(r) === gv);
        if (rs.length === 0)
          return status(404, "NotFound", "the server could not find the requested resource");
        return send(200, {
          kind: "APIResourceList",
          apiVersion: "v1",
          groupVersion: gv,
          resources: rs.map((r) => ({
            name: r.resource,
            singularName: r.kind.toLowerCase(),
            namespaced: namespaced(r),
            kind: r.kind,
            verbs: ["get", "list", "watch"],
          })),
        });
      }
      const m = /^\/api\/v1\/([a-z]+)$/.exec(p) ?? /^\/apis\/([^/]+)\/([^/]+)\/([a-z]+)$/.exec(p);
      const r = m
        ? m.length === 2
          ? LIVE_RESOURCES.find((x) => x.group === "" && x.resource === m[1])
          : LIVE_RESOURCES.find((x) => x.group === m[1] && x.version === m[2] && x.resource === m[3])
        : undefined;
      if (!r || notServed.has(r.group))
        return status(404, "NotFound", "the server could not find the requested resource");
      const name = rname(r);
      if (forbidden.has(name))
        return status(
          403,
          "Forbidden",
          `${r.resource}${r.group ? `.${r.group}` : ""} is forbidden: User "podnet-test" cannot list resource "${r.resource}" in API group "${r.group}" at the cluster scope`,
        );
      const items = texts.get(name) ?? [];
      const limit = Number(url.searchParams.get("limit") ?? "0") || items.length || 1;
      const page = Math.max(1, Math.min(limit, opts.maxPage ?? Number.POSITIVE_INFINITY));
      const cont = url.searchParams.get("continue");
      let offset = 0;
      if (cont) {
        const [res, off] = Buffer.from(cont, "base64url").toString().split(":");
        if (res !== name) return status(400, "BadRequest", "invalid continue token");
        if (expire.has(name)) {
          expire.delete(name);
          return status(
            410,
            "Expired",
            "The provided continue parameter is too old to display a consistent list result.",
          );
        }
        offset = Number(off);
      }
      const slice = items.slice(offset, offset + page);
      const next =
        offset + page < items.length
          ? Buffer.from(`${name}:${offset + page}`).toString("base64url")
          : undefined;
      const head = JSON.stringify({
        kind: `${r.kind}List`,
        apiVersion: apiVersionOf(r),
        metadata: { resourceVersion: "12345", ...(next ? { continue: next } : {}) },
      });
      const text = `${head.slice(0, -1)},"items":[${slice.join(",")}]}`;
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
      res.end(text);
      return;
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    url: `https://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A kubeconfig (YAML text) with one context `name` for `server`, with the given user entry. */
export function kubeconfigText(opts: {
  server: string;
  caCert?: string;
  context?: string;
  user: Record<string, unknown>;
  current?: boolean;
}): string {
  const ctx = opts.context ?? "test";
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: `${ctx}-cluster`,
        cluster: {
          server: opts.server,
          ...(opts.caCert
            ? { "certificate-authority-data": Buffer.from(opts.caCert).toString("base64") }
            : {}),
        },
      },
    ],
    users: [{ name: `${ctx}-user`, user: opts.user }],
    contexts: [{ name: ctx, context: { cluster: `${ctx}-cluster`, user: `${ctx}-user` } }],
    ...(opts.current === false ? {} : { "current-context": ctx }),
  });
}
