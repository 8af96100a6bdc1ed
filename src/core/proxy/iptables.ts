/**
 * The rules kube-proxy's iptables mode installs on one node, as `iptables-save` text (tables filter
 * and nat), for `proxyMode: iptables`:
 *
 *   filter INPUT    → KUBE-PROXY-FIREWALL, KUBE-NODEPORTS (health checks), KUBE-EXTERNAL-SERVICES
 *   filter FORWARD  → KUBE-PROXY-FIREWALL, KUBE-FORWARD, KUBE-SERVICES, KUBE-EXTERNAL-SERVICES
 *   filter OUTPUT   → KUBE-PROXY-FIREWALL, KUBE-SERVICES
 *   nat PREROUTING/OUTPUT → KUBE-SERVICES → KUBE-SVC-/KUBE-EXT-/KUBE-FW- → KUBE-SVL-/KUBE-SEP- (DNAT)
 *                           … → KUBE-NODEPORTS (last rule: local destination addresses)
 *   nat POSTROUTING → KUBE-POSTROUTING: MASQUERADE what KUBE-MARK-MASQ marked (0x4000)
 *
 * Chain names are kube-proxy's: KUBE-SVC-<16 base32 characters of SHA-256("ns/name:port" + "tcp")>,
 * KUBE-SEP-<… of the same + "ip:port">. Endpoints are chosen by `-m statistic --mode random
 * --probability 1/n, 1/(n-1), …` down the list. Rules are printed in iptables-save's canonical order
 * (`-s`, `-d`, `-p` before the `-m` matches).
 */
import { sha256 } from "@noble/hashes/sha2";
import type { ClusterState, NodeState } from "../control/state.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import { categorize, type EndpointInfo, type ServicePortInfo, ServiceProxy } from "./service-proxy.ts";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const MARK = "0x4000";

/** The first 16 characters of base32(SHA-256(text)): kube-proxy's portProtoHash. */
export function portProtoHash(text: string): string {
  const digest = sha256(new TextEncoder().encode(text));
  let out = "";
  let value = 0;
  let bits = 0;
  for (const byte of digest) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 16) break;
  }
  return out;
}

/** `ns/name:port` (`ns/name` when the port has no name): kube-proxy's ServicePortName. */
function portName(info: ServicePortInfo): string {
  const m = info.service.metadata;
  return `${m.namespace}/${m.name}${info.port.name ? `:${info.port.name}` : ""}`;
}

export function iptablesChains(info: ServicePortInfo): { svc: string; svl: string; ext: string; fw: string } {
  const h = portProtoHash(portName(info) + info.protocol.toLowerCase());
  return { svc: `KUBE-SVC-${h}`, svl: `KUBE-SVL-${h}`, ext: `KUBE-EXT-${h}`, fw: `KUBE-FW-${h}` };
}

export function iptablesEndpointChain(info: ServicePortInfo, ep: EndpointInfo): string {
  return `KUBE-SEP-${portProtoHash(`${portName(info)}${info.protocol.toLowerCase()}${formatIPv4(ep.ip)}:${ep.port}`)}`;
}

/** The node's rules as `iptables-save` text. */
export function renderIptables(
  state: ClusterState,
  node: NodeState,
  proxy = new ServiceProxy(state),
): string {
  const cfg = state.config;
  const clusterCIDR = cfg.clusterCIDR.toString();
  const filter: string[] = [];
  const nat: string[] = [];
  const natChains = new Set<string>();
  const c = (text: string) => `-m comment --comment "${text}"`;
  const p = (info: ServicePortInfo) => info.protocol.toLowerCase();
  const svcRules: string[] = [];
  const nodePortRules: string[] = [];

  // A Service's health check nodePort is opened once, with its first port.
  const firstPort = new Map<unknown, (typeof proxy.ports)[number]>();
  for (const info of proxy.ports) if (!firstPort.has(info.service)) firstPort.set(info.service, info);
  for (const info of proxy.ports) {
    const name = portName(info);
    const proto = p(info);
    const { svc: clusterChain, svl: localChain, ext: externalChain, fw: fwChain } = iptablesChains(info);
    const { cluster, local } = categorize(info.endpoints, node.name);
    const hasEndpoints = cluster.length > 0;
    const hasInternal = hasEndpoints && (!info.internalLocal || local.length > 0);
    const hasExternal = hasEndpoints && (!info.externalLocal || local.length > 0);
    const externallyAccessible =
      info.externalIPs.length > 0 || info.lbIPs.length > 0 || info.nodePort !== undefined;
    const internalChain = info.internalLocal ? localChain : clusterChain;
    const externalPolicyChain = info.externalLocal ? localChain : clusterChain;
    const usesExternal = hasEndpoints && externallyAccessible;
    const usesFw = hasEndpoints && info.lbIPs.length > 0 && info.sourceRanges.length > 0;
    const filterTarget = !hasEndpoints ? "REJECT --reject-with icmp-port-unreachable" : "DROP";
    const filterComment = !hasEndpoints ? `${name} has no endpoints` : `${name} has no local endpoints`;
    const match = (dst: string, port: number) =>
      `-d ${dst}/32 -p ${proto} ${c("{}")} -m ${proto} --dport ${port}`;

    if (info.clusterIP !== undefined) {
      const ip = formatIPv4(info.clusterIP);
      if (hasInternal)
        svcRules.push(
          `-A KUBE-SERVICES ${match(ip, info.port.port).replace("{}", `${name} cluster IP`)} -j ${internalChain}`,
        );
      else
        filter.push(
          `-A KUBE-SERVICES ${match(ip, info.port.port).replace("{}", filterComment)} -j ${filterTarget}`,
        );
    }
    for (const eip of info.externalIPs) {
      const ip = formatIPv4(eip);
      if (hasEndpoints)
        svcRules.push(
          `-A KUBE-SERVICES ${match(ip, info.port.port).replace("{}", `${name} external IP`)} -j ${externalChain}`,
        );
      if (!hasExternal)
        filter.push(
          `-A KUBE-EXTERNAL-SERVICES ${match(ip, info.port.port).replace("{}", filterComment)} -j ${filterTarget}`,
        );
    }
    for (const lb of info.lbIPs) {
      const ip = formatIPv4(lb);
      if (hasEndpoints)
        svcRules.push(
          `-A KUBE-SERVICES ${match(ip, info.port.port).replace("{}", `${name} loadbalancer IP`)} -j ${usesFw ? fwChain : externalChain}`,
        );
      if (usesFw)
        filter.push(
          `-A KUBE-PROXY-FIREWALL ${match(ip, info.port.port).replace("{}", `${name} traffic not accepted by ${fwChain}`)} -j DROP`,
        );
    }
    if (!hasExternal)
      for (const lb of info.lbIPs)
        filter.push(
          `-A KUBE-EXTERNAL-SERVICES ${match(formatIPv4(lb), info.port.port).replace("{}", filterComment)} -j ${filterTarget}`,
        );
    if (info.nodePort !== undefined) {
      if (hasEndpoints)
        nodePortRules.push(
          `-A KUBE-NODEPORTS -p ${proto} ${c(name)} -m ${proto} --dport ${info.nodePort} -j ${externalChain}`,
        );
      if (!hasExternal)
        filter.push(
          `-A KUBE-EXTERNAL-SERVICES -p ${proto} ${c(filterComment)} -m addrtype --dst-type LOCAL -m ${proto} --dport ${info.nodePort} -j ${filterTarget}`,
        );
    }
    const hc = info.service.spec.healthCheckNodePort;
    if (hc !== undefined && info === firstPort.get(info.service)) {
      filter.push(
        `-A KUBE-NODEPORTS -p tcp ${c(`${name} health check node port`)} -m tcp --dport ${hc} -j ACCEPT`,
      );
    }

    const chainRules: string[] = [];
    if (hasInternal && info.clusterIP !== undefined) {
      chainRules.push(
        `-A ${internalChain} ! -s ${clusterCIDR} -d ${formatIPv4(info.clusterIP)}/32 -p ${proto} ${c(`${name} cluster IP`)} -m ${proto} --dport ${info.port.port} -j KUBE-MARK-MASQ`,
      );
    }
    if (usesExternal) {
      natChains.add(externalChain);
      if (!info.externalLocal)
        chainRules.push(
          `-A ${externalChain} ${c(`masquerade traffic for ${name} external destinations`)} -j KUBE-MARK-MASQ`,
        );
      else {
        chainRules.push(
          `-A ${externalChain} -s ${clusterCIDR} ${c(`pod traffic for ${name} external destinations`)} -j ${clusterChain}`,
        );
        chainRules.push(
          `-A ${externalChain} ${c(`masquerade LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
        );
        chainRules.push(
          `-A ${externalChain} ${c(`route LOCAL traffic for ${name} external destinations`)} -m addrtype --src-type LOCAL -j ${clusterChain}`,
        );
      }
      if (hasExternal) chainRules.push(`-A ${externalChain} -j ${externalPolicyChain}`);
    }
    if (usesFw) {
      natChains.add(fwChain);
      for (const r of info.sourceRanges)
        chainRules.push(`-A ${fwChain} -s ${r} ${c(`${name} loadbalancer IP`)} -j ${externalChain}`);
      if (info.sourceRanges.some((r) => r.contains(node.ip))) {
        for (const lb of info.lbIPs)
          chainRules.push(
            `-A ${fwChain} -s ${formatIPv4(lb)}/32 ${c(`${name} loadbalancer IP`)} -j ${externalChain}`,
          );
      }
      chainRules.push(
        `-A ${fwChain} ${c(`other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`)}`,
      );
    }
    const usesCluster = cluster.length > 0 && (!info.internalLocal || externallyAccessible);
    const usesLocal =
      local.length > 0 && (info.internalLocal || (externallyAccessible && info.externalLocal));
    const toEndpoints = (chain: string, eps: EndpointInfo[]) => {
      natChains.add(chain);
      if (info.affinity) {
        const seconds = info.service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800;
        for (const ep of eps) {
          const sep = iptablesEndpointChain(info, ep);
          chainRules.push(
            `-A ${chain} ${c(`${name} -> ${formatIPv4(ep.ip)}:${ep.port}`)} -m recent --rcheck --seconds ${seconds} --reap --name ${sep} --mask 255.255.255.255 --rsource -j ${sep}`,
          );
        }
      }
      eps.forEach((ep, i) => {
        const prob =
          i < eps.length - 1
            ? ` -m statistic --mode random --probability ${(1 / (eps.length - i)).toFixed(11)}`
            : "";
        chainRules.push(
          `-A ${chain} ${c(`${name} -> ${formatIPv4(ep.ip)}:${ep.port}`)}${prob} -j ${iptablesEndpointChain(info, ep)}`,
        );
      });
    };
    if (usesCluster) toEndpoints(clusterChain, cluster);
    if (usesLocal) toEndpoints(localChain, local);
    const reachable = new Map<string, EndpointInfo>();
    for (const ep of [...(usesCluster ? cluster : []), ...(usesLocal ? local : [])])
      reachable.set(iptablesEndpointChain(info, ep), ep);
    for (const [sep, ep] of reachable) {
      natChains.add(sep);
      const ip = formatIPv4(ep.ip);
      chainRules.push(`-A ${sep} -s ${ip}/32 ${c(name)} -j KUBE-MARK-MASQ`);
      const recent = info.affinity ? ` -m recent --set --name ${sep} --mask 255.255.255.255 --rsource` : "";
      chainRules.push(
        `-A ${sep} -p ${proto} ${c(name)}${recent} -m ${proto} -j DNAT --to-destination ${ip}:${ep.port}`,
      );
    }
    nat.push(...chainRules);
  }

  const npIPs = proxy.nodePortIPs(node);
  const nodePortJump =
    npIPs === "all"
      ? [
          `-A KUBE-SERVICES ${c("kubernetes service nodeports; NOTE: this must be the last rule in this chain")} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
        ]
      : npIPs.map(
          (ip) =>
            `-A KUBE-SERVICES -d ${formatIPv4(ip)}/32 ${c("kubernetes service nodeports; NOTE: this must be the last rule in this chain")} -j KUBE-NODEPORTS`,
        );

  const ctNew = "-m conntrack --ctstate NEW";
  const out: string[] = [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":KUBE-EXTERNAL-SERVICES - [0:0]",
    ":KUBE-FORWARD - [0:0]",
    ":KUBE-NODEPORTS - [0:0]",
    ":KUBE-PROXY-FIREWALL - [0:0]",
    ":KUBE-SERVICES - [0:0]",
    `-A INPUT ${ctNew} ${c("kubernetes load balancer firewall")} -j KUBE-PROXY-FIREWALL`,
    `-A INPUT ${c("kubernetes health check service ports")} -j KUBE-NODEPORTS`,
    `-A INPUT ${ctNew} ${c("kubernetes externally-visible service portals")} -j KUBE-EXTERNAL-SERVICES`,
    `-A FORWARD ${ctNew} ${c("kubernetes load balancer firewall")} -j KUBE-PROXY-FIREWALL`,
    `-A FORWARD ${c("kubernetes forwarding rules")} -j KUBE-FORWARD`,
    `-A FORWARD ${ctNew} ${c("kubernetes service portals")} -j KUBE-SERVICES`,
    `-A FORWARD ${ctNew} ${c("kubernetes externally-visible service portals")} -j KUBE-EXTERNAL-SERVICES`,
    `-A OUTPUT ${ctNew} ${c("kubernetes load balancer firewall")} -j KUBE-PROXY-FIREWALL`,
    `-A OUTPUT ${ctNew} ${c("kubernetes service portals")} -j KUBE-SERVICES`,
    ...filter,
    "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
    `-A KUBE-FORWARD ${c("kubernetes forwarding rules")} -m mark --mark ${MARK}/${MARK} -j ACCEPT`,
    `-A KUBE-FORWARD ${c("kubernetes forwarding conntrack rule")} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    "COMMIT",
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    ":KUBE-MARK-MASQ - [0:0]",
    ":KUBE-NODEPORTS - [0:0]",
    ":KUBE-POSTROUTING - [0:0]",
    ":KUBE-SERVICES - [0:0]",
    ...[...natChains].sort().map((ch) => `:${ch} - [0:0]`),
    `-A PREROUTING ${c("kubernetes service portals")} -j KUBE-SERVICES`,
    `-A OUTPUT ${c("kubernetes service portals")} -j KUBE-SERVICES`,
    `-A POSTROUTING ${c("kubernetes postrouting rules")} -j KUBE-POSTROUTING`,
    `-A KUBE-MARK-MASQ -j MARK --set-xmark ${MARK}/${MARK}`,
    ...nodePortRules,
    `-A KUBE-POSTROUTING -m mark ! --mark ${MARK}/${MARK} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --set-xmark ${MARK}/0x0`,
    `-A KUBE-POSTROUTING ${c("kubernetes service traffic requiring SNAT")} -j MASQUERADE --random-fully`,
    ...svcRules,
    ...nodePortJump,
    ...nat,
    "COMMIT",
  ];
  return `${out.join("\n")}\n`;
}
