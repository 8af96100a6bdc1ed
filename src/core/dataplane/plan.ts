/**
 * The Linux data plane as data: from the cluster state and the device model (../graph/devices.ts) and
 * the network plugin's build steps (../cni/plugin.ts: nodeLines, podLinkLines, podLines), the
 * network namespaces, links, addresses, routes, neighbours, FDB entries, sysctls and nftables rulesets
 * that build the same cluster on one machine. Pure: the shell (src/adapters/linux) runs it.
 *
 *   podnet-<cluster>-u    the underlay: bridge ul0 (the nodeNetwork's gateway address), one veth per node;
 *                         a node's further addresses outside nodeNetwork routed to its primary IP
 *                         (`<addr>/32 via <primary> dev ul0`, forwarding on in this namespace only)
 *   podnet-<cluster>-nI   node I: eth0 (node IP) ═ underlay; the plugin's devices (flannel: cni0, and
 *                         flannel.1 or routes via other nodes); kube-proxy's ruleset (`podnet rules`),
 *                         loaded as printed with the proxy mode's tool (its `dataplane.tool`: nft or
 *                         iptables-restore, ../proxy/modes/);
 *                         the NetworkPolicy ruleset (./policy-rules.ts)
 *   podnet-<cluster>-pXXXXXXXX   a pod: eth0 (pod IP) ═ the host side of its link on the node (the plugin's;
 *                         flannel: vethXXXXXXXX on cni0, one hash of the pod)
 *
 * Every command names the namespace it runs in; nothing runs in the machine's own namespace. Links
 * between namespaces are made from inside one of them (`link add … peer name … netns …`).
 */
import type { DataplaneRefusal, NetworkPlugin } from "../cni/plugin.ts";
import { networkPlugins } from "../cni/registry.ts";
import { fnv32a } from "../control/names.ts";
import type { ClusterState, NodeState } from "../control/state.ts";
import type { Diagnostic } from "../diagnostics.ts";
import { formatResolvConf, podResolvConf } from "../dns/resolv.ts";
import { ClusterZone, type ZoneSnapshot } from "../dns/zone.ts";
import { isRunning, nodeNamespace, pluginOf, podNamespace, podsOnNode } from "../graph/devices.ts";
import { interfaceLines, routeLines } from "../graph/ip-batch.ts";
import type { Pod, Protocol } from "../model/k8s.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import type { RulesetTool } from "../proxy/modes/mode.ts";
import { proxyMode } from "../proxy/modes/registry.ts";
import { servedPorts } from "../sim/served-ports.ts";
import type { ProxySpec } from "./http.ts";
import { type OutsidePlan, planOutside } from "./outside.ts";
import { compilePolicies, renderPolicyRules } from "./policy-rules.ts";

export const PREFIX = "podnet-";
export const UNDERLAY_BRIDGE = "ul0";

export interface PlannedPod {
  /** `ns/name`. */
  key: string;
  netns: string;
  node: string;
  ip: string;
  /**
   * The ports the pod's listeners open (listenerPorts): the declared container ports and every port a
   * Service's targetPort resolves to on the pod, each with its container; `dns` marks the ports behind
   * the cluster DNS Service's port 53 (kube-system/kube-dns), where the listener serves the cluster zone.
   */
  ports: { container: string; name?: string; port: number; protocol: Protocol; dns?: true }[];
  /** The pod's /etc/resolv.conf, as kubelet writes it (../dns/resolv.ts). */
  resolvConf: string;
  /** In the node's namespace: the host side of the pod's link (the plugin's `podLinkLines`). */
  nodeLines: string[];
  /** In the node's namespace: the sysctls of that host side (the plugin's `podLinkSysctls`). */
  nodeSysctls: { key: string; value: string }[];
  /** In the pod's namespace: its eth0 and routes. */
  podLines: string[];
}

export interface Plan {
  cluster: string;
  underlay: string;
  /**
   * Each node with what the rest of the plan depends on (a change here needs a rebuild): `ip` is the
   * primary address, `ips` every local address of its eth0 (primary first; see README "Node addresses").
   */
  nodes: { name: string; netns: string; ip: string; ips: string[]; podCIDR: string; cni: string }[];
  pods: PlannedPod[];
  /** In order: `ip -batch` lines (with `-n netns`) and `bridge -batch` lines. */
  steps: { tool: "ip" | "bridge"; netns: string; lines: string[] }[];
  /**
   * Every sysctl, in order. `pod` (`ns/name`) marks those of a pod link's host side: they belong to
   * the pod (`apply` sets them with it), not to the node's setup, whose change rebuilds the cluster.
   */
  sysctls: { netns: string; key: string; value: string; pod?: string }[];
  /**
   * Per node namespace, kube-proxy's ruleset exactly as `podnet rules` prints it, loaded with the tool
   * of the cluster's proxy mode (its `dataplane.tool`), then the policy ruleset (./policy-rules.ts, nft).
   */
  rules: { netns: string; tool: RulesetTool; text: string }[];
  /** Per node, the host routes (`/32`) to pods whose address lies outside their node's podCIDR. */
  hostRoutes: { netns: string; lines: string[] }[];
  /** The cluster zone the DNS pods serve (../dns/zone.ts), as data; none when no pod serves DNS. */
  dnsZone?: ZoneSnapshot;
  /** Host-network pods' listeners, in their node's namespace on its address (see hostListeners). */
  hostPods: Pick<PlannedPod, "key" | "netns" | "node" | "ip" | "ports">[];
  /**
   * The outside network (./outside.ts): the client namespace `podnet-<cluster>-o` and the underlay's
   * routes of load-balancer IPs to their nodes; none when the underlay has no gateway address.
   */
  outside?: OutsidePlan;
  /**
   * The controller pods' reverse proxies (./http.ts), each with its pod's namespace: they bind the
   * listener ports themselves, so the pod listener leaves those ports out (listenerSpec).
   */
  proxies: { netns: string; spec: ProxySpec }[];
}

/** Options of `planCluster`. */
export interface PlanOptions {
  /** The controller pods' proxies (http-probe.ts `proxySpecs`); a pod not in the plan is left out. */
  proxies?: ProxySpec[];
}

/** Why a cluster name cannot be used, or undefined (names become namespace names and file names). */
export function clusterNameProblem(name: string): string | undefined {
  if (!/^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/.test(name))
    return `"${name}" is not a usable cluster name: use 1-20 lowercase letters, digits and inner dashes`;
  return undefined;
}

/**
 * The data plane cannot build this cluster here (`NetworkPlugin.dataplaneSupport`), as a diagnostic
 * with the position of the field that chose the unbuildable part. Nothing was built.
 */
export class DataplaneRefused extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/**
 * The refusal of a plugin that cannot build `state` here, as a diagnostic: at the plugin's own
 * object and field when it names one (a Calico IPPool's ipipMode), else at the Cluster config's
 * `spec.cni`; the fix is the plugin's, or the list of plugins the data plane builds.
 */
function refusalDiagnostic(
  state: ClusterState,
  plugin: NetworkPlugin,
  refusal: DataplaneRefusal,
): Diagnostic {
  const buildable = networkPlugins.filter((p) => !p.dataplaneSupport()).map((p) => p.name);
  const list =
    buildable.length > 1 ? `${buildable.slice(0, -1).join(", ")} and ${buildable.at(-1)}` : buildable[0];
  return {
    severity: "error",
    code: "dataplane-unsupported",
    message: refusal.origin ? refusal.reason : `cni ${plugin.name}: ${refusal.reason}`,
    hint: refusal.fix ?? `the data plane builds ${list} clusters: set spec.cni to one of them to build it`,
    object: refusal.object ?? (state.configOrigin ? `Cluster ${state.config.name}` : undefined),
    origin: refusal.origin ?? state.configOrigin,
    path: refusal.origin ? refusal.path : ["spec", "cni"],
  };
}

/**
 * The steps that build `state` for real as the cluster named `cluster`.
 * Throws DataplaneRefused when the network plugin cannot be built here.
 */
export function planCluster(state: ClusterState, cluster: string, opts: PlanOptions = {}): Plan {
  const cfg = state.config;
  const plugin = pluginOf(state);
  const refusal = plugin.dataplaneSupport(state);
  if (refusal) throw new DataplaneRefused(refusalDiagnostic(state, plugin, refusal));
  const unsupported = proxyMode(cfg.proxyMode).dataplane.unsupported;
  if (unsupported)
    throw new DataplaneRefused({
      severity: "error",
      code: "dataplane-unsupported",
      message: unsupported.reason,
      hint: unsupported.fix,
      object: state.configOrigin ? `Cluster ${cfg.name}` : undefined,
      origin: state.configOrigin,
      path: ["spec", "proxyMode"],
    });
  const ns = (suffix: string) => `${PREFIX}${cluster}-${suffix}`;
  const underlay = ns("u");
  const steps: Plan["steps"] = [];
  const sysctls: Plan["sysctls"] = [];
  const linkSysctls: Plan["sysctls"] = [];
  const rules: Plan["rules"] = [];
  const proxy = proxyMode(cfg.proxyMode);
  const hostRoutes: Plan["hostRoutes"] = [];
  const nodes: Plan["nodes"] = [];
  const pods: PlannedPod[] = [];

  const policies = compilePolicies(state);
  const dnsPorts = dnsEndpointPorts(state);
  /** The ports behind the cluster DNS Service marked: the listener serves the zone there. */
  const withDns = (pod: Pod, ports: DeclaredPort[]): PlannedPod["ports"] =>
    ports.map((p) =>
      dnsPorts.has(`${pod.metadata.namespace}/${pod.metadata.name} ${p.protocol} ${p.port}`)
        ? { ...p, dns: true as const }
        : p,
    );
  const gateway = cfg.nodeNetwork.prefix < 31 ? cfg.nodeNetwork.nth(1) : undefined;
  const ul = ["link set lo up", `link add ${UNDERLAY_BRIDGE} type bridge`];
  if (gateway !== undefined)
    ul.push(`addr add ${formatIPv4(gateway)}/${cfg.nodeNetwork.prefix} dev ${UNDERLAY_BRIDGE}`);
  ul.push(`link set ${UNDERLAY_BRIDGE} up`);
  const outside = planOutside(state, ns("o"), gateway === undefined ? undefined : formatIPv4(gateway));
  if (outside) ul.push(...outside.underlayLines);

  const nodeSteps: Plan["steps"] = [];
  const podSteps: Plan["steps"] = [];
  const fdbSteps: Plan["steps"] = [];
  state.nodes.forEach((node, i) => {
    const netns = ns(`n${i}`);
    nodes.push({
      name: node.name,
      netns,
      ip: formatIPv4(node.ip),
      ips: node.ips.map(formatIPv4),
      podCIDR: node.podCIDR.toString(),
      cni: cfg.cni,
    });
    const onNode = podsOnNode(state, node);
    const model = nodeNamespace(state, node, onNode);
    // The node's wire: a veth from the underlay bridge, named eth0 on the node.
    ul.push(
      `link add n${i} type veth peer name eth0 netns ${netns}`,
      `link set n${i} master ${UNDERLAY_BRIDGE}`,
      `link set n${i} up`,
    );
    const lines = [
      "link set lo up",
      ...interfaceLines(model, "eth0"),
      ...plugin.nodeLines(state, node, model),
    ];
    onNode.forEach((pod) => {
      // Named by a hash of the pod: stable while the pod exists, whatever comes and goes.
      const podNetns = ns(`p${podNetnsSuffix(pod)}`);
      const nodeLines = plugin.podLinkLines(state, node, pod, podNetns);
      lines.push(...nodeLines);
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const nodeSysctls = plugin.podLinkSysctls(state, node, pod);
      linkSysctls.push(...nodeSysctls.map((s) => ({ netns, ...s, pod: key })));
      const podModel = podNamespace(state, node, pod);
      const podLines = ["link set lo up", ...plugin.podLines(state, node, pod, podModel)];
      pods.push({
        key,
        netns: podNetns,
        node: node.name,
        ip: pod.status!.podIP!,
        ports: withDns(pod, listenerPorts(state, pod)),
        resolvConf: formatResolvConf(podResolvConf(state, pod)),
        nodeLines,
        nodeSysctls,
        podLines,
      });
      podSteps.push({ tool: "ip", netns: podNetns, lines: podLines });
    });
    const nodeRoutes = routeLines(model);
    lines.push(...nodeRoutes);
    // Host routes to pods outside their node's podCIDR: they come and go with those pods (apply).
    hostRoutes.push({ netns, lines: nodeRoutes.filter((l) => /^route add \S+\/32 /.test(l)) });
    for (const n of model.neighbours)
      if (n.permanent) lines.push(`neigh add ${formatIPv4(n.ip)} lladdr ${n.mac} dev ${n.dev} nud permanent`);
    nodeSteps.push({ tool: "ip", netns, lines });
    const fdb = model.fdb
      .filter((f) => f.dst !== undefined)
      .map((f) => `fdb append ${f.mac} dev ${f.dev} dst ${formatIPv4(f.dst!)}`);
    if (fdb.length) fdbSteps.push({ tool: "bridge", netns, lines: fdb });
    sysctls.push(
      { netns, key: "net.ipv4.ip_forward", value: "1" },
      { netns, key: "net.ipv4.conf.all.rp_filter", value: "0" },
    );
    sysctls.push(...linkSysctls.splice(0));
    for (const s of proxy.dataplane.sysctls(state, node)) sysctls.push({ netns, ...s });
    rules.push(
      { netns, tool: proxy.dataplane.tool, text: proxy.render(state, node) },
      { netns, tool: "nft", text: renderPolicyRules(policies, state, node) },
    );
  });
  const reach = underlayRoutes(state);
  if (outside) {
    ul.push(...outside.routes);
    hostRoutes.push({ netns: underlay, lines: outside.routes });
  }
  if (reach.length) {
    // The underlay forwards to a node's address outside nodeNetwork through its primary IP; anything
    // else it has no route for is dropped without an answer, as before (the blackhole default).
    ul.push(...reach, "route add blackhole default");
  }
  if (reach.length || outside) {
    sysctls.push(
      { netns: underlay, key: "net.ipv4.ip_forward", value: "1" },
      { netns: underlay, key: "net.ipv4.conf.all.rp_filter", value: "0" },
      { netns: underlay, key: `net.ipv4.conf.${UNDERLAY_BRIDGE}.rp_filter`, value: "0" },
      // Out the port it came in: no ICMP redirect, so every node keeps going through the underlay.
      { netns: underlay, key: "net.ipv4.conf.all.send_redirects", value: "0" },
      { netns: underlay, key: `net.ipv4.conf.${UNDERLAY_BRIDGE}.send_redirects`, value: "0" },
    );
  }
  // Pod namespaces exist before the node links their veths into them; the node's veth ends exist before
  // the pods configure theirs.
  steps.push({ tool: "ip", netns: underlay, lines: ul });
  if (outside) steps.push({ tool: "ip", netns: outside.netns, lines: outside.clientLines });
  steps.push(...nodeSteps, ...fdbSteps, ...podSteps);
  const nodeNetns = new Map(nodes.map((n) => [n.name, n.netns]));
  const hostPods = hostListeners(state).map(({ pod, node, ports }) => ({
    key: `${pod.metadata.namespace}/${pod.metadata.name}`,
    netns: nodeNetns.get(node.name)!,
    node: node.name,
    ip: formatIPv4(node.ip),
    ports: withDns(pod, ports),
  }));
  return {
    cluster,
    underlay,
    nodes,
    pods,
    hostPods,
    steps,
    sysctls,
    rules,
    hostRoutes,
    ...(dnsPorts.size ? { dnsZone: new ClusterZone(state).snapshot() } : {}),
    ...(outside ? { outside } : {}),
    proxies: (opts.proxies ?? []).flatMap((spec) => {
      const pod = pods.find((p) => p.key === spec.pod);
      return pod ? [{ netns: pod.netns, spec }] : [];
    }),
  };
}

/** A port a pod's listener opens, with the container that answers on it (see listenerPorts). */
export interface DeclaredPort {
  container: string;
  name?: string;
  port: number;
  protocol: Protocol;
}

/**
 * The ports a pod's listeners open: every port known to be served there (../sim/served-ports.ts) —
 * each declared container port, and each port a Service's targetPort resolves to on the pod though no
 * container declares it (containerPort is informational; the application behind the Service listens
 * there). A Service-only port has no declaring container: its socket answers as the pod's first
 * container. Any other port has no socket, so the kernel refuses a TCP connection there (a reset):
 * what the tracer's `arrived` predicts (../dataplane/probe.ts).
 */
export function listenerPorts(state: ClusterState, pod: Pod): DeclaredPort[] {
  const first = pod.spec.containers[0]?.name ?? "";
  return servedPorts(state)
    .of(pod)
    .map((p) => ({
      container: p.container ?? first,
      ...(p.by === "declared" && p.name ? { name: p.name } : {}),
      port: p.port,
      protocol: p.protocol,
    }));
}

/**
 * The sockets of host-network pods: in their node's namespace, one per TCP or UDP port it serves
 * (listenerPorts: declared, or a Service's target). Two
 * such pods on one node cannot both listen on a port (the scheduler keeps them apart in Kubernetes;
 * a given nodeName can still put them together): the first by namespace and name takes it, and the
 * other gets no socket there.
 */
export function hostListeners(state: ClusterState): {
  pod: Pod;
  node: NodeState;
  ports: DeclaredPort[];
}[] {
  const taken = new Set<string>();
  const out: ReturnType<typeof hostListeners> = [];
  const pods = state.pods
    .filter((p) => p.spec.hostNetwork && p.spec.nodeName && p.status?.podIP && isRunning(p))
    .sort((a, b) => {
      const x = `${a.metadata.namespace}/${a.metadata.name}`;
      const y = `${b.metadata.namespace}/${b.metadata.name}`;
      return x < y ? -1 : x > y ? 1 : 0;
    });
  for (const pod of pods) {
    const node = state.nodes.find((n) => n.name === pod.spec.nodeName);
    if (!node) continue;
    const mine = listenerPorts(state, pod).filter((p) => {
      if (p.protocol === "SCTP") return false;
      const key = `${node.name} ${p.protocol} ${p.port}`;
      if (taken.has(key)) return false;
      taken.add(key);
      return true;
    });
    if (mine.length) out.push({ pod, node, ports: mine });
  }
  return out;
}

/**
 * The pod sockets that serve cluster DNS: each ready endpoint of kube-system/kube-dns, on the target
 * port of each Service port 53, as `ns/pod PROTOCOL port`.
 */
function dnsEndpointPorts(state: ClusterState): Set<string> {
  const out = new Set<string>();
  const svc = state.services.find(
    (s) => s.metadata.namespace === "kube-system" && s.metadata.name === "kube-dns",
  );
  if (!svc) return out;
  const names = new Set((svc.spec.ports ?? []).filter((p) => p.port === 53).map((p) => p.name ?? ""));
  for (const slice of state.endpointSlices) {
    if (
      slice.metadata.namespace !== "kube-system" ||
      slice.metadata.labels?.["kubernetes.io/service-name"] !== "kube-dns"
    )
      continue;
    const ports = (slice.ports ?? []).filter((p) => names.has(p.name ?? "") && p.port !== undefined);
    for (const ep of slice.endpoints)
      if (ep.targetRef?.kind === "Pod")
        for (const p of ports)
          out.add(
            `${ep.targetRef.namespace ?? "kube-system"}/${ep.targetRef.name} ${p.protocol ?? "TCP"} ${p.port}`,
          );
  }
  return out;
}

/**
 * The underlay's routes to node addresses outside nodeNetwork: a node has every InternalIP (and
 * on-interface ExternalIP) on its eth0, as a /32 when outside nodeNetwork, and the simulator delivers
 * such an address to its node from anywhere in the cluster (the network between the nodes routes it,
 * as a provider's VPC routes a node's secondary addresses). The underlay namespace does the same:
 * `<addr>/32 via <primary> dev ul0`. Only when the primary IP lies in nodeNetwork and the underlay
 * has a gateway (nodeNetwork shorter than /31): otherwise the other nodes have no route towards the
 * underlay for it (README, Limits). The reply goes straight back on the link (the source is in
 * nodeNetwork) or through the node's own routes (a pod's address).
 */
export function underlayRoutes(state: ClusterState): string[] {
  const cfg = state.config;
  if (cfg.nodeNetwork.prefix >= 31) return [];
  const out: string[] = [];
  for (const node of state.nodes) {
    if (!cfg.nodeNetwork.contains(node.ip)) continue;
    for (const ip of node.ips)
      if (ip !== node.ip && !cfg.nodeNetwork.contains(ip))
        out.push(`route add ${formatIPv4(ip)}/32 via ${formatIPv4(node.ip)} dev ${UNDERLAY_BRIDGE}`);
  }
  return out;
}

/** Every namespace of a plan, underlay first (the order to create them in). */
export function namespacesOf(plan: Plan): string[] {
  return [
    plan.underlay,
    ...(plan.outside ? [plan.outside.netns] : []),
    ...plan.nodes.map((n) => n.netns),
    ...plan.pods.map((p) => p.netns),
  ];
}

/**
 * The suffix of a pod's namespace name: 8 hex digits of a hash of its namespace and name (the same
 * hash flannel's host-side veth names carry, so a node's veth and its pod's namespace match).
 */
export function podNetnsSuffix(pod: Pod): string {
  return fnv32a(`${pod.metadata.namespace}/${pod.metadata.name}`).toString(16).padStart(8, "0");
}
