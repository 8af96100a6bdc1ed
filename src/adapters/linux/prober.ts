/**
 * Probes from inside one pod's network namespace (started there by `ip netns exec`): one bounded
 * connection per target, a few at a time, and one JSON line of results on stdout.
 *
 *   argv[2]: [{"id":0,"ip":"10.244.1.2","port":8080,"protocol":"TCP"}, …] (or `-`: on stdin)   argv[3]: timeout (ms)
 *   stdout:  [{"id":0,"ok":true,"answer":{…the listener's JSON…}}, {"id":1,"ok":false,"error":"timeout"}]
 *
 * TCP: connect, send a DNS query (length-prefixed), read the listener's line. UDP: the DNS query as
 * one datagram, wait for the reply. The query asks for `whoami.podnet.internal` TXT: an ordinary
 * listener ignores what it is sent and answers its JSON line; a DNS pod's listener answers the query
 * with the same JSON in a TXT record. Every probe ends by its timeout at the latest (and one more poll
 * for I/O, so an answer that arrived in time is not lost to a stalled event loop), so the whole run is
 * bounded by targets × timeout / parallelism.
 *
 * A target with `http` (`probe --http`) is one HTTP/1.1 request instead: `{"scheme","host","target",
 * "method","headers"}` sent to ip:port (HTTPS: SNI `host`, any certificate accepted: the proxy's is
 * self-signed), answered as `{"status","controller","pod","client"}` from the status, the
 * `x-podnet-controller` header and the backend listener's JSON body.
 */
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import packet from "dns-packet";
import { frame, WHOAMI } from "../../core/dns/wire.ts";

const QUERY = Buffer.from(
  packet.encode({ type: "query", id: 0x5eed, questions: [{ type: "TXT", name: WHOAMI }] }),
);
const FRAMED = frame(QUERY);

/** The TXT text of a DNS response, or undefined if `b` is not one. */
function txtOf(b: Buffer): string | undefined {
  try {
    const r = packet.decode(b);
    const a = r.answers?.find((x) => x.type === "TXT") as { data: (string | Buffer)[] } | undefined;
    return a ? a.data.map(String).join("") : undefined;
  } catch {
    return undefined;
  }
}

interface Target {
  id: number;
  ip: string;
  port: number;
  protocol: "TCP" | "UDP";
  http?: {
    scheme: "http" | "https";
    host: string;
    target: string;
    method: string;
    headers: [string, string][];
  };
}
interface Result {
  id: number;
  ok: boolean;
  answer?: unknown;
  error?: string;
}

// `-`: the targets come on standard input (HTTP targets: a long list would pass the 128 KiB limit of one argument).
const targets = JSON.parse(
  (process.argv[2] === "-" ? readFileSync(0, "utf8") : process.argv[2]) ?? "[]",
) as Target[];
const timeout = Math.min(Math.max(Number(process.argv[3] ?? 1000), 50), 10000);
const PARALLEL = 32;

function probe(t: Target): Promise<Result> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: Omit<Result, "id">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      cleanup();
      resolve({ id: t.id, ...r });
    };
    const parse = (text: string) => {
      try {
        finish({ ok: true, answer: JSON.parse(text) });
      } catch {
        finish({ ok: true, answer: text.trim() });
      }
    };
    let cleanup = () => {};
    // Node runs expired timers before it polls for I/O: after the process was stalled (a busy machine,
    // start-up), an answer already waiting in the socket would lose to its own timer. The timeout is
    // decided after one more poll (setImmediate runs after the poll phase), so answers that came in time
    // count; a dropped connection still times out.
    const timer = setTimeout(() => setImmediate(() => finish({ ok: false, error: "timeout" })), timeout);
    if (t.http) {
      const h = t.http;
      const headers: Record<string, string> = {};
      for (const [k, v] of h.headers) headers[k] = k.toLowerCase() in headers ? `${headers[k]}, ${v}` : v;
      const options = { host: t.ip, port: t.port, method: h.method, path: h.target, headers, agent: false };
      const req =
        h.scheme === "https"
          ? https.request({ ...options, servername: h.host, rejectUnauthorized: false })
          : http.request(options);
      cleanup = () => req.destroy();
      req.on("response", (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          if (text.length < 65536) text += d;
        });
        res.on("end", () => {
          let body: { pod?: unknown; client?: unknown } = {};
          try {
            body = JSON.parse(text);
          } catch {
            // not the listener's JSON: no backend pod to name
          }
          const controller = res.headers["x-podnet-controller"];
          finish({
            ok: true,
            answer: {
              status: res.statusCode,
              ...(typeof controller === "string" ? { controller } : {}),
              ...(typeof body.pod === "string" ? { pod: body.pod } : {}),
              ...(typeof body.client === "string" ? { client: body.client } : {}),
            },
          });
        });
        res.on("error", (e) => finish({ ok: false, error: e.message }));
      });
      req.on("error", (e) => finish({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
      req.end();
    } else if (t.protocol === "UDP") {
      const sock = dgram.createSocket("udp4");
      cleanup = () => sock.close();
      sock.on("message", (m) => parse(m[0] === 0x7b ? m.toString() : (txtOf(m) ?? m.toString())));
      sock.on("error", (e) => finish({ ok: false, error: e.message }));
      sock.send(QUERY, t.port, t.ip);
    } else {
      const sock = net.connect(t.port, t.ip, () => sock.write(FRAMED));
      cleanup = () => sock.destroy();
      let data = Buffer.alloc(0);
      sock.on("data", (d) => {
        data = Buffer.concat([data, d]);
        // A DNS pod answers with one length-prefixed message and keeps the connection open.
        if (data[0] !== 0x7b && data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
          const text = txtOf(data.subarray(2, 2 + data.readUInt16BE(0)));
          if (text !== undefined) parse(text);
        }
      });
      sock.on("end", () => parse(data.toString()));
      sock.on("error", (e) => finish({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    }
  });
}

async function main(): Promise<void> {
  const results: Result[] = [];
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const t = targets[next++];
      results.push(await probe(t));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, targets.length) }, worker));
  process.stdout.write(`${JSON.stringify(results.sort((a, b) => a.id - b.id))}\n`);
}

main();
