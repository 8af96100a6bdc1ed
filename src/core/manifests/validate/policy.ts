/**
 * NetworkPolicy (networking.k8s.io/v1), as `pkg/apis/networking/validation` checks it: the pod
 * selector, rules, peers, ipBlocks and ports.
 */
import { isCidrNotation } from "../../net/ipv4.ts";
import { type Check, portNameError, type Rec } from "../check.ts";
import { checkSelector } from "./shared.ts";

export function validatePolicyPorts(c: Check, ports: unknown, at: (string | number)[]): void {
  c.list(ports, at)?.forEach((p, i) => {
    const pp = [...at, i];
    const m = c.map(p, pp);
    if (!m) return;
    if (m.protocol === undefined) m.protocol = "TCP";
    c.oneOf(m.protocol, [...pp, "protocol"], ["TCP", "UDP", "SCTP"] as const);
    if (typeof m.port === "string") {
      const err = portNameError(m.port);
      if (err) c.error([...pp, "port"], "invalid-port-name", err, "use a container port's name or a number");
    } else {
      c.port(m.port, [...pp, "port"]);
    }
    if (m.endPort !== undefined) {
      const end = c.port(m.endPort, [...pp, "endPort"], "endPort");
      if (typeof m.port !== "number") {
        c.error(
          [...pp, "endPort"],
          "invalid-value",
          "endPort requires a numeric port",
          "set port to the first number of the range",
        );
      } else if (end !== undefined && end < m.port) {
        c.error(
          [...pp, "endPort"],
          "invalid-value",
          `endPort ${end} is below port ${m.port}`,
          "make endPort at least port",
        );
      }
    }
  });
}

export function validateNetworkPolicy(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.podSelector ({} selects every pod of the namespace)"))
    return;
  // podSelector is a struct, not a pointer, in the API: null and absent both decode to {} (every pod
  // of the namespace). The API server accepts both; an absent one is most likely a mistake.
  if (!("podSelector" in spec)) {
    c.warn(
      ["spec"],
      "missing-pod-selector",
      "spec.podSelector is absent; Kubernetes treats it as {} and the policy selects every pod of the namespace",
      "write podSelector: {} to say so, or select the pods meant",
    );
  }
  if (spec.podSelector === undefined || spec.podSelector === null) spec.podSelector = {};
  checkSelector(c, spec.podSelector, ["spec", "podSelector"]);
  c.list(spec.policyTypes, ["spec", "policyTypes"])?.forEach((t, i) => {
    c.oneOf(t, ["spec", "policyTypes", i], ["Ingress", "Egress"] as const);
  });
  for (const [dir, peersField] of [
    ["ingress", "from"],
    ["egress", "to"],
  ] as const) {
    c.list(spec[dir], ["spec", dir])?.forEach((rule, i) => {
      const rp = ["spec", dir, i];
      const m = c.map(rule, rp);
      if (!m) return;
      validatePolicyPorts(c, m.ports, [...rp, "ports"]);
      c.list(m[peersField], [...rp, peersField])?.forEach((peer, j) => {
        const pp = [...rp, peersField, j];
        const pm = c.map(peer, pp);
        if (!pm) return;
        checkSelector(c, pm.podSelector, [...pp, "podSelector"]);
        checkSelector(c, pm.namespaceSelector, [...pp, "namespaceSelector"]);
        const ipb = c.map(pm.ipBlock, [...pp, "ipBlock"]);
        if (
          pm.ipBlock !== undefined &&
          (pm.podSelector !== undefined || pm.namespaceSelector !== undefined)
        ) {
          c.error(
            pp,
            "invalid-peer",
            "ipBlock cannot be combined with podSelector or namespaceSelector in one peer",
            "split them into two peers (two list items)",
          );
        }
        if (pm.ipBlock === undefined && pm.podSelector === undefined && pm.namespaceSelector === undefined) {
          c.error(
            pp,
            "invalid-peer",
            "a peer needs podSelector, namespaceSelector or ipBlock",
            "add one of them, or remove the empty peer",
          );
        }
        if (ipb) validateIpBlock(c, ipb, [...pp, "ipBlock"]);
      });
    });
  }
}

export function validateIpBlock(c: Check, ipb: Rec, at: (string | number)[]): void {
  const text = c.string(ipb.cidr, [...at, "cidr"]);
  if (!c.required(text, [...at, "cidr"], "ipBlock.cidr", "add cidr, e.g. 10.0.0.0/8")) return;
  if (!isCidrNotation(text)) {
    c.error(
      [...at, "cidr"],
      "invalid-cidr",
      `"${text}" is not a valid CIDR`,
      "write a block such as 10.0.0.0/8",
    );
    return;
  }
  c.list(ipb.except, [...at, "except"])?.forEach((e, i) => {
    if (typeof e !== "string" || !isCidrNotation(e)) {
      c.error(
        [...at, "except", i],
        "invalid-cidr",
        `${JSON.stringify(e)} is not a valid CIDR`,
        "write a block such as 10.1.0.0/16",
      );
    }
  });
}
