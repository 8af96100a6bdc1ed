/**
 * `podnet report`: the web UI's views as one self-contained HTML file. The answers a reader can reach
 * by clicking are asked of the same API as `podnet ui` (src/ui/api.ts) when the report is written
 * and embedded by question key; the page's script reads them instead of fetching. What is embedded:
 * the overview and the topology picture, every namespace and (up to NODE_LIMIT) node with its rules, the heatmap at each level
 * for TCP and UDP on any port and on the most declared ports, explanations of pod-level cells for
 * small clusters, the connlist, the diff, the tour's traces (each with the picture its path is drawn over), its name lookups, and every policy's
 * text. Questions outside that set say so and point to `podnet ui`.
 */

import type { Pod } from "../core/model/k8s.ts";
import { workloadOf } from "../core/policy/connlist.ts";
import { Network } from "../core/sim/network.ts";
import { planTour } from "../core/sim/tour.ts";
import { POD_LIMIT } from "../core/views/heatmap.ts";
import { declaredPorts } from "../core/views/policy.ts";
import { type LoadedInput, questionKey, UiApi } from "./api.ts";
import { renderPage } from "./page.ts";

/** Nodes whose detail and rules are embedded. */
export const NODE_LIMIT = 30;
/** Pods up to which every pod pair's explanation is embedded. */
export const EXPLAIN_POD_LIMIT = 60;
/** Names (pods, Services, nodes) embedded for the trace form's suggestions. */
const NAME_LIMIT = 3000;

export interface ReportOptions {
  title: string;
}

/** Writes nothing: returns the report's HTML and how many answers it holds. */
export async function buildReport(
  input: LoadedInput,
  against: LoadedInput | undefined,
  opts: ReportOptions,
): Promise<{ html: string; answers: number }> {
  const api = new UiApi(input, against);
  const answers: Record<string, unknown> = {};
  const ask = async (path: string, params: Record<string, string | undefined> = {}) => {
    const query = new URLSearchParams(
      Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""),
    );
    const key = questionKey(`/api/${path}`, query);
    if (key in answers) return answers[key] as { status: number; body: unknown };
    const r = await api.get(`/api/${path}`, query);
    answers[key] = r;
    return r;
  };
  const overview = (await ask("overview")) as { body: Record<string, unknown> };
  await ask("picture");
  const state = input.state;
  if (state) {
    const names = [
      ...state.nodes.map((n) => `node/${n.name}`),
      ...state.services.map((s) => `${s.metadata.name}.${s.metadata.namespace}`),
      ...state.pods.filter((p) => p.status?.podIP).map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    ];
    if (names.length <= NAME_LIMIT) overview.body.names = names;
    for (const ns of new Set(state.pods.map((p) => p.metadata.namespace!)))
      await ask("namespace", { name: ns });
    for (const n of state.namespaces) await ask("namespace", { name: n.metadata.name });
    for (const n of state.nodes.slice(0, NODE_LIMIT)) {
      await ask("node", { name: n.name });
      await ask("rules", { node: n.name });
    }
    // The heatmap: each level for TCP and UDP on any port, and for the most declared TCP ports.
    const counts = new Map<number, number>();
    for (const p of state.pods)
      for (const port of declaredPorts(p, "TCP")) counts.set(port, (counts.get(port) ?? 0) + 1);
    const ports = [...counts]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, 8)
      .map(([p]) => String(p));
    const running = state.pods.filter((p) => p.status?.podIP).length;
    const levels = ["namespace", "workload", ...(running <= POD_LIMIT ? ["pod"] : [])];
    for (const [protocol, portList] of [
      ["TCP", ["", ...ports]],
      ["UDP", [""]],
    ] as const)
      for (const port of portList)
        for (const level of levels) await ask("heatmap", { level, protocol, port });
    // Explanations of pod-level cells, TCP on the port the page picks (the destination's first
    // declared one), for one pod per workload: the pods of a workload share labels, so the page
    // shows a representative's explanation for the others, and says so.
    if (running <= EXPLAIN_POD_LIMIT) {
      const owner = workloadOf(state);
      const reps = new Map<string, Pod>();
      const representative: Record<string, string> = {};
      const id = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
      for (const p of state.pods) {
        if (!p.status?.podIP || p.status.phase === "Succeeded" || p.status.phase === "Failed") continue;
        const w = owner(p);
        if (!reps.has(w)) reps.set(w, p);
        representative[id(p)] = id(reps.get(w)!);
      }
      overview.body.representatives = representative;
      for (const a of reps.values())
        for (const b of reps.values()) {
          const port = declaredPorts(b, "TCP")[0];
          if (port === undefined) continue;
          await ask("explain", { from: id(a), to: `${id(b)}:${port}`, protocol: "TCP" });
        }
    }
    await ask("connlist");
    if (against) await ask("diff");
    await ask("walks");
    for (const w of api.walks()) {
      const t = await ask("trace", { from: w.from, to: w.to, node: w.node, reply: w.reply ? "1" : "" });
      // The topology its path is drawn over.
      const picture = (t.body as { picture?: Record<string, string> }).picture;
      if (t.status === 200 && picture) await ask("picture", picture);
    }
    const tour = planTour(new Network(state));
    if (tour.names)
      for (const l of tour.names.lookups)
        await ask("resolve", {
          from: `${tour.names.pod.metadata.namespace}/${tour.names.pod.metadata.name}`,
          name: l.name,
        });
    for (const p of [
      ...state.networkPolicies,
      ...state.adminNetworkPolicies,
      ...state.baselineAdminNetworkPolicies,
      ...state.clusterNetworkPolicies,
    ])
      await ask("policy", {
        kind: p.kind,
        name: p.metadata.namespace ? `${p.metadata.namespace}/${p.metadata.name}` : p.metadata.name,
      });
  }
  const page = await renderPage({ mode: "report", title: opts.title, answers });
  return { html: page.html, answers: Object.keys(answers).length };
}
