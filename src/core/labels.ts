/**
 * Label selectors, as apimachinery defines them. `compileSelector` validates once and returns a
 * matcher; matching a pod is then a few map look-ups. The empty selector `{}` matches everything;
 * an absent selector is the caller's business (it means "nothing" for workloads and "everything"
 * for NetworkPolicy peers, depending on the field).
 */
import { labelKeyError, labelValueError } from "./manifests/check.ts";
import { describe } from "./manifests/parse.ts";
import type { LabelSelector, Labels } from "./model/k8s.ts";

export type LabelMatcher = (labels: Labels | undefined) => boolean;

const SET_OPS = new Set(["In", "NotIn", "Exists", "DoesNotExist"]);

export interface SelectorProblem {
  /** Path below the selector, e.g. `["matchExpressions", 0, "values"]`. */
  path: (string | number)[];
  message: string;
  hint: string;
  /** A warning rather than an error: the API server accepts the value (e.g. `app:` read as ""). */
  warning?: boolean;
  /** Set when a value that must be a string is another type: the value, and what it is. */
  wrongType?: { value: unknown; expected: "label value" | "a selector value" };
}

/**
 * Validates a LabelSelector as apimachinery's `ValidateLabelSelector` does: only matchLabels and
 * matchExpressions; matchLabels a label map (`labelMapProblems`: keys, string values of at most 63
 * characters; a null value is rewritten to "" with a warning); each requirement a label-name key, a
 * known operator, values required by In/NotIn and forbidden for Exists/DoesNotExist, each value a
 * label value. Returns the problems found (empty when valid); a null or absent selector has none.
 */
export function selectorProblems(sel: unknown): SelectorProblem[] {
  const out: SelectorProblem[] = [];
  if (sel === null || sel === undefined) return out;
  if (typeof sel !== "object" || Array.isArray(sel)) {
    return [
      {
        path: [],
        message: "a label selector must be a map",
        hint: "use matchLabels and/or matchExpressions",
      },
    ];
  }
  const s = sel as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (key !== "matchLabels" && key !== "matchExpressions") {
      out.push({
        path: [key],
        message: `unknown selector field "${key}"`,
        hint: "a label selector has only matchLabels and matchExpressions; put plain labels under matchLabels",
      });
    }
  }
  if (
    s.matchLabels !== undefined &&
    s.matchLabels !== null &&
    (typeof s.matchLabels !== "object" || Array.isArray(s.matchLabels))
  ) {
    out.push({
      path: ["matchLabels"],
      message: "matchLabels must be a map",
      hint: "write matchLabels as key: value pairs",
    });
  } else if (s.matchLabels) {
    labelMapProblems(s.matchLabels as Record<string, unknown>, ["matchLabels"], out);
  }
  if (s.matchExpressions !== undefined) {
    if (!Array.isArray(s.matchExpressions)) {
      out.push({
        path: ["matchExpressions"],
        message: "matchExpressions must be a list",
        hint: "write a list of {key, operator, values}",
      });
      return out;
    }
    s.matchExpressions.forEach((e: unknown, i: number) => {
      const at = ["matchExpressions", i];
      if (!e || typeof e !== "object") {
        out.push({ path: at, message: "a requirement must be a map", hint: "write {key, operator, values}" });
        return;
      }
      const r = e as Record<string, unknown>;
      if (typeof r.key !== "string" || r.key === "") {
        out.push({ path: [...at, "key"], message: "key is required", hint: "name the label key to test" });
      } else {
        const err = labelKeyError(r.key);
        if (err) out.push({ path: [...at, "key"], message: err, hint: "fix the label key" });
      }
      if (typeof r.operator !== "string" || !SET_OPS.has(r.operator)) {
        out.push({
          path: [...at, "operator"],
          message: `operator ${JSON.stringify(r.operator ?? null)} is not valid`,
          hint: "use In, NotIn, Exists or DoesNotExist",
        });
        return;
      }
      const values = r.values;
      if (values !== undefined && values !== null && !Array.isArray(values)) {
        out.push({
          path: [...at, "values"],
          message: `values must be a list of strings, found ${describe(values)}`,
          hint: "write the values as a list, e.g. values: [a, b]",
        });
        return;
      }
      if (Array.isArray(values) && values.some((v) => typeof v !== "string")) {
        values.forEach((v, j) => {
          if (typeof v !== "string")
            out.push({
              path: [...at, "values", j],
              message: `a selector value must be a string, found ${describe(v)}`,
              hint: `quote it: "${String(v)}"`,
              wrongType: { value: v, expected: "a selector value" },
            });
        });
        return;
      }
      (Array.isArray(values) ? (values as string[]) : []).forEach((v, j) => {
        const err = labelValueError(v);
        if (err) out.push({ path: [...at, "values", j], message: err, hint: "fix the label value" });
      });
      const n = Array.isArray(values) ? values.length : 0;
      if ((r.operator === "In" || r.operator === "NotIn") && n === 0) {
        out.push({
          path: [...at, "values"],
          message: `values must be non-empty when operator is ${r.operator}`,
          hint: "list at least one value, or use Exists/DoesNotExist",
        });
      }
      if ((r.operator === "Exists" || r.operator === "DoesNotExist") && n > 0) {
        out.push({
          path: [...at, "values"],
          message: `values must be empty when operator is ${r.operator}`,
          hint: "remove values, or use In/NotIn",
        });
      }
    });
  }
  return out;
}

/**
 * The rules of a label map (`ValidateLabels`: labels, matchLabels, Service and
 * ReplicationController selectors, nodeSelector): keys are qualified names with an optional
 * DNS-subdomain prefix, values are strings of at most 63 characters. YAML 1.1 reads `yes`, `on`,
 * `true`, `1.0` unquoted as booleans or numbers; the API server refuses them ("cannot unmarshal
 * bool into string"), and so does this. A null value (`app:` with nothing after it) decodes to the
 * empty string, as Go's JSON decoder stores it; it is rewritten to "" with a warning.
 */
export function labelMapProblems(
  m: Record<string, unknown>,
  at: (string | number)[],
  out: SelectorProblem[] = [],
): SelectorProblem[] {
  for (const [k, val] of Object.entries(m)) {
    const keyErr = labelKeyError(k);
    if (keyErr) out.push({ path: [...at, k], message: keyErr, hint: "fix the label key" });
    if (val === null) {
      m[k] = "";
      out.push({
        path: [...at, k],
        message: `label ${k} has no value; Kubernetes reads it as the empty value ""`,
        hint: `write ${k}: "" to say so`,
        warning: true,
      });
      continue;
    }
    if (typeof val !== "string") {
      out.push({
        path: [...at, k],
        wrongType: { value: val, expected: "label value" },
        message: `label value must be a string, found ${describe(val)}`,
        hint:
          val !== null && typeof val === "object"
            ? "label values are single strings of at most 63 characters"
            : `quote it: ${k}: "${String(val)}"`,
      });
      continue;
    }
    const valErr = labelValueError(val);
    if (valErr) out.push({ path: [...at, k], message: valErr, hint: "fix the label value" });
  }
  return out;
}

/** Compiles a valid LabelSelector into a matcher (call `selectorProblems` first on untrusted input). */
export function compileSelector(sel: LabelSelector): LabelMatcher {
  const tests: LabelMatcher[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    tests.push((l) => l !== undefined && l[k] === v);
  }
  for (const req of sel.matchExpressions ?? []) {
    const { key } = req;
    const values = new Set(req.values ?? []);
    switch (req.operator) {
      case "In":
        tests.push((l) => l !== undefined && Object.hasOwn(l, key) && values.has(l[key]));
        break;
      case "NotIn":
        tests.push((l) => l === undefined || !Object.hasOwn(l, key) || !values.has(l[key]));
        break;
      case "Exists":
        tests.push((l) => l !== undefined && Object.hasOwn(l, key));
        break;
      case "DoesNotExist":
        tests.push((l) => l === undefined || !Object.hasOwn(l, key));
        break;
    }
  }
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  return (l) => tests.every((t) => t(l));
}

/** A plain map selector (Service, ReplicationController): every pair must match. */
export function matchesMap(selector: Labels, labels: Labels | undefined): boolean {
  for (const k in selector) {
    if (labels?.[k] !== selector[k]) return false;
  }
  return true;
}

/** `app=web,tier in (a,b)`: the kubectl rendering, for tables. */
export function formatSelector(sel: LabelSelector | Labels | undefined): string {
  if (!sel) return "<none>";
  const s = sel as LabelSelector;
  const isStructured = "matchLabels" in s || "matchExpressions" in s;
  const labels = isStructured ? (s.matchLabels ?? {}) : (sel as Labels);
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  if (isStructured) {
    for (const r of s.matchExpressions ?? []) {
      const vals = (r.values ?? []).join(",");
      if (r.operator === "In") parts.push(`${r.key} in (${vals})`);
      else if (r.operator === "NotIn") parts.push(`${r.key} notin (${vals})`);
      else if (r.operator === "Exists") parts.push(r.key);
      else parts.push(`!${r.key}`);
    }
  }
  return parts.length ? parts.join(",") : "<none>";
}
