/**
 * Explanations of NetworkPolicy verdicts, built from traces so that they always agree with them: one
 * per endpoint a Service could pick (the verdict applies to the endpoint and its target port, after
 * kube-proxy's translation), each with the egress and ingress verdicts and their reasons.
 */
import { formatIPv4 } from "../net/ipv4.ts";
import type { DirectionVerdict } from "../policy/netpol.ts";
import type { Network } from "./network.ts";
import { type TraceRequest, type TraceResult, trace } from "./trace.ts";

export interface Explanation {
  endpoint?: string;
  pod?: string;
  allowed: boolean;
  /** How the packet's journey ended (NetworkPolicy, kube-proxy or routing decided). */
  outcome: string;
  egress?: DirectionVerdict;
  ingress?: DirectionVerdict;
}

export function explainConnection(
  net: Network,
  req: TraceRequest,
): { service?: string; explanations: Explanation[] } {
  const first = trace(net, req);
  const traces: TraceResult[] = [first];
  const frontend = net.proxy.frontendAt(req.dst, req.protocol, req.dport)?.info;
  if (first.endpoints.length > 1 && frontend) {
    traces.length = 0;
    for (const e of frontend.endpoints.filter((x) =>
      first.endpoints.includes(`${formatIPv4(x.ip)}:${x.port}`),
    ))
      traces.push(trace(net, { ...req, endpoint: e }));
  }
  const explanations = traces.map((t) => ({
    ...(t.chosen ? { endpoint: t.chosen } : {}),
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
        `via ${service}, endpoint ${e.endpoint}${e.pod ? ` (pod ${e.pod})` : ""}: the verdict applies to this endpoint and port`,
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
    out.push(
      `  result: ${e.allowed ? "allowed" : "denied"}${!e.allowed && decidedElsewhere ? ` (${e.outcome})` : ""}`,
    );
  }
  return `${out.join("\n")}\n`;
}
