/**
 * The new user's findings about whole loads (issue 12): a file given twice is read once with one
 * warning, and warnings about pods a workload made point at the workload's file and line.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveManifests } from "../src/core/cluster.ts";
import { formatDiagnostic } from "../src/core/diagnostics.ts";

const DEPLOYMENT = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {disk: ssd}
      containers: [{name: c, image: x}]
`;

describe("6. loads", () => {
  it("the same file given twice: one warning, no 'defined twice' for each object", () => {
    const r = resolveManifests([
      { file: "app.yaml", text: DEPLOYMENT },
      { file: "./app.yaml", text: DEPLOYMENT },
    ]);
    const lines = r.diagnostics.filter((d) => !d.code.startsWith("supplied-")).map(formatDiagnostic);
    assert.equal(r.ok, true, lines.join("\n"));
    assert.ok(!lines.some((l) => l.includes("defined twice")), lines.join("\n"));
    const twice = r.diagnostics.filter((d) => d.code === "file-given-twice");
    assert.equal(twice.length, 1);
    assert.equal(twice[0].message, "./app.yaml was given twice; its objects are read once");
    assert.equal(r.cluster?.pods.filter((p) => p.metadata.namespace === "shop").length, 2);
  });
  it("two different files defining one object are still refused", () => {
    const r = resolveManifests([
      { file: "a.yaml", text: DEPLOYMENT },
      { file: "b.yaml", text: DEPLOYMENT },
    ]);
    assert.equal(r.ok, false);
    assert.ok(
      r.diagnostics.some((d) => d.message.startsWith("defined twice; the first definition is at a.yaml")),
    );
  });
  it("pods a Deployment made that stay Pending: the warning points at the Deployment", () => {
    const r = resolveManifests([{ file: "app.yaml", text: DEPLOYMENT }]);
    const pending = r.diagnostics.filter((d) => d.code === "unschedulable").map(formatDiagnostic);
    assert.equal(pending.length, 1);
    assert.match(
      pending[0],
      /^app\.yaml:5:1: warning: Deployment shop\/web: 2 pods could not be scheduled and stay Pending \(first: shop\/web-[a-z0-9]+-[a-z0-9]+: 0\/2 nodes are available/,
    );
  });
});
