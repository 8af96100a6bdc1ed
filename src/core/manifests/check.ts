/**
 * Field checks for one object. A `Check` is bound to the object's origin and name, so every message
 * it records carries file, line, column and `Kind ns/name` without the caller repeating them.
 * The name rules are Kubernetes' own (apimachinery validation): DNS-1123 labels and subdomains,
 * qualified names for label keys, label values, and IANA service names for named ports.
 */
import type { Diagnostics, FieldPath, Origin } from "../diagnostics.ts";
import { Cidr, isIPAddress } from "../net/ipv4.ts";
import { describe } from "./parse.ts";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
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

/** Field checks bound to one object. */
export class Check {
  constructor(
    readonly diags: Diagnostics,
    readonly origin: Origin,
    /** `Kind ns/name`. */
    readonly object: string,
  ) {}

  error(path: FieldPath, code: string, message: string, hint?: string): void {
    this.diags.error({ code, message, hint, object: this.object, origin: this.origin, path });
  }

  warn(path: FieldPath, code: string, message: string, hint?: string): void {
    this.diags.warn({ code, message, hint, object: this.object, origin: this.origin, path });
  }

  /** A map at `path`; undefined when absent, an error when present with another type. */
  map(v: unknown, path: FieldPath): Rec | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "object" && !Array.isArray(v)) return v as Rec;
    this.error(
      path,
      "wrong-type",
      `expected a map, found ${describe(v)}`,
      "write this field as `key: value` pairs",
    );
    return undefined;
  }

  list(v: unknown, path: FieldPath): unknown[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return v;
    this.error(
      path,
      "wrong-type",
      `expected a list, found ${describe(v)}`,
      "write this field as a list (`- item` lines)",
    );
    return undefined;
  }

  string(v: unknown, path: FieldPath): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string") return v;
    this.error(path, "wrong-type", `expected a string, found ${describe(v)}`, "quote the value");
    return undefined;
  }

  bool(v: unknown, path: FieldPath): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === "boolean") return v;
    this.error(path, "wrong-type", `expected true or false, found ${describe(v)}`);
    return undefined;
  }

  /** An integer in [min, max]; `what` names the quantity in the message. */
  int(v: unknown, path: FieldPath, min: number, max: number, what = "value"): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.error(path, "wrong-type", `expected an integer ${what}, found ${describe(v)}`);
      return undefined;
    }
    if (v < min || v > max) {
      this.error(
        path,
        "out-of-range",
        `${what} ${v} is out of range (${min}-${max})`,
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

  oneOf<T extends string>(v: unknown, path: FieldPath, allowed: readonly T[]): T | undefined {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    if ((allowed as readonly string[]).includes(s)) return s as T;
    this.error(
      path,
      "invalid-value",
      `"${s}" is not one of ${allowed.join(", ")}`,
      `use one of ${allowed.join(", ")}`,
    );
    return undefined;
  }

  /** A map of strings (labels, selectors, nodeSelector), with Kubernetes' label key/value rules. */
  labels(v: unknown, path: FieldPath): Record<string, string> | undefined {
    const m = this.map(v, path);
    if (!m) return undefined;
    let ok = true;
    for (const [k, val] of Object.entries(m)) {
      const keyErr = labelKeyError(k);
      if (keyErr) {
        this.error([...path, k], "invalid-label", keyErr, "fix the label key");
        ok = false;
      }
      if (typeof val !== "string") {
        this.error(
          [...path, k],
          "wrong-type",
          `label value must be a string, found ${describe(val)}`,
          val !== null && typeof val === "object"
            ? "label values are single strings of at most 63 characters"
            : `quote it: ${k}: "${String(val)}"`,
        );
        ok = false;
        continue;
      }
      const valErr = labelValueError(val);
      if (valErr) {
        this.error([...path, k], "invalid-label", valErr, "fix the label value");
        ok = false;
      }
    }
    return ok ? (m as Record<string, string>) : undefined;
  }

  ip(v: unknown, path: FieldPath): string | undefined {
    const s = this.string(v, path);
    if (s === undefined) return undefined;
    if (isIPAddress(s)) return s;
    this.error(path, "invalid-ip", `"${s}" is not a valid IP address`, "write an address such as 10.0.0.1");
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
