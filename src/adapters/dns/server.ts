/**
 * The cluster DNS on real sockets: UDP datagrams and TCP streams (each message behind a two-byte
 * length, RFC 1035 4.2.2, several per connection), every message answered by ../../core/dns/wire.ts.
 * Used by `podnet dns` and, on inherited sockets, by the data plane's listener for the kube-dns pods.
 *
 * Bounded: a TCP connection idle for 10 s is closed, at most 256 are open at once, and a length
 * prefix promising more than the message could hold simply waits for bytes that never come (the
 * idle timer ends it). A message that does not parse gets FORMERR or nothing; it never stops the
 * server.
 *
 * With an upstream (`podnet dns --upstream`), a question outside the zones podnet serves, and a
 * reverse name the zone has no answer for (CoreDNS's `fallthrough in-addr.arpa` to `forward` in
 * kubeadm's Corefile: ClusterZone.fallsThrough), is relayed to it as asked, over the client's transport, and its answer relayed back; no answer within 2 s is
 * SERVFAIL. Answers on one TCP connection keep the order of the questions.
 */
import dgram from "node:dgram";
import net from "node:net";
import { type Exchange, frame, questionOf, respond } from "../../core/dns/wire.ts";
import type { ClusterZone } from "../../core/dns/zone.ts";

export const TCP_IDLE_MS = 10_000;
export const TCP_MAX_CONNECTIONS = 256;

export type Log = (line: string) => void;
/** One message in, the exchange out; `client` is the sender as `address:port`. */
export type Handler = (msg: Buffer, transport: "udp" | "tcp", client: string) => Exchange | Promise<Exchange>;

export const UPSTREAM_TIMEOUT_MS = 2000;

/**
 * The cluster zone's answers (the zone is asked for anew per message, so it can be swapped), and
 * with `upstream` the relay of questions outside it.
 */
export function zoneHandler(zone: () => ClusterZone, upstream?: { host: string; port: number }): Handler {
  return (msg, transport) => {
    const z = zone();
    const q = upstream ? questionOf(msg) : undefined;
    const name = q?.name.replace(/\.$/, "");
    if (!upstream || !q || !name || (z.serves(name) && !z.fallsThrough(name, q.type)))
      return respond(z, msg, transport);
    return relay(msg, transport, upstream).then(
      (response) => ({
        response,
        summary: `${q.name} ${q.type} → relayed to ${upstream.host}:${upstream.port}`,
      }),
      (e: Error) => ({
        response: servfail(msg),
        summary: `${q.name} ${q.type} → SERVFAIL (upstream: ${e.message})`,
      }),
    );
  };
}

/** The query sent to `upstream` as is; its answer, or a rejection after UPSTREAM_TIMEOUT_MS. */
function relay(
  msg: Buffer,
  transport: "udp" | "tcp",
  upstream: { host: string; port: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error("no answer within 2 s")), UPSTREAM_TIMEOUT_MS);
    let close = () => {};
    const finish = (result: Buffer | Error) => {
      clearTimeout(timer);
      close();
      if (result instanceof Buffer) resolve(result);
      else reject(result);
    };
    if (transport === "udp") {
      const sock = dgram.createSocket(net.isIPv6(upstream.host) ? "udp6" : "udp4");
      close = () => sock.close();
      sock.on("message", (m) => m.length >= 2 && m.readUInt16BE(0) === msg.readUInt16BE(0) && finish(m));
      sock.on("error", finish);
      sock.send(msg, upstream.port, upstream.host);
    } else {
      const sock = net.connect(upstream.port, upstream.host, () => sock.write(frame(msg)));
      close = () => sock.destroy();
      let got = Buffer.alloc(0);
      sock.on("data", (d) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0))
          finish(got.subarray(2, 2 + got.readUInt16BE(0)));
      });
      sock.on("error", finish);
    }
  });
}

/** SERVFAIL for a query that could be decoded (its question is echoed). */
function servfail(msg: Buffer): Buffer {
  const out = Buffer.from(msg);
  out.writeUInt16BE((msg.readUInt16BE(2) & 0x7900) | 0x8000 | 2, 2); // QR, opcode and RD kept, rcode 2
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  const q = questionOf(msg);
  // The header and the question only: cut after the question (its name, type and class).
  return q ? out.subarray(0, 12 + encodedNameLength(msg, 12) + 4) : out.subarray(0, 12);
}

function encodedNameLength(msg: Buffer, at: number): number {
  let i = at;
  while (i < msg.length && msg[i] !== 0) {
    if ((msg[i] & 0xc0) === 0xc0) return i + 2 - at;
    i += msg[i] + 1;
  }
  return i + 1 - at;
}

/** Answers every datagram on `socket` (bound already, or about to be). */
export function serveUdp(socket: dgram.Socket, handle: Handler, log?: Log): void {
  socket.on("message", async (msg, rinfo) => {
    const out = await handle(msg, "udp", `${rinfo.address}:${rinfo.port}`);
    log?.(`udp ${rinfo.address}:${rinfo.port} ${out.summary}`);
    if (out.response) socket.send(out.response, rinfo.port, rinfo.address);
  });
  socket.on("error", (e) => log?.(`udp error: ${e.message}`));
}

/** Answers every length-prefixed message on each connection of `server`. */
export function serveTcp(server: net.Server, handle: Handler, log?: Log): void {
  server.maxConnections = TCP_MAX_CONNECTIONS;
  server.on("connection", (socket) => {
    let buffered = Buffer.alloc(0);
    // Answers leave in the order the questions came, even when one waits for the upstream.
    let previous: Promise<unknown> = Promise.resolve();
    const client = `${socket.remoteAddress?.replace(/^::ffff:/, "")}:${socket.remotePort}`;
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const msg = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        const answer = Promise.resolve(handle(msg, "tcp", client));
        previous = Promise.all([answer, previous]).then(([out]) => {
          log?.(`tcp ${client} ${out.summary}`);
          if (!out.response)
            socket.destroy(); // garbage on a stream: nothing after it can be trusted to be framed
          else if (!socket.destroyed) socket.write(frame(out.response));
        });
      }
    });
  });
}

export interface RunningServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on `host:port` over UDP and TCP (port 0: one free port for both). */
export async function listenDns(
  host: string,
  port: number,
  zone: () => ClusterZone,
  log?: Log,
  upstream?: { host: string; port: number },
): Promise<RunningServer> {
  const handle = zoneHandler(zone, upstream);
  const family = net.isIPv6(host) ? "udp6" : "udp4";
  const tcp = net.createServer();
  serveTcp(tcp, handle, log);
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen({ host, port }, () => resolve());
  });
  const bound = (tcp.address() as net.AddressInfo).port;
  const udp = dgram.createSocket(family);
  serveUdp(udp, handle, log);
  try {
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind({ address: host, port: bound }, () => resolve());
    });
  } catch (e) {
    tcp.close();
    throw e;
  }
  return {
    host,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        udp.close(() => tcp.close(() => resolve()));
      }),
  };
}
