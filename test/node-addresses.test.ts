/**
 * Every address a node has is the node's own (issue 12 §3): a node with two InternalIPs and an
 * ExternalIP accepts nodePorts on exactly the addresses kube-proxy's nodePortAddresses selects, its
 * traffic from any of them is "from the node" (NetworkPolicy's own-node exception), replies find their
 * way back to the address they came from, the rendered rules list every selected address, and
 * AdminNetworkPolicy `nodes` peers match every address of the Node's status.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compilePolicies, renderPolicyRules } from "../src/core/dataplane/policy-rules.ts";
import { nodeNamespace } from "../src/core/graph/devices.ts";
import { nodeFib } from "../src/core/graph/fib.ts";
import { formatIPv4, parseIPv4 } from "../src/core/net/ipv4.ts";
import { connlist } from "../src/core/policy/connlist.ts";
import { computeMatrix } from "../src/core/policy/matrix.ts";
import { renderIptables } from "../src/core/proxy/iptables.ts";
import { renderNftables } from "../src/core/proxy/nftables.ts";
import { Network } from "../src/core/sim/network.ts";
import { resolveDestination, resolveSource } from "../src/core/sim/targets.ts";
import { type TraceResult, trace } from "../src/core/sim/trace.ts";
import { cluster, errors, warnings } from "./helpers.ts";

/**
 * node-1: InternalIPs 172.18.0.11 (primary) and 10.10.0.11, ExternalIP 203.0.113.11 (bare metal: on
 * its interface); node-2: InternalIP 172.18.0.12. web (node-1) admits only app=peer; locked (node-1)
 * may send nothing; hn1 is a host-network pod on node-1; web is also NodePort 30080, peer (node-2,
 * no policy) NodePort 30090.
 */
const MULTI = (
  opts: { proxyMode?: string; npa?: string; cni?: string; extra?: string } = {},
) => `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: multi}
spec:
  cni: ${opts.cni ?? "vxlan"}
  proxyMode: ${opts.proxyMode ?? "nftables"}
  nodeNetwork: 172.18.0.0/24${opts.npa !== undefined ? `\n  kubeProxy: {nodePortAddresses: ${opts.npa}}` : ""}
---
apiVersion: v1
kind: Node
metadata: {name: node-1, labels: {role: edge}}
spec: {podCIDR: 10.244.1.0/24}
status:
  addresses:
    - {type: InternalIP, address: 172.18.0.11}
    - {type: InternalIP, address: 10.10.0.11}
    - {type: ExternalIP, address: 203.0.113.11}
    - {type: Hostname, address: node-1}
---
apiVersion: v1
kind: Node
metadata: {name: node-2}
spec: {podCIDR: 10.244.2.0/24}
status:
  addresses: [{type: InternalIP, address: 172.18.0.12}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: peer, namespace: default, labels: {app: peer}}
spec: {nodeName: node-2, containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: locked, namespace: default, labels: {app: locked}}
spec: {nodeName: node-1, containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: hn1, namespace: default, labels: {app: hn}}
spec: {nodeName: node-1, hostNetwork: true, containers: [{name: c, ports: [{containerPort: 9100}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: http, nodePort: 30080}]}
---
apiVersion: v1
kind: Service
metadata: {name: peer, namespace: default}
spec: {type: NodePort, selector: {app: peer}, ports: [{port: 80, targetPort: 8080, nodePort: 30090}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-peer, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: peer}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: locked-egress, namespace: default}
spec:
  podSelector: {matchLabels: {app: locked}}
  policyTypes: [Egress]
${opts.extra ?? ""}`;

const ip = (text: string) => parseIPv4(text)!;

function run(
  net: Network,
  from: string,
  to: string,
  opts: { node?: string; reply?: boolean } = {},
): TraceResult {
  const src = resolveSource(net, from, opts.node);
  assert.ok(src.ok, !src.ok ? src.message : "");
  const dst = resolveDestination(net, to);
  assert.ok(dst.ok, !dst.ok ? dst.message : "");
  return trace(
    net,
    { source: src.value, dst: dst.value.ip, dport: dst.value.port, protocol: dst.value.protocol },
    { reply: opts.reply },
  );
}

describe("a node's addresses", () => {
  it("primary first as kubelet picks it, every InternalIP and on-interface ExternalIP local", () => {
    const state = cluster(MULTI());
    const n1 = state.nodes.find((n) => n.name === "node-1")!;
    assert.equal(formatIPv4(n1.ip), "172.18.0.11");
    assert.deepEqual(n1.ips.map(formatIPv4), ["172.18.0.11", "10.10.0.11", "203.0.113.11"]);
    assert.deepEqual(
      n1.addresses.map((a) => `${a.type} ${formatIPv4(a.ip)} ${a.onInterface}`),
      ["InternalIP 172.18.0.11 true", "InternalIP 10.10.0.11 true", "ExternalIP 203.0.113.11 true"],
    );
    // eth0 carries them all; a host-network listener answers on each (the formal model's FIB).
    const eth0 = nodeNamespace(state, n1).interfaces.find((i) => i.name === "eth0")!;
    assert.deepEqual(
      eth0.addresses.map((a) => `${formatIPv4(a.ip)}/${a.prefix}`),
      ["172.18.0.11/24", "10.10.0.11/32", "203.0.113.11/32"],
    );
    const fib = [...nodeFib(state, n1)].filter((e) => e.dstPort === "9100/TCP").map((e) => e.dst);
    assert.deepEqual(fib, ["172.18.0.11", "10.10.0.11", "203.0.113.11"]);
  });

  it("a cloud provider's ExternalIP (1:1 NAT) is listed but not local; an ExternalIP-only node's primary is it", () => {
    const state = cluster(`apiVersion: v1
kind: Node
metadata: {name: cloud}
spec: {providerID: "aws:///eu-west-1a/i-0abc", podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 172.18.0.21}, {type: ExternalIP, address: 198.18.7.21}]}
---
apiVersion: v1
kind: Node
metadata: {name: metal}
spec: {podCIDR: 10.244.2.0/24}
status: {addresses: [{type: ExternalIP, address: 172.18.0.22}, {type: Hostname, address: metal}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec: {nodeName: metal, containers: [{name: c}]}
`);
    const cloud = state.nodes.find((n) => n.name === "cloud")!;
    assert.deepEqual(cloud.ips.map(formatIPv4), ["172.18.0.21"]);
    assert.deepEqual(
      cloud.addresses.map((a) => `${a.type} ${formatIPv4(a.ip)} ${a.onInterface}`),
      ["InternalIP 172.18.0.21 true", "ExternalIP 198.18.7.21 false"],
    );
    const net = new Network(state);
    assert.equal(net.nodeByIP.get(ip("198.18.7.21")), undefined, "the NAT address is not on the node");
    const metal = state.nodes.find((n) => n.name === "metal")!;
    assert.equal(
      formatIPv4(metal.ip),
      "172.18.0.22",
      "GetNodeHostIPs: no InternalIP, so the first ExternalIP",
    );
    assert.equal(metal.obj.status!.addresses!.filter((a) => a.type === "InternalIP").length, 0);
    assert.equal(state.pods.find((p) => p.metadata.name === "p")!.status!.hostIP, "172.18.0.22");
  });

  it("an address two nodes list stays with the first, with a warning; a pod cannot take a second address", () => {
    const two = MULTI().replace(
      "addresses: [{type: InternalIP, address: 172.18.0.12}]",
      "addresses: [{type: InternalIP, address: 172.18.0.12}, {type: InternalIP, address: 10.10.0.11}]",
    );
    const state = cluster(two);
    assert.deepEqual(state.nodes.find((n) => n.name === "node-2")!.ips.map(formatIPv4), ["172.18.0.12"]);
    // The warning points at the address in node-2's status.
    assert.ok(
      warnings(two).some((w) =>
        /^test\.yaml:25:85: warning: Node node-2: status\.addresses\[1\]\.address: node address 10\.10\.0\.11 is also node node-1's; podnet gives it to that node only/.test(
          w,
        ),
      ),
      warnings(two).join("\n"),
    );
    const clash = errors(
      `${MULTI()}---\napiVersion: v1\nkind: Pod\nmetadata: {name: squat, namespace: default}\nspec: {nodeName: node-2, containers: [{name: c}]}\nstatus: {podIP: 10.10.0.11}\n`,
    );
    assert.ok(
      clash.some((e) => e.includes("pod IP 10.10.0.11 is already the IP of Node node-1")),
      clash.join("\n"),
    );
  });
});

describe("nodePorts on the addresses nodePortAddresses selects", () => {
  const outside = "198.51.100.7";
  // [address, accepted] per configuration; the rest of node-1's addresses do not accept the nodePort.
  const cases: { name: string; mode: string; npa?: string; accepted: string[]; rejected: string[] }[] = [
    {
      name: "nftables default (primary)",
      mode: "nftables",
      accepted: ["172.18.0.11"],
      rejected: ["10.10.0.11", "203.0.113.11"],
    },
    {
      name: "nftables, [primary]",
      mode: "nftables",
      npa: "[primary]",
      accepted: ["172.18.0.11"],
      rejected: ["10.10.0.11", "203.0.113.11"],
    },
    {
      name: "nftables, [10.10.0.0/16, 203.0.113.0/24]",
      mode: "nftables",
      npa: "[10.10.0.0/16, 203.0.113.0/24]",
      accepted: ["10.10.0.11", "203.0.113.11"],
      rejected: ["172.18.0.11"],
    },
    {
      name: "nftables, [0.0.0.0/0]",
      mode: "nftables",
      npa: "[0.0.0.0/0]",
      accepted: ["172.18.0.11", "10.10.0.11", "203.0.113.11"],
      rejected: [],
    },
    {
      name: "iptables default (every local address)",
      mode: "iptables",
      accepted: ["172.18.0.11", "10.10.0.11", "203.0.113.11"],
      rejected: [],
    },
    {
      name: "iptables, [10.0.0.0/8]",
      mode: "iptables",
      npa: "[10.0.0.0/8]",
      accepted: ["10.10.0.11"],
      rejected: ["172.18.0.11", "203.0.113.11"],
    },
  ];
  for (const c of cases)
    for (const judge of ["model", "rules"] as const)
      it(`${c.name} (judged by the ${judge})`, () => {
        const net = new Network(cluster(MULTI({ proxyMode: c.mode, npa: c.npa })), { proxy: judge });
        for (const a of c.accepted) {
          const r = run(net, outside, `${a}:30080`, { node: "node-1", reply: true });
          assert.equal(r.service, "default/web", `${a}: ${r.reason}`);
          assert.equal(r.verdict, "dropped", `${a}: the client is no peer of web: ${r.reason}`);
          // From the node itself, on the same address: DNATed, and exempt as the node's own traffic.
          const own = run(net, `node/node-1`, `${a}:30080`, { reply: true });
          assert.equal(own.verdict, "delivered", `${a}: ${own.reason}`);
          assert.equal(own.service, "default/web");
          assert.match(own.policy!.ingress!.reason, /from its own node node-1/);
          assert.equal(own.reply?.verdict, "delivered", `${a}: reply ${own.reply?.reason}`);
        }
        for (const a of c.accepted) {
          // To peer on node-2: DNAT, masquerade on node-1; the reply comes back from the address the
          // client sent to (conntrack undoes both translations on node-1).
          const r = run(net, outside, `${a}:30090`, { node: "node-1", reply: true });
          assert.equal(r.verdict, "delivered", `${a}: ${r.reason}`);
          assert.equal(r.delivered!.pod, "default/peer");
          assert.equal(r.masquerade, true);
          assert.equal(r.reply?.verdict, "forwarded", `${a}: reply: ${r.reply?.reason}`);
          assert.equal(
            r.reply!.delivered!.seenSource,
            `${a}:30090`,
            "the client sees the address it sent to",
          );
        }
        for (const a of c.rejected) {
          // No Service translates it: the packet reaches the node itself, where nothing declares 30080.
          const r = run(net, outside, `${a}:30080`, { node: "node-1" });
          assert.equal(r.service, undefined, `${a}: no nodePort there: ${r.reason}`);
          assert.equal(r.verdict, "arrived", `${a}: ${r.reason}`);
        }
      });

  it("loopback: iptables mode accepts 127.0.0.1 when a CIDR holds it (localhost nodePorts), nftables mode never", () => {
    for (const judge of ["model", "rules"] as const) {
      const ipt = new Network(cluster(MULTI({ proxyMode: "iptables", npa: "[127.0.0.0/8]" })), {
        proxy: judge,
      });
      const r = run(ipt, "node/node-1", "127.0.0.1:30080");
      assert.equal(r.service, "default/web", `${judge}: ${r.reason}`);
      assert.equal(run(ipt, "node/node-1", "172.18.0.11:30080").service, undefined, judge);
      const nft = new Network(cluster(MULTI({ npa: "[127.0.0.0/8]" })), { proxy: judge });
      assert.equal(run(nft, "node/node-1", "127.0.0.1:30080").service, undefined, judge);
    }
    const state = cluster(MULTI({ proxyMode: "iptables", npa: "[127.0.0.0/8]" }));
    assert.match(
      renderIptables(state, state.nodes[0]),
      /-A KUBE-SERVICES -d 127\.0\.0\.1\/32 .*-j KUBE-NODEPORTS/,
    );
  });

  it("primary cannot be combined with CIDRs (kube-proxy's validation)", () => {
    const bad = errors(MULTI({ npa: "[10.10.0.0/16, primary]" }));
    assert.ok(
      bad.some((e) =>
        /^test\.yaml:8:49: error: .*nodePortAddresses\[1\]: "primary" cannot be combined with CIDRs/.test(e),
      ),
      bad.join("\n"),
    );
  });

  it("the rules list every selected address", () => {
    const nft = cluster(MULTI({ npa: "[10.10.0.0/16, 203.0.113.0/24]" }));
    const n1 = nft.nodes.find((n) => n.name === "node-1")!;
    const set = /set nodeport-ips \{[^}]*\}/.exec(renderNftables(nft, n1))![0];
    assert.match(set, /elements = \{ 10\.10\.0\.11,\s+203\.0\.113\.11 \}/);
    assert.doesNotMatch(set, /172\.18\.0\.11/);
    const ipt = cluster(MULTI({ proxyMode: "iptables", npa: "[10.0.0.0/8, 203.0.113.0/24]" }));
    const rules = renderIptables(ipt, ipt.nodes.find((n) => n.name === "node-1")!);
    const to = [...rules.matchAll(/-A KUBE-SERVICES -d (\S+) .*-j KUBE-NODEPORTS/g)].map((m) => m[1]);
    // GetNodeIPs takes every interface address inside the CIDRs: 10.0.0.0/8 holds cni0's and flannel.1's too.
    assert.deepEqual(to, ["10.10.0.11/32", "203.0.113.11/32", "10.244.1.1/32", "10.244.1.0/32"]);
  });
});

describe("traffic from any of the node's addresses is the node's", () => {
  for (const cni of ["vxlan", "host-gw", "ipip"])
    for (const judge of ["model", "rules"] as const)
      it(`on ${cni}, judged by the ${judge}`, () => {
        const net = new Network(cluster(MULTI({ cni })), { proxy: judge });
        // From node-1's second InternalIP and its ExternalIP: exempt from web's ingress policy.
        for (const from of ["10.10.0.11", "203.0.113.11"]) {
          const r = run(net, from, "default/web:8080", { reply: true });
          assert.equal(r.verdict, "delivered", `${from}: ${r.reason}`);
          assert.equal(r.delivered!.seenSource.split(":")[0], from, "the source the node bound to");
          assert.match(r.policy!.ingress!.reason, new RegExp(`from its own node node-1 \\(${from}\\)`));
          assert.equal(r.reply?.verdict, "delivered", `${from}: reply: ${r.reply?.reason}`);
          assert.equal(r.reply!.hops.at(-1)!.at, "node node-1", "the reply ends on node-1");
        }
        // node-2 is not web's node: its traffic is judged, and denied.
        const other = run(net, "172.18.0.12", "default/web:8080");
        assert.equal(other.verdict, "dropped", other.reason);
        // locked may send nothing, except to its own node — on any of its addresses.
        for (const to of ["172.18.0.11", "10.10.0.11", "203.0.113.11"]) {
          const r = run(net, "default/locked", `${to}:9100`, { reply: true });
          assert.equal(r.verdict, "delivered", `${to}: ${r.reason}`);
          assert.match(r.policy!.egress!.reason, /to its own node node-1/);
          assert.equal(r.reply?.verdict, "delivered", `${to}: reply: ${r.reply?.reason}`);
        }
        assert.equal(run(net, "default/locked", "172.18.0.12:9100").verdict, "dropped");
      });

  it("other nodes reach a node's second address, and the replies come back", () => {
    const net = new Network(cluster(MULTI()));
    for (const to of ["10.10.0.11", "203.0.113.11"]) {
      const r = run(net, "default/peer", `${to}:9100`, { reply: true });
      assert.equal(r.verdict, "delivered", `${to}: ${r.reason}`);
      assert.equal(r.delivered!.pod, "default/hn1");
      assert.equal(r.reply?.verdict, "delivered", `${to}: reply: ${r.reply?.reason}`);
      const fromNode2 = run(net, "node/node-2", `${to}:9100`, { reply: true });
      assert.equal(fromNode2.verdict, "delivered", `${to}: ${fromNode2.reason}`);
    }
  });

  it("the data plane's policy table accepts every address of the node as the node's", () => {
    const state = cluster(MULTI());
    const text = renderPolicyRules(
      compilePolicies(state),
      state,
      state.nodes.find((n) => n.name === "node-1")!,
    );
    const line = /ct original ip saddr \{([^}]*)\} accept/.exec(text)![1];
    for (const a of ["172.18.0.11", "10.10.0.11", "203.0.113.11"])
      assert.ok(line.includes(a), `${a} in ${line}`);
    assert.ok(!line.includes("172.18.0.12"), "node-2's address is not node-1's");
  });
});

describe("policies see every address of a node", () => {
  const anp = `---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: no-edge}
spec:
  priority: 5
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: peer}}}}
  egress: [{name: no-edge, action: Deny, to: [{nodes: {matchLabels: {role: edge}}}]}]
`;

  it("a nodes peer matches each InternalIP and ExternalIP of the Node (trace and connlist)", () => {
    const state = cluster(MULTI({ extra: anp }));
    const net = new Network(state);
    for (const to of ["172.18.0.11", "10.10.0.11", "203.0.113.11"]) {
      const r = run(net, "default/peer", `${to}:9100`);
      assert.equal(r.verdict, "dropped", `${to}: ${r.reason}`);
      assert.match(r.reason, /no-edge/);
    }
    assert.equal(run(net, "default/peer", "10.10.0.12:9100").verdict, "forwarded", "not a node address");
    const peerTo = connlist(state)
      .filter((l) => l.src === "default/peer[Pod]")
      .map((l) => l.dst);
    for (const a of ["172.18.0.11", "10.10.0.11", "203.0.113.11"])
      assert.ok(!peerTo.includes(`${a}-${a}[External]`), `${a} is denied: ${peerTo.join(", ")}`);
    assert.ok(peerTo.includes("10.10.0.12-172.18.0.10[External]"), peerTo.join(", "));
  });

  it("matrix and connlist: the host-network pod and the pods of its node reach each other", () => {
    const state = cluster(MULTI());
    const m = computeMatrix(state, { protocol: "TCP" });
    const at = (a: string, b: string) => m.allowed(m.pods.indexOf(a), m.pods.indexOf(b));
    assert.equal(at("default/hn1", "default/web"), true, "own-node exception");
    assert.equal(at("default/locked", "default/hn1"), true, "own-node exception");
    const lines = connlist(state).map((l) => `${l.src} => ${l.dst}`);
    assert.ok(lines.includes("default/hn1[Pod] => default/web[Pod]"), lines.join("\n"));
    assert.ok(lines.includes("default/locked[Pod] => default/hn1[Pod]"), lines.join("\n"));
  });
});
