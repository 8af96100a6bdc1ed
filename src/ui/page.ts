/**
 * The one HTML page of the web UI and the report: inline styles, the inline client script
 * (src/ui/client/app.ts, compiled by the build), and the page's data as JSON in a non-executed
 * script element (every `<` escaped, so no text from the input can close it). A Content Security
 * Policy allows only that script (by hash) and, in the server's page, requests to the server itself;
 * a report may fetch nothing at all.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { esc } from "./draw/svg.ts";

let client: string | undefined;

/**
 * The client script: the build's `client/app.js` next to this module; from a source checkout run
 * under tsx (no build), `client/app.ts` transpiled with esbuild (a devDependency).
 */
export async function clientScript(): Promise<string> {
  if (client !== undefined) return client;
  const built = fileURLToPath(new URL("./client/app.js", import.meta.url));
  if (existsSync(built)) client = readFileSync(built, "utf8");
  else {
    const source = readFileSync(fileURLToPath(new URL("./client/app.ts", import.meta.url)), "utf8");
    const { transform } = await import("esbuild");
    client = (await transform(source, { loader: "ts", format: "esm", target: "es2022" })).code;
  }
  return client;
}

/** JSON safe inside a `<script>` element: `<` never appears, so `</script>` cannot either. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

export interface PageOptions {
  mode: "server" | "report";
  title: string;
  /** Report: the embedded answers by question key. */
  answers?: Record<string, unknown>;
}

/** The page, and the Content-Security-Policy it carries (the server also sends it as a header). */
export async function renderPage(opts: PageOptions): Promise<{ html: string; csp: string }> {
  const script = await clientScript();
  const hash = createHash("sha256").update(script).digest("base64");
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${hash}'`,
    "style-src 'unsafe-inline'",
    "img-src data:",
    `connect-src ${opts.mode === "server" ? "'self'" : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  const data = { mode: opts.mode, title: opts.title, ...(opts.answers ? { answers: opts.answers } : {}) };
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(opts.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<noscript>podnet's views need JavaScript.</noscript>
<script type="application/json" id="podnet-data">${scriptJson(data)}</script>
<script type="module">${script}</script>
</body>
</html>
`;
  return { html, csp };
}

/** Okabe–Ito colours; focus always visible; text beside every colour. */
const STYLE = `
:root { --blue:#0072B2; --orange:#E69F00; --verm:#D55E00; --green:#009E73; --purple:#CC79A7; --grey:#f2f2f2; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, "DejaVu Sans", sans-serif; color: #111; background: #fff; }
header { display: flex; gap: 1.5em; align-items: center; padding: .5em 1em; background: #1b2a38; color: #fff; flex-wrap: wrap; }
header h1 { font-size: 1.05em; margin: 0; }
header nav a { color: #fff; margin-right: 1em; text-decoration: none; padding: .2em .4em; border-radius: 3px; }
header nav a[aria-current] { background: var(--blue); }
header .mode { margin-left: auto; font-size: .85em; opacity: .8; }
main { padding: 1em; }
main:focus { outline: none; }
#problems { margin: 1em; padding: .5em 1em; border: 2px solid var(--verm); border-radius: 4px; }
.diagnostics li.diag-error code::before { content: "✗ "; color: var(--verm); }
.diagnostics li.diag-warning code::before { content: "⚠ "; color: var(--orange); }
a:focus, button:focus, td:focus, input:focus, select:focus, [tabindex]:focus { outline: 3px solid var(--orange); outline-offset: 1px; }
.cards { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: .6em; }
.card { border: 1px solid #ccc; border-left: 4px solid var(--blue); border-radius: 4px; padding: .4em .6em; }
.card.ns { border-left-color: var(--green); }
.card.service { border-left-color: var(--purple); }
.card .title { font-weight: bold; display: block; }
.pods, .endpoints { padding-left: 1.1em; margin: .2em 0; }
.crumbs { margin-bottom: .5em; }
form.ask { display: flex; flex-wrap: wrap; gap: .6em; align-items: center; margin: .5em 0; }
form.ask input[name=from], form.ask input[name=to] { width: 16em; }
.presets a { margin-right: .8em; }
.split { display: flex; gap: 1em; align-items: flex-start; }
.split > * { flex: 1 1 0; min-width: 0; }
.drawing { overflow: auto; border: 1px solid #ddd; max-height: 80vh; }
.drawing.fit svg { width: 100%; height: auto; }
button.zoom { margin: 0 0 4px; }
.drawing .current circle { stroke: #000; stroke-width: 3; }
.drawing g.tp-path > rect, .drawing g.tp-path > a > rect { stroke: var(--blue); stroke-width: 3; }
.drawing g.tp-path-reply:not(.tp-path) > rect, .drawing g.tp-path-reply:not(.tp-path) > a > rect { stroke: var(--green); stroke-width: 3; stroke-dasharray: 6 3; }
.drawing g.tp-current > rect, .drawing g.tp-current > a > rect { fill: #fff4d6; stroke: #000; stroke-width: 4; }
.drawing text.tp-mark { font-size: 11px; font-weight: bold; fill: #8a5a00; }
.hint { color: #555; font-size: .9em; }
.hops { padding-left: 0; list-style: none; max-height: 80vh; overflow: auto; }
.hops li.hop { padding: .3em .5em; border-left: 4px solid #ccc; margin-bottom: .2em; }
.hops li.part { font-weight: bold; margin-top: .6em; }
.hops li.current { background: #fff4d6; border-left-color: var(--orange); }
.hops .detail { color: #333; }
.hops .packet { font-family: "DejaVu Sans Mono", monospace; font-size: .92em; }
mark { background: #ffe08a; padding: 0 .15em; }
.badge { display: inline-block; padding: 0 .4em; border-radius: 3px; font-size: .88em; margin-left: .3em; border: 1px solid transparent; }
.badge.good, .badge.added { background: #d6ebf7; border-color: var(--blue); }
.badge.bad, .badge.removed { background: #fbe0d0; border-color: var(--verm); }
.badge.changed { background: #fdf0cc; border-color: var(--orange); }
.badge.policy { background: #d3f0e6; border-color: var(--green); }
.verdicts > div { margin: .2em 0; }
.controls { margin: .5em 0; display: flex; gap: .5em; align-items: center; }
.scroll { overflow: auto; max-height: 80vh; }
table.heatmap { border-collapse: collapse; font-size: 12px; }
table.heatmap td { width: 2.6em; height: 1.8em; text-align: center; border: 1px solid #ddd; cursor: pointer; }
table.heatmap th.col { white-space: nowrap; vertical-align: bottom; }
table.heatmap th.col span { display: inline-block; writing-mode: vertical-rl; transform: rotate(180deg); max-height: 32em; overflow: hidden; }
table.heatmap th[scope=row] { text-align: right; white-space: nowrap; padding-right: .4em; font-weight: normal; }
${Array.from({ length: 11 }, (_, k) => {
  const mix = (a: number, b: number) => Math.round(a + ((b - a) * k) / 10);
  return `table.heatmap td.s${k} { background: rgb(${mix(255, 0)},${mix(255, 114)},${mix(255, 178)});${k > 5 ? " color: #fff;" : ""} }`;
}).join("\n")}
.swatch { padding: 0 .4em; border: 1px solid #999; }
.explain { border-left: 3px solid #ddd; padding-left: 1em; }
.direction { margin: .3em 0; }
pre.text { background: var(--grey); padding: .6em; overflow: auto; max-height: 70vh; }
pre.rules mark.hit { background: #ffe08a; font-weight: bold; }
table.devices, table.lines { border-collapse: collapse; }
table.devices td, table.devices th, table.lines td, table.lines th { border: 1px solid #ddd; padding: .2em .5em; text-align: left; }
.error { border: 2px solid var(--verm); padding: .5em; border-radius: 4px; margin: .5em 0; }
`;
