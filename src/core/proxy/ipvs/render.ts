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
import { AsciiWriter } from "./ascii-writer.ts";

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

/**
 * A virtual server's real servers: `active` (weight 1: the endpoints syncEndpoint chose), then
 * `draining` (weight 0: terminating endpoints of the same pool not chosen, which graceful termination,
 * pkg/proxy/ipvs/graceful_termination.go, leaves while their connections drain). The endpoint records
 * of the Service proxy themselves, not copies: a Service port's virtual servers share one pool.
 */
export interface RealServers {
  active: readonly EndpointInfo[];
  draining: readonly EndpointInfo[];
}

/** An IPVS virtual server as `ipvsadm -Sn` prints it, with the Service port it stands for. */
export interface VirtualServer {
  /** `TCP`, `UDP`, `SCTP`. */
  protocol: string;
  address: IPv4;
  port: number;
  scheduler: IPVSSchedulerMethod;
  /** ClientIP affinity: `-p <seconds>` (sessionAffinityConfig.clientIP.timeoutSeconds, 10800 by default). */
  persistent?: number;
  real: RealServers;
  /** `ns/name:port` and the frontend kind (clusterIP, externalIP, loadBalancer, nodePort). */
  service: string;
  frontend: string;
}

/** The virtual server's key as ipvsadm names it: `-t 10.96.0.1:443`, `-u …`, `--sctp-service …`. */
export function virtualServerKey(protocol: string, address: IPv4 | string, port: number): string {
  return `${protocolFlag(protocol)} ${typeof address === "string" ? address : formatIPv4(address)}:${port}`;
}

function protocolFlag(protocol: string): string {
  return protocol === "TCP" ? "-t" : protocol === "UDP" ? "-u" : "--sctp-service";
}

/**
 * The node's IPVS state as the four sections described above: one string, each line ending in `\n`.
 *
 * Shaped for 10,000 Services (390,555 lines): the text is written into one byte buffer
 * (./ascii-writer.ts) rather than built from a string per line, and real servers are the Service
 * proxy's endpoint records; the render then leaves almost nothing for the garbage collector, whose
 * copying and marking of per-line strings over a large cluster's heap was most of its time.
 */
export function renderIpvs(state: ClusterState, node: NodeState, proxy = new ServiceProxy(state)): string {
  const { servers, sets, bound, lbNoNodeAccess } = buildIpvsState(state, node, proxy);
  // Sized once from above (a real-server line is under 80 bytes, `--sctp-service` and two full
  // address:port pairs): a buffer that grows copies itself and touches fresh memory each time, while
  // the pages of one generous buffer that are never written cost nothing.
  let size = 1 << 16;
  for (const vs of servers)
    size += 64 + vs.service.length + 80 * (vs.real.active.length + vs.real.draining.length);
  for (const set of Object.values(sets)) size += 96 * set.size;
  const w = new AsciiWriter(size);
  w.str("# ip -4 addr show dev kube-ipvs0\n");
  for (const ip of bound) w.str("inet ").ipv4(ip).str("/32 scope global kube-ipvs0\n");
  w.str("# ipvsadm -Sn\n");
  for (const vs of servers) {
    const key = virtualServerKey(vs.protocol, vs.address, vs.port);
    w.str("# ").str(vs.service).str(" ").str(vs.frontend).str("\n-A ").str(key).str(" -s ").str(vs.scheduler);
    if (vs.scheduler === "mh") w.str(" -b mh-port");
    if (vs.persistent !== undefined) w.str(" -p ").uint(vs.persistent);
    w.str("\n");
    // A real-server line is `-a <key> -r <address>:<port> -m -w <weight>`: the part before the
    // address is the same on every line of the virtual server, encoded once.
    const head = ASCII.encode(`-a ${key} -r `);
    for (const e of vs.real.active) w.bytes(head).ipv4(e.ip).bytes(COLON).uint(e.port).bytes(WEIGHT_1);
    for (const e of vs.real.draining) w.bytes(head).ipv4(e.ip).bytes(COLON).uint(e.port).bytes(WEIGHT_0);
  }
  w.str("# ipset save\n");
  for (const key of Object.keys(IPVS_SETS) as SetKey[]) {
    const [name, type] = IPVS_SETS[key];
    const range = type === "bitmap:port" ? "range 0-65535" : "family inet hashsize 1024 maxelem 65536";
    w.str("create ").str(name).str(" ").str(type).str(" ").str(range).str("\n");
    for (const e of sets[key]) w.str("add ").str(name).str(" ").str(e).str("\n");
  }
  w.str("# iptables-save\n");
  for (const line of iptablesRules(state, sets, lbNoNodeAccess)) w.str(line).str("\n");
  return w.text();
}

const ASCII = new TextEncoder();
const COLON = ASCII.encode(":");
const WEIGHT_1 = ASCII.encode(" -m -w 1\n");
const WEIGHT_0 = ASCII.encode(" -m -w 0\n");

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
    let clusterPool: RealServers | undefined;
    let localPool: RealServers | undefined;
    const real = (wantsLocal: boolean): RealServers => {
      if (wantsLocal && local.length > 0) {
        localPool ??= realServers(info, node, local, true);
        return localPool;
      }
      clusterPool ??= realServers(info, node, cluster, false);
      return clusterPool;
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

const NONE: readonly EndpointInfo[] = [];

/**
 * A virtual server's real servers: the chosen endpoints (syncEndpoint), then the terminating
 * endpoints of the same pool that are not chosen — what graceful termination leaves while their
 * connections drain.
 */
function realServers(
  info: ServicePortInfo,
  node: NodeState,
  chosen: EndpointInfo[],
  localPool: boolean,
): RealServers {
  // Most Service ports have no terminating endpoint: no set and no list to build then.
  let picked: Set<EndpointInfo> | undefined;
  let draining: EndpointInfo[] | undefined;
  for (const e of info.endpoints) {
    if (!e.terminating) continue;
    picked ??= new Set(chosen);
    if (picked.has(e)) continue;
    if (localPool && e.nodeName !== node.name) continue;
    draining ??= [];
    draining.push(e);
  }
  return { active: chosen, draining: draining ?? NONE };
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
