/**
 * Benchmark: full pod-by-pod reachability under network policy (issue #4: 100,000 pods, 10,000
 * NetworkPolicies, 1,000 namespaces, every port class, in under 10 s and 4 GB; at least 100× a
 * pair-by-pair evaluator on inputs where that one finishes; a query after compilation in microseconds).
 *
 * The cluster comes from bench/generate.ts (fixed seed) with a richer policy mix from this file (same
 * seed): ingress and egress, pod, namespace and combined peers, ipBlocks with excepts, numeric, named
 * and ranged ports, TCP and UDP, DNS egress rules, AdminNetworkPolicies (Allow/Deny/Pass) and a
 * BaselineAdminNetworkPolicy.
 *
 * "Full reachability" is, per protocol: the compiled classes, profiles and rows (./src/core/policy/
 * reach.ts); the any-port class matrix; and the allowed pod-pair count of every port atom. The
 * pair-by-pair evaluator computes the same per-atom counts with one direct engine check per pod pair
 * and atom; the two must agree, or the benchmark fails.
 *
 *   node --max-old-space-size=4096 --import tsx bench/policy.ts
 *   node --import tsx bench/policy.ts --pods 10000 --policies 1000 --namespaces 100 --naive 250,500
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { resolveManifests } from "../src/core/cluster.ts";
import type { ClusterState } from "../src/core/control/state.ts";
import type { Protocol } from "../src/core/model/k8s.ts";
import { parseIPv4 } from "../src/core/net/ipv4.ts";
import { PolicyEngine, type PolicyPeer } from "../src/core/policy/netpol.ts";
import { Reachability } from "../src/core/policy/reach.ts";
import { generateCluster, prng } from "./generate.ts";

const PROTOCOLS: Protocol[] = ["TCP", "UDP", "SCTP"];
const TIERS = ["web", "api", "worker", "cache", "db"];

/** NetworkPolicies plus cluster-wide tiers for a generated cluster (namespaces `ns-N`, labels team/tier/version). */
export function generatePolicies(seed: number, policies: number, namespaces: number): string {
  const rand = prng(seed + 7919);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const team = () => `team-${Math.floor(rand() * 20)}`;
  const from = () =>
    pick([
      () => `[{podSelector: {matchLabels: {tier: ${pick(TIERS)}}}}]`,
      () => `[{namespaceSelector: {matchLabels: {team: ${team()}}}}]`,
      () =>
        `[{namespaceSelector: {matchLabels: {team: ${team()}}}, podSelector: {matchLabels: {tier: ${pick(TIERS)}}}}]`,
      () => `[{ipBlock: {cidr: 10.0.0.0/10, except: [10.${Math.floor(rand() * 64)}.0.0/16]}}]`,
      () => "",
    ])();
  const ports = () =>
    pick([
      "[{port: http}]",
      "[{port: 9090}]",
      "[{port: 8000, endPort: 8049}]",
      "[{port: metrics}, {protocol: UDP, port: 5353}]",
      "",
    ]);
  const rule = (field: "from" | "to", peers: string, p: string) =>
    `{${[peers ? `${field}: ${peers}` : "", p ? `ports: ${p}` : ""].filter(Boolean).join(", ")}}`;
  const out: string[] = [];
  for (let p = 0; p < policies; p++) {
    const ns = `ns-${p % namespaces}`;
    const r = rand();
    const selector =
      r < 0.8
        ? `{matchLabels: {tier: ${pick(TIERS)}}}`
        : r < 0.95
          ? `{matchLabels: {tier: ${pick(TIERS)}}, matchExpressions: [{key: version, operator: In, values: [v1, v2]}]}`
          : "{}";
    const t = rand();
    const types = t < 0.6 ? ["Ingress"] : t < 0.85 ? ["Ingress", "Egress"] : ["Egress"];
    const lines = [
      `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np-${p}, namespace: ${ns}}\nspec:\n  podSelector: ${selector}\n  policyTypes: [${types.join(", ")}]`,
    ];
    if (types.includes("Ingress")) {
      const n = 1 + Math.floor(rand() * 2);
      lines.push(`  ingress: [${Array.from({ length: n }, () => rule("from", from(), ports())).join(", ")}]`);
    }
    if (types.includes("Egress")) {
      const to = () =>
        pick([
          () => from(),
          () => "[{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]",
          () => `[{namespaceSelector: {matchLabels: {team: ${team()}}}}]`,
        ])();
      const n = 1 + Math.floor(rand() * 2);
      const rules = Array.from({ length: n }, () => rule("to", to(), ports()));
      if (rand() < 0.7)
        rules.push(
          "{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}], ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]}",
        );
      lines.push(`  egress: [${rules.join(", ")}]`);
    }
    out.push(`${lines.join("\n")}\n`);
  }
  out.push(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: protect-db}
spec:
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {tier: db}}}}
  ingress:
    - {name: app-tiers, action: Pass, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {tier: api}}}}]}
    - {name: no-web, action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {tier: web}}}}]}
`);
  out.push(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: monitoring}
spec:
  priority: 20
  subject: {namespaces: {}}
  ingress:
    - name: scrape
      action: Allow
      from: [{namespaces: {matchLabels: {team: team-0}}}]
      ports: [{namedPort: metrics}]
`);
  out.push(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {matchLabels: {team: team-19}}}
  ingress:
    - {name: isolate, action: Deny, from: [{namespaces: {}}]}
`);
  return out.join("---\n");
}

interface Result {
  classes: number;
  atoms: number;
  ingressProfiles: number;
  egressProfiles: number;
  /** Per protocol: any-port allowed pairs, and the sum over atoms of allowed pairs. */
  perProtocol: { protocol: Protocol; anyPort: number; perAtom: Float64Array }[];
}

/** The fast engine: compile, then every protocol's any-port matrix and per-atom pair counts. */
function fast(state: ClusterState): { ms: number; result: Result; reach: Reachability } {
  const t0 = performance.now();
  const reach = new Reachability(state);
  const perProtocol = PROTOCOLS.map((protocol) => {
    const [lo, hi] = reach.atomRange(protocol);
    return {
      protocol,
      anyPort: reach.countPairs(reach.classMatrix(lo, hi)),
      perAtom: reach.countPerAtom(lo, hi),
    };
  });
  const ms = performance.now() - t0;
  return {
    ms,
    reach,
    result: {
      classes: reach.reps.length,
      atoms: reach.atoms.length,
      ingressProfiles: reach.ingress.length,
      egressProfiles: reach.egress.length,
      perProtocol,
    },
  };
}

/**
 * The straightforward evaluator: for every ordered pod pair and every port atom (the same atoms, taken
 * from the fast engine so both answer the same question), one direct engine check.
 */
function naive(state: ClusterState, atoms: Reachability["atoms"]): { ms: number; perAtom: Float64Array } {
  const t0 = performance.now();
  const engine = new PolicyEngine(state);
  const pods = state.pods.filter(
    (p) => p.status?.podIP && p.status.phase !== "Succeeded" && p.status.phase !== "Failed",
  );
  const peers: PolicyPeer[] = pods.map((p) => {
    const ip = parseIPv4(p.status!.podIP!)!;
    return p.spec.hostNetwork ? { kind: "address", ip } : { kind: "pod", pod: p, ip };
  });
  const perAtom = new Float64Array(atoms.length);
  for (let i = 0; i < peers.length; i++)
    for (let j = 0; j < peers.length; j++)
      for (let a = 0; a < atoms.length; a++)
        if (i === j || engine.check(peers[i], peers[j], atoms[a].start, atoms[a].protocol).allowed)
          perAtom[a]++;
  return { ms: performance.now() - t0, perAtom };
}

function load(
  pods: number,
  policies: number,
  namespaces: number,
  seed: number,
): { state: ClusterState; loadMs: number } {
  const t0 = performance.now();
  const text =
    generateCluster({
      seed,
      nodes: Math.max(4, Math.ceil(pods / 100)),
      pods,
      services: Math.max(1, Math.floor(pods / 50)),
      namespaces,
      policies: 0,
    }) +
    "---\n" +
    generatePolicies(seed, policies, namespaces);
  const r = resolveManifests([{ file: "bench.yaml", text }]);
  if (!r.ok) throw new Error("benchmark input has errors");
  return { state: r.cluster, loadMs: performance.now() - t0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const peakMB = () => {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return hwm ? Number(hwm[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
};
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      seed: { type: "string", default: "1" },
      pods: { type: "string", default: "100000" },
      policies: { type: "string", default: "10000" },
      namespaces: { type: "string", default: "1000" },
      runs: { type: "string", default: "3" },
      queries: { type: "string", default: "100000" },
      /** Pod counts for the comparison with the pair-by-pair evaluator (policies and namespaces scaled alike). */
      naive: { type: "string", default: "200,400" },
    },
  });
  const seed = Number(values.seed);
  const runs = Number(values.runs);
  console.log(`podnet policy benchmark: seed ${seed}, ${runs} runs, node ${process.version}`);

  // 1. Against the pair-by-pair evaluator, on sizes where it finishes.
  const ratio = Number(values.policies) / Number(values.pods);
  const nsRatio = Number(values.namespaces) / Number(values.pods);
  for (const size of values.naive.split(",").filter(Boolean).map(Number)) {
    const { state } = load(
      size,
      Math.max(1, Math.round(size * ratio)),
      Math.max(1, Math.round(size * nsRatio)),
      seed,
    );
    const fastMs: number[] = [];
    let res: ReturnType<typeof fast> | undefined;
    for (let r = 0; r < runs; r++) {
      res = fast(state);
      fastMs.push(res.ms);
    }
    const slow = naive(state, res!.reach.atoms);
    for (const p of res!.result.perProtocol) {
      const [lo] = res!.reach.atomRange(p.protocol);
      p.perAtom.forEach((count, k) => {
        const atom = res!.reach.atoms[lo + k];
        if (count !== slow.perAtom[lo + k])
          throw new Error(
            `engines disagree at ${size} pods on ${atom.protocol} ${atom.start}-${atom.end}: ${count} vs ${slow.perAtom[lo + k]} pod pairs`,
          );
      });
    }
    const checks = state.pods.length ** 2 * res!.result.atoms;
    console.log(
      `  ${size} pods, ${state.networkPolicies.length} policies: pair-by-pair ${fmt(slow.ms)} (${checks.toLocaleString("en")} checks, 1 run), bitset engine median ${fmt(median(fastMs))} → ${Math.round(slow.ms / median(fastMs))}× faster; per-atom counts agree`,
    );
  }

  // 2. The full-size run.
  const { state, loadMs } = load(
    Number(values.pods),
    Number(values.policies),
    Number(values.namespaces),
    seed,
  );
  console.log(
    `  cluster: ${state.pods.length} pods, ${state.networkPolicies.length} NetworkPolicies, ${state.adminNetworkPolicies.length + state.baselineAdminNetworkPolicies.length} admin/baseline policies, ${state.namespaces.length} namespaces (generated and loaded in ${fmt(loadMs)})`,
  );
  const times: number[] = [];
  let last: ReturnType<typeof fast> | undefined;
  for (let r = 0; r < runs; r++) {
    last = undefined; // let the previous run's engine go before the next one is built
    last = fast(state);
    times.push(last.ms);
    console.log(`  run ${r + 1}: ${fmt(last.ms)}`);
  }
  const { result, reach } = last!;
  for (const p of result.perProtocol) {
    const sum = p.perAtom.reduce((x, y) => x + y, 0);
    console.log(
      `  ${p.protocol}: ${p.anyPort.toLocaleString("en")} pod pairs allowed on some port; ${p.perAtom.length} atoms, ${sum.toLocaleString("en")} (pair, atom) allowed`,
    );
  }

  // 3. Queries after compilation: random pod pairs and ports, batches of 10,000.
  const rand = prng(seed + 1);
  const perQuery: number[] = [];
  let yes = 0;
  const total = Number(values.queries);
  for (let done = 0; done < total; done += 10000) {
    const batch = Math.min(10000, total - done);
    const qs = Array.from({ length: batch }, () => [
      Math.floor(rand() * reach.pods.length),
      Math.floor(rand() * reach.pods.length),
      1 + Math.floor(rand() * 65535),
    ]);
    const t0 = performance.now();
    for (const [a, b, port] of qs) if (reach.allowed(a, b, "TCP", port)) yes++;
    perQuery.push(((performance.now() - t0) * 1000) / batch);
  }
  console.log(
    `  ${result.classes} classes, ${result.atoms} port atoms, ${result.ingressProfiles} ingress and ${result.egressProfiles} egress profiles; ${total} queries (${yes} allowed): median ${median(perQuery).toFixed(2)} µs per query`,
  );
  console.log(`  median full reachability: ${fmt(median(times))}; peak RSS ${peakMB().toFixed(0)} MiB`);
}
