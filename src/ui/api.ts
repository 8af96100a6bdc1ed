/**
 * The web UI's read-only JSON API, one function for the server and the report alike: `get(path,
 * query)` answers `/api/…` questions over the loaded cluster with the core's own answers — `answer`
 * fields are exactly what the CLI's `-o json` prints for the same question — plus drawings (SVG
 * strings, every label escaped). No I/O: the caller loads the input and serves or embeds the answers.
 *
 * Paths: overview, picture[?nodes&pods&services] (the topology drawn; comma-separated names narrow it
 * to a trace's nodes and draw its pods and Service on their own), namespace?name, node?name[&all]
 * (the root namespace's first NODE_ENTRY_LIMIT routes, neighbours and FDB entries, or all), trace?from&to[&protocol&node&reply&all&sport],
 * explain?from&to[&protocol&node], heatmap?level[&protocol&port&rows&cols],
 * connlist[?namespace&selector&port&level], diff, rules?node, resolve?from&name[&type],
 * policy?name[&kind], suggest?q, walks (the tour's walk-throughs, for the trace view).
 */
import type { ClusterState } from "../core/control/state.ts";
import { type Diagnostic, formatDiagnostic, sortDiagnostics } from "../core/diagnostics.ts";
import { resolveFrom } from "../core/dns/exchange.ts";
import { QUERY_TYPES } from "../core/dns/zone.ts";
import type { KubeObject, Protocol } from "../core/model/k8s.ts";
import { formatIPv4 } from "../core/net/ipv4.ts";
import { connlist } from "../core/policy/connlist.ts";
import { diffConnections } from "../core/policy/diff.ts";
import { ingressesWithRealController } from "../core/sim/http-routers.ts";
import { Network } from "../core/sim/network.ts";
import { planTour } from "../core/sim/tour.ts";
import type { Source, TraceResult } from "../core/sim/trace.ts";
import { type HeatmapLevel, ReachabilityView } from "../core/views/heatmap.ts";
import { type NodeDevices, topologyPicture } from "../core/views/picture.ts";
import {
  type ConnGraph,
  connlistGraph,
  diffGraph,
  lineFilter,
  locatePolicy,
  namespaceGraph,
  policySources,
  policyYaml,
} from "../core/views/policy.ts";
import { explainQuestion, traceQuestion } from "../core/views/questions.ts";
import { chainsMentioned, kubeProxyRules } from "../core/views/rules.ts";
import { NODE_ENTRY_LIMIT, namespaceDetail, nodeDetail, topologyOverview } from "../core/views/topology.ts";
import { hopChanges, hopPlaces, tracePictureQuery } from "../core/views/trace-path.ts";
import { drawGraph } from "./draw/graph.ts";
import { drawNode } from "./draw/node.ts";
import { drawTopology } from "./draw/topology.ts";
import { drawTrace } from "./draw/trace.ts";

/** One loaded input: its cluster when it resolved, and its diagnostics either way. */
export interface LoadedInput {
  /** The `-f` paths, for the page's heading. */
  files: string[];
  state?: ClusterState;
  diagnostics: readonly Diagnostic[];
}

/** An answer: HTTP status and a JSON body (`{error}` on 4xx). */
export interface ApiResponse {
  status: number;
  body: unknown;
}

/** A graph is drawn per workload up to this many nodes, else folded into namespaces. */
export const GRAPH_WORKLOAD_LIMIT = 120;

/** The diff's changed cells are counted per workload up to this many workloads, else per namespace. */
const DIFF_WORKLOAD_LIMIT = 300;

const PROTOCOLS = new Set(["TCP", "UDP", "SCTP"]);
const LEVELS = new Set(["namespace", "workload", "pod"]);

/** A diagnostic as the page shows it: the CLI's own line (`file:line:col: error: …`). */
export function diagnosticLines(diags: readonly Diagnostic[]): { severity: string; text: string }[] {
  return sortDiagnostics(diags).map((d) => ({ severity: d.severity, text: formatDiagnostic(d) }));
}

/** The canonical key of a question (sorted, empty values dropped): the report stores answers by it. */
export function questionKey(path: string, query: URLSearchParams): string {
  const entries = [...query].filter(([, v]) => v !== "").sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const qs = new URLSearchParams(entries).toString();
  return qs ? `${path}?${qs}` : path;
}

const bad = (error: string): ApiResponse => ({ status: 400, body: { error } });
const notFound = (error: string): ApiResponse => ({ status: 404, body: { error } });
const ok = (body: unknown): ApiResponse => ({ status: 200, body });

/** Answers the UI's questions over one input (and, for `diff`, a second). */
export class UiApi {
  readonly #net?: Network;
  #reach?: ReachabilityView;
  #walks?: { title: string; from: string; to: string; node?: string; reply: boolean }[];
  #policies?: Map<string, { kind: string; name: string; object: KubeObject }>;
  /** The whole cluster's picture: the first view's, asked again on every return to it. */
  #picture?: unknown;
  /** Nodes' devices, built once each (the input does not change while it is served). */
  readonly #devices = new Map<string, NodeDevices>();

  constructor(
    readonly input: LoadedInput,
    readonly against?: LoadedInput,
  ) {
    if (input.state) this.#net = new Network(input.state);
  }

  get #view(): ReachabilityView {
    this.#reach ??= new ReachabilityView(this.input.state!);
    return this.#reach;
  }

  /** Answers `/api/<path>`; never throws for bad input (400 with the message instead). */
  async get(path: string, query: URLSearchParams): Promise<ApiResponse> {
    const name = path.replace(/^\/api\//, "");
    if (name === "overview") return ok(this.overview());
    const net = this.#net;
    if (!net)
      return {
        status: 409,
        body: {
          error: "the input has errors: nothing was resolved",
          diagnostics: diagnosticLines(this.input.diagnostics),
        },
      };
    const q = (k: string) => query.get(k) ?? undefined;
    switch (name) {
      case "namespace": {
        const d = namespaceDetail(net.state, q("name") ?? "");
        return d ? ok(d) : notFound(namespaceMissing(net.state, q("name") ?? ""));
      }
      case "picture": {
        const list = (k: string) =>
          q(k)
            ?.split(",")
            .map((x) => x.trim())
            .filter(Boolean);
        const nodes = list("nodes");
        const pods = list("pods");
        const services = list("services");
        const whole = !nodes && !pods && !services;
        if (whole && this.#picture) return ok(this.#picture);
        const picture = topologyPicture(net.state, { nodes, pods, services }, this.#devices);
        const body = { picture, svg: await drawTopology(picture, `topology of ${picture.cluster}`) };
        if (whole) this.#picture = body;
        return ok(body);
      }
      case "node": {
        // The first NODE_ENTRY_LIMIT entries of each list unless `all=1`.
        const d = nodeDetail(net.state, q("name") ?? "", q("all") === "1" ? {} : { limit: NODE_ENTRY_LIMIT });
        return d
          ? ok({ ...d, svg: drawNode(d) })
          : notFound(
              `node "${q("name") ?? ""}" not found; nodes: ${net.state.nodes.map((n) => n.name).join(", ")}`,
            );
      }
      case "trace":
        return this.trace(net, query);
      case "explain": {
        const from = q("from");
        const to = q("to");
        if (!from || !to) return bad("give from and to (as trace and explain's --from and --to)");
        const x = explainQuestion(net, { from, to, protocol: q("protocol"), node: q("node") });
        if (!x.ok && x.kind === "bad-input") return bad(`${x.option}: ${x.message}`);
        if (!x.ok) return ok({ unresolved: x.reason });
        const names = new Set(
          x.explanations.flatMap((e) => [
            ...(e.egress?.selectedBy ?? []),
            ...(e.ingress?.selectedBy ?? []),
            ...[e.egress?.allowedBy?.policy, e.ingress?.allowedBy?.policy].filter((p): p is string => !!p),
          ]),
        );
        const walk = x.explanations
          .flatMap((e) => [...(e.egress?.walk ?? []), ...(e.ingress?.walk ?? [])])
          .join("\n");
        const policies = [...this.#policySources().values()].filter(
          (p) => names.has(p.name) || walk.includes(`${p.kind}/${p.name}`),
        );
        // Kind and name only: where each was written is found when its text is asked (`policy`), as
        // finding a position reads the structure of its whole source file.
        return ok({ answer: x.answer, policies: policies.map(({ kind, name: n }) => ({ kind, name: n })) });
      }
      case "heatmap": {
        const level = q("level") ?? "namespace";
        if (!LEVELS.has(level)) return bad(`level "${level}": use namespace, workload or pod`);
        const protocol = (q("protocol") ?? "TCP").toUpperCase();
        if (!PROTOCOLS.has(protocol)) return bad(`protocol "${q("protocol")}": use TCP, UDP or SCTP`);
        const port = q("port");
        if (!portOk(port)) return bad(`port "${port}": a number from 1 to 65535`);
        const h = this.#view.heatmap({
          level: level as HeatmapLevel,
          protocol: protocol as Protocol,
          ...(port ? { port: Number(port) } : {}),
          rows: q("rows"),
          cols: q("cols"),
        });
        return ok({ heatmap: h });
      }
      case "connlist": {
        const port = q("port");
        if (!portOk(port)) return bad(`port "${port}": a number from 1 to 65535`);
        const ns = q("namespace");
        if (ns && !net.state.namespaces.some((n) => n.metadata.name === ns))
          return notFound(namespaceMissing(net.state, ns));
        const f = lineFilter(net.state, {
          namespace: q("namespace"),
          selector: q("selector"),
          ...(port ? { port: Number(port) } : {}),
        });
        if (!f.ok) return bad(f.message);
        // As `podnet connlist`: an Ingress whose controller runs as a pod of the input has that pod's lines.
        const lines = connlist(net.state, {
          realControllers: ingressesWithRealController(net.state),
        }).filter((l) => f.keep(l.src, l.dst, l.conn));
        const { graph, folded } = this.#fold(connlistGraph(lines), q("level"));
        return ok({
          lines,
          folded,
          svg: await drawGraph(graph, folded ? "connlist, by namespace" : "connlist"),
        });
      }
      case "diff": {
        if (!this.against) return notFound("no second input: start podnet ui or report with --against NEW");
        if (!this.against.state)
          return {
            status: 409,
            body: {
              error: "the --against input has errors",
              diagnostics: diagnosticLines(this.against.diagnostics),
            },
          };
        const diffs = diffConnections(net.state, this.against.state);
        const g = diffGraph(diffs);
        const { graph, folded } = this.#fold(g, q("level"));
        // Cells per workload when there are few enough to read, else per namespace.
        const afterView = new ReachabilityView(this.against.state);
        let level: HeatmapLevel = "workload";
        let before = this.#view.heatmap({ level });
        let after = afterView.heatmap({ level });
        if (before.rows.length > DIFF_WORKLOAD_LIMIT || after.rows.length > DIFF_WORKLOAD_LIMIT) {
          level = "namespace";
          before = this.#view.heatmap({ level });
          after = afterView.heatmap({ level });
        }
        return ok({
          diffs,
          counts: g.counts,
          folded,
          svg: await drawGraph(graph, folded ? "diff, by namespace" : "diff"),
          cellsLevel: level,
          cells: heatmapCells(before, after),
        });
      }
      case "rules": {
        const nodeName = q("node") ?? net.state.nodes[0]?.name;
        const node = net.state.nodes.find((n) => n.name === nodeName);
        if (!node)
          return notFound(
            `node "${nodeName}" not found; nodes: ${net.state.nodes.map((n) => n.name).join(", ")}`,
          );
        return ok({
          node: node.name,
          proxyMode: net.state.config.proxyMode,
          text: kubeProxyRules(net.state, node),
        });
      }
      case "resolve": {
        const from = q("from") ?? "";
        const pod = net.state.pods.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === from);
        if (!pod) return notFound(`pod "${from}" not found (give ns/name)`);
        const type = (q("type") ?? "A").toUpperCase();
        if (!(QUERY_TYPES as readonly string[]).includes(type))
          return bad(`type "${type}": use ${QUERY_TYPES.join(", ")}`);
        const nameAsked = q("name");
        if (!nameAsked) return bad("give the name to resolve");
        return ok({ answer: resolveFrom(net, pod, nameAsked, type) });
      }
      case "policy": {
        const p = this.#policySources().get(`${q("kind") ?? ""}/${q("name") ?? ""}`);
        const any = p ?? [...this.#policySources().values()].find((x) => x.name === q("name"));
        return any
          ? ok({ ...locatePolicy(net.state, any), yaml: policyYaml(any.object) })
          : notFound(`policy "${q("name") ?? ""}" not found`);
      }
      case "walks":
        return ok({ walks: this.walks() });
      case "suggest":
        return ok({ names: suggest(net.state, q("q") ?? "") });
      default:
        return notFound(`no such question: /api/${name}`);
    }
  }

  /**
   * Compiles the reachability (seconds on the largest clusters) so that the policy view answers at
   * once; the server calls it after answering the first view.
   */
  warm(): void {
    if (!this.#net) return;
    this.#view.heatmap({ level: "namespace" });
    // And the per-namespace and per-workload pod indexes a drill-down uses.
    const [a, b] = this.#view.pods;
    const ns = a?.metadata.namespace;
    if (ns) this.#view.heatmap({ level: "workload", rows: ns, cols: ns });
    // And the policy engine's own indexes, built on its first verdict.
    if (a && b)
      explainQuestion(this.#net, {
        from: `${a.metadata.namespace}/${a.metadata.name}`,
        to: `${b.metadata.namespace}/${b.metadata.name}:80`,
      });
  }

  /** The first view: the topology, the input's diagnostics, and what else can be asked. */
  overview(): unknown {
    const { state, files, diagnostics } = this.input;
    const base = {
      files,
      diagnostics: diagnosticLines(diagnostics),
      ...(this.against
        ? { against: { files: this.against.files, diagnostics: diagnosticLines(this.against.diagnostics) } }
        : {}),
    };
    if (!state) return { ok: false, ...base };
    return { ok: true, ...base, topology: topologyOverview(state) };
  }

  /** The guided tour's walk-throughs (as `podnet demo` chooses them), as questions the trace view asks. */
  walks(): { title: string; from: string; to: string; node?: string; reply: boolean }[] {
    if (!this.#net) return [];
    this.#walks ??= planTour(this.#net).walks.map((w) => ({
      title: w.title,
      ...sourceText(w.request.source),
      to: `${formatIPv4(w.request.dst)}:${w.request.dport}`,
      reply: w.reply,
    }));
    return this.#walks;
  }

  trace(net: Network, query: URLSearchParams): ApiResponse {
    const from = query.get("from");
    const to = query.get("to");
    if (!from || !to) return bad("give from and to (as trace's --from and --to)");
    const sport = query.get("sport");
    const t = traceQuestion(
      net,
      { from, to, protocol: query.get("protocol") || undefined, node: query.get("node") || undefined },
      {
        reply: query.get("reply") === "1",
        allEndpoints: query.get("all") === "1",
        ...(sport ? { sourcePort: Number(sport) } : {}),
      },
    );
    if (!t.ok) return bad(`${t.option}: ${t.message}`);
    const drawn: { label: string; result: TraceResult }[] = t.single
      ? [{ label: "", result: t.single }]
      : (t.traces ?? []).map((x) => ({ label: `via endpoint ${x.endpoint}`, result: x }));
    if (t.dns?.query) drawn.unshift({ label: "DNS query to the cluster DNS", result: t.dns.query });
    // The hop list as drawn: each part's hops then its reply's, with what each hop changed.
    const parts = drawn.flatMap(({ label, result }) => [
      {
        label,
        verdict: result.verdict,
        reason: result.reason,
        hops: result.hops,
        changes: hopChanges(result.hops),
        places: hopPlaces(result.hops),
      },
      ...(result.reply
        ? [
            {
              label: `reply${label ? ` (${label})` : ""}`,
              verdict: result.reply.verdict,
              reason: result.reply.reason,
              hops: result.reply.hops,
              changes: hopChanges(result.reply.hops),
              places: hopPlaces(result.reply.hops),
            },
          ]
        : []),
    ]);
    const chains = chainsMentioned(parts.flatMap((p) => p.hops.map((h) => h.detail)));
    const nodes = [
      ...new Set(parts.flatMap((p) => p.hops.map((h) => h.at)).filter((a) => a.startsWith("node "))),
    ].map((a) => a.slice(5));
    const service = (t.answer as { service?: unknown }).service;
    return ok({
      heading: t.heading,
      getsThere: t.getsThere,
      // The topology picture to draw the path over (the page asks `picture` with it).
      picture: tracePictureQuery(
        parts.flatMap((p) => p.hops),
        typeof service === "string" ? service : undefined,
      ),
      answer: t.answer,
      parts,
      chains,
      nodes,
      svg: drawn.length ? drawTrace(drawn, `trace ${t.heading}`) : undefined,
    });
  }

  #fold(g: ConnGraph, level: string | undefined): { graph: ConnGraph; folded: boolean } {
    const folded = level === "namespace" || (level !== "workload" && g.nodes.length > GRAPH_WORKLOAD_LIMIT);
    return { graph: folded ? namespaceGraph(g) : g, folded };
  }

  #policySources(): Map<string, { kind: string; name: string; object: KubeObject }> {
    this.#policies ??= new Map(policySources(this.input.state!).map((p) => [`${p.kind}/${p.name}`, p]));
    return this.#policies;
  }
}

function sourceText(s: Source): { from: string; node?: string } {
  if (s.kind === "pod") return { from: `${s.pod.metadata.namespace}/${s.pod.metadata.name}` };
  if (s.kind === "node") return { from: `node/${s.node.name}` };
  return { from: formatIPv4(s.ip), node: s.node.name };
}

/** Namespace-level cells of two heatmaps side by side, each marked added, removed, changed or same. */
function heatmapCells(
  before: { rows: { id: string; pods: number }[]; cols: { id: string }[]; allowed: number[][] },
  after: { rows: { id: string; pods: number }[]; cols: { id: string }[]; allowed: number[][] },
): { from: string; to: string; before: number | null; after: number | null; kind: string }[] {
  const table = (h: typeof before) => {
    const m = new Map<string, number>();
    h.rows.forEach((r, i) => {
      h.cols.forEach((c, j) => {
        m.set(`${r.id}\u0000${c.id}`, h.allowed[i][j]);
      });
    });
    return m;
  };
  const a = table(before);
  const b = table(after);
  const out: { from: string; to: string; before: number | null; after: number | null; kind: string }[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const [from, to] = key.split("\u0000");
    const x = a.get(key);
    const y = b.get(key);
    const kind = x === undefined ? "added" : y === undefined ? "removed" : x === y ? "same" : "changed";
    if (kind !== "same") out.push({ from, to, before: x ?? null, after: y ?? null, kind });
  }
  return out.sort((p, q) => (p.from + p.to < q.from + q.to ? -1 : 1));
}

/** Up to 20 names that start with (or contain) `q`: pods `ns/name`, Services `name.ns`, `node/NAME`. */
function suggest(state: ClusterState, q: string): string[] {
  const out: string[] = [];
  const more: string[] = [];
  const consider = (name: string) => {
    if (out.length >= 20) return;
    if (name.startsWith(q)) out.push(name);
    else if (more.length < 20 && name.includes(q)) more.push(name);
  };
  for (const n of state.nodes) consider(`node/${n.name}`);
  for (const s of state.services) consider(`${s.metadata.name}.${s.metadata.namespace}`);
  for (const p of state.pods) {
    if (out.length >= 20) break;
    if (p.status?.podIP) consider(`${p.metadata.namespace}/${p.metadata.name}`);
  }
  return [...out, ...more].slice(0, 20);
}

/** An absent query port, or a port number from 1 to 65535 (as the CLI's --port takes it). */
function portOk(port: string | undefined): boolean {
  return port === undefined || (/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);
}

/** `namespace "x" not found; the cluster has a, b, c` (the first 20), as the CLI's -n says. */
function namespaceMissing(state: ClusterState, ns: string): string {
  const names = state.namespaces.map((n) => n.metadata.name ?? "").sort();
  const shown = names.slice(0, 20).join(", ");
  return `namespace "${ns}" not found; the cluster has ${shown}${names.length > 20 ? `, … (${names.length} in all)` : ""}`;
}
