/**
 * Cluster DNS from the command line:
 *
 *   podnet resolve -f … --from ns/pod NAME [--type T]   every query the pod's resolver sends, with answers;
 *                                                       a query that does not reach a DNS pod (policy,
 *                                                       no endpoint) gets none (core/dns/exchange.ts,
 *                                                       the same exchange `trace --to NAME` follows)
 *   podnet dns -f … [--listen ADDR:PORT] [--ttl N]      a real DNS server for the cluster zone (UDP + TCP)
 *   podnet dns -f … --records                           the zone's records, in zone-file form
 */
import { isIP } from "node:net";
import { Command, Option } from "commander";
import { listenDns } from "../adapters/dns/server.ts";
import { resolveFrom } from "../core/dns/exchange.ts";
import { formatResolvConf, type Resolution } from "../core/dns/resolv.ts";
import { ClusterZone, DEFAULT_TTL, formatAnswer, formatRr, QUERY_TYPES } from "../core/dns/zone.ts";
import { Network } from "../core/sim/network.ts";
import {
  addInputOptions,
  CliExit,
  EXIT_BAD_INPUT,
  EXIT_FINDING,
  type InputOptions,
  loadOrExit,
} from "./common.ts";

interface ResolveOptions extends InputOptions {
  from: string;
  type: string;
  ttl?: string;
  output: "text" | "json";
}

export function resolveCommand(): Command {
  const cmd = new Command("resolve")
    .description("resolve a name as a pod does: its resolv.conf, every query its resolver sends, each answer")
    .argument("<name>", "the name, as an application would write it (cart, cart.shop, api.example.com.)")
    .requiredOption("--from <ns/pod>", "the pod that resolves")
    .addOption(new Option("--type <type>", "query type").choices([...QUERY_TYPES]).default("A"))
    .option("--ttl <seconds>", `TTL of the records (default ${DEFAULT_TTL})`)
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      "\nThe queries travel the cluster's network: when NetworkPolicy (egress of the pod, ingress of the DNS pod) or a missing DNS endpoint keeps them from a DNS pod, they get no answer and the name does not resolve, as `trace --to NAME` shows hop by hop.\n\nExit code 1 when the name does not resolve.\n\nExamples:\n  podnet resolve -f examples/shop --from shop/frontend-… cart\n  podnet resolve -f examples/shop --from shop/frontend-… api.example.com",
    );
  addInputOptions(cmd);
  return cmd.action((name: string, opts: ResolveOptions) => {
    const state = loadOrExit(opts.filename);
    const pod = state.pods.find(
      (p) => `${p.metadata.namespace ?? "default"}/${p.metadata.name}` === opts.from,
    );
    if (!pod) {
      const some = state.pods
        .slice(0, 5)
        .map((p) => `${p.metadata.namespace ?? "default"}/${p.metadata.name}`);
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: pod "${opts.from}" not found; pods include ${some.join(", ")}`,
      );
    }
    const r = resolveFrom(new Network(state), pod, name, opts.type, { ttl: ttlOrExit(opts.ttl) });
    if (opts.output === "json") process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else process.stdout.write(renderResolution(opts.from, name, opts.type, r));
    if (!r.result) throw new CliExit(EXIT_FINDING, "");
  });
}

export function renderResolution(from: string, name: string, type: string, r: Resolution): string {
  const out = [`resolv.conf of ${from} (dnsPolicy ${r.resolvConf.policy}):`];
  const conf = formatResolvConf(r.resolvConf);
  out.push(
    ...(conf
      ? conf
          .trimEnd()
          .split("\n")
          .map((l) => `  ${l}`)
      : ["  (empty)"]),
  );
  for (const n of r.resolvConf.notes) out.push(`  note: ${n}`);
  if (r.exchange && !r.exchange.reaches) out.push("", `the DNS query does not arrive: ${r.exchange.why}`);
  if (r.exchange?.partial) out.push("", `note: ${r.exchange.why}`);
  out.push("", r.why);
  r.queries.forEach((q, i) => {
    const answers = q.answer.answers.map((a) => formatAnswer(a));
    out.push(
      `  ${i + 1}. ${q.name} ${q.type} @${q.nameserver} → ${q.answer.rcode}${answers.length ? `: ${answers.join(", ")}` : ""}`,
      `       ${q.answer.why}`,
    );
  });
  out.push("");
  if (r.result) {
    const addresses = r.result.answer.answers.filter((a) => a.type === type);
    out.push(
      `${name} → ${r.result.answer.answers.map((a) => formatAnswer(a)).join(", ")} (${r.queries.length} quer${r.queries.length === 1 ? "y" : "ies"})`,
    );
    if (addresses.length === 0 && r.result.answer.answers.some((a) => a.type === "CNAME"))
      out.push("an alias to a name outside the cluster: podnet's DNS forwards nowhere, so it ends here");
  } else
    out.push(
      `${name}: no ${type} answer after ${r.queries.length} quer${r.queries.length === 1 ? "y" : "ies"}${r.exchange && !r.exchange.reaches ? " (the DNS query does not arrive)" : ""}`,
    );
  return `${out.join("\n")}\n`;
}

interface DnsOptions extends InputOptions {
  listen: string;
  upstream?: string;
  ttl?: string;
  records?: boolean;
  quiet?: boolean;
}

export function dnsCommand(): Command {
  const cmd = new Command("dns")
    .description("serve the cluster's DNS zone for real (UDP and TCP), answering as CoreDNS would")
    .option("--listen <addr:port>", "where to listen (port 0: any free port)", "127.0.0.1:1053")
    .option("--ttl <seconds>", `TTL of the records (default ${DEFAULT_TTL})`)
    .option("--upstream <addr:port>", "relay questions outside the cluster's zones to this server")
    .option("--records", "print every record of the zone and exit")
    .option("-q, --quiet", "do not log queries")
    .addHelpText(
      "after",
      "\nRuns until interrupted (Ctrl-C). Names outside the cluster zone are REFUSED, or relayed with --upstream.\n\nExamples:\n  podnet dns -f examples/shop --listen 127.0.0.1:1053 &\n  dig @127.0.0.1 -p 1053 cart.shop.svc.cluster.local",
    );
  addInputOptions(cmd);
  return cmd.action(async (opts: DnsOptions) => {
    const state = loadOrExit(opts.filename);
    const zone = new ClusterZone(state, { ttl: ttlOrExit(opts.ttl) });
    if (opts.records) {
      process.stdout.write(`${zone.records().map(formatRr).join("\n")}\n`);
      return;
    }
    const { host, port } = addressOrExit("--listen", opts.listen, true);
    const upstream =
      opts.upstream === undefined ? undefined : addressOrExit("--upstream", opts.upstream, false);
    let server: Awaited<ReturnType<typeof listenDns>>;
    try {
      server = await listenDns(
        host,
        port,
        () => zone,
        opts.quiet ? undefined : (l) => process.stderr.write(`${l}\n`),
        upstream,
      );
    } catch (e) {
      throw new CliExit(EXIT_BAD_INPUT, `error: cannot listen on ${opts.listen}: ${(e as Error).message}`);
    }
    process.stdout.write(
      `serving ${zone.zone} (${zone.records().length} records, TTL ${zone.ttl} s) on ${host}:${server.port} (UDP and TCP)${upstream ? `; other names relayed to ${upstream.host}:${upstream.port}` : ""}\n`,
    );
    await new Promise<void>((done) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        void server.close().then(done);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
  });
}

/** `ADDR:PORT` (an IP address; `[v6]:port` for IPv6), or a usage error naming the option. */
function addressOrExit(option: string, text: string, zeroOk: boolean): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(text);
  const host = m?.[1].replace(/^\[(.*)\]$/, "$1") ?? "";
  const port = Number(m?.[2]);
  if (!m || !isIP(host) || port > 65535 || (!zeroOk && port === 0))
    throw new CliExit(
      EXIT_BAD_INPUT,
      `error: ${option} "${text}" is not ADDR:PORT (an IP address and a port, e.g. 127.0.0.1:1053)`,
    );
  return { host, port };
}

function ttlOrExit(text?: string): number {
  if (text === undefined) return DEFAULT_TTL;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 2147483647)
    throw new CliExit(
      EXIT_BAD_INPUT,
      `error: --ttl must be a whole number of seconds (0-2147483647), not "${text}"`,
    );
  return n;
}
