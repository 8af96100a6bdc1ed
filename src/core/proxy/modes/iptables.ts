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
