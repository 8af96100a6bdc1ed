/** Shared test helpers: resolve inline YAML, and look at the diagnostics it produced. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolveManifests } from "../src/core/cluster.ts";
import type { ClusterState } from "../src/core/control/state.ts";
import { type Diagnostic, formatDiagnostic } from "../src/core/diagnostics.ts";

/** Resolves YAML texts given as `{file: text}`; returns the result as is. */
export function resolveYaml(files: Record<string, string> | string) {
  const map = typeof files === "string" ? { "test.yaml": files } : files;
  return resolveManifests(Object.entries(map).map(([file, text]) => ({ file, text })));
}

/** Resolves and asserts success; returns the cluster. */
export function cluster(files: Record<string, string> | string): ClusterState {
  const r = resolveYaml(files);
  if (!r.ok) assert.fail(`expected success, got:\n${r.diagnostics.map(formatDiagnostic).join("\n")}`);
  return r.cluster;
}

/** Resolves and asserts failure; returns the formatted error lines (warnings excluded). */
export function errors(files: Record<string, string> | string): string[] {
  const r = resolveYaml(files);
  assert.equal(r.ok, false, "expected errors, got success");
  return r.diagnostics.filter((d: Diagnostic) => d.severity === "error").map(formatDiagnostic);
}

/**
 * The warnings of a run, but for the notices of what podnet supplies (codes `supplied-…`, checked in
 * test/supplied.test.ts), which every input without nodes or DNS gets.
 */
export function warnings(files: Record<string, string> | string): string[] {
  return resolveYaml(files)
    .diagnostics.filter((d) => d.severity === "warning" && !d.code.startsWith("supplied-"))
    .map(formatDiagnostic);
}

export function pod(state: ClusterState, ns: string, name: string) {
  const p = state.pods.find((x) => x.metadata.namespace === ns && x.metadata.name === name);
  assert.ok(p, `pod ${ns}/${name} not found among ${state.pods.map((x) => x.metadata.name).join(", ")}`);
  return p;
}

export function service(state: ClusterState, ns: string, name: string) {
  const s = state.services.find((x) => x.metadata.namespace === ns && x.metadata.name === name);
  assert.ok(s, `service ${ns}/${name} not found`);
  return s;
}

/** A Deployment manifest. */
export function deployment(
  name: string,
  opts: {
    ns?: string;
    replicas?: number;
    labels?: Record<string, string>;
    ports?: string;
    spec?: string;
  } = {},
): string {
  const labels = opts.labels ?? { app: name };
  const lbl = Object.entries(labels)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${opts.ns ?? "default"}}
spec:
  replicas: ${opts.replicas ?? 1}
  selector: {matchLabels: {${lbl}}}
  template:
    metadata: {labels: {${lbl}}}
    spec:
${opts.spec ?? ""}      containers:
        - name: c
          image: x
          ports: ${opts.ports ?? "[{name: http, containerPort: 8080}]"}
`;
}

/** The built CLI as a user runs it (`node bin/podnet.js …`, no colours): exit code, stdout, stderr. */
export function runPodnet(args: string[], input?: string): { code: number | null; out: string; err: string } {
  assert.ok(existsSync("dist/src/cli/main.js"), "dist/ is missing: run `npm run build` (npm test does)");
  const r = spawnSync(process.execPath, ["bin/podnet.js", ...args], {
    input,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    // probe's JSON on a generated cluster runs to several MiB (spawnSync's default cap is 1 MiB).
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}
