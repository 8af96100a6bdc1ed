/**
 * kube-proxy's nftables chain names: `<prefix><HASH>-<namespace>/<name>/<protocol>/<port name>` for
 * service ports and `…__<endpoint IP>/<port>` for endpoints, where HASH is the first 8 characters of
 * the base32 SHA-256 of the rest (pkg/proxy/nftables hashAndTruncate). Same input, same name as on a
 * live node.
 */
import { sha256 } from "@noble/hashes/sha2";
import { formatIPv4 } from "../net/ipv4.ts";
import type { EndpointInfo, ServicePortInfo } from "./service-proxy.ts";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** base32(sha256(name))[:8] + "-" + name: kube-proxy's hashAndTruncate (names here never need truncating). */
export function hashName(name: string): string {
  const digest = sha256(new TextEncoder().encode(name));
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 8) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 8) break;
    value &= (1 << bits) - 1;
  }
  return `${out}-${name}`;
}

/**
 * A Service port's chain name without its prefix (`ABCDEFGH-ns/name/tcp/http`), hashed once per
 * Service port: a trace names the chain its packet took, and a SHA-256 per trace was a tenth of one.
 */
export function servicePortChainBase(info: ServicePortInfo): string {
  let base = chainBases.get(info);
  if (base === undefined) {
    const m = info.service.metadata;
    base = hashName(`${m.namespace}/${m.name}/${info.protocol.toLowerCase()}/${info.port.name ?? ""}`);
    chainBases.set(info, base);
  }
  return base;
}
const chainBases = new WeakMap<ServicePortInfo, string>();

export function endpointChainBase(info: ServicePortInfo, ep: EndpointInfo): string {
  const m = info.service.metadata;
  return hashName(
    `${m.namespace}/${m.name}/${info.protocol.toLowerCase()}/${info.port.name ?? ""}__${formatIPv4(ep.ip)}/${ep.port}`,
  );
}
