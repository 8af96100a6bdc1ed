/**
 * The cluster's DNS zone as Kubernetes' DNS-Based Service Discovery specification defines it, plus
 * what CoreDNS's kubernetes plugin serves beyond it (kubeadm's Corefile: `pods insecure`, reverse
 * zones). Built once from the cluster state; `lookup` answers one question the way CoreDNS would.
 *
 *   <svc>.<ns>.svc.<zone>                A      ClusterIP, or every ready endpoint of a headless Service
 *   <host>.<svc>.<ns>.svc.<zone>         A      each ready endpoint, by its hostname or, without one, its
 *                                               address with dashes (10-244-1-5); required for headless
 *                                               Services, served by CoreDNS for every Service
 *   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV  each named port: ClusterIP → the Service's name; headless
 *                                               → one per ready endpoint (weights split 100 ways)
 *   <d>.<c>.<b>.<a>.in-addr.arpa         PTR    ClusterIPs, and ready endpoints (their endpoint name)
 *   <svc>.<ns>.svc.<zone>                CNAME  ExternalName Services
 *   <a>-<b>-<c>-<d>.<ns>.pod.<zone>      A      any address written with dashes (`pods insecure`)
 *   dns-version.<zone>                   TXT    the specification's version (TTL 28800, as CoreDNS)
 *   <zone>                               SOA    ns.dns.<zone> hostmaster.<zone> serial 7200 1800 86400 <ttl>
 *                                               (record TTL min(ttl, 300): CoreDNS's plugin.SOA)
 *   <zone>                               NS     the names of the Services in front of the DNS pod that
 *                                               answers (kube-dns.kube-system.svc.<zone>), their
 *                                               addresses in the additional section (CoreDNS's nsAddrs);
 *                                               ns.dns.<zone> when no Service fronts a DNS pod
 *
 * Unknown names: NXDOMAIN with the zone's SOA in the authority section; a name that exists without
 * the type asked (or an empty non-terminal such as `<ns>.svc.<zone>` — for every namespace that
 * exists, Services or not, as CoreDNS's findServices): NOERROR, no answer, the SOA. Names are matched
 * case-insensitively; answers carry the name as asked.
 *
 * Reverse names: the kubernetes plugin of kubeadm's Corefile owns all of in-addr.arpa and falls
 * through to the next plugin (forward) for an address it has no record for. podnet answers every
 * reverse name it holds a record for (any address: a selector-less Service's manual endpoints, the
 * API server's). The others fall through (`fallsThrough`: the server relays them to its upstream);
 * without an upstream they get NXDOMAIN inside serviceCIDR and clusterCIDR and REFUSED outside.
 * Other names outside the zone are REFUSED (or relayed).
 *
 * Below the zone, names are read as CoreDNS's request parser reads them (see `#unparsed`): only
 * `<…>.svc.<zone>` and `<…>.pod.<zone>` exist, besides dns-version and ns.dns.
 */
import type { ClusterState } from "../control/state.ts";
import type { Service } from "../model/k8s.ts";
import { Cidr, formatIPv4, parseIPv4 } from "../net/ipv4.ts";

export const SPEC_VERSION = "1.1.0";
/** CoreDNS's kubernetes plugin: `ttl` defaults to 5 s (plugin/kubernetes/kubernetes.go, defaultTTL). */
export const DEFAULT_TTL = 5;
/** The dns-version TXT record's fixed TTL (CoreDNS's kubernetes.go, Services: 28800 s). */
export const DNS_VERSION_TTL = 28800;
/** The SOA record's TTL is min(ttl, 300); its minimum field is the ttl itself (CoreDNS's plugin.SOA). */
export const SOA_MAX_TTL = 300;
/** CoreDNS follows at most this many CNAMEs inside its zone (plugin/backend_lookup.go). */
export const MAX_CNAME_CHAIN = 10;

export type RrType = "A" | "AAAA" | "SRV" | "PTR" | "CNAME" | "TXT" | "SOA" | "NS";
/** The query types podnet knows by name (others are answered by number: NODATA or NXDOMAIN). */
export const QUERY_TYPES = ["A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "SOA", "NS", "ANY"] as const;

export interface Srv {
  priority: number;
  weight: number;
  port: number;
  target: string;
}
export interface Soa {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** One resource record, in the shape of dns-packet's answers (names without the final dot). */
export type Rr =
  | { name: string; type: "A" | "AAAA" | "PTR" | "CNAME" | "NS"; ttl: number; data: string }
  | { name: string; type: "SRV"; ttl: number; data: Srv }
  | { name: string; type: "SOA"; ttl: number; data: Soa }
  | { name: string; type: "TXT"; ttl: number; data: string[] };

export type Rcode = "NOERROR" | "NXDOMAIN" | "REFUSED" | "SERVFAIL" | "FORMERR" | "NOTIMP";

export interface DnsAnswer {
  rcode: Rcode;
  /** Whether the name lies in a zone podnet serves (the AA bit). */
  authoritative: boolean;
  answers: Rr[];
  authority: Rr[];
  additionals: Rr[];
  /** Where the answer comes from, for people: "ClusterIP Service shop/cart", "no such name". */
  why: string;
}

export interface ZoneOptions {
  /** TTL of every record (CoreDNS's kubernetes plugin: 5 s). */
  ttl?: number;
}

export interface Owned {
  rr: Omit<Rr, "name">;
  why: string;
}

export interface ZoneSnapshot {
  zone: string;
  ttl: number;
  soa: Soa;
  digest: string;
  reverse: string[];
  namespaces: string[];
  records: [string, Owned[]][];
  names: string[];
}

export class ClusterZone {
  readonly zone: string;
  readonly ttl: number;
  readonly soa: Soa;
  /** 64 bits over every record and namespace: equal digests, equal zones (for the data plane's reload). */
  digest = "";
  readonly #records = new Map<string, Owned[]>();
  /** Every name that exists: owners and their ancestors inside the zone (empty non-terminals). */
  readonly #names = new Set<string>();
  readonly #namespaces: Set<string>;
  readonly #reverse: Cidr[];
  readonly #podName: RegExp;
  /** Records added so far, while building (`name type data`). */
  readonly #seen = new Set<string>();

  /** From the cluster state, or from a snapshot (`snapshot()`, as the data plane's DNS pods load it). */
  constructor(source: ClusterState | ZoneSnapshot, opts: ZoneOptions = {}) {
    const snap = "records" in source ? source : undefined;
    this.zone = snap ? snap.zone : (source as ClusterState).config.clusterDomain.toLowerCase();
    this.ttl = snap ? snap.ttl : (opts.ttl ?? DEFAULT_TTL);
    const zoneRe = this.zone.replaceAll(".", "\\.");
    this.#podName = new RegExp(
      `^(\\d{1,3})-(\\d{1,3})-(\\d{1,3})-(\\d{1,3})\\.([a-z0-9-]+)\\.pod\\.${zoneRe}$`,
    );
    if (snap) {
      this.soa = snap.soa;
      this.digest = snap.digest;
      this.#namespaces = new Set(snap.namespaces);
      this.#reverse = snap.reverse.map((c) => {
        const parsed = Cidr.parse(c);
        if (!parsed.ok) throw new Error(`zone snapshot: ${parsed.reason}`);
        return parsed.cidr;
      });
      for (const [name, list] of snap.records) this.#records.set(name, list);
      for (const n of snap.names) this.#names.add(n);
      return;
    }
    const state = source as ClusterState;
    const cfg = state.config;
    this.#namespaces = new Set(state.namespaces.map((n) => n.metadata.name));
    for (const s of state.services) this.#namespaces.add(s.metadata.namespace ?? "default");
    for (const p of state.pods) this.#namespaces.add(p.metadata.namespace ?? "default");
    this.#reverse = [cfg.serviceCIDR, cfg.clusterCIDR];
    const z = this.zone;
    const nsName = `ns.dns.${z}`;
    this.soa = {
      mname: nsName,
      rname: `hostmaster.${z}`,
      serial: 0,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: this.ttl,
    };
    this.#add(
      `dns-version.${z}`,
      { type: "TXT", ttl: DNS_VERSION_TTL, data: [SPEC_VERSION] },
      "the specification's version",
    );
    this.#names.add(`pod.${z}`);
    this.#names.add(`svc.${z}`);
    // Every namespace that exists has its pod and svc names, Services or not: CoreDNS answers NODATA
    // for `<ns>.svc.<zone>` of an existing namespace and NXDOMAIN for one that does not exist
    // (kubernetes.go, findServices and findPods: "handle empty service name").
    for (const ns of this.#namespaces) {
      this.#names.add(`${ns}.pod.${z}`);
      this.#names.add(`${ns}.svc.${z}`);
    }

    const slices = new Map<string, ClusterState["endpointSlices"]>();
    for (const s of state.endpointSlices) {
      const svc = s.metadata.labels?.["kubernetes.io/service-name"];
      if (!svc || s.addressType !== "IPv4") continue;
      const key = `${s.metadata.namespace ?? "default"}/${svc}`;
      slices.set(key, [...(slices.get(key) ?? []), s]);
    }
    const endpointsOf = new Map<Service, Map<string, string>>();
    for (const svc of state.services)
      endpointsOf.set(
        svc,
        this.#service(svc, slices.get(`${svc.metadata.namespace ?? "default"}/${svc.metadata.name}`) ?? []),
      );
    this.#nameServers(state, endpointsOf);
    this.#seen.clear();
    this.soa.serial = this.#serial();
    this.#add(z, { type: "SOA", ttl: Math.min(this.ttl, SOA_MAX_TTL), data: this.soa }, "the cluster zone");
  }

  /**
   * The apex NS records, as CoreDNS's nsAddrs builds them: the DNS pod that answers (here the first
   * ready endpoint of the Service at dnsServiceIP) looks up every Service whose endpoints hold its
   * address; each ClusterIP Service is a name server by its Service name, each headless one by each
   * of its endpoints' names. `ns.dns.<zone>` has their addresses. Without such a pod (no DNS
   * Service, or no ready endpoint), CoreDNS falls back to `ns.dns.<zone>` at its own address; podnet
   * uses dnsServiceIP, the address clients reach it at.
   */
  #nameServers(state: ClusterState, endpointsOf: Map<Service, Map<string, string>>): void {
    const z = this.zone;
    const ttl = this.ttl;
    const dnsIP = formatIPv4(state.config.dnsServiceIP);
    const dnsService = state.services.find((s) => s.spec.clusterIP === dnsIP);
    const answering = dnsService ? [...(endpointsOf.get(dnsService)?.keys() ?? [])][0] : undefined;
    const servers: { name: string; why: string }[] = [];
    const addresses: string[] = [];
    if (answering !== undefined)
      for (const [svc, endpoints] of endpointsOf) {
        if (!endpoints.has(answering)) continue;
        const ns = svc.metadata.namespace ?? "default";
        const name = `${svc.metadata.name}.${ns}.svc.${z}`.toLowerCase();
        const why = `the cluster zone's name server: Service ${ns}/${svc.metadata.name} in front of the DNS pod at ${answering}`;
        if (svc.spec.clusterIP === "None")
          for (const [ip, host] of endpoints) {
            servers.push({ name: `${host}.${name}`, why });
            addresses.push(ip);
          }
        else
          for (const ip of clusterIPsOf(svc)) {
            servers.push({ name, why });
            addresses.push(ip);
          }
      }
    if (servers.length === 0) {
      servers.push({
        name: `ns.dns.${z}`,
        why: "the cluster zone's name server (no Service fronts a DNS pod)",
      });
      addresses.push(dnsIP);
    }
    for (const s of servers) this.#add(z, { type: "NS", ttl, data: s.name }, s.why);
    for (const ip of addresses)
      this.#add(`ns.dns.${z}`, { type: "A", ttl, data: ip }, "the cluster zone's name server address");
  }

  /** The records of one Service; returns its ready endpoints (address → host label). */
  #service(svc: Service, slices: ClusterState["endpointSlices"]): Map<string, string> {
    const ns = svc.metadata.namespace ?? "default";
    const id = `${ns}/${svc.metadata.name}`;
    const name = `${svc.metadata.name}.${ns}.svc.${this.zone}`.toLowerCase();
    const ttl = this.ttl;
    const ports = (svc.spec.ports ?? []).filter((p) => p.name);
    if (svc.spec.type === "ExternalName") {
      if (svc.spec.externalName)
        this.#add(
          name,
          { type: "CNAME", ttl, data: svc.spec.externalName.replace(/\.$/, "") },
          `ExternalName Service ${id}`,
        );
      return new Map();
    }
    const clusterIPs = clusterIPsOf(svc);
    const headless = svc.spec.clusterIP === "None";
    // The ready endpoints (publishNotReadyAddresses makes the endpoint controller mark all ready),
    // each named by its hostname or its address with dashes.
    const endpoints = new Map<string, string>(); // address → host label
    const slicePorts = new Map<string, { name: string; port: number; protocol: string }>();
    for (const s of slices) {
      for (const ep of s.endpoints) {
        if (ep.conditions.ready === false) continue;
        for (const a of ep.addresses)
          if (!endpoints.has(a)) endpoints.set(a, (ep.hostname ?? a.replaceAll(".", "-")).toLowerCase());
      }
      for (const p of s.ports ?? [])
        if (p.name && p.port !== undefined)
          slicePorts.set(`${p.name}/${p.protocol ?? "TCP"}`, {
            name: p.name,
            port: p.port,
            protocol: p.protocol ?? "TCP",
          });
    }
    const kind = headless ? "headless Service" : "Service";
    // Every Service's ready endpoints have a name and a PTR record (CoreDNS serves them for ClusterIP
    // Services too; the specification requires them for headless ones).
    for (const [ip, host] of endpoints) {
      const hostName = `${host}.${name}`;
      this.#add(hostName, { type: "A", ttl, data: ip }, `endpoint ${host} of ${kind} ${id}`);
      this.#add(reverseName(ip), { type: "PTR", ttl, data: hostName }, `endpoint ${host} of ${kind} ${id}`);
    }
    if (!headless) {
      for (const ip of clusterIPs) {
        this.#add(name, { type: "A", ttl, data: ip }, `ClusterIP Service ${id}`);
        this.#add(reverseName(ip), { type: "PTR", ttl, data: name }, `ClusterIP of Service ${id}`);
      }
      if (clusterIPs.length === 0) return endpoints;
      for (const p of ports)
        this.#add(
          `_${p.name}._${(p.protocol ?? "TCP").toLowerCase()}.${name}`,
          { type: "SRV", ttl, data: { priority: 0, weight: 100, port: p.port, target: name } },
          `port ${p.name} of ClusterIP Service ${id}`,
        );
      return endpoints;
    }
    if (endpoints.size === 0) return endpoints; // headless, no ready endpoint: the name does not exist (NXDOMAIN)
    const why = `headless Service ${id} (${endpoints.size} ready endpoint${endpoints.size === 1 ? "" : "s"})`;
    const weight = Math.floor(100 / endpoints.size);
    for (const [ip, host] of endpoints) {
      this.#add(name, { type: "A", ttl, data: ip }, why);
      for (const p of slicePorts.values())
        this.#add(
          `_${p.name}._${p.protocol.toLowerCase()}.${name}`,
          { type: "SRV", ttl, data: { priority: 0, weight, port: p.port, target: `${host}.${name}` } },
          `port ${p.name} of ${why}`,
        );
    }
    return endpoints;
  }

  #add(name: string, rr: Omit<Rr, "name">, why: string): void {
    // The same record twice (an address behind two slices) is kept once.
    const key = `${name} ${rr.type} ${typeof rr.data === "string" ? rr.data : JSON.stringify(rr.data)}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const entry = { rr, why };
    const list = this.#records.get(name);
    if (list) list.push(entry);
    else this.#records.set(name, [entry]);
    // The name and its ancestors down to the zone (or to in-addr.arpa) exist, except `_<proto>.<svc>…`
    // above an SRV owner: CoreDNS reads it as an endpoint named `_<proto>` and answers NXDOMAIN.
    const stop = name.endsWith(".in-addr.arpa") ? "in-addr.arpa" : this.zone;
    for (let n = name; n !== stop && n.includes("."); n = n.slice(n.indexOf(".") + 1))
      if (n === name || !n.startsWith("_")) this.#names.add(n);
    this.#names.add(stop);
  }

  /** A serial that changes when the records change (CoreDNS uses the time of the last change). */
  #serial(): number {
    // Two independent 32-bit FNV-1a hashes over the sorted records: the first is the SOA serial, both
    // together the digest that tells the data plane whether the zone changed.
    let h = 0x811c9dc5;
    let g = 0x050c5d1f;
    for (const [name, list] of [...this.#records].sort(([a], [b]) => (a < b ? -1 : 1)))
      for (const o of list) {
        const s = `${name} ${o.rr.type} ${JSON.stringify(o.rr.data)} ${o.why}\n`;
        for (let i = 0; i < s.length; i++) {
          h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
          g = Math.imul(g ^ s.charCodeAt(i), 0x01000193 ^ 0x5bd1e995) >>> 0;
        }
      }
    const namespaces = [...this.#namespaces].sort().join(",");
    for (let i = 0; i < namespaces.length; i++) g = Math.imul(g ^ namespaces.charCodeAt(i), 0x5bd1e995) >>> 0;
    this.digest = `${h.toString(16).padStart(8, "0")}${g.toString(16).padStart(8, "0")}`;
    return h;
  }

  /** Everything the zone answers from, as JSON-ready data. */
  snapshot(): ZoneSnapshot {
    return {
      zone: this.zone,
      ttl: this.ttl,
      soa: this.soa,
      digest: this.digest,
      reverse: this.#reverse.map(String),
      namespaces: [...this.#namespaces],
      records: [...this.#records],
      names: [...this.#names],
    };
  }

  /** Every record, sorted by name then type (for `podnet dns --dump` style listings and tests). */
  records(): Rr[] {
    return [...this.#records]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([name, list]) => list.map((o) => ({ name, ...o.rr }) as Rr));
  }

  /** The SOA of the zone a name belongs to, as an authority record (TTL min(ttl, 300), as CoreDNS). */
  #soaFor(name: string): Rr {
    const reverse = name === "in-addr.arpa" || name.endsWith(".in-addr.arpa");
    const ttl = Math.min(this.ttl, SOA_MAX_TTL);
    return reverse
      ? {
          name: "in-addr.arpa",
          type: "SOA",
          ttl,
          data: { ...this.soa, mname: "ns.dns.in-addr.arpa", rname: "hostmaster.in-addr.arpa" },
        }
      : { name: this.zone, type: "SOA", ttl, data: this.soa };
  }

  /**
   * Whether a (lower-case) name is answered from the zone: names in the cluster zone, every reverse
   * name the zone holds (a record, or names below it: any address, in the cluster's ranges or not),
   * and the reverse names of serviceCIDR and clusterCIDR.
   */
  serves(name: string): boolean {
    if (name === this.zone || name.endsWith(`.${this.zone}`)) return true;
    if (this.#names.has(name)) return true;
    const ip = fromReverseName(name);
    if (ip !== undefined) return this.#reverse.some((c) => c.contains(ip));
    // in-addr.arpa names above a full address: ours when they cover one of our ranges.
    const m = /^((?:\d{1,3}\.){0,3})in-addr\.arpa$/.exec(name);
    if (!m) return false;
    const octets = m[1].split(".").filter(Boolean).reverse();
    const base = parseIPv4([...octets, "0", "0", "0", "0"].slice(0, 4).join("."));
    if (base === undefined) return false;
    const block = Cidr.of(base, octets.length * 8);
    return this.#reverse.some((c) => c.overlaps(block));
  }

  /**
   * Whether CoreDNS's kubernetes plugin would hand this question to the next plugin (kubeadm's
   * `fallthrough in-addr.arpa ip6.arpa`, then `forward`): a reverse name it has no answer for.
   * `podnet dns --upstream` relays those; without an upstream they are answered from the zone
   * (NXDOMAIN in the cluster's ranges) or refused.
   */
  fallsThrough(name: string, qtype: string): boolean {
    const n = name.replace(/\.$/, "").toLowerCase();
    if (!n.endsWith(".in-addr.arpa")) return false;
    return this.lookup(n, qtype).answers.length === 0 && !this.#names.has(n);
  }

  /**
   * The answer to one question, as CoreDNS's kubernetes plugin gives it (plugin/kubernetes/handler.go
   * and plugin/backend_lookup.go). `qname` as asked (case kept in the answer), `qtype` by name.
   *
   *   - A name with records of the type: NOERROR with them; SRV and NS answers carry the addresses
   *     of their targets in the additional section.
   *   - An ExternalName Service's name: CNAME for A, AAAA, TXT and CNAME. A target inside the zone
   *     is followed (at most 10 links, no loops): the CNAME plus the target's records, or NODATA
   *     when the target has none. A target outside: the CNAME alone (CoreDNS adds what its upstream
   *     answers). Other types (SRV, MX, ANY…): NODATA.
   *   - SOA: the record at the apex; NODATA (no answer, the SOA) at any other name, existing or not.
   *   - ANY and types podnet has no records of: NODATA when the name exists, else NXDOMAIN (CoreDNS
   *     has no ANY: it answers as for any other type).
   */
  lookup(qname: string, qtype: string): DnsAnswer {
    return this.#lookup(qname, qtype, []);
  }

  #lookup(qname: string, qtype: string, chain: Rr[]): DnsAnswer {
    const asked = qname.replace(/\.$/, "");
    const name = asked.toLowerCase();
    const empty = { answers: [], authority: [], additionals: [] };
    if (!this.serves(name))
      return {
        rcode: "REFUSED",
        authoritative: false,
        ...empty,
        why: `outside ${this.zone} and the cluster's reverse zones, and podnet forwards to no upstream`,
      };
    const nodata = (why: string): DnsAnswer => ({
      rcode: "NOERROR",
      authoritative: true,
      ...empty,
      authority: [this.#soaFor(name)],
      why,
    });
    if (qtype === "SOA") {
      if (name === this.zone || name === "in-addr.arpa") {
        const soa = this.#soaFor(name);
        return {
          rcode: "NOERROR",
          authoritative: true,
          answers: [{ ...soa, name: asked }],
          authority: [],
          additionals: [],
          why: name === this.zone ? "the cluster zone" : "the reverse zone",
        };
      }
      return nodata("SOA records live at the zone's apex only (CoreDNS: NODATA below it)");
    }
    if (this.#unparsed(name, qtype))
      return {
        rcode: "NXDOMAIN",
        authoritative: true,
        ...empty,
        authority: [this.#soaFor(name)],
        why: `CoreDNS reads names below ${this.zone} as <…>.svc or <…>.pod only (dns-version TXT and ns.dns A aside)`,
      };
    const owned = this.#records.get(name) ?? this.#pod(name);
    const withName = (rr: Omit<Rr, "name">, owner = asked) => ({ name: owner, ...rr }) as Rr;
    if (!owned) {
      if (this.#names.has(name))
        return nodata("the name exists (it has names below it) but holds no records");
      return {
        rcode: "NXDOMAIN",
        authoritative: true,
        ...empty,
        authority: [this.#soaFor(name)],
        why: `no such name in ${name.endsWith("in-addr.arpa") ? "the cluster's reverse zone" : this.zone}`,
      };
    }
    const cname = owned.find((o) => o.rr.type === "CNAME");
    if (cname) return this.#alias(asked, qtype, cname, chain, nodata);
    const hits = owned.filter((o) => o.rr.type === qtype);
    // A at `_<port>._<proto>.<svc>…`: CoreDNS gives the addresses behind the port (the ClusterIP, or
    // each endpoint of a headless Service), the addresses of the SRV targets.
    if (hits.length === 0 && qtype === "A" && owned.some((o) => o.rr.type === "SRV")) {
      const seen = new Set<string>();
      const answers: Rr[] = [];
      for (const o of owned)
        if (o.rr.type === "SRV")
          for (const t of this.#records.get((o.rr.data as Srv).target) ?? [])
            if (t.rr.type === "A" && !seen.has(t.rr.data as string)) {
              seen.add(t.rr.data as string);
              answers.push(withName(t.rr));
            }
      if (answers.length > 0)
        return {
          rcode: "NOERROR",
          authoritative: true,
          answers,
          authority: [],
          additionals: [],
          why: `${owned[0].why}: the addresses behind the port`,
        };
    }
    if (hits.length === 0) return nodata(`${owned[0].why}: no ${qtype} record`);
    // The additional section: the addresses of SRV and NS targets (CoreDNS's plugin.SRV and plugin.NS).
    const additionals: Rr[] = [];
    const added = new Set<string>();
    for (const o of hits) {
      const target =
        o.rr.type === "SRV"
          ? (o.rr.data as Srv).target
          : o.rr.type === "NS"
            ? (o.rr.data as string)
            : undefined;
      if (target === undefined || added.has(target)) continue;
      added.add(target);
      for (const t of this.#records.get(target) ?? [])
        if (t.rr.type === "A") additionals.push(withName(t.rr, target));
    }
    return {
      rcode: "NOERROR",
      authoritative: true,
      answers: hits.map((o) => withName(o.rr)),
      authority: [],
      additionals,
      why: hits[0].why,
    };
  }

  /** An ExternalName Service's name asked for `qtype` (see `lookup`). */
  #alias(
    asked: string,
    qtype: string,
    cname: Owned,
    chain: Rr[],
    nodata: (why: string) => DnsAnswer,
  ): DnsAnswer {
    const record = { name: asked, ...cname.rr } as Rr;
    const answer = (answers: Rr[], why: string): DnsAnswer => ({
      rcode: "NOERROR",
      authoritative: true,
      answers,
      authority: [],
      additionals: [],
      why,
    });
    if (qtype === "CNAME") return answer([record], `${cname.why}: an alias`);
    if (qtype !== "A" && qtype !== "AAAA" && qtype !== "TXT")
      return nodata(`${cname.why}: an alias, and CoreDNS gives no ${qtype} records for one`);
    const target = (cname.rr.data as string).toLowerCase();
    if (target !== this.zone && !target.endsWith(`.${this.zone}`))
      return answer(
        [record],
        `${cname.why}: an alias to a name outside the cluster (the resolver follows it there)`,
      );
    const self = asked.toLowerCase();
    const seen = chain.some((c) => c.name.toLowerCase() === self && c.data === cname.rr.data);
    if (target === self || seen || chain.length > MAX_CNAME_CHAIN)
      return nodata(`${cname.why}: an alias that loops inside the zone`);
    const next = this.#lookup(target, qtype, [...chain, record]);
    if (next.rcode !== "NOERROR" || next.answers.length === 0)
      return nodata(`${cname.why}: an alias to ${target}, which has no ${qtype} record`);
    return answer(
      [record, ...next.answers],
      `${cname.why}: an alias inside the zone, followed (${next.why})`,
    );
  }

  /**
   * Whether CoreDNS's request parser rejects the name (plugin/kubernetes/parse.go: the label above the
   * zone must be `svc` or `pod`; anything else is errInvalidRequest, NXDOMAIN), for this type. Its
   * own names escape it only where its handler looks first: `dns-version` for TXT, `ns.dns` for every
   * type but TXT and PTR.
   */
  #unparsed(name: string, qtype: string): boolean {
    if (!name.endsWith(`.${this.zone}`)) return false;
    const rest = name.slice(0, -(this.zone.length + 1));
    const top = rest.slice(rest.lastIndexOf(".") + 1);
    if (top === "svc" || top === "pod") return false;
    if (rest === "dns-version") return qtype !== "TXT";
    if (rest === "ns.dns") return qtype === "TXT" || qtype === "PTR";
    return true;
  }

  /** `a-b-c-d.<ns>.pod.<zone>`: any address with dashes, in a namespace that exists (`pods insecure`). */
  #pod(name: string): Owned[] | undefined {
    const m = this.#podName.exec(name);
    if (!m || !this.#namespaces.has(m[5])) return undefined;
    const ip = m.slice(1, 5).join(".");
    if (parseIPv4(ip) === undefined) return undefined;
    return [
      {
        rr: { type: "A", ttl: this.ttl, data: ip },
        why: `the pod-address name of ${ip} (CoreDNS's \`pods insecure\`: any address)`,
      },
    ];
  }
}

/** A Service's IPv4 ClusterIPs (none for headless and ExternalName Services). */
function clusterIPsOf(svc: Service): string[] {
  return (svc.spec.clusterIPs ?? (svc.spec.clusterIP ? [svc.spec.clusterIP] : [])).filter(
    (ip) => ip !== "None" && parseIPv4(ip) !== undefined,
  );
}

/** `10.96.0.10` → `10.0.96.10.in-addr.arpa`. */
export function reverseName(ip: string): string {
  return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
}

/** The address a full in-addr.arpa name stands for, or undefined. */
export function fromReverseName(name: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  return m ? parseIPv4(`${m[4]}.${m[3]}.${m[2]}.${m[1]}`) : undefined;
}

/** A record in zone-file form: `cart.shop.svc.cluster.local. 5 IN A 10.96.0.12`. */
export function formatRr(rr: Rr): string {
  return `${rr.name}. ${rr.ttl} IN ${formatAnswer(rr)}`;
}

/** A record's type and data, as answers are shown: `A 10.96.0.12`, `SRV 0 100 80 web.shop.svc….`. */
export function formatAnswer(rr: Rr): string {
  const data =
    rr.type === "SRV"
      ? `${rr.data.priority} ${rr.data.weight} ${rr.data.port} ${rr.data.target}.`
      : rr.type === "SOA"
        ? `${rr.data.mname}. ${rr.data.rname}. ${rr.data.serial} ${rr.data.refresh} ${rr.data.retry} ${rr.data.expire} ${rr.data.minimum}`
        : rr.type === "TXT"
          ? rr.data.map((t) => JSON.stringify(t)).join(" ")
          : rr.type === "A" || rr.type === "AAAA"
            ? rr.data
            : `${rr.data}.`;
  return `${rr.type} ${data}`;
}
