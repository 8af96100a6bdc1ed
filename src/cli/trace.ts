/**
 * `podnet trace -f … --from SRC --to DST[:PORT] [--protocol P] [--node NAME] [--reply] [--all-endpoints] [-o text|json]`
 *
 * Follows one packet hop by hop (src/core/sim/trace.ts). Text is for people: one line per hop, the
 * packet after it, the end and every endpoint a Service could pick. JSON always has a top-level
 * `verdict` and `reason`: `{verdict, reason, endpoints, masquerade, hops, …}`; with --all-endpoints
 * `{verdict, reason, endpoints, masquerade, traces: [{endpoint, …trace}]}` (verdict: the traces'
 * common one, else `mixed`); a name that does not resolve, or whose DNS query does not arrive, gives
 * `{verdict: "unresolved", reason, dns}`. Exit 0 when the packet gets there (delivered, arrived,
 * forwarded; every trace with --all-endpoints), 1 when it does not.
 *
 * A destination written as a name, from a pod, is resolved first as the pod's resolver would, on the
 * network (src/core/dns/exchange.ts `resolveDestinationName`, which is `resolveFrom`, the function
 * `podnet resolve` uses): the queries and answers are shown, and the query's packet is traced to the
 * DNS Service and the DNS pod behind it. If that packet does not arrive, the queries time out, the
 * name does not resolve and no connection is made. JSON gains `dns: {resolution, query}`.
 */
import { Command, Option } from "commander";
import { formatResolvConf, type Resolution } from "../core/dns/resolv.ts";
import { formatAnswer } from "../core/dns/zone.ts";
import {
  GETS_THERE,
  type Hop,
  summarizeTraces,
  type TraceResult,
  trace,
  traceEachDestination,
} from "../core/sim/trace.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, EXIT_FINDING } from "./common.ts";
import {
  addEndpointOptions,
  type EndpointOptions,
  resolveEndpointsOrExit,
  UnresolvedName,
} from "./endpoints.ts";
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
    .option(
      "--all-endpoints",
      "one trace per endpoint the packet can reach: every endpoint of the Service frontend it meets (ClusterIP, nodePort, externalIP, load-balancer IP), or every address of a headless Service's name",
    )
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      `
Verdicts: delivered (to a port a container declares or a Service sends to), arrived (at the pod or
node, on a port nobody declares: whether a process listens is unknown), forwarded (out of the
cluster), dropped, rejected, unresolved (the name does not resolve, or the DNS query does not arrive);
with --all-endpoints the traces' common verdict, or mixed.

Exit status: 0 when the packet gets there (delivered, arrived, forwarded; with --all-endpoints: every
trace), 1 when it does not (dropped, rejected, unresolved), 2 on bad input.

Examples:
  podnet trace -f examples/articles --from default/pod1 --to default/pod2:8080
  podnet trace -f examples/articles --from default/pod1 --to service1.default:80 --reply
  podnet trace -f examples/articles --from 203.0.113.7 --node node-2 --to 172.18.0.3:30080 --all-endpoints`,
    );
  addInputOptions(cmd);
  return cmd.action((opts: TraceOptions) => {
    let ends: ReturnType<typeof resolveEndpointsOrExit>;
    try {
      ends = resolveEndpointsOrExit(opts);
    } catch (e) {
      if (!(e instanceof UnresolvedName)) throw e;
      // The name does not resolve, or its DNS query does not arrive: the packet is never sent.
      const dns = dnsOf(e.resolution);
      if (opts.output === "json") writeJson(unresolved(e.reason, dns));
      else process.stdout.write(`${renderDns(opts.from, dns)}${paint(31, "unresolved")}: ${e.reason}\n`);
      throw new CliExit(EXIT_FINDING);
    }
    const { net, src, dst } = ends;
    // The queries, the answer and the DNS query's trace: one resolution (core/dns/exchange.ts), the
    // one `podnet resolve` shows.
    const dnsPart = ends.dns ? dnsOf(ends.dns) : undefined;
    if (dnsPart && opts.output === "text") process.stdout.write(renderDns(opts.from, dnsPart));
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
    const heading = `trace ${dst.protocol} ${opts.from} → ${dst.label}:${dst.port}`;
    if (!opts.allEndpoints) {
      const first = trace(net, req, { reply: opts.reply });
      if (opts.output === "json") writeJson({ ...first, ...(dnsPart ? { dns: dnsPart } : {}) });
      else process.stdout.write(renderTrace(heading, first));
      if (!GETS_THERE.has(first.verdict)) throw new CliExit(EXIT_FINDING);
      return;
    }
    const { first, traces } = traceEachDestination(net, req, {
      reply: opts.reply,
      addresses: dst.addresses,
    });
    const summary = summarizeTraces(traces);
    if (opts.output === "json")
      writeJson({
        verdict: summary.verdict,
        reason: summary.reason,
        // A Service's endpoints, or the addresses a headless Service's name stands for.
        endpoints:
          first.endpoints.length || traces.length < 2 ? first.endpoints : traces.map((t) => t.endpoint),
        ...(first.service ? { service: first.service } : {}),
        masquerade: traces.some((t) => t.masquerade),
        ...(dnsPart ? { dns: dnsPart } : {}),
        traces,
      });
    else {
      process.stdout.write(
        traces.map((t) => renderTrace(`${heading} via endpoint ${t.endpoint}`, t)).join("\n"),
      );
      if (traces.length > 1)
        process.stdout.write(
          `\n${paint(1, "all endpoints")}: ${paint(colorOf(summary.verdict), summary.verdict)}: ${summary.reason}\n`,
        );
    }
    if (!summary.getsThere) throw new CliExit(EXIT_FINDING);
  });
}

/**
 * A name's resolution as trace shows it: the resolver's queries and answers, and the trace of its
 * query to the cluster DNS (kept once, as `query`, not again inside the resolution).
 */
interface DnsPart {
  resolution: Omit<Resolution, "exchange">;
  query?: TraceResult;
}

function dnsOf(r: Resolution): DnsPart {
  const { exchange, ...resolution } = r;
  return { resolution, ...(exchange ? { query: exchange.query } : {}) };
}

/** The JSON of a trace that never starts because the destination name does not resolve. */
function unresolved(reason: string, dns: DnsPart) {
  return { verdict: "unresolved", reason, endpoints: [], masquerade: false, hops: [], dns };
}

function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The name's resolution (queries and answers), then the trace of its query to the cluster DNS. */
function renderDns(from: string, { resolution, query }: DnsPart): string {
  const lines = `${resolutionLines(from, resolution).join("\n")}\n`;
  if (!query) return lines;
  const dnsIP = query.hops[0]?.packet.dst ?? "";
  return `${lines}${renderTrace(`trace UDP ${from} → cluster DNS ${dnsIP}:53 (each query above)`, query)}\n`;
}

function resolutionLines(from: string, r: DnsPart["resolution"]): string[] {
  return [
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
}

const tty = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);

function packetText(h: Hop["packet"]): string {
  const inner = `${h.src}:${h.sport} → ${h.dst}:${h.dport}`;
  return h.outer
    ? `[${h.outer.src} → ${h.outer.dst} ${h.outer.protocol}${h.outer.vni !== undefined ? ` vni ${h.outer.vni}` : ""}] ${inner}`
    : inner;
}

/** Green when delivered, cyan when it arrives or is forwarded (it gets there), red otherwise. */
function colorOf(verdict: string): number {
  return verdict === "delivered" ? 32 : verdict === "arrived" || verdict === "forwarded" ? 36 : 31;
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
  const color = colorOf(r.verdict);
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
