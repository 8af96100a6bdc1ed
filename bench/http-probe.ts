/**
 * Benchmark (as root): `podnet probe --http` over a cluster with `--rules` Ingress rules (default
 * 1,000: 50 Ingresses of 20 paths, hosts h0…h49.example.com, over 20 backend Services of one pod
 * each, behind one ingress-nginx controller pod), from the outside client only (`--pod-sources 0`):
 * one request per rule. Issue 15's target: ≤ 30 s. The time is the whole command's (loading the
 * manifests, predicting, sending, judging), median of `--runs`; the cluster is built once (`up` time
 * printed too) and removed at the end.
 *
 *   node --import tsx bench/http-probe.ts [--rules 1000 --runs 3]
 *
 * Everything happens in namespaces named podnet-httpdp-bench-*; nothing touches the host's own.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { dataPlaneUnavailable } from "../src/adapters/linux/dataplane.ts";

const { values } = parseArgs({
  options: { rules: { type: "string", default: "1000" }, runs: { type: "string", default: "3" } },
});
const why = dataPlaneUnavailable();
if (why) {
  console.error(`bench/http-probe: ${why}`);
  process.exit(2);
}
const rules = Number(values.rules);
const PER_INGRESS = 20;
const SERVICES = 20;

/** The cluster: deterministic (no randomness: rule i goes to Service i mod 20). */
function manifests(): string {
  const docs = [
    "apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: bench}\nspec: {nodes: 2, supply: {clusterDNS: false}}",
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: controller, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: controller}}
  template:
    metadata: {labels: {app: controller}}
    spec: {containers: [{name: c, image: registry.k8s.io/ingress-nginx/controller:v1.11.2, ports: [{name: http, containerPort: 80}]}]}`,
    `apiVersion: v1
kind: Service
metadata: {name: controller, namespace: default}
spec: {type: LoadBalancer, selector: {app: controller}, ports: [{name: http, port: 80, targetPort: http}]}`,
    'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: nginx, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}\nspec: {controller: k8s.io/ingress-nginx}',
  ];
  for (let s = 0; s < SERVICES; s++)
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata: {name: s${s}, namespace: default}\nspec: {selector: {app: s${s}}, ports: [{port: 80, targetPort: 8080}]}`,
      `apiVersion: v1\nkind: Pod\nmetadata: {name: s${s}, namespace: default, labels: {app: s${s}}}\nspec: {containers: [{name: s, image: s, ports: [{containerPort: 8080}]}]}`,
    );
  for (let i = 0; i * PER_INGRESS < rules; i++) {
    const paths: string[] = [];
    for (let j = 0; j < PER_INGRESS && i * PER_INGRESS + j < rules; j++) {
      const r = i * PER_INGRESS + j;
      paths.push(
        `          - {path: /r${r}, pathType: ${r % 2 ? "Exact" : "Prefix"}, backend: {service: {name: s${r % SERVICES}, port: {number: 80}}}}`,
      );
    }
    docs.push(
      `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i${i}, namespace: default}\nspec:\n  rules:\n    - host: h${i}.example.com\n      http:\n        paths:\n${paths.join("\n")}`,
    );
  }
  return `${docs.join("\n---\n")}\n`;
}

const podnet = (args: string[]) =>
  spawnSync(process.execPath, ["bin/podnet.js", ...args], { encoding: "utf8", maxBuffer: 256 << 20 });
const dir = mkdtempSync(join(tmpdir(), "podnet-httpbench-"));
const name = "httpdp-bench";
try {
  writeFileSync(join(dir, "cluster.yaml"), manifests());
  let t = performance.now();
  const up = podnet(["up", "-f", dir, "--name", name]);
  if (up.status !== 0) throw new Error(`up failed: ${up.stderr}`);
  console.log(`up: ${((performance.now() - t) / 1000).toFixed(2)} s (${up.stdout.trim()})`);
  const times: number[] = [];
  for (let run = 0; run < Number(values.runs); run++) {
    t = performance.now();
    const r = podnet(["probe", "--http", "--name", name, "--pod-sources", "0", "-o", "json"]);
    const s = (performance.now() - t) / 1000;
    const out = JSON.parse(r.stdout || "{}") as { requests?: unknown[]; disagreements?: number };
    console.log(
      `run ${run + 1}: ${s.toFixed(2)} s, ${out.requests?.length ?? 0} requests, ${out.disagreements ?? "?"} disagreements (exit ${r.status})`,
    );
    times.push(s);
  }
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  console.log(`probe --http over ${rules} rules: median ${median.toFixed(2)} s (target ≤ 30 s)`);
} finally {
  podnet(["down", "--name", name]);
  rmSync(dir, { recursive: true, force: true });
}
