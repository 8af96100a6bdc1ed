/**
 * `cni: vxlan` — flannel's VXLAN backend (its default) over the bridge plugin (./bridge.ts).
 *
 *   node A                                                     node B
 *   cni0 ─ route <B's podCIDR> via <B's podCIDR .0> dev flannel.1 onlink
 *          neigh <B's podCIDR .0> lladdr <B's VTEP MAC> PERMANENT
 *          fdb   <B's VTEP MAC> dst <B's IP>
 *   flannel.1 (VNI 1, UDP 8472, local <A's IP>, nolearning, <A's podCIDR .0>/32)
 *        └─ outer IP A → B, UDP 8472, VXLAN VNI 1 ── eth0 ══ eth0 ── flannel.1: decapsulate ── cni0
 *
 * flannel's values (pkg/backend/vxlan): the device `flannel.<VNI>` with VNI 1, Linux's legacy VXLAN
 * port 8472 (flannel's default), the podCIDR's network address as the VTEP's /32, the MTU of the
 * underlay less 50 bytes of VXLAN header (1450), no learning: flanneld writes a permanent neighbour
 * and an FDB entry per remote node from its Node annotations. The VTEP's MAC is random in flannel;
 * podnet derives a stable one from the node.
 */
import { fnv32a } from "../control/names.ts";
import type { NodeState } from "../control/state.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import { flannelPlugin, tunnelAddressOf } from "./bridge.ts";
import type { OuterHeader } from "./plugin.ts";

/** flannel's VXLAN device on every node: `flannel.<VNI>`. */
export const VXLAN_DEVICE = "flannel.1";
/** flannel's default VNI. */
export const VXLAN_VNI = 1;
/** flannel's default VXLAN UDP port (Linux's legacy port, not IANA's 4789). */
export const VXLAN_PORT = 8472;

/**
 * A stable MAC for a node's VTEP (flannel picks one at random and publishes it in a Node annotation).
 * Kept per node once made: every cross-node trace names the receiving node's VTEP MAC twice, and
 * the node's name and address never change.
 */
export function vtepMac(node: NodeState): string {
  let mac = vtepMacs.get(node);
  if (mac === undefined) {
    const h = fnv32a(`vtep/${node.name}`);
    const b = [0x0e, 0x4c, node.ip >>> 24, (node.ip >>> 16) & 255, (h >>> 8) & 255, h & 255];
    mac = b.map((x) => x.toString(16).padStart(2, "0")).join(":");
    vtepMacs.set(node, mac);
  }
  return mac;
}

const vtepMacs = new WeakMap<NodeState, string>();

export const vxlan = flannelPlugin({
  name: "vxlan",
  summary: "flannel, VXLAN backend (flannel.1, VNI 1, UDP 8472) over the bridge plugin with host-local IPAM",
  mtu: 1450,
  tunnel: (node) => ({
    name: VXLAN_DEVICE,
    kind: "vxlan",
    mac: vtepMac(node),
    addresses: [{ ip: tunnelAddressOf(node), prefix: 32 }],
    vxlan: { vni: VXLAN_VNI, port: VXLAN_PORT, local: node.ip },
  }),
  routeToNode: (other, dst) => ({ dst, via: tunnelAddressOf(other), dev: VXLAN_DEVICE, onlink: true }),
  peerEntries: (other) => ({
    neighbours: [{ ip: tunnelAddressOf(other), mac: vtepMac(other), dev: VXLAN_DEVICE, permanent: true }],
    fdb: [{ mac: vtepMac(other), dev: VXLAN_DEVICE, dst: other.ip }],
  }),
  encapsulate(node, owner, route) {
    if (route.dev !== VXLAN_DEVICE) return undefined;
    const at = `node ${node.name}`;
    const vtep = tunnelAddressOf(owner);
    const outer: OuterHeader = {
      src: formatIPv4(node.ip),
      dst: formatIPv4(owner.ip),
      protocol: "UDP",
      dport: VXLAN_PORT,
      vni: VXLAN_VNI,
    };
    return {
      hops: [
        {
          at,
          step: "neighbour",
          detail: `${VXLAN_DEVICE}: neighbour ${formatIPv4(vtep)} lladdr ${vtepMac(owner)} (PERMANENT); FDB ${vtepMac(owner)} dst ${formatIPv4(owner.ip)}`,
          device: VXLAN_DEVICE,
        },
        {
          at,
          step: "encap",
          detail: `VXLAN encapsulation: outer ${formatIPv4(node.ip)} → ${formatIPv4(owner.ip)} UDP ${VXLAN_PORT}, VNI ${VXLAN_VNI}`,
          device: VXLAN_DEVICE,
          outer,
        },
      ],
      outer,
    };
  },
  decapsulate: (node, outer) => ({
    at: `node ${node.name}`,
    step: "decap",
    detail: `UDP ${VXLAN_PORT} → ${VXLAN_DEVICE} (VNI ${outer.vni}): decapsulate`,
    device: VXLAN_DEVICE,
  }),
  dataplaneSupport: () => undefined,
});
