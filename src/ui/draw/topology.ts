/**
 * The topology picture (../../core/views/picture.ts) laid out in-process and drawn as SVG, top to
 * bottom: Services over their endpoint pods; each node a box with its pods grouped by namespace, the
 * host ends of their links, the bridge, the node's IP stack (its routes and kube-proxy's rules), the
 * tunnel device and eth0; the underlay joining the nodes' eth0 at the bottom.
 *
 * A node's inside is always the same stack of layers (pods, links, bridge, IP stack, tunnel, eth0 —
 * the order a packet crosses them), and nodes are peers on one underlay, so the picture is placed
 * row by row here, in well under a millisecond per node, rather than by a general graph layout:
 * elkjs's layered algorithm over the same boxes as one nested graph took ~1 s of CPU for the three
 * nodes of examples/shop (0.5 s with its nesting removed), and put every node in one row.
 *
 * Every element a trace can stop at carries what names it (`data-pod="ns/name"`, `data-node` with
 * `data-device`, `data-stack`, `data-underlay`), so the page highlights a trace's hops by selecting
 * them, and tests read the picture's pods and devices back. Every label passes through `esc`; links
 * (`<a href="#/topology?node=…">`) are built from encoded names.
 */

import type { DeviceView } from "../../core/views/devices.ts";
import type { PictureNode, TopologyPicture } from "../../core/views/picture.ts";
import { clip, esc, PALETTE, svgDocument, textWidth } from "./svg.ts";

const LINE = 14;
const MAX = 34;
const GAP = 10;
const ROW_GAP = 22;
/** Items of one namespace per row inside a node (each pod over the host end of its link). */
const PER_ROW = 12;

/** One box: where, its lines of text (the first bold), its look and the attributes that name it. */
interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
  lines: string[];
  cls: string;
  attrs: Record<string, string>;
  stroke: string;
  fill?: string;
  dashed?: boolean;
  href?: string;
}

const DEVICE_STROKE: Record<DeviceView["kind"], string> = {
  ethernet: "#333333",
  bridge: PALETTE.policy,
  veth: PALETTE.line,
  vxlan: PALETTE.encap,
  ipip: PALETTE.encap,
  loopback: PALETTE.line,
};

const KIND_WORD: Record<DeviceView["kind"], string> = {
  ethernet: "underlay",
  bridge: "bridge",
  veth: "veth",
  vxlan: "VXLAN tunnel",
  ipip: "IP-in-IP tunnel",
  loopback: "loopback",
};

const topologyHash = (key: string, value: string) => `#/topology?${key}=${encodeURIComponent(value)}`;

const boxWidth = (lines: string[]) =>
  Math.max(60, ...lines.map((l, i) => textWidth(clip(l, MAX), i === 0 ? 14 : 11))) + 16;
const boxHeight = (lines: string[]) => lines.length * LINE + 10;

/** A box of text at (0, 0), placed later. */
function box(b: Omit<Box, "x" | "y" | "w" | "h">): Box {
  return { ...b, x: 0, y: 0, w: boxWidth(b.lines), h: boxHeight(b.lines) };
}

/** A node laid out at (0, 0): its boxes, its lines (pairs of box indexes) and its size. */
interface NodeLayout {
  boxes: Box[];
  links: [Box, Box][];
  w: number;
  h: number;
  pod: Map<string, Box>;
}

/** Places a node's inside row by row: namespaces with their pods, links, bridge, stack, tunnel, eth0. */
function layoutNode(n: PictureNode): NodeLayout {
  const boxes: Box[] = [];
  const links: [Box, Box][] = [];
  const pod = new Map<string, Box>();
  const title = `node ${n.name} ${n.ip} · ${n.blockTerm} ${n.podBlocks} · ${n.pods} pods`;
  let y = 34;
  // Namespaces side by side, each with its pods and counted workloads in rows of PER_ROW.
  const perNs = new Map<string, Box[]>();
  const nsItems = (ns: string) => {
    let list = perNs.get(ns);
    if (!list) {
      list = [];
      perNs.set(ns, list);
    }
    return list;
  };
  const devLines = (d: DeviceView) => [
    `${d.name} (${KIND_WORD[d.kind]})`,
    ...(d.addresses.length ? [d.addresses.join(", ")] : []),
  ];
  const byName = new Map(n.devices.map((d) => [d.name, d]));
  for (const p of n.shownPods) {
    const link = byName.get(p.hostInterface);
    const b = box({
      lines: [p.id.slice(p.namespace.length + 1), `eth0 ${p.ip}`],
      cls: "tp-pod",
      attrs: {
        "data-pod": p.id,
        "data-node": n.name,
        "data-link": p.hostInterface,
        "data-workload": p.workload,
      },
      stroke: PALETTE.allowed,
    });
    if (link) b.w = Math.max(b.w, boxWidth(devLines(link)));
    pod.set(p.id, b);
    nsItems(p.namespace).push(b);
  }
  const groups: Box[] = n.groups.map((g) => {
    const b = box({
      lines: [
        g.workload ? g.workload.slice(g.namespace.length + 1) : "pods",
        `${g.pods} pod${g.pods === 1 ? "" : "s"}`,
      ],
      cls: "tp-group",
      attrs: { "data-namespace": g.namespace, ...(g.workload ? { "data-workload": g.workload } : {}) },
      stroke: PALETTE.allowed,
      dashed: true,
      href: topologyHash("ns", g.namespace),
    });
    nsItems(g.namespace).push(b);
    return b;
  });
  let x = GAP;
  let rowBottom = y;
  for (const [ns, items] of perNs) {
    const frame = box({
      lines: [ns],
      cls: "tp-ns",
      attrs: { "data-namespace": ns },
      stroke: "#bbbbbb",
      fill: PALETTE.group,
      href: topologyHash("ns", ns),
    });
    boxes.push(frame);
    let ix = x + GAP;
    let iy = y + 24;
    let right = x + frame.w;
    let lineH = 0;
    items.forEach((b, i) => {
      if (i > 0 && i % PER_ROW === 0) {
        ix = x + GAP;
        iy += lineH + GAP;
        lineH = 0;
      }
      b.x = ix;
      b.y = iy;
      ix += b.w + GAP;
      right = Math.max(right, ix);
      lineH = Math.max(lineH, b.h);
      boxes.push(b);
    });
    Object.assign(frame, { x, y, w: right - x, h: iy + lineH + GAP - y });
    x = right + GAP;
    rowBottom = Math.max(rowBottom, frame.y + frame.h);
  }
  let width = Math.max(x, textWidth(title, 13) + 2 * GAP);
  // The host ends of the shown pods' links under their pods; the other pods' as one count.
  y = rowBottom + ROW_GAP;
  const dev = new Map<string, Box>();
  const devBox = (d: DeviceView) => {
    const b = box({
      lines: devLines(d),
      cls: "tp-dev",
      attrs: { "data-node": n.name, "data-device": d.name, "data-kind": d.kind },
      stroke: DEVICE_STROKE[d.kind],
    });
    dev.set(d.name, b);
    boxes.push(b);
    return b;
  };
  const row: Box[] = [];
  const byPod = new Map(n.shownPods.map((p) => [p.hostInterface, p.id]));
  const layered = new Set(["bridge", "vxlan", "ipip", "ethernet"]);
  for (const d of n.devices) if (!layered.has(d.kind)) row.push(devBox(d));
  const linksBox = n.linksNotShown
    ? box({
        lines: [
          `${n.linksNotShown} pod links`,
          n.devices.some((d) => d.kind === "bridge") ? "veth ports" : "routed",
        ],
        cls: "tp-links",
        attrs: { "data-node": n.name },
        stroke: PALETTE.line,
        dashed: true,
      })
    : undefined;
  if (linksBox) {
    boxes.push(linksBox);
    row.push(linksBox);
  }
  const hostNet = n.hostNetworkPods
    ? box({
        lines: ["host network", `${n.hostNetworkPods} pod${n.hostNetworkPods === 1 ? "" : "s"}`],
        cls: "tp-hostnet",
        attrs: { "data-node": n.name },
        stroke: PALETTE.line,
        dashed: true,
      })
    : undefined;
  if (hostNet) boxes.push(hostNet);
  // In the order of the pods above them (then the devices no shown pod links to).
  const podX = (b: Box) => {
    const id = byPod.get(b.attrs["data-device"] ?? "");
    return id ? pod.get(id)!.x : Number.POSITIVE_INFINITY;
  };
  row.sort((a, b) => podX(a) - podX(b));
  let cursor = GAP;
  for (const b of row) {
    const over = byPod.has(b.attrs["data-device"] ?? "")
      ? pod.get(byPod.get(b.attrs["data-device"])!)
      : undefined;
    b.x = Math.max(cursor, over ? over.x : cursor);
    // A pod and its link's host end as one column.
    if (over && over.x === b.x) b.w = over.w;
    b.y = y;
    cursor = b.x + b.w + GAP;
  }
  width = Math.max(width, cursor);
  if (row.length) y += Math.max(...row.map((b) => b.h)) + ROW_GAP;
  // Then one centred row per layer.
  const stack = box({
    lines: ["IP stack", "routes · kube-proxy rules"],
    cls: "tp-stack",
    attrs: { "data-node": n.name, "data-stack": n.name },
    stroke: "#999999",
  });
  boxes.push(stack);
  const layers: Box[][] = [
    // Host-network pods beside the bridge: both reach the IP stack directly.
    [...n.devices.filter((d) => d.kind === "bridge").map(devBox), ...(hostNet ? [hostNet] : [])],
    [stack],
    n.devices.filter((d) => d.kind === "vxlan" || d.kind === "ipip").map(devBox),
    n.devices.filter((d) => d.kind === "ethernet").map(devBox),
  ];
  const rows: Box[][] = [];
  for (const layer of layers) {
    if (!layer.length) continue;
    rows.push(layer);
    let lx = 0;
    for (const b of layer) {
      b.x = lx;
      b.y = y;
      lx += b.w + GAP;
    }
    y += Math.max(...layer.map((b) => b.h)) + ROW_GAP;
    width = Math.max(width, lx + GAP);
  }
  for (const layer of rows) {
    const used = layer.reduce((s, b) => s + b.w + GAP, -GAP);
    const shift = (width - used) / 2;
    for (const b of layer) b.x += shift;
  }
  // Lines: the way a packet goes.
  const bridge = n.devices.find((d) => d.kind === "bridge");
  const eth0 = n.devices.find((d) => d.kind === "ethernet");
  for (const p of n.shownPods) {
    const d = dev.get(p.hostInterface);
    if (d) links.push([pod.get(p.id)!, d]);
  }
  for (const d of n.devices) {
    const b = dev.get(d.name)!;
    if (d.kind === "veth") links.push([b, d.master && dev.has(d.master) ? dev.get(d.master)! : stack]);
    else if (d.kind === "bridge") links.push([b, stack]);
    else if (d.kind === "vxlan" || d.kind === "ipip") {
      links.push([stack, b]);
      if (eth0) links.push([b, dev.get(eth0.name)!]);
    } else if (d.kind === "ethernet") links.push([stack, b]);
  }
  for (const g of groups) links.push([g, linksBox ?? stack]);
  if (linksBox) links.push([linksBox, bridge ? dev.get(bridge.name)! : stack]);
  if (hostNet) links.push([hostNet, stack]);
  const frame: Box = {
    x: 0,
    y: 0,
    w: width,
    h: y - ROW_GAP + GAP,
    lines: [title],
    cls: "tp-node",
    attrs: { "data-node": n.name },
    stroke: "#666666",
    fill: "#fafafa",
    href: topologyHash("node", n.name),
  };
  return { boxes: [frame, ...boxes], links, w: frame.w, h: frame.h, pod };
}

const centre = (b: Box) => b.x + b.w / 2;

/** A line from the bottom of one box to the top of another, with one bend when they are not aligned. */
function joint(a: Box, b: Box): string {
  const [upper, lower] = a.y <= b.y ? [a, b] : [b, a];
  const x1 = centre(upper);
  const y1 = upper.y + upper.h;
  const x2 = centre(lower);
  const y2 = lower.y;
  const mid = Math.round((y1 + y2) / 2);
  const pts =
    x1 === x2
      ? [
          [x1, y1],
          [x2, y2],
        ]
      : [
          [x1, y1],
          [x1, mid],
          [x2, mid],
          [x2, y2],
        ];
  return pts.map(([x, y]) => `${Math.round(x)},${Math.round(y)}`).join(" ");
}

/** Widest a row of nodes (or of Services) grows before the next row starts, in pixels. */
const ROW_WIDTH = 2000;

/** Places boxes of the given sizes in rows no wider than `limit` (or the widest box); returns the rows. */
function rowsOf<T extends { w: number; h: number }>(items: T[], limit: number): T[][] {
  const rows: T[][] = [];
  let width = 0;
  for (const b of items) {
    const last = rows.at(-1);
    if (last && width + b.w <= limit) {
      last.push(b);
      width += b.w + 2 * GAP;
    } else {
      rows.push([b]);
      width = b.w + 2 * GAP;
    }
  }
  return rows;
}

/** Lays the picture out and returns the SVG; deterministic for the same picture. */
export async function drawTopology(t: TopologyPicture, title: string): Promise<string> {
  const nodes = t.nodes.map(layoutNode);
  const podAt = new Map<string, Box>();
  for (const l of nodes) for (const [id, b] of l.pod) podAt.set(id, b);
  const services = t.services.map((s) => {
    const drawn = s.endpoints.filter((e) => podAt.has(e));
    return box({
      lines: [
        `Service ${s.id}`,
        `${s.type}${s.clusterIP ? ` ${s.clusterIP}` : ""} ${s.ports.join(" ")}`,
        `${s.endpoints.length} endpoint${s.endpoints.length === 1 ? "" : "s"}${drawn.length < s.endpoints.length ? ` (${s.endpoints.length - drawn.length} not drawn)` : ""}`,
      ],
      cls: "tp-svc",
      attrs: { "data-service": s.id },
      stroke: PALETTE.nat,
    });
  });
  const other = t.otherNodes.nodes
    ? box({
        lines: [`${t.otherNodes.nodes} more nodes`, `${t.otherNodes.pods} pods`],
        cls: "tp-other",
        attrs: {},
        stroke: "#666666",
        dashed: true,
      })
    : undefined;
  // Nodes in rows, each row over its stretch of the underlay; the Services in rows above them.
  type Cell = { w: number; h: number; layout?: NodeLayout; box?: Box };
  const cells: Cell[] = [
    ...nodes.map((l) => ({ w: l.w, h: l.h, layout: l })),
    ...(other ? [{ w: other.w, h: other.h, box: other }] : []),
  ];
  const limit = Math.max(ROW_WIDTH, ...cells.map((c) => c.w + 2 * GAP));
  const M = 20;
  let y = M;
  let width = 0;
  for (const row of rowsOf(services, limit)) {
    let x = M;
    for (const b of row) {
      b.x = x;
      b.y = y;
      x += b.w + 2 * GAP;
    }
    width = Math.max(width, x);
    y += Math.max(...row.map((b) => b.h)) + 50;
  }
  const back: string[] = [];
  const front: string[] = [];
  const lines: string[] = [];
  const line = (a: Box, b: Box, cls = "tp-link") => {
    lines.push(
      cls === "tp-svc-link"
        ? `<polyline class="${cls}" points="${joint(a, b)}" fill="none" stroke="${PALETTE.nat}" stroke-opacity="0.55" stroke-dasharray="3 3"/>`
        : `<polyline class="${cls}" points="${joint(a, b)}" fill="none" stroke="${PALETTE.line}"/>`,
    );
  };
  const buses: Box[] = [];
  for (const row of rowsOf(cells, limit)) {
    let x = M;
    const rowH = Math.max(...row.map((c) => c.h));
    const bus = box({
      lines: [`underlay ${t.underlay.join(", ")}`],
      cls: "tp-underlay",
      attrs: { "data-underlay": "" },
      stroke: "#333333",
      fill: "#eeeeee",
    });
    bus.y = y + rowH + 24;
    for (const c of row) {
      if (c.layout) {
        for (const b of c.layout.boxes) {
          b.x += x;
          b.y += y;
        }
        for (const [a, b] of c.layout.links) line(a, b);
        const eth0 = c.layout.boxes.find((b) => b.attrs["data-kind"] === "ethernet");
        if (eth0) line(eth0, { ...bus, x: centre(eth0) - 1, w: 2 });
      } else if (c.box) {
        c.box.x = x;
        c.box.y = y;
        line(c.box, { ...bus, x: centre(c.box) - 1, w: 2 });
      }
      x += c.w + 2 * GAP;
    }
    bus.x = M;
    bus.w = Math.max(bus.w, x - M - 2 * GAP);
    buses.push(bus);
    width = Math.max(width, x);
    y = bus.y + bus.h + 40;
  }
  // The underlay's stretches are one network: joined on the left.
  for (let i = 1; i < buses.length; i++)
    lines.push(
      `<polyline class="tp-link" points="${M + 6},${buses[i - 1].y + buses[i - 1].h} ${M + 6},${buses[i].y}" fill="none" stroke="#333333" stroke-width="2"/>`,
    );
  t.services.forEach((s, i) => {
    for (const e of s.endpoints) {
      const to = podAt.get(e);
      if (to) line(services[i], to, "tp-svc-link");
    }
  });
  const draw = (b: Box, out: string[]): void => {
    const attrs = Object.entries(b.attrs)
      .map(([k, v]) => ` ${k}="${esc(v)}"`)
      .join("");
    const frame = b.cls === "tp-node" || b.cls === "tp-ns";
    const text = b.lines
      .map(
        (l, i) =>
          `<text x="${Math.round(b.x + 8)}" y="${Math.round(b.y + 16 + i * LINE)}"${i === 0 ? ' font-weight="bold"' : ' font-size="11"'}>${esc(clip(l, b.cls === "tp-node" || b.cls === "tp-underlay" ? 100 : MAX))}</text>`,
      )
      .join("");
    const rect = `<rect x="${Math.round(b.x)}" y="${Math.round(b.y)}" width="${Math.round(b.w)}" height="${Math.round(b.h)}" rx="${frame ? 8 : 4}" fill="${b.fill ?? "#ffffff"}" stroke="${b.stroke}" stroke-width="1.5"${b.dashed ? ' stroke-dasharray="4 2"' : ""}/>`;
    const linked = (inner: string) => (b.href ? `<a href="${esc(b.href)}">${inner}</a>` : inner);
    // A node's or namespace's link is its title (the boxes inside it have their own).
    out.push(
      `<g class="${b.cls}"${attrs}><title>${esc(b.lines.join(" · "))}</title>${frame ? `${rect}${linked(text)}` : linked(`${rect}${text}`)}</g>`,
    );
  };
  for (const l of nodes)
    for (const b of l.boxes) draw(b, b.cls === "tp-node" || b.cls === "tp-ns" ? back : front);
  for (const b of services) draw(b, front);
  if (other) draw(other, front);
  for (const b of buses) draw(b, front);
  // Room on the right for what the page writes beside a traced hop (`DNAT: dst, dport`).
  return svgDocument(
    width + M + 150,
    y,
    `${back.join("")}<g class="tp-lines" pointer-events="none">${lines.join("")}</g>${front.join("")}`,
    title,
  );
}
