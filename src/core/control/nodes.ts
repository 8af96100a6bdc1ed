/**
 * Nodes: which nodes exist, their addresses, and their podCIDRs.
 *
 * The node set is, in this order: the nodes the Cluster config lists, Node objects (merged by name),
 * nodes generated to reach the config's count (`node-1`, `node-2`, …), and nodes that pods name in
 * `spec.nodeName` without any definition (created with a warning). With no config and no Node, two
 * nodes are generated.
 *
 * Addresses: the primary IP is kubelet's (`GetNodeHostIPs`): the first IPv4 InternalIP, else the
 * config's `ip`, else the first IPv4 ExternalIP, else the next free address of nodeNetwork. Every other
 * IPv4 InternalIP and ExternalIP of `status.addresses` is the node's too (`NodeState.ips`, `addresses`);
 * an ExternalIP counts as on the node's interfaces unless `spec.providerID` names a provider that NATs
 * it (see `NodeIP.onInterface`). An address another node has already is left out, with a warning.
 *
 * Every node carries kubelet's registration labels unless the config's `spec.supply.nodeLabels` is
 * false (addons.ts); labels the Node object or the config gives win.
 *
 * podCIDRs follow the node-ipam-controller's range allocator: given podCIDRs are occupied first, then
 * each node without one gets the lowest free block of size nodeCIDRMaskSize inside clusterCIDR.
 */
import type { Diagnostics, Origin } from "../diagnostics.ts";
import type { Entry } from "../manifests/decode.ts";
import { type ClusterConfig, DEFAULT_NODE_COUNT, type NodeConfig } from "../model/config.ts";
import type { Labels, Node, Taint } from "../model/k8s.ts";
import { Cidr, formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import { kubeletLabels } from "./addons.ts";
import { uidFor } from "./names.ts";
import type { GroupedWarnings, NodeIP, NodeState } from "./state.ts";

interface NodeDraft {
  name: string;
  obj: Node;
  origin?: Origin;
  ip?: IPv4;
  /** Set by assignSecondaryIPs: local addresses (primary first) and the listed ones. */
  ips?: IPv4[];
  addresses?: NodeIP[];
  podCIDR?: Cidr;
  cfg?: NodeConfig;
}

export const DEFAULT_MAX_PODS = 110;

export function resolveNodes(args: {
  config: ClusterConfig;
  configOrigin: Origin | undefined;
  nodeEntries: readonly Entry<Node>[];
  referencedNodeNames: ReadonlyMap<string, { object: string; origin: Origin }>;
  diags: Diagnostics;
  grouped: GroupedWarnings;
}): NodeState[] {
  const { config, nodeEntries, referencedNodeNames, diags, grouped } = args;
  const drafts = new Map<string, NodeDraft>();
  const listed = Array.isArray(config.nodes) ? config.nodes : [];

  for (const cfg of listed) {
    drafts.set(cfg.name, { name: cfg.name, obj: newNode(cfg.name), cfg });
  }
  for (const { obj, origin } of nodeEntries) {
    const d = drafts.get(obj.metadata.name);
    if (d) {
      d.obj = obj;
      d.origin = origin;
    } else drafts.set(obj.metadata.name, { name: obj.metadata.name, obj, origin });
  }
  // A count fills up to that many nodes; with no count and no node named anywhere, the default count.
  const nothingNamed = drafts.size === 0 && referencedNodeNames.size === 0;
  const target =
    typeof config.nodes === "number"
      ? config.nodes
      : config.nodes === undefined && nothingNamed
        ? DEFAULT_NODE_COUNT
        : 0;
  for (let i = 1; drafts.size < target; i++) {
    const name = `node-${i}`;
    if (!drafts.has(name)) drafts.set(name, { name, obj: newNode(name) });
  }
  for (const [name, ref] of referencedNodeNames) {
    if (drafts.has(name)) continue;
    drafts.set(name, { name, obj: newNode(name) });
    grouped.add(
      "implicit-node",
      { object: ref.object, origin: ref.origin, path: ["spec", "nodeName"], detail: name },
      (count, first) =>
        count === 1
          ? `node "${first}" is not defined; podnet adds it`
          : `${count} nodes named by pods are not defined (first: "${first}"); podnet adds them`,
      "add Node objects, or list the nodes in the Cluster config's spec.nodes",
    );
  }

  const nodes = [...drafts.values()];
  assignNodeIPs(nodes, config, diags, grouped);
  assignSecondaryIPs(nodes, grouped);
  assignPodCIDRs(nodes, config, args.configOrigin, diags, grouped);
  const labelled = config.supply.nodeLabels ? supplyKubeletLabels(nodes, config.nodeArch) : undefined;
  if (labelled) {
    grouped.add(
      "supplied-node-labels",
      {
        object: `Node ${labelled.first}`,
        origin: labelled.origin,
        path: ["metadata", "labels"],
        detail: labelled.first,
      },
      () =>
        `${labelled.count} Node object${labelled.count === 1 ? " lacks" : "s lack"} labels kubelet sets on registration (first: ${labelled.first}); podnet adds them (kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch and the beta.kubernetes.io/ twins)`,
      "to keep the Nodes' labels as given, set spec.supply.nodeLabels: false in the Cluster config",
    );
  }
  return nodes.filter((n) => n.ip !== undefined && n.podCIDR !== undefined).map((n) => finish(n));
}

/**
 * Puts kubelet's registration labels (addons.ts) under each node's own, and counts the Node objects of
 * the input that lacked some, for the one warning that says so. Nodes podnet invents (the config's,
 * the default ones, those pods name) get them silently: they are the kubelet's to begin with.
 */
function supplyKubeletLabels(
  nodes: NodeDraft[],
  arch: string,
): { count: number; first: string; origin?: Origin } | undefined {
  let out: { count: number; first: string; origin?: Origin } | undefined;
  for (const n of nodes) {
    const given = n.obj.metadata.labels ?? {};
    // A node labelled with its OS or arch (stable or beta label) is that OS and arch: its twin
    // follows, as kubelet derives both from one value (a Windows node is never beta-labelled linux).
    const own = { ...n.cfg?.labels, ...given };
    const kubelet = kubeletLabels(
      n.name,
      own["kubernetes.io/arch"] ?? own["beta.kubernetes.io/arch"] ?? arch,
      own["kubernetes.io/os"] ?? own["beta.kubernetes.io/os"] ?? "linux",
    );
    if (n.origin && Object.keys(kubelet).some((k) => given[k] === undefined)) {
      if (out) out.count++;
      else out = { count: 1, first: n.name, origin: n.origin };
    }
    n.obj.metadata.labels = { ...kubelet, ...n.cfg?.labels, ...given };
  }
  return out;
}

function newNode(name: string): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name } };
}

/** The IPv4 addresses of one type in a Node's `status.addresses`, in order. */
function listed(obj: Node, type: NodeIP["type"]): { ip: IPv4; text: string; index: number }[] {
  const out: { ip: IPv4; text: string; index: number }[] = [];
  (obj.status?.addresses ?? []).forEach((a, index) => {
    if (a.type !== type) return;
    const ip = parseIPv4(a.address);
    if (ip !== undefined) out.push({ ip, text: a.address, index });
  });
  return out;
}

/**
 * Cloud providers whose ExternalIPs are a 1:1 NAT held by the provider's network (AWS public IPv4 and
 * Elastic IPs, GCE access configs, Azure public IPs, OpenStack floating IPs): the node never sees them
 * on an interface. `spec.providerID` is `<provider>://…`, set by the provider's cloud-node controller.
 */
const NAT_EXTERNAL_IP_PROVIDERS = new Set(["aws", "gce", "azure", "openstack"]);

function externalIPsAreNAT(obj: Node): boolean {
  const id = (obj.spec as { providerID?: unknown } | undefined)?.providerID;
  if (typeof id !== "string") return false;
  return NAT_EXTERNAL_IP_PROVIDERS.has(id.split("://")[0]);
}

function assignNodeIPs(
  nodes: NodeDraft[],
  config: ClusterConfig,
  diags: Diagnostics,
  grouped: GroupedWarnings,
): void {
  const used = new Map<IPv4, string>();
  for (const n of nodes) {
    // kubelet's primary IP (GetNodeHostIPs): InternalIPs first, then ExternalIPs.
    const given = listed(n.obj, "InternalIP")[0]?.text ?? n.cfg?.ip ?? listed(n.obj, "ExternalIP")[0]?.text;
    if (given === undefined) continue;
    const ip = parseIPv4(given);
    if (ip === undefined) continue; // IPv6-only nodes get an IPv4 address allocated below
    const other = used.get(ip);
    if (other) {
      diags.error({
        code: "ip-conflict",
        message: `node IP ${given} is also the IP of node ${other}`,
        hint: "give every node its own InternalIP",
        object: `Node ${n.name}`,
        origin: n.origin,
        path: ["status", "addresses"],
      });
      continue;
    }
    used.set(ip, n.name);
    n.ip = ip;
    if (!config.nodeNetwork.contains(ip)) {
      grouped.add(
        "node-ip-outside-range",
        { object: `Node ${n.name}`, origin: n.origin, path: ["status", "addresses"], detail: given },
        (count, first) =>
          `${count} node${count === 1 ? " has an IP" : "s have IPs"} outside nodeNetwork ${config.nodeNetwork} (first: ${first}); kept as given`,
        "set spec.nodeNetwork in the Cluster config to the nodes' network",
      );
    }
  }
  // Allocate the rest from nodeNetwork, from its second address up (the first is the network's gateway).
  let next = 2;
  for (const n of nodes) {
    if (n.ip !== undefined) continue;
    while (next < config.nodeNetwork.size - 1 && used.has(config.nodeNetwork.nth(next))) next++;
    if (next >= config.nodeNetwork.size - 1) {
      const missing = nodes.filter((x) => x.ip === undefined).length;
      diags.error({
        code: "pool-exhausted",
        message: `nodeNetwork ${config.nodeNetwork} has no address left for node ${n.name} (${missing} node${missing === 1 ? "" : "s"} still need one)`,
        hint: "widen spec.nodeNetwork in the Cluster config (e.g. a /16), or give the nodes InternalIP addresses",
      });
      return;
    }
    n.ip = config.nodeNetwork.nth(next);
    used.set(n.ip, n.name);
  }
}

/**
 * Every other IPv4 InternalIP and ExternalIP of a node, once the primaries are known (InternalIPs
 * first, then ExternalIPs, as GetNodeHostIPs orders them). An address that is another node's primary
 * IP, or that a node before it lists already, stays with that node and is dropped here, with a warning.
 */
function assignSecondaryIPs(nodes: NodeDraft[], grouped: GroupedWarnings): void {
  const owner = new Map<IPv4, string>();
  for (const n of nodes) if (n.ip !== undefined) owner.set(n.ip, n.name);
  for (const n of nodes) {
    if (n.ip === undefined) continue;
    const nat = externalIPsAreNAT(n.obj);
    const addresses: NodeIP[] = [];
    const ips: IPv4[] = [n.ip];
    for (const type of ["InternalIP", "ExternalIP"] as const) {
      for (const { ip, text, index } of listed(n.obj, type)) {
        const other = owner.get(ip);
        if (other !== undefined && other !== n.name) {
          grouped.add(
            "node-address-conflict",
            {
              object: `Node ${n.name}`,
              origin: n.origin,
              path: ["status", "addresses", index, "address"],
              detail: `${text} is also node ${other}'s`,
            },
            (count, first) =>
              count === 1
                ? `node address ${first}; podnet gives it to that node only`
                : `${count} node addresses are also other nodes' (first: ${first}); podnet gives each to that node only`,
            "give every node its own addresses in status.addresses",
          );
          continue;
        }
        owner.set(ip, n.name);
        const onInterface = type === "InternalIP" || !nat || ip === n.ip;
        if (!addresses.some((a) => a.ip === ip)) addresses.push({ ip, type, onInterface });
        if (onInterface && !ips.includes(ip)) ips.push(ip);
      }
    }
    // An allocated (or config-given) primary is reported as the node's InternalIP (see finish).
    if (!addresses.some((a) => a.ip === n.ip))
      addresses.unshift({ ip: n.ip, type: "InternalIP", onInterface: true });
    n.ips = ips;
    n.addresses = addresses;
  }
}

function assignPodCIDRs(
  nodes: NodeDraft[],
  config: ClusterConfig,
  configOrigin: Origin | undefined,
  diags: Diagnostics,
  grouped: GroupedWarnings,
): void {
  const taken: { cidr: Cidr; node: string }[] = [];
  for (const n of nodes) {
    const text = n.obj.spec?.podCIDR ?? n.obj.spec?.podCIDRs?.find((c) => !c.includes(":")) ?? n.cfg?.podCIDR;
    if (!text) continue;
    const parsed = Cidr.parse(text);
    if (!parsed.ok) continue; // IPv6 podCIDRs of dual-stack nodes: an IPv4 block is allocated below
    const cidr = parsed.cidr;
    const clash = taken.find((t) => t.cidr.overlaps(cidr));
    if (clash) {
      diags.error({
        code: "overlapping-cidrs",
        message: `podCIDR ${cidr} overlaps podCIDR ${clash.cidr} of node ${clash.node}`,
        hint: "give each node a disjoint podCIDR, or remove podCIDR to let podnet allocate one",
        object: `Node ${n.name}`,
        origin: n.origin,
        path: ["spec", "podCIDR"],
      });
      continue;
    }
    taken.push({ cidr, node: n.name });
    n.podCIDR = cidr;
    if (!(config.clusterCIDR.contains(cidr.base) && config.clusterCIDR.contains(cidr.last))) {
      grouped.add(
        "pod-cidr-outside-range",
        {
          object: `Node ${n.name}`,
          origin: n.origin,
          path: ["spec", "podCIDR"],
          detail: `${n.name} ${cidr}`,
        },
        (count, first) =>
          `${count} node podCIDR${count === 1 ? " lies" : "s lie"} outside clusterCIDR ${config.clusterCIDR} (first: ${first}); kept as given`,
        "set spec.clusterCIDR in the Cluster config to the cluster's pod network",
      );
    }
  }
  const mask = config.nodeCIDRMaskSize;
  if (mask < config.clusterCIDR.prefix) return; // reported by the config decoder
  const blockSize = 2 ** (32 - mask);
  const blocks = 2 ** (mask - config.clusterCIDR.prefix);
  // `taken` sorted by base lets the scan skip occupied ranges without testing every pair.
  const occupied = taken.map((t) => t.cidr).sort((a, b) => a.base - b.base);
  let candidate = 0;
  let oi = 0;
  for (const n of nodes) {
    if (n.podCIDR) continue;
    let found: Cidr | undefined;
    while (candidate < blocks) {
      const block = Cidr.of(config.clusterCIDR.nth(candidate * blockSize), mask);
      while (oi < occupied.length && occupied[oi].last < block.base) oi++;
      candidate++;
      if (oi < occupied.length && occupied[oi].overlaps(block)) continue;
      found = block;
      break;
    }
    if (!found) {
      const missing = nodes.filter((x) => !x.podCIDR).length;
      diags.error({
        code: "pool-exhausted",
        message: `clusterCIDR ${config.clusterCIDR} holds ${blocks} podCIDRs of /${mask}; ${missing} more node${missing === 1 ? " needs" : "s need"} one`,
        hint: "widen spec.clusterCIDR or raise spec.nodeCIDRMaskSize (smaller per-node blocks) in the Cluster config",
        origin: configOrigin,
        path: ["spec", "clusterCIDR"],
      });
      return;
    }
    n.podCIDR = found;
  }
}

function finish(n: NodeDraft): NodeState {
  const obj = n.obj;
  const ip = n.ip!;
  const podCIDR = n.podCIDR!;
  // kubelet's labels, when supplied, are already under the given ones (supplyKubeletLabels).
  const labels: Labels = { ...n.cfg?.labels, ...obj.metadata.labels };
  const taints: Taint[] = [...(obj.spec?.taints ?? n.cfg?.taints ?? [])];
  const unschedulable = obj.spec?.unschedulable === true;
  const allocPods = Number(obj.status?.allocatable?.pods ?? obj.status?.capacity?.pods ?? DEFAULT_MAX_PODS);
  const maxPods = Number.isFinite(allocPods) && allocPods >= 0 ? allocPods : DEFAULT_MAX_PODS;

  // The Node object as the API server would return it, with podnet's assignments filled in.
  obj.metadata.labels = labels;
  obj.metadata.uid ??= uidFor(`Node/${n.name}`);
  obj.spec = { ...obj.spec, podCIDR: obj.spec?.podCIDR ?? podCIDR.toString() };
  obj.spec.podCIDRs ??= [obj.spec.podCIDR!];
  if (taints.length > 0) obj.spec.taints = taints;
  const status = { ...obj.status };
  const addresses = [...(status.addresses ?? [])];
  if (
    !addresses.some(
      (a) => (a.type === "InternalIP" || a.type === "ExternalIP") && parseIPv4(a.address) === ip,
    )
  ) {
    addresses.unshift({ type: "InternalIP", address: formatIPv4(ip) });
  }
  if (!addresses.some((a) => a.type === "Hostname")) addresses.push({ type: "Hostname", address: n.name });
  status.addresses = addresses;
  status.allocatable ??= { pods: String(maxPods) };
  status.conditions ??= [{ type: "Ready", status: "True" }];
  obj.status = status;
  return {
    name: n.name,
    obj,
    ip,
    ips: n.ips ?? [ip],
    addresses: n.addresses ?? [{ ip, type: "InternalIP", onInterface: true }],
    podCIDR,
    labels,
    taints,
    maxPods,
    unschedulable,
  };
}
