/**
 * A network namespace as data: what `podnet routes -o json` prints and what the web UI's topology
 * picture draws, so that both list the same devices by construction. The namespace itself is the
 * network plugin's (../graph/devices.ts asks it); this file only turns its addresses into text, as
 * iproute2 writes them (`10.244.1.1/24`), and lists the pods that have a namespace of their own on
 * a node with the host end of their link.
 */
import type { ClusterState, NodeState } from "../control/state.ts";
import {
  hostInterfaceName,
  type Interface,
  type Namespace,
  nodeNamespace,
  podNamespace,
  podsOnNode,
  renderRoute,
} from "../graph/devices.ts";
import type { Pod } from "../model/k8s.ts";
import { formatIPv4 } from "../net/ipv4.ts";

/** One interface (`ip -j addr`'s facts in podnet's words). */
export interface DeviceView {
  name: string;
  /** `loopback`, `ethernet` (the underlay's eth0), `bridge` (cni0), `veth`, `vxlan`, `ipip`. */
  kind: Interface["kind"];
  /** `ip/prefix`, primary first. */
  addresses: string[];
  mac?: string;
  /** The bridge a veth is enslaved to (`master cni0`). */
  master?: string;
  /** The other end of a veth pair (`eth0@…` inside a pod, or the host end's name). */
  peer?: string;
  /** A VXLAN device's id, UDP port and local (underlay) address. */
  vxlan?: { vni: number; port: number; local: string };
}

/** A network namespace: its devices, and its routes, neighbours and FDB entries as `ip` prints them. */
export interface NamespaceView {
  /** The heading `podnet routes` prints (`node NAME, root network namespace (vxlan)`). */
  title: string;
  interfaces: DeviceView[];
  /** `ip route` lines. */
  routes: string[];
  neighbours: { ip: string; mac: string; dev: string; permanent: boolean }[];
  /** `bridge fdb`: a VXLAN device's remote VTEPs (`dst`) or a bridge's learned ports (`port`). */
  fdb: { mac: string; dev: string; dst?: string; port?: string }[];
}

/** A pod with a network namespace of its own on a node, and the host end of its link there. */
export interface NodePodLink {
  /** `namespace/name`. */
  pod: string;
  ip: string;
  /** The pod's link on the node (`veth…` on cni0, Calico's `cali…`): a device of the root namespace. */
  hostInterface: string;
}

/** What `podnet routes --node NAME -o json` prints: the root namespace and the pods' links. */
export interface NodeNetworkView extends NamespaceView {
  node: string;
  cni: string;
  pods: NodePodLink[];
}

/** One interface as data. */
export function deviceView(i: Interface): DeviceView {
  return {
    name: i.name,
    kind: i.kind,
    addresses: i.addresses.map((a) => `${formatIPv4(a.ip)}/${a.prefix}`),
    ...(i.mac ? { mac: i.mac } : {}),
    ...(i.master ? { master: i.master } : {}),
    ...(i.peer ? { peer: i.peer } : {}),
    ...(i.vxlan ? { vxlan: { vni: i.vxlan.vni, port: i.vxlan.port, local: formatIPv4(i.vxlan.local) } } : {}),
  };
}

/** A namespace as data (linear in its entries). */
export function namespaceView(ns: Namespace, title: string): NamespaceView {
  return {
    title,
    interfaces: ns.interfaces.map(deviceView),
    routes: ns.routes.map(renderRoute),
    neighbours: ns.neighbours.map((n) => ({
      ip: formatIPv4(n.ip),
      mac: n.mac,
      dev: n.dev,
      permanent: n.permanent === true,
    })),
    fdb: ns.fdb.map((f) => ({
      mac: f.mac,
      dev: f.dev,
      ...(f.dst !== undefined ? { dst: formatIPv4(f.dst) } : {}),
      ...(f.port !== undefined ? { port: f.port } : {}),
    })),
  };
}

/** The title `podnet routes` gives a node's root namespace. */
export const nodeTitle = (state: ClusterState, node: NodeState) =>
  `node ${node.name}, root network namespace (${state.config.cni})`;

/** The title `podnet routes` gives a pod's namespace. */
export const podTitle = (state: ClusterState, node: NodeState, pod: Pod) =>
  `pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${node.name} (${state.config.cni})`;

/**
 * A node's root namespace as data, with the pods that have their own namespace there (`pods`:
 * `podsOnNode`'s, the ones the plugin links; pass them when already known).
 */
export function nodeNetworkView(
  state: ClusterState,
  node: NodeState,
  pods: Pod[] = podsOnNode(state, node),
): NodeNetworkView {
  return {
    node: node.name,
    cni: state.config.cni,
    ...namespaceView(nodeNamespace(state, node, pods), nodeTitle(state, node)),
    pods: pods.map((p) => ({
      pod: `${p.metadata.namespace}/${p.metadata.name}`,
      ip: p.status!.podIP!,
      hostInterface: hostInterfaceName(state, p),
    })),
  };
}

/** A pod's namespace as data (what `podnet routes --pod ns/name -o json` prints). */
export function podNetworkView(state: ClusterState, node: NodeState, pod: Pod): NamespaceView {
  return namespaceView(podNamespace(state, node, pod), podTitle(state, node, pod));
}
