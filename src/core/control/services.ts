/**
 * Service allocation, as the API server's allocators and a load-balancer controller do it.
 *
 * - ClusterIP: the serviceCIDR minus its network and broadcast address. Like kube-apiserver since
 *   1.26 (ServiceIPStaticSubrange) the range has a lower "static" band of min(max(16, size/16), 256)
 *   addresses that dynamic allocation avoids while the upper band has room. The API server picks at
 *   random; podnet picks by a hash of `namespace/name` with linear probing, so a Service keeps its IP
 *   when others are added or removed. The first address goes to `default/kubernetes` (created when the
 *   input has none, as every cluster has it) and `kube-system/kube-dns` gets dnsServiceIP; both
 *   addresses stay reserved for them even when the input lacks kube-dns.
 * - nodePort: the same scheme over serviceNodePortRange (static band min(max(16, size/32), 128));
 *   ports of one Service that share a number across protocols share the nodePort.
 * - healthCheckNodePort: for LoadBalancer Services with externalTrafficPolicy Local.
 * - Load-balancer ingress: status given is kept; spec.loadBalancerIP is honoured; others get the
 *   lowest free address of loadBalancerPool (MetalLB's order), network and broadcast excluded.
 *
 * Given values are reserved first and checked for conflicts; then Services are allocated in
 * namespace/name order.
 */
import type { Diagnostics, Origin } from "../diagnostics.ts";
import type { Entry } from "../manifests/decode.ts";
import type { ClusterConfig } from "../model/config.ts";
import type { Service } from "../model/k8s.ts";
import { objectRef } from "../model/k8s.ts";
import { formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import { SUPPLIED_ANNOTATION } from "./ingress-controllers.ts";
import { fnv32a, uidFor } from "./names.ts";
import type { GroupedWarnings, NodeState } from "./state.ts";

export const KUBERNETES_SERVICE_PORT = 443;
export const APISERVER_PORT = 6443;

/** The band kube-apiserver keeps for static allocation at the bottom of a range. */
export function staticBandSize(rangeSize: number, opts: { min: number; max: number; step: number }): number {
  if (rangeSize < opts.min) return 0;
  return Math.min(opts.max, Math.max(opts.min, Math.floor(rangeSize / opts.step)));
}

/** A range of integers [first, last] with a static band and hashed dynamic allocation. */
class BandedAllocator {
  readonly used = new Map<number, string>();
  constructor(
    readonly first: number,
    readonly last: number,
    readonly band: number,
  ) {}

  get size(): number {
    return this.last - this.first + 1;
  }

  contains(v: number): boolean {
    return v >= this.first && v <= this.last;
  }

  /** Picks a free value for `key`: upper band first, then the static band. */
  allocate(key: string, holder: string): number | undefined {
    const split = this.first + this.band;
    const tryRange = (lo: number, hi: number): number | undefined => {
      const n = hi - lo + 1;
      if (n <= 0) return undefined;
      const start = fnv32a(key) % n;
      for (let i = 0; i < n; i++) {
        const v = lo + ((start + i) % n);
        if (!this.used.has(v)) {
          this.used.set(v, holder);
          return v;
        }
      }
      return undefined;
    };
    return tryRange(split, this.last) ?? tryRange(this.first, split - 1);
  }
}

/** A Service and where it was defined (none for the implicit `default/kubernetes`). */
type ServiceEntry = { obj: Service; origin?: Origin };

export function resolveServices(args: {
  services: readonly Entry<Service>[];
  nodes: readonly NodeState[];
  config: ClusterConfig;
  diags: Diagnostics;
  grouped: GroupedWarnings;
}): Service[] {
  const { config, diags, grouped } = args;
  const entries: ServiceEntry[] = [...args.services];
  if (!entries.some((e) => e.obj.metadata.namespace === "default" && e.obj.metadata.name === "kubernetes")) {
    entries.unshift({ obj: kubernetesService() });
  }
  const cidr = config.serviceCIDR;
  // Usable addresses are offsets 1 .. size-2 of the block.
  const ips = new BandedAllocator(
    1,
    cidr.size - 2,
    staticBandSize(cidr.size, { min: 16, max: 256, step: 16 }),
  );
  const { min, max } = config.serviceNodePortRange;
  const ports = new BandedAllocator(min, max, staticBandSize(max - min + 1, { min: 16, max: 128, step: 32 }));
  // What podnet supplies (ingress-controllers.ts) is allocated after every Service of the input, so
  // it never moves an address or port the input's Services get.
  const late = (e: ServiceEntry) => (e.obj.metadata.annotations?.[SUPPLIED_ANNOTATION] === "true" ? 1 : 0);
  const sorted = [...entries].sort((a, b) => late(a) - late(b) || key(a.obj).localeCompare(key(b.obj)));

  const report = (e: ServiceEntry, path: (string | number)[], code: string, message: string, hint: string) =>
    diags.error({ code, message, hint, object: objectRef(e.obj), origin: e.origin, path });

  // 1. Reserve the well-known addresses, then what is given.
  const wellKnown = new Map<string, number>([
    ["default/kubernetes", 1],
    ["kube-system/kube-dns", config.dnsServiceIP - cidr.base],
  ]);
  const reservation = (k: string) => `the address reserved for Service ${k}`;
  for (const [k, offset] of wellKnown) ips.used.set(offset, reservation(k));
  for (const e of entries) {
    const s = e.obj;
    const ip = s.spec.clusterIP;
    if (ip && ip !== "None") {
      const v = parseIPv4(ip);
      if (v !== undefined && cidr.contains(v)) {
        const holder = ips.used.get(v - cidr.base);
        if (holder && holder !== reservation(key(s))) {
          report(
            e,
            ["spec", "clusterIP"],
            "ip-conflict",
            `clusterIP ${ip} is already allocated to ${holder}`,
            "remove clusterIP to get a free one, or choose another address",
          );
          s.spec.clusterIP = "";
        } else ips.used.set(v - cidr.base, objectRef(s));
      } else if (v !== undefined) {
        grouped.add(
          "service-ip-outside-range",
          {
            object: objectRef(s),
            origin: e.origin,
            path: ["spec", "clusterIP"],
            detail: `${s.metadata.namespace}/${s.metadata.name} ${ip}`,
          },
          (count, first) =>
            `${count} Service clusterIP${count === 1 ? " lies" : "s lie"} outside serviceCIDR ${cidr} (first: ${first}); kept as given`,
          "set spec.serviceCIDR in the Cluster config to the cluster's Service range",
        );
      }
    }
    s.spec.ports?.forEach((p, i) => {
      if (p.nodePort === undefined) return;
      if (!ports.contains(p.nodePort)) {
        report(
          e,
          ["spec", "ports", i, "nodePort"],
          "port-out-of-range",
          `nodePort ${p.nodePort} is not in the valid range ${min}-${max}`,
          `use a port between ${min} and ${max}, or omit nodePort to get one`,
        );
        return;
      }
      const holder = ports.used.get(p.nodePort);
      const sameService = holder === objectRef(s);
      if (holder && !sameService) {
        report(
          e,
          ["spec", "ports", i, "nodePort"],
          "port-conflict",
          `nodePort ${p.nodePort} is already allocated to ${holder}`,
          "choose another nodePort, or omit it to get a free one",
        );
        return;
      }
      ports.used.set(p.nodePort, objectRef(s));
    });
    const hc = s.spec.healthCheckNodePort;
    if (hc !== undefined && ports.contains(hc)) ports.used.set(hc, objectRef(s));
  }

  // 2. Allocate what is missing.
  for (const e of sorted) {
    const s = e.obj;
    const spec = s.spec;
    const type = spec.type ?? "ClusterIP";
    s.metadata.uid ??= uidFor(`Service/${s.metadata.namespace}/${s.metadata.name}`);
    if (type === "ExternalName") {
      delete spec.clusterIP;
      continue;
    }
    spec.sessionAffinity ??= "None";
    spec.internalTrafficPolicy ??= "Cluster";
    if (spec.clusterIP === "None") {
      spec.clusterIPs = ["None"];
    } else if (!spec.clusterIP) {
      let v: number | undefined;
      const reserved = wellKnown.get(key(s));
      if (reserved !== undefined && ips.used.get(reserved) === reservation(key(s))) {
        v = reserved;
        ips.used.set(v, objectRef(s));
      } else v = ips.allocate(key(s), objectRef(s));
      if (v === undefined) {
        report(
          e,
          ["spec", "clusterIP"],
          "pool-exhausted",
          `serviceCIDR ${cidr} has no free address left (${ips.size} usable)`,
          "widen spec.serviceCIDR in the Cluster config",
        );
        continue;
      }
      spec.clusterIP = formatIPv4(cidr.nth(v));
      spec.clusterIPs = [spec.clusterIP];
    } else {
      spec.clusterIPs ??= [spec.clusterIP];
    }
    spec.ipFamilies ??= spec.clusterIPs.map((ip) => (ip.includes(":") ? "IPv6" : "IPv4"));
    if (spec.clusterIP === "None") spec.ipFamilies = spec.ipFamilies.length ? spec.ipFamilies : ["IPv4"];
    spec.ipFamilyPolicy ??= "SingleStack";

    if (type === "NodePort" || type === "LoadBalancer") {
      spec.externalTrafficPolicy ??= "Cluster";
      if (type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
      const wantNodePorts = type === "NodePort" || spec.allocateLoadBalancerNodePorts !== false;
      if (wantNodePorts) {
        const byNumber = new Map<number, number>();
        for (const p of spec.ports ?? []) if (p.nodePort !== undefined) byNumber.set(p.port, p.nodePort);
        for (const [i, p] of (spec.ports ?? []).entries()) {
          if (p.nodePort !== undefined) continue;
          const shared = byNumber.get(p.port);
          const np = shared ?? ports.allocate(`${key(s)}/${i}`, objectRef(s));
          if (np === undefined) {
            report(
              e,
              ["spec", "ports", i],
              "pool-exhausted",
              `no nodePort left in ${min}-${max}`,
              "free nodePorts or widen serviceNodePortRange in the Cluster config",
            );
            break;
          }
          p.nodePort = np;
          byNumber.set(p.port, np);
        }
      }
      if (
        type === "LoadBalancer" &&
        spec.externalTrafficPolicy === "Local" &&
        spec.healthCheckNodePort === undefined
      ) {
        const hc = ports.allocate(`${key(s)}/healthcheck`, objectRef(s));
        if (hc !== undefined) spec.healthCheckNodePort = hc;
      }
    }
  }

  assignLoadBalancerIPs(sorted, config, diags, grouped);
  // Services keep the input order; the implicit `kubernetes` Service comes first.
  return entries.map((e) => e.obj);
}

function key(s: Service): string {
  return `${s.metadata.namespace}/${s.metadata.name}`;
}

function kubernetesService(): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "kubernetes",
      namespace: "default",
      labels: { component: "apiserver", provider: "kubernetes" },
    },
    spec: {
      type: "ClusterIP",
      clusterIP: "",
      ports: [{ name: "https", port: KUBERNETES_SERVICE_PORT, protocol: "TCP", targetPort: APISERVER_PORT }],
    },
  };
}

/** Ingress IPs: given ones reserved (warned about when outside the pool), then the lowest free ones. */
function assignLoadBalancerIPs(
  entries: ServiceEntry[],
  config: ClusterConfig,
  diags: Diagnostics,
  grouped: GroupedWarnings,
): void {
  const used = new Set<IPv4>();
  const inPool = (ip: IPv4) => config.loadBalancerPool.some((p) => p.contains(ip));
  for (const { obj: s, origin } of entries) {
    if (s.spec.type !== "LoadBalancer") continue;
    const given = s.status?.loadBalancer?.ingress?.map((i) => i.ip).filter((x): x is string => !!x) ?? [];
    const requested = s.spec.loadBalancerIP ? [s.spec.loadBalancerIP] : [];
    for (const text of [...given, ...requested]) {
      const ip = parseIPv4(text);
      if (ip === undefined) continue;
      used.add(ip);
      if (!inPool(ip)) {
        grouped.add(
          "lb-ip-outside-pool",
          {
            object: objectRef(s),
            origin,
            path: ["status", "loadBalancer", "ingress"],
            detail: `${key(s)} ${text}`,
          },
          (count, first) =>
            `${count} load-balancer IP${count === 1 ? " lies" : "s lie"} outside loadBalancerPool (first: ${first}); kept as given`,
          "add the range to spec.loadBalancerPool in the Cluster config",
        );
      }
    }
  }
  const candidates = function* () {
    for (const p of config.loadBalancerPool) {
      const skipEdges = p.size > 2;
      for (let n = skipEdges ? 1 : 0; n < (skipEdges ? p.size - 1 : p.size); n++) yield p.nth(n);
    }
  };
  let it = candidates();
  const pending: { s: (typeof entries)[number]["obj"]; origin: (typeof entries)[number]["origin"] }[] = [];
  const exhausted: typeof pending = [];
  for (const { obj: s, origin } of entries) {
    if (s.spec.type !== "LoadBalancer") continue;
    if (s.status?.loadBalancer?.ingress?.length) continue;
    let ip = s.spec.loadBalancerIP ? parseIPv4(s.spec.loadBalancerIP) : undefined;
    if (ip === undefined) {
      for (;;) {
        const next = it.next();
        if (next.done) break;
        if (!used.has(next.value)) {
          ip = next.value;
          break;
        }
      }
    }
    if (ip === undefined && config.loadBalancerPool.length === 0) {
      // No pool, no load-balancer implementation: the API server accepts the Service and it stays
      // without an address (status.loadBalancer empty; kubectl shows EXTERNAL-IP <pending>).
      pending.push({ s, origin });
      continue;
    }
    if (ip === undefined) {
      // The pool has no free address: MetalLB's controller records an AllocationFailed event ("no
      // available IPs") and the Service stays <pending>, as with no pool at all.
      exhausted.push({ s, origin });
      it = candidates();
      continue;
    }
    used.add(ip);
    s.status = { ...s.status, loadBalancer: { ingress: [{ ip: formatIPv4(ip), ipMode: "VIP" }] } };
  }
  const listed = (list: typeof pending) => {
    const names = list.map((p) => key(p.s));
    const shown =
      names.length > 5 ? `${names.slice(0, 5).join(", ")} and ${names.length - 5} more` : names.join(", ");
    return { names, shown };
  };
  if (exhausted.length > 0) {
    const { names, shown } = listed(exhausted);
    diags.warn({
      code: "pool-exhausted",
      message: `loadBalancerPool (${config.loadBalancerPool.join(", ")}) has no address left for LoadBalancer Service${names.length === 1 ? "" : "s"} ${shown}: EXTERNAL-IP stays <pending> (MetalLB: AllocationFailed, no available IPs); ClusterIP and nodePorts still answer`,
      hint: "add or widen ranges in spec.loadBalancerPool of the Cluster config",
      object: objectRef(exhausted[0].s),
      origin: exhausted[0].origin,
      path: ["spec", "type"],
    });
  }
  if (pending.length > 0) {
    const { names, shown } = listed(pending);
    diags.warn({
      code: "lb-pending",
      message: `loadBalancerPool is empty, so LoadBalancer Service${names.length === 1 ? "" : "s"} ${shown} get${names.length === 1 ? "s" : ""} no address: EXTERNAL-IP stays <pending> (status.loadBalancer empty); ClusterIP and nodePorts still answer`,
      hint: "add an address range to spec.loadBalancerPool in the Cluster config (as a MetalLB IPAddressPool would), or use type NodePort",
      object: objectRef(pending[0].s),
      origin: pending[0].origin,
      path: ["spec", "type"],
    });
  }
}
