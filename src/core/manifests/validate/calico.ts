/**
 * Calico's `IPPool` (crd.projectcalico.org/v1, projectcalico.org/v3), validated as Calico validates
 * it: the CRD's schema and CEL rules (api/pkg/apis/projectcalico/v3/ippool.go, the
 * `+kubebuilder:validation` markers), libcalico-go's `validateIPPoolSpec`
 * (lib/validator/v3/validator.go) and the defaults the v3 client fills in (blockSize 26 for IPv4,
 * ipipMode and vxlanMode `Never`, nodeSelector `all()`, assignmentMode `Automatic`). Unknown fields
 * are errors: calicoctl decodes strictly (`yaml.UnmarshalStrict`) and kubectl's strict field
 * validation refuses them against the CRD's schema.
 *
 * What needs every pool at once (pools overlapping each other or the Service range, a pool too small
 * for the cluster) is checked by the calico plugin's IPAM (src/core/cni/calico/ipam.ts).
 */
import { parseCalicoSelector } from "../../cni/calico/selector.ts";
import { Cidr, isIPv6 } from "../../net/ipv4.ts";
import type { Check, Rec } from "../check.ts";

/** The fields of an IPPool's spec (IPPoolSpec in api/pkg/apis/projectcalico/v3/ippool.go). */
const IPPOOL_SPEC_FIELDS = [
  "cidr",
  "vxlanMode",
  "ipipMode",
  "natOutgoing",
  "disabled",
  "disableBGPExport",
  "blockSize",
  "nodeSelector",
  "namespaceSelector",
  "allowedUses",
  "assignmentMode",
];

const ENCAP_MODES = ["Never", "Always", "CrossSubnet"] as const;
/** Calico's default block size for IPv4 pools (`DEFAULT_IPV4_POOL_BLOCK_SIZE`, and the v3 client's default). */
export const DEFAULT_IPV4_BLOCK_SIZE = 26;
/** The IPv4 block sizes Calico allows (the CRD's CEL rule on blockSize). */
export const MIN_IPV4_BLOCK_SIZE = 20;
export const MAX_IPV4_BLOCK_SIZE = 32;

const LINK_LOCAL = Cidr.of(0xa9fe0000, 16);

/**
 * Validates an IPPool and fills in Calico's defaults in place (`spec.blockSize`, `ipipMode`,
 * `vxlanMode`, `nodeSelector`, `assignmentMode`), so the IPAM reads a complete spec. An IPv6 pool is
 * valid to Calico; podnet allocates IPv4 only, so it is kept with a warning and not used.
 */
export function validateIPPool(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!spec) {
    c.error(
      ["spec"],
      "missing-field",
      "an IPPool needs a spec with its cidr",
      "add spec: {cidr: 10.244.0.0/16}",
    );
    return;
  }
  c.fields(spec, ["spec"], IPPOOL_SPEC_FIELDS, "an IPPool's spec", "error");
  const at = (k: string) => ["spec", k];

  const text = c.string(spec.cidr, at("cidr"));
  let cidr: Cidr | undefined;
  let v6 = false;
  if (!c.required(text, at("cidr"), "the pool's cidr", "add spec.cidr, e.g. 10.244.0.0/16", spec)) {
    // reported
  } else if (text.length > 48) {
    c.error(
      at("cidr"),
      "invalid-cidr",
      `cidr is longer than 48 characters`,
      "write a block such as 10.244.0.0/16",
    );
  } else if (text.includes(":") && text.includes("/") && isIPv6(text.slice(0, text.indexOf("/")))) {
    v6 = true;
    c.warn(
      at("cidr"),
      "ipv6-pool",
      `IPv6 pool ${text} is kept but not used: podnet allocates IPv4 addresses only`,
      "remove the pool, or read its addresses from a live dump (given addresses are kept)",
    );
  } else {
    const parsed = Cidr.parse(text);
    if (!parsed.ok) {
      const masked = /host bits set/.test(parsed.reason);
      c.error(
        at("cidr"),
        "invalid-cidr",
        masked
          ? `IPPool CIDR must be strictly masked: ${parsed.reason}`
          : `IPPool CIDR must be a valid subnet: ${parsed.reason}`,
        masked ? "use the network address of the block" : "write a block such as 10.244.0.0/16",
      );
    } else if (parsed.cidr.overlaps(LINK_LOCAL)) {
      c.error(
        at("cidr"),
        "invalid-cidr",
        `IPPool CIDR ${parsed.cidr} overlaps with IPv4 link local range 169.254.0.0/16`,
        "choose a pool outside 169.254.0.0/16 (Calico's pods use 169.254.1.1 as their gateway)",
      );
    } else cidr = parsed.cidr;
  }

  const ipip = spec.ipipMode === undefined ? "Never" : c.oneOf(spec.ipipMode, at("ipipMode"), ENCAP_MODES);
  const vxlan =
    spec.vxlanMode === undefined ? "Never" : c.oneOf(spec.vxlanMode, at("vxlanMode"), ENCAP_MODES);
  if (ipip && vxlan && ipip !== "Never" && vxlan !== "Never") {
    c.error(
      at("vxlanMode"),
      "invalid-value",
      "ipipMode and vxlanMode cannot both be enabled",
      "set one of them to Never (a pool is encapsulated with IP-in-IP or with VXLAN)",
    );
  }
  if (v6 && ipip && ipip !== "Never")
    c.error(at("ipipMode"), "invalid-value", "IPIP is not supported on IPv6 pools", "set ipipMode: Never");

  const natOutgoing = c.bool(spec.natOutgoing, at("natOutgoing"));
  const disabled = c.bool(spec.disabled, at("disabled"));
  const disableBGPExport = c.bool(spec.disableBGPExport, at("disableBGPExport"));

  // The schema allows 0..128; 0 means the default. The CEL rule then narrows IPv4 pools to 20..32.
  let blockSize = c.int(spec.blockSize, at("blockSize"), 0, 128, "blockSize");
  if (blockSize === 0 || (blockSize === undefined && spec.blockSize === undefined))
    blockSize = v6 ? 122 : DEFAULT_IPV4_BLOCK_SIZE;
  if (
    blockSize !== undefined &&
    !v6 &&
    (blockSize < MIN_IPV4_BLOCK_SIZE || blockSize > MAX_IPV4_BLOCK_SIZE)
  ) {
    c.error(
      at("blockSize"),
      "out-of-range",
      `blockSize ${blockSize} is out of range: Calico allows 20 to 32 for IPv4 pools`,
      "use a blockSize between 20 and 32 (26, Calico's default, gives 64 addresses a block)",
    );
    blockSize = undefined;
  }
  if (cidr && blockSize !== undefined && !disabled && cidr.prefix > blockSize) {
    c.error(
      at("cidr"),
      "pool-too-small",
      `IP pool ${cidr} is too small for use with Calico IPAM: it must be at least as large as a block (/${blockSize})`,
      `use a pool of /${blockSize} or larger, or a blockSize of at least ${cidr.prefix}`,
    );
  }

  const selector = (field: "nodeSelector" | "namespaceSelector") => {
    const s = c.string(spec[field], at(field));
    if (s === undefined) return undefined;
    if (s.length > 1024) {
      c.error(
        at(field),
        "invalid-selector",
        `${field} is longer than 1024 characters`,
        "shorten the selector",
      );
      return undefined;
    }
    const parsed = parseCalicoSelector(s);
    if (!parsed.ok) {
      c.error(
        at(field),
        "invalid-selector",
        `${field} "${s}" is not a valid Calico selector: ${parsed.error}`,
        "write a Calico selector such as all(), kubernetes.io/os == 'linux', or has(zone) && zone in {'a', 'b'}",
      );
      return undefined;
    }
    return s;
  };
  const nodeSelector = selector("nodeSelector");
  const namespaceSelector = selector("namespaceSelector");

  const uses = c.list(spec.allowedUses, at("allowedUses"), "keep");
  const useSet = new Set<string>();
  if (uses && uses.length > 10)
    c.error(at("allowedUses"), "invalid-value", "allowedUses has more than 10 items", "list each use once");
  uses?.forEach((u, i) => {
    const v = c.oneOf(u, ["spec", "allowedUses", i], ["Workload", "Tunnel", "LoadBalancer"] as const);
    if (v === undefined) return;
    if (useSet.has(v))
      c.error(["spec", "allowedUses", i], "invalid-value", `"${v}" is listed twice`, "list each use once");
    useSet.add(v);
  });
  if (useSet.has("LoadBalancer")) {
    const lb = (msg: string, fix: string, field = "allowedUses") =>
      c.error(at(field), "invalid-value", msg, fix);
    if ((ipip && ipip !== "Never") || (vxlan && vxlan !== "Never"))
      lb("LoadBalancer IP pool cannot have IPIP or VXLAN enabled", "set ipipMode and vxlanMode to Never");
    if (useSet.has("Workload") || useSet.has("Tunnel"))
      lb("LoadBalancer cannot be combined with Workload or Tunnel allowed uses", "use separate pools");
    if (disableBGPExport)
      lb("LoadBalancer IP pools cannot disable BGP export", "remove disableBGPExport", "disableBGPExport");
    if ((nodeSelector ?? "all()") !== "all()")
      lb(
        "IP Pool with AllowedUse LoadBalancer must have nodeSelector set to all()",
        "set nodeSelector: all()",
        "nodeSelector",
      );
  }
  if (useSet.has("Tunnel") && namespaceSelector)
    c.error(
      at("namespaceSelector"),
      "invalid-value",
      "IP Pool with AllowedUse Tunnel cannot have namespaceSelector",
      "remove namespaceSelector, or Tunnel from allowedUses",
    );
  const assignmentMode =
    spec.assignmentMode === undefined
      ? "Automatic"
      : c.oneOf(spec.assignmentMode, at("assignmentMode"), ["Automatic", "Manual"] as const);

  // Calico's defaults, as the v3 client and the CRD fill them in.
  if (blockSize !== undefined) spec.blockSize = blockSize;
  if (ipip) spec.ipipMode = ipip;
  if (vxlan) spec.vxlanMode = vxlan;
  spec.natOutgoing = natOutgoing ?? false;
  spec.disabled = disabled ?? false;
  spec.nodeSelector = nodeSelector ?? "all()";
  if (assignmentMode) spec.assignmentMode = assignmentMode;
}
