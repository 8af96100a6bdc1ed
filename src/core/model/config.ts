/**
 * podnet's own `Cluster` object (apiVersion podnet.dev/v1alpha1): the facts a manifest dump does not
 * carry — address ranges, node count, CNI and proxy mode — and `supply`, which of the objects every
 * running cluster has podnet adds where the input lacks them (control/addons.ts). Every field is optional; `DEFAULT_CONFIG`
 * documents the defaults, which match a kubeadm/kind cluster with flannel.
 */
import type { Check, Rec } from "../manifests/check.ts";
import { dns1123SubdomainError } from "../manifests/check.ts";
import { Cidr, formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import type { Labels, Taint } from "./k8s.ts";

/**
 * The network plugins `spec.cni` accepts, the default first. The model names them, as an API names
 * the values of an enum; ../cni/registry.ts holds one implementation per name (its type requires it).
 */
export const NETWORK_PLUGIN_NAMES = ["vxlan", "host-gw", "ipip", "calico"] as const;
/** A network plugin's name (`NETWORK_PLUGIN_NAMES`). */
export type CniMode = (typeof NETWORK_PLUGIN_NAMES)[number];
/**
 * The kube-proxy modes `proxyMode` accepts, the default first (kube-proxy's own default is iptables;
 * podnet's is nftables, the mode kube-proxy made generally available last). ../proxy/modes/registry.ts
 * holds one implementation per name (its type requires it).
 */
export const PROXY_MODE_NAMES = ["nftables", "iptables", "ipvs"] as const;
/** A kube-proxy mode's name (`PROXY_MODE_NAMES`). */
export type ProxyModeName = (typeof PROXY_MODE_NAMES)[number];

/** A node as the config describes it (merged with Node objects of the same name). */
export interface NodeConfig {
  name: string;
  ip?: string;
  podCIDR?: string;
  labels?: Labels;
  taints?: Taint[];
}

export interface ClusterConfig {
  name: string;
  clusterCIDR: Cidr;
  nodeCIDRMaskSize: number;
  serviceCIDR: Cidr;
  clusterDomain: string;
  dnsServiceIP: IPv4;
  nodeNetwork: Cidr;
  /** A count (names `node-1`…), a list, or undefined: "2, unless the manifests name nodes". */
  nodes: number | NodeConfig[] | undefined;
  cni: CniMode;
  proxyMode: ProxyModeName;
  loadBalancerPool: Cidr[];
  /** How LoadBalancer IPs reach nodes (see `LoadBalancerConfig`). */
  loadBalancer: LoadBalancerConfig;
  kubeProxy: KubeProxyConfig;
  /** kube-apiserver's --service-node-port-range. */
  serviceNodePortRange: { min: number; max: number };
  /** The architecture kubelet reports in `kubernetes.io/arch` (Go's GOARCH: amd64, arm64, …). */
  nodeArch: string;
  /** What podnet supplies that every running cluster has (see `SupplyConfig`). */
  supply: SupplyConfig;
}

/**
 * How the network outside the cluster brings a LoadBalancer IP's packets to nodes, as a bare-metal
 * load balancer announces them (../control/load-balancers.ts):
 * - `l2`: one node answers ARP for each IP, elected as MetalLB's layer-2 mode elects it (the default,
 *   as MetalLB's own quick start configures an L2Advertisement);
 * - `bgp`: every eligible node announces the IP and the router spreads flows over them (equal-cost
 *   multipath).
 */
export interface LoadBalancerConfig {
  mode: LoadBalancerMode;
}

/** The ways LoadBalancer IPs reach nodes (`LoadBalancerConfig`). */
export const LOAD_BALANCER_MODES = ["l2", "bgp"] as const;
export type LoadBalancerMode = (typeof LOAD_BALANCER_MODES)[number];

/**
 * The kube-proxy options podnet models (KubeProxyConfiguration, k8s.io/kube-proxy/config/v1alpha1):
 * `nodePortAddresses` (every mode) and `ipvs` (IPVS mode only).
 */
export interface KubeProxyConfig {
  nodePortAddresses: string[];
  /** KubeProxyIPVSConfiguration: only with `proxyMode: ipvs` (the config refuses it with another mode). */
  ipvs: { scheduler: IPVSSchedulerMethod };
}

/**
 * An IPVS scheduler as kube-proxy's `ipvs.scheduler` takes it: the methods
 * cmd/kube-proxy/app/validation.go validateIPVSSchedulerMethod accepts (rr when empty).
 */
export type IPVSSchedulerMethod = (typeof IPVS_SCHEDULERS)[number];

/**
 * The IPVS schedulers, `rr` (kube-proxy's default, pkg/proxy/ipvs defaultScheduler) first: round robin,
 * weighted round robin, least connection, weighted least connection, locality-based least connection
 * (with replication), source hashing, destination hashing, shortest expected delay, never queue,
 * Maglev hashing.
 */
export const IPVS_SCHEDULERS = [
  "rr",
  "wrr",
  "lc",
  "wlc",
  "lblc",
  "lblcr",
  "sh",
  "dh",
  "sed",
  "nq",
  "mh",
] as const;

/** The proxy mode that the `kubeProxy.ipvs` options belong to (src/core/proxy/modes/ipvs.ts). */
const IPVS_MODE = "ipvs";

/**
 * What a running cluster always contains though manifest sets rarely declare it; podnet adds each
 * where it is missing (control/addons.ts) unless switched off here.
 */
export interface SupplyConfig {
  /**
   * kubelet's node labels (`kubernetes.io/hostname`, `kubernetes.io/os`, `kubernetes.io/arch` and the
   * `beta.kubernetes.io/` os and arch twins), on every node that does not declare them.
   */
  nodeLabels: boolean;
  /** kubeadm's CoreDNS add-on (Service kube-system/kube-dns, Deployment kube-system/coredns) when no kube-dns Service is given. */
  clusterDNS: boolean;
  /**
   * A default Ingress/Gateway controller (ingress-nginx's controller Deployment and LoadBalancer
   * Service in namespace ingress-nginx, ../control/ingress-controllers.ts) when the input has
   * Ingresses or Gateways but deploys no controller pods for them.
   */
  ingressController: boolean;
}

function cidr(text: string): Cidr {
  const p = Cidr.parse(text);
  if (!p.ok) throw new Error(`invalid built-in CIDR ${text}`);
  return p.cidr;
}

export const DEFAULT_CONFIG: Readonly<ClusterConfig> = Object.freeze({
  name: "podnet",
  clusterCIDR: cidr("10.244.0.0/16"),
  nodeCIDRMaskSize: 24,
  serviceCIDR: cidr("10.96.0.0/12"),
  clusterDomain: "cluster.local",
  dnsServiceIP: cidr("10.96.0.0/12").nth(10),
  nodeNetwork: cidr("172.18.0.0/24"),
  nodes: undefined,
  cni: NETWORK_PLUGIN_NAMES[0],
  proxyMode: PROXY_MODE_NAMES[0],
  loadBalancerPool: [cidr("198.51.100.0/24")],
  loadBalancer: Object.freeze({ mode: "l2" as LoadBalancerMode }),
  kubeProxy: { nodePortAddresses: [], ipvs: { scheduler: "rr" as IPVSSchedulerMethod } },
  serviceNodePortRange: { min: 30000, max: 32767 },
  nodeArch: "amd64",
  supply: Object.freeze({ nodeLabels: true, clusterDNS: true, ingressController: true }),
});

/** A fresh, mutable copy of the defaults. */
export function defaultConfig(): ClusterConfig {
  return {
    ...DEFAULT_CONFIG,
    loadBalancer: { ...DEFAULT_CONFIG.loadBalancer },
    kubeProxy: { nodePortAddresses: [], ipvs: { scheduler: "rr" } },
    supply: { ...DEFAULT_CONFIG.supply },
  };
}

/** Default node count when neither the config nor the manifests name any node. */
export const DEFAULT_NODE_COUNT = 2;

/** The fields of the Cluster config's spec (an unknown one is an error: this API is podnet's own). */
const CLUSTER_SPEC_FIELDS = [
  "clusterCIDR",
  "serviceCIDR",
  "nodeNetwork",
  "nodeCIDRMaskSize",
  "clusterDomain",
  "dnsServiceIP",
  "serviceNodePortRange",
  "loadBalancerPool",
  "loadBalancer",
  "nodes",
  "nodeArch",
  "cni",
  "proxyMode",
  "kubeProxy",
  "supply",
];

/** Reads a `Cluster` object's spec; reports problems through `c` and falls back to defaults. */
export function decodeClusterConfig(c: Check, obj: Rec): ClusterConfig {
  const meta = c.map(obj.metadata, ["metadata"]);
  const spec = c.map(obj.spec, ["spec"]) ?? {};
  c.fields(spec, ["spec"], CLUSTER_SPEC_FIELDS, "the Cluster config's spec", "error");
  const at = (k: string) => ["spec", k];
  const out: ClusterConfig = defaultConfig();

  const name = c.string(meta?.name, ["metadata", "name"]);
  if (name !== undefined) out.name = name;

  const clusterCIDR = c.cidr(spec.clusterCIDR, at("clusterCIDR"));
  if (clusterCIDR) out.clusterCIDR = clusterCIDR;
  const serviceCIDR = c.cidr(spec.serviceCIDR, at("serviceCIDR"));
  if (serviceCIDR) out.serviceCIDR = serviceCIDR;
  const nodeNetwork = c.cidr(spec.nodeNetwork, at("nodeNetwork"));
  if (nodeNetwork) out.nodeNetwork = nodeNetwork;

  const mask = c.int(spec.nodeCIDRMaskSize, at("nodeCIDRMaskSize"), 1, 30, "nodeCIDRMaskSize");
  if (mask !== undefined) out.nodeCIDRMaskSize = mask;
  if (out.nodeCIDRMaskSize < out.clusterCIDR.prefix) {
    c.error(
      at("nodeCIDRMaskSize"),
      "invalid-mask-size",
      `nodeCIDRMaskSize /${out.nodeCIDRMaskSize} is larger than clusterCIDR ${out.clusterCIDR} itself`,
      `use a mask size of at least ${out.clusterCIDR.prefix} (24 is usual)`,
    );
  }

  const domain = c.string(spec.clusterDomain, at("clusterDomain"));
  if (domain !== undefined) {
    const err = dns1123SubdomainError(domain);
    if (err) c.error(at("clusterDomain"), "invalid-value", err, "use a domain such as cluster.local");
    else out.clusterDomain = domain;
  }

  out.dnsServiceIP = out.serviceCIDR.nth(10);
  const dnsIP = c.string(spec.dnsServiceIP, at("dnsServiceIP"));
  if (dnsIP !== undefined) {
    const ip = parseIPv4(dnsIP);
    if (ip === undefined) {
      c.error(
        at("dnsServiceIP"),
        "invalid-ip",
        `"${dnsIP}" is not a valid IPv4 address`,
        "write an address such as 10.96.0.10",
      );
    } else if (!out.serviceCIDR.contains(ip)) {
      c.error(
        at("dnsServiceIP"),
        "ip-outside-range",
        `dnsServiceIP ${dnsIP} is outside serviceCIDR ${out.serviceCIDR}`,
        `pick an address inside ${out.serviceCIDR}, e.g. ${formatIPv4(out.serviceCIDR.nth(10))}`,
      );
    } else {
      out.dnsServiceIP = ip;
    }
  }

  const cni = c.oneOf(spec.cni, at("cni"), NETWORK_PLUGIN_NAMES);
  if (cni) out.cni = cni;
  const proxy = c.oneOf(spec.proxyMode, at("proxyMode"), PROXY_MODE_NAMES);
  if (proxy) out.proxyMode = proxy;

  const pool = c.list(spec.loadBalancerPool, at("loadBalancerPool"));
  if (pool) {
    out.loadBalancerPool = [];
    pool.forEach((p, i) => {
      const block = c.cidr(p, ["spec", "loadBalancerPool", i]);
      if (block) out.loadBalancerPool.push(block);
    });
  }

  const lb = c.map(spec.loadBalancer, at("loadBalancer"));
  if (lb) {
    c.fields(lb, at("loadBalancer"), ["mode"], "spec.loadBalancer", "error");
    const mode = c.oneOf(lb.mode, ["spec", "loadBalancer", "mode"], LOAD_BALANCER_MODES);
    if (mode) out.loadBalancer.mode = mode;
  }

  const kp = c.map(spec.kubeProxy, at("kubeProxy"));
  if (kp) c.fields(kp, at("kubeProxy"), ["nodePortAddresses", "ipvs"], "spec.kubeProxy", "error");
  const ipvsPath = ["spec", "kubeProxy", "ipvs"];
  const ipvs = c.map(kp?.ipvs, ipvsPath);
  if (ipvs) {
    c.fields(ipvs, ipvsPath, ["scheduler"], "spec.kubeProxy.ipvs", "error");
    // kube-proxy takes an empty scheduler as its default rr (pkg/proxy/ipvs/proxier.go NewProxier:
    // `if len(scheduler) == 0 { scheduler = defaultScheduler }`).
    const scheduler =
      ipvs.scheduler === "" ? "rr" : c.oneOf(ipvs.scheduler, [...ipvsPath, "scheduler"], IPVS_SCHEDULERS);
    if (scheduler) out.kubeProxy.ipvs.scheduler = scheduler;
    // kube-proxy reads its ipvs section in IPVS mode only; here an ipvs section with another mode is
    // a mistake worth naming (the scheduler would silently do nothing).
    if (out.proxyMode !== IPVS_MODE && (spec.proxyMode === undefined || proxy))
      c.error(
        ipvsPath,
        "option-without-mode",
        `kubeProxy.ipvs applies to proxyMode ipvs only, but proxyMode is ${out.proxyMode}`,
        `set spec.proxyMode: ipvs, or remove spec.kubeProxy.ipvs`,
      );
  }
  const npa = c.list(kp?.nodePortAddresses, ["spec", "kubeProxy", "nodePortAddresses"]);
  npa?.forEach((a, i) => {
    const path = ["spec", "kubeProxy", "nodePortAddresses", i];
    // kube-proxy accepts CIDRs, or the special value "primary" alone (validateKubeProxyNodePortAddress).
    if (a === "primary" && npa.length !== 1)
      c.error(
        path,
        "invalid-value",
        `"primary" cannot be combined with CIDRs in nodePortAddresses`,
        "write either [primary] or a list of CIDRs, as kube-proxy's --nodeport-addresses",
      );
    else if (a === "primary") out.kubeProxy.nodePortAddresses.push(a);
    else if (c.cidr(a, path)) out.kubeProxy.nodePortAddresses.push(a as string);
  });

  const range = c.string(spec.serviceNodePortRange, at("serviceNodePortRange"));
  if (range !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(range);
    const min = m ? Number(m[1]) : Number.NaN;
    const max = m ? Number(m[2]) : Number.NaN;
    if (!m || min < 1 || max > 65535 || min > max) {
      c.error(
        at("serviceNodePortRange"),
        "invalid-value",
        `"${range}" is not a port range`,
        "write it as 30000-32767",
      );
    } else {
      out.serviceNodePortRange = { min, max };
    }
  }

  const arch = c.string(spec.nodeArch, at("nodeArch"));
  if (arch !== undefined) {
    // A label value (it becomes kubernetes.io/arch); GOARCH values are lower-case words.
    if (/^[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?$/.test(arch)) out.nodeArch = arch;
    else
      c.error(
        at("nodeArch"),
        "invalid-value",
        `"${arch}" is not an architecture name kubelet reports`,
        "use Go's GOARCH name, e.g. amd64 or arm64",
      );
  }

  const supply = c.map(spec.supply, at("supply"));
  if (supply) {
    c.fields(
      supply,
      ["spec", "supply"],
      ["nodeLabels", "clusterDNS", "ingressController"],
      "spec.supply",
      "error",
    );
    const labels = c.bool(supply.nodeLabels, ["spec", "supply", "nodeLabels"]);
    if (labels !== undefined) out.supply.nodeLabels = labels;
    const dns = c.bool(supply.clusterDNS, ["spec", "supply", "clusterDNS"]);
    if (dns !== undefined) out.supply.clusterDNS = dns;
    const ic = c.bool(supply.ingressController, ["spec", "supply", "ingressController"]);
    if (ic !== undefined) out.supply.ingressController = ic;
  }

  out.nodes = decodeNodes(c, spec.nodes);
  checkOverlaps(c, out);
  return out;
}

function decodeNodes(c: Check, v: unknown): ClusterConfig["nodes"] {
  const path = ["spec", "nodes"];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number") return c.int(v, path, 0, 100000, "node count");
  const list = c.list(v, path);
  if (!list) return undefined;
  const nodes: NodeConfig[] = [];
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const at = [...path, i];
    let n: NodeConfig | undefined;
    if (typeof item === "string") n = { name: item };
    else {
      const m = c.map(item, at);
      if (!m) return;
      c.fields(m, at, ["name", "ip", "podCIDR", "labels", "taints"], "a node of spec.nodes", "error");
      const name = c.string(m.name, [...at, "name"]);
      if (!c.required(name, [...at, "name"], "a node's name")) return;
      n = { name };
      const ip = c.ip(m.ip, [...at, "ip"]);
      if (ip) n.ip = ip;
      const pc = c.cidr(m.podCIDR, [...at, "podCIDR"]);
      if (pc) n.podCIDR = pc.toString();
      const labels = c.labels(m.labels, [...at, "labels"]);
      if (labels) n.labels = labels;
      const taints = c.list(m.taints, [...at, "taints"]);
      if (taints) n.taints = taints as Taint[];
    }
    const err = dns1123SubdomainError(n.name);
    if (err) {
      c.error([...at], "invalid-name", err, "node names are DNS subdomains, e.g. worker-1");
      return;
    }
    if (seen.has(n.name)) {
      c.error(at, "duplicate-node", `node "${n.name}" is listed twice`, "remove one of the entries");
      return;
    }
    seen.add(n.name);
    nodes.push(n);
  });
  return nodes;
}

function checkOverlaps(c: Check, cfg: ClusterConfig): void {
  const ranges: [string, Cidr][] = [
    ["clusterCIDR", cfg.clusterCIDR],
    ["serviceCIDR", cfg.serviceCIDR],
    ["nodeNetwork", cfg.nodeNetwork],
    ...cfg.loadBalancerPool.map((p, i) => [`loadBalancerPool[${i}]`, p] as [string, Cidr]),
  ];
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [an, a] = ranges[i];
      const [bn, b] = ranges[j];
      if (a.overlaps(b)) {
        const field = bn.replace(/\[\d+\]$/, "");
        c.error(
          ["spec", field],
          "overlapping-cidrs",
          `${bn} ${b} overlaps ${an} ${a}`,
          "pod, Service, node and load-balancer ranges must be disjoint: choose non-overlapping blocks",
        );
      }
    }
  }
}
