/**
 * The outside network of a real cluster: one client namespace on the underlay, standing for the
 * internet in front of the load balancer, and the routes that bring its packets for load-balancer IPs
 * to the node(s) that answer for them. Pure: plan.ts puts the lines into the plan; the shell runs them.
 *
 *   podnet-<cluster>-o   eth0 203.0.113.7/24 (TEST-NET-3, RFC 5737), default via 203.0.113.1
 *        │ veth
 *   podnet-<cluster>-u   o0 203.0.113.1/24; per load-balancer IP a /32 route to its node(s) on ul0:
 *                        l2  `route add LB/32 via NODE dev ul0` (the elected node: as MetalLB's layer-2
 *                            speaker answers ARP for the IP from one node, elected by SHA-256 rank)
 *                        bgp `route add LB/32 nexthop via N1 dev ul0 nexthop via N2 dev ul0` (every
 *                            eligible node, equal cost: as a BGP peer installs the speakers' routes)
 *   podnet-<cluster>-nI  replies go back by the node's default route, via the underlay's gateway
 *
 * On the node, kube-proxy's rules already DNAT the load-balancer IP (its service-ips map, or the
 * KUBE-SERVICES chain in iptables mode); the route only makes the packet reach them, as the real
 * network does. Which nodes answer is the simulator's election (../control/load-balancers.ts), so a
 * trace from outside and the kernel enter at the same node(s).
 */
import { announcementFor } from "../control/load-balancers.ts";
import type { ClusterState, NodeState } from "../control/state.ts";
import type { LoadBalancerMode } from "../model/config.ts";
import type { Service } from "../model/k8s.ts";
import { Cidr, formatIPv4, parseIPv4 } from "../net/ipv4.ts";

/** The outside client's address: TEST-NET-3 (RFC 5737), as the issue's `trace --from 203.0.113.7`. */
export const OUTSIDE_CLIENT = "203.0.113.7";
/** The underlay's address towards the outside client (the client's default gateway). */
export const OUTSIDE_GATEWAY = "203.0.113.1";
/** The outside network (client and gateway), reached from every node by its default route through the underlay. */
export const OUTSIDE_NETWORK = "203.0.113.0/24";
/** The underlay's end of the outside client's link. */
export const OUTSIDE_LINK = "o0";

/** How load-balancer IPs reach nodes (the Cluster config's `spec.loadBalancer.mode`). */
export type { LoadBalancerMode } from "../model/config.ts";

/** The node(s) that receive packets for one load-balancer IP, and why, in one line. */
export interface LoadBalancerNodes {
  mode: LoadBalancerMode;
  /** The receiving nodes: one for `l2`; every eligible one for `bgp`; none when nothing announces the IP. */
  nodes: NodeState[];
  /** The election's answer in one sentence (../control/load-balancers.ts `Announcement.reason`). */
  why: string;
}

/** One load-balancer IP with its Service and receiving nodes. */
export interface LoadBalancerRoute {
  ip: string;
  service: Service;
  placement: LoadBalancerNodes;
}

/**
 * Every IPv4 load-balancer IP of a LoadBalancer Service (status.loadBalancer.ingress[].ip), sorted by
 * address, with the node(s) that announce it: the simulator's election (../control/load-balancers.ts
 * `announcementFor`, MetalLB's l2 or bgp as `spec.loadBalancer.mode` says, honouring
 * `externalTrafficPolicy: Local`), so the kernel's routes go through exactly the nodes `trace` names.
 */
export function loadBalancerRoutes(state: ClusterState): LoadBalancerRoute[] {
  const seen = new Set<string>();
  const out: LoadBalancerRoute[] = [];
  const byName = new Map(state.nodes.map((n) => [n.name, n]));
  for (const service of state.services) {
    if (service.spec.type !== "LoadBalancer") continue;
    for (const ing of service.status?.loadBalancer?.ingress ?? []) {
      if (!ing.ip || parseIPv4(ing.ip) === undefined || seen.has(ing.ip)) continue;
      seen.add(ing.ip);
      const a = announcementFor(state, ing.ip);
      const placement: LoadBalancerNodes = a
        ? {
            mode: a.mode,
            nodes: a.nodes.map((n) => byName.get(n)).filter((n) => n !== undefined),
            why: a.reason,
          }
        : { mode: state.config.loadBalancer.mode, nodes: [], why: `no Service holds ${ing.ip}` };
      out.push({ ip: ing.ip, service, placement });
    }
  }
  return out.sort((a, b) => parseIPv4(a.ip)! - parseIPv4(b.ip)!);
}

/**
 * Why the outside network cannot be built for `state`, or undefined: 203.0.113.0/24 must be outside
 * every range and address the cluster uses (nodeNetwork, clusterCIDR, serviceCIDR, loadBalancerPool,
 * the nodes' addresses), or its packets would not be told apart from the cluster's.
 */
export function outsideClash(state: ClusterState): string | undefined {
  const net = Cidr.parse(OUTSIDE_NETWORK);
  if (!net.ok) return net.reason;
  const c = state.config;
  const ranges: [string, Cidr][] = [
    ["nodeNetwork", c.nodeNetwork],
    ["clusterCIDR", c.clusterCIDR],
    ["serviceCIDR", c.serviceCIDR],
    ...c.loadBalancerPool.map((p): [string, Cidr] => ["loadBalancerPool", p]),
  ];
  for (const [name, r] of ranges)
    if (r.overlaps(net.cidr)) return `${name} ${r} overlaps the outside network ${OUTSIDE_NETWORK}`;
  for (const n of state.nodes)
    for (const ip of n.addresses)
      if (net.cidr.contains(ip.ip))
        return `node ${n.name}'s address ${formatIPv4(ip.ip)} lies in the outside network ${OUTSIDE_NETWORK}`;
  return undefined;
}

/** The outside network's part of a plan (see the header). */
export interface OutsidePlan {
  netns: string;
  client: string;
  /** In the underlay namespace, after its bridge: the link to the client. */
  underlayLines: string[];
  /** In the underlay namespace: the routes of the load-balancer IPs (they change with Services: `apply`). */
  routes: string[];
  /** In the client's namespace. */
  clientLines: string[];
  /** Load-balancer IPs no node answers for (no route: the underlay's blackhole drops them), with why. */
  unrouted: { ip: string; why: string }[];
}

/**
 * The outside network for `state`, or undefined when the underlay has no gateway (a nodeNetwork of
 * /31 or /32: nodes have no next hop back to the outside). `gateway` is the underlay bridge's address.
 */
export function planOutside(
  state: ClusterState,
  netns: string,
  gateway: string | undefined,
): OutsidePlan | undefined {
  if (gateway === undefined || outsideClash(state) !== undefined) return undefined;
  const prefix = OUTSIDE_NETWORK.split("/")[1];
  const routes: string[] = [];
  const unrouted: OutsidePlan["unrouted"] = [];
  for (const r of loadBalancerRoutes(state)) {
    // The underlay reaches a node only through its primary address on ul0.
    const vias = r.placement.nodes
      .filter((n) => state.config.nodeNetwork.contains(n.ip))
      .map((n) => formatIPv4(n.ip));
    if (vias.length === 0) {
      unrouted.push({
        ip: r.ip,
        why: r.placement.nodes.length ? "no node address in nodeNetwork" : r.placement.why,
      });
      continue;
    }
    routes.push(
      vias.length === 1
        ? `route add ${r.ip}/32 via ${vias[0]} dev ul0`
        : `route add ${r.ip}/32 ${vias.map((v) => `nexthop via ${v} dev ul0`).join(" ")}`,
    );
  }
  return {
    netns,
    client: OUTSIDE_CLIENT,
    underlayLines: [
      `link add ${OUTSIDE_LINK} type veth peer name eth0 netns ${netns}`,
      `addr add ${OUTSIDE_GATEWAY}/${prefix} dev ${OUTSIDE_LINK}`,
      `link set ${OUTSIDE_LINK} up`,
    ],
    routes,
    clientLines: [
      "link set lo up",
      `addr add ${OUTSIDE_CLIENT}/${prefix} dev eth0`,
      "link set eth0 up",
      `route add default via ${OUTSIDE_GATEWAY} dev eth0`,
    ],
    unrouted,
  };
}
