/**
 * A node's network drawn: its pods (each a network namespace with eth0 and its address) joined by
 * veth pairs to the bridge, the bridge to the node's IP stack, and below it the underlay interface
 * and the plugin's tunnel device, each with its addresses — the devices `podnet routes` lists.
 */
import type { NodeDetail } from "../../core/views/topology.ts";
import { clip, esc, PALETTE, svgDocument, textWidth } from "./svg.ts";

const BOX_W = 150;
const PER_ROW = 8;

export function drawNode(d: NodeDetail): string {
  const out: string[] = [];
  const bridge = d.devices.find((x) => x.kind === "bridge");
  const below = d.devices.filter((x) => x.kind === "ethernet" || x.kind === "vxlan" || x.kind === "ipip");
  const rows = Math.ceil(d.pods.length / PER_ROW);
  const width = Math.max(PER_ROW * (BOX_W + 10) + 40, below.length * 230 + 40);
  let y = 40;
  out.push(
    `<text x="20" y="24" font-size="14" font-weight="bold">${esc(`node ${d.node.name} (${d.cni})`)}</text>`,
  );
  const podX = (i: number) => 20 + (i % PER_ROW) * (BOX_W + 10);
  const podY = (i: number) => y + Math.floor(i / PER_ROW) * 90;
  d.pods.forEach((p, i) => {
    const x = podX(i);
    const py = podY(i);
    out.push(
      `<g class="pod" data-pod="${esc(p.pod)}"><title>${esc(`${p.pod}: eth0 ${p.ip}, host end ${p.veth}`)}</title><rect x="${x}" y="${py}" width="${BOX_W}" height="44" rx="4" fill="#ffffff" stroke="${PALETTE.allowed}"/><text x="${x + 6}" y="${py + 16}" font-size="11">${esc(clip(p.pod, 22))}</text><text x="${x + 6}" y="${py + 34}" font-size="11" font-family="DejaVu Sans Mono, monospace">eth0 ${esc(p.ip)}</text></g>`,
    );
  });
  const bridgeY = y + Math.max(rows, 1) * 90 + 10;
  d.pods.forEach((p, i) => {
    const x = podX(i) + BOX_W / 2;
    out.push(
      `<line x1="${x}" y1="${podY(i) + 44}" x2="${x}" y2="${bridgeY}" stroke="${PALETTE.line}"/><text x="${x + 4}" y="${podY(i) + 60}" font-size="9" fill="#555555">${esc(p.veth)}</text>`,
    );
  });
  if (bridge)
    out.push(
      `<rect x="20" y="${bridgeY}" width="${width - 40}" height="26" rx="4" fill="${PALETTE.group}" stroke="${PALETTE.policy}"/><text x="28" y="${bridgeY + 17}">${esc(`bridge ${bridge.name} ${bridge.addresses.join(", ")}`)}</text>`,
    );
  y = bridgeY + (bridge ? 26 : 0) + 30;
  out.push(
    `<rect x="20" y="${y}" width="${width - 40}" height="30" rx="4" fill="#ffffff" stroke="#999999"/><text x="28" y="${y + 19}">${esc(`root network namespace: routes, kube-proxy rules (${d.node.podBlocks} local)`)}</text>`,
  );
  const stackY = y;
  y += 60;
  below.forEach((dev, i) => {
    const x = 20 + i * 230;
    const label = `${dev.name} (${dev.kind === "ethernet" ? "underlay" : dev.kind})`;
    out.push(
      `<line x1="${x + 100}" y1="${stackY + 30}" x2="${x + 100}" y2="${y}" stroke="${PALETTE.line}"/><rect x="${x}" y="${y}" width="210" height="44" rx="4" fill="#ffffff" stroke="${dev.kind === "ethernet" ? "#333333" : PALETTE.encap}"/><text x="${x + 6}" y="${y + 16}" font-size="11">${esc(clip(label, 30))}</text><text x="${x + 6}" y="${y + 34}" font-size="11" font-family="DejaVu Sans Mono, monospace">${esc(clip(dev.addresses.join(", "), 30))}</text>`,
    );
  });
  y += 60;
  return svgDocument(
    Math.max(width, textWidth(`node ${d.node.name} (${d.cni})`, 14) + 40),
    y,
    out.join(""),
    `node ${d.node.name}`,
  );
}
