/**
 * The outside network of a real cluster (src/core/dataplane/outside.ts), without root: which node(s)
 * the underlay routes each load-balancer IP to (l2: the elected one; bgp: every eligible one), the
 * client namespace's lines, and the probes from outside with what the simulator predicts for them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { announcementFor } from "../src/core/control/load-balancers.ts";
import { OUTSIDE_CLIENT, outsideClash, planOutside } from "../src/core/dataplane/outside.ts";
import { namespacesOf, planCluster } from "../src/core/dataplane/plan.ts";
import { judge, OUTSIDE_SOURCE, probeCases } from "../src/core/dataplane/probe.ts";
import { formatIPv4 } from "../src/core/net/ipv4.ts";
import { cluster } from "./helpers.ts";

/** Three nodes; web (2 replicas, pinned to node-2 and node-3) behind a LoadBalancer Service. */
function yaml(opts: { policy?: "Local" | "Cluster"; replicas?: number; mode?: "l2" | "bgp" } = {}) {
  const pods = Array.from(
    { length: opts.replicas ?? 2 },
    (_, i) => `---
apiVersion: v1
kind: Pod
metadata: {name: web-${i + 1}, namespace: default, labels: {app: web}}
spec:
  nodeName: node-${i + 2}
  containers: [{name: web, image: web, ports: [{containerPort: 8080}]}]
`,
  ).join("");
  return `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: out}
spec: {nodes: 3, loadBalancer: {mode: ${opts.mode ?? "l2"}}}
${pods}---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: LoadBalancer
  externalTrafficPolicy: ${opts.policy ?? "Cluster"}
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;
}

describe("the outside network", () => {
  it("l2: the underlay routes the load-balancer IP to the elected node; the client has its own namespace", () => {
    const state = cluster(yaml());
    const plan = planCluster(state, "out");
    const o = plan.outside!;
    assert.equal(o.netns, "podnet-out-o");
    assert.ok(namespacesOf(plan).includes("podnet-out-o"));
    const ul = plan.steps.find((s) => s.netns === plan.underlay)!.lines;
    assert.ok(ul.includes("link add o0 type veth peer name eth0 netns podnet-out-o"));
    assert.ok(ul.includes("addr add 203.0.113.1/24 dev o0"));
    // Cluster policy: every node is eligible; MetalLB's election (SHA-256 of "<node>#<ip>") picks
    // node-3 (172.18.0.4), the node the simulator's trace enters at.
    assert.deepEqual(announcementFor(state, "198.51.100.1")?.nodes, ["node-3"]);
    assert.deepEqual(o.routes, ["route add 198.51.100.1/32 via 172.18.0.4 dev ul0"]);
    assert.ok(ul.includes(o.routes[0]));
    // The routes change with Services: apply syncs them as the underlay's host routes.
    assert.deepEqual(plan.hostRoutes.find((h) => h.netns === plan.underlay)?.lines, o.routes);
    // The client's step runs after the underlay's (its eth0 is made there).
    const order = plan.steps.map((s) => s.netns);
    assert.ok(order.indexOf("podnet-out-o") > order.indexOf(plan.underlay));
    assert.deepEqual(plan.steps.find((s) => s.netns === "podnet-out-o")!.lines, [
      "link set lo up",
      `addr add ${OUTSIDE_CLIENT}/24 dev eth0`,
      "link set eth0 up",
      "route add default via 203.0.113.1 dev eth0",
    ]);
    assert.ok(plan.sysctls.some((s) => s.netns === plan.underlay && s.key === "net.ipv4.ip_forward"));
  });

  it("the routes follow the election of spec.loadBalancer.mode, under externalTrafficPolicy Local too", () => {
    // Local: node-2 and node-3 hold endpoints; l2 elects one of them, bgp routes to both.
    const l2 = cluster(yaml({ policy: "Local" }));
    const elected = announcementFor(l2, "198.51.100.1")!.nodes;
    assert.equal(elected.length, 1);
    const ip = l2.nodes.find((n) => n.name === elected[0])!.addresses[0].ip;
    assert.deepEqual(planCluster(l2, "out").outside!.routes, [
      `route add 198.51.100.1/32 via ${formatIPv4(ip)} dev ul0`,
    ]);
    const bgp = cluster(yaml({ policy: "Local", mode: "bgp" }));
    assert.deepEqual(announcementFor(bgp, "198.51.100.1")!.nodes, ["node-2", "node-3"]);
    assert.deepEqual(planCluster(bgp, "out").outside!.routes, [
      "route add 198.51.100.1/32 nexthop via 172.18.0.3 dev ul0 nexthop via 172.18.0.4 dev ul0",
    ]);
  });

  it("an IP no node is eligible for gets no route, and says why", () => {
    const state = cluster(yaml({ policy: "Local", replicas: 0 }));
    const o = planCluster(state, "out").outside!;
    assert.deepEqual(o.routes, []);
    assert.equal(o.unrouted.length, 1);
    assert.match(
      o.unrouted[0].why,
      /no node announces 198\.51\.100\.1: Service default\/web has no serving endpoint/,
    );
  });

  it("no outside network when 203.0.113.0/24 is the cluster's own (a pool, a node's address)", () => {
    const pool = cluster(
      yaml().replace("spec: {nodes: 3,", "spec: {nodes: 3, loadBalancerPool: [203.0.113.0/28],"),
    );
    assert.equal(planCluster(pool, "out").outside, undefined);
    assert.equal(
      outsideClash(pool),
      "loadBalancerPool 203.0.113.0/28 overlaps the outside network 203.0.113.0/24",
    );
    assert.equal(outsideClash(cluster(yaml())), undefined);
  });

  it("no outside network when the underlay has no gateway address (nodeNetwork /31 or /32)", () => {
    assert.equal(planOutside(cluster(yaml()), "podnet-out-o", undefined), undefined);
  });
});

describe("probes from outside", () => {
  it("one per load-balancer port; Cluster policy: masqueraded to the receiving node's address", () => {
    const state = cluster(yaml());
    const cases = probeCases(state, { fromOutside: true }).filter((c) => c.from === OUTSIDE_SOURCE);
    assert.equal(cases.length, 1);
    const c = cases[0];
    assert.equal(c.ip, "198.51.100.1");
    assert.equal(c.port, 80);
    assert.match(c.to, /^default\/web@198\.51\.100\.1:80\/TCP \(l2: node node-3 answers ARP/);
    assert.deepEqual([...c.allowed.keys()].sort(), ["default/web-1", "default/web-2"]);
    // SNAT on node-3 to its own address (kube-proxy masquerades external traffic under Cluster).
    for (const client of c.allowed.values()) assert.notEqual(client, OUTSIDE_CLIENT);
    const seen = c.allowed.get("default/web-1")!;
    assert.ok(judge(c, { ok: true, answer: { pod: "default/web-1", client: `${seen}:40000` } }).agree);
    assert.ok(
      !judge(c, { ok: true, answer: { pod: "default/web-1", client: `${OUTSIDE_CLIENT}:40000` } }).agree,
    );
    assert.ok(
      !judge(c, { ok: false, error: "timeout" }).agree,
      "every backend is reachable: no answer disagrees",
    );
  });

  it("Local policy: the client address is kept; bgp adds every eligible node", () => {
    const state = cluster(yaml({ policy: "Local" }));
    const [l2] = probeCases(state, { fromOutside: true }).filter((c) => c.from === OUTSIDE_SOURCE);
    // l2 elects node-3: only its own endpoint (web-2) answers, seeing the client's address.
    assert.deepEqual([...l2.allowed], [["default/web-2", OUTSIDE_CLIENT]]);
    const [bgp] = probeCases(cluster(yaml({ policy: "Local", mode: "bgp" })), { fromOutside: true }).filter(
      (c) => c.from === OUTSIDE_SOURCE,
    );
    assert.deepEqual([...bgp.allowed].sort(), [
      ["default/web-1", OUTSIDE_CLIENT],
      ["default/web-2", OUTSIDE_CLIENT],
    ]);
  });

  it("no eligible node: nothing answers, and that agrees", () => {
    const state = cluster(yaml({ policy: "Local", replicas: 0 }));
    const [c] = probeCases(state, { fromOutside: true }).filter((x) => x.from === OUTSIDE_SOURCE);
    assert.equal(c.allowed.size, 0);
    assert.ok(judge(c, { ok: false, error: "timeout" }).agree);
    assert.ok(!judge(c, { ok: true, answer: { pod: "default/web-1", client: "x:1" } }).agree);
  });

  it("without fromOutside there are none", () => {
    assert.equal(probeCases(cluster(yaml())).filter((c) => c.from === OUTSIDE_SOURCE).length, 0);
  });
});
