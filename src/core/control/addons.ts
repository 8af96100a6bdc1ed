/**
 * What a running cluster always contains though a manifest set rarely declares it, supplied where it is
 * missing, as the cluster's own agents would, and each switchable in the Cluster config's `spec.supply`:
 *
 * - **kubelet's node labels.** On registration kubelet labels its Node (`initialNode` in
 *   pkg/kubelet/kubelet_node_status.go, label names from k8s.io/api/core/v1 well_known_labels.go and
 *   pkg/kubelet/apis): `kubernetes.io/hostname` (the host name, here the node's name),
 *   `kubernetes.io/os` and `kubernetes.io/arch` (Go's GOOS and GOARCH), and the deprecated
 *   `beta.kubernetes.io/os` and `beta.kubernetes.io/arch` with the same values. Labels the Node object
 *   declares win.
 * - **Cluster DNS.** kubeadm's CoreDNS add-on (cmd/kubeadm/app/phases/addons/dns): Service
 *   kube-system/kube-dns at dnsServiceIP (ports dns 53/UDP, dns-tcp 53/TCP, metrics 9153/TCP, selector
 *   `k8s-app: kube-dns`) and Deployment kube-system/coredns (2 replicas, the same ports plus the
 *   liveness and readiness probe ports 8080 and 8181, nodeSelector `kubernetes.io/os: linux`,
 *   tolerations for `CriticalAddonsOnly` and the control-plane taint, priority class
 *   `system-cluster-critical`, a preferred anti-affinity on `kubernetes.io/hostname`,
 *   `dnsPolicy: Default`). Supplied when the input has no Service kube-system/kube-dns (the only
 *   Service the API server lets sit at dnsServiceIP, see services.ts); the Deployment is left out when
 *   the input already has pods or workloads in kube-system labelled `k8s-app: kube-dns`.
 *
 * The supplied objects go through the same decoding and defaulting as the input's, and their pods are
 * created, scheduled and addressed after every pod of the input, so they never move an input pod
 * (resolve.ts places them, spread over hosts as their anti-affinity prefers).
 */
import type { Diagnostics, Origin } from "../diagnostics.ts";
import { decodeObjects, type Entry, type Inventory } from "../manifests/decode.ts";
import type { ClusterConfig } from "../model/config.ts";
import type { Labels, Service, Workload } from "../model/k8s.ts";
import { formatIPv4 } from "../net/ipv4.ts";

/**
 * The labels kubelet sets on its Node at registration, for a node of that name, operating system and
 * architecture (kubelet takes both the stable and the beta label from one runtime.GOOS / GOARCH).
 */
export function kubeletLabels(nodeName: string, arch: string, os = "linux"): Labels {
  return {
    "beta.kubernetes.io/arch": arch,
    "beta.kubernetes.io/os": os,
    "kubernetes.io/arch": arch,
    "kubernetes.io/hostname": nodeName,
    "kubernetes.io/os": os,
  };
}

/** Where supplied objects come from: they have no file, so diagnostics about them name this instead. */
export const SUPPLIED_ORIGIN: Origin = Object.freeze({
  file: "(supplied by podnet: kubeadm's CoreDNS add-on)",
  locate: () => undefined,
});

/** The label kubeadm's CoreDNS objects carry, and the kube-dns Service selects. */
export const KUBE_DNS_LABELS: Readonly<Labels> = Object.freeze({ "k8s-app": "kube-dns" });

/** kubeadm's default CoreDNS replica count (constants.CoreDNSReplicas). */
export const COREDNS_REPLICAS = 2;

/** The cluster DNS objects a resolution adds, already decoded (defaults filled in). */
export interface ClusterDNSAddon {
  services: Entry<Service>[];
  workloads: Entry<Workload>[];
}

/**
 * kubeadm's CoreDNS add-on when the input has no kube-system/kube-dns Service and the config does
 * not switch it off (`spec.supply.clusterDNS: false`); undefined otherwise. Reports once, as a
 * warning, what it supplied.
 */
export function supplyClusterDNS(
  inv: Inventory,
  config: ClusterConfig,
  diags: Diagnostics,
): ClusterDNSAddon | undefined {
  if (!config.supply.clusterDNS) return undefined;
  if (
    inv.services.some((e) => e.obj.metadata.namespace === "kube-system" && e.obj.metadata.name === "kube-dns")
  )
    return undefined;
  const isDNS = (labels: Labels | undefined) => labels?.["k8s-app"] === "kube-dns";
  const hasServers =
    inv.pods.some((e) => e.obj.metadata.namespace === "kube-system" && isDNS(e.obj.metadata.labels)) ||
    inv.workloads.some(
      (e) =>
        e.obj.metadata.namespace === "kube-system" &&
        isDNS((e.obj.spec as { template?: { metadata?: { labels?: Labels } } }).template?.metadata?.labels),
    );
  const raws = [service(config), ...(hasServers ? [] : [deployment()])].map((value) => ({
    value,
    origin: SUPPLIED_ORIGIN,
  }));
  const erroneous = diags.hasErrors;
  const decoded = decodeObjects(raws, diags);
  const dnsIP = formatIPv4(config.dnsServiceIP);
  // A run with errors resolves nothing: saying what would have been supplied is only noise then.
  if (!erroneous)
    diags.warn({
      code: "supplied-cluster-dns",
      message: hasServers
        ? `no Service kube-system/kube-dns in the input: podnet supplies kubeadm's (at dnsServiceIP ${dnsIP}, selecting the input's k8s-app: kube-dns pods)`
        : `no Service kube-system/kube-dns in the input: podnet supplies kubeadm's CoreDNS add-on (Service kube-system/kube-dns at dnsServiceIP ${dnsIP}, Deployment kube-system/coredns with ${COREDNS_REPLICAS} pods), as every cluster has one`,
      hint: "to analyse the manifests alone, set spec.supply.clusterDNS: false in the Cluster config (podnet.dev/v1alpha1)",
    });
  return {
    services: decoded.services,
    workloads: decoded.workloads as Entry<Workload>[],
  };
}

function service(config: ClusterConfig): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "kube-dns",
      namespace: "kube-system",
      labels: {
        ...KUBE_DNS_LABELS,
        "kubernetes.io/cluster-service": "true",
        "kubernetes.io/name": "CoreDNS",
      },
      annotations: { "prometheus.io/port": "9153", "prometheus.io/scrape": "true" },
    },
    spec: {
      clusterIP: formatIPv4(config.dnsServiceIP),
      selector: { ...KUBE_DNS_LABELS },
      ports: [
        { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
        { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
        { name: "metrics", port: 9153, protocol: "TCP", targetPort: 9153 },
      ],
    },
  };
}

function deployment(): Record<string, unknown> {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "coredns", namespace: "kube-system", labels: { ...KUBE_DNS_LABELS } },
    spec: {
      replicas: COREDNS_REPLICAS,
      selector: { matchLabels: { ...KUBE_DNS_LABELS } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels: { ...KUBE_DNS_LABELS } },
        spec: {
          priorityClassName: "system-cluster-critical",
          serviceAccountName: "coredns",
          dnsPolicy: "Default",
          nodeSelector: { "kubernetes.io/os": "linux" },
          tolerations: [
            { key: "CriticalAddonsOnly", operator: "Exists" },
            { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" },
          ],
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    labelSelector: {
                      matchExpressions: [{ key: "k8s-app", operator: "In", values: ["kube-dns"] }],
                    },
                    topologyKey: "kubernetes.io/hostname",
                  },
                },
              ],
            },
          },
          containers: [
            {
              name: "coredns",
              image: "registry.k8s.io/coredns/coredns:v1.11.3",
              args: ["-conf", "/etc/coredns/Corefile"],
              ports: [
                { name: "dns", containerPort: 53, protocol: "UDP" },
                { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                { name: "metrics", containerPort: 9153, protocol: "TCP" },
                { name: "liveness-probe", containerPort: 8080, protocol: "TCP" },
                { name: "readiness-probe", containerPort: 8181, protocol: "TCP" },
              ],
            },
          ],
        },
      },
    },
  };
}
