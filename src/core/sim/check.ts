/**
 * `check`: the Kubernetes networking model's requirements, verified on the resolved cluster by tracing
 * packets through the simulated network (the fourth reference article's constraints):
 *
 *   1. addresses are unique across pods, nodes and Services, nodes' pod address blocks do not overlap,
 *      and each pod's address lies in one of its node's blocks (unless the network plugin routes it);
 *   2. containers of a pod reach each other on localhost (two cannot open the same port);
 *   3. every pod reaches every pod by its IP, and the receiver sees the sender's own IP (no NAT);
 *   4. every node reaches every pod.
 *
 * NetworkPolicy is left out: it restricts the network on purpose (`explain` and traces show it).
 * Reaching a pod means reaching its namespace: each pod is traced to the first TCP port known to be
 * served there (declared, or a Service's target: ./served-ports.ts), else to port 9, where the packet
 * `arrived` — containerPort is informational, so a pod without declared ports is still reachable.
 *
 * Pod and node reachability is a property of node pairs (routes and tunnels) plus each pod's own
 * attachment, so the check traces every ordered pair of nodes once (between two of their pods), and
 * every pod once as a destination from another node and from its own node. Above `maxNodePairs`,
 * each node is checked against a deterministic sample of the others; the report says so.
 */
import { fnv32a } from "../control/names.ts";
import type { NodeState } from "../control/state.ts";
import { pluginOf } from "../graph/devices.ts";
import type { Pod } from "../model/k8s.ts";
import { formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import { Network } from "./network.ts";
import { type ServedPorts, servedPorts } from "./served-ports.ts";
import { type TraceResult, trace } from "./trace.ts";

export interface Violation {
  requirement: "unique-addresses" | "pod-in-node-range" | "localhost" | "pod-to-pod" | "node-to-pod";
  message: string;
  /** The hops of the trace that shows it, when a trace does. */
  path?: string[];
}

export interface CheckReport {
  violations: Violation[];
  traced: number;
  coverage: string;
}

export function checkModel(given: Network, opts: { maxNodePairs?: number } = {}): CheckReport {
  // The model's requirements are about the network itself; NetworkPolicy restricts it on purpose.
  const net = given.policy ? new Network(given.state, { policies: false }) : given;
  const violations: Violation[] = [];
  const state = net.state;
  let traced = 0;
  const served = servedPorts(state);

  // 1. Unique addresses.
  const owners = new Map<IPv4, string>();
  const claim = (ip: IPv4 | undefined, who: string) => {
    if (ip === undefined) return;
    const prev = owners.get(ip);
    if (prev && prev !== who)
      violations.push({
        requirement: "unique-addresses",
        message: `${formatIPv4(ip)} belongs to both ${prev} and ${who}`,
      });
    else owners.set(ip, who);
  };
  for (const n of state.nodes) for (const ip of n.ips) claim(ip, `node ${n.name}`);
  for (const [ip, p] of net.podByIP) claim(ip, `pod ${p.metadata.namespace}/${p.metadata.name}`);
  for (const s of state.services) {
    for (const ip of s.spec.clusterIPs ?? [])
      if (ip !== "None") claim(parseIPv4(ip), `Service ${s.metadata.namespace}/${s.metadata.name}`);
  }
  // Pod address blocks (the plugin's IPAM: flannel's podCIDRs, Calico's blocks): sorted by base, an
  // overlap shows between neighbours (n log n, not pairs of nodes).
  const blocks = state.nodes
    .flatMap((n) => (state.podNetwork.blocks.get(n.name) ?? []).map((block) => ({ block, node: n })))
    .sort((x, y) => x.block.base - y.block.base);
  const plugin = pluginOf(state);
  const term = plugin.blockTerm ?? "pod address block";
  let reach = -1;
  let widest: (typeof blocks)[number] | undefined;
  for (const b of blocks) {
    if (widest && b.block.base <= reach && widest.node !== b.node)
      violations.push({
        requirement: "unique-addresses",
        message: `${term} ${b.block} of ${b.node.name} overlaps ${term} ${widest.block} of ${widest.node.name}`,
      });
    if (b.block.last > reach) {
      reach = b.block.last;
      widest = b;
    }
  }

  // A pod outside its node's blocks: the node's routes do not lead to it. podnet's own network adds a
  // host route for it on every node (so traces reach it), but a plugin that routes only blocks (flannel)
  // does not; one that routes such addresses itself (Calico's borrowed /32s) needs no report.
  if (!plugin.routesBorrowedAddresses)
    for (const [ip, node] of net.strayPods) {
      const p = net.podByIP.get(ip)!;
      const owner = net.podCIDROwner(ip);
      const own = state.podNetwork.blocks.get(node.name) ?? [];
      const where = `${term}${own.length === 1 ? "" : "s"} ${own.join(", ") || "(none)"}`;
      violations.push({
        requirement: "pod-in-node-range",
        message: `pod ${p.metadata.namespace}/${p.metadata.name} has ${formatIPv4(ip)}, outside its node ${node.name}'s ${where}: other nodes route that address elsewhere${owner ? ` (to ${owner.name})` : ""} unless a host route is added`,
      });
    }

  // 2. Localhost between the containers of a pod.
  for (const p of net.podByIP.values()) {
    const seen = new Map<string, string>();
    for (const c of p.spec.containers) {
      for (const port of c.ports ?? []) {
        const key = `${port.containerPort}/${port.protocol ?? "TCP"}`;
        const other = seen.get(key);
        if (other && other !== c.name) {
          violations.push({
            requirement: "localhost",
            message: `pod ${p.metadata.namespace}/${p.metadata.name}: containers ${other} and ${c.name} both open ${key}; only one can bind it on the pod's shared localhost`,
          });
        }
        seen.set(key, c.name);
      }
    }
  }

  // 3 and 4. Reachability.
  const podsOn = new Map<string, Pod[]>();
  for (const p of net.podByIP.values()) {
    const list = podsOn.get(p.spec.nodeName!) ?? [];
    list.push(p);
    podsOn.set(p.spec.nodeName!, list);
  }
  const withPods = state.nodes.filter((n) => podsOn.has(n.name));
  const maxPairs = opts.maxNodePairs ?? 40_000;
  const full = state.nodes.length * state.nodes.length <= maxPairs;
  const sample = full
    ? state.nodes.length
    : Math.max(1, Math.floor(maxPairs / Math.max(1, state.nodes.length)));
  const partners = (n: NodeState, pool: NodeState[]) => {
    if (full) return pool;
    const start = fnv32a(n.name) % pool.length;
    return Array.from(
      { length: Math.min(sample, pool.length) },
      (_, k) => pool[(start + k * 7919) % pool.length],
    );
  };

  const pairsTraced = new Set<string>();
  const podToPod = (src: Pod, dst: Pod) => {
    // The node-pair sample and the per-pod sweep may pick the same pair: traced once.
    const pair = `${name(src)} ${name(dst)}`;
    if (pairsTraced.has(pair)) return;
    pairsTraced.add(pair);
    traced++;
    const dstIP = parseIPv4(dst.status!.podIP!)!;
    const r = trace(net, {
      source: { kind: "pod", pod: src },
      dst: dstIP,
      dport: firstPort(served, dst),
      protocol: "TCP",
    });
    const reached = r.verdict === "delivered" || r.verdict === "arrived";
    const lastAt = r.hops.at(-1)?.at;
    const arrived = reached && lastAt === `pod ${dst.metadata.namespace}/${dst.metadata.name}`;
    if (!arrived) {
      violations.push({
        requirement: "pod-to-pod",
        message: `pod ${name(src)} cannot reach pod ${name(dst)} at ${dst.status!.podIP}: ${r.reason}`,
        path: hopsOf(r),
      });
      return;
    }
    const seen = r.hops.at(-1)!.packet.src;
    if (seen !== src.status!.podIP) {
      violations.push({
        requirement: "pod-to-pod",
        message: `pod ${name(dst)} sees pod ${name(src)} as ${seen}, not its own IP ${src.status!.podIP} (NAT on the way)`,
        path: hopsOf(r),
      });
    }
  };
  const nodeToPod = (node: NodeState, dst: Pod) => {
    traced++;
    const r = trace(net, {
      source: { kind: "node", node },
      dst: parseIPv4(dst.status!.podIP!)!,
      dport: firstPort(served, dst),
      protocol: "TCP",
    });
    const arrived =
      (r.verdict === "delivered" || r.verdict === "arrived") && r.hops.at(-1)?.at === `pod ${name(dst)}`;
    if (!arrived)
      violations.push({
        requirement: "node-to-pod",
        message: `node ${node.name} cannot reach pod ${name(dst)} at ${dst.status!.podIP}: ${r.reason}`,
        path: hopsOf(r),
      });
  };

  for (const a of withPods) {
    const srcPod = podsOn.get(a.name)![0];
    for (const b of partners(a, withPods)) if (b !== a) podToPod(srcPod, podsOn.get(b.name)![0]);
  }
  for (const a of state.nodes) {
    for (const b of partners(a, withPods)) nodeToPod(a, podsOn.get(b.name)![0]);
  }
  withPods.forEach((n, i) => {
    const remote = withPods.length > 1 ? withPods[(i + 1) % withPods.length] : undefined;
    const pods = podsOn.get(n.name)!;
    for (const dst of pods) {
      if (remote) podToPod(podsOn.get(remote.name)![0], dst);
      if (pods.length > 1) podToPod(pods[0] === dst ? pods[1] : pods[0], dst);
      nodeToPod(n, dst);
    }
  });

  const fromNodes =
    state.nodes.length > 1 ? "from its own node and from another" : "from its node (the only one)";
  const coverage =
    withPods.length < 2
      ? `every pod (${net.podByIP.size}) as a destination ${fromNodes}${withPods.length === 1 ? ", on the one node with pods" : ""}`
      : full
        ? `every ordered pair of the ${withPods.length} nodes with pods, and every pod (${net.podByIP.size}) as a destination ${fromNodes}`
        : `each of ${state.nodes.length} nodes against ${sample} others (deterministic sample), and every pod (${net.podByIP.size}) as a destination ${fromNodes}`;
  return { violations, traced, coverage };
}

/** The first TCP port known to be served on the pod (declared first, then a Service's), else 9. */
function firstPort(served: ServedPorts, p: Pod): number {
  return served.of(p).find((x) => x.protocol === "TCP")?.port ?? 9;
}

function name(p: Pod): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}

function hopsOf(r: TraceResult): string[] {
  return r.hops.map((h) => `${h.at}${h.device ? ` ${h.device}` : ""}: ${h.detail}`);
}
