/**
 * Synthetic clusters for benchmarks, from a fixed seed: namespaces of Deployments (pods come from the
 * controllers, as in a real cluster), two Services per Deployment (one by numeric port, one by named
 * port, some NodePort/LoadBalancer/headless), and NetworkPolicies. Same seed, same text.
 *
 *   node --import tsx bench/generate.ts --nodes 5000 --pods 150000 --services 10000 > /tmp/big.yaml
 */
import { parseArgs } from "node:util";

export interface GenerateOptions {
  seed: number;
  nodes: number;
  /** Total pods, spread over Deployments of 10 to 50 replicas. */
  pods: number;
  services: number;
  namespaces: number;
  policies: number;
}

/** mulberry32: a small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateCluster(o: GenerateOptions): string {
  const rand = prng(o.seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const out: string[] = [];
  // Address plan sized for the largest clusters: /24 per node from a /10, 65k Service IPs.
  out.push(`apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: bench}
spec:
  clusterCIDR: 10.0.0.0/10
  nodeCIDRMaskSize: 24
  serviceCIDR: 10.96.0.0/16
  nodeNetwork: 100.64.0.0/16
  loadBalancerPool: [198.18.0.0/16]
  nodes: ${o.nodes}
`);
  for (let n = 0; n < o.namespaces; n++)
    out.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-${n}, labels: {team: team-${n % 20}}}\n`);

  const deployments: { name: string; ns: string; app: string }[] = [];
  let remaining = o.pods;
  for (let d = 0; remaining > 0; d++) {
    const replicas = Math.min(remaining, 10 + Math.floor(rand() * 41));
    remaining -= replicas;
    const ns = `ns-${d % o.namespaces}`;
    const name = `app-${d}`;
    const tier = pick(["web", "api", "worker", "cache", "db"]);
    deployments.push({ name, ns, app: name });
    out.push(`apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}, tier: ${tier}, version: v${1 + Math.floor(rand() * 3)}}}
    spec:
      containers:
        - name: main
          image: registry.example/${tier}:1
          ports:
            - {name: http, containerPort: ${8000 + Math.floor(rand() * 100)}}
            - {name: metrics, containerPort: 9090}
`);
  }
  for (let s = 0; s < o.services; s++) {
    const d = deployments[s % deployments.length];
    const second = s >= deployments.length;
    const r = rand();
    const type = r < 0.05 ? "NodePort" : r < 0.06 ? "LoadBalancer" : "ClusterIP";
    const headless = type === "ClusterIP" && r > 0.95 ? "\n  clusterIP: None" : "";
    out.push(`apiVersion: v1
kind: Service
metadata: {name: ${d.name}${second ? `-m${Math.floor(s / deployments.length)}` : ""}, namespace: ${d.ns}}
spec:
  type: ${type}${headless}
  selector: {app: ${d.app}}
  ports:
    - {name: ${second ? "metrics" : "http"}, port: ${second ? 9090 : 80}, targetPort: ${second ? "metrics" : "http"}}
`);
  }
  for (let p = 0; p < o.policies; p++) {
    const ns = `ns-${p % o.namespaces}`;
    out.push(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np-${p}, namespace: ${ns}}
spec:
  podSelector: {matchLabels: {tier: ${pick(["web", "api", "worker", "cache", "db"])}}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: team-${Math.floor(rand() * 20)}}}
      ports: [{port: http}]
`);
  }
  return out.join("---\n");
}

/** Command-line options of the generator, shared by the benchmarks that use it (defaults: issue #2's sizes). */
export const GENERATE_OPTIONS = {
  seed: { type: "string", default: "1" },
  nodes: { type: "string", default: "5000" },
  pods: { type: "string", default: "150000" },
  services: { type: "string", default: "10000" },
  namespaces: { type: "string", default: "200" },
  policies: { type: "string", default: "1000" },
} as const;

export function generateOptionsFrom(
  values: Record<keyof typeof GENERATE_OPTIONS, string | undefined>,
): GenerateOptions {
  const n = (k: keyof typeof GENERATE_OPTIONS) => Number(values[k] ?? GENERATE_OPTIONS[k].default);
  return {
    seed: n("seed"),
    nodes: n("nodes"),
    pods: n("pods"),
    services: n("services"),
    namespaces: n("namespaces"),
    policies: n("policies"),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: GENERATE_OPTIONS });
  process.stdout.write(generateCluster(generateOptionsFrom(values)));
}
