/**
 * The router: `routerSpecs(state)` gathers every controller's routing table (./ingress.ts for
 * IngressClasses, ./gateway.ts for Gateways) as plain data, and `compileRouter(spec)` turns one table
 * into an index that decides a request in a few microseconds among 10,000 rules (bench/routing.ts).
 *
 * A decision takes three steps, as ingress-nginx (nginx `server_name`, then `location`) and
 * Envoy-based gateways (listener, virtual host, then routes) take them:
 * 1. the listener: the request's port and scheme, then the most specific listener hostname (exact,
 *    then the longest wildcard, then none: Gateway API `Listener.hostname`);
 * 2. the host: among the hostnames the entries serve, the most specific that matches (exact, then the
 *    longest wildcard, then "any host": HTTPRoute `spec.hostnames`' precedence, and the Ingress API's
 *    "exact host before wildcard"). No fallback to a less specific host: a host whose rules all miss
 *    answers 404 (or its Ingress's defaultBackend);
 * 3. the entry: the first one, in the API's precedence order (`compareEntries`), whose path, method,
 *    headers and query parameters all match.
 *
 * The index: hosts in maps (exact names; wildcard suffixes); per host, Exact paths in a map, Prefix
 * paths in a trie of path elements (deeper nodes are longer prefixes, so the walk from the deepest
 * node up meets them in precedence order), and the rest (ImplementationSpecific, RegularExpression)
 * in one sorted list. The best match of each of the three is compared; the smallest wins.
 */
import type { ClusterState } from "../control/state.ts";
import { gatewayRouterSpecs } from "./gateway.ts";
import { ingressRouterSpecs } from "./ingress.ts";
import type { PathMatchType, RouteEntry, RouterSpec, SpecBackend, ValueMatch } from "./spec.ts";
import type {
  HttpBackend,
  HttpListener,
  HttpRequest,
  RejectedRule,
  RouteDecision,
  RouteListing,
  Router,
} from "./types.ts";

export type { PathMatchType, RouteEntry, RouterSpec, SpecBackend, ValueMatch } from "./spec.ts";

/** Options of `routerSpecs`. */
export interface RouterSpecOptions {
  /**
   * An IngressClass podnet supplies when the input has none (its name and `spec.controller`): it is
   * treated as marked default (`ingressclass.kubernetes.io/is-default-class: "true"`).
   */
  suppliedIngressClass?: { name: string; controller: string };
}

/**
 * Every controller's routing table: one per IngressClass that owns at least one Ingress, then one
 * per Gateway whose GatewayClass exists, in name order. JSON-safe.
 */
export function routerSpecs(state: ClusterState, opts: RouterSpecOptions = {}): RouterSpec[] {
  return [...ingressRouterSpecs(state, opts), ...gatewayRouterSpecs(state)];
}

/** How many rejected entries a decision lists at most (the trace shows them; the hot path stays short). */
const MAX_CONSIDERED = 16;

/** The numbers that order entries by precedence, compared left to right (smaller first). */
export function precedenceKey(api: RouterSpec["api"], e: RouteEntry): number[] {
  const len = e.path.type === "ImplementationSpecific" && e.path.value === "" ? 1 : e.path.value.length;
  const fallback = e.fallback ? 1 : 0;
  if (api === "Ingress") return [fallback, -len, e.path.type === "Exact" ? 0 : 1, e.order];
  const kind = e.path.type === "Exact" ? 0 : e.path.type === "RegularExpression" ? 1 : 2;
  return [fallback, kind, -len, e.method ? 0 : 1, -e.headers.length, -e.queryParams.length, e.order];
}

/** Negative when `a` takes precedence over `b` (see `precedenceKey`). */
export function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * Whether `host` (lower-case) is covered by `pattern`: equal, or a `*.` wildcard covering one label
 * (`label`: the Ingress API) or any number of labels (`suffix`: Gateway API).
 */
export function hostMatches(pattern: string, host: string, wildcard: "label" | "suffix"): boolean {
  if (!pattern.startsWith("*.")) return pattern === host;
  const suffix = pattern.slice(1); // ".example.com"
  if (!host.endsWith(suffix) || host.length === suffix.length) return false;
  return wildcard === "suffix" || !host.slice(0, host.length - suffix.length).includes(".");
}

/** Whether a Prefix path (element-wise, trailing `/` ignored) covers `path`. */
export function prefixMatches(prefix: string, path: string): boolean {
  if (!path.startsWith("/")) return false;
  const p = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  return p === "" || path === p || path.startsWith(`${p}/`);
}

/** A compiled regular expression that must match the whole string; undefined when it does not compile. */
function wholeMatch(source: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch {
    return undefined;
  }
}

interface CEntry {
  readonly e: RouteEntry;
  readonly key: number[];
  readonly pathRe?: RegExp;
  readonly headerRes: (RegExp | undefined)[];
  readonly queryRes: (RegExp | undefined)[];
  /** A regular expression of the entry does not compile: it never matches. */
  readonly broken: boolean;
  /** `describeMatch(e)`, made once. */
  readonly words: string;
  /** The decision once this entry matched, prepared at compile time (`prepareDecision`). */
  readonly decide: (host: string | undefined, considered: RejectedRule[]) => RouteDecision;
}

/**
 * A node of the path trie, one per path element. `entries`: Prefix entries ending here (in precedence
 * order); `loose`: ImplementationSpecific and RegularExpression entries whose every match lies under
 * this node (their literal text up to its last `/`), tested one by one.
 */
interface TrieNode {
  children: Map<string, TrieNode>;
  entries: CEntry[];
  loose: CEntry[];
}

interface HostGroup {
  /** The hostname (`*.example.com`, or undefined for every host) this group serves. */
  host: string | undefined;
  exact: Map<string, CEntry[]>;
  trie: TrieNode;
  fallbacks: CEntry[];
  all: CEntry[];
}

interface ListenerIndex {
  listener: HttpListener;
  exact: Map<string, HostGroup>;
  wild: Map<string, HostGroup>;
  any: HostGroup | undefined;
}

/** Per-request views of the headers (lower-case names, values joined by ",") and query (first value). */
class RequestView {
  #headers: Map<string, string> | undefined;
  #query: Map<string, string> | undefined;
  constructor(readonly req: HttpRequest) {}
  header(name: string): string | undefined {
    if (!this.#headers) {
      this.#headers = new Map();
      for (const [k, v] of this.req.headers) {
        const n = k.toLowerCase();
        const prev = this.#headers.get(n);
        this.#headers.set(n, prev === undefined ? v : `${prev},${v}`);
      }
    }
    return this.#headers.get(name.toLowerCase());
  }
  query(name: string): string | undefined {
    if (!this.#query) {
      this.#query = new Map();
      for (const [k, v] of this.req.query) if (!this.#query.has(k)) this.#query.set(k, v);
    }
    return this.#query.get(name);
  }
}

/** Why `c`'s conditions other than its path reject the request; undefined when they all match. */
function conditionMiss(c: CEntry, view: RequestView): string | undefined {
  const e = c.e;
  if (c.broken) return "its regular expression does not compile";
  if (e.method && e.method !== view.req.method) return `method ${view.req.method} ≠ ${e.method}`;
  for (let i = 0; i < e.headers.length; i++) {
    const h = e.headers[i];
    const v = view.header(h.name);
    const re = c.headerRes[i];
    if (v === undefined) return `no header ${h.name}`;
    if (re ? !re.test(v) : v !== h.value)
      return `header ${h.name}: ${v} does not match ${h.type === "Exact" ? "" : "~"}${h.value}`;
  }
  for (let i = 0; i < e.queryParams.length; i++) {
    const q = e.queryParams[i];
    const v = view.query(q.name);
    const re = c.queryRes[i];
    if (v === undefined) return `no query parameter ${q.name}`;
    if (re ? !re.test(v) : v !== q.value)
      return `query ${q.name}=${v} does not match ${q.type === "Exact" ? "" : "~"}${q.value}`;
  }
  return undefined;
}

/** Whether `c`'s path matches `path`. */
function pathMatches(c: CEntry, path: string): boolean {
  const p = c.e.path;
  switch (p.type) {
    case "Exact":
      return path === p.value;
    case "Prefix":
      return prefixMatches(p.value, path);
    case "ImplementationSpecific":
      return path.startsWith(p.value === "" ? "/" : p.value);
    case "RegularExpression":
      return c.pathRe?.test(path) === true;
  }
}

/** The path of an entry in words: `Prefix /cart`, `Exact /`, `RegularExpression ^/v[0-9]+`, then its other conditions. */
export function describeMatch(e: RouteEntry): string {
  const words = [`${e.path.type} ${e.path.value === "" ? "/" : e.path.value}`];
  if (e.method) words.push(`method ${e.method}`);
  for (const h of e.headers) words.push(`header ${h.name}${h.type === "Exact" ? "=" : "~"}${h.value}`);
  for (const q of e.queryParams) words.push(`query ${q.name}${q.type === "Exact" ? "=" : "~"}${q.value}`);
  if (e.fallback) return "defaultBackend";
  return words.join(", ");
}

function compileEntry(api: RouterSpec["api"], e: RouteEntry): CEntry {
  const re = (m: ValueMatch) => (m.type === "RegularExpression" ? wholeMatch(m.value) : undefined);
  const pathRe = e.path.type === "RegularExpression" ? wholeMatch(e.path.value) : undefined;
  const headerRes = e.headers.map(re);
  const queryRes = e.queryParams.map(re);
  const broken =
    (e.path.type === "RegularExpression" && !pathRe) ||
    e.headers.some((h, i) => h.type === "RegularExpression" && !headerRes[i]) ||
    e.queryParams.some((q, i) => q.type === "RegularExpression" && !queryRes[i]);
  return {
    e,
    key: precedenceKey(api, e),
    pathRe,
    headerRes,
    queryRes,
    broken,
    words: describeMatch(e),
    decide: prepareDecision(e),
  };
}

/**
 * The literal text every path a RegularExpression entry matches starts with: the source up to its
 * first special character (a quantified last character dropped); "" when the expression has an
 * alternation anywhere (`/a|/b` need not start with `/a`).
 */
export function regexLiteralPrefix(source: string): string {
  if (source.includes("|")) return "";
  let i = 0;
  while (i < source.length && !"\\^$.|?*+()[]{}".includes(source[i])) i++;
  const quantified = i < source.length && "?*+{".includes(source[i]);
  return source.slice(0, quantified ? Math.max(0, i - 1) : i);
}

/** The trie node under `root` for the path elements of `dir` (`""`: the root), created as needed. */
function nodeFor(root: TrieNode, dir: string): TrieNode {
  let node = root;
  if (dir === "") return node;
  for (const seg of dir.slice(1).split("/")) {
    let next = node.children.get(seg);
    if (!next) {
      next = { children: new Map(), entries: [], loose: [] };
      node.children.set(seg, next);
    }
    node = next;
  }
  return node;
}

function newGroup(host: string | undefined): HostGroup {
  return {
    host,
    exact: new Map(),
    trie: { children: new Map(), entries: [], loose: [] },
    fallbacks: [],
    all: [],
  };
}

function addToGroup(g: HostGroup, c: CEntry): void {
  g.all.push(c);
  const p = c.e.path;
  if (c.e.fallback) g.fallbacks.push(c);
  else if (p.type === "Exact") {
    const list = g.exact.get(p.value);
    if (list) list.push(c);
    else g.exact.set(p.value, [c]);
  } else if (p.type === "Prefix") {
    nodeFor(g.trie, p.value.endsWith("/") ? p.value.slice(0, -1) : p.value).entries.push(c);
  } else {
    // Every match starts with `literal`, so lies under the node of its complete elements.
    const literal =
      p.type === "RegularExpression" ? regexLiteralPrefix(p.value) : p.value === "" ? "/" : p.value;
    const dir = literal.startsWith("/") ? literal.slice(0, literal.lastIndexOf("/")) : "";
    nodeFor(g.trie, dir).loose.push(c);
  }
}

function sortGroup(g: HostGroup): void {
  const by = (a: CEntry, b: CEntry) => compareKeys(a.key, b.key);
  for (const list of g.exact.values()) list.sort(by);
  const stack = [g.trie];
  while (stack.length) {
    const n = stack.pop()!;
    n.entries.sort(by);
    n.loose.sort(by);
    stack.push(...n.children.values());
  }
  g.fallbacks.sort(by);
  g.all.sort(by);
}

/** The most specific host group of `idx` for `host`, with the wildcard rule of `api`. */
function groupFor(idx: ListenerIndex, host: string, wildcard: "label" | "suffix"): HostGroup | undefined {
  const exact = idx.exact.get(host);
  if (exact) return exact;
  if (idx.wild.size > 0) {
    let dot = host.indexOf(".");
    while (dot >= 0 && dot < host.length - 1) {
      const g = idx.wild.get(host.slice(dot + 1));
      if (g) return g;
      if (wildcard === "label") break;
      dot = host.indexOf(".", dot + 1);
    }
  }
  return idx.any;
}

/** The listener a request arrives on: port and scheme, then the most specific hostname. */
function listenerFor(indexes: readonly ListenerIndex[], req: HttpRequest): ListenerIndex | undefined {
  const protocol = req.scheme === "https" ? "HTTPS" : "HTTP";
  let best: ListenerIndex | undefined;
  let bestRank = -1;
  for (const idx of indexes) {
    const l = idx.listener;
    if (l.port !== req.port || l.protocol !== protocol) continue;
    let rank: number;
    if (l.hostname === undefined) rank = 0;
    else if (!hostMatches(l.hostname, req.host, "suffix")) continue;
    else rank = l.hostname.startsWith("*.") ? 1 + l.hostname.length : 1000 + l.hostname.length;
    if (rank > bestRank) {
      best = idx;
      bestRank = rank;
    }
  }
  return best;
}

/** The backend a deterministic choice picks: the largest weight, the first on ties; undefined when every weight is 0. */
export function chooseBackend<B extends HttpBackend>(backends: readonly B[]): B | undefined {
  let best: B | undefined;
  for (const b of backends) if (b.weight > 0 && (!best || b.weight > best.weight)) best = b;
  return best;
}

/** Strips podnet's spec-only fields from a backend (the decision carries the contract's shape). */
function plain(b: SpecBackend): HttpBackend {
  return { namespace: b.namespace, service: b.service, port: b.port, weight: b.weight };
}

/**
 * The decision once entry `e` matched, as a function of the host group (for the words) and the rules
 * looked at before it; the parts that do not depend on the request are made once.
 */
export function prepareDecision(
  e: RouteEntry,
): (host: string | undefined, considered: RejectedRule[]) => RouteDecision {
  const error = (status: 500 | 503, reason: string) => (_h: string | undefined, considered: RejectedRule[]) =>
    ({ outcome: "backend-error", status, rule: e.rule, reason, considered }) as const;
  if (e.error) return error(e.error.status, e.error.reason);
  if (e.backends.length === 0)
    return error(
      500,
      e.filters.length > 0
        ? `the rule has no backendRefs, only filters (${e.filters.join(", ")}), which podnet shows but does not apply`
        : "the rule has no backendRefs",
    );
  const chosen = chooseBackend(e.backends);
  if (!chosen) return error(500, "every backendRef has weight 0");
  if (chosen.invalid) return error(500, chosen.invalid);
  if (chosen.unavailable) return error(503, chosen.unavailable);
  const backends = Object.freeze(e.backends.map((b) => Object.freeze(plain(b)))) as HttpBackend[];
  const chosenPlain = backends[e.backends.indexOf(chosen)];
  const words = describeMatch(e);
  return (host, considered) => ({
    outcome: "routed",
    rule: e.rule,
    matched: `host ${host ?? "*"}, ${words}`,
    backends,
    chosen: chosenPlain,
    filters: e.filters,
    considered,
  });
}

const byKey = (a: CEntry, b: CEntry) => compareKeys(a.key, b.key);

function reject(out: RejectedRule[], c: CEntry, why: string): void {
  if (out.length < MAX_CONSIDERED) out.push({ rule: c.e.rule, why: `${c.words}: ${why}` });
}

/** The first entry of `list` (sorted by precedence) whose conditions hold; the others looked at go to `considered`. */
function firstOf(
  list: readonly CEntry[] | undefined,
  view: RequestView,
  considered: RejectedRule[],
): CEntry | undefined {
  if (!list) return undefined;
  for (const c of list) {
    const miss = conditionMiss(c, view);
    if (miss === undefined) return c;
    reject(considered, c, miss);
  }
  return undefined;
}

/**
 * Compiles a routing table into a Router. Entries whose regular expression does not compile never
 * match (validation reports them). Pure: the router holds no state between requests.
 */
export function compileRouter(spec: RouterSpec): Router {
  const wildcard = spec.api === "Ingress" ? "label" : "suffix";
  const compiled = spec.entries.map((e) => compileEntry(spec.api, e));
  const indexes: ListenerIndex[] = spec.listeners.map((listener) => ({
    listener,
    exact: new Map(),
    wild: new Map(),
    any: undefined,
  }));
  for (const c of compiled)
    for (const idx of indexes) {
      if (c.e.listeners && !c.e.listeners.includes(idx.listener.name)) continue;
      const hosts = c.e.hostnames.length ? c.e.hostnames : [undefined];
      for (const h of new Set(hosts)) {
        let g: HostGroup | undefined;
        if (h === undefined) g = idx.any ??= newGroup(undefined);
        else {
          const map = h.startsWith("*.") ? idx.wild : idx.exact;
          const k = h.startsWith("*.") ? h.slice(2) : h;
          g = map.get(k);
          if (!g) {
            g = newGroup(h);
            map.set(k, g);
          }
        }
        addToGroup(g, c);
      }
    }
  for (const idx of indexes) {
    for (const g of idx.exact.values()) sortGroup(g);
    for (const g of idx.wild.values()) sortGroup(g);
    if (idx.any) sortGroup(idx.any);
  }

  const nodesBuf: TrieNode[] = [];
  const looseBuf: CEntry[] = [];
  const decide = (req: HttpRequest): RouteDecision => {
    const considered: RejectedRule[] = [];
    const idx = listenerFor(indexes, req);
    if (!idx) {
      for (const c of compiled) {
        if (considered.length >= MAX_CONSIDERED) break;
        reject(
          considered,
          c,
          `no ${req.scheme.toUpperCase()} listener on port ${req.port} serves host ${req.host}`,
        );
      }
      return { outcome: "not-found", status: 404, considered };
    }
    const g = groupFor(idx, req.host, wildcard);
    if (!g) {
      for (const c of compiled) {
        if (considered.length >= MAX_CONSIDERED) break;
        reject(considered, c, `host ${req.host} is not among ${c.e.hostnames.join(", ")}`);
      }
      return { outcome: "not-found", status: 404, considered };
    }
    const view = new RequestView(req);
    let best = firstOf(g.exact.get(req.path), view, considered);
    // Prefix: walk down as far as the path goes, then look from the deepest node up; gather the
    // loose entries (ImplementationSpecific, RegularExpression) of every node on the way.
    if (req.path.startsWith("/")) {
      // Buffers reused across decisions (decide is synchronous): fewer allocations per request.
      const nodes = nodesBuf;
      nodes.length = 0;
      nodes.push(g.trie);
      let loose: CEntry[] | undefined;
      if (g.trie.loose.length) {
        loose = looseBuf;
        loose.length = 0;
        for (const c of g.trie.loose) loose.push(c);
      }
      let node: TrieNode | undefined = g.trie;
      let from = 1;
      while (from <= req.path.length) {
        let to = req.path.indexOf("/", from);
        if (to < 0) to = req.path.length;
        node = node.children.get(req.path.slice(from, to));
        if (!node) break;
        nodes.push(node);
        if (node.loose.length) {
          if (!loose) {
            loose = looseBuf;
            loose.length = 0;
          }
          for (const c of node.loose) loose.push(c);
        }
        from = to + 1;
      }
      for (let i = nodes.length - 1; i >= 0; i--) {
        const entries = nodes[i].entries;
        if (entries.length === 0) continue;
        if (best && compareKeys(best.key, entries[0].key) < 0) break;
        const c = firstOf(entries, view, considered);
        if (c) {
          if (!best || compareKeys(c.key, best.key) < 0) best = c;
          break;
        }
      }
      if (loose) {
        if (loose.length > 1) loose.sort(byKey);
        for (const c of loose) {
          if (best && compareKeys(best.key, c.key) < 0) break;
          if (!pathMatches(c, req.path)) continue;
          const miss = conditionMiss(c, view);
          if (miss === undefined) {
            best = c;
            break;
          }
          reject(considered, c, miss);
        }
      }
    }
    if (!best) best = firstOf(g.fallbacks, view, considered);
    if (best) return best.decide(g.host, considered);
    for (const c of g.all) {
      if (considered.length >= MAX_CONSIDERED) break;
      if (!pathMatches(c, req.path)) reject(considered, c, `path ${req.path} does not match`);
    }
    return { outcome: "not-found", status: 404, considered };
  };

  const listing = (): RouteListing[] => {
    const out: RouteListing[] = [];
    const seen = new Map<string, Set<CEntry>>();
    const groups: HostGroup[] = [];
    for (const idx of indexes) {
      groups.push(...[...idx.exact.values()].sort((a, b) => (a.host! < b.host! ? -1 : 1)));
      groups.push(...[...idx.wild.values()].sort((a, b) => b.host!.length - a.host!.length));
      if (idx.any) groups.push(idx.any);
    }
    for (const g of groups)
      for (const c of g.all) {
        const k = g.host ?? "";
        let done = seen.get(k);
        if (!done) {
          done = new Set();
          seen.set(k, done);
        }
        if (done.has(c)) continue;
        done.add(c);
        out.push({
          rule: c.e.rule,
          host: g.host,
          path: c.e.fallback ? "any (defaultBackend)" : describeMatch(c.e),
          backends: c.e.backends.map(plain),
        });
      }
    return out;
  };

  return { controller: spec.controller, listeners: spec.listeners, decide, listing };
}

/**
 * The same decision as `compileRouter(spec).decide`, by a plain scan over every entry: the reference
 * the compiled index is tested against (test/routing-*.test.ts). Slow; `considered` is left empty.
 */
export function decideLinear(spec: RouterSpec, req: HttpRequest): RouteDecision {
  const wildcard = spec.api === "Ingress" ? "label" : "suffix";
  const protocol = req.scheme === "https" ? "HTTPS" : "HTTP";
  const listeners = spec.listeners.filter(
    (l) =>
      l.port === req.port &&
      l.protocol === protocol &&
      (!l.hostname || hostMatches(l.hostname, req.host, "suffix")),
  );
  const lrank = (l: HttpListener) =>
    l.hostname === undefined
      ? 0
      : l.hostname.startsWith("*.")
        ? 1 + l.hostname.length
        : 1000 + l.hostname.length;
  let listener: HttpListener | undefined;
  for (const l of listeners) if (!listener || lrank(l) > lrank(listener)) listener = l;
  if (!listener) return { outcome: "not-found", status: 404, considered: [] };
  const attached = spec.entries.filter((e) => !e.listeners || e.listeners.includes(listener.name));
  // The host: exact, then the longest wildcard, then any.
  const hrank = (h: string | undefined) =>
    h === undefined ? 0 : h.startsWith("*.") ? 1 + h.length : 1000 + h.length;
  let host: string | undefined;
  let found = false;
  for (const e of attached)
    for (const h of e.hostnames.length ? e.hostnames : [undefined])
      if ((h === undefined || hostMatches(h, req.host, wildcard)) && (!found || hrank(h) > hrank(host))) {
        host = h;
        found = true;
      }
  if (!found) return { outcome: "not-found", status: 404, considered: [] };
  const view = new RequestView(req);
  let best: CEntry | undefined;
  for (const e of attached) {
    if (!(host === undefined ? e.hostnames.length === 0 : e.hostnames.includes(host))) continue;
    const c = compileEntry(spec.api, e);
    if (!c.e.fallback && !pathMatches(c, req.path)) continue;
    if (conditionMiss(c, view) !== undefined) continue;
    if (!best || compareKeys(c.key, best.key) < 0) best = c;
  }
  return best ? best.decide(host, []) : { outcome: "not-found", status: 404, considered: [] };
}

/** The path types `RouteEntry.path.type` takes, for tests and generators. */
export const PATH_MATCH_TYPES: readonly PathMatchType[] = [
  "Exact",
  "Prefix",
  "ImplementationSpecific",
  "RegularExpression",
];
