/**
 * The decode loop: raw objects to a validated inventory. For each object it finds the kind in the
 * registry (kinds.ts: served apiVersions, scope, name rule, validator under validate/), checks the
 * metadata and runs the kind's validator: the rules the API server would reject an object for.
 * An object with an error is reported and left out, so later stages only ever see well-formed
 * objects. Unknown kinds are skipped with one warning per kind. Defaulting the API server does on
 * create (namespace, protocol, targetPort, types) is applied too, so every later stage can rely on
 * those fields.
 */
import type { Diagnostics, Origin } from "../diagnostics.ts";
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
import { Check, dns1035LabelError, dns1123LabelError, dns1123SubdomainError, type Rec } from "./check.ts";
import {
  type KindInfo,
  kindInfo,
  own,
  PODNET_API,
  REMOVED_VERSIONS,
  unevaluatedPolicyKind,
  unknownBuiltinKind,
} from "./kinds.ts";
import type { RawObject } from "./parse.ts";
import { OBJECT_META_FIELDS } from "./validate/shared.ts";

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
  /** Calico `IPPool`s (crd.projectcalico.org/v1, projectcalico.org/v3), read by the calico network plugin. */
  ipPools: Entry[];
  /** Gateway API (gateway.networking.k8s.io): GatewayClasses, Gateways, HTTPRoutes, ReferenceGrants. */
  gatewayClasses: Entry[];
  gateways: Entry[];
  httpRoutes: Entry[];
  referenceGrants: Entry[];
}

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
    ipPools: [],
    gatewayClasses: [],
    gateways: [],
    httpRoutes: [],
    referenceGrants: [],
  };
}

/** How objects are read, as `kubectl apply` flags would have it. */
export interface DecodeOptions {
  /**
   * The namespace given with `-n`: objects of namespaced kinds that name none are placed there,
   * as `kubectl apply -n NS` places them (default: "default"). Objects that name a namespace keep it.
   */
  namespace?: string;
}

/**
 * Validates raw objects into an Inventory. Every problem is recorded in `diags` with its position;
 * objects with errors are left out. See the module comment for what is checked and defaulted.
 */
export function decodeObjects(
  raws: readonly RawObject[],
  diags: Diagnostics,
  opts: DecodeOptions = {},
): Inventory {
  const defaultNamespace = opts.namespace || "default";
  const inv = emptyInventory();
  const seen = new Map<string, Origin>();
  const skipped = new Map<string, { count: number; origin: Origin }>();
  const unevaluated = new Map<string, number>();
  let unevaluatedOrigin: Origin | undefined;
  const generated = { n: 0 };

  for (const { value: obj, origin } of raws) {
    const kind = obj.kind;
    const apiVersion = obj.apiVersion;
    const meta0 = obj.metadata;
    if (
      typeof kind === "string" &&
      kindInfo(kind)?.namespaced &&
      meta0 &&
      typeof meta0 === "object" &&
      !Array.isArray(meta0)
    ) {
      // Defaulted first so that every message names the object as the API server would: `Pod default/p`.
      const m = meta0 as Rec;
      if (m.namespace === undefined || m.namespace === null || m.namespace === "")
        m.namespace = defaultNamespace;
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

    const policyKind = unevaluatedPolicyKind(apiVersion, kind);
    if (policyKind) {
      unevaluated.set(policyKind, (unevaluated.get(policyKind) ?? 0) + 1);
      unevaluatedOrigin ??= origin;
      continue;
    }
    const info = kindInfo(kind);
    const unknown = info ? undefined : unknownBuiltinKind(apiVersion, kind);
    if (unknown) {
      // kubectl: `no matches for kind "Pood" in version "v1"`; the API server has no such kind.
      c.error(
        ["kind"],
        "unknown-kind",
        `no kind "${kind}" in ${unknown.group === "core" ? "the core API group" : `API group ${unknown.group}`} (apiVersion ${apiVersion}); kubectl refuses it ("no matches for kind")`,
        unknown.nearest
          ? `did you mean kind: ${unknown.nearest}?`
          : "check the kind's spelling and its apiVersion",
      );
      continue;
    }
    if (!info) {
      const s = skipped.get(kind);
      if (s) s.count++;
      else skipped.set(kind, { count: 1, origin });
      continue;
    }
    if (!info.versions.includes(apiVersion)) {
      const removed = own(REMOVED_VERSIONS, apiVersion);
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
      if (!c.hasError(["metadata"]))
        c.error(["metadata"], "missing-field", "metadata is required", "add metadata with at least a name");
      continue;
    }
    validateMeta(c, meta, info, generated, defaultNamespace);
    c.fields(meta, ["metadata"], OBJECT_META_FIELDS, "metadata");
    c.fields(
      obj,
      [],
      ["apiVersion", "kind", "metadata", ...(info.fields ?? ["spec", "status"])],
      `a ${kind}`,
    );
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
  if (unevaluatedOrigin) {
    const n = [...unevaluated.values()].reduce((a, b) => a + b, 0);
    const kinds = [...unevaluated]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, count]) => `${count} ${k}`)
      .join(", ");
    diags.warn({
      code: "unevaluated-policy",
      message: `${n} polic${n === 1 ? "y" : "ies"} of kinds podnet does not evaluate (${kinds}); connections they deny are shown as allowed`,
      hint: "podnet evaluates NetworkPolicy and the admin tiers (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy) only",
      origin: unevaluatedOrigin,
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

function validateMeta(
  c: Check,
  meta: Rec,
  info: KindInfo,
  generated: { n: number },
  defaultNamespace: string,
): void {
  let name = c.string(meta.name, ["metadata", "name"]);
  if (name === undefined) {
    const gen = c.string(meta.generateName, ["metadata", "generateName"]);
    if (gen) {
      // The API server appends 5 random characters; podnet appends a deterministic counter instead.
      name = `${gen}${(generated.n++).toString(36).padStart(5, "0")}`;
      meta.name = name;
    } else {
      if (!c.hasError(["metadata", "name"]))
        c.error(["metadata", "name"], "missing-field", "a name is required", "give the object a name");
      return;
    }
  }
  const nameErr =
    info.nameRule === "dns1123Label"
      ? dns1123LabelError(name)
      : info.nameRule === "dns1035Label"
        ? dns1035LabelError(name)
        : dns1123SubdomainError(name);
  if (nameErr) c.error(["metadata", "name"], "invalid-name", nameErr, "rename the object");

  if (info.namespaced) {
    if (meta.namespace === undefined || meta.namespace === null || meta.namespace === "")
      meta.namespace = defaultNamespace;
    const ns = c.string(meta.namespace, ["metadata", "namespace"]);
    const nsErr = ns === undefined ? undefined : dns1123LabelError(ns);
    if (nsErr)
      c.error(["metadata", "namespace"], "invalid-name", nsErr, "namespace names are DNS-1123 labels");
  } else if (meta.namespace !== undefined) {
    // kubectl ignores a namespace on cluster-scoped objects; so does podnet.
    delete meta.namespace;
  }
  c.labels(meta.labels, ["metadata", "labels"]);
  // Annotations are a map of strings (ObjectMeta.Annotations): `enabled: true` unquoted fails to
  // decode ("cannot unmarshal bool into string"); a key with nothing after it is "".
  const annotations = c.map(meta.annotations, ["metadata", "annotations"]);
  if (annotations)
    for (const [k, v] of Object.entries(annotations)) {
      if (v === null) annotations[k] = "";
      else if (typeof v !== "string") {
        const at = ["metadata", "annotations", k];
        c.error(
          at,
          "wrong-type",
          `an annotation value must be a string, found ${c.describe(v, at)}`,
          typeof v === "object"
            ? "write the value as one string (e.g. a JSON text in quotes)"
            : c.quoteFix(v, at, k),
        );
      }
    }
  const owners = c.list(meta.ownerReferences, ["metadata", "ownerReferences"]);
  owners?.forEach((o, i) => {
    const at = ["metadata", "ownerReferences", i];
    const m = c.map(o, at);
    if (!m) return;
    c.required(c.string(m.kind, [...at, "kind"]), [...at, "kind"], "ownerReference kind");
    c.required(c.string(m.name, [...at, "name"]), [...at, "name"], "ownerReference name");
  });
}

/** Used by the control plane: the decoded pod spec type (validated in validate/pods.ts). */
export type { PodSpec };
