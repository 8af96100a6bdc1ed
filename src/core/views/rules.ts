/**
 * The text of a node's kube-proxy rules, as `podnet rules --node` prints it: the proxy mode's own
 * rendering (nftables ruleset or iptables-save text), from the mode registry.
 */
import type { ClusterState, NodeState } from "../control/state.ts";
import { proxyMode } from "../proxy/modes/registry.ts";

export function kubeProxyRules(state: ClusterState, node: NodeState): string {
  return proxyMode(state.config.proxyMode).render(state, node);
}

/**
 * Names of kube-proxy chains a trace's hops mention (`service-633LGUNQ-default/service1/tcp/http`,
 * `KUBE-SVC-…`): the rules a traced packet hit, for highlighting them in the ruleset.
 */
export function chainsMentioned(details: readonly string[]): string[] {
  const out = new Set<string>();
  for (const d of details)
    for (const m of d.matchAll(
      /\b((?:service|endpoint|external|firewall|local)-[A-Z2-7]{8}-[^\s,;:)]+|KUBE-[A-Z]+-[A-Z2-7]{16}|KUBE-[A-Z-]+)/g,
    ))
      out.add(m[1]);
  return [...out];
}
