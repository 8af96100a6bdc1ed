/**
 * Which node receives a LoadBalancer IP's traffic (src/core/control/load-balancers.ts): MetalLB's
 * layer-2 election (SHA-256 of "<node>#<ip>", checked here against node:crypto), BGP's equal-cost
 * set, externalTrafficPolicy Local, excluded nodes, no endpoints; the Cluster config's field; and a
 * trace from outside entering at the elected node.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { announcementFor } from "../src/core/control/load-balancers.ts";
import { Network } from "../src/core/sim/network.ts";
import { traceQuestion } from "../src/core/views/questions.ts";
import { cluster, errors } from "./helpers.ts";

const cfg = (spec: string) =>
  `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: lb}\nspec:\n  nodes: 3\n  supply: {clusterDNS: false}\n${spec}---\n`;

/** Web pods pinned to `nodes`, a LoadBalancer Service over them (its IP: the pool's first, 198.51.100.1). */
function shop(opts: { spec?: string; nodes?: string[]; policy?: string; nodeLabels?: string } = {}): string {
  const pods = (opts.nodes ?? ["node-1"])
    .map(
      (n, i) =>
        `apiVersion: v1\nkind: Pod\nmetadata: {name: web-${i}, namespace: default, labels: {app: web}}\nspec: {nodeName: ${n}, containers: [{name: c, image: x, ports: [{containerPort: 8080}]}]}\n---\n`,
    )
    .join("");
  const nodes = opts.nodeLabels ?? "";
  return `${cfg(opts.spec ?? "")}${nodes}${pods}apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  externalTrafficPolicy: ${opts.policy ?? "Cluster"}
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;
}

const IP = "198.51.100.1";

/** The election order computed independently of podnet: node:crypto's SHA-256, hex-compared. */
function byHash(nodes: string[], ip: string): string[] {
  const key = (n: string) => createHash("sha256").update(`${n}#${ip}`).digest("hex");
  return [...nodes].sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

describe("load balancers: which node receives a LoadBalancer IP", () => {
  it("l2 (the default): one node, MetalLB's election by SHA-256 of node#ip", () => {
    const s = cluster(shop());
    assert.equal(s.config.loadBalancer.mode, "l2");
    const a = announcementFor(s, IP)!;
    assert.deepEqual(a.services, ["default/web"]);
    const order = byHash(["node-1", "node-2", "node-3"], IP);
    assert.deepEqual(order, ["node-3", "node-2", "node-1"]);
    assert.deepEqual(a.nodes, ["node-3"]);
    assert.deepEqual(
      a.standings.map((x) => [x.node, x.announces]),
      [
        ["node-3", true],
        ["node-2", false],
        ["node-1", false],
      ],
    );
    assert.match(
      a.standings[0].why,
      /elected: first of 3 eligible nodes by SHA-256\("node-3#198\.51\.100\.1"\)/,
    );
    assert.match(a.standings[1].why, /not elected: 2nd/);
    assert.match(a.reason, /^l2: node node-3 answers ARP for 198\.51\.100\.1/);
  });

  it("l2 with externalTrafficPolicy Local: only nodes with a serving endpoint are eligible", () => {
    const a = announcementFor(cluster(shop({ policy: "Local", nodes: ["node-1", "node-2"] })), IP)!;
    assert.deepEqual(a.nodes, [byHash(["node-1", "node-2"], IP)[0]]);
    assert.deepEqual(a.nodes, ["node-2"]);
    const n3 = a.standings.find((x) => x.node === "node-3")!;
    assert.equal(n3.announces, false);
    assert.match(n3.why, /externalTrafficPolicy Local and no serving endpoint/);
  });

  it("a node labelled exclude-from-external-load-balancers never announces", () => {
    const label =
      "apiVersion: v1\nkind: Node\nmetadata: {name: node-3, labels: {node.kubernetes.io/exclude-from-external-load-balancers: ''}}\n---\n";
    const a = announcementFor(cluster(shop({ nodeLabels: label })), IP)!;
    assert.deepEqual(a.nodes, ["node-2"]);
    assert.match(a.standings.find((x) => x.node === "node-3")!.why, /excluded: it carries label/);
  });

  it("bgp: every eligible node, equal-cost; Local: only nodes with endpoints", () => {
    const bgp = "  loadBalancer: {mode: bgp}\n";
    const a = announcementFor(cluster(shop({ spec: bgp })), IP)!;
    assert.equal(a.mode, "bgp");
    assert.deepEqual(a.nodes, ["node-1", "node-2", "node-3"]);
    assert.match(a.reason, /equal-cost multipath/);
    const local = announcementFor(cluster(shop({ spec: bgp, policy: "Local", nodes: ["node-1"] })), IP)!;
    assert.deepEqual(local.nodes, ["node-1"]);
  });

  it("no serving endpoint: nothing announces the IP, and a trace from outside ends dropped saying so", () => {
    const s = cluster(shop({ nodes: [] }));
    const a = announcementFor(s, IP)!;
    assert.deepEqual(a.nodes, []);
    assert.match(a.reason, /no node announces 198\.51\.100\.1: Service default\/web has no serving endpoint/);
    const t = traceQuestion(new Network(s), { from: "203.0.113.7", to: `${IP}:80` });
    assert.ok(t.ok && t.single);
    assert.equal(t.single.verdict, "dropped");
    assert.match(t.single.reason, /no node announces/);
  });

  it("a trace from outside enters at the elected node; --node still overrides", () => {
    const net = new Network(cluster(shop()));
    const t = traceQuestion(net, { from: "203.0.113.7", to: `${IP}:80` });
    assert.ok(t.ok && t.single);
    assert.match(t.single.hops[0].detail, /node node-3 answers ARP for 198\.51\.100\.1/);
    assert.equal(t.single.hops[1].at, "node node-3");
    assert.equal(t.single.verdict, "delivered");
    const forced = traceQuestion(net, { from: "203.0.113.7", to: `${IP}:80`, node: "node-1" });
    assert.ok(forced.ok && forced.single);
    assert.equal(forced.single.hops[1].at, "node node-1");
  });

  it("not a load-balancer IP: undefined", () => {
    assert.equal(announcementFor(cluster(shop()), "198.51.100.9"), undefined);
  });

  it("bad spec.loadBalancer: the position, the value and the fix", () => {
    assert.deepEqual(errors(shop({ spec: "  loadBalancer: {mode: arp}\n" })), [
      'test.yaml:7:24: error: Cluster lb: spec.loadBalancer.mode: "arp" is not one of l2, bgp\n  fix: use one of l2, bgp',
    ]);
    assert.match(
      errors(shop({ spec: "  loadBalancer: {mode: BGP}\n" }))[0],
      /"BGP" is not one of l2, bgp\n {2}fix: write bgp \(values are case-sensitive\)/,
    );
    assert.match(
      errors(shop({ spec: "  loadBalancer: {modes: l2}\n" }))[0],
      /spec\.loadBalancer\.modes: unknown field "modes"/,
    );
    const supply = shop().replace(
      "supply: {clusterDNS: false}",
      "supply: {clusterDNS: false, ingressController: maybe}",
    );
    assert.match(
      errors(supply)[0],
      /test\.yaml:6:50: error: Cluster lb: spec\.supply\.ingressController: expected true or false, found the string "maybe"\n {2}fix: write true or false/,
    );
  });
});
