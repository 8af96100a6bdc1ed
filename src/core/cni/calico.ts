/**
 * Calico networking (`cni: calico`): calico-ipam's blocks, the Calico CNI plugin's pod links, Felix's
 * and BIRD's routes, as they build a node.
 *
 *   pod netns                              node root netns
 *   eth0 (podIP/32, MAC of its own) ══ veth ══ cali<11 hex> (ee:ee:ee:ee:ee:ee, proxy_arp=1, no address)
 *     169.254.1.1 dev eth0 scope link            <podIP> dev cali… scope link           (one per local pod)
 *     default via 169.254.1.1 dev eth0           blackhole <own block>                   (one per own block)
 *       (proxy ARP answers 169.254.1.1           <block of node B> via B dev tunl0 onlink         IP-in-IP
 *        with the cali… MAC)                     <block of node B> via <B's VTEP> dev vxlan.calico onlink  VXLAN
 *                                                <block of node B> via B dev eth0 proto bird      no encapsulation
 *
 * - IPAM: ./calico/ipam.ts (pools from `IPPool` objects or the Cluster config's clusterCIDR; /26
 *   blocks affine to nodes; borrowed addresses routed as /32s to the node that holds them).
 * - Names and fixed values: ./calico/names.ts (cali veth names, 169.254.1.1, tunl0, vxlan.calico with
 *   VNI 4096 on UDP 4789, MTUs).
 * - Per remote block, the pool's encapsulation decides: `ipipMode`/`vxlanMode` Always, or CrossSubnet
 *   (encapsulated only towards a node in another subnet; see `nodeSubnet`), else none. Who installs
 *   the route decides how `ip route` shows it (Calico 3.33's defaults: BGPConfiguration and
 *   FelixConfiguration `programClusterRoutes`): Felix programs IP-in-IP and VXLAN routes and their
 *   blackholes (felix dataplane/linux ipip_mgr.go, vxlan_mgr.go, route_mgr.go) with
 *   `DeviceRouteProtocol` 3 (boot, which `ip route` does not print); BIRD programs the unencapsulated
 *   pools' routes (`proto bird`) and their blackholes (confd's bird_aggr.cfg static routes).
 * - Felix keeps a static ARP entry for each local pod on its cali… device, and for VXLAN a permanent
 *   neighbour (the remote VTEP's MAC) and an FDB entry (the remote node) per node (felix vxlanfdb).
 * - Egress masquerade: `natOutgoing` pools' pods towards addresses outside every pool (Felix's
 *   cali-nat-outgoing chain: source in a masquerading pool, destination in no pool).
 * - The data plane builds VXLAN and unencapsulated pools; IP-in-IP needs the kernel's ipip module.
 */

import { setRunning } from "../control/pod-ipam.ts";
import type { ClusterState, NodeState } from "../control/state.ts";
import type { Diagnostics, Origin } from "../diagnostics.ts";
import { interfaceLines } from "../graph/ip-batch.ts";
import {
  type FdbEntry,
  type Interface,
  loopback,
  macFor,
  type Neighbour,
  podsOnNode,
  type Route,
  renderRoute,
  sortRoutes,
  underlayNamespace,
} from "../graph/namespace.ts";
import type { KubeObject, Node, Pod } from "../model/k8s.ts";
import { Cidr, formatIPv4, isIPv6, parseCidrSloppy, parseIPv4, parseIPv4Sloppy } from "../net/ipv4.ts";
import { advertisements, BIRD_BANNER, bgpRuns, birdShowRoute } from "./calico/bgp.ts";
import {
  type CalicoBlock,
  type CalicoIpamResult,
  type CalicoPool,
  fnv32,
  IPIP_TUNNEL_ANNOTATION,
  type IpamNode,
  readPools,
  runCalicoIpam,
  VXLAN_TUNNEL_ANNOTATION,
} from "./calico/ipam.ts";
import {
  CALICO_GATEWAY,
  CALICO_HOST_MAC,
  caliVethName,
  HOST_MTU,
  IPIP_DEVICE,
  IPIP_OVERHEAD,
  VXLAN_DEVICE,
  VXLAN_OVERHEAD,
  VXLAN_PORT,
  VXLAN_VNI,
} from "./calico/names.ts";
import type { HopNote, LocalDelivery, NetworkPlugin, NodeForward, PodExit } from "./plugin.ts";

/** The Node annotation calico-node writes with the node's address and its subnet (BGP spec ipv4Address). */
export const IPV4_ADDRESS_ANNOTATION = "projectcalico.org/IPv4Address";
/** The Node annotation calico-node writes with its VXLAN device's MAC. */
export const VXLAN_MAC_ANNOTATION = "projectcalico.org/VXLANTunnelMACAddr";

/** Calico IPAM's result, kept in `ClusterState.podNetwork.extra` by `assignPodAddresses`. */
export function calicoIpamOf(state: ClusterState): CalicoIpamResult {
  return state.podNetwork.extra as CalicoIpamResult;
}

/**
 * The IPPools of the cluster as `kubectl get ippools` lists them: the input's, and in a Calico
 * cluster whose input has no IPv4 pool the `default-ipv4-ippool` calico-node creates (`defaultPool`),
 * as the object it writes (crd.projectcalico.org/v1, marked by podnet's `podnet.dev/supplied`
 * annotation). In name order.
 */
export function ipPoolObjects(state: ClusterState): KubeObject[] {
  const out = [...state.ipPools];
  if (state.config.cni === calico.name)
    for (const p of calicoIpamOf(state).pools) {
      if (!p.isDefault) continue;
      out.push({
        apiVersion: "crd.projectcalico.org/v1",
        kind: "IPPool",
        metadata: {
          name: p.name,
          annotations: {
            "podnet.dev/supplied": "calico-node creates it at start-up when no IPv4 pool exists",
          },
        },
        spec: {
          cidr: String(p.cidr),
          blockSize: p.blockSize,
          ipipMode: p.ipipMode,
          vxlanMode: p.vxlanMode,
          natOutgoing: p.natOutgoing,
          nodeSelector: p.nodeSelector,
          allowedUses: ["Workload", "Tunnel"],
        },
      });
    }
  return out.sort((a, b) => ((a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1));
}

/**
 * The subnet Calico takes a node to be in, for CrossSubnet: the prefix of its
 * `projectcalico.org/IPv4Address` annotation (calico-node's autodetected address with the interface's
 * prefix), else the Cluster config's nodeNetwork when the node's primary IP lies in it, else the
 * address alone (/32). Felix encapsulates a CrossSubnet pool's traffic to another node unless the
 * local node's subnet contains that node's address (calc/l3_route_resolver.go `nodeInOurSubnet`).
 */
export function nodeSubnet(state: ClusterState, node: NodeState): Cidr {
  let subnet = subnets.get(node);
  if (subnet === undefined) {
    subnet = readNodeSubnet(state, node);
    subnets.set(node, subnet);
  }
  return subnet;
}
const subnets = new WeakMap<NodeState, Cidr>();
function readNodeSubnet(state: ClusterState, node: NodeState): Cidr {
  const ann = node.obj.metadata.annotations?.[IPV4_ADDRESS_ANNOTATION];
  const parsed = ann ? parseCidrSloppy(ann) : undefined;
  if (parsed) {
    const c = Cidr.parse(parsed.canonical);
    if (c.ok) return c.cidr;
  }
  if (state.config.nodeNetwork.contains(node.ip)) return state.config.nodeNetwork;
  return Cidr.of(node.ip, 32);
}

/** How a pool's traffic goes from `from` to `to`. */
type Encap = "ipip" | "vxlan" | "none";
function encapBetween(state: ClusterState, pool: CalicoPool, from: NodeState, to: NodeState): Encap {
  const cross = () => !nodeSubnet(state, from).contains(to.ip);
  if (pool.vxlanMode === "Always" || (pool.vxlanMode === "CrossSubnet" && cross())) return "vxlan";
  if (pool.ipipMode === "Always" || (pool.ipipMode === "CrossSubnet" && cross())) return "ipip";
  return "none";
}

/** BIRD programs a pool's routes (and blackholes) when it is unencapsulated; Felix otherwise. */
const birdPrograms = (pool: CalicoPool) => pool.ipipMode === "Never" && pool.vxlanMode === "Never";

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

/**
 * The annotations calico-node writes on its Node and podnet reads, each with the check of its value
 * and what podnet does when the value fails it (the API server accepts any string in an annotation,
 * so a bad one is a warning, never a refusal).
 */
const NODE_ANNOTATIONS: readonly {
  key: string;
  valid: (v: string) => boolean;
  expected: string;
  instead: string;
}[] = [
  {
    key: IPV4_ADDRESS_ANNOTATION,
    valid: (v) => {
      const parsed = parseCidrSloppy(v);
      return parsed !== undefined && Cidr.parse(parsed.canonical).ok;
    },
    expected: "an IPv4 address with its prefix length, as calico-node writes it (172.18.0.2/24)",
    instead:
      "takes the node's subnet from the Cluster config's nodeNetwork (or the node's address alone) for CrossSubnet",
  },
  {
    key: IPIP_TUNNEL_ANNOTATION,
    valid: (v) => parseIPv4Sloppy(v) !== undefined || isIPv6(v),
    expected: "an IP address",
    instead: "gives the node's tunl0 an address from its pool, as calico-node would",
  },
  {
    key: VXLAN_TUNNEL_ANNOTATION,
    valid: (v) => parseIPv4Sloppy(v) !== undefined || isIPv6(v),
    expected: "an IP address",
    instead: "gives the node's vxlan.calico an address from its pool, as calico-node would",
  },
  {
    key: VXLAN_MAC_ANNOTATION,
    valid: (v) => MAC.test(v),
    expected: "a MAC address (66:ca:0a:1b:2c:3d)",
    instead: "gives vxlan.calico a MAC of its own",
  },
];

/**
 * One warning per Calico node annotation whose value podnet cannot read (with the count of nodes and
 * the first node's position), saying what podnet does instead. Never an error: annotations are free
 * text to the API server.
 */
function warnBadNodeAnnotations(nodes: readonly IpamNode[], diags: Diagnostics): void {
  for (const a of NODE_ANNOTATIONS) {
    const bad = nodes.filter((n) => {
      const v = n.annotations?.[a.key];
      return v !== undefined && !a.valid(v);
    });
    if (bad.length === 0) continue;
    const first = bad[0];
    diags.warn({
      code: "invalid-annotation",
      message: `${JSON.stringify(first.annotations?.[a.key])} is not ${a.expected}${bad.length > 1 ? ` (${bad.length} nodes, first: ${first.name})` : ""}; podnet ${a.instead}`,
      hint: `correct the annotation or remove it (calico-node writes it on start-up)`,
      object: first.object,
      origin: first.origin,
      path: ["metadata", "annotations", a.key],
    });
  }
}

/** The pod annotations by which Calico's CNI plugin asks its IPAM for a pool or an address. */
const POD_IPAM_ANNOTATIONS = [
  "cni.projectcalico.org/ipv4pools",
  "cni.projectcalico.org/ipAddrs",
  "cni.projectcalico.org/ipAddrsNoIpam",
];

/**
 * One warning for the pods that ask Calico's IPAM for a pool or an address by annotation, which
 * podnet does not read: their addresses come from the automatic pools instead (a silent difference
 * otherwise). The count, and the first such pod's annotation.
 */
function warnUnreadPodAnnotations(
  pods: readonly Pod[],
  originOf: (pod: Pod) => Origin | undefined,
  diags: Diagnostics,
): void {
  let count = 0;
  let first: { pod: Pod; key: string } | undefined;
  for (const pod of pods) {
    const ann = pod.metadata.annotations;
    if (!ann) continue;
    const key = POD_IPAM_ANNOTATIONS.find((k) => ann[k] !== undefined);
    if (!key) continue;
    count++;
    first ??= { pod, key };
  }
  if (!first) return;
  diags.warn({
    code: "annotation-not-read",
    message: `${count} pod${count === 1 ? " asks" : "s ask"} Calico's IPAM for a pool or an address by annotation (first: ${first.key}), which podnet does not read: ${count === 1 ? "its address comes" : "their addresses come"} from the pools of automatic assignment instead`,
    hint: "give the pod's address in status.podIP to keep the cluster's address (podnet keeps given addresses)",
    object: `Pod ${first.pod.metadata.namespace}/${first.pod.metadata.name}`,
    origin: originOf(first.pod),
    path: ["metadata", "annotations", first.key],
  });
}

/** A stable stand-in for the VXLAN device's MAC (calico-node picks one at random and publishes it). */
export function calicoVtepMac(node: NodeState): string {
  const given = node.obj.metadata.annotations?.[VXLAN_MAC_ANNOTATION];
  if (given && MAC.test(given)) return given.toLowerCase();
  const h = fnv32(`vtep/${node.name}`);
  const b = [0x66, 0xca, (h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255];
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** The node's tunnel device (tunl0 or vxlan.calico with its /32), or none for unencapsulated pools. */
function tunnelOf(state: ClusterState, node: NodeState): Interface | undefined {
  const t = calicoIpamOf(state).tunnels.get(node.name);
  if (!t) return undefined;
  if (t.kind === "ipip")
    return {
      name: IPIP_DEVICE,
      kind: "ipip",
      addresses: [{ ip: t.ip, prefix: 32 }],
      mtu: HOST_MTU - IPIP_OVERHEAD,
    };
  return {
    name: VXLAN_DEVICE,
    kind: "vxlan",
    mac: calicoVtepMac(node),
    vxlan: { vni: VXLAN_VNI, port: VXLAN_PORT, local: node.ip },
    addresses: [{ ip: t.ip, prefix: 32 }],
    mtu: HOST_MTU - VXLAN_OVERHEAD,
  };
}

const podName = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
/** The pod's cali… name, computed once per pod (SHA-1 on every hop of every trace would cost more than the hop). */
const vethNames = new WeakMap<Pod, string>();
const veth = (p: Pod) => {
  let name = vethNames.get(p);
  if (name === undefined) {
    name = caliVethName(p.metadata.namespace ?? "default", p.metadata.name);
    vethNames.set(p, name);
  }
  return name;
};
const hop = (at: string, step: string, detail: string, device?: string): HopNote => ({
  at,
  step,
  detail,
  ...(device ? { device } : {}),
});

/**
 * The route a node has towards `other` for `dst` (one of other's blocks, or a /32 of a pod it
 * holds): the pool's encapsulation between the two nodes, programmed by Felix or BIRD.
 */
function routeToNode(
  state: ClusterState,
  node: NodeState,
  other: NodeState,
  dst: Cidr,
  pool: CalicoPool,
): Route {
  switch (encapBetween(state, pool, node, other)) {
    case "ipip":
      return { dst, via: other.ip, dev: IPIP_DEVICE, onlink: true, proto: "boot" };
    case "vxlan": {
      const vtep = calicoIpamOf(state).tunnels.get(other.name);
      // Without a VTEP address on the other node Felix programs no route (vxlan_mgr.go tunnelRoute).
      return { dst, via: vtep?.ip ?? other.ip, dev: VXLAN_DEVICE, onlink: true, proto: "boot" };
    }
    default:
      return birdPrograms(pool)
        ? { dst, via: other.ip, dev: "eth0", proto: "bird" }
        : { dst, via: other.ip, dev: "eth0", proto: "boot" };
  }
}

function blackhole(block: CalicoBlock): Route {
  return {
    dst: block.cidr,
    dev: "blackhole",
    blackhole: true,
    proto: birdPrograms(block.pool) ? "bird" : "boot",
  };
}

/** The largest encapsulation overhead among the enabled pools (Calico's auto MTU for veths and tunnels). */
function overhead(state: ClusterState): number {
  let o = 0;
  for (const p of calicoIpamOf(state).pools) {
    if (p.disabled) continue;
    if (p.vxlanMode !== "Never") o = Math.max(o, VXLAN_OVERHEAD);
    if (p.ipipMode !== "Never") o = Math.max(o, IPIP_OVERHEAD);
  }
  return o;
}

/** The pods' MTU (their eth0 and the cali… side): the host's less the largest encapsulation in use. */
function podMtu(state: ClusterState): number {
  return HOST_MTU - overhead(state);
}

export const calico: NetworkPlugin = {
  name: "calico",
  summary:
    "Calico: calico-ipam blocks from IP pools, a cali… veth per pod with 169.254.1.1 as gateway (proxy ARP), routes per block over IP-in-IP, VXLAN or plain BGP",

  // BIRD exports a borrowed address as a /32 from the node that holds it (and Felix programs it).
  routesBorrowedAddresses: true,
  blockTerm: "IPAM block",
  readsIPPools: true,

  assignPodAddresses(input) {
    const { pods, nodes, config, inventory, diags } = input;
    const pools = readPools(inventory?.ipPools ?? [], config, diags);
    const nodeOrigins = new Map(inventory?.nodes.map((e) => [e.obj.metadata.name, e.origin]) ?? []);
    const nsLabels = new Map(
      inventory?.namespaces.map((e) => [e.obj.metadata.name ?? "", e.obj.metadata.labels ?? {}]) ?? [],
    );
    const ipamNodes: IpamNode[] = nodes.map((n) => ({
      name: n.name,
      labels: n.labels,
      ips: n.ips,
      annotations: (n.obj as Node).metadata.annotations,
      object: `Node ${n.name}`,
      origin: nodeOrigins.get(n.name),
    }));
    warnBadNodeAnnotations(ipamNodes, diags);
    warnUnreadPodAnnotations(pods, input.originOf, diags);
    const result = runCalicoIpam({
      pools,
      nodes: ipamNodes,
      pods,
      namespaceLabels: (ns) => nsLabels.get(ns),
      originOf: input.originOf,
      diags,
    });
    const nodeByName = new Map(nodes.map((n) => [n.name, n]));
    pods.forEach((pod, i) => {
      if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return;
      const node = pod.spec.nodeName ? nodeByName.get(pod.spec.nodeName) : undefined;
      if (!node) return;
      const given = pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip;
      const ip = result.assigned[i];
      if (pod.spec.hostNetwork) setRunning(pod, node, formatIPv4(node.ip));
      else if (given !== undefined) setRunning(pod, node, given);
      else if (ip >= 0) setRunning(pod, node, formatIPv4(ip));
      else pod.status = { ...pod.status, phase: "Pending", conditions: [{ type: "Ready", status: "False" }] };
    });
    return {
      blocks: new Map([...result.blocksByNode].map(([n, bs]) => [n, bs.map((b) => b.cidr)])),
      extra: result,
    };
  },

  mtu: (state) => podMtu(state),

  nodeAddresses(state, node) {
    const t = calicoIpamOf(state).tunnels.get(node.name);
    return t ? [t.ip] : [];
  },

  nodeNamespace(state, node, pods) {
    const ipam = calicoIpamOf(state);
    const ns = underlayNamespace(state, node);
    const mtu = podMtu(state);
    const tunnel = tunnelOf(state, node);
    if (tunnel) ns.interfaces.push(tunnel);
    for (const pod of pods) {
      const ip = parseIPv4(pod.status!.podIP!)!;
      const dev = veth(pod);
      ns.interfaces.push({
        name: dev,
        kind: "veth",
        mac: CALICO_HOST_MAC,
        peer: `eth0@${podName(pod)}`,
        addresses: [],
        mtu,
      });
      ns.routes.push({ dst: Cidr.of(ip, 32), dev, scopeLink: true, proto: "boot" });
      // Felix's static ARP entry for the workload (routetable WithStaticARPEntries).
      ns.neighbours.push({ ip, mac: macFor(ip), dev, permanent: true });
    }
    for (const b of ipam.blocksByNode.get(node.name) ?? []) ns.routes.push(blackhole(b));
    const byName = new Map(state.nodes.map((n) => [n.name, n]));
    for (const other of state.nodes) {
      if (other === node) continue;
      for (const b of ipam.blocksByNode.get(other.name) ?? [])
        ns.routes.push(routeToNode(state, node, other, b.cidr, b.pool));
      const vtep = ipam.tunnels.get(other.name);
      if (vtep?.kind === "vxlan" && tunnel?.kind === "vxlan") {
        const mac = calicoVtepMac(other);
        ns.neighbours.push({ ip: vtep.ip, mac, dev: VXLAN_DEVICE, permanent: true } satisfies Neighbour);
        ns.fdb.push({ mac, dev: VXLAN_DEVICE, dst: other.ip } satisfies FdbEntry);
      }
    }
    // Borrowed addresses: a /32 towards the node that holds the pod (BIRD exports the /32, Felix
    // programs it for encapsulated pools).
    for (const [ip, holder] of ipam.borrowed) {
      if (holder === node.name) continue;
      const other = byName.get(holder);
      const pool = ipam.poolOf(ip);
      if (other && pool) ns.routes.push(routeToNode(state, node, other, Cidr.of(ip, 32), pool));
    }
    sortRoutes(ns.routes);
    return ns;
  },

  podRoutes: () =>
    sortRoutes([
      { dst: "default", via: CALICO_GATEWAY, dev: "eth0" },
      { dst: Cidr.of(CALICO_GATEWAY, 32), dev: "eth0", scopeLink: true, proto: "boot" },
    ]),

  podNamespace(state, node, pod) {
    const ip = parseIPv4(pod.status!.podIP!)!;
    return {
      interfaces: [
        loopback(),
        {
          name: "eth0",
          kind: "veth",
          mac: macFor(ip),
          peer: veth(pod),
          addresses: [{ ip, prefix: 32 }],
          mtu: podMtu(state),
        },
      ],
      routes: calico.podRoutes(state, node, ip),
      neighbours: [{ ip: CALICO_GATEWAY, mac: CALICO_HOST_MAC, dev: "eth0" }],
      fdb: [],
    };
  },

  hostInterfaceName: veth,

  deviceAddress(state, node, dev) {
    const t = tunnelOf(state, node);
    return t && t.name === dev ? t.addresses[0].ip : undefined;
  },

  nodeFacts(state, node) {
    // The node's blocks are the demo's POD-BLOCKS column already (state.podNetwork.blocks).
    const t = calicoIpamOf(state).tunnels.get(node.name);
    return [
      {
        header: "TUNNEL",
        value: t ? `${t.kind === "ipip" ? IPIP_DEVICE : VXLAN_DEVICE} ${formatIPv4(t.ip)}` : "<none>",
      },
    ];
  },

  podNetworkNote(state) {
    // calico-ipam: blocks of each pool's blockSize, claimed by nodes on demand (lib/ipam).
    const encap = (p: CalicoPool) =>
      p.ipipMode !== "Never"
        ? `IP-in-IP ${p.ipipMode}`
        : p.vxlanMode !== "Never"
          ? `VXLAN ${p.vxlanMode}`
          : "no encapsulation";
    const pools = calicoIpamOf(state).pools.map(
      (p) =>
        `${p.isDefault ? "default pool" : `IPPool ${p.name} ${p.cidr}`}: /${p.blockSize} blocks, ${encap(p)}${p.natOutgoing ? ", natOutgoing" : ""}${p.disabled ? ", disabled" : ""}`,
    );
    return `calico-ipam blocks claimed by nodes on demand; ${pools.join("; ") || "no IPv4 pool"}`;
  },

  nodeViews(state, node) {
    const ipam = calicoIpamOf(state);
    if (!bgpRuns(ipam))
      return [
        {
          title: "BGP",
          text: "no BIRD: every pool uses VXLAN (Calico's manifest sets calico_backend: vxlan); Felix programs the routes\n",
        },
      ];
    const ads = advertisements(state, ipam)
      .map(
        (a) => `${a.node.name} (${formatIPv4(a.node.ip)}): ${a.prefixes.map(String).join(", ") || "nothing"}`,
      )
      .join("\n");
    const pods = podsOnNode(state, node).map((p) => ({
      namespace: p.metadata.namespace ?? "default",
      name: p.metadata.name,
      ip: parseIPv4(p.status!.podIP!)!,
    }));
    return [
      { title: "BGP: what each node advertises (node-to-node mesh)", text: `${ads}\n` },
      {
        title: `birdcl show route (node ${node.name})`,
        text: `${[BIRD_BANNER, ...birdShowRoute(state, ipam, node, pods)].join("\n")}\n`,
      },
    ];
  },

  routeTo(net, node, dst, owner) {
    if (!owner) return undefined;
    const ipam = calicoIpamOf(net.state);
    if (owner.node !== node) {
      const pool = ipam.poolOf(dst);
      return pool ? routeToNode(net.state, node, owner.node, owner.dst, pool) : undefined;
    }
    const pod = net.podByIP.get(dst);
    if (pod && pod.spec.nodeName === node.name && !pod.spec.hostNetwork)
      return { dst: Cidr.of(dst, 32), dev: veth(pod), scopeLink: true, proto: "boot" };
    const block = ipam.blockOf(dst);
    return block && block.node === node.name ? blackhole(block) : undefined;
  },

  leavePod(_net, node, pod, r, _dst): PodExit {
    const name = podName(pod);
    const dev = veth(pod);
    return {
      hops: [
        hop(
          `pod ${name}`,
          "route",
          `route lookup: ${renderRoute(r)} → next hop ${formatIPv4(CALICO_GATEWAY)}`,
          "eth0",
        ),
        hop(
          `pod ${name}`,
          "arp",
          `ARP ${formatIPv4(CALICO_GATEWAY)}: answered by ${dev} on the node (proxy ARP) with ${CALICO_HOST_MAC}`,
          "eth0",
        ),
        hop(
          `node ${node.name}`,
          "veth",
          `veth pair: eth0 in the pod → ${dev} on the node, up to its IP stack`,
          dev,
        ),
      ],
      onLink: false,
    };
  },

  switchOnLink(_net, node, pod, dst): LocalDelivery {
    // Never asked: a Calico pod has no on-link neighbours (everything goes to 169.254.1.1).
    return {
      kind: "drop",
      hops: [],
      reason: `pod ${podName(pod)} on node ${node.name} has no link-layer neighbour ${formatIPv4(dst)}`,
    };
  },

  forward(net, node, r, dst): NodeForward | undefined {
    const at = `node ${node.name}`;
    if (r.blackhole)
      return {
        kind: "drop",
        hops: [],
        reason: `${formatIPv4(dst)} is in block ${r.dst} of node ${node.name}, but no pod there has it: the blackhole route discards it`,
      };
    if (r.dev.startsWith("cali")) {
      const pod = net.podByIP.get(dst);
      if (!pod || veth(pod) !== r.dev)
        return { kind: "drop", hops: [], reason: `no pod has ${formatIPv4(dst)} on node ${node.name}` };
      const name = podName(pod);
      return {
        kind: "pod",
        pod,
        hops: [
          hop(
            at,
            "neighbour",
            `neighbour ${formatIPv4(dst)} → ${macFor(dst)} on ${r.dev} (static entry, Felix)`,
            r.dev,
          ),
          hop(`pod ${name}`, "veth", `veth pair: ${r.dev} → eth0 in pod ${name}`, "eth0"),
        ],
      };
    }
    if (r.dev !== IPIP_DEVICE && r.dev !== VXLAN_DEVICE) return undefined;
    const owner = net.podAddressOwner(dst)?.node;
    if (!owner || owner === node) return undefined;
    const outerRoute = hop(
      at,
      "route",
      `outer route lookup: ${renderRoute(net.nodeRoute(node, owner.ip))}`,
      "eth0",
    );
    if (r.dev === IPIP_DEVICE)
      return {
        kind: "node",
        to: owner,
        outer: { src: formatIPv4(node.ip), dst: formatIPv4(owner.ip), protocol: "IPIP" },
        hops: [
          hop(
            at,
            "encap",
            `${IPIP_DEVICE}: IP-in-IP, outer ${formatIPv4(node.ip)} → ${formatIPv4(owner.ip)} (IP protocol 4)`,
            IPIP_DEVICE,
          ),
          outerRoute,
        ],
      };
    const vtepMac = calicoVtepMac(owner);
    return {
      kind: "node",
      to: owner,
      outer: {
        src: formatIPv4(node.ip),
        dst: formatIPv4(owner.ip),
        protocol: "UDP",
        dport: VXLAN_PORT,
        vni: VXLAN_VNI,
      },
      hops: [
        hop(
          at,
          "neighbour",
          `${VXLAN_DEVICE}: neighbour ${r.via !== undefined ? formatIPv4(r.via) : "?"} → ${vtepMac} (permanent, Felix); FDB ${vtepMac} → ${formatIPv4(owner.ip)}`,
          VXLAN_DEVICE,
        ),
        hop(
          at,
          "encap",
          `${VXLAN_DEVICE}: VXLAN VNI ${VXLAN_VNI}, outer UDP ${formatIPv4(node.ip)} → ${formatIPv4(owner.ip)}:${VXLAN_PORT}`,
          VXLAN_DEVICE,
        ),
        outerRoute,
      ],
    };
  },

  decapsulate(_net, node, outer) {
    const dev = outer.protocol === "IPIP" ? IPIP_DEVICE : VXLAN_DEVICE;
    return hop(
      `node ${node.name}`,
      "decap",
      outer.protocol === "IPIP"
        ? `${IPIP_DEVICE}: IP-in-IP from ${outer.src} decapsulated`
        : `${VXLAN_DEVICE}: VXLAN VNI ${outer.vni} from ${outer.src} decapsulated`,
      dev,
    );
  },

  masqueradesEgress(state, src, dst) {
    const ipam = calicoIpamOf(state);
    return (ipam.poolOf(src)?.natOutgoing ?? false) && ipam.poolOf(dst) === undefined;
  },

  dataplaneSupport(state) {
    if (!state) return undefined;
    const ipip = calicoIpamOf(state).pools.filter((p) => !p.disabled && p.ipipMode !== "Never");
    if (ipip.length === 0) return undefined;
    const pool = ipip[0];
    const reason = `IP pool ${pool.name} uses IP-in-IP (ipipMode: ${pool.ipipMode}), and the kernel here has no IP-in-IP module (ipip, for tunl0), so this network stays simulated`;
    // The default pool is calico-node's own (CALICO_IPV4POOL_IPIP=Always): written out, it can say Never.
    return pool.isDefault || !pool.origin
      ? {
          reason: `${reason} (the pool calico-node creates from clusterCIDR when the input has none)`,
          fix: "write the IPPool yourself with ipipMode: Never (and vxlanMode: Always for VXLAN) to build it",
        }
      : {
          reason,
          fix: "give the pool ipipMode: Never (with vxlanMode: Always for VXLAN) to build it",
          object: pool.object,
          origin: pool.origin,
          path: ["spec", "ipipMode"],
        };
  },

  nodeLines(state, node, model) {
    const t = tunnelOf(state, node);
    return t ? interfaceLines(model, t.name) : [];
  },

  podLinkLines(state, _node, pod, podNetns) {
    const dev = veth(pod);
    return [
      `link add ${dev} type veth peer name eth0 netns ${podNetns}`,
      `link set ${dev} address ${CALICO_HOST_MAC}`,
      `link set ${dev} mtu ${podMtu(state)}`,
      `link set ${dev} up`,
      // A proxy neighbour entry for the gateway as well: `apply` adds pods without running sysctls,
      // and this answers their ARP for 169.254.1.1 all the same (proxy_arp=1 does it for `up`'s pods).
      `neigh add proxy ${formatIPv4(CALICO_GATEWAY)} dev ${dev}`,
    ];
  },

  podLines(_state, _node, _pod, model) {
    // The link route to the gateway first: the default route's next hop must be reachable.
    const eth0 = interfaceLines(model, "eth0");
    return [
      ...eth0,
      `route add ${formatIPv4(CALICO_GATEWAY)}/32 dev eth0 scope link`,
      `route add default via ${formatIPv4(CALICO_GATEWAY)} dev eth0`,
    ];
  },

  podLinkSysctls(_state, _node, pod) {
    // Felix on each workload interface: proxy ARP answers the pod's ARP for 169.254.1.1 at once.
    const dev = veth(pod);
    return [
      { key: `net.ipv4.conf.${dev}.proxy_arp`, value: "1" },
      { key: `net.ipv4.neigh.${dev}.proxy_delay`, value: "0" },
      { key: `net.ipv4.conf.${dev}.forwarding`, value: "1" },
    ];
  },
};
