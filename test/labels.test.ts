import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileSelector, formatSelector, matchesMap, selectorProblems } from "../src/core/labels.ts";
import type { LabelSelector } from "../src/core/model/k8s.ts";

describe("label selectors (apimachinery semantics)", () => {
  const labels = { app: "web", tier: "frontend" };
  const cases: [string, LabelSelector, Record<string, string> | undefined, boolean][] = [
    ["empty selects everything", {}, labels, true],
    ["empty selects unlabelled", {}, undefined, true],
    ["matchLabels hit", { matchLabels: { app: "web" } }, labels, true],
    ["matchLabels miss", { matchLabels: { app: "db" } }, labels, false],
    [
      "In hit",
      { matchExpressions: [{ key: "tier", operator: "In", values: ["frontend", "x"] }] },
      labels,
      true,
    ],
    [
      "In on missing key",
      { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] },
      labels,
      false,
    ],
    [
      "NotIn on missing key matches",
      { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] },
      labels,
      true,
    ],
    [
      "NotIn hit excludes",
      { matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] },
      labels,
      false,
    ],
    ["Exists", { matchExpressions: [{ key: "app", operator: "Exists" }] }, labels, true],
    ["DoesNotExist", { matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, labels, false],
    [
      "labels and expressions are ANDed",
      { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["db"] }] },
      labels,
      false,
    ],
  ];
  for (const [name, sel, l, want] of cases) {
    it(name, () => {
      assert.deepEqual(selectorProblems(sel), []);
      assert.equal(compileSelector(sel)(l), want);
    });
  }

  it("reports invalid selectors with the path and a fix", () => {
    assert.deepEqual(selectorProblems({ matchExpressions: [{ key: "a", operator: "In" }] }), [
      {
        path: ["matchExpressions", 0, "values"],
        message: "values must be non-empty when operator is In",
        hint: "list at least one value, or use Exists/DoesNotExist",
      },
    ]);
    assert.equal(
      selectorProblems({ matchExpressions: [{ key: "a", operator: "Equals", values: ["x"] }] })[0].message,
      'operator "Equals" is not valid',
    );
    assert.equal(
      selectorProblems({ matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] })[0].message,
      "values must be empty when operator is Exists",
    );
    assert.equal(selectorProblems({ app: "web" })[0].message, 'unknown selector field "app"');
  });

  it("matches plain map selectors and renders selectors like kubectl", () => {
    assert.ok(matchesMap({ app: "web" }, labels));
    assert.ok(!matchesMap({ app: "web", x: "y" }, labels));
    assert.equal(
      formatSelector({
        matchLabels: { a: "b" },
        matchExpressions: [{ key: "c", operator: "NotIn", values: ["d", "e"] }],
      }),
      "a=b,c notin (d,e)",
    );
    assert.equal(formatSelector({}), "<none>");
  });
});
