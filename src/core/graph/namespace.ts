/**
 * The device view's plugin-neutral parts: the shapes of a network namespace (interfaces, addresses,
 * routes, neighbours, FDB entries), the underlay every node has whatever its network plugin (`lo`,
 * `eth0` on nodeNetwork, its routes), route look-up, and rendering as `ip addr`, `ip route`,
 * `ip neigh` and `bridge fdb` print it. What a plugin builds on top is its own (../cni/); ./devices.ts
 * asks the cluster's plugin.
 */

import type { ClusterState, NodeState } from "../control/state.ts";
import type { Pod } from "../model/k8s.ts";
import { Cidr, formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";

export interface Interface {
  name: string;
  kind: "loopback" | "ethernet" | "bridge" | "veth" | "vxlan" | "ipip";
  mac?: string;
  /** `address/prefix` entries. */
  addresses: { ip: IPv4; prefix: number }[];
  /** The bridge a veth is enslaved to; the peer of a veth pair. */
  master?: string;
  peer?: string;
  /** vxlan: id, UDP port, local address. */
  vxlan?: { vni: number; port: number; local: IPv4 };
  /** When not the kind's default: the pod network's MTU, lowered by the overlay's header. */
  mtu?: number;
}

export interface Route {
  dst: Cidr | "default";
  via?: IPv4;
  /** The output device (for a blackhole route: none in the kernel; the plugin names a placeholder). */
  dev: string;
  onlink?: boolean;
  /** `scope link` (created with an address: `proto kernel scope link src …`). */
  scopeLink?: boolean;
  src?: IPv4;
  /** Who installed it as `ip route` shows it (`bird` for Calico's BGP routes); `boot` is not shown. Default: `kernel` for scope-link routes, none otherwise. */
  proto?: string;
  /** A `blackhole` route: packets matching it are discarded (Calico, for each of the node's own blocks). */
  blackhole?: boolean;
}

export interface Neighbour {
  ip: IPv4;
  mac: string;
  dev: string;
  /** Installed by the plugin (`nud permanent`: flannel's VTEP entries), not learnt by ARP. */
  permanent?: boolean;
}

export interface FdbEntry {
  mac: string;
  dev: string;
  /** VXLAN: the remote VTEP's underlay address. */
  dst?: IPv4;
  /** Bridge: the port a MAC lives behind. */
  port?: string;
}

export interface Namespace {
  interfaces: Interface[];
  routes: Route[];
  neighbours: Neighbour[];
  fdb: FdbEntry[];
}

/** `0a:58:` + the address's four bytes: how the CNI plugins derive a stable MAC from an IPv4. */
export function macFor(ip: IPv4): string {
  const b = [0x0a, 0x58, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** eth0's prefix for one of the node's addresses: nodeNetwork's when inside it, else a /32. */
function underlayPrefix(nodeNetwork: Cidr, ip: IPv4): number {
  return nodeNetwork.contains(ip) ? nodeNetwork.prefix : 32;
}

/** The node's underlay subnet: nodeNetwork when its primary IP lies there, else its own /32. */
export function underlayOf(state: ClusterState, node: NodeState): Cidr {
  const nn = state.config.nodeNetwork;
  return nn.contains(node.ip) ? nn : Cidr.of(node.ip, 32);
}

/**
 * The underlay's route for `dst` in a node's root namespace: eth0's subnet, else the default route
 * via the subnet's first address (none on a /31 or /32).
 */
export function underlayRoute(state: ClusterState, node: NodeState, dst: IPv4): Route {
  const underlay = underlayOf(state, node);
  if (underlay.contains(dst)) return { dst: underlay, dev: "eth0", scopeLink: true, src: node.ip };
  return { dst: "default", via: underlay.prefix < 31 ? underlay.nth(1) : undefined, dev: "eth0" };
}

/**
 * What every node's root namespace has whatever the plugin: `lo`, `eth0` with all of the node's
 * addresses (primary first: the kernel's preferred source on the link), the default route and eth0's
 * subnet route. A plugin's `nodeNamespace` starts from it and adds its own.
 */
export function underlayNamespace(state: ClusterState, node: NodeState): Namespace {
  const cfg = state.config;
  const underlay = underlayOf(state, node);
  return {
    interfaces: [
      { name: "lo", kind: "loopback", addresses: [{ ip: parseIPv4("127.0.0.1")!, prefix: 8 }] },
      {
        name: "eth0",
        kind: "ethernet",
        mac: macFor(node.ip),
        addresses: node.ips.map((ip) => ({ ip, prefix: underlayPrefix(cfg.nodeNetwork, ip) })),
      },
    ],
    routes: [
      { dst: "default", via: underlay.prefix < 31 ? underlay.nth(1) : undefined, dev: "eth0" },
      { dst: underlay, dev: "eth0", scopeLink: true, src: node.ip },
    ],
    neighbours: [],
    fdb: [],
  };
}

/** A pod namespace's loopback device. */
export function loopback(): Interface {
  return { name: "lo", kind: "loopback", addresses: [{ ip: parseIPv4("127.0.0.1")!, prefix: 8 }] };
}

/** Pods with their own network namespace on a node (hostNetwork pods share the node's). */
export function podsOnNode(state: ClusterState, node: NodeState): Pod[] {
  return state.pods.filter(
    (p) => p.spec.nodeName === node.name && !p.spec.hostNetwork && p.status?.podIP && isRunning(p),
  );
}

export function isRunning(p: Pod): boolean {
  return p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
}

/** Longest prefix first, as the kernel matches them (stable: equal prefixes keep their order). */
export function sortRoutes(routes: Route[]): Route[] {
  const len = (r: Route) => (r.dst === "default" ? -1 : r.dst.prefix);
  return routes.sort((a, b) => len(b) - len(a));
}

/** The route the kernel picks for `dst` (longest prefix match), or undefined. */
export function lookupRoute(ns: Namespace, dst: IPv4): Route | undefined {
  return ns.routes.find((r) => r.dst === "default" || r.dst.contains(dst));
}

/** Is `ip` one of this namespace's own addresses (a "local" address for netfilter's fib match)? */
export function isLocalAddress(ns: Namespace, ip: IPv4): boolean {
  return ns.interfaces.some((i) =>
    i.addresses.some((a) => a.ip === ip || (i.kind === "loopback" && Cidr.of(a.ip, a.prefix).contains(ip))),
  );
}

export function addressOf(ns: Namespace, dev: string): IPv4 | undefined {
  return ns.interfaces.find((i) => i.name === dev)?.addresses[0]?.ip;
}

// ------------------------------------------------------------------------------------ rendering

/** `ip addr` / `ip route` / `ip neigh` / `bridge fdb` as text. */
export function renderNamespace(ns: Namespace, opts: { title: string }): string {
  const out: string[] = [`# ${opts.title}`, "", "$ ip addr"];
  ns.interfaces.forEach((i, n) => {
    // As iproute2 prints them: an IP-in-IP device has no ARP (and no lower device: `@NONE`);
    // devices without a carrier of their own (lo, tunnels) report their operstate as UNKNOWN.
    const flags =
      i.kind === "loopback"
        ? "<LOOPBACK,UP,LOWER_UP>"
        : i.kind === "ipip"
          ? "<NOARP,UP,LOWER_UP>"
          : "<BROADCAST,MULTICAST,UP,LOWER_UP>";
    const state = i.kind === "loopback" || i.kind === "ipip" || i.kind === "vxlan" ? "UNKNOWN" : "UP";
    const master = i.master ? ` master ${i.master}` : "";
    const name =
      i.peer && i.kind === "veth"
        ? `${i.name}@${i.peer.startsWith("eth0@") ? "if-pod" : "if-host"}`
        : i.kind === "ipip"
          ? `${i.name}@NONE`
          : i.name;
    out.push(`${n + 1}: ${name}: ${flags} mtu ${mtuOf(i)}${master} state ${state}`);
    if (i.kind === "loopback") out.push("    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00");
    else if (i.kind === "ipip") out.push("    link/ipip 0.0.0.0 brd 0.0.0.0");
    else out.push(`    link/ether ${i.mac ?? "(random)"} brd ff:ff:ff:ff:ff:ff`);
    if (i.vxlan)
      out.push(
        `    vxlan id ${i.vxlan.vni} local ${formatIPv4(i.vxlan.local)} dev eth0 srcport 0 0 dstport ${i.vxlan.port} nolearning`,
      );
    if (i.kind === "veth" && i.peer) out.push(`    veth peer: ${i.peer.replace(/^eth0@/, "eth0 in pod ")}`);
    for (const a of i.addresses)
      out.push(
        `    inet ${formatIPv4(a.ip)}/${a.prefix} scope ${i.kind === "loopback" ? "host" : "global"} ${i.name}`,
      );
  });
  out.push("", "$ ip route");
  for (const r of ns.routes) out.push(renderRoute(r));
  if (ns.neighbours.length) {
    out.push("", "$ ip neigh");
    for (const n of ns.neighbours)
      out.push(`${formatIPv4(n.ip)} dev ${n.dev} lladdr ${n.mac} ${n.permanent ? "PERMANENT" : "REACHABLE"}`);
  }
  if (ns.fdb.length) {
    out.push("", "$ bridge fdb");
    for (const f of ns.fdb)
      out.push(
        f.dst !== undefined
          ? `${f.mac} dev ${f.dev} dst ${formatIPv4(f.dst)} self permanent`
          : `${f.mac} dev ${f.port} master ${f.dev}`,
      );
  }
  return `${out.join("\n")}\n`;
}

/** One route as `ip route` prints it. */
export function renderRoute(r: Route): string {
  // iproute2 prints a host route's destination without its /32.
  const dst =
    r.dst === "default" ? "default" : r.dst.prefix === 32 ? formatIPv4(r.dst.base) : r.dst.toString();
  const parts = r.blackhole ? ["blackhole", dst] : [dst];
  if (r.via !== undefined) parts.push("via", formatIPv4(r.via));
  if (!r.blackhole) parts.push("dev", r.dev);
  const proto = r.proto ?? (r.scopeLink ? "kernel" : undefined);
  if (proto !== undefined && proto !== "boot") parts.push("proto", proto);
  if (r.scopeLink) parts.push("scope link");
  if (r.src !== undefined) parts.push("src", formatIPv4(r.src));
  if (r.onlink) parts.push("onlink");
  return parts.join(" ");
}

function mtuOf(i: Interface): number {
  if (i.mtu !== undefined) return i.mtu;
  if (i.kind === "loopback") return 65536;
  if (i.kind === "vxlan") return 1450;
  if (i.kind === "ipip") return 1480;
  return 1500;
}
