/**
 * kube-proxy's nftables mode (kubernetes pkg/proxy/nftables): one table `ip kube-proxy` per node,
 * Services dispatched through verdict maps (`service-ips`, `service-nodeports`), one chain per
 * Service port (`service-`, `local-`, `external-<HASH>-ns/name/proto/port`) and per endpoint
 * (`endpoint-…`), session affinity as a dynamic set per endpoint (`update @affinity-… { ip saddr }`).
 * Rendered by ../nftables.ts, read back by ../nft-eval.ts, loaded with `nft -f`.
 */
import { servicePortChainBase } from "../chain-names.ts";
import { NftEvaluator, parseRuleset } from "../nft-eval.ts";
import { renderNftables } from "../nftables.ts";
import type { ProxyMode } from "./mode.ts";

export const nftablesMode: ProxyMode = {
  name: "nftables",
  rulesFormat: "ruleset as nft -f input",
  render: (state, node, proxy) => renderNftables(state, node, proxy),
  evaluator(text) {
    const rs = parseRuleset(text);
    const ev = new NftEvaluator(rs);
    return {
      runHook: (hook, p, out, pick) => ev.runHook(hook, p, out, pick),
      remembersClient: (chain) =>
        !!rs.chains.get(chain)?.rules.some((r) => r.text.startsWith("update @affinity-")),
    };
  },
  dispatchChains(info) {
    const base = servicePortChainBase(info);
    return [`service-${base}`, `local-${base}`, `external-${base}`];
  },
  // Translation: the `nat-prerouting` (pods and the wire) and `nat-output` (the node's own traffic)
  // chains jump to `services`, whose verdict maps dispatch. Refusal: the filter chains' maps
  // (`no-endpoint-services`, `firewall-ips` …), which the decision's rule names.
  hookLabel: (hook, action) =>
    action === "refuse"
      ? "nftables"
      : `nftables nat-${hook === "output" ? "output" : "prerouting"} → services`,
  nodePortAddressesDefault: "primary",
  localhostNodePorts: false,
  checksExternalEndpointsOnOutput: true,
  guardsServiceRange: true,
  dataplane: { tool: "nft", tables: ["ip kube-proxy"], sync: "table-diff", sysctls: () => [] },
};
