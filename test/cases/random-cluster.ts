/** Random small clusters for property tests: nodes, CNI, proxy mode, Services of every kind, policies. */
import fc from "fast-check";
import { networkPluginNames } from "../../src/core/cni/registry.ts";

export const arbCluster = fc.record({
  nodes: fc.integer({ min: 1, max: 4 }),
  // Every registered network plugin (src/core/cni/registry.ts): a new one joins the property tests.
  cni: fc.constantFrom(...networkPluginNames),
  mode: fc.constantFrom("nftables", "iptables", "ipvs"),
  apps: fc.array(
    fc.record({
      replicas: fc.integer({ min: 0, max: 4 }),
      port: fc.constantFrom(80, 8080, 53),
      protocol: fc.constantFrom("TCP", "UDP"),
      type: fc.constantFrom("ClusterIP", "NodePort", "LoadBalancer", "None"),
      etp: fc.constantFrom("Cluster", "Local"),
      itp: fc.constantFrom("Cluster", "Local"),
      affinity: fc.boolean(),
      policy: fc.constantFrom("none", "deny", "same-app", "port-only"),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  host: fc.boolean(),
});

type ClusterShape = typeof arbCluster extends fc.Arbitrary<infer T> ? T : never;

export function manifest(c: ClusterShape): string {
  const docs = [
    `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: f}\nspec: {nodes: ${c.nodes}, cni: ${c.cni}, proxyMode: ${c.mode}}\n`,
  ];
  c.apps.forEach((a, i) => {
    docs.push(
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app${i}}\nspec:\n  replicas: ${a.replicas}\n  selector: {matchLabels: {app: a${i}}}\n  template:\n    metadata: {labels: {app: a${i}}}\n    spec: {containers: [{name: c, ports: [{name: p, containerPort: ${a.port}, protocol: ${a.protocol}}]}]}\n`,
    );
    const headless = a.type === "None";
    const type = headless ? "ClusterIP" : a.type;
    const external = type !== "ClusterIP" ? `\n  externalTrafficPolicy: ${a.etp}` : "";
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata: {name: s${i}}\nspec:\n  type: ${type}${headless ? "\n  clusterIP: None" : ""}${external}\n  internalTrafficPolicy: ${a.itp}\n  sessionAffinity: ${a.affinity ? "ClientIP" : "None"}\n  selector: {app: a${i}}\n  ports: [{name: p, port: ${a.port}, protocol: ${a.protocol}, targetPort: p}]\n`,
    );
    if (a.policy === "deny")
      docs.push(
        `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np${i}}\nspec: {podSelector: {matchLabels: {app: a${i}}}}\n`,
      );
    if (a.policy === "same-app")
      docs.push(
        `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np${i}}\nspec:\n  podSelector: {matchLabels: {app: a${i}}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: a${i}}}}]}]\n`,
      );
    if (a.policy === "port-only")
      docs.push(
        `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np${i}}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{ports: [{port: p, protocol: ${a.protocol}}]}]\n`,
      );
  });
  if (c.host)
    docs.push(
      "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {hostNetwork: true, containers: [{name: c, ports: [{containerPort: 9100}]}]}\n",
    );
  return docs.join("---\n");
}
