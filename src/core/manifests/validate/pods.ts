/**
 * Pods and the workloads that stamp them out (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
 * CronJob, ReplicationController): the pod spec fields podnet reads, as
 * `pkg/apis/core/validation` and `pkg/apis/apps|batch/validation` check them.
 */
import { formatPath } from "../../diagnostics.ts";
import { compileSelector, formatSelector } from "../../labels.ts";
import type { LabelSelector } from "../../model/k8s.ts";
import {
  type Check,
  dns1123LabelError,
  dns1123SubdomainError,
  labelKeyError,
  portNameError,
  type Rec,
} from "../check.ts";
import { checkSelector, OBJECT_META_FIELDS, validateConditions } from "./shared.ts";

export function validatePod(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.containers")) return;
  validatePodSpec(c, spec, ["spec"]);
  const status = c.map(obj.status, ["status"]);
  if (status) {
    c.ipAt(status, "podIP", ["status", "podIP"]);
    c.ipAt(status, "hostIP", ["status", "hostIP"]);
    for (const f of ["podIPs", "hostIPs"] as const) {
      c.list(status[f], ["status", f])?.forEach((p, i) => {
        const m = c.map(p, ["status", f, i]);
        if (m) c.ipAt(m, "ip", ["status", f, i, "ip"]);
      });
    }
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
  if (cfg) c.fields(cfg, [...at, "dnsConfig"], ["nameservers", "searches", "options"], "a pod's dnsConfig");
  const nameservers = c.list(cfg?.nameservers, [...at, "dnsConfig", "nameservers"], "string") ?? [];
  const nsAt = [...at, "dnsConfig", "nameservers"];
  if (policy === "None" && nameservers.length === 0 && !c.hasError(nsAt) && !c.hasError([...at, "dnsConfig"]))
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
  nameservers.forEach((_, i) => {
    c.ipAt(nameservers as unknown as Rec, i, [...at, "dnsConfig", "nameservers", i]);
  });
  const searches = c.list(cfg?.searches, [...at, "dnsConfig", "searches"], "string") ?? [];
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
    if (m) c.fields(m, [...at, "dnsConfig", "options", i], ["name", "value"], "a dnsConfig option");
    if (m)
      c.required(
        c.string(m.name, [...at, "dnsConfig", "options", i, "name"]),
        [...at, "dnsConfig", "options", i, "name"],
        "option name",
      );
    if (m?.value !== undefined) c.string(m.value, [...at, "dnsConfig", "options", i, "value"]);
  });
}

/** PodSpec's fields (k8s.io/api core/v1, Kubernetes 1.34). */
const POD_SPEC_FIELDS = [
  "volumes",
  "initContainers",
  "containers",
  "ephemeralContainers",
  "restartPolicy",
  "terminationGracePeriodSeconds",
  "activeDeadlineSeconds",
  "dnsPolicy",
  "nodeSelector",
  "serviceAccountName",
  "serviceAccount",
  "automountServiceAccountToken",
  "nodeName",
  "hostNetwork",
  "hostPID",
  "hostIPC",
  "shareProcessNamespace",
  "securityContext",
  "imagePullSecrets",
  "hostname",
  "subdomain",
  "affinity",
  "schedulerName",
  "tolerations",
  "hostAliases",
  "priorityClassName",
  "priority",
  "dnsConfig",
  "readinessGates",
  "runtimeClassName",
  "enableServiceLinks",
  "preemptionPolicy",
  "overhead",
  "topologySpreadConstraints",
  "setHostnameAsFQDN",
  "os",
  "hostUsers",
  "schedulingGates",
  "resourceClaims",
  "resources",
];

/** core/v1 Container's fields (Kubernetes 1.34); an ephemeral container adds targetContainerName. */
const CONTAINER_FIELDS = [
  "name",
  "image",
  "command",
  "args",
  "workingDir",
  "ports",
  "envFrom",
  "env",
  "resources",
  "resizePolicy",
  "restartPolicy",
  "restartPolicyRules",
  "volumeMounts",
  "volumeDevices",
  "livenessProbe",
  "readinessProbe",
  "startupProbe",
  "lifecycle",
  "terminationMessagePath",
  "terminationMessagePolicy",
  "imagePullPolicy",
  "securityContext",
  "stdin",
  "stdinOnce",
  "tty",
];
const EPHEMERAL_CONTAINER_FIELDS = [...CONTAINER_FIELDS, "targetContainerName"];

/** The spec fields of each workload kind (apps/v1, batch/v1, core/v1 types, Kubernetes 1.34). */
const WORKLOAD_SPEC_FIELDS: Record<string, readonly string[]> = {
  Deployment: [
    "replicas",
    "selector",
    "template",
    "strategy",
    "minReadySeconds",
    "revisionHistoryLimit",
    "paused",
    "progressDeadlineSeconds",
  ],
  ReplicaSet: ["replicas", "minReadySeconds", "selector", "template"],
  StatefulSet: [
    "replicas",
    "selector",
    "template",
    "volumeClaimTemplates",
    "serviceName",
    "podManagementPolicy",
    "updateStrategy",
    "revisionHistoryLimit",
    "minReadySeconds",
    "persistentVolumeClaimRetentionPolicy",
    "ordinals",
  ],
  DaemonSet: ["selector", "template", "updateStrategy", "minReadySeconds", "revisionHistoryLimit"],
  ReplicationController: ["replicas", "minReadySeconds", "selector", "template"],
};
const JOB_SPEC_FIELDS = [
  "parallelism",
  "completions",
  "activeDeadlineSeconds",
  "podFailurePolicy",
  "successPolicy",
  "backoffLimit",
  "backoffLimitPerIndex",
  "maxFailedIndexes",
  "selector",
  "manualSelector",
  "template",
  "ttlSecondsAfterFinished",
  "completionMode",
  "suspend",
  "podReplacementPolicy",
  "managedBy",
];
const CRONJOB_SPEC_FIELDS = [
  "schedule",
  "timeZone",
  "startingDeadlineSeconds",
  "concurrencyPolicy",
  "suspend",
  "jobTemplate",
  "successfulJobsHistoryLimit",
  "failedJobsHistoryLimit",
];

function validatePodSpec(c: Check, spec: Rec, at: (string | number)[]): void {
  c.fields(spec, at, POD_SPEC_FIELDS, "a pod's spec");
  const containers = c.list(spec.containers, [...at, "containers"]);
  // A containers field of the wrong type has its error already ("needs a container" would say it
  // twice); the rest of the spec is checked either way, so that every fault shows in one run.
  const wrongType = containers === undefined && spec.containers !== undefined && spec.containers !== null;
  if (!wrongType && (!containers || containers.length === 0)) {
    c.error(
      [...at, "containers"],
      "missing-field",
      "a pod needs at least one container",
      "add spec.containers",
    );
  }
  const containerNames = new Set<string>();
  const validateContainers = (list: unknown[], field: string) =>
    list.forEach((ct, i) => {
      const cp = [...at, field, i];
      const m = c.map(ct, cp);
      if (!m) return;
      c.fields(
        m,
        cp,
        field === "ephemeralContainers" ? EPHEMERAL_CONTAINER_FIELDS : CONTAINER_FIELDS,
        "a container",
      );
      // Port names are unique within one container's ports only (validateContainerPorts): two
      // containers may both name a port "http"; a Service's targetPort then finds the first.
      const portNames = new Set<string>();
      const name = c.string(m.name, [...cp, "name"]);
      if (c.required(name, [...cp, "name"], "container name")) {
        const err = dns1123LabelError(name);
        if (err) c.error([...cp, "name"], "invalid-name", err, "container names are DNS-1123 labels");
        else if (containerNames.has(name))
          c.error(
            [...cp, "name"],
            "duplicate-name",
            `container name "${name}" is used twice in this pod (containers and initContainers share names)`,
            "give each container a distinct name",
          );
        containerNames.add(name);
      }
      c.list(m.ports, [...cp, "ports"])?.forEach((p, j) => {
        const pp = [...cp, "ports", j];
        const pm = c.map(p, pp);
        if (!pm) return;
        c.fields(pm, pp, ["name", "hostPort", "containerPort", "protocol", "hostIP"], "a container port");
        if (c.required(pm.containerPort, [...pp, "containerPort"], "containerPort", undefined, pm)) {
          c.port(pm.containerPort, [...pp, "containerPort"], "containerPort");
        }
        if (pm.hostPort === 0 || pm.hostPort === null) delete pm.hostPort; // 0 is unset (HostPort != 0)
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
              `port name "${pname}" is used twice in this container`,
              "give each port a distinct name",
            );
          }
          portNames.add(pname);
        }
      });
    });
  if (containers) validateContainers(containers, "containers");
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
    if (m) validateToleration(c, m, tp);
  });
  const affinity = c.map(spec.affinity, [...at, "affinity"]);
  if (affinity) c.fields(affinity, [...at, "affinity"], AFFINITY_FIELDS, "a pod's affinity");
  const na = c.map(affinity?.nodeAffinity, [...at, "affinity", "nodeAffinity"]);
  if (na) c.fields(na, [...at, "affinity", "nodeAffinity"], NODE_AFFINITY_FIELDS, "a nodeAffinity");
  const reqPath = [...at, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"];
  const req = c.map(na?.requiredDuringSchedulingIgnoredDuringExecution, reqPath);
  if (req) c.fields(req, reqPath, ["nodeSelectorTerms"], "a NodeSelector");
  const terms = c.list(req?.nodeSelectorTerms, [...reqPath, "nodeSelectorTerms"]);
  if (req && (terms?.length ?? 0) === 0)
    c.error(
      [...reqPath, "nodeSelectorTerms"],
      "invalid-selector",
      "must have at least one node selector term",
      "add a term, or remove requiredDuringSchedulingIgnoredDuringExecution",
    );
  terms?.forEach((term, i) => {
    const tp = [...reqPath, "nodeSelectorTerms", i];
    const m = c.map(term, tp);
    if (!m) return;
    validateNodeSelectorTerm(c, m, tp);
  });
}

/** core/v1 Toleration's fields. */
const TOLERATION_FIELDS = ["key", "operator", "value", "effect", "tolerationSeconds"];
/** core/v1 Affinity's and NodeAffinity's fields. */
const AFFINITY_FIELDS = ["nodeAffinity", "podAffinity", "podAntiAffinity"];
const NODE_AFFINITY_FIELDS = [
  "requiredDuringSchedulingIgnoredDuringExecution",
  "preferredDuringSchedulingIgnoredDuringExecution",
];

/**
 * A toleration (`validateTolerations`): an empty operator is Equal and an empty effect matches every
 * effect; a key, when given, is a label name; an empty key needs operator Exists (it tolerates every
 * taint); Exists takes no value.
 */
function validateToleration(c: Check, m: Rec, tp: (string | number)[]): void {
  c.fields(m, tp, TOLERATION_FIELDS, "a toleration");
  const op =
    m.operator === "" ? undefined : c.oneOf(m.operator, [...tp, "operator"], ["Exists", "Equal"] as const);
  if (m.effect !== "")
    c.oneOf(m.effect, [...tp, "effect"], ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const);
  const key = c.string(m.key, [...tp, "key"]) ?? "";
  if (key !== "") {
    const err = labelKeyError(key);
    if (err) c.error([...tp, "key"], "invalid-name", err, "taint keys are label names");
  } else if (op === "Equal" || m.operator === undefined || m.operator === null || m.operator === "") {
    // (An unknown operator was reported above.)
    c.error(
      [...tp, "operator"],
      "invalid-value",
      "operator must be Exists when key is empty (which tolerates every taint)",
      "add the taint's key, or write operator: Exists",
    );
  }
  const value = c.string(m.value, [...tp, "value"]) ?? "";
  if (op === "Exists" && value !== "")
    c.error([...tp, "value"], "invalid-value", "value must be empty when operator is Exists", "remove value");
}

/**
 * A node selector term (`ValidateNodeSelectorTerm`): at least one requirement; matchExpressions as
 * `ValidateNodeSelectorRequirement` (a label-name key; In/NotIn need values, Exists/DoesNotExist
 * take none, Gt/Lt exactly one — not checked to be an integer: a value that is not one makes the
 * scheduler's requirement fail to parse, and the term matches no node, as podnet's scheduler does);
 * matchFields only `metadata.name` with In/NotIn and exactly one value.
 */
function validateNodeSelectorTerm(c: Check, m: Rec, tp: (string | number)[]): void {
  c.fields(m, tp, ["matchExpressions", "matchFields"], "a node selector term");
  const exprs = c.list(m.matchExpressions, [...tp, "matchExpressions"]) ?? [];
  const fields = c.list(m.matchFields, [...tp, "matchFields"]) ?? [];
  if (exprs.length === 0 && fields.length === 0)
    c.error(
      tp,
      "invalid-selector",
      "must have at least one node selector requirement",
      "add matchExpressions",
    );
  const ops = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] as const;
  exprs.forEach((r, j) => {
    const rp = [...tp, "matchExpressions", j];
    const rm = c.map(r, rp);
    if (!rm) return;
    c.fields(rm, rp, ["key", "operator", "values"], "a node selector requirement");
    const key = c.string(rm.key, [...rp, "key"]);
    if (c.required(key, [...rp, "key"], "key")) {
      const err = labelKeyError(key);
      if (err) c.error([...rp, "key"], "invalid-selector", err, "node label keys are label names");
    }
    const op = c.oneOf(rm.operator, [...rp, "operator"], ops);
    const values = stringValues(c, rm.values, [...rp, "values"]);
    const fail = (message: string, hint: string) =>
      c.error([...rp, "values"], "invalid-selector", message, hint);
    if ((op === "In" || op === "NotIn") && values.length === 0)
      fail(`values must be non-empty for ${op}`, "list at least one value");
    if ((op === "Exists" || op === "DoesNotExist") && values.length > 0)
      fail(`values may not be specified when operator is ${op}`, "remove values, or use In/NotIn");
    if ((op === "Gt" || op === "Lt") && values.length !== 1)
      fail(`${op} needs exactly one value`, 'write e.g. values: ["3"]');
  });
  fields.forEach((r, j) => {
    const rp = [...tp, "matchFields", j];
    const rm = c.map(r, rp);
    if (!rm) return;
    const key = c.string(rm.key, [...rp, "key"]);
    if (c.required(key, [...rp, "key"], "key") && key !== "metadata.name")
      c.error(
        [...rp, "key"],
        "invalid-selector",
        `"${key}" is not a valid field selector key`,
        "use metadata.name",
      );
    c.oneOf(rm.operator, [...rp, "operator"], ["In", "NotIn"] as const);
    if (stringValues(c, rm.values, [...rp, "values"]).length !== 1)
      c.error(
        [...rp, "values"],
        "invalid-selector",
        "a node field selector takes exactly one value",
        "list one node name",
      );
  });
}

/** A list of strings (requirement values): YAML 1.1 booleans and numbers are refused, as in labels. */
function stringValues(c: Check, v: unknown, at: (string | number)[]): string[] {
  const out: string[] = [];
  c.list(v, at, "string")?.forEach((x, i) => {
    // Kept in place (as "") after a type error, so the count checks do not report it twice.
    out.push(c.string(x, [...at, i]) ?? "");
  });
  return out;
}

function validateTemplate(c: Check, tmpl: unknown, at: (string | number)[]): Rec | undefined {
  const t = c.map(tmpl, at);
  if (!c.required(t, at, "a pod template", `add ${formatPath(at)} with metadata.labels and spec.containers`))
    return;
  c.fields(t, at, ["metadata", "spec"], "a pod template");
  const meta = c.map(t.metadata, [...at, "metadata"]);
  if (meta) c.fields(meta, [...at, "metadata"], OBJECT_META_FIELDS, "a pod template's metadata");
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
export function validateAppsWorkload(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.selector and spec.template")) return;
  c.fields(spec, ["spec"], WORKLOAD_SPEC_FIELDS[obj.kind as string] ?? [], `a ${obj.kind}'s spec`);
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
  const sel = selector as LabelSelector;
  if (Object.keys(sel.matchLabels ?? {}).length === 0 && !sel.matchExpressions?.length) {
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
  // "selector does not match template labels": every requirement must hold for the template.
  sel.matchExpressions?.forEach((r, i) => {
    if (compileSelector({ matchExpressions: [r] })(labels)) return;
    c.error(
      ["spec", "selector", "matchExpressions", i],
      "selector-mismatch",
      `selector requires ${formatSelector({ matchExpressions: [r] })} but the template's labels do not satisfy it`,
      "change the requirement or the template's labels so that the template matches",
    );
  });
}

export function validateJob(c: Check, obj: Rec): void {
  const status = c.map(obj.status, ["status"]);
  c.int(status?.succeeded, ["status", "succeeded"], 0, 1_000_000, "succeeded count");
  validateConditions(c, status?.conditions, ["status", "conditions"]);
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.template")) return;
  validateJobSpec(c, spec, ["spec"]);
}

function validateJobSpec(c: Check, spec: Rec, at: (string | number)[]): void {
  c.fields(spec, at, JOB_SPEC_FIELDS, "a Job's spec");
  c.int(spec.parallelism, [...at, "parallelism"], 0, 100_000, "parallelism");
  c.int(spec.completions, [...at, "completions"], 0, 100_000, "completions");
  c.oneOf(spec.completionMode, [...at, "completionMode"], ["NonIndexed", "Indexed"] as const);
  c.bool(spec.suspend, [...at, "suspend"]);
  c.bool(spec.manualSelector, [...at, "manualSelector"]);
  validateTemplate(c, spec.template, [...at, "template"]);
  checkSelector(c, spec.selector, [...at, "selector"]);
}

export function validateCronJob(c: Check, obj: Rec): void {
  // ValidateCronJobCreate: the controller names each Job `<name>-<11 characters>`, within 63.
  const name = (obj.metadata as Rec | undefined)?.name;
  if (typeof name === "string" && name.length > 52)
    c.error(
      ["metadata", "name"],
      "invalid-name",
      `a CronJob's name must be no more than 52 characters; "${name}" has ${name.length}`,
      "shorten the name (the CronJob controller appends 11 characters for each Job)",
    );
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.schedule and spec.jobTemplate")) return;
  c.fields(spec, ["spec"], CRONJOB_SPEC_FIELDS, "a CronJob's spec");
  const schedule = c.string(spec.schedule, ["spec", "schedule"]);
  if (
    c.required(schedule, ["spec", "schedule"], "spec.schedule", 'add a cron schedule, e.g. "*/5 * * * *"')
  ) {
    const err = cronScheduleError(schedule);
    if (err)
      c.error(
        ["spec", "schedule"],
        "invalid-value",
        err,
        'write five fields (minute hour day-of-month month day-of-week), e.g. "*/5 * * * *", or a macro such as @hourly',
      );
    else if (schedule.includes("TZ"))
      c.error(
        ["spec", "schedule"],
        "invalid-value",
        "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        "move the zone to spec.timeZone and keep only the five fields in schedule",
      );
  }
  const tz = c.string(spec.timeZone, ["spec", "timeZone"]);
  if (tz !== undefined) {
    const err = timeZoneError(tz);
    if (err)
      c.error(
        ["spec", "timeZone"],
        "invalid-value",
        err,
        "use an IANA time zone name such as Europe/Berlin or Etc/UTC, or leave timeZone out",
      );
  }
  c.bool(spec.suspend, ["spec", "suspend"]);
  const jt = c.map(spec.jobTemplate, ["spec", "jobTemplate"]);
  if (!c.required(jt, ["spec", "jobTemplate"], "spec.jobTemplate", "add spec.jobTemplate.spec.template"))
    return;
  c.fields(jt, ["spec", "jobTemplate"], ["metadata", "spec"], "a Job template");
  const js = c.map(jt.spec, ["spec", "jobTemplate", "spec"]);
  if (c.required(js, ["spec", "jobTemplate", "spec"], "spec.jobTemplate.spec", "add the Job spec")) {
    validateJobSpec(c, js, ["spec", "jobTemplate", "spec"]);
  }
}

export function validateRC(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.template")) return;
  c.fields(spec, ["spec"], WORKLOAD_SPEC_FIELDS.ReplicationController, "a ReplicationController's spec");
  validateReplicas(c, spec, ["spec"]);
  const tmpl = validateTemplate(c, spec.template, ["spec", "template"]);
  // A ReplicationController's selector is a plain map; it defaults to the template's labels.
  const sel = c.labels(spec.selector, ["spec", "selector"]);
  if (sel && tmpl) checkSelectorMatchesTemplate(c, { matchLabels: sel }, tmpl);
}

/** The fields of a standard cron line: name, bounds, and names accepted (robfig/cron v3). */
const CRON_FIELDS: readonly { name: string; min: number; max: number; names?: readonly string[] }[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  { name: "day of week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

const CRON_MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
/** Go's time.ParseDuration: a sign, then one or more decimal numbers each with a unit; or "0". */
const GO_DURATION = /^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$/;

/**
 * Why a CronJob schedule does not parse, as the API server's `cron.ParseStandard` (robfig/cron v3)
 * decides it, or undefined when it does: exactly five fields (minute 0-59, hour 0-23, day of month
 * 1-31, month 1-12 or jan-dec, day of week 0-6 or sun-sat), each a comma list of `*`, `?`, N, N-M,
 * with an optional `/step`; or a macro (@yearly, @annually, @monthly, @weekly, @daily, @midnight,
 * @hourly, `@every <duration>`). A leading `TZ=`/`CRON_TZ=` zone is the caller's (refused there).
 */
export function cronScheduleError(schedule: string): string | undefined {
  let spec = schedule;
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    const space = spec.indexOf(" ");
    if (space < 0) return `"${schedule}": a time zone prefix must be followed by the schedule`;
    spec = spec.slice(space).trim();
  }
  if (spec.startsWith("@")) {
    if (CRON_MACROS.includes(spec)) return undefined;
    if (spec.startsWith("@every ")) {
      const d = spec.slice("@every ".length);
      return GO_DURATION.test(d)
        ? undefined
        : `"${schedule}": "${d}" is not a duration (such as 90s, 5m or 1h30m)`;
    }
    return `"${schedule}" is not a known macro (${CRON_MACROS.join(", ")}, @every DURATION)`;
  }
  const fields = spec.split(/\s+/).filter((f) => f !== "");
  if (fields.length !== 5)
    return `"${schedule}" has ${fields.length} field${fields.length === 1 ? "" : "s"}; a schedule has exactly 5`;
  for (let i = 0; i < 5; i++) {
    const f = CRON_FIELDS[i];
    for (const expr of fields[i].split(",").filter((e) => e !== "")) {
      const err = cronRangeError(expr, f);
      if (err) return `${f.name} "${fields[i]}": ${err}`;
    }
  }
  return undefined;
}

function cronRangeError(expr: string, f: (typeof CRON_FIELDS)[number]): string | undefined {
  const rangeAndStep = expr.split("/");
  if (rangeAndStep.length > 2) return `too many slashes in "${expr}"`;
  const lowAndHigh = rangeAndStep[0].split("-");
  const value = (s: string): number | string => {
    const named = f.names?.indexOf(s.toLowerCase()) ?? -1;
    if (named >= 0) return named + (f.name === "month" ? 1 : 0);
    if (!/^[+-]?[0-9]+$/.test(s)) return `"${s}" is not a number${f.names ? " or a name" : ""}`;
    const n = Number(s);
    return n < 0 ? `negative number ${n} not allowed` : n;
  };
  let start: number;
  let end: number;
  if (lowAndHigh[0] === "*" || lowAndHigh[0] === "?") {
    // robfig/cron reads `*` (or `?`) as the whole range and ignores what a hyphen adds to it.
    start = f.min;
    end = f.max;
  } else {
    if (lowAndHigh.length > 2) return `too many hyphens in "${expr}"`;
    const a = value(lowAndHigh[0]);
    if (typeof a === "string") return a;
    start = a;
    end = a;
    if (lowAndHigh.length === 2) {
      const b = value(lowAndHigh[1]);
      if (typeof b === "string") return b;
      end = b;
    }
  }
  if (rangeAndStep.length === 2) {
    const step = value(rangeAndStep[1]);
    if (typeof step === "string") return step;
    if (step === 0) return `step of range should be a positive number in "${expr}"`;
    if (lowAndHigh.length === 1) end = f.max;
  }
  if (start < f.min) return `beginning of range (${start}) below minimum (${f.min})`;
  if (end > f.max) return `end of range (${end}) above maximum (${f.max})`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end})`;
  return undefined;
}

/**
 * Why a CronJob timeZone is refused (`validateTimeZone`), or undefined: not empty, each `/`-part of
 * 1-14 letters, digits, `.`, `-`, `_`, `+` (not `.`, `..`, nor starting with `-`), not `Local`, and
 * a zone the time zone database knows (checked with Intl's copy of it, as Go's LoadLocation does
 * with the API server's).
 */
export function timeZoneError(tz: string): string | undefined {
  if (tz === "") return "timeZone must be nil or non-empty string";
  for (const part of tz.split("/"))
    if (part === "." || part === ".." || part.startsWith("-") || !/^[A-Za-z.\-_0-9+]{1,14}$/.test(part))
      return `unknown time zone ${tz}`;
  if (tz.toLowerCase() === "local")
    return "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch {
    return `unknown time zone ${tz}`;
  }
  return undefined;
}
