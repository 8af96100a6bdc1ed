/**
 * Names the controllers generate, in Kubernetes' shapes but deterministic: where the real controllers
 * use randomness (pod name suffixes, UIDs), podnet derives the same-looking value from a hash of the
 * owner and an index, so the same input always gives the same cluster.
 */

/** The alphabet of apimachinery's rand.String / SafeEncodeString (no vowels, no look-alikes). */
const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/** 32-bit FNV-1a over the UTF-16 code units of `s` (ASCII in practice). */
export function fnv32a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The pod-template-hash shape: the controller hashes the template with FNV-32a, prints the number in
 * decimal and maps each digit through SafeEncodeString. podnet hashes a canonical JSON of the template
 * (the real controller hashes Go's in-memory dump of it, which cannot be reproduced outside Go), so
 * the value has the real shape and is stable, but differs from a live cluster's for the same template.
 */
export function templateHash(template: unknown, collisionCount = 0): string {
  let h = fnv32a(canonicalJSON(template));
  if (collisionCount > 0) h = fnv32a(String(collisionCount), h);
  return safeEncode(String(h));
}

export function safeEncode(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += ALPHANUMS[s.charCodeAt(i) % ALPHANUMS.length];
  return out;
}

/** A 5-character generateName suffix for the n-th object generated from `seed`. */
export function nameSuffix(seed: string, n: number): string {
  let h = fnv32a(`${seed}#${n}`);
  let out = "";
  for (let i = 0; i < 5; i++) {
    out += ALPHANUMS[h % ALPHANUMS.length];
    h = Math.floor(h / ALPHANUMS.length) ^ Math.imul(h, 0x9e3779b1 >>> 0);
    h >>>= 0;
  }
  return out;
}

/** The character codes of the 16 hex digits. */
const HEX = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
const DASH = 45;

/**
 * A UUID-shaped, deterministic uid for a generated object: the 32 hex digits of four chained FNV-1a
 * hashes of `key` (a, b, c, d) with the version (4) and variant (8) digits set, as 8-4-4-4-12.
 *
 * Built by one `String.fromCharCode` of its 36 character codes: every pod of the benchmark makes one
 * (150,000), and a template literal of byte-table look-ups left each uid a tree of a dozen
 * concatenation nodes (V8's cons strings, flattened only when first compared or hashed), which the
 * garbage collector copied with every pod: building them so was half of the pod-creation stage.
 */
export function uidFor(key: string): string {
  const a = fnv32a(key);
  const b = fnv32a(key, a);
  const c = fnv32a(key, b);
  const d = fnv32a(key, c);
  const h = HEX;
  // biome-ignore format: the 8-4-4-4-12 groups, one line each
  return String.fromCharCode(
    h[a >>> 28], h[(a >>> 24) & 15], h[(a >>> 20) & 15], h[(a >>> 16) & 15],
    h[(a >>> 12) & 15], h[(a >>> 8) & 15], h[(a >>> 4) & 15], h[a & 15], DASH,
    h[b >>> 28], h[(b >>> 24) & 15], h[(b >>> 20) & 15], h[(b >>> 16) & 15], DASH,
    h[4], h[(b >>> 8) & 15], h[(b >>> 4) & 15], h[b & 15], DASH,
    h[8], h[(c >>> 24) & 15], h[(c >>> 20) & 15], h[(c >>> 16) & 15], DASH,
    h[(c >>> 12) & 15], h[(c >>> 8) & 15], h[(c >>> 4) & 15], h[c & 15],
    h[d >>> 28], h[(d >>> 24) & 15], h[(d >>> 20) & 15], h[(d >>> 16) & 15],
    h[(d >>> 12) & 15], h[(d >>> 8) & 15], h[(d >>> 4) & 15], h[d & 15],
  );
}

/** JSON with object keys sorted, so equal templates hash equally whatever their key order. */
export function canonicalJSON(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(",")}]`;
  const keys = Object.keys(v as object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON((v as Record<string, unknown>)[k])}`).join(",")}}`;
}
