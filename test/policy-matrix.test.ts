/**
 * The class-based reachability matrix against a deliberately simple reference: for random clusters and
 * policies (labels, selectors with expressions, namespace selectors, ipBlocks over pod addresses,
 * named ports, endPort ranges, protocols; AdminNetworkPolicies with Allow/Deny/Pass and a
 * BaselineAdminNetworkPolicy with namespace, pod and network peers, port numbers, ranges and names),
 * every pod pair checked directly must give the same answer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { generateCluster } from "../bench/generate.ts";
import { generatePolicies } from "../bench/policy.ts";
import type { Protocol } from "../src/core/model/k8s.ts";
import { formatIPv4, parseIPv4 } from "../src/core/net/ipv4.ts";
import {
  type Connection,
  connlist,
  formatConnections,
  rangeCuts,
  workloadOf,
} from "../src/core/policy/connlist.ts";
import { computeMatrix } from "../src/core/policy/matrix.ts";
import { inBlock, PolicyEngine, type PolicyPeer } from "../src/core/policy/netpol.ts";
import { cidrMembership, Reachability } from "../src/core/policy/reach.ts";
import { cluster } from "./helpers.ts";

const LABELS = ["a", "b", "c"];
const arbSelector = fc.oneof(
  fc.constant("{}"),
  fc.constantFrom(...LABELS).map((v) => `{matchLabels: {app: ${v}}}`),
  fc
    .subarray(LABELS, { minLength: 1 })
    .map((vs) => `{matchExpressions: [{key: app, operator: In, values: [${vs.join(", ")}]}]}`),
  fc.constantFrom("Exists", "DoesNotExist").map((op) => `{matchExpressions: [{key: tier, operator: ${op}}]}`),
);
const arbPeer = fc.oneof(
  arbSelector.map((s) => `{podSelector: ${s}}`),
  fc
    .tuple(fc.constantFrom("blue", "green"), arbSelector)
    .map(([ns, s]) => `{namespaceSelector: {matchLabels: {team: ${ns}}}, podSelector: ${s}}`),
  fc.constantFrom(
    "{ipBlock: {cidr: 10.244.0.0/24}}",
    "{ipBlock: {cidr: 10.244.0.0/16, except: [10.244.0.0/28]}}",
    "{ipBlock: {cidr: 10.244.0.8/29}}",
    "{namespaceSelector: {}}",
  ),
);
const arbPort = fc.oneof(
  fc.constantFrom(80, 443, 8080).map((p) => `{port: ${p}}`),
  fc.constantFrom("web", "admin").map((n) => `{port: ${n}}`),
  fc.constant("{port: 8000, endPort: 8100}"),
  fc.constantFrom("UDP", "SCTP").map((p) => `{protocol: ${p}}`),
);
const arbRule = fc.record({
  peers: fc.option(fc.array(arbPeer, { maxLength: 2 })),
  ports: fc.option(fc.array(arbPort, { maxLength: 2 })),
});
const arbPolicy = fc.record({
  ns: fc.constantFrom("blue", "green"),
  selector: arbSelector,
  types: fc.constantFrom("[Ingress]", "[Egress]", "[Ingress, Egress]", "none"),
  ingress: fc.option(fc.array(arbRule, { maxLength: 2 })),
  egress: fc.option(fc.array(arbRule, { maxLength: 2 })),
});
// AdminNetworkPolicy / BaselineAdminNetworkPolicy: subjects, peers, ports and actions.
const arbTierPeer = fc.oneof(
  fc.constantFrom("blue", "green").map((ns) => `{namespaces: {matchLabels: {team: ${ns}}}}`),
  arbSelector.map((s) => `{pods: {namespaceSelector: {}, podSelector: ${s}}}`),
);
const arbTierPort = fc.oneof(
  fc.constantFrom(80, 8080).map((p) => `{portNumber: {protocol: TCP, port: ${p}}}`),
  fc.constant("{portNumber: {protocol: UDP, port: 9000}}"),
  fc.constantFrom("web", "admin").map((n) => `{namedPort: ${n}}`),
  fc.constant("{portRange: {start: 8000, end: 8100}}"),
);
const arbTierRule = (actions: string[], egress: boolean) =>
  fc.record({
    action: fc.constantFrom(...actions),
    peers: fc.array(
      egress ? fc.oneof(arbTierPeer, fc.constant("{networks: [10.244.0.8/29]}")) : arbTierPeer,
      {
        minLength: 1,
        maxLength: 2,
      },
    ),
    ports: fc.option(fc.array(arbTierPort, { minLength: 1, maxLength: 2 })),
  });
const arbTier = (kind: "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy") => {
  const actions = kind === "AdminNetworkPolicy" ? ["Allow", "Deny", "Pass"] : ["Allow", "Deny"];
  return fc.record({
    kind: fc.constant(kind),
    priority: fc.integer({ min: 1, max: 3 }),
    subject: fc.oneof(
      fc.constantFrom("blue", "green").map((ns) => `{namespaces: {matchLabels: {team: ${ns}}}}`),
      arbSelector.map((s) => `{pods: {namespaceSelector: {}, podSelector: ${s}}}`),
    ),
    ingress: fc.array(arbTierRule(actions, false), { maxLength: 2 }),
    egress: fc.array(arbTierRule(actions, true), { maxLength: 2 }),
  });
};
const arbTiers = fc
  .tuple(
    fc.array(arbTier("AdminNetworkPolicy"), { maxLength: 2 }),
    fc.option(arbTier("BaselineAdminNetworkPolicy")),
  )
  .map(([admin, baseline]) => (baseline ? [...admin, baseline] : admin));

const arbPod = fc.record({
  ns: fc.constantFrom("blue", "green"),
  app: fc.constantFrom(...LABELS),
  tier: fc.boolean(),
  web: fc.constantFrom(80, 8080, 8050),
});

type Shape<A> = A extends fc.Arbitrary<infer T> ? T : never;
type PodShape = Shape<typeof arbPod>;
type PolicyShape = Shape<typeof arbPolicy>;
type RuleShape = Shape<typeof arbRule>;
type TierShape = Shape<typeof arbTiers>[number];

function tierDoc(t: TierShape, i: number): string {
  const rules = (rs: TierShape["ingress"], field: string) =>
    rs
      .map(
        (r, k) =>
          `{name: r${k}, action: ${r.action}, ${field}: [${r.peers.join(", ")}]${r.ports ? `, ports: [${r.ports.join(", ")}]` : ""}}`,
      )
      .join(", ");
  const name = t.kind === "AdminNetworkPolicy" ? `anp${i}` : "default";
  const priority = t.kind === "AdminNetworkPolicy" ? `\n  priority: ${t.priority}` : "";
  return `apiVersion: policy.networking.k8s.io/v1alpha1\nkind: ${t.kind}\nmetadata: {name: ${name}}\nspec:${priority}\n  subject: ${t.subject}\n  ingress: [${rules(t.ingress, "from")}]\n  egress: [${rules(t.egress, "to")}]\n`;
}

function manifest(pods: PodShape[], policies: PolicyShape[], tiers: TierShape[] = []): string {
  const docs = [
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: blue, labels: {team: blue}}\n",
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: green, labels: {team: green}}\n",
  ];
  pods.forEach((p, i) => {
    docs.push(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: ${p.ns}, labels: {app: ${p.app}${p.tier ? ", tier: t" : ""}}}\nspec: {nodeName: node-1, containers: [{name: c, ports: [{name: web, containerPort: ${p.web}}, {name: admin, containerPort: 9000, protocol: UDP}]}]}\nstatus: {phase: Running, podIP: 10.244.0.${i + 2}}\n`,
    );
  });
  const rules = (rs: RuleShape[] | null, field: string) =>
    rs === null
      ? ""
      : `\n  ${field === "from" ? "ingress" : "egress"}: [${rs.map((r) => `{${[r.peers === null ? "" : `${field}: [${r.peers.join(", ")}]`, r.ports === null ? "" : `ports: [${r.ports.join(", ")}]`].filter(Boolean).join(", ")}}`).join(", ")}]`;
  policies.forEach((p, i) => {
    docs.push(
      `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np${i}, namespace: ${p.ns}}\nspec:\n  podSelector: ${p.selector}${p.types === "none" ? "" : `\n  policyTypes: ${p.types}`}${rules(p.ingress, "from")}${rules(p.egress, "to")}\n`,
    );
  });
  tiers.forEach((t, i) => {
    docs.push(tierDoc(t, i));
  });
  return `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: m}\nspec: {nodes: [{name: node-1, podCIDR: 10.244.0.0/24}]}\n---\n${docs.join("---\n")}`;
}

describe("reachability matrix = pod-by-pod reference", () => {
  it("at fixed ports and protocols", () => {
    fc.assert(
      fc.property(
        fc.array(arbPod, { minLength: 1, maxLength: 8 }),
        fc.array(arbPolicy, { maxLength: 4 }),
        arbTiers,
        fc.constantFrom<[Protocol, number]>(
          ["TCP", 80],
          ["TCP", 8080],
          ["TCP", 8050],
          ["TCP", 8101],
          ["UDP", 9000],
          ["SCTP", 5],
        ),
        (pods, policies, tiers, [protocol, port]) => {
          const state = cluster(manifest(pods, policies, tiers));
          const m = computeMatrix(state, { protocol, port });
          const engine = new PolicyEngine(state);
          const byName = new Map(state.pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
          const peer = (name: string): PolicyPeer => {
            const p = byName.get(name)!;
            return { kind: "pod", pod: p, ip: parseIPv4(p.status!.podIP!)! };
          };
          for (const [i, a] of m.pods.entries()) {
            for (const [j, b] of m.pods.entries()) {
              const want = i === j || engine.check(peer(a), peer(b), port, protocol).allowed;
              assert.equal(m.allowed(i, j), want, `${a} → ${b} ${protocol} ${port}`);
            }
          }
        },
      ),
      { seed: 4, numRuns: 150 },
    );
  });

  it("over every port (a cell is true when some port is allowed), exhaustively on small clusters", () => {
    fc.assert(
      fc.property(
        fc.array(arbPod, { minLength: 1, maxLength: 3 }),
        fc.array(arbPolicy, { maxLength: 3 }),
        arbTiers,
        (pods, policies, tiers) => {
          const state = cluster(manifest(pods, policies, tiers));
          const m = computeMatrix(state, { protocol: "TCP" });
          const engine = new PolicyEngine(state);
          const peers = m.pods.map((name) => {
            const p = state.pods.find((x) => `${x.metadata.namespace}/${x.metadata.name}` === name)!;
            return { kind: "pod" as const, pod: p, ip: parseIPv4(p.status!.podIP!)! };
          });
          for (const [i, a] of peers.entries()) {
            for (const [j, b] of peers.entries()) {
              let any = i === j;
              for (let port = 1; !any && port <= 65535; port++) any = engine.check(a, b, port, "TCP").allowed;
              assert.equal(m.allowed(i, j), any, `${m.pods[i]} → ${m.pods[j]}`);
            }
          }
        },
      ),
      { seed: 5, numRuns: 8 },
    );
  });

  // Random clusters of up to 6 pods, 4 NetworkPolicies and the admin/baseline tiers, as manifests.
  const arbManifest = fc
    .tuple(fc.array(arbPod, { minLength: 1, maxLength: 6 }), fc.array(arbPolicy, { maxLength: 4 }), arbTiers)
    .map(([pods, policies, tiers]) => manifest(pods, policies, tiers));

  it("on every port atom of every protocol, at both ends, with the pair counts", () => {
    fc.assert(
      fc.property(arbManifest, (text) => {
        agreesEverywhere(cluster(text));
      }),
      { seed: 6, numRuns: 120 },
    );
  });

  it("connlist = a per-workload, per-range reference (direct engine checks on every atom)", () => {
    fc.assert(
      fc.property(arbManifest, (text) => {
        const state = cluster(text);
        assert.deepEqual(connlist(state), referenceConnlist(state));
      }),
      { seed: 8, numRuns: 100 },
    );
  });

  it("with host-network pods, ipBlocks over node addresses and node peers", () => {
    const state = cluster(`apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: h}
spec:
  nodeNetwork: 192.168.5.0/24
  nodes: [{name: node-1, podCIDR: 10.244.0.0/24, labels: {role: edge}}, {name: node-2, podCIDR: 10.244.1.0/24}]
---
apiVersion: v1
kind: Pod
metadata: {name: agent-1, namespace: kube-system, labels: {app: agent}}
spec: {nodeName: node-1, hostNetwork: true, containers: [{name: c, ports: [{name: web, containerPort: 9100}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: agent-2, namespace: kube-system, labels: {app: agent}}
spec: {nodeName: node-2, hostNetwork: true, containers: [{name: c, ports: [{name: web, containerPort: 9100}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, ports: [{name: web, containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: default, labels: {app: db}}
spec: {nodeName: node-2, containers: [{name: c, ports: [{name: web, containerPort: 5432}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: default}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{ipBlock: {cidr: 192.168.5.0/24, except: [192.168.5.2/32]}}, {podSelector: {matchLabels: {app: web}}}]
      ports: [{port: web}]
  egress:
    - to: [{ipBlock: {cidr: 192.168.5.0/24}}]
      ports: [{port: web}, {port: 9100}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: edge}
spec:
  priority: 5
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}
  egress:
    - {name: no-edge, action: Deny, to: [{nodes: {matchLabels: {role: edge}}}]}
    - {name: db, action: Allow, to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}], ports: [{namedPort: web}]}
`);
    const reach = agreesEverywhere(state);
    assert.equal(
      reach.reps.filter((p) => p.spec.hostNetwork).length,
      2,
      "each host-network pod is its own class",
    );
  });

  it("with nodes of several addresses: every InternalIP and ExternalIP is the node's to nodes peers", () => {
    // node-1 has a second InternalIP and an ExternalIP; an ipBlock and a nodes peer cover them. (No
    // host-network pod shares a node with a pod here: the reference knows no own-node exception.)
    const state = cluster(`apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: multi}
spec: {nodeNetwork: 192.168.5.0/24}
---
apiVersion: v1
kind: Node
metadata: {name: node-1, labels: {role: edge}}
spec: {podCIDR: 10.244.0.0/24}
status:
  addresses:
    - {type: InternalIP, address: 192.168.5.2}
    - {type: InternalIP, address: 10.20.0.2}
    - {type: ExternalIP, address: 203.0.113.2}
---
apiVersion: v1
kind: Node
metadata: {name: node-2}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 192.168.5.3}]}
---
apiVersion: v1
kind: Pod
metadata: {name: agent-2, namespace: kube-system, labels: {app: agent}}
spec: {nodeName: node-2, hostNetwork: true, containers: [{name: c, ports: [{name: web, containerPort: 9100}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, ports: [{name: web, containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: default, labels: {app: db}}
spec: {nodeName: node-1, containers: [{name: c, ports: [{name: web, containerPort: 5432}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: default}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{ipBlock: {cidr: 10.20.0.0/16}}, {podSelector: {matchLabels: {app: web}}}], ports: [{port: web}]}]
  egress: [{to: [{ipBlock: {cidr: 10.20.0.0/24}}], ports: [{port: 9100}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: edge}
spec:
  priority: 5
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}
  egress: [{name: no-edge, action: Deny, to: [{nodes: {matchLabels: {role: edge}}}]}]
`);
    agreesEverywhere(state);
    const lines = connlist(state);
    assert.deepEqual(lines, referenceConnlist(state));
    const web = lines.filter((l) => l.src === "default/web[Pod]").map((l) => l.dst);
    for (const a of ["192.168.5.2", "10.20.0.2", "203.0.113.2"])
      assert.ok(!web.includes(`${a}-${a}[External]`), `web may not reach node-1's ${a}: ${web.join(", ")}`);
    const db = lines.filter((l) => l.src === "default/db[Pod]").map((l) => `${l.dst} : ${l.conn}`);
    assert.ok(db.includes("10.20.0.2-10.20.0.2[External] : TCP 9100"), db.join("\n"));
  });

  it("on a generated benchmark cluster (bench/policy.ts's policy mix)", () => {
    const text = `${generateCluster({ seed: 3, nodes: 4, pods: 80, services: 2, namespaces: 2, policies: 0 })}---\n${generatePolicies(3, 30, 2)}`;
    const reach = agreesEverywhere(cluster(text));
    assert.ok(
      reach.egress.some((q) => !q.open) && reach.ingress.some((p) => !p.open),
      "policies on both sides",
    );
  });
});

/** Every pod pair on every atom of every protocol (both ends), and the pair counts, against the direct engine. */
function agreesEverywhere(state: ReturnType<typeof cluster>): Reachability {
  const reach = new Reachability(state);
  const engine = new PolicyEngine(state);
  const peers = reach.pods.map((p): PolicyPeer => {
    const ip = parseIPv4(p.status!.podIP!)!;
    return p.spec.hostNetwork ? { kind: "address", ip } : { kind: "pod", pod: p, ip };
  });
  for (const protocol of ["TCP", "UDP", "SCTP"] as const) {
    const [lo, hi] = reach.atomRange(protocol);
    const perAtom = reach.countPerAtom(lo, hi);
    const any = new Set<string>();
    for (let a = lo; a <= hi; a++) {
      const atom = reach.atoms[a];
      let count = 0;
      for (const [i, src] of peers.entries())
        for (const [j, dst] of peers.entries()) {
          const want = (port: number) => i === j || engine.check(src, dst, port, protocol).allowed;
          const got = reach.allowed(i, j, protocol, atom.start);
          const where = `${reach.pods[i].metadata.name} → ${reach.pods[j].metadata.name} ${protocol} ${atom.start}-${atom.end}`;
          assert.equal(got, want(atom.start), where);
          assert.equal(reach.allowed(i, j, protocol, atom.end), want(atom.end), where);
          if (got) {
            count++;
            any.add(`${i}/${j}`);
          }
        }
      assert.equal(perAtom[a - lo], count, `pairs allowed on ${protocol} ${atom.start}-${atom.end}`);
    }
    assert.equal(
      reach.countPairs(reach.classMatrix(lo, hi)),
      any.size,
      `pairs allowed on some ${protocol} port`,
    );
  }
  return reach;
}
/** connlist the slow way: every pod pair of every workload pair, and every range, on every atom. */
function referenceConnlist(state: ReturnType<typeof cluster>): Connection[] {
  const engine = new PolicyEngine(state);
  const reach = new Reachability(state);
  const owner = workloadOf(state);
  const byWorkload = new Map<string, PolicyPeer[]>();
  for (const p of reach.pods) {
    const ip = parseIPv4(p.status!.podIP!)!;
    const list = byWorkload.get(owner(p)) ?? [];
    list.push(p.spec.hostNetwork ? { kind: "address", ip } : { kind: "pod", pod: p, ip });
    byWorkload.set(owner(p), list);
  }
  const rangesOf = (direction: "ingress" | "egress") => {
    const cuts = rangeCuts(state, direction);
    return cuts.map((first, i) => ({ first, last: i + 1 < cuts.length ? cuts[i + 1] - 1 : 0xffffffff }));
  };
  const name = (r: { first: number; last: number }) =>
    `${formatIPv4(r.first)}-${formatIPv4(r.last)}[External]`;
  const lines: Connection[] = [];
  const line = (src: string, dst: string, ok: (port: number, protocol: Protocol) => boolean) => {
    const allowed = new Map<Protocol, [number, number][]>();
    for (const atom of reach.atoms) {
      if (!ok(atom.start, atom.protocol)) continue;
      const list = allowed.get(atom.protocol) ?? [];
      const last = list.at(-1);
      if (last && last[1] === atom.start - 1) last[1] = atom.end;
      else list.push([atom.start, atom.end]);
      allowed.set(atom.protocol, list);
    }
    if (allowed.size) lines.push({ src, dst, conn: formatConnections(allowed) });
  };
  for (const [a, src] of byWorkload)
    for (const [b, dst] of byWorkload)
      if (a !== b)
        line(a, b, (port, p) => src.some((x) => dst.some((y) => engine.check(x, y, port, p).allowed)));
  for (const r of rangesOf("ingress"))
    for (const [b, dst] of byWorkload)
      line(name(r), b, (port, p) =>
        dst.some((y) => engine.check({ kind: "address", ip: r.first }, y, port, p).allowed),
      );
  for (const r of rangesOf("egress"))
    for (const [a, src] of byWorkload)
      line(a, name(r), (port, p) =>
        src.some((x) => engine.check(x, { kind: "address", ip: r.first }, port, p).allowed),
      );
  return lines.sort((x, y) =>
    x.src < y.src ? -1 : x.src > y.src ? 1 : x.dst < y.dst ? -1 : x.dst > y.dst ? 1 : 0,
  );
}

describe("pod classes: CIDR memberships by the blocks' edges", () => {
  const arbBlock = fc
    .record({ ip: fc.integer({ min: 0, max: 0xffffffff }), prefix: fc.integer({ min: 0, max: 32 }) })
    .map(({ ip, prefix }) => {
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      return { base: (ip & mask) >>> 0, prefix };
    });
  // Addresses near the blocks' edges (first, last, one outside) and anywhere.
  const near = (blocks: { base: number; prefix: number }[], k: number) => {
    const b = blocks[k % blocks.length];
    const end = b.base + 2 ** (32 - b.prefix);
    return [b.base, b.base - 1, end - 1, end, 0, 0xffffffff].filter((x) => x >= 0 && x <= 0xffffffff);
  };

  it("two addresses share a number exactly when they lie in the same blocks", () => {
    fc.assert(
      fc.property(
        fc.array(arbBlock, { minLength: 1, maxLength: 70 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 20 }),
        (blocks, random) => {
          const membership = cidrMembership(blocks);
          const ips = [...random, ...blocks.flatMap((_, k) => near(blocks, k))];
          const inBlocks = (ip: number) => blocks.map((b) => (inBlock(ip, b) ? 1 : 0)).join("");
          for (const x of ips) {
            assert.ok(membership.of(x) >= 0 && membership.of(x) < membership.count);
            for (const y of ips)
              assert.equal(
                membership.of(x) === membership.of(y),
                inBlocks(x) === inBlocks(y),
                `${formatIPv4(x)} and ${formatIPv4(y)} in ${blocks.map((b) => `${formatIPv4(b.base)}/${b.prefix}`).join(" ")}`,
              );
          }
        },
      ),
      { seed: 17, numRuns: 300 },
    );
  });

  it("no blocks: every address alike", () => {
    const membership = cidrMembership([]);
    assert.equal(membership.count, 1);
    assert.equal(membership.of(0), membership.of(0xffffffff));
  });
});
