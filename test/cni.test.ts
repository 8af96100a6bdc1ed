/**
 * Every registered network plugin (src/core/cni/registry.ts) against the shared packet-flow cases
 * (test/cases/packet-flows.ts), judged by the simulator's model and by the rendered rules in both
 * kube-proxy modes, and against the plugin contract: the tracer's fast route equals the device view's
 * longest-prefix match, the node's own addresses are on its devices, every pod is routed to its node,
 * replies come back, and the data plane either builds the plugin or says why not. A plugin joins
 * these tests by being registered; nothing here names one.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { networkPluginNames, networkPlugins } from "../src/core/cni/registry.ts";
import type { ClusterState } from "../src/core/control/state.ts";
import { planCluster } from "../src/core/dataplane/plan.ts";
import {
  isLocalAddress,
  lookupRoute,
  nodeNamespace,
  podNamespace,
  podsOnNode,
  renderRoute,
} from "../src/core/graph/devices.ts";
import { formatIPv4, parseIPv4 } from "../src/core/net/ipv4.ts";
import { Network } from "../src/core/sim/network.ts";
import { resolveDestination, resolveSource } from "../src/core/sim/targets.ts";
import { type TraceResult, trace } from "../src/core/sim/trace.ts";
import { FLOW_CASES, type FlowCase, flowCluster } from "./cases/packet-flows.ts";
import { cluster, errors } from "./helpers.ts";

function run(
  net: Network,
  c: Pick<FlowCase, "from" | "to" | "node" | "protocol">,
  reply = false,
): TraceResult {
  const src = resolveSource(net, c.from, c.node);
  assert.ok(src.ok, !src.ok ? src.message : "");
  const dst = resolveDestination(net, c.to, c.protocol);
  assert.ok(dst.ok, !dst.ok ? dst.message : "");
  return trace(
    net,
    { source: src.value, dst: dst.value.ip, dport: dst.value.port, protocol: dst.value.protocol },
    { reply },
  );
}

/**
 * The cases name pod addresses as the default plugin's IPAM (host-local) hands them out; another
 * plugin's IPAM gives the same pods other addresses. Each pod address in a case is translated to the
 * same pod's address in the plugin's cluster (node and Service addresses stay as they are).
 */
function translator(reference: ClusterState, state: ClusterState): (text: string) => string {
  const byName = new Map(
    state.pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p.status?.podIP]),
  );
  const map = new Map<string, string>();
  for (const p of reference.pods) {
    const ip = p.status?.podIP;
    const now = byName.get(`${p.metadata.namespace}/${p.metadata.name}`);
    if (ip && now && !p.spec.hostNetwork) map.set(ip, now);
  }
  return (text) => text.replace(/\d+\.\d+\.\d+\.\d+/g, (ip) => map.get(ip) ?? ip);
}

const reference = cluster(flowCluster(networkPluginNames[0]));

for (const plugin of networkPlugins) {
  for (const mode of ["nftables", "iptables"] as const) {
    const state = cluster(flowCluster(plugin.name, mode));
    const tr = translator(reference, state);
    for (const judge of ["model", "rules"] as const) {
      describe(`packet flows on network plugin ${plugin.name} (${mode} mode, kube-proxy by the ${judge === "model" ? "model" : "rendered rules"})`, () => {
        const net = new Network(state, { proxy: judge });
        for (const c0 of FLOW_CASES) {
          const c = mode === "iptables" && c0.iptables ? { ...c0, expect: c0.iptables } : c0;
          it(c.name, () => {
            const r = run(net, { ...c, from: tr(c.from), to: tr(c.to) });
            assert.equal(
              r.verdict,
              c.expect.verdict,
              `${r.reason}\n${r.hops.map((h) => `${h.at}: ${h.detail}`).join("\n")}`,
            );
            if (c.expect.endpoints)
              assert.deepEqual([...r.endpoints].sort(), c.expect.endpoints.map(tr).sort());
            if (c.expect.masquerade !== undefined) assert.equal(r.masquerade, c.expect.masquerade);
            if (c.expect.seen) assert.equal(r.delivered?.seenSource.split(":")[0], tr(c.expect.seen));
            if (c.expect.at) assert.equal(r.delivered?.pod, c.expect.at);
          });
        }
      });
    }
  }

  describe(`network plugin ${plugin.name}: the plugin contract`, () => {
    const state = cluster(flowCluster(plugin.name));
    const net = new Network(state);

    it("the tracer's fast route equals the device view's longest-prefix match, on every node", () => {
      const pods = state.pods.flatMap((p) => (p.status?.podIP ? [parseIPv4(p.status.podIP)!] : []));
      const views = state.nodes.map((n) => nodeNamespace(state, n));
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: state.nodes.length - 1 }),
          fc.oneof(
            fc.integer({ min: 0, max: 0xffffffff }),
            fc.constantFrom(...pods),
            fc.integer({ min: 0x0af40000, max: 0x0af4ffff }),
            fc.integer({ min: 0xac120000, max: 0xac1200ff }),
          ),
          (i, ip) => {
            const want = lookupRoute(views[i], ip >>> 0);
            assert.ok(want, `node ${state.nodes[i].name} has a route for ${formatIPv4(ip >>> 0)}`);
            assert.equal(renderRoute(net.nodeRoute(state.nodes[i], ip >>> 0)), renderRoute(want));
          },
        ),
        { seed: 13, numRuns: 400 },
      );
    });

    it("each node's blocks are in the cluster state, and every running pod's address is routed to its node", () => {
      for (const n of state.nodes) assert.ok((state.podNetwork.blocks.get(n.name) ?? []).length > 0, n.name);
      for (const [ip, pod] of net.podByIP)
        assert.equal(net.podAddressOwner(ip)?.node.name, pod.spec.nodeName);
    });

    it("the node's own addresses are on its devices, local to it, and each device's address is the masquerade source", () => {
      for (const n of state.nodes) {
        const ns = nodeNamespace(state, n);
        for (const ip of plugin.nodeAddresses(state, n)) {
          assert.ok(isLocalAddress(ns, ip), `${formatIPv4(ip)} on a device of ${n.name}`);
          assert.ok(net.isNodeAddress(n, ip));
        }
        for (const i of ns.interfaces)
          if (i.kind !== "loopback" && i.name !== "eth0" && i.addresses.length)
            assert.equal(net.deviceAddress(n, i.name), i.addresses[0].ip, i.name);
      }
    });

    it("a pod's namespace carries its address on eth0 at the plugin's MTU, and routes everything somewhere", () => {
      for (const n of state.nodes)
        for (const p of podsOnNode(state, n)) {
          const ns = podNamespace(state, n, p);
          const eth0 = ns.interfaces.find((i) => i.name === "eth0")!;
          assert.equal(formatIPv4(eth0.addresses[0].ip), p.status!.podIP);
          assert.equal(eth0.mtu ?? 1500, plugin.mtu(state));
          assert.ok(lookupRoute(ns, parseIPv4("203.0.113.7")!), "a default route");
        }
    });

    it("a reply across nodes comes back through the plugin's devices to the client", () => {
      const r = run(
        net,
        { from: "app/a", to: `${state.pods.find((p) => p.metadata.name === "c")!.status!.podIP}:8080` },
        true,
      );
      assert.equal(r.verdict, "delivered");
      assert.equal(r.reply?.verdict, "delivered", r.reply?.hops.map((h) => h.detail).join("\n"));
      // Encapsulated on the wire exactly when the plugin put an outer header on, and bare after decapsulation.
      const wire = r.hops.findIndex((h) => h.at === "wire");
      assert.ok(wire > 0);
      const last = r.hops.at(-1)!;
      assert.equal(last.packet.outer, undefined);
    });

    it("the data plane builds it, or refuses before anything is made and says why", () => {
      const why = plugin.dataplaneSupport(state);
      if (why) {
        assert.throws(
          () => planCluster(state, "cni-t"),
          (e: Error) => e.message.includes(why.reason),
        );
        return;
      }
      const plan = planCluster(state, "cni-t");
      assert.equal(plan.pods.length, state.nodes.flatMap((n) => podsOnNode(state, n)).length);
      for (const p of plan.pods) {
        assert.ok(
          p.nodeLines.some((l) => l.includes(`netns ${p.netns}`)),
          `${p.key}: its link reaches its namespace`,
        );
        assert.ok(
          p.podLines.some((l) => l.startsWith(`addr add ${p.ip}/`)),
          `${p.key}: its address`,
        );
      }
    });
  });
}

describe("spec.cni", () => {
  it("an unknown plugin is an error at its line and column listing every registered one", () => {
    const e = errors(
      "apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: x}\nspec:\n  cni: weave\n",
    );
    assert.equal(e.length, 1);
    assert.match(e[0], /test\.yaml:5:8: /);
    assert.ok(e[0].includes(`"weave" is not one of ${networkPluginNames.join(", ")}`), e[0]);
  });

  it("unset, the first registered plugin is used", () => {
    const s = cluster(
      "apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: x}\nspec: {nodes: 1}\n",
    );
    assert.equal(s.config.cni, networkPluginNames[0]);
  });
});
