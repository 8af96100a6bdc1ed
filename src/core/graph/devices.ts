/**
 * The device view: the interfaces, addresses, routes, neighbours and bridge FDB entries the network
 * plugin builds on each node and in each pod, computed on demand for one node (nothing proportional to
 * nodes × pods is materialised). What is built is the cluster's plugin's (../cni/plugin.ts, one file
 * per plugin under ../cni/): this file asks it. The plugin-neutral shapes, the underlay and the
 * rendering are ./namespace.ts (re-exported here).
 *
 *   pod netns                      node root netns                                     wire
 *   eth0 (podIP) ══ veth ══ host side (plugin: on bridge cni0, or cali… alone) ─┐
 *                                                       route lookup (the plugin's routes)
 *                                       to a local pod ◄─┤
 *                                     plugin's tunnel ◄──┤ (flannel.1, tunl0, vxlan.calico)
 *                                                        └─► eth0 (node IP) ══ underlay
 */

import type { NetworkPlugin } from "../cni/plugin.ts";
import { networkPlugin } from "../cni/registry.ts";
import type { ClusterState, NodeState } from "../control/state.ts";
import type { Pod } from "../model/k8s.ts";
import type { IPv4 } from "../net/ipv4.ts";
import { type Namespace, podsOnNode } from "./namespace.ts";

export * from "./namespace.ts";

/** The plugin the cluster's config selects (`spec.cni`). */
export function pluginOf(state: ClusterState): NetworkPlugin {
  return networkPlugin(state.config.cni);
}

/** The MTU of the pod network (pods' eth0 and the host side of their links), as the plugin sets it. */
export function podNetworkMtu(state: ClusterState): number {
  return pluginOf(state).mtu(state);
}

/**
 * Every address a node's root namespace owns besides loopback: every address of eth0 (the node's
 * `ips`, primary first), then the plugin's devices' (cni0's gateway, a tunnel's).
 */
export function nodeAddresses(state: ClusterState, node: NodeState): IPv4[] {
  return [...node.ips, ...pluginOf(state).nodeAddresses(state, node)];
}

/** The host-side name of a pod's link on its node (the plugin's naming). */
export function hostInterfaceName(state: ClusterState, pod: Pod): string {
  return pluginOf(state).hostInterfaceName(pod);
}

/** The node's root network namespace, as the cluster's plugin builds it. */
export function nodeNamespace(
  state: ClusterState,
  node: NodeState,
  pods = podsOnNode(state, node),
): Namespace {
  return pluginOf(state).nodeNamespace(state, node, pods);
}

/** A pod's network namespace, as the cluster's plugin builds it. */
export function podNamespace(state: ClusterState, node: NodeState, pod: Pod): Namespace {
  return pluginOf(state).podNamespace(state, node, pod);
}
