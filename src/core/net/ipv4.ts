/**
 * IPv4 addresses as unsigned 32-bit numbers, and CIDR blocks as value objects over them.
 * IPv4 text is parsed by hand (parseIPv4), IPv6 text by ipaddr.js; arithmetic is plain number math so that allocating
 * 150,000 addresses costs no objects per address.
 */
import ipaddr from "ipaddr.js";

/** An IPv4 address as an unsigned 32-bit integer. */
export type IPv4 = number;

/**
 * Parses dotted-quad IPv4 text strictly: four decimal octets, each 0–255, without leading zeros
 * (exactly what ipaddr.js's `IPv4.isValidFourPartDecimal` accepts);
 * undefined when it is not one. One pass over the characters, no regular expression and no
 * objects: every layer of podnet parses addresses (150,000 pod IPs at resolve, the network index,
 * the data plane's plans), so this is a hot path; test/ipv4-parse.test.ts holds it to ipaddr.js.
 */
export function parseIPv4(text: string): IPv4 | undefined {
  const n = text.length;
  if (n < 7 || n > 15) return undefined;
  let ip = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 46; // the end closes the last octet like a dot
    if (c === 46) {
      if (digits === 0 || octet > 255) return undefined;
      ip = ip * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57) return undefined;
    // A leading zero only as the octet "0" itself.
    if (digits === 1 && octet === 0) return undefined;
    octet = octet * 10 + (c - 48);
    digits++;
  }
  return parts === 4 ? ip : undefined;
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

/**
 * Reads IPv4 text as Go's legacy parser does (`netutils.ParseIPSloppy`, the parser behind every
 * IP field the API server validated before 1.33): four decimal octets, each at most 255, leading
 * zeros ignored (`010.1.1.1` is 10.1.1.1, never octal). The API server accepts this form in every
 * legacy IP and CIDR field while the StrictIPCIDRValidation feature gate is off (the default in
 * Kubernetes 1.33 and 1.34), and kube-proxy and the network plugins read it the same way.
 */
export function parseIPv4Sloppy(text: string): IPv4 | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!m) return undefined;
  let ip = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    ip = ip * 256 + octet;
  }
  return ip;
}

/**
 * An address of a legacy API field, in canonical text: IPv4 as read by `parseIPv4Sloppy` (so
 * `010.001.2.3` becomes `10.1.2.3`), an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) as the IPv4
 * address Go reads it as, other IPv6 text as given. Undefined when the API server would refuse it
 * (including surrounding spaces and IPv6 zones such as `fe80::1%eth0`).
 */
export function canonicalIP(text: string): string | undefined {
  const v4 = parseIPv4Sloppy(text);
  if (v4 !== undefined) return formatIPv4(v4);
  if (!text.includes(":") || text.includes("%") || !ipaddr.IPv6.isValid(text)) return undefined;
  const v6 = ipaddr.IPv6.parse(text);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : text;
}

/**
 * Why an address may not be an endpoint or an external IP (`ValidateEndpointIP`, used for
 * Endpoints and EndpointSlice addresses and Service externalIPs): unspecified, loopback,
 * link-local unicast or link-local multicast, as Go's net.IP classifies them. Undefined when fine.
 * `canonical` is `canonicalIP`'s output.
 */
export function specialIPProblem(canonical: string): string | undefined {
  const v4 = parseIPv4(canonical);
  if (v4 !== undefined) {
    if (v4 === 0) return "may not be unspecified (0.0.0.0)";
    if (v4 >>> 24 === 127) return "may not be in the loopback range (127.0.0.0/8)";
    if (v4 >>> 16 === 0xa9fe) return "may not be in the link-local range (169.254.0.0/16)";
    if (v4 >>> 8 === 0xe00000) return "may not be in the link-local multicast range (224.0.0.0/24)";
    return undefined;
  }
  if (!ipaddr.IPv6.isValid(canonical)) return undefined;
  const p = ipaddr.IPv6.parse(canonical).parts;
  if (p.every((x) => x === 0)) return "may not be unspecified (::)";
  if (p.slice(0, 7).every((x) => x === 0) && p[7] === 1) return "may not be in the loopback range (::1/128)";
  if ((p[0] & 0xffc0) === 0xfe80) return "may not be in the link-local range (fe80::/10)";
  if ((p[0] & 0xff0f) === 0xff02) return "may not be in the link-local multicast range (ff02::/16)";
  return undefined;
}

/** A CIDR of a legacy API field, read as `netutils.ParseCIDRSloppy` reads it. */
export interface SloppyCidr {
  /** The block with its host bits cleared, in canonical text (`10.0.0.5/24` → `10.0.0.0/24`). */
  readonly canonical: string;
  /** Whether the text had bits set beyond the prefix length (an "interface address"). */
  readonly hostBits: boolean;
  /** Whether the text differs from `canonical` only by leading zeros or an IPv4-mapped form. */
  readonly nonStandard: boolean;
}

/**
 * Parses a CIDR as the API server's legacy fields accept it (`IsValidCIDRForLegacyField` with
 * strict validation off): the address as `canonicalIP` reads it, a decimal prefix length (leading
 * zeros allowed) of at most 32 (IPv4) or 128 (IPv6), host bits allowed. Undefined when refused.
 */
export function parseCidrSloppy(text: string): SloppyCidr | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const addrText = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  if (!/^\d+$/.test(bitsText)) return undefined;
  const v4 = parseIPv4Sloppy(addrText);
  if (v4 !== undefined) {
    const prefix = Number(bitsText);
    if (prefix > 32) return undefined;
    const base = (v4 & maskOf(prefix)) >>> 0;
    const canonical = `${formatIPv4(base)}/${prefix}`;
    const exact = `${formatIPv4(v4)}/${prefix}`;
    return { canonical, hostBits: base !== v4, nonStandard: exact !== text };
  }
  if (!addrText.includes(":") || addrText.includes("%") || !ipaddr.IPv6.isValid(addrText)) return undefined;
  let prefix = Number(bitsText);
  if (prefix > 128) return undefined;
  const v6 = ipaddr.IPv6.parse(addrText);
  if (v6.isIPv4MappedAddress() && prefix >= 96) {
    // Go stores an IPv4-mapped block as IPv4: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
    prefix -= 96;
    const ip = parseIPv4(v6.toIPv4Address().toString()) as IPv4;
    const base = (ip & maskOf(prefix)) >>> 0;
    return { canonical: `${formatIPv4(base)}/${prefix}`, hostBits: base !== ip, nonStandard: true };
  }
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${addrText}/${prefix}`);
  const hostBits = network.toNormalizedString() !== v6.toNormalizedString();
  return {
    canonical: hostBits ? `${network.toString()}/${prefix}` : `${addrText}/${prefix}`,
    hostBits,
    nonStandard: /^0\d/.test(bitsText),
  };
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

/**
 * The item whose block holds `ip`, by binary search over `sorted`: items whose blocks (`blockOf`)
 * are disjoint and sorted by base address (node podCIDRs, Calico IPAM blocks, IP pools). O(log n);
 * undefined when no block holds it.
 */
export function findBlock<T>(sorted: readonly T[], ip: IPv4, blockOf: (item: T) => Cidr): T | undefined {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const b = blockOf(sorted[mid]);
    if (ip < b.base) hi = mid - 1;
    else if (ip > b.last) lo = mid + 1;
    else return sorted[mid];
  }
  return undefined;
}
