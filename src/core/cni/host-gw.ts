/**
 * `cni: host-gw` — flannel's host-gw backend over the bridge plugin (./bridge.ts): no encapsulation;
 * each node routes every other node's podCIDR via that node's IP on eth0 (all nodes on one layer-2
 * network), as flannel's pkg/backend/hostgw installs them.
 *
 *   node A: cni0 ─ route <B's podCIDR> via <B's IP> dev eth0 ── eth0 ══ eth0 ── node B: cni0
 */
import { flannelPlugin, viaUnderlay } from "./bridge.ts";

export const hostGw = flannelPlugin({
  name: "host-gw",
  summary:
    "flannel, host-gw backend (a route per node via its IP on eth0, no encapsulation) over the bridge plugin",
  mtu: 1500,
  tunnel: () => undefined,
  routeToNode: viaUnderlay,
  peerEntries: () => ({ neighbours: [], fdb: [] }),
  // The next hop is the other node on eth0: the tracer follows the underlay.
  encapsulate: () => undefined,
  decapsulate: (node) => ({ at: `node ${node.name}`, step: "decap", detail: "no encapsulation" }),
  dataplaneSupport: () => undefined,
});
