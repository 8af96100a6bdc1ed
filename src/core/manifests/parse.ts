/**
 * Text to objects. YAML (multi-document, YAML 1.1 like kubectl's go-yaml, with merge keys) and JSON,
 * with `List` kinds (`v1/List`, `PodList`, …) flattened into their items. Each object remembers its
 * origin so later stages can point at `file:line:col` of any field.
 *
 * Two libraries read YAML, each for what it does best:
 * - `js-yaml` reads the values: its parser gives a flat event stream (with source offsets) and its
 *   constructor builds plain objects, several times faster than the `yaml` library on large files.
 *   Scalars are resolved by the `yaml` library's own YAML 1.1 tags (`YAML_11_TAGS`), so a plain
 *   `yes`, `0755`, `1e3` or `2026-01-01` means here what it meant before.
 * - the `yaml` library reads positions: a diagnostic's `file:line:col` comes from a `yaml` reading of
 *   only the document it points into, done the first time a diagnostic of that document is printed.
 * - the `yaml` library reads the whole source instead, exactly as before (`readYamlWithLibrary`),
 *   whenever the source has something the fast path does not model: any syntax error (so error
 *   messages and their positions are the library's, every error of every document), an explicit
 *   tag, an alias, a merge key (`<<`), a `%` directive, a complex (collection) or empty key, an
 *   implicit key longer than 1024 characters, two keys that only the string form makes equal, a
 *   scalar as a document, a block scalar's explicit indentation indicator (`|2`); and where js-yaml
 *   is laxer than the library: a tab outside a quoted or block scalar, text right after a closing
 *   quote or an anchor, a carriage return without a line feed.
 *
 * JSON is parsed with JSON.parse (fast on large `kubectl get -o json` dumps); its positions come from
 * a YAML parse of the same text, done only if some diagnostic asks for one.
 */
import {
  constructFromEvents,
  defineMappingTag,
  defineScalarTag,
  EVENT_ID,
  type Event,
  Schema as EventSchema,
  NOT_RESOLVED,
  parseEvents,
  SCALAR_STYLE,
  seqTag,
  strTag,
} from "js-yaml";
import {
  Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
  parseDocument,
  type ScalarTag,
  type Tags,
  visit,
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

/**
 * The scalar tags the `yaml` library resolves a plain scalar with under `YAML_OPTIONS`, in its order
 * (null, booleans, ints, floats, sexagesimal numbers; `<<` aside), and the options their `resolve`
 * takes. Taken from the library's own schema so both readers give every plain scalar one meaning.
 */
const { tags: YAML_11_TAGS, options: YAML_11_OPTIONS } = (() => {
  const doc = new Document(null, YAML_OPTIONS);
  const tags = doc.schema.tags.filter(
    (t): t is ScalarTag & { test: RegExp } => !t.collection && t.default === true && t.test instanceof RegExp,
  );
  return { tags, options: doc.options };
})();

/**
 * Any of `YAML_11_TAGS` matches: one regular expression, so a plain string is told apart in one test
 * (when a pattern has flags the union cannot carry, every scalar goes through the tags one by one).
 */
const YAML_11_ANY = YAML_11_TAGS.every((t) => t.test.flags === "")
  ? new RegExp(YAML_11_TAGS.map((t) => `(?:${t.test.source})`).join("|"))
  : /(?:)/;

/** Thrown while constructing when the source needs the `yaml` library's reading (see the module doc). */
class NeedsLibrary extends Error {}

/** A plain scalar: the value `YAML_11_TAGS` give it; `<<` (a merge key) sends the source to the library. */
const yaml11Plain = defineScalarTag<unknown>("tag:podnet,2026:yaml-1.1-plain", {
  implicit: true,
  resolve: (source) => {
    if (source === "<<") throw new NeedsLibrary("merge key");
    if (!YAML_11_ANY.test(source)) return NOT_RESOLVED;
    for (const tag of YAML_11_TAGS) {
      if (!tag.test.test(source)) continue;
      // A tag may give a Scalar node (the booleans do, to keep their spelling); its value is what
      // toJS gives.
      const value = tag.resolve(source, () => {}, YAML_11_OPTIONS);
      const plain = isScalar(value) ? value.value : value;
      if (plain !== null && typeof plain === "object") throw new NeedsLibrary("scalar node");
      return plain;
    }
    return NOT_RESOLVED;
  },
  identify: () => false,
});

/**
 * A mapping as the `yaml` library's toJS builds it: a plain object whose keys are the scalar keys'
 * strings (`null` → `""`, `true` → `"true"`, `0x10` → `"16"`), `__proto__` an own property. A collection
 * as a key, or two keys equal only as strings (`1` and `"1"`, which the library keeps apart and then
 * overwrites), send the source to the library.
 */
const plainMap = defineMappingTag<Record<string, unknown>>("tag:yaml.org,2002:map", {
  create: () => ({}),
  addPair: (map, key, value) => {
    if (key !== null && typeof key === "object") throw new NeedsLibrary("collection key");
    const k = key === null ? "" : String(key);
    if (k === "__proto__")
      Object.defineProperty(map, k, { value, writable: true, enumerable: true, configurable: true });
    else map[k] = value;
    return "";
  },
  has: (map, key) => {
    const k = key === null ? "" : String(key);
    if (!Object.hasOwn(map, k)) return false;
    throw new NeedsLibrary("duplicate key");
  },
  keys: (map) => Object.keys(map),
  get: (map, key) => map[String(key)],
  identify: () => false,
});

const EVENT_SCHEMA = new EventSchema([strTag, seqTag, plainMap, yaml11Plain]);

/** The yaml library's limit on an implicit key's length (YAML 1.2 §7.4.2 / §8.2.2: 1024 characters). */
const MAX_IMPLICIT_KEY = 1024;

/**
 * The objects of one source, in order, Lists flattened, each with its origin (positions computed
 * when first asked). JSON when the file is `.json` or the text starts with `{` or `[` and parses as
 * JSON; YAML otherwise (see the module doc). Problems are diagnostics: a YAML syntax error at its
 * line:col (that document is skipped, the others are read), a document that is not an object.
 */
export function parseSource(source: Source, diags: Diagnostics): RawObject[] {
  const { file, text } = source;
  // Leading comment lines (a podnet snapshot's header) before JSON: blanked to spaces, so that the
  // JSON parser reads the rest and every offset stays where it was.
  const comments = text.startsWith("#")
    ? /^(?:[ \t]*#[^\n]*\n)+\s*[[{]/.exec(text.slice(0, 64 * 1024))
    : null;
  const body = comments ? text.replace(/^(?:[ \t]*#[^\n]*\n)+/, (m) => m.replace(/[^\n]/g, " ")) : text;
  const trimmed = body.trimStart();
  if (/\.json$/i.test(file) || trimmed.startsWith("{") || trimmed.startsWith("[")) {
    const json = parseJson(source, body, diags);
    if (json) return json;
  }
  return parseYaml(source, diags);
}

function parseJson(source: Source, body: string, diags: Diagnostics): RawObject[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
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
  const docs = readWithEvents(source.text);
  if (!docs) return readYamlWithLibrary(source, diags);
  const lines = new LineIndex(source.text);
  const out: RawObject[] = [];
  for (const doc of docs) {
    if (doc.value === null || doc.value === undefined) continue; // an empty document
    const reader = documentReader(source.text, doc, lines);
    const document = source.text.slice(doc.start, doc.end);
    collect(doc.value, [], source.file, reader.locate, diags, out, reader.written, document);
  }
  return out;
}

/** One document read by `readWithEvents`: its value and where its text lies. */
interface EventDocument {
  readonly value: unknown;
  /** Offset of the line where the document's content (or its anchor) starts. */
  readonly start: number;
  /** Offset of the line where the next document's content starts, or the text's length. */
  readonly end: number;
  /** Offset of the root node (a map's first key, a list's first `-`, a flow collection's bracket), -1 to ask the library. */
  readonly root: number;
}

/**
 * Reads every document's value with js-yaml, or gives `undefined` when the source must be read by
 * the `yaml` library (see the module doc for when; the library then reports every error itself).
 */
function readWithEvents(text: string): EventDocument[] | undefined {
  let events: Event[];
  let values: unknown[];
  // A carriage return alone ends a line for js-yaml, not for the library.
  if (text.includes("\r") && LONE_CR.test(text)) return undefined;
  if (INDENT_INDICATOR.test(text)) return undefined;
  try {
    events = parseEvents(text, {});
    if (!eventsAreModelled(text, events)) return undefined;
    values = constructFromEvents(events, { source: text, schema: EVENT_SCHEMA, maxAliases: 0 });
  } catch (e) {
    if (process.env.DBG) console.log(e);
    return undefined; // a syntax error, a duplicate key, or NeedsLibrary
  }
  // Each document's first offset: that of its root (a map, a list or an empty scalar, -1), which
  // follows its DOCUMENT event.
  const firsts: number[] = [];
  const roots: number[] = [];
  for (let i = 0; i + 1 < events.length; i++) {
    if (events[i].type !== EVENT_ID.DOCUMENT) continue;
    const root = events[i + 1];
    const collection = root.type === EVENT_ID.MAPPING || root.type === EVENT_ID.SEQUENCE;
    firsts.push(collection ? (root.anchorStart !== -1 ? root.anchorStart : root.start) : -1);
    // A root whose first key carries an anchor (`&a key: v`): js-yaml's start is the anchor's.
    roots.push(collection && text.charAt(root.start) !== "&" ? root.start : -1);
  }
  if (firsts.length !== values.length) return undefined;
  const lineStart = (offset: number) => text.lastIndexOf("\n", offset - 1) + 1;
  const docs: EventDocument[] = [];
  let end = text.length;
  for (let i = values.length - 1; i >= 0; i--) {
    const start = firsts[i] < 0 ? end : lineStart(firsts[i]);
    docs.push({ value: values[i], start, end, root: roots[i] });
    end = start;
  }
  return docs.reverse();
}

/** A carriage return not followed by a line feed. */
const LONE_CR = /\r(?!\n)/;

/**
 * A block scalar header with an explicit indentation indicator (`|2`, `>-1`, `|+4`): js-yaml and the
 * library differ on lines of spaces under it. Found anywhere (a quoted `'|2'` too), which only costs
 * a reading by the library.
 */
const INDENT_INDICATOR = /[|>](?:[1-9][-+]?|[-+][1-9])(?=[ \t]|\r?\n|$)/;

/** The library wants white space (or the end) after an anchor's name; js-yaml also takes `&a{`. */
function anchorSeparated(text: string, anchorEnd: number): boolean {
  if (anchorEnd === -1) return true;
  const c = text.charAt(anchorEnd);
  return c === " " || c === "\n" || c === "\r" || c === "\t" || c === "";
}

/** What may follow a quoted scalar's closing quote (the library refuses `'a'b` and `"a"#c`). */
const AFTER_QUOTE = new Set([" ", "\r", "\n", ":", ",", "]", "}", ""]);

/**
 * Whether the event stream holds only what the fast path models: no `%` directive, no explicit tag,
 * no alias, no collection or empty scalar as a mapping key, no implicit key longer than the `yaml`
 * library allows, no scalar as a document but an empty one; and, where js-yaml is laxer than the
 * library, no tab outside a quoted or block scalar (the library refuses tabs in some places js-yaml
 * takes as indentation) and nothing but a separator right after a quoted scalar.
 */
function eventsAreModelled(text: string, events: readonly Event[]): boolean {
  // One entry per open collection: a mapping's count of nodes so far (even: a key comes next), -1 for
  // a sequence.
  const open: number[] = [];
  const atKey = () => open.length > 0 && open[open.length - 1] >= 0 && open[open.length - 1] % 2 === 0;
  const done = () => {
    if (open.length > 0 && open[open.length - 1] >= 0) open[open.length - 1]++;
  };
  let tab = text.indexOf("\t"); // the next tab not yet known to be inside a quoted or block scalar
  for (const e of events) {
    switch (e.type) {
      case EVENT_ID.DOCUMENT:
        if (e.directives.length > 0) return false;
        open.length = 0;
        break;
      case EVENT_ID.ALIAS:
        return false;
      case EVENT_ID.SCALAR:
        if (e.tagStart !== -1 || !anchorSeparated(text, e.anchorEnd)) return false;
        // An empty key (`: v`): js-yaml also takes `: k: v` there, which the library refuses.
        if (atKey() && (e.valueStart === -1 || e.valueEnd - e.valueStart > MAX_IMPLICIT_KEY)) return false;
        // A scalar as a document (an error, unless empty): the library reports it, as before.
        if (open.length === 0 && (e.valueStart !== -1 || e.style !== SCALAR_STYLE.PLAIN)) return false;
        if (e.valueStart !== -1) {
          if (tab !== -1 && tab < e.valueStart) return false;
          if (e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED) {
            if (!AFTER_QUOTE.has(text.charAt(e.valueEnd + 1))) return false;
            if (tab !== -1 && tab <= e.valueEnd) tab = text.indexOf("\t", e.valueEnd + 1);
          } else if (e.style !== SCALAR_STYLE.PLAIN && tab !== -1 && tab < e.valueEnd)
            tab = text.indexOf("\t", e.valueEnd);
        }
        done();
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE:
        if (e.tagStart !== -1 || atKey() || !anchorSeparated(text, e.anchorEnd)) return false;
        open.push(e.type === EVENT_ID.MAPPING ? 0 : -1);
        break;
      case EVENT_ID.POP:
        if (open.length > 0) {
          open.pop();
          done();
        }
        break;
    }
  }
  return tab === -1;
}

/** Line numbers of offsets in one text, the line starts found once, on first use. */
class LineIndex {
  private starts: number[] | undefined;
  constructor(private readonly text: string) {}
  /** Zero-based line of an offset. */
  lineOf(offset: number): number {
    const starts = this.lineStarts();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
  /** One-based line and column of an offset, as the `yaml` library's LineCounter gives them. */
  linePos(offset: number): { line: number; col: number } {
    const line = this.lineOf(offset);
    return { line: line + 1, col: offset - this.lineStarts()[line] + 1 };
  }
  private lineStarts(): number[] {
    if (!this.starts) {
      this.starts = [0];
      for (let i = this.text.indexOf("\n"); i !== -1; i = this.text.indexOf("\n", i + 1))
        this.starts.push(i + 1);
    }
    return this.starts;
  }
}

/**
 * Positions inside one document read by `readWithEvents`, and the text a scalar was written as
 * (`Origin.written`). The root's position is js-yaml's (the warnings on skipped kinds point there,
 * and a large CRD is then not read again). Anything else: the `yaml` library reads the document's
 * lines (from the line its root, or the root's anchor, starts on, to the line the next document's
 * starts on), on the first call; its lines are then shifted by the lines before.
 */
function documentReader(
  text: string,
  doc: EventDocument,
  lines: LineIndex,
): { locate: DocLocator; written: DocWritten } {
  let lazy: ReturnType<typeof sliceReader> | undefined;
  return {
    locate: (path) => {
      if (path.length === 0 && doc.root !== -1) return lines.linePos(doc.root);
      lazy ??= sliceReader(text, doc, lines);
      return lazy.locate(path);
    },
    written: (path) => {
      lazy ??= sliceReader(text, doc, lines);
      return lazy.written(path);
    },
  };
}

function sliceReader(
  text: string,
  doc: EventDocument,
  lines: LineIndex,
): { locate: DocLocator; written: DocWritten } {
  const lineCounter = new LineCounter();
  const slice = text.slice(doc.start, doc.end);
  const [first] = parseAllDocuments(slice, { ...YAML_OPTIONS, lineCounter });
  const root = first?.contents as Node | null | undefined;
  const shift = lines.lineOf(doc.start);
  return {
    locate: (path) => {
      const node = root ? nodeAt(root, path) : undefined;
      if (!node?.range) return undefined;
      const { line, col } = lineCounter.linePos(node.range[0]);
      return { line: line + shift, col };
    },
    written: (path) => (root ? scalarText(slice, root, path) : undefined),
  };
}

/**
 * Reports each alias of `doc` that refers to no anchor before it in the same document (YAML 1.2
 * §7.1: an alias names the most recent anchor of that name *in its document*; anchors do not carry
 * across `---`), at the alias's own line:col. True when there was one: the document is not read.
 */
function reportUnresolvedAliases(
  doc: Document.Parsed,
  file: string,
  lineCounter: LineCounter,
  diags: Diagnostics,
): boolean {
  let found = false;
  visit(doc, {
    Alias(_key, alias) {
      if (alias.resolve(doc) !== undefined) return;
      found = true;
      const at = alias.range ? lineCounter.linePos(alias.range[0]) : undefined;
      diags.error({
        code: "yaml-syntax",
        message: `alias *${alias.source} refers to no anchor &${alias.source} before it in this document (anchors do not carry across ---)`,
        hint: `define &${alias.source} earlier in the same document, or write the value out`,
        origin: { file, locate: () => at },
      });
    },
  });
  return found;
}

/**
 * The `yaml` library's reading of a whole YAML source: every document composed with positions, every
 * syntax error of every document reported at its line:col. The reader of sources the fast path does
 * not model (see the module doc), and the reference the fast path is tested against.
 */
export function readYamlWithLibrary(source: Source, diags: Diagnostics): RawObject[] {
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
    if (reportUnresolvedAliases(doc, source.file, lineCounter, diags)) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      diags.error({
        code: "yaml-syntax",
        message: `YAML cannot be expanded: ${firstLine(String((e as Error).message ?? e))}`,
        hint: "write the repeated values out, or use fewer aliases (at most 1,000 expansions per document)",
        origin: { file: source.file, locate: () => locate([]) },
      });
      continue;
    }
    collect(value, [], source.file, locate, diags, out, written);
  }
  return out;
}

/**
 * Which library reads the values of a YAML text in `parseSource`: `js-yaml`, or `yaml` when the text
 * has something the fast path does not model (see the module doc). For tests and benchmarks.
 */
export function yamlValueReader(text: string): "js-yaml" | "yaml" {
  return readWithEvents(text) ? "js-yaml" : "yaml";
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
  document?: string,
): void {
  const origin: Origin = {
    file,
    locate: (path) => locateInDoc([...base, ...path]),
    written: writtenInDoc && ((path) => writtenInDoc([...base, ...path])),
    ...(document !== undefined ? { document } : {}),
  };
  if (value === null || value === undefined) return;
  if (Array.isArray(value) && base.length === 0) {
    // A bare JSON/YAML array of objects: accepted like a List's items (a list inside it is not an object).
    value.forEach((item, i) => {
      collect(item, [...base, i], file, locateInDoc, diags, out, writtenInDoc, document);
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
      collect(item, [...base, "items", i], file, locateInDoc, diags, out, writtenInDoc, document);
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
