/**
 * Property-based tests of the loader (fast-check, fixed seeds): random text, mutated real manifests
 * and structurally random objects never crash it; they resolve or yield diagnostics, and whatever
 * resolves keeps the control plane's invariants (unique pod IPs inside node podCIDRs).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { stringify } from "yaml";
import { parseRequests, runGet } from "../src/cli/get.ts";
import { RESOURCE_TYPES } from "../src/cli/render/resources.ts";
import { resolveManifests } from "../src/core/cluster.ts";
import { formatDiagnostic } from "../src/core/diagnostics.ts";
import { parseIPv4 } from "../src/core/net/ipv4.ts";

const EXAMPLES = ["examples/articles", "examples/shop", "examples/live-dump"].flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => readFileSync(join(d, f), "utf8")),
);

/** Runs the loader; asserts it returned normally and that its output is coherent. */
function check(texts: string[]): void {
  const r = resolveManifests(texts.map((text, i) => ({ file: `f${i}.yaml`, text })));
  for (const d of r.diagnostics) {
    const line = formatDiagnostic(d);
    assert.ok(line.length > 0);
    assert.doesNotMatch(line, /undefined|\[object Object\]|NaN/, line);
  }
  if (!r.ok) {
    assert.ok(r.diagnostics.some((d) => d.severity === "error"));
    return;
  }
  // Every view of the cluster renders: all resource types, as a wide table and as JSON.
  const all = parseRequests([RESOURCE_TYPES.map((t) => t.name).join(",")]);
  assert.equal(typeof runGet(r.cluster, all, { output: "wide" }).stdout, "string");
  JSON.parse(runGet(r.cluster, all, { output: "json" }).stdout);
  const cidrOf = new Map(r.cluster.nodes.map((n) => [n.name, n.podCIDR]));
  // Given addresses outside their node's podCIDR are kept (with a warning); allocated ones never are.
  const givenOutside = r.diagnostics.some((d) => d.code === "pod-ip-outside-node-cidr");
  const seen = new Set<string>();
  for (const p of r.cluster.pods) {
    const ip = p.status?.podIP;
    if (!ip || p.spec.hostNetwork || p.status?.phase === "Succeeded" || p.status?.phase === "Failed")
      continue;
    assert.ok(!seen.has(ip), `duplicate pod IP ${ip}`);
    seen.add(ip);
    if (!givenOutside && parseIPv4(ip) !== undefined)
      assert.ok(cidrOf.get(p.spec.nodeName!)?.contains(parseIPv4(ip)!), `${ip} outside its node's podCIDR`);
  }
}

const mutation = fc.oneof(
  fc.record({ op: fc.constant("delete-line" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("duplicate-line" as const), at: fc.nat() }),
  fc.record({
    op: fc.constant("replace-char" as const),
    at: fc.nat(),
    ch: fc.constantFrom(
      ":",
      "-",
      " ",
      "{",
      "}",
      "[",
      "]",
      "'",
      '"',
      "#",
      "&",
      "*",
      "!",
      "|",
      ">",
      "\t",
      "0",
      "a",
      "\n",
    ),
  }),
  fc.record({ op: fc.constant("indent" as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
  fc.record({
    op: fc.constant("value" as const),
    at: fc.nat(),
    value: fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constantFrom("null", "~", "[]", "{}", "-1", "70000", "10.0.0.0/33", "None", "true", "*a", "&a x"),
    ),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(text: string, muts: Mutation[]): string {
  let lines = text.split("\n");
  for (const m of muts) {
    const i = lines.length ? m.at % lines.length : 0;
    switch (m.op) {
      case "delete-line":
        lines.splice(i, 1);
        break;
      case "duplicate-line":
        lines.splice(i, 0, lines[i] ?? "");
        break;
      case "replace-char": {
        const l = lines[i] ?? "";
        const j = l.length ? m.at % l.length : 0;
        lines[i] = l.slice(0, j) + m.ch + l.slice(j + 1);
        break;
      }
      case "indent":
        lines[i] = m.by >= 0 ? " ".repeat(m.by) + (lines[i] ?? "") : (lines[i] ?? "").slice(-m.by);
        break;
      case "value": {
        const l = lines[i] ?? "";
        const colon = l.indexOf(": ");
        if (colon > 0) lines[i] = `${l.slice(0, colon + 2)}${String(m.value)}`;
        break;
      }
    }
  }
  lines = lines.slice(0, 5000);
  return lines.join("\n");
}

describe("loader fuzzing (never crashes, never half-resolves)", () => {
  it("random text", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "binary", maxLength: 300 }), { minLength: 1, maxLength: 3 }),
        (texts) => check(texts),
      ),
      { seed: 20261123, numRuns: 400 },
    );
  });

  it("mutated real manifests", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EXAMPLES.keys()),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (i, muts) => check([mutate(EXAMPLES[i], muts)]),
      ),
      { seed: 7, numRuns: 600 },
    );
  });

  it("structurally random objects of every kind", () => {
    const kinds = [
      "Pod",
      "Service",
      "Deployment",
      "StatefulSet",
      "DaemonSet",
      "Job",
      "CronJob",
      "ReplicaSet",
      "ReplicationController",
      "Node",
      "Namespace",
      "EndpointSlice",
      "Endpoints",
      "NetworkPolicy",
      "AdminNetworkPolicy",
      "Cluster",
      "List",
    ];
    const versions = [
      "v1",
      "apps/v1",
      "batch/v1",
      "discovery.k8s.io/v1",
      "networking.k8s.io/v1",
      "policy.networking.k8s.io/v1alpha1",
      "podnet.dev/v1alpha1",
      "x/y",
    ];
    const anyValue = fc.anything({
      maxDepth: 3,
      withNullPrototype: false,
      withBoxedValues: false,
      withMap: false,
      withSet: false,
      withTypedArray: false,
      withSparseArray: false,
    });
    const field = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys), anyValue, { maxKeys: 4 });
    const obj = fc.record({
      apiVersion: fc.constantFrom(...versions),
      kind: fc.constantFrom(...kinds),
      metadata: fc.record(
        {
          name: fc.oneof(fc.constantFrom("a", "b", "web"), anyValue),
          namespace: fc.oneof(fc.constant(undefined), fc.constantFrom("default", "x")),
          labels: fc.oneof(fc.constant(undefined), field(["app", "tier"])),
        },
        { requiredKeys: [] },
      ),
      spec: fc.oneof(
        anyValue,
        field([
          "replicas",
          "selector",
          "template",
          "ports",
          "type",
          "clusterIP",
          "podSelector",
          "ingress",
          "egress",
          "containers",
          "nodeName",
          "podCIDR",
          "nodes",
          "clusterCIDR",
          "serviceCIDR",
          "subject",
          "priority",
        ]),
      ),
      status: fc.oneof(fc.constant(undefined), field(["podIP", "phase", "addresses", "loadBalancer"])),
      items: fc.oneof(fc.constant(undefined), fc.array(anyValue, { maxLength: 3 })),
    });
    fc.assert(
      fc.property(fc.array(obj, { minLength: 1, maxLength: 8 }), fc.boolean(), (objs, asJson) => {
        const clean = JSON.parse(JSON.stringify(objs));
        check([
          asJson
            ? JSON.stringify({ apiVersion: "v1", kind: "List", items: clean })
            : clean.map((o: unknown) => stringify(o)).join("---\n"),
        ]);
      }),
      { seed: 42, numRuns: 500 },
    );
  });
});
