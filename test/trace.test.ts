/**
 * The network model and the tracer: the shared packet-flow cases on every CNI mode, the articles'
 * walk-throughs, replies through conntrack, the device view, the formal model and `check`.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { hostVethName } from "../src/core/cni/bridge.ts";
import { listenerPorts, planCluster } from "../src/core/dataplane/plan.ts";
import { judge, probeCases } from "../src/core/dataplane/probe.ts";
import {
  lookupRoute,
  nodeNamespace,
  podNamespace,
  renderNamespace,
  renderRoute,
} from "../src/core/graph/devices.ts";
import { nodeFib, podFib } from "../src/core/graph/fib.ts";
import { formatIPv4, parseIPv4 } from "../src/core/net/ipv4.ts";
import { connlist } from "../src/core/policy/connlist.ts";
import { computeMatrix } from "../src/core/policy/matrix.ts";
import { checkModel } from "../src/core/sim/check.ts";
import { explainConnection } from "../src/core/sim/explain.ts";
import { Network } from "../src/core/sim/network.ts";
import { servedPorts } from "../src/core/sim/served-ports.ts";
import { resolveDestination, resolveSource } from "../src/core/sim/targets.ts";
import { summarizeTraces, type TraceResult, trace, traceEachEndpoint } from "../src/core/sim/trace.ts";
import { loadCluster } from "../src/index.ts";
import { NODE_EXEMPTION_CLUSTER } from "./cases/node-exemption.ts";
import { FLOW_CASES, type FlowCase, flowCluster } from "./cases/packet-flows.ts";
import { UNDECLARED_PORTS_CLUSTER } from "./cases/undeclared-ports.ts";
import { cluster, deployment, runPodnet } from "./helpers.ts";

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

  it("a nodePort on the pod's own bridge address (iptables: every local address) is routed by the node, not switched", () => {
    const ipt = new Network(cluster(flowCluster("vxlan", "iptables")));
    const n1 = ipt.state.nodes.find((n) => n.name === "n1")!;
    const r = run(ipt, { from: "app/a", to: `${formatIPv4(ipt.deviceAddress(n1, "cni0"))}:30080` });
    assert.equal(r.verdict, "delivered", r.reason);
    const dnat = r.hops.findIndex((h) => h.step === "dnat");
    const input = r.hops.findIndex((h) => h.step === "input");
    assert.ok(dnat >= 0 && input > dnat, steps(r).join("\n"));
    assert.match(r.hops[input].detail, /the frame went up to the node's IP stack/);
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
      /^nftables nat-prerouting → services: service-ips: 10\.96\.0\.50 \. tcp \. 80 : goto service-[A-Z2-7]{8}-app\/web\/tcp\/http → DNAT 10\.96\.0\.50:80 → 10\.244\.\d\.\d:8080/,
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

  it("a pod's FIB delivers its served ports (declared, or a Service's numeric targetPort) on localhost and its address, and forwards the rest to its node", () => {
    const b = state.pods.find((p) => p.metadata.name === "b")!;
    assert.deepEqual(
      podFib(state, b).map((e) => `[${e.src} ${e.srcPort} ${e.dst} ${e.dstPort} ${e.action}]`),
      [
        "[* * 127.0.0.1 8080/TCP Deliver(app/b/main)]",
        "[* * 127.0.0.1 53/UDP Deliver(app/b/main)]",
        "[* * 127.0.0.1 9000/SCTP Deliver(app/b/main)]",
        "[* * 127.0.0.1 8443/TCP Deliver(app/b)]",
        "[* * 10.244.0.3 8080/TCP Deliver(app/b/main)]",
        "[* * 10.244.0.3 53/UDP Deliver(app/b/main)]",
        "[* * 10.244.0.3 9000/SCTP Deliver(app/b/main)]",
        "[* * 10.244.0.3 8443/TCP Deliver(app/b)]",
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

describe("ports nobody declared: a packet arrives where no container declares the port (issue 12 §4)", () => {
  const state = cluster(UNDECLARED_PORTS_CLUSTER);
  const net = new Network(state);
  const podOf = (key: string) => net.podByName.get(key)!;

  it("a port is known to be served when a container declares it or a Service's targetPort resolves to it", () => {
    const served = servedPorts(state);
    assert.deepEqual(served.of(podOf("demo/deathstar-1")), [
      {
        port: 8000,
        protocol: "TCP",
        by: "service",
        services: [
          "demo/deathstar",
          "demo/deathstar-np",
          "demo/deathstar-npl",
          "demo/deathstar-ext",
          "demo/deathstar-lb",
        ],
      },
    ]);
    assert.deepEqual(served.of(podOf("demo/tiefighter")), []);
    assert.deepEqual(
      served.of(podOf("kube-system/coredns")).map((p) => `${p.container} ${p.port}/${p.protocol} ${p.by}`),
      ["coredns 53/UDP declared", "coredns 53/TCP declared"],
    );
    assert.deepEqual(
      served.of(podOf("demo/db-1")).map((p) => `${p.port}/${p.protocol} ${p.by} ${p.services}`),
      ["5432/TCP service demo/db"],
    );
  });

  it("to a Service whose pods declare no ports: delivered to the pod on the target port", () => {
    const r = run(net, { from: "demo/tiefighter", to: "deathstar.demo:80" });
    assert.equal(r.verdict, "delivered", r.reason);
    assert.ok(["demo/deathstar-1", "demo/deathstar-2"].includes(r.delivered!.pod!));
    assert.equal(
      r.delivered!.container,
      undefined,
      "no container declares 8000: which one serves it is unknown",
    );
    assert.match(r.reason, /^pod demo\/deathstar-\d receives it from 10\.244\.0\.\d+:\d+$/);
    assert.match(r.hops.at(-1)!.detail, /no container declares but Services demo\/deathstar, .* send there/);
    // The same port on the pod's own address: the Service sends there, so it is served.
    assert.equal(run(net, { from: "demo/xwing", to: "demo/deathstar-1:8000" }).verdict, "delivered");
  });

  it("to a port nobody declares and no Service targets: arrived, not a refusal", () => {
    for (const [from, to, where] of [
      ["demo/tiefighter", "demo/deathstar-2:8080", "pod demo/deathstar-2"],
      ["demo/tiefighter", "demo/xwing:80", "pod demo/xwing"],
      ["node/n1", "demo/xwing:443", "pod demo/xwing"],
      ["demo/tiefighter", "10.244.1.3:9", "pod demo/xwing"],
      ["demo/xwing", "node/n1:10250", "node n1"],
    ] as const) {
      const r = run(net, { from, to }, { reply: true });
      assert.equal(r.verdict, "arrived", `${from} → ${to}: ${r.reason}`);
      assert.equal(r.hops.at(-1)!.at, where);
      assert.equal(r.hops.at(-1)!.step, "arrive");
      assert.match(r.reason, /^arrives at (pod|node) .* so whether a process listens is unknown$/);
      assert.equal(r.delivered, undefined);
      // The way back an answer (or the kernel's reset) takes.
      assert.equal(r.reply?.verdict, "delivered", `${from} → ${to}: the way back`);
    }
  });

  it("explain: a connection that arrives is allowed", () => {
    const src = resolveSource(net, "demo/tiefighter");
    assert.ok(src.ok);
    const e = explainConnection(net, {
      source: src.value,
      dst: parseIPv4(podOf("demo/xwing").status!.podIP!)!,
      dport: 80,
      protocol: "TCP",
    });
    assert.equal(e.explanations.length, 1);
    assert.equal(e.explanations[0].allowed, true);
    assert.match(e.explanations[0].outcome, /^arrived: arrives at pod demo\/xwing on 80\/TCP/);
  });

  it("check: pods that declare no ports are reached (at a Service's target port, else arriving on 9)", () => {
    const r = checkModel(net);
    assert.deepEqual(r.violations, []);
    assert.ok(r.traced >= 10);
  });

  it("the data plane's listeners: every declared port and every port a Service sends to, nothing else", () => {
    const plan = planCluster(state, "i12");
    const ports = (key: string) =>
      plan.pods
        .find((p) => p.key === key)!
        .ports.map((p) => `${p.container} ${p.port}/${p.protocol}${p.dns ? " dns" : ""}`);
    assert.deepEqual(ports("demo/deathstar-1"), ["main 8000/TCP"]);
    assert.deepEqual(ports("demo/db-0"), ["main 5432/TCP"]);
    assert.deepEqual(ports("demo/tiefighter"), []);
    assert.deepEqual(ports("kube-system/coredns"), ["coredns 53/UDP dns", "coredns 53/TCP dns"]);
    assert.deepEqual(listenerPorts(state, podOf("demo/shield-2")), [
      { container: "main", port: 8000, protocol: "TCP" },
    ]);
  });

  it("probe: arrived predicts the kernel's refusal (a reset from the pod); a drop predicts a timeout", () => {
    const cases = probeCases(state, { protocol: "TCP" });
    const find = (from: string, to: string) => {
      const c = cases.find((x) => x.from === from && x.to === to);
      assert.ok(c, `${from} → ${to} among ${cases.length} cases`);
      return c;
    };
    const open = find("demo/tiefighter", "demo/xwing:9/TCP");
    assert.equal(open.arrives, true);
    assert.equal(judge(open, { ok: false, error: "ECONNREFUSED" }).agree, true);
    assert.equal(judge(open, { ok: false, error: "timeout" }).agree, false);
    assert.equal(
      judge(open, { ok: true, answer: { pod: "demo/xwing", client: "10.244.0.3:1" } }).agree,
      false,
    );
    const fromNode = find("node/n2", "demo/deathstar-1:9/TCP");
    assert.equal(fromNode.arrives, true);
    const locked = find("locked/hermit", "demo/xwing:9/TCP");
    assert.equal(locked.arrives, false, locked.reason);
    assert.match(locked.reason!, /^dropped: /);
    assert.equal(judge(locked, { ok: false, error: "timeout" }).agree, true);
    assert.equal(judge(locked, { ok: false, error: "ECONNREFUSED" }).agree, false);
    // The Service's target port is probed like a declared one: the listener answers there.
    const target = find("demo/tiefighter", "demo/deathstar-2:8000/TCP");
    assert.equal(target.arrives, undefined);
    assert.deepEqual([...target.allowed.keys()], ["demo/deathstar-2"]);
  });
});

describe("--all-endpoints: one trace per endpoint for every kind of frontend (issue 12 §3)", () => {
  const state = cluster(UNDECLARED_PORTS_CLUSTER);
  const net = new Network(state);
  const lb = state.services.find((s) => s.metadata.name === "deathstar-lb")!.status!.loadBalancer!.ingress![0]
    .ip!;
  const d1 = net.podByName.get("demo/deathstar-1")!.status!.podIP!;
  const d2 = net.podByName.get("demo/deathstar-2")!.status!.podIP!;
  const BOTH = [`${d1}:8000`, `${d2}:8000`].sort();
  const cases: [string, string, string, string | undefined, string[], boolean][] = [
    ["ClusterIP from a pod", "demo/tiefighter", "10.96.0.80:80", undefined, BOTH, false],
    ["ClusterIP from a node", "node/n1", "10.96.0.80:80", undefined, BOTH, true],
    ["ClusterIP from outside", "203.0.113.7", "10.96.0.80:80", "n1", BOTH, true],
    ["nodePort from outside", "203.0.113.7", "172.18.0.3:30080", "n2", BOTH, true],
    ["nodePort from a pod, on another node", "demo/tiefighter", "172.18.0.3:30080", undefined, BOTH, true],
    ["nodePort from its own node", "node/n1", "172.18.0.2:30080", undefined, BOTH, true],
    [
      "nodePort, externalTrafficPolicy Local, from outside",
      "203.0.113.7",
      "172.18.0.3:30081",
      "n2",
      [`${d2}:8000`],
      false,
    ],
    ["externalIP from outside", "203.0.113.7", "192.0.2.80:80", "n1", BOTH, true],
    ["externalIP from a pod", "demo/xwing", "192.0.2.80:80", undefined, BOTH, true],
    ["load-balancer IP from outside", "203.0.113.7", `${lb}:443`, "n2", BOTH, true],
  ];
  for (const [what, from, to, node, endpoints, masquerade] of cases)
    it(what, () => {
      const src = resolveSource(net, from, node);
      const dst = resolveDestination(net, to);
      assert.ok(src.ok && dst.ok);
      const req = {
        source: src.value,
        dst: dst.value.ip,
        dport: dst.value.port,
        protocol: dst.value.protocol,
      };
      const { first, traces } = traceEachEndpoint(net, req, { reply: true });
      assert.deepEqual([...first.endpoints].sort(), endpoints);
      assert.deepEqual(traces.map((t) => t.endpoint).sort(), endpoints);
      for (const t of traces) {
        assert.equal(t.verdict, "delivered", `${t.endpoint}: ${t.reason}`);
        assert.equal(t.chosen, t.endpoint, "each trace goes to its own endpoint");
        const owner = net.podByIP.get(parseIPv4(t.endpoint.split(":")[0])!)!;
        assert.equal(t.delivered!.pod, `${owner.metadata.namespace}/${owner.metadata.name}`);
        assert.equal(t.masquerade, masquerade, `${t.endpoint}: masquerade`);
        assert.equal(t.reply?.verdict, from.startsWith("203.") ? "forwarded" : "delivered");
        // The client's conntrack sees the reply come from where it sent the request, whichever node
        // the endpoint is on (on the client's own bridge too: br_netfilter).
        if (!from.startsWith("203."))
          assert.equal(t.reply?.delivered?.seenSource, to, `${t.endpoint}: the reply's source`);
      }
      assert.deepEqual(summarizeTraces(traces), {
        verdict: "delivered",
        reason: endpoints.length === 1 ? traces[0].reason : `all ${endpoints.length} endpoints: delivered`,
        getsThere: true,
      });
    });

  it("no Service on the way: no per-endpoint traces", () => {
    const src = resolveSource(net, "demo/tiefighter");
    assert.ok(src.ok);
    const { traces } = traceEachEndpoint(net, {
      source: src.value,
      dst: parseIPv4(d2)!,
      dport: 8000,
      protocol: "TCP",
    });
    assert.deepEqual(traces, []);
  });

  it("the summary: one verdict when all agree, else mixed; it gets there only when every trace does", () => {
    const t = (verdict: TraceResult["verdict"]) => ({ verdict, reason: verdict });
    assert.deepEqual(summarizeTraces([t("arrived"), t("arrived")]), {
      verdict: "arrived",
      reason: "all 2 endpoints: arrived",
      getsThere: true,
    });
    assert.deepEqual(summarizeTraces([t("delivered"), t("dropped"), t("delivered")]), {
      verdict: "mixed",
      reason: "of 3 endpoints: 2 delivered, 1 dropped",
      getsThere: false,
    });
    assert.equal(summarizeTraces([t("delivered"), t("forwarded")]).getsThere, true);
    assert.equal(summarizeTraces([t("rejected")]).getsThere, false);
    assert.equal(summarizeTraces([]).getsThere, false);
  });

  it("a headless Service's name stands for each of its endpoints' addresses", () => {
    const dst = resolveDestination(net, "db.demo:pg");
    assert.ok(dst.ok, !dst.ok ? dst.message : "");
    const ips = ["demo/db-0", "demo/db-1"].map((k) => net.podByName.get(k)!.status!.podIP!);
    assert.equal(dst.value.port, 5432);
    assert.equal(formatIPv4(dst.value.ip), ips[0]);
    assert.deepEqual(dst.value.addresses?.map(formatIPv4), ips);
    assert.match(dst.value.label, /^headless Service demo\/db \(10\.244\.0\.\d+, one of 2 addresses\)$/);
  });
});

describe("trace and explain on the command line: a verdict always, exit 1 when it does not get there (issue 12 §3)", () => {
  const dir = mkdtempSync(join(tmpdir(), "podnet-i12-"));
  const file = join(dir, "cluster.yaml");
  writeFileSync(file, UNDECLARED_PORTS_CLUSTER);
  const podnet = (...args: string[]) => runPodnet([args[0], "-f", file, ...args.slice(1)]);
  const json = (...args: string[]) => {
    const r = podnet(...args, "-o", "json");
    return { code: r.code, err: r.err, v: JSON.parse(r.out) };
  };

  it("exit status and the JSON verdict, per outcome", () => {
    for (const [from, to, verdict, code] of [
      ["demo/tiefighter", "deathstar:80", "delivered", 0],
      ["demo/tiefighter", "demo/xwing:8080", "arrived", 0],
      ["demo/tiefighter", "203.0.113.50:443", "forwarded", 0],
      ["locked/hermit", "demo/xwing:8080", "dropped", 1],
      ["demo/tiefighter", "empty:80", "rejected", 1],
      ["demo/tiefighter", "nosuch:80", "unresolved", 1],
      ["locked/hermit", "deathstar.demo:80", "unresolved", 1],
    ] as const) {
      const r = json("trace", "--from", from, "--to", to);
      assert.equal(r.v.verdict, verdict, `${from} → ${to}: ${r.v.reason}`);
      assert.equal(typeof r.v.reason, "string");
      assert.equal(r.code, code, `${from} → ${to}: exit ${r.code} ${r.err}`);
      const text = podnet("trace", "--from", from, "--to", to);
      assert.equal(text.code, code);
      assert.match(text.out, new RegExp(`^${verdict}: `, "m"));
    }
  });

  it("a name whose DNS query does not arrive: unresolved, with the query's trace and the reason", () => {
    const { v } = json("trace", "--from", "locked/hermit", "--to", "deathstar.demo:80");
    assert.match(
      v.reason,
      /^the name cannot be resolved: the DNS query does not arrive \(dropped: NetworkPolicy egress/,
    );
    assert.equal(v.dns.query.verdict, "dropped");
    assert.deepEqual(v.hops, []);
    const nx = json("trace", "--from", "demo/tiefighter", "--to", "nosuch:80").v;
    assert.match(nx.reason, /^"nosuch" does not resolve from demo\/tiefighter \(\d+ queries/);
    assert.ok(nx.dns.resolution.queries.length > 0);
  });

  it("--all-endpoints: a summarising verdict, each trace with its own verdict and masquerade", () => {
    const np = json(
      "trace",
      "--from",
      "203.0.113.7",
      "--node",
      "n2",
      "--to",
      "172.18.0.3:30080",
      "--all-endpoints",
    );
    assert.equal(np.code, 0);
    assert.equal(np.v.verdict, "delivered");
    assert.equal(np.v.masquerade, true);
    assert.equal(np.v.traces.length, 2);
    for (const t of np.v.traces) {
      assert.equal(t.verdict, "delivered");
      assert.equal(t.masquerade, true);
      assert.equal(t.chosen, t.endpoint);
    }
    const mixed = json("trace", "--from", "demo/tiefighter", "--to", "shield:80", "--all-endpoints");
    assert.equal(mixed.v.verdict, "mixed");
    assert.equal(mixed.v.reason, "of 2 endpoints: 1 delivered, 1 dropped");
    assert.equal(mixed.code, 1);
    const text = podnet("trace", "--from", "demo/tiefighter", "--to", "shield:80", "--all-endpoints");
    assert.match(text.out, /^all endpoints: mixed: of 2 endpoints: 1 delivered, 1 dropped$/m);
    for (const [from, to] of [
      ["demo/tiefighter", "db:5432"],
      ["node/n1", "db.demo:pg"],
    ]) {
      const h = json("trace", "--from", from, "--to", to, "--all-endpoints");
      assert.equal(h.code, 0, h.err);
      assert.equal(h.v.verdict, "delivered");
      assert.deepEqual(
        h.v.endpoints,
        h.v.traces.map((t: { endpoint: string }) => t.endpoint),
      );
      assert.deepEqual(
        h.v.traces.map((t: { endpoint: string; delivered: { pod: string } }) => t.delivered.pod),
        ["demo/db-0", "demo/db-1"],
      );
    }
    const direct = json("trace", "--from", "demo/tiefighter", "--to", "demo/xwing:80", "--all-endpoints");
    assert.equal(direct.v.verdict, "arrived");
    assert.equal(direct.v.traces.length, 1);
  });

  it("explain exits 1 when the connection is denied (to any endpoint), 0 when allowed", () => {
    const allowed = json("explain", "--from", "demo/tiefighter", "--to", "deathstar.demo:80");
    assert.equal(allowed.code, 0);
    assert.equal(allowed.v.allowed, true);
    const partly = json("explain", "--from", "demo/tiefighter", "--to", "shield.demo:80");
    assert.equal(partly.code, 1);
    assert.equal(partly.v.allowed, false);
    assert.deepEqual(partly.v.explanations.map((e: { allowed: boolean }) => e.allowed).sort(), [false, true]);
    assert.equal(podnet("explain", "--from", "locked/hermit", "--to", "demo/xwing:80").code, 1);
    assert.equal(podnet("explain", "--from", "demo/tiefighter", "--to", "demo/xwing:80").code, 0);
    assert.equal(podnet("explain", "--from", "demo/tiefighter", "--to", "nosuch:80").code, 1);
  });
});

describe("trace --to NAME and resolve: one resolution, the same queries, answer and verdict (issue 12 §3)", () => {
  const dir = mkdtempSync(join(tmpdir(), "podnet-i12-names-"));
  const file = join(dir, "cluster.yaml");
  writeFileSync(file, UNDECLARED_PORTS_CLUSTER);
  const json = (...args: string[]) => {
    const r = runPodnet([args[0], "-f", file, ...args.slice(1), "-o", "json"]);
    return { code: r.code, v: JSON.parse(r.out) };
  };

  it("on each case, trace shows the queries and DNS query trace resolve gives, and fails exactly when resolve does", () => {
    for (const [from, name, resolves, rcodes] of [
      ["demo/tiefighter", "deathstar", true, ["NOERROR"]],
      // The name as is lies outside the cluster zone: podnet's DNS forwards nowhere, it refuses.
      ["demo/tiefighter", "nosuch", false, ["NXDOMAIN", "NXDOMAIN", "NXDOMAIN", "REFUSED"]],
      // The zone has the name, but the hermit's egress keeps its query from the DNS pods.
      ["locked/hermit", "deathstar.demo", false, ["TIMEOUT"]],
    ] as const) {
      const r = json("resolve", "--from", from, name);
      const t = json("trace", "--from", from, "--to", `${name}:80`);
      const what = `${from} → ${name}`;
      assert.equal(r.code, resolves ? 0 : 1, what);
      assert.equal(t.code, resolves ? 0 : 1, what);
      assert.equal(t.v.verdict === "unresolved", !resolves, `${what}: ${t.v.reason}`);
      assert.deepEqual(
        r.v.queries.map((q: { answer: { rcode: string } }) => q.answer.rcode),
        rcodes,
        what,
      );
      assert.deepEqual(t.v.dns.resolution.queries, r.v.queries, `${what}: the queries shown`);
      assert.deepEqual(t.v.dns.resolution.result, r.v.result, `${what}: the answer`);
      assert.deepEqual(t.v.dns.query, r.v.exchange.query, `${what}: the DNS query's trace`);
      assert.equal(t.v.dns.resolution.exchange, undefined, "the query's trace is kept once");
    }
  });

  it("a name whose DNS query is dropped: the text shows the queries timing out and the dropped query, as resolve does", () => {
    const t = runPodnet(["trace", "-f", file, "--from", "locked/hermit", "--to", "deathstar.demo:80"]);
    assert.equal(t.code, 1);
    assert.match(t.out, /^ {2}1\. deathstar\.demo\.locked\.svc\.cluster\.local\. A → TIMEOUT /m);
    assert.doesNotMatch(t.out, /NOERROR/);
    assert.match(t.out, /^trace UDP locked\/hermit → cluster DNS 10\.96\.0\.10:53 \(each query above\)$/m);
    assert.match(t.out, /^dropped: NetworkPolicy egress/m);
    assert.match(
      t.out,
      /^unresolved: the name cannot be resolved: the DNS query does not arrive \(dropped: /m,
    );
    const r = runPodnet(["resolve", "-f", file, "--from", "locked/hermit", "deathstar.demo"]);
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /^ {2}1\. deathstar\.demo\.locked\.svc\.cluster\.local\. A @10\.96\.0\.10 → TIMEOUT$/m,
    );
  });
});

describe("trace and explain from or to a Pending pod: the scheduler's reason, as check gives it (issue 12 §3)", () => {
  const dir = mkdtempSync(join(tmpdir(), "podnet-i12-pending-"));
  const file = join(dir, "cluster.yaml");
  writeFileSync(
    file,
    `${UNDECLARED_PORTS_CLUSTER}---
apiVersion: v1
kind: Pod
metadata: {name: waiting, namespace: demo}
spec: {nodeSelector: {disk: ssd}, containers: [{name: c, image: x}]}
`,
  );
  const reason =
    "it is Pending: 0/2 nodes are available: 2 node(s) didn't match Pod's node selector (disk=ssd)";

  it("names the reason on both ends, for trace and explain (a usage error, exit 2)", () => {
    for (const command of ["trace", "explain"])
      for (const [from, to, option, end] of [
        ["demo/waiting", "demo/xwing:8080", "--from", "; it cannot send"],
        ["demo/xwing", "demo/waiting:80", "--to", ""],
      ]) {
        const r = runPodnet([command, "-f", file, "--from", from, "--to", to]);
        assert.equal(r.code, 2, `${command} ${from} → ${to}: ${r.err}`);
        assert.ok(
          r.err.split("\n").includes(`error: ${option}: pod demo/waiting has no address (${reason})${end}`),
          r.err,
        );
      }
  });

  it("check reports the same reason", () => {
    const r = runPodnet(["check", "-f", file]);
    assert.equal(r.code, 1);
    assert.match(`${r.out}${r.err}`, /didn't match Pod's node selector \(disk=ssd\)/);
  });
});
