/**
 * IPv4 addresses as unsigned 32-bit numbers, and CIDR blocks as value objects over them.
 * Parsing and validation use ipaddr.js; arithmetic is plain number math so that allocating
 * 150,000 addresses costs no objects per address.
 */
import ipaddr from "ipaddr.js";

/** An IPv4 address as an unsigned 32-bit integer. */
export type IPv4 = number;

/** Parses dotted-quad IPv4 text strictly (four decimal octets); undefined when it is not one. */
export function parseIPv4(text: string): IPv4 | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  const o = ipaddr.IPv4.parse(text).octets;
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

export function formatIPv4(ip: IPv4): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/** True for any valid IPv4 or IPv6 address text (IPv6 is accepted and kept as given, not allocated). */
export function isIPAddress(text: string): boolean {
  return parseIPv4(text) !== undefined || ipaddr.IPv6.isValid(text);
}

export function isIPv6(text: string): boolean {
  return !text.includes(".") && ipaddr.IPv6.isValid(text);
}

/**
 * CIDR syntax as NetworkPolicy ipBlocks and ANP networks accept it: IPv4 (strict dotted quad) or
 * IPv6, host bits allowed (the API server checks only the syntax there).
 */
export function isCidrNotation(text: string): boolean {
  const slash = text.indexOf("/");
  if (slash < 0) return false;
  const addr = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  if (parseIPv4(addr) !== undefined) return Number(bits) <= 32;
  return isIPv6(addr) && Number(bits) <= 128;
}

/** An IPv4 CIDR block. Construct with `Cidr.parse`; the address is always the network address. */
export class Cidr {
  private constructor(
    /** The network address. */
    readonly base: IPv4,
    readonly prefix: number,
  ) {}

  /**
   * Parses `a.b.c.d/n`. Host bits must be zero (as the API server requires for podCIDR and
   * serviceCIDR): `10.244.1.5/16` is rejected with the network address to use instead.
   */
  static parse(text: string): { ok: true; cidr: Cidr } | { ok: false; reason: string } {
    const slash = text.indexOf("/");
    if (slash < 0) return { ok: false, reason: `"${text}" is not in CIDR notation (expected a.b.c.d/n)` };
    const addr = parseIPv4(text.slice(0, slash));
    const bits = text.slice(slash + 1);
    if (addr === undefined) {
      if (ipaddr.IPv6.isValid(text.slice(0, slash))) {
        return { ok: false, reason: `"${text}" is an IPv6 block; podnet allocates IPv4 only` };
      }
      return { ok: false, reason: `"${text}" does not start with a valid IPv4 address` };
    }
    if (!/^\d{1,2}$/.test(bits) || Number(bits) > 32) {
      return { ok: false, reason: `"${text}" has an invalid prefix length (expected 0 to 32)` };
    }
    const prefix = Number(bits);
    const base = (addr & maskOf(prefix)) >>> 0;
    if (base !== addr) {
      return {
        ok: false,
        reason: `"${text}" has host bits set; the network address is ${formatIPv4(base)}/${prefix}`,
      };
    }
    return { ok: true, cidr: new Cidr(base, prefix) };
  }

  /** Builds a block from a network address and prefix (host bits are cleared). */
  static of(base: IPv4, prefix: number): Cidr {
    return new Cidr((base & maskOf(prefix)) >>> 0, prefix);
  }

  /** Number of addresses in the block, network and broadcast included. */
  get size(): number {
    return 2 ** (32 - this.prefix);
  }

  get last(): IPv4 {
    return (this.base + this.size - 1) >>> 0;
  }

  /** The n-th address of the block (0 is the network address). */
  nth(n: number): IPv4 {
    return (this.base + n) >>> 0;
  }

  contains(ip: IPv4): boolean {
    return ip >= this.base && ip <= this.last;
  }

  overlaps(other: Cidr): boolean {
    return this.base <= other.last && other.base <= this.last;
  }

  toString(): string {
    return `${formatIPv4(this.base)}/${this.prefix}`;
  }
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}
