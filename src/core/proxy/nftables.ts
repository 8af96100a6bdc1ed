/**
 * The ruleset kube-proxy's nftables mode installs on one node, rendered as `nft -f` input: table
 * `ip kube-proxy` with the same base chains, jump chains, sets, verdict maps, per-service and
 * per-endpoint chains, and the same chain names (`service-<HASH>-ns/name/proto/port`, where HASH is
 * the first 8 base32 characters of the SHA-256 of the name, as kube-proxy computes it).
 *
 * Priorities are written as numbers (dstnat = -100, srcnat = 100): nft before 1.0.7 accepts the name
 * `dstnat` only on the prerouting hook, and the kernel stores the number either way.
 *
 *   filter-prerouting  (filter, prerouting, dstnat-10)  ct state new jump firewall-check
 *   filter-input       (filter, input, dstnat-10)       ct state new jump nodeport-endpoints-check / service-endpoints-check
 *   filter-forward     (filter, forward, dstnat-10)     ct state new jump service-endpoints-check / cluster-ips-check
 *   filter-output      (filter, output, dstnat-10)      ct state new jump service-endpoints-check / firewall-check
 *   filter-output-post-dnat (filter, output, dstnat+10) ct state new jump cluster-ips-check
 *   nat-prerouting / nat-output (nat, dstnat)           jump services
 *   nat-postrouting    (nat, postrouting, srcnat)       jump masquerading
 *
 * The decisions are the ones src/core/proxy/service-proxy.ts makes; here they are written as rules,
 * so a tracer over this text (nft-eval.ts) can check the two against each other.
 */
import type { ClusterState, NodeState } from "../control/state.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import { type BaseChainSpec, type ChainSpec, renderTable, type SetSpec } from "../nft/render.ts";
import { endpointChainBase, servicePortChainBase } from "./chain-names.ts";
import { categorize, type EndpointInfo, type ServicePortInfo, ServiceProxy } from "./service-proxy.ts";

export const MASQUERADE_MARK = "0x004000";

type Chain = ChainSpec;

/** A base chain of kube-proxy's table, `policy accept` as all of them. */
const baseChain = (type: "filter" | "nat", hook: BaseChainSpec["hook"], priority: number): BaseChainSpec => ({
  type,
  hook,
  priority,
  policy: "accept",
});

/** The node's ruleset as `nft -f` text. */
export function renderNftables(
  state: ClusterState,
  node: NodeState,
  proxy = new ServiceProxy(state),
): string {
  const cfg = state.config;
  const proto = (i: ServicePortInfo) => i.protocol.toLowerCase();
  const clusterCIDR = cfg.clusterCIDR.toString();
  const nodePortIPs = proxy.nodePortIPs(node);
  const matchAll = nodePortIPs === "all";
  const nodePortMatch = matchAll ? "fib daddr type local ip daddr != 127.0.0.0/8" : "ip daddr @nodeport-ips";

  const sets = {
    clusterIPs: new Set<string>(),
    noEndpointServices: [] as string[],
    noEndpointNodePorts: [] as string[],
    firewallIPs: [] as string[],
    serviceIPs: [] as string[],
    serviceNodePorts: [] as string[],
  };
  const chains: Chain[] = [
    {
      name: "filter-prerouting",
      base: baseChain("filter", "prerouting", -110),
      rules: ["ct state new jump firewall-check"],
    },
    {
      name: "filter-input",
      base: baseChain("filter", "input", -110),
      rules: ["ct state new jump nodeport-endpoints-check", "ct state new jump service-endpoints-check"],
    },
    {
      name: "filter-forward",
      base: baseChain("filter", "forward", -110),
      rules: ["ct state new jump service-endpoints-check", "ct state new jump cluster-ips-check"],
    },
    {
      name: "filter-output",
      base: baseChain("filter", "output", -110),
      rules: ["ct state new jump service-endpoints-check", "ct state new jump firewall-check"],
    },
    {
      name: "filter-output-post-dnat",
      base: baseChain("filter", "output", -90),
      rules: ["ct state new jump cluster-ips-check"],
    },
    {
      name: "nat-prerouting",
      base: baseChain("nat", "prerouting", -100),
      rules: ["jump services"],
    },
    {
      name: "nat-output",
      base: baseChain("nat", "output", -100),
      rules: ["jump services"],
    },
    {
      name: "nat-postrouting",
      base: baseChain("nat", "postrouting", 100),
      rules: ["jump masquerading"],
    },
    {
      name: "nodeport-endpoints-check",
      rules: [`${nodePortMatch} meta l4proto . th dport vmap @no-endpoint-nodeports`],
    },
    {
      name: "service-endpoints-check",
      rules: ["ip daddr . meta l4proto . th dport vmap @no-endpoint-services"],
    },
    { name: "firewall-check", rules: ["ip daddr . meta l4proto . th dport vmap @firewall-ips"] },
    {
      name: "services",
      rules: [
        "ip daddr . meta l4proto . th dport vmap @service-ips",
        `${nodePortMatch} meta l4proto . th dport vmap @service-nodeports`,
      ],
    },
    {
      name: "cluster-ips-check",
      rules: [
        'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
        `ip daddr { ${cfg.serviceCIDR} } drop comment "Drop traffic to unallocated ClusterIPs"`,
      ],
    },
    {
      name: "masquerading",
      rules: [
        `meta mark & ${MASQUERADE_MARK} == 0 return`,
        `meta mark set meta mark ^ ${MASQUERADE_MARK}`,
        "masquerade fully-random",
      ],
    },
    { name: "mark-for-masquerade", rules: [`meta mark set meta mark | ${MASQUERADE_MARK}`] },
    {
      name: "reject-chain",
      comment: "helper for @no-endpoint-services / @no-endpoint-nodeports",
      rules: ["reject"],
    },
  ];
  const serviceChains: Chain[] = [];
  // By name too: a Service's chains are looked up as its ports are added (10,000 Services: 20,000 chains).
  const serviceChainByName = new Map<string, Chain>();
  const addServiceChain = (c: Chain) => {
    serviceChains.push(c);
    serviceChainByName.set(c.name, c);
  };
  const endpointChains = new Map<string, Chain>();
  const endpointChain = (info: ServicePortInfo, ep: EndpointInfo): string => {
    const name = `endpoint-${endpointChainBase(info, ep)}`;
    if (!endpointChains.has(name)) {
      const rules = [`ip saddr ${formatIPv4(ep.ip)} jump mark-for-masquerade`];
      if (info.affinity) rules.push(`update @affinity-${endpointChainBase(info, ep)} { ip saddr }`);
      rules.push(`meta l4proto ${proto(info)} dnat to ${formatIPv4(ep.ip)}:${ep.port}`);
      endpointChains.set(name, { name, rules });
    }
    return name;
  };
  const affinitySets: SetSpec[] = [];
  const toEndpoints = (info: ServicePortInfo, chain: string, eps: EndpointInfo[]) => {
    const rules: string[] = [];
    if (info.affinity)
      for (const ep of eps)
        rules.push(`ip saddr @affinity-${endpointChainBase(info, ep)} goto ${endpointChain(info, ep)}`);
    // One endpoint: a plain goto, as kube-proxy does since kubernetes/kubernetes#140723. Every numgen vmap is an
    // anonymous set, and binding one costs the kernel a walk of the whole transaction, so 10,000 of
    // them made a full sync take seconds instead of one.
    if (eps.length === 1) rules.push(`goto ${endpointChain(info, eps[0])}`);
    else
      rules.push(
        `numgen random mod ${eps.length} vmap { ${eps.map((ep, i) => `${i} : goto ${endpointChain(info, ep)}`).join(", ")} }`,
      );
    return { name: chain, rules };
  };

  for (const info of proxy.ports) {
    const key = (ip: number) => `${formatIPv4(ip)} . ${proto(info)} . ${info.port.port}`;
    const comment = `comment "${info.name}"`;
    const base = servicePortChainBase(info);
    const clusterChain = `service-${base}`;
    const localChain = `local-${base}`;
    const externalChain = `external-${base}`;
    const { cluster, local } = categorize(info.endpoints, node.name);
    const hasEndpoints = cluster.length > 0;
    const hasInternal = hasEndpoints && (!info.internalLocal || local.length > 0);
    const hasExternal = hasEndpoints && (!info.externalLocal || local.length > 0);
    const externallyAccessible =
      info.externalIPs.length > 0 || info.lbIPs.length > 0 || info.nodePort !== undefined;
    const internalVerdict = !hasEndpoints ? "goto reject-chain" : "drop";
    const externalVerdict = !hasEndpoints ? "goto reject-chain" : "drop";
    const internalChain = info.internalLocal ? localChain : clusterChain;
    const externalPolicyChain = info.externalLocal ? localChain : clusterChain;
    if (info.clusterIP !== undefined) sets.clusterIPs.add(formatIPv4(info.clusterIP));

    if (info.clusterIP !== undefined) {
      if (hasInternal) sets.serviceIPs.push(`${key(info.clusterIP)} : goto ${internalChain}`);
      else sets.noEndpointServices.push(`${key(info.clusterIP)} ${comment} : ${internalVerdict}`);
    }
    for (const ip of info.externalIPs) {
      if (hasEndpoints) sets.serviceIPs.push(`${key(ip)} : goto ${externalChain}`);
      if (!hasExternal) sets.noEndpointServices.push(`${key(ip)} ${comment} : ${externalVerdict}`);
    }
    const usesFirewall = info.lbIPs.length > 0 && info.sourceRanges.length > 0;
    if (usesFirewall) {
      const sources = info.sourceRanges.map(String);
      if (info.sourceRanges.some((r) => r.contains(node.ip))) sources.push(...info.lbIPs.map(formatIPv4));
      addServiceChain({ name: `firewall-${base}`, rules: [`ip saddr != { ${sources.join(", ")} } drop`] });
    }
    for (const ip of info.lbIPs) {
      if (hasEndpoints) sets.serviceIPs.push(`${key(ip)} : goto ${externalChain}`);
      if (usesFirewall) sets.firewallIPs.push(`${key(ip)} ${comment} : goto firewall-${base}`);
    }
    if (!hasExternal)
      for (const ip of info.lbIPs) sets.noEndpointServices.push(`${key(ip)} ${comment} : ${externalVerdict}`);
    if (info.nodePort !== undefined) {
      if (hasEndpoints)
        sets.serviceNodePorts.push(`${proto(info)} . ${info.nodePort} : goto ${externalChain}`);
      if (!hasExternal)
        sets.noEndpointNodePorts.push(`${proto(info)} . ${info.nodePort} ${comment} : ${externalVerdict}`);
    }

    if (hasInternal && info.clusterIP !== undefined) {
      // Masquerade off-cluster traffic to the ClusterIP (kube-proxy's local detector: clusterCIDR).
      const chain = serviceChainByName.get(internalChain);
      const rule = `ip daddr ${formatIPv4(info.clusterIP)} ${proto(info)} dport ${info.port.port} ip saddr != ${clusterCIDR} jump mark-for-masquerade`;
      if (chain) chain.rules.unshift(rule);
      else addServiceChain({ name: internalChain, rules: [rule] });
    }
    if (hasEndpoints && externallyAccessible) {
      const rules: string[] = [];
      if (!info.externalLocal) rules.push("jump mark-for-masquerade");
      else {
        rules.push(`ip saddr ${clusterCIDR} goto ${clusterChain} comment "short-circuit pod traffic"`);
        rules.push('fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"');
        rules.push(`fib saddr type local goto ${clusterChain} comment "short-circuit local traffic"`);
      }
      if (hasExternal) rules.push(`goto ${externalPolicyChain}`);
      addServiceChain({ name: externalChain, rules });
    }
    if (info.affinity) {
      const timeout = info.service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800;
      for (const ep of cluster)
        affinitySets.push({
          kind: "set",
          name: `affinity-${endpointChainBase(info, ep)}`,
          type: "ipv4_addr",
          flags: ["dynamic", "timeout"],
          timeoutSeconds: timeout,
          elements: [],
        });
    }
    const usesCluster =
      cluster.length > 0 &&
      (!info.internalLocal ||
        (externallyAccessible && !info.externalLocal) ||
        (externallyAccessible && info.externalLocal));
    const usesLocal =
      local.length > 0 && (info.internalLocal || (externallyAccessible && info.externalLocal));
    const append = (name: string, eps: EndpointInfo[]) => {
      const built = toEndpoints(info, name, eps);
      const chain = serviceChainByName.get(name);
      if (chain) chain.rules.push(...built.rules);
      else addServiceChain(built);
    };
    if (usesCluster) append(clusterChain, cluster);
    if (usesLocal) append(localChain, local);
  }

  const set = (name: string, comment: string, elements: string[]): SetSpec => ({
    kind: "set",
    name,
    type: "ipv4_addr",
    comment,
    elements,
  });
  const map = (name: string, type: string, comment: string, elements: string[]): SetSpec => ({
    kind: "map",
    name,
    type,
    comment,
    elements,
  });
  return renderTable({
    family: "ip",
    name: "kube-proxy",
    comment: "rules for kube-proxy",
    sets: [
      set("cluster-ips", "Active ClusterIPs", [...sets.clusterIPs]),
      ...(matchAll
        ? []
        : [set("nodeport-ips", "IPs that accept NodePort traffic", nodePortIPs.map(formatIPv4))]),
      ...affinitySets,
      map(
        "no-endpoint-services",
        "ipv4_addr . inet_proto . inet_service : verdict",
        "vmap to drop or reject packets to services with no endpoints",
        sets.noEndpointServices,
      ),
      map(
        "no-endpoint-nodeports",
        "inet_proto . inet_service : verdict",
        "vmap to drop or reject packets to service nodeports with no endpoints",
        sets.noEndpointNodePorts,
      ),
      map(
        "firewall-ips",
        "ipv4_addr . inet_proto . inet_service : verdict",
        "destinations that are subject to LoadBalancerSourceRanges",
        sets.firewallIPs,
      ),
      map(
        "service-ips",
        "ipv4_addr . inet_proto . inet_service : verdict",
        "ClusterIP, ExternalIP and LoadBalancer IP traffic",
        sets.serviceIPs,
      ),
      map(
        "service-nodeports",
        "inet_proto . inet_service : verdict",
        "NodePort traffic",
        sets.serviceNodePorts,
      ),
    ],
    chains: [...chains, ...serviceChains.sort(byName), ...[...endpointChains.values()].sort(byName)],
  });
}

function byName(a: Chain, b: Chain): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
