/**
 * kube-proxy's decisions, mode-neutral, as its nftables mode makes them (pkg/proxy/nftables: the README lists them):
 *
 *   prerouting/output (nat, dstnat)   firewall (loadBalancerSourceRanges) → services map
 *                                     (ClusterIP, externalIP, LB IP) → nodeports map (local daddr)
 *                                     → service chain → endpoint chain: DNAT (+ mark for masquerade)
 *   input/forward/output (filter)     no-endpoint-services / no-endpoint-nodeports: reject or drop;
 *                                     ClusterIP on an undefined port: reject; unallocated
 *                                     serviceCIDR address: drop
 *   postrouting (nat, srcnat)         marked packets: masquerade to the egress interface's address
 *
 * Endpoints (CategorizeEndpoints): ready ones; serving-and-terminating ones only when none is ready;
 * never non-serving. Internal traffic (ClusterIP) uses all of them, or with internalTrafficPolicy Local
 * only this node's (dropped when it has none). External traffic (nodePorts, LB IPs, externalIPs) uses
 * all of them with externalTrafficPolicy Cluster (masqueraded), or with Local only this node's (source
 * kept, dropped when none) — except traffic from pods (clusterCIDR) and from the node itself, which is
 * short-circuited to all endpoints (the node's own traffic masqueraded). Masquerade also applies to
 * ClusterIP traffic from outside clusterCIDR and to hairpin traffic (a pod reaching itself).
 *
 * Where the modes differ, the model asks the cluster's mode (./modes/mode.ts), never its name:
 * `guardsServiceRange` (nftables rejects undefined ports of ClusterIPs and drops unallocated
 * serviceCIDR addresses; iptables routes those packets like any other), `nodePortAddressesDefault` and
 * `localhostNodePorts` (iptables accepts nodePorts on every local address, loopback included, unless
 * nodePortAddresses says otherwise), and `checksExternalEndpointsOnOutput` (nftables rejects the node's
 * own traffic to an external or load-balancer IP without endpoints, and drops it under
 * externalTrafficPolicy Local when the node has no endpoint, because filter-output checks
 * @no-endpoint-services before nat-output could short-circuit it; iptables' KUBE-EXTERNAL-SERVICES
 * hangs off INPUT and FORWARD only). IPVS (pkg/proxy/ipvs) differs in `localPolicy`
 * (`local-else-cluster`: a Local policy's virtual server holds this node's endpoints or, with none,
 * every endpoint; external traffic under Local is never masqueraded) and `bindsServiceAddresses`
 * (every ClusterIP, externalIP and LB IP is a local address of every node: no nodePort on them, and
 * new connections to undefined ports are rejected by KUBE-IPVS-FILTER), and names its pick
 * (`pickKey`) and its virtual servers (`describeDispatch`).
 *
 * The choice among endpoints is deterministic: with sessionAffinity ClientIP a hash of the client
 * address, otherwise a hash of the client address and port; every candidate is reported.
 */

import { fnv32a } from "../control/names.ts";
import type { ClusterState, NodeState } from "../control/state.ts";
import { nodeAddresses } from "../graph/devices.ts";
import type { Protocol, Service, ServicePort } from "../model/k8s.ts";
import { Cidr, formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import { slicesByService } from "../views.ts";
import { servicePortChainBase } from "./chain-names.ts";
import type { ProxyMode } from "./modes/mode.ts";
import { proxyMode } from "./modes/registry.ts";

const LOCALHOST = parseIPv4("127.0.0.1")!;

export interface EndpointInfo {
  ip: IPv4;
  port: number;
  nodeName?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** `ns/name` of the pod behind it, when known. */
  pod?: string;
}

export interface ServicePortInfo {
  service: Service;
  /** `ns/name:port-name` (or `ns/name` when the port has no name): kube-proxy's service port name. */
  name: string;
  port: ServicePort;
  protocol: Protocol;
  clusterIP?: IPv4;
  externalIPs: IPv4[];
  lbIPs: IPv4[];
  sourceRanges: Cidr[];
  nodePort?: number;
  endpoints: EndpointInfo[];
  internalLocal: boolean;
  externalLocal: boolean;
  affinity: boolean;
}

export type Frontend = "clusterIP" | "externalIP" | "loadBalancer" | "nodePort";

const PROTOCOL_CODE: Record<Protocol, number> = { TCP: 0, UDP: 1, SCTP: 2 };

/**
 * An (address, protocol, port) frontend as one exact integer: address × 2^18 + protocol × 2^16 + port,
 * below 2^50 (a double holds integers exactly to 2^53), so distinct frontends never share a key.
 */
function frontendKey(ip: IPv4, protocol: Protocol, port: number): number {
  return ip * 262144 + PROTOCOL_CODE[protocol] * 65536 + port;
}

/** What a service frontend did to a packet. */
export const HAIRPIN_NOTE = "hairpin (the endpoint is the client): marked for masquerade";

export type ProxyResult =
  | { kind: "none" }
  | {
      kind: "dnat";
      service: ServicePortInfo;
      frontend: Frontend;
      /** Every endpoint this node could pick for this packet. */
      candidates: EndpointInfo[];
      chosen: EndpointInfo;
      /** Whether the packet to `chosen` is marked for masquerade. */
      masquerade: boolean;
      /**
       * Marked whichever endpoint is chosen (the Service's own reasons); each endpoint chain also marks
       * hairpin traffic, the endpoint being the client (`ip saddr <endpoint> jump mark-for-masquerade`).
       */
      serviceMasquerade: boolean;
      /** Why, in kube-proxy's terms, e.g. "externalTrafficPolicy Local: short-circuit pod traffic". */
      notes: string[];
      rule: string;
    }
  | { kind: "reject" | "drop"; service?: ServicePortInfo; frontend?: Frontend; reason: string; rule: string };

export interface ProxyPacket {
  node: NodeState;
  src: IPv4;
  sport: number;
  dst: IPv4;
  dport: number;
  protocol: Protocol;
  /** The source is an address of this node (host-network traffic: `fib saddr type local`). */
  fromHost: boolean;
  /** The destination is an address of this node (`fib daddr type local`, for nodePorts). */
  toLocalAddress: boolean;
}

/** Service frontends of a cluster, indexed once; `decide` is then a few map look-ups. */
export class ServiceProxy {
  readonly ports: ServicePortInfo[] = [];
  /** By `frontendKey`: a number, as a trace looks one up per packet (a string key cost a concatenation). */
  readonly #byVip = new Map<number, { info: ServicePortInfo; frontend: Frontend }>();
  readonly #byNodePort = new Map<number, ServicePortInfo>();
  readonly #clusterIPs = new Set<IPv4>();
  /** Every ClusterIP, externalIP and LB IP, when the mode binds them to the node (IPVS: kube-ipvs0). */
  readonly #bound = new Set<IPv4>();
  /** healthCheckNodePorts (KUBE-IPVS-FILTER lets them through to the node's health check server). */
  readonly #healthCheckPorts = new Set<number>();
  /** The cluster's kube-proxy mode: where the modes differ, the model asks it (./modes/mode.ts). */
  readonly mode: ProxyMode;

  constructor(readonly state: ClusterState) {
    this.mode = proxyMode(state.config.proxyMode);
    const slices = slicesByService(state);
    for (const svc of state.services) {
      const type = svc.spec.type ?? "ClusterIP";
      if (type === "ExternalName") continue;
      const clusterIP =
        svc.spec.clusterIP && svc.spec.clusterIP !== "None" ? parseIPv4(svc.spec.clusterIP) : undefined;
      const headless = svc.spec.clusterIP === "None";
      if (clusterIP !== undefined) this.#clusterIPs.add(clusterIP);
      const mySlices = slices.get(`${svc.metadata.namespace}/${svc.metadata.name}`) ?? [];
      for (const port of svc.spec.ports ?? []) {
        const protocol = port.protocol ?? "TCP";
        const endpoints: EndpointInfo[] = [];
        for (const s of mySlices) {
          if (s.addressType !== "IPv4") continue;
          const sp = (s.ports ?? []).find(
            (p) => (p.name ?? "") === (port.name ?? "") && (p.protocol ?? "TCP") === protocol,
          );
          if (!sp || sp.port === undefined) continue;
          for (const e of s.endpoints) {
            const ip = parseIPv4(e.addresses[0]);
            if (ip === undefined) continue;
            endpoints.push({
              ip,
              port: sp.port,
              nodeName: e.nodeName,
              ready: e.conditions.ready !== false,
              serving: e.conditions.serving ?? e.conditions.ready !== false,
              terminating: e.conditions.terminating === true,
              pod:
                e.targetRef?.kind === "Pod"
                  ? `${e.targetRef.namespace ?? svc.metadata.namespace}/${e.targetRef.name}`
                  : undefined,
            });
          }
        }
        const info: ServicePortInfo = {
          service: svc,
          name: `${svc.metadata.namespace}/${svc.metadata.name}${port.name ? `:${port.name}` : ""}`,
          port,
          protocol,
          clusterIP,
          externalIPs: (svc.spec.externalIPs ?? []).map(parseIPv4).filter((x): x is IPv4 => x !== undefined),
          lbIPs:
            type === "LoadBalancer"
              ? (svc.status?.loadBalancer?.ingress ?? [])
                  .map((i) => (i.ip ? parseIPv4(i.ip) : undefined))
                  .filter((x): x is IPv4 => x !== undefined)
              : [],
          sourceRanges: (svc.spec.loadBalancerSourceRanges ?? [])
            .map((r) => Cidr.parse(r))
            .flatMap((r) => (r.ok ? [r.cidr] : [])),
          nodePort: type === "NodePort" || type === "LoadBalancer" ? port.nodePort : undefined,
          endpoints,
          internalLocal: svc.spec.internalTrafficPolicy === "Local",
          externalLocal: svc.spec.externalTrafficPolicy === "Local",
          affinity: svc.spec.sessionAffinity === "ClientIP",
        };
        if (headless) continue; // no virtual IP: nothing for kube-proxy to do
        this.ports.push(info);
        const key = (ip: IPv4) => frontendKey(ip, protocol, port.port);
        if (clusterIP !== undefined) this.#byVip.set(key(clusterIP), { info, frontend: "clusterIP" });
        for (const ip of info.externalIPs) this.#byVip.set(key(ip), { info, frontend: "externalIP" });
        for (const ip of info.lbIPs) this.#byVip.set(key(ip), { info, frontend: "loadBalancer" });
        if (info.nodePort !== undefined) this.#byNodePort.set(frontendKey(0, protocol, info.nodePort), info);
        if (this.mode.bindsServiceAddresses) {
          if (clusterIP !== undefined) this.#bound.add(clusterIP);
          for (const ip of info.externalIPs) this.#bound.add(ip);
          for (const ip of info.lbIPs) this.#bound.add(ip);
        }
      }
      if (svc.spec.healthCheckNodePort !== undefined)
        this.#healthCheckPorts.add(svc.spec.healthCheckNodePort);
    }
  }

  /**
   * Whether the mode has bound `ip` to the node as a Service address (`bindsServiceAddresses`: IPVS
   * puts every ClusterIP, externalIP and LB IP on kube-ipvs0, but for an address the node already has
   * — syncProxyRules' shouldBind), so that it is a local address there.
   */
  isBoundAddress(node: NodeState, ip: IPv4): boolean {
    return this.#bound.has(ip) && !nodeAddresses(this.state, node).includes(ip);
  }

  /** The Service port behind a virtual IP and port, if any. */
  frontendAt(
    ip: IPv4,
    protocol: Protocol,
    port: number,
  ): { info: ServicePortInfo; frontend: Frontend } | undefined {
    return this.#byVip.get(frontendKey(ip, protocol, port));
  }

  nodePortAt(protocol: Protocol, port: number): ServicePortInfo | undefined {
    return this.#byNodePort.get(frontendKey(0, protocol, port));
  }

  /**
   * The node addresses that accept nodePorts (kube-proxy's `--nodeport-addresses`), or "all" for every
   * local address. kube-proxy (cmd/kube-proxy, pkg/proxy/util/nodeport_addresses.go):
   * - unset: the mode's `nodePortAddressesDefault` (nftables: `primary`; iptables: every local address);
   * - `primary` (alone): the node's primary IP, as kubelet reports it first (`NodeState.ip`), only;
   * - CIDRs: every address on the node's interfaces inside one of them (`GetNodeIPs`): each of its
   *   InternalIPs and on-interface ExternalIPs, cni0's and the tunnel device's, and 127.0.0.1 when a
   *   CIDR holds it and the mode has `localhostNodePorts` (iptables); nftables mode never accepts loopback;
   * - a CIDR of length 0 (0.0.0.0/0): every local address.
   * The primary IP first, then in the order the node lists its addresses.
   */
  nodePortIPs(node: NodeState): IPv4[] | "all" {
    const cfg = this.state.config;
    const npa = cfg.kubeProxy.nodePortAddresses;
    if (npa.length === 0) return this.mode.nodePortAddressesDefault === "primary" ? [node.ip] : "all";
    if (npa.includes("primary")) return [node.ip]; // alone: the config refuses it next to CIDRs
    const blocks = npa.map((a) => (Cidr.parse(a) as { ok: true; cidr: Cidr }).cidr);
    if (blocks.some((b) => b.prefix === 0)) return "all";
    const local = [...nodeAddresses(this.state, node), ...(this.mode.localhostNodePorts ? [LOCALHOST] : [])];
    return local.filter((ip) => blocks.some((b) => b.contains(ip)));
  }

  /**
   * Does this node accept nodePorts on this (local) address? With "all", loopback only when the mode
   * has `localhostNodePorts` (iptables: on by default, via route_localnet; nftables: never).
   */
  acceptsNodePortOn(node: NodeState, dst: IPv4): boolean {
    const ips = this.nodePortIPs(node);
    if (ips !== "all") return ips.includes(dst);
    return this.mode.localhostNodePorts || dst >>> 24 !== 127;
  }

  decide(p: ProxyPacket): ProxyResult {
    const cfg = this.state.config;
    const fromPod = cfg.clusterCIDR.contains(p.src);
    let hit = this.frontendAt(p.dst, p.protocol, p.dport);
    let frontend: Frontend | undefined = hit?.frontend;
    // A bound Service address is local but no node address: IPVS builds nodePorts on the node's own
    // addresses only (GetAllLocalAddressesExcept(kube-ipvs0)).
    if (
      !hit &&
      p.toLocalAddress &&
      !this.isBoundAddress(p.node, p.dst) &&
      this.acceptsNodePortOn(p.node, p.dst)
    ) {
      const info = this.nodePortAt(p.protocol, p.dport);
      if (info) {
        hit = { info, frontend: "nodePort" };
        frontend = "nodePort";
      }
    }
    if (hit && frontend) {
      const info = hit.info;
      const where = frontendLabel(frontend, info, p);
      if (frontend === "loadBalancer" && info.sourceRanges.length > 0) {
        const allowed =
          info.sourceRanges.some((r) => r.contains(p.src)) ||
          (info.sourceRanges.some((r) => r.contains(p.node.ip)) && info.lbIPs.includes(p.src));
        if (!allowed) {
          return {
            kind: "drop",
            service: info,
            frontend,
            reason: `source ${formatIPv4(p.src)} is outside loadBalancerSourceRanges ${info.sourceRanges.join(", ")}`,
            rule:
              this.mode.describeRefusal?.("firewall", info, frontend, vipOf(p)) ??
              `firewall-ips: ${where} → firewall chain: ip saddr != { ${info.sourceRanges.join(", ")} } drop`,
          };
        }
      }
      const { cluster, local } = categorize(info.endpoints, p.node.name);
      const toExternalIP = frontend === "externalIP" || frontend === "loadBalancer";
      if (cluster.length === 0) {
        // A mode whose no-endpoint check of external IPs is not on the output path (iptables:
        // KUBE-EXTERNAL-SERVICES from INPUT and FORWARD only) lets the node's own traffic through.
        if (!this.mode.checksExternalEndpointsOnOutput && p.fromHost && toExternalIP) return { kind: "none" };
        return {
          kind: "reject",
          service: info,
          frontend,
          reason: `Service ${info.name} has no endpoints`,
          rule: this.mode.bindsServiceAddresses
            ? `${this.mode.describeDispatch?.(info, frontend, `${formatIPv4(p.dst)}:${p.dport}`, this.state) ?? where}: no real server, so IPVS answers ICMP port unreachable`
            : (this.mode.describeRefusal?.("reject", info, frontend, vipOf(p)) ??
              `no-endpoint-${frontend === "nodePort" ? "nodeports" : "services"}: ${where} : goto reject-chain`),
        };
      }
      const notes: string[] = [];
      let candidates: EndpointInfo[];
      let masquerade = false;
      if (this.mode.localPolicy === "local-else-cluster") {
        const internal = frontend === "clusterIP";
        const policy = internal ? "internalTrafficPolicy" : "externalTrafficPolicy";
        const wantsLocal = internal ? info.internalLocal : info.externalLocal;
        if (wantsLocal && local.length > 0) {
          candidates = local;
          notes.push(`${policy} Local: the virtual server holds this node's endpoints only`);
        } else {
          candidates = cluster;
          if (wantsLocal)
            notes.push(
              `${policy} Local, but no endpoint of ${info.name} on node ${p.node.name}: the virtual server holds every endpoint instead`,
            );
        }
        if (internal && !fromPod) {
          masquerade = true;
          notes.push(`source outside clusterCIDR ${cfg.clusterCIDR}: marked for masquerade`);
        } else if (!internal && !info.externalLocal) {
          masquerade = true;
          notes.push("externalTrafficPolicy Cluster: marked for masquerade");
        } else if (!internal) notes.push("externalTrafficPolicy Local: client address kept");
      } else if (frontend === "clusterIP") {
        if (info.internalLocal) {
          if (local.length === 0) {
            return {
              kind: "drop",
              service: info,
              frontend,
              reason: `internalTrafficPolicy Local and no endpoint of ${info.name} on node ${p.node.name}`,
              rule:
                this.mode.describeRefusal?.("drop", info, frontend, vipOf(p)) ??
                `no-endpoint-services: ${where} : drop`,
            };
          }
          candidates = local;
          notes.push("internalTrafficPolicy Local: endpoints on this node only");
        } else candidates = cluster;
        if (!fromPod) {
          masquerade = true;
          notes.push(`source outside clusterCIDR ${cfg.clusterCIDR}: marked for masquerade`);
        }
      } else if (!info.externalLocal) {
        candidates = cluster;
        masquerade = true;
        notes.push("externalTrafficPolicy Cluster: marked for masquerade");
      } else if (fromPod) {
        candidates = cluster;
        notes.push("externalTrafficPolicy Local: pod traffic short-circuits to all endpoints");
      } else if (
        p.fromHost &&
        this.mode.checksExternalEndpointsOnOutput &&
        toExternalIP &&
        local.length === 0
      ) {
        // The no-endpoint check on the output path (nftables: @no-endpoint-services in filter-output,
        // dstnat-10) comes before nat-output could short-circuit the node's own traffic: dropped.
        return {
          kind: "drop",
          service: info,
          frontend,
          reason: `externalTrafficPolicy Local, no endpoint of ${info.name} on node ${p.node.name}, and the node's own traffic meets the no-endpoint check before translation`,
          rule: `filter-output: service-endpoints-check: no-endpoint-services: ${where} : drop`,
        };
      } else if (p.fromHost) {
        candidates = cluster;
        masquerade = true;
        notes.push(
          "externalTrafficPolicy Local: the node's own traffic short-circuits to all endpoints, masqueraded",
        );
      } else if (local.length > 0) {
        candidates = local;
        notes.push("externalTrafficPolicy Local: endpoints on this node only, client address kept");
      } else {
        return {
          kind: "drop",
          service: info,
          frontend,
          reason: `externalTrafficPolicy Local and no endpoint of ${info.name} on node ${p.node.name}`,
          rule:
            this.mode.describeRefusal?.("drop", info, frontend, vipOf(p)) ??
            `no-endpoint-${frontend === "nodePort" ? "nodeports" : "services"}: ${where} : drop`,
        };
      }
      const key =
        this.mode.pickKey?.(this.state, formatIPv4(p.src), p.sport, formatIPv4(p.dst), info.affinity) ??
        (info.affinity ? formatIPv4(p.src) : `${formatIPv4(p.src)}:${p.sport}`);
      const pick = fnv32a(key);
      const chosen = candidates[pick % candidates.length];
      if (info.affinity) notes.push("sessionAffinity ClientIP: the client's address picks the endpoint");
      const serviceMasquerade = masquerade;
      if (chosen.ip === p.src) {
        masquerade = true;
        notes.push(HAIRPIN_NOTE);
      }
      const terminatingOnly = candidates.every((e) => !e.ready);
      if (terminatingOnly) notes.push("no ready endpoint: serving-terminating endpoints are used");
      return {
        kind: "dnat",
        service: info,
        frontend,
        candidates,
        chosen,
        masquerade,
        serviceMasquerade,
        notes,
        rule:
          this.mode.describeDispatch?.(info, frontend, `${formatIPv4(p.dst)}:${p.dport}`, this.state) ??
          `${frontend === "nodePort" ? "service-nodeports" : "service-ips"}: ${where} : goto ${frontend !== "clusterIP" ? "external" : info.internalLocal ? "local" : "service"}-${servicePortChainBase(info)}`,
      };
    }
    // A Service address bound to the node (IPVS: kube-ipvs0) on a port no Service defines: the filter
    // rejects the new connection, but for health check nodePorts (KUBE-IPVS-FILTER returns on them).
    if (this.isBoundAddress(p.node, p.dst) && !this.#healthCheckPorts.has(p.dport)) {
      return {
        kind: "reject",
        reason: `${formatIPv4(p.dst)} is a Service address bound to kube-ipvs0, but no Service port ${p.dport}/${p.protocol} is defined on it`,
        rule: "filter INPUT: KUBE-IPVS-FILTER: -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT",
      };
    }
    // Only a mode that guards the Service range (nftables) stops these; otherwise they are routed.
    if (!this.mode.guardsServiceRange) return { kind: "none" };
    if (this.#clusterIPs.has(p.dst)) {
      return {
        kind: "reject",
        reason: `${formatIPv4(p.dst)} is a ClusterIP, but no Service port ${p.dport}/${p.protocol} is defined on it`,
        rule: "filter: ip daddr @cluster-ips reject",
      };
    }
    if (cfg.serviceCIDR.contains(p.dst)) {
      return {
        kind: "drop",
        reason: `${formatIPv4(p.dst)} lies in serviceCIDR ${cfg.serviceCIDR} but no Service has it`,
        rule: `filter: ip daddr ${cfg.serviceCIDR} drop`,
      };
    }
    return { kind: "none" };
  }
}

/** Ready endpoints; else serving-and-terminating ones. Never non-serving. */
export function categorize(
  endpoints: readonly EndpointInfo[],
  nodeName: string,
): { cluster: EndpointInfo[]; local: EndpointInfo[] } {
  const pick = (eps: readonly EndpointInfo[]) => {
    const ready = eps.filter((e) => e.ready);
    return ready.length > 0 ? ready : eps.filter((e) => e.serving && e.terminating);
  };
  return { cluster: pick(endpoints), local: pick(endpoints.filter((e) => e.nodeName === nodeName)) };
}

/** The packet's destination as `address:port`, the `vip` a mode's descriptions take. */
function vipOf(p: ProxyPacket): string {
  return `${formatIPv4(p.dst)}:${p.dport}`;
}

function frontendLabel(frontend: Frontend, info: ServicePortInfo, p: ProxyPacket): string {
  const proto = info.protocol.toLowerCase();
  if (frontend === "nodePort") return `${proto} . ${p.dport}`;
  return `${formatIPv4(p.dst)} . ${proto} . ${p.dport}`;
}
