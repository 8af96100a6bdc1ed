/**
 * kube-proxy's IPVS mode (kubernetes pkg/proxy/ipvs): every ClusterIP, externalIP and LB IP bound to
 * the `kube-ipvs0` dummy interface of every node, an IPVS virtual server per Service frontend with the
 * configured scheduler (`kubeProxy.ipvs.scheduler`, rr by default) and a real server per endpoint,
 * ClientIP affinity as persistence, and ipsets matched by a few iptables rules for masquerade,
 * nodePorts, the load-balancer firewall and the filter that rejects ports no Service defines on a
 * bound address. Rendered by ../ipvs/render.ts, read back by ../ipvs/eval.ts. This kernel has no
 * IPVS: the data plane refuses the mode (`dataplane.unsupported`); every other view works.
 */
import { IpvsEvaluator, parseIpvsState } from "../ipvs/eval.ts";
import { renderIpvs, virtualServerKey } from "../ipvs/render.ts";
import type { ProxyMode } from "./mode.ts";

export const ipvsMode: ProxyMode = {
  name: "ipvs",
  rulesFormat: "kube-ipvs0 addresses, ipvsadm -Sn, ipset save and iptables-save text",
  render: (state, node, proxy) => renderIpvs(state, node, proxy),
  evaluator: (text) => new IpvsEvaluator(parseIpvsState(text)),
  // The evaluator names a virtual server's Service port by the `# <name> <frontend>` line before it.
  dispatchChains: (info) => [info.name],
  // pkg/proxy/ipvs syncProxyRules: nodePortAddresses unset (MatchAll) means every local address but
  // kube-ipvs0's; loopback is never one (netlinkHandle.isValidForSet; GetNodeIPs filtered by !IsLoopback).
  nodePortAddressesDefault: "all",
  localhostNodePorts: false,
  // IPVS meets the node's own traffic at NF_INET_LOCAL_OUT: a virtual server without real servers
  // answers ICMP port unreachable there as anywhere (the kernel's ip_vs_leave).
  checksExternalEndpointsOnOutput: true,
  // No rule guards serviceCIDR: an unallocated address in it is routed as any other.
  guardsServiceRange: false,
  localPolicy: "local-else-cluster",
  bindsServiceAddresses: true,
  hookLabel: (hook) =>
    hook === "output"
      ? "IPVS at output (NF_INET_LOCAL_OUT: the virtual server's address is local to this node)"
      : "IPVS after routing, on input (the virtual server's address is local to this node: its own, or a Service address on kube-ipvs0)",
  describeDispatch(info, frontend, vip, state) {
    const [ip, port] = vip.split(":");
    const sched = state.config.kubeProxy.ipvs.scheduler;
    const persist = info.affinity
      ? ` -p ${info.service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800}`
      : "";
    const where = frontend === "clusterIP" ? "ClusterIP" : frontend;
    const by = info.affinity
      ? "persistence: the client address"
      : sched === "sh"
        ? "source hashing: the client address"
        : sched === "dh"
          ? "destination hashing: the virtual address"
          : `${sched} (podnet stands in a hash of the client address and port for it)`;
    return `${where} virtual server ${virtualServerKey(info.protocol, ip, Number(port))} -s ${sched}${persist} (${info.name}; the real server is picked by ${by})`;
  },
  // Source ranges (pkg/proxy/ipvs/proxier.go writeIptablesRules): KUBE-PROXY-FIREWALL sends a
  // KUBE-LOAD-BALANCER-FW member to KUBE-SOURCE-RANGES-FIREWALL, which drops what no source set returns.
  describeRefusal(verdict, info, frontend, vip) {
    if (verdict === "firewall")
      return `filter KUBE-PROXY-FIREWALL: -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGES-FIREWALL → -j DROP (${vip}: source outside ${info.sourceRanges.join(", ")})`;
    return `${frontend} ${vip} (${info.name}): ${verdict === "reject" ? "no real server, so IPVS answers ICMP port unreachable" : "dropped"}`;
  },
  pickKey(state, src, sport, vip, affinity) {
    const sched = state.config.kubeProxy.ipvs.scheduler;
    if (affinity || sched === "sh") return src; // persistence / source hashing: the client address
    if (sched === "dh") return vip.split(":")[0]; // destination hashing: the virtual address
    return `${src}:${sport}`;
  },
  dataplane: {
    tool: "iptables-restore",
    tables: ["filter", "nat"],
    sync: "changed-chains-noflush",
    unsupported: {
      reason:
        "proxyMode ipvs needs the kernel's IPVS (ip_vs and its schedulers) and ipset, which this machine's kernel does not have",
      fix: "set spec.proxyMode to nftables or iptables to build it; every other command (trace, rules, check, …) works on IPVS clusters",
    },
    sysctls: () => [],
  },
};
