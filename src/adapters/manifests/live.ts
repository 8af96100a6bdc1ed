/**
 * Reads a live cluster: one paginated list per kind podnet needs (never Secrets), over the API
 * server's REST API, with the credentials of the kubeconfig context (see kubeconfig.ts).
 *
 * Upstream facts this follows:
 * - list pagination (k8s.io/apiserver `ListOptions.limit`/`continue`, KEP-365): a page holds at most
 *   `limit` items and `metadata.continue` names the next; an expired continue token answers
 *   410 Gone (reason `Expired`), after which the list is started again from the beginning;
 * - items of a list response carry no `apiVersion`/`kind`: the reader sets them from the list, as
 *   kubectl's printers do (k8s.io/cli-runtime `resource.Helper`), and leaves out
 *   `metadata.managedFields`, as `kubectl get -o yaml` does since 1.21;
 * - 404 on a list is a kind the server does not serve (its API group or version is not installed);
 *   403 is RBAC denying `list` on it: both are named in one warning, and the rest is read;
 * - kube-proxy reads EndpointSlices only (pkg/proxy/config), so Endpoints are not listed.
 */
import { isAscii } from "node:buffer";
import * as http from "node:http";
import * as https from "node:https";
import type { Diagnostic } from "../../core/diagnostics.ts";
import type { RawObject } from "../../core/manifests/parse.ts";
import { type ChosenConfig, chooseConfig, KubeconfigError } from "./kubeconfig.ts";

/** One kind podnet lists: its API group ("" for the core group), version and resource name. */
export interface LiveResource {
  readonly group: string;
  readonly version: string;
  /** The resource (plural) as in the URL, e.g. `pods`. */
  readonly resource: string;
  readonly kind: string;
  /** Whether a 404 is expected of most clusters (a CNI's or distribution's own API). */
  readonly optional?: boolean;
}

/** The kinds podnet reads from a cluster, in this order (the order of a snapshot's items). */
export const LIVE_RESOURCES: readonly LiveResource[] = [
  { group: "", version: "v1", resource: "namespaces", kind: "Namespace" },
  { group: "", version: "v1", resource: "nodes", kind: "Node" },
  { group: "", version: "v1", resource: "pods", kind: "Pod" },
  { group: "", version: "v1", resource: "services", kind: "Service" },
  { group: "", version: "v1", resource: "replicationcontrollers", kind: "ReplicationController" },
  { group: "discovery.k8s.io", version: "v1", resource: "endpointslices", kind: "EndpointSlice" },
  { group: "apps", version: "v1", resource: "deployments", kind: "Deployment" },
  { group: "apps", version: "v1", resource: "replicasets", kind: "ReplicaSet" },
  { group: "apps", version: "v1", resource: "statefulsets", kind: "StatefulSet" },
  { group: "apps", version: "v1", resource: "daemonsets", kind: "DaemonSet" },
  { group: "batch", version: "v1", resource: "jobs", kind: "Job" },
  { group: "batch", version: "v1", resource: "cronjobs", kind: "CronJob" },
  { group: "networking.k8s.io", version: "v1", resource: "networkpolicies", kind: "NetworkPolicy" },
  { group: "networking.k8s.io", version: "v1", resource: "ingresses", kind: "Ingress" },
  { group: "networking.k8s.io", version: "v1", resource: "ingressclasses", kind: "IngressClass" },
  {
    group: "policy.networking.k8s.io",
    version: "v1alpha1",
    resource: "adminnetworkpolicies",
    kind: "AdminNetworkPolicy",
  },
  {
    group: "policy.networking.k8s.io",
    version: "v1alpha1",
    resource: "baselineadminnetworkpolicies",
    kind: "BaselineAdminNetworkPolicy",
  },
  {
    group: "policy.networking.k8s.io",
    version: "v1alpha2",
    resource: "clusternetworkpolicies",
    kind: "ClusterNetworkPolicy",
  },
  // Gateway API (a CRD: absent from clusters that do not install it, hence optional).
  {
    group: "gateway.networking.k8s.io",
    version: "v1",
    resource: "gatewayclasses",
    kind: "GatewayClass",
    optional: true,
  },
  {
    group: "gateway.networking.k8s.io",
    version: "v1",
    resource: "gateways",
    kind: "Gateway",
    optional: true,
  },
  {
    group: "gateway.networking.k8s.io",
    version: "v1",
    resource: "httproutes",
    kind: "HTTPRoute",
    optional: true,
  },
  {
    group: "gateway.networking.k8s.io",
    version: "v1beta1",
    resource: "referencegrants",
    kind: "ReferenceGrant",
    optional: true,
  },
  { group: "route.openshift.io", version: "v1", resource: "routes", kind: "Route", optional: true },
  { group: "crd.projectcalico.org", version: "v1", resource: "ippools", kind: "IPPool", optional: true },
  {
    group: "crd.projectcalico.org",
    version: "v1",
    resource: "networkpolicies",
    kind: "NetworkPolicy",
    optional: true,
  },
  {
    group: "crd.projectcalico.org",
    version: "v1",
    resource: "globalnetworkpolicies",
    kind: "GlobalNetworkPolicy",
    optional: true,
  },
  {
    group: "cilium.io",
    version: "v2",
    resource: "ciliumnetworkpolicies",
    kind: "CiliumNetworkPolicy",
    optional: true,
  },
  {
    group: "cilium.io",
    version: "v2",
    resource: "ciliumclusterwidenetworkpolicies",
    kind: "CiliumClusterwideNetworkPolicy",
    optional: true,
  },
];

/** `resource.group` as kubectl spells a resource (`pods`, `deployments.apps`). */
export function resourceName(r: LiveResource): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

function apiVersionOf(r: LiveResource): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

function listPath(r: LiveResource): string {
  return r.group ? `/apis/${r.group}/${r.version}/${r.resource}` : `/api/${r.version}/${r.resource}`;
}

/** How a live read is done. Times in milliseconds. */
export interface LiveOptions {
  kubeconfig?: string;
  /** The context; undefined: the kubeconfig's current context. */
  context?: string;
  /** Each request's limit (connect, and then silence between bytes); default 30,000 ms. */
  timeoutMs?: number;
  /** Items per page (`limit`); default 500, as kubectl's `--chunk-size`. */
  pageSize?: number;
  /** Lists in flight at once; default 4. */
  concurrency?: number;
  /** The kinds to read (default LIVE_RESOURCES; tests narrow it). */
  resources?: readonly LiveResource[];
  env?: NodeJS.ProcessEnv;
  home?: string;
}

/** What a live read found. */
export interface LiveRead {
  readonly context: string;
  readonly server: string;
  /** `gitVersion` of the server's `/version`, or "unknown" when it does not say. */
  readonly serverVersion: string;
  /** When the read started (ISO 8601, UTC). */
  readonly readAt: string;
  /** Every object read, in LIVE_RESOURCES order and the server's order within a kind. */
  readonly items: Record<string, unknown>[];
  /** The same objects ready for decoding: each origin names the object's URL on the server. */
  readonly objects: RawObject[];
  /** The one warning about kinds not served (404) or forbidden (403), if any. */
  readonly warning?: Diagnostic;
}

/** A failure of the live read as a whole (exit 2): the message says what and how to fix it. */
export class LiveError extends Error {}

/**
 * Reads the cluster of the chosen context (see the module comment). Throws KubeconfigError or
 * LiveError with a message for the user: configuration problems, unreachable server (after
 * `timeoutMs`), TLS verification failure, unreadable client certificate, failing exec plugin,
 * rejected credentials (401), or any other error status.
 */
export async function readLive(opts: LiveOptions = {}): Promise<LiveRead> {
  const chosen = chooseConfig(opts, opts.env, opts.home);
  const client = await makeClient(chosen, opts.timeoutMs ?? 30_000);
  const readAt = new Date().toISOString();
  const resources = opts.resources ?? LIVE_RESOURCES;
  const serverVersion = await readVersion(client);
  const results: ({ items: Record<string, unknown>[] } | { status: 403 | 404 })[] = new Array(
    resources.length,
  );
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= resources.length) return;
      results[i] = await listAll(client, resources[i], opts.pageSize ?? 500);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, resources.length) }, worker));
  } finally {
    client.close();
  }
  const items: Record<string, unknown>[] = [];
  /** Each item's resource, for its URL in `objects`. */
  const itemResources: LiveResource[] = [];
  const notServed: string[] = [];
  const forbidden: string[] = [];
  resources.forEach((r, i) => {
    const res = results[i];
    if ("status" in res) {
      if (res.status === 403) forbidden.push(resourceName(r));
      else if (!r.optional) notServed.push(resourceName(r));
      return;
    }
    // One by one: spreading 150,000 items into push() overflows the call stack.
    for (const item of res.items) {
      items.push(item);
      itemResources.push(r);
    }
  });
  // Made when a command decodes them (a snapshot does not): one URL string per object.
  let objects: RawObject[] | undefined;
  const objectsOf = (): RawObject[] =>
    items.map((item, i) => {
      const r = itemResources[i];
      const meta = item.metadata as { name?: string; namespace?: string } | undefined;
      const url = `${chosen.server}${r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`}${meta?.namespace ? `/namespaces/${meta.namespace}` : ""}/${r.resource}/${meta?.name ?? ""}`;
      return { value: item, origin: { file: url, locate: noPosition } };
    });
  const parts: string[] = [];
  if (notServed.length)
    parts.push(
      `the server does not serve ${notServed.join(", ")} (404): the cluster can hold none of them, so the answers miss nothing there`,
    );
  if (forbidden.length)
    parts.push(
      `RBAC forbids listing ${forbidden.join(", ")} (403): the answers leave those objects out, so they may be wrong where those objects matter (a forbidden policy kind: connections it denies are shown as allowed)`,
    );
  const warning: Diagnostic | undefined = parts.length
    ? {
        severity: "warning",
        code: forbidden.length ? "live-kinds-forbidden" : "live-kinds-not-served",
        message: `context ${chosen.context}: ${parts.join("; ")}`,
        ...(forbidden.length
          ? {
              hint: `grant the context's user list on ${forbidden.join(", ")} (kubectl auth can-i list ${forbidden[0]} -A)`,
            }
          : {}),
        origin: { file: chosen.server, locate: () => undefined },
      }
    : undefined;
  return {
    context: chosen.context,
    server: chosen.server,
    serverVersion,
    readAt,
    items,
    get objects() {
      objects ??= objectsOf();
      return objects;
    },
    ...(warning ? { warning } : {}),
  };
}

/** Objects read from a server have no position in a file. */
const noPosition = () => undefined;

interface Client {
  /**
   * GETs `path`; `onHead`, when given, is called once with the status and the first bytes of the
   * body as they arrive (before the rest of the body).
   */
  get(
    path: string,
    onHead?: (status: number, head: string) => void,
  ): Promise<{ status: number; body: string }>;
  close(): void;
}

async function makeClient(chosen: ChosenConfig, timeoutMs: number): Promise<Client> {
  const reqOpts: https.RequestOptions = {};
  try {
    await chosen.kc.applyToHTTPSOptions(reqOpts);
  } catch (e) {
    const msg = (e as Error).message.trim().split("\n")[0];
    const user = chosen.kc.getUser(chosen.userName);
    if (user?.exec)
      throw new LiveError(
        `error: context ${chosen.context}: the exec credential plugin of user "${chosen.userName}" (${user.exec.command}) failed: ${msg || "no message"}; run it by hand to see why`,
      );
    throw new LiveError(
      `error: context ${chosen.context}: cannot read the credentials of user "${chosen.userName}" or the CA of cluster "${chosen.clusterName}": ${msg}; check the file paths and data in ${chosen.origin}`,
    );
  }
  let url: URL;
  try {
    url = new URL(chosen.server);
  } catch {
    throw new LiveError(`error: cluster "${chosen.clusterName}": server "${chosen.server}" is not a URL`);
  }
  const isHttps = url.protocol === "https:";
  if (!isHttps && url.protocol !== "http:")
    throw new LiveError(`error: cluster "${chosen.clusterName}": server "${chosen.server}" is not http(s)`);
  // One connection per list kept open across its pages (keep-alive), rather than a TLS handshake
  // per page: the client library's agent carries the CA and client certificate but does not keep
  // connections alive. A proxy agent (proxy-url) is used as it is.
  const given = reqOpts.agent;
  const agent = isHttps
    ? given instanceof https.Agent && given.constructor === https.Agent
      ? new https.Agent({ ...given.options, keepAlive: true })
      : (given as https.Agent | undefined)
    : new http.Agent({ keepAlive: true });
  if (given instanceof https.Agent && given !== agent) given.destroy();
  const headers: Record<string, string> = { Accept: "application/json", "User-Agent": "podnet" };
  for (const [k, v] of Object.entries(reqOpts.headers ?? {}))
    if (typeof v === "string" || typeof v === "number") headers[k] = String(v);
  if (reqOpts.auth) headers.Authorization = `Basic ${Buffer.from(reqOpts.auth).toString("base64")}`;
  const base = url.pathname.replace(/\/+$/, "");
  const where = `context ${chosen.context} (${chosen.server})`;
  return {
    close: () => agent?.destroy(),
    get: (path, onHead) => get(path, true, onHead),
  };
  function get(
    path: string,
    retry: boolean,
    onHead?: (status: number, head: string) => void,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const mod = isHttps ? https : http;
      const req = mod.request(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ""),
          port: url.port || (isHttps ? 443 : 80),
          path: `${base}${path}`,
          method: "GET",
          headers,
          ...(agent ? { agent } : {}),
          ...(isHttps && !agent ? { ca: reqOpts.ca, cert: reqOpts.cert, key: reqOpts.key } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let length = 0;
          res.on("data", (c: Buffer) => {
            if (length === 0 && onHead) onHead(res.statusCode ?? 0, c.toString("latin1", 0, 1024));
            chunks.push(c);
            length += c.length;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: bodyText(chunks, length) }));
          res.on("error", (e) => reject(transportError(e, where, chosen, timeoutMs)));
        },
      );
      req.setTimeout(timeoutMs, () =>
        req.destroy(Object.assign(new Error("timeout"), { code: "PODNET_TIMEOUT" })),
      );
      req.on("error", (e) => {
        // A kept-alive connection the server closed as the request went out (its idle timeout):
        // the GET is sent again once on a new connection, as Go's and Node's clients advise.
        const code = (e as NodeJS.ErrnoException).code;
        if (retry && req.reusedSocket && (code === "ECONNRESET" || code === "EPIPE"))
          get(path, false, onHead).then(resolve, reject);
        else reject(transportError(e, where, chosen, timeoutMs));
      });
      req.end();
    });
  }
}

/**
 * A response body as text. The API server answers UTF-8 JSON that is nearly always pure ASCII (it
 * escapes nothing, but names, labels and addresses are ASCII); an ASCII body is decoded as ASCII,
 * a plain byte copy, several times cheaper than UTF-8 decoding on pages of megabytes.
 */
function bodyText(chunks: readonly Buffer[], length: number): string {
  const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
  return buf.toString(isAscii(buf) ? "ascii" : "utf8");
}

function transportError(e: Error, where: string, chosen: ChosenConfig, timeoutMs: number): Error {
  if (e instanceof LiveError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? "";
  if (code === "PODNET_TIMEOUT")
    return new LiveError(
      `error: ${where}: no answer within ${timeoutMs / 1000} s; check that the server is reachable (VPN, firewall) or raise --request-timeout`,
    );
  if (["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EAI_AGAIN"].includes(code))
    return new LiveError(
      `error: ${where}: server unreachable (${code}); check the server address of cluster "${chosen.clusterName}" and that the cluster is running`,
    );
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME/.test(code))
    return new LiveError(
      `error: ${where}: the server's certificate cannot be verified (${code}: ${e.message}); set the cluster's certificate-authority(-data) to the CA that signed it (or tls-server-name to a name it holds)`,
    );
  if (/SSL|TLS|PEM|ASN1|KEY|alert/i.test(`${code} ${e.message}`))
    return new LiveError(
      `error: ${where}: TLS failed (${code || e.message}): ${e.message}; check client-certificate(-data) and client-key(-data) of user "${chosen.userName}" (a certificate the server's CA signed, with its own key)`,
    );
  return new LiveError(`error: ${where}: ${code ? `${code}: ` : ""}${e.message}`);
}

async function readVersion(client: Client): Promise<string> {
  const res = await client.get("/version");
  if (res.status === 401) throw new LiveError(unauthorized());
  if (res.status !== 200) return "unknown";
  try {
    const v = JSON.parse(res.body) as { gitVersion?: unknown };
    return typeof v.gitVersion === "string" ? v.gitVersion : "unknown";
  } catch {
    return "unknown";
  }
}

function unauthorized(): string {
  return "error: the server rejected the credentials (401 Unauthorized); check the token, client certificate or exec plugin of the context's user (kubectl auth whoami)";
}

/** How many times one list is started again after its continue token expired (410). */
const MAX_RESTARTS = 3;

/**
 * The continue token in the first bytes of a list's body, if they hold it: the API server writes a
 * list's `kind`, `apiVersion` and `metadata` (resourceVersion, continue) before its `items`
 * (k8s.io/apimachinery `metav1.List`'s field order), and list metadata holds no nested object.
 */
function continueInHead(head: string): string | undefined {
  const m = /^\s*\{(?:"(?:kind|apiVersion)":"[^"]*",)*"metadata":\{[^{}]*?"continue":"([^"\\]*)"/.exec(head);
  return m?.[1] || undefined;
}

/** One page's request: its answer, and the continue token as soon as the body's head says it. */
interface PageRequest {
  readonly done: Promise<{ status: number; body: string }>;
  readonly early: Promise<string | undefined>;
}

async function listAll(
  client: Client,
  r: LiveResource,
  pageSize: number,
): Promise<{ items: Record<string, unknown>[] } | { status: 403 | 404 }> {
  const apiVersion = apiVersionOf(r);
  const request = (token: string): PageRequest => {
    let early: (t: string | undefined) => void = () => {};
    const earlyToken = new Promise<string | undefined>((resolve) => {
      early = resolve;
    });
    const done = client.get(
      `${listPath(r)}?limit=${pageSize}${token ? `&continue=${encodeURIComponent(token)}` : ""}`,
      (status, head) => early(status === 200 ? continueInHead(head) : undefined),
    );
    // A page asked for ahead of need may be left unread (the list failed): its failure is no news.
    done.then(
      () => early(undefined),
      () => early(undefined),
    );
    return { done, early: earlyToken };
  };
  for (let attempt = 0; ; attempt++) {
    const items: Record<string, unknown>[] = [];
    let token = "";
    let expired = false;
    let page = request("");
    for (;;) {
      // The next page is asked for as soon as this one's head names it, so that the server prepares
      // it while this one is parsed: at most two requests of a list are in flight.
      const ahead = await page.early;
      const next = ahead ? request(ahead) : undefined;
      const res = await page.done;
      if (res.status === 403 || res.status === 404) return { status: res.status };
      if (res.status === 401) throw new LiveError(unauthorized());
      if (res.status === 410 && token) {
        expired = true;
        break;
      }
      if (res.status !== 200)
        throw new LiveError(
          `error: listing ${resourceName(r)}: the server answered ${res.status}: ${statusMessage(res.body)}`,
        );
      let list: { items?: unknown; metadata?: { continue?: unknown } };
      try {
        list = JSON.parse(res.body);
      } catch {
        throw new LiveError(`error: listing ${resourceName(r)}: the server's answer is not JSON`);
      }
      if (!Array.isArray(list.items))
        throw new LiveError(
          `error: listing ${resourceName(r)}: the server's answer is not a list (no items)`,
        );
      for (const it of list.items as Record<string, unknown>[]) {
        const meta = it.metadata as Record<string, unknown> | undefined;
        if (meta) delete meta.managedFields;
        items.push({ apiVersion, kind: r.kind, ...it });
      }
      token = typeof list.metadata?.continue === "string" ? list.metadata.continue : "";
      if (!token) break;
      // The page asked for ahead is the one the parsed body names (else it is left unread).
      page = next && ahead === token ? next : request(token);
    }
    if (!expired) return { items };
    if (attempt >= MAX_RESTARTS)
      throw new LiveError(
        `error: listing ${resourceName(r)}: the continue token expired ${MAX_RESTARTS + 1} times (410 Gone); the cluster changes faster than it can be read, try again`,
      );
  }
}

function statusMessage(body: string): string {
  try {
    const s = JSON.parse(body) as { message?: unknown };
    if (typeof s.message === "string") return s.message;
  } catch {}
  return body.slice(0, 200) || "no message";
}

export { KubeconfigError };
