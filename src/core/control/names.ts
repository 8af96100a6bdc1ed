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

/** Two hex digits per byte value: a uid is made for every generated pod (150,000 in the benchmark). */
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const HEX1 = "0123456789abcdef";

/**
 * A UUID-shaped, deterministic uid for a generated object: the 32 hex digits of four chained FNV-1a
 * hashes of `key` (a, b, c, d) with the version (4) and variant (8) digits set, as 8-4-4-4-12. Built
 * from byte-table look-ups in one template, as every pod of the benchmark makes one.
 */
export function uidFor(key: string): string {
  const a = fnv32a(key);
  const b = fnv32a(key, a);
  const c = fnv32a(key, b);
  const d = fnv32a(key, c);
  const H = HEX2;
  return `${H[a >>> 24]}${H[(a >>> 16) & 255]}${H[(a >>> 8) & 255]}${H[a & 255]}-${H[b >>> 24]}${H[(b >>> 16) & 255]}-4${HEX1[(b >>> 8) & 15]}${H[b & 255]}-8${HEX1[(c >>> 24) & 15]}${H[(c >>> 16) & 255]}-${H[(c >>> 8) & 255]}${H[c & 255]}${H[d >>> 24]}${H[(d >>> 16) & 255]}${H[(d >>> 8) & 255]}${H[d & 255]}`;
}

/** JSON with object keys sorted, so equal templates hash equally whatever their key order. */
export function canonicalJSON(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(",")}]`;
  const keys = Object.keys(v as object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON((v as Record<string, unknown>)[k])}`).join(",")}}`;
}
