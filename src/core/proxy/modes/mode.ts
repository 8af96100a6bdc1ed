/**
 * What a kube-proxy mode is to podnet: one object per mode (./nftables.ts, ./iptables.ts), registered
 * in ./registry.ts. It renders a node's rules, reads them back into something a packet can be run
 * through, names the chains that stand for a Service port, and says — as named properties, each
 * following the kube-proxy source it cites — where its behaviour differs from the other modes. The
 * mode-neutral Service model (../service-proxy.ts), the rule tracer (../rule-proxy.ts) and
 * `podnet rules` ask the mode; none of them tests a mode's name.
 */
import type { ClusterState, NodeState } from "../../control/state.ts";
import type { ProxyModeName } from "../../model/config.ts";
import type { IPv4 } from "../../net/ipv4.ts";
import type { EvalOutcome, EvalPacket } from "../nft-eval.ts";
import type { Frontend, ServicePortInfo, ServiceProxy } from "../service-proxy.ts";

/** A netfilter hook a packet meets on a node. */
export type RuleHook = "prerouting" | "input" | "forward" | "output";

/** Chooses among the endpoint chains a dispatch could take (index into `candidates`, taken modulo). */
export type PickEndpoint = (candidates: { ip: IPv4; port: number; chain: string }[]) => number;

/** A node's rules read back: the hooks a packet can be run through, with the mode's own semantics. */
export interface RuleEvaluator {
  /** Runs every chain the mode hangs off `hook`, in the kernel's order; mutates the packet (DNAT, mark). */
  runHook(hook: RuleHook, p: EvalPacket, out: EvalOutcome, pick: PickEndpoint): void;
  /**
   * Session affinity (`sessionAffinity: ClientIP`): does the dispatch to these endpoint chains
   * remember the client, so that the client's address alone picks the endpoint?
   */
  remembersClient(endpointChain: string): boolean;
}

/**
 * What the data plane loads for this mode and how it syncs it. Small on purpose: the Linux adapter
 * (src/adapters/linux) decides how to run the tool.
 */
export interface ProxyModeDataplane {
  /** The loader the rendered text is written for: `nft -f` or `iptables-restore`. */
  tool: RulesetTool;
  /** The tables the mode owns on a node (`ip kube-proxy`; `filter` and `nat`). */
  tables: string[];
  /**
   * How kube-proxy syncs a change: `table-diff` (nftables: only changed chains flushed and refilled,
   * elements added and deleted, in one transaction) or `changed-chains-noflush` (iptables: every
   * chain declared, only changed chains' rules written, `iptables-restore --noflush`).
   */
  sync: "table-diff" | "changed-chains-noflush";
  /**
   * Why the data plane cannot run this mode here, with the fix (IPVS: this kernel has no ip_vs);
   * absent when it can. The data plane refuses the cluster with it (src/core/dataplane/plan.ts).
   */
  unsupported?: { reason: string; fix: string };
  /**
   * The sysctls kube-proxy sets in a node's network namespace for this mode, beyond forwarding
   * (`{ key: "net.ipv4.conf.all.route_localnet", value: "1" }`); the data plane plan applies them.
   */
  sysctls(state: ClusterState, node: NodeState): { key: string; value: string }[];
}

/** A program that loads rulesets into a network namespace's netfilter (src/core/dataplane/ruleset-sync.ts). */
export type RulesetTool = "nft" | "iptables-restore";

export interface ProxyMode {
  /** The name the Cluster config's `proxyMode` takes (kube-proxy's `--proxy-mode`). */
  readonly name: ProxyModeName;
  /** What `podnet rules` prints for this mode, in words ("ruleset as nft -f input"). */
  readonly rulesFormat: string;
  /** The node's rules as text the mode's loader (`dataplane.tool`) reads. Pure. */
  render(state: ClusterState, node: NodeState, proxy?: ServiceProxy): string;
  /** Reads `render`'s text back for the rule tracer. Throws on text `render` never produces. */
  evaluator(text: string): RuleEvaluator;
  /**
   * The chains a Service port's dispatch jumps or goes to (the service, local, external chains):
   * the rule tracer maps the chain a packet was dispatched to back to its Service port.
   */
  dispatchChains(info: ServicePortInfo): string[];
  /**
   * Which node addresses accept nodePorts when `--nodeport-addresses` is unset: `primary` (the node's
   * primary IP only) or `all` (every local address). kube-proxy: pkg/proxy/nftables/proxier.go
   * NewProxier turns an empty list into `primary`; pkg/proxy/iptables leaves it empty: every address.
   */
  readonly nodePortAddressesDefault: "primary" | "all";
  /**
   * Whether nodePorts answer on 127.0.0.0/8 (localhost nodePorts, with route_localnet). kube-proxy:
   * iptables `--iptables-localhost-nodeports` (default true; pkg/proxy/iptables); nftables never
   * (pkg/proxy/nftables: `fib daddr type local ip daddr != 127.0.0.0/8`).
   */
  readonly localhostNodePorts: boolean;
  /**
   * Whether the node's own traffic (the output hook) meets the no-endpoint check of external and
   * load-balancer IPs before it is translated. nftables: filter-output (priority dstnat-10) jumps to
   * service-endpoints-check, so it is rejected without endpoints and dropped with
   * externalTrafficPolicy Local and no local endpoint; iptables: KUBE-EXTERNAL-SERVICES hangs off
   * INPUT and FORWARD only, so that traffic goes on to nat OUTPUT untouched.
   */
  readonly checksExternalEndpointsOnOutput: boolean;
  /**
   * Whether the rules guard the Service range: reject a ClusterIP's undefined ports and drop
   * addresses of serviceCIDR no Service has. kube-proxy nftables: cluster-ips-check (needs the
   * service CIDRs); iptables has no such rules, so those packets are routed like any other.
   */
  readonly guardsServiceRange: boolean;
  /** What the data plane loads and how it syncs (see ProxyModeDataplane). */
  readonly dataplane: ProxyModeDataplane;
  /**
   * How `internalTrafficPolicy`/`externalTrafficPolicy: Local` pick endpoints. `short-circuit` (the
   * default; nftables, iptables): this node's endpoints only, dropped when it has none, while traffic
   * from pods (and the node itself) to an external frontend short-circuits to every endpoint.
   * `local-else-cluster` (IPVS, pkg/proxy/ipvs/proxier.go syncEndpoint): the virtual server holds this
   * node's endpoints, or every endpoint when it has none (kubernetes PR 97081), whoever the client;
   * external traffic under Local is never marked for masquerade (the `-LOCAL` ipsets RETURN first).
   */
  readonly localPolicy?: "short-circuit" | "local-else-cluster";
  /**
   * Whether every ClusterIP, externalIP and load-balancer IP is a local address of every node (IPVS
   * binds them to the `kube-ipvs0` dummy interface): the Service is met on input, after routing, and
   * new connections to a port no Service defines there are rejected (KUBE-IPVS-FILTER: `-m set
   * --match-set KUBE-IPVS-IPS dst -j REJECT`); an unallocated serviceCIDR address is routed as any.
   */
  readonly bindsServiceAddresses?: boolean;
  /**
   * Where the mode meets a packet, for the trace's hop (`kube-proxy prerouting` when absent), by the
   * hook the tracer runs and what the mode does there: `dnat` (the nat chains that dispatch, e.g.
   * iptables `nat PREROUTING → KUBE-SERVICES`; IPVS on input, after routing, since the address is
   * local) or `refuse` (the filter rules that reject or drop, named by `describeRefusal`).
   */
  hookLabel?(hook: "prerouting" | "output", action: "dnat" | "refuse"): string;
  /**
   * The text a model decision cites for a Service frontend (the rule or virtual server); absent: the
   * nftables verdict-map form (`service-ips: … : goto service-…`).
   */
  describeDispatch?(info: ServicePortInfo, frontend: Frontend, vip: string, state: ClusterState): string;
  /**
   * The text a model decision cites when a Service frontend refuses the packet: `reject` (no
   * endpoints), `drop` (traffic policy Local and no endpoint on this node) or `firewall`
   * (loadBalancerSourceRanges). `vip` is `address:port`. Absent: the nftables form
   * (`no-endpoint-services: … : goto reject-chain`, `firewall-ips: …`).
   */
  describeRefusal?(
    verdict: "reject" | "drop" | "firewall",
    info: ServicePortInfo,
    frontend: Frontend,
    vip: string,
  ): string;
  /**
   * The key the deterministic endpoint choice hashes, when the mode's scheduler decides it other than
   * by client address and port (client address alone with session affinity): IPVS `sh` hashes the
   * client address, `dh` the virtual address. Absent: the default.
   */
  pickKey?(state: ClusterState, src: string, sport: number, vip: string, affinity: boolean): string;
}
