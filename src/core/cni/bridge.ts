/**
 * flannel's shape, shared by its backends (./vxlan.ts, ./host-gw.ts, ./ipip.ts): the bridge CNI plugin
 * with host-local IPAM on each node's podCIDR, as flannel's CNI plugin configures them.
 *
 *   pod netns                       node root netns
 *   eth0 (podIP/podCIDR's prefix) ══ veth ══ vethXXXXXXXX ─┐
 *     default via <podCIDR .1>                           cni0 (bridge, <podCIDR .1>/prefix, hairpin ports)
 *     <clusterCIDR> via <podCIDR .1>                       │ <podCIDR> dev cni0 proto kernel scope link
 *                                                          │ other nodes' podCIDRs: the backend's routes
 *                                                          └─ backend's tunnel (flannel.1, tunl0) or eth0
 *
 * - IPAM (../control/pod-ipam.ts): one block per node, its podCIDR; the gateway `.1` is cni0's, pods
 *   from `.2`; pods given outside their node's podCIDR keep their address and get /32 host routes.
 * - A pod's frame to another pod on its subnet is switched by cni0 (FDB: the pod's MAC behind its
 *   veth); anything else goes to the gateway's MAC, up to the node's IP stack.
 * - Between nodes: the backend (a route per other node's podCIDR, and the encapsulation if any).
 * - Egress masquerade: flannel's `--ip-masq` (pod sources in clusterCIDR to destinations outside it).
 * - MACs are `0a:58:` + the address (the bridge plugin's `hwaddr` from the IP); the veth's host name
 *   hashes the pod's namespace and name.
 */

import { fnv32a } from "../control/names.ts";
import { assignPodIPs } from "../control/pod-ipam.ts";
import type { ClusterState, NodeState } from "../control/state.ts";
import { interfaceLines, routeLines } from "../graph/ip-batch.ts";
import {
  type FdbEntry,
  type Interface,
  loopback,
  macFor,
  type Neighbour,
  type Route,
  renderRoute,
  sortRoutes,
  underlayNamespace,
} from "../graph/namespace.ts";
import type { CniMode } from "../model/config.ts";
import type { Pod } from "../model/k8s.ts";
import { Cidr, formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import type {
  DataplaneRefusal,
  HopNote,
  LocalDelivery,
  NetworkPlugin,
  NodeForward,
  OuterHeader,
  PodAddressOwner,
  PodExit,
  PodNetworkIndex,
} from "./plugin.ts";

/** The bridge the bridge CNI plugin creates on each node (flannel's default name). */
export const BRIDGE = "cni0";

/** The host-side veth name of a pod: `veth` + 8 hex digits of a hash of the pod's namespace and name. */
export function hostVethName(pod: Pod): string {
  return `veth${fnv32a(`${pod.metadata.namespace}/${pod.metadata.name}`).toString(16).padStart(8, "0")}`;
}

/** The bridge's address on a node: the podCIDR's first address (host-local's gateway). */
export function gatewayOf(node: NodeState): IPv4 {
  return node.podCIDR.nth(1);
}

/**
 * The MAC of the next hop a pod's route names: the gateway's (cni0's, `macFor` of its address) is
 * kept per node once made, as every trace leaving a pod names it twice; any other address is
 * formatted on the spot.
 */
function nextHopMac(node: NodeState, via: IPv4): string {
  if (via !== gatewayOf(node)) return macFor(via);
  let mac = gatewayMacs.get(node);
  if (mac === undefined) {
    mac = macFor(via);
    gatewayMacs.set(node, mac);
  }
  return mac;
}

const gatewayMacs = new WeakMap<NodeState, string>();

/** The address flannel gives its tunnel device (flannel.1, tunl0): the podCIDR's network address, as a /32. */
export function tunnelAddressOf(node: NodeState): IPv4 {
  return node.podCIDR.nth(0);
}

/**
 * What distinguishes one flannel backend from another: how a node reaches the other nodes' podCIDRs.
 * Each backend file calls `flannelPlugin` with one.
 */
export interface FlannelBackend {
  /** `spec.cni`'s value. */
  readonly name: CniMode;
  readonly summary: string;
  /** The pod network's MTU: 1500 less the encapsulation's header (flannel writes it to subnet.env). */
  readonly mtu: number;
  /** The backend's device on a node (with the node's tunnel address), or none (host-gw). */
  tunnel(node: NodeState): Interface | undefined;
  /** The route to another node's podCIDR, or to a /32 of a pod of it outside that podCIDR. */
  routeToNode(other: NodeState, dst: Cidr): Route;
  /** Permanent neighbour and FDB entries a node keeps for another node (flannel's VXLAN VTEP entries). */
  peerEntries(other: NodeState): { neighbours: Neighbour[]; fdb: FdbEntry[] };
  /**
   * The hops that put a packet routed onto the backend's tunnel into its outer header, towards the
   * node `owner` the destination lives on. Undefined for routes not on the tunnel.
   */
  encapsulate(
    node: NodeState,
    owner: NodeState,
    route: Route,
  ): { hops: HopNote[]; outer: OuterHeader } | undefined;
  /** The decapsulation hop on the receiving node. */
  decapsulate(node: NodeState, outer: OuterHeader): HopNote;
  /** Why the kernel here cannot build it, or undefined. */
  dataplaneSupport(): DataplaneRefusal | undefined;
}

/** A flannel network plugin (bridge + host-local) over the given backend. */
export function flannelPlugin(backend: FlannelBackend): NetworkPlugin {
  const hop = (at: string, step: string, detail: string, device?: string): HopNote => ({
    at,
    step,
    detail,
    ...(device ? { device } : {}),
  });

  /** Bridge FDB lookup on a node for `dst`: the pod's veth and its namespace, or undefined. */
  const bridgeTo = (
    net: PodNetworkIndex,
    node: NodeState,
    dst: IPv4,
    what: string,
  ): LocalDelivery | undefined => {
    const pod = net.podByIP.get(dst);
    if (!pod || pod.spec.nodeName !== node.name) return undefined;
    const { hostInterface: veth, name, mac } = net.podFacts(pod);
    return {
      kind: "pod",
      pod,
      hops: [
        hop(`node ${node.name}`, "bridge", `${what}: ${mac} → port ${veth}`, BRIDGE),
        hop(`pod ${name}`, "veth", `veth pair: ${veth} → eth0 in pod ${name}`, "eth0"),
      ],
    };
  };

  const plugin: NetworkPlugin = {
    name: backend.name,
    summary: backend.summary,
    blockTerm: "podCIDR",
    // host-local: the podCIDR less its network, gateway and broadcast addresses.
    nodePodCapacity: (_config, node) => node.podCIDR.size - 3,

    assignPodAddresses(input) {
      assignPodIPs(input);
      return { blocks: new Map(input.nodes.map((n) => [n.name, [n.podCIDR]])) };
    },

    mtu: () => backend.mtu,

    nodeAddresses(_state, node) {
      const t = backend.tunnel(node);
      return [gatewayOf(node), ...(t ? t.addresses.map((a) => a.ip) : [])];
    },

    nodeNamespace(state, node, pods) {
      const ns = underlayNamespace(state, node);
      const gw = gatewayOf(node);
      const mtu = backend.mtu;
      ns.interfaces.push({
        name: BRIDGE,
        kind: "bridge",
        mac: macFor(gw),
        addresses: [{ ip: gw, prefix: node.podCIDR.prefix }],
        mtu,
      });
      ns.routes.push({ dst: node.podCIDR, dev: BRIDGE, scopeLink: true, src: gw });
      const tunnel = backend.tunnel(node);
      if (tunnel) ns.interfaces.push(tunnel);
      // Pods of other nodes whose IP lies outside their node's podCIDR (given in the input): a host
      // route to their node, as to its podCIDR.
      const strays = straysOf(state);
      for (const other of state.nodes) {
        if (other === node) continue;
        for (const ip of strays.get(other.name) ?? [])
          ns.routes.push(backend.routeToNode(other, Cidr.of(ip, 32)));
        ns.routes.push(backend.routeToNode(other, other.podCIDR));
        const peer = backend.peerEntries(other);
        ns.neighbours.push(...peer.neighbours);
        ns.fdb.push(...peer.fdb);
      }
      for (const pod of pods) {
        const ip = parseIPv4(pod.status!.podIP!)!;
        const veth = hostVethName(pod);
        ns.interfaces.push({
          name: veth,
          kind: "veth",
          master: BRIDGE,
          peer: `eth0@${pod.metadata.namespace}/${pod.metadata.name}`,
          addresses: [],
          mtu,
        });
        ns.neighbours.push({ ip, mac: macFor(ip), dev: BRIDGE });
        ns.fdb.push({ mac: macFor(ip), dev: BRIDGE, port: veth });
        // A pod IP outside this node's podCIDR (given in the input) is reachable only through a host route.
        if (!node.podCIDR.contains(ip))
          ns.routes.push({ dst: Cidr.of(ip, 32), dev: BRIDGE, scopeLink: true });
      }
      sortRoutes(ns.routes);
      return ns;
    },

    podRoutes(state, node, ip) {
      const gw = gatewayOf(node);
      return sortRoutes([
        { dst: "default", via: gw, dev: "eth0" },
        { dst: state.config.clusterCIDR, via: gw, dev: "eth0" },
        { dst: node.podCIDR, dev: "eth0", scopeLink: true, src: ip },
      ]);
    },

    podNamespace(state, node, pod) {
      const ip = parseIPv4(pod.status!.podIP!)!;
      const gw = gatewayOf(node);
      const subnet = node.podCIDR;
      return {
        interfaces: [
          loopback(),
          {
            name: "eth0",
            kind: "veth",
            mac: macFor(ip),
            peer: hostVethName(pod),
            addresses: [{ ip, prefix: subnet.prefix }],
            mtu: backend.mtu,
          },
        ],
        routes: plugin.podRoutes(state, node, ip),
        neighbours: [{ ip: gw, mac: macFor(gw), dev: "eth0" }],
        fdb: [],
      };
    },

    hostInterfaceName: hostVethName,

    deviceAddress(_state, node, dev) {
      if (dev === BRIDGE) return gatewayOf(node);
      const t = backend.tunnel(node);
      return t && t.name === dev ? t.addresses[0]?.ip : undefined;
    },

    nodeFacts: (_state, node) => [{ header: `GATEWAY (${BRIDGE})`, value: formatIPv4(gatewayOf(node)) }],

    podNetworkNote: (state) => `a /${state.config.nodeCIDRMaskSize} per node (its podCIDR, host-local IPAM)`,

    routeTo(_net, node, dst, owner?: PodAddressOwner) {
      if (!owner) return undefined;
      if (owner.node !== node) return backend.routeToNode(owner.node, owner.dst);
      // Its own podCIDR (the bridge's subnet), or a /32 host route to a pod of its own outside it.
      if (owner.dst.prefix === 32 && !node.podCIDR.contains(dst))
        return { dst: owner.dst, dev: BRIDGE, scopeLink: true };
      return { dst: node.podCIDR, dev: BRIDGE, scopeLink: true, src: gatewayOf(node) };
    },

    leavePod(net, node, pod, r, dst): PodExit {
      const { name, hostInterface: veth } = net.podFacts(pod);
      const hops = [
        hop(
          `pod ${name}`,
          "route",
          `route lookup: ${renderRoute(r)}${r.via !== undefined ? ` → next hop ${formatIPv4(r.via)} (${nextHopMac(node, r.via)})` : ` → ARP ${formatIPv4(dst)} on the link`}`,
          "eth0",
        ),
        hop(
          `node ${node.name}`,
          "veth",
          `veth pair: eth0 in the pod → ${veth} on the node, a port of bridge ${BRIDGE}`,
          veth,
        ),
      ];
      // Same subnet: the bridge switches the frame at layer 2 (netfilter still sees it: br_netfilter).
      if (r.via === undefined) return { hops, onLink: true };
      hops.push(
        hop(
          `node ${node.name}`,
          "bridge",
          `bridge ${BRIDGE}: the destination MAC is the bridge's own (${nextHopMac(node, r.via)}) → up to the node's IP stack`,
          BRIDGE,
        ),
      );
      return { hops, onLink: false };
    },

    switchOnLink(net, node, pod, dst) {
      const to = bridgeTo(net, node, dst, `bridge ${BRIDGE}: FDB lookup`);
      if (to) return to;
      if (net.isNodeAddress(node, dst))
        return {
          kind: "host",
          hops: [
            hop(
              `node ${node.name}`,
              "bridge",
              `bridge ${BRIDGE}: ${formatIPv4(dst)} is the bridge's own address → up to the node's IP stack`,
              BRIDGE,
            ),
          ],
        };
      // On the link, but nobody on the bridge has the address (a pod elsewhere whose address lies in
      // this node's podCIDR): the ARP request gets no answer, and the packet goes nowhere.
      const elsewhere = net.podByIP.get(dst);
      const name = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
      return {
        kind: "drop",
        hops: [
          hop(
            `node ${node.name}`,
            "bridge",
            `bridge ${BRIDGE}: ARP for ${formatIPv4(dst)} gets no answer — no port of the bridge has it`,
            BRIDGE,
          ),
        ],
        reason: `${formatIPv4(dst)} is on pod ${name(pod)}'s link (its subnet) but on no pod of node ${node.name}${elsewhere ? `: it is ${name(elsewhere)}'s, on node ${elsewhere.spec.nodeName}, outside that node's podCIDR` : ""}; the ARP request gets no answer`,
      };
    },

    forward(net, node, r, dst): NodeForward | undefined {
      if (r.dev === BRIDGE)
        return (
          bridgeTo(net, node, dst, `${BRIDGE}: neighbour ${formatIPv4(dst)} → FDB lookup`) ?? {
            kind: "drop",
            hops: [],
            reason: `no pod has ${formatIPv4(dst)} on node ${node.name}`,
          }
        );
      const owner = net.podAddressOwner(dst)?.node;
      if (!owner || owner === node) return undefined;
      const encap = backend.encapsulate(node, owner, r);
      if (!encap) return undefined;
      const outer = hop(
        `node ${node.name}`,
        "route",
        `outer route lookup: ${renderRoute(net.nodeRoute(node, owner.ip))}`,
        "eth0",
      );
      return { kind: "node", to: owner, outer: encap.outer, hops: [...encap.hops, outer] };
    },

    decapsulate: (_net, node, outer) => backend.decapsulate(node, outer),

    masqueradesEgress(state, src, dst) {
      const cluster = state.config.clusterCIDR;
      return cluster.contains(src) && !cluster.contains(dst);
    },

    dataplaneSupport: () => backend.dataplaneSupport(),

    nodeLines(_state, node, model) {
      const t = backend.tunnel(node);
      return [...interfaceLines(model, BRIDGE), ...(t ? interfaceLines(model, t.name) : [])];
    },

    podLinkLines(_state, _node, pod, podNetns) {
      const veth = hostVethName(pod);
      return [
        `link add ${veth} type veth peer name eth0 netns ${podNetns}`,
        `link set ${veth} mtu ${backend.mtu}`,
        `link set ${veth} master ${BRIDGE}`,
        // Hairpin, as flannel configures the bridge plugin: a pod reaching itself through its Service.
        `link set ${veth} type bridge_slave hairpin on`,
        `link set ${veth} up`,
      ];
    },

    podLines(_state, node, pod, model) {
      let lines = [...interfaceLines(model, "eth0"), ...routeLines(model)];
      const ip = pod.status!.podIP!;
      if (!node.podCIDR.contains(parseIPv4(ip)!)) {
        // An address outside the node's podCIDR (given in the input): the kernel would make the route
        // of the address's own prefix, and not the podCIDR's the gateway lies in. The model's routes
        // are written instead.
        lines = lines.map((l) => (l.startsWith(`addr add ${ip}/`) ? `${l} noprefixroute` : l));
        lines.splice(
          lines.findIndex((l) => l.startsWith("route ")),
          0,
          `route add ${node.podCIDR} dev eth0 scope link src ${ip}`,
        );
      }
      return lines;
    },

    podLinkSysctls: () => [],
  };
  return plugin;
}

/** The underlay route, for backends whose next hop is the other node on eth0 (host-gw). */
export function viaUnderlay(other: NodeState, dst: Cidr): Route {
  return { dst, via: other.ip, dev: "eth0" };
}

/**
 * Running pod-network pods whose IP lies outside their node's podCIDR (given in the input), by
 * their node's name: every other node routes each to that node with a /32. Found in one pass over the
 * pods per cluster and kept (a node's namespace is asked for per node: a pass per node was seconds
 * for a node's view at 150,000 pods).
 */
function straysOf(state: ClusterState): ReadonlyMap<string, readonly IPv4[]> {
  let strays = straysByState.get(state);
  if (strays) return strays;
  const found = new Map<string, IPv4[]>();
  const byName = new Map(state.nodes.map((n) => [n.name, n]));
  for (const p of state.pods) {
    if (p.spec.hostNetwork || !p.status?.podIP || !p.spec.nodeName) continue;
    if (p.status.phase === "Succeeded" || p.status.phase === "Failed") continue;
    const ip = parseIPv4(p.status.podIP);
    const owner = byName.get(p.spec.nodeName);
    if (ip === undefined || !owner || owner.podCIDR.contains(ip)) continue;
    const list = found.get(owner.name);
    if (list) list.push(ip);
    else found.set(owner.name, [ip]);
  }
  strays = found;
  straysByState.set(state, strays);
  return strays;
}
const straysByState = new WeakMap<ClusterState, ReadonlyMap<string, readonly IPv4[]>>();
