/**
 * The admin tiers of sigs.k8s.io/network-policy-api: AdminNetworkPolicy and
 * BaselineAdminNetworkPolicy (v1alpha1) and ClusterNetworkPolicy (v1alpha2), as their CRDs'
 * OpenAPI and CEL rules check them.
 */
import type { FieldPath } from "../../diagnostics.ts";
import { parseCidrSloppy } from "../../net/ipv4.ts";
import type { Check, Rec } from "../check.ts";
import { checkSelector } from "./shared.ts";

/** AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy: the fields later stages rely on. */
export function validateAdminPolicy(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.subject")) return;
  if (obj.kind === "AdminNetworkPolicy") {
    if (
      c.required(
        spec.priority,
        ["spec", "priority"],
        "spec.priority",
        "add a priority from 0 (first) to 1000",
      )
    ) {
      c.int(spec.priority, ["spec", "priority"], 0, 1000, "priority");
    }
  }
  if (obj.kind === "ClusterNetworkPolicy") {
    c.oneOf(spec.tier, ["spec", "tier"], ["Admin", "Baseline"] as const);
    c.int(spec.priority, ["spec", "priority"], 0, 1000, "priority");
  }
  const subject = c.map(spec.subject, ["spec", "subject"]);
  if (!c.required(subject, ["spec", "subject"], "spec.subject", "add subject.namespaces or subject.pods"))
    return;
  exactlyOne(c, subject, ["spec", "subject"], "subject");
  checkSelector(c, subject.namespaces, ["spec", "subject", "namespaces"]);
  const pods = c.map(subject.pods, ["spec", "subject", "pods"]);
  if (pods) {
    checkSelector(c, pods.namespaceSelector, ["spec", "subject", "pods", "namespaceSelector"]);
    checkSelector(c, pods.podSelector, ["spec", "subject", "pods", "podSelector"]);
  }
  const actions =
    obj.kind === "AdminNetworkPolicy"
      ? (["Allow", "Deny", "Pass"] as const)
      : obj.kind === "BaselineAdminNetworkPolicy"
        ? (["Allow", "Deny"] as const)
        : (["Accept", "Deny", "Pass"] as const);
  for (const dir of ["ingress", "egress"] as const) {
    c.list(spec[dir], ["spec", dir], "keep")?.forEach((rule, i) => {
      const rp = ["spec", dir, i];
      const m = mapItem(c, rule, rp);
      if (!m) return;
      c.required(
        c.oneOf(m.action, [...rp, "action"], actions),
        [...rp, "action"],
        "action",
        `use one of ${actions.join(", ")}`,
      );
      checkAdminPorts(c, m, rp);
      const peers = c.list(
        m[dir === "ingress" ? "from" : "to"],
        [...rp, dir === "ingress" ? "from" : "to"],
        "keep",
      );
      peers?.forEach((peer, j) => {
        const pp = [...rp, dir === "ingress" ? "from" : "to", j];
        const pm = mapItem(c, peer, pp);
        if (!pm) return;
        checkSelector(c, pm.namespaces, [...pp, "namespaces"]);
        const pods = c.map(pm.pods, [...pp, "pods"]);
        if (pods) {
          checkSelector(c, pods.namespaceSelector, [...pp, "pods", "namespaceSelector"]);
          checkSelector(c, pods.podSelector, [...pp, "pods", "podSelector"]);
        }
        c.list(pm.networks, [...pp, "networks"], "keep")?.forEach((n, k) => {
          checkNetwork(c, n, [...pp, "networks", k]);
        });
        exactlyOne(c, pm, pp, "peer");
      });
    });
  }
}

/** An admin policy rule's ports (v1alpha1 `ports`) or protocols (v1alpha2 `protocols`). */
function checkAdminPorts(c: Check, rule: Rec, at: FieldPath): void {
  const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
  const range = (r: Rec | undefined, path: FieldPath) => {
    if (!r) return;
    const start = c.port(r.start, [...path, "start"]);
    const end = c.port(r.end, [...path, "end"]);
    if (start !== undefined && end !== undefined && start > end)
      c.error(path, "invalid-range", `start ${start} is after end ${end}`, "swap start and end");
  };
  c.list(rule.ports, [...at, "ports"], "keep")?.forEach((p, i) => {
    const pp = [...at, "ports", i];
    const m = mapItem(c, p, pp);
    if (!m) return;
    exactlyOne(c, m, pp, "port");
    const num = c.map(m.portNumber, [...pp, "portNumber"]);
    if (num) {
      c.oneOf(num.protocol, [...pp, "portNumber", "protocol"], PROTOCOLS);
      c.port(num.port, [...pp, "portNumber", "port"]);
    }
    const r = c.map(m.portRange, [...pp, "portRange"]);
    if (r) c.oneOf(r.protocol, [...pp, "portRange", "protocol"], PROTOCOLS);
    range(r, [...pp, "portRange"]);
    c.string(m.namedPort, [...pp, "namedPort"]);
  });
  c.list(rule.protocols, [...at, "protocols"], "keep")?.forEach((p, i) => {
    const pp = [...at, "protocols", i];
    const m = mapItem(c, p, pp);
    if (!m) return;
    for (const key of ["tcp", "udp", "sctp"]) {
      const proto = c.map(m[key], [...pp, key]);
      const dest = proto && c.map(proto.destinationPort, [...pp, key, "destinationPort"]);
      if (!dest) continue;
      c.port(dest.number, [...pp, key, "destinationPort", "number"]);
      range(c.map(dest.range, [...pp, key, "destinationPort", "range"]), [
        ...pp,
        key,
        "destinationPort",
        "range",
      ]);
    }
    c.string(m.destinationNamedPort, [...pp, "destinationNamedPort"]);
  });
}

/**
 * The CRDs' minProperties/maxProperties of 1 on a subject and on a peer: exactly one of its
 * fields. A key with nothing under it is null, which the API server prunes from a CRD object
 * before validating (fields are not nullable), so it is dropped here too and does not count.
 */
function exactlyOne(c: Check, m: Rec, at: FieldPath, what: string): void {
  for (const k of Object.keys(m)) if (m[k] === null) delete m[k];
  const keys = Object.keys(m);
  if (keys.length === 1) return;
  c.error(
    at,
    "invalid-peer",
    keys.length === 0
      ? `a ${what} needs exactly one field; this one has none (a key with nothing under it is dropped)`
      : `a ${what} takes exactly one field; this one has ${keys.join(" and ")}`,
    keys.length === 0
      ? "write {} to select everything, e.g. namespaces: {}"
      : `split it into ${keys.length} ${what}s`,
  );
}

/**
 * A `networks` entry: the CRD's CIDR type, checked by CEL `isCIDR(self) && cidr(self) ==
 * cidr(self).masked()`. CEL parses with Go's strict netip (no leading zeros, no IPv4-mapped
 * IPv6) and the block must be its network address; unlike ipBlock, host bits are refused.
 */
function checkNetwork(c: Check, n: unknown, at: FieldPath): void {
  const text = c.string(n, at);
  if (text === undefined) return;
  const parsed = parseCidrSloppy(text);
  if (!parsed || parsed.nonStandard) {
    c.error(at, "invalid-cidr", `"${text}" is not a valid CIDR`, "write a block such as 10.0.0.0/8");
  } else if (parsed.hostBits) {
    c.error(
      at,
      "invalid-cidr",
      `"${text}" has host bits set; the network address is ${parsed.canonical}`,
      `write ${parsed.canonical}`,
    );
  }
}

/**
 * A list item of a CRD object: the API server prunes null fields of objects but not null items of
 * lists, which fail the schema's `type: object`.
 */
function mapItem(c: Check, v: unknown, at: FieldPath): Rec | undefined {
  if (v === null) {
    c.error(at, "wrong-type", "expected a map, found null", "remove the empty list item, or fill it in");
    return undefined;
  }
  return c.map(v, at);
}
