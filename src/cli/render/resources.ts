/**
 * The resource types `podnet get` knows: their names and aliases (as kubectl spells them), how to
 * list them from a ClusterState, and their table columns (`wide` ones only with `-o wide`).
 */
import { ipPoolObjects } from "../../core/cni/calico.ts";
import { podBlockIndex } from "../../core/cni/plugin.ts";
import type { ClusterState } from "../../core/control/state.ts";
import { formatSelector } from "../../core/labels.ts";
import type { Condition } from "../../core/model/gateway.ts";
import type { EndpointSlice, KubeObject, Node, Pod, Service, Workload } from "../../core/model/k8s.ts";
import { parseIPv4 } from "../../core/net/ipv4.ts";
import { analyzeGateways } from "../../core/routing/gateway.ts";
import {
  type LoadBalancerIngress,
  loadBalancerAddresses,
  publishedAddresses,
} from "../../core/sim/http-routers.ts";
import {
  legacyEndpoints,
  podOwners,
  podsPerNode,
  readyEndpointAddresses,
  slicesByService,
} from "../../core/views.ts";
import type { Column } from "./table.ts";

export interface ResourceType<T extends KubeObject = KubeObject> {
  name: string;
  aliases: readonly string[];
  namespaced: boolean;
  list: (state: ClusterState) => T[];
  columns: (state: ClusterState) => Column<T>[];
}

const none = "<none>";
const orNone = (s: string | undefined) => (s ? s : none);

/**
 * The pod address block that holds a pod's IP (the network plugin's IPAM: flannel's podCIDR, Calico's
 * IPAM block): its own node's, or another node's marked `(borrowed from NODE)` (Calico IPAM lends a
 * free address of another node's block when its own node can claim none); undefined when the address
 * lies in no block (given in the input outside them) or the pod has none. One sorted index of every
 * node's blocks per table (`podBlockIndex`), a binary search per pod.
 */
function podBlockOf(state: ClusterState): (p: Pod) => string | undefined {
  const blockAt = podBlockIndex(state.podNetwork, (name) => name);
  return (p) => {
    const ip = p.status?.podIP ? parseIPv4(p.status.podIP) : undefined;
    const b = ip === undefined ? undefined : blockAt(ip);
    if (!b) return undefined;
    return b.node === p.spec.nodeName ? String(b.block) : `${b.block} (borrowed from ${b.node})`;
  };
}

function nodeOf(state: ClusterState) {
  const byName = new Map(state.nodes.map((n) => [n.name, n]));
  return (name: string | undefined) => (name ? byName.get(name) : undefined);
}

const pods: ResourceType<Pod> = {
  name: "pods",
  aliases: ["pod", "po"],
  namespaced: true,
  list: (s) => s.pods,
  columns: (s) => {
    const owner = podOwners(s);
    const podBlock = podBlockOf(s);
    return [
      { header: "NAME", value: (p) => p.metadata.name },
      {
        header: "READY",
        value: (p) => {
          const n = p.spec.containers.length;
          const ready = p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
          return `${ready ? n : 0}/${n}`;
        },
      },
      {
        header: "STATUS",
        value: (p) => (p.metadata.deletionTimestamp ? "Terminating" : (p.status?.phase ?? "Pending")),
      },
      { header: "IP", value: (p) => orNone(p.status?.podIP) },
      { header: "NODE", value: (p) => orNone(p.spec.nodeName) },
      {
        header: "PODCIDR",
        wide: true,
        // The pod address block holding the pod's IP (the network plugin's IPAM), and whose it is.
        value: (p) => (p.spec.hostNetwork ? "(host network)" : orNone(podBlock(p))),
      },
      {
        header: "PORTS",
        wide: true,
        value: (p) => {
          const ports = p.spec.containers.flatMap((c) =>
            (c.ports ?? []).map(
              (cp) => `${cp.name ? `${cp.name}:` : ""}${cp.containerPort}/${cp.protocol ?? "TCP"}`,
            ),
          );
          return ports.length ? ports.join(",") : none;
        },
      },
      {
        header: "OWNER",
        wide: true,
        value: (p) => {
          const o = owner(p);
          return o ? `${o.kind}/${o.name}` : none;
        },
      },
    ];
  },
};

const nodes: ResourceType<Node> = {
  name: "nodes",
  aliases: ["node", "no"],
  namespaced: false,
  list: (s) => s.nodes.map((n) => n.obj),
  columns: (s) => {
    const node = nodeOf(s);
    const podCount = podsPerNode(s);
    return [
      { header: "NAME", value: (n) => n.metadata.name },
      {
        header: "STATUS",
        value: (n) => (node(n.metadata.name)?.unschedulable ? "Ready,SchedulingDisabled" : "Ready"),
      },
      {
        header: "ROLES",
        value: (n) => {
          const roles = Object.keys(n.metadata.labels ?? {})
            .filter((k) => k.startsWith("node-role.kubernetes.io/"))
            .map((k) => k.slice("node-role.kubernetes.io/".length));
          return roles.length ? roles.join(",") : none;
        },
      },
      {
        header: "INTERNAL-IP",
        value: (n) => n.status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? none,
      },
      { header: "PODCIDR", value: (n) => orNone(node(n.metadata.name)?.podCIDR.toString()) },
      { header: "PODS", value: (n) => String(podCount.get(n.metadata.name) ?? 0) },
      { header: "MAX-PODS", wide: true, value: (n) => String(node(n.metadata.name)?.maxPods ?? "") },
      {
        header: "TAINTS",
        wide: true,
        value: (n) => {
          const t = node(n.metadata.name)?.taints ?? [];
          return t.length
            ? t.map((x) => `${x.key}${x.value ? `=${x.value}` : ""}:${x.effect}`).join(",")
            : none;
        },
      },
    ];
  },
};

export function servicePorts(svc: Service): string {
  const ports = (svc.spec.ports ?? []).map(
    (p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`,
  );
  return ports.length ? ports.join(",") : none;
}

export function externalIPs(svc: Service): string {
  const type = svc.spec.type ?? "ClusterIP";
  if (type === "ExternalName") return svc.spec.externalName ?? none;
  const ips = [
    ...loadBalancerAddresses(svc.status?.loadBalancer?.ingress),
    ...(svc.spec.externalIPs ?? []),
  ].filter(Boolean);
  if (ips.length) return ips.join(",");
  return type === "LoadBalancer" ? "<pending>" : none;
}

/** `a:80,b:80 + 3 more...` as kubectl abbreviates endpoint lists. */
export function abbreviate(addresses: readonly string[], max = 3): string {
  if (addresses.length === 0) return none;
  const shown = addresses.slice(0, max).join(",");
  return addresses.length > max ? `${shown} + ${addresses.length - max} more...` : shown;
}

const services: ResourceType<Service> = {
  name: "services",
  aliases: ["service", "svc"],
  namespaced: true,
  list: (s) => s.services,
  columns: (s) => {
    const slices = slicesByService(s);
    return [
      { header: "NAME", value: (svc) => svc.metadata.name },
      { header: "TYPE", value: (svc) => svc.spec.type ?? "ClusterIP" },
      { header: "CLUSTER-IP", value: (svc) => orNone(svc.spec.clusterIP) },
      { header: "EXTERNAL-IP", value: externalIPs },
      { header: "PORT(S)", value: servicePorts },
      { header: "SELECTOR", wide: true, value: (svc) => formatSelector(svc.spec.selector) },
      {
        header: "ENDPOINTS",
        wide: true,
        value: (svc) =>
          abbreviate(
            readyEndpointAddresses(slices.get(`${svc.metadata.namespace}/${svc.metadata.name}`) ?? []),
          ),
      },
    ];
  },
};

/** `get endpoints` lists one v1 Endpoints object per Service, derived from its slices. */
const endpoints: ResourceType = {
  name: "endpoints",
  aliases: ["endpoint", "ep"],
  namespaced: true,
  list: (s) => {
    const slices = slicesByService(s);
    return s.services
      .filter((svc) => svc.spec.type !== "ExternalName")
      .map((svc) => legacyEndpoints(svc, slices.get(`${svc.metadata.namespace}/${svc.metadata.name}`) ?? []));
  },
  columns: (s) => {
    const slices = slicesByService(s);
    return [
      { header: "NAME", value: (e) => e.metadata.name },
      {
        header: "ENDPOINTS",
        value: (e) =>
          abbreviate(readyEndpointAddresses(slices.get(`${e.metadata.namespace}/${e.metadata.name}`) ?? [])),
      },
      {
        header: "ALL-ENDPOINTS",
        wide: true,
        value: (e) =>
          readyEndpointAddresses(slices.get(`${e.metadata.namespace}/${e.metadata.name}`) ?? []).join(",") ||
          none,
      },
    ];
  },
};

const endpointSlices: ResourceType<EndpointSlice> = {
  name: "endpointslices",
  aliases: ["endpointslice"],
  namespaced: true,
  list: (s) => s.endpointSlices,
  columns: () => [
    { header: "NAME", value: (e) => e.metadata.name },
    { header: "ADDRESSTYPE", value: (e) => e.addressType },
    { header: "PORTS", value: (e) => (e.ports ?? []).map((p) => p.port ?? "").join(",") || none },
    { header: "ENDPOINTS", value: (e) => abbreviate(e.endpoints.flatMap((x) => x.addresses)) },
    {
      header: "SERVICE",
      wide: true,
      value: (e) => orNone(e.metadata.labels?.["kubernetes.io/service-name"]),
    },
  ],
};

const namespaces: ResourceType = {
  name: "namespaces",
  aliases: ["namespace", "ns"],
  namespaced: false,
  list: (s) => s.namespaces,
  columns: () => [
    { header: "NAME", value: (n) => n.metadata.name },
    {
      header: "STATUS",
      value: (n) => String((n.status as { phase?: string } | undefined)?.phase ?? "Active"),
    },
    { header: "LABELS", wide: true, value: (n) => formatSelector(n.metadata.labels) },
  ],
};

function workloadType(
  name: string,
  kind: string,
  aliases: string[],
  extra: Column<Workload>[],
): ResourceType<Workload> {
  return {
    name,
    aliases,
    namespaced: true,
    list: (s) => s.workloads.filter((w) => w.kind === kind),
    columns: () => [{ header: "NAME", value: (w) => w.metadata.name }, ...extra],
  };
}

const st = (w: Workload, k: string) => Number((w.status as Record<string, unknown> | undefined)?.[k] ?? 0);

const workloadTypes: ResourceType<Workload>[] = [
  workloadType(
    "deployments",
    "Deployment",
    ["deployment", "deploy"],
    [
      { header: "READY", value: (w) => `${st(w, "readyReplicas")}/${w.spec.replicas ?? 1}` },
      { header: "SELECTOR", wide: true, value: (w) => formatSelector(w.spec.selector) },
    ],
  ),
  workloadType(
    "replicasets",
    "ReplicaSet",
    ["replicaset", "rs"],
    [
      { header: "DESIRED", value: (w) => String(w.spec.replicas ?? 1) },
      { header: "CURRENT", value: (w) => String(st(w, "replicas")) },
      { header: "READY", value: (w) => String(st(w, "readyReplicas")) },
      { header: "SELECTOR", wide: true, value: (w) => formatSelector(w.spec.selector) },
    ],
  ),
  workloadType(
    "statefulsets",
    "StatefulSet",
    ["statefulset", "sts"],
    [{ header: "READY", value: (w) => `${st(w, "readyReplicas")}/${w.spec.replicas ?? 1}` }],
  ),
  workloadType(
    "daemonsets",
    "DaemonSet",
    ["daemonset", "ds"],
    [
      { header: "DESIRED", value: (w) => String(st(w, "desiredNumberScheduled")) },
      { header: "READY", value: (w) => String(st(w, "numberReady")) },
      { header: "NODE-SELECTOR", value: (w) => formatSelector(w.spec.template?.spec.nodeSelector) },
    ],
  ),
  workloadType("jobs", "Job", ["job"], [{ header: "ACTIVE", value: (w) => String(st(w, "active")) }]),
  workloadType(
    "cronjobs",
    "CronJob",
    ["cronjob", "cj"],
    [
      { header: "SCHEDULE", value: (w) => String(w.spec.schedule ?? "") },
      { header: "SUSPEND", value: (w) => String(w.spec.suspend === true) },
    ],
  ),
  workloadType(
    "replicationcontrollers",
    "ReplicationController",
    ["replicationcontroller", "rc"],
    [
      { header: "DESIRED", value: (w) => String(w.spec.replicas ?? 1) },
      { header: "READY", value: (w) => String(st(w, "readyReplicas")) },
    ],
  ),
];

function policyType(
  name: string,
  aliases: string[],
  namespaced: boolean,
  list: (s: ClusterState) => KubeObject[],
): ResourceType {
  return {
    name,
    aliases,
    namespaced,
    list,
    columns: () => [
      { header: "NAME", value: (p) => p.metadata.name },
      {
        header: "POD-SELECTOR",
        value: (p) => {
          const spec = p.spec as Record<string, unknown> | undefined;
          return formatSelector((spec?.podSelector ?? undefined) as never);
        },
      },
    ],
  };
}

const policyTypes: ResourceType[] = [
  policyType("networkpolicies", ["networkpolicy", "netpol"], true, (s) => s.networkPolicies),
  policyType("adminnetworkpolicies", ["adminnetworkpolicy", "anp"], false, (s) => s.adminNetworkPolicies),
  policyType(
    "baselineadminnetworkpolicies",
    ["baselineadminnetworkpolicy", "banp"],
    false,
    (s) => s.baselineAdminNetworkPolicies,
  ),
  policyType(
    "clusternetworkpolicies",
    ["clusternetworkpolicy", "cnp"],
    false,
    (s) => s.clusterNetworkPolicies,
  ),
];

/**
 * The Ingresses with the status their controller would publish (sim/http-routers.ts
 * `publishedAddresses`: its Service's load-balancer ingress) when the input gives none; an input
 * status (a live read's) is kept.
 */
function withIngressStatus(s: ClusterState): KubeObject[] {
  const published = publishedAddresses(s);
  return s.ingresses.map((o) => {
    if (lbIngressOf(o)?.length) return o;
    const ingress = published.get(`Ingress ${o.metadata.namespace}/${o.metadata.name}`) ?? [];
    return { ...o, status: { loadBalancer: ingress.length ? { ingress } : {} } };
  });
}

/** An object's `status.loadBalancer.ingress` (an Ingress's, as a Service's). */
function lbIngressOf(o: KubeObject): LoadBalancerIngress[] | undefined {
  return (o.status as { loadBalancer?: { ingress?: LoadBalancerIngress[] } } | undefined)?.loadBalancer
    ?.ingress;
}

const ingresses: ResourceType = {
  name: "ingresses",
  aliases: ["ingress", "ing"],
  namespaced: true,
  list: withIngressStatus,
  // kubectl's columns (NAME CLASS HOSTS ADDRESS PORTS): PORTS is 80, and 443 too with spec.tls.
  columns: () => [
    { header: "NAME", value: (i) => i.metadata.name },
    {
      header: "CLASS",
      value: (i) => String((i.spec as { ingressClassName?: string } | undefined)?.ingressClassName ?? none),
    },
    {
      header: "HOSTS",
      value: (i) => {
        const rules = ((i.spec as { rules?: { host?: string }[] } | undefined)?.rules ?? []).map(
          (r) => r.host ?? "*",
        );
        return rules.length ? rules.join(",") : "*";
      },
    },
    { header: "ADDRESS", value: (i) => loadBalancerAddresses(lbIngressOf(i)).join(",") },
    {
      header: "PORTS",
      value: (i) => ((i.spec as { tls?: unknown[] } | undefined)?.tls?.length ? "80, 443" : "80"),
    },
  ],
};

const ingressClasses: ResourceType = {
  name: "ingressclasses",
  aliases: ["ingressclass"],
  namespaced: false,
  list: (s) => s.ingressClasses,
  columns: () => [
    { header: "NAME", value: (i) => i.metadata.name },
    {
      header: "CONTROLLER",
      value: (i) => String((i.spec as { controller?: string } | undefined)?.controller ?? none),
    },
  ],
};

const routes: ResourceType = {
  name: "routes",
  aliases: ["route"],
  namespaced: true,
  list: (s) => s.routes,
  columns: () => [
    { header: "NAME", value: (r) => r.metadata.name },
    {
      header: "HOST",
      value: (r) => String((r.spec as { host?: string } | undefined)?.host ?? none),
    },
    {
      header: "SERVICES",
      value: (r) => {
        const spec = r.spec as
          | { to?: { name?: string }; alternateBackends?: { name?: string }[] }
          | undefined;
        return [spec?.to, ...(spec?.alternateBackends ?? [])].map((b) => b?.name ?? none).join(",");
      },
    },
    {
      header: "PORT",
      value: (r) =>
        String((r.spec as { port?: { targetPort?: string | number } } | undefined)?.port?.targetPort ?? none),
    },
  ],
};

/** Calico's IP pools (crd.projectcalico.org/v1 or projectcalico.org/v3), as calicoctl shows them. */
const ipPools: ResourceType = {
  name: "ippools",
  aliases: ["ippool"],
  namespaced: false,
  list: ipPoolObjects,
  columns: () => {
    const spec = (o: KubeObject) => (o.spec ?? {}) as Record<string, unknown>;
    const field = (key: string, fallback: string) => (o: KubeObject) => {
      const v = spec(o)[key];
      return v === undefined ? fallback : Array.isArray(v) ? v.join(",") : String(v);
    };
    return [
      { header: "NAME", value: (o) => o.metadata.name ?? "" },
      { header: "CIDR", value: field("cidr", none) },
      { header: "SELECTOR", value: field("nodeSelector", "all()") },
      { header: "BLOCKSIZE", wide: true, value: field("blockSize", "26") },
      { header: "IPIPMODE", wide: true, value: field("ipipMode", "Never") },
      { header: "VXLANMODE", wide: true, value: field("vxlanMode", "Never") },
      { header: "NAT", wide: true, value: field("natOutgoing", "false") },
      { header: "DISABLED", wide: true, value: field("disabled", "false") },
      { header: "ALLOWEDUSES", wide: true, value: field("allowedUses", "Workload,Tunnel") },
    ];
  },
};

/** A condition in a table cell: its reason when True (`Accepted`), `TYPE=Status/Reason` otherwise. */
function conditionCell(conds: readonly Condition[] | undefined, type: string): string {
  const c = conds?.find((x) => x.type === type);
  if (!c) return "Unknown";
  return c.status === "True" ? "True" : `${c.status} (${c.reason})`;
}

/**
 * The Gateway API objects with the status a conformant controller would write (routing/gateway.ts
 * `analyzeGateways`), so `-o yaml` shows it and the columns read it. The input's own status is replaced.
 */
function withGatewayStatus(s: ClusterState, kind: "GatewayClass" | "Gateway" | "HTTPRoute"): KubeObject[] {
  const a = analyzeGateways(s);
  if (kind === "GatewayClass")
    return s.gatewayClasses.map((o) => ({ ...o, status: { conditions: a.classes.get(o) ?? [] } }));
  if (kind === "Gateway") {
    const published = publishedAddresses(s);
    return s.gateways.map((o) => {
      const st = a.gateways.get(o);
      const own = (o.status as { addresses?: unknown[] } | undefined)?.addresses;
      const addresses = published.get(`Gateway ${o.metadata.namespace}/${o.metadata.name}`) ?? [];
      return {
        ...o,
        status: {
          ...(o.status as object),
          // The Gateway's Service's address, as implementations publish it (an input's own kept).
          ...(!own?.length && addresses.length
            ? {
                addresses: addresses.map((a) =>
                  a.ip ? { type: "IPAddress", value: a.ip } : { type: "Hostname", value: a.hostname! },
                ),
              }
            : {}),
          conditions: st?.conditions ?? [],
          listeners: st?.listeners ?? [],
        },
      };
    });
  }
  return s.httpRoutes.map((o) => ({ ...o, status: { parents: a.routes.get(o) ?? [] } }));
}

type GatewayStatusShape = {
  conditions?: Condition[];
  listeners?: { name: string; attachedRoutes: number; conditions: Condition[] }[];
  parents?: {
    parentRef: { name: string; sectionName?: string; namespace?: string };
    conditions: Condition[];
  }[];
};
const statusOf = (o: KubeObject) => (o.status ?? {}) as GatewayStatusShape;

const gatewayClasses: ResourceType = {
  name: "gatewayclasses",
  aliases: ["gatewayclass", "gc"],
  namespaced: false,
  list: (s) => withGatewayStatus(s, "GatewayClass"),
  columns: () => [
    { header: "NAME", value: (o) => o.metadata.name },
    {
      header: "CONTROLLER",
      value: (o) => String((o.spec as { controllerName?: string }).controllerName ?? none),
    },
    { header: "ACCEPTED", value: (o) => conditionCell(statusOf(o).conditions, "Accepted") },
    {
      header: "DESCRIPTION",
      wide: true,
      value: (o) => orNone((o.spec as { description?: string }).description),
    },
  ],
};

const gateways: ResourceType = {
  name: "gateways",
  aliases: ["gateway", "gtw"],
  namespaced: true,
  list: (s) => withGatewayStatus(s, "Gateway"),
  columns: () => [
    { header: "NAME", value: (o) => o.metadata.name },
    {
      header: "CLASS",
      value: (o) => String((o.spec as { gatewayClassName?: string }).gatewayClassName ?? none),
    },
    {
      header: "ADDRESS",
      value: (o) =>
        orNone(
          (
            (o.status as { addresses?: { value: string }[] } | undefined)?.addresses ??
            (o.spec as { addresses?: { value: string }[] }).addresses ??
            []
          )
            .map((a) => a.value)
            .join(","),
        ),
    },
    { header: "PROGRAMMED", value: (o) => conditionCell(statusOf(o).conditions, "Programmed") },
    {
      header: "LISTENERS",
      value: (o) =>
        orNone(
          (statusOf(o).listeners ?? [])
            .map((l) => {
              const bad = l.conditions.find((c) =>
                c.type === "Conflicted" ? c.status === "True" : c.status !== "True",
              );
              return bad
                ? `${l.name}: ${bad.reason}`
                : `${l.name}: ${l.attachedRoutes} route${l.attachedRoutes === 1 ? "" : "s"}`;
            })
            .join(", "),
        ),
    },
  ],
};

const httpRoutes: ResourceType = {
  name: "httproutes",
  aliases: ["httproute"],
  namespaced: true,
  list: (s) => withGatewayStatus(s, "HTTPRoute"),
  columns: () => [
    { header: "NAME", value: (o) => o.metadata.name },
    {
      header: "HOSTNAMES",
      value: (o) => orNone(((o.spec as { hostnames?: string[] }).hostnames ?? []).join(",")),
    },
    {
      header: "PARENTS",
      value: (o) =>
        orNone(
          (statusOf(o).parents ?? [])
            .map((p) => {
              const name = `${p.parentRef.name}${p.parentRef.sectionName ? `/${p.parentRef.sectionName}` : ""}`;
              const bad = p.conditions
                .filter((c) => c.status !== "True")
                .map((c) => `${c.type}=${c.status} (${c.reason})`);
              return `${name}: ${bad.length ? bad.join(" ") : "Accepted, ResolvedRefs"}`;
            })
            .join("; "),
        ),
    },
  ],
};

const referenceGrants: ResourceType = {
  name: "referencegrants",
  aliases: ["referencegrant", "refgrant"],
  namespaced: true,
  list: (s) => s.referenceGrants,
  columns: () => {
    const side = (key: "from" | "to") => (o: KubeObject) =>
      (
        (o.spec as Record<string, { group: string; kind: string; namespace?: string; name?: string }[]>)[
          key
        ] ?? []
      )
        .map(
          (e) =>
            `${e.kind}${e.group ? `.${e.group}` : ""}${e.namespace ? ` in ${e.namespace}` : ""}${e.name ? `/${e.name}` : ""}`,
        )
        .join(", ");
    return [
      { header: "NAME", value: (o) => o.metadata.name },
      { header: "FROM", value: side("from") },
      { header: "TO", value: side("to") },
    ];
  },
};

export const RESOURCE_TYPES: readonly ResourceType[] = [
  nodes,
  namespaces,
  pods,
  services,
  endpoints,
  endpointSlices,
  ...(workloadTypes as unknown as ResourceType[]),
  ...policyTypes,
  ingresses,
  ingressClasses,
  routes,
  ipPools,
  gatewayClasses,
  gateways,
  httpRoutes,
  referenceGrants,
] as ResourceType[];

/** What `get all` (and `get` with no type) shows: the network's moving parts. */
export const ALL_TYPES = ["nodes", "pods", "services", "networkpolicies"];

/** The API groups each type is served in, for kubectl's `TYPE.GROUP` form (`ippools.crd.projectcalico.org`). */
const GROUPS: Record<string, readonly string[]> = {
  deployments: ["apps"],
  replicasets: ["apps"],
  statefulsets: ["apps"],
  daemonsets: ["apps"],
  jobs: ["batch"],
  cronjobs: ["batch"],
  endpointslices: ["discovery.k8s.io"],
  networkpolicies: ["networking.k8s.io"],
  ingresses: ["networking.k8s.io"],
  ingressclasses: ["networking.k8s.io"],
  adminnetworkpolicies: ["policy.networking.k8s.io"],
  baselineadminnetworkpolicies: ["policy.networking.k8s.io"],
  clusternetworkpolicies: ["policy.networking.k8s.io"],
  routes: ["route.openshift.io"],
  ippools: ["crd.projectcalico.org", "projectcalico.org"],
  gatewayclasses: ["gateway.networking.k8s.io"],
  gateways: ["gateway.networking.k8s.io"],
  httproutes: ["gateway.networking.k8s.io"],
  referencegrants: ["gateway.networking.k8s.io"],
};

/**
 * The type a word names, as kubectl reads it: a name or short name (`pods`, `po`), or either with
 * its API group and optionally version (`ippools.crd.projectcalico.org`, `deploy.apps`, `deployments.v1.apps`).
 */
export function findResourceType(word: string): ResourceType | undefined {
  const w = word.toLowerCase();
  const direct = RESOURCE_TYPES.find((t) => t.name === w || t.aliases.includes(w));
  if (direct) return direct;
  const dot = w.indexOf(".");
  if (dot < 0) return undefined;
  // kubectl's RESTMapper reads RESOURCE.GROUP and RESOURCE.VERSION.GROUP, RESOURCE being a name or
  // short name (`deploy.apps`, `deployments.v1.apps`, `ing.networking.k8s.io`).
  const res = w.slice(0, dot);
  let group = w.slice(dot + 1);
  const t = RESOURCE_TYPES.find((x) => x.name === res || x.aliases.includes(res));
  if (!t || !Object.hasOwn(GROUPS, t.name)) return undefined;
  if (GROUPS[t.name].includes(group)) return t;
  const version = /^v\d+(?:(?:alpha|beta)\d+)?\./.exec(group);
  if (version) group = group.slice(version[0].length);
  return GROUPS[t.name].includes(group) ? t : undefined;
}
