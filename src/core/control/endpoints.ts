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
  const zoneOf = new Map(nodes.map((n) => [n.name, n.labels["topology.kubernetes.io/zone"]]));
  const index = new PodIndex(pods, zoneOf);

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
    out.push(...slicesFor(svc, index.select(svc.metadata.namespace!, selector)));
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

/**
 * The slices of one Service from the pods its selector matches, given in address order (the
 * PodIndex's order) and already without terminal or unaddressed pods. Most endpoints are their pod's
 * shared frozen endpoint (see `IndexedPod`); a Service that publishes not-ready addresses, or that a
 * pod's subdomain names (its endpoint has the pod's hostname), gets endpoints of its own.
 */
function slicesFor(svc: Service, sorted: readonly IndexedPod[]): EndpointSlice[] {
  const svcPorts = svc.spec.ports ?? [];
  const publish = svc.spec.publishNotReadyAddresses === true;
  // Group endpoints by the port set they resolve to (usually one group).
  const groups = new Map<string, PortGroup>();
  // The group of the pods of one template: pods a workload creates share its containers lists, and
  // their ports resolve alike, so they are resolved once per template rather than once per pod.
  const byContainers = new Map<Pod["spec"]["containers"], { init: unknown; group: PortGroup }>();
  for (const e of sorted) {
    const pod = e.pod;
    const hit = byContainers.get(e.containers);
    let g = hit && hit.init === e.init ? hit.group : undefined;
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
      if (!hit) byContainers.set(e.containers, { init: e.init, group: g });
    }
    const named = e.hostname !== undefined && e.subdomain === svc.metadata.name;
    g.endpoints.push(publish || named ? endpointOf(e, { publish, hostname: named }) : e.endpoint);
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
 * A pod that can be an endpoint, with what its endpoints need read once: 150,000 pods are endpoints
 * of 300,000 in the benchmark's overlapping Services, and reading each pod again per Service (its
 * spec, its status, its node's zone) cost more than building the endpoint. A class, so every entry
 * has one fixed shape (an object spread of a dozen fields had V8 make slower ones).
 */
class IndexedPod {
  /** Its containers lists: the pods of one template share them, and so resolve ports alike. */
  readonly containers: Pod["spec"]["containers"];
  readonly init: Pod["spec"]["initContainers"];
  readonly ready: boolean;
  readonly terminating: boolean;
  readonly hostname: string | undefined;
  readonly subdomain: string | undefined;
  readonly nodeName: string | undefined;
  readonly zone: string | undefined;
  readonly addresses: string[];
  readonly targetRef: NonNullable<Endpoint["targetRef"]>;
  /**
   * The pod's endpoint in every Service that neither publishes not-ready addresses nor is named by
   * its subdomain: one frozen object, shared by those Services' slices (no stage writes an endpoint).
   */
  readonly endpoint: Endpoint;
  /** The address as a number (`ipKey`): the index's sort key. */
  readonly key: number;

  /** `pod` must have a podIP. */
  constructor(
    readonly pod: Pod,
    zoneOf: ReadonlyMap<string, string | undefined>,
  ) {
    const nodeName = pod.spec.nodeName || undefined;
    this.containers = pod.spec.containers;
    this.init = pod.spec.initContainers;
    this.ready = isPodReady(pod);
    this.terminating = pod.metadata.deletionTimestamp !== undefined;
    this.hostname = pod.spec.hostname || undefined;
    this.subdomain = pod.spec.subdomain;
    this.nodeName = nodeName;
    this.zone = nodeName ? zoneOf.get(nodeName) : undefined;
    const ip = pod.status!.podIP!;
    this.addresses = Object.freeze([ip]) as string[];
    this.key = ipKey(ip);
    this.targetRef = Object.freeze({
      kind: "Pod",
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
    });
    this.endpoint = Object.freeze(endpointOf(this, { publish: false, hostname: false }));
  }
}

/**
 * A pod's endpoint in a Service: conditions as the controller sets them (serving = ready, or any
 * pod when the Service publishes not-ready addresses), the pod's hostname when its subdomain names
 * the Service. Keys in the order the API server returns them.
 */
function endpointOf(
  e: Omit<IndexedPod, "endpoint" | "pod" | "key">,
  opts: { publish: boolean; hostname: boolean },
): Endpoint {
  const serving = opts.publish || e.ready;
  const { addresses, targetRef, nodeName, zone } = e;
  const conditions =
    CONDITIONS[+(opts.publish || (serving && !e.terminating)) * 4 + +serving * 2 + +e.terminating];
  // One literal per combination (fields added to a literal afterwards cost V8 a property store).
  let ep: Endpoint;
  if (nodeName && zone) ep = { addresses, conditions, targetRef, nodeName, zone };
  else if (nodeName) ep = { addresses, conditions, targetRef, nodeName };
  else if (zone) ep = { addresses, conditions, targetRef, zone };
  else ep = { addresses, conditions, targetRef };
  if (opts.hostname && e.hostname) ep.hostname = e.hostname;
  return ep;
}

/**
 * The pods that can be endpoints (addressed, not terminal), per namespace, indexed by label key,
 * then value, for map selectors (nested maps: no `key=value` string is built per pod label).
 *
 * The pods are indexed in endpoint order — by address, then name — sorted once for all Services,
 * so `select` returns them in that order and no Service sorts its own (10,000 Services would sort
 * 300,000 endpoints again). The sort is stable, as each Service's own sort was, so pods that compare
 * equal keep the input's order either way.
 */
class PodIndex {
  readonly #byNs = new Map<string, Map<string, Map<string, IndexedPod[]>>>();

  constructor(pods: readonly Pod[], zoneOf: ReadonlyMap<string, string | undefined>) {
    // Each pod is read once, in the input's order (the order its objects were made in, so memory is
    // walked forwards), into its compact entry; then the entries alone are sorted by address, keyed
    // once (parsing addresses inside the comparator costs O(n log n) parses), ties by name.
    const entries: IndexedPod[] = [];
    for (const p of pods) {
      if (!p.metadata.labels || isTerminal(p) || !p.status?.podIP) continue;
      entries.push(new IndexedPod(p, zoneOf));
    }
    entries.sort((a, b) => a.key - b.key || a.pod.metadata.name.localeCompare(b.pod.metadata.name));
    for (const entry of entries) {
      const labels = entry.pod.metadata.labels!;
      const ns = entry.pod.metadata.namespace!;
      let byKey = this.#byNs.get(ns);
      if (!byKey) {
        byKey = new Map();
        this.#byNs.set(ns, byKey);
      }
      for (const k in labels) {
        const v = labels[k];
        let byValue = byKey.get(k);
        if (!byValue) {
          byValue = new Map();
          byKey.set(k, byValue);
        }
        const list = byValue.get(v);
        if (list) list.push(entry);
        else byValue.set(v, [entry]);
      }
    }
  }

  /** The indexed pods of `ns` whose labels hold every pair of `selector`, in endpoint order. */
  select(ns: string, selector: Labels): IndexedPod[] {
    const byKey = this.#byNs.get(ns);
    if (!byKey) return [];
    let smallest: IndexedPod[] | undefined;
    for (const [k, v] of Object.entries(selector)) {
      const list = byKey.get(k)?.get(v);
      if (!list) return [];
      if (!smallest || list.length < smallest.length) smallest = list;
    }
    if (!smallest) return [];
    const entries = Object.entries(selector);
    return smallest.filter(({ pod }) => entries.every(([k, v]) => pod.metadata.labels?.[k] === v));
  }
}
