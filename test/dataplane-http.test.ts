/**
 * Outside in, for real (issue 15): as root, `podnet up` builds the outside client's namespace and the
 * controller pods' reverse proxies, and `probe --http` sends a request for every rule from outside and
 * from pods and must agree with the simulator on every one (which backend pod answered, the status,
 * the client address it saw); the plain probes from outside to load-balancer IPs must agree too. On
 * the fixture, a generated cluster and examples/ingress (its Ingress and its Gateway, with the Cluster
 * config's load-balancer mode l2 and bgp: the outside routes go through the nodes the simulator elects).
 * Without root or the tools these tests skip with the reason; under CI=true that is a failure.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { dataPlaneUnavailable, listNamespaces } from "../src/adapters/linux/dataplane.ts";
import { runPodnet } from "./helpers.ts";

const unavailable = dataPlaneUnavailable();
const skip = unavailable && process.env.CI !== "true" ? unavailable : false;
const FIXTURE = join(import.meta.dirname, "fixtures", "http");
const EXAMPLE = join(import.meta.dirname, "..", "examples", "ingress");

interface HttpOut {
  requests: { agree: boolean; from: string; to: string; kernel: string; simulator: string }[];
  disagreements: number;
}

/** `podnet probe --http -o json` on a running cluster: no disagreement, exit 0; the requests. */
function httpAgrees(cluster: string, extra: string[] = []) {
  const r = runPodnet(["probe", "--http", "--name", cluster, "-o", "json", ...extra]);
  assert.ok(r.out.trim(), `probe --http printed nothing: ${r.err}`);
  const out = JSON.parse(r.out) as HttpOut;
  const bad = out.requests
    .filter((p) => !p.agree)
    .map((p) => `${p.from} → ${p.to}: kernel ${p.kernel}; simulator ${p.simulator}`);
  assert.deepEqual(bad, []);
  assert.equal(r.code, 0, r.err);
  return out.requests;
}

describe("outside in, for real", { skip }, () => {
  it("is available under CI", () => {
    assert.equal(unavailable, undefined, `the data plane tests cannot run: ${unavailable}`);
  });

  it("the fixture: every rule answered from outside and from pods as the simulator says, over HTTP and HTTPS", () => {
    const up = runPodnet(["up", "-f", FIXTURE, "--name", "integ-f"]);
    try {
      assert.equal(up.code, 0, up.err);
      assert.match(up.out, /reverse proxies in 2 controller pods, outside client 203\.0\.113\.7/);
      const requests = httpAgrees("integ-f");
      // From outside, and both schemes; a routed answer, the proxy's own 503 and the policy's effect all occur.
      assert.ok(requests.some((r) => r.from === "outside" && r.to.startsWith("https://")));
      assert.ok(
        requests.some(
          (r) =>
            r.from === "outside" && /^200 from ingress\/controller-.*answered by shop\/cart-/.test(r.kernel),
        ),
      );
      assert.ok(requests.some((r) => r.kernel.startsWith("503 from ingress/controller-")));
      // The plain probes include the outside client to the load-balancer IP, and agree.
      const plain = runPodnet(["probe", "--name", "integ-f", "--port", "80", "-o", "json"]);
      assert.equal(plain.code, 0, plain.out);
      const probes = (JSON.parse(plain.out) as { probes: { from: string; agree: boolean }[] }).probes;
      assert.ok(probes.some((p) => p.from === "outside"));
    } finally {
      runPodnet(["down", "--name", "integ-f"]);
    }
    assert.deepEqual(
      listNamespaces().filter((n) => n.startsWith("podnet-integ-f-")),
      [],
    );
  });

  for (const mode of ["l2", "bgp"] as const)
    it(`examples/ingress in ${mode} mode: the Ingress (ingress-nginx) and the Gateway (Envoy Gateway), http and https, from outside and from pods`, () => {
      const dir = mkdtempSync(join(tmpdir(), "podnet-integ-"));
      const name = `integ-ex-${mode}`;
      try {
        for (const f of readdirSync(EXAMPLE).filter((x) => x.endsWith(".yaml"))) {
          const text = readFileSync(join(EXAMPLE, f), "utf8");
          writeFileSync(
            join(dir, f),
            f === "00-cluster.yaml" ? text.replace("mode: l2", `mode: ${mode}`) : text,
          );
        }
        assert.match(readFileSync(join(dir, "00-cluster.yaml"), "utf8"), new RegExp(`mode: ${mode}`));
        const up = runPodnet(["up", "-f", dir, "--name", name]);
        assert.equal(up.code, 0, up.err);
        assert.match(up.out, /reverse proxies in 3 controller pods, outside client 203\.0\.113\.7/);
        const requests = httpAgrees(name);
        const outside = requests.filter((r) => r.from === "outside");
        // Both APIs answered for real from outside, over http and https (the Ingress's TLS host).
        assert.ok(
          outside.some((r) =>
            /^200 from ingress-nginx\/ingress-nginx-controller-.*answered by shop\/cart-/.test(r.kernel),
          ),
        );
        assert.ok(
          outside.some((r) => r.to.startsWith("https://shop.example.com/") && r.kernel.startsWith("200 ")),
        );
        assert.ok(
          outside.some((r) =>
            /^200 from envoy-gateway-system\/envoy-shop-eg-.*answered by shop\/api-/.test(r.kernel),
          ),
        );
        // The plain probes from outside to the load-balancer IPs agree too.
        const plain = runPodnet(["probe", "--name", name, "--port", "80", "-o", "json"]);
        assert.equal(plain.code, 0, plain.out);
        const probes = (JSON.parse(plain.out) as { probes: { from: string; agree: boolean }[] }).probes;
        assert.ok(probes.some((p) => p.from === "outside"));
      } finally {
        runPodnet(["down", "--name", name]);
        rmSync(dir, { recursive: true, force: true });
      }
      assert.deepEqual(
        listNamespaces().filter((n) => n.startsWith(`podnet-${name}-`)),
        [],
      );
    });

  it("a generated cluster: 24 rules over 12 Services (every third without pods: 503), zero disagreements", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-integ-"));
    try {
      writeFileSync(join(dir, "cluster.yaml"), generatedIngressCluster(12));
      const up = runPodnet(["up", "-f", dir, "--name", "integ-g"]);
      assert.equal(up.code, 0, up.err);
      const requests = httpAgrees("integ-g", ["--pod-sources", "1"]);
      assert.ok(requests.length >= 12 * 2, `${requests.length} requests`);
    } finally {
      runPodnet(["down", "--name", "integ-g"]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A cluster of `n` backend Services (one pod each) behind one ingress-nginx controller, with one
 * Ingress rule per Service: host `svc-I.example.com`, a Prefix and an Exact path; every third Service
 * has no pods (503).
 */
export function generatedIngressCluster(n: number): string {
  const docs = [
    `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: gen}
spec: {nodes: 2, supply: {clusterDNS: false}}`,
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: controller, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: controller}}
  template:
    metadata: {labels: {app: controller}}
    spec:
      containers:
        - {name: c, image: registry.k8s.io/ingress-nginx/controller:v1.11.2, ports: [{name: http, containerPort: 80}]}`,
    `apiVersion: v1
kind: Service
metadata: {name: controller, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: controller}
  ports: [{name: http, port: 80, targetPort: http}]`,
    `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: k8s.io/ingress-nginx}`,
  ];
  for (let i = 0; i < n; i++) {
    docs.push(`apiVersion: v1
kind: Service
metadata: {name: svc-${i}, namespace: default}
spec:
  selector: {app: svc-${i}}
  ports: [{port: 80, targetPort: 8080}]`);
    if (i % 3 !== 2)
      docs.push(`apiVersion: v1
kind: Pod
metadata: {name: svc-${i}, namespace: default, labels: {app: svc-${i}}}
spec: {containers: [{name: s, image: s, ports: [{containerPort: 8080}]}]}`);
    docs.push(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing-${i}, namespace: default}
spec:
  rules:
    - host: svc-${i}.example.com
      http:
        paths:
          - {path: /p${i}, pathType: Prefix, backend: {service: {name: svc-${i}, port: {number: 80}}}}
          - {path: /e${i}, pathType: Exact, backend: {service: {name: svc-${(i + 1) % n}, port: {number: 80}}}}`);
  }
  return `${docs.join("\n---\n")}\n`;
}
