/**
 * Anonymizes raw Kubernetes objects (as read from a cluster or a dump) so that a dump can be shared:
 * every analysis of the result gives the same answer as of the original, renamed. Pure and
 * deterministic: the same objects and seed give the same output.
 *
 * What is renamed, and how consistency is kept:
 * - Names: namespaces, object names, label values, and every field that refers to an object by name
 *   (ownerReferences, nodeName, serviceName, serviceAccountName, subdomain, Ingress and Route
 *   backends, ingressClassName, Gateway API's gatewayClassName, parentRefs and backendRefs, EndpointSlice targetRef and nodeName, policy `namespaces`
 *   lists) go through ONE map from string to `n` + 9 base-36 characters (a valid DNS-1035 label and
 *   label value). So a Service `web`, the selector value `app: web`, the EndpointSlice label
 *   `kubernetes.io/service-name: web` and the DNS name `web.shop.svc.cluster.local` all become the
 *   same new name, and every selector still selects what it selected.
 *   Kept: the well-known names the control plane relies on (`default`, `kube-system`, `kube-public`,
 *   `kube-node-lease`, `kubernetes`, `kube-dns`, `coredns`, `kube-proxy`), label KEYS (they are the
 *   schema selectors are written in), port names and Gateway listener names (named ports and
 *   `sectionName`s resolve by them), and the values of a
 *   few label keys whose value is a fixed vocabulary (kubernetes.io/os, kubernetes.io/arch,
 *   endpointslice.kubernetes.io/managed-by).
 * - DNS names (ExternalName, Ingress/Route hosts, Gateway listener and HTTPRoute hostnames, pod and
 *   load-balancer hostnames, dnsConfig searches):
 *   each dot-separated label through the same map, but `*`, `svc`, `pod`, the cluster domain's
 *   labels (`cluster`, `local`) and a last label (the TLD) of a multi-label name are kept.
 * - Addresses: every string that is an IPv4/IPv6 address or CIDR, wherever it stands, through a
 *   prefix-preserving permutation (as Crypto-PAn, Xu et al. 2002): two addresses that share their
 *   first k bits still do, so CIDR containment (pod in its node's podCIDR, in an ipBlock, ClusterIP
 *   in the Service CIDR) is kept. Its flips are a keyed hash of the prefix, with two exceptions that
 *   keep the cluster's conventions: the host part (the last 8 bits of IPv4, the last 64 of IPv6) is
 *   kept, so a subnet's network, gateway (`.1`) and broadcast addresses stay what they were; and the
 *   bits along the path of an "anchor" prefix are kept, so an address inside an anchor stays inside
 *   it and one outside stays outside. Anchors: the special-purpose blocks (RFC 1918, RFC 6598, RFC
 *   5737, loopback, link-local, multicast, ULA), the podnet Cluster config's ranges (or the
 *   defaults: model/config.ts), and the Service CIDR's first address and the DNS Service IP.
 * - Dropped: what can hold secrets or private text and no analysis reads: container command, args
 *   (but an ingress controller keeps what identifies it: control/ingress-controllers.ts
 *   `controllerIdentity`),
 *   env, envFrom, volumes and volumeMounts, container statuses, condition messages, managedFields,
 *   uid-less bookkeeping (resourceVersion, selfLink), and annotations other than those of
 *   kubernetes.io, k8s.io, projectcalico.org, coreos.com and podnet.dev (but never kubectl's
 *   last-applied-configuration, which is the whole original object). Container images are renamed.
 *   uids are renamed consistently (ownerReferences keep pointing at their owner).
 */
import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils";
import ipaddr from "ipaddr.js";
import { controllerIdentity } from "../control/ingress-controllers.ts";
import { defaultConfig } from "../model/config.ts";
import type { Container } from "../model/k8s.ts";

/** What anonymizeObjects returns: the new objects and the maps it used (for tests and reports). */
export interface Anonymized {
  readonly objects: Record<string, unknown>[];
  /** Original name (or label value, or DNS label) → new name. */
  readonly names: ReadonlyMap<string, string>;
  /** Maps one address (IPv4 or IPv6 text) as the objects' addresses were mapped. */
  readonly address: (ip: string) => string;
  /** Every address and CIDR found in the objects (text as written) → its new text. */
  readonly addresses: ReadonlyMap<string, string>;
}

const KEPT_NAMES = new Set([
  "",
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
  "kubernetes",
  "kube-dns",
  "coredns",
  "kube-proxy",
]);
const KEPT_LABEL_VALUES = new Set([
  "kubernetes.io/os",
  "beta.kubernetes.io/os",
  "kubernetes.io/arch",
  "beta.kubernetes.io/arch",
  "endpointslice.kubernetes.io/managed-by",
]);
const KEPT_DNS_LABELS = new Set(["*", "svc", "pod", "cluster", "local"]);
const KEPT_ANNOTATION = /(^|\.)(kubernetes\.io|k8s\.io|projectcalico\.org|coreos\.com|podnet\.dev)\//;
const DROPPED_CONTAINER_FIELDS = ["command", "args", "env", "envFrom", "volumeMounts", "workingDir"];
/** Fields whose string value (or list of strings) names an object. */
const NAME_FIELDS = new Set([
  "nodeName",
  "serviceName",
  "serviceAccountName",
  "serviceAccount",
  "subdomain",
  "ingressClassName",
  "gatewayClassName",
  "namespace",
  "name",
  "generateName",
  "nominatedNodeName",
  "providerID",
]);
/** Fields whose strings are DNS names. */
/**
 * Fields whose strings are DNS names. `hostname` is one too: a pod's is a single label (renamed as a
 * name is), a Gateway listener's or a load balancer's a whole name (`*.example.com`: label by label).
 */
const DNS_FIELDS = new Set(["externalName", "host", "hosts", "searches", "hostnames", "hostname"]);

/**
 * Anonymizes `objects` (not modified) with `seed` (any string; the same seed gives the same names
 * and addresses). See the module comment for what changes and what is kept. The podnet Cluster
 * config, when present, is renamed too and its ranges anchor the address map.
 */
export function anonymizeObjects(objects: readonly Record<string, unknown>[], seed: string): Anonymized {
  const a = makeAnonymizer(objects, seed);
  return { objects: objects.map(a.anonymize), names: a.names, address: a.address, addresses: a.addresses };
}

/**
 * One anonymization of a set of objects, applied one object at a time (so that a snapshot can write
 * each renamed object and drop it before renaming the next): `anonymize(o)` gives `o` renamed
 * exactly as `anonymizeObjects` renames it among `objects` (it must be one of them, or refer only to
 * names they hold; a pass over all of them first finds the owners and the address anchors).
 * `names` and `addresses` grow as objects are renamed.
 */
export interface Anonymizer {
  readonly anonymize: (o: Record<string, unknown>) => Record<string, unknown>;
  readonly names: ReadonlyMap<string, string>;
  readonly address: (ip: string) => string;
  readonly addresses: ReadonlyMap<string, string>;
}

/** Makes the Anonymizer of `objects` with `seed` (see anonymizeObjects). */
export function makeAnonymizer(objects: readonly Record<string, unknown>[], seed: string): Anonymizer {
  const names = new Map<string, string>();
  const used = new Set<string>(KEPT_NAMES);
  // A name its controller derived from the owner's (`web-6d4cf56db6` of Deployment web, its pod
  // `web-6d4cf56db6-2jxkq`, StatefulSet pod `db-0`) keeps that form: the owner's new name and the
  // same suffix, since controllers (and podnet) find a StatefulSet's pods by `NAME-ORDINAL`.
  const ownerOf = new Map<string, string>();
  for (const o of objects) {
    const meta = (o.metadata ?? {}) as { name?: unknown; ownerReferences?: unknown };
    if (typeof meta.name !== "string" || !Array.isArray(meta.ownerReferences)) continue;
    for (const ref of meta.ownerReferences as { name?: unknown }[])
      if (typeof ref?.name === "string" && ref.name !== meta.name && meta.name.startsWith(`${ref.name}-`))
        ownerOf.set(meta.name, ref.name);
  }
  const ident = (s: string): string => {
    if (KEPT_NAMES.has(s)) return s;
    const got = names.get(s);
    if (got !== undefined) return got;
    const owner = ownerOf.get(s);
    if (owner !== undefined) {
      const out = `${ident(owner)}${s.slice(owner.length)}`;
      names.set(s, out);
      used.add(out);
      return out;
    }
    for (let n = 0; ; n++) {
      const h = bytesToHex(sha256(utf8ToBytes(`${seed}\0name\0${s}\0${n}`)));
      const out = `n${BigInt(`0x${h.slice(0, 15)}`)
        .toString(36)
        .padStart(9, "0")
        .slice(0, 9)}`;
      if (!used.has(out)) {
        used.add(out);
        names.set(s, out);
        return out;
      }
    }
  };
  const dns = (s: string): string => {
    if (isAddress(s)) return ip.map(s);
    const labels = s.split(".");
    return labels
      .map((l, i) =>
        KEPT_DNS_LABELS.has(l) || (labels.length > 1 && i === labels.length - 1 && !/\d/.test(l))
          ? l
          : ident(l),
      )
      .join(".");
  };
  // A uid stands in the object and in every reference to it (ownerReferences, targetRef): once each.
  const uids = new Map<string, string>();
  const uid = (s: string) => {
    let out = uids.get(s);
    if (out === undefined) {
      const h = bytesToHex(sha256(utf8ToBytes(`${seed}\0uid\0${s}`)));
      out = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
      uids.set(s, out);
    }
    return out;
  };
  const labelValue = (key: string, v: unknown): unknown => {
    if (typeof v !== "string" || v === "" || KEPT_LABEL_VALUES.has(key)) return v;
    if (isAddress(v)) return ip.map(v);
    return ident(v);
  };
  const ip = new AddressMap(seed, anchorsOf(objects));

  // Address strings seen (a pod's IP stands in its status and in its EndpointSlice): mapped once.
  const addressTexts = new Map<string, string>();
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === "string") {
      // The character test first: it fails at once on nearly every string that is no address,
      // where the memo's lookup would hash the whole string.
      if (ADDRESS_CHARS.test(v)) {
        const known = addressTexts.get(v);
        if (known !== undefined) return known;
        if (isAddressOrList(v)) {
          const out = mapAddressList(v, ip);
          addressTexts.set(v, out);
          return out;
        }
      }
      if (key === "uid") return uid(v);
      if (key === "image") return `registry.invalid/${ident(v)}`;
      if (NAME_FIELDS.has(key)) return ident(v);
      if (DNS_FIELDS.has(key)) return dns(v);
      return v;
    }
    if (Array.isArray(v)) {
      if (key === "namespaces" || key === "nodeNames")
        return v.map((x) => (typeof x === "string" ? ident(x) : walk(x, "")));
      return v.map((x) => walk(x, key));
    }
    if (!v || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    // A flat label map: labels, matchLabels, nodeSelector, a Service's or RC's selector.
    const isLabelMap =
      key === "labels" ||
      key === "matchLabels" ||
      key === "nodeSelector" ||
      (key === "selector" && Object.values(o).every((x) => typeof x === "string"));
    if (isLabelMap) {
      for (const [k, x] of Object.entries(o)) out[k] = labelValue(k, x);
      return out;
    }
    if (key === "annotations") {
      for (const [k, x] of Object.entries(o)) {
        if (!KEPT_ANNOTATION.test(k) || k === "kubectl.kubernetes.io/last-applied-configuration") continue;
        out[k] = typeof x === "string" && isAddressOrList(x) ? mapAddressList(x, ip) : x;
      }
      return out;
    }
    // A label selector requirement: its values are label values of its key.
    if (typeof o.key === "string" && Array.isArray(o.values) && typeof o.operator === "string") {
      for (const [k, x] of Object.entries(o))
        out[k] =
          k === "values"
            ? (x as unknown[]).map((y) =>
                o.key === "metadata.name" || o.key === "kubernetes.io/metadata.name"
                  ? typeof y === "string"
                    ? ident(y)
                    : y
                  : labelValue(o.key as string, y),
              )
            : x;
      return out;
    }
    // A node address: a Hostname names the node; DNS types are DNS names.
    if (typeof o.type === "string" && typeof o.address === "string" && key === "addresses") {
      const t = o.type;
      return {
        ...o,
        address: isAddress(o.address)
          ? ip.map(o.address)
          : t === "Hostname"
            ? ident(o.address)
            : dns(o.address),
      };
    }
    const isContainer =
      (key === "containers" || key === "initContainers" || key === "ephemeralContainers") &&
      typeof o.name === "string";
    for (const k in o) {
      const x = o[k];
      if (k === "managedFields" || k === "resourceVersion" || k === "selfLink") continue;
      if (
        k === "volumes" ||
        k === "containerStatuses" ||
        k === "initContainerStatuses" ||
        k === "ephemeralContainerStatuses"
      )
        continue;
      if (isContainer && DROPPED_CONTAINER_FIELDS.includes(k)) continue;
      if (isContainer && k === "name") {
        out[k] = x; // container names are kept, as port names are
        continue;
      }
      if (k === "message" && key === "conditions") continue;
      if (k === "images" || k === "machineID" || k === "systemUUID" || k === "bootID") continue;
      if (k === "name" && (key === "port" || key === "listeners")) {
        // A Service port named by an Ingress backend; a Gateway listener, which a route's
        // `sectionName` names: kept, as port names are.
        out[k] = x;
        continue;
      }
      if (k === "ports") {
        out[k] = walkPorts(x);
        continue;
      }
      out[k] = walk(x, k);
    }
    // An ingress controller's container keeps what identifies it (the analyses find the controller
    // pod by it): its binary, its --controller-class and a public controller image.
    const identity = isContainer ? controllerIdentity(o as Container) : undefined;
    if (identity) {
      if (identity.command.length > 0) out.command = identity.command;
      if (identity.args.length > 0) out.args = identity.args;
      if (identity.image !== undefined) out.image = identity.image;
    }
    return out;
  };
  // Ports keep their names and numbers; their addresses (hostIP) are mapped.
  const walkPorts = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map((p) => {
          if (!p || typeof p !== "object") return p;
          const q = { ...(p as Record<string, unknown>) };
          if (typeof q.hostIP === "string" && isAddress(q.hostIP)) q.hostIP = ip.map(q.hostIP);
          return q;
        })
      : x;

  const anonymize = (o: Record<string, unknown>): Record<string, unknown> => {
    // A ConfigMap's or Secret's payload is no part of the network, and the likeliest place for secrets.
    const { data: _d, binaryData: _b, stringData: _s, ...rest } = o;
    return walk(rest, "") as Record<string, unknown>;
  };
  return { anonymize, names, address: (s) => ip.map(s), addresses: ip.memo };
}

function isAddress(s: string): boolean {
  return (
    (s.includes(".") || s.includes(":")) &&
    ipaddr.isValid(s) &&
    (s.includes(":") || ipaddr.IPv4.isValidFourPartDecimal(s))
  );
}

function isCidr(s: string): boolean {
  const slash = s.indexOf("/");
  if (slash <= 0) return false;
  const bits = s.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && isAddress(s.slice(0, slash));
}

/** The characters of an address, a CIDR, or a list of them. */
const ADDRESS_CHARS = /^[0-9a-fA-F:.,/ ]+$/;

/** An address, a CIDR, or a comma-separated list of them (as the source-ranges annotation). */
function isAddressOrList(s: string): boolean {
  if (!ADDRESS_CHARS.test(s) || !/[.:]/.test(s)) return false;
  return s.split(",").every((p) => {
    const t = p.trim();
    return isAddress(t) || isCidr(t);
  });
}

function mapAddressList(s: string, ip: AddressMap): string {
  return s
    .split(",")
    .map((p) => {
      const lead = p.match(/^\s*/)?.[0] ?? "";
      const t = p.trim();
      return lead + (isCidr(t) ? ip.mapCidr(t) : ip.map(t));
    })
    .join(",");
}

interface Anchor {
  readonly v6: boolean;
  readonly bits: bigint;
  readonly len: number;
}

const SPECIAL_BLOCKS = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "::/128",
  "::1/128",
  "::ffff:0:0/96",
  "64:ff9b::/96",
  "2001:db8::/32",
  "fc00::/7",
  "fe80::/10",
  "ff00::/8",
];

/** The anchors: special blocks, and the Cluster config's ranges (or podnet's defaults). */
function anchorsOf(objects: readonly Record<string, unknown>[]): Anchor[] {
  const texts = [...SPECIAL_BLOCKS];
  const cfg = objects.find(
    (o) => o.kind === "Cluster" && typeof o.apiVersion === "string" && o.apiVersion.startsWith("podnet.dev/"),
  );
  const spec = (cfg?.spec ?? {}) as Record<string, unknown>;
  const d = defaultConfig();
  const pick = (k: string, dflt: string) => (typeof spec[k] === "string" ? (spec[k] as string) : dflt);
  const serviceCIDR = pick("serviceCIDR", d.serviceCIDR.toString());
  texts.push(
    pick("clusterCIDR", d.clusterCIDR.toString()),
    serviceCIDR,
    pick("nodeNetwork", d.nodeNetwork.toString()),
  );
  texts.push(`${pick("dnsServiceIP", d.dnsServiceIP.toString())}/32`);
  const pools = Array.isArray(spec.loadBalancerPool) ? spec.loadBalancerPool : d.loadBalancerPool.map(String);
  for (const p of pools) if (typeof p === "string") texts.push(p);
  if (isCidr(serviceCIDR)) {
    const [a, n] = serviceCIDR.split("/");
    const parsed = ipaddr.parse(a);
    const width = parsed.kind() === "ipv6" ? 128 : 32;
    const first = (toBig(parsed) & prefixMask(Number(n), width)) + 1n;
    texts.push(`${fromBig(first, width === 128)}/${width}`);
  }
  const out: Anchor[] = [];
  for (const t of texts) {
    const s = t.includes("/") ? t : `${t}/${t.includes(":") ? 128 : 32}`;
    if (!isCidr(s)) continue;
    const [a, n] = s.split("/");
    const parsed = ipaddr.parse(a);
    const v6 = parsed.kind() === "ipv6";
    out.push({ v6, bits: toBig(parsed), len: Number(n) });
  }
  return out;
}

function toBig(a: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  let b = 0n;
  for (const x of a.toByteArray()) b = (b << 8n) | BigInt(x);
  return b;
}

function fromBig(b: bigint, v6: boolean): string {
  const n = v6 ? 16 : 4;
  const bytes: number[] = [];
  for (let i = n - 1; i >= 0; i--) bytes.push(Number((b >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

function prefixMask(len: number, width: number): bigint {
  return len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(width - len);
}

/** murmur3's 32-bit finalizer. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The prefix-preserving address permutation described in the module comment. */
class AddressMap {
  readonly memo = new Map<string, string>();
  private readonly root4: number;
  private readonly root6: number;
  private readonly anchors4: { n: number; len: number }[];
  constructor(
    seed: string,
    private readonly anchors: readonly Anchor[],
  ) {
    const h = sha256(utf8ToBytes(`${seed}\0addresses`));
    this.root4 = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
    this.root6 = ((h[4] << 24) | (h[5] << 16) | (h[6] << 8) | h[7]) >>> 0;
    this.anchors4 = anchors.filter((a) => !a.v6).map((a) => ({ n: Number(a.bits), len: a.len }));
  }

  /** The new address of `text` (an IPv4 or IPv6 address), in the same family. */
  map(text: string): string {
    const got = this.memo.get(text);
    if (got !== undefined) return got;
    const parsed = ipaddr.parse(text);
    const v6 = parsed.kind() === "ipv6";
    // An IPv4-mapped IPv6 address keeps its form; its IPv4 part is mapped as IPv4.
    const out = fromBig(this.permute(toBig(parsed), v6), v6);
    this.memo.set(text, out);
    return out;
  }

  /** The new CIDR of `text` (`address/len`): the network address mapped, then masked to len. */
  mapCidr(text: string): string {
    const got = this.memo.get(text);
    if (got !== undefined) return got;
    const [a, n] = text.split("/");
    const parsed = ipaddr.parse(a);
    const v6 = parsed.kind() === "ipv6";
    const width = v6 ? 128 : 32;
    const len = Number(n);
    const mapped = this.permute(toBig(parsed), v6) & prefixMask(Math.min(len, width), width);
    const out = `${fromBig(mapped, v6)}/${n}`;
    this.memo.set(text, out);
    return out;
  }

  private permute(bits: bigint, v6: boolean): bigint {
    const width = v6 ? 128 : 32;
    const keep = v6 ? 64 : 24; // bits from here on (the host part) are kept
    // Bits 0..t stay: the longest run that lies on some anchor's path (depends on the prefix only).
    let t = -1;
    if (v6) {
      for (const a of this.anchors) {
        if (!a.v6) continue;
        const x = bits ^ a.bits;
        const cpl = x === 0n ? width : width - x.toString(2).length;
        t = Math.max(t, Math.min(a.len - 1, cpl));
      }
    } else {
      const n = Number(bits);
      for (const a of this.anchors4) t = Math.max(t, Math.min(a.len - 1, Math.clz32((n ^ a.n) >>> 0)));
      // IPv4 in 32-bit numbers: the same flips as below, without a BigInt per bit.
      let h4 = this.root4;
      let o4 = n;
      for (let i = 0; i < keep; i++) {
        const bit = (n >>> (31 - i)) & 1;
        if (i > t && (mix32(h4) & 1) === 1) o4 ^= 1 << (31 - i);
        h4 = mix32((h4 ^ (bit ? 0x68e31da4 : 0x1b873593)) + Math.imul(i + 1, 0x9e3779b9));
      }
      return BigInt(o4 >>> 0);
    }
    let h = v6 ? this.root6 : this.root4;
    let out = bits;
    for (let i = 0; i < keep; i++) {
      const bit = Number((bits >> BigInt(width - 1 - i)) & 1n);
      if (i > t && (mix32(h) & 1) === 1) out ^= 1n << BigInt(width - 1 - i);
      h = mix32((h ^ (bit ? 0x68e31da4 : 0x1b873593)) + Math.imul(i + 1, 0x9e3779b9));
    }
    return out;
  }
}
