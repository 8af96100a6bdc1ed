/**
 * The scoped diff (only the lines a policy change can reach: src/core/policy/diff.ts) against the full
 * recompute, on random changes to the policy benchmark's generated clusters: both must list exactly
 * the same added, removed and changed connections. The changes are those a pull request makes: a
 * policy's ports, selector, policyTypes, rules or ipBlocks edited, a policy added or deleted — and,
 * for the fallback, a change to something else (a namespace's labels).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAllDocuments, stringify } from "yaml";
import { generateCluster, prng } from "../bench/generate.ts";
import { generatePolicies } from "../bench/policy.ts";
import { resolveManifests } from "../src/core/cluster.ts";
import type { ClusterState } from "../src/core/control/state.ts";
import { changeScope, diffConnections, diffConnectionsFull } from "../src/core/policy/diff.ts";

type Doc = {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
};

function load(docs: Doc[], cluster: string): ClusterState {
  const text = `${cluster}---\n${docs.map((d) => stringify(d)).join("---\n")}`;
  const r = resolveManifests([{ file: "gen.yaml", text }]);
  assert.ok(r.ok, JSON.stringify(r.diagnostics.slice(0, 3)));
  return r.cluster;
}

const TIERS = ["web", "api", "worker", "cache", "db"];

/** One random pull-request-like change to the NetworkPolicies; returns the new list and what it did. */
function change(docs: Doc[], rand: () => number, namespaces: number): { docs: Doc[]; what: string } {
  const out = structuredClone(docs);
  const nps = out.map((d, i) => [d, i] as const).filter(([d]) => d.kind === "NetworkPolicy");
  const [p, index] = nps[Math.floor(rand() * nps.length)];
  const spec = p.spec as {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes?: string[];
    ingress?: { from?: unknown[]; ports?: unknown[] }[];
    egress?: { to?: unknown[]; ports?: unknown[] }[];
  };
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  switch (Math.floor(rand() * 7)) {
    case 0:
      out.splice(index, 1);
      return { docs: out, what: `delete ${p.metadata.name}` };
    case 1: {
      const copy = structuredClone(p);
      copy.metadata.name = `${p.metadata.name}-copy`;
      copy.metadata.namespace = `ns-${Math.floor(rand() * namespaces)}`;
      out.push(copy);
      return { docs: out, what: `add ${copy.metadata.name} in ${copy.metadata.namespace}` };
    }
    case 2:
      spec.podSelector = { matchLabels: { tier: pick(TIERS) } };
      return { docs: out, what: `${p.metadata.name}: podSelector` };
    case 3:
      spec.policyTypes = pick([["Ingress"], ["Egress"], ["Ingress", "Egress"]]);
      return { docs: out, what: `${p.metadata.name}: policyTypes ${spec.policyTypes.join(",")}` };
    case 4: {
      const rules = spec.ingress ?? spec.egress;
      if (rules?.length) rules.pop();
      else spec.ingress = [{}];
      return { docs: out, what: `${p.metadata.name}: a rule removed or allow-all added` };
    }
    case 5: {
      spec.ingress ??= spec.egress ? undefined : [];
      const rules = (spec.ingress ?? spec.egress)!;
      if (rules.length === 0) rules.push({});
      rules[0].ports = [
        pick([
          { port: 9091 },
          { port: "http" },
          { protocol: "UDP", port: 53 },
          { port: 8000, endPort: 8100 },
        ]),
      ];
      return { docs: out, what: `${p.metadata.name}: ports ${JSON.stringify(rules[0].ports)}` };
    }
    default: {
      const peer = { ipBlock: { cidr: `10.${16 * Math.floor(rand() * 16)}.0.0/12` } };
      if (spec.egress) {
        if (spec.egress.length === 0) spec.egress.push({});
        spec.egress[0].to = [peer];
      } else {
        spec.ingress ??= [];
        spec.ingress[0] = { ...(spec.ingress[0] ?? {}), from: [peer] };
      }
      return { docs: out, what: `${p.metadata.name}: ipBlock ${peer.ipBlock.cidr}` };
    }
  }
}

describe("diff: scoped to a policy change, the same as the full recompute", () => {
  const pods = 400;
  const namespaces = 4;
  const seed = 5;
  const cluster = generateCluster({ seed, nodes: 4, pods, services: 5, namespaces, policies: 0 });
  const docs = parseAllDocuments(generatePolicies(seed, 10, namespaces)).map((d) => d.toJS() as Doc);
  const before = load(docs, cluster);

  it("random policy changes: identical answers, and the scoped path taken", () => {
    const rand = prng(42);
    let nonEmpty = 0;
    for (let i = 0; i < 32; i++) {
      const { docs: next, what } = change(docs, rand, namespaces);
      const after = load(next, cluster);
      const scope = changeScope(before, after);
      assert.ok(scope, `${what}: only policies changed, so the diff is scoped`);
      const fast = diffConnections(before, after);
      const full = diffConnectionsFull(before, after);
      assert.deepEqual(fast, full, what);
      if (full.length > 0) nonEmpty++;
    }
    assert.ok(nonEmpty >= 16, `most changes change connections (${nonEmpty} of 32)`);
  });

  it("an unchanged cluster: an empty scope and no difference", () => {
    const again = load(docs, cluster);
    assert.deepEqual(changeScope(before, again), { sources: new Set(), destinations: new Set() });
    assert.deepEqual(diffConnections(before, again), []);
  });

  it("a change outside the policies (a namespace's labels) takes the full recompute", () => {
    const from = "metadata: {name: ns-1, labels: {team: team-1}}";
    assert.ok(cluster.includes(from));
    const after = load(docs, cluster.replace(from, "metadata: {name: ns-1, labels: {team: team-0}}"));
    assert.equal(changeScope(before, after), undefined);
    assert.deepEqual(diffConnections(before, after), diffConnectionsFull(before, after));
  });
});
