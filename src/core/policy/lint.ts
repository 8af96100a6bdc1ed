/**
 * Findings about the policies of a cluster, each a warning at the field it concerns:
 *
 *   policy-selects-nothing   a NetworkPolicy's podSelector, or an admin/baseline policy's subject,
 *                            matches no pod, or only host-network pods (which policies never apply to)
 *   peer-selects-nothing     a NetworkPolicy peer (podSelector / namespaceSelector) matches no pod, or
 *                            only host-network pods (to policies, those are their node's address), so
 *                            it can never match (a rule whose every peer is like that never applies)
 *   named-port-unmatched     a rule names a port that no destination declares (ingress: the selected
 *                            pods; egress: the pods the rule's peers match)
 *   dns-egress-blocked       a workload's pods cannot reach the cluster DNS (UDP 53 to the kube-dns
 *                            endpoints), so name lookups fail
 *   policy-no-effect         removing the policy changes no allowed connection: other policies shadow
 *                            it, or it allows only what is allowed anyway (NetworkPolicies without
 *                            rules are exempt: a default deny guards the pods still to come)
 *
 * The last check compares the cluster's connlist with and without each policy, so it runs only up to
 * `maxEffectChecks` policies × pods (the report says when it was skipped).
 */
import type { ClusterState } from "../control/state.ts";
import type { Diagnostic, FieldPath } from "../diagnostics.ts";
import type { KubeObject, Pod } from "../model/k8s.ts";
import { parseIPv4 } from "../net/ipv4.ts";
import { connlist, rangeCuts, workloadOf } from "./connlist.ts";
import { PolicyEngine, type PolicyPeer } from "./netpol.ts";
import { compileTierPolicy } from "./tiers.ts";

export interface LintReport {
  findings: Diagnostic[];
  /** Checks not run, with the reason. */
  skipped: string[];
}

const live = (p: Pod) => !!p.status?.podIP && p.status.phase !== "Succeeded" && p.status.phase !== "Failed";

/** A NetworkPolicy without rules only isolates: a guard for pods to come, never reported as idle. */
function defaultDeny(o: KubeObject): boolean {
  const spec = (o.spec ?? {}) as { ingress?: unknown[]; egress?: unknown[] };
  return o.kind === "NetworkPolicy" && !spec.ingress?.length && !spec.egress?.length;
}

/**
 * A lint finding (a warning) about `obj` at `path`, located where the input defined the object:
 * `Kind ns/name`, its origin, the code, message and fix. Shared by the policy and routing linters.
 */
export function lintFinding(
  state: ClusterState,
  obj: KubeObject,
  path: FieldPath,
  code: string,
  message: string,
  hint: string,
): Diagnostic {
  return {
    severity: "warning",
    code,
    message,
    hint,
    object: `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata.name}`,
    origin: state.origins.get(obj),
    path,
  };
}

export function lintPolicies(state: ClusterState, opts: { maxEffectChecks?: number } = {}): LintReport {
  const engine = new PolicyEngine(state);
  const findings: Diagnostic[] = [];
  const skipped: string[] = [];
  const at = (obj: KubeObject, path: FieldPath, code: string, message: string, hint: string) =>
    findings.push(lintFinding(state, obj, path, code, message, hint));
  const pods = state.pods.filter((p) => live(p) && !p.spec.hostNetwork);
  // Host-network pods are never selected, as subjects or as peers: a selector that matches only them
  // is told apart from one that matches nothing, since the fix differs (README: host-network pods).
  // The engine never lets a peer match them, so they are asked as if they had a network of their own.
  const hostPods = state.pods
    .filter((p) => live(p) && p.spec.hostNetwork)
    .map((p) => ({ ...p, spec: { ...p.spec, hostNetwork: false } }));
  const peerOf = (p: Pod): PolicyPeer => ({ kind: "pod", pod: p, ip: parseIPv4(p.status!.podIP!)! });
  const idle = new Set<KubeObject>();

  // NetworkPolicies: subjects, peers, named ports.
  engine.policies.forEach((np) => {
    const selected = pods.filter(
      (p) => p.metadata.namespace === np.namespace && np.selects(p.metadata.labels),
    );
    if (selected.length === 0) {
      idle.add(np.obj);
      const host = hostPods.some(
        (p) => p.metadata.namespace === np.namespace && np.selects(p.metadata.labels),
      );
      at(
        np.obj,
        ["spec", "podSelector"],
        "policy-selects-nothing",
        host
          ? `podSelector selects only host-network pods in namespace ${np.namespace}, which policies never apply to`
          : `podSelector matches no pod in namespace ${np.namespace}`,
        host
          ? "a host-network pod's traffic is its node's: restrict it with an ipBlock of the node's address in the peers' policies, or run the pod without hostNetwork"
          : "fix the selector's labels, or remove the policy if its pods are gone",
      );
    }
    for (const direction of ["ingress", "egress"] as const) {
      const field = direction === "ingress" ? "from" : "to";
      (np[direction] ?? []).forEach((rule, i) => {
        if (rule.peers !== "all") {
          rule.peers.forEach((peer, j) => {
            if (peer.kind !== "pods") return;
            if (pods.some((p) => engine.peerMatches(peer, np.namespace, peerOf(p)))) return;
            const host = hostPods.some((p) => engine.peerMatches(peer, np.namespace, peerOf(p)));
            at(
              np.obj,
              ["spec", direction, i, field, j],
              "peer-selects-nothing",
              host
                ? `this peer selects only host-network pods, which policies never apply to (to policies they are their node's address), so ${direction} rule ${i + 1} never matches through it`
                : `this peer matches no pod, so ${direction} rule ${i + 1} never matches through it`,
              host
                ? "match a host-network pod by its node's address: an ipBlock peer"
                : "fix the selector's labels (namespaceSelector matches namespace labels, podSelector pod labels)",
            );
          });
        }
        if (rule.ports === "all") return;
        // A named port is looked up on the destination: the selected pods for ingress, the peers for egress.
        const destinations =
          direction === "ingress"
            ? selected
            : pods.filter(
                (p) =>
                  rule.peers === "all" ||
                  rule.peers.some((peer) => engine.peerMatches(peer, np.namespace, peerOf(p))),
              );
        if (destinations.length === 0) return;
        rule.ports.forEach((port, k) => {
          if (port.name === undefined) return;
          const declared = destinations.some((p) =>
            p.spec.containers.some((c) =>
              (c.ports ?? []).some((cp) => cp.name === port.name && (cp.protocol ?? "TCP") === port.protocol),
            ),
          );
          if (!declared)
            at(
              np.obj,
              ["spec", direction, i, "ports", k, "port"],
              "named-port-unmatched",
              direction === "ingress"
                ? `no pod this policy selects declares a ${port.protocol} container port named "${port.name}"`
                : `no pod egress rule ${i + 1} sends to declares a ${port.protocol} container port named "${port.name}"`,
              "use a port name the containers declare, or the port number",
            );
        });
      });
    }
  });

  // Admin and baseline policies: subjects.
  const nsLabels = new Map(state.namespaces.map((n) => [n.metadata.name, n.metadata.labels]));
  for (const obj of [
    ...state.adminNetworkPolicies,
    ...state.baselineAdminNetworkPolicies,
    ...state.clusterNetworkPolicies,
  ]) {
    const t = compileTierPolicy(obj);
    const subject = (p: Pod) =>
      t.subject.namespaces(nsLabels.get(p.metadata.namespace!)) && t.subject.pods(p.metadata.labels);
    if (!pods.some(subject)) {
      idle.add(obj);
      const host = hostPods.some(subject);
      at(
        obj,
        ["spec", "subject"],
        "policy-selects-nothing",
        host
          ? "subject selects only host-network pods, which policies never apply to"
          : "subject matches no pod",
        host
          ? "a host-network pod's traffic is its node's: use a nodes or networks peer in the other pods' policies, or run the pod without hostNetwork"
          : "fix the subject's selectors, or remove the policy",
      );
    }
  }

  // Cluster DNS: UDP 53 from every workload to the kube-dns endpoints.
  const dnsSlices = state.endpointSlices.filter(
    (s) =>
      s.metadata.namespace === "kube-system" &&
      s.metadata.labels?.["kubernetes.io/service-name"] === "kube-dns",
  );
  const dnsPort =
    dnsSlices.flatMap((s) => s.ports ?? []).find((p) => (p.protocol ?? "TCP") === "UDP")?.port ?? 53;
  const byIP = new Map(pods.map((p) => [p.status!.podIP!, p]));
  const dnsPods = dnsSlices
    .flatMap((s) => s.endpoints.flatMap((e) => e.addresses))
    .map((a) => byIP.get(a))
    .filter((p): p is Pod => !!p);
  if (dnsPods.length === 0) skipped.push("dns-egress-blocked: no kube-dns endpoints among the pods");
  else {
    const owner = workloadOf(state);
    const seen = new Set<string>();
    for (const pod of pods) {
      const name = owner(pod);
      if (seen.has(name) || dnsPods.includes(pod)) continue;
      seen.add(name);
      const verdicts = dnsPods.map((d) => engine.check(peerOf(pod), peerOf(d), dnsPort, "UDP"));
      if (verdicts.some((v) => v.allowed)) continue;
      const v = verdicts[0];
      const side = v.egress.allowed ? v.ingress : v.egress;
      const blame = v.egress.allowed
        ? engine.selecting(dnsPods[0], "ingress")[0]?.obj
        : engine.selecting(pod, "egress")[0]?.obj;
      const message = `${name} cannot reach the cluster DNS (UDP ${dnsPort} to kube-system/kube-dns's endpoints): ${side.reason}`;
      const hint = "allow egress to namespace kube-system, pods k8s-app: kube-dns, on UDP and TCP 53";
      if (blame)
        at(blame, ["spec", v.egress.allowed ? "ingress" : "egress"], "dns-egress-blocked", message, hint);
      else findings.push({ severity: "warning", code: "dns-egress-blocked", message, hint, object: name });
    }
  }

  // Policies without effect.
  const all = [
    ...state.networkPolicies,
    ...state.adminNetworkPolicies,
    ...state.baselineAdminNetworkPolicies,
    ...state.clusterNetworkPolicies,
  ].filter((o) => !idle.has(o) && !defaultDeny(o));
  const budget = opts.maxEffectChecks ?? 200_000;
  if (all.length * pods.length > budget)
    skipped.push(
      `policy-no-effect: ${all.length} policies × ${pods.length} pods is above the budget of ${budget}`,
    );
  else if (all.length > 0) {
    // Both sides cut the outside at the full cluster's boundaries, so only real differences count.
    const cuts = { ingress: rangeCuts(state, "ingress", engine), egress: rangeCuts(state, "egress", engine) };
    const key = (s: ClusterState) =>
      connlist(s, { cuts })
        .map((c) => `${c.src}>${c.dst}:${c.conn}`)
        .join("\n");
    const without = (o: KubeObject): ClusterState => ({
      ...state,
      networkPolicies: state.networkPolicies.filter((x) => x !== o),
      adminNetworkPolicies: state.adminNetworkPolicies.filter((x) => x !== o),
      baselineAdminNetworkPolicies: state.baselineAdminNetworkPolicies.filter((x) => x !== o),
      clusterNetworkPolicies: state.clusterNetworkPolicies.filter((x) => x !== o),
    });
    const base = key(state);
    for (const o of all) {
      if (key(without(o)) === base)
        at(
          o,
          ["spec"],
          "policy-no-effect",
          "removing this policy changes no allowed connection",
          "other policies already decide everything it does; remove it or correct its rules",
        );
    }
  }
  return { findings, skipped };
}
