/**
 * The reader (manifests/parse.ts) against a plain reading with the yaml library: on every example and
 * fixture, the same objects, the same position for every field, the same syntax errors at the same
 * line:col. And large dumps load.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type Document, isMap, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";
import { resolveManifests } from "../src/core/cluster.ts";
import { Diagnostics, type FieldPath } from "../src/core/diagnostics.ts";
import { parseSource } from "../src/core/manifests/parse.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function manifestFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...manifestFiles(p));
    else if (/\.(ya?ml|json)$/i.test(name)) out.push(p);
  }
  return out;
}

/** The node a present path leads to (a key with no value: the key), read with the library's types. */
function nodeAt(root: Node, path: FieldPath): Node {
  let node = root;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      assert.ok(pair, `no key ${String(key)}`);
      node = (pair.value ?? pair.key) as Node;
    } else if (isSeq(node) && typeof key === "number") node = node.items[key] as Node;
    else assert.fail(`no ${String(key)} under a scalar`);
  }
  return node;
}

/** Every path of a JavaScript value, leaves and collections. */
function paths(v: unknown, base: FieldPath = [], out: FieldPath[] = []): FieldPath[] {
  out.push(base);
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) paths(x, [...base, i], out);
  } else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) if (x !== null) paths(x, [...base, k], out);
  return out;
}

interface Reading {
  objects: { value: unknown; at: Map<string, { line: number; col: number }> }[];
  errors: { line: number; col: number }[];
}

/** The plain reading: parseAllDocuments, each document's value, Lists and arrays flattened. */
function reference(text: string): Reading {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { version: "1.1", merge: true, lineCounter: lc }) as Document[];
  const reading: Reading = { objects: [], errors: [] };
  for (const doc of Array.isArray(docs) ? docs : []) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) reading.errors.push(lc.linePos(e.pos[0]));
      continue;
    }
    if (!doc.contents) continue;
    const root = doc.contents as Node;
    const flatten = (value: unknown, base: FieldPath) => {
      if (value === null || typeof value !== "object") return;
      if (Array.isArray(value)) {
        for (const [i, x] of value.entries()) flatten(x, [...base, i]);
        return;
      }
      const obj = value as Record<string, unknown>;
      if (typeof obj.kind === "string" && obj.kind.endsWith("List") && Array.isArray(obj.items)) {
        for (const [i, x] of obj.items.entries()) flatten(x, [...base, "items", i]);
        return;
      }
      const at = new Map<string, { line: number; col: number }>();
      for (const p of paths(obj)) {
        const node = nodeAt(root, [...base, ...p]);
        at.set(JSON.stringify(p), lc.linePos(node.range![0]));
      }
      reading.objects.push({ value: obj, at });
    };
    flatten(doc.toJS({ maxAliasCount: 1000 }), []);
  }
  return reading;
}

const FILES = [
  ...manifestFiles(join(ROOT, "examples")),
  ...manifestFiles(join(ROOT, "test", "fixtures")),
  ...manifestFiles(join(ROOT, "test", "cases")),
];

describe("parseSource reads as the yaml library does, positions included", () => {
  it("covers the examples and fixtures", () => assert.ok(FILES.length > 10, `${FILES.length} files`));
  for (const file of FILES) {
    it(file.slice(ROOT.length), () => {
      const text = readFileSync(file, "utf8");
      const ref = reference(text);
      const diags = new Diagnostics();
      const raws = parseSource({ file, text }, diags);
      const syntax = diags.items.filter((d) => d.code === "yaml-syntax").map((d) => d.origin?.locate([]));
      assert.deepEqual(syntax, ref.errors);
      assert.equal(raws.length, ref.objects.length);
      raws.forEach((raw, i) => {
        const want = ref.objects[i];
        // List items without kind take it from the List in the reader; compare the rest.
        const { kind: _k, apiVersion: _a, ...got } = raw.value;
        const { kind: _wk, apiVersion: _wa, ...exp } = want.value as Record<string, unknown>;
        assert.deepEqual(got, exp);
        for (const [p, pos] of want.at) {
          assert.deepEqual(raw.origin.locate(JSON.parse(p) as FieldPath), pos, `${file} ${p}`);
        }
      });
    });
  }
});

describe("positions of a field that is not there", () => {
  it("point at the key of the map it belongs in, or at the list item", () => {
    const text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: 80\n";
    const [raw] = parseSource({ file: "s.yaml", text }, new Diagnostics());
    assert.deepEqual(raw.origin.locate(["spec", "selector"]), { line: 5, col: 1 });
    assert.deepEqual(raw.origin.locate(["spec", "ports", 0, "name"]), { line: 7, col: 5 });
  });
  it("in JSON, found lazily by a YAML reading of the same text", () => {
    const text = JSON.stringify(
      { apiVersion: "v1", kind: "List", items: [{ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } }] },
      null,
      4,
    );
    const [raw] = parseSource({ file: "dump.json", text }, new Diagnostics());
    assert.deepEqual(raw.origin.locate(["metadata", "name"]), { line: 9, col: 25 });
  });
});

describe("large dumps", () => {
  it("a JSON List of 150,000 objects loads (no call-stack overflow on the way)", () => {
    const items = Array.from({ length: 150000 }, (_, i) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `c${i}`, namespace: "default" },
    }));
    const text = JSON.stringify({ apiVersion: "v1", kind: "List", items });
    const r = resolveManifests([{ file: "dump.json", text }]);
    assert.ok(r.ok);
    assert.ok(
      r.diagnostics.some(
        (d) => d.message === "skipped 150000 objects of kind ConfigMap (not part of the network model)",
      ),
    );
  });
});

describe("aliases", () => {
  const errors = (text: string) => {
    const diags = new Diagnostics();
    parseSource({ file: "a.yaml", text }, diags);
    return diags.items.map((d) => {
      const at = d.origin?.locate(d.path ?? []);
      return `${at?.line}:${at?.col} ${d.message} | ${d.hint}`;
    });
  };
  it("an alias to no anchor is reported at the alias, with the fix", () => {
    assert.deepEqual(errors("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: *nolabels\n"), [
      "5:11 alias *nolabels refers to no anchor &nolabels before it in this document (anchors do not carry across ---) | define &nolabels earlier in the same document, or write the value out",
    ]);
  });
  it("an anchor does not carry across ---: the alias in the second document is the error", () => {
    const text =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: &l {a: b}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: q, labels: *l}\n";
    assert.deepEqual(
      errors(text).map((e) => e.split(" ")[0]),
      ["7:29"],
    );
  });
  it("an alias after its anchor in the same document reads the anchored value", () => {
    const diags = new Diagnostics();
    const objs = parseSource(
      {
        file: "a.yaml",
        text: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: &l {a: b}, annotations: *l}\n",
      },
      diags,
    );
    assert.deepEqual(diags.items, []);
    assert.deepEqual((objs[0].value.metadata as Record<string, unknown>).annotations, { a: "b" });
  });
  it("too many expansions (a billion laughs) is refused with the limit, not a loop", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    }
    const e = errors(`apiVersion: v1\nkind: X\nmetadata: {name: p}\n${lines.join("\n")}\n`);
    assert.equal(e.length, 1);
    assert.match(e[0], /YAML cannot be expanded: .*\| write the repeated values out, or use fewer aliases/);
  });
});
