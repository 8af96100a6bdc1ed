/**
 * Nodes: podCIDR(s), taints and the addresses podnet routes to (Namespaces need no rules beyond
 * their metadata, which the decode loop checks).
 */
import { isCidrNotation } from "../../net/ipv4.ts";
import type { Check, Rec } from "../check.ts";

export function validateNode(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  c.cidr(spec?.podCIDR, ["spec", "podCIDR"]);
  c.list(spec?.podCIDRs, ["spec", "podCIDRs"])?.forEach((p, i) => {
    // Dual-stack nodes list an IPv6 block too; only its syntax is checked here.
    if (typeof p !== "string" || !isCidrNotation(p)) {
      c.error(
        ["spec", "podCIDRs", i],
        "invalid-cidr",
        `${JSON.stringify(p)} is not a valid CIDR`,
        "write a block such as 10.244.1.0/24",
      );
    }
  });
  c.list(spec?.taints, ["spec", "taints"])?.forEach((t, i) => {
    const tp = ["spec", "taints", i];
    const m = c.map(t, tp);
    if (!m) return;
    c.required(c.string(m.key, [...tp, "key"]), [...tp, "key"], "taint key");
    c.oneOf(m.effect, [...tp, "effect"], ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const);
  });
  const status = c.map(obj.status, ["status"]);
  c.list(status?.addresses, ["status", "addresses"])?.forEach((a, i) => {
    const ap = ["status", "addresses", i];
    const m = c.map(a, ap);
    if (m?.type === "InternalIP" || m?.type === "ExternalIP") c.ip(m.address, [...ap, "address"]);
  });
}
