/**
 * Field checks for one object. A `Check` is bound to the object's origin and name, so every message
 * it records carries file, line, column and `Kind ns/name` without the caller repeating them.
 * The name rules are Kubernetes' own (apimachinery validation): DNS-1123 labels and subdomains,
 * qualified names for label keys, label values, and IANA service names for named ports.
 */
import type { Diagnostics, FieldPath, Origin } from "../diagnostics.ts";
import { labelMapProblems, type SelectorProblem } from "../labels.ts";
import { Cidr, canonicalIP, parseCidrSloppy, type SloppyCidr, specialIPProblem } from "../net/ipv4.ts";
import { describe } from "./parse.ts";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export function dns1123LabelError(s: string): string | undefined {
  if (s.length > 63) return `"${s}" is longer than 63 characters`;
  if (!DNS1123_LABEL.test(s)) {
    return `"${s}" is not a valid DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)`;
  }
  return undefined;
}

/**
 * DNS-1035 label: a DNS-1123 label that starts with a letter. Service names follow it
 * (`ValidateServiceName`; the RelaxedServiceNameValidation gate, alpha and off in 1.34, would allow
 * DNS-1123 labels), and so do the Service names an Ingress backend refers to.
 */
export function dns1035LabelError(s: string): string | undefined {
  if (s.length > 63) return `"${s}" is longer than 63 characters`;
  if (!DNS1035_LABEL.test(s)) {
    return `"${s}" is not a valid DNS-1035 label (lower-case letters, digits and '-', starting with a letter and ending with a letter or digit)`;
  }
  return undefined;
}

export function dns1123SubdomainError(s: string): string | undefined {
  if (s.length > 253) return `"${s}" is longer than 253 characters`;
  if (!DNS1123_SUBDOMAIN.test(s)) {
    return `"${s}" is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** A label or annotation key: optional DNS subdomain prefix and `/`, then a qualified name. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix === "" || dns1123SubdomainError(prefix))) {
    return `label key "${key}" has an invalid prefix (it must be a DNS subdomain such as example.com)`;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return `label key "${key}" is invalid (name part: at most 63 characters, alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric)`;
  }
  return undefined;
}

export function labelValueError(value: string): string | undefined {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    return `label value "${value}" is invalid (at most 63 characters, alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric)`;
  }
  return undefined;
}

/** IANA_SVC_NAME: how container ports and Service targetPorts are named. */
export function portNameError(name: string): string | undefined {
  if (name.length > 15 || !IANA_SVC_NAME.test(name) || name.includes("--") || !/[a-z]/.test(name)) {
    return `"${name}" is not a valid port name (at most 15 lower-case letters, digits and '-', with at least one letter, no "--", not starting or ending with '-')`;
  }
  return undefined;
}

export type Rec = Record<string, unknown>;

/**
 * `v` described for a message, spelled as `written` (the input's text of it, when known): numbers
 * as written (`1e23`, `0x1F`), and a scalar YAML 1.1 read as another type named with both
 * (`yes (YAML 1.1 reads it as the boolean true)`).
 */
export function describeWritten(v: unknown, written: string | undefined): string {
  if (
    written === undefined ||
    written === "" ||
    typeof v === "string" ||
    (v !== null && typeof v === "object")
  )
    return describe(v);
  if (typeof v === "number") {
    const plain = Number(written.replace(/_/g, ""));
    return plain === v || (Number.isNaN(plain) && Number.isNaN(v))
      ? `number ${written}`
      : `${written} (YAML 1.1 reads it as the number ${v})`;
  }
  if (typeof v === "boolean")
    return written === String(v) ? `boolean ${v}` : `${written} (YAML 1.1 reads it as the boolean ${v})`;
  if (v === null) return written === "null" ? "null" : `${written} (YAML reads it as null)`;
  return describe(v);
}

/** Levenshtein distance of two short strings, case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (s[i - 1] === t[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[t.length];
}

/**
 * The candidate nearest to `word` by edit distance (case-insensitive), when it is close enough to
 * be a typo of it (at most 2 edits, or a third of the word for long ones); else undefined.
 */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  let best = Math.max(2, Math.floor(word.length / 3)) + 1;
  let found: string | undefined;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, c);
    if (d < best) {
      best = d;
      found = c;
    }
  }
  return found;
}

/** The quoted form of a scalar as written (see `Check.quoteFix`): `quote it: access: "yes"`. */
export function quoteFixWritten(v: unknown, written: string | undefined, key?: string): string {
  const text = written !== undefined && written !== "" ? written : v === null ? "" : String(v);
  return `quote it: ${key !== undefined ? `${key}: ` : ""}${JSON.stringify(text)}`;
}

/** Field checks bound to one object. */
export class Check {
  constructor(
    readonly diags: Diagnostics,
    readonly origin: Origin,
    /** `Kind ns/name`. */
    readonly object: string,
  ) {}

  /** Paths that have an error already (so a field of the wrong type is not also "required"). */
  readonly #errored = new Set<string>();

  error(path: FieldPath, code: string, message: string, hint?: string): void {
    this.#errored.add(path.join("\u0000"));
    this.diags.error({ code, message, hint, object: this.object, origin: this.origin, path });
  }

  /** Whether an error was reported at exactly `path` of this object. */
  hasError(path: FieldPath): boolean {
    return this.#errored.has(path.join("\u0000"));
  }

  warn(path: FieldPath, code: string, message: string, hint?: string): void {
    this.diags.warn({ code, message, hint, object: this.object, origin: this.origin, path });
  }

  /**
   * Reports each key of `rec` that is not a field of its type (`known`), as the API server's strict
   * field validation does ("unknown field", kubectl's default `--validate=strict`). A key that
   * differs from a field only in case names that field. `severity`: "error" for podnet's own API,
   * "warning" (the default) for Kubernetes kinds, where a newer API version may carry a field podnet
   * does not know yet: the field is ignored, as the API server without strict validation drops it.
   */
  fields(
    rec: Rec,
    path: FieldPath,
    known: readonly string[],
    what: string,
    severity: "error" | "warning" = "warning",
  ): void {
    for (const key of Object.keys(rec)) {
      if (known.includes(key)) continue;
      const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
      const typo = near ? undefined : nearest(key, known);
      const hint = near
        ? `did you mean ${near}? (field names are case-sensitive)`
        : typo
          ? `did you mean ${typo}? (${what} has the fields ${known.join(", ")})`
          : `${what} has the fields ${known.join(", ")}`;
      const message =
        severity === "error"
          ? `unknown field "${key}"`
          : `unknown field "${key}": podnet ignores it (kubectl's strict validation rejects it)`;
      if (severity === "error") this.error([...path, key], "unknown-field", message, hint);
      else this.warn([...path, key], "unknown-field", message, hint);
    }
  }

  /**
   * The scalar at `path` exactly as the input wrote it (`yes`, `1e23`, `0x1F`), or undefined when
   * the origin has no source text there. Only asked on error paths.
   */
  written(path: FieldPath): string | undefined {
    return this.origin.written?.(path);
  }

  /**
   * `v` described for a message, spelled as the input wrote it: `number 1e23`, not `1e+23`, and
   * `yes (YAML 1.1 reads it as the boolean true)` where YAML changed the value's type.
   */
  describe(v: unknown, path: FieldPath): string {
    return describeWritten(v, this.written(path));
  }

  /**
   * The fix for a scalar that must be a string: the same text in quotes, as the user wrote it
   * (`access: "yes"`, never the decoded `"true"`). `key` is shown before it when given.
   */
  quoteFix(v: unknown, path: FieldPath, key?: string): string {
    return quoteFixWritten(v, this.written(path), key);
  }

  /** A map at `path`; undefined when absent, an error when present with another type. */
  map(v: unknown, path: FieldPath): Rec | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "object" && !Array.isArray(v)) return v as Rec;
    this.error(
      path,
      "wrong-type",
      `expected a map, found ${this.describe(v, path)}`,
      Array.isArray(v)
        ? "write this field as `key: value` pairs, not as a list of `- item` lines"
        : "write this field as `key: value` pairs on the lines below it",
    );
    return undefined;
  }

  /**
   * A list at `path`; undefined when absent, an error when present with another type. A null item
   * (`-` with nothing after it) is rewritten in place as Go's JSON decoder stores it in a list of the
   * built-in API: `items: "struct"` (the default) the zero struct {}, `"string"` the empty string "".
   * `"keep"` leaves it for the caller (CRD objects, whose list items may not be null).
   */
  list(v: unknown, path: FieldPath, items: "struct" | "string" | "keep" = "struct"): unknown[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) {
      if (items !== "keep") {
        for (let i = 0; i < v.length; i++) if (v[i] === null) v[i] = items === "struct" ? {} : "";
      }
      return v;
    }
    this.error(
      path,
      "wrong-type",
      `expected a list, found ${this.describe(v, path)}`,
      "write this field as a list (`- item` lines), even when it has one item",
    );
    return undefined;
  }

  string(v: unknown, path: FieldPath): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string") return v;
    const key = path[path.length - 1];
    this.error(
      path,
      "wrong-type",
      `expected a string, found ${this.describe(v, path)}`,
      typeof v === "object"
        ? "write a single string here"
        : this.quoteFix(v, path, typeof key === "string" ? key : undefined),
    );
    return undefined;
  }

  bool(v: unknown, path: FieldPath): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "boolean") return v;
    this.error(
      path,
      "wrong-type",
      `expected true or false, found ${this.describe(v, path)}`,
      typeof v === "string" && (v === "true" || v === "false")
        ? `write ${v} without quotes`
        : "write true or false (unquoted)",
    );
    return undefined;
  }

  /** An integer in [min, max]; `what` names the quantity in the message. */
  int(v: unknown, path: FieldPath, min: number, max: number, what = "value"): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      const hint =
        typeof v === "string" && /^[-+]?[0-9]+$/.test(v.trim())
          ? `write ${v.trim()} without quotes`
          : typeof v === "number"
            ? `write a whole number between ${min} and ${max}`
            : `write ${what} as a number between ${min} and ${max}`;
      this.error(path, "wrong-type", `expected an integer ${what}, found ${this.describe(v, path)}`, hint);
      return undefined;
    }
    if (v < min || v > max) {
      const w = this.written(path);
      this.error(
        path,
        "out-of-range",
        `${what} ${w !== undefined && Number(w.replace(/_/g, "")) === v ? w : v} is out of range (${min}-${max})`,
        `use a ${what} between ${min} and ${max}`,
      );
      return undefined;
    }
    return v;
  }

  port(v: unknown, path: FieldPath, what = "port"): number | undefined {
    return this.int(v, path, 1, 65535, what);
  }

  /**
   * Reports a missing required field. With `parent`, a key that differs only in case is named in the
   * fix: Kubernetes decodes field names case-sensitively, so `containerport` is not `containerPort`.
   */
  required<T>(v: T | undefined, path: FieldPath, what: string, hint?: string, parent?: Rec): v is T {
    if (v !== undefined && v !== null && v !== "") return true;
    // Present with the wrong type: that error is reported already; "required" would repeat it.
    if (this.hasError(path)) return false;
    const field = path[path.length - 1];
    const near =
      parent && typeof field === "string"
        ? Object.keys(parent).find((k) => k !== field && k.toLowerCase() === field.toLowerCase())
        : undefined;
    const fix = near
      ? `rename "${near}" to "${field}" (field names are case-sensitive)`
      : (hint ?? `add ${field}`);
    this.error(path, "missing-field", `${what} is required`, fix);
    return false;
  }

  /**
   * One of the `allowed` strings. A value of another type (`proxyMode: yes`) is told to use one of
   * them, not to be quoted; a case-only difference (`tcp`) names the value meant.
   */
  oneOf<T extends string>(v: unknown, path: FieldPath, allowed: readonly T[]): T | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") {
      this.error(
        path,
        "wrong-type",
        `expected one of ${allowed.join(", ")}, found ${this.describe(v, path)}`,
        `use one of ${allowed.join(", ")}`,
      );
      return undefined;
    }
    if ((allowed as readonly string[]).includes(v)) return v as T;
    const near = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
    this.error(
      path,
      "invalid-value",
      `"${v}" is not one of ${allowed.join(", ")}`,
      near ? `write ${near} (values are case-sensitive)` : `use one of ${allowed.join(", ")}`,
    );
    return undefined;
  }

  /**
   * A label map (metadata.labels, Service and ReplicationController selectors, nodeSelector),
   * with Kubernetes' label key/value rules (`labelMapProblems`). Undefined after an error.
   */
  labels(v: unknown, path: FieldPath): Record<string, string> | undefined {
    const m = this.map(v, path);
    if (!m) return undefined;
    let ok = true;
    for (const p of labelMapProblems(m, [...path])) {
      if (p.warning) this.warn(p.path, "empty-label-value", p.message, p.hint);
      else {
        ok = false;
        this.selectorProblem(p, [], "invalid-label");
      }
    }
    return ok ? (m as Record<string, string>) : undefined;
  }

  /**
   * Reports one problem of a label map or selector found at `base` + `p.path`. A value of the wrong
   * type is reported as the input wrote it (`yes`, not true) with a fix that quotes that text.
   */
  selectorProblem(p: SelectorProblem, base: FieldPath, code: string): void {
    const at = [...base, ...p.path];
    if (p.wrongType === undefined) {
      this.error(at, code, p.message, p.hint);
      return;
    }
    const v = p.wrongType.value;
    const key = at[at.length - 1];
    this.error(
      at,
      "wrong-type",
      `${p.wrongType.expected} must be a string, found ${this.describe(v, at)}`,
      v !== null && typeof v === "object"
        ? "label values are single strings of at most 63 characters"
        : this.quoteFix(v, at, typeof key === "string" ? key : undefined),
    );
  }

  /**
   * An IP address field, as the API server validates its legacy IP fields (`IsValidIPForLegacyField`
   * with StrictIPCIDRValidation off, the default through Kubernetes 1.34): IPv4 octets may carry
   * leading zeros (read as decimal), IPv4-mapped IPv6 is IPv4. Returns the canonical text.
   */
  ip(v: unknown, path: FieldPath): string | undefined {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    const canonical = canonicalIP(s);
    if (canonical !== undefined) return canonical;
    this.error(
      path,
      "invalid-ip",
      `"${s}" is not a valid IP address`,
      s.trim() !== s ? "remove the spaces around the address" : "write an address such as 10.0.0.1",
    );
    return undefined;
  }

  /**
   * `rec[key]` as an IP address (see `ip`), rewritten in canonical form so that every later stage
   * reads it as kube-proxy and the kubelet do (`010.0.0.1` is 10.0.0.1).
   */
  ipAt(rec: Rec, key: string | number, path: FieldPath): string | undefined {
    const ip = this.ip(rec[key as string], path);
    if (ip !== undefined) rec[key as string] = ip;
    return ip;
  }

  /**
   * `rec[key]` as an endpoint or external IP (`ipAt`, then `ValidateEndpointIP`): unspecified,
   * loopback and link-local addresses are refused, as the API server refuses them there.
   */
  endpointIPAt(rec: Rec, key: string | number, path: FieldPath): string | undefined {
    const ip = this.ipAt(rec, key, path);
    if (ip === undefined) return undefined;
    const problem = specialIPProblem(ip);
    if (!problem) return ip;
    this.error(path, "invalid-ip", `${ip} ${problem}`, "use a routable address of the endpoint");
    return undefined;
  }

  /**
   * A CIDR of a legacy API field (`IsValidCIDRForLegacyField`, strict validation off): host bits,
   * leading zeros and IPv4-mapped IPv6 are accepted. With `trim`, surrounding spaces are removed
   * first (the API server does so for loadBalancerSourceRanges and the source-ranges annotation).
   * Returns the block as the consumers read it (host bits cleared); undefined after an error.
   */
  legacyCidr(v: unknown, path: FieldPath, opts: { trim?: boolean } = {}): SloppyCidr | undefined {
    const raw = this.string(v, path);
    if (raw === undefined) return undefined;
    const s = opts.trim ? raw.trim() : raw;
    const parsed = parseCidrSloppy(s);
    if (parsed) return parsed;
    this.error(
      path,
      "invalid-cidr",
      `"${raw}" is not a valid CIDR`,
      s !== s.trim() ? "remove the spaces around the block" : "write a block such as 10.0.0.0/8",
    );
    return undefined;
  }

  cidr(v: unknown, path: FieldPath): Cidr | undefined {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    const parsed = Cidr.parse(s);
    if (parsed.ok) return parsed.cidr;
    this.error(
      path,
      "invalid-cidr",
      parsed.reason,
      "write a block such as 10.244.0.0/16 with its host bits zero",
    );
    return undefined;
  }
}
