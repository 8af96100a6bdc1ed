/**
 * The snapshot's streamed writer (src/cli/snapshot.ts `writeSnapshot`) writes the v1 List as JSON
 * after the header, one object to a line, in pieces; and the per-object
 * Anonymizer renames each object exactly as anonymizing the whole list does.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { renderSnapshot, writeSnapshot } from "../src/cli/snapshot.ts";
import { Diagnostics } from "../src/core/diagnostics.ts";
import { anonymizeObjects, makeAnonymizer } from "../src/core/manifests/anonymize.ts";
import { parseSource } from "../src/core/manifests/parse.ts";
import { runPodnet } from "./helpers.ts";

const items: Record<string, unknown>[] = [
  {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web-6d4cf56db6-2jxkq",
      namespace: "shop",
      uid: "11111111-2222-3333-4444-555555555555",
      labels: { app: "web" },
      ownerReferences: [{ kind: "ReplicaSet", name: "web-6d4cf56db6", uid: "aaaa" }],
    },
    spec: { nodeName: "node-1", containers: [{ name: "c", ports: [{ containerPort: 80 }], env: [] }] },
    status: { podIP: "10.0.1.7", podIPs: [{ ip: "10.0.1.7" }], hostIP: "192.168.0.3", conditions: [] },
  },
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "shop" },
    spec: { selector: { app: "web" } },
  },
  {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-abcde", namespace: "shop", labels: { "kubernetes.io/service-name": "web" } },
    endpoints: [
      {
        addresses: ["10.0.1.7"],
        targetRef: { kind: "Pod", name: "web-6d4cf56db6-2jxkq", uid: "11111111-2222-3333-4444-555555555555" },
      },
    ],
  },
];

describe("snapshot writer", () => {
  it("writes the List as JSON, one object to a line, for 0, 1 and several items", () => {
    for (const list of [[], items.slice(0, 1), items]) {
      const text = renderSnapshot(["one", "two"], list);
      const lines = text.split("\n");
      assert.deepEqual(lines.slice(0, 2), ["# one", "# two"]);
      assert.deepEqual(JSON.parse(lines.slice(2).join("\n")), {
        apiVersion: "v1",
        kind: "List",
        metadata: { resourceVersion: "" },
        items: list,
      });
      // One object to a line, as JSON.stringify writes it.
      assert.deepEqual(
        lines.slice(3, 3 + list.length).map((l) => l.replace(/,$/, "")),
        list.map((o) => JSON.stringify(o)),
      );
    }
  });

  it("asks for each item once, in order, and writes a large list in pieces of about 1 MiB", () => {
    const asked: number[] = [];
    const pieces: string[] = [];
    const big = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x" },
      data: { v: "x".repeat(10_000) },
    };
    writeSnapshot(
      [],
      300,
      (i) => {
        asked.push(i);
        return big;
      },
      (s) => pieces.push(s),
    );
    assert.deepEqual(asked, [...Array(300).keys()]);
    assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
    assert.ok(pieces.every((p) => p.length < (1 << 20) + 20_000));
    assert.equal(JSON.parse(pieces.join("")).items.length, 300);
  });

  it("-f reads a snapshot, header and all, as JSON: the same objects, each at its own line", () => {
    const text = renderSnapshot(
      ["podnet snapshot of context test", "replay with: podnet COMMAND -f THIS_FILE"],
      items,
    );
    const diags = new Diagnostics();
    const read = parseSource({ file: "snap.yaml", text }, diags);
    assert.equal(diags.items.length, 0);
    assert.deepEqual(
      read.map((r) => r.value),
      items,
    );
    // Two header lines, the List's line, then one line per object.
    for (const [i, r] of read.entries()) assert.equal(r.origin.locate?.(["metadata", "name"])?.line, 4 + i);
  });

  it("the per-object Anonymizer renames as anonymizing the whole list does, in any order", () => {
    const whole = anonymizeObjects(items, "seed").objects;
    const a = makeAnonymizer(items, "seed");
    const reversed = [...items].reverse().map(a.anonymize).reverse();
    assert.deepEqual(reversed, whole);
    assert.notEqual(JSON.stringify(whole).includes("web-6d4cf56db6"), true);
  });
});

describe("snapshot refuses what no command would read back, and writes nothing then", () => {
  const dir = mkdtempSync(join(tmpdir(), "podnet-snap-"));
  const out = join(dir, "d.yaml");

  it("-o with a format's name: -o names the file", () => {
    const r = runPodnet(["snapshot", "-f", "examples/articles", "-o", "yaml"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /error: -o yaml: -o names the file to write .* write -o dump\.yaml/);
    assert.equal(existsSync("yaml"), false);
    // `-o json` is no format here either: the refusal is said once, as text, not also as JSON.
    const json = runPodnet(["snapshot", "-f", "examples/articles", "-o", "json"]);
    assert.equal(json.code, 2);
    assert.equal(json.out, "");
    assert.equal(json.err.match(/error: -o json: -o names the file/g)?.length, 1, json.err);
  });

  it("-o a directory: exit 2 with the fix, nothing written", () => {
    const r = runPodnet(["snapshot", "-f", "examples/articles", "-o", dir]);
    assert.equal(r.code, 2);
    assert.match(r.err, /error: -o .* is a directory: -o names the file to write, e\.g\. -o .*dump\.yaml\n$/);
    assert.doesNotMatch(r.err, /EISDIR|rename/);
    assert.deepEqual(readdirSync(dir), []);
    // A path through a file: exit 2 saying so, not an internal error.
    const file = join(dir, "x.json");
    writeFileSync(file, "{}");
    const through = runPodnet(["snapshot", "-f", "examples/articles", "-o", join(file, "d.yaml")]);
    assert.equal(through.code, 2, through.err);
    assert.match(through.err, /cannot write it: a part of .*x\.json is not a directory\n$/);
    rmSync(file);
  });

  it("objects defined twice, invalid objects, -o that is an input: exit 2, no file", () => {
    const twice = runPodnet(["snapshot", "-f", "examples/articles", "-f", "examples/articles", "-o", out]);
    assert.equal(twice.code, 2);
    assert.match(twice.err, /defined twice/);
    assert.match(twice.err, /nothing was written/);
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 99999}]}\n",
    );
    const invalid = runPodnet(["snapshot", "-f", bad, "-o", out]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.err, /bad\.yaml:4:\d+: error: Service default\/s: spec\.ports\[0\]\.port/);
    assert.equal(existsSync(out), false);
    const self = runPodnet(["snapshot", "-f", bad, "-o", bad]);
    assert.equal(self.code, 2);
    assert.match(self.err, /is also read with -f: the snapshot would overwrite its own input/);
    // A file inside a directory read with -f: overwritten, or read back next time as a second copy.
    const copy = join(dir, "articles");
    cpSync("examples/articles", copy, { recursive: true });
    const inside = runPodnet(["snapshot", "-f", copy, "-o", join(copy, "cluster.yaml")]);
    assert.equal(inside.code, 2);
    assert.match(inside.err, /lies inside .*articles, which -f reads/);
    assert.equal(
      readFileSync(join(copy, "cluster.yaml"), "utf8"),
      readFileSync("examples/articles/cluster.yaml", "utf8"),
    );
    const fresh = runPodnet(["snapshot", "-f", dir, "-o", join(dir, "new.yaml")]);
    assert.equal(fresh.code, 2);
    assert.equal(existsSync(join(dir, "new.yaml")), false);
  });

  it("a directory that does not exist: exit 2 naming -o's path, no partial file", () => {
    const r = runPodnet(["snapshot", "-f", "examples/articles", "-o", join(dir, "no", "d.yaml")]);
    assert.equal(r.code, 2);
    assert.match(r.err, /error: -o .*\/no\/d\.yaml: cannot write it: the directory .*\/no does not exist\n$/);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes("partial")),
      [],
    );
    const ok = runPodnet(["snapshot", "-f", "examples/articles", "-o", out]);
    assert.equal(ok.code, 0, ok.err);
    assert.deepEqual(readdirSync(dir).sort(), ["articles", "bad.yaml", "d.yaml"]);
  });
});
