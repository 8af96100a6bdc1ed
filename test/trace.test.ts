/**
 * The network model and the tracer: the shared packet-flow cases on every CNI mode, the articles'
 * walk-throughs, replies through conntrack, the device view, the formal model and `check`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  hostVethName,
  lookupRoute,
  nodeNamespace,
  podNamespace,
  renderNamespace,
  renderRoute,
} from "../src/core/graph/devices.ts";
import { nodeFib, podFib } from "../src/core/graph/fib.ts";
import { parseIPv4 } from "../src/core/net/ipv4.ts";
import { connlist } from "../src/core/policy/connlist.ts";
import { computeMatrix } from "../src/core/policy/matrix.ts";
import { checkModel } from "../src/core/sim/check.ts";
import { Network } from "../src/core/sim/network.ts";
import { resolveDestination, resolveSource } from "../src/core/sim/targets.ts";
import { type TraceResult, trace } from "../src/core/sim/trace.ts";
import { loadCluster } from "../src/index.ts";
import { NODE_EXEMPTION_CLUSTER } from "./cases/node-exemption.ts";
import { FLOW_CASES, type FlowCase, flowCluster } from "./cases/packet-flows.ts";
import { cluster, deployment } from "./helpers.ts";

function run(
  net: Network,
  c: Pick<FlowCase, "from" | "to" | "node" | "protocol">,
  opts: { reply?: boolean } = {},
): TraceResult {
  const src = resolveSource(net, c.from, c.node);
  assert.ok(src.ok, !src.ok ? src.message : "");
  const dst = resolveDestination(net, c.to, c.protocol);
  assert.ok(dst.ok, !dst.ok ? dst.message : "");
  return trace(
    net,
    { source: src.value, dst: dst.value.ip, dport: dst.value.port, protocol: dst.value.protocol },
    opts,
  );
}

for (const [cni, mode, judge] of [
  ["vxlan", "nftables", "model"],
  ["host-gw", "nftables", "model"],
  ["ipip", "nftables", "model"],
  ["vxlan", "nftables", "rules"],
  ["host-gw", "nftables", "rules"],
  ["vxlan", "iptables", "model"],
  ["vxlan", "iptables", "rules"],
] as const) {
  describe(`packet flows (cni ${cni}, ${mode} mode, kube-proxy decisions by the ${judge === "model" ? "simulator's model" : "rendered rules"})`, () => {
    const net = new Network(cluster(flowCluster(cni, mode)), { proxy: judge });
    for (const c0 of FLOW_CASES) {
      const c = mode === "iptables" && c0.iptables ? { ...c0, expect: c0.iptables } : c0;
      it(c.name, () => {
        const r = run(net, c);
        assert.equal(
          r.verdict,
          c.expect.verdict,
          `${r.reason}\n${r.hops.map((h) => `${h.at}: ${h.detail}`).join("\n")}`,
        );
        if (c.expect.endpoints) assert.deepEqual([...r.endpoints].sort(), c.expect.endpoints);
        if (c.expect.masquerade !== undefined) assert.equal(r.masquerade, c.expect.masquerade);
        if (c.expect.seen) assert.equal(r.delivered?.seenSource.split(":")[0], c.expect.seen);
        if (c.expect.at) assert.equal(r.delivered?.pod, c.expect.at);
      });
    }
  });
}

describe("the articles' walk-throughs", () => {
  const net = new Network(cluster(flowCluster("vxlan")));
  const steps = (r: TraceResult) => r.hops.map((h) => `${h.at}|${h.device ?? ""}|${h.step}`);

  it("same node: veth → bridge FDB → veth", () => {
    const veth = hostVethName(net.podByName.get("app/a")!);
    assert.deepEqual(steps(run(net, { from: "app/a", to: "app/b:8080" })), [
      "pod app/a|eth0|route",
      `node n1|${veth}|veth`,
      `node n1|${veth}|policy`,
      "node n1|cni0|bridge",
      "pod app/b|eth0|veth",
      "pod app/b|eth0|policy",
      "pod app/b|eth0|deliver",
    ]);
  });

  it("across nodes: routed to flannel.1, VXLAN-encapsulated, decapsulated on the other node", () => {
    const r = run(net, { from: "app/a", to: "app/c:8080" });
    const encap = r.hops.find((h) => h.step === "encap")!;
    assert.equal(encap.detail, "VXLAN encapsulation: outer 172.18.0.2 → 172.18.0.3 UDP 8472, VNI 1");
    assert.deepEqual(encap.packet.outer, {
      src: "172.18.0.2",
      dst: "172.18.0.3",
      protocol: "UDP",
      dport: 8472,
      vni: 1,
    });
    assert.equal(
      r.hops.find((h) => h.step === "route" && h.at === "node n1")?.detail,
      "route lookup: 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink",
    );
    const decap = r.hops.findIndex((h) => h.step === "decap");
    assert.ok(decap > r.hops.findIndex((h) => h.step === "wire"));
    assert.equal(r.hops[decap].packet.outer, undefined);
  });

  it("pod to Service and back: DNAT on the way, conntrack restores the Service address on the reply", () => {
    const r = run(net, { from: "app/a", to: "web.app:http" }, { reply: true });
    const dnat = r.hops.find((h) => h.step === "dnat")!;
    assert.match(
      dnat.detail,
      /^kube-proxy prerouting: service-ips: 10\.96\.0\.50 \. tcp \. 80 : goto service-[A-Z2-7]{8}-app\/web\/tcp\/http → DNAT 10\.96\.0\.50:80 → 10\.244\.\d\.\d:8080/,
    );
    assert.equal(r.reply?.verdict, "delivered");
    const last = r.reply!.hops.at(-1)!;
    assert.equal(last.at, "pod app/a");
    assert.equal(last.packet.src, "10.96.0.50");
    assert.equal(last.packet.sport, 80);
  });

  it("outside client to NodePort and back: masqueraded on the way, restored on the reply", () => {
    const r = run(net, { from: "203.0.113.7", node: "n3", to: "172.18.0.4:30080" }, { reply: true });
    assert.equal(r.masquerade, true);
    assert.equal(r.reply?.verdict, "forwarded");
    const out = r.reply!.hops.at(-1)!;
    assert.equal(out.packet.dst, "203.0.113.7");
    assert.equal(out.packet.src, "172.18.0.4");
    assert.equal(out.packet.sport, 30080);
  });

  it("--all-endpoints: a forced endpoint is followed; an unknown one falls back to the choice", () => {
    const first = run(net, { from: "app/a", to: "web.app:http" });
    const info = net.proxy.frontendAt(parseIPv4("10.96.0.50")!, "TCP", 80)!.info;
    const src = resolveSource(net, "app/a");
    assert.ok(src.ok);
    const reached = info.endpoints.map(
      (e) =>
        trace(net, {
          source: src.value,
          dst: parseIPv4("10.96.0.50")!,
          dport: 80,
          protocol: "TCP",
          endpoint: e,
        }).delivered?.pod,
    );
    assert.deepEqual(reached.sort(), ["app/b", "app/c"]);
    assert.ok(first.chosen && first.endpoints.includes(first.chosen));
  });

  it("sessionAffinity ClientIP: the same client always gets the same endpoint", () => {
    const src = resolveSource(net, "app/a");
    assert.ok(src.ok);
    const chosen = new Set(
      Array.from(
        { length: 20 },
        (_, i) =>
          trace(net, {
            source: src.value,
            dst: parseIPv4("10.96.0.57")!,
            dport: 80,
            protocol: "TCP",
            sport: 40000 + i,
          }).chosen,
      ),
    );
    assert.equal(chosen.size, 1);
    const spread = new Set(
      Array.from(
        { length: 20 },
        (_, i) =>
          trace(net, {
            source: src.value,
            dst: parseIPv4("10.96.0.50")!,
            dport: 80,
            protocol: "TCP",
            sport: 40000 + i,
          }).chosen,
      ),
    );
    assert.equal(spread.size, 2, "without affinity, client ports spread over the endpoints");
  });
});

describe("device view", () => {
  const state = cluster(flowCluster("vxlan"));
  const net = new Network(state);

  it("node n1: eth0, cni0 with the gateway, flannel.1, routes to the other podCIDRs", () => {
    const text = renderNamespace(nodeNamespace(state, state.nodes[0]), { title: "n1" });
    assert.match(text, /inet 172\.18\.0\.2\/24 scope global eth0/);
    assert.match(text, /inet 10\.244\.0\.1\/24 scope global cni0/);
    assert.match(text, /vxlan id 1 local 172\.18\.0\.2 dev eth0 srcport 0 0 dstport 8472 nolearning/);
    assert.match(text, /^10\.244\.1\.0\/24 via 10\.244\.1\.0 dev flannel\.1 onlink$/m);
    assert.match(text, /^10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink$/m);
    assert.match(text, /^10\.244\.0\.0\/24 dev cni0 proto kernel scope link src 10\.244\.0\.1$/m);
    assert.match(text, /^0e:4c:[0-9a-f:]+ dev flannel\.1 dst 172\.18\.0\.3 self permanent$/m);
  });

  it("pod: eth0 with its address, routes via the bridge", () => {
    const pod = state.pods.find((p) => p.metadata.name === "a")!;
    const ns = podNamespace(state, state.nodes[0], pod);
    assert.deepEqual(ns.routes.map(renderRoute), [
      "10.244.0.0/24 dev eth0 proto kernel scope link src 10.244.0.2",
      "10.244.0.0/16 via 10.244.0.1 dev eth0",
      "default via 10.244.0.1 dev eth0",
    ]);
    assert.equal(ns.interfaces[1].mac, "0a:58:0a:f4:00:02");
  });

  for (const cni of ["vxlan", "host-gw", "ipip"] as const) {
    it(`the tracer's routing equals the device view's longest-prefix match (${cni})`, () => {
      const s = cluster(flowCluster(cni));
      const n = new Network(s);
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 2 }),
          fc.oneof(
            fc.integer({ min: 0, max: 0xffffffff }),
            fc.integer({ min: 0x0af40000, max: 0x0af402ff }),
            fc.integer({ min: 0xac120000, max: 0xac1200ff }),
          ),
          (i, ip) => {
            const node = s.nodes[i];
            assert.deepEqual(
              renderRoute(n.nodeRoute(node, ip >>> 0)),
              renderRoute(lookupRoute(nodeNamespace(s, node), ip >>> 0)!),
            );
          },
        ),
        { seed: 3, numRuns: 300 },
      );
    });
  }
  void net;
});

describe("the formal model (FIB)", () => {
  const state = cluster(flowCluster("vxlan"));

  it("a pod's FIB delivers its open ports on localhost and its address, and forwards the rest to its node", () => {
    const b = state.pods.find((p) => p.metadata.name === "b")!;
    assert.deepEqual(
      podFib(b).map((e) => `[${e.src} ${e.srcPort} ${e.dst} ${e.dstPort} ${e.action}]`),
      [
        "[* * 127.0.0.1 8080/TCP Deliver(app/b/main)]",
        "[* * 127.0.0.1 53/UDP Deliver(app/b/main)]",
        "[* * 127.0.0.1 9000/SCTP Deliver(app/b/main)]",
        "[* * 10.244.0.3 8080/TCP Deliver(app/b/main)]",
        "[* * 10.244.0.3 53/UDP Deliver(app/b/main)]",
        "[* * 10.244.0.3 9000/SCTP Deliver(app/b/main)]",
        "[* * * * Forward(n1)]",
      ],
    );
  });

  it("a node's FIB forwards local pods to the pod and remote pods to their node", () => {
    const fib = [...nodeFib(state, state.nodes[0])].map((e) => `${e.dst} ${e.action}`);
    assert.ok(fib.includes("10.244.0.3 Forward(app/b)"));
    assert.ok(fib.includes("10.244.1.2 Forward(n2)"));
    assert.ok(
      !fib.some((e) => e.startsWith("172.18.0.4")),
      "n3's host-network exporter is n3's daemon, not n1's",
    );
    assert.ok(
      [...nodeFib(state, state.nodes[2])].some(
        (e) => e.dst === "172.18.0.4" && e.action === "Deliver(app/exporter/exporter)",
      ),
    );
  });
});

describe("check", () => {
  it("finds no violation in a healthy cluster", () => {
    const r = checkModel(new Network(cluster(flowCluster("vxlan"))));
    assert.deepEqual(r.violations, []);
    assert.ok(r.traced > 10);
  });

  it("reports shared addresses and containers of one pod opening the same port", () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: twin}
spec:
  containers:
    - {name: one, ports: [{containerPort: 80}]}
    - {name: two, ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: squatter}
spec: {nodeName: node-1, containers: [{name: c}]}
status: {phase: Running, podIP: 10.244.0.200}
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {clusterIP: 10.244.0.200, ports: [{port: 80}]}
`;
    const r = checkModel(new Network(cluster(text)));
    assert.deepEqual(
      r.violations.map((v) => `${v.requirement}: ${v.message}`),
      [
        "unique-addresses: 10.244.0.200 belongs to both pod default/squatter and Service default/s",
        "localhost: pod default/twin: containers one and two both open 80/TCP; only one can bind it on the pod's shared localhost",
        // The clash breaks reachability: kube-proxy captures the pod's address as a ClusterIP.
        "pod-to-pod: pod default/twin cannot reach pod default/squatter at 10.244.0.200: 10.244.0.200 is a ClusterIP, but no Service port 9/TCP is defined on it",
        "node-to-pod: node node-1 cannot reach pod default/squatter at 10.244.0.200: 10.244.0.200 is a ClusterIP, but no Service port 9/TCP is defined on it",
      ],
    );
  });
});

describe("check: addressing", () => {
  it("reports a pod whose given IP lies outside its node's podCIDR", () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: stray}
spec: {nodeName: node-1, containers: [{name: c}]}
status: {phase: Running, podIP: 10.244.1.200}
---
apiVersion: v1
kind: Pod
metadata: {name: other}
spec: {nodeName: node-2, containers: [{name: c}]}
`;
    const r = checkModel(new Network(cluster(text)));
    assert.deepEqual(
      r.violations.map((v) => `${v.requirement}: ${v.message}`),
      [
        "pod-in-node-range: pod default/stray has 10.244.1.200, outside its node node-1's podCIDR 10.244.0.0/24: other nodes route that address elsewhere (to node-2) unless a host route is added",
        // With the host routes, node-2 reaches it; node-2's pods do not: the address is in their own
        // subnet, so they ARP for it on their link, and nobody there answers.
        "pod-to-pod: pod default/other cannot reach pod default/stray at 10.244.1.200: 10.244.1.200 is on pod default/other's link (its subnet) but on no pod of node node-2: it is default/stray's, on node node-1, outside that node's podCIDR; the ARP request gets no answer",
      ],
    );
  });
});

describe("property: without policies, every pod reaches every pod with its source unchanged", () => {
  it("random clusters", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom("vxlan", "host-gw", "ipip"),
        fc.integer({ min: 0, max: 1000 }),
        (nodes, replicas, cni, seed) => {
          const text = `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: p}\nspec: {nodes: ${nodes}, cni: ${cni}}\n---\n${replicas.map((r, i) => deployment(`d${i}-${seed}`, { replicas: r })).join("---\n")}`;
          const net = new Network(cluster(text));
          const pods = [...net.podByIP.values()];
          for (const a of pods) {
            for (const b of pods) {
              const r = trace(net, {
                source: { kind: "pod", pod: a },
                dst: parseIPv4(b.status!.podIP!)!,
                dport: 8080,
                protocol: "TCP",
              });
              assert.equal(r.verdict, "delivered", r.reason);
              assert.equal(r.delivered?.pod, `${b.metadata.namespace}/${b.metadata.name}`);
              assert.equal(r.delivered?.seenSource.split(":")[0], a.status!.podIP);
              assert.equal(r.masquerade, false);
            }
          }
        },
      ),
      { seed: 11, numRuns: 25 },
    );
  });
});

describe("the rendered rules decide as the model does", () => {
  it("every Service frontend of the examples, from pods, nodes and outside, on every node, in both proxy modes", () => {
    for (const [dir, mode] of ["examples/articles", "examples/shop", "examples/live-dump"].flatMap((d) => [
      [d, "nftables"],
      [d, "iptables"],
    ])) {
      const r = loadCluster({ files: [dir] });
      assert.ok(r.ok);
      r.cluster.config.proxyMode = mode as "nftables" | "iptables";
      const model = new Network(r.cluster);
      const rules = new Network(r.cluster, { proxy: "rules" });
      const pod = [...model.podByIP.values()][0];
      for (const node of r.cluster.nodes) {
        for (const info of model.proxy.ports) {
          const targets: [number, number][] = [];
          if (info.clusterIP !== undefined)
            targets.push([info.clusterIP, info.port.port], [info.clusterIP, info.port.port + 1]);
          for (const ip of [...info.lbIPs, ...info.externalIPs]) targets.push([ip, info.port.port]);
          if (info.nodePort !== undefined) targets.push([node.ip, info.nodePort]);
          for (const [dst, dport] of targets) {
            for (const [src, fromHost] of [
              [parseIPv4(pod.status!.podIP!)!, false],
              [node.ip, true],
              [parseIPv4("203.0.113.9")!, false],
            ] as const) {
              const packet = {
                node,
                src,
                sport: 40000,
                dst,
                dport,
                protocol: info.protocol,
                fromHost,
                toLocalAddress: model.isNodeAddress(node, dst),
              };
              const a = model.decider.decide(packet);
              const b = rules.decider.decide(packet);
              const summary = (x: typeof a) =>
                x.kind === "dnat"
                  ? {
                      kind: x.kind,
                      candidates: x.candidates.map((e) => `${e.ip}:${e.port}`).sort(),
                      chosen: `${x.chosen.ip}:${x.chosen.port}`,
                      masquerade: x.masquerade,
                      service: x.service.name,
                    }
                  : { kind: x.kind };
              assert.deepEqual(
                summary(b),
                summary(a),
                `${dir} node ${node.name}: ${src} → ${dst}:${dport}/${info.protocol}${fromHost ? " (host)" : ""}`,
              );
            }
          }
        }
      }
    }
  });
});

describe("what NetworkPolicy never blocks: the pod's own node, and the pod itself", () => {
  for (const cni of ["vxlan", "host-gw", "ipip"])
    for (const judge of ["model", "rules"] as const)
      it(`${cni}, kube-proxy by the ${judge === "model" ? "model" : "rendered rules"}: from and to its node yes, other nodes and NodePort clients no`, () => {
        const net = new Network(cluster(NODE_EXEMPTION_CLUSTER(cni)), { proxy: judge });
        const verdict = (from: string, to: string, node?: string) => run(net, { from, to, node }).verdict;
        // web's ingress admits only peer; locked may send nothing.
        assert.equal(verdict("default/peer", "default/web:8080"), "delivered");
        assert.equal(verdict("default/locked", "default/web:8080"), "dropped");
        // From web's node (its processes, the kubelet's probes; a host-network pod there): allowed.
        const fromNode = run(net, { from: "node/node-1", to: "default/web:8080" });
        assert.equal(fromNode.verdict, "delivered");
        assert.match(
          fromNode.hops.map((h) => h.detail).join("\n"),
          /from its own node node-1 .*never blocks/,
        );
        assert.equal(verdict("default/hn1", "default/web:8080"), "delivered");
        // From the other node, or a host-network pod there: the policy decides.
        assert.equal(verdict("node/node-2", "default/web:8080"), "dropped");
        assert.equal(verdict("default/hn2", "default/web:8080"), "dropped");
        // web through its own Service (hairpin, masqueraded to its node's bridge address): allowed.
        const hairpin = run(net, { from: "default/web", to: "web.default:80" });
        assert.equal(hairpin.verdict, "delivered");
        assert.equal(hairpin.masquerade, true);
        // An outside client through node-1's NodePort, masqueraded to node-1's address on the way:
        // the node only passes it on, so the policy still decides.
        assert.equal(verdict("203.0.113.7", "172.18.0.2:30080", "node-1"), "dropped");
        // locked to its own node (a host-network pod there): allowed; to the other node: denied.
        assert.equal(verdict("default/locked", "default/hn1:9100"), "delivered");
        assert.equal(verdict("default/locked", "default/hn2:9100"), "dropped");
      });

  it("matrix and connlist say the same, pair by pair", () => {
    const state = cluster(NODE_EXEMPTION_CLUSTER("vxlan"));
    const net = new Network(state);
    const m = computeMatrix(state, { protocol: "TCP", port: 8080 });
    const at = (name: string) => m.pods.indexOf(`default/${name}`);
    for (const [from, to, want] of [
      ["hn1", "web", true],
      ["hn2", "web", false],
      ["locked", "hn1", true],
      ["locked", "hn2", false],
      ["hn1", "locked", true],
      ["peer", "web", true],
      ["locked", "web", false],
    ] as const)
      assert.equal(m.allowed(at(from), at(to)), want, `${from} → ${to}`);
    // The count is the pairs' count, and every pair agrees with the tracer.
    let pairs = 0;
    for (let i = 0; i < m.pods.length; i++)
      for (let j = 0; j < m.pods.length; j++) {
        if (m.allowed(i, j)) pairs++;
        if (i === j) continue;
        const r = run(net, { from: m.pods[i], to: `${m.pods[j]}:8080` });
        assert.equal(r.verdict !== "dropped", m.allowed(i, j), `${m.pods[i]} → ${m.pods[j]}: ${r.reason}`);
      }
    assert.equal(m.allowedPairs(), pairs);
    const lines = connlist(state).map((c) => `${c.src} => ${c.dst} : ${c.conn}`);
    assert.ok(lines.includes("default/hn1[Pod] => default/web[Pod] : All Connections"), lines.join("\n"));
    assert.ok(lines.includes("default/locked[Pod] => default/hn1[Pod] : All Connections"), lines.join("\n"));
    assert.ok(!lines.some((l) => l.startsWith("default/hn2[Pod] => default/web[Pod]")), lines.join("\n"));
    assert.ok(!lines.some((l) => l.startsWith("default/locked[Pod] => default/hn2[Pod]")), lines.join("\n"));
  });
});
