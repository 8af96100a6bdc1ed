/**
 * Every pod's listeners in one process. Its sockets were opened inside each pod's network namespace
 * before this program started (./dataplane.ts: OPEN_SOCKETS) and arrive as inherited descriptors:
 * `PODNET_FDS` lists them in the order of the spec file's pods and ports (argv[2]). Each answers who it
 * is and whom it sees:
 *
 *   {"pod":"ns/name","node":"node-1","container":"web","port":8080,"protocol":"TCP","ip":"10.244.1.5",
 *    "client":"10.244.0.3:41234"}
 *
 * TCP: one JSON line, then close; an HTTP request (curl) gets the same JSON as an HTTP/1.1 response.
 * UDP: the JSON as the reply datagram. `client` is the source address as received, so NAT shows.
 * Containers of a pod share its namespace, so `localhost` reaches them all. Prints `ready` once every
 * socket is served.
 *
 * The sockets behind the cluster DNS Service (ports marked `dns`) serve the cluster zone instead
 * (../dns/server.ts), read from the snapshot file argv[3] and read again on SIGHUP (`podnet apply`).
 * There a TXT query for `whoami.podnet.internal` gets the JSON above, so probes check DNS ports too.
 */
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import net from "node:net";
import { questionOf, respond, txtResponse, WHOAMI } from "../../core/dns/wire.ts";
import { ClusterZone, type ZoneSnapshot } from "../../core/dns/zone.ts";
import { type Handler, serveTcp, serveUdp } from "../dns/server.ts";

interface PodSpec {
  pod: string;
  node: string;
  ip: string;
  ports: { container: string; name?: string; port: number; protocol: "TCP" | "UDP"; dns?: true }[];
}

const pods = JSON.parse(readFileSync(process.argv[2], "utf8")) as PodSpec[];
const fds = (process.env.PODNET_FDS ?? "").split(",").filter(Boolean).map(Number);
const listeners = pods.flatMap((pod) => pod.ports.map((port) => ({ pod, port })));
if (fds.length !== listeners.length) {
  process.stderr.write(`listener: ${fds.length} sockets for ${listeners.length} ports\n`);
  process.exit(2);
}

const zoneFile = process.argv[3];
const loadZone = () => new ClusterZone(JSON.parse(readFileSync(zoneFile, "utf8")) as ZoneSnapshot);
let zone = listeners.some((l) => l.port.dns) ? loadZone() : undefined;
process.on("SIGHUP", () => {
  try {
    zone = loadZone();
  } catch (e) {
    process.stderr.write(`listener: zone not reloaded: ${(e as Error).message}\n`);
  }
});

let pending = listeners.length;
const listening = () => {
  if (--pending === 0) process.stdout.write("ready\n");
};

listeners.forEach(({ pod, port: p }, i) => {
  const answer = (client: string) =>
    JSON.stringify({
      pod: pod.pod,
      node: pod.node,
      container: p.container,
      port: p.port,
      protocol: p.protocol,
      ip: pod.ip,
      client,
    });
  if (p.dns) {
    const handle: Handler = (msg, transport, client) => {
      const q = questionOf(msg);
      if (q?.name === WHOAMI && q.type === "TXT")
        return { response: txtResponse(msg, answer(client)), summary: "whoami" };
      return zone ? respond(zone, msg, transport) : { summary: "dropped: no zone" };
    };
    if (p.protocol === "TCP") {
      const server = net.createServer();
      serveTcp(server, handle);
      server.listen({ fd: fds[i] }, listening);
    } else {
      const sock = dgram.createSocket("udp4");
      serveUdp(sock, handle);
      sock.bind({ fd: fds[i] }, listening);
    }
  } else if (p.protocol === "TCP") {
    net
      .createServer((socket) => {
        const body = answer(`${socket.remoteAddress?.replace(/^::ffff:/, "")}:${socket.remotePort}`);
        let done = false;
        const reply = (http: boolean) => {
          if (done) return;
          done = true;
          socket.end(
            http
              ? `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body) + 1}\r\nconnection: close\r\n\r\n${body}\n`
              : `${body}\n`,
          );
        };
        // A client that speaks first with an HTTP request gets HTTP; any other gets the line at once, and
        // one that says nothing gets it after 500 ms: long enough for an HTTP client on a loaded machine
        // (a reverse proxy's request, which comes after its connect callback) not to get the line instead.
        const timer = setTimeout(() => reply(false), 500);
        socket.once("data", (d) => {
          clearTimeout(timer);
          reply(/^[A-Z]+ \S+ HTTP\/1\.[01]\r?\n/.test(d.toString("latin1")));
        });
        socket.on("error", () => socket.destroy());
        socket.setTimeout(5000, () => socket.destroy());
      })
      .listen({ fd: fds[i] }, listening);
  } else {
    const sock = dgram.createSocket("udp4");
    sock.on("message", (_msg, rinfo) => {
      sock.send(answer(`${rinfo.address}:${rinfo.port}`), rinfo.port, rinfo.address);
    });
    sock.bind({ fd: fds[i] }, listening);
  }
});
if (listeners.length === 0) process.stdout.write("ready\n");
