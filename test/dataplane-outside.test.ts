/**
 * The outside network of a real cluster (src/core/dataplane/outside.ts), without root: which node(s)
 * the underlay routes each load-balancer IP to (l2: the elected one; bgp: every eligible one), the
 * client namespace's lines, and the probes from outside with what the simulator predicts for them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OUTSIDE_CLIENT, outsideClash, planOutside, simplePlacement } from "../src/core/dataplane/outside.ts";
import { namespacesOf, planCluster } from "../src/core/dataplane/plan.ts";
import { judge, OUTSIDE_SOURCE, probeCases } from "../src/core/dataplane/probe.ts";
import { cluster } from "./helpers.ts";

/** Three nodes; web (2 replicas, pinned to node-2 and node-3) behind a LoadBalancer Service. */
function yaml(opts: { policy?: "Local" | "Cluster"; replicas?: number } = {}) {
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
spec: {nodes: 3}
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
    // Cluster policy: every node is eligible; the first by name is elected.
    assert.deepEqual(o.routes, ["route add 198.51.100.1/32 via 172.18.0.2 dev ul0"]);
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

  it("externalTrafficPolicy Local: only nodes with a ready local endpoint are eligible", () => {
    const state = cluster(yaml({ policy: "Local" }));
    assert.deepEqual(planCluster(state, "out").outside!.routes, [
      "route add 198.51.100.1/32 via 172.18.0.3 dev ul0",
    ]);
    assert.deepEqual(planCluster(state, "out", { placement: simplePlacement("bgp") }).outside!.routes, [
      "route add 198.51.100.1/32 nexthop via 172.18.0.3 dev ul0 nexthop via 172.18.0.4 dev ul0",
    ]);
  });

  it("an IP no node is eligible for gets no route, and says why", () => {
    const state = cluster(yaml({ policy: "Local", replicas: 0 }));
    const o = planCluster(state, "out").outside!;
    assert.deepEqual(o.routes, []);
    assert.equal(o.unrouted.length, 1);
    assert.match(o.unrouted[0].why, /no eligible node among nodes with a ready local endpoint/);
  });

  it("no outside network when 203.0.113.0/24 is the cluster's own (a pool, a node's address)", () => {
    const pool = cluster(
      yaml().replace("spec: {nodes: 3}", "spec: {nodes: 3, loadBalancerPool: [203.0.113.0/28]}"),
    );
    assert.equal(planCluster(pool, "out").outside, undefined);
    assert.equal(
      outsideClash(pool),
      "loadBalancerPool 203.0.113.0/28 overlaps the outside network 203.0.113.0/24",
    );
    assert.equal(outsideClash(cluster(yaml())), undefined);
  });

  it("no outside network when the underlay has no gateway address (nodeNetwork /31 or /32)", () => {
    assert.equal(planOutside(cluster(yaml()), "podnet-out-o", undefined, simplePlacement()), undefined);
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
    assert.match(c.to, /^default\/web@198\.51\.100\.1:80\/TCP \(l2: node-1 is elected/);
    assert.deepEqual([...c.allowed.keys()].sort(), ["default/web-1", "default/web-2"]);
    // SNAT on node-1 to its own address (kube-proxy masquerades external traffic under Cluster).
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
    assert.deepEqual([...l2.allowed], [["default/web-1", OUTSIDE_CLIENT]]);
    const [bgp] = probeCases(state, { fromOutside: true, placement: simplePlacement("bgp") }).filter(
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
