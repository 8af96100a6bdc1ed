/**
 * Fixed-size bitsets over small integers (pod classes), 32 members per word. Only what the
 * reachability engine needs: set, test, in-place and/or/and-not, iteration, and weighted counts.
 */
export type Bits = Uint32Array;

export function empty(n: number): Bits {
  return new Uint32Array((n + 31) >>> 5);
}

export function full(n: number): Bits {
  const b = empty(n).fill(0xffffffff);
  if (n & 31) b[b.length - 1] = (1 << (n & 31)) - 1;
  return b;
}

export function has(b: Bits, i: number): boolean {
  return ((b[i >>> 5] >>> (i & 31)) & 1) === 1;
}

export function add(b: Bits, i: number): void {
  b[i >>> 5] |= 1 << (i & 31);
}

export function orInto(into: Bits, b: Bits): void {
  for (let w = 0; w < into.length; w++) into[w] |= b[w];
}

export function andInto(into: Bits, b: Bits): void {
  for (let w = 0; w < into.length; w++) into[w] &= b[w];
}

export function andNotInto(into: Bits, b: Bits): void {
  for (let w = 0; w < into.length; w++) into[w] &= ~b[w];
}

/** a ∧ b, new. */
export function and(a: Bits, b: Bits): Bits {
  const out = new Uint32Array(a.length);
  for (let w = 0; w < a.length; w++) out[w] = a[w] & b[w];
  return out;
}

export function isEmpty(b: Bits): boolean {
  for (let w = 0; w < b.length; w++) if (b[w] !== 0) return false;
  return true;
}

export function forEach(b: Bits, fn: (i: number) => void): void {
  for (let w = 0; w < b.length; w++) {
    let x = b[w];
    while (x !== 0) {
      const low = x & -x;
      fn((w << 5) + 31 - Math.clz32(low));
      x ^= low;
    }
  }
}

/**
 * Sums of member weights (pods per class) in O(words): one 256-entry table per byte of the set, so a
 * count is four look-ups per word instead of a walk over the members.
 */
export class Weights {
  readonly #table: Float64Array;
  readonly total: number;

  constructor(weights: ArrayLike<number>) {
    const bytes = ((weights.length + 31) >>> 5) * 4;
    this.#table = new Float64Array(bytes * 256);
    let total = 0;
    for (let k = 0; k < bytes; k++) {
      for (let v = 1; v < 256; v++) {
        const low = v & -v;
        const bit = 31 - Math.clz32(low);
        const i = k * 8 + bit;
        this.#table[k * 256 + v] = this.#table[k * 256 + (v ^ low)] + (i < weights.length ? weights[i] : 0);
      }
    }
    for (let i = 0; i < weights.length; i++) total += weights[i];
    this.total = total;
  }

  /** Σ weight over the members of b. */
  of(b: Bits): number {
    const t = this.#table;
    let sum = 0;
    for (let w = 0, k = 0; w < b.length; w++, k += 1024) {
      const x = b[w];
      if (x === 0) continue;
      sum +=
        t[k + (x & 255)] +
        t[k + 256 + ((x >>> 8) & 255)] +
        t[k + 512 + ((x >>> 16) & 255)] +
        t[k + 768 + (x >>> 24)];
    }
    return sum;
  }
}
