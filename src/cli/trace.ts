/**
 * `podnet trace -f … --from SRC --to DST[:PORT] [--protocol P] [--node NAME] [--reply] [--all-endpoints] [-o text|json]`
 *
 * Follows one packet hop by hop (src/core/sim/trace.ts). Text is for people: one line per hop, the
 * packet after it, the end and every endpoint a Service could pick. JSON:
 * `{verdict, reason, endpoints, masquerade, hops, …}`; with --all-endpoints
 * `{endpoints, traces: [{endpoint, …trace}]}`.
 *
 * A destination written as a name, from a pod, is resolved first as the pod's resolver would
 * (src/core/dns/resolv.ts): the queries and answers are shown, and the first query's packet is traced
 * to the DNS Service and the DNS pod behind it. If that packet does not arrive, neither does the
 * connection: the trace stops there. JSON gains `dns: {resolution, query}`.
 */
import { Command, Option } from "commander";
import { dnsExchange } from "../core/dns/exchange.ts";
import { formatResolvConf, type Resolution } from "../core/dns/resolv.ts";
import { formatAnswer } from "../core/dns/zone.ts";
import { formatIPv4 } from "../core/net/ipv4.ts";
import { type Hop, type TraceResult, trace } from "../core/sim/trace.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT } from "./common.ts";
import { addEndpointOptions, type EndpointOptions, resolveEndpointsOrExit } from "./endpoints.ts";
import { renderTable } from "./render/table.ts";

interface TraceOptions extends EndpointOptions {
  reply?: boolean;
  allEndpoints?: boolean;
  sourcePort?: string;
  output: "text" | "json";
}

export function traceCommand(): Command {
  const cmd = addEndpointOptions(
    new Command("trace").description(
      "follow a packet hop by hop: routes, bridges, overlays, kube-proxy NAT, delivery",
    ),
  )
    .option("--source-port <n>", "the client's port (default: a stable ephemeral port)")
    .option("--reply", "also trace the answer back through connection tracking")
    .option("--all-endpoints", "trace to every endpoint a Service could pick, not just the chosen one")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      "\nExamples:\n  podnet trace -f examples/articles --from default/pod1 --to default/pod2:8080\n  podnet trace -f examples/articles --from default/pod1 --to service1.default:80 --reply\n  podnet trace -f examples/articles --from 203.0.113.7 --node node-2 --to 172.18.0.3:30080",
    );
  addInputOptions(cmd);
  return cmd.action((opts: TraceOptions) => {
    const { net, src, dst, dns } = resolveEndpointsOrExit(opts);
    let dnsPart: { resolution: Resolution; query: TraceResult } | undefined;
    if (dns) {
      const query = dnsExchange(net, src).query; // the exchange `podnet resolve` follows too
      dnsPart = { resolution: dns, query };
      if (query.verdict !== "delivered") {
        if (opts.output === "json") process.stdout.write(`${JSON.stringify({ dns: dnsPart }, null, 2)}\n`);
        else
          process.stdout.write(
            `${renderDns(opts.from, dns, query)}the name cannot be resolved: the DNS query does not arrive, so no connection is made\n`,
          );
        return;
      }
      if (opts.output === "text") process.stdout.write(renderDns(opts.from, dns, query));
    }
    let sport: number | undefined;
    if (opts.sourcePort !== undefined) {
      sport = Number(opts.sourcePort);
      if (!Number.isInteger(sport) || sport < 1 || sport > 65535)
        throw new CliExit(EXIT_BAD_INPUT, "error: --source-port must be a port number (1-65535)");
    }
    const req = {
      source: src,
      dst: dst.ip,
      dport: dst.port,
      protocol: dst.protocol,
      sport,
    };
    const first = trace(net, req, { reply: opts.reply });
    const heading = `trace ${dst.protocol} ${opts.from} → ${dst.label}:${dst.port}`;
    if (opts.allEndpoints && first.endpoints.length > 0) {
      const info = net.proxy.frontendAt(dst.ip, dst.protocol, dst.port)?.info;
      const eps =
        info?.endpoints.filter((e) => first.endpoints.includes(`${formatIPv4(e.ip)}:${e.port}`)) ?? [];
      const traces = eps.map((e) => ({
        endpoint: `${formatIPv4(e.ip)}:${e.port}`,
        ...trace(net, { ...req, endpoint: e }, { reply: opts.reply }),
      }));
      if (opts.output === "json")
        process.stdout.write(
          `${JSON.stringify({ dns: dnsPart, endpoints: first.endpoints, traces }, null, 2)}\n`,
        );
      else
        process.stdout.write(
          traces.map((t) => renderTrace(`${heading} via endpoint ${t.endpoint}`, t)).join("\n"),
        );
      return;
    }
    if (opts.output === "json")
      process.stdout.write(`${JSON.stringify(dnsPart ? { dns: dnsPart, ...first } : first, null, 2)}\n`);
    else process.stdout.write(renderTrace(heading, first));
  });
}

/** The name's resolution (queries and answers), then the trace of the first query to the DNS Service. */
function renderDns(from: string, r: Resolution, query: TraceResult): string {
  const lines = [
    paint(
      1,
      `DNS: ${from} resolves the name (${formatResolvConf(r.resolvConf).trim().replaceAll("\n", "; ")})`,
    ),
    r.why,
    ...r.queries.map(
      (q, i) =>
        `  ${i + 1}. ${q.name} ${q.type} → ${q.answer.rcode}${q.answer.answers.length ? ` ${q.answer.answers.map((a) => formatAnswer(a)).join(", ")}` : ""} (${q.answer.why})`,
    ),
    "",
  ];
  const dnsIP = query.hops[0]?.packet.dst ?? "";
  return `${lines.join("\n")}\n${renderTrace(`trace UDP ${from} → cluster DNS ${dnsIP}:53 (each query above)`, query)}\n`;
}

const tty = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);

function packetText(h: Hop["packet"]): string {
  const inner = `${h.src}:${h.sport} → ${h.dst}:${h.dport}`;
  return h.outer
    ? `[${h.outer.src} → ${h.outer.dst} ${h.outer.protocol}${h.outer.vni !== undefined ? ` vni ${h.outer.vni}` : ""}] ${inner}`
    : inner;
}

export function renderTrace(heading: string, r: TraceResult, title = "forward"): string {
  // The packet is shown where it changes (and on the first hop), so rewrites stand out.
  let previous = "";
  const rows = r.hops.map((h, i) => {
    const now = packetText(h.packet);
    const shown = now === previous ? "" : now;
    previous = now;
    return { n: String(i + 1), ...h, shown };
  });
  const table = renderTable(
    rows,
    [
      { header: "#", value: (x) => x.n },
      { header: "WHERE", value: (x) => x.at },
      { header: "DEVICE", value: (x) => x.device ?? "" },
      { header: "PACKET (when it changes)", value: (x) => x.shown },
      { header: "WHAT", value: (x) => x.detail },
    ],
    { wide: false },
  );
  const color = r.verdict === "delivered" ? 32 : r.verdict === "forwarded" ? 36 : 31;
  const out = [
    paint(1, `${heading}${title === "reply" ? " (reply)" : ""}`),
    "",
    table,
    "",
    `${paint(color, r.verdict)}: ${r.reason}`,
  ];
  if (r.endpoints.length > 0) {
    out.push(
      `endpoints of ${r.service}: ${r.endpoints.join(", ")}${r.endpoints.length > 1 ? ` (chosen: ${r.chosen}; --all-endpoints traces each)` : ""}`,
    );
  }
  if (r.masquerade) out.push("masquerade: the source address was rewritten on the way");
  out.push("");
  let text = `${out.join("\n")}\n`;
  if (r.reply) text += renderTrace(heading, r.reply, "reply");
  return text;
}
