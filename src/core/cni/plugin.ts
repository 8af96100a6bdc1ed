/**
 * A network plugin (the CNI plugin and the daemon that programs the node: flannel, Calico, …) as one
 * part: everything that differs between plugins sits behind `NetworkPlugin`, and nothing outside a
 * plugin's own file and the registry (./registry.ts) tests a plugin's name.
 *
 *   control plane                device view               tracer (sim/trace.ts)        data plane (dataplane/plan.ts)
 *   ─────────────                ───────────               ─────────────────────        ──────────────────────────────
 *   assignPodAddresses ──► ClusterState.podNetwork.blocks ──► Network index (binary search over every block)
 *                          nodeNamespace / podNamespace ──► routes, `podnet routes`  ──► nodeLines / podLinkLines / podLines
 *                          routeTo (fast path of the node's route table)
 *                          leavePod / switchOnLink / forward / decapsulate ──► hops
 *
 * Two shapes are expressed by it today:
 * - flannel with the bridge CNI plugin and host-local IPAM (./bridge.ts): a bridge `cni0` per node
 *   holding the podCIDR's first address, one block per node (its podCIDR), pods' veths on the bridge;
 *   the backend decides how a packet reaches another node (VXLAN, a plain next hop, IP-in-IP);
 * - Calico (calico-ipam, Felix, BIRD): no bridge; each pod behind its own `cali…` veth with a /32,
 *   `default via 169.254.1.1` answered by proxy ARP, a host route per pod; IPAM blocks (default /26)
 *   affine to nodes, claimed on demand, borrowed from when the pool is full; a route per remote block
 *   (tunl0 onlink, vxlan.calico, or eth0) and a blackhole per own block.
 *
 * Units: addresses are `IPv4` numbers (../net/ipv4.ts), MTUs are bytes of the IP packet (the link
 * MTU `ip link` shows), ports are UDP port numbers.
 */
import type { ClusterState, GroupedWarnings, NodeState, PodNetworkState } from "../control/state.ts";
import type { Diagnostics, Origin } from "../diagnostics.ts";
import type { Namespace, Route } from "../graph/namespace.ts";
import type { Inventory } from "../manifests/decode.ts";
import type { ClusterConfig, CniMode } from "../model/config.ts";
import type { Pod } from "../model/k8s.ts";
import { type Cidr, findBlock, type IPv4 } from "../net/ipv4.ts";

/**
 * Why the data plane cannot build a plugin's network here (`NetworkPlugin.dataplaneSupport`): the
 * reason, and when the plugin knows it the object and field that chose the unbuildable part (a
 * Calico IPPool's `ipipMode`) and the fix there. Without an origin the refusal points at the
 * Cluster config's `spec.cni`.
 */
export interface DataplaneRefusal {
  readonly reason: string;
  /** What to change; without it the plan names the plugins the data plane builds. */
  readonly fix?: string;
  readonly object?: string;
  readonly origin?: Origin;
  readonly path?: readonly (string | number)[];
}

/** What a plugin's pod IPAM is given (control/resolve.ts calls it once, after scheduling). */
export interface PodIpamInput {
  /**
   * Every pod in input order. The IPAM sets `status.podIP`/`podIPs` (keeping given ones), and what the
   * kubelet reports for a running pod (phase, hostIP, Ready conditions; see control/pod-ipam.ts
   * `setRunning`); a pod that gets no address is left `Pending`.
   */
  readonly pods: readonly Pod[];
  readonly nodes: readonly NodeState[];
  readonly config: ClusterConfig;
  /** The input the cluster was read from, for plugin objects in it (Calico `IPPool`s); absent in tests. */
  readonly inventory?: Inventory;
  readonly originOf: (pod: Pod) => Origin | undefined;
  /** Errors (an address taken twice, a pool exhausted) and warnings, at the object's file:line:col. */
  readonly diags: Diagnostics;
  /** For warnings that can hit thousands of pods at once (one line with a count and the first). */
  readonly grouped: GroupedWarnings;
}

/**
 * Every node's pod address blocks (`PodNetworkState.blocks`) in one index sorted by base address:
 * the returned function gives the block holding an address and its node, by binary search
 * (`findBlock`; blocks of different nodes never overlap), or undefined when no block holds it.
 * `nodeOf` turns a node name into what the caller keeps (the name itself, or its `NodeState`); a
 * block whose node it does not know (undefined) is left out. Built once, O(blocks · log blocks);
 * each look-up O(log blocks), allocating nothing.
 */
export function podBlockIndex<N>(
  network: PodNetworkState,
  nodeOf: (name: string) => N | undefined,
): (ip: IPv4) => { readonly block: Cidr; readonly node: N } | undefined {
  const entries: { block: Cidr; node: N }[] = [];
  for (const [name, blocks] of network.blocks) {
    const node = nodeOf(name);
    if (node !== undefined) for (const block of blocks) entries.push({ block, node });
  }
  entries.sort((a, b) => a.block.base - b.block.base);
  return (ip) => findBlock(entries, ip, (e) => e.block);
}

/** Where a pod address is routed: the node and the block (or /32) that leads there. */
export interface PodAddressOwner {
  readonly node: NodeState;
  /** The block containing the address, or the address as a /32 when it lies in none of the node's blocks. */
  readonly dst: Cidr;
}

/**
 * What the plugin may ask of the indexed cluster when it routes and traces (sim/network.ts `Network`
 * implements it). Every call is a map look-up or a binary search: nothing per pod pair.
 */
export interface PodNetworkIndex {
  readonly state: ClusterState;
  readonly plugin: NetworkPlugin;
  readonly nodeByName: ReadonlyMap<string, NodeState>;
  /** Running pods with their own network namespace, by address. */
  readonly podByIP: ReadonlyMap<IPv4, Pod>;
  /** The node a pod address is routed to: its /32 if it has one, else the block containing it. */
  podAddressOwner(ip: IPv4): PodAddressOwner | undefined;
  /** The route a node's root namespace uses for `dst` (the plugin's `routeTo`, else the underlay's). */
  nodeRoute(node: NodeState, dst: IPv4): Route;
  /** Whether `ip` is one of the node's own addresses (loopback, eth0's, the plugin's devices'). */
  isNodeAddress(node: NodeState, ip: IPv4): boolean;
  /** What a trace says of a pod at every hop, computed once when the index is built (`PodFacts`). */
  podFacts(pod: Pod): PodFacts;
}

/**
 * The facts about a pod that a trace's hops name again and again, computed once per pod when the
 * network index is built (sim/network.ts): parsing the address text, hashing the pod's name into its
 * veth's and formatting its MAC on every hop of every trace cost a fifth of a trace (issue 13).
 */
export interface PodFacts {
  /** `status.podIP` as a number. */
  readonly ip: IPv4;
  /** `namespace/name`, as hops and verdicts name the pod. */
  readonly name: string;
  /** The host side of its link (`NetworkPlugin.hostInterfaceName`). */
  readonly hostInterface: string;
  /** Its eth0's MAC (graph/namespace.ts `macFor` of its address, as the bridge plugin sets it). */
  readonly mac: string;
}

/** One hop of a trace as the plugin tells it; the tracer stamps it with the packet as it is then. */
export interface HopNote {
  /** `pod ns/name`, `node NAME`. */
  readonly at: string;
  /** `route`, `veth`, `bridge`, `neighbour`, `encap`, `decap`, `arp`… */
  readonly step: string;
  readonly detail: string;
  readonly device?: string;
  /**
   * The outer header the packet carries from this hop on (the encapsulation hop sets it; the tracer
   * keeps it until the receiving node's `decapsulate`).
   */
  readonly outer?: OuterHeader;
}

/** The outer header of an encapsulated packet (VXLAN: UDP with a VNI; IP-in-IP: IP protocol 4). */
export interface OuterHeader {
  src: string;
  dst: string;
  protocol: "UDP" | "IPIP";
  /** UDP: the destination port (flannel 8472, Calico and the IANA port 4789). */
  dport?: number;
  /** VXLAN network identifier (flannel 1, Calico 4096). */
  vni?: number;
}

/** Where a packet goes when the node (or its bridge) hands it to a local pod. */
export type LocalDelivery =
  /** Into the pod's namespace through its link; `hops` end in the pod. */
  | { kind: "pod"; pod: Pod; hops: HopNote[] }
  /** Up to the node's own IP stack (the destination is one of the node's addresses). */
  | { kind: "host"; hops: HopNote[] }
  /** Nowhere (no pod answers the ARP request, a blackhole route): `reason` ends the trace. */
  | { kind: "drop"; reason: string; hops: HopNote[] };

/** Where a node's route sends a packet, as the plugin's devices carry it. */
export type NodeForward =
  | LocalDelivery
  /**
   * To another node over the underlay; `outer` when encapsulated (the header set by the hop that
   * encapsulates, `HopNote.outer`; the receiving node's `decapsulate` removes it).
   */
  | { kind: "node"; to: NodeState; outer?: OuterHeader; hops: HopNote[] };

/** How a packet leaves a pod's namespace (sim/trace.ts). */
export interface PodExit {
  /** From the pod's route lookup to the node (`route`, `veth`, `bridge`…). */
  hops: HopNote[];
  /**
   * `true` when the destination is on the pod's own link and the node switches the frame at layer 2
   * (a bridge): the tracer then runs the node's prerouting hooks and asks `switchOnLink`. `false`: the
   * packet is up in the node's IP stack (the gateway's MAC was the node's).
   */
  onLink: boolean;
}

/** A node-level setting the data plane writes (`sysctl -w key=value` in the node's namespace). */
export interface Sysctl {
  key: string;
  value: string;
}

/**
 * A network plugin. One file per plugin under src/core/cni/, registered in ./registry.ts under the
 * name `spec.cni` of the Cluster config selects. Every method is pure. Methods taking a `node` are
 * called for nodes of `state` only; `pod` arguments are running pods with their own network namespace
 * (not hostNetwork) and an address.
 */
export interface NetworkPlugin {
  /** The value of the Cluster config's `spec.cni` that selects it (`vxlan`, `host-gw`, `ipip`, `calico`). */
  readonly name: CniMode;
  /** One line for `podnet demo` and the README: what the plugin is and which upstream it follows. */
  readonly summary: string;

  // ------------------------------------------------------------------ IPAM

  /**
   * Assigns pod addresses (keeping the given ones) and says which address blocks each node owns.
   * Errors and warnings go to `input.diags` at the pod's file:line:col; never throws on bad input.
   */
  assignPodAddresses(input: PodIpamInput): PodNetworkState;
  /**
   * How many pod addresses a node's own blocks hold in all (host-local: the podCIDR less its network,
   * gateway and broadcast addresses), or undefined when the plugin claims more on demand (Calico's
   * blocks). control/resolve.ts leaves podnet's own supplied
   * pods (CoreDNS) Pending rather than exhaust a node the input's pods fill. Optional: no limit.
   */
  nodePodCapacity?(config: ClusterConfig, node: NodeState): number | undefined;
  /**
   * Whether the plugin itself routes a pod address lying outside its node's blocks to that node
   * (Calico: BIRD exports a borrowed address as a /32). When not, `podnet check` reports such pods:
   * only podnet's own host routes reach them.
   */
  readonly routesBorrowedAddresses?: boolean;
  /** What the plugin calls a node's pod address block in messages (`podCIDR`, `IPAM block`); default `pod address block`. */
  readonly blockTerm?: string;
  /** The plugin's IPAM takes its addresses from the input's Calico IPPools (else they are only listed). */
  readonly readsIPPools?: boolean;

  // ------------------------------------------------------------------ devices (graph/devices.ts)

  /** The MTU of the pod network in bytes (pods' eth0 and the host side of their links): 1500 less the encapsulation's header. */
  mtu(state: ClusterState): number;
  /**
   * The node's own addresses on the plugin's devices, besides eth0's (`node.ips`): cni0's gateway, a
   * tunnel device's address. They are local to the node (netfilter's `fib daddr type local`).
   */
  nodeAddresses(state: ClusterState, node: NodeState): IPv4[];
  /**
   * The node's root namespace as the plugin builds it: `lo` and `eth0` with the underlay's routes
   * (graph/namespace.ts `underlayNamespace`), then the plugin's devices, routes, neighbours and FDB.
   * `pods` are the node's running pod-network pods (graph/namespace.ts `podsOnNode`).
   */
  nodeNamespace(state: ClusterState, node: NodeState, pods: readonly Pod[]): Namespace;
  /** A pod's network namespace (`lo`, `eth0` with its address, routes, the gateway's neighbour). */
  podNamespace(state: ClusterState, node: NodeState, pod: Pod): Namespace;
  /**
   * The routes of the namespace of a pod with address `ip` on `node`: exactly `podNamespace`'s
   * `routes`, longest prefix first. The tracer's route lookup in a pod asks only this, not the
   * whole namespace (interfaces, MACs, veth names) it would build and throw away on every trace.
   */
  podRoutes(state: ClusterState, node: NodeState, ip: IPv4): Route[];
  /** The name of the host side of a pod's link in the node's namespace (`veth1a2b3c4d`, `cali…`). */
  hostInterfaceName(pod: Pod): string;
  /**
   * The address a device of the node's root namespace carries (what masquerade picks as the source
   * when a packet leaves through it), or undefined for eth0 and devices without one (then the node's
   * primary IP).
   */
  deviceAddress(state: ClusterState, node: NodeState, dev: string): IPv4 | undefined;
  /**
   * Extra facts for a node's row in views (`podnet demo`'s node table): header and value, e.g.
   * `GATEWAY (cni0)` for the bridge plugins.
   */
  nodeFacts(state: ClusterState, node: NodeState): { header: string; value: string }[];
  /**
   * How the plugin's IPAM cuts the pod network, in a few words, for `podnet demo`'s address plan
   * ("a /24 per node (its podCIDR)"; Calico: its pools' blocks and encapsulation).
   */
  podNetworkNote(state: ClusterState): string;
  /**
   * Further views of a node for `podnet routes`, after its namespace (`ip addr`, `ip route`…): a
   * title and the text as the plugin's own tool prints it (Calico: the BGP table as `birdcl show
   * route` shows it). Optional: none when absent.
   */
  nodeViews?(state: ClusterState, node: NodeState): { title: string; text: string }[];

  // ------------------------------------------------------------------ routing and tracing (sim/)

  /**
   * The fast path of the node's route table for a pod address: the route `ip route get` would pick
   * for `dst` on `node`, given where the address is routed (`owner`, from the index). Undefined when
   * the plugin installs no route for it (then the underlay's routes apply: eth0's subnet, default).
   * Must agree with `nodeNamespace`'s routes (test/cni.test.ts checks it).
   */
  routeTo(
    net: PodNetworkIndex,
    node: NodeState,
    dst: IPv4,
    owner: PodAddressOwner | undefined,
  ): Route | undefined;
  /** How a packet leaves the pod for its node, after the pod's route lookup chose `route`. */
  leavePod(net: PodNetworkIndex, node: NodeState, pod: Pod, route: Route, dst: IPv4): PodExit;
  /**
   * Layer-2 switching on the pod's link at its node (only when `leavePod` said `onLink`), after the
   * node's prerouting hooks ran: to a local pod, up to the node, or dropped.
   */
  switchOnLink(net: PodNetworkIndex, node: NodeState, pod: Pod, dst: IPv4): LocalDelivery;
  /**
   * Where the node's chosen `route` (a result of `net.nodeRoute`) takes a packet for `dst`: a local
   * pod, another node (with the encapsulation's hops and outer header), a drop. Undefined for the
   * underlay's own routes out of eth0 that lead to no node by the plugin's doing (host-gw's and
   * Calico's unencapsulated next hops included): the tracer then follows eth0 (to the node owning the
   * next hop, or out of the cluster).
   */
  forward(net: PodNetworkIndex, node: NodeState, route: Route, dst: IPv4): NodeForward | undefined;
  /** The decapsulation step on the receiving node, for a packet that arrives with `outer`. */
  decapsulate(net: PodNetworkIndex, node: NodeState, outer: OuterHeader): HopNote;
  /**
   * Whether the node masquerades a pod's packet from `src` to `dst` as it leaves the cluster network
   * (flannel's `--ip-masq`: the clusterCIDR to anywhere else; Calico: `natOutgoing` pools to outside
   * every pool).
   */
  masqueradesEgress(state: ClusterState, src: IPv4, dst: IPv4): boolean;

  // ------------------------------------------------------------------ data plane (dataplane/plan.ts)

  /**
   * Why the kernel here cannot build this plugin's network (e.g. no IP-in-IP module), or undefined.
   * With `state`: for that cluster (Calico builds its VXLAN and unencapsulated pools, not IP-in-IP
   * ones); without: whether it can build any.
   */
  dataplaneSupport(state?: ClusterState): DataplaneRefusal | undefined;
  /**
   * `ip -batch` lines in the node's namespace that create the plugin's devices and addresses (after
   * `lo` and eth0 are up; the routes, `nud permanent` neighbours and FDB entries of `model` are added
   * by the plan from the model itself). `model` is this plugin's `nodeNamespace`.
   */
  nodeLines(state: ClusterState, node: NodeState, model: Namespace): string[];
  /**
   * `ip -batch` lines in the node's namespace that make the host side of a pod's link, with its peer
   * created as `eth0` in `podNetns` (which exists already).
   */
  podLinkLines(state: ClusterState, node: NodeState, pod: Pod, podNetns: string): string[];
  /** `ip -batch` lines in the pod's namespace: its eth0's address, state and routes. */
  podLines(state: ClusterState, node: NodeState, pod: Pod, model: Namespace): string[];
  /**
   * Sysctls of the host side of one pod's link, in the node's namespace (Calico: proxy ARP on its
   * `cali…`). They come and go with the pod: `apply` sets them when it adds the pod, and they are no
   * node change (the node's own sysctls are forwarding and rp_filter, set by the plan).
   */
  podLinkSysctls(state: ClusterState, node: NodeState, pod: Pod): Sysctl[];
}
