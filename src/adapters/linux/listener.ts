/**
 * A pod's listeners: one TCP and one UDP socket per declared container port, in the pod's network
 * namespace (started there by `ip netns exec`). Each answers who it is and whom it sees:
 *
 *   {"pod":"ns/name","node":"node-1","container":"web","port":8080,"protocol":"TCP","ip":"10.244.1.5",
 *    "client":"10.244.0.3:41234"}
 *
 * TCP: one JSON line, then close; an HTTP request (curl) gets the same JSON as an HTTP/1.1 response.
 * UDP: the JSON as the reply datagram. `client` is the source address as received, so NAT shows.
 * Containers of a pod share its namespace, so `localhost` reaches them all.
 */
import dgram from "node:dgram";
import net from "node:net";

interface Spec {
  pod: string;
  node: string;
  ip: string;
  ports: { container: string; name?: string; port: number; protocol: "TCP" | "UDP" }[];
}

const spec = JSON.parse(process.argv[2] ?? "{}") as Spec;

for (const p of spec.ports) {
  const answer = (client: string) =>
    JSON.stringify({
      pod: spec.pod,
      node: spec.node,
      container: p.container,
      port: p.port,
      protocol: p.protocol,
      ip: spec.ip,
      client,
    });
  if (p.protocol === "TCP") {
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
        // A client that speaks first with an HTTP request gets HTTP; any other gets the line at once.
        const timer = setTimeout(() => reply(false), 50);
        socket.once("data", (d) => {
          clearTimeout(timer);
          reply(/^[A-Z]+ \S+ HTTP\/1\.[01]\r?\n/.test(d.toString("latin1")));
        });
        socket.on("error", () => socket.destroy());
        socket.setTimeout(5000, () => socket.destroy());
      })
      .listen(p.port, "0.0.0.0");
  } else {
    const sock = dgram.createSocket("udp4");
    sock.on("message", (_msg, rinfo) => {
      sock.send(answer(`${rinfo.address}:${rinfo.port}`), rinfo.port, rinfo.address);
    });
    sock.bind(p.port, "0.0.0.0");
  }
}
