/**
 * Services, Endpoints and EndpointSlices, as `pkg/apis/core/validation` and
 * `pkg/apis/discovery/validation` check the fields podnet reads; API-server defaulting of Service
 * ports (protocol, targetPort) and type is applied here.
 */
import { type Check, dns1123LabelError, dns1123SubdomainError, portNameError, type Rec } from "../check.ts";

/** ServiceSpec's fields (k8s.io/api core/v1, Kubernetes 1.34). */
const SERVICE_SPEC_FIELDS = [
  "ports",
  "selector",
  "clusterIP",
  "clusterIPs",
  "type",
  "externalIPs",
  "sessionAffinity",
  "loadBalancerIP",
  "loadBalancerSourceRanges",
  "externalName",
  "externalTrafficPolicy",
  "healthCheckNodePort",
  "publishNotReadyAddresses",
  "sessionAffinityConfig",
  "ipFamilies",
  "ipFamilyPolicy",
  "allocateLoadBalancerNodePorts",
  "loadBalancerClass",
  "internalTrafficPolicy",
  "trafficDistribution",
];

export function validateService(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.ports (and spec.selector)")) return;
  c.fields(spec, ["spec"], SERVICE_SPEC_FIELDS, "a Service's spec");
  if (spec.type === undefined) spec.type = "ClusterIP";
  const type = c.oneOf(spec.type, ["spec", "type"], [
    "ClusterIP",
    "NodePort",
    "LoadBalancer",
    "ExternalName",
  ] as const);
  c.labels(spec.selector, ["spec", "selector"]);
  const headless = spec.clusterIP === "None";
  const portList = c.list(spec.ports, ["spec", "ports"]);
  const ports = portList ?? [];
  // A ports field of the wrong type has its error already; "needs a port" would say it twice.
  const wrongType = portList === undefined && spec.ports !== undefined && spec.ports !== null;
  if (ports.length === 0 && type !== "ExternalName" && !headless && !wrongType) {
    c.error(
      ["spec", "ports"],
      "missing-field",
      "a Service needs at least one port",
      "add spec.ports, e.g. - port: 80",
    );
  }
  if (type === "ExternalName") {
    const en = c.string(spec.externalName, ["spec", "externalName"]);
    if (
      c.required(
        en,
        ["spec", "externalName"],
        "spec.externalName",
        "add the DNS name to alias, e.g. db.example.com",
      )
    ) {
      const err = dns1123SubdomainError(en.replace(/\.$/, ""));
      if (err) c.error(["spec", "externalName"], "invalid-value", err, "externalName must be a DNS name");
    }
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  // Names suggested for unnamed ports: distinct from each other and from every name given.
  const taken = new Set<string>();
  for (const p of ports)
    if (p && typeof p === "object" && typeof (p as Rec).name === "string")
      taken.add((p as Rec).name as string);
  const suggest = (port: number, proto: string | undefined): string => {
    const bases = [`p${port}`, `${(proto ?? "TCP").toLowerCase()}-${port}`];
    let name = bases.find((b) => !taken.has(b) && (proto === undefined || proto === "TCP" || b !== bases[0]));
    for (let n = 2; name === undefined; n++) if (!taken.has(`p${port}-${n}`)) name = `p${port}-${n}`;
    taken.add(name);
    return name;
  };
  ports.forEach((p, i) => {
    const pp = ["spec", "ports", i];
    const m = c.map(p, pp);
    if (!m) return;
    c.fields(m, pp, ["name", "protocol", "appProtocol", "port", "targetPort", "nodePort"], "a Service port");
    if (!c.required(m.port, [...pp, "port"], "a port number", "add the port number the Service listens on"))
      return;
    const port = c.port(m.port, [...pp, "port"]);
    if (port === undefined) return;
    if (m.protocol === undefined) m.protocol = "TCP";
    const proto = c.oneOf(m.protocol, [...pp, "protocol"], ["TCP", "UDP", "SCTP"] as const);
    const name = c.string(m.name, [...pp, "name"]);
    if (name !== undefined && name !== "") {
      const err = dns1123LabelError(name);
      if (err) c.error([...pp, "name"], "invalid-port-name", err, "Service port names are DNS-1123 labels");
      if (names.has(name))
        c.error(
          [...pp, "name"],
          "duplicate-port-name",
          `port name "${name}" is used twice`,
          "give each port a distinct name",
        );
      names.add(name);
    } else if (ports.length > 1) {
      c.error(
        [...pp, "name"],
        "missing-field",
        "ports must be named when a Service has more than one",
        `add name: ${suggest(port, proto)}`,
      );
    }
    if (proto) {
      const key = `${port}/${proto}`;
      if (seen.has(key))
        c.error(
          [...pp, "port"],
          "duplicate-port",
          `port ${key} is listed twice`,
          "remove the duplicate entry",
        );
      seen.add(key);
    }
    // The API server's defaulting (SetDefaults_Service): an absent, 0 or "" targetPort is the port.
    if (m.targetPort === undefined || m.targetPort === null || m.targetPort === 0 || m.targetPort === "")
      m.targetPort = m.port;
    if (typeof m.targetPort === "string" && /^\d+$/.test(m.targetPort)) {
      c.error(
        [...pp, "targetPort"],
        "wrong-type",
        `targetPort "${m.targetPort}" is a quoted number`,
        "write the number without quotes, or use a port name",
      );
    } else if (typeof m.targetPort === "string") {
      const err = portNameError(m.targetPort);
      if (err)
        c.error([...pp, "targetPort"], "invalid-port-name", err, "use a container port's name or a number");
    } else {
      c.port(m.targetPort, [...pp, "targetPort"], "targetPort");
    }
    // nodePort 0 (as dumps and `kubectl get -o yaml` of ClusterIP Services may show) is unset.
    if (m.nodePort === 0 || m.nodePort === null) delete m.nodePort;
    if (m.nodePort !== undefined) {
      c.port(m.nodePort, [...pp, "nodePort"], "nodePort");
      if (type === "ClusterIP") {
        c.error(
          [...pp, "nodePort"],
          "invalid-value",
          "a nodePort may not be used when type is ClusterIP",
          "remove nodePort, or set type: NodePort",
        );
      } else if (type === "ExternalName") {
        c.warn(
          [...pp, "nodePort"],
          "ignored-field",
          "a nodePort on an ExternalName Service is ignored (kube-proxy does not serve ExternalName Services)",
          "remove nodePort",
        );
      }
    }
  });
  const clusterIP = c.string(spec.clusterIP, ["spec", "clusterIP"]);
  if (clusterIP !== undefined && clusterIP !== "" && clusterIP !== "None")
    c.ipAt(spec, "clusterIP", ["spec", "clusterIP"]);
  if (spec.healthCheckNodePort === 0) delete spec.healthCheckNodePort; // 0 is unset
  c.port(spec.healthCheckNodePort, ["spec", "healthCheckNodePort"], "healthCheckNodePort");
  if (headless && (type === "NodePort" || type === "LoadBalancer")) {
    c.error(
      ["spec", "clusterIP"],
      "invalid-value",
      `a headless Service (clusterIP: None) cannot be of type ${type}`,
      "remove clusterIP: None or use type ClusterIP",
    );
  }
  const clusterIPs = c.list(spec.clusterIPs, ["spec", "clusterIPs"], "string");
  clusterIPs?.forEach((ip, i) => {
    if (ip !== "None") c.ipAt(clusterIPs as unknown as Rec, i, ["spec", "clusterIPs", i]);
  });
  const externalIPs = c.list(spec.externalIPs, ["spec", "externalIPs"], "string");
  externalIPs?.forEach((_, i) => {
    c.endpointIPAt(externalIPs as unknown as Rec, i, ["spec", "externalIPs", i]);
  });
  if (spec.loadBalancerIP !== undefined && spec.loadBalancerIP !== "")
    c.ipAt(spec, "loadBalancerIP", ["spec", "loadBalancerIP"]);
  validateSourceRanges(c, obj, spec, type);
  c.oneOf(spec.sessionAffinity, ["spec", "sessionAffinity"], ["None", "ClientIP"] as const);
  const etp = c.oneOf(spec.externalTrafficPolicy, ["spec", "externalTrafficPolicy"], [
    "Cluster",
    "Local",
  ] as const);
  if (etp && type && type !== "NodePort" && type !== "LoadBalancer" && spec.externalIPs === undefined) {
    c.error(
      ["spec", "externalTrafficPolicy"],
      "invalid-value",
      `externalTrafficPolicy applies only to NodePort and LoadBalancer Services (this one is ${type})`,
      "remove it, or change the type",
    );
  }
  c.oneOf(spec.internalTrafficPolicy, ["spec", "internalTrafficPolicy"], ["Cluster", "Local"] as const);
  c.bool(spec.publishNotReadyAddresses, ["spec", "publishNotReadyAddresses"]);
  c.bool(spec.allocateLoadBalancerNodePorts, ["spec", "allocateLoadBalancerNodePorts"]);
  const status = c.map(obj.status, ["status"]);
  const lb = c.map(status?.loadBalancer, ["status", "loadBalancer"]);
  c.list(lb?.ingress, ["status", "loadBalancer", "ingress"])?.forEach((ing, i) => {
    const m = c.map(ing, ["status", "loadBalancer", "ingress", i]);
    if (m?.ip !== undefined && m.ip !== "") c.ipAt(m, "ip", ["status", "loadBalancer", "ingress", i, "ip"]);
  });
}

export function validateEndpoints(c: Check, obj: Rec): void {
  c.list(obj.subsets, ["subsets"])?.forEach((s, i) => {
    const sp = ["subsets", i];
    const m = c.map(s, sp);
    if (!m) return;
    for (const f of ["addresses", "notReadyAddresses"] as const) {
      c.list(m[f], [...sp, f])?.forEach((a, j) => {
        const am = c.map(a, [...sp, f, j]);
        if (am && c.required(am.ip, [...sp, f, j, "ip"], "ip")) c.endpointIPAt(am, "ip", [...sp, f, j, "ip"]);
      });
    }
    c.list(m.ports, [...sp, "ports"])?.forEach((p, j) => {
      const pm = c.map(p, [...sp, "ports", j]);
      if (!pm) return;
      c.port(pm.port, [...sp, "ports", j, "port"]);
      if (pm.protocol === undefined) pm.protocol = "TCP";
      c.oneOf(pm.protocol, [...sp, "ports", j, "protocol"], ["TCP", "UDP", "SCTP"] as const);
    });
  });
}

export function validateEndpointSlice(c: Check, obj: Rec): void {
  const type = c.oneOf(obj.addressType, ["addressType"], ["IPv4", "IPv6", "FQDN"] as const);
  if (!c.required(type, ["addressType"], "addressType", "add addressType: IPv4")) return;
  const eps = c.list(obj.endpoints, ["endpoints"]);
  if (eps === undefined) obj.endpoints = [];
  eps?.forEach((e, i) => {
    const m = c.map(e, ["endpoints", i]);
    if (!m) return;
    const addrs = c.list(m.addresses, ["endpoints", i, "addresses"], "string");
    if (!addrs?.length) {
      if (!c.hasError(["endpoints", i, "addresses"]))
        c.error(
          ["endpoints", i, "addresses"],
          "missing-field",
          "an endpoint needs an address",
          "add addresses: [IP]",
        );
      return;
    }
    if (type !== "FQDN") {
      addrs.forEach((_, j) => {
        const ip = c.endpointIPAt(addrs as unknown as Rec, j, ["endpoints", i, "addresses", j]);
        if (ip !== undefined && ip.includes(":") !== (type === "IPv6"))
          c.error(
            ["endpoints", i, "addresses", j],
            "invalid-ip",
            `${ip} is not an ${type} address (addressType is ${type})`,
            "list the slice's addresses of its addressType only",
          );
      });
    }
    if (m.conditions === undefined) m.conditions = {};
  });
  c.list(obj.ports, ["ports"])?.forEach((p, i) => {
    const m = c.map(p, ["ports", i]);
    if (!m) return;
    c.port(m.port, ["ports", i, "port"]);
    if (m.protocol === undefined) m.protocol = "TCP";
    c.oneOf(m.protocol, ["ports", i, "protocol"], ["TCP", "UDP", "SCTP"] as const);
  });
}

/**
 * loadBalancerSourceRanges, or when it is empty the service.beta.kubernetes.io/
 * load-balancer-source-ranges annotation (comma-separated), as ValidateService checks them: only
 * on type LoadBalancer; each block a legacy CIDR after trimming surrounding spaces (a historical
 * leniency of the API server, matched by kube-proxy's own TrimSpace). The field's blocks are
 * rewritten trimmed and with host bits cleared, as kube-proxy reads them (ParseCIDRSloppy).
 * kube-proxy enforces only the field; the annotation is for cloud load balancers.
 */
function validateSourceRanges(c: Check, obj: Rec, spec: Rec, type: string | undefined): void {
  const ranges = c.list(spec.loadBalancerSourceRanges, ["spec", "loadBalancerSourceRanges"], "string");
  const meta = (obj.metadata ?? {}) as Rec;
  const annotations = (meta.annotations ?? {}) as Rec;
  if (ranges && ranges.length > 0) {
    if (type !== undefined && type !== "LoadBalancer")
      c.error(
        ["spec", "loadBalancerSourceRanges"],
        "invalid-value",
        `loadBalancerSourceRanges may only be used when type is LoadBalancer (this one is ${type})`,
        "remove it, or set type: LoadBalancer",
      );
    ranges.forEach((r, i) => {
      const cidr = c.legacyCidr(r, ["spec", "loadBalancerSourceRanges", i], { trim: true });
      if (cidr) ranges[i] = cidr.canonical;
    });
    return;
  }
  const value = annotations[SOURCE_RANGES_ANNOTATION];
  if (value === undefined) return;
  const at = ["metadata", "annotations", SOURCE_RANGES_ANNOTATION];
  const text = c.string(value, at);
  if (text === undefined) return;
  if (type !== undefined && type !== "LoadBalancer")
    c.error(
      at,
      "invalid-value",
      `the ${SOURCE_RANGES_ANNOTATION} annotation may only be used when type is LoadBalancer (this one is ${type})`,
      "remove it, or set type: LoadBalancer",
    );
  if (text.trim() === "") return;
  for (const part of text.trim().split(",")) c.legacyCidr(part, at, { trim: true });
}

/** The annotation cloud providers read when spec.loadBalancerSourceRanges is empty. */
export const SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";
