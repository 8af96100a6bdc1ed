/**
 * The topology as one picture's content (front ends lay it out and draw it): nodes with their pod
 * range, each holding its pods grouped by namespace and the plugin's devices of its root network
 * namespace (the bridge `cni0` or the per-pod `cali…` links, the tunnel `flannel.1` / `tunl0` /
 * `vxlan.calico`, `eth0` on the underlay); the underlay joining the nodes; Services as frontends over
 * their endpoints.
 *
 * The devices are `podnet routes -o json`'s (./devices.ts `nodeNetworkView`), so the picture and the
 * CLI agree by construction. It stays small at any size: at most `nodeLimit` nodes are drawn (the
 * others are one box with their count; see PICTURE_READ_BUDGET for the default); a node with more than `podLimit` pods shows them per
 * namespace and workload with counts (and its pods' links as one count), unless a pod is asked for
 * by name (`pods`: a trace's ends); Services are drawn when there are at most `serviceLimit` of them
 * (or when asked for by name). One pass over pods and Services; the plugin's namespace of each drawn
 * node (linear in the nodes, for the routes to the others).
 */
import type { ClusterState, NodeState } from "../control/state.ts";
import { underlayOf } from "../graph/devices.ts";
import type { Pod } from "../model/k8s.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import { type DeviceView, type NodePodLink, nodeNetworkView } from "./devices.ts";

/** A node's devices and its pods' links, as `podnet routes --node NAME -o json` lists them. */
export interface NodeDevices {
  interfaces: DeviceView[];
  pods: NodePodLink[];
}

import { podBlocks, workloadOfCached } from "./topology.ts";

/** A pod drawn on its own: `ns/name`, its address and the host end of its link. */
export interface PicturePod {
  id: string;
  namespace: string;
  ip: string;
  /** The device of the node's root namespace its eth0 is linked to (`veth…`, `cali…`). */
  hostInterface: string;
  /** `ns/name[Kind]`, as connlist names it. */
  workload: string;
}

/** Pods not drawn one by one: a workload's (or a namespace's) count on one node. */
export interface PictureGroup {
  namespace: string;
  /** `ns/name[Kind]`; absent when the node's pods are counted per namespace only. */
  workload?: string;
  pods: number;
}

export interface PictureNode {
  name: string;
  ip: string;
  podCIDR: string;
  /** The node's pod address blocks and the plugin's word for them (topology.ts `podBlocks`). */
  podBlocks: string;
  blockTerm: string;
  /** Every running pod with an address on the node, host-network ones included. */
  pods: number;
  /** Pods sharing the node's own network namespace (hostNetwork). */
  hostNetworkPods: number;
  /**
   * The root namespace's devices but loopback, as `podnet routes -o json` lists them; when pods are
   * counted rather than drawn, their links are left out (`linksNotShown` counts them).
   */
  devices: DeviceView[];
  linksNotShown: number;
  /** Pods with a namespace of their own drawn one by one (every one when few). */
  shownPods: PicturePod[];
  /** The node's other pods with a namespace of their own, counted. */
  groups: PictureGroup[];
}

export interface PictureService {
  /** `name.namespace`, as trace names it. */
  id: string;
  type: string;
  clusterIP?: string;
  ports: string[];
  /** Endpoint pods (`ns/name`), ready or not. */
  endpoints: string[];
}

export interface TopologyPicture {
  cluster: string;
  cni: string;
  /** The underlay networks the drawn nodes' eth0 are on (`underlayOf`). */
  underlay: string[];
  nodes: PictureNode[];
  /** Nodes not drawn (beyond `nodeLimit`, or not asked for) and their pods. */
  otherNodes: { nodes: number; pods: number };
  services: PictureService[];
  /** Services not drawn. */
  otherServices: number;
}

export interface PictureOptions {
  /**
   * Only these nodes (by name), e.g. the ones a trace crosses, up to PICTURE_NODE_LIMIT of them;
   * default: the first `nodeLimit` (see PICTURE_READ_BUDGET).
   */
  nodes?: readonly string[];
  /** Pods (`ns/name`) drawn on their own even on a node whose pods are counted. */
  pods?: readonly string[];
  /** Services (`name.ns`) drawn even beyond `serviceLimit`. */
  services?: readonly string[];
  nodeLimit?: number;
  podLimit?: number;
  serviceLimit?: number;
}

/** Nodes drawn at most (the rest are one box): a picture people can read, laid out fast. */
export const PICTURE_NODE_LIMIT = 24;
/**
 * Each drawn node's root namespace is the plugin's, built by reading every other node (a route, a
 * neighbour and an FDB entry each; the pods outside their node's podCIDR are found once per
 * cluster): drawing n nodes costs n × nodes entries. The default limit keeps n × nodes under this
 * (at least one node): 24 nodes up to 12,500 nodes, 1 at 300,000.
 */
export const PICTURE_READ_BUDGET = 300_000;
/** A node with more pods than this shows them per workload with counts. */
export const PICTURE_POD_LIMIT = 12;
/** Services drawn at most (else only the ones asked for). */
export const PICTURE_SERVICE_LIMIT = 30;
/** Workload groups on one node at most (else per namespace). */
const GROUP_LIMIT = 10;

const running = (p: Pod) =>
  Boolean(p.status?.podIP) && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";

/** The picture's content; see the file's comment for what is drawn and what is counted. */
export function topologyPicture(
  state: ClusterState,
  opts: PictureOptions = {},
  /**
   * Each node's devices and pod links by node name, filled as nodes are drawn: a front end over one
   * unchanging cluster passes the same map to every picture, so a node's namespace is built once.
   */
  known: Map<string, NodeDevices> = new Map(),
): TopologyPicture {
  // Nodes asked for by name (a trace's) are drawn up to PICTURE_NODE_LIMIT whatever the size.
  const nodeLimit =
    opts.nodeLimit ??
    (opts.nodes ? PICTURE_NODE_LIMIT : undefined) ??
    Math.max(1, Math.min(PICTURE_NODE_LIMIT, Math.floor(PICTURE_READ_BUDGET / state.nodes.length)));
  const podLimit = opts.podLimit ?? PICTURE_POD_LIMIT;
  const serviceLimit = opts.serviceLimit ?? PICTURE_SERVICE_LIMIT;
  const wanted = opts.nodes ? new Set(opts.nodes) : undefined;
  const drawn: NodeState[] = (wanted ? state.nodes.filter((n) => wanted.has(n.name)) : state.nodes).slice(
    0,
    nodeLimit,
  );
  const drawnNames = new Set(drawn.map((n) => n.name));
  const podsOf = new Map<string, Pod[]>();
  const hostNet = new Map<string, number>();
  let otherPods = 0;
  for (const p of state.pods) {
    if (!running(p) || !p.spec.nodeName) continue;
    const node = p.spec.nodeName;
    if (!drawnNames.has(node)) {
      otherPods++;
      continue;
    }
    if (p.spec.hostNetwork) hostNet.set(node, (hostNet.get(node) ?? 0) + 1);
    else {
      const list = podsOf.get(node) ?? [];
      list.push(p);
      podsOf.set(node, list);
    }
  }
  const named = new Set(opts.pods ?? []);
  const owner = workloadOfCached(state);
  const underlay = new Set<string>();
  const nodes = drawn.map((n): PictureNode => {
    const pods = podsOf.get(n.name) ?? [];
    underlay.add(underlayOf(state, n).toString());
    // The same function as `podnet routes --node NAME -o json`, over the same pods.
    let view = known.get(n.name);
    if (!view) {
      const { interfaces, pods: links } = nodeNetworkView(state, n, pods);
      view = { interfaces, pods: links };
      known.set(n.name, view);
    }
    const few = pods.length <= podLimit;
    const shown: PicturePod[] = [];
    const counted = new Map<string, PictureGroup>();
    view.pods.forEach((link, i) => {
      const p = pods[i];
      const workload = owner(p);
      if (few || named.has(link.pod)) {
        shown.push({ ...link, id: link.pod, namespace: p.metadata.namespace!, workload });
        return;
      }
      const g = counted.get(workload) ?? { namespace: p.metadata.namespace!, workload, pods: 0 };
      g.pods++;
      counted.set(workload, g);
    });
    let groups = [...counted.values()];
    if (groups.length > GROUP_LIMIT) {
      const perNs = new Map<string, PictureGroup>();
      for (const g of groups) {
        const e = perNs.get(g.namespace) ?? { namespace: g.namespace, pods: 0 };
        e.pods += g.pods;
        perNs.set(g.namespace, e);
      }
      groups = [...perNs.values()];
    }
    const links = new Set(shown.map((p) => p.hostInterface));
    const allLinks = new Set(view.pods.map((p) => p.hostInterface));
    const devices = view.interfaces.filter(
      (d) => d.kind !== "loopback" && (!allLinks.has(d.name) || links.has(d.name)),
    );
    return {
      name: n.name,
      ip: formatIPv4(n.ip),
      podCIDR: n.podCIDR.toString(),
      ...podBlocks(state, n),
      pods: pods.length + (hostNet.get(n.name) ?? 0),
      hostNetworkPods: hostNet.get(n.name) ?? 0,
      devices,
      linksNotShown:
        view.interfaces.length - devices.length - view.interfaces.filter((d) => d.kind === "loopback").length,
      shownPods: shown,
      groups,
    };
  });
  const wantedServices = new Set(opts.services ?? []);
  const allServices = state.services.length <= serviceLimit;
  const endpoints = new Map<string, string[]>();
  for (const s of state.endpointSlices) {
    const svc = s.metadata.labels?.["kubernetes.io/service-name"];
    if (!svc) continue;
    const id = `${svc}.${s.metadata.namespace}`;
    if (!allServices && !wantedServices.has(id)) continue;
    const list = endpoints.get(id) ?? [];
    for (const e of s.endpoints)
      if (e.targetRef?.kind === "Pod") list.push(`${s.metadata.namespace}/${e.targetRef.name}`);
    endpoints.set(id, list);
  }
  const services: PictureService[] = [];
  for (const s of state.services) {
    const id = `${s.metadata.name}.${s.metadata.namespace}`;
    if (!allServices && !wantedServices.has(id)) continue;
    services.push({
      id,
      type: s.spec.type ?? "ClusterIP",
      ...(s.spec.clusterIP ? { clusterIP: s.spec.clusterIP } : {}),
      ports: (s.spec.ports ?? []).map((p) => `${p.port}/${p.protocol ?? "TCP"}`),
      endpoints: [...new Set(endpoints.get(id) ?? [])],
    });
  }
  return {
    cluster: state.config.name,
    cni: state.config.cni,
    underlay: [...underlay],
    nodes,
    otherNodes: { nodes: state.nodes.length - drawn.length, pods: otherPods },
    services,
    otherServices: state.services.length - services.length,
  };
}
