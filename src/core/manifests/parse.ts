/**
 * Text to objects. YAML (multi-document, YAML 1.1 like kubectl's go-yaml, with merge keys) and JSON,
 * with `List` kinds (`v1/List`, `PodList`, …) flattened into their items. Each object remembers its
 * origin so later stages can point at `file:line:col` of any field.
 *
 * JSON is parsed with JSON.parse (fast on large `kubectl get -o json` dumps); its positions come from
 * a YAML parse of the same text, done only if some diagnostic asks for one.
 */
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
  parseDocument,
  type Tags,
} from "yaml";
import type { Diagnostics, FieldPath, Origin } from "../diagnostics.ts";

/** One manifest source: a file name (or `<stdin>`) and its text. */
export interface Source {
  readonly file: string;
  readonly text: string;
}

/** One object found in a source, before it is decoded. */
export interface RawObject {
  readonly value: Record<string, unknown>;
  readonly origin: Origin;
}

type DocLocator = (path: FieldPath) => { line: number; col: number } | undefined;
/** The source text of the scalar at a path of one document (see `Origin.written`). */
type DocWritten = (path: FieldPath) => string | undefined;

/**
 * The yaml library's YAML 1.1 float patterns make every part optional, so `E0` and `.` become NaN;
 * go-yaml (kubectl's parser) needs a digit and reads those as strings. Same patterns, digit required.
 */
const FLOAT_TAG = "tag:yaml.org,2002:float";
const FLOAT = /^(?=[-+]?[0-9_]*\.?[0-9_]*[0-9])[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*$/;
const FLOAT_EXP =
  /^(?=[-+]?[0-9_]*\.?[0-9_]*[0-9][0-9_]*[eE])[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+$/;

const TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp";

/**
 * The YAML 1.1 tags as kubectl's decoder (sigs.k8s.io/yaml over go-yaml v2) reads them: floats need
 * a digit (below), and a plain scalar that looks like a timestamp (`2026-01-01`) stays the string it
 * is, as go-yaml gives it when decoding into an untyped value, so a label value may be a date.
 */
function kubectlFloats(tags: Tags): Tags {
  return tags
    .filter((t) => typeof t !== "object" || t.tag !== TIMESTAMP_TAG)
    .map((t) => {
      if (typeof t !== "object" || t.tag !== FLOAT_TAG || !("test" in t) || !t.test) return t;
      if (t.format === "EXP") return { ...t, test: FLOAT_EXP };
      if (t.test.source.includes("inf")) return t; // .inf and .nan stay as they are
      return { ...t, test: FLOAT };
    });
}

const YAML_OPTIONS = { version: "1.1", merge: true, customTags: kubectlFloats } as const;

export function parseSource(source: Source, diags: Diagnostics): RawObject[] {
  const { file, text } = source;
  const trimmed = text.trimStart();
  if (/\.json$/i.test(file) || trimmed.startsWith("{") || trimmed.startsWith("[")) {
    const json = parseJson(source, diags);
    if (json) return json;
  }
  return parseYaml(source, diags);
}

function parseJson(source: Source, diags: Diagnostics): RawObject[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(source.text);
  } catch {
    // Not valid JSON. Let the YAML parser report the error with a position (JSON is YAML).
    return undefined;
  }
  let lazy: ReturnType<typeof yamlLocator> | undefined;
  const docLocator: DocLocator = (path) => {
    lazy ??= yamlLocator(source.text);
    return lazy.locate(path);
  };
  const docWritten: DocWritten = (path) => {
    lazy ??= yamlLocator(source.text);
    return lazy.written(path);
  };
  const out: RawObject[] = [];
  collect(value, [], source.file, docLocator, diags, out, docWritten);
  return out;
}

function parseYaml(source: Source, diags: Diagnostics): RawObject[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(source.text, { ...YAML_OPTIONS, lineCounter, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: RawObject[] = [];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const at = lineCounter.linePos(e.pos[0]);
        diags.error({
          code: "yaml-syntax",
          message: `malformed YAML: ${firstLine(e.message)}`,
          hint: "fix the YAML syntax at this position (check indentation, quotes and `:` after keys)",
          origin: { file: source.file, locate: () => at },
        });
      }
      continue;
    }
    const root = doc.contents;
    if (root === null) continue; // an empty document between `---` separators
    const locate: DocLocator = (path) => {
      const node = nodeAt(root as Node, path);
      return node?.range ? lineCounter.linePos(node.range[0]) : undefined;
    };
    const written: DocWritten = (path) => scalarText(source.text, root as Node, path);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      diags.error({
        code: "yaml-syntax",
        message: `YAML cannot be expanded: ${firstLine(String((e as Error).message ?? e))}`,
        hint: "remove the alias loop or reduce the number of aliases",
        origin: { file: source.file, locate: () => locate([]) },
      });
      continue;
    }
    collect(value, [], source.file, locate, diags, out, written);
  }
  return out;
}

/** Lists nested deeper than this are refused (no real dump nests Lists at all). */
const MAX_LIST_DEPTH = 64;

/** Flattens Lists; reports documents that are not Kubernetes objects. */
function collect(
  value: unknown,
  base: FieldPath,
  file: string,
  locateInDoc: DocLocator,
  diags: Diagnostics,
  out: RawObject[],
  writtenInDoc?: DocWritten,
): void {
  const origin: Origin = {
    file,
    locate: (path) => locateInDoc([...base, ...path]),
    written: writtenInDoc && ((path) => writtenInDoc([...base, ...path])),
  };
  if (value === null || value === undefined) return;
  if (Array.isArray(value) && base.length === 0) {
    // A bare JSON/YAML array of objects: accepted like a List's items (a list inside it is not an object).
    value.forEach((item, i) => {
      collect(item, [...base, i], file, locateInDoc, diags, out, writtenInDoc);
    });
    return;
  }
  if (base.length > MAX_LIST_DEPTH) {
    diags.error({
      code: "not-an-object",
      message: `Lists nested more than ${MAX_LIST_DEPTH / 2} deep`,
      hint: "give the objects in one List (kubectl get -o yaml writes one), or as documents separated by ---",
      origin,
    });
    return;
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    diags.error({
      code: "not-an-object",
      message: `expected a Kubernetes object (a map with apiVersion and kind), found ${describe(value)}`,
      hint: "each YAML document must be a map; separate documents with `---`",
      origin,
    });
    return;
  }
  const obj = value as Record<string, unknown>;
  const kind = obj.kind;
  if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(obj.items)) {
    // A typed list (`NamespaceList`) may omit its items' kind and apiVersion; kubectl takes them from
    // the list, and so does podnet.
    const itemKind = kind === "List" ? undefined : kind.slice(0, -"List".length);
    obj.items.forEach((item, i) => {
      if (itemKind && item && typeof item === "object" && !Array.isArray(item)) {
        const it = item as Record<string, unknown>;
        it.kind ??= itemKind;
        if (typeof obj.apiVersion === "string") it.apiVersion ??= obj.apiVersion;
      }
      collect(item, [...base, "items", i], file, locateInDoc, diags, out, writtenInDoc);
    });
    return;
  }
  if (obj.apiVersion === undefined && obj.kind === undefined && obj.metadata === undefined) {
    // Not a Kubernetes object at all (a values file, a tool's output stored beside the manifests).
    diags.warnOnce(`not-k8s:${file}`, {
      code: "not-a-manifest",
      message: "skipped content that is not a Kubernetes object (no apiVersion, kind or metadata)",
      hint: "podnet reads Kubernetes manifests; move other files out of the directory to silence this",
      origin,
    });
    return;
  }
  out.push({ value: obj, origin });
}

/**
 * The YAML node at a path. When the path does not exist (a missing field), the node that should hold
 * it: the key of the map it belongs in (`spec:` for a missing `spec.selector`), or the list item.
 */
function nodeAt(root: Node, path: FieldPath): Node | undefined {
  let node: Node | undefined = root;
  let fallback: Node = root;
  for (const key of path) {
    let next: unknown;
    let keyNode: Node | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k = p.key as { value?: unknown } | null;
        return k !== null && typeof k === "object" && k.value === key;
      });
      keyNode = pair?.key as Node | undefined;
      next = pair ? (pair.value ?? pair.key) : undefined;
    } else if (isSeq(node) && typeof key === "number") {
      next = node.items[key];
    }
    if (!next || typeof next !== "object" || !("range" in (next as object))) return fallback;
    node = next as Node;
    fallback = keyNode && (isMap(node) || isSeq(node)) ? keyNode : node;
  }
  return node;
}

function yamlLocator(text: string): { locate: DocLocator; written: DocWritten } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter });
  return {
    locate: (path) => {
      const node = doc.contents ? nodeAt(doc.contents as Node, path) : undefined;
      return node?.range ? lineCounter.linePos(node.range[0]) : undefined;
    },
    written: (path) => (doc.contents ? scalarText(text, doc.contents as Node, path) : undefined),
  };
}

/**
 * The text of the scalar at exactly `path` as the source wrote it (quotes included), or undefined
 * when the path does not end at a scalar. A path whose last key is a map key that YAML read as
 * another type (`n:` is false in YAML 1.1) is found by the key's text.
 */
function scalarText(text: string, root: Node, path: FieldPath): string | undefined {
  let node: unknown = root;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k = p.key as { value?: unknown } | null;
        return k !== null && typeof k === "object" && (k.value === key || String(k.value) === key);
      });
      node = pair?.value;
    } else if (isSeq(node) && typeof key === "number") node = node.items[key];
    else return undefined;
  }
  if (!isScalar(node) || !node.range) return undefined;
  return text.slice(node.range[0], node.range[1]);
}

function firstLine(s: string): string {
  return s.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  if (typeof v === "string") return `the string "${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return `${typeof v} ${String(v)}`;
}
