/**
 * Diagnostics are data, not exceptions. Every stage (parsing, decoding, the controllers) appends to
 * one `Diagnostics` collector, so a run reports all of its problems together. Positions are resolved
 * lazily: a diagnostic carries the object's origin and a field path, and the source file turns that
 * into line:column only when the diagnostic is printed (most runs print none, and big inputs stay fast).
 */

export type Severity = "error" | "warning";

/** A field path inside one object, e.g. `["spec", "ports", 0, "port"]`. */
export type FieldPath = readonly (string | number)[];

/** Resolves a field path of one object to a 1-based line and column in its source file. */
export type Locator = (path: FieldPath) => { line: number; col: number } | undefined;

/** Where an object came from: the file, and how to find positions inside it. */
export interface Origin {
  readonly file: string;
  readonly locate: Locator;
  /**
   * The source text of the scalar at a field path exactly as the input wrote it (`yes`, `1e23`,
   * `0x1F`, `"80"` with its quotes), or undefined when the path is not a scalar of the source (or
   * the origin has no source, as for objects podnet supplies). Messages and fixes quote the input
   * with it rather than the decoded value (YAML 1.1 reads `yes` as true and `1e23` as 1e+23).
   */
  readonly written?: (path: FieldPath) => string | undefined;
  /**
   * The text of the YAML document the object was read from, when podnet's event reader read it (one
   * schema for every such document): two objects whose documents have the same text decode alike, so
   * `diff` compares this before comparing the objects. Undefined for JSON, for documents the `yaml`
   * library read, for live reads and for objects podnet supplies.
   */
  readonly document?: string;
}

export interface Diagnostic {
  readonly severity: Severity;
  /** A stable identifier, e.g. `port-out-of-range`; tests and tooling match on it. */
  readonly code: string;
  /** What is wrong, stated as a fact that names the values involved. */
  readonly message: string;
  /** What to do about it. */
  readonly hint?: string;
  /** `Kind namespace/name` of the object concerned, when there is one. */
  readonly object?: string;
  readonly origin?: Origin;
  readonly path?: FieldPath;
}

export interface Position {
  readonly file: string;
  readonly line?: number;
  readonly col?: number;
}

export class Diagnostics {
  readonly items: Diagnostic[] = [];
  /** Warnings reported once per key (e.g. one line per skipped kind). */
  readonly #onceKeys = new Set<string>();

  error(d: Omit<Diagnostic, "severity">): void {
    this.items.push({ severity: "error", ...d });
  }

  warn(d: Omit<Diagnostic, "severity">): void {
    this.items.push({ severity: "warning", ...d });
  }

  warnOnce(key: string, d: Omit<Diagnostic, "severity">): void {
    if (this.#onceKeys.has(key)) return;
    this.#onceKeys.add(key);
    this.warn(d);
  }

  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === "error");
  }

  get warnings(): Diagnostic[] {
    return this.items.filter((d) => d.severity === "warning");
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }
}

/** The file, line and column a diagnostic points at (line/col absent when unknown). */
export function positionOf(d: Diagnostic): Position | undefined {
  if (!d.origin) return undefined;
  const at = d.origin.locate(d.path ?? []);
  return { file: d.origin.file, line: at?.line, col: at?.col };
}

/**
 * Diagnostics in reading order: by file, then line and column; those without a position (about the
 * cluster as a whole) last. Stable, so diagnostics at one position keep their order.
 */
export function sortDiagnostics(diags: readonly Diagnostic[]): Diagnostic[] {
  const keyed = diags.map((d) => ({ d, pos: positionOf(d) }));
  keyed.sort((a, b) => {
    if (!a.pos || !b.pos) return (a.pos ? 0 : 1) - (b.pos ? 0 : 1);
    return (
      a.pos.file.localeCompare(b.pos.file) ||
      (a.pos.line ?? 0) - (b.pos.line ?? 0) ||
      (a.pos.col ?? 0) - (b.pos.col ?? 0)
    );
  });
  return keyed.map((k) => k.d);
}

/** Renders a field path the way kubectl's validation does: `spec.ports[0].port`. */
export function formatPath(path: FieldPath): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? p : `.${p}`;
  }
  return out;
}

/**
 * One diagnostic as a line (and an indented `fix:` line when there is a hint):
 * `file:line:col: error: Service shop/web: spec.ports[0].port: 70000 is not a valid port number`
 */
export function formatDiagnostic(d: Diagnostic): string {
  const pos = positionOf(d);
  const where = pos ? `${pos.file}${pos.line ? `:${pos.line}:${pos.col}` : ""}: ` : "";
  const what = d.object ? `${d.object}: ` : "";
  const field = d.path && d.path.length > 0 ? `${formatPath(d.path)}: ` : "";
  const head = `${where}${d.severity}: ${what}${field}${d.message}`;
  return d.hint ? `${head}\n  fix: ${d.hint}` : head;
}

/** A plain, serialisable view of a diagnostic (for `-o json` and the library's callers). */
export function diagnosticToJSON(d: Diagnostic): Record<string, unknown> {
  const pos = positionOf(d);
  return {
    severity: d.severity,
    code: d.code,
    message: d.message,
    ...(d.hint ? { hint: d.hint } : {}),
    ...(d.object ? { object: d.object } : {}),
    ...(d.path && d.path.length > 0 ? { field: formatPath(d.path) } : {}),
    ...(pos ? { file: pos.file, line: pos.line, column: pos.col } : {}),
  };
}
