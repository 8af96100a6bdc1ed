/**
 * A graph of workloads (connlist, diff) laid out in-process with elkjs's layered algorithm, namespaces
 * as compound nodes, and drawn as SVG: boxes for workloads and outside ranges, arrows labelled with
 * their ports (a diff's edges coloured and signed by kind, own-node lines dashed).
 */

import elkModule from "elkjs/lib/elk.bundled.js";
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api.js";
import type { ConnGraph } from "../../core/views/policy.ts";
import { clip, esc, PALETTE, svgDocument, textWidth } from "./svg.ts";

// elkjs is CommonJS; its types describe the constructor as `default`, which it also exports at run time.
const ELK = elkModule.default;

const SIGN = { added: "+", removed: "−", changed: "~" } as const;
const LABEL_MAX = 48;

/** Lays the graph out and returns the SVG; deterministic for the same graph. */
export async function drawGraph(g: ConnGraph, title: string): Promise<string> {
  if (g.nodes.length === 0) {
    const text = "no connection to draw";
    return svgDocument(textWidth(text) + 40, 60, `<text x="20" y="35">${esc(text)}</text>`, title);
  }
  const id = new Map<string, string>();
  g.nodes.forEach((n, i) => {
    id.set(n.id, `n${i}`);
  });
  const byGroup = new Map<string, ElkNode[]>();
  const top: ElkNode[] = [];
  for (const n of g.nodes) {
    const label = clip(n.label, 40);
    const node: ElkNode = { id: id.get(n.id)!, width: textWidth(label) + 20, height: 28 };
    if (n.group) {
      const list = byGroup.get(n.group) ?? [];
      list.push(node);
      byGroup.set(n.group, list);
    } else top.push(node);
  }
  g.groups.forEach((ns, i) => {
    top.push({
      id: `g${i}`,
      labels: [{ text: ns, width: textWidth(ns) + 8, height: 16 }],
      layoutOptions: {
        "elk.padding": "[top=28,left=10,bottom=10,right=10]",
        "elk.nodeLabels.placement": "INSIDE V_TOP H_LEFT",
      },
      children: byGroup.get(ns) ?? [],
    });
  });
  const edges: ElkExtendedEdge[] = g.edges.map((e, i) => {
    const text = clip(`${e.kind ? `${SIGN[e.kind]} ` : ""}${e.label}`, LABEL_MAX);
    return {
      id: `e${i}`,
      sources: [id.get(e.src)!],
      targets: [id.get(e.dst)!],
      labels: [{ text, width: textWidth(text, 10) + 4, height: 14 }],
    };
  });
  const elk = new ELK();
  const laid: ElkNode = await elk.layout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.spacing.nodeNode": "16",
      "elk.layered.spacing.nodeNodeBetweenLayers": "40",
      "elk.edgeLabels.placement": "CENTER",
      "elk.edgeRouting": "POLYLINE",
      "elk.padding": "[top=20,left=20,bottom=20,right=20]",
    },
    children: top,
    edges,
  });
  // Absolute positions of every node (children are relative to their parent).
  const abs = new Map<string, { x: number; y: number }>();
  const walk = (n: ElkNode, ox: number, oy: number) => {
    const x = ox + (n.x ?? 0);
    const y = oy + (n.y ?? 0);
    abs.set(n.id, { x, y });
    for (const c of n.children ?? []) walk(c, x, y);
  };
  walk(laid, -(laid.x ?? 0), -(laid.y ?? 0));
  const out: string[] = [
    `<defs>${(["neutral", "added", "removed", "changed"] as const)
      .map(
        (k) =>
          `<marker id="arrow-${k}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${PALETTE[k]}"/></marker>`,
      )
      .join("")}</defs>`,
  ];
  const names = new Map(g.nodes.map((n) => [id.get(n.id)!, n]));
  const drawNode = (n: ElkNode) => {
    const p = abs.get(n.id)!;
    if (n.children) {
      const ns = g.groups[Number(n.id.slice(1))];
      out.push(
        `<g class="ns" data-namespace="${esc(ns)}"><rect x="${p.x}" y="${p.y}" width="${n.width}" height="${n.height}" rx="6" fill="${PALETTE.group}" stroke="#bbbbbb"/><text x="${p.x + 8}" y="${p.y + 18}" font-weight="bold">${esc(clip(ns, 60))}</text></g>`,
      );
      for (const c of n.children) drawNode(c);
      return;
    }
    const info = names.get(n.id)!;
    const outside = !info.group;
    out.push(
      `<g class="node" tabindex="0" data-id="${esc(info.id)}"><title>${esc(info.id)}</title><rect x="${p.x}" y="${p.y}" width="${n.width}" height="${n.height}" rx="4" fill="#ffffff" stroke="${outside ? PALETTE.denied : PALETTE.allowed}" stroke-width="1.5"${outside ? ' stroke-dasharray="4 2"' : ""}/><text x="${p.x + 10}" y="${p.y + 18}">${esc(clip(info.label, 40))}</text></g>`,
    );
  };
  for (const n of laid.children ?? []) drawNode(n);
  for (const e of (laid.edges ?? []) as ElkExtendedEdge[]) {
    const i = Number(e.id.slice(1));
    const info = g.edges[i];
    const kind = info.kind ?? "neutral";
    const o = abs.get((e as { container?: string }).container ?? "root") ?? { x: 0, y: 0 };
    for (const s of e.sections ?? []) {
      const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((q) => `${q.x + o.x},${q.y + o.y}`);
      out.push(
        `<g class="edge" data-edge="${i}"><title>${esc(`${info.src} => ${info.dst} : ${info.label}${info.kind ? ` (${info.kind})` : ""}${info.ownNode ? " (own node)" : ""}`)}</title><polyline points="${pts.join(" ")}" fill="none" stroke="${PALETTE[kind]}" stroke-width="${info.kind ? 2 : 1.2}"${info.ownNode || info.kind === "removed" ? ' stroke-dasharray="5 3"' : ""} marker-end="url(#arrow-${kind})"/></g>`,
      );
    }
    for (const l of e.labels ?? []) {
      const x = (l.x ?? 0) + o.x;
      const y = (l.y ?? 0) + o.y;
      out.push(
        `<text x="${x + 2}" y="${y + 11}" font-size="10" fill="${info.kind ? PALETTE[kind] : "#333333"}">${esc(l.text ?? "")}</text>`,
      );
    }
  }
  return svgDocument(laid.width ?? 100, laid.height ?? 100, out.join(""), title);
}
