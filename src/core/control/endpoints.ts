/**
 * EndpointSlices, as the endpointslice controller computes them, for every Service with a selector
 * that the input gives no slices (or v1 Endpoints) for.
 *
 * - Pods: same namespace, labels matching the selector, an IP assigned, not in a terminal phase.
 *   Terminating pods are included with `terminating: true`.
 * - Conditions: serving = pod Ready (or publishNotReadyAddresses); ready = serving and not terminating
 *   (or publishNotReadyAddresses).
 * - Ports: a numeric targetPort is used as is; a named one is looked up in each pod's containers by
 *   name and protocol, so pods may differ. A pod without the named port is left out of that port.
 *   Endpoints are grouped into slices by their resolved port set, at most 100 endpoints per slice.
 * - hostname is set when the pod's hostname is set and its subdomain names the Service.
 *
 * Given v1 Endpoints of a Service without slices are mirrored into slices (the mirroring controller).
 *
 * Selector look-up uses a per-namespace inverted index (label pair → pods), intersecting from the
 * rarest pair, so 10,000 Services over 150,000 pods do not scan every pod per Service.
 */
import type { Entry } from "../manifests/decode.ts";
import type {
  Endpoint,
  EndpointPort,
  EndpointSlice,
  Endpoints,
  Labels,
  Pod,
  Service,
  ServicePort,
} from "../model/k8s.ts";
import { formatIPv4, isIPv6 } from "../net/ipv4.ts";
import { nameSuffix, uidFor } from "./names.ts";
import { isPodReady, isTerminal } from "./pod-ipam.ts";
import { APISERVER_PORT } from "./services.ts";
import type { NodeState } from "./state.ts";

export const MAX_ENDPOINTS_PER_SLICE = 100;
const MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
const SERVICE_NAME = "kubernetes.io/service-name";

export function resolveEndpointSlices(args: {
  services: readonly Service[];
  pods: readonly Pod[];
  nodes: readonly NodeState[];
  givenSlices: readonly Entry<EndpointSlice>[];
  givenEndpoints: readonly Entry<Endpoints>[];
}): EndpointSlice[] {
  const { services, pods, nodes } = args;
  const out: EndpointSlice[] = args.givenSlices.map((e) => e.obj);
  const hasSlices = new Set(
    out.map((s) => `${s.metadata.namespace}/${s.metadata.labels?.[SERVICE_NAME] ?? ""}`),
  );
  const endpointsByKey = new Map(
    args.givenEndpoints.map((e) => [`${e.obj.metadata.namespace}/${e.obj.metadata.name}`, e.obj]),
  );
  const index = new PodIndex(pods);
  const zoneOf = new Map(nodes.map((n) => [n.name, n.labels["topology.kubernetes.io/zone"]]));

  for (const svc of services) {
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    if (hasSlices.has(key) || svc.spec.type === "ExternalName") continue;
    const given = endpointsByKey.get(key);
    if (given) {
      out.push(...mirrorEndpoints(svc, given));
      continue;
    }
    if (
      svc.metadata.namespace === "default" &&
      svc.metadata.name === "kubernetes" &&
      !svc.spec.selector &&
      nodes.length > 0
    ) {
      const controlPlane = nodes.find((n) => "node-role.kubernetes.io/control-plane" in n.labels) ?? nodes[0];
      out.push(apiserverSlice(svc, controlPlane));
      continue;
    }
    const selector = svc.spec.selector;
    if (!selector || Object.keys(selector).length === 0) continue;
    out.push(...slicesFor(svc, index.select(svc.metadata.namespace!, selector), zoneOf));
  }
  return out;
}

/**
 * The endpoint conditions, one frozen object per combination (index: ready·4 + serving·2 +
 * terminating), shared by all endpoints: no stage changes them, and the 300,000 endpoints of the
 * 150,000-pod benchmark then allocate none.
 */
const CONDITIONS: readonly Endpoint["conditions"][] = Array.from({ length: 8 }, (_, i) =>
  Object.freeze({ ready: (i & 4) !== 0, serving: (i & 2) !== 0, terminating: (i & 1) !== 0 }),
);

interface PortGroup {
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

function slicesFor(svc: Service, pods: Pod[], zoneOf: Map<string, string | undefined>): EndpointSlice[] {
  const svcPorts = svc.spec.ports ?? [];
  const publish = svc.spec.publishNotReadyAddresses === true;
  // Group endpoints by the port set they resolve to (usually one group).
  const groups = new Map<string, PortGroup>();
  // The group of the pods of one template: pods a workload creates share its containers lists, and
  // their ports resolve alike, so they are resolved once per template rather than once per pod.
  const byContainers = new Map<Pod["spec"]["containers"], { init: unknown; group: PortGroup }>();
  // Sort by address once keyed (parsing addresses inside the comparator costs O(n log n) parses).
  const sorted = pods
    .filter((p) => !isTerminal(p) && p.status?.podIP)
    .map((p) => ({ p, k: ipKey(p.status!.podIP!) }))
    .sort((a, b) => a.k - b.k || a.p.metadata.name.localeCompare(b.p.metadata.name))
    .map((x) => x.p);
  for (const pod of sorted) {
    const hit = byContainers.get(pod.spec.containers);
    let g = hit && hit.init === pod.spec.initContainers ? hit.group : undefined;
    if (!g) {
      const ports: EndpointPort[] = [];
      for (const sp of svcPorts) {
        const port = resolveTargetPort(sp, pod);
        if (port === undefined) continue;
        ports.push({
          name: sp.name ?? "",
          port,
          protocol: sp.protocol ?? "TCP",
          ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
        });
      }
      const gkey = ports.map((p) => `${p.name}/${p.protocol}/${p.port}`).join(",");
      g = groups.get(gkey);
      if (!g) {
        g = { ports, endpoints: [] };
        groups.set(gkey, g);
      }
      if (!hit) byContainers.set(pod.spec.containers, { init: pod.spec.initContainers, group: g });
    }
    const terminating = pod.metadata.deletionTimestamp !== undefined;
    const serving = publish || isPodReady(pod);
    const ep: Endpoint = {
      addresses: [pod.status!.podIP!],
      conditions: CONDITIONS[+(publish || (serving && !terminating)) * 4 + +serving * 2 + +terminating],
      targetRef: {
        kind: "Pod",
        namespace: pod.metadata.namespace,
        name: pod.metadata.name,
        uid: pod.metadata.uid,
      },
    };
    if (pod.spec.nodeName) ep.nodeName = pod.spec.nodeName;
    const zone = pod.spec.nodeName ? zoneOf.get(pod.spec.nodeName) : undefined;
    if (zone) ep.zone = zone;
    if (pod.spec.hostname && pod.spec.subdomain === svc.metadata.name) ep.hostname = pod.spec.hostname;
    g.endpoints.push(ep);
  }
  if (groups.size === 0) {
    // A Service whose selector matches nothing still gets one empty slice.
    groups.set("", {
      ports: svcPorts.map((sp) => ({
        name: sp.name ?? "",
        port: typeof sp.targetPort === "number" ? sp.targetPort : undefined,
        protocol: sp.protocol ?? "TCP",
      })),
      endpoints: [],
    });
  }
  const slices: EndpointSlice[] = [];
  let n = 0;
  for (const g of groups.values()) {
    for (let i = 0; i === 0 || i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
      slices.push(
        makeSlice(
          svc,
          n++,
          g.ports,
          g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE),
          "endpointslice-controller.k8s.io",
        ),
      );
    }
  }
  return slices;
}

/**
 * podutil.FindPort: a number is itself; a name is looked up by name and protocol in the containers
 * in order, then in the sidecars (initContainers with restartPolicy Always). The first match wins:
 * two containers may name a port alike.
 */
export function resolveTargetPort(sp: ServicePort, pod: Pod): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === "number") return target;
  const proto = sp.protocol ?? "TCP";
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? "TCP") === proto) return p.containerPort;
    }
  }
  for (const c of pod.spec.initContainers ?? []) {
    if (c.restartPolicy !== "Always") continue;
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? "TCP") === proto) return p.containerPort;
    }
  }
  return undefined;
}

function makeSlice(
  svc: Service,
  n: number,
  ports: EndpointPort[],
  endpoints: Endpoint[],
  manager: string,
): EndpointSlice {
  const ns = svc.metadata.namespace!;
  const name = `${svc.metadata.name}-${nameSuffix(`EndpointSlice/${ns}/${svc.metadata.name}`, n)}`;
  const v6 = endpoints.length > 0 && isIPv6(endpoints[0].addresses[0]);
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name,
      namespace: ns,
      generateName: `${svc.metadata.name}-`,
      uid: uidFor(`EndpointSlice/${ns}/${name}`),
      labels: { [SERVICE_NAME]: svc.metadata.name, [MANAGED_BY]: manager },
      ownerReferences: [
        {
          apiVersion: "v1",
          kind: "Service",
          name: svc.metadata.name,
          uid: svc.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    addressType: v6 ? "IPv6" : "IPv4",
    endpoints,
    ports,
  };
}

function mirrorEndpoints(svc: Service, ep: Endpoints): EndpointSlice[] {
  const slices: EndpointSlice[] = [];
  (ep.subsets ?? []).forEach((subset) => {
    const ports: EndpointPort[] = (subset.ports ?? []).map((p) => ({
      name: p.name ?? "",
      port: p.port,
      protocol: p.protocol ?? "TCP",
    }));
    const endpoints: Endpoint[] = [];
    for (const [list, ready] of [
      [subset.addresses ?? [], true],
      [subset.notReadyAddresses ?? [], false],
    ] as const) {
      for (const a of list) {
        const e: Endpoint = { addresses: [a.ip], conditions: { ready, serving: ready, terminating: false } };
        if (a.nodeName) e.nodeName = a.nodeName;
        if (a.hostname) e.hostname = a.hostname;
        if (a.targetRef) e.targetRef = a.targetRef;
        endpoints.push(e);
      }
    }
    for (let i = 0; i === 0 || i < endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
      slices.push(
        makeSlice(
          svc,
          slices.length,
          ports,
          endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE),
          "endpointslicemirroring-controller.k8s.io",
        ),
      );
    }
  });
  return slices;
}

/** `default/kubernetes`: the API server on the control-plane node (else the first node), port 6443. */
function apiserverSlice(svc: Service, node: NodeState): EndpointSlice {
  const ip = formatIPv4(node.ip); // the API server advertises its node's primary IP
  const slice = makeSlice(
    svc,
    0,
    [{ name: "https", port: APISERVER_PORT, protocol: "TCP" }],
    [{ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } }],
    "endpointslice-controller.k8s.io",
  );
  slice.metadata.name = "kubernetes";
  delete slice.metadata.generateName;
  return slice;
}

/** A dotted IPv4 address as a number, for sorting (0 for anything else, IPv6 included). */
function ipKey(ip: string): number {
  let key = 0;
  let octet = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      key = key * 256 + octet;
      octet = 0;
      dots++;
    } else if (c >= 48 && c <= 57) octet = octet * 10 + (c - 48);
    else return 0;
  }
  return dots === 3 ? key * 256 + octet : 0;
}

/**
 * Pods of a namespace indexed by label key, then value, for map selectors (nested maps: no
 * `key=value` string is built per pod label).
 */
class PodIndex {
  readonly #byNs = new Map<string, Map<string, Map<string, Pod[]>>>();

  constructor(pods: readonly Pod[]) {
    for (const p of pods) {
      const ns = p.metadata.namespace!;
      let byKey = this.#byNs.get(ns);
      if (!byKey) {
        byKey = new Map();
        this.#byNs.set(ns, byKey);
      }
      const labels = p.metadata.labels;
      if (!labels) continue;
      for (const k in labels) {
        const v = labels[k];
        let byValue = byKey.get(k);
        if (!byValue) {
          byValue = new Map();
          byKey.set(k, byValue);
        }
        const list = byValue.get(v);
        if (list) list.push(p);
        else byValue.set(v, [p]);
      }
    }
  }

  select(ns: string, selector: Labels): Pod[] {
    const byKey = this.#byNs.get(ns);
    if (!byKey) return [];
    let smallest: Pod[] | undefined;
    for (const [k, v] of Object.entries(selector)) {
      const list = byKey.get(k)?.get(v);
      if (!list) return [];
      if (!smallest || list.length < smallest.length) smallest = list;
    }
    if (!smallest) return [];
    const entries = Object.entries(selector);
    return smallest.filter((p) => entries.every(([k, v]) => p.metadata.labels?.[k] === v));
  }
}
