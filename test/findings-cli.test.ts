/**
 * The command-line side of the new user's findings (issue 12): `-o json` always answers in JSON,
 * also on error paths, and `explain` explains each address of a headless Service's name, as
 * `trace --all-endpoints` traces each.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderTable } from "../src/cli/render/table.ts";
import { runPodnet } from "./helpers.ts";

/** A headless Service with three pods; policy lets data/client reach db-0 and db-2 but not db-1. */
const HEADLESS = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: x, ports: [{name: pg, containerPort: 5432}]}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: data, labels: {app: client}}
spec:
  containers: [{name: c, image: x}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-to-db-0-and-2, namespace: data}
spec:
  podSelector:
    matchExpressions: [{key: statefulset.kubernetes.io/pod-name, operator: In, values: [db-0, db-2]}]
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-1-closed, namespace: data}
spec:
  podSelector: {matchLabels: {statefulset.kubernetes.io/pod-name: db-1}}
  policyTypes: [Ingress]
`;

/** Runs podnet and parses stdout as one JSON object (fails the test when it is not). */
function json(args: string[], input?: string): { code: number | null; value: Record<string, unknown> } {
  const r = runPodnet(args, input);
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(r.out);
  } catch {
    assert.fail(`stdout is not JSON (exit ${r.code}):\n${r.out}\nstderr:\n${r.err}`);
  }
  return { code: r.code, value };
}

describe("4. -o json always prints a JSON object, also when the command fails", () => {
  it("explain: a name that does not resolve is allowed: false, resolved: false, exit 1", () => {
    const { code, value } = json(
      ["explain", "-f", "-", "--from", "data/client", "--to", "nosuch.data:5432", "-o", "json"],
      HEADLESS,
    );
    assert.equal(code, 1);
    assert.equal(value.allowed, false);
    assert.equal(value.resolved, false);
    assert.match(String(value.reason), /"nosuch\.data" does not resolve from data\/client/);
  });
  it("an unknown --from: {error, exitCode: 2}", () => {
    for (const cmd of ["explain", "trace"]) {
      const { code, value } = json(
        [cmd, "-f", "-", "--from", "data/nosuch", "--to", "db.data:5432", "-o", "json"],
        HEADLESS,
      );
      assert.equal(code, 2, cmd);
      assert.equal(value.exitCode, 2, cmd);
      assert.match(String(value.error), /--from: pod data\/nosuch not found/, cmd);
    }
  });
  it("bad input: the diagnostics, with file, line and column, in the JSON", () => {
    const { code, value } = json(
      ["lint", "-f", "-", "-o", "json"],
      "apiVersion: v1\nkind: Pood\nmetadata: {name: p}\n",
    );
    assert.equal(code, 2);
    const diags = value.diagnostics as Record<string, unknown>[];
    assert.equal(diags.length, 1);
    assert.deepEqual(
      { code: diags[0].code, line: diags[0].line, column: diags[0].column, hint: diags[0].hint },
      { code: "unknown-kind", line: 2, column: 7, hint: "did you mean kind: Pod?" },
    );
  });
  it("no input, and a usage error commander reports, in every spelling of -o json", () => {
    for (const o of [["-o", "json"], ["-ojson"], ["--output=json"], ["--output", "json"]]) {
      const { code, value } = json(["check", ...o]);
      assert.equal(code, 2);
      assert.match(String(value.error), /no input/);
    }
    const { code, value } = json(["matrix", "-f", "-", "-o", "json", "--port", "abc"], HEADLESS);
    assert.equal(code, 2);
    assert.match(String(value.error), /--port/);
  });
  it("a command that answered keeps its one JSON answer (explain denied: exit 1, no error object)", () => {
    const { code, value } = json(
      ["explain", "-f", "-", "--from", "data/client", "--to", "db-1.db.data:5432", "-o", "json"],
      HEADLESS,
    );
    assert.equal(code, 1);
    assert.equal(value.allowed, false);
    assert.equal(value.error, undefined);
  });
});

describe("4. explain on a headless Service's name explains each address", () => {
  it("three pods, three explanations: db-1 denied, db-0 and db-2 allowed; exit 1", () => {
    const { code, value } = json(
      ["explain", "-f", "-", "--from", "data/client", "--to", "db.data:5432", "-o", "json"],
      HEADLESS,
    );
    assert.equal(code, 1);
    const ex = value.explanations as { pod: string; allowed: boolean; endpoint: string }[];
    assert.deepEqual(ex.map((e) => [e.pod, e.allowed]).sort(), [
      ["data/db-0", true],
      ["data/db-1", false],
      ["data/db-2", true],
    ]);
    assert.ok(
      ex.every((e) => /^10\.244\.\d+\.\d+:5432$/.test(e.endpoint)),
      JSON.stringify(ex),
    );
  });
  it("agrees with trace --all-endpoints, address by address", () => {
    const t = json(
      ["trace", "-f", "-", "--from", "data/client", "--to", "db.data:5432", "--all-endpoints", "-o", "json"],
      HEADLESS,
    );
    const e = json(
      ["explain", "-f", "-", "--from", "data/client", "--to", "db.data:5432", "-o", "json"],
      HEADLESS,
    );
    const traced = (t.value.traces as { endpoint: string; verdict: string }[])
      .map((x) => [x.endpoint, x.verdict === "delivered"])
      .sort();
    const explained = (e.value.explanations as { endpoint: string; allowed: boolean }[])
      .map((x) => [x.endpoint, x.allowed])
      .sort();
    assert.deepEqual(explained, traced);
  });
  it("text names each address and its pod", () => {
    const r = runPodnet(["explain", "-f", "-", "--from", "data/client", "--to", "db.data:5432"], HEADLESS);
    assert.equal(
      (r.out.match(/^to address 10\.244\.\d+\.\d+:5432 \(pod data\/db-\d\)/gm) ?? []).length,
      3,
      r.out,
    );
  });
});

describe("6. demo fits the input", () => {
  it("demo -n nosuch is an error naming the namespaces there are", () => {
    const r = runPodnet(["demo", "-n", "nosuch"]);
    assert.equal(r.code, 2);
    assert.equal(r.out, "");
    assert.match(
      r.err,
      /error: -n nosuch: the cluster has no namespace "nosuch"; it has default, kube-node-lease, kube-public, kube-system/,
    );
  });
  it("the address plan shows the nodes' own addresses when nodeNetwork does not hold them", () => {
    const nodes = `apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.5.10}]}
---
apiVersion: v1
kind: Node
metadata: {name: n2}
status: {addresses: [{type: InternalIP, address: 192.168.5.11}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c, image: x}]}
`;
    const r = runPodnet(["demo", "-f", "-"], nodes);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /node addresses\s+192\.168\.5\.10, 192\.168\.5\.11\s+.*none in nodeNetwork 172\.18\.0\.0\/24/,
    );
    assert.doesNotMatch(r.out, /^\s+node network\s/m);
    const plain = runPodnet(["demo"]);
    assert.match(plain.out, /^\s+node network\s+172\.18\.0\.0\/24/m);
  });
});

describe("6. check lists each Pending pod once", () => {
  it("no load warning summarising the Pending pods check lists itself", () => {
    const r = runPodnet(
      ["check", "-f", "-"],
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  replicas: 2
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec:
      nodeSelector: {disk: ssd}
      containers: [{name: c, image: x}]
`,
    );
    assert.equal(r.code, 1);
    assert.equal((r.out.match(/^pending: default\/d-/gm) ?? []).length, 2, r.out);
    assert.doesNotMatch(r.err, /could not be scheduled/);
    // lint does not list Pending pods: there the load's warning stays.
    const lint = runPodnet(
      ["lint", "-f", "-"],
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeSelector: {disk: ssd}, containers: [{name: c}]}\n",
    );
    assert.match(lint.err, /1 pod could not be scheduled/);
  });
});

describe("6. -n of a namespace the cluster does not have is an error in every view but get", () => {
  it("connlist, matrix, lint: exit 2 naming the namespaces; get: kubectl's 'No resources found'", () => {
    for (const cmd of ["connlist", "matrix", "lint"]) {
      const r = runPodnet([cmd, "-f", "-", "-n", "nosuch"], HEADLESS);
      assert.equal(r.code, 2, `${cmd}: ${r.out}`);
      assert.match(
        r.err,
        /-n nosuch: the cluster has no namespace "nosuch"; it has data, default, kube-node-lease/,
      );
    }
    const get = runPodnet(["get", "pods", "-f", "-", "-n", "nosuch"], HEADLESS);
    assert.equal(get.code, 0);
    const ok = runPodnet(["connlist", "-f", "-", "-n", "data"], HEADLESS);
    assert.equal(ok.code, 0, ok.err);
  });
  it("-n places namespace-less objects there, so that namespace exists", () => {
    const r = runPodnet(
      ["connlist", "-f", "-", "-n", "fresh"],
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n",
    );
    assert.equal(r.code, 0, r.err);
  });
});

describe("tables of a whole large cluster", () => {
  it("get's table of 200,000 rows renders (no argument spread into Math.max: the call stack overflowed)", () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => `pod-${i}`);
    const text = renderTable(
      rows,
      [
        { header: "NAME", value: (r) => r },
        { header: "X", value: () => "y" },
      ],
      {
        wide: false,
      },
    );
    const lines = text.split("\n");
    assert.equal(lines.length, 200_001);
    assert.equal(lines[0], "NAME         X");
    assert.equal(lines[200_000], "pod-199999   y");
  });
});

describe("names that miss say what there is", () => {
  it("routes --pod NAME without its namespace suggests NAMESPACE/NAME", () => {
    const r = runPodnet(["routes", "-f", "examples/calico", "--pod", "pod1"]);
    assert.equal(r.code, 2);
    assert.equal(
      r.err,
      "error: --pod: pod pod1 not found\n  fix: did you mean default/pod1? (podnet get pods -A lists them)\n",
    );
  });
  it("trace --to NAME:PORTNAME that the Service does not name lists its named ports", () => {
    const r = runPodnet([
      "trace",
      "-f",
      "examples/shop",
      "--from",
      "shop/frontend-8656d6c4b9-hzn5v",
      "--to",
      "cart:nope",
    ]);
    assert.equal(r.code, 2);
    assert.match(r.err, /has no port named "nope"; its named ports: grpc=7070\/TCP/);
  });
});
