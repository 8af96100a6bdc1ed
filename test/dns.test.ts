/**
 * Cluster DNS (issue #6): every requirement of the DNS-Based Service Discovery specification (and what
 * CoreDNS adds) as a query and its expected answer, against the zone (src/core/dns/zone.ts), then the
 * same over the wire through the real server (UDP and TCP) with Node's resolver, dig and kdig when
 * installed; resolv.conf per dnsPolicy and the resolver's walk; the CLI; and the server under fuzzed
 * garbage.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import dgram from "node:dgram";
import { Resolver } from "node:dns/promises";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import packet from "dns-packet";
import { prng } from "../bench/generate.ts";
import { listenDns, type RunningServer } from "../src/adapters/dns/server.ts";
import { resolveDestinationName, resolveFrom } from "../src/core/dns/exchange.ts";
import { candidates, formatResolvConf, podResolvConf, resolve } from "../src/core/dns/resolv.ts";
import { respond } from "../src/core/dns/wire.ts";
import { ClusterZone, formatRr } from "../src/core/dns/zone.ts";
import { Network } from "../src/core/sim/network.ts";
import { loadCluster } from "../src/index.ts";
import { cluster, errors, pod, runPodnet } from "./helpers.ts";

const FIXTURE = "test/fixtures/dns/zone.yaml";
const rcodeOf = (b: Buffer) => (packet.decode(b) as unknown as { rcode: string }).rcode;
const state = cluster({ [FIXTURE]: readFileSync(FIXTURE, "utf8") });
const zone = new ClusterZone(state);
const Z = "cluster.local";
const ipOf = (name: string) => pod(state, "shop", name).status!.podIP!;
const svcIP = (name: string) => state.services.find((s) => s.metadata.name === name)!.spec.clusterIP!;
const svcIPIn = (net: Network, ns: string, name: string) =>
  net.state.services.find((s) => s.metadata.namespace === ns && s.metadata.name === name)!.spec.clusterIP!;
const data = (name: string, type: string) =>
  zone
    .lookup(name, type)
    .answers.map((a) => (typeof a.data === "string" ? a.data : JSON.stringify(a.data)))
    .sort();

describe("cluster zone: the specification's records", () => {
  it("ClusterIP Service: A is the ClusterIP; SRV per named port points at the Service's name", () => {
    assert.deepEqual(data(`web.shop.svc.${Z}`, "A"), [svcIP("web")]);
    const srv = zone.lookup(`_http._tcp.web.shop.svc.${Z}`, "SRV");
    assert.deepEqual(srv.answers.map(formatRr), [
      `_http._tcp.web.shop.svc.${Z}. 5 IN SRV 0 100 80 web.shop.svc.${Z}.`,
    ]);
    assert.deepEqual(srv.additionals.map(formatRr), [`web.shop.svc.${Z}. 5 IN A ${svcIP("web")}`]);
    assert.equal(data(`_dns-ish._udp.web.shop.svc.${Z}`, "SRV").length, 1, "UDP ports under _udp");
    assert.equal(zone.lookup(`_http._udp.web.shop.svc.${Z}`, "SRV").rcode, "NXDOMAIN", "wrong protocol");
  });

  it("PTR for a ClusterIP names the Service", () => {
    const [a, b, c, d] = svcIP("web").split(".");
    assert.deepEqual(data(`${d}.${c}.${b}.${a}.in-addr.arpa`, "PTR"), [`web.shop.svc.${Z}`]);
  });

  it("headless Service: A per ready endpoint; StatefulSet pods by hostname; SRV per endpoint with weights split", () => {
    assert.deepEqual(data(`db.shop.svc.${Z}`, "A"), [ipOf("db-0"), ipOf("db-1"), ipOf("db-2")].sort());
    assert.deepEqual(data(`db-1.db.shop.svc.${Z}`, "A"), [ipOf("db-1")]);
    const srv = zone.lookup(`_pg._tcp.db.shop.svc.${Z}`, "SRV");
    assert.deepEqual(
      srv.answers.map(formatRr).sort(),
      [0, 1, 2].map((i) => `_pg._tcp.db.shop.svc.${Z}. 5 IN SRV 0 33 5432 db-${i}.db.shop.svc.${Z}.`),
    );
    assert.equal(srv.additionals.length, 3, "each target's address in the additional section");
  });

  it("headless: a not-ready pod is left out; publishNotReadyAddresses puts it in; a pod's hostname+subdomain names it", () => {
    assert.deepEqual(data(`cache.shop.svc.${Z}`, "A"), [ipOf("ready")]);
    assert.deepEqual(data(`cache-a.cache.shop.svc.${Z}`, "A"), [ipOf("ready")]);
    assert.deepEqual(data(`cache-all.shop.svc.${Z}`, "A"), [ipOf("ready"), ipOf("starting")].sort());
    const dashed = ipOf("starting").replaceAll(".", "-");
    assert.deepEqual(data(`${dashed}.cache-all.shop.svc.${Z}`, "A"), [ipOf("starting")]);
    const [a, b, c, d] = ipOf("db-0").split(".");
    assert.deepEqual(data(`${d}.${c}.${b}.${a}.in-addr.arpa`, "PTR"), [`db-0.db.shop.svc.${Z}`]);
  });

  it("headless with no ready endpoint: NXDOMAIN", () => {
    const r = zone.lookup(`nobody.shop.svc.${Z}`, "A");
    assert.equal(r.rcode, "NXDOMAIN");
    assert.equal(r.authority[0].type, "SOA");
  });

  it("ExternalName outside the zone: the CNAME for A, AAAA, TXT and CNAME; NODATA for SRV (CoreDNS handler_test: CNAME External)", () => {
    for (const t of ["A", "AAAA", "CNAME", "TXT"]) {
      const r = zone.lookup(`payments.shop.svc.${Z}`, t);
      assert.equal(r.rcode, "NOERROR");
      assert.deepEqual(r.answers.map(formatRr), [
        `payments.shop.svc.${Z}. 5 IN CNAME api.payments.example.com.`,
      ]);
    }
    // CoreDNS's Services drops ExternalName entries for SRV, and has no ANY: no answer, the SOA.
    for (const t of ["SRV", "ANY"]) {
      const r = zone.lookup(`payments.shop.svc.${Z}`, t);
      assert.equal(r.rcode, "NOERROR", t);
      assert.deepEqual(r.answers, [], t);
      assert.equal(r.authority[0].type, "SOA", t);
    }
  });

  it("pods: a-b-c-d.<ns>.pod.<zone> (any address, as CoreDNS's pods insecure); unknown namespace: NXDOMAIN", () => {
    assert.deepEqual(data(`10-244-7-9.shop.pod.${Z}`, "A"), ["10.244.7.9"]);
    assert.equal(zone.lookup(`10-244-7-9.nowhere.pod.${Z}`, "A").rcode, "NXDOMAIN");
    assert.equal(zone.lookup(`10-244-7-300.shop.pod.${Z}`, "A").rcode, "NXDOMAIN");
  });

  it("dns-version TXT; SOA and NS at the apex", () => {
    assert.deepEqual(data(`dns-version.${Z}`, "TXT"), ['["1.1.0"]']);
    assert.deepEqual(data(Z, "NS"), [
      `10-244-0-7.coredns-metrics.kube-system.svc.${Z}`,
      `10-244-1-7.coredns-metrics.kube-system.svc.${Z}`,
      `kube-dns.kube-system.svc.${Z}`,
    ]);
    assert.deepEqual(data(`ns.dns.${Z}`, "A"), ["10.244.0.7", "10.244.1.7", "10.96.0.10"]);
    assert.equal(zone.lookup(Z, "SOA").answers[0].type, "SOA");
  });

  it("unknown name: NXDOMAIN with the SOA; existing name without the type, or an empty non-terminal: NOERROR, no answer, the SOA", () => {
    for (const [name, type, rcode] of [
      [`nope.shop.svc.${Z}`, "A", "NXDOMAIN"],
      [`web.shop.svc.${Z}`, "AAAA", "NOERROR"],
      [`web.shop.svc.${Z}`, "TXT", "NOERROR"],
      [`shop.svc.${Z}`, "A", "NOERROR"],
      [`svc.${Z}`, "A", "NOERROR"],
      [`_tcp.web.shop.svc.${Z}`, "SRV", "NXDOMAIN"],
      [`nowhere.svc.${Z}`, "A", "NXDOMAIN"],
    ] as const) {
      const r = zone.lookup(name, type);
      assert.equal(r.rcode, rcode, `${name} ${type}`);
      assert.equal(r.answers.length, 0, `${name} ${type}`);
      assert.deepEqual(
        r.authority.map((a) => a.name + a.type),
        [`${Z}SOA`],
        `${name} ${type}`,
      );
    }
  });

  it("case-insensitive, and the answer carries the name as asked", () => {
    const r = zone.lookup(`WeB.Shop.SVC.Cluster.Local.`, "A");
    assert.equal(r.answers[0].name, "WeB.Shop.SVC.Cluster.Local");
    assert.equal(r.answers[0].data, svcIP("web"));
  });

  it("the TTL is configurable (default 5, as CoreDNS)", () => {
    const z = new ClusterZone(state, { ttl: 30 });
    assert.equal(z.lookup(`web.shop.svc.${Z}`, "A").answers[0].ttl, 30);
    assert.equal(z.lookup(`nope.shop.svc.${Z}`, "A").authority[0].ttl, 30);
  });

  it("outside the zone: REFUSED; inside the cluster's reverse ranges without a record: NXDOMAIN", () => {
    assert.equal(zone.lookup("example.com", "A").rcode, "REFUSED");
    assert.equal(zone.lookup("4.3.2.1.in-addr.arpa", "PTR").rcode, "REFUSED");
    assert.equal(zone.lookup("250.250.96.10.in-addr.arpa", "PTR").rcode, "NXDOMAIN");
    // CoreDNS (kubeadm's Corefile) falls through to forward for reverse names it has no answer for.
    assert.equal(zone.fallsThrough("4.3.2.1.in-addr.arpa", "PTR"), true);
    assert.equal(zone.fallsThrough("250.250.96.10.in-addr.arpa", "PTR"), true);
    assert.equal(zone.fallsThrough(`nope.shop.svc.${Z}`, "A"), false);
  });

  it("PTR for every endpoint address, inside the cluster's ranges or not: a selector-less Service's manual endpoints, the API server's", () => {
    // The exact examples of issue 12: both were REFUSED though `dns --records` listed them.
    const manual = zone.lookup("10.2.0.192.in-addr.arpa", "PTR");
    assert.equal(manual.rcode, "NOERROR");
    assert.deepEqual(manual.answers.map(formatRr), [
      `10.2.0.192.in-addr.arpa. 5 IN PTR 192-0-2-10.legacy.shop.svc.${Z}.`,
    ]);
    assert.deepEqual(data(`192-0-2-10.legacy.shop.svc.${Z}`, "A"), ["192.0.2.10"]);
    const api = state.endpointSlices.find((s) => s.metadata.name === "kubernetes")!.endpoints[0].addresses[0];
    assert.ok(!api.startsWith("10."), `the API server's endpoint ${api} lies outside both ranges`);
    const [a, b, c, d] = api.split(".");
    const ptr = zone.lookup(`${d}.${c}.${b}.${a}.in-addr.arpa`, "PTR");
    assert.equal(ptr.rcode, "NOERROR");
    assert.deepEqual(
      ptr.answers.map((r) => r.data),
      [`${api.replaceAll(".", "-")}.kubernetes.default.svc.${Z}`],
    );
    assert.equal(zone.fallsThrough(`${d}.${c}.${b}.${a}.in-addr.arpa`, "PTR"), false);
    // Its parents exist (names below them), other addresses beside it are still not ours.
    assert.equal(zone.lookup("2.0.192.in-addr.arpa", "PTR").rcode, "NOERROR");
    assert.equal(zone.lookup("11.2.0.192.in-addr.arpa", "PTR").rcode, "REFUSED");
  });

  it("every record the zone lists is answered, from the zone and over the wire", () => {
    const records = zone.records();
    assert.ok(records.length > 50);
    for (const rr of records) {
      const r = zone.lookup(rr.name, rr.type);
      assert.equal(r.rcode, "NOERROR", `${rr.name} ${rr.type}`);
      assert.ok(
        r.answers.some((a) => formatRr(a) === formatRr(rr)),
        `${formatRr(rr)} not in ${r.answers.map(formatRr).join(", ")}`,
      );
      const wire = respond(
        zone,
        Buffer.from(
          packet.encode({ id: 7, type: "query", questions: [{ name: rr.name, type: rr.type as "A" }] }),
        ),
        "tcp",
      );
      const got = packet.decode(wire.response!) as unknown as { rcode: string; answers: { type: string }[] };
      assert.equal(got.rcode, "NOERROR", `${rr.name} ${rr.type} over the wire`);
      assert.ok(
        got.answers.some((a) => a.type === rr.type),
        `${rr.name} ${rr.type} over the wire`,
      );
    }
  });

  it("a snapshot answers as the zone it came from", () => {
    const copy = new ClusterZone(JSON.parse(JSON.stringify(zone.snapshot())));
    for (const q of [`db.shop.svc.${Z}`, `10-1-2-3.shop.pod.${Z}`, "nope.cluster.local", "example.com"])
      assert.deepEqual(copy.lookup(q, "A"), zone.lookup(q, "A"));
  });
});

describe("cluster zone: where the specification is silent, CoreDNS's kubernetes plugin", () => {
  const soa = (z: ClusterZone) =>
    formatRr(z.lookup(Z, "SOA").answers[0]).replace(/ \d+ 7200/, " SERIAL 7200");

  it("apex SOA and NS with its addresses in the additional section (kubernetes_apex_test.go: kubeApexCases)", () => {
    assert.equal(soa(zone), `${Z}. 5 IN SOA ns.dns.${Z}. hostmaster.${Z}. SERIAL 7200 1800 86400 5`);
    const ns = zone.lookup(Z, "NS");
    assert.equal(ns.rcode, "NOERROR");
    assert.deepEqual(
      ns.additionals.map(formatRr).sort(),
      [
        `10-244-0-7.coredns-metrics.kube-system.svc.${Z}. 5 IN A 10.244.0.7`,
        `10-244-1-7.coredns-metrics.kube-system.svc.${Z}. 5 IN A 10.244.1.7`,
        `kube-dns.kube-system.svc.${Z}. 5 IN A 10.96.0.10`,
      ],
      "each name server's address (ns.go nsAddrs: ClusterIP Services by name, headless ones per endpoint)",
    );
    for (const t of ["A", "AAAA", "SRV", "HINFO"]) {
      const r = zone.lookup(Z, t);
      assert.equal(r.rcode, "NOERROR", t);
      assert.deepEqual(r.answers, [], t);
      assert.equal(r.authority[0].type, "SOA", t);
    }
  });

  it("without a Service in front of a DNS pod, the name server is ns.dns.<zone> (ns.go: no CoreDNS endpoints found)", () => {
    const bare = new ClusterZone(
      cluster({
        "c.yaml":
          "apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: bare}\nspec: {nodes: 1}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: kube-dns, namespace: kube-system}\nspec: {clusterIP: 10.96.0.10, selector: {k8s-app: none}, ports: [{name: dns, port: 53, protocol: UDP}]}\n",
      }),
    );
    const ns = bare.lookup(Z, "NS");
    assert.deepEqual(ns.answers.map(formatRr), [`${Z}. 5 IN NS ns.dns.${Z}.`]);
    assert.deepEqual(ns.additionals.map(formatRr), [`ns.dns.${Z}. 5 IN A 10.96.0.10`]);
  });

  it("the fixed records' TTLs: dns-version 28800 (handler_test: TXT Schema); SOA min(ttl, 300) with minimum = ttl (plugin.SOA)", () => {
    const r = zone.lookup(`dns-version.${Z}`, "TXT");
    assert.deepEqual(r.answers.map(formatRr), [`dns-version.${Z}. 28800 IN TXT "1.1.0"`]);
    const long = new ClusterZone(state, { ttl: 600 });
    assert.equal(soa(long), `${Z}. 300 IN SOA ns.dns.${Z}. hostmaster.${Z}. SERIAL 7200 1800 86400 600`);
    assert.equal(long.lookup(`nope.shop.svc.${Z}`, "A").authority[0].ttl, 300);
    assert.equal(long.lookup(Z, "NS").answers[0].ttl, 600);
    assert.equal(long.lookup(`dns-version.${Z}`, "TXT").answers[0].ttl, 28800);
  });

  it("a namespace that exists but has no Services: NODATA; one that does not exist: NXDOMAIN (handler_test: testns.svc.cluster.local, A Service (non-existing namespace))", () => {
    for (const t of ["A", "SRV", "NS"]) {
      const r = zone.lookup(`empty.svc.${Z}`, t);
      assert.equal(r.rcode, "NOERROR", t);
      assert.deepEqual(r.answers, [], t);
      assert.deepEqual(r.authority.map(formatRr), [formatRr(zone.lookup(Z, "SOA").answers[0])], t);
    }
    assert.equal(zone.lookup(`empty.pod.${Z}`, "A").rcode, "NOERROR");
    assert.equal(zone.lookup(`svc0.empty.svc.${Z}`, "A").rcode, "NXDOMAIN");
    assert.equal(zone.lookup(`svc0.svc-nons.svc.${Z}`, "A").rcode, "NXDOMAIN");
    assert.equal(zone.lookup(`svc0.svc-nons.svc.${Z}`, "TXT").rcode, "NXDOMAIN");
    assert.equal(zone.lookup(`foo.svc.${Z}`, "NS").rcode, "NXDOMAIN");
  });

  it("an ExternalName whose target lies in the zone: the CNAME and the target's records (handler_test: CNAME External To Internal Service)", () => {
    const r = zone.lookup(`alias.shop.svc.${Z}`, "A");
    assert.equal(r.rcode, "NOERROR");
    assert.deepEqual(r.answers.map(formatRr), [
      `alias.shop.svc.${Z}. 5 IN CNAME web.shop.svc.${Z}.`,
      `web.shop.svc.${Z}. 5 IN A ${svcIP("web")}`,
    ]);
    // A headless target: every address; a chain of two aliases: both CNAMEs, then the address.
    assert.equal(zone.lookup(`alias-db.shop.svc.${Z}`, "A").answers.filter((a) => a.type === "A").length, 3);
    assert.deepEqual(
      zone.lookup(`alias-alias.shop.svc.${Z}`, "A").answers.map((a) => a.type),
      ["CNAME", "CNAME", "A"],
    );
    // CNAME asked: the alias alone. A target without the type, a missing target, a loop: NODATA
    // (backend_lookup.go A: the CNAME is added only with the target's records; x CNAME x is skipped).
    assert.deepEqual(data(`alias.shop.svc.${Z}`, "CNAME"), [`web.shop.svc.${Z}`]);
    for (const [name, type] of [
      [`alias.shop.svc.${Z}`, "AAAA"],
      [`dangling.shop.svc.${Z}`, "A"],
      [`loop.shop.svc.${Z}`, "A"],
      [`alias.shop.svc.${Z}`, "SRV"],
    ]) {
      const n = zone.lookup(name, type);
      assert.equal(n.rcode, "NOERROR", `${name} ${type}`);
      assert.deepEqual(n.answers, [], `${name} ${type}`);
      assert.equal(n.authority[0].type, "SOA", `${name} ${type}`);
    }
    // A name below an ExternalName is no name (handler_test: A query for a subdomain of an external service).
    assert.equal(zone.lookup(`endpoint.payments.shop.svc.${Z}`, "CNAME").rcode, "NXDOMAIN");
  });

  it("SRV: the targets' addresses in the additional section, once each (handler_test: SRV Service, SRV Service (Headless))", () => {
    const clusterIP = zone.lookup(`_http._tcp.web.shop.svc.${Z}`, "SRV");
    assert.deepEqual(clusterIP.additionals.map(formatRr), [`web.shop.svc.${Z}. 5 IN A ${svcIP("web")}`]);
    const headless = zone.lookup(`_pg._tcp.db.shop.svc.${Z}`, "SRV");
    assert.deepEqual(
      headless.additionals.map(formatRr).sort(),
      [0, 1, 2].map((i) => `db-${i}.db.shop.svc.${Z}. 5 IN A ${ipOf(`db-${i}`)}`).sort(),
    );
  });

  it("names CoreDNS's parser reads: only <…>.svc and <…>.pod below the zone (handler_test: NS query for qname != zone; parse.go)", () => {
    const rcode = (name: string, type: string) => zone.lookup(name, type).rcode;
    assert.equal(rcode(`foo.${Z}`, "NS"), "NXDOMAIN");
    assert.equal(rcode(`svc.${Z}`, "NS"), "NOERROR");
    assert.equal(rcode(`dns.${Z}`, "A"), "NXDOMAIN");
    assert.equal(rcode(`dns-version.${Z}`, "A"), "NXDOMAIN", "dns-version exists for TXT only");
    assert.equal(rcode(`ns.dns.${Z}`, "AAAA"), "NOERROR");
    assert.equal(rcode(`ns.dns.${Z}`, "TXT"), "NXDOMAIN");
    // `_<proto>.<svc>…` is read as an endpoint named `_<proto>`: none, NXDOMAIN. A at an SRV name:
    // the addresses behind the port.
    assert.equal(rcode(`_tcp.web.shop.svc.${Z}`, "SRV"), "NXDOMAIN");
    assert.deepEqual(data(`_http._tcp.web.shop.svc.${Z}`, "A"), [svcIP("web")]);
    assert.deepEqual(
      data(`_pg._tcp.db.shop.svc.${Z}`, "A"),
      [ipOf("db-0"), ipOf("db-1"), ipOf("db-2")].sort(),
    );
  });

  it("SOA below the apex: NODATA, for a name that exists or not (handler_test: svc1.testns.svc.cluster.local. SOA)", () => {
    for (const name of [`web.shop.svc.${Z}`, `nope.shop.svc.${Z}`]) {
      const r = zone.lookup(name, "SOA");
      assert.equal(r.rcode, "NOERROR", name);
      assert.deepEqual(r.answers, [], name);
      assert.equal(r.authority[0].type, "SOA", name);
    }
  });
});

describe("resolv.conf and the resolver walk", () => {
  it("ClusterFirst: search <ns>.svc, svc, zone; the DNS Service; ndots:5", () => {
    assert.equal(
      formatResolvConf(podResolvConf(state, pod(state, "shop", "client"))),
      `search shop.svc.${Z} svc.${Z} ${Z}\nnameserver 10.96.0.10\noptions ndots:5\n`,
    );
  });

  it("None takes dnsConfig only; dnsConfig merges into ClusterFirst (duplicates dropped, options by name)", () => {
    assert.equal(
      formatResolvConf(podResolvConf(state, pod(state, "shop", "custom"))),
      "search corp.example\nnameserver 10.96.0.10\nnameserver 192.0.2.53\noptions ndots:2 edns0\n",
    );
    assert.equal(
      formatResolvConf(podResolvConf(state, pod(state, "shop", "merged"))),
      `search shop.svc.${Z} svc.${Z} ${Z} corp.example\nnameserver 10.96.0.10\nnameserver 192.0.2.53\noptions ndots:1\n`,
    );
  });

  it("hostNetwork: ClusterFirst falls back to Default (the node's, empty); ClusterFirstWithHostNet keeps the cluster DNS", () => {
    const agent = podResolvConf(state, pod(state, "shop", "agent"));
    assert.equal(agent.policy, "Default");
    assert.equal(formatResolvConf(agent), "");
    assert.match(agent.notes.join(), /falls back to Default/);
    assert.equal(podResolvConf(state, pod(state, "shop", "agent-cluster")).nameservers[0], "10.96.0.10");
  });

  it("fewer dots than ndots: the search list first, the name as is last; enough dots: as is first; a final dot: once", () => {
    const rc = podResolvConf(state, pod(state, "shop", "client"));
    assert.deepEqual(candidates(rc, "web").names, [
      `web.shop.svc.${Z}.`,
      `web.svc.${Z}.`,
      `web.${Z}.`,
      "web.",
    ]);
    assert.deepEqual(candidates(rc, "a.b.c.d.e").names[0], `a.b.c.d.e.shop.svc.${Z}.`);
    assert.deepEqual(candidates(rc, "a.b.c.d.e.f").names[0], "a.b.c.d.e.f.");
    assert.deepEqual(candidates(rc, "web.shop.svc.cluster.local.").names, ["web.shop.svc.cluster.local."]);
  });

  it("api.example.com costs four queries from a ClusterFirst pod and gets no address", () => {
    const r = resolve(state, zone, pod(state, "shop", "client"), "api.example.com");
    assert.deepEqual(
      r.queries.map((q) => `${q.name} ${q.answer.rcode}`),
      [
        `api.example.com.shop.svc.${Z}. NXDOMAIN`,
        `api.example.com.svc.${Z}. NXDOMAIN`,
        `api.example.com.${Z}. NXDOMAIN`,
        "api.example.com. REFUSED",
      ],
    );
    assert.equal(r.result, undefined);
  });

  it("web resolves on the first query; web.shop on the second; a refusing server is followed by the next one", () => {
    const client = pod(state, "shop", "client");
    assert.equal(resolve(state, zone, client, "web").queries.length, 1);
    const two = resolve(state, zone, client, "web.shop");
    assert.equal(two.queries.length, 2);
    assert.equal(two.result?.answer.answers[0].data, svcIP("web"));
    const custom = resolve(state, zone, pod(state, "shop", "custom"), "example.org");
    assert.deepEqual(
      custom.queries.map((q) => `${q.name}@${q.nameserver} ${q.answer.rcode}`),
      [
        "example.org.corp.example.@10.96.0.10 REFUSED",
        "example.org.corp.example.@192.0.2.53 SERVFAIL",
        "example.org.@10.96.0.10 REFUSED",
        "example.org.@192.0.2.53 SERVFAIL",
      ],
    );
  });

  it("bad dnsPolicy and dnsConfig are errors with their position", () => {
    const base = (spec: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c}]\n${spec}`;
    assert.match(
      errors(base("  dnsPolicy: Cluster\n")).join(),
      /test\.yaml:6:14: .*"Cluster" is not one of ClusterFirst/,
    );
    assert.match(errors(base("  dnsPolicy: None\n")).join(), /dnsPolicy None needs at least one nameserver/);
    assert.match(
      errors(base("  dnsConfig:\n    nameservers: [1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4]\n")).join(),
      /4 nameservers: at most 3/,
    );
    assert.match(
      errors(base("  dnsConfig:\n    searches: [bad_domain]\n")).join(),
      /test\.yaml:7:16: .*bad_domain/,
    );
  });
});

describe("resolve on the network: the query must reach a DNS pod, as in trace", () => {
  const REACH = "test/fixtures/dns/reach.yaml";
  const reachText = readFileSync(REACH, "utf8");
  const net = new Network(cluster({ [REACH]: reachText }));
  const from = (name: string, q = "web") => resolveFrom(net, pod(net.state, "app", name), q);

  it("allowed: the query is delivered to a CoreDNS pod and the name resolves", () => {
    const r = from("free");
    assert.equal(r.exchange?.reaches, true);
    assert.equal(r.exchange?.query.verdict, "delivered");
    assert.match(r.exchange!.query.reason, /container coredns of pod kube-system\/coredns-/);
    assert.equal(r.result?.answer.answers[0].data, svcIPIn(net, "app", "web"));
  });

  it("denied by the pod's egress policy: no answer (TIMEOUT), the walk stops, the policy and hop named", () => {
    const r = from("locked");
    assert.equal(r.exchange?.reaches, false);
    assert.equal(r.result, undefined);
    assert.deepEqual(
      r.queries.map((q) => `${q.name} ${q.answer.rcode}`),
      ["web.app.svc.cluster.local. TIMEOUT"],
      "glibc's res_search gives up after a nameserver that does not answer",
    );
    assert.equal(r.exchange?.query.policy?.egress?.allowed, false);
    assert.match(r.exchange!.why, /is dropped at node \S+: NetworkPolicy egress .*app\/no-egress/);
    // Every name fails alike, whatever the zone would have said.
    assert.equal(from("locked", "nope").queries[0].answer.rcode, "TIMEOUT");
  });

  it("a destination name for trace and explain: resolveFrom's resolution, its address, or why not", () => {
    const free = pod(net.state, "app", "free");
    const locked = pod(net.state, "app", "locked");
    for (const notName of ["app/web", "node/n1:80", "10.96.0.10:53", ""])
      assert.equal(resolveDestinationName(net, free, notName), undefined, notName);
    const ok = resolveDestinationName(net, free, "web:http")!;
    assert.ok(ok.resolved);
    assert.equal(ok.address, svcIPIn(net, "app", "web"));
    assert.equal(ok.port, "http");
    assert.deepEqual(ok.resolution, from("free"), "the same resolution as resolve's");
    const blocked = resolveDestinationName(net, locked, "web")!;
    assert.ok(!blocked.resolved);
    assert.deepEqual(blocked.resolution, from("locked"));
    assert.match(
      blocked.reason,
      /^the name cannot be resolved: the DNS query does not arrive \(dropped: NetworkPolicy egress denied: .*app\/no-egress.*\), so no connection is made$/,
    );
    const nx = resolveDestinationName(net, free, "nope.app")!;
    assert.ok(!nx.resolved);
    assert.match(nx.reason, /^"nope\.app" does not resolve from app\/free \(4 queries, the last \w+: /);
  });

  it("denied by CoreDNS's ingress policy: no answer, the DNS pod and its policy named", () => {
    const r = from("outsider");
    assert.equal(r.result, undefined);
    assert.equal(r.queries[0].answer.rcode, "TIMEOUT");
    assert.equal(r.exchange?.query.policy?.ingress?.allowed, false);
    assert.match(
      r.exchange!.why,
      /is dropped at pod kube-system\/coredns-\S+: NetworkPolicy ingress .*kube-system\/dns-clients/,
    );
    assert.deepEqual(
      r.exchange?.endpoints.map((e) => e.reaches),
      [false, false],
      "both DNS endpoints refuse it",
    );
  });

  it("no DNS endpoint: kube-proxy rejects the query (REJECTED); a Pending pod sends nothing", () => {
    const empty = new Network(cluster({ [REACH]: reachText.replace("replicas: 2", "replicas: 0") }));
    const r = resolveFrom(empty, pod(empty.state, "app", "free"), "web");
    assert.equal(r.result, undefined);
    assert.deepEqual(
      r.queries.map((q) => q.answer.rcode),
      ["REJECTED"],
    );
    assert.match(r.exchange!.why, /rejected at node \S+: Service kube-system\/kube-dns:dns has no endpoints/);
    const pending = new Network(
      cluster({
        [REACH]: `${reachText}---\napiVersion: v1\nkind: Pod\nmetadata: {name: waiting, namespace: app}\nspec: {nodeSelector: {nowhere: "true"}, containers: [{name: c}]}\n`,
      }),
    );
    const w = resolveFrom(pending, pod(pending.state, "app", "waiting"), "web");
    assert.deepEqual(w.queries, []);
    assert.match(
      w.why,
      // The scheduler's reason, as `check` reports it.
      /^pod app\/waiting has no address \(it is Pending: 0\/2 nodes are available: 2 node\(s\) didn't match Pod's node selector \(nowhere=true\)\): it sends no query$/,
    );
  });

  it("one DNS endpoint refuses the pod, the other takes it: the name resolves there, and the reason says some lookups fail", () => {
    // Policies add up: CoreDNS's client policy now selects replica a only, and b admits nobody.
    const split = `${reachText
      .replace("replicas: 2", "replicas: 0")
      .replace(
        "podSelector: {matchLabels: {k8s-app: kube-dns}}",
        "podSelector: {matchLabels: {replica: a}}",
      )}---
apiVersion: v1
kind: Pod
metadata: {name: coredns-a, namespace: kube-system, labels: {k8s-app: kube-dns, replica: a}}
spec: {nodeName: node-1, containers: [{name: coredns, ports: [{containerPort: 53, protocol: UDP}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns-b, namespace: kube-system, labels: {k8s-app: kube-dns, replica: b}}
spec: {nodeName: node-2, containers: [{name: coredns, ports: [{containerPort: 53, protocol: UDP}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-serves-nobody, namespace: kube-system}
spec: {podSelector: {matchLabels: {replica: b}}, policyTypes: [Ingress]}
`;
    // More clients, so that kube-proxy's pick (by source port) sends some of them to b.
    const clients = ["c1", "c2", "c3", "c4", "c5", "c6"];
    const more = clients
      .map(
        (c) =>
          `---\napiVersion: v1\nkind: Pod\nmetadata: {name: ${c}, namespace: app}\nspec: {containers: [{name: c}]}\n`,
      )
      .join("");
    const n = new Network(cluster({ [REACH]: split + more }));
    let partial = 0;
    for (const name of ["free", "web", ...clients]) {
      const r = resolveFrom(n, pod(n.state, "app", name), "web");
      assert.equal(r.exchange?.reaches, true, name);
      assert.ok(r.result, name);
      assert.match(r.exchange!.query.reason, /pod kube-system\/coredns-a /, name);
      assert.deepEqual(r.exchange?.endpoints.map((e) => e.reaches).sort(), [false, true], name);
      assert.equal(r.exchange!.partial, r.exchange!.why.includes("some of the pod's lookups fail"), name);
      if (r.exchange!.partial) {
        partial++;
        assert.match(
          r.exchange!.why,
          /reaches DNS endpoint \S+ .*; sent to \S+ it is dropped at pod kube-system\/coredns-b: NetworkPolicy ingress .*b-serves-nobody/,
        );
      } else assert.match(r.exchange!.why, /reaches the DNS pod/, name);
    }
    assert.ok(partial > 0, "some client's pick is the endpoint that refuses it");
    assert.equal(resolveFrom(n, pod(n.state, "app", "locked"), "web").exchange?.reaches, false);
  });

  it("glibc's walk: after a refusal from every nameserver the search stops; after SERVFAIL it goes on", () => {
    const client = pod(state, "shop", "client");
    assert.deepEqual(
      resolve(state, zone, client, "a.b.c.d.e.f").queries.map((q) => `${q.name} ${q.answer.rcode}`),
      ["a.b.c.d.e.f. REFUSED"],
    );
  });

  it("resolve and trace --to NAME agree: allowed, denied by egress, denied by ingress on the CoreDNS pod", () => {
    for (const [name, resolves] of [
      ["free", true],
      ["locked", false],
      ["outsider", false],
    ] as const) {
      const r = runPodnet(["resolve", "-f", REACH, "--from", `app/${name}`, "web", "-o", "json"]);
      assert.equal(r.code, resolves ? 0 : 1, `${name}: ${r.err}`);
      const resolved = JSON.parse(r.out);
      const t = runPodnet(["trace", "-f", REACH, "--from", `app/${name}`, "--to", "web:http", "-o", "json"]);
      const traced = JSON.parse(t.out);
      assert.equal(traced.dns.query.verdict, resolved.exchange.query.verdict, name);
      assert.equal(traced.dns.query.reason, resolved.exchange.query.reason, name);
      assert.deepEqual(traced.dns.query.hops, resolved.exchange.query.hops, name);
      assert.equal(traced.dns.query.verdict === "delivered", resolves, name);
      const text = runPodnet(["trace", "-f", REACH, "--from", `app/${name}`, "--to", "web:http"]).out;
      if (resolves) assert.match(text, /trace TCP app\/free → web = /);
      else {
        assert.match(text, /the name cannot be resolved: the DNS query does not arrive/);
        assert.doesNotMatch(text, /trace TCP/);
        const said = runPodnet(["resolve", "-f", REACH, "--from", `app/${name}`, "web"]).out;
        assert.match(
          said,
          /the DNS query does not arrive: the DNS query to 10\.96\.0\.10:53\/UDP is dropped/,
        );
        assert.ok(said.includes(resolved.exchange.query.reason), "the same reason in both");
        assert.ok(text.includes(resolved.exchange.query.reason), "the same reason in both");
      }
    }
  });
});

describe("the DNS server on the wire", () => {
  let server: RunningServer;
  before(async () => {
    server = await listenDns("127.0.0.1", 0, () => zone);
  });
  after(async () => {
    await server.close();
  });

  const ask = (msg: Buffer): Promise<Buffer | undefined> =>
    new Promise((done) => {
      const s = dgram.createSocket("udp4");
      const timer = setTimeout(() => {
        s.close();
        done(undefined);
      }, 1000);
      s.on("message", (m) => {
        clearTimeout(timer);
        s.close();
        done(m);
      });
      s.send(msg, server.port, "127.0.0.1");
    });
  const askTcp = (msgs: Buffer[]): Promise<Buffer[]> =>
    new Promise((done, fail) => {
      const out: Buffer[] = [];
      let buf = Buffer.alloc(0);
      const c = net.connect(server.port, "127.0.0.1", () => {
        for (const m of msgs) {
          const framed = Buffer.alloc(2 + m.length);
          framed.writeUInt16BE(m.length, 0);
          m.copy(framed, 2);
          c.write(framed);
        }
      });
      c.setTimeout(2000, () => c.destroy(new Error("timeout")));
      c.on("error", fail);
      c.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
        if (out.length === msgs.length) {
          c.end();
          done(out);
        }
      });
    });
  const query = (name: string, type: string, extra: Partial<packet.Packet> = {}) =>
    Buffer.from(
      packet.encode({
        type: "query",
        id: 4242,
        flags: packet.RECURSION_DESIRED,
        questions: [{ type, name } as packet.Question],
        ...extra,
      }),
    );

  it("Node's resolver (c-ares) gets A, SRV and TXT answers and NXDOMAIN", async () => {
    const r = new Resolver({ timeout: 1000, tries: 1 });
    r.setServers([`127.0.0.1:${server.port}`]);
    assert.deepEqual(await r.resolve4(`web.shop.svc.${Z}`), [svcIP("web")]);
    assert.deepEqual((await r.resolveSrv(`_pg._tcp.db.shop.svc.${Z}`)).length, 3);
    assert.deepEqual(await r.resolveTxt(`dns-version.${Z}`), [["1.1.0"]]);
    await assert.rejects(r.resolve4(`nope.shop.svc.${Z}`), /ENOTFOUND/);
    assert.deepEqual(await r.reverse(svcIP("web")), [`web.shop.svc.${Z}`]);
  });

  it("UDP: the id, the question and AA come back; NXDOMAIN carries the SOA", async () => {
    const raw = (await ask(query(`nope.shop.svc.${Z}`, "A")))!;
    const res = packet.decode(raw);
    assert.equal(res.id, 4242);
    assert.equal(rcodeOf(raw), "NXDOMAIN");
    assert.equal(res.flag_aa, true);
    assert.equal(res.flag_rd, true);
    assert.equal(res.questions?.[0].name, `nope.shop.svc.${Z}`);
    assert.equal(res.authorities?.[0].type, "SOA");
  });

  it("too large for 512 bytes: TC over UDP, whole over TCP; EDNS0 raises the limit", async () => {
    // A headless Service with 40 endpoints: 40 A records do not fit in 512 bytes.
    const pods = Array.from(
      { length: 40 },
      (_, i) =>
        `apiVersion: v1\nkind: Pod\nmetadata: {name: m${i}, namespace: default, labels: {app: many}}\nspec: {containers: [{name: c}]}\n`,
    ).join("---\n");
    const big = new ClusterZone(
      cluster(
        `${pods}---\napiVersion: v1\nkind: Service\nmetadata: {name: many, namespace: default}\nspec: {clusterIP: None, selector: {app: many}, ports: [{port: 80}]}\n`,
      ),
    );
    const s = await listenDns("127.0.0.1", 0, () => big);
    try {
      const q = query(`many.default.svc.${Z}`, "A");
      const udpAnswer = await new Promise<Buffer>((done) => {
        const c = dgram.createSocket("udp4");
        c.on("message", (m) => {
          c.close();
          done(m);
        });
        c.send(q, s.port, "127.0.0.1");
      });
      const udp = packet.decode(udpAnswer);
      assert.equal(udp.flag_tc, true);
      assert.equal(udp.answers?.length, 0);
      assert.ok(udpAnswer.length <= 512);
      const viaTcp = respond(big, q, "tcp");
      assert.equal(packet.decode(viaTcp.response!).answers?.length, 40);
      const edns = query(`many.default.svc.${Z}`, "A", {
        additionals: [
          { name: ".", type: "OPT", udpPayloadSize: 4096, flags: 0, options: [] } as unknown as packet.Answer,
        ],
      });
      const big4096 = packet.decode(respond(big, edns, "udp").response!);
      assert.equal(big4096.flag_tc, false);
      assert.equal(big4096.answers?.length, 40);
      const opt = big4096.additionals?.find((a) => a.type === "OPT") as packet.OptAnswer | undefined;
      assert.equal(opt?.udpPayloadSize, 1232, "the server advertises its own size");
    } finally {
      await s.close();
    }
  });

  it("TCP: several length-prefixed queries on one connection, answered in order", async () => {
    const answers = await askTcp([query(`web.shop.svc.${Z}`, "A"), query(`db.shop.svc.${Z}`, "A")]);
    assert.deepEqual(
      answers.map((a) => packet.decode(a).answers?.length),
      [1, 3],
    );
  });

  it("not a query: NOTIMP for other opcodes, FORMERR for two questions or an unparsable body, REFUSED for class CH, BADVERS for EDNS 1", () => {
    const notify = query(`web.shop.svc.${Z}`, "A");
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2);
    assert.equal(rcodeOf(respond(zone, notify, "udp").response!), "NOTIMP");
    const two = Buffer.from(
      packet.encode({
        type: "query",
        id: 1,
        questions: [
          { type: "A", name: "a.cluster.local" },
          { type: "A", name: "b.cluster.local" },
        ],
      }),
    );
    assert.equal(rcodeOf(respond(zone, two, "udp").response!), "FORMERR");
    assert.equal(rcodeOf(respond(zone, two.subarray(0, 20), "udp").response!), "FORMERR");
    const chaos = Buffer.from(
      packet.encode({
        type: "query",
        id: 1,
        questions: [{ type: "TXT", name: "version.bind", class: "CH" }],
      }),
    );
    assert.equal(rcodeOf(respond(zone, chaos, "udp").response!), "REFUSED");
    const v1 = query(`web.shop.svc.${Z}`, "A", {
      additionals: [
        { name: ".", type: "OPT", udpPayloadSize: 1232, flags: 0, options: [] } as unknown as packet.Answer,
      ],
    });
    v1[v1.length - 5] = 1; // the OPT record's EDNS version byte
    const bad = respond(zone, v1, "udp");
    assert.match(bad.summary, /BADVERS/);
    assert.equal(
      (packet.decode(bad.response!).additionals?.[0] as unknown as { extendedRcode?: number } | undefined)
        ?.extendedRcode,
      1,
    );
    assert.equal(
      respond(zone, Buffer.from([1, 2, 3]), "udp").response,
      undefined,
      "shorter than a header: dropped",
    );
    const reply = Buffer.from(respond(zone, query(`web.shop.svc.${Z}`, "A"), "udp").response!);
    assert.equal(respond(zone, reply, "udp").response, undefined, "a response is never answered");
  });

  it("survives fuzzed packets (truncated headers, bad label lengths, compression loops, huge counts) and still answers", async () => {
    const rand = prng(6);
    const valid = query(`web.shop.svc.${Z}`, "A");
    const cases: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const kind = i % 6;
      let b: Buffer;
      if (kind === 0)
        b = valid.subarray(0, Math.floor(rand() * valid.length)); // cut anywhere
      else if (kind === 1) {
        b = Buffer.from(valid);
        for (let k = 0; k < 1 + Math.floor(rand() * 6); k++)
          b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      } else if (kind === 2) {
        b = Buffer.from(valid);
        b[12] = 0x3f + Math.floor(rand() * 0xc0); // a label length past the end, or a pointer
      } else if (kind === 3) {
        // compression loops: a pointer to itself, and two pointers to each other
        b = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
        if (rand() < 0.5)
          b = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1]);
      } else if (kind === 4) {
        b = Buffer.from(valid);
        for (const at of [4, 6, 8, 10]) b.writeUInt16BE(Math.floor(rand() * 65536), at); // huge counts
      } else
        b = Buffer.from(Array.from({ length: Math.floor(rand() * 600) }, () => Math.floor(rand() * 256)));
      cases.push(b);
    }
    // CPU time, not wall-clock: a loaded machine must not fail a bound that is about the parser.
    const c0 = process.cpuUsage();
    for (const b of cases) {
      const out = respond(zone, b, "udp");
      if (out.response) assert.ok(out.response.length >= 12 && out.response.length <= 512);
    }
    const used = process.cpuUsage(c0);
    assert.ok((used.user + used.system) / 1000 < 5000, "3000 bad packets in well under 5 s of CPU");
    for (const b of cases.slice(0, 300)) (await ask(b)) ?? undefined;
    const tcpGarbage = await new Promise<void>((done) => {
      const c = net.connect(server.port, "127.0.0.1", () =>
        c.write(Buffer.from([0, 5, 1, 2, 3, 4, 5, 0, 3, 9])),
      );
      c.on("close", () => done());
      c.on("error", () => done());
      c.setTimeout(3000, () => c.destroy());
    });
    assert.equal(tcpGarbage, undefined);
    const still = packet.decode((await ask(query(`web.shop.svc.${Z}`, "A")))!);
    assert.equal((still.answers?.[0] as { data?: unknown } | undefined)?.data, svcIP("web"));
  });

  it("with an upstream: names outside the zone are relayed (UDP and TCP), cluster names stay local, a silent upstream is SERVFAIL", async () => {
    // A stand-in upstream on loopback: example.com A 192.0.2.1, over UDP and TCP.
    const answerOf = (q: Buffer) => {
      const d = packet.decode(q);
      return Buffer.from(
        packet.encode({
          id: d.id,
          type: "response",
          flags: packet.RECURSION_AVAILABLE,
          questions: d.questions,
          answers: [{ name: d.questions![0].name, type: "A", ttl: 60, class: "IN", data: "192.0.2.1" }],
        }),
      );
    };
    const up = dgram.createSocket("udp4");
    up.on("message", (m, r) => up.send(answerOf(m), r.port, r.address));
    await new Promise<void>((done) => up.bind(0, "127.0.0.1", () => done()));
    const upPort = up.address().port;
    const upTcp = net.createServer((c) =>
      c.on("data", (d) =>
        c.write(Buffer.concat([Buffer.from([0, answerOf(d.subarray(2)).length]), answerOf(d.subarray(2))])),
      ),
    );
    await new Promise<void>((done) => upTcp.listen(upPort, "127.0.0.1", () => done()));
    const silent = dgram.createSocket("udp4");
    await new Promise<void>((done) => silent.bind(0, "127.0.0.1", () => done()));
    const relaying = await listenDns("127.0.0.1", 0, () => zone, undefined, {
      host: "127.0.0.1",
      port: upPort,
    });
    const deaf = await listenDns("127.0.0.1", 0, () => zone, undefined, {
      host: "127.0.0.1",
      port: silent.address().port,
    });
    const udpAsk = (port: number, msg: Buffer) =>
      new Promise<Buffer>((done) => {
        const c = dgram.createSocket("udp4");
        c.on("message", (m) => {
          c.close();
          done(m);
        });
        c.send(msg, port, "127.0.0.1");
      });
    try {
      const viaUdp = packet.decode(await udpAsk(relaying.port, query("example.com", "A")));
      assert.equal(viaUdp.id, 4242);
      assert.equal((viaUdp.answers?.[0] as { data?: unknown } | undefined)?.data, "192.0.2.1");
      const r = new Resolver({ timeout: 3000, tries: 1 });
      r.setServers([`127.0.0.1:${relaying.port}`]);
      assert.deepEqual(await r.resolve4(`web.shop.svc.${Z}`), [svcIP("web")], "cluster names answered here");
      const tcp = await new Promise<Buffer>((done, fail) => {
        const c = net.connect(relaying.port, "127.0.0.1", () => {
          const q = query("example.com", "A");
          c.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]));
        });
        c.on("data", (d) => {
          c.destroy();
          done(d.subarray(2));
        });
        c.on("error", fail);
      });
      assert.equal((packet.decode(tcp).answers?.[0] as { data?: unknown } | undefined)?.data, "192.0.2.1");
      // Reverse names: a record the zone holds is answered here, whatever the address; one it has
      // no answer for falls through to the upstream (kubeadm's `fallthrough in-addr.arpa`).
      const local = packet.decode(await udpAsk(relaying.port, query("10.2.0.192.in-addr.arpa", "PTR")));
      assert.equal(
        (local.answers?.[0] as { data?: unknown } | undefined)?.data,
        `192-0-2-10.legacy.shop.svc.${Z}`,
      );
      for (const name of ["4.3.2.1.in-addr.arpa", "250.250.96.10.in-addr.arpa"]) {
        const relayed = packet.decode(await udpAsk(relaying.port, query(name, "PTR")));
        assert.equal((relayed.answers?.[0] as { data?: unknown } | undefined)?.data, "192.0.2.1", name);
      }
      const t0 = performance.now();
      const failed = await udpAsk(deaf.port, query("example.com", "A"));
      assert.equal(rcodeOf(failed), "SERVFAIL");
      assert.equal(packet.decode(failed).questions?.[0].name, "example.com");
      assert.ok(performance.now() - t0 >= 1900, "after the 2 s upstream timeout");
    } finally {
      await relaying.close();
      await deaf.close();
      up.close();
      silent.close();
      upTcp.close();
    }
  });

  for (const tool of ["dig", "kdig"]) {
    const missing = spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0;
    const why = `needs ${tool} (Debian package ${tool === "dig" ? "dnsutils" : "knot-dnsutils"})`;
    const skip = missing && process.env.CI !== "true" ? why : false;
    it(`${tool}: A, SRV, PTR, NXDOMAIN, and +tcp`, { skip }, async () => {
      assert.ok(!missing, `${why}; a client test cannot be skipped under CI=true`);
      const run = (args: string[]) =>
        new Promise<string>((done) => {
          const limits = tool === "dig" ? ["+time=2", "+tries=1"] : ["+timeout=2", "+retry=0"];
          const p = spawn(tool, ["@127.0.0.1", "-p", String(server.port), ...limits, ...args]);
          let out = "";
          p.stdout.on("data", (d) => {
            out += d;
          });
          p.on("close", () => done(out));
        });
      assert.equal((await run(["+short", `web.shop.svc.${Z}`])).trim(), svcIP("web"));
      assert.equal((await run(["+short", "+tcp", `web.shop.svc.${Z}`])).trim(), svcIP("web"));
      assert.equal(
        (await run(["+short", "SRV", `_http._tcp.web.shop.svc.${Z}`])).trim(),
        `0 100 80 web.shop.svc.${Z}.`,
      );
      assert.equal((await run(["+short", "-x", svcIP("web")])).trim(), `web.shop.svc.${Z}.`);
      assert.match(await run([`nope.shop.svc.${Z}`]), /status: NXDOMAIN/);
    });
  }
});

describe("the CLI", () => {
  const podnet = (args: string[]) => runPodnet(args);
  const from = (() => {
    const shop = loadCluster({ files: ["examples/shop"] });
    assert.ok(shop.ok);
    return `shop/${shop.cluster.pods.find((p) => p.metadata.name.startsWith("frontend-"))!.metadata.name}`;
  })();

  it("resolve: the queries and the answer; exit 1 when the name does not resolve; -o json", () => {
    const ok = podnet(["resolve", "-f", "examples/shop", "--from", from, "cart"]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(
      ok.out,
      /^resolv\.conf of shop\/frontend-.* \(dnsPolicy ClusterFirst\):\n {2}search shop\.svc\.cluster\.local/,
    );
    assert.match(ok.out, /1\. cart\.shop\.svc\.cluster\.local\. A @10\.96\.0\.10 → NOERROR: A 10\./);
    assert.match(ok.out, /\ncart → A 10\.\S+ \(1 query\)\n$/);
    const no = podnet(["resolve", "-f", "examples/shop", "--from", from, "api.example.com"]);
    assert.equal(no.code, 1);
    assert.match(no.out, /4\. api\.example\.com\. A @10\.96\.0\.10 → REFUSED/);
    const json = JSON.parse(
      podnet([
        "resolve",
        "-f",
        "examples/shop",
        "--from",
        from,
        "-o",
        "json",
        "--type",
        "SRV",
        "_grpc._tcp.cart",
      ]).out,
    );
    assert.equal(json.result.answer.answers[0].data.port, 7070);
    const bad = podnet(["resolve", "-f", "examples/shop", "--from", "shop/nope", "cart"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /pod "shop\/nope" not found/);
  });

  it("demo: a pod resolving names, query by query; the articles' cluster says it has no DNS Service", () => {
    const shop = podnet(["demo", "-f", "examples/shop"]);
    assert.match(shop.out, /\n\d+\. Names\n/);
    assert.match(
      shop.out,
      /asks for "api\.example\.com": api\.example\.com\.shop\.svc\.cluster\.local\. NXDOMAIN → .* REFUSED\n {4}no address after 4 queries/,
    );
    assert.match(
      shop.out,
      /asks for "[a-z-]+": [a-z-]+\.shop\.svc\.cluster\.local\. NOERROR\n {4}→ 10\.\S+ after 1 query/,
    );
    const articles = podnet(["demo"]).out;
    assert.match(articles, /No Service holds the cluster DNS address 10\.96\.0\.10/);
    // The address plan agrees: no "cluster DNS at" where there is none.
    assert.match(
      articles,
      /Service network \(serviceCIDR\) +10\.96\.0\.0\/12 +no Service at the DNS address 10\.96\.0\.10: no cluster DNS\n/,
    );
    assert.match(
      shop.out,
      /Service network \(serviceCIDR\) +10\.96\.0\.0\/12 +cluster DNS at 10\.96\.0\.10\n/,
    );
  });

  it("dns: --records lists the zone; a bad --listen or --ttl is a usage error", () => {
    const r = podnet(["dns", "-f", "examples/shop", "--records", "--ttl", "30"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^cart\.shop\.svc\.cluster\.local\. 30 IN A 10\./m);
    assert.match(r.out, /^dns-version\.cluster\.local\. 28800 IN TXT "1\.1\.0"$/m);
    assert.equal(podnet(["dns", "-f", "examples/shop", "--listen", "nowhere"]).code, 2);
    assert.match(
      podnet(["dns", "-f", "examples/shop", "--upstream", "dns.example:53"]).err,
      /--upstream "dns\.example:53" is not ADDR:PORT/,
    );
    assert.match(
      podnet(["dns", "-f", "examples/shop", "--ttl", "-1", "--records"]).err,
      /--ttl must be a whole number/,
    );
  });

  it("trace --to NAME: the DNS exchange first, then the connection to the resolved address", () => {
    const r = podnet(["trace", "-f", "examples/shop", "--from", from, "--to", "cart:grpc"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^DNS: shop\/frontend-\S+ resolves the name \(search shop\.svc\.cluster\.local/);
    assert.match(r.out, /trace UDP shop\/frontend-\S+ → cluster DNS 10\.96\.0\.10:53/);
    assert.match(r.out, /delivered: container coredns of pod kube-system\/coredns-/);
    assert.match(r.out, /trace TCP shop\/frontend-\S+ → cart = 10\.\S+:7070/);
    const json = JSON.parse(
      podnet(["trace", "-f", "examples/shop", "--from", from, "--to", "cart:grpc", "-o", "json"]).out,
    );
    assert.equal(json.dns.query.verdict, "delivered");
    assert.equal(json.dns.resolution.queries.length, 1);
    const unknown = podnet(["trace", "-f", "examples/shop", "--from", from, "--to", "nope:80"]);
    // A name that does not resolve fails (its exit code, 1 or 2, and stream are trace's own rule).
    assert.notEqual(unknown.code, 0);
    assert.match(
      unknown.out + unknown.err,
      /"nope" does not resolve from shop\/frontend-\S+ \(4 queries, the last REFUSED/,
    );
  });

  it("trace --to NAME when a policy blocks DNS: the query does not arrive, so no connection; without a DNS Service, names are looked up directly", () => {
    const locked = [
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: locked}\n",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: app, namespace: locked}\nspec: {containers: [{name: c}]}\n",
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: no-egress, namespace: locked}\nspec: {podSelector: {}, policyTypes: [Egress]}\n",
    ].join("---\n");
    const dir = mkdtempSync(join(tmpdir(), "podnet-dnsdeny-"));
    try {
      writeFileSync(join(dir, "locked.yaml"), locked);
      const r = podnet([
        "trace",
        "-f",
        "examples/shop",
        "-f",
        dir,
        "--from",
        "locked/app",
        "--to",
        "cart.shop:grpc",
      ]);
      // Not a usage error; whether a packet that never leaves exits 0 or 1 is trace's own rule.
      assert.notEqual(r.code, 2, r.err);
      assert.match(r.out, /NetworkPolicy egress of pod locked\/app .*denied/);
      assert.match(
        r.out,
        /the name cannot be resolved: the DNS query does not arrive\b.*, so no connection is made/,
      );
      assert.doesNotMatch(r.out, /trace TCP/);
      // The articles' cluster has no DNS Service: names are looked up directly (as before DNS).
      const none = podnet([
        "trace",
        "-f",
        "examples/articles",
        "--from",
        "default/pod1",
        "--to",
        "service1.default:80",
      ]);
      assert.equal(none.code, 0, none.err);
      assert.doesNotMatch(none.out, /DNS:/);
      assert.match(none.out, /^trace TCP default\/pod1 → Service default\/service1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
