/**
 * The cluster DNS on real sockets: UDP datagrams and TCP streams (each message behind a two-byte
 * length, RFC 1035 4.2.2, several per connection), every message answered by ../../core/dns/wire.ts.
 * Used by `podnet dns` and, on inherited sockets, by the data plane's listener for the kube-dns pods.
 *
 * Bounded: a TCP connection idle for 10 s is closed, at most 256 are open at once, and a length
 * prefix promising more than the message could hold simply waits for bytes that never come (the
 * idle timer ends it). A message that does not parse gets FORMERR or nothing; it never stops the
 * server.
 */
import dgram from "node:dgram";
import net from "node:net";
import { type Exchange, respond } from "../../core/dns/wire.ts";
import type { ClusterZone } from "../../core/dns/zone.ts";

export const TCP_IDLE_MS = 10_000;
export const TCP_MAX_CONNECTIONS = 256;

export type Log = (line: string) => void;
/** One message in, the exchange out; `client` is the sender as `address:port`. */
export type Handler = (msg: Buffer, transport: "udp" | "tcp", client: string) => Exchange;

/** The cluster zone's answers (the zone is asked for anew per message, so it can be swapped). */
export function zoneHandler(zone: () => ClusterZone): Handler {
  return (msg, transport) => respond(zone(), msg, transport);
}

/** Answers every datagram on `socket` (bound already, or about to be). */
export function serveUdp(socket: dgram.Socket, handle: Handler, log?: Log): void {
  socket.on("message", (msg, rinfo) => {
    const out = handle(msg, "udp", `${rinfo.address}:${rinfo.port}`);
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
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const msg = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        const out = handle(
          msg,
          "tcp",
          `${socket.remoteAddress?.replace(/^::ffff:/, "")}:${socket.remotePort}`,
        );
        log?.(`tcp ${socket.remoteAddress}:${socket.remotePort} ${out.summary}`);
        if (!out.response) {
          socket.destroy(); // garbage on a stream: nothing after it can be trusted to be framed
          return;
        }
        const framed = Buffer.alloc(2 + out.response.length);
        framed.writeUInt16BE(out.response.length, 0);
        out.response.copy(framed, 2);
        socket.write(framed);
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
): Promise<RunningServer> {
  const handle = zoneHandler(zone);
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
