/**
 * kube-proxy's iptables mode (kubernetes pkg/proxy/iptables): the `filter` and `nat` tables'
 * KUBE-* chains, Services dispatched from KUBE-SERVICES and KUBE-NODEPORTS to KUBE-SVC-, KUBE-SVL-,
 * KUBE-EXT- and KUBE-FW-<hash> chains, endpoints chosen by `-m statistic` runs of KUBE-SEP-<hash>
 * jumps, session affinity with `-m recent`. Rendered by ../iptables.ts as `iptables-save` text, read
 * back by ../ipt-eval.ts, loaded with `iptables-restore`.
 */
import { Cidr, parseIPv4 } from "../../net/ipv4.ts";
import { IptEvaluator, parseIptablesSave } from "../ipt-eval.ts";
import { iptablesChains, renderIptables } from "../iptables.ts";
import type { ProxyMode } from "./mode.ts";

export const iptablesMode: ProxyMode = {
  name: "iptables",
  rulesFormat: "iptables-save text",
  render: (state, node, proxy) => renderIptables(state, node, proxy),
  evaluator(text) {
    const tables = parseIptablesSave(text);
    const ev = new IptEvaluator(tables);
    return {
      runHook: (hook, p, out, pick) => ev.runHook(hook, p, out, pick),
      // `-m recent --set` in the endpoint chain: the client is remembered for the next connection.
      remembersClient: (chain) => (tables.get("nat")?.get(chain) ?? []).some((r) => r.args.includes("--set")),
    };
  },
  dispatchChains: (info) => Object.values(iptablesChains(info)),
  // The rules renderIptables writes (pkg/proxy/iptables/proxier.go syncProxyRules): nat KUBE-SERVICES
  // jumps a ClusterIP to KUBE-SVC- (KUBE-SVL- with internalTrafficPolicy Local), an external IP to
  // KUBE-EXT-, a load-balancer IP to KUBE-FW- when it has source ranges; KUBE-NODEPORTS to KUBE-EXT-.
  // Translation: the nat table's PREROUTING (pods and the wire) and OUTPUT (the node's own traffic)
  // jump to KUBE-SERVICES, where the dispatch below happens. Refusal: the filter table's rules,
  // which `describeRefusal` names with their chain.
  hookLabel: (hook, action) =>
    action === "refuse"
      ? "iptables"
      : `iptables nat ${hook === "output" ? "OUTPUT" : "PREROUTING"} → KUBE-SERVICES`,
  describeDispatch(info, frontend, vip, state) {
    const chains = iptablesChains(info);
    const proto = info.protocol.toLowerCase();
    const [ip, port] = vip.split(":");
    if (frontend === "nodePort") {
      // A nodePort is matched after every Service address failed: KUBE-SERVICES' last rule jumps a
      // local destination (every local address, or the nodePortAddresses' ones) to KUBE-NODEPORTS.
      const toNodePorts =
        state.config.kubeProxy.nodePortAddresses.length === 0
          ? "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"
          : `-d ${ip}/32 -j KUBE-NODEPORTS`;
      return `last rule: ${toNodePorts} → KUBE-NODEPORTS: -p ${proto} --dport ${port} -j ${chains.ext} (${info.name})`;
    }
    const target =
      frontend === "clusterIP"
        ? info.internalLocal
          ? chains.svl
          : chains.svc
        : frontend === "loadBalancer" && info.sourceRanges.length > 0
          ? chains.fw
          : chains.ext;
    return `-d ${ip}/32 -p ${proto} --dport ${port} -j ${target} (${info.name})`;
  },
  // filter KUBE-SERVICES rejects a ClusterIP without (usable) endpoints, KUBE-EXTERNAL-SERVICES the
  // external frontends; KUBE-PROXY-FIREWALL drops load-balancer traffic from outside the source ranges.
  describeRefusal(verdict, info, frontend, vip) {
    const proto = info.protocol.toLowerCase();
    const [ip, port] = vip.split(":");
    if (verdict === "firewall")
      return `filter KUBE-PROXY-FIREWALL: -d ${ip}/32 -p ${proto} --dport ${port} -j DROP (source outside ${info.sourceRanges.join(", ")})`;
    const target = verdict === "reject" ? "REJECT --reject-with icmp-port-unreachable" : "DROP";
    if (frontend === "clusterIP")
      return `filter KUBE-SERVICES: -d ${ip}/32 -p ${proto} --dport ${port} -j ${target} (${info.name})`;
    if (frontend === "nodePort")
      return `filter KUBE-EXTERNAL-SERVICES: -p ${proto} -m addrtype --dst-type LOCAL --dport ${port} -j ${target} (${info.name})`;
    return `filter KUBE-EXTERNAL-SERVICES: -d ${ip}/32 -p ${proto} --dport ${port} -j ${target} (${info.name})`;
  },
  nodePortAddressesDefault: "all",
  localhostNodePorts: true,
  checksExternalEndpointsOnOutput: false,
  guardsServiceRange: false,
  dataplane: {
    tool: "iptables-restore",
    tables: ["filter", "nat"],
    sync: "changed-chains-noflush",
    // kube-proxy (cmd/kube-proxy, iptables mode): with localhost nodePorts on (the default,
    // --iptables-localhost-nodeports) and nodePortAddresses holding 127.0.0.1 (unset: every local
    // address), it sets route_localnet, so that a packet from 127.0.0.1 DNATed to a pod may leave the node.
    sysctls(state) {
      const npa = state.config.kubeProxy.nodePortAddresses;
      const holdsLoopback =
        npa.length === 0 ||
        npa.some((a) => {
          const r = Cidr.parse(a);
          return r.ok && r.cidr.contains(LOOPBACK);
        });
      return holdsLoopback ? [{ key: "net.ipv4.conf.all.route_localnet", value: "1" }] : [];
    },
  },
};

const LOOPBACK = parseIPv4("127.0.0.1")!;
