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

/** One document of an application install, and whether it is a CustomResourceDefinition. */
export interface InstallDocument {
  readonly text: string;
  readonly crd: boolean;
}

const WORDS = [
  "source",
  "destination",
  "server",
  "namespace",
  "project",
  "revision",
  "path",
  "chart",
  "values",
  "helm",
  "kustomize",
  "directory",
  "plugin",
  "sync",
  "policy",
  "automated",
  "prune",
  "selfHeal",
  "retry",
  "backoff",
  "duration",
  "factor",
  "limit",
  "status",
  "health",
  "message",
  "operation",
  "resources",
  "group",
  "kind",
  "version",
  "name",
  "target",
  "live",
  "diff",
  "ignore",
  "jq",
  "pointer",
  "managed",
  "fields",
  "info",
  "value",
  "parameters",
  "files",
  "include",
  "exclude",
  "recurse",
  "jsonnet",
  "tla",
  "ext",
  "code",
  "env",
  "args",
  "image",
  "replicas",
  "patches",
  "components",
  "labels",
  "annotations",
  "common",
  "force",
  "strategy",
  "hook",
  "apply",
  "finished",
  "started",
  "phase",
  "initiated",
  "username",
  "automatic",
  "history",
  "deployed",
  "conditions",
  "generator",
  "template",
  "matrix",
  "merge",
  "list",
  "clusters",
  "git",
  "scm",
  "provider",
  "pull",
  "request",
  "filters",
  "branch",
  "token",
  "secret",
  "key",
  "ref",
  "selector",
  "match",
  "expressions",
  "operator",
  "roles",
  "groups",
  "jwt",
  "windows",
  "schedule",
  "manual",
  "timezone",
  "signature",
];

const SENTENCES = [
  "is the reference to the object that is being tracked by the controller",
  "holds the desired state that the controller reconciles the live state towards",
  "specifies how long to wait before the next attempt, as a duration string such as 5s or 2m",
  "contains a list of key/value pairs passed to the tool that renders the manifests",
  "overrides the default value when set; leave it empty to use the default of the project",
  "is a label selector; an empty selector matches every object of the given kind",
  "is deprecated and kept for compatibility with older clients; use the newer field instead",
  "records the result of the last operation, including its phase, message and timestamps",
];

/**
 * An application install shaped like a public `install.yaml` (argo-cd's): CustomResourceDefinitions
 * with large nested `openAPIV3Schema`s (about `crdKiB[i]` KiB each, a description on every property,
 * block style as controller-gen writes them), then ServiceAccounts, RBAC, ConfigMaps, a Secret,
 * Services, Deployments, a StatefulSet and NetworkPolicies in one namespace. Same seed, same documents.
 */
export function generateInstall(
  seed: number,
  crdKiB: readonly number[] = [420, 560, 180],
): InstallDocument[] {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const cap = (w: string) => w.replace(/^./, (c) => c.toUpperCase());
  const docs: InstallDocument[] = [];
  const ns = "argocd";

  // The properties of one object schema, until the size budget (characters) is spent.
  const schema = (indent: string, depth: number, budget: { left: number }, out: string[]): void => {
    const n = depth === 0 ? 12 : 2 + Math.floor(rand() * 7);
    out.push(`${indent}properties:`);
    const used = new Set<string>();
    for (let i = 0; i < n && budget.left > 0; i++) {
      let name = pick(WORDS);
      while (used.has(name)) name = `${pick(WORDS)}${cap(pick(WORDS))}`;
      used.add(name);
      const at = `${indent}  `;
      const lines: string[] = [`${at}${name}:`];
      const desc = `${cap(name)} ${pick(SENTENCES)}. It ${pick(SENTENCES)}.`;
      if (rand() < 0.1)
        lines.push(`${at}  description: |-`, `${at}    ${desc}`, `${at}    ${pick(SENTENCES)}.`);
      else lines.push(`${at}  description: ${desc}`);
      const r = rand();
      const deeper = depth < 7;
      if (r < 0.3 && deeper) {
        lines.push(`${at}  type: object`);
        budget.left -= lines.join("\n").length;
        out.push(...lines);
        schema(`${at}  `, depth + 1, budget, out);
        if (rand() < 0.3) out.push(`${at}  required:`, `${at}  - ${name}`);
        continue;
      }
      if (r < 0.45 && deeper) {
        lines.push(`${at}  items:`, `${at}    type: object`);
        budget.left -= lines.join("\n").length;
        out.push(...lines);
        schema(`${at}    `, depth + 1, budget, out);
        out.push(`${at}  type: array`);
        continue;
      }
      if (r < 0.6) lines.push(`${at}  type: string`);
      else if (r < 0.7) lines.push(`${at}  format: int64`, `${at}  type: integer`);
      else if (r < 0.8) lines.push(`${at}  type: boolean`);
      else if (r < 0.9) lines.push(`${at}  items:`, `${at}    type: string`, `${at}  type: array`);
      else lines.push(`${at}  type: object`, `${at}  x-kubernetes-preserve-unknown-fields: true`);
      budget.left -= lines.join("\n").length;
      out.push(...lines);
    }
  };

  const crdKinds = ["Application", "ApplicationSet", "AppProject"];
  crdKiB.forEach((kib, i) => {
    const kind = crdKinds[i % crdKinds.length] + (i >= crdKinds.length ? `${i}` : "");
    const plural = `${kind.toLowerCase()}s`;
    const out: string[] = [
      "apiVersion: apiextensions.k8s.io/v1",
      "kind: CustomResourceDefinition",
      "metadata:",
      "  labels:",
      `    app.kubernetes.io/name: ${plural}.argoproj.io`,
      "    app.kubernetes.io/part-of: argocd",
      `  name: ${plural}.argoproj.io`,
      "spec:",
      "  group: argoproj.io",
      "  names:",
      `    kind: ${kind}`,
      `    listKind: ${kind}List`,
      `    plural: ${plural}`,
      `    singular: ${kind.toLowerCase()}`,
      "  scope: Namespaced",
      "  versions:",
      "  - name: v1alpha1",
      "    schema:",
      "      openAPIV3Schema:",
      `        description: ${kind} is a definition of an argo resource.`,
    ];
    const body: string[] = [];
    const budget = { left: kib * 1024 };
    while (budget.left > 0) schema("        ", 0, budget, body);
    // Several top-level `properties:` blocks would be duplicate keys: keep the first one's header only.
    out.push(...body.filter((l, j) => j === 0 || l !== "        properties:"));
    out.push("        type: object", "    served: true", "    storage: true", "    subresources: {}");
    docs.push({ text: `${out.join("\n")}\n`, crd: true });
  });

  const components = [
    "server",
    "repo-server",
    "application-controller",
    "redis",
    "dex-server",
    "notifications-controller",
    "applicationset-controller",
  ];
  const ports = [8080, 8081, 8082, 6379, 5556, 9001, 7000];
  components.forEach((c) => {
    const name = `argocd-${c}`;
    const meta = `metadata:\n  labels:\n    app.kubernetes.io/component: ${c}\n    app.kubernetes.io/name: ${name}\n    app.kubernetes.io/part-of: argocd\n  name: ${name}\n`;
    docs.push({ text: `apiVersion: v1\nkind: ServiceAccount\n${meta}  namespace: ${ns}\n`, crd: false });
    const rules = Array.from(
      { length: 3 + Math.floor(rand() * 4) },
      () =>
        `- apiGroups:\n  - "${pick(["", "apps", "argoproj.io", "batch"])}"\n  resources:\n  - ${pick(["secrets", "configmaps", "pods", "applications", "events"])}\n  verbs:\n  - get\n  - list\n  - watch\n`,
    ).join("");
    docs.push({
      text: `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n${meta}  namespace: ${ns}\nrules:\n${rules}`,
      crd: false,
    });
    docs.push({
      text: `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n${meta}rules:\n${rules}`,
      crd: false,
    });
    const ref = `roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: ${name}\nsubjects:\n- kind: ServiceAccount\n  name: ${name}\n  namespace: ${ns}\n`;
    docs.push({
      text: `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n${meta}  namespace: ${ns}\n${ref}`,
      crd: false,
    });
  });
  for (const cm of [
    "argocd-cm",
    "argocd-cmd-params-cm",
    "argocd-gpg-keys-cm",
    "argocd-rbac-cm",
    "argocd-tls-certs-cm",
  ]) {
    const data = Array.from(
      { length: 2 + Math.floor(rand() * 6) },
      (_, i) => `  ${pick(WORDS)}.${i}: "${pick(SENTENCES)}"\n`,
    );
    docs.push({
      text: `apiVersion: v1\ndata:\n${data.join("")}kind: ConfigMap\nmetadata:\n  name: ${cm}\n  namespace: ${ns}\n`,
      crd: false,
    });
  }
  docs.push({
    text: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: argocd-secret\n  namespace: ${ns}\ntype: Opaque\n`,
    crd: false,
  });
  components.forEach((c, i) => {
    const name = `argocd-${c}`;
    const port = ports[i];
    const sel = `app.kubernetes.io/name: ${name}`;
    docs.push({
      text: `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  ports:\n  - name: main\n    port: ${port}\n    protocol: TCP\n    targetPort: ${port}\n  selector:\n    ${sel}\n`,
      crd: false,
    });
    const kind = c === "application-controller" ? "StatefulSet" : "Deployment";
    const env = Array.from(
      { length: 4 + Math.floor(rand() * 8) },
      (_, j) =>
        `        - name: ARGOCD_${pick(WORDS).toUpperCase()}_${j}\n          valueFrom:\n            configMapKeyRef:\n              key: ${pick(WORDS)}.${j}\n              name: argocd-cmd-params-cm\n              optional: true\n`,
    ).join("");
    docs.push({
      text: `apiVersion: apps/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n${kind === "StatefulSet" ? `  serviceName: ${name}\n` : ""}  replicas: 1\n  selector:\n    matchLabels:\n      ${sel}\n  template:\n    metadata:\n      labels:\n        ${sel}\n    spec:\n      serviceAccountName: ${name}\n      containers:\n      - name: ${c}\n        image: quay.io/argoproj/argocd:v2\n        args:\n        - /usr/local/bin/${name}\n        env:\n${env}        ports:\n        - containerPort: ${port}\n        readinessProbe:\n          tcpSocket:\n            port: ${port}\n`,
      crd: false,
    });
    docs.push({
      text: `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: ${name}-network-policy\n  namespace: ${ns}\nspec:\n  ingress:\n  - ports:\n    - port: ${port}\n      protocol: TCP\n  podSelector:\n    matchLabels:\n      ${sel}\n  policyTypes:\n  - Ingress\n`,
      crd: false,
    });
  });
  return docs;
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
