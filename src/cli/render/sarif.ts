/**
 * `-o sarif`: findings as a SARIF 2.1.0 log (OASIS "Static Analysis Results Interchange Format",
 * schema shipped as schemas/sarif-schema-2.1.0.json), so code-scanning tools annotate the YAML line a
 * finding is about.
 *
 *   findings (ruleId, level, message, where) ──► runs[0].results[]
 *   the command's rule catalog (id, description, help) ──► runs[0].tool.driver.rules[]
 *   file:line:col ──► physicalLocation { artifactLocation { uri relative to the working directory,
 *                     uriBaseId %SRCROOT% }, region { startLine, startColumn } }
 *
 * One renderer for every command that finds things (lint, check, diff --fail-on): each command maps
 * its own findings to `SarifFinding`s and passes its rules. Columns are 1-based Unicode code points,
 * as the YAML positions are (run.columnKind says so). A finding about the cluster as a whole, which
 * no line holds, keeps its message and gets no location: the log says it rather than point at a line
 * that is not about it.
 */
import { isAbsolute, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { ClusterState } from "../../core/control/state.ts";
import { type Diagnostic, formatPath, type Origin, positionOf } from "../../core/diagnostics.ts";
import type { KubeObject } from "../../core/model/k8s.ts";

/** The schema's `id`, named in each log's `$schema`. */
export const SARIF_SCHEMA_URI =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/** SARIF's result levels podnet uses ("error" fails a gate, "warning" should be looked at). */
export type SarifLevel = "error" | "warning" | "note";

/** A rule of the tool: what a ruleId means and how to fix what it finds. */
export interface SarifRule {
  /** Stable id, the diagnostic code (`policy-selects-nothing`). */
  id: string;
  /** One sentence: what the rule finds. */
  description: string;
  /** What to do about a finding of this rule (plain text; shown by code-scanning UIs). */
  help: string;
  /** The level of its findings unless a finding says otherwise. */
  level: SarifLevel;
}

/** Where a finding is: a file and, when known, 1-based line and column. */
export interface SarifWhere {
  file: string;
  line?: number;
  column?: number;
}

/** One finding, whatever the command. */
export interface SarifFinding {
  ruleId: string;
  level: SarifLevel;
  /** The finding as one text (the hint appended as "Fix: …"). */
  message: string;
  /** The YAML position; absent for findings about the cluster as a whole. */
  where?: SarifWhere;
  /** `Kind namespace/name` of the object concerned (a logical location). */
  object?: string;
}

/** A diagnostic (a lint finding) as a SARIF finding at its file:line:col. */
export function diagnosticFinding(d: Diagnostic): SarifFinding {
  const pos = positionOf(d);
  const field = d.path && d.path.length > 0 ? `${formatPath(d.path)}: ` : "";
  return {
    ruleId: d.code,
    level: d.severity === "error" ? "error" : "warning",
    message: `${d.object ? `${d.object}: ` : ""}${field}${d.message}${d.hint ? `. Fix: ${d.hint}` : ""}`,
    ...(pos ? { where: { file: pos.file, line: pos.line, column: pos.col } } : {}),
    ...(d.object ? { object: d.object } : {}),
  };
}

/**
 * The origin of an object of the cluster named by kind, namespace and name: its own when the input
 * gave it; for one podnet created (a Deployment's pods, their ReplicaSet), the input object it was
 * made from, found by climbing controller ownerReferences. Undefined when none is known (objects
 * podnet supplies, standard input without positions).
 */
export function originOf(
  state: ClusterState,
  kind: string,
  namespace: string | undefined,
  name: string,
): { origin: Origin; object: KubeObject } | undefined {
  const byKey = new Map<string, KubeObject>();
  for (const o of state.origins.keys())
    byKey.set(`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o);
  const all: KubeObject[] = [...state.pods, ...state.workloads];
  const find = (k: string, ns: string | undefined, n: string) =>
    byKey.get(`${k}/${ns ?? ""}/${n}`) ??
    all.find((o) => o.kind === k && (o.metadata.namespace ?? "") === (ns ?? "") && o.metadata.name === n);
  let obj = find(kind, namespace, name);
  for (let hops = 0; obj && hops < 8; hops++) {
    const origin = state.origins.get(obj);
    if (origin) return { origin, object: obj };
    const up = obj.metadata.ownerReferences?.find((r) => r.controller);
    if (!up) return undefined;
    obj = find(up.kind, obj.metadata.namespace, up.name);
  }
  return undefined;
}

/** The position of a whole object (its first line) from its origin. */
export function objectWhere(origin: Origin): SarifWhere {
  const at = origin.locate([]);
  return { file: origin.file, ...(at ? { line: at.line, column: at.col } : {}) };
}

/** A file as SARIF wants it: a URI reference relative to the working directory, `/`-separated. */
function fileUri(file: string, cwd: string): string | undefined {
  if (file === "<stdin>" || file === "-") return undefined;
  const rel = relative(cwd, isAbsolute(file) ? file : resolve(cwd, file));
  return rel.split(sep).map(encodeURIComponent).join("/");
}

/**
 * The SARIF 2.1.0 log of one run of a podnet command, as pretty-printed JSON with a final newline.
 * `rules` is the command's catalog (every rule it can report, in a stable order); a finding whose rule
 * is not in it gets a rule made from its own message, so no result points at a missing rule.
 * `cwd` (default: the process's) is what artifact URIs are relative to.
 */
export function renderSarif(opts: {
  version: string;
  rules: readonly SarifRule[];
  findings: readonly SarifFinding[];
  cwd?: string;
}): string {
  const cwd = opts.cwd ?? process.cwd();
  const rules = [...opts.rules];
  const index = new Map(rules.map((r, i) => [r.id, i]));
  for (const f of opts.findings)
    if (!index.has(f.ruleId)) {
      index.set(f.ruleId, rules.length);
      rules.push({ id: f.ruleId, description: f.ruleId, help: f.message, level: f.level });
    }
  const results = opts.findings.map((f) => {
    const uri = f.where ? fileUri(f.where.file, cwd) : undefined;
    const region =
      f.where?.line !== undefined
        ? {
            startLine: f.where.line,
            ...(f.where.column !== undefined ? { startColumn: f.where.column } : {}),
          }
        : undefined;
    const location = {
      ...(uri !== undefined
        ? {
            physicalLocation: {
              artifactLocation: { uri, uriBaseId: "%SRCROOT%" },
              ...(region ? { region } : {}),
            },
          }
        : {}),
      ...(f.object ? { logicalLocations: [{ fullyQualifiedName: f.object, kind: "object" }] } : {}),
    };
    return {
      ruleId: f.ruleId,
      ruleIndex: index.get(f.ruleId),
      level: f.level,
      message: { text: f.message },
      ...(Object.keys(location).length > 0 ? { locations: [location] } : {}),
    };
  });
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "podnet",
            version: opts.version,
            rules: rules.map((r) => ({
              id: r.id,
              shortDescription: { text: r.description },
              help: { text: r.help },
              defaultConfiguration: { level: r.level },
            })),
          },
        },
        originalUriBaseIds: { "%SRCROOT%": { uri: `${pathToFileURL(cwd).href.replace(/\/?$/, "/")}` } },
        columnKind: "unicodeCodePoints",
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

/**
 * The rules of `podnet lint` (src/core/policy/lint.ts): what each finds, and the usual fix.
 */
export const LINT_RULES: readonly SarifRule[] = [
  {
    id: "policy-selects-nothing",
    description:
      "A NetworkPolicy's podSelector, or an admin/baseline policy's subject, matches no pod (or only host-network pods).",
    help: "Make the selector match the pods it is meant for (check the labels and the namespace), or remove the policy.",
    level: "warning",
  },
  {
    id: "peer-selects-nothing",
    description:
      "A rule's peer (podSelector / namespaceSelector) matches no pod (or only host-network pods), so it never matches.",
    help: "Fix the peer's selectors to match the pods or namespaces meant (namespaces match by their labels), or remove the peer.",
    level: "warning",
  },
  {
    id: "named-port-unmatched",
    description:
      "A rule names a port that no destination declares (ingress: the selected pods; egress: the pods its peers match).",
    help: "Use the containerPort name the pods declare, or a port number.",
    level: "warning",
  },
  {
    id: "dns-egress-blocked",
    description: "A workload's pods cannot reach the cluster DNS (UDP 53 to the kube-dns endpoints).",
    help: "Add an egress rule allowing UDP and TCP 53 to the kube-system namespace's DNS pods.",
    level: "warning",
  },
  {
    id: "policy-no-effect",
    description:
      "Removing the policy changes no allowed connection: other policies shadow it, or it allows only what is allowed anyway.",
    help: "Remove the policy, or change it so that it allows or denies what it is meant to.",
    level: "warning",
  },
];

/** The rules of `podnet check` (src/core/sim/check.ts): the networking model's requirements, and Pending pods. */
export const CHECK_RULES: readonly SarifRule[] = [
  {
    id: "unique-addresses",
    description:
      "Addresses are unique across pods, nodes and Services, and nodes' pod address blocks do not overlap.",
    help: "Give each node a podCIDR of its own and each Service a clusterIP outside the pod and node ranges.",
    level: "error",
  },
  {
    id: "pod-in-node-range",
    description: "A pod's address lies in one of its node's pod address blocks.",
    help: "Set the pod's IP inside its node's podCIDR, or use a network plugin that routes pod addresses itself.",
    level: "error",
  },
  {
    id: "localhost",
    description: "The containers of a pod reach each other on localhost: two cannot open the same port.",
    help: "Give each container of the pod its own containerPort.",
    level: "error",
  },
  {
    id: "pod-to-pod",
    description: "Every pod reaches every pod by its IP, and the receiver sees the sender's own IP (no NAT).",
    help: "Follow the trace in the message: fix the route, tunnel or masquerade rule it shows.",
    level: "error",
  },
  {
    id: "node-to-pod",
    description: "Every node reaches every pod.",
    help: "Follow the trace in the message: fix the node's route to the pod's network.",
    level: "error",
  },
  {
    id: "pod-pending",
    description:
      "A pod is left Pending (not scheduled or without an address), so the model's requirements say nothing about it.",
    help: "Read the scheduler's or the pod IPAM's reason in the message: add node capacity, fix the selector or taints, or widen the pod range.",
    level: "error",
  },
];

/** The rules of `podnet diff --fail-on`: one per kind of change. */
export const DIFF_RULES: readonly SarifRule[] = [
  {
    id: "connection-added",
    description: "The change allows a connection the base did not.",
    help: "If the connection is meant, drop `added` from --fail-on for this change; otherwise narrow the policy the location shows.",
    level: "error",
  },
  {
    id: "connection-removed",
    description: "The change blocks a connection the base allowed.",
    help: "If the connection is no longer needed, drop `removed` from --fail-on; otherwise allow it again in the policy the location shows.",
    level: "error",
  },
  {
    id: "connection-changed",
    description: "The change alters the ports or protocols of a connection the base allowed.",
    help: "Check the ports the location's policy now allows against what the workloads serve.",
    level: "error",
  },
];
