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
import { formatResolvConf } from "../core/dns/resolv.ts";
import { formatAnswer } from "../core/dns/zone.ts";
import { Network } from "../core/sim/network.ts";
import type { Hop, TraceResult } from "../core/sim/trace.ts";
import { type DnsPart, traceQuestion } from "../core/views/questions.ts";
import { drawTrace } from "../ui/draw/trace.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, EXIT_FINDING, loadOrExit } from "./common.ts";
import { addEndpointOptions, type EndpointOptions, noteDnsUnreachable } from "./endpoints.ts";
import { isUrl, runHttpTrace } from "./http-trace.ts";
import { renderTable } from "./render/table.ts";

interface TraceOptions extends EndpointOptions {
  header?: string[];
  request?: string;
  reply?: boolean;
  allEndpoints?: boolean;
  sourcePort?: string;
  output: "text" | "json" | "svg";
}

export function traceCommand(): Command {
  const cmd = addEndpointOptions(
    new Command("trace").description(
      "follow a packet hop by hop: routes, bridges, overlays, kube-proxy NAT, delivery",
    ),
  )
    .option("--source-port <n>", "the client's port (default: a stable ephemeral port)")
    .option(
      "-H, --header <header>",
      "with --to http(s)://…: a request header 'Name: value' (repeatable; Host: replaces the URL's host)",
      (v: string, all: string[] = []) => [...all, v],
    )
    .option("-X, --request <method>", "with --to http(s)://…: the request method (default GET)")
    .option("--reply", "also trace the answer back through connection tracking")
    .option(
      "--all-endpoints",
      "one trace per endpoint the packet can reach: every endpoint of the Service frontend it meets (ClusterIP, nodePort, externalIP, load-balancer IP), or every address of a headless Service's name",
    )
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "json", "svg"]).default("text"),
    )
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
  podnet trace -f examples/articles --from 203.0.113.7 --node node-2 --to 172.18.0.3:30080 --all-endpoints
  podnet trace -f examples/ingress --from 203.0.113.7 --to http://shop.example.com/cart
  podnet trace -f examples/ingress --from 203.0.113.7 --to https://shop.example.com/ -H 'X-Version: 2' -X POST

An outside client sending to a load-balancer IP enters at the node the load balancer announces it from
(spec.loadBalancer.mode in the Cluster config: l2 elects one node per IP, bgp spreads flows over every
eligible node); --node overrides. A URL (http:// or https://) is followed as one HTTP request: the
host's address, the node, the controller pod, the routing rule that matched (and why others did not),
the controller's connection to the backend Service and the backend pod; exit 0 when the backend pod
receives it, 1 when the controller answers an error itself (404 no rule, 503 no endpoints, …).`,
    );
  addInputOptions(cmd);
  return cmd.action((opts: TraceOptions) => {
    // A URL: one HTTP request through the load balancer, the controller and its routing (./http-trace.ts).
    if (isUrl(opts.to)) {
      const unused = [
        opts.allEndpoints ? "--all-endpoints" : "",
        opts.sourcePort !== undefined ? "--source-port" : "",
        opts.protocol && opts.protocol.toUpperCase() !== "TCP" ? "--protocol" : "",
      ].filter(Boolean);
      if (unused.length > 0)
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: ${unused[0]}: not for an HTTP request (--to ${opts.to}); drop it, or trace an address and port instead of a URL`,
        );
      return runHttpTrace(opts);
    }
    if (opts.header || opts.request)
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: ${opts.header ? "-H" : "-X"}: only for an HTTP request: write --to as a URL (http://host/path)`,
      );
    const net = new Network(loadOrExit(opts.filename));
    const sport = opts.sourcePort === undefined ? undefined : Number(opts.sourcePort);
    // The resolution, the trace and its JSON come from the core (core/views/questions.ts), which the
    // web UI asks too.
    const t = traceQuestion(net, opts, {
      reply: opts.reply,
      allEndpoints: opts.allEndpoints,
      sourcePort: sport,
    });
    if (!t.ok) throw new CliExit(EXIT_BAD_INPUT, `error: ${t.option}: ${t.message}`);
    if (t.dnsUnreachable) noteDnsUnreachable(net);
    if (opts.output === "json") writeJson(t.answer);
    else if (opts.output === "svg") {
      const drawn = t.single
        ? [{ label: "", result: t.single }]
        : (t.traces ?? []).map((x) => ({ label: `via endpoint ${x.endpoint}`, result: x }));
      if (t.dns?.query) drawn.unshift({ label: "DNS query to the cluster DNS", result: t.dns.query });
      // The whole answer when the drawing alone would not say it: no packet sent, or several endpoints.
      const whole = !t.single && (!t.traces || t.traces.length > 1);
      process.stdout.write(
        drawTrace(
          drawn,
          `trace ${t.heading}`,
          whole ? { verdict: String(t.answer.verdict), reason: String(t.answer.reason) } : undefined,
        ),
      );
      if (!t.single && !t.traces) process.stderr.write(`unresolved: ${t.answer.reason}\n`);
    } else {
      // The queries, the answer and the DNS query's trace: one resolution (core/dns/exchange.ts), the
      // one `podnet resolve` shows.
      if (t.dns) process.stdout.write(renderDns(opts.from, t.dns));
      const heading = `trace ${t.heading}`;
      if (t.single) process.stdout.write(renderTrace(heading, t.single));
      else if (t.traces) {
        process.stdout.write(
          t.traces.map((x) => renderTrace(`${heading} via endpoint ${x.endpoint}`, x)).join("\n"),
        );
        if (t.traces.length > 1)
          process.stdout.write(
            `\n${paint(1, "all endpoints")}: ${paint(colorOf(String(t.answer.verdict)), String(t.answer.verdict))}: ${t.answer.reason}\n`,
          );
      } else process.stdout.write(`${paint(31, "unresolved")}: ${t.answer.reason}\n`);
    }
    if (!t.getsThere) throw new CliExit(EXIT_FINDING);
  });
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
