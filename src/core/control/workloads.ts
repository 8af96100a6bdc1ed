/**
 * Workload controllers: what the Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob and
 * ReplicationController controllers would create from the manifests.
 *
 * What exists is honoured: a ReplicaSet whose controller ownerReference names a Deployment is that
 * Deployment's (no new one is made); pods whose controller ownerReference names a workload count
 * towards its replicas, and only the missing ones are created. Pods are never deleted and bare pods
 * are never adopted (a live cluster's dump always carries ownerReferences).
 *
 * Created pods share their template's nested spec objects (containers, ports…): the core never mutates
 * a pod spec after creation except `nodeName`, which each pod owns. Pods without labels of their own
 * share one frozen copy of their template's labels, and one frozen ownerReferences list per workload.
 * That keeps 150,000 pods cheap.
 */
import type { Diagnostics } from "../diagnostics.ts";
import type { Entry } from "../manifests/decode.ts";
import type {
  CronJob,
  KubeObject,
  LabelSelector,
  Labels,
  OwnerReference,
  Pod,
  PodSpec,
  PodTemplateSpec,
  Toleration,
  Workload,
} from "../model/k8s.ts";
import { objectRef } from "../model/k8s.ts";
import { nameSuffix, templateHash, uidFor } from "./names.ts";
import { CREATED_POD_STATUS, isTerminal } from "./pod-ipam.ts";
import { DAEMONSET_TOLERATIONS, nodeMismatch } from "./scheduler.ts";
import type { NodeState } from "./state.ts";

/** Minutes since the epoch of 2026-01-01T00:00:00Z: the instant CronJobs are taken to have fired at. */
export const CRONJOB_REFERENCE_MINUTE = 29453760;

export interface WorkloadResult {
  /** Given pods followed by created ones, in a deterministic order. */
  pods: Pod[];
  /** Given workloads, plus the ReplicaSets and Jobs their controllers created. */
  workloads: Workload[];
  /** Every object the controllers created (ReplicaSets, Jobs, pods), as opposed to given ones. */
  generated: Set<KubeObject>;
}

export function ownerKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ""}/${name}`;
}

export function controllerRef(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((o) => o.controller === true);
}

export function expandWorkloads(args: {
  workloads: readonly Entry<Workload | CronJob>[];
  pods: readonly Entry<Pod>[];
  nodes: readonly NodeState[];
  diags: Diagnostics;
}): WorkloadResult {
  const { nodes } = args;
  const given = args.workloads.map((e) => e.obj as Workload);
  for (const w of given) w.metadata.uid ??= uidFor(`${w.kind}/${w.metadata.namespace}/${w.metadata.name}`);
  const pods: Pod[] = args.pods.map((e) => e.obj);
  for (const p of pods) p.metadata.uid ??= uidFor(`Pod/${p.metadata.namespace}/${p.metadata.name}`);

  // Pods (and ReplicaSets/Jobs) by the workload that controls them.
  const owned = new Map<string, KubeObject[]>();
  const addOwned = (o: KubeObject) => {
    const ref = controllerRef(o);
    if (!ref) return;
    const key = ownerKey(ref.kind, o.metadata.namespace, ref.name);
    const list = owned.get(key);
    if (list) list.push(o);
    else owned.set(key, [o]);
  };
  for (const p of pods) addOwned(p);
  for (const w of given) addOwned(w);
  const ownedBy = (w: KubeObject) => owned.get(ownerKey(w.kind, w.metadata.namespace, w.metadata.name)) ?? [];
  // Pod names taken, per namespace (no `namespace/name` string is built per pod).
  const podNames = new Map<string | undefined, Set<string>>();
  const namesIn = (ns: string | undefined): Set<string> => {
    let set = podNames.get(ns);
    if (!set) {
      set = new Set();
      podNames.set(ns, set);
    }
    return set;
  };
  for (const p of pods) namesIn(p.metadata.namespace).add(p.metadata.name);

  const workloads: Workload[] = [...given];
  const byKind = (k: string) => given.filter((w) => w.kind === k);

  // Deployments → ReplicaSets.
  for (const d of byKind("Deployment")) {
    if (ownedBy(d).some((o) => o.kind === "ReplicaSet")) continue;
    const rs = replicaSetFor(d);
    workloads.push(rs);
  }
  // CronJobs → one Job each, as if the schedule had fired at the reference instant.
  for (const cj of byKind("CronJob") as unknown as CronJob[]) {
    if (cj.spec.suspend || ownedBy(cj).some((o) => o.kind === "Job")) continue;
    workloads.push(jobFor(cj));
  }

  const created: Pod[] = [];
  // The generateName and hash seed of the owner's last created pod: pods are created owner by
  // owner, so a ReplicaSet's 30 pods share one prefix string rather than building one each.
  let lastOwner: Workload | undefined;
  let lastPrefix: string | undefined;
  let generateName = "";
  let seed = "";
  const createPod = (owner: Workload, tmpl: PodTemplateSpec, opts: PodOptions) => {
    const ns = owner.metadata.namespace;
    const taken = namesIn(ns);
    let name = opts.name;
    if (!name) {
      // generateName: `<owner>-` plus 5 characters; skip names already taken.
      if (owner !== lastOwner || opts.prefix !== lastPrefix) {
        lastOwner = owner;
        lastPrefix = opts.prefix;
        generateName = `${opts.prefix ?? owner.metadata.name}-`;
        seed = `${ns}/${owner.metadata.name}`;
      }
      for (let n = opts.seedIndex ?? 0; ; n++) {
        // Joined rather than concatenated: `+` makes a rope that every later comparison of two
        // clusters' pod names (diff, sorting) must first flatten, a tenth of a policy diff (issue 17).
        name = [generateName, nameSuffix(seed, n)].join("");
        if (!taken.has(name)) break;
      }
    }
    taken.add(name);
    created.push(podFromTemplate(owner, tmpl, name, opts.name ? undefined : generateName, opts));
  };

  for (const w of workloads) {
    switch (w.kind) {
      case "ReplicaSet":
      case "ReplicationController": {
        const tmpl = w.spec.template!;
        if (w.kind === "ReplicationController") w.spec.selector ??= { ...tmpl.metadata?.labels };
        const want = w.spec.replicas ?? 1;
        w.spec.replicas = want;
        const have = ownedBy(w).filter((o) => o.kind === "Pod" && !isTerminal(o as Pod)).length;
        for (let i = 0; i < want - have; i++) createPod(w, tmpl, { seedIndex: i * 7919 });
        break;
      }
      case "StatefulSet": {
        const tmpl = w.spec.template!;
        const want = w.spec.replicas ?? 1;
        w.spec.replicas = want;
        const start = Number((w.spec.ordinals as { start?: number } | undefined)?.start ?? 0);
        const revision = `${w.metadata.name}-${templateHash(tmpl)}`;
        for (let i = start; i < start + want; i++) {
          const name = `${w.metadata.name}-${i}`;
          if (namesIn(w.metadata.namespace).has(name)) continue;
          createPod(w, tmpl, {
            name,
            labels: {
              "apps.kubernetes.io/pod-index": String(i),
              "controller-revision-hash": revision,
              "statefulset.kubernetes.io/pod-name": name,
            },
            hostname: name,
            subdomain: typeof w.spec.serviceName === "string" ? w.spec.serviceName : undefined,
          });
        }
        break;
      }
      case "DaemonSet": {
        const tmpl = w.spec.template!;
        const covered = new Set(ownedBy(w).map((p) => (p as Pod).spec?.nodeName));
        const tolerations: Toleration[] = [...DAEMONSET_TOLERATIONS];
        if (tmpl.spec.hostNetwork)
          tolerations.push({
            key: "node.kubernetes.io/network-unavailable",
            operator: "Exists",
            effect: "NoSchedule",
          });
        const hash = templateHash(tmpl);
        nodes.forEach((node, i) => {
          if (covered.has(node.name) || nodeMismatch(tmpl.spec, node, tolerations)) return;
          createPod(w, tmpl, {
            seedIndex: i * 7919,
            labels: { "controller-revision-hash": hash, "pod-template-generation": "1" },
            nodeName: node.name,
            tolerations,
          });
        });
        break;
      }
      case "Job":
        expandJob(w, ownedBy(w) as Pod[], createPod);
        break;
    }
  }
  const generated = new Set<KubeObject>([...created, ...workloads.slice(given.length)]);
  return { pods: [...pods, ...created], workloads, generated };
}

interface PodOptions {
  name?: string;
  prefix?: string;
  seedIndex?: number;
  labels?: Labels;
  annotations?: Record<string, string>;
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  tolerations?: Toleration[];
}

/**
 * The labels of the pods a template makes without labels of their own (a ReplicaSet's, a Job's): one
 * frozen copy per template, shared by all of them, as their ownerReferences are. No stage writes a
 * pod's labels (a write would throw: test/control.test.ts); 150,000 pods then copy none.
 */
const TEMPLATE_LABELS = new WeakMap<PodTemplateSpec, Labels>();

function templateLabels(tmpl: PodTemplateSpec): Labels {
  let labels = TEMPLATE_LABELS.get(tmpl);
  if (!labels) {
    labels = Object.freeze({ ...tmpl.metadata?.labels });
    TEMPLATE_LABELS.set(tmpl, labels);
  }
  return labels;
}

/**
 * A pod as its controller creates it from `tmpl`. `generateName` is given for a generated name (the
 * string is shared by the owner's pods). The metadata is built in one literal per combination of
 * optional fields, so every created pod's metadata has one of four fixed shapes (spreading optional
 * parts into the literal made V8 build each object property by property). The status is the shared
 * frozen `CREATED_POD_STATUS`, replaced when the pod runs (`setRunning`).
 */
function podFromTemplate(
  owner: Workload,
  tmpl: PodTemplateSpec,
  name: string,
  generateName: string | undefined,
  opts: PodOptions,
): Pod {
  const labels = opts.labels ? { ...tmpl.metadata?.labels, ...opts.labels } : templateLabels(tmpl);
  const annotations =
    tmpl.metadata?.annotations || opts.annotations
      ? { ...tmpl.metadata?.annotations, ...opts.annotations }
      : undefined;
  const spec = copySpec(tmpl.spec);
  if (opts.nodeName) spec.nodeName = opts.nodeName;
  if (opts.hostname) spec.hostname ??= opts.hostname;
  if (opts.subdomain) spec.subdomain ??= opts.subdomain;
  if (opts.tolerations) spec.tolerations = [...(tmpl.spec.tolerations ?? []), ...opts.tolerations];
  const namespace = owner.metadata.namespace;
  const uid = uidFor(`Pod/${namespace}/${name}`);
  const ownerReferences = podOwnerRefs(owner);
  let metadata: Pod["metadata"];
  if (generateName === undefined)
    metadata = annotations
      ? { name, namespace, uid, labels, annotations, ownerReferences }
      : { name, namespace, uid, labels, ownerReferences };
  else
    metadata = annotations
      ? { name, namespace, generateName, uid, labels, annotations, ownerReferences }
      : { name, namespace, generateName, uid, labels, ownerReferences };
  return { apiVersion: "v1", kind: "Pod", metadata, spec, status: CREATED_POD_STATUS };
}

/**
 * A created pod's own spec: a shallow copy of its template's (same keys, same order), which the
 * scheduler then gives `nodeName`. Copied with `Object.assign` onto an empty literal rather than
 * spread: V8 gives an object spread exactly its source's fields, and the first property added to
 * such a clone cost about 180 bytes more per object (measured on node 20: 216 against 54 bytes for a
 * one-field spec with `nodeName` added; 440 against 120 with eight fields), 27 MB at 150,000 pods
 * for the garbage collector to copy. A spec with an own `__proto__` key (JSON can give one) is
 * spread, as assigning that key would set the copy's prototype instead.
 */
function copySpec(spec: PodSpec): PodSpec {
  if (Object.hasOwn(spec, "__proto__")) return { ...spec };
  return Object.assign({}, spec);
}

/**
 * The ownerReferences of the pods a workload creates: one frozen list shared by all of them (no stage
 * changes a pod's ownerReferences), as the running pods share their status conditions.
 */
const POD_OWNER_REFS = new WeakMap<Workload, OwnerReference[]>();

function podOwnerRefs(owner: Workload): OwnerReference[] {
  let refs = POD_OWNER_REFS.get(owner);
  if (!refs) {
    refs = Object.freeze([Object.freeze(ownerRef(owner))]) as unknown as OwnerReference[];
    POD_OWNER_REFS.set(owner, refs);
  }
  return refs;
}

function ownerRef(w: KubeObject): OwnerReference {
  return {
    apiVersion: w.apiVersion,
    kind: w.kind,
    name: w.metadata.name,
    uid: w.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function replicaSetFor(d: Workload): Workload {
  const tmpl = d.spec.template!;
  const hash = templateHash(tmpl);
  const name = `${d.metadata.name}-${hash}`;
  const sel = d.spec.selector as LabelSelector;
  const replicas = d.spec.replicas ?? 1;
  d.spec.replicas = replicas;
  const labels = { ...tmpl.metadata?.labels, "pod-template-hash": hash };
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      namespace: d.metadata.namespace,
      uid: uidFor(`ReplicaSet/${d.metadata.namespace}/${name}`),
      labels,
      annotations: {
        "deployment.kubernetes.io/desired-replicas": String(replicas),
        "deployment.kubernetes.io/revision": "1",
      },
      ownerReferences: [ownerRef(d)],
    },
    spec: {
      replicas,
      selector: { ...sel, matchLabels: { ...sel.matchLabels, "pod-template-hash": hash } },
      template: { metadata: { ...tmpl.metadata, labels }, spec: tmpl.spec },
    },
  };
}

function jobFor(cj: CronJob): Workload {
  const name = `${cj.metadata.name}-${CRONJOB_REFERENCE_MINUTE}`;
  const jt = cj.spec.jobTemplate;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: cj.metadata.namespace,
      uid: uidFor(`Job/${cj.metadata.namespace}/${name}`),
      labels: { ...jt.metadata?.labels },
      annotations: {
        "batch.kubernetes.io/cronjob-scheduled-timestamp": new Date(
          CRONJOB_REFERENCE_MINUTE * 60_000,
        ).toISOString(),
      },
      ownerReferences: [ownerRef(cj)],
    },
    spec: { ...jt.spec },
  };
}

function expandJob(
  job: Workload,
  owned: Pod[],
  createPod: (w: Workload, t: PodTemplateSpec, o: PodOptions) => void,
): void {
  const spec = job.spec as Workload["spec"] & {
    parallelism?: number;
    completions?: number;
    completionMode?: string;
    suspend?: boolean;
    manualSelector?: boolean;
  };
  const uid = job.metadata.uid!;
  const jobLabels: Labels = {
    "batch.kubernetes.io/controller-uid": uid,
    "batch.kubernetes.io/job-name": job.metadata.name,
    "controller-uid": uid,
    "job-name": job.metadata.name,
  };
  const tmpl = spec.template!;
  // What the API server does on create: the template carries the job labels, the selector matches uid.
  if (!spec.manualSelector) {
    spec.selector ??= { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
    spec.template = {
      ...tmpl,
      metadata: { ...tmpl.metadata, labels: { ...tmpl.metadata?.labels, ...jobLabels } },
    };
  }
  spec.parallelism ??= 1;
  const status = (job.status ?? {}) as {
    succeeded?: number;
    conditions?: { type: string; status: string }[];
  };
  const finished = status.conditions?.some(
    (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
  );
  if (spec.suspend || finished) return;
  const succeeded = status.succeeded ?? 0;
  const want =
    spec.completions === undefined
      ? spec.parallelism
      : Math.min(spec.parallelism, Math.max(0, spec.completions - succeeded));
  const active = owned.filter((p) => p.kind === "Pod" && !isTerminal(p));
  const template = spec.template!;
  if (spec.completionMode === "Indexed") {
    const taken = new Set(
      owned.map((p) => p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"]),
    );
    let made = active.length;
    for (let index = 0; made < want && index < (spec.completions ?? want); index++) {
      if (taken.has(String(index))) continue;
      made++;
      createPod(job, template, {
        prefix: `${job.metadata.name}-${index}`,
        seedIndex: index,
        labels: { "batch.kubernetes.io/job-completion-index": String(index) },
        annotations: { "batch.kubernetes.io/job-completion-index": String(index) },
        hostname: `${job.metadata.name}-${index}`,
      });
    }
    return;
  }
  for (let i = 0; i < want - active.length; i++) createPod(job, template, { seedIndex: i * 7919 });
}

/** Names of nodes that pods (and pod templates) ask for by `spec.nodeName`, with where they ask. */
export function referencedNodeNames(
  pods: readonly Entry<Pod>[],
  workloads: readonly Entry<Workload | CronJob>[],
): Map<string, { object: string; origin: Entry["origin"] }> {
  const out = new Map<string, { object: string; origin: Entry["origin"] }>();
  for (const { obj, origin } of pods) {
    const n = obj.spec.nodeName;
    if (n && !out.has(n)) out.set(n, { object: objectRef(obj), origin });
  }
  for (const { obj, origin } of workloads) {
    const spec = obj.kind === "CronJob" ? (obj as CronJob).spec.jobTemplate.spec : (obj as Workload).spec;
    const n = spec.template?.spec.nodeName;
    if (n && !out.has(n)) out.set(n, { object: objectRef(obj), origin });
  }
  return out;
}
