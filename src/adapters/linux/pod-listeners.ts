/**
 * Starts the one process that serves every pod's ports (./listener.ts): perl (Debian's perl-base, on
 * every Debian system) enters each pod's namespace with setns(2), binds, keeps the descriptors open
 * across exec and runs node on the listener program with all of them.
 *
 *   sh (ulimit) ─► perl: setns + bind per pod port ─► exec node listener.js <spec> <zone> ─► "ready"
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plan } from "../../core/dataplane/plan.ts";
import { DataPlaneError } from "./runner.ts";
import { type Host, portsFile, zoneFile } from "./state.ts";

/** A built program of this folder: next to this file in dist/, or in dist/ when this runs from src/ (tests). */
export function program(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const js = join(here, `${name}.js`);
  return existsSync(js) ? js : join(here, "..", "..", "..", "dist", "src", "adapters", "linux", `${name}.js`);
}

/**
 * Opens every pod's listening sockets inside the pod's namespace, then becomes the listener program
 * with all of them. Arguments: the setns syscall number, then `netns-path protocol port` triples, `--`,
 * the command.
 */
const OPEN_SOCKETS = `
use strict; use Socket;
$^F = 1 << 20;
my $nr = shift @ARGV; my (@fds, @keep);
while (@ARGV && $ARGV[0] ne "--") {
  my ($path, $proto, $port) = splice(@ARGV, 0, 3);
  open(my $ns, "<", $path) or die "open $path: $!\\n";
  syscall($nr, fileno($ns), 0x40000000) == 0 or die "setns $path: $!\\n";
  close($ns);
  my $s;
  if ($proto eq "TCP") {
    socket($s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\\n";
    setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1);
    bind($s, pack_sockaddr_in($port, INADDR_ANY)) or die "bind $path TCP $port: $!\\n";
    listen($s, 1024) or die "listen: $!\\n";
  } else {
    socket($s, PF_INET, SOCK_DGRAM, 0) or die "socket: $!\\n";
    bind($s, pack_sockaddr_in($port, INADDR_ANY)) or die "bind $path UDP $port: $!\\n";
  }
  push @fds, fileno($s); push @keep, $s;
}
shift @ARGV;
$ENV{PODNET_FDS} = join(",", @fds);
exec { $ARGV[0] } @ARGV or die "exec: $!\\n";
`;

/** setns(2) by machine: the numbers differ per architecture. */
const SETNS: Record<string, number> = {
  x64: 308,
  arm64: 268,
  arm: 375,
  ia32: 346,
  riscv64: 268,
  ppc64: 350,
  s390x: 339,
};

/**
 * What the listener serves: every pod with ports, and those ports (SCTP left out: see the README; a
 * controller pod's TCP ports its reverse proxy binds left out); host-network pods in their node's namespace.
 */
export function listenerSpec(plan: Plan) {
  // A controller pod's listener ports are its reverse proxy's (./http-proxies.ts).
  const proxied = new Set(
    (plan.proxies ?? []).flatMap((p) => p.spec.listeners.map((l) => `${p.spec.pod} ${l.containerPort}`)),
  );
  return [...plan.pods, ...plan.hostPods]
    .map((pod) => ({
      pod: pod.key,
      node: pod.node,
      ip: pod.ip,
      netns: pod.netns,
      ports: pod.ports.filter(
        (p) => p.protocol !== "SCTP" && !(p.protocol === "TCP" && proxied.has(`${pod.key} ${p.port}`)),
      ),
    }))
    .filter((p) => p.ports.length > 0);
}

/** Start the one listener process for every pod; resolves when it listens (or rejects with why not). */
export async function startListeners(
  host: Host,
  plan: Plan,
): Promise<{ pid: number; start: string; what: string } | undefined> {
  const spec = listenerSpec(plan);
  if (spec.length === 0) return undefined;
  const nr = SETNS[process.arch];
  if (nr === undefined)
    throw new DataPlaneError(`pod listeners: no setns syscall number known for ${process.arch}`);
  mkdirSync(host.stateDir, { recursive: true });
  const specFile = portsFile(host, plan.cluster);
  writeFileSync(specFile, JSON.stringify(spec));
  const triples = spec.flatMap((p) =>
    p.ports.flatMap((x) => [`/run/netns/${p.netns}`, x.protocol, String(x.port)]),
  );
  try {
    const started = await host.runner.start(
      {
        cmd: "sh",
        args: [
          "-c",
          'ulimit -n 1048576 2>/dev/null || ulimit -n 65536; exec "$@"',
          "sh",
          "perl",
          "-e",
          OPEN_SOCKETS,
          String(nr),
          ...triples,
          "--",
          process.execPath,
          program("listener"),
          specFile,
          zoneFile(host, plan.cluster),
        ],
      },
      60000,
    );
    return { ...started, what: `listeners of ${spec.length} pods` };
  } catch (e) {
    throw new DataPlaneError(`pod listeners: ${(e as Error).message}`);
  }
}
