/**
 * The BGP view of a Calico cluster: which node advertises which block, and a node's BIRD routing
 * table as `birdcl show route` prints it (BIRD 1.6 as calico/bird builds it).
 *
 * What BIRD holds on a node, per confd's templates (confd/tests/compiled_templates/mesh/…/bird.cfg,
 * bird_aggr.cfg, bird_ipam.cfg):
 * - `static1`: a blackhole route for each of the node's blocks (bird_aggr.cfg `route … blackhole`),
 *   preference 200;
 * - `kernel1`: routes it learns from the kernel (`learn`), among them each local pod's
 *   `<podIP>/32 dev cali…`, preference 10; inside the node's own blocks they are not exported
 *   (`calico_aggr`: the block, nothing beneath it), a borrowed address's /32 is;
 * - `Mesh_<peer address with _ for .>`: the node-to-node mesh's BGP sessions, one per other node;
 *   their blocks and borrowed /32s, next hop the peer (`via <peer> on eth0`), preference 100, local
 *   pref 0, internal (`[i]`).
 *
 * A cluster whose pools all use VXLAN runs no BIRD (Calico's manifest for VXLAN sets
 * `calico_backend: vxlan`): Felix alone programs the routes. Route times are left out (they are the
 * moment a route was learnt).
 */
import type { ClusterState, NodeState } from "../../control/state.ts";
import { Cidr, formatIPv4, type IPv4 } from "../../net/ipv4.ts";
import type { CalicoIpamResult } from "./ipam.ts";
import { caliVethName } from "./names.ts";

/** The version line birdcl prints on connecting (calico/bird's fork of BIRD 1.6). */
export const BIRD_BANNER = "BIRD v0.3.3+birdv1.6.8 ready.";

/** Whether any pool is routed by BGP (BIRD runs) rather than VXLAN alone. */
export function bgpRuns(ipam: CalicoIpamResult): boolean {
  return ipam.pools.some((p) => !p.disabled && p.vxlanMode === "Never");
}

/** The BGP protocol name confd gives the mesh session to a peer (`Mesh_172_18_0_3`). */
export function meshProtocol(peer: IPv4): string {
  return `Mesh_${formatIPv4(peer).replaceAll(".", "_")}`;
}

/** Per node, what it advertises to its peers: its blocks and the borrowed addresses it holds (/32). */
export function advertisements(
  state: ClusterState,
  ipam: CalicoIpamResult,
): { node: NodeState; prefixes: Cidr[] }[] {
  const borrowedBy = new Map<string, Cidr[]>();
  for (const [ip, node] of ipam.borrowed) {
    const list = borrowedBy.get(node) ?? [];
    list.push(Cidr.of(ip, 32));
    borrowedBy.set(node, list);
  }
  return state.nodes.map((node) => ({
    node,
    prefixes: [
      ...(ipam.blocksByNode.get(node.name) ?? [])
        .filter((b) => b.pool.vxlanMode === "Never")
        .map((b) => b.cidr),
      ...(borrowedBy.get(node.name) ?? []),
    ].sort((a, b) => a.base - b.base || a.prefix - b.prefix),
  }));
}

/**
 * `birdcl show route` on `node`: the lines after the banner, sorted by prefix. `podIPs` are the
 * node's running pods (namespace, name, address). Empty when no BGP runs (`bgpRuns` is false).
 */
export function birdShowRoute(
  state: ClusterState,
  ipam: CalicoIpamResult,
  node: NodeState,
  pods: readonly { namespace: string; name: string; ip: IPv4 }[],
): string[] {
  if (!bgpRuns(ipam)) return [];
  const rows: { dst: Cidr; text: string }[] = [];
  const pad = (s: string) => s.padEnd(18);
  const bgpPool = (ip: IPv4) => {
    const p = ipam.poolOf(ip);
    return p !== undefined && p.vxlanMode === "Never";
  };
  for (const b of ipam.blocksByNode.get(node.name) ?? [])
    if (b.pool.vxlanMode === "Never")
      rows.push({ dst: b.cidr, text: `${pad(b.cidr.toString())} blackhole [static1] * (200)` });
  for (const p of pods) {
    if (!bgpPool(p.ip)) continue;
    const dst = Cidr.of(p.ip, 32);
    rows.push({
      dst,
      text: `${pad(dst.toString())} dev ${caliVethName(p.namespace, p.name)} [kernel1] * (10)`,
    });
  }
  for (const a of advertisements(state, ipam)) {
    if (a.node === node) continue;
    for (const dst of a.prefixes)
      rows.push({
        dst,
        text: `${pad(dst.toString())} via ${formatIPv4(a.node.ip)} on eth0 [${meshProtocol(a.node.ip)}] * (100/0) [i]`,
      });
  }
  rows.sort((a, b) => a.dst.base - b.dst.base || a.dst.prefix - b.dst.prefix);
  return rows.map((r) => r.text);
}
