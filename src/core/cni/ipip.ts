/**
 * `cni: ipip` — IP-in-IP between nodes (flannel's ipip backend; Calico's tunl0 routes) over the
 * bridge plugin (./bridge.ts).
 *
 *   node A: cni0 ─ route <B's podCIDR> via <B's IP> dev tunl0 onlink
 *           tunl0 (<A's podCIDR .0>/32) ── outer IP A → B, protocol 4 ── eth0 ══ eth0 ── tunl0 ── cni0
 *
 * The kernel's fallback tunnel `tunl0` (module ipip), the MTU of the underlay less the 20-byte outer
 * header (1480).
 */
import type { Route } from "../graph/namespace.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import { flannelPlugin, tunnelAddressOf } from "./bridge.ts";
import type { OuterHeader } from "./plugin.ts";

/** The kernel's IP-in-IP fallback device. */
export const IPIP_DEVICE = "tunl0";

export const ipip = flannelPlugin({
  name: "ipip",
  summary:
    "IP-in-IP between nodes (tunl0, protocol 4) over the bridge plugin; simulated only (no ipip module here)",
  mtu: 1480,
  tunnel: (node) => ({
    name: IPIP_DEVICE,
    kind: "ipip",
    addresses: [{ ip: tunnelAddressOf(node), prefix: 32 }],
  }),
  routeToNode: (other, dst): Route => ({ dst, via: other.ip, dev: IPIP_DEVICE, onlink: true }),
  peerEntries: () => ({ neighbours: [], fdb: [] }),
  encapsulate(node, owner, route) {
    if (route.dev !== IPIP_DEVICE) return undefined;
    const outer: OuterHeader = { src: formatIPv4(node.ip), dst: formatIPv4(owner.ip), protocol: "IPIP" };
    return {
      hops: [
        {
          at: `node ${node.name}`,
          step: "encap",
          detail: `IP-in-IP encapsulation: outer ${formatIPv4(node.ip)} → ${formatIPv4(owner.ip)} (protocol 4)`,
          device: IPIP_DEVICE,
          outer,
        },
      ],
      outer,
    };
  },
  decapsulate: (node) => ({
    at: `node ${node.name}`,
    step: "decap",
    detail: `IP protocol 4 → ${IPIP_DEVICE}: decapsulate`,
    device: IPIP_DEVICE,
  }),
  dataplaneSupport: () => ({
    reason: "the kernel here has no IP-in-IP module (ipip, for tunl0), so this network stays simulated",
  }),
});
