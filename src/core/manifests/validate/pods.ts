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
import { checkSelector, validateConditions } from "./shared.ts";

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
  const nameservers = c.list(cfg?.nameservers, [...at, "dnsConfig", "nameservers"], "string") ?? [];
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

function validatePodSpec(c: Check, spec: Rec, at: (string | number)[]): void {
  c.fields(spec, at, POD_SPEC_FIELDS, "a pod's spec");
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
  const containerNames = new Set<string>();
  const validateContainers = (list: unknown[], field: string) =>
    list.forEach((ct, i) => {
      const cp = [...at, field, i];
      const m = c.map(ct, cp);
      if (!m) return;
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
    if (m) validateToleration(c, m, tp);
  });
  const affinity = c.map(spec.affinity, [...at, "affinity"]);
  const na = c.map(affinity?.nodeAffinity, [...at, "affinity", "nodeAffinity"]);
  const reqPath = [...at, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"];
  const req = c.map(na?.requiredDuringSchedulingIgnoredDuringExecution, reqPath);
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

/**
 * A toleration (`validateTolerations`): an empty operator is Equal and an empty effect matches every
 * effect; a key, when given, is a label name; an empty key needs operator Exists (it tolerates every
 * taint); Exists takes no value.
 */
function validateToleration(c: Check, m: Rec, tp: (string | number)[]): void {
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
export function validateAppsWorkload(c: Check, obj: Rec): void {
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
  c.int(spec.parallelism, [...at, "parallelism"], 0, 100_000, "parallelism");
  c.int(spec.completions, [...at, "completions"], 0, 100_000, "completions");
  c.oneOf(spec.completionMode, [...at, "completionMode"], ["NonIndexed", "Indexed"] as const);
  c.bool(spec.suspend, [...at, "suspend"]);
  c.bool(spec.manualSelector, [...at, "manualSelector"]);
  validateTemplate(c, spec.template, [...at, "template"]);
  checkSelector(c, spec.selector, [...at, "selector"]);
}

export function validateCronJob(c: Check, obj: Rec): void {
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

export function validateRC(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.template")) return;
  validateReplicas(c, spec, ["spec"]);
  const tmpl = validateTemplate(c, spec.template, ["spec", "template"]);
  // A ReplicationController's selector is a plain map; it defaults to the template's labels.
  const sel = c.labels(spec.selector, ["spec", "selector"]);
  if (sel && tmpl) checkSelectorMatchesTemplate(c, { matchLabels: sel }, tmpl);
}
