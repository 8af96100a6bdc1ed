/**
 * What the tracer keeps instead of computing per trace (issue 13) answers exactly what it replaced:
 * the network index's per-pod facts, each plugin's `podRoutes` against its `podNamespace`, the
 * policy engine's per-class selection against filtering the policies directly — on a generated
 * cluster in every registered plugin and on the bundled examples.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generateCluster } from "../bench/generate.ts";
import { resolveManifests } from "../src/core/cluster.ts";
import { networkPluginNames } from "../src/core/cni/registry.ts";
import type { ClusterState } from "../src/core/control/state.ts";
import { macFor } from "../src/core/graph/namespace.ts";
import type { Pod } from "../src/core/model/k8s.ts";
import { parseIPv4 } from "../src/core/net/ipv4.ts";
import { Network } from "../src/core/sim/network.ts";
import { loadCluster } from "../src/index.ts";

const generated = generateCluster({
  seed: 3,
  nodes: 12,
  pods: 400,
  services: 40,
  namespaces: 6,
  policies: 30,
});

function clusters(): { name: string; state: ClusterState }[] {
  const out: { name: string; state: ClusterState }[] = [];
  for (const cni of networkPluginNames) {
    const text = generated.replace(
      "kind: Cluster\nmetadata: {name: bench}\nspec:\n",
      `kind: Cluster\nmetadata: {name: bench}\nspec:\n  cni: ${cni}\n`,
    );
    const r = resolveManifests([{ file: "gen.yaml", text }]);
    assert.ok(r.ok, `generated cluster resolves (cni ${cni})`);
    out.push({ name: `generated, ${cni}`, state: r.cluster });
  }
  for (const dir of ["articles", "shop", "calico"]) {
    const r = loadCluster({ files: [`examples/${dir}`] });
    assert.ok(r.ok, `examples/${dir} resolves`);
    out.push({ name: `examples/${dir}`, state: r.cluster });
  }
  return out;
}

const name = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;

describe("what traces keep per pod and per class agrees with computing it each time", () => {
  for (const { name: which, state } of clusters()) {
    it(`${which}: per-pod facts, pod routes, host-network pods`, () => {
      const net = new Network(state);
      assert.ok(net.podByIP.size > 0);
      for (const [ip, pod] of net.podByIP) {
        const f = net.podFacts(pod);
        assert.equal(f.ip, ip);
        assert.equal(f.ip, parseIPv4(pod.status!.podIP!));
        assert.equal(f.name, name(pod));
        assert.equal(f.hostInterface, net.plugin.hostInterfaceName(pod));
        assert.equal(f.mac, macFor(ip));
        const node = net.nodeOf(pod)!;
        assert.deepEqual(
          net.plugin.podRoutes(state, node, ip),
          net.plugin.podNamespace(state, node, pod).routes,
          name(pod),
        );
      }
      for (const node of state.nodes)
        assert.deepEqual(
          net.hostNetworkPods.get(node.name) ?? [],
          state.pods.filter((p) => p.spec.hostNetwork && p.spec.nodeName === node.name),
        );
    });

    it(`${which}: the policies selecting each pod (kept per class)`, () => {
      const net = new Network(state);
      const engine = net.policy!;
      for (const pod of state.pods)
        for (const direction of ["ingress", "egress"] as const) {
          const direct = pod.spec.hostNetwork
            ? []
            : engine.policies.filter(
                (p) =>
                  p.namespace === pod.metadata.namespace &&
                  p[direction] !== undefined &&
                  p.selects(pod.metadata.labels),
              );
          // Asked twice: the second answer comes from what the first kept.
          assert.deepEqual(engine.selecting(pod, direction), direct);
          assert.deepEqual(engine.selecting(pod, direction), direct);
          const nsLabels = engine.namespaceLabels(pod.metadata.namespace!);
          for (const tier of ["admin", "baseline"] as const)
            assert.deepEqual(
              engine.tierSelecting(tier, pod, direction),
              pod.spec.hostNetwork
                ? []
                : engine[tier].filter(
                    (t) =>
                      t[direction].length > 0 &&
                      t.subject.namespaces(nsLabels) &&
                      t.subject.pods(pod.metadata.labels),
                  ),
            );
        }
    });
  }
});
