/**
 * kube-proxy modes as parts (src/core/proxy/modes/): every registered mode runs the shared packet-flow
 * cases against the model and against its own rendered rules, so a newly registered mode (IPVS) is
 * held to them without editing this file; the Cluster config accepts exactly the registered names;
 * each mode's behavioural properties as kube-proxy has them; and the shared chain walker
 * (src/core/nft/walk.ts) with nftables' and iptables' jump/goto/return semantics.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Flow, type WalkOutcome, walkChains } from "../src/core/nft/walk.ts";
import { proxyMode, proxyModeNames, proxyModes } from "../src/core/proxy/modes/registry.ts";
import { Network } from "../src/core/sim/network.ts";
import { resolveDestination, resolveSource } from "../src/core/sim/targets.ts";
import { trace } from "../src/core/sim/trace.ts";
import { FLOW_CASES, type FlowCase, flowCluster } from "./cases/packet-flows.ts";
import { cluster, errors } from "./helpers.ts";

/** A case's expectation in a mode: the case's field named after the mode, where the mode differs. */
function expectIn(c: FlowCase, mode: string): FlowCase["expect"] {
  const own = (c as unknown as Record<string, FlowCase["expect"] | undefined>)[mode];
  return own && typeof own === "object" && "verdict" in own ? own : c.expect;
}

for (const mode of proxyModes()) {
  for (const judge of ["model", "rules"] as const) {
    describe(`packet flows in ${mode.name} mode, kube-proxy decisions by the ${judge === "model" ? "model" : "mode's rendered rules"}`, () => {
      const net = new Network(cluster(flowCluster("vxlan", mode.name as "nftables")), { proxy: judge });
      for (const c of FLOW_CASES) {
        it(c.name, () => {
          const expect = expectIn(c, mode.name);
          const src = resolveSource(net, c.from, c.node);
          assert.ok(src.ok, !src.ok ? src.message : "");
          const dst = resolveDestination(net, c.to, c.protocol);
          assert.ok(dst.ok, !dst.ok ? dst.message : "");
          const r = trace(net, {
            source: src.value,
            dst: dst.value.ip,
            dport: dst.value.port,
            protocol: dst.value.protocol,
          });
          assert.equal(
            r.verdict,
            expect.verdict,
            `${r.reason}\n${r.hops.map((h) => `${h.at}: ${h.detail}`).join("\n")}`,
          );
          if (expect.endpoints) assert.deepEqual([...r.endpoints].sort(), expect.endpoints);
          if (expect.masquerade !== undefined) assert.equal(r.masquerade, expect.masquerade);
          if (expect.seen) assert.equal(r.delivered?.seenSource.split(":")[0], expect.seen);
          if (expect.at) assert.equal(r.delivered?.pod, expect.at);
        });
      }
    });
  }
}

describe("the proxy mode registry", () => {
  it("registers nftables (the default, as kube-proxy on Linux since 1.33 recommends), iptables and ipvs", () => {
    assert.deepEqual(proxyModeNames(), ["nftables", "iptables", "ipvs"]);
    assert.equal(cluster(flowCluster("vxlan")).config.proxyMode, "nftables");
  });

  it("the Cluster config accepts each registered name, and names them all for an unknown one", () => {
    for (const name of proxyModeNames()) {
      const state = cluster(
        `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n  proxyMode: ${name}\n`,
      );
      assert.equal(state.config.proxyMode, name);
    }
    assert.deepEqual(
      errors({
        "cluster.yaml":
          "apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n  proxyMode: userspace\n",
      }),
      [
        `cluster.yaml:5:14: error: Cluster c: spec.proxyMode: "userspace" is not one of ${proxyModeNames().join(", ")}\n  fix: use one of ${proxyModeNames().join(", ")}`,
      ],
    );
  });

  it("an unregistered name asked of the registry is a fault naming the registered ones", () => {
    assert.throws(
      () => proxyMode("userspace"),
      /unknown proxy mode "userspace"; registered: nftables, iptables, ipvs/,
    );
  });

  it("each mode's differences, as kube-proxy has them", () => {
    const nft = proxyMode("nftables");
    const ipt = proxyMode("iptables");
    // pkg/proxy/nftables NewProxier: empty --nodeport-addresses means `primary`; iptables: every address.
    assert.equal(nft.nodePortAddressesDefault, "primary");
    assert.equal(ipt.nodePortAddressesDefault, "all");
    // --iptables-localhost-nodeports (default true); nftables excludes 127.0.0.0/8.
    assert.equal(ipt.localhostNodePorts, true);
    assert.equal(nft.localhostNodePorts, false);
    // filter-output jumps to service-endpoints-check; KUBE-EXTERNAL-SERVICES is off OUTPUT.
    assert.equal(nft.checksExternalEndpointsOnOutput, true);
    assert.equal(ipt.checksExternalEndpointsOnOutput, false);
    // cluster-ips-check exists in nftables mode only.
    assert.equal(nft.guardsServiceRange, true);
    assert.equal(ipt.guardsServiceRange, false);
    const { sysctls: nftSysctls, ...nftLoad } = nft.dataplane;
    const { sysctls: iptSysctls, ...iptLoad } = ipt.dataplane;
    assert.deepEqual(nftLoad, { tool: "nft", tables: ["ip kube-proxy"], sync: "table-diff" });
    assert.deepEqual(iptLoad, {
      tool: "iptables-restore",
      tables: ["filter", "nat"],
      sync: "changed-chains-noflush",
    });
    // route_localnet: iptables mode with nodePortAddresses holding 127.0.0.1 (unset holds every address).
    const state = cluster(flowCluster("vxlan"));
    const [node] = state.nodes;
    const withNpa = (nodePortAddresses: string[]) => ({
      ...state,
      config: { ...state.config, kubeProxy: { ...state.config.kubeProxy, nodePortAddresses } },
    });
    const localnet = [{ key: "net.ipv4.conf.all.route_localnet", value: "1" }];
    assert.deepEqual(nftSysctls(state, node), []);
    assert.deepEqual(iptSysctls(state, node), localnet);
    assert.deepEqual(iptSysctls(withNpa(["127.0.0.0/8"]), node), localnet);
    assert.deepEqual(iptSysctls(withNpa(["172.18.0.0/24"]), node), []);
  });

  it("each mode names a Service port's dispatch chains as kube-proxy does, and they are in its rules", () => {
    const state = cluster(flowCluster("vxlan"));
    const net = new Network(state);
    const web = net.proxy.ports.find((p) => p.name === "app/web:http") ?? net.proxy.ports[0];
    for (const mode of proxyModes()) {
      const chains = mode.dispatchChains(web);
      assert.ok(chains.length >= 1);
      const text = mode.render(
        { ...state, config: { ...state.config, proxyMode: mode.name } },
        state.nodes[0],
      );
      assert.ok(
        chains.some((c) => text.includes(c)),
        `${mode.name}: none of ${chains.join(", ")} in its rules`,
      );
    }
    const nftChains = proxyMode("nftables").dispatchChains(web);
    assert.ok(nftChains.every((c) => /^(service|local|external)-[A-Z2-7]{8}-app\/web\/tcp\/http$/.test(c)));
    const iptChains = proxyMode("iptables").dispatchChains(web);
    assert.ok(iptChains.every((c) => /^KUBE-(SVC|SVL|EXT|FW)-[A-Z2-7]{16}$/.test(c)));
  });
});

describe("the shared chain walker (nft/walk.ts)", () => {
  /** Rules as `verb [chain]`: "pass", "jump X", "goto X", "return", "drop", "accept", "mark". */
  function run(chains: Record<string, string[]>, start = "base") {
    const seen: string[] = [];
    const out: WalkOutcome = { verdict: "accept" };
    walkChains<string>(
      start,
      (c) => chains[c],
      (rules, i, chain): Flow => {
        const [verb, arg] = rules[i].split(" ");
        seen.push(`${chain}[${i}]`);
        if (verb === "jump" || verb === "goto") return { kind: verb, chain: arg };
        if (verb === "return") return { kind: "return" };
        if (verb === "drop" || verb === "accept" || verb === "reject")
          return { kind: "verdict", verdict: verb, rule: rules[i] };
        if (verb === "skipjump") return { kind: "jump", chain: arg, resume: i + 2 };
        return { kind: "continue" };
      },
      out,
      "test",
    );
    return { seen, out };
  }

  it("jump comes back after the rule; the end of a chain returns", () => {
    const r = run({ base: ["jump a", "pass"], a: ["pass"] });
    assert.deepEqual(r.seen, ["base[0]", "a[0]", "base[1]"]);
    assert.equal(r.out.verdict, "accept");
  });

  it("goto does not come back: the return after it goes to the last jump", () => {
    const r = run({ base: ["jump a", "pass"], a: ["goto b", "pass"], b: ["return", "pass"] });
    assert.deepEqual(r.seen, ["base[0]", "a[0]", "b[0]", "base[1]"]);
  });

  it("return in the base chain ends it (its policy: accept)", () => {
    const r = run({ base: ["return", "drop"] });
    assert.deepEqual(r.seen, ["base[0]"]);
    assert.equal(r.out.verdict, "accept");
  });

  it("drop in a jumped-to chain ends the walk and names the rule", () => {
    const r = run({ base: ["jump a", "pass"], a: ["drop"] });
    assert.deepEqual(r.out, { verdict: "drop", by: "drop" });
    assert.deepEqual(r.seen, ["base[0]", "a[0]"]);
  });

  it("accept ends the walk without touching the outcome", () => {
    const r = run({ base: ["jump a", "drop"], a: ["accept"] });
    assert.deepEqual(r.out, { verdict: "accept" });
  });

  it("a jump may resume past the rules it decided for (iptables' statistic runs)", () => {
    const r = run({ base: ["skipjump a", "pass", "pass"], a: ["pass"] });
    assert.deepEqual(r.seen, ["base[0]", "a[0]", "base[2]"]);
  });

  it("a missing chain and a loop are faults of the rules, not silent accepts", () => {
    assert.throws(() => run({ base: ["jump nowhere"] }), /test: no chain nowhere/);
    assert.throws(() => run({ base: ["goto a"], a: ["goto base"] }), /test: rule loop/);
  });
});
