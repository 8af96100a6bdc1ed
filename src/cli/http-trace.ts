/**
 * `podnet trace --from SRC --to http(s)://HOST[:PORT]/PATH[?QUERY] [-H 'Name: value']… [-X METHOD]
 * [--reply] [-o text|json]`: one HTTP request followed from the client to the backend pod (the core's
 * src/core/sim/http-trace.ts composes it; this file parses the options and prints). Text: the host's
 * address, the controller, the client's connection (a trace table), the routing decision with the
 * rules considered, the controller's connection to the backend (a trace table), the end. JSON: the
 * core's `HttpTraceResult` (`{verdict, status?, reason, request, address, controller, toController,
 * decision?, backend?, toBackend?}`). Exit 0 when the backend pod receives the request, 1 otherwise
 * (an HTTP error the controller answers, a connection that never gets there), 2 on bad input.
 */
import { clusterRouters } from "../core/sim/http-routers.ts";
import { type HttpTraceResult, httpTrace, parseHttpRequest } from "../core/sim/http-trace.ts";
import { Network } from "../core/sim/network.ts";
import { resolveSource } from "../core/sim/targets.ts";
import { CliExit, EXIT_BAD_INPUT, EXIT_FINDING, type InputOptions, loadOrExit } from "./common.ts";
import { renderTrace } from "./trace.ts";

export interface HttpTraceOptions extends InputOptions {
  from: string;
  to: string;
  node?: string;
  header?: string[];
  request?: string;
  reply?: boolean;
  output: "text" | "json" | "svg";
}

/** Whether `--to` names a URL (scheme://…, or http:/https: mistyped), which `trace` follows as an HTTP request. */
export function isUrl(to: string): boolean {
  // `http:/x` or `https:x` is a URL mistyped, not a pod called so: parseHttpRequest says what to write.
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(to) || /^https?:/i.test(to);
}

export function runHttpTrace(opts: HttpTraceOptions): void {
  if (opts.output === "svg")
    throw new CliExit(EXIT_BAD_INPUT, "error: -o svg: an HTTP trace prints text or json");
  const parsed = parseHttpRequest(opts.to, opts.header ?? [], opts.request ?? "GET");
  if (!parsed.ok) throw new CliExit(EXIT_BAD_INPUT, `error: ${parsed.option}: ${parsed.message}`);
  const net = new Network(loadOrExit(opts.filename));
  const src = resolveSource(net, opts.from, opts.node);
  if (!src.ok) throw new CliExit(EXIT_BAD_INPUT, `error: ${src.option ?? "--from"}: ${src.message}`);
  const routers = clusterRouters(net.state);
  const r = httpTrace(net, routers, {
    source: src.value,
    request: parsed.request,
    connect: parsed.connect,
    entryForced: opts.node !== undefined,
    reply: opts.reply,
  });
  if ("error" in r) throw new CliExit(EXIT_BAD_INPUT, `error: --to: ${r.error}`);
  if (opts.output === "json") process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else process.stdout.write(renderHttpTrace(opts.from, opts.to, r));
  if (r.verdict !== "delivered") throw new CliExit(EXIT_FINDING);
}

const tty = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);

/** The text form: address, controller, both legs and the routing decision between them, the end. */
export function renderHttpTrace(from: string, url: string, r: HttpTraceResult): string {
  const q = r.request;
  const out: string[] = [
    paint(1, `HTTP ${q.method} ${url} from ${from}`),
    `  Host: ${q.host}, port ${q.port}, path ${q.path}${q.query.length ? `, query ${q.query.map(([k, v]) => `${k}=${v}`).join("&")}` : ""}`,
    `address: ${r.address.why}`,
  ];
  if (r.controller) out.push(`controller: ${r.controller.why}`);
  out.push("");
  let text = `${out.join("\n")}\n`;
  text += renderTrace(
    `1. TCP ${from} → ${r.address.ip}:${r.address.port} (the client's connection to the controller)`,
    r.toController,
  );
  const d = r.decision;
  if (d) {
    const lines = [paint(1, `2. the routing decision (${r.controller?.implementation ?? "controller"})`)];
    if (d.outcome === "routed") {
      lines.push(
        `  matched: ${d.rule.kind} ${d.rule.namespace}/${d.rule.name} rule ${d.rule.rule}${d.rule.match >= 0 ? ` match ${d.rule.match}` : ""} (${d.matched})`,
        `  backends: ${d.backends.map((b) => `${b.namespace}/${b.service}:${b.port}${d.backends.length > 1 ? ` weight ${b.weight}` : ""}`).join(", ")}${d.backends.length > 1 ? ` (followed: ${d.chosen.namespace}/${d.chosen.service}:${d.chosen.port})` : ""}`,
      );
      if (d.filters.length) lines.push(`  filters: ${d.filters.join(", ")}`);
    } else if (d.outcome === "backend-error")
      lines.push(
        `  matched: ${d.rule.kind} ${d.rule.namespace}/${d.rule.name} rule ${d.rule.rule}; backend error ${d.status}: ${d.reason}`,
      );
    else lines.push("  no rule matches");
    for (const c of d.considered)
      lines.push(
        `  not taken: ${c.rule.kind} ${c.rule.namespace}/${c.rule.name} rule ${c.rule.rule}: ${c.why}`,
      );
    if (r.backend) lines.push(`  ${r.backend.why}`);
    text += `\n${lines.join("\n")}\n\n`;
  }
  if (r.toBackend)
    text += renderTrace(
      `3. TCP ${r.controller?.pod} → ${r.backend?.clusterIP}:${r.backend?.port} (the controller's connection to Service ${r.backend?.service})`,
      r.toBackend,
    );
  const color = r.verdict === "delivered" ? 32 : 31;
  text += `\n${paint(color, r.status ? `HTTP ${r.status}` : r.verdict)}: ${r.reason}\n`;
  return text;
}
