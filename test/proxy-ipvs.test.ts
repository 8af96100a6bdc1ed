/**
 * kube-proxy's IPVS mode (src/core/proxy/modes/ipvs.ts): the state it prints for a node held to the
 * IPVS proxier's own unit tests (test/cases/ipvs-upstream.ts), packets judged by the model and by
 * the evaluator over the printed state, the scheduler and affinity, graceful termination, the
 * Service addresses bound to kube-ipvs0 as the trace sees them, and bad input.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DataplaneRefused, planCluster } from "../src/core/dataplane/plan.ts";
import { formatIPv4, parseIPv4 } from "../src/core/net/ipv4.ts";
import { parseIpvsState } from "../src/core/proxy/ipvs/eval.ts";
import { proxyMode } from "../src/core/proxy/modes/registry.ts";
import type { ProxyPacket } from "../src/core/proxy/service-proxy.ts";
import { Network } from "../src/core/sim/network.ts";
import { resolveDestination, resolveSource } from "../src/core/sim/targets.ts";
import { trace } from "../src/core/sim/trace.ts";
import { IPVS_UPSTREAM_CASES, slice, upstreamCluster } from "./cases/ipvs-upstream.ts";
import { flowCluster } from "./cases/packet-flows.ts";
import { cluster, errors, runPodnet } from "./helpers.ts";

const ipvs = proxyMode("ipvs");

/** The printed state of node `test-node`, read back. */
function stateOf(yaml: string) {
  const state = cluster(yaml);
  const node = state.nodes.find((n) => n.name === "test-node")!;
  const text = ipvs.render(state, node);
  return { state, node, text, parsed: parseIpvsState(text) };
}

/** A packet's fate as the model and as the evaluator over the printed state see it. */
function judge(
  net: Network,
  rules: Network,
  nodeName: string,
  from: string,
  to: string,
  protocol: "TCP" | "UDP" | "SCTP",
) {
  const node = net.state.nodes.find((n) => n.name === nodeName)!;
  const [ip, port] = to.split(":");
  const dst = parseIPv4(ip)!;
  const src =
    from === "pod" ? parseIPv4("10.244.0.5")! : from === "node" ? node.ip : parseIPv4("203.0.113.7")!;
  const p: ProxyPacket = {
    node,
    src,
    sport: 40000,
    dst,
    dport: Number(port),
    protocol,
    fromHost: from === "node",
    toLocalAddress: net.isNodeAddress(node, dst),
  };
  return [net.proxy.decide(p), rules.decider.decide(p)].map((r) => ({
    kind: r.kind,
    endpoints: r.kind === "dnat" ? r.candidates.map((e) => `${formatIPv4(e.ip)}:${e.port}`).sort() : [],
    masquerade: r.kind === "dnat" ? r.serviceMasquerade : false,
  }));
}

describe("IPVS mode held to kube-proxy's IPVS proxier tests (pkg/proxy/ipvs/proxier_test.go)", () => {
  for (const c of IPVS_UPSTREAM_CASES) {
    it(c.name, () => {
      const { state, node, parsed } = stateOf(upstreamCluster(c.objects));
      // Virtual servers of ns1/svc1: the expected ones, plus each nodePort one again on every other
      // local address of the node (upstream: all local addresses but kube-ipvs0's).
      const expected = new Map(Object.entries(c.virtualServers));
      const others = new Network(state).proxy.nodePortIPs(node);
      assert.equal(others, "all");
      for (const [key, real] of Object.entries(c.virtualServers)) {
        const m = /^(\S+) 100\.101\.102\.103:(\d+)$/.exec(key);
        if (m) expected.set(`${m[1]} 10.244.0.1:${m[2]}`, real);
      }
      const actual = new Map(
        [...parsed.servers.values()]
          .filter((vs) => vs.service.startsWith("ns1/svc1"))
          .map((vs) => [vs.key, vs.real.map((r) => `${formatIPv4(r.ip)}:${r.port}/${r.weight}`)]),
      );
      assert.deepEqual(actual, expected);
      for (const vs of parsed.servers.values()) assert.equal(vs.scheduler, "rr");
      for (const [name, members] of Object.entries(c.sets ?? {}))
        assert.deepEqual([...parsed.sets.get(name)!.members].sort(), [...members].sort(), name);
      for (const [chain, rules] of Object.entries(c.chains ?? {})) {
        const seen: string[] = [];
        for (const table of ["nat", "filter"])
          for (const r of parsed.tables.get(table)?.get(chain) ?? []) {
            const j = r.args.indexOf("-j");
            const s = r.args.indexOf("--match-set");
            seen.push(`${r.args[j + 1]} ${s >= 0 ? r.args[s + 1] : ""}`);
          }
        assert.deepEqual(seen, rules, chain);
      }
      const net = new Network(state);
      const rules = new Network(state, { proxy: "rules" });
      for (const p of c.packets ?? []) {
        const [model, evaluator] = judge(net, rules, "test-node", p.from, p.to, p.protocol);
        const want = {
          kind: p.endpoints.length > 0 ? "dnat" : "reject",
          endpoints: p.endpoints,
          masquerade: p.masquerade,
        };
        assert.deepEqual(model, want, `model: ${p.from} → ${p.to}`);
        assert.deepEqual(evaluator, want, `rules: ${p.from} → ${p.to}`);
      }
    });
  }
});

describe("the IPVS mode's differences, as kube-proxy has them", () => {
  it("names them as properties the model reads", () => {
    // syncProxyRules: nodePortAddresses unset = every local address but kube-ipvs0's, never loopback.
    assert.equal(ipvs.nodePortAddressesDefault, "all");
    assert.equal(ipvs.localhostNodePorts, false);
    // ip_vs_leave answers ICMP port unreachable for a virtual server without real servers, on output too.
    assert.equal(ipvs.checksExternalEndpointsOnOutput, true);
    // No rule guards serviceCIDR; KUBE-IPVS-FILTER guards the bound addresses instead.
    assert.equal(ipvs.guardsServiceRange, false);
    assert.equal(ipvs.bindsServiceAddresses, true);
    // syncEndpoint: Local policies fall back to every endpoint (PR 97081).
    assert.equal(ipvs.localPolicy, "local-else-cluster");
    assert.ok(ipvs.dataplane.unsupported);
    assert.equal(proxyMode("nftables").dataplane.unsupported, undefined);
    assert.equal(proxyMode("iptables").dataplane.unsupported, undefined);
  });
});

describe("IPVS virtual servers: scheduler, persistence, graceful termination", () => {
  const objects = (spec: string, ...eps: string[]) =>
    `---\napiVersion: v1\nkind: Service\nmetadata: {name: svc1, namespace: ns1}\nspec:\n  clusterIP: 10.20.30.41\n${spec}  ports: [{name: p80, port: 80, protocol: TCP}]\n${slice("TCP", ...eps)}`;

  it("kubeProxy.ipvs.scheduler names every virtual server's scheduler; mh adds the source-port flag", () => {
    for (const scheduler of ["lc", "sh", "mh"]) {
      const { text } = stateOf(
        upstreamCluster(objects("", "10.180.0.1"), `\n  kubeProxy: {ipvs: {scheduler: ${scheduler}}}`),
      );
      const flag = scheduler === "mh" ? " -b mh-port" : "";
      assert.match(text, new RegExp(`^-A -t 10\\.20\\.30\\.41:80 -s ${scheduler}${flag}$`, "m"));
    }
  });

  it("an empty scheduler is kube-proxy's default rr (proxier.go: len(scheduler) == 0 → defaultScheduler)", () => {
    const { text } = stateOf(
      upstreamCluster(objects("", "10.180.0.1"), `\n  kubeProxy: {ipvs: {scheduler: ""}}`),
    );
    assert.match(text, /^-A -t 10\.20\.30\.41:80 -s rr$/m);
  });

  it("ClientIP affinity is persistence with its timeout (10800 s unless sessionAffinityConfig says)", () => {
    const sticky = stateOf(upstreamCluster(objects("  sessionAffinity: ClientIP\n", "10.180.0.1")));
    assert.match(sticky.text, /^-A -t 10\.20\.30\.41:80 -s rr -p 10800$/m);
    const timed = stateOf(
      upstreamCluster(
        objects(
          "  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}\n",
          "10.180.0.1",
        ),
      ),
    );
    assert.match(timed.text, /^-A -t 10\.20\.30\.41:80 -s rr -p 60$/m);
  });

  it("a terminating endpoint stays as a real server of weight 0 while ready ones take the traffic", () => {
    const y = upstreamCluster(objects("", "10.180.0.1")).replace(
      "  - {addresses: [10.180.0.1]}",
      "  - {addresses: [10.180.0.1]}\n  - {addresses: [10.180.0.2], conditions: {ready: false, serving: true, terminating: true}}",
    );
    const { parsed, state } = stateOf(y);
    const vs = parsed.servers.get("-t 10.20.30.41:80")!;
    assert.deepEqual(
      vs.real.map((r) => `${formatIPv4(r.ip)}/${r.weight}`),
      ["10.180.0.1/1", "10.180.0.2/0"],
    );
    // Neither judge sends a new connection to the weight-0 one.
    const [model, rules] = judge(
      new Network(state),
      new Network(state, { proxy: "rules" }),
      "test-node",
      "pod",
      "10.20.30.41:80",
      "TCP",
    );
    assert.deepEqual(model.endpoints, ["10.180.0.1:80"]);
    assert.deepEqual(rules.endpoints, ["10.180.0.1:80"]);
  });

  it("the pick is deterministic: sh and persistence by client address, dh by virtual address — model and rules agree", () => {
    for (const scheduler of ["rr", "sh", "dh"]) {
      const y = upstreamCluster(
        objects("", "10.180.0.1", "10.180.0.2", "10.180.0.3", "10.180.0.4"),
        `\n  kubeProxy: {ipvs: {scheduler: ${scheduler}}}`,
      );
      const state = cluster(y);
      const net = new Network(state);
      const rules = new Network(state, { proxy: "rules" });
      const node = state.nodes[0];
      const chosen = (decider: { decide(p: ProxyPacket): unknown }, src: string, sport: number) => {
        const r = decider.decide({
          node,
          src: parseIPv4(src)!,
          sport,
          dst: parseIPv4("10.20.30.41")!,
          dport: 80,
          protocol: "TCP",
          fromHost: false,
          toLocalAddress: true,
        }) as { kind: string; chosen: { ip: number } };
        assert.equal(r.kind, "dnat");
        return formatIPv4(r.chosen.ip);
      };
      const picks = new Set<string>();
      for (const [src, sport] of [
        ["10.244.0.5", 40000],
        ["10.244.0.5", 40001],
        ["10.244.0.5", 40002],
        ["10.244.1.9", 40000],
        ["10.244.1.7", 41234],
      ] as const) {
        const m = chosen(net.proxy, src, sport);
        assert.equal(chosen(rules.decider, src, sport), m, `${scheduler}: ${src}:${sport}`);
        picks.add(scheduler === "sh" ? `${src}=${m}` : m);
      }
      // dh: one real server for every client; sh: one per client address (3 clients).
      if (scheduler === "dh") assert.equal(picks.size, 1);
      if (scheduler === "sh") assert.equal(picks.size, 3);
    }
  });
});

describe("IPVS: Service addresses are local to every node (kube-ipvs0)", () => {
  const net = new Network(cluster(flowCluster("vxlan", "ipvs")));
  const go = (from: string, to: string, node?: string) => {
    const src = resolveSource(net, from, node);
    assert.ok(src.ok);
    const dst = resolveDestination(net, to);
    assert.ok(dst.ok);
    return trace(
      net,
      { source: src.value, dst: dst.value.ip, dport: dst.value.port, protocol: dst.value.protocol },
      { reply: true },
    );
  };

  it("every ClusterIP, externalIP and LB IP is on kube-ipvs0 of every node; unallocated Service addresses are not", () => {
    for (const name of ["n1", "n2", "n3"]) {
      const node = net.state.nodes.find((n) => n.name === name)!;
      const text = ipvs.render(net.state, node);
      for (const ip of ["10.96.0.50", "192.0.2.80", "198.51.100.1"]) {
        assert.match(text, new RegExp(`^inet ${ip.replaceAll(".", "\\.")}/32 scope global kube-ipvs0$`, "m"));
        assert.ok(net.isNodeAddress(node, parseIPv4(ip)!));
      }
      assert.ok(!net.isNodeAddress(node, parseIPv4("10.96.0.99")!));
    }
  });

  it("an externalIP a node already has stays off that node's kube-ipvs0, and is bound on every other node", () => {
    const y = flowCluster("vxlan", "ipvs").replace("externalIPs: [192.0.2.80]", "externalIPs: [172.18.0.3]");
    const state = cluster(y);
    const n = new Network(state);
    const [n1, n2] = state.nodes;
    const own = parseIPv4("172.18.0.3")!;
    assert.doesNotMatch(ipvs.render(state, n2), /^inet 172\.18\.0\.3\/32/m);
    assert.match(ipvs.render(state, n1), /^inet 172\.18\.0\.3\/32 scope global kube-ipvs0$/m);
    assert.ok(n.proxy.isBoundAddress(n1, own));
    assert.ok(!n.proxy.isBoundAddress(n2, own));
  });

  it("the node's connection to a ClusterIP starts from the ClusterIP itself and is masqueraded; the trace names where IPVS acts", () => {
    const r = go("node/n3", "web.app:http");
    assert.equal(r.verdict, "delivered");
    assert.equal(r.hops[0].packet.src, "10.96.0.50");
    assert.ok(r.hops.some((h) => h.step === "dnat" && h.detail.startsWith("IPVS at output")));
    assert.ok(r.hops.some((h) => h.step === "snat"));
    assert.equal(r.masquerade, true);
    assert.equal(r.reply?.verdict, "delivered", "the reply comes back through conntrack");
  });

  it("a pod's packet meets IPVS on input, after routing; an undefined port of a ClusterIP is rejected by KUBE-IPVS-FILTER", () => {
    const ok = go("app/a", "web.app:http");
    assert.ok(ok.hops.some((h) => h.step === "dnat" && h.detail.startsWith("IPVS after routing, on input")));
    const undefinedPort = go("app/a", "10.96.0.50:81");
    assert.equal(undefinedPort.verdict, "rejected");
    assert.match(undefinedPort.hops.at(-1)!.detail, /KUBE-IPVS-FILTER/);
  });

  it("externalTrafficPolicy Local falling back to another node's endpoint: the reply bypasses the node that translated, so the outside client's connection gets nothing it matches", () => {
    const r = go("203.0.113.7", "172.18.0.3:30081", "n2");
    assert.equal(r.verdict, "delivered");
    assert.equal(r.masquerade, false);
    // No masquerade on the way back (the nat table sees first packets only), and the source is the
    // endpoint's, not the nodePort the client sent to.
    assert.ok(!r.reply!.hops.some((h) => h.step === "snat"), "no CNI masquerade on a reply");
    assert.equal(r.reply?.verdict, "dropped");
    assert.match(r.reply!.reason, /^the reply comes from 10\.244\.0\.4:8080, not from 172\.18\.0\.3:30081/);
  });

  it("nodePorts answer on every node address but never on loopback or a kube-ipvs0 address", () => {
    assert.equal(go("app/a", "172.18.0.2:30080").verdict, "delivered");
    assert.equal(go("node/n1", "10.244.0.1:30080").verdict, "delivered", "cni0's address");
    assert.equal(go("node/n1", "127.0.0.1:30080").verdict, "arrived");
    assert.equal(go("app/a", "10.96.0.50:30080").verdict, "rejected");
  });
});

describe("IPVS bad input", () => {
  const cfg = (spec: string) =>
    `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n${spec}`;

  it("an unknown scheduler is an error at its position naming the schedulers", () => {
    assert.deepEqual(
      errors({ "c.yaml": cfg("  proxyMode: ipvs\n  kubeProxy:\n    ipvs: {scheduler: wlcx}\n") }),
      [
        'c.yaml:7:23: error: Cluster c: spec.kubeProxy.ipvs.scheduler: "wlcx" is not one of rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq, mh\n  fix: use one of rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq, mh',
      ],
    );
  });

  it("IPVS options with another mode are an error with the fix; an unknown IPVS option names the known one", () => {
    assert.deepEqual(
      errors({ "c.yaml": cfg("  proxyMode: iptables\n  kubeProxy:\n    ipvs: {scheduler: lc}\n") }),
      [
        "c.yaml:7:11: error: Cluster c: spec.kubeProxy.ipvs: kubeProxy.ipvs applies to proxyMode ipvs only, but proxyMode is iptables\n  fix: set spec.proxyMode: ipvs, or remove spec.kubeProxy.ipvs",
      ],
    );
    const unknown = errors({
      "c.yaml": cfg("  proxyMode: ipvs\n  kubeProxy:\n    ipvs: {strictARP: true}\n"),
    });
    assert.equal(unknown.length, 1);
    assert.match(
      unknown[0],
      /^c\.yaml:7:23: error: .*spec\.kubeProxy\.ipvs\.strictARP: unknown field "strictARP"/,
    );
  });

  it("the data plane refuses proxyMode ipvs at the field, with the reason and the fix", () => {
    const state = cluster({ "c.yaml": cfg("  proxyMode: ipvs\n") });
    assert.throws(
      () => planCluster(state, "ipvs-test"),
      (e: unknown) => {
        assert.ok(e instanceof DataplaneRefused);
        assert.deepEqual(e.diagnostic.path, ["spec", "proxyMode"]);
        assert.match(e.diagnostic.message, /kernel's IPVS/);
        assert.match(e.diagnostic.hint ?? "", /set spec\.proxyMode to nftables or iptables/);
        return true;
      },
    );
  });
});

describe("podnet rules on an IPVS cluster (the built CLI)", () => {
  it("prints kube-ipvs0's addresses, ipvsadm -Sn, ipset save and iptables-save for the node", () => {
    const input = flowCluster("vxlan", "ipvs");
    const r = runPodnet(["rules", "-f", "-", "--node", "n2"], input);
    assert.equal(r.code, 0, r.err);
    const heads = r.out.split("\n").filter((l) => /^# (ip -4|ipvsadm|ipset|iptables)/.test(l));
    assert.deepEqual(heads, [
      "# ip -4 addr show dev kube-ipvs0",
      "# ipvsadm -Sn",
      "# ipset save",
      "# iptables-save",
    ]);
    assert.match(r.out, /^-A -t 172\.18\.0\.3:30080 -s rr$/m);
    assert.match(r.out, /^add KUBE-NODE-PORT-TCP 30080$/m);
    assert.match(
      r.out,
      /^-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT$/m,
    );
  });
});
