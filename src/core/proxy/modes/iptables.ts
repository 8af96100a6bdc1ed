/**
 * kube-proxy's iptables mode (kubernetes pkg/proxy/iptables): the `filter` and `nat` tables'
 * KUBE-* chains, Services dispatched from KUBE-SERVICES and KUBE-NODEPORTS to KUBE-SVC-, KUBE-SVL-,
 * KUBE-EXT- and KUBE-FW-<hash> chains, endpoints chosen by `-m statistic` runs of KUBE-SEP-<hash>
 * jumps, session affinity with `-m recent`. Rendered by ../iptables.ts as `iptables-save` text, read
 * back by ../ipt-eval.ts, loaded with `iptables-restore`.
 */
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
  dataplane: { tool: "iptables-restore", tables: ["filter", "nat"], sync: "changed-chains-noflush" },
};
