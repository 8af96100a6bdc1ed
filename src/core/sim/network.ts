/**
 * A resolved cluster indexed for packet simulation: pods and nodes by address, the node owning each
 * podCIDR (binary search over sorted blocks), the Service proxy, and per-hop routing that answers
 * exactly what the device view (graph/devices.ts) lists — without materialising a node's routes to
 * every other node. Built once per cluster; a trace then costs only its own hops.
 */
import type { ClusterState, NodeState } from "../control/state.ts";
import {
  BRIDGE,
  gatewayOf,
  IPIP_DEVICE,
  nodeAddresses,
  podNamespace,
  type Route,
  tunnelAddressOf,
  VXLAN_DEVICE,
} from "../graph/devices.ts";
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

export class Network {
  /** The Service frontends and endpoints (what kube-proxy knows). */
  readonly proxy: ServiceProxy;
  /** What decides a packet's fate at kube-proxy's hooks (see NetworkOptions). */
  readonly decider: ProxyDecider;
  /** NetworkPolicy, or undefined when switched off. */
  readonly policy: PolicyEngine | undefined;
  readonly nodeByName = new Map<string, NodeState>();
  /**
   * Nodes by every address on their interfaces (`NodeState.ips`: primary, further InternalIPs,
   * ExternalIPs that are not a provider's NAT), plus their cni0 and tunnel addresses.
   */
  readonly nodeByIP = new Map<IPv4, NodeState>();
  /** Running pods with their own network namespace, by IP. */
  readonly podByIP = new Map<IPv4, Pod>();
  readonly podByName = new Map<string, Pod>();
  /** Pod IPs given outside their node's podCIDR: each needs a host route on every node. */
  readonly strayPods = new Map<IPv4, NodeState>();
  readonly #blocks: { base: number; last: number; node: NodeState }[];

  constructor(
    readonly state: ClusterState,
    opts: NetworkOptions = {},
  ) {
    for (const n of state.nodes) {
      this.nodeByName.set(n.name, n);
    }
    // Device addresses (cni0, tunnel) first, so that an address given twice stays with its node's eth0.
    for (const n of state.nodes)
      for (const ip of nodeAddresses(state.config.cni, n).slice(n.ips.length)) this.nodeByIP.set(ip, n);
    for (const n of state.nodes) for (const ip of n.ips) this.nodeByIP.set(ip, n);
    for (const p of state.pods) {
      this.podByName.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
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
      const node = p.spec.nodeName ? this.nodeByName.get(p.spec.nodeName) : undefined;
      if (node && !node.podCIDR.contains(ip)) this.strayPods.set(ip, node);
    }
    this.#blocks = state.nodes
      .map((n) => ({ base: n.podCIDR.base, last: n.podCIDR.last, node: n }))
      .sort((a, b) => a.base - b.base);
    this.proxy = new ServiceProxy(state);
    this.policy = opts.policies === false ? undefined : new PolicyEngine(state);
    this.decider =
      opts.proxy === "rules"
        ? new RuleProxy(state, this.proxy, (node, ip) => this.isNodeAddress(node, ip))
        : this.proxy;
  }

  nodeOf(pod: Pod): NodeState | undefined {
    return pod.spec.nodeName ? this.nodeByName.get(pod.spec.nodeName) : undefined;
  }

  /** The node whose podCIDR holds `ip` (binary search). */
  podCIDROwner(ip: IPv4): NodeState | undefined {
    let lo = 0;
    let hi = this.#blocks.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = this.#blocks[mid];
      if (ip < b.base) hi = mid - 1;
      else if (ip > b.last) lo = mid + 1;
      else return b.node;
    }
    return undefined;
  }

  /**
   * Whether `ip` is local to the node's root namespace (netfilter's `fib daddr type local`): loopback,
   * every address of eth0 (all the node's InternalIPs and on-interface ExternalIPs), cni0's, the tunnel
   * device's. One map look-up.
   */
  isNodeAddress(node: NodeState, ip: IPv4): boolean {
    return ip >>> 24 === 127 || this.nodeByIP.get(ip) === node;
  }

  /** The route a node's root namespace uses for `dst` (the longest-prefix match of its table). */
  nodeRoute(node: NodeState, dst: IPv4): Route {
    const cfg = this.state.config;
    const stray = this.strayPods.get(dst);
    if (stray === node) return { dst: Cidr.of(dst, 32), dev: BRIDGE, scopeLink: true };
    if (stray) return this.#toNode(stray, Cidr.of(dst, 32));
    if (node.podCIDR.contains(dst))
      return { dst: node.podCIDR, dev: BRIDGE, scopeLink: true, src: gatewayOf(node) };
    const owner = this.podCIDROwner(dst);
    if (owner && owner !== node) return this.#toNode(owner, owner.podCIDR);
    const underlay = cfg.nodeNetwork.contains(node.ip) ? cfg.nodeNetwork : Cidr.of(node.ip, 32);
    if (underlay.contains(dst)) return { dst: underlay, dev: "eth0", scopeLink: true, src: node.ip };
    return { dst: "default", via: underlay.prefix < 31 ? underlay.nth(1) : undefined, dev: "eth0" };
  }

  #toNode(owner: NodeState, dst: Cidr): Route {
    switch (this.state.config.cni) {
      case "vxlan":
        return { dst, via: tunnelAddressOf(owner), dev: VXLAN_DEVICE, onlink: true };
      case "ipip":
        return { dst, via: owner.ip, dev: IPIP_DEVICE, onlink: true };
      default:
        return { dst, via: owner.ip, dev: "eth0" };
    }
  }

  /** The route a pod's namespace uses for `dst`. */
  podRoute(node: NodeState, pod: Pod, dst: IPv4): Route {
    const ns = podNamespace(this.state, node, pod);
    return ns.routes.find((r) => r.dst === "default" || r.dst.contains(dst))!;
  }

  /** The address a device of a node's root namespace carries (the source masquerade picks). */
  deviceAddress(node: NodeState, dev: string): IPv4 {
    if (dev === BRIDGE) return gatewayOf(node);
    if (dev === VXLAN_DEVICE || dev === IPIP_DEVICE) return tunnelAddressOf(node);
    return node.ip;
  }
}
