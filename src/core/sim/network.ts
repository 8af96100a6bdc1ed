/**
 * A resolved cluster indexed for packet simulation: pods and nodes by address, the node owning each
 * pod address block (binary search over every node's blocks, `ClusterState.podNetwork`), the Service
 * proxy, and per-hop routing that answers exactly what the device view (graph/devices.ts, built by
 * the network plugin) lists — without materialising a node's routes to every other node. Built once
 * per cluster; a trace then costs only its own hops.
 */
import {
  type NetworkPlugin,
  type PodAddressOwner,
  type PodFacts,
  type PodNetworkIndex,
  podBlockIndex,
} from "../cni/plugin.ts";
import type { ClusterState, NodeState } from "../control/state.ts";
import { pluginOf, type Route, underlayRoute } from "../graph/devices.ts";
import { macFor } from "../graph/namespace.ts";
import type { Pod } from "../model/k8s.ts";
import { Cidr, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import { PolicyEngine } from "../policy/netpol.ts";
import { type ProxyDecider, RuleProxy } from "../proxy/rule-proxy.ts";
import { ServiceProxy } from "../proxy/service-proxy.ts";

export interface NetworkOptions {
  /**
   * Who answers kube-proxy's questions in traces: the model of its decisions (default) or the
   * nftables rules podnet renders, evaluated rule by rule.
   */
  proxy?: "model" | "rules";
  /** Evaluate NetworkPolicies in traces (default true). */
  policies?: boolean;
}

export class Network implements PodNetworkIndex {
  /** The cluster's network plugin (../cni/plugin.ts): routes, devices and hops are its. */
  readonly plugin: NetworkPlugin;
  /** The Service frontends and endpoints (what kube-proxy knows). */
  readonly proxy: ServiceProxy;
  /** What decides a packet's fate at kube-proxy's hooks (see NetworkOptions). */
  readonly decider: ProxyDecider;
  /** NetworkPolicy, or undefined when switched off. */
  readonly policy: PolicyEngine | undefined;
  readonly nodeByName = new Map<string, NodeState>();
  /**
   * Nodes by every address on their interfaces (`NodeState.ips`: primary, further InternalIPs,
   * ExternalIPs that are not a provider's NAT), plus their plugin devices' addresses (cni0, tunnels).
   */
  readonly nodeByIP = new Map<IPv4, NodeState>();
  /** Running pods with their own network namespace, by IP. */
  readonly podByIP = new Map<IPv4, Pod>();
  readonly podByName = new Map<string, Pod>();
  /**
   * Pod IPs outside every block of their node (given in the input, or borrowed from another node's
   * block): each is routed to its node by a /32 of its own, on every node.
   */
  readonly strayPods = new Map<IPv4, NodeState>();
  /**
   * Host-network pods by node name, in the cluster's pod order: who may serve a port on a node's own
   * addresses (the tracer's delivery to a node looked through every pod of the cluster for them).
   */
  readonly hostNetworkPods = new Map<string, Pod[]>();
  /** `PodFacts` of every pod in `podByIP`, computed here once (see `podFacts`). */
  readonly #facts = new Map<Pod, PodFacts>();
  readonly #blockAt: (ip: IPv4) => { readonly block: Cidr; readonly node: NodeState } | undefined;

  constructor(
    readonly state: ClusterState,
    opts: NetworkOptions = {},
  ) {
    this.plugin = pluginOf(state);
    for (const n of state.nodes) {
      this.nodeByName.set(n.name, n);
    }
    // Device addresses (cni0, tunnel) first, so that an address given twice stays with its node's eth0.
    for (const n of state.nodes)
      for (const ip of this.plugin.nodeAddresses(state, n)) this.nodeByIP.set(ip, n);
    for (const n of state.nodes) for (const ip of n.ips) this.nodeByIP.set(ip, n);
    for (const p of state.pods) {
      this.podByName.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
      if (p.spec.hostNetwork && p.spec.nodeName) {
        const list = this.hostNetworkPods.get(p.spec.nodeName);
        if (list) list.push(p);
        else this.hostNetworkPods.set(p.spec.nodeName, [p]);
      }
      if (
        p.spec.hostNetwork ||
        !p.status?.podIP ||
        p.status.phase === "Succeeded" ||
        p.status.phase === "Failed"
      )
        continue;
      const ip = parseIPv4(p.status.podIP);
      if (ip === undefined) continue;
      this.podByIP.set(ip, p);
      this.#facts.set(p, this.#factsOf(p, ip));
      const node = p.spec.nodeName ? this.nodeByName.get(p.spec.nodeName) : undefined;
      if (node && !this.#inBlocks(node, ip)) this.strayPods.set(ip, node);
    }
    this.#blockAt = podBlockIndex(state.podNetwork, (name) => this.nodeByName.get(name));
    this.proxy = new ServiceProxy(state);
    this.policy = opts.policies === false ? undefined : new PolicyEngine(state);
    this.decider =
      opts.proxy === "rules"
        ? new RuleProxy(state, this.proxy, (node, ip) => this.isNodeAddress(node, ip))
        : this.proxy;
  }

  /**
   * What a trace names a pod by at every hop: its address as a number, `namespace/name`, the host
   * side of its link, its MAC. Computed for every running pod with its own network namespace when the
   * index is built (a few hundred ms at 150,000 pods), so no trace parses, hashes or formats them
   * again; any other pod (the plugin's methods are called for running pods only, so only a caller
   * outside them) gets them computed on the spot.
   */
  podFacts(pod: Pod): PodFacts {
    return this.#facts.get(pod) ?? this.#factsOf(pod, parseIPv4(pod.status?.podIP ?? "") ?? 0);
  }

  #factsOf(pod: Pod, ip: IPv4): PodFacts {
    return {
      ip,
      name: `${pod.metadata.namespace}/${pod.metadata.name}`,
      hostInterface: this.plugin.hostInterfaceName(pod),
      mac: macFor(ip),
    };
  }

  nodeOf(pod: Pod): NodeState | undefined {
    return pod.spec.nodeName ? this.nodeByName.get(pod.spec.nodeName) : undefined;
  }

  /** The pod address blocks of a node (the IPAM's; none for a node the IPAM never saw). */
  #blocksOf(node: NodeState): readonly Cidr[] {
    return this.state.podNetwork.blocks.get(node.name) ?? [];
  }

  #inBlocks(node: NodeState, ip: IPv4): boolean {
    for (const b of this.#blocksOf(node)) if (b.contains(ip)) return true;
    return false;
  }

  /** The block holding `ip` and its node (binary search over every node's blocks). */
  blockOwner(ip: IPv4): { readonly block: Cidr; readonly node: NodeState } | undefined {
    return this.#blockAt(ip);
  }

  /** The node whose pod address blocks hold `ip` (binary search). */
  podCIDROwner(ip: IPv4): NodeState | undefined {
    return this.blockOwner(ip)?.node;
  }

  /** Where a pod address is routed: a stray pod's /32 to its node, else the block holding it. */
  podAddressOwner(ip: IPv4): PodAddressOwner | undefined {
    const stray = this.strayPods.get(ip);
    if (stray) return { node: stray, dst: Cidr.of(ip, 32) };
    const b = this.blockOwner(ip);
    return b ? { node: b.node, dst: b.block } : undefined;
  }

  /**
   * Whether `ip` is local to the node's root namespace (netfilter's `fib daddr type local`): loopback,
   * every address of eth0 (all the node's InternalIPs and on-interface ExternalIPs), cni0's, the tunnel
   * device's — and the Service addresses the proxy mode binds to every node (IPVS: kube-ipvs0). One
   * or two map look-ups.
   */
  isNodeAddress(node: NodeState, ip: IPv4): boolean {
    return ip >>> 24 === 127 || this.nodeByIP.get(ip) === node || this.proxy.isBoundAddress(node, ip);
  }

  /**
   * The route a node's root namespace uses for `dst` (the longest-prefix match of its table): the
   * plugin's route for a pod address, else the underlay's.
   */
  nodeRoute(node: NodeState, dst: IPv4): Route {
    return (
      this.plugin.routeTo(this, node, dst, this.podAddressOwner(dst)) ?? underlayRoute(this.state, node, dst)
    );
  }

  /** The route a pod's namespace uses for `dst`. */
  podRoute(node: NodeState, pod: Pod, dst: IPv4): Route {
    const routes = this.plugin.podRoutes(this.state, node, this.podFacts(pod).ip);
    return routes.find((r) => r.dst === "default" || r.dst.contains(dst))!;
  }

  /** The address a device of a node's root namespace carries (the source masquerade picks). */
  deviceAddress(node: NodeState, dev: string): IPv4 {
    return this.plugin.deviceAddress(this.state, node, dev) ?? node.ip;
  }
}
