/**
 * The two YAML readers of manifests/parse.ts give one answer: `parseSource` (values read by js-yaml,
 * positions by the `yaml` library on demand) against `readYamlWithLibrary` (the `yaml` library alone,
 * the reader before js-yaml and the one every source js-yaml's path does not model goes to). Same
 * objects, same diagnostics (code, message, file:line:col), same position for every field — on every
 * example and fixture, on tables of tricky scalars and structures, and on generated text. Plus known
 * answers: what kubectl's YAML 1.1 makes of each tricky scalar.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Diagnostics, type FieldPath } from "../src/core/diagnostics.ts";
import {
  parseSource,
  type RawObject,
  readYamlWithLibrary,
  yamlValueReader,
} from "../src/core/manifests/parse.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/i.test(name)) out.push(p);
  }
  return out;
}

/** Every path of a value, collections and leaves. */
function paths(v: unknown, base: FieldPath = [], out: FieldPath[] = []): FieldPath[] {
  out.push(base);
  if (Array.isArray(v)) for (const [i, x] of v.entries()) paths(x, [...base, i], out);
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) paths(x, [...base, k], out);
  return out;
}

/** What a reader gives, positions included: objects, each field's line:col, the diagnostics. */
function reading(read: (s: { file: string; text: string }, d: Diagnostics) => RawObject[], text: string) {
  const diags = new Diagnostics();
  const raws = read({ file: "m.yaml", text }, diags);
  return {
    objects: raws.map((r) => r.value),
    positions: raws.map((r) => paths(r.value).map((p) => [p.join("."), r.origin.locate(p)])),
    diagnostics: diags.items.map((d) => ({
      code: d.code,
      message: d.message,
      at: d.origin ? d.origin.locate(d.path ?? []) : undefined,
    })),
  };
}

/** Both readers give the same; returns which library read the values. */
function assertSameReading(text: string): "js-yaml" | "yaml" {
  assert.deepStrictEqual(
    reading(parseSource, text),
    reading(readYamlWithLibrary, text),
    JSON.stringify(text),
  );
  return yamlValueReader(text);
}

// The library warns on collection keys it stringifies; the warning is not under test here.
process.removeAllListeners("warning");

describe("js-yaml and the yaml library read every example and fixture alike", () => {
  const files = [
    ...yamlFiles(join(ROOT, "examples")),
    ...yamlFiles(join(ROOT, "test", "fixtures")),
    ...yamlFiles(join(ROOT, "test", "cases")),
  ];
  const readers: Record<string, string[]> = { "js-yaml": [], yaml: [] };
  for (const file of files) {
    it(file.slice(ROOT.length), () => {
      readers[assertSameReading(readFileSync(file, "utf8"))].push(file);
    });
  }
  it("and js-yaml reads all but those that need the library", () => {
    assert.ok(files.length > 20, `${files.length} files`);
    // The library reads only files with a syntax error, an alias, a merge key or a tag.
    for (const file of readers.yaml) {
      const text = readFileSync(file, "utf8");
      const diags = new Diagnostics();
      readYamlWithLibrary({ file, text }, diags);
      assert.ok(
        diags.items.some((d) => d.code === "yaml-syntax") || /(^|\s)[*!]|<</m.test(text),
        `${file} is read by the library though it needs nothing only the library does`,
      );
    }
    assert.ok(readers["js-yaml"].length >= 0.8 * files.length, JSON.stringify(readers.yaml));
  });
});

/** A document holding `value` as a map value, a list item and a map key. */
function inPlaces(value: string): string[] {
  return [
    `apiVersion: v1\nkind: X\nmetadata: {name: n}\nv: ${value}\n`,
    `apiVersion: v1\nkind: X\nmetadata: {name: n}\nl: [${value}]\n`,
    `apiVersion: v1\nkind: X\nmetadata: {name: n}\n${value}: k\n`,
  ];
}

function readValue(text: string): unknown {
  const diags = new Diagnostics();
  const [raw] = parseSource({ file: "v.yaml", text }, diags);
  assert.equal(diags.hasErrors, false, diags.items.map((d) => d.message).join("; "));
  return raw.value.v;
}

describe("plain scalars mean what kubectl's YAML 1.1 makes of them", () => {
  // Known answers (go-yaml v2 resolve.go: the YAML 1.1 booleans, base-prefixed and 0-led octal ints,
  // floats that need a digit, timestamps kept as strings when decoded into an untyped value).
  const table: [string, unknown][] = [
    ["yes", true],
    ["Yes", true],
    ["YES", true],
    ["y", true],
    ["Y", true],
    ["on", true],
    ["On", true],
    ["ON", true],
    ["true", true],
    ["True", true],
    ["no", false],
    ["N", false],
    ["off", false],
    ["OFF", false],
    ["FALSE", false],
    ["yEs", "yEs"],
    ["oN", "oN"],
    ["~", null],
    ["null", null],
    ["Null", null],
    ["NULL", null],
    ["nULL", "nULL"],
    ["0755", 493],
    ["-0755", -493],
    ["0o755", "0o755"],
    ["08", 8],
    ["0x1F", 31],
    ["0xff_ff", 65535],
    ["0X1F", "0X1F"],
    ["0b101", 5],
    ["1_000", 1000],
    ["+12", 12],
    ["12345678901234567890", 12345678901234567000],
    ["1e3", 1000],
    ["1.5e-3", 0.0015],
    ["12e03", 12000],
    ["E0", "E0"],
    ["e3", "e3"],
    [".", "."],
    [".5", 0.5],
    ["5.", 5],
    ["-.5", -0.5],
    [".inf", Number.POSITIVE_INFINITY],
    ["-.Inf", Number.NEGATIVE_INFINITY],
    [".nan", Number.NaN],
    ["NaN", "NaN"],
    ["1.2.3", "1.2.3"],
    ["2026-01-01", "2026-01-01"],
    ["2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10 -5"],
    ["'0755'", "0755"],
    ['"yes"', "yes"],
    ["a b", "a b"],
    ["a#c", "a#c"],
    ["=", "="],
  ];
  for (const [source, want] of table) {
    it(`${source} → ${typeof want === "string" ? JSON.stringify(want) : String(want)}`, () => {
      assert.deepStrictEqual(readValue(`apiVersion: v1\nkind: X\nmetadata: {name: n}\nv: ${source}\n`), want);
      for (const text of inPlaces(source)) assert.equal(assertSameReading(text), "js-yaml");
    });
  }
  it("sexagesimal numbers stay as the yaml library read them before (1:20 → 80)", () => {
    assert.equal(readValue("apiVersion: v1\nkind: X\nmetadata: {name: n}\nv: 1:20\n"), 80);
    for (const s of ["1:20", "-1:20", "190:20:30", "1:20:30.5", "1:60", "1:2.5"])
      for (const text of inPlaces(s)) assertSameReading(text);
  });
  it("keys are the strings of their scalars (yes → true, ~ → empty, 0x10 → 16)", () => {
    const text =
      "apiVersion: v1\nkind: X\nmetadata: {name: n}\nyes: a\n~: b\n0x10: c\n1.50: d\n__proto__: e\n";
    const [raw] = parseSource({ file: "k.yaml", text }, new Diagnostics());
    assert.deepStrictEqual(Object.keys(raw.value), [
      "16",
      "apiVersion",
      "kind",
      "metadata",
      "true",
      "",
      "1.5",
      "__proto__",
    ]);
    assert.equal(Object.getPrototypeOf(raw.value), Object.prototype);
    assert.equal(assertSameReading(text), "js-yaml");
  });
});

describe("structures read alike, by js-yaml", () => {
  const doc = (body: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n${body}`;
  const table: Record<string, string> = {
    "literal, clipped": doc("  a: |\n    one\n    two\n\n"),
    "literal, stripped": doc("  a: |-\n    one\n\n"),
    "literal, kept": doc("  a: |+\n    one\n\n\n"),
    "folded, with more-indented lines": doc("  a: >\n    one\n    two\n\n      three\n    four\n"),
    "folded, stripped": doc("  a: >-\n    one\n    two\n"),
    "double-quoted escapes": doc('  a: "\\x41\\u0042\\U0001F600\\N\\_\\L\\P\\/\\ \\t\\e\\0\\\\\\""\n'),
    "double-quoted folding and an escaped line break": doc('  a: "one\n    two\n\n    three \\\n    four"\n'),
    "single-quoted folding": doc("  a: 'it''s\n    two\n\n    three'\n"),
    "multi-line plain": doc("  a: one\n    two\n\n    three\n"),
    "flow collections": doc("  a: '[1, {b: c}, [d, e], \"f\"]'\nspec: {x: [1, 2, {y: z}], w: {}}\n"),
    "single-pair flow map in a flow list": doc("  a: b\nl: [k: v, {m: n}]\n"),
    "explicit keys": doc("  ? a\n  : b\n  ? c\n"),
    "comments everywhere": `# head\napiVersion: v1 # trailing\n# between\nkind: X\nmetadata:\n  name: n # end\n  # indented\n`,
    "CRLF line endings":
      "apiVersion: v1\r\nkind: X\r\nmetadata:\r\n  name: n\r\ndata:\r\n  a: |\r\n    one\r\n    two\r\n",
    "a byte order mark": "\uFEFFapiVersion: v1\nkind: X\nmetadata:\n  name: n\n",
    "documents, empty ones and end markers":
      "# c\n---\n---\napiVersion: v1\nkind: X\nmetadata: {name: a}\n...\n---\n\n\napiVersion: v1\nkind: X\nmetadata:\n  name: b\n...\n",
    "a document starting on its --- line":
      "--- {apiVersion: v1, kind: X, metadata: {name: a}}\n--- \n- {apiVersion: v1, kind: Y}\n",
    "an anchor no alias uses, before the root":
      "---\n&root\napiVersion: v1\nkind: X\nmetadata: &m {name: a}\n",
    "an anchor on the root's first key": "---\n&k apiVersion: v1\nkind: X\nmetadata: {name: a}\n",
    "a List and a bare list":
      "apiVersion: v1\nkind: List\nitems:\n- kind: X\n  metadata: {name: a}\n---\n- kind: Y\n",
    "indentless lists":
      "apiVersion: v1\nkind: X\nmetadata: {name: n}\nl:\n- a\n- - b\n  - c\n- k: v\n  w: x\n",
    unicode: 'apiVersion: v1\nkind: X\nmetadata: {name: n, annotations: {ü: "日本", e: 😀}}\n',
    "a tab inside a block scalar": doc("  a: |\n    x\ty\n"),
    "a tab inside a quoted scalar": doc('  a: "x\ty"\n'),
    "line breaks YAML 1.1 knows beside \\n (NEL, LS, PS)": doc(
      "  a: b\u0085c\n  d: 'e\u2028f'\n  g: |\n    h\u2029i\n",
    ),
    "a no-break space": doc("  a: b\u00a0c\n"),
  };
  for (const [name, text] of Object.entries(table)) {
    it(name, () => assert.equal(assertSameReading(text), "js-yaml"));
  }
  it("positions in a later document count the lines before it", () => {
    const text = `${"# pad\n".repeat(5)}apiVersion: v1\nkind: X\nmetadata: {name: a}\n---\n# c\n\napiVersion: v1\nkind: Y\nmetadata:\n  name: b\nspec:\n  ports:\n  - port: 80\n`;
    const raws = parseSource({ file: "p.yaml", text }, new Diagnostics());
    assert.deepStrictEqual(raws[1].origin.locate(["spec", "ports", 0, "port"]), { line: 18, col: 11 });
    assert.deepStrictEqual(raws[1].origin.locate(["spec", "selector"]), { line: 16, col: 1 });
    assert.equal(assertSameReading(text), "js-yaml");
  });
});

describe("what js-yaml's path does not model goes to the library, whole", () => {
  const table: Record<string, string> = {
    "an alias": "apiVersion: v1\nkind: X\nmetadata: &m {name: a}\nspec: *m\n",
    "a merge key": "apiVersion: v1\nkind: X\nbase: &b {x: 1}\nmetadata:\n  <<: *b\n  name: a\n",
    "a merge key without an alias": "apiVersion: v1\nkind: X\nmetadata:\n  <<: {x: 1}\n  name: a\n",
    "an explicit tag": "apiVersion: v1\nkind: X\nmetadata: {name: !!str 1}\n",
    "a binary": "apiVersion: v1\nkind: X\nmetadata: {name: a}\nb: !!binary aGk=\n",
    "a local tag": "apiVersion: v1\nkind: X\nmetadata: !thing {name: a}\n",
    "a directive": "%YAML 1.1\n---\napiVersion: v1\nkind: X\nmetadata: {name: a}\n",
    "a collection key": "apiVersion: v1\nkind: X\nmetadata: {name: a}\n[a, b]: c\n",
    "an empty key": "apiVersion: v1\nkind: X\nmetadata: {name: a}\n: v\n",
    "an empty key js-yaml reads as a nested map": "apiVersion: v1\nkind: X\nm:\n  : k: v\n",
    "keys equal only as strings": "apiVersion: v1\nkind: X\nmetadata: {name: a}\n1: a\n'1': b\n",
    "a duplicate key": "apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  name: b\n",
    "a key over 1024 characters": `apiVersion: v1\nkind: X\nmetadata: {name: a}\n${"k".repeat(1100)}: v\n`,
    "a tab before a value": "apiVersion: v1\nkind: X\nm:\n  \t&x v\n",
    "a tab in a plain scalar's continuation": 'apiVersion: v1\nkind: X\nm:\n  \t0x1.5"\r\n\t\n  - \n',
    "text right after a closing quote": "apiVersion: v1\nkind: X\nm:\n  #c\n- 'it''s'k: v, \n  yes'q'>+\n",
    "a comment right after a closing quote": 'apiVersion: v1\nkind: X\nm: "v"#c\n',
    "a carriage return without a line feed": "apiVersion: v1\nkind: X\nm:\n  a: b\rc: d\r",
    "an indentation indicator": "apiVersion: v1\nkind: X\nm: |2\n      indented\n    base\n",
    "an indentation indicator over a line of spaces": "apiVersion: v1\nkind: X\nm:\n  >-1  \n  \n",
    "an anchor right before a flow map": "apiVersion: v1\nkind: X\nm:\n  &y...{a: b}\n",
    "a scalar as a document": "apiVersion: v1\nkind: X\nmetadata: {name: a}\n---\n|\n  text\n",
    "nesting deeper than js-yaml's 100": `apiVersion: v1\nkind: X\nm: ${"[".repeat(120)}${"]".repeat(120)}\n`,
    "a syntax error": "apiVersion: v1\nkind: X\nmetadata:\n  name: a\n   labels: {}\n",
    "an unclosed quote": "apiVersion: v1\nkind: X\nmetadata:\n  name: 'a\n",
    "a reserved indicator": "apiVersion: v1\nkind: X\nmetadata: {name: @a}\n",
  };
  for (const [name, text] of Object.entries(table)) {
    it(name, () => assert.equal(assertSameReading(text), "yaml"));
  }
  it("a duplicate key is still an error at its line:col", () => {
    const diags = new Diagnostics();
    parseSource({ file: "d.yaml", text: table["a duplicate key"] }, diags);
    const [d] = diags.errors;
    assert.equal(d.code, "yaml-syntax");
    assert.match(d.message, /^malformed YAML: Map keys must be unique/);
    assert.deepStrictEqual(d.origin?.locate([]), { line: 5, col: 3 });
  });
  it("an error in one document is reported, and the other documents are still read", () => {
    const text = `apiVersion: v1\nkind: X\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Y\nmetadata:\n  name: b\n   labels: {}\n---\napiVersion: v1\nkind: Z\nmetadata: {name: c}\n`;
    const diags = new Diagnostics();
    const raws = parseSource({ file: "e.yaml", text }, diags);
    assert.deepStrictEqual(
      raws.map((r) => r.value.kind),
      ["X", "Z"],
    );
    assert.equal(diags.errors.length > 0, true);
    assert.equal(assertSameReading(text), "yaml");
  });
});

describe("generated text reads alike (fast-check)", () => {
  const token = fc.constantFrom(
    "a",
    "kind",
    "yes",
    "0x1",
    "1e3",
    "~",
    "null",
    "'q'",
    '"d"',
    '"x\\ty"',
    "'it''s'",
    ":",
    ": ",
    "- ",
    "-",
    "[",
    "]",
    "{",
    "}",
    ", ",
    ",",
    "#c",
    " #c",
    "|",
    "|-",
    ">",
    ">+",
    "&x ",
    "*x",
    "!t ",
    "? ",
    "---",
    "...",
    "\t",
    " ",
    "  ",
    "\n",
    "\n",
    "\n  ",
    "\n    ",
    "\n- ",
    "\n  - ",
    "\r\n",
    '"',
    "'",
    "%",
    "@",
    "<<",
    "1:2",
    "0755",
    "2026-01-01",
    ".5",
    "k: v",
    "\n---\n",
    "\n...\n",
    // text after a document-end marker on its line: an error for both readers
    "\n... ",
  );
  for (const [name, head] of [
    ["inside a map", "apiVersion: v1\nkind: X\nm:\n  "],
    ["after other documents", "# c\n---\na: 1\n---\n"],
    ["alone", ""],
  ] as const) {
    it(name, () => {
      fc.assert(
        fc.property(fc.array(token, { maxLength: 30 }), (tokens) => {
          assertSameReading(`${head}${tokens.join("")}\n`);
        }),
        { numRuns: 400, seed: 12 },
      );
    });
  }
});
