/**
 * `-o sarif` of lint, check and diff: every log validates against the official SARIF 2.1.0 schema
 * shipped in schemas/ (OASIS sarif-schema-2.1.0.json, a JSON Schema draft-04 document, checked with
 * Ajv), and each result points at the YAML line and column its finding is about.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { after, describe, it } from "node:test";
import ajvDraft04 from "ajv-draft-04";
import ajvFormats from "ajv-formats";
import { renderSarif } from "../src/cli/render/sarif.ts";
import { runPodnet } from "./helpers.ts";

// Both are CommonJS modules whose export is also their `.default` (what the types describe).
const Ajv = ajvDraft04.default;
const addFormats = ajvFormats.default;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync("schemas/sarif-schema-2.1.0.json", "utf8")));

interface Result {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations?: {
    physicalLocation?: {
      artifactLocation: { uri: string; uriBaseId: string };
      region?: { startLine: number; startColumn?: number };
    };
    logicalLocations?: { fullyQualifiedName: string }[];
  }[];
}
interface Log {
  version: string;
  runs: {
    tool: { driver: { name: string; rules: { id: string; help: { text: string } }[] } };
    results: Result[];
  }[];
}

/** Parses a SARIF log and asserts that it validates against the shipped schema. */
function valid(text: string): Log {
  const log = JSON.parse(text);
  assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
  return log as Log;
}

/** `uri:line:col ruleId` per result; each result's rule is in the catalog with help text. */
function where(log: Log): string[] {
  const run = log.runs[0];
  return run.results.map((r) => {
    const rule = run.tool.driver.rules[r.ruleIndex];
    assert.equal(rule.id, r.ruleId, "ruleIndex points at the result's rule");
    assert.ok(rule.help.text.length > 10, `${r.ruleId} has help`);
    const p = r.locations?.[0]?.physicalLocation;
    return `${p?.artifactLocation.uri}:${p?.region?.startLine}:${p?.region?.startColumn} ${r.ruleId}`;
  });
}

const tmp = mkdtempSync(join(tmpdir(), "podnet-sarif-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("SARIF output", () => {
  it("the schema rejects what is not SARIF 2.1.0 (the validator can fail)", () => {
    assert.equal(validate({ version: "2.0.0", runs: [] }), false);
    assert.equal(validate({ version: "2.1.0", runs: [{ tool: {} }] }), false);
    assert.equal(validate({ version: "2.1.0", runs: [] }), true);
  });

  it("lint: each finding at the file:line:col the text output names, exit 1", () => {
    const r = runPodnet(["lint", "-f", "test/fixtures/lint", "-o", "sarif"]);
    assert.equal(r.code, 1, r.err);
    const log = valid(r.out);
    assert.equal(log.runs[0].tool.driver.name, "podnet");
    const json = runPodnet(["lint", "-f", "test/fixtures/lint", "-o", "json"]);
    const expected = (
      JSON.parse(json.out).findings as { code: string; file: string; line: number; column: number }[]
    ).map((f) => `${f.file}:${f.line}:${f.column} ${f.code}`);
    assert.equal(expected.length, 7);
    assert.deepEqual(where(log), expected);
    assert.ok(where(log).includes("test/fixtures/lint/policies.yaml:38:3 dns-egress-blocked"));
    const dns = log.runs[0].results.find((x) => x.ruleId === "dns-egress-blocked")!;
    assert.equal(dns.level, "warning");
    assert.match(
      dns.message.text,
      /cannot reach the cluster DNS.*Fix: allow egress to namespace kube-system/,
    );
    assert.equal(dns.locations?.[0].logicalLocations?.[0].fullyQualifiedName, "NetworkPolicy app/api-egress");
  });

  it("lint: a clean input is a valid log with no results, exit 0", () => {
    const r = runPodnet(["lint", "-f", "examples/shop", "-o", "sarif"]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(valid(r.out).runs[0].results, []);
  });

  it("check: a violation at the pod it names; a Pending pod at its own definition, a Deployment's at the Deployment; exit 1", () => {
    const dir = join(tmp, "check");
    cpSync("test/fixtures/lint/cluster.yaml", join(dir, "cluster.yaml"));
    writeFileSync(
      join(dir, "stuck.yaml"),
      `apiVersion: v1
kind: Pod
metadata: {name: lonely, namespace: app}
spec:
  nodeSelector: {disk: ssd}
  containers: [{name: c, image: x}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: picky, namespace: app}
spec:
  replicas: 1
  selector: {matchLabels: {app: picky}}
  template:
    metadata: {labels: {app: picky}}
    spec:
      nodeSelector: {disk: ssd}
      containers: [{name: c, image: x}]
`,
    );
    writeFileSync(
      join(dir, "twins.yaml"),
      "apiVersion: v1\nkind: Pod\nmetadata: {name: twins, namespace: app}\nspec:\n  containers:\n    - {name: a, image: x, ports: [{containerPort: 80}]}\n    - {name: b, image: x, ports: [{containerPort: 80}]}\n",
    );
    const r = runPodnet(["check", "-f", dir, "-o", "sarif"]);
    assert.equal(r.code, 1, r.err);
    const log = valid(r.out);
    const file = relative(process.cwd(), join(dir, "stuck.yaml"));
    const pending = where(log).filter((w) => w.endsWith(" pod-pending"));
    assert.deepEqual(pending.sort(), [`${file}:1:1 pod-pending`, `${file}:8:1 pod-pending`]);
    // A violation: at the first object its message names.
    const twins = relative(process.cwd(), join(dir, "twins.yaml"));
    assert.deepEqual(
      where(log).filter((w) => w.endsWith(" localhost")),
      [`${twins}:1:1 localhost`],
    );
    for (const x of log.runs[0].results.filter((x) => x.ruleId === "pod-pending"))
      assert.match(x.message.text, /is Pending: .*(node|selector|affinity)/i);
  });

  it("diff --fail-on: a changed connection at the changed policy in the new files; others are notes", () => {
    const base = join(tmp, "base");
    const head = join(tmp, "head");
    cpSync("examples/shop", base, { recursive: true });
    cpSync("examples/shop", head, { recursive: true });
    const policies = join(head, "70-policies.yaml");
    const text = readFileSync(policies, "utf8");
    assert.ok(text.includes("- {port: 6379}"));
    writeFileSync(policies, text.replace("- {port: 6379}", "- {port: 6380}"));
    const line = text.split("\n").indexOf("  name: cart-redis-ingress"); // 0-based index of the name line
    const r = runPodnet(["diff", "-f", base, "--against", head, "--fail-on", "changed", "-o", "sarif"]);
    assert.equal(r.code, 1, r.err);
    const log = valid(r.out);
    // The object starts two lines above its name (apiVersion, kind, metadata:, name:).
    assert.deepEqual(where(log), [`${relative(process.cwd(), policies)}:${line - 2}:1 connection-changed`]);
    const [result] = log.runs[0].results;
    assert.equal(result.level, "error");
    assert.match(
      result.message.text,
      /TCP 6379 -> TCP 6380; decided by the changed NetworkPolicy shop\/cart-redis-ingress/,
    );
    const notes = runPodnet(["diff", "-f", base, "--against", head, "--fail-on", "added", "-o", "sarif"]);
    assert.equal(notes.code, 0, notes.err);
    assert.equal(valid(notes.out).runs[0].results[0].level, "note");
  });

  it("diff: a policy deleted by the change is located in the old files", () => {
    const base = join(tmp, "base2");
    const head = join(tmp, "head2");
    cpSync("examples/shop", base, { recursive: true });
    cpSync("examples/shop", head, { recursive: true });
    const text = readFileSync(join(base, "70-policies.yaml"), "utf8");
    const docs = text.split("\n---\n");
    const k = docs.findIndex((d) => d.includes("name: cart-redis-ingress"));
    writeFileSync(join(head, "70-policies.yaml"), docs.filter((_, i) => i !== k).join("\n---\n"));
    const r = runPodnet(["diff", "-f", base, "--against", head, "--fail-on", "removed", "-o", "sarif"]);
    assert.equal(r.code, 1, r.err);
    const log = valid(r.out);
    const results = log.runs[0].results;
    assert.ok(results.length > 0);
    const file = relative(process.cwd(), join(base, "70-policies.yaml"));
    for (const x of results) {
      assert.equal(x.ruleId, "connection-removed");
      assert.match(x.message.text, /NetworkPolicy shop\/cart-redis-ingress \(in the old manifests\)/);
      assert.equal(x.locations?.[0].physicalLocation?.artifactLocation.uri, file);
    }
  });

  it("input that does not load: lint, check and diff still give a valid log, its errors at their lines, exit 2", () => {
    const bad = join(tmp, "bad.yaml");
    writeFileSync(
      bad,
      "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 99999}]}\n",
    );
    const file = relative(process.cwd(), bad).split(sep).join("/");
    for (const args of [
      ["lint", "-f", bad],
      ["check", "-f", bad],
      ["diff", "-f", "examples/articles", "--against", bad, "--fail-on", "added"],
    ]) {
      const r = runPodnet([...args, "-o", "sarif"]);
      assert.equal(r.code, 2, `${args[0]}: ${r.err}`);
      assert.match(r.err, /bad\.yaml:4:23: error: Service default\/s: spec\.ports\[0\]\.port/);
      const log = valid(r.out);
      assert.deepEqual(where(log), [`${file}:4:23 out-of-range`], args[0]);
      assert.equal(log.runs[0].results[0].level, "error");
    }
    // A failure with no position (an unknown option) prints no log: there is nothing to mark.
    const usage = runPodnet(["lint", "-f", bad, "--no-such-option", "-o", "sarif"]);
    assert.equal(usage.code, 2);
    assert.equal(usage.out, "");
  });

  it("renderSarif: unlocated findings have no physical location; an unknown rule joins the catalog", () => {
    const log = valid(
      renderSarif({
        version: "0.0.0",
        rules: [],
        cwd: "/work",
        findings: [
          { ruleId: "x-rule", level: "warning", message: "about the cluster" },
          {
            ruleId: "x-rule",
            level: "note",
            message: "m",
            where: { file: "/work/a b/p.yaml", line: 3, column: 5 },
          },
        ],
      }),
    );
    const [a, b] = log.runs[0].results;
    assert.equal(a.locations, undefined);
    assert.equal(b.locations?.[0].physicalLocation?.artifactLocation.uri, "a%20b/p.yaml");
    assert.deepEqual(b.locations?.[0].physicalLocation?.region, { startLine: 3, startColumn: 5 });
    assert.equal(log.runs[0].tool.driver.rules.length, 1);
  });
});
