/**
 * The IPVS renderer's text, pinned (src/core/proxy/ipvs/render.ts): every node of a set of clusters
 * that between them use every frontend, set and rule the renderer writes — the packet-flow cluster
 * (LB source ranges, externalIPs, SCTP, Local policies, affinity, terminating endpoints), variants of
 * it (scheduler mh with an affinity timeout, a source range holding the nodes, an externalIP that is
 * a node's address, nodePortAddresses), the IPVS proxier's upstream cases, random clusters from a
 * fixed seed and a small generated benchmark cluster — rendered and hashed. A renderer rewritten for
 * speed must print the same bytes; a change meant to alter the text updates the pin with a reason.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { generateCluster } from "../bench/generate.ts";
import { formatIPv4 } from "../src/core/net/ipv4.ts";
import { AsciiWriter } from "../src/core/proxy/ipvs/ascii-writer.ts";
import { proxyMode } from "../src/core/proxy/modes/registry.ts";
import { IPVS_UPSTREAM_CASES, slice, upstreamCluster } from "./cases/ipvs-upstream.ts";
import { flowCluster } from "./cases/packet-flows.ts";
import { arbCluster, manifest } from "./cases/random-cluster.ts";
import { cluster } from "./helpers.ts";

const ipvs = proxyMode("ipvs");

/** The clusters, by name: YAML text in IPVS mode. */
function inputs(): [string, string][] {
  const flows = flowCluster("vxlan", "ipvs");
  const out: [string, string][] = [
    ["flows", flows],
    ["flows/calico", flowCluster("calico", "ipvs")],
    [
      "flows/mh-timeout",
      flows
        .replace("  proxyMode: ipvs\n", "  proxyMode: ipvs\n  kubeProxy: {ipvs: {scheduler: mh}}\n")
        .replace(
          "  sessionAffinity: ClientIP\n",
          "  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}\n",
        ),
    ],
    [
      "flows/source-range-holds-nodes",
      flows.replace(
        "loadBalancerSourceRanges: [192.0.2.0/24]",
        "loadBalancerSourceRanges: [172.18.0.0/16, 192.0.2.0/24]",
      ),
    ],
    [
      "flows/externalIP-on-node",
      flows.replace("externalIPs: [192.0.2.80]", "externalIPs: [172.18.0.3, 192.0.2.80]"),
    ],
    [
      "flows/nodePortAddresses",
      flows.replace(
        "  proxyMode: ipvs\n",
        "  proxyMode: ipvs\n  kubeProxy: {nodePortAddresses: [172.18.0.0/24]}\n",
      ),
    ],
  ];
  for (const c of IPVS_UPSTREAM_CASES) out.push([`upstream/${c.name}`, upstreamCluster(c.objects)]);
  // Graceful termination: a terminating endpoint beside ready ones stays as a real server of weight 0.
  out.push([
    "upstream/terminating",
    upstreamCluster(
      `---\napiVersion: v1\nkind: Service\nmetadata: {name: svc1, namespace: ns1}\nspec:\n  type: NodePort\n  clusterIP: 10.20.30.41\n  externalTrafficPolicy: Local\n  ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]\n${slice("TCP", "10.180.0.1@test-node", "10.180.0.3@other-node")}`.replace(
        "  - {addresses: [10.180.0.1], nodeName: test-node}",
        "  - {addresses: [10.180.0.1], nodeName: test-node}\n  - {addresses: [10.180.0.2], nodeName: test-node, conditions: {ready: false, serving: true, terminating: true}}\n  - {addresses: [10.180.0.4], nodeName: other-node, conditions: {ready: false, serving: true, terminating: true}}",
      ),
    ),
  ]);
  const shapes = fc.sample(
    arbCluster.map((c) => ({ ...c, mode: "ipvs" as const })),
    { seed: 16, numRuns: 30 },
  );
  for (const [i, s] of shapes.entries()) out.push([`random/${i}`, manifest(s)]);
  out.push([
    "generated",
    generateCluster({ seed: 1, nodes: 12, pods: 400, services: 60, namespaces: 4, policies: 0 }).replace(
      "kind: Cluster\nmetadata: {name: bench}\nspec:\n",
      "kind: Cluster\nmetadata: {name: bench}\nspec:\n  proxyMode: ipvs\n",
    ),
  ]);
  return out;
}

describe("the IPVS renderer's text is pinned", () => {
  it("every node of every input renders to the same bytes (sha256 over all)", () => {
    const hash = createHash("sha256");
    let lines = 0;
    for (const [name, yaml] of inputs()) {
      const state = cluster(yaml);
      for (const node of state.nodes) {
        const text = ipvs.render(state, node);
        hash.update(`== ${name} ${node.name}\n${text}`);
        lines += text.split("\n").length;
      }
    }
    assert.deepEqual(
      { lines, sha256: hash.digest("hex") },
      { lines: 42381, sha256: "06344da987372b17f6fe18bddccc8d8924c4abda50d3c2b8b2938af7ff0ea03b" },
    );
  });
});

describe("the renderer's text buffer (src/core/proxy/ipvs/ascii-writer.ts)", () => {
  it("prints numbers and addresses as String and formatIPv4 do, growing from one byte", () => {
    const w = new AsciiWriter(1);
    const want: string[] = [];
    for (const n of [0, 7, 10, 99, 100, 999, 1000, 30080, 65535, 4294967295]) {
      w.uint(n).str(" ");
      want.push(`${n} `);
    }
    for (const ip of [0, 1, 0x0a000001, 0xac120002, 0xc0a80a64, 0xffffffff]) {
      w.ipv4(ip).str("\n");
      want.push(`${formatIPv4(ip)}\n`);
    }
    const piece = new TextEncoder().encode("-a -t 10.96.0.1:443 -r ");
    const long = new TextEncoder().encode("x".repeat(100));
    w.bytes(piece).bytes(long).bytes(piece);
    want.push(`-a -t 10.96.0.1:443 -r ${"x".repeat(100)}-a -t 10.96.0.1:443 -r `);
    assert.equal(w.length, want.join("").length);
    assert.equal(w.text(), want.join(""));
  });

  it("refuses a character outside ASCII, naming the text", () => {
    assert.throws(() => new AsciiWriter().str("caf\u00e9"), /not ASCII: "caf\u00e9"/);
  });
});
