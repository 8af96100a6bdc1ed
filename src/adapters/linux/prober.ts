/**
 * Probes from inside one pod's network namespace (started there by `ip netns exec`): one bounded
 * connection per target, a few at a time, and one JSON line of results on stdout.
 *
 *   argv[2]: [{"id":0,"ip":"10.244.1.2","port":8080,"protocol":"TCP"}, …]   argv[3]: timeout (ms)
 *   stdout:  [{"id":0,"ok":true,"answer":{…the listener's JSON…}}, {"id":1,"ok":false,"error":"timeout"}]
 *
 * TCP: connect, read the listener's line. UDP: one datagram, wait for the reply. Every probe ends by
 * its timeout at the latest, so the whole run is bounded by targets × timeout / parallelism.
 */
import dgram from "node:dgram";
import net from "node:net";

interface Target {
  id: number;
  ip: string;
  port: number;
  protocol: "TCP" | "UDP";
}
interface Result {
  id: number;
  ok: boolean;
  answer?: unknown;
  error?: string;
}

const targets = JSON.parse(process.argv[2] ?? "[]") as Target[];
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
    const timer = setTimeout(() => finish({ ok: false, error: "timeout" }), timeout);
    if (t.protocol === "UDP") {
      const sock = dgram.createSocket("udp4");
      cleanup = () => sock.close();
      sock.on("message", (m) => parse(m.toString()));
      sock.on("error", (e) => finish({ ok: false, error: e.message }));
      sock.send("probe", t.port, t.ip);
    } else {
      const sock = net.connect(t.port, t.ip);
      cleanup = () => sock.destroy();
      let data = "";
      sock.on("data", (d) => {
        data += d;
      });
      sock.on("end", () => parse(data));
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
