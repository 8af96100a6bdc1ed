/**
 * The reachability heatmap as SVG: rows are sources, columns destinations, each cell shaded by the
 * share of its pod pairs allowed (one blue ramp, light to dark) and labelled with it (`✓` all, `·`
 * none, else a percentage); each cell's `<title>` says the counts in words.
 */
import type { Heatmap } from "../../core/views/heatmap.ts";
import { clip, esc, svgDocument, textWidth } from "./svg.ts";

/** Fill for a share of allowed pairs: white (none) to Okabe–Ito blue (all). */
export function shareColour(share: number): string {
  const mix = (a: number, b: number) => Math.round(a + (b - a) * share);
  return `rgb(${mix(255, 0)},${mix(255, 114)},${mix(255, 178)})`;
}

/** The text inside a cell: `✓` when every pair is allowed, `·` when none is, else the percentage. */
export function shareText(allowed: number, total: number): string {
  if (total === 0) return "";
  if (allowed === total) return "✓";
  if (allowed === 0) return "·";
  return `${Math.max(1, Math.min(99, Math.round((100 * allowed) / total)))}%`;
}

export function drawHeatmap(h: Heatmap, title: string): string {
  const cell = h.rows.length > 60 || h.cols.length > 60 ? 14 : 30;
  const label = (id: string) => clip(id, 40);
  const left = Math.max(80, ...h.rows.map((r) => textWidth(label(r.id), 11))) + 30;
  const top = Math.max(60, ...h.cols.map((c) => textWidth(label(c.id), 11))) + 50;
  const out: string[] = [
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="38" font-size="11">rows: from, columns: to; ✓ every pod pair allowed, · none, % the share allowed</text>`,
  ];
  h.cols.forEach((c, j) => {
    const x = left + j * cell + cell / 2 + 4;
    out.push(
      `<text transform="translate(${x},${top - 6}) rotate(-60)" font-size="11">${esc(label(c.id))}<title>${esc(`${c.id} (${c.pods} pods)`)}</title></text>`,
    );
  });
  h.rows.forEach((r, i) => {
    const y = top + i * cell;
    out.push(
      `<text x="${left - 6}" y="${y + cell / 2 + 4}" font-size="11" text-anchor="end">${esc(label(r.id))}<title>${esc(`${r.id} (${r.pods} pods)`)}</title></text>`,
    );
    h.cols.forEach((c, j) => {
      const total = r.pods * c.pods;
      const a = h.allowed[i][j];
      const share = total === 0 ? 0 : a / total;
      const x = left + j * cell;
      const text = shareText(a, total);
      out.push(
        `<g class="cell" data-r="${i}" data-c="${j}" tabindex="-1"><title>${esc(`${r.id} → ${c.id}: ${a} of ${total} pod pairs allowed`)}</title><rect x="${x}" y="${y}" width="${cell - 1}" height="${cell - 1}" fill="${shareColour(share)}" stroke="#cccccc" stroke-width="0.5"/>${cell >= 24 ? `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" font-size="10" text-anchor="middle" fill="${share > 0.5 ? "#ffffff" : "#000000"}">${text}</text>` : ""}</g>`,
      );
    });
  });
  const legend = textWidth(
    "rows: from, columns: to; ✓ every pod pair allowed, · none, % the share allowed",
    11,
  );
  const width = Math.max(left + h.cols.length * cell + 20, textWidth(title, 14) + 20, legend + 20);
  return svgDocument(width, top + h.rows.length * cell + 20, out.join(""), title);
}
