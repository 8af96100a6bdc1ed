/**
 * The formal model's FIBs (src/core/graph/fib.ts) deliver exactly the ports the tracer delivers: the
 * ports known to be served (declared by a container, or a Service's targetPort resolving to the pod,
 * src/core/sim/served-ports.ts). Any other port matches only the default entry, and the tracer says
 * the packet `arrived` (issue 12 §4).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClusterState } from "../src/core/control/state.ts";
import { formatDiagnostic } from "../src/core/diagnostics.ts";
import { type FibEntry, nodeFib, podFib } from "../src/core/graph/fib.ts";
import type { Pod, Protocol } from "../src/core/model/k8s.ts";
import { formatIPv4, parseIPv4 } from "../src/core/net/ipv4.ts";
import { checkModel } from "../src/core/sim/check.ts";
import { Network } from "../src/core/sim/network.ts";
import { trace } from "../src/core/sim/trace.ts";
import { loadCluster } from "../src/index.ts";
import { UNDECLARED_PORTS_CLUSTER } from "./cases/undeclared-ports.ts";
import { cluster, pod } from "./helpers.ts";

/** A pod that declares no port but is a Service's endpoint on targetPort 8080; a host-network exporter likewise on 9100. */
const SERVICE_ONLY = `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: fib}
spec:
  nodes:
    - {name: n1, ip: 172.18.0.2, podCIDR: 10.244.0.0/24}
    - {name: n2, ip: 172.18.0.3, podCIDR: 10.244.1.0/24}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app, labels: {app: web}}
spec:
  nodeName: n1
  containers: [{name: main, image: web}, {name: sidecar, image: proxy, ports: [{containerPort: 15000}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: exporter, namespace: mon, labels: {app: exporter}}
spec:
  nodeName: n2
  hostNetwork: true
  containers: [{name: exporter, image: node-exporter}]
---
apiVersion: v1
kind: Service
metadata: {name: exporter, namespace: mon}
spec:
  clusterIP: None
  selector: {app: exporter}
  ports: [{name: metrics, port: 9100}]
`;

const row = (e: FibEntry) => `[${e.src} ${e.srcPort} ${e.dst} ${e.dstPort} ${e.action}]`;

describe("the FIB delivers the ports known to be served", () => {
  const state = cluster(SERVICE_ONLY);
  const net = new Network(state);

  it("a pod that declares no port but is a Service's endpoint on targetPort 8080: its FIB delivers 8080", () => {
    const web = pod(state, "app", "web");
    const ip = web.status!.podIP!;
    assert.deepEqual(podFib(state, web).map(row), [
      "[* * 127.0.0.1 15000/TCP Deliver(app/web/sidecar)]",
      "[* * 127.0.0.1 8080/TCP Deliver(app/web)]",
      `[* * ${ip} 15000/TCP Deliver(app/web/sidecar)]`,
      `[* * ${ip} 8080/TCP Deliver(app/web)]`,
      "[* * * * Forward(n1)]",
    ]);
    const r = trace(net, {
      source: { kind: "node", node: state.nodes[1] },
      dst: parseIPv4(ip)!,
      dport: 8080,
      protocol: "TCP",
    });
    assert.equal(r.verdict, "delivered");
    assert.equal(r.delivered?.pod, "app/web");
  });

  it("a port nobody serves is not delivered, and the tracer says the packet arrived", () => {
    const web = pod(state, "app", "web");
    assert.ok(!podFib(state, web).some((e) => e.dstPort === "8081/TCP"));
    const r = trace(net, {
      source: { kind: "node", node: state.nodes[1] },
      dst: parseIPv4(web.status!.podIP!)!,
      dport: 8081,
      protocol: "TCP",
    });
    assert.equal(r.verdict, "arrived");
  });

  it("a host-network pod that is a Service's endpoint: its node's FIB delivers the port on the node's address", () => {
    const n2 = state.nodes.find((n) => n.name === "n2")!;
    const fib = [...nodeFib(state, n2)].filter((e) => e.action.startsWith("Deliver")).map(row);
    assert.deepEqual(fib, ["[* * 172.18.0.3 9100/TCP Deliver(mon/exporter)]"]);
    const n1 = state.nodes.find((n) => n.name === "n1")!;
    assert.ok(![...nodeFib(state, n1)].some((e) => e.action.startsWith("Deliver")));
  });

  it("check traces the Service-only port and finds no violation", () => {
    assert.deepEqual(checkModel(net).violations, []);
  });
});

function load(dir: string): ClusterState {
  const r = loadCluster({ files: [dir] });
  if (!r.ok) assert.fail(r.diagnostics.map(formatDiagnostic).join("\n"));
  return r.cluster;
}

/**
 * For every switch of a cluster: each Deliver entry of its FIB is a trace (from another node, policies
 * off) that is delivered to that pod and container; a port without a Deliver entry arrives.
 */
function assertFibAgreesWithTrace(state: ClusterState): number {
  const net = new Network(state, { policies: false });
  const other = (nodeName: string | undefined) =>
    state.nodes.find((n) => n.name !== nodeName) ?? state.nodes[0];
  let checked = 0;
  const deliverOf = (e: FibEntry) => e.action.match(/^Deliver\(([^/]+\/[^/]+)(?:\/(.+))?\)$/);
  const expectAgreement = (source: Pod | undefined, nodeName: string, entries: FibEntry[], dst: string) => {
    const delivered = new Set<string>();
    for (const e of entries) {
      if (e.dst !== dst) continue;
      const m = deliverOf(e);
      if (!m) continue;
      delivered.add(e.dstPort);
      const [port, protocol] = e.dstPort.split("/");
      const r = trace(net, {
        source: { kind: "node", node: other(nodeName) },
        dst: parseIPv4(dst)!,
        dport: Number(port),
        protocol: protocol as Protocol,
      });
      const what = `${row(e)} of ${source ? `${source.metadata.namespace}/${source.metadata.name}` : nodeName}`;
      assert.equal(r.verdict, "delivered", `${what}: trace says ${r.verdict}: ${r.reason}`);
      assert.equal(r.delivered?.pod, m[1], what);
      assert.equal(r.delivered?.container, m[2], what);
      checked++;
    }
    let unserved = 9;
    while (delivered.has(`${unserved}/TCP`)) unserved++;
    const r = trace(net, {
      source: { kind: "node", node: other(nodeName) },
      dst: parseIPv4(dst)!,
      dport: unserved,
      protocol: "TCP",
    });
    assert.equal(r.verdict, "arrived", `${dst}:${unserved}/TCP has no Deliver entry: ${r.reason}`);
    checked++;
  };
  for (const p of state.pods) {
    if (p.spec.hostNetwork || !p.status?.podIP || !p.spec.nodeName) continue;
    if (p.status.phase === "Succeeded" || p.status.phase === "Failed") continue;
    expectAgreement(p, p.spec.nodeName, podFib(state, p), p.status.podIP);
  }
  for (const n of state.nodes) {
    const fib = [...nodeFib(state, n)];
    for (const ip of n.ips) expectAgreement(undefined, n.name, fib, formatIPv4(ip));
  }
  return checked;
}

describe("trace and fib agree on every switch", () => {
  for (const dir of ["examples/articles", "examples/shop", "examples/live-dump"])
    it(dir, () => {
      assert.ok(assertFibAgreesWithTrace(load(dir)) > 10);
    });
  it("the cluster of pods that declare no ports", () => {
    assert.ok(assertFibAgreesWithTrace(cluster(UNDECLARED_PORTS_CLUSTER)) > 10);
  });
  it("the cluster of a Service-only port", () => {
    assert.ok(assertFibAgreesWithTrace(cluster(SERVICE_ONLY)) > 4);
  });
});

describe("check's coverage line", () => {
  it("on one node it says so, rather than 'every ordered pair of the 1 nodes … and from another'", () => {
    const one = cluster(`apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: one}
spec: {nodes: 1, supply: {clusterDNS: false}}
---
apiVersion: v1
kind: Pod
metadata: {name: a}
spec: {containers: [{name: c, image: x}]}
`);
    const report = checkModel(new Network(one));
    assert.equal(
      report.coverage,
      "every pod (1) as a destination from its node (the only one), on the one node with pods",
    );
  });
});
