/**
 * Field rules several kinds share: label selectors (metav1 LabelSelector, as apimachinery's
 * `ValidateLabelSelector` checks it) and status conditions.
 */
import { selectorProblems } from "../../labels.ts";
import type { Check, Rec } from "../check.ts";

/**
 * A LabelSelector field (`ValidateLabelSelector`): matchLabels as a label map, each requirement's key,
 * operator and values. A null selector is the caller's business (null and absent are the same
 * nil pointer to the API server; whether that means "none" or "all" depends on the field).
 */
export function checkSelector(c: Check, sel: unknown, path: (string | number)[]): void {
  if (sel && typeof sel === "object" && !Array.isArray(sel)) {
    // Unknown keys of the selector itself are selectorProblems' (an error); a requirement's are here.
    const m = sel as Rec;
    if (Array.isArray(m.matchExpressions))
      m.matchExpressions.forEach((e, i) => {
        if (e && typeof e === "object" && !Array.isArray(e))
          c.fields(
            e as Rec,
            [...path, "matchExpressions", i],
            ["key", "operator", "values"],
            "a selector requirement",
          );
      });
  }
  for (const p of selectorProblems(sel)) {
    if (p.warning) c.warn([...path, ...p.path], "empty-label-value", p.message, p.hint);
    else c.selectorProblem(p, path, "invalid-selector");
  }
}

/** `conditions: [{type, status}]`, as pods, nodes and Jobs report them. */
export function validateConditions(c: Check, v: unknown, at: (string | number)[]): void {
  c.list(v, at)?.forEach((cond, i) => {
    const m = c.map(cond, [...at, i]);
    if (!m) return;
    c.string(m.type, [...at, i, "type"]);
    c.oneOf(m.status, [...at, i, "status"], ["True", "False", "Unknown"] as const);
  });
}

/** meta/v1 ObjectMeta's fields: what `metadata` may hold (strict field validation refuses others). */
export const OBJECT_META_FIELDS: readonly string[] = [
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
];
