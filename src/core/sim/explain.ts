/**
 * Explanations of NetworkPolicy verdicts, built from traces so that they always agree with them: one
 * per endpoint a Service could pick (the verdict applies to the endpoint and its target port, after
 * kube-proxy's translation), each with the egress and ingress verdicts and their reasons.
 */
import type { Protocol } from "../model/k8s.ts";
import { formatIPv4, type IPv4 } from "../net/ipv4.ts";
import { INGRESS_CONTROLLER, ingressBackendRefs } from "../policy/connlist.ts";
import type { DirectionVerdict } from "../policy/netpol.ts";
import type { Network } from "./network.ts";
import { type TraceRequest, type TraceResult, traceEachDestination } from "./trace.ts";

export interface Explanation {
  endpoint?: string;
  pod?: string;
  allowed: boolean;
  /** How the packet's journey ended (NetworkPolicy, kube-proxy or routing decided). */
  outcome: string;
  egress?: DirectionVerdict;
  ingress?: DirectionVerdict;
}

/**
 * Why a connection is allowed or denied: one explanation per endpoint the packet's Service frontend
 * could pick (whatever the frontend); else, for a name that stands for several addresses
 * (`addresses`: a headless Service's A records), one per address, as `trace --all-endpoints`
 * gives (`traceEachDestination`); else one for the packet as traced. `allowed` is false when a
 * policy denies it or kube-proxy or routing drops or rejects it; a packet that `arrived` at a port
 * nobody declares is allowed (policy lets it through; whether a process listens is unknown).
 */
export function explainConnection(
  net: Network,
  req: TraceRequest,
  addresses?: readonly IPv4[],
): { service?: string; explanations: Explanation[] } {
  // Every frontend (ClusterIP, nodePort, externalIP, load-balancer IP): the endpoints kube-proxy picks from.
  const each = traceEachDestination(net, req, { addresses });
  const first = each.first;
  const traces: (TraceResult & { endpoint?: string })[] =
    first.endpoints.length > 1 || each.traces.length > 1 ? each.traces : [first];
  const explanations = traces.map((t) => ({
    ...(t.chosen ? { endpoint: t.chosen } : traces.length > 1 && t.endpoint ? { endpoint: t.endpoint } : {}),
    ...(t.delivered?.pod
      ? { pod: t.delivered.pod }
      : t.policy?.ingress?.subject
        ? { pod: t.policy.ingress.subject }
        : {}),
    allowed:
      (t.policy?.egress?.allowed ?? true) &&
      (t.policy?.ingress?.allowed ?? true) &&
      t.verdict !== "dropped" &&
      t.verdict !== "rejected",
    outcome: `${t.verdict}: ${t.reason}`,
    ...(t.policy?.egress ? { egress: t.policy.egress } : {}),
    ...(t.policy?.ingress ? { ingress: t.policy.ingress } : {}),
  }));
  return { ...(first.service ? { service: first.service } : {}), explanations };
}

/**
 * Why the cluster's ingress controller may or may not reach a destination: the ingress verdict of each
 * pod it would reach (every endpoint of a Service, on its target port), for the source connlist's
 * `{ingress-controller}` lines stand for — a pod nobody knows, in a namespace of its own. Egress is
 * not judged (the controller's own policies are unknown), nor routing: only NetworkPolicy and the
 * admin and baseline tiers on the destination's side.
 */
export function explainFromIngressController(
  net: Network,
  dst: { ip: IPv4; port: number; protocol: Protocol },
): { service?: string; routes: string[]; explanations: Explanation[] } {
  return { routes: routesTo(net, dst.ip), ...ingressVerdicts(net, dst) };
}

/**
 * The Ingresses and OpenShift Routes that send to an address: to the Service with that ClusterIP, or
 * to any Service with the pod at that address among its endpoints (`Ingress ns/name`, sorted).
 */
function routesTo(net: Network, ip: IPv4): string[] {
  const services = servicesAt(net, ip);
  const out = new Set<string>();
  for (const b of ingressBackendRefs(net.state)) if (services.has(`${b.ns}/${b.service}`)) out.add(b.by);
  return [...out].sort();
}

/**
 * The Services (`ns/name`) a connection to `ip` reaches: the one with that ClusterIP, or those with
 * the pod at that address among their endpoints.
 */
export function servicesAt(net: Network, ip: IPv4): Set<string> {
  const text = formatIPv4(ip);
  const services = new Set<string>();
  for (const s of net.state.services)
    if (s.spec.clusterIP === text) services.add(`${s.metadata.namespace}/${s.metadata.name}`);
  for (const slice of net.state.endpointSlices)
    if (slice.endpoints.some((e) => e.addresses.includes(text))) {
      const name = slice.metadata.labels?.["kubernetes.io/service-name"];
      if (name) services.add(`${slice.metadata.namespace}/${name}`);
    }
  return services;
}

function ingressVerdicts(
  net: Network,
  dst: { ip: IPv4; port: number; protocol: Protocol },
): { service?: string; explanations: Explanation[] } {
  const frontend = net.proxy.frontendAt(dst.ip, dst.protocol, dst.port)?.info;
  const service = net.state.services.find((s) => s.spec.clusterIP === formatIPv4(dst.ip));
  if (!frontend && service)
    return {
      explanations: [
        {
          allowed: false,
          outcome: `Service ${service.metadata.namespace}/${service.metadata.name} has no ${dst.protocol} port ${dst.port}: kube-proxy rejects the connection`,
        },
      ],
    };
  const targets = frontend
    ? frontend.endpoints.filter((e) => e.ready).map((e) => ({ ip: e.ip, port: e.port, endpoint: true }))
    : [{ ip: dst.ip, port: dst.port, endpoint: false }];
  const explanations = targets.map((t): Explanation => {
    const endpoint = t.endpoint ? { endpoint: `${formatIPv4(t.ip)}:${t.port}` } : {};
    const pod = net.podByIP.get(t.ip);
    if (!pod)
      return {
        ...endpoint,
        allowed: true,
        outcome: `no pod with a network of its own has ${formatIPv4(t.ip)}: no policy applies there`,
      };
    const name = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (!net.policy) return { ...endpoint, pod: name, allowed: true, outcome: "policies are switched off" };
    const peer = { kind: "pod" as const, pod, ip: t.ip };
    const ingress = net.policy.check(INGRESS_CONTROLLER, peer, t.port, dst.protocol).ingress;
    return { ...endpoint, pod: name, allowed: ingress.allowed, outcome: ingress.reason, ingress };
  });
  return { ...(frontend ? { service: frontend.name } : {}), explanations };
}

/** The text `podnet explain` prints. */
export function renderExplanations(
  heading: string,
  service: string | undefined,
  explanations: Explanation[],
): string {
  const out = [heading];
  for (const e of explanations) {
    out.push("");
    if (e.endpoint)
      out.push(
        service
          ? `via ${service}, endpoint ${e.endpoint}${e.pod ? ` (pod ${e.pod})` : ""}: the verdict applies to this endpoint and port`
          : `to address ${e.endpoint}${e.pod ? ` (pod ${e.pod})` : ""}, one of the name's addresses: the verdict applies to it`,
      );
    for (const d of [e.egress, e.ingress]) {
      if (!d) continue;
      out.push(`  ${d.direction} at ${d.subject ? `pod ${d.subject}` : "an address outside the pods"}`);
      out.push(`    selected by: ${d.selectedBy.length ? d.selectedBy.join(", ") : "(no policy)"}`);
      // The walk's last step is the decision itself when an admin or baseline rule decided.
      const passed = d.tier === "admin" || d.tier === "baseline" ? d.walk.slice(0, -1) : d.walk;
      for (const step of passed) out.push(`    consulted: ${step}`);
      out.push(`    ${d.reason}`);
    }
    const decidedElsewhere = e.allowed || (e.egress?.allowed !== false && e.ingress?.allowed !== false);
    const unjudged = !e.egress && !e.ingress;
    out.push(
      `  result: ${e.allowed ? "allowed" : "denied"}${(!e.allowed && decidedElsewhere) || unjudged ? ` (${e.outcome})` : ""}`,
    );
  }
  return `${out.join("\n")}\n`;
}
