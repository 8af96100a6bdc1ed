/**
 * The kind registry: for each kind podnet reads, the apiVersions the API server serves for it, its
 * scope, its name rule and its validator (one file per kind group under validate/), plus the
 * apiVersions Kubernetes has removed.
 */
import { type Check, nearest, type Rec } from "./check.ts";
import type { Inventory } from "./decode.ts";
import { validateAdminPolicy } from "./validate/admin.ts";
import { validateIPPool } from "./validate/calico.ts";
import {
  validateGateway,
  validateGatewayClass,
  validateHTTPRoute,
  validateReferenceGrant,
} from "./validate/gateway.ts";
import { validateIngress, validateIngressClass, validateRoute } from "./validate/ingress.ts";
import { validateNode } from "./validate/nodes.ts";
import {
  validateAppsWorkload,
  validateCronJob,
  validateJob,
  validatePod,
  validateRC,
} from "./validate/pods.ts";
import { validateNetworkPolicy } from "./validate/policy.ts";
import { validateEndpointSlice, validateEndpoints, validateService } from "./validate/services.ts";

/** The Inventory list a kind's objects go to. */
export type Bucket = Exclude<keyof Inventory, "config" | "configOrigin">;

export interface KindInfo {
  bucket: Bucket;
  versions: readonly string[];
  /** apiVersions that once served this kind and no longer do, with the one to use instead. */
  namespaced: boolean;
  /**
   * The rule for names: most kinds use DNS-1123 subdomains; Namespaces use DNS-1123 labels and
   * Services DNS-1035 labels (a letter first).
   */
  nameRule?: "dns1123Label" | "dns1035Label";
  /** The object's top-level fields besides apiVersion, kind and metadata (default: spec, status). */
  fields?: readonly string[];
  validate?: (c: Check, obj: Rec) => void;
}

export const PODNET_API = "podnet.dev/v1alpha1";

export const KINDS: Record<string, KindInfo> = {
  Namespace: { bucket: "namespaces", versions: ["v1"], namespaced: false, nameRule: "dns1123Label" },
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
    nameRule: "dns1035Label",
    validate: validateService,
  },
  Endpoints: {
    bucket: "endpoints",
    versions: ["v1"],
    namespaced: true,
    fields: ["subsets"],
    validate: validateEndpoints,
  },
  EndpointSlice: {
    bucket: "endpointSlices",
    versions: ["discovery.k8s.io/v1"],
    namespaced: true,
    fields: ["addressType", "endpoints", "ports"],
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
    fields: ["spec"],
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
  // Calico's IP pools: the CRD calico-node reads, and the same spec served by Calico's API server.
  IPPool: {
    bucket: "ipPools",
    versions: ["crd.projectcalico.org/v1", "projectcalico.org/v3"],
    namespaced: false,
    fields: ["spec"],
    validate: validateIPPool,
  },
  // Gateway API (kubernetes-sigs/gateway-api config/crd/standard): the CRDs serve v1 and v1beta1.
  GatewayClass: {
    bucket: "gatewayClasses",
    versions: ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"],
    namespaced: false,
    validate: validateGatewayClass,
  },
  Gateway: {
    bucket: "gateways",
    versions: ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"],
    namespaced: true,
    validate: validateGateway,
  },
  HTTPRoute: {
    bucket: "httpRoutes",
    versions: ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"],
    namespaced: true,
    validate: validateHTTPRoute,
  },
  ReferenceGrant: {
    bucket: "referenceGrants",
    versions: ["gateway.networking.k8s.io/v1beta1", "gateway.networking.k8s.io/v1"],
    namespaced: true,
    fields: ["spec"],
    validate: validateReferenceGrant,
  },
};

/**
 * `record[key]` when `key` is the record's own property, else undefined. The tables here are
 * looked up by a manifest's `kind` and `apiVersion`: a plain index would find `Object.prototype`'s
 * `constructor` or `toString` for `kind: constructor`.
 */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The KindInfo of a kind podnet reads, or undefined (see `own`). */
export function kindInfo(kind: string): KindInfo | undefined {
  return own(KINDS, kind);
}

/** apiVersions removed from Kubernetes, with the served replacement. */
export const REMOVED_VERSIONS: Record<string, string> = {
  "extensions/v1beta1": "apps/v1 (workloads) or networking.k8s.io/v1 (Ingress, NetworkPolicy)",
  "apps/v1beta1": "apps/v1",
  "apps/v1beta2": "apps/v1",
  "batch/v1beta1": "batch/v1",
  "discovery.k8s.io/v1beta1": "discovery.k8s.io/v1",
  "networking.k8s.io/v1beta1": "networking.k8s.io/v1",
};

/**
 * Kinds of other network plugins and meshes that allow or deny connections but that podnet does
 * not evaluate, by API group. Their objects are counted and named in one warning (connections
 * they deny are shown as allowed) instead of the generic skipped-kind one. Calico's
 * `projectcalico.org/v3` NetworkPolicy shares its kind name with networking.k8s.io's: the group
 * tells them apart.
 */
const UNEVALUATED_POLICY_KINDS: Record<string, readonly string[]> = {
  "cilium.io": ["CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"],
  "projectcalico.org": [
    "NetworkPolicy",
    "GlobalNetworkPolicy",
    "StagedNetworkPolicy",
    "StagedGlobalNetworkPolicy",
    "StagedKubernetesNetworkPolicy",
  ],
  "crd.projectcalico.org": [
    "NetworkPolicy",
    "GlobalNetworkPolicy",
    "StagedNetworkPolicy",
    "StagedGlobalNetworkPolicy",
    "StagedKubernetesNetworkPolicy",
  ],
  "crd.antrea.io": ["NetworkPolicy", "ClusterNetworkPolicy"],
  "security.istio.io": ["AuthorizationPolicy"],
  "policy.linkerd.io": ["AuthorizationPolicy", "ServerAuthorization"],
  "k8s.ovn.org": ["EgressFirewall"],
  "network.openshift.io": ["EgressNetworkPolicy"],
  "networking.gke.io": ["FQDNNetworkPolicy"],
};

/**
 * `Kind (group)` when `apiVersion`/`kind` name a policy kind podnet does not evaluate (see
 * UNEVALUATED_POLICY_KINDS), else undefined.
 */
export function unevaluatedPolicyKind(apiVersion: string, kind: string): string | undefined {
  const slash = apiVersion.indexOf("/");
  if (slash < 0) return undefined;
  const group = apiVersion.slice(0, slash);
  return own(UNEVALUATED_POLICY_KINDS, group)?.includes(kind) ? `${kind} (${group})` : undefined;
}

/**
 * Every kind the API server serves in its built-in groups (Kubernetes 1.34, all versions, plus the
 * admin-tier CRDs podnet reads), by API group ("" is the core group of `apiVersion: v1`). A kind
 * of one of these groups that is not listed does not exist: `kubectl apply` refuses it with "no
 * matches for kind", and so does podnet (`unknownBuiltinKind`). Kinds of other groups are custom
 * resources podnet cannot know, and are skipped. podnet's own kinds (KINDS) are added below.
 */
const BUILTIN_GROUP_KINDS: Record<string, readonly string[]> = {
  "": [
    "Binding",
    "ComponentStatus",
    "ConfigMap",
    "Endpoints",
    "Event",
    "LimitRange",
    "List",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "ResourceQuota",
    "Secret",
    "Service",
    "ServiceAccount",
  ],
  apps: ["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"],
  batch: ["CronJob", "Job"],
  "networking.k8s.io": ["Ingress", "IngressClass", "IPAddress", "NetworkPolicy", "ServiceCIDR"],
  "discovery.k8s.io": ["EndpointSlice"],
  policy: ["Eviction", "PodDisruptionBudget", "PodSecurityPolicy"],
  "rbac.authorization.k8s.io": ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
  "storage.k8s.io": [
    "CSIDriver",
    "CSINode",
    "CSIStorageCapacity",
    "StorageClass",
    "VolumeAttachment",
    "VolumeAttributesClass",
  ],
  autoscaling: ["HorizontalPodAutoscaler", "Scale"],
  "apiextensions.k8s.io": ["CustomResourceDefinition"],
  "admissionregistration.k8s.io": [
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
  ],
  "apiregistration.k8s.io": ["APIService"],
  "coordination.k8s.io": ["Lease", "LeaseCandidate"],
  "certificates.k8s.io": ["CertificateSigningRequest", "ClusterTrustBundle", "PodCertificateRequest"],
  "node.k8s.io": ["RuntimeClass"],
  "scheduling.k8s.io": ["PriorityClass"],
  "events.k8s.io": ["Event"],
  "flowcontrol.apiserver.k8s.io": ["FlowSchema", "PriorityLevelConfiguration"],
  "authentication.k8s.io": ["SelfSubjectReview", "TokenRequest", "TokenReview"],
  "authorization.k8s.io": [
    "LocalSubjectAccessReview",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SubjectAccessReview",
  ],
  "resource.k8s.io": [
    "DeviceClass",
    "DeviceTaintRule",
    "ResourceClaim",
    "ResourceClaimTemplate",
    "ResourceSlice",
  ],
  "internal.apiserver.k8s.io": ["StorageVersion"],
  "storagemigration.k8s.io": ["StorageVersionMigration"],
  "policy.networking.k8s.io": [],
};

/** The API group of an apiVersion: `apps` of `apps/v1`, "" of `v1`. */
function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/**
 * The kinds Calico's CustomResourceDefinitions (`crd.projectcalico.org/v1`, libcalico-go's
 * `config/crd/`) and its API server (`projectcalico.org/v3`) define. These groups are custom
 * resources, installed with Calico: a newer Calico may define kinds not listed here, so a kind
 * missing from the list is refused only when it is a near miss of a listed one (`kind: IPPools`,
 * `kind: IPpool`), which no Calico release defines; any other is skipped like every custom kind.
 */
const CALICO_KINDS: readonly string[] = [
  "BGPConfiguration",
  "BGPFilter",
  "BGPPeer",
  "BlockAffinity",
  "CalicoNodeStatus",
  "ClusterInformation",
  "FelixConfiguration",
  "GlobalNetworkPolicy",
  "GlobalNetworkSet",
  "HostEndpoint",
  "IPAMBlock",
  "IPAMConfig",
  "IPAMConfiguration",
  "IPAMHandle",
  "IPPool",
  "IPReservation",
  "KubeControllersConfiguration",
  "NetworkPolicy",
  "NetworkSet",
  "Profile",
  "QoSPolicy",
  "StagedGlobalNetworkPolicy",
  "StagedKubernetesNetworkPolicy",
  "StagedNetworkPolicy",
  "Tier",
];

/** The kinds of the Gateway API's CRDs (standard and experimental channels). */
const GATEWAY_KINDS: readonly string[] = [
  "BackendLBPolicy",
  "BackendTLSPolicy",
  "GRPCRoute",
  "Gateway",
  "GatewayClass",
  "HTTPRoute",
  "ListenerSet",
  "ReferenceGrant",
  "TCPRoute",
  "TLSRoute",
  "UDPRoute",
  "XBackendTrafficPolicy",
  "XListenerSet",
  "XMesh",
];

const CUSTOM_GROUP_KINDS: Record<string, readonly string[]> = {
  "gateway.networking.k8s.io": GATEWAY_KINDS,
  "crd.projectcalico.org": CALICO_KINDS,
  "projectcalico.org": CALICO_KINDS,
};

let knownByGroup: Map<string, Set<string>> | undefined;

/** BUILTIN_GROUP_KINDS with the kinds of KINDS added (built once, on first use). */
function builtinKinds(): Map<string, Set<string>> {
  if (knownByGroup) return knownByGroup;
  knownByGroup = new Map();
  for (const [group, kinds] of Object.entries(BUILTIN_GROUP_KINDS)) knownByGroup.set(group, new Set(kinds));
  for (const [kind, info] of Object.entries(KINDS))
    for (const v of info.versions) knownByGroup.get(groupOf(v))?.add(kind);
  return knownByGroup;
}

/**
 * When `kind` is not a kind of `apiVersion`'s group although podnet knows every kind of that group
 * (a built-in group, see BUILTIN_GROUP_KINDS): the group's name ("core" for v1) and the nearest
 * kind of it (by edit distance, case-insensitive; undefined when none is close). For Calico's
 * groups (CUSTOM_GROUP_KINDS) only a near miss of one of its kinds, with that kind. Undefined when
 * the kind exists there or the group is a custom one podnet does not know.
 */
export function unknownBuiltinKind(
  apiVersion: string,
  kind: string,
): { group: string; nearest: string | undefined } | undefined {
  const group = groupOf(apiVersion);
  const kinds = builtinKinds().get(group);
  if (kinds)
    return kinds.has(kind)
      ? undefined
      : { group: group === "" ? "core" : group, nearest: nearest(kind, kinds) };
  const custom = own(CUSTOM_GROUP_KINDS, group);
  if (!custom || custom.includes(kind)) return undefined;
  const near = nearest(kind, custom);
  return near ? { group, nearest: near } : undefined;
}
