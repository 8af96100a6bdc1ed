/**
 * An append-only ASCII text buffer for renderers that print hundreds of thousands of lines (the IPVS
 * state of one node at 10,000 Services is 390,555 lines, 19 MB). Bytes go into one growing
 * Uint8Array, outside the JavaScript heap, and become a string once at the end: no string per line or
 * per piece that lives until a final join. On a heap holding a large cluster, such survivors are what
 * the garbage collector copies and marks; a render that builds them spends most of its time there.
 *
 * Only ASCII is written (addresses, numbers, names of Kubernetes objects and of ipsets and chains);
 * `text()` decodes the bytes as UTF-8, which for ASCII is the identity. Pure; no node:* imports.
 */
export class AsciiWriter {
  #buf: Uint8Array;
  #len = 0;

  /** `capacity`: the first buffer's size in bytes; it doubles whenever a write needs more. */
  constructor(capacity = 1 << 16) {
    this.#buf = new Uint8Array(capacity);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /** Makes room for `n` more bytes. */
  #room(n: number): Uint8Array {
    if (this.#len + n > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < this.#len + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    return this.#buf;
  }

  /** Appends `s`, which must be ASCII (a character above U+007F throws). */
  str(s: string): this {
    const buf = this.#room(s.length);
    let at = this.#len;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) throw new Error(`AsciiWriter: not ASCII: ${JSON.stringify(s)}`);
      buf[at++] = c;
    }
    this.#len = at;
    return this;
  }

  /** Appends a non-negative integer in decimal (a port, a weight, an address octet). */
  uint(n: number): this {
    const buf = this.#room(16);
    let at = this.#len;
    if (n < 10) buf[at++] = 48 + n;
    else if (n < 100) {
      buf[at++] = 48 + ((n / 10) | 0);
      buf[at++] = 48 + (n % 10);
    } else if (n < 1000) {
      buf[at++] = 48 + ((n / 100) | 0);
      buf[at++] = 48 + (((n / 10) | 0) % 10);
      buf[at++] = 48 + (n % 10);
    } else {
      const digits = String(n);
      for (let i = 0; i < digits.length; i++) buf[at++] = digits.charCodeAt(i);
    }
    this.#len = at;
    return this;
  }

  /** Appends an IPv4 address (a uint32) in dotted quad, as formatIPv4 (../../net/ipv4.ts) prints it. */
  ipv4(ip: number): this {
    this.uint(ip >>> 24);
    this.#room(1)[this.#len++] = 46;
    this.uint((ip >>> 16) & 255);
    this.#room(1)[this.#len++] = 46;
    this.uint((ip >>> 8) & 255);
    this.#room(1)[this.#len++] = 46;
    return this.uint(ip & 255);
  }

  /** Appends bytes (ASCII already encoded, such as a piece written on every line). */
  bytes(b: Uint8Array): this {
    const buf = this.#room(b.length);
    let at = this.#len;
    // A short piece is copied by hand: a native copy's call costs more than the few bytes.
    if (b.length <= 64) for (let i = 0; i < b.length; i++) buf[at++] = b[i];
    else {
      buf.set(b, at);
      at += b.length;
    }
    this.#len = at;
    return this;
  }

  /** The text written so far. */
  text(): string {
    return new TextDecoder().decode(this.#buf.subarray(0, this.#len));
  }
}
