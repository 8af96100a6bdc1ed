/**
 * Nodes: podCIDR(s), taints and the addresses podnet routes to (Namespaces need no rules beyond
 * their metadata, which the decode loop checks).
 */
import { type Check, labelKeyError, type Rec } from "../check.ts";

/** core/v1 NodeSpec's fields (Kubernetes 1.34). */
const NODE_SPEC_FIELDS = [
  "podCIDR",
  "podCIDRs",
  "providerID",
  "unschedulable",
  "taints",
  "configSource",
  "externalID",
];

export function validateNode(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  // podCIDR(s) are legacy CIDR fields: host bits and leading zeros are accepted, and the network
  // plugins read the block with its host bits cleared (net.ParseCIDR), as podnet does.
  if (spec) {
    c.fields(spec, ["spec"], NODE_SPEC_FIELDS, "a Node's spec");
    const one = c.legacyCidr(spec.podCIDR, ["spec", "podCIDR"]);
    if (one) spec.podCIDR = one.canonical;
    const list = c.list(spec.podCIDRs, ["spec", "podCIDRs"], "string");
    list?.forEach((p, i) => {
      const cidr = c.legacyCidr(p, ["spec", "podCIDRs", i]);
      if (cidr) list[i] = cidr.canonical;
    });
  }
  c.list(spec?.taints, ["spec", "taints"])?.forEach((t, i) => {
    const tp = ["spec", "taints", i];
    const m = c.map(t, tp);
    if (!m) return;
    c.fields(m, tp, ["key", "value", "effect", "timeAdded"], "a taint");
    // validateNodeTaints: a label-name key and an effect, both required.
    const key = c.string(m.key, [...tp, "key"]);
    if (c.required(key, [...tp, "key"], "taint key")) {
      const err = labelKeyError(key);
      if (err) c.error([...tp, "key"], "invalid-name", err, "taint keys are label names");
    }
    if (c.required(m.effect, [...tp, "effect"], "taint effect", "add effect: NoSchedule"))
      c.oneOf(m.effect, [...tp, "effect"], ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const);
  });
  const status = c.map(obj.status, ["status"]);
  c.list(status?.addresses, ["status", "addresses"])?.forEach((a, i) => {
    const ap = ["status", "addresses", i];
    const m = c.map(a, ap);
    if (m && (m.type === "InternalIP" || m.type === "ExternalIP")) c.ipAt(m, "address", [...ap, "address"]);
  });
}
