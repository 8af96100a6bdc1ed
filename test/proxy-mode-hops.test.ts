/**
 * A trace names its proxy mode's own objects: every chain a hop cites exists in what `podnet rules`
 * prints for that mode (iptables: KUBE-SERVICES → KUBE-SVC-/KUBE-EXT-…; never the nftables maps).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { proxyMode } from "../src/core/proxy/modes/registry.ts";
import { Network } from "../src/core/sim/network.ts";
import { resolveDestination, resolveSource } from "../src/core/sim/targets.ts";
import { trace } from "../src/core/sim/trace.ts";
import { FLOW_CASES, flowCluster } from "./cases/packet-flows.ts";
import { cluster } from "./helpers.ts";

/** Chain and map names as the modes spell them. */
const IPTABLES_NAME = /\bKUBE-[A-Z0-9-]+[A-Z0-9]/g;
const NFT_NAME =
  /\b(service-ips|service-nodeports|no-endpoint-services|no-endpoint-nodeports|firewall-ips|reject-chain|(?:service|external)-[A-Z2-7]{8}-[^\s:]+)/g;

function hopNames(mode: string): { names: Set<string>; rules: string } {
  const state = cluster(flowCluster("vxlan", mode));
  const net = new Network(state);
  const names = new Set<string>();
  for (const c of FLOW_CASES) {
    const src = resolveSource(net, c.from, c.node);
    const dst = resolveDestination(net, c.to, c.protocol);
    if (!src.ok || !dst.ok) continue;
    const r = trace(net, {
      source: src.value,
      dst: dst.value.ip,
      dport: dst.value.port,
      protocol: dst.value.protocol,
    });
    for (const h of r.hops) {
      for (const m of h.detail.matchAll(IPTABLES_NAME)) names.add(m[0]);
      for (const m of h.detail.matchAll(NFT_NAME)) names.add(m[0]);
    }
  }
  const rules = state.nodes.map((n) => proxyMode(mode).render(state, n)).join("\n");
  return { names, rules };
}

describe("trace hops name the proxy mode's own rules", () => {
  for (const mode of ["iptables", "ipvs", "nftables"]) {
    it(`${mode}: every chain a hop names is in the node rules`, () => {
      const { names, rules } = hopNames(mode);
      assert.ok(names.size > 0, "the flows name some chains");
      for (const n of names)
        assert.ok(rules.includes(n), `${mode}: hop names ${n}, which the rules do not hold`);
    });
  }

  it("iptables: a ClusterIP dispatch cites KUBE-SERVICES and the KUBE-SVC- chain", () => {
    const { names } = hopNames("iptables");
    assert.ok(names.has("KUBE-SERVICES"));
    assert.ok([...names].some((n) => n.startsWith("KUBE-SVC-")));
    assert.ok(
      [...names].some((n) => n.startsWith("KUBE-EXT-")),
      "nodePort flows dispatch to KUBE-EXT-",
    );
  });
});

describe("the node's route lookup for a local destination is the local table's, as `ip route get` prints it", () => {
  const first = (mode: string, to: string) => {
    const net = new Network(cluster(flowCluster("vxlan", mode)));
    const src = resolveSource(net, "node/n1");
    const dst = resolveDestination(net, to);
    assert.ok(src.ok && dst.ok);
    const r = trace(net, {
      source: src.value,
      dst: dst.value.ip,
      dport: dst.value.port,
      protocol: dst.value.protocol,
    });
    return r.hops[0];
  };

  it("127.0.0.1 goes by lo, never the default route", () => {
    const hop = first("iptables", "127.0.0.1:30080");
    assert.equal(hop.device, "lo");
    assert.match(
      hop.detail,
      /route lookup: local 127\.0\.0\.1 dev lo table local src 127\.0\.0\.1 → source address 127\.0\.0\.1$/,
    );
  });

  it("IPVS: a ClusterIP is a local address (kube-ipvs0); nftables: it takes the main table", () => {
    const ipvs = first("ipvs", "10.96.0.50:80");
    assert.match(
      ipvs.detail,
      /route lookup: local 10\.96\.0\.50 dev lo table local src 10\.96\.0\.50 → source address 10\.96\.0\.50$/,
    );
    const nft = first("nftables", "10.96.0.50:80");
    assert.doesNotMatch(nft.detail, /table local/);
    assert.equal(nft.device, "eth0");
  });
});
