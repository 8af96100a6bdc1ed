/**
 * What `podnet probe` asks the kernel and what the simulator predicts for it: one case per source (each
 * pod, and each node: a process in its namespace), destination pod and port its listeners open (the
 * ports known to be served: declared, or a Service's target; TCP, UDP), one per source and destination
 * pod to a TCP port nothing serves there, and with `toServices` one per source and Service ClusterIP
 * port. A case's prediction comes from the tracer (routes, kube-proxy, policy), per endpoint for
 * Services; `judge` compares it with what a real connection got.
 *
 *   pod → pod:      allowed ⇔ the trace delivers it; then the pod that answers and the client address it
 *                   saw must be the trace's
 *   pod → unserved: the trace's `arrived` (the packet reaches the pod's namespace, where whether a
 *                   process listens is unknown) ⇔ the kernel refuses the connection (ECONNREFUSED: the
 *                   pod's kernel answers the SYN with a reset, as nothing listens there); a trace that
 *                   ends before the pod (a policy drops it) ⇔ any other failure (a timeout). An answer
 *                   always disagrees (nothing listens there in the data plane).
 *   pod → Service:  the backend that answers must be one whose trace delivers, with that trace's client
 *                   address; no answer is a disagreement only when every backend's trace delivers.
 *                   Services whose backends are not pods (the API server) are not probed.
 *   → nodePort:     (with `toServices`) at every address of every node, and from a node at 127.0.0.1 on
 *                   itself, judged like a Service: kube-proxy takes it on the addresses
 *                   `nodePortAddresses` selects (localhost too in iptables mode, as route_localnet lets
 *                   it); elsewhere no backend's trace delivers, so no answer agrees.
 *   → host network: a host-network pod's served ports at every address of its node.
 */
import type { ClusterState, NodeState } from "../control/state.ts";
import type { Pod, Protocol } from "../model/k8s.ts";
import { formatIPv4, parseIPv4 } from "../net/ipv4.ts";
import { Network } from "../sim/network.ts";
import { type Source, trace, traceEachEndpoint } from "../sim/trace.ts";
import { loadBalancerRoutes, OUTSIDE_CLIENT } from "./outside.ts";
import { type DeclaredPort, hostListeners, listenerPorts } from "./plan.ts";

export interface ProbeCase {
  id: number;
  /** `ns/name` of the source pod, or `node/NAME`. */
  from: string;
  /** What was asked: `ns/pod:port/PROTO` or `ns/service:port/PROTO`. */
  to: string;
  ip: string;
  port: number;
  protocol: "TCP" | "UDP";
  service?: string;
  /** Per backend pod whose trace delivers: the client address it sees. */
  allowed: Map<string, string>;
  /** How many backends the Service has (1 for a pod). */
  backends: number;
  /** Why the simulator denies it, when it does. */
  reason?: string;
  /**
   * For a port nothing serves (a `pod → unserved` case): whether the trace `arrived` at the pod's
   * namespace, so the kernel should refuse the connection there.
   */
  arrives?: boolean;
}

export interface ProbeOptions {
  protocol?: "TCP" | "UDP";
  port?: number;
  toServices?: boolean;
  /** The nodes as sources too (`node/NAME`: a process in the node's namespace, such as the kubelet). Default: true. */
  fromNodes?: boolean;
  /**
   * The outside client (./outside.ts, source `outside`) to every port of every load-balancer IP,
   * received by the node(s) the simulator's election names (../control/load-balancers.ts, by the
   * Cluster config's `spec.loadBalancer.mode`). Default: false (a cluster built without it has none).
   */
  fromOutside?: boolean;
}

/** The `from` of the outside client's probes. */
export const OUTSIDE_SOURCE = "outside";

export function probeCases(state: ClusterState, opts: ProbeOptions = {}): ProbeCase[] {
  const net = new Network(state);
  const cases: ProbeCase[] = [];
  const pods = state.pods.filter(
    (p) =>
      p.status?.podIP && !p.spec.hostNetwork && p.status.phase !== "Succeeded" && p.status.phase !== "Failed",
  );
  const keep = (protocol: Protocol, port: number) =>
    (protocol === "TCP" || protocol === "UDP") &&
    (!opts.protocol || opts.protocol === protocol) &&
    (opts.port === undefined || opts.port === port);
  const run = (
    source: Source,
    ip: string,
    port: number,
    protocol: Protocol,
    endpoint?: Parameters<typeof trace>[1]["endpoint"],
  ) => {
    // A connection is answered only if the answer finds its way back too (it may not: an address that
    // lies in the client node's podCIDR but belongs to a pod elsewhere is ARPed for on the client's link).
    const r = trace(
      net,
      { source, dst: parseIPv4(ip)!, dport: port, protocol, ...(endpoint ? { endpoint } : {}) },
      { reply: true },
    );
    // The same holds for the kernel's reset where nothing listens (`arrived`).
    if ((r.verdict === "delivered" || r.verdict === "arrived") && r.reply && r.reply.verdict !== "delivered")
      return {
        ...r,
        verdict: "dropped" as const,
        reason: `the answer does not come back: ${r.reply.reason}`,
      };
    return r;
  };
  const sources: { from: string; source: Source }[] = pods.map((pod) => ({
    from: `${pod.metadata.namespace}/${pod.metadata.name}`,
    source: { kind: "pod", pod },
  }));
  if (opts.fromNodes !== false)
    for (const node of state.nodes)
      sources.push({ from: `node/${node.name}`, source: { kind: "node", node } });
  // Destinations: every pod's served ports, and the host-network pods' that have a socket, at every
  // address of their node (the listener binds INADDR_ANY; the simulator delivers on each local address).
  const destinations: {
    pod: Pod;
    ips: string[];
    ports: { port: number; protocol: Protocol }[];
    unserved?: number;
  }[] = [
    ...pods.map((pod) => {
      const ports = listenerPorts(state, pod);
      return { pod, ips: [pod.status!.podIP!], ports, unserved: unservedPort(ports) };
    }),
    ...hostListeners(state).map(({ pod, node, ports }) => ({ pod, ips: localIPs(net, node), ports })),
  ];
  for (const { from, source } of sources) {
    for (const d of destinations) {
      const { pod: dst, ports } = d;
      if (source.kind === "pod" && dst === source.pod) continue;
      const to = `${dst.metadata.namespace}/${dst.metadata.name}`;
      for (const ip of d.ips)
        for (const p of ports) {
          const protocol = p.protocol;
          if (!keep(protocol, p.port)) continue;
          const r = run(source, ip, p.port, protocol);
          const allowed = new Map<string, string>();
          if (r.verdict === "delivered" && r.delivered?.pod)
            allowed.set(r.delivered.pod, ipOf(r.delivered.seenSource));
          cases.push({
            id: cases.length,
            from,
            // A host-network pod's further node addresses are named: `ns/pod@ip:port/PROTO`.
            to: `${to}${ip === dst.status!.podIP ? "" : `@${ip}`}:${p.port}/${protocol}`,
            ip,
            port: p.port,
            protocol: protocol as "TCP" | "UDP",
            allowed,
            backends: 1,
            ...(allowed.size ? {} : { reason: r.reason }),
          });
        }
      if (d.unserved !== undefined && keep("TCP", d.unserved)) {
        const r = run(source, dst.status!.podIP!, d.unserved, "TCP");
        cases.push({
          id: cases.length,
          from,
          to: `${to}:${d.unserved}/TCP`,
          ip: dst.status!.podIP!,
          port: d.unserved,
          protocol: "TCP",
          allowed: new Map(),
          backends: 1,
          arrives: r.verdict === "arrived",
          reason: `${r.verdict}: ${r.reason}`,
        });
      }
    }
    if (!opts.toServices) continue;
    for (const svc of state.services) {
      const vip = svc.spec.clusterIP;
      if (!vip || vip === "None") continue;
      for (const sp of svc.spec.ports ?? []) {
        const protocol = sp.protocol ?? "TCP";
        if (!keep(protocol, sp.port)) continue;
        const info = net.proxy.frontendAt(parseIPv4(vip)!, protocol, sp.port)?.info;
        // Backends that are pods: others (the API server on a node) have no listener in the data plane.
        const endpoints = info?.endpoints.filter((e) => e.ready && e.pod) ?? [];
        if (endpoints.length === 0) continue;
        const allowed = new Map<string, string>();
        let reason: string | undefined;
        for (const e of endpoints) {
          const r = run(source, vip, sp.port, protocol, e);
          if (r.verdict === "delivered" && r.delivered?.pod)
            allowed.set(r.delivered.pod, ipOf(r.delivered.seenSource));
          else reason ??= `${formatIPv4(e.ip)}:${e.port}: ${r.reason}`;
        }
        const name = `${svc.metadata.namespace}/${svc.metadata.name}`;
        cases.push({
          id: cases.length,
          from,
          to: `${name}:${sp.port}/${protocol}`,
          ip: vip,
          port: sp.port,
          protocol: protocol as "TCP" | "UDP",
          service: name,
          allowed,
          backends: endpoints.length,
          ...(reason ? { reason } : {}),
        });
      }
    }
    // nodePorts at every address of every node: delivered where kube-proxy takes the nodePort on that
    // address (`nodePortAddresses`), by a backend whose trace delivers; elsewhere the packet arrives at
    // the node, where nothing listens (refused), unless a host-network pod serves the port there.
    for (const svc of state.services) {
      for (const sp of svc.spec.ports ?? []) {
        const protocol = sp.protocol ?? "TCP";
        if (sp.nodePort === undefined || !keep(protocol, sp.nodePort)) continue;
        const name = `${svc.metadata.namespace}/${svc.metadata.name}`;
        // A node also asks its own loopback address: localhost nodePorts (kube-proxy's iptables mode
        // takes them, with route_localnet; nftables mode never does).
        for (const node of state.nodes)
          for (const ip of [
            ...localIPs(net, node),
            ...(source.kind === "node" && source.node === node ? ["127.0.0.1"] : []),
          ]) {
            const req = { source, dst: parseIPv4(ip)!, dport: sp.nodePort, protocol };
            const { first, traces } = traceEachEndpoint(net, req, { reply: true });
            const all = traces.length ? traces : [first];
            const allowed = new Map<string, string>();
            let reason: string | undefined;
            for (const r of all) {
              const back = r.reply === undefined || r.reply.verdict === "delivered";
              if (r.verdict === "delivered" && r.delivered?.pod && back)
                allowed.set(r.delivered.pod, ipOf(r.delivered.seenSource));
              else
                reason ??= `${r.verdict}: ${back ? r.reason : `the answer does not come back: ${r.reply!.reason}`}`;
            }
            cases.push({
              id: cases.length,
              from,
              to: `${name}@node/${node.name}/${ip}:${sp.nodePort}/${protocol}`,
              ip,
              port: sp.nodePort,
              protocol: protocol as "TCP" | "UDP",
              service: name,
              allowed,
              backends: all.length,
              ...(reason ? { reason } : {}),
            });
          }
      }
    }
  }
  if (opts.fromOutside) cases.push(...outsideCases(state, net, keep, cases.length));
  return cases;
}

/**
 * From the outside client to every port of every load-balancer IP: the packet reaches the node(s) the
 * election names (l2: the one elected; bgp: any of them, as the underlay's multipath route hashes
 * it), and is judged like a Service: any backend whose trace from outside, through that node,
 * delivers and comes back may answer, seeing the client address its trace says. No receiving node: the
 * underlay has no route for the IP, so nothing answers.
 */
function outsideCases(
  state: ClusterState,
  net: Network,
  keep: (protocol: Protocol, port: number) => boolean,
  firstId: number,
): ProbeCase[] {
  const cases: ProbeCase[] = [];
  const client = parseIPv4(OUTSIDE_CLIENT)!;
  for (const lb of loadBalancerRoutes(state)) {
    const name = `${lb.service.metadata.namespace}/${lb.service.metadata.name}`;
    for (const sp of lb.service.spec.ports ?? []) {
      const protocol = sp.protocol ?? "TCP";
      if (!keep(protocol, sp.port)) continue;
      const allowed = new Map<string, string>();
      let reason: string | undefined = lb.placement.nodes.length ? undefined : lb.placement.why;
      let backends = 0;
      for (const node of lb.placement.nodes) {
        const req = {
          source: { kind: "external" as const, ip: client, node },
          dst: parseIPv4(lb.ip)!,
          dport: sp.port,
          protocol,
        };
        const { first, traces } = traceEachEndpoint(net, req, { reply: true });
        const all = traces.length ? traces : [first];
        backends += all.length;
        for (const r of all) {
          // A reply to the outside leaves the node (`forwarded`) with the client receiving it (`delivered` set).
          const back =
            r.reply === undefined || r.reply.verdict === "delivered" || r.reply.delivered !== undefined;
          if (r.verdict === "delivered" && r.delivered?.pod && back)
            allowed.set(r.delivered.pod, ipOf(r.delivered.seenSource));
          else
            reason ??= `via node ${node.name}: ${r.verdict}: ${back ? r.reason : `the answer does not come back: ${r.reply!.reason}`}`;
        }
      }
      cases.push({
        id: firstId + cases.length,
        from: OUTSIDE_SOURCE,
        to: `${name}@${lb.ip}:${sp.port}/${protocol} (${lb.placement.why})`,
        ip: lb.ip,
        port: sp.port,
        protocol: protocol as "TCP" | "UDP",
        service: name,
        allowed,
        backends: Math.max(backends, 1),
        ...(reason ? { reason } : {}),
      });
    }
  }
  return cases;
}

/** The addresses of a node that are its own (local): each of its InternalIPs and on-interface ExternalIPs. */
function localIPs(net: Network, node: NodeState): string[] {
  return node.ips.filter((ip) => net.nodeByIP.get(ip) === node).map(formatIPv4);
}

export interface KernelResult {
  ok: boolean;
  answer?: { pod?: string; client?: string } | string;
  error?: string;
}

export interface Judgement {
  agree: boolean;
  kernel: string;
  simulator: string;
}

/** Compare one real connection with the prediction. */
export function judge(c: ProbeCase, k: KernelResult): Judgement {
  const answer = typeof k.answer === "object" ? k.answer : undefined;
  const kernel = k.ok
    ? `answered by ${answer?.pod ?? "?"}, client ${answer?.client ?? "?"}`
    : `no answer (${k.error ?? "?"})`;
  if (c.arrives !== undefined) {
    // A port nothing serves: `arrived` ⇔ refused by the pod's kernel; an answer never agrees.
    const refused = !k.ok && k.error === "ECONNREFUSED";
    return {
      agree: !k.ok && refused === c.arrives,
      kernel: refused ? "refused (reached the pod: nothing listens there)" : kernel,
      simulator: c.reason ?? (c.arrives ? "arrived" : "denied"),
    };
  }
  const simulator =
    c.allowed.size === 0
      ? `denied${c.reason ? `: ${c.reason}` : ""}`
      : `allowed: ${[...c.allowed].map(([pod, client]) => `${pod} sees ${client}`).join(", ")}${c.allowed.size < c.backends ? ` (${c.backends - c.allowed.size} of ${c.backends} backends denied)` : ""}`;
  if (!k.ok) return { agree: c.allowed.size < c.backends, kernel, simulator };
  const want = answer?.pod ? c.allowed.get(answer.pod) : undefined;
  return { agree: want !== undefined && ipOf(answer?.client ?? "") === want, kernel, simulator };
}

function ipOf(hostPort: string): string {
  return hostPort.split(":")[0];
}

/**
 * A TCP port no listener of the pod opens, to probe what the kernel does where nothing listens: the
 * discard port 9 unless served, else the next free one above it.
 */
function unservedPort(ports: readonly DeclaredPort[]): number {
  let port = 9;
  while (ports.some((p) => p.protocol === "TCP" && p.port === port)) port++;
  return port;
}
