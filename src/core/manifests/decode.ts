/**
 * Raw objects to a validated inventory. For each kind podnet understands: the apiVersions the API
 * server serves for it, the required fields, and the rules the API server would reject an object for
 * (names, label syntax, port ranges, selectors, CIDRs). An object with an error is reported and left
 * out, so later stages only ever see well-formed objects. Unknown kinds are skipped with one warning
 * per kind. Defaulting the API server does on create (namespace, protocol, targetPort, types) is
 * applied here too, so every later stage can rely on those fields.
 */
import type { Diagnostics, FieldPath, Origin } from "../diagnostics.ts";
import { formatPath } from "../diagnostics.ts";
import { selectorProblems } from "../labels.ts";
import { type ClusterConfig, decodeClusterConfig } from "../model/config.ts";
import type {
  CronJob,
  EndpointSlice,
  Endpoints,
  KubeObject,
  Namespace,
  Node,
  Pod,
  PodSpec,
  Service,
  Workload,
} from "../model/k8s.ts";
import { objectRef } from "../model/k8s.ts";
import { isCidrNotation } from "../net/ipv4.ts";
import { Check, dns1123LabelError, dns1123SubdomainError, portNameError, type Rec } from "./check.ts";
import type { RawObject } from "./parse.ts";

export interface Entry<T extends KubeObject = KubeObject> {
  readonly obj: T;
  readonly origin: Origin;
}

/** Everything the manifests said, validated and grouped by kind (in input order). */
export interface Inventory {
  config: ClusterConfig | undefined;
  configOrigin: Origin | undefined;
  namespaces: Entry<Namespace>[];
  nodes: Entry<Node>[];
  pods: Entry<Pod>[];
  workloads: Entry<Workload | CronJob>[];
  services: Entry<Service>[];
  endpoints: Entry<Endpoints>[];
  endpointSlices: Entry<EndpointSlice>[];
  networkPolicies: Entry[];
  ingresses: Entry[];
  ingressClasses: Entry[];
  routes: Entry[];
  adminNetworkPolicies: Entry[];
  baselineAdminNetworkPolicies: Entry[];
  clusterNetworkPolicies: Entry[];
}

type Bucket = Exclude<keyof Inventory, "config" | "configOrigin">;

interface KindInfo {
  bucket: Bucket;
  versions: readonly string[];
  /** apiVersions that once served this kind and no longer do, with the one to use instead. */
  namespaced: boolean;
  /** Namespaces and Services use DNS-1123 labels for names; most kinds use subdomains. */
  nameIsLabel?: boolean;
  validate?: (c: Check, obj: Rec) => void;
}

const PODNET_API = "podnet.dev/v1alpha1";

const KINDS: Record<string, KindInfo> = {
  Namespace: { bucket: "namespaces", versions: ["v1"], namespaced: false, nameIsLabel: true },
  Node: { bucket: "nodes", versions: ["v1"], namespaced: false, validate: validateNode },
  Pod: { bucket: "pods", versions: ["v1"], namespaced: true, validate: validatePod },
  Deployment: {
    bucket: "workloads",
    versions: ["apps/v1"],
    namespaced: true,
    validate: validateAppsWorkload,
  },
  ReplicaSet: {
    bucket: "workloads",
    versions: ["apps/v1"],
    namespaced: true,
    validate: validateAppsWorkload,
  },
  StatefulSet: {
    bucket: "workloads",
    versions: ["apps/v1"],
    namespaced: true,
    validate: validateAppsWorkload,
  },
  DaemonSet: { bucket: "workloads", versions: ["apps/v1"], namespaced: true, validate: validateAppsWorkload },
  Job: { bucket: "workloads", versions: ["batch/v1"], namespaced: true, validate: validateJob },
  CronJob: { bucket: "workloads", versions: ["batch/v1"], namespaced: true, validate: validateCronJob },
  ReplicationController: { bucket: "workloads", versions: ["v1"], namespaced: true, validate: validateRC },
  Service: {
    bucket: "services",
    versions: ["v1"],
    namespaced: true,
    nameIsLabel: true,
    validate: validateService,
  },
  Endpoints: { bucket: "endpoints", versions: ["v1"], namespaced: true, validate: validateEndpoints },
  EndpointSlice: {
    bucket: "endpointSlices",
    versions: ["discovery.k8s.io/v1"],
    namespaced: true,
    validate: validateEndpointSlice,
  },
  NetworkPolicy: {
    bucket: "networkPolicies",
    versions: ["networking.k8s.io/v1"],
    namespaced: true,
    validate: validateNetworkPolicy,
  },
  Ingress: {
    bucket: "ingresses",
    versions: ["networking.k8s.io/v1"],
    namespaced: true,
    validate: validateIngress,
  },
  Route: {
    bucket: "routes",
    versions: ["route.openshift.io/v1"],
    namespaced: true,
    validate: validateRoute,
  },
  IngressClass: {
    bucket: "ingressClasses",
    versions: ["networking.k8s.io/v1"],
    namespaced: false,
    validate: validateIngressClass,
  },
  AdminNetworkPolicy: {
    bucket: "adminNetworkPolicies",
    versions: ["policy.networking.k8s.io/v1alpha1"],
    namespaced: false,
    validate: validateAdminPolicy,
  },
  BaselineAdminNetworkPolicy: {
    bucket: "baselineAdminNetworkPolicies",
    versions: ["policy.networking.k8s.io/v1alpha1"],
    namespaced: false,
    validate: validateAdminPolicy,
  },
  ClusterNetworkPolicy: {
    bucket: "clusterNetworkPolicies",
    versions: ["policy.networking.k8s.io/v1alpha2"],
    namespaced: false,
    validate: validateAdminPolicy,
  },
};

/** apiVersions removed from Kubernetes, with the served replacement. */
const REMOVED_VERSIONS: Record<string, string> = {
  "extensions/v1beta1": "apps/v1 (workloads) or networking.k8s.io/v1 (Ingress, NetworkPolicy)",
  "apps/v1beta1": "apps/v1",
  "apps/v1beta2": "apps/v1",
  "batch/v1beta1": "batch/v1",
  "discovery.k8s.io/v1beta1": "discovery.k8s.io/v1",
  "networking.k8s.io/v1beta1": "networking.k8s.io/v1",
};

export function emptyInventory(): Inventory {
  return {
    config: undefined,
    configOrigin: undefined,
    namespaces: [],
    nodes: [],
    pods: [],
    workloads: [],
    services: [],
    endpoints: [],
    endpointSlices: [],
    networkPolicies: [],
    ingresses: [],
    ingressClasses: [],
    routes: [],
    adminNetworkPolicies: [],
    baselineAdminNetworkPolicies: [],
    clusterNetworkPolicies: [],
  };
}

export function decodeObjects(raws: readonly RawObject[], diags: Diagnostics): Inventory {
  const inv = emptyInventory();
  const seen = new Map<string, Origin>();
  const skipped = new Map<string, { count: number; origin: Origin }>();
  const generated = { n: 0 };

  for (const { value: obj, origin } of raws) {
    const kind = obj.kind;
    const apiVersion = obj.apiVersion;
    const meta0 = obj.metadata;
    if (
      typeof kind === "string" &&
      KINDS[kind]?.namespaced &&
      meta0 &&
      typeof meta0 === "object" &&
      !Array.isArray(meta0)
    ) {
      // Defaulted first so that every message names the object as the API server would: `Pod default/p`.
      const m = meta0 as Rec;
      if (m.namespace === undefined || m.namespace === null || m.namespace === "") m.namespace = "default";
    }
    const c = new Check(diags, origin, describeRaw(obj));
    if (typeof kind !== "string" || kind === "") {
      c.error(
        ["kind"],
        "missing-field",
        "kind is required",
        "every object needs apiVersion and kind, e.g. kind: Pod",
      );
      continue;
    }
    if (typeof apiVersion !== "string" || apiVersion === "") {
      c.error(
        ["apiVersion"],
        "missing-field",
        "apiVersion is required",
        "add the apiVersion, e.g. apiVersion: v1",
      );
      continue;
    }

    if (kind === "Cluster" && apiVersion.startsWith("podnet.dev/")) {
      if (apiVersion !== PODNET_API) {
        c.error(
          ["apiVersion"],
          "unknown-api-version",
          `unknown apiVersion "${apiVersion}" for podnet's Cluster`,
          `use ${PODNET_API}`,
        );
        continue;
      }
      if (inv.configOrigin) {
        const first = inv.configOrigin.locate([]);
        c.error(
          [],
          "duplicate-object",
          `a second Cluster config; the first is at ${inv.configOrigin.file}${first ? `:${first.line}:${first.col}` : ""}`,
          "give podnet exactly one Cluster object",
        );
        continue;
      }
      const before = diags.errors.length;
      const cfg = decodeClusterConfig(c, obj);
      inv.configOrigin = origin;
      if (diags.errors.length === before) inv.config = cfg;
      continue;
    }

    const info = KINDS[kind];
    if (!info) {
      const s = skipped.get(kind);
      if (s) s.count++;
      else skipped.set(kind, { count: 1, origin });
      continue;
    }
    if (!info.versions.includes(apiVersion)) {
      const removed = REMOVED_VERSIONS[apiVersion];
      c.error(
        ["apiVersion"],
        "unknown-api-version",
        removed
          ? `"${apiVersion}" no longer serves ${kind} (removed from Kubernetes)`
          : `"${apiVersion}" is not an apiVersion of kind ${kind}`,
        `use apiVersion: ${info.versions.join(" or ")}`,
      );
      continue;
    }

    const before = diags.errors.length;
    const meta = c.map(obj.metadata, ["metadata"]);
    if (!meta) {
      c.error(["metadata"], "missing-field", "metadata is required", "add metadata with at least a name");
      continue;
    }
    validateMeta(c, meta, info, generated);
    if (typeof meta.name === "string") {
      const key = `${kind}/${meta.namespace ?? ""}/${meta.name}`;
      const prev = seen.get(key);
      if (prev) {
        const at = prev.locate([]);
        c.error(
          ["metadata", "name"],
          "duplicate-object",
          `defined twice; the first definition is at ${prev.file}${at ? `:${at.line}:${at.col}` : ""}`,
          "remove one of the two definitions or rename one",
        );
        continue;
      }
      seen.set(key, origin);
    }
    info.validate?.(c, obj);
    if (diags.errors.length > before) continue;
    (inv[info.bucket] as Entry[]).push({ obj: obj as KubeObject, origin });
  }

  for (const [kind, { count, origin }] of [...skipped].sort(([a], [b]) => a.localeCompare(b))) {
    diags.warn({
      code: "skipped-kind",
      message: `skipped ${count} object${count === 1 ? "" : "s"} of kind ${kind} (not part of the network model)`,
      origin,
    });
  }
  return inv;
}

function describeRaw(obj: Rec): string {
  const meta = (obj.metadata && typeof obj.metadata === "object" ? obj.metadata : {}) as Rec;
  const name = typeof meta.name === "string" ? meta.name : undefined;
  const ns = typeof meta.namespace === "string" ? meta.namespace : undefined;
  const kind = typeof obj.kind === "string" ? obj.kind : "object";
  return objectRef({ kind, metadata: { name, namespace: ns } });
}

function validateMeta(c: Check, meta: Rec, info: KindInfo, generated: { n: number }): void {
  let name = c.string(meta.name, ["metadata", "name"]);
  if (name === undefined) {
    const gen = c.string(meta.generateName, ["metadata", "generateName"]);
    if (gen) {
      // The API server appends 5 random characters; podnet appends a deterministic counter instead.
      name = `${gen}${(generated.n++).toString(36).padStart(5, "0")}`;
      meta.name = name;
    } else {
      c.error(["metadata", "name"], "missing-field", "a name is required", "give the object a name");
      return;
    }
  }
  const nameErr = info.nameIsLabel ? dns1123LabelError(name) : dns1123SubdomainError(name);
  if (nameErr) c.error(["metadata", "name"], "invalid-name", nameErr, "rename the object");

  if (info.namespaced) {
    if (meta.namespace === undefined || meta.namespace === null || meta.namespace === "")
      meta.namespace = "default";
    const ns = c.string(meta.namespace, ["metadata", "namespace"]);
    const nsErr = ns === undefined ? undefined : dns1123LabelError(ns);
    if (nsErr)
      c.error(["metadata", "namespace"], "invalid-name", nsErr, "namespace names are DNS-1123 labels");
  } else if (meta.namespace !== undefined) {
    // kubectl ignores a namespace on cluster-scoped objects; so does podnet.
    delete meta.namespace;
  }
  c.labels(meta.labels, ["metadata", "labels"]);
  c.map(meta.annotations, ["metadata", "annotations"]);
  const owners = c.list(meta.ownerReferences, ["metadata", "ownerReferences"]);
  owners?.forEach((o, i) => {
    const at = ["metadata", "ownerReferences", i];
    const m = c.map(o, at);
    if (!m) return;
    c.required(c.string(m.kind, [...at, "kind"]), [...at, "kind"], "ownerReference kind");
    c.required(c.string(m.name, [...at, "name"]), [...at, "name"], "ownerReference name");
  });
}

function checkSelector(c: Check, sel: unknown, path: (string | number)[]): void {
  for (const p of selectorProblems(sel)) c.error([...path, ...p.path], "invalid-selector", p.message, p.hint);
}

// ---------------------------------------------------------------------------------------------- pods

function validatePod(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.containers")) return;
  validatePodSpec(c, spec, ["spec"]);
  const status = c.map(obj.status, ["status"]);
  if (status) {
    c.ip(status.podIP, ["status", "podIP"]);
    c.ip(status.hostIP, ["status", "hostIP"]);
    c.list(status.podIPs, ["status", "podIPs"])?.forEach((p, i) => {
      const m = c.map(p, ["status", "podIPs", i]);
      c.ip(m?.ip, ["status", "podIPs", i, "ip"]);
    });
    c.oneOf(status.phase, ["status", "phase"], [
      "Pending",
      "Running",
      "Succeeded",
      "Failed",
      "Unknown",
    ] as const);
    validateConditions(c, status.conditions, ["status", "conditions"]);
  }
}

/** dnsPolicy and dnsConfig, as the API server validates them (limits: kubelet's). */
function validateDns(c: Check, spec: Rec, at: (string | number)[]): void {
  const policy = c.oneOf(spec.dnsPolicy, [...at, "dnsPolicy"], [
    "ClusterFirst",
    "ClusterFirstWithHostNet",
    "Default",
    "None",
  ] as const);
  const cfg = c.map(spec.dnsConfig, [...at, "dnsConfig"]);
  const nameservers = c.list(cfg?.nameservers, [...at, "dnsConfig", "nameservers"]) ?? [];
  if (policy === "None" && nameservers.length === 0)
    c.error(
      [...at, cfg ? "dnsConfig" : "dnsPolicy"],
      "missing-field",
      "dnsPolicy None needs at least one nameserver in dnsConfig",
      "add dnsConfig.nameservers (e.g. [10.96.0.10]) or use dnsPolicy ClusterFirst",
    );
  if (nameservers.length > 3)
    c.error(
      [...at, "dnsConfig", "nameservers"],
      "invalid-value",
      `${nameservers.length} nameservers: at most 3 are allowed`,
      "keep three",
    );
  nameservers.forEach((n, i) => {
    c.ip(n, [...at, "dnsConfig", "nameservers", i]);
  });
  const searches = c.list(cfg?.searches, [...at, "dnsConfig", "searches"]) ?? [];
  if (searches.length > 32)
    c.error(
      [...at, "dnsConfig", "searches"],
      "invalid-value",
      `${searches.length} search domains: at most 32 are allowed`,
      "keep 32",
    );
  let chars = 0;
  searches.forEach((d, i) => {
    const v = c.string(d, [...at, "dnsConfig", "searches", i]);
    if (v === undefined) return;
    chars += v.length;
    const err = dns1123SubdomainError(v.replace(/\.$/, ""));
    if (err)
      c.error(
        [...at, "dnsConfig", "searches", i],
        "invalid-name",
        err,
        "search domains are DNS names such as example.com",
      );
  });
  if (chars + Math.max(searches.length - 1, 0) > 2048)
    c.error(
      [...at, "dnsConfig", "searches"],
      "invalid-value",
      "the search list is longer than 2048 characters",
      "shorten it",
    );
  c.list(cfg?.options, [...at, "dnsConfig", "options"])?.forEach((o, i) => {
    const m = c.map(o, [...at, "dnsConfig", "options", i]);
    if (m)
      c.required(
        c.string(m.name, [...at, "dnsConfig", "options", i, "name"]),
        [...at, "dnsConfig", "options", i, "name"],
        "option name",
      );
    if (m?.value !== undefined) c.string(m.value, [...at, "dnsConfig", "options", i, "value"]);
  });
}

function validatePodSpec(c: Check, spec: Rec, at: (string | number)[]): void {
  const containers = c.list(spec.containers, [...at, "containers"]);
  if (!containers || containers.length === 0) {
    c.error(
      [...at, "containers"],
      "missing-field",
      "a pod needs at least one container",
      "add spec.containers",
    );
    return;
  }
  const portNames = new Set<string>();
  const validateContainers = (list: unknown[], field: string) =>
    list.forEach((ct, i) => {
      const cp = [...at, field, i];
      const m = c.map(ct, cp);
      if (!m) return;
      const name = c.string(m.name, [...cp, "name"]);
      if (c.required(name, [...cp, "name"], "container name")) {
        const err = dns1123LabelError(name);
        if (err) c.error([...cp, "name"], "invalid-name", err, "container names are DNS-1123 labels");
      }
      c.list(m.ports, [...cp, "ports"])?.forEach((p, j) => {
        const pp = [...cp, "ports", j];
        const pm = c.map(p, pp);
        if (!pm) return;
        if (c.required(pm.containerPort, [...pp, "containerPort"], "containerPort", undefined, pm)) {
          c.port(pm.containerPort, [...pp, "containerPort"], "containerPort");
        }
        c.port(pm.hostPort, [...pp, "hostPort"], "hostPort");
        if (pm.protocol === undefined) pm.protocol = "TCP";
        c.oneOf(pm.protocol, [...pp, "protocol"], ["TCP", "UDP", "SCTP"] as const);
        const pname = c.string(pm.name, [...pp, "name"]);
        if (pname !== undefined) {
          const err = portNameError(pname);
          if (err) c.error([...pp, "name"], "invalid-port-name", err, "rename the port, e.g. http");
          else if (portNames.has(pname)) {
            c.error(
              [...pp, "name"],
              "duplicate-port-name",
              `port name "${pname}" is used twice in this pod`,
              "give each port a distinct name",
            );
          }
          portNames.add(pname);
        }
      });
    });
  validateContainers(containers, "containers");
  const inits = c.list(spec.initContainers, [...at, "initContainers"]);
  if (inits) validateContainers(inits, "initContainers");

  c.bool(spec.hostNetwork, [...at, "hostNetwork"]);
  c.labels(spec.nodeSelector, [...at, "nodeSelector"]);
  const nodeName = c.string(spec.nodeName, [...at, "nodeName"]);
  if (nodeName !== undefined) {
    const err = dns1123SubdomainError(nodeName);
    if (err) c.error([...at, "nodeName"], "invalid-name", err, "node names are DNS subdomains");
  }
  for (const f of ["hostname", "subdomain"] as const) {
    const v = c.string(spec[f], [...at, f]);
    const err = v === undefined ? undefined : dns1123LabelError(v);
    if (err) c.error([...at, f], "invalid-name", err, `${f} must be a DNS-1123 label`);
  }
  validateDns(c, spec, at);
  c.list(spec.tolerations, [...at, "tolerations"])?.forEach((t, i) => {
    const tp = [...at, "tolerations", i];
    const m = c.map(t, tp);
    if (!m) return;
    c.oneOf(m.operator, [...tp, "operator"], ["Exists", "Equal"] as const);
    c.oneOf(m.effect, [...tp, "effect"], ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const);
  });
  const affinity = c.map(spec.affinity, [...at, "affinity"]);
  const na = c.map(affinity?.nodeAffinity, [...at, "affinity", "nodeAffinity"]);
  const reqPath = [...at, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"];
  const req = c.map(na?.requiredDuringSchedulingIgnoredDuringExecution, reqPath);
  c.list(req?.nodeSelectorTerms, [...reqPath, "nodeSelectorTerms"])?.forEach((term, i) => {
    const tp = [...reqPath, "nodeSelectorTerms", i];
    const m = c.map(term, tp);
    for (const field of ["matchExpressions", "matchFields"] as const) {
      c.list(m?.[field], [...tp, field])?.forEach((r, j) => {
        const rp = [...tp, field, j];
        const rm = c.map(r, rp);
        if (!rm) return;
        c.required(c.string(rm.key, [...rp, "key"]), [...rp, "key"], "key");
        const op = c.oneOf(rm.operator, [...rp, "operator"], [
          "In",
          "NotIn",
          "Exists",
          "DoesNotExist",
          "Gt",
          "Lt",
        ] as const);
        const values = c.list(rm.values, [...rp, "values"]) ?? [];
        if ((op === "In" || op === "NotIn") && values.length === 0) {
          c.error(
            [...rp, "values"],
            "invalid-selector",
            `values must be non-empty for ${op}`,
            "list at least one value",
          );
        }
        if ((op === "Gt" || op === "Lt") && (values.length !== 1 || !/^-?\d+$/.test(String(values[0])))) {
          c.error(
            [...rp, "values"],
            "invalid-selector",
            `${op} needs exactly one integer value`,
            'write e.g. values: ["3"]',
          );
        }
      });
    }
  });
}

/** `conditions: [{type, status}]`, as pods, nodes and Jobs report them. */
function validateConditions(c: Check, v: unknown, at: (string | number)[]): void {
  c.list(v, at)?.forEach((cond, i) => {
    const m = c.map(cond, [...at, i]);
    if (!m) return;
    c.string(m.type, [...at, i, "type"]);
    c.oneOf(m.status, [...at, i, "status"], ["True", "False", "Unknown"] as const);
  });
}

// ------------------------------------------------------------------------------------------- workloads

function validateTemplate(c: Check, tmpl: unknown, at: (string | number)[]): Rec | undefined {
  const t = c.map(tmpl, at);
  if (!c.required(t, at, "a pod template", `add ${formatPath(at)} with metadata.labels and spec.containers`))
    return;
  const meta = c.map(t.metadata, [...at, "metadata"]);
  c.labels(meta?.labels, [...at, "metadata", "labels"]);
  const spec = c.map(t.spec, [...at, "spec"]);
  if (c.required(spec, [...at, "spec"], "the template's spec", "add spec.containers to the template")) {
    validatePodSpec(c, spec, [...at, "spec"]);
  }
  return t;
}

function validateReplicas(c: Check, spec: Rec, at: (string | number)[]): void {
  c.int(spec.replicas, [...at, "replicas"], 0, 1_000_000, "replicas");
}

/** Deployment, ReplicaSet, StatefulSet, DaemonSet: apps/v1 requires a selector matching the template. */
function validateAppsWorkload(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.selector and spec.template")) return;
  if (obj.kind !== "DaemonSet") validateReplicas(c, spec, ["spec"]);
  if (obj.kind === "StatefulSet") {
    const ordinals = c.map(spec.ordinals, ["spec", "ordinals"]);
    c.int(ordinals?.start, ["spec", "ordinals", "start"], 0, 1_000_000, "ordinals.start");
    c.string(spec.serviceName, ["spec", "serviceName"]);
  }
  const tmpl = validateTemplate(c, spec.template, ["spec", "template"]);
  if (
    !c.required(
      spec.selector,
      ["spec", "selector"],
      "spec.selector",
      "add spec.selector.matchLabels matching the template's labels",
    )
  )
    return;
  const before = c.diags.errors.length;
  checkSelector(c, spec.selector, ["spec", "selector"]);
  if (c.diags.errors.length > before || !tmpl) return;
  checkSelectorMatchesTemplate(c, spec.selector as Rec, tmpl);
}

function checkSelectorMatchesTemplate(c: Check, selector: Rec, tmpl: Rec): void {
  const labels = ((tmpl.metadata as Rec | undefined)?.labels ?? {}) as Record<string, string>;
  const sel = selector as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  if (!sel.matchLabels && !sel.matchExpressions?.length) {
    c.error(
      ["spec", "selector"],
      "invalid-selector",
      "an empty selector is not allowed here",
      "select the template's labels",
    );
    return;
  }
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (labels[k] !== v) {
      c.error(
        ["spec", "template", "metadata", "labels"],
        "selector-mismatch",
        `selector requires ${k}=${v} but the template's labels do not have it`,
        `add ${k}: ${v} to spec.template.metadata.labels`,
      );
    }
  }
}

function validateJob(c: Check, obj: Rec): void {
  const status = c.map(obj.status, ["status"]);
  c.int(status?.succeeded, ["status", "succeeded"], 0, 1_000_000, "succeeded count");
  validateConditions(c, status?.conditions, ["status", "conditions"]);
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.template")) return;
  validateJobSpec(c, spec, ["spec"]);
}

function validateJobSpec(c: Check, spec: Rec, at: (string | number)[]): void {
  c.int(spec.parallelism, [...at, "parallelism"], 0, 100_000, "parallelism");
  c.int(spec.completions, [...at, "completions"], 0, 100_000, "completions");
  c.oneOf(spec.completionMode, [...at, "completionMode"], ["NonIndexed", "Indexed"] as const);
  c.bool(spec.suspend, [...at, "suspend"]);
  c.bool(spec.manualSelector, [...at, "manualSelector"]);
  validateTemplate(c, spec.template, [...at, "template"]);
  checkSelector(c, spec.selector, [...at, "selector"]);
}

function validateCronJob(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.schedule and spec.jobTemplate")) return;
  c.required(
    c.string(spec.schedule, ["spec", "schedule"]),
    ["spec", "schedule"],
    "spec.schedule",
    'add a cron schedule, e.g. "*/5 * * * *"',
  );
  c.bool(spec.suspend, ["spec", "suspend"]);
  const jt = c.map(spec.jobTemplate, ["spec", "jobTemplate"]);
  if (!c.required(jt, ["spec", "jobTemplate"], "spec.jobTemplate", "add spec.jobTemplate.spec.template"))
    return;
  const js = c.map(jt.spec, ["spec", "jobTemplate", "spec"]);
  if (c.required(js, ["spec", "jobTemplate", "spec"], "spec.jobTemplate.spec", "add the Job spec")) {
    validateJobSpec(c, js, ["spec", "jobTemplate", "spec"]);
  }
}

function validateRC(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.template")) return;
  validateReplicas(c, spec, ["spec"]);
  const tmpl = validateTemplate(c, spec.template, ["spec", "template"]);
  // A ReplicationController's selector is a plain map; it defaults to the template's labels.
  const sel = c.labels(spec.selector, ["spec", "selector"]);
  if (sel && tmpl) checkSelectorMatchesTemplate(c, { matchLabels: sel }, tmpl);
}

// ------------------------------------------------------------------------------------------ nodes

function validateNode(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  c.cidr(spec?.podCIDR, ["spec", "podCIDR"]);
  c.list(spec?.podCIDRs, ["spec", "podCIDRs"])?.forEach((p, i) => {
    // Dual-stack nodes list an IPv6 block too; only its syntax is checked here.
    if (typeof p !== "string" || !isCidrNotation(p)) {
      c.error(
        ["spec", "podCIDRs", i],
        "invalid-cidr",
        `${JSON.stringify(p)} is not a valid CIDR`,
        "write a block such as 10.244.1.0/24",
      );
    }
  });
  c.list(spec?.taints, ["spec", "taints"])?.forEach((t, i) => {
    const tp = ["spec", "taints", i];
    const m = c.map(t, tp);
    if (!m) return;
    c.required(c.string(m.key, [...tp, "key"]), [...tp, "key"], "taint key");
    c.oneOf(m.effect, [...tp, "effect"], ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const);
  });
  const status = c.map(obj.status, ["status"]);
  c.list(status?.addresses, ["status", "addresses"])?.forEach((a, i) => {
    const ap = ["status", "addresses", i];
    const m = c.map(a, ap);
    if (m?.type === "InternalIP" || m?.type === "ExternalIP") c.ip(m.address, [...ap, "address"]);
  });
}

// --------------------------------------------------------------------------------------- services

function validateService(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.ports (and spec.selector)")) return;
  if (spec.type === undefined) spec.type = "ClusterIP";
  const type = c.oneOf(spec.type, ["spec", "type"], [
    "ClusterIP",
    "NodePort",
    "LoadBalancer",
    "ExternalName",
  ] as const);
  c.labels(spec.selector, ["spec", "selector"]);
  const headless = spec.clusterIP === "None";
  const ports = c.list(spec.ports, ["spec", "ports"]) ?? [];
  if (ports.length === 0 && type !== "ExternalName" && !headless) {
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
      const err = dns1123SubdomainError(en.replace(/\.$/, "").toLowerCase());
      if (err) c.error(["spec", "externalName"], "invalid-value", err, "externalName must be a DNS name");
    }
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const pp = ["spec", "ports", i];
    const m = c.map(p, pp);
    if (!m) return;
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
        `add name: p${port ?? i}`,
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
    if (m.targetPort === undefined) m.targetPort = m.port;
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
    if (m.nodePort !== undefined) {
      c.port(m.nodePort, [...pp, "nodePort"], "nodePort");
      if (type === "ClusterIP" || type === "ExternalName" || headless) {
        c.error(
          [...pp, "nodePort"],
          "invalid-value",
          `a nodePort may not be set on a Service of type ${type}`,
          "remove nodePort, or set type: NodePort",
        );
      }
    }
  });
  const clusterIP = c.string(spec.clusterIP, ["spec", "clusterIP"]);
  if (clusterIP !== undefined && clusterIP !== "" && clusterIP !== "None")
    c.ip(clusterIP, ["spec", "clusterIP"]);
  c.port(spec.healthCheckNodePort, ["spec", "healthCheckNodePort"], "healthCheckNodePort");
  if (headless && (type === "NodePort" || type === "LoadBalancer")) {
    c.error(
      ["spec", "clusterIP"],
      "invalid-value",
      `a headless Service (clusterIP: None) cannot be of type ${type}`,
      "remove clusterIP: None or use type ClusterIP",
    );
  }
  c.list(spec.clusterIPs, ["spec", "clusterIPs"])?.forEach((ip, i) => {
    if (ip !== "None") c.ip(ip, ["spec", "clusterIPs", i]);
  });
  c.list(spec.externalIPs, ["spec", "externalIPs"])?.forEach((ip, i) => {
    c.ip(ip, ["spec", "externalIPs", i]);
  });
  if (spec.loadBalancerIP !== undefined && spec.loadBalancerIP !== "")
    c.ip(spec.loadBalancerIP, ["spec", "loadBalancerIP"]);
  c.list(spec.loadBalancerSourceRanges, ["spec", "loadBalancerSourceRanges"])?.forEach((r, i) => {
    c.cidr(r, ["spec", "loadBalancerSourceRanges", i]);
  });
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
    if (m?.ip !== undefined) c.ip(m.ip, ["status", "loadBalancer", "ingress", i, "ip"]);
  });
}

function validateEndpoints(c: Check, obj: Rec): void {
  c.list(obj.subsets, ["subsets"])?.forEach((s, i) => {
    const sp = ["subsets", i];
    const m = c.map(s, sp);
    if (!m) return;
    for (const f of ["addresses", "notReadyAddresses"] as const) {
      c.list(m[f], [...sp, f])?.forEach((a, j) => {
        const am = c.map(a, [...sp, f, j]);
        if (am) c.required(c.ip(am.ip, [...sp, f, j, "ip"]), [...sp, f, j, "ip"], "ip");
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

function validateEndpointSlice(c: Check, obj: Rec): void {
  const type = c.oneOf(obj.addressType, ["addressType"], ["IPv4", "IPv6", "FQDN"] as const);
  if (!c.required(type, ["addressType"], "addressType", "add addressType: IPv4")) return;
  const eps = c.list(obj.endpoints, ["endpoints"]);
  if (eps === undefined) obj.endpoints = [];
  eps?.forEach((e, i) => {
    const m = c.map(e, ["endpoints", i]);
    if (!m) return;
    const addrs = c.list(m.addresses, ["endpoints", i, "addresses"]);
    if (!addrs?.length) {
      c.error(
        ["endpoints", i, "addresses"],
        "missing-field",
        "an endpoint needs an address",
        "add addresses: [IP]",
      );
      return;
    }
    if (type !== "FQDN") {
      addrs.forEach((a, j) => {
        c.ip(a, ["endpoints", i, "addresses", j]);
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

// -------------------------------------------------------------------------------------- policies

function validatePolicyPorts(c: Check, ports: unknown, at: (string | number)[]): void {
  c.list(ports, at)?.forEach((p, i) => {
    const pp = [...at, i];
    const m = c.map(p, pp);
    if (!m) return;
    if (m.protocol === undefined) m.protocol = "TCP";
    c.oneOf(m.protocol, [...pp, "protocol"], ["TCP", "UDP", "SCTP"] as const);
    if (typeof m.port === "string") {
      const err = portNameError(m.port);
      if (err) c.error([...pp, "port"], "invalid-port-name", err, "use a container port's name or a number");
    } else {
      c.port(m.port, [...pp, "port"]);
    }
    if (m.endPort !== undefined) {
      const end = c.port(m.endPort, [...pp, "endPort"], "endPort");
      if (typeof m.port !== "number") {
        c.error(
          [...pp, "endPort"],
          "invalid-value",
          "endPort requires a numeric port",
          "set port to the first number of the range",
        );
      } else if (end !== undefined && end < m.port) {
        c.error(
          [...pp, "endPort"],
          "invalid-value",
          `endPort ${end} is below port ${m.port}`,
          "make endPort at least port",
        );
      }
    }
  });
}

function validateNetworkPolicy(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.podSelector ({} selects every pod of the namespace)"))
    return;
  // podSelector is a struct, not a pointer, in the API: null and absent both decode to {} (every pod
  // of the namespace). The API server accepts both; an absent one is most likely a mistake.
  if (!("podSelector" in spec)) {
    c.warn(
      ["spec"],
      "missing-pod-selector",
      "spec.podSelector is absent; Kubernetes treats it as {} and the policy selects every pod of the namespace",
      "write podSelector: {} to say so, or select the pods meant",
    );
  }
  if (spec.podSelector === undefined || spec.podSelector === null) spec.podSelector = {};
  checkSelector(c, spec.podSelector, ["spec", "podSelector"]);
  c.list(spec.policyTypes, ["spec", "policyTypes"])?.forEach((t, i) => {
    c.oneOf(t, ["spec", "policyTypes", i], ["Ingress", "Egress"] as const);
  });
  for (const [dir, peersField] of [
    ["ingress", "from"],
    ["egress", "to"],
  ] as const) {
    c.list(spec[dir], ["spec", dir])?.forEach((rule, i) => {
      const rp = ["spec", dir, i];
      const m = c.map(rule, rp);
      if (!m) return;
      validatePolicyPorts(c, m.ports, [...rp, "ports"]);
      c.list(m[peersField], [...rp, peersField])?.forEach((peer, j) => {
        const pp = [...rp, peersField, j];
        const pm = c.map(peer, pp);
        if (!pm) return;
        checkSelector(c, pm.podSelector, [...pp, "podSelector"]);
        checkSelector(c, pm.namespaceSelector, [...pp, "namespaceSelector"]);
        const ipb = c.map(pm.ipBlock, [...pp, "ipBlock"]);
        if (
          pm.ipBlock !== undefined &&
          (pm.podSelector !== undefined || pm.namespaceSelector !== undefined)
        ) {
          c.error(
            pp,
            "invalid-peer",
            "ipBlock cannot be combined with podSelector or namespaceSelector in one peer",
            "split them into two peers (two list items)",
          );
        }
        if (pm.ipBlock === undefined && pm.podSelector === undefined && pm.namespaceSelector === undefined) {
          c.error(
            pp,
            "invalid-peer",
            "a peer needs podSelector, namespaceSelector or ipBlock",
            "add one of them, or remove the empty peer",
          );
        }
        if (ipb) validateIpBlock(c, ipb, [...pp, "ipBlock"]);
      });
    });
  }
}

function validateIpBlock(c: Check, ipb: Rec, at: (string | number)[]): void {
  const text = c.string(ipb.cidr, [...at, "cidr"]);
  if (!c.required(text, [...at, "cidr"], "ipBlock.cidr", "add cidr, e.g. 10.0.0.0/8")) return;
  if (!isCidrNotation(text)) {
    c.error(
      [...at, "cidr"],
      "invalid-cidr",
      `"${text}" is not a valid CIDR`,
      "write a block such as 10.0.0.0/8",
    );
    return;
  }
  c.list(ipb.except, [...at, "except"])?.forEach((e, i) => {
    if (typeof e !== "string" || !isCidrNotation(e)) {
      c.error(
        [...at, "except", i],
        "invalid-cidr",
        `${JSON.stringify(e)} is not a valid CIDR`,
        "write a block such as 10.1.0.0/16",
      );
    }
  });
}

function validateIngress(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!spec) return;
  c.string(spec.ingressClassName, ["spec", "ingressClassName"]);
  validateIngressBackend(c, spec.defaultBackend, ["spec", "defaultBackend"]);
  c.list(spec.rules, ["spec", "rules"])?.forEach((r, i) => {
    const m = c.map(r, ["spec", "rules", i]);
    if (!m) return;
    c.string(m.host, ["spec", "rules", i, "host"]);
    const http = c.map(m.http, ["spec", "rules", i, "http"]);
    c.list(http?.paths, ["spec", "rules", i, "http", "paths"])?.forEach((p, j) => {
      const pm = c.map(p, ["spec", "rules", i, "http", "paths", j]);
      if (pm) validateIngressBackend(c, pm.backend, ["spec", "rules", i, "http", "paths", j, "backend"]);
    });
  });
}

function validateIngressBackend(c: Check, v: unknown, at: (string | number)[]): void {
  const b = c.map(v, at);
  const svc = c.map(b?.service, [...at, "service"]);
  if (!svc) return;
  c.required(
    c.string(svc.name, [...at, "service", "name"]),
    [...at, "service", "name"],
    "the backend Service's name",
  );
  const port = c.map(svc.port, [...at, "service", "port"]);
  if (port?.number !== undefined) c.port(port.number, [...at, "service", "port", "number"]);
  c.string(port?.name, [...at, "service", "port", "name"]);
}

/** OpenShift Route: the Service it sends to (and alternates), and the target port. */
function validateRoute(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.to with the Service the route sends to")) return;
  const backend = (v: unknown, at: (string | number)[]) => {
    const to = c.map(v, at);
    if (!to) return;
    const kind = c.string(to.kind, [...at, "kind"]);
    if (kind !== undefined && kind !== "Service")
      c.error(
        [...at, "kind"],
        "invalid-value",
        `a route sends to a Service, not a ${kind}`,
        "use kind: Service",
      );
    c.required(c.string(to.name, [...at, "name"]), [...at, "name"], "the Service's name", undefined, to);
  };
  if (c.required(spec.to, ["spec", "to"], "spec.to", "add spec.to: {kind: Service, name: …}", spec))
    backend(spec.to, ["spec", "to"]);
  c.list(spec.alternateBackends, ["spec", "alternateBackends"])?.forEach((b, i) => {
    backend(b, ["spec", "alternateBackends", i]);
  });
  const port = c.map(spec.port, ["spec", "port"]);
  const target = port?.targetPort;
  if (typeof target === "number") c.port(target, ["spec", "port", "targetPort"], "target port");
  else if (target !== undefined) c.string(target, ["spec", "port", "targetPort"]);
}

function validateIngressClass(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  c.string(spec?.controller, ["spec", "controller"]);
}

/** AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy: the fields later stages rely on. */
function validateAdminPolicy(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.subject")) return;
  if (obj.kind === "AdminNetworkPolicy") {
    if (
      c.required(
        spec.priority,
        ["spec", "priority"],
        "spec.priority",
        "add a priority from 0 (first) to 1000",
      )
    ) {
      c.int(spec.priority, ["spec", "priority"], 0, 1000, "priority");
    }
  }
  if (obj.kind === "ClusterNetworkPolicy") {
    c.oneOf(spec.tier, ["spec", "tier"], ["Admin", "Baseline"] as const);
    c.int(spec.priority, ["spec", "priority"], 0, 1000, "priority");
  }
  const subject = c.map(spec.subject, ["spec", "subject"]);
  if (!c.required(subject, ["spec", "subject"], "spec.subject", "add subject.namespaces or subject.pods"))
    return;
  checkSelector(c, subject.namespaces, ["spec", "subject", "namespaces"]);
  const pods = c.map(subject.pods, ["spec", "subject", "pods"]);
  if (pods) {
    checkSelector(c, pods.namespaceSelector, ["spec", "subject", "pods", "namespaceSelector"]);
    checkSelector(c, pods.podSelector, ["spec", "subject", "pods", "podSelector"]);
  }
  const actions =
    obj.kind === "AdminNetworkPolicy"
      ? (["Allow", "Deny", "Pass"] as const)
      : obj.kind === "BaselineAdminNetworkPolicy"
        ? (["Allow", "Deny"] as const)
        : (["Accept", "Deny", "Pass"] as const);
  for (const dir of ["ingress", "egress"] as const) {
    c.list(spec[dir], ["spec", dir])?.forEach((rule, i) => {
      const rp = ["spec", dir, i];
      const m = c.map(rule, rp);
      if (!m) return;
      c.required(
        c.oneOf(m.action, [...rp, "action"], actions),
        [...rp, "action"],
        "action",
        `use one of ${actions.join(", ")}`,
      );
      checkAdminPorts(c, m, rp);
      const peers = c.list(m[dir === "ingress" ? "from" : "to"], [...rp, dir === "ingress" ? "from" : "to"]);
      peers?.forEach((peer, j) => {
        const pp = [...rp, dir === "ingress" ? "from" : "to", j];
        const pm = c.map(peer, pp);
        if (!pm) return;
        checkSelector(c, pm.namespaces, [...pp, "namespaces"]);
        const pods = c.map(pm.pods, [...pp, "pods"]);
        if (pods) {
          checkSelector(c, pods.namespaceSelector, [...pp, "pods", "namespaceSelector"]);
          checkSelector(c, pods.podSelector, [...pp, "pods", "podSelector"]);
        }
        c.list(pm.networks, [...pp, "networks"])?.forEach((n, k) => {
          if (typeof n !== "string" || !isCidrNotation(n)) {
            c.error(
              [...pp, "networks", k],
              "invalid-cidr",
              `${JSON.stringify(n)} is not a valid CIDR`,
              "write a block such as 10.0.0.0/8",
            );
          }
        });
      });
    });
  }
}

/** An admin policy rule's ports (v1alpha1 `ports`) or protocols (v1alpha2 `protocols`). */
function checkAdminPorts(c: Check, rule: Rec, at: FieldPath): void {
  const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
  const range = (r: Rec | undefined, path: FieldPath) => {
    if (!r) return;
    const start = c.port(r.start, [...path, "start"]);
    const end = c.port(r.end, [...path, "end"]);
    if (start !== undefined && end !== undefined && start > end)
      c.error(path, "invalid-range", `start ${start} is after end ${end}`, "swap start and end");
  };
  c.list(rule.ports, [...at, "ports"])?.forEach((p, i) => {
    const pp = [...at, "ports", i];
    const m = c.map(p, pp);
    if (!m) return;
    const num = c.map(m.portNumber, [...pp, "portNumber"]);
    if (num) {
      c.oneOf(num.protocol, [...pp, "portNumber", "protocol"], PROTOCOLS);
      c.port(num.port, [...pp, "portNumber", "port"]);
    }
    const r = c.map(m.portRange, [...pp, "portRange"]);
    if (r) c.oneOf(r.protocol, [...pp, "portRange", "protocol"], PROTOCOLS);
    range(r, [...pp, "portRange"]);
    c.string(m.namedPort, [...pp, "namedPort"]);
  });
  c.list(rule.protocols, [...at, "protocols"])?.forEach((p, i) => {
    const pp = [...at, "protocols", i];
    const m = c.map(p, pp);
    if (!m) return;
    for (const key of ["tcp", "udp", "sctp"]) {
      const proto = c.map(m[key], [...pp, key]);
      const dest = proto && c.map(proto.destinationPort, [...pp, key, "destinationPort"]);
      if (!dest) continue;
      c.port(dest.number, [...pp, key, "destinationPort", "number"]);
      range(c.map(dest.range, [...pp, key, "destinationPort", "range"]), [
        ...pp,
        key,
        "destinationPort",
        "range",
      ]);
    }
    c.string(m.destinationNamedPort, [...pp, "destinationNamedPort"]);
  });
}

/** Used by the control plane: the decoded pod spec type (validated above). */
export type { PodSpec };
