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
  // v1alpha1 allows 100 rules and 100 peers or ports per rule; v1alpha2 (ClusterNetworkPolicy) 25.
  const most = obj.kind === "ClusterNetworkPolicy" ? 25 : 100;
  const subject = c.map(spec.subject, ["spec", "subject"]);
  // Without a subject the rules are still checked, so that every fault shows in one run.
  if (c.required(subject, ["spec", "subject"], "spec.subject", "add subject.namespaces or subject.pods")) {
    exactlyOne(c, subject, ["spec", "subject"], "subject");
    checkSelector(c, subject.namespaces, ["spec", "subject", "namespaces"]);
    namespacedPod(c, subject.pods, ["spec", "subject", "pods"]);
  }
  const actions =
    obj.kind === "AdminNetworkPolicy"
      ? (["Allow", "Deny", "Pass"] as const)
      : obj.kind === "BaselineAdminNetworkPolicy"
        ? (["Allow", "Deny"] as const)
        : (["Accept", "Deny", "Pass"] as const);
  for (const dir of ["ingress", "egress"] as const) {
    const rules = c.list(spec[dir], ["spec", dir], "keep");
    itemCount(c, rules, ["spec", dir], 0, most, `${dir} rules`);
    rules?.forEach((rule, i) => {
      const rp = ["spec", dir, i];
      const m = mapItem(c, rule, rp);
      if (!m) return;
      const name = c.string(m.name, [...rp, "name"]);
      if (name !== undefined && name.length > 100)
        c.error(
          [...rp, "name"],
          "invalid-value",
          `a rule name may have at most 100 characters; this one has ${name.length}`,
          "shorten the name",
        );
      c.required(
        c.oneOf(m.action, [...rp, "action"], actions),
        [...rp, "action"],
        "action",
        `use one of ${actions.join(", ")}`,
      );
      checkAdminPorts(c, m, rp, most, obj.kind === "ClusterNetworkPolicy");
      const field = dir === "ingress" ? "from" : "to";
      const peers = c.list(m[field], [...rp, field], "keep");
      if (
        !c.required(
          peers,
          [...rp, field],
          `a rule's ${field}`,
          `list the ${dir === "ingress" ? "sources" : "destinations"} under ${field}, e.g. ${field}: [{namespaces: {}}]`,
          m,
        )
      )
        return;
      itemCount(c, peers, [...rp, field], 1, most, `${field} peers`);
      peers.forEach((peer, j) => {
        const pp = [...rp, field, j];
        const pm = mapItem(c, peer, pp);
        if (!pm) return;
        checkSelector(c, pm.namespaces, [...pp, "namespaces"]);
        checkSelector(c, pm.nodes, [...pp, "nodes"]);
        namespacedPod(c, pm.pods, [...pp, "pods"]);
        const networks = c.list(pm.networks, [...pp, "networks"], "keep");
        itemCount(c, networks, [...pp, "networks"], 1, 25, "networks");
        networks?.forEach((n, k) => {
          checkNetwork(c, n, [...pp, "networks", k]);
        });
        const domains = c.list(pm.domainNames, [...pp, "domainNames"], "keep");
        itemCount(c, domains, [...pp, "domainNames"], 1, 25, "domainNames");
        exactlyOne(c, pm, pp, "peer");
      });
    });
  }
}

/**
 * A list's minItems/maxItems of the CRD schema: `[]` where at least one item is required (an empty
 * `from: []` would select nothing and the API server refuses it), or more than `max` items.
 */
function itemCount(
  c: Check,
  list: unknown[] | undefined,
  at: FieldPath,
  min: number,
  max: number,
  what: string,
): void {
  if (!list) return;
  if (list.length < min)
    c.error(
      at,
      "invalid-value",
      `${what}: at least ${min} item${min === 1 ? "" : "s"} required, found an empty list (the CRD's minItems)`,
      "list at least one item, or remove the field",
    );
  else if (list.length > max)
    c.error(
      at,
      "invalid-value",
      `${what}: at most ${max} items allowed, found ${list.length} (the CRD's maxItems)`,
      `split them over several rules or policies of at most ${max}`,
    );
}

/** A `pods` subject or peer (NamespacedPod): namespaceSelector and podSelector, both required. */
function namespacedPod(c: Check, v: unknown, at: FieldPath): void {
  const pods = c.map(v, at);
  if (!pods) return;
  for (const key of ["namespaceSelector", "podSelector"] as const) {
    if (pods[key] === undefined || pods[key] === null) {
      c.required(undefined, [...at, key], `pods.${key}`, `add ${key}: {} to select every one`, pods);
      continue;
    }
    checkSelector(c, pods[key], [...at, key]);
  }
}

/**
 * An admin policy rule's ports (v1alpha1 `ports`) or protocols (v1alpha2 `protocols`), each list
 * of 1 to `most` items. A range needs start and end; v1alpha2's CEL rule refuses start >= end,
 * v1alpha1 has no such rule (a range whose start is after its end matches no port: a warning).
 */
function checkAdminPorts(c: Check, rule: Rec, at: FieldPath, most: number, v1alpha2: boolean): void {
  const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
  const range = (r: Rec | undefined, path: FieldPath) => {
    if (!r) return;
    c.required(r.start, [...path, "start"], "start", "add the first port of the range", r);
    c.required(r.end, [...path, "end"], "end", "add the last port of the range", r);
    const start = c.port(r.start, [...path, "start"]);
    const end = c.port(r.end, [...path, "end"]);
    if (start === undefined || end === undefined) return;
    if (v1alpha2 && start >= end)
      c.error(
        path,
        "invalid-range",
        `start ${start} must be less than end ${end} (the CRD's rule self.start < self.end)`,
        start === end ? `use destinationPort.number: ${start} for one port` : "swap start and end",
      );
    else if (start > end)
      c.warn(
        path,
        "empty-range",
        `start ${start} is after end ${end}: the range matches no port`,
        "swap start and end",
      );
  };
  const ports = c.list(rule.ports, [...at, "ports"], "keep");
  itemCount(c, ports, [...at, "ports"], 1, most, "ports");
  const protocols = c.list(rule.protocols, [...at, "protocols"], "keep");
  itemCount(c, protocols, [...at, "protocols"], 1, most, "protocols");
  ports?.forEach((p, i) => {
    const pp = [...at, "ports", i];
    const m = mapItem(c, p, pp);
    if (!m) return;
    exactlyOne(c, m, pp, "port");
    const num = c.map(m.portNumber, [...pp, "portNumber"]);
    if (num) {
      c.oneOf(num.protocol, [...pp, "portNumber", "protocol"], PROTOCOLS);
      if (c.required(num.port, [...pp, "portNumber", "port"], "portNumber.port", "add port: N", num))
        c.port(num.port, [...pp, "portNumber", "port"]);
    }
    const r = c.map(m.portRange, [...pp, "portRange"]);
    if (r) c.oneOf(r.protocol, [...pp, "portRange", "protocol"], PROTOCOLS);
    range(r, [...pp, "portRange"]);
    c.string(m.namedPort, [...pp, "namedPort"]);
  });
  protocols?.forEach((p, i) => {
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
      : what === "subject"
        ? `a policy has one subject: keep ${keys.join(" or ")} (pods: {namespaceSelector, podSelector} selects some pods of the selected namespaces), and put the other in a policy of its own`
        : what === "peer"
          ? `give each its own peer: one list item per field (- ${keys.join(": … and - ")}: …); the rule matches traffic from or to any of its peers`
          : `give each its own list item (- ${keys.join(": … and - ")}: …)`,
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
