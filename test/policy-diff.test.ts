/**
 * podnet diff's core: connections added, removed and changed between two clusters, with the outside
 * ranges of both sides cut alike so that a new ipBlock shows as a change of one range, not as noise.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffConnections } from "../src/core/policy/diff.ts";
import { cluster } from "./helpers.ts";

const BASE = `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: d}
spec: {nodes: [{name: node-1, podCIDR: 10.244.0.0/24}], supply: {clusterDNS: false}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c}]}
status: {phase: Running, podIP: 10.244.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {nodeName: node-1, containers: [{name: c}]}
status: {phase: Running, podIP: 10.244.0.3}
`;
const policy = (body: string) =>
  `---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n${body}`;

describe("diff of connectivity", () => {
  it("the same input has no difference", () => {
    assert.deepEqual(diffConnections(cluster(BASE), cluster(BASE)), []);
  });

  it("a port restriction is a change; an isolation removes; lifting it adds", () => {
    const restricted = cluster(
      BASE +
        policy(
          "  podSelector: {matchLabels: {app: db}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}]\n",
        ),
    );
    const d = diffConnections(cluster(BASE), restricted);
    assert.deepEqual(d, [
      {
        kind: "removed",
        src: "0.0.0.0-255.255.255.255[External]",
        dst: "shop/db[Pod]",
        old: "All Connections",
      },
      { kind: "changed", src: "shop/web[Pod]", dst: "shop/db[Pod]", old: "All Connections", new: "TCP 5432" },
    ]);
    const back = diffConnections(restricted, cluster(BASE));
    assert.deepEqual(
      back.map((x) => x.kind),
      ["added", "changed"],
    );
  });

  it("a new ipBlock cuts the outside for both sides: only the range it names changes", () => {
    const blocked = cluster(
      BASE +
        policy(
          "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [203.0.113.0/24]}}]}]\n",
        ),
    );
    const d = diffConnections(cluster(BASE), blocked);
    assert.deepEqual(d, [
      {
        kind: "removed",
        src: "shop/web[Pod]",
        dst: "203.0.113.0-203.0.113.255[External]",
        old: "All Connections",
      },
    ]);
  });
});
