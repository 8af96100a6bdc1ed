/**
 * A trace drawn as lanes: one column per place the packet passes (the source pod's network namespace,
 * its node, the wire, the other node, the destination pod), one row per hop, the packet's path as a
 * line down and across them. Beside each row: the hop's step, device and detail, and the packet after
 * it with the fields the hop rewrote marked (DNAT, masquerade, encapsulation). The policy verdicts
 * sit at the hops that take them; the reply path follows in the same lanes.
 */
import type { Hop, TraceResult } from "../../core/sim/trace.ts";
import { formatHeader, hopChanges, tracePlaces } from "../../core/views/trace-path.ts";
import { clip, esc, PALETTE, svgDocument, textWidth } from "./svg.ts";

const LANE = 150;
const ROW = 46;
const TOP = 70;

/** Colour and name for a hop's step. */
function stepColour(h: Hop, changed: readonly string[]): string {
  if (h.step === "policy") return PALETTE.policy;
  if (changed.includes("encap") || changed.includes("decap")) return PALETTE.encap;
  if (changed.length > 0) return PALETTE.nat;
  return PALETTE.allowed;
}

/** The verdict's colour: blue when the packet gets there, vermillion otherwise. */
export function verdictColour(verdict: string): string {
  return verdict === "delivered" || verdict === "arrived" || verdict === "forwarded"
    ? PALETTE.allowed
    : PALETTE.denied;
}

/**
 * Traces (each with its reply, when traced) as one SVG in shared lanes; `label` heads each trace
 * (`via endpoint 10.244.1.5:8080`, or empty for a single trace), `title` the drawing. `outcome`, when
 * given, is the answer to the whole question, written under the title and again at the end: the
 * verdict of every endpoint together, or why no packet was sent (a name that does not resolve, whose
 * drawing holds only the DNS query's trace), so that the picture read alone never says less.
 */
export function drawTrace(
  traces: readonly { label: string; result: TraceResult }[],
  title: string,
  outcome?: { verdict: string; reason: string },
): string {
  const parts: { label: string; hops: Hop[]; verdict: string; reason: string }[] = [];
  for (const { label, result } of traces) {
    parts.push({ label, hops: result.hops, verdict: result.verdict, reason: result.reason });
    if (result.reply)
      parts.push({
        label: `reply${label ? ` (${label})` : ""}`,
        hops: result.reply.hops,
        verdict: result.reply.verdict,
        reason: result.reply.reason,
      });
  }
  const { places } = tracePlaces(parts.flatMap((p) => p.hops));
  const laneOf = new Map(places.map((p, i) => [p, i]));
  const textX = places.length * LANE + 30;
  const out: string[] = [];
  let width = textX + 400;
  // Lane headings and guides.
  places.forEach((p, i) => {
    const x = i * LANE + 20;
    out.push(
      `<rect x="${x}" y="${TOP - 40}" width="${LANE - 10}" height="28" rx="4" fill="${PALETTE.group}" stroke="#bbbbbb"/><text x="${x + 6}" y="${TOP - 21}" font-size="11">${esc(clip(p, 22))}<title>${esc(p)}</title></text>`,
    );
  });
  let y = TOP;
  let hopIndex = 0;
  const guides: string[] = [];
  for (const part of parts) {
    if (part.label) {
      y += 10;
      out.push(`<text x="20" y="${y + 14}" font-weight="bold">${esc(part.label)}</text>`);
      y += 24;
    }
    const changes = hopChanges(part.hops);
    let prev: { x: number; y: number } | undefined;
    part.hops.forEach((h, i) => {
      const lane = laneOf.get(h.at)!;
      const cx = lane * LANE + 20 + (LANE - 10) / 2;
      const cy = y + ROW / 2;
      const colour = stepColour(h, changes[i]);
      if (prev)
        out.push(
          `<line x1="${prev.x}" y1="${prev.y}" x2="${cx}" y2="${cy}" stroke="${PALETTE.line}" stroke-width="2"/>`,
        );
      prev = { x: cx, y: cy };
      const n = hopIndex + 1;
      const packet = formatHeader(h.packet);
      const marks = changes[i].length ? `  [${changes[i].join(", ")} changed]` : "";
      const head = `${n}. ${h.step}${h.device ? ` on ${h.device}` : ""}${marks}`;
      const detail = clip(h.detail, 110);
      width = Math.max(width, textX + textWidth(detail, 11) + 20, textX + textWidth(packet) + 20);
      out.push(
        `<g class="hop" data-part="${esc(part.label)}" data-hop="${i}" data-step="${hopIndex}"><title>${esc(`${h.at}: ${h.detail}`)}</title><circle cx="${cx}" cy="${cy}" r="11" fill="${colour}"/><text x="${cx}" y="${cy + 4}" font-size="10" text-anchor="middle" fill="#ffffff">${n}</text><text x="${textX}" y="${y + 14}" font-weight="bold" fill="${colour}">${esc(head)}</text><text x="${textX}" y="${y + 28}" font-size="11">${esc(detail)}</text><text x="${textX}" y="${y + 41}" font-size="11" font-family="DejaVu Sans Mono, monospace" fill="#333333">${esc(packet)}</text></g>`,
      );
      y += ROW;
      hopIndex++;
    });
    const verdictText = `${part.verdict}: ${part.reason}`;
    width = Math.max(width, 20 + textWidth(verdictText, 13) + 20);
    out.push(
      `<text x="20" y="${y + 20}" font-size="13" font-weight="bold" fill="${verdictColour(part.verdict)}">${esc(verdictText)}</text>`,
    );
    y += 34;
  }
  places.forEach((_, i) => {
    const x = i * LANE + 20 + (LANE - 10) / 2;
    guides.push(
      `<line x1="${x}" y1="${TOP - 12}" x2="${x}" y2="${y}" stroke="#e0e0e0" stroke-dasharray="3 3"/>`,
    );
  });
  let head = `<text x="20" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`;
  let body = guides.join("") + out.join("");
  if (outcome) {
    // Under the title (the lanes move down a line to make room) and again after the last hop.
    const text = `${outcome.verdict}: ${outcome.reason}`;
    const line = (at: number) =>
      `<text class="outcome" x="20" y="${at}" font-size="13" font-weight="bold" fill="${verdictColour(outcome.verdict)}">${esc(text)}</text>`;
    width = Math.max(width, 20 + textWidth(text, 13) + 20);
    head += line(40);
    body = `<g transform="translate(0 26)">${body}${line(y + 20)}</g>`;
    y += 34 + 26;
  }
  return svgDocument(width, y + 10, head + body, title);
}
