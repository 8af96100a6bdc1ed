/**
 * The state kube-proxy's IPVS mode builds on one node (kubernetes pkg/proxy/ipvs/proxier.go
 * syncProxyRules and writeIptablesRules; set names and comments from pkg/proxy/ipvs/ipset.go), printed
 * as four sections an operator would read off the node:
 *
 *   # ip -4 addr show dev kube-ipvs0   every ClusterIP, externalIP (unless already a node address)
 *                                      and LB IP, bound to the dummy device (so local on the node)
 *   # ipvsadm -Sn                      a virtual server per frontend: ClusterIP:port, each node
 *                                      address:nodePort, externalIP:port, LB IP:port (`-s` scheduler,
 *                                      `-p` ClientIP affinity timeout), real servers `-m -w 1`
 *                                      (weight 0: a terminating endpoint being drained)
 *   # ipset save                       KUBE-CLUSTER-IP, KUBE-LOOP-BACK, KUBE-NODE-PORT-TCP/UDP/…,
 *                                      KUBE-LOAD-BALANCER*, KUBE-EXTERNAL-IP*, KUBE-IPVS-IPS …
 *   # iptables-save                    filter and nat KUBE-* chains matching those sets
 *
 * Each virtual server is preceded by a `# <service port name> <frontend>` line (ipvsadm prints no
 * names; the line names which Service port the virtual server stands for). Pure; no node:* imports.
 */
import type { ClusterState, NodeState } from "../../control/state.ts";
import { nodeAddresses } from "../../graph/devices.ts";
import type { IPVSSchedulerMethod } from "../../model/config.ts";
import { formatIPv4, type IPv4 } from "../../net/ipv4.ts";
import { categorize, type EndpointInfo, type ServicePortInfo, ServiceProxy } from "../service-proxy.ts";

/** kube-proxy's masquerade mark (`--masquerade-bit` 14), as its IPVS proxier prints it (`%#08x`). */
const MARK = "0x004000";

/** The ipsets of kube-proxy's IPVS mode: name, `ipset create` type, comment (pkg/proxy/ipvs/ipset.go). */
export const IPVS_SETS = {
  loopBack: [
    "KUBE-LOOP-BACK",
    "hash:ip,port,ip",
    "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose",
  ],
  clusterIP: [
    "KUBE-CLUSTER-IP",
    "hash:ip,port",
    "Kubernetes service cluster ip + port for masquerade purpose",
  ],
  externalIP: [
    "KUBE-EXTERNAL-IP",
    "hash:ip,port",
    "Kubernetes service external ip + port for masquerade and filter purpose",
  ],
  externalIPLocal: [
    "KUBE-EXTERNAL-IP-LOCAL",
    "hash:ip,port",
    "Kubernetes service external ip + port with externalTrafficPolicy=local",
  ],
  loadBalancer: ["KUBE-LOAD-BALANCER", "hash:ip,port", "Kubernetes service lb portal"],
  loadBalancerFW: [
    "KUBE-LOAD-BALANCER-FW",
    "hash:ip,port",
    "Kubernetes service load balancer ip + port for load balancer with sourceRange",
  ],
  loadBalancerLocal: [
    "KUBE-LOAD-BALANCER-LOCAL",
    "hash:ip,port",
    "Kubernetes service load balancer ip + port with externalTrafficPolicy=local",
  ],
  loadBalancerSourceIP: [
    "KUBE-LOAD-BALANCER-SOURCE-IP",
    "hash:ip,port,ip",
    "Kubernetes service load balancer ip + port + source IP for packet filter purpose",
  ],
  loadBalancerSourceCIDR: [
    "KUBE-LOAD-BALANCER-SOURCE-CIDR",
    "hash:ip,port,net",
    "Kubernetes service load balancer ip + port + source cidr for packet filter purpose",
  ],
  nodePortTCP: ["KUBE-NODE-PORT-TCP", "bitmap:port", "Kubernetes nodeport TCP port for masquerade purpose"],
  nodePortLocalTCP: [
    "KUBE-NODE-PORT-LOCAL-TCP",
    "bitmap:port",
    "Kubernetes nodeport TCP port with externalTrafficPolicy=local",
  ],
  nodePortUDP: ["KUBE-NODE-PORT-UDP", "bitmap:port", "Kubernetes nodeport UDP port for masquerade purpose"],
  nodePortLocalUDP: [
    "KUBE-NODE-PORT-LOCAL-UDP",
    "bitmap:port",
    "Kubernetes nodeport UDP port with externalTrafficPolicy=local",
  ],
  nodePortSCTP: [
    "KUBE-NODE-PORT-SCTP-HASH",
    "hash:ip,port",
    "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'",
  ],
  nodePortLocalSCTP: [
    "KUBE-NODE-PORT-LOCAL-SCTP-HASH",
    "hash:ip,port",
    "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'",
  ],
  healthCheckNodePort: ["KUBE-HEALTH-CHECK-NODE-PORT", "bitmap:port", "Kubernetes health check node port"],
  ipvsIPs: ["KUBE-IPVS-IPS", "hash:ip", "Addresses on the ipvs interface"],
} as const satisfies Record<string, readonly [string, string, string]>;

type SetKey = keyof typeof IPVS_SETS;

/** An IPVS virtual server as `ipvsadm -Sn` prints it, with the Service port it stands for. */
export interface VirtualServer {
  /** `TCP`, `UDP`, `SCTP`. */
  protocol: string;
  address: IPv4;
  port: number;
  scheduler: IPVSSchedulerMethod;
  /** ClientIP affinity: `-p <seconds>` (sessionAffinityConfig.clientIP.timeoutSeconds, 10800 by default). */
  persistent?: number;
  /** Real servers: weight 1, or 0 for a terminating endpoint no longer scheduled (graceful termination). */
  real: { ip: IPv4; port: number; weight: number }[];
  /** `ns/name:port` and the frontend kind (clusterIP, externalIP, loadBalancer, nodePort). */
  service: string;
  frontend: string;
}

/** The virtual server's key as ipvsadm names it: `-t 10.96.0.1:443`, `-u …`, `--sctp-service …`. */
export function virtualServerKey(protocol: string, address: IPv4 | string, port: number): string {
  const flag = protocol === "TCP" ? "-t" : protocol === "UDP" ? "-u" : "--sctp-service";
  return `${flag} ${typeof address === "string" ? address : formatIPv4(address)}:${port}`;
}

/** The node's IPVS state as the four sections described above. */
export function renderIpvs(state: ClusterState, node: NodeState, proxy = new ServiceProxy(state)): string {
  const { servers, sets, bound, lbNoNodeAccess } = buildIpvsState(state, node, proxy);
  const out: string[] = ["# ip -4 addr show dev kube-ipvs0"];
  for (const ip of bound) out.push(`inet ${formatIPv4(ip)}/32 scope global kube-ipvs0`);
  out.push("# ipvsadm -Sn");
  // A pool of real servers is shared by a Service port's virtual servers: print its tails once.
  const tails = new Map<VirtualServer["real"], string[]>();
  for (const vs of servers) {
    const key = virtualServerKey(vs.protocol, vs.address, vs.port);
    const flags = vs.scheduler === "mh" ? " -b mh-port" : "";
    out.push(`# ${vs.service} ${vs.frontend}`);
    out.push(
      `-A ${key} -s ${vs.scheduler}${flags}${vs.persistent !== undefined ? ` -p ${vs.persistent}` : ""}`,
    );
    let tail = tails.get(vs.real);
    if (!tail) {
      tail = vs.real.map((r) => ` -r ${formatIPv4(r.ip)}:${r.port} -m -w ${r.weight}`);
      tails.set(vs.real, tail);
    }
    // One string per virtual server (a native join), not one per real server: 390,000 lines at
    // 10,000 Services.
    const head = `-a ${key}`;
    if (tail.length > 0) out.push(head + tail.join(`\n${head}`));
  }
  out.push("# ipset save");
  for (const key of Object.keys(IPVS_SETS) as SetKey[]) {
    const [name, type] = IPVS_SETS[key];
    const range = type === "bitmap:port" ? "range 0-65535" : "family inet hashsize 1024 maxelem 65536";
    out.push(`create ${name} ${type} ${range}`);
    for (const e of sets[key]) out.push(`add ${name} ${e}`);
  }
  out.push("# iptables-save");
  out.push(...iptablesRules(state, sets, lbNoNodeAccess));
  return `${out.join("\n")}\n`;
}

/** What `renderIpvs` prints, before printing. */
export function buildIpvsState(
  state: ClusterState,
  node: NodeState,
  proxy: ServiceProxy,
): {
  servers: VirtualServer[];
  sets: Record<SetKey, Set<string>>;
  bound: IPv4[];
  lbNoNodeAccess: { ip: string; protocol: string; port: number }[];
} {
  const scheduler = state.config.kubeProxy.ipvs.scheduler;
  const sets = Object.fromEntries(Object.keys(IPVS_SETS).map((k) => [k, new Set<string>()])) as Record<
    SetKey,
    Set<string>
  >;
  const own = nodeAddresses(state, node);
  const ownSet = new Set(own);
  const npIPs = proxy.nodePortIPs(node);
  // GetAllLocalAddressesExcept(kube-ipvs0), loopback left out (isValidForSet); CIDRs: !IsLoopback.
  const nodeIPs = (npIPs === "all" ? own : npIPs).filter((ip) => ip >>> 24 !== 127);
  const servers: VirtualServer[] = [];
  const bound = new Set<IPv4>();
  const lbNoNodeAccess: { ip: string; protocol: string; port: number }[] = [];

  for (const info of proxy.ports) {
    const proto = info.protocol.toLowerCase();
    const port = info.port.port;
    const persistent = info.affinity
      ? (info.service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800)
      : undefined;
    const { cluster, local } = categorize(info.endpoints, node.name);
    // The real servers of the internal (ClusterIP) and the external virtual servers, built once each.
    const pools = new Map<boolean, { ip: IPv4; port: number; weight: number }[]>();
    const real = (wantsLocal: boolean) => {
      const useLocal = wantsLocal && local.length > 0;
      let pool = pools.get(useLocal);
      if (!pool) {
        pool = realServers(info, node, useLocal ? local : cluster, useLocal);
        pools.set(useLocal, pool);
      }
      return pool;
    };
    const vs = (address: IPv4, p: number, wantsLocal: boolean, frontend: string): VirtualServer => ({
      protocol: info.protocol,
      address,
      port: p,
      scheduler,
      persistent,
      real: real(wantsLocal),
      service: info.name,
      frontend,
    });
    for (const e of info.endpoints)
      if (e.nodeName === node.name)
        sets.loopBack.add(`${formatIPv4(e.ip)},${proto}:${e.port},${formatIPv4(e.ip)}`);
    if (info.clusterIP !== undefined) {
      sets.clusterIP.add(`${formatIPv4(info.clusterIP)},${proto}:${port}`);
      servers.push(vs(info.clusterIP, port, info.internalLocal, "clusterIP"));
      bound.add(info.clusterIP);
    }
    for (const ip of info.externalIPs) {
      sets[info.externalLocal ? "externalIPLocal" : "externalIP"].add(`${formatIPv4(ip)},${proto}:${port}`);
      servers.push(vs(ip, port, info.externalLocal, "externalIP"));
      if (!ownSet.has(ip)) bound.add(ip);
    }
    for (const ip of info.lbIPs) {
      const entry = `${formatIPv4(ip)},${proto}:${port}`;
      sets.loadBalancer.add(entry);
      if (info.externalLocal) sets.loadBalancerLocal.add(entry);
      if (info.sourceRanges.length > 0) {
        sets.loadBalancerFW.add(entry);
        for (const r of info.sourceRanges) sets.loadBalancerSourceCIDR.add(`${entry},${r}`);
        if (info.sourceRanges.some((r) => r.contains(node.ip)))
          sets.loadBalancerSourceIP.add(`${entry},${formatIPv4(ip)}`);
        else lbNoNodeAccess.push({ ip: formatIPv4(ip), protocol: proto, port });
      }
      servers.push(vs(ip, port, info.externalLocal, "loadBalancer"));
      if (!ownSet.has(ip)) bound.add(ip);
    }
    if (info.nodePort !== undefined && nodeIPs.length > 0) {
      const np = info.nodePort;
      if (info.protocol === "SCTP") {
        for (const ip of nodeIPs) {
          sets.nodePortSCTP.add(`${formatIPv4(ip)},sctp:${np}`);
          if (info.externalLocal) sets.nodePortLocalSCTP.add(`${formatIPv4(ip)},sctp:${np}`);
        }
      } else {
        const tcp = info.protocol === "TCP";
        sets[tcp ? "nodePortTCP" : "nodePortUDP"].add(String(np));
        if (info.externalLocal) sets[tcp ? "nodePortLocalTCP" : "nodePortLocalUDP"].add(String(np));
      }
      for (const ip of nodeIPs) servers.push(vs(ip, np, info.externalLocal, "nodePort"));
    }
    const hc = info.service.spec.healthCheckNodePort;
    if (hc !== undefined) sets.healthCheckNodePort.add(String(hc));
  }
  for (const ip of bound) sets.ipvsIPs.add(formatIPv4(ip));
  return { servers, sets, bound: [...bound], lbNoNodeAccess };
}

/**
 * A virtual server's real servers: the chosen endpoints with weight 1 (syncEndpoint), then the
 * terminating endpoints of the same pool that are not chosen with weight 0 — what graceful
 * termination (pkg/proxy/ipvs/graceful_termination.go) leaves while their connections drain.
 */
function realServers(
  info: ServicePortInfo,
  node: NodeState,
  chosen: EndpointInfo[],
  localPool: boolean,
): { ip: IPv4; port: number; weight: number }[] {
  const out: { ip: IPv4; port: number; weight: number }[] = new Array(chosen.length);
  for (let i = 0; i < chosen.length; i++) out[i] = { ip: chosen[i].ip, port: chosen[i].port, weight: 1 };
  // Most Service ports have no terminating endpoint: no set to build then.
  let picked: Set<EndpointInfo> | undefined;
  for (const e of info.endpoints) {
    if (!e.terminating) continue;
    picked ??= new Set(chosen);
    if (picked.has(e)) continue;
    if (localPool && e.nodeName !== node.name) continue;
    out.push({ ip: e.ip, port: e.port, weight: 0 });
  }
  return out;
}

/** The iptables rules of writeIptablesRules, as `iptables-save` text (filter, then nat). */
function iptablesRules(
  state: ClusterState,
  sets: Record<SetKey, Set<string>>,
  lbNoNodeAccess: { ip: string; protocol: string; port: number }[],
): string[] {
  const name = (k: SetKey) => IPVS_SETS[k][0];
  const comment = (k: SetKey) => `-m comment --comment "${IPVS_SETS[k][2]}"`;
  const has = (k: SetKey) => sets[k].size > 0;
  const match = (k: SetKey, dirs: string) => `-m set --match-set ${name(k)} ${dirs}`;
  const filter: string[] = [];
  const nat: string[] = [];
  // ipsetWithIptablesChain, in its order, each only when its set has members.
  if (has("loopBack"))
    nat.push(`-A KUBE-POSTROUTING ${comment("loopBack")} ${match("loopBack", "dst,dst,src")} -j MASQUERADE`);
  if (has("loadBalancer"))
    nat.push(
      `-A KUBE-SERVICES ${comment("loadBalancer")} ${match("loadBalancer", "dst,dst")} -j KUBE-LOAD-BALANCER`,
    );
  if (has("loadBalancerLocal"))
    nat.push(
      `-A KUBE-LOAD-BALANCER ${comment("loadBalancerLocal")} ${match("loadBalancerLocal", "dst,dst")} -j RETURN`,
    );
  for (const [local, all, proto, dirs] of [
    ["nodePortLocalTCP", "nodePortTCP", "tcp", "dst"],
    ["nodePortLocalUDP", "nodePortUDP", "udp", "dst"],
    ["nodePortLocalSCTP", "nodePortSCTP", "sctp", "dst,dst"],
  ] as const) {
    if (has(local))
      nat.push(`-A KUBE-NODE-PORT -p ${proto} ${comment(local)} ${match(local, dirs)} -j RETURN`);
    if (has(all))
      nat.push(`-A KUBE-NODE-PORT -p ${proto} ${comment(all)} ${match(all, dirs)} -j KUBE-MARK-MASQ`);
  }
  if (has("loadBalancerFW"))
    filter.push(
      `-A KUBE-PROXY-FIREWALL ${comment("loadBalancerFW")} ${match("loadBalancerFW", "dst,dst")} -j KUBE-SOURCE-RANGES-FIREWALL`,
    );
  if (has("loadBalancerSourceCIDR"))
    filter.push(
      `-A KUBE-SOURCE-RANGES-FIREWALL ${comment("loadBalancerSourceCIDR")} ${match("loadBalancerSourceCIDR", "dst,dst,src")} -j RETURN`,
    );
  if (has("loadBalancerSourceIP"))
    filter.push(
      `-A KUBE-SOURCE-RANGES-FIREWALL ${comment("loadBalancerSourceIP")} ${match("loadBalancerSourceIP", "dst,dst,src")} -j RETURN`,
    );
  // Off-cluster traffic to a ClusterIP is masqueraded (the local traffic detector: clusterCIDR).
  if (has("clusterIP"))
    nat.push(
      `-A KUBE-SERVICES ! -s ${state.config.clusterCIDR} ${comment("clusterIP")} ${match("clusterIP", "dst,dst")} -j KUBE-MARK-MASQ`,
    );
  const externalIPRules = (k: SetKey) => {
    nat.push(
      `-A KUBE-SERVICES ${comment(k)} ${match(k, "dst,dst")} -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT`,
    );
    nat.push(`-A KUBE-SERVICES ${comment(k)} ${match(k, "dst,dst")} -m addrtype --dst-type LOCAL -j ACCEPT`);
  };
  if (has("externalIP")) {
    nat.push(`-A KUBE-SERVICES ${comment("externalIP")} ${match("externalIP", "dst,dst")} -j KUBE-MARK-MASQ`);
    externalIPRules("externalIP");
  }
  if (has("externalIPLocal")) externalIPRules("externalIPLocal");
  nat.push("-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT");
  nat.push("-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ");
  filter.push("-A KUBE-SOURCE-RANGES-FIREWALL -j DROP");
  for (const e of lbNoNodeAccess)
    filter.push(
      `-A KUBE-IPVS-OUT-FILTER -s ${e.ip}/32 -m ipvs --vaddr ${e.ip}/32 --vproto ${e.protocol} --vport ${e.port} -j DROP`,
    );
  // acceptIPVSTraffic: the end of KUBE-SERVICES.
  if (has("clusterIP")) nat.push(`-A KUBE-SERVICES ${match("clusterIP", "dst,dst")} -j ACCEPT`);
  if (has("loadBalancer")) nat.push(`-A KUBE-SERVICES ${match("loadBalancer", "dst,dst")} -j ACCEPT`);
  filter.push(
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${MARK}/${MARK} -j ACCEPT`,
  );
  filter.push(
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );
  filter.push(
    `-A KUBE-NODE-PORT ${comment("healthCheckNodePort")} ${match("healthCheckNodePort", "dst")} -j ACCEPT`,
  );
  for (const k of ["loadBalancer", "clusterIP", "externalIP", "externalIPLocal"] as const)
    filter.push(`-A KUBE-IPVS-FILTER ${match(k, "dst,dst")} -j RETURN`);
  filter.push(`-A KUBE-IPVS-FILTER ${match("healthCheckNodePort", "dst")} -j RETURN`);
  filter.push(`-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW ${match("ipvsIPs", "dst")} -j REJECT`);
  nat.push(`-A KUBE-POSTROUTING -m mark ! --mark ${MARK}/${MARK} -j RETURN`);
  nat.push(`-A KUBE-POSTROUTING -j MARK --xor-mark ${MARK}`);
  nat.push(
    `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
  );
  nat.push(`-A KUBE-MARK-MASQ -j MARK --or-mark ${MARK}`);
  const jump = (from: string, to: string, text: string) =>
    `-A ${from} -m comment --comment "${text}" -j ${to}`;
  return grouped([
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":KUBE-FORWARD - [0:0]",
    ":KUBE-IPVS-FILTER - [0:0]",
    ":KUBE-IPVS-OUT-FILTER - [0:0]",
    ":KUBE-NODE-PORT - [0:0]",
    ":KUBE-PROXY-FIREWALL - [0:0]",
    ":KUBE-SOURCE-RANGES-FIREWALL - [0:0]",
    // iptablesJumpChain, each prepended: the last written comes first.
    jump("INPUT", "KUBE-IPVS-FILTER", "kubernetes ipvs access filter"),
    jump("INPUT", "KUBE-PROXY-FIREWALL", "kube-proxy firewall rules"),
    jump("INPUT", "KUBE-NODE-PORT", "kubernetes health check rules"),
    jump("FORWARD", "KUBE-PROXY-FIREWALL", "kube-proxy firewall rules"),
    jump("FORWARD", "KUBE-FORWARD", "kubernetes forwarding rules"),
    jump("OUTPUT", "KUBE-IPVS-OUT-FILTER", "kubernetes ipvs access filter"),
    ...filter,
    "COMMIT",
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    ":KUBE-LOAD-BALANCER - [0:0]",
    ":KUBE-MARK-MASQ - [0:0]",
    ":KUBE-NODE-PORT - [0:0]",
    ":KUBE-POSTROUTING - [0:0]",
    ":KUBE-SERVICES - [0:0]",
    jump("PREROUTING", "KUBE-SERVICES", "kubernetes service portals"),
    jump("OUTPUT", "KUBE-SERVICES", "kubernetes service portals"),
    jump("POSTROUTING", "KUBE-POSTROUTING", "kubernetes postrouting rules"),
    "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN",
    ...nat,
    "COMMIT",
  ]);
}

/**
 * iptables-save's order: each table's chains as declared, each chain's rules together, in the order
 * they were appended (the kernel keeps a chain's rules in one list).
 */
function grouped(lines: string[]): string[] {
  const out: string[] = [];
  let rules: string[] = [];
  let chains: string[] = [];
  const flush = () => {
    const order = new Map(chains.map((c, i) => [c, i]));
    const at = (r: string) => order.get(r.split(" ")[1]) ?? chains.length;
    out.push(
      ...rules
        .map((r, i) => ({ r, i }))
        .sort((a, b) => at(a.r) - at(b.r) || a.i - b.i)
        .map((x) => x.r),
    );
    rules = [];
    chains = [];
  };
  for (const line of lines) {
    if (line.startsWith("-A ")) rules.push(line);
    else {
      if (line === "COMMIT") flush();
      else if (line.startsWith(":")) chains.push(line.slice(1).split(" ")[0]);
      out.push(line);
    }
  }
  return out;
}
