/**
 * What every drawing shares: escaping (every name, label and annotation from the input passes
 * through `esc` before it reaches SVG or HTML), text width estimates for layout, and the palette —
 * Okabe and Ito's colours, told apart with every common colour-vision deficiency, and never the only
 * carrier of meaning (each coloured mark has its text beside it or in its `<title>`).
 */

/** Escapes text for an XML/HTML text node or a double- or single-quoted attribute. */
export function esc(text: string | number): string {
  return String(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Okabe–Ito colours by meaning. */
export const PALETTE = {
  allowed: "#0072B2",
  denied: "#D55E00",
  added: "#0072B2",
  removed: "#D55E00",
  changed: "#E69F00",
  nat: "#E69F00",
  encap: "#CC79A7",
  policy: "#009E73",
  neutral: "#555555",
  group: "#F2F2F2",
  line: "#888888",
} as const;

/** Approximate width in pixels of `text` in the drawings' sans-serif font at `size` px. */
export function textWidth(text: string, size = 12): number {
  return Math.ceil(text.length * size * 0.6);
}

/** Shortens text to at most `max` characters, with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** An SVG document with a white background and the drawings' font. */
export function svgDocument(width: number, height: number, body: string, title: string): string {
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title><rect width="100%" height="100%" fill="#ffffff"/>${body}</svg>\n`;
}
