/**
 * The device view: the interfaces, addresses, routes, neighbours and bridge FDB entries the CNI builds
 * on each node and in each pod, computed on demand for one node (nothing proportional to nodes × pods
 * is materialised).
 *
 *   pod netns                      node root netns                                   wire
 *   eth0 (podIP/mask) ══ veth ══ vethXXXXXXXX ─┐
 *                                            cni0 (bridge, podCIDR's first address)
 *                                              │ route lookup
 *                                      flannel.1 (vxlan: VNI 1, UDP 8472) ─┐
 *                                      or tunl0 (ipip) / eth0 (host-gw) ───┴── eth0 (node IP) ══ underlay
 *
 * It follows flannel with the bridge CNI plugin and host-local IPAM: pods route the cluster network and
 * the default route via the bridge's address; the node routes its own podCIDR to cni0 and every other
 * node's podCIDR per `cni`: `vxlan` via `<podCIDR>.0 dev flannel.1 onlink` (a permanent neighbour entry
 * gives the remote VTEP's MAC and an FDB entry its node IP), `host-gw` via the remote node IP on eth0,
 * `ipip` via the remote node IP on tunl0 (Calico-style IP-in-IP). MAC addresses are derived as the CNI
 * plugins derive them (`0a:58:` + the IPv4 address); host-side veth names hash the pod's name.
 */

import { fnv32a } from "../control/names.ts";
import type { ClusterState, NodeState } from "../control/state.ts";
import type { Pod } from "../model/k8s.ts";
import { Cidr, formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";

export const VXLAN_DEVICE = "flannel.1";
export const VXLAN_VNI = 1;
export const VXLAN_PORT = 8472;
export const IPIP_DEVICE = "tunl0";
export const BRIDGE = "cni0";

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

/** The MTU of the pod network (cni0, veths, pods' eth0): 1500 less the overlay's header, as flannel sets it. */
export function podNetworkMtu(state: ClusterState): number {
  return state.config.cni === "vxlan" ? 1450 : state.config.cni === "ipip" ? 1480 : 1500;
}

export interface Route {
  dst: Cidr | "default";
  via?: IPv4;
  dev: string;
  onlink?: boolean;
  /** `proto kernel scope link src …` routes created with an address. */
  scopeLink?: boolean;
  src?: IPv4;
}

export interface Neighbour {
  ip: IPv4;
  mac: string;
  dev: string;
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

/** A stable MAC for a node's VTEP (flannel picks one at random and publishes it in a Node annotation). */
export function vtepMac(node: NodeState): string {
  const h = fnv32a(`vtep/${node.name}`);
  const b = [0x0e, 0x4c, node.ip >>> 24, (node.ip >>> 16) & 255, (h >>> 8) & 255, h & 255];
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** The host-side veth name of a pod: `veth` + 8 hex digits of a hash of the pod. */
export function hostVethName(pod: Pod): string {
  return `veth${fnv32a(`${pod.metadata.namespace}/${pod.metadata.name}`).toString(16).padStart(8, "0")}`;
}

/** The bridge's address on a node: the podCIDR's first address. */
export function gatewayOf(node: NodeState): IPv4 {
  return node.podCIDR.nth(1);
}

/** The address flannel.1 / tunl0 carry: the podCIDR's network address, as a /32. */
export function tunnelAddressOf(node: NodeState): IPv4 {
  return node.podCIDR.nth(0);
}

/**
 * The addresses a node's root namespace owns besides loopback: every address of eth0 (the node's
 * `ips`, primary first), cni0's, and the tunnel device's (not under host-gw).
 */
export function nodeAddresses(cni: string, node: NodeState): IPv4[] {
  return [...node.ips, gatewayOf(node), ...(cni !== "host-gw" ? [tunnelAddressOf(node)] : [])];
}

/** eth0's prefix for one of the node's addresses: nodeNetwork's when inside it, else a /32. */
function underlayPrefix(nodeNetwork: Cidr, ip: IPv4): number {
  return nodeNetwork.contains(ip) ? nodeNetwork.prefix : 32;
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

/** The node's root network namespace. */
export function nodeNamespace(
  state: ClusterState,
  node: NodeState,
  pods = podsOnNode(state, node),
): Namespace {
  const cfg = state.config;
  const gw = gatewayOf(node);
  const interfaces: Interface[] = [
    { name: "lo", kind: "loopback", addresses: [{ ip: parseIPv4("127.0.0.1")!, prefix: 8 }] },
    {
      name: "eth0",
      kind: "ethernet",
      mac: macFor(node.ip),
      // Every address the node has, primary first (the kernel's preferred source on the link).
      addresses: node.ips.map((ip) => ({ ip, prefix: underlayPrefix(cfg.nodeNetwork, ip) })),
    },
    {
      name: BRIDGE,
      kind: "bridge",
      mac: macFor(gw),
      addresses: [{ ip: gw, prefix: node.podCIDR.prefix }],
      mtu: podNetworkMtu(state),
    },
  ];
  const routes: Route[] = [];
  const neighbours: Neighbour[] = [];
  const fdb: FdbEntry[] = [];
  const underlay = cfg.nodeNetwork.contains(node.ip) ? cfg.nodeNetwork : Cidr.of(node.ip, 32);
  routes.push({ dst: "default", via: underlay.prefix < 31 ? underlay.nth(1) : undefined, dev: "eth0" });
  routes.push({ dst: underlay, dev: "eth0", scopeLink: true, src: node.ip });
  routes.push({ dst: node.podCIDR, dev: BRIDGE, scopeLink: true, src: gw });

  if (cfg.cni === "vxlan") {
    interfaces.push({
      name: VXLAN_DEVICE,
      kind: "vxlan",
      mac: vtepMac(node),
      addresses: [{ ip: tunnelAddressOf(node), prefix: 32 }],
      vxlan: { vni: VXLAN_VNI, port: VXLAN_PORT, local: node.ip },
    });
  } else if (cfg.cni === "ipip") {
    interfaces.push({
      name: IPIP_DEVICE,
      kind: "ipip",
      addresses: [{ ip: tunnelAddressOf(node), prefix: 32 }],
    });
  }
  // Pods of other nodes whose IP lies outside their node's podCIDR (given in the input): a host route
  // to their node, as to its podCIDR.
  const strays = new Map<string, IPv4[]>();
  const byName = new Map(state.nodes.map((n) => [n.name, n]));
  for (const p of state.pods) {
    if (p.spec.hostNetwork || !p.status?.podIP || !p.spec.nodeName || p.spec.nodeName === node.name) continue;
    if (!isRunning(p)) continue;
    const ip = parseIPv4(p.status.podIP);
    const owner = byName.get(p.spec.nodeName);
    if (ip === undefined || !owner || owner.podCIDR.contains(ip)) continue;
    strays.set(owner.name, [...(strays.get(owner.name) ?? []), ip]);
  }
  for (const other of state.nodes) {
    if (other === node) continue;
    for (const ip of strays.get(other.name) ?? []) {
      const dst = Cidr.of(ip, 32);
      if (cfg.cni === "vxlan")
        routes.push({ dst, via: tunnelAddressOf(other), dev: VXLAN_DEVICE, onlink: true });
      else if (cfg.cni === "ipip") routes.push({ dst, via: other.ip, dev: IPIP_DEVICE, onlink: true });
      else routes.push({ dst, via: other.ip, dev: "eth0" });
    }
    if (cfg.cni === "vxlan") {
      routes.push({ dst: other.podCIDR, via: tunnelAddressOf(other), dev: VXLAN_DEVICE, onlink: true });
      neighbours.push({ ip: tunnelAddressOf(other), mac: vtepMac(other), dev: VXLAN_DEVICE });
      fdb.push({ mac: vtepMac(other), dev: VXLAN_DEVICE, dst: other.ip });
    } else if (cfg.cni === "ipip") {
      routes.push({ dst: other.podCIDR, via: other.ip, dev: IPIP_DEVICE, onlink: true });
    } else {
      routes.push({ dst: other.podCIDR, via: other.ip, dev: "eth0" });
    }
  }
  for (const pod of pods) {
    const ip = parseIPv4(pod.status!.podIP!)!;
    const veth = hostVethName(pod);
    interfaces.push({
      name: veth,
      kind: "veth",
      master: BRIDGE,
      peer: `eth0@${pod.metadata.namespace}/${pod.metadata.name}`,
      addresses: [],
      mtu: podNetworkMtu(state),
    });
    neighbours.push({ ip, mac: macFor(ip), dev: BRIDGE });
    fdb.push({ mac: macFor(ip), dev: BRIDGE, port: veth });
    // A pod IP outside this node's podCIDR (given in the input) is reachable only through a host route.
    if (!node.podCIDR.contains(ip)) routes.push({ dst: Cidr.of(ip, 32), dev: BRIDGE, scopeLink: true });
  }
  return { interfaces, routes: sortRoutes(routes), neighbours, fdb };
}

/** A pod's network namespace. */
export function podNamespace(state: ClusterState, node: NodeState, pod: Pod): Namespace {
  const ip = parseIPv4(pod.status!.podIP!)!;
  const gw = gatewayOf(node);
  const subnet = node.podCIDR;
  const routes: Route[] = [
    { dst: "default", via: gw, dev: "eth0" },
    { dst: state.config.clusterCIDR, via: gw, dev: "eth0" },
    { dst: subnet, dev: "eth0", scopeLink: true, src: ip },
  ];
  return {
    interfaces: [
      { name: "lo", kind: "loopback", addresses: [{ ip: parseIPv4("127.0.0.1")!, prefix: 8 }] },
      {
        name: "eth0",
        kind: "veth",
        mac: macFor(ip),
        peer: hostVethName(pod),
        addresses: [{ ip, prefix: subnet.prefix }],
        mtu: podNetworkMtu(state),
      },
    ],
    routes: sortRoutes(routes),
    neighbours: [{ ip: gw, mac: macFor(gw), dev: "eth0" }],
    fdb: [],
  };
}

/** Longest prefix first, as the kernel matches them. */
function sortRoutes(routes: Route[]): Route[] {
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
    const flags = i.kind === "loopback" ? "<LOOPBACK,UP,LOWER_UP>" : "<BROADCAST,MULTICAST,UP,LOWER_UP>";
    const master = i.master ? ` master ${i.master}` : "";
    const name =
      i.peer && i.kind === "veth" ? `${i.name}@${i.peer.startsWith("eth0@") ? "if-pod" : "if-host"}` : i.name;
    out.push(`${n + 1}: ${name}: ${flags} mtu ${mtuOf(i)}${master} state UP`);
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
      out.push(
        `${formatIPv4(n.ip)} dev ${n.dev} lladdr ${n.mac} ${n.dev === VXLAN_DEVICE ? "PERMANENT" : "REACHABLE"}`,
      );
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

export function renderRoute(r: Route): string {
  const dst = r.dst === "default" ? "default" : r.dst.toString();
  const parts = [dst];
  if (r.via !== undefined) parts.push("via", formatIPv4(r.via));
  parts.push("dev", r.dev);
  if (r.scopeLink) parts.push("proto kernel scope link");
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
