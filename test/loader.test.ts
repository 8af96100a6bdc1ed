/**
 * The loader: what it accepts (YAML, JSON, Lists, multi-document, dumps) and the exact diagnostics it
 * gives for each kind of bad input: file:line:col, the object, the field, what is wrong, the fix.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveManifests } from "../src/core/cluster.ts";
import { Diagnostics } from "../src/core/diagnostics.ts";
import { parseSource } from "../src/core/manifests/parse.ts";
import { cluster, errors, resolveYaml, warnings } from "./helpers.ts";

const pod = (name: string, extra = "") => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  containers: [{name: c, image: x}]
${extra}`;

describe("accepted input", () => {
  it("reads multi-document YAML, Lists of any kind, JSON, and bare arrays", () => {
    const json = JSON.stringify({
      apiVersion: "v1",
      kind: "PodList",
      items: [
        { apiVersion: "v1", kind: "Pod", metadata: { name: "j1" }, spec: { containers: [{ name: "c" }] } },
      ],
    });
    const state = cluster({
      "a.yaml": `${pod("y1")}---\n${pod("y2")}---\n`,
      "b.yaml": `apiVersion: v1\nkind: List\nitems:\n- ${pod("l1").replace(/\n/g, "\n  ")}`,
      "c.json": json,
      "d.json": JSON.stringify([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "arr" } }]),
    });
    assert.deepEqual(
      // The input's pods (kube-system holds the CoreDNS pods podnet supplies: test/supplied.test.ts).
      state.pods.filter((p) => p.metadata.namespace !== "kube-system").map((p) => p.metadata.name),
      ["y1", "y2", "l1", "j1"],
    );
    assert.ok(state.namespaces.some((n) => n.metadata.name === "arr"));
  });

  it("defaults the namespace to default and creates referenced namespaces with their name label", () => {
    const state = cluster(`${pod("a")}---\n${pod("b").replace("{name: b}", "{name: b, namespace: team-x}")}`);
    assert.equal(state.pods[0].metadata.namespace, "default");
    const ns = state.namespaces.find((n) => n.metadata.name === "team-x");
    assert.deepEqual(ns?.metadata.labels, { "kubernetes.io/metadata.name": "team-x" });
    assert.deepEqual(
      state.namespaces.map((n) => n.metadata.name),
      ["default", "kube-node-lease", "kube-public", "kube-system", "team-x"],
    );
  });

  it("skips kinds outside the network model with one warning per kind", () => {
    const cm = (n: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}}\n`;
    assert.deepEqual(
      warnings(
        `${cm("a")}---\n${cm("b")}---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n`,
      ),
      [
        "test.yaml:1:1: warning: skipped 2 objects of kind ConfigMap (not part of the network model)",
        "test.yaml:9:1: warning: skipped 1 object of kind Widget (not part of the network model)",
      ],
    );
  });

  it("reads YAML 1.1 like kubectl: an unquoted `on` is a boolean, so a label value must be quoted", () => {
    assert.deepEqual(errors(pod("p").replace("{name: p}", "{name: p, labels: {enabled: on}}")), [
      'test.yaml:3:39: error: Pod default/p: metadata.labels.enabled: label value must be a string, found on (YAML 1.1 reads it as the boolean true)\n  fix: quote it: enabled: "on"',
    ]);
  });
});

describe("YAML scalars as kubectl's go-yaml reads them", () => {
  it("needs a digit for a float: `E0` and `.` stay strings, real floats stay numbers", () => {
    const raw = parseSource(
      { file: "x.yaml", text: "kind: X\na: E0\nb: .\nc: 1.5\nd: 1e3\ne: .5\nf: 1_000.5\ng: on\n" },
      new Diagnostics(),
    );
    assert.deepEqual(raw[0].value, {
      kind: "X",
      a: "E0",
      b: ".",
      c: 1.5,
      d: 1000,
      e: 0.5,
      f: 1000.5,
      g: true,
    });
  });
});

describe("bad input: every problem, with file:line:col and a fix, all reported together", () => {
  it("malformed YAML", () => {
    assert.deepEqual(errors("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n"), [
      "test.yaml:5:1: error: malformed YAML: Flow sequence in block collection must be sufficiently indented and end with a ]\n  fix: fix the YAML syntax at this position (check indentation, quotes and `:` after keys)",
    ]);
  });

  it("duplicate keys", () => {
    const [e] = errors("apiVersion: v1\nkind: Pod\nkind: Pod\n");
    assert.match(e, /^test\.yaml:3:1: error: malformed YAML: Map keys must be unique/);
  });

  it("a document that is not an object", () => {
    assert.deepEqual(errors("just a string\n"), [
      'test.yaml:1:1: error: expected a Kubernetes object (a map with apiVersion and kind), found the string "just a string"\n  fix: each YAML document must be a map; separate documents with `---`',
    ]);
  });

  it("missing kind, apiVersion and name", () => {
    assert.deepEqual(
      errors(
        "apiVersion: v1\nmetadata: {name: x}\n---\nkind: Pod\nmetadata: {name: yy}\n---\napiVersion: v1\nkind: Service\nmetadata: {}\nspec: {ports: [{port: 1}]}\n",
      ),
      [
        "test.yaml:1:1: error: object x: kind: kind is required\n  fix: every object needs apiVersion and kind, e.g. kind: Pod",
        "test.yaml:4:1: error: Pod default/yy: apiVersion: apiVersion is required\n  fix: add the apiVersion, e.g. apiVersion: v1",
        "test.yaml:9:1: error: Service default/(unnamed): metadata.name: a name is required\n  fix: give the object a name",
      ],
    );
  });

  it("OpenShift Routes: a Service to send to, a valid target port", () => {
    assert.deepEqual(
      errors(
        "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: a, namespace: shop}\nspec: {to: {kind: Deployment, name: web}, port: {targetPort: 70000}}\n---\napiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: b, namespace: shop}\nspec: {host: x.example.com}\n",
      ),
      [
        "test.yaml:4:19: error: Route shop/a: spec.to.kind: a route sends to a Service, not a Deployment\n  fix: use kind: Service",
        "test.yaml:4:62: error: Route shop/a: spec.port.targetPort: target port 70000 is out of range (1-65535)\n  fix: use a target port between 1 and 65535",
        "test.yaml:9:1: error: Route shop/b: spec.to: spec.to is required\n  fix: add spec.to: {kind: Service, name: …}",
      ],
    );
  });

  it("unknown and removed apiVersions of known kinds", () => {
    assert.deepEqual(
      errors(
        "apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n---\napiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\n",
      ),
      [
        'test.yaml:1:13: error: Deployment default/d: apiVersion: "apps/v2" is not an apiVersion of kind Deployment\n  fix: use apiVersion: apps/v1',
        'test.yaml:6:13: error: CronJob default/c: apiVersion: "batch/v1beta1" no longer serves CronJob (removed from Kubernetes)\n  fix: use apiVersion: batch/v1',
      ],
    );
  });

  it("missing required fields and wrong types", () => {
    assert.deepEqual(
      errors(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: two\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c}]}}\n",
      ),
      [
        "test.yaml:4:20: error: Pod default/p: spec.containers: a pod needs at least one container\n  fix: add spec.containers",
        'test.yaml:10:13: error: Deployment default/d: spec.replicas: expected an integer replicas, found the string "two"\n  fix: write replicas as a number between 0 and 1000000',
        "test.yaml:9:1: error: Deployment default/d: spec.selector: spec.selector is required\n  fix: add spec.selector.matchLabels matching the template's labels",
      ],
    );
  });

  it("invalid names, labels and port names", () => {
    assert.deepEqual(
      errors(
        pod("Bad_Name", "").replace(
          "containers: [{name: c, image: x}]",
          "containers: [{name: c, image: x, ports: [{name: HTTP_PORT, containerPort: 80}]}]",
        ),
      ),
      [
        "test.yaml:3:18: error: Pod default/Bad_Name: metadata.name: \"Bad_Name\" is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)\n  fix: rename the object",
        "test.yaml:5:51: error: Pod default/Bad_Name: spec.containers[0].ports[0].name: \"HTTP_PORT\" is not a valid port name (at most 15 lower-case letters, digits and '-', with at least one letter, no \"--\", not starting or ending with '-')\n  fix: rename the port, e.g. http",
      ],
    );
  });

  it("ports out of range, duplicates, and nodePorts where they cannot be", () => {
    assert.deepEqual(
      errors(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - {name: a, port: 0}\n  - {name: b, port: 80, targetPort: 99999}\n  - {name: c, port: 80}\n  - {name: d, port: 81, nodePort: 30001}\n",
      ),
      [
        "test.yaml:6:21: error: Service default/s: spec.ports[0].port: port 0 is out of range (1-65535)\n  fix: use a port between 1 and 65535",
        "test.yaml:7:37: error: Service default/s: spec.ports[1].targetPort: targetPort 99999 is out of range (1-65535)\n  fix: use a targetPort between 1 and 65535",
        "test.yaml:8:21: error: Service default/s: spec.ports[2].port: port 80/TCP is listed twice\n  fix: remove the duplicate entry",
        "test.yaml:9:35: error: Service default/s: spec.ports[3].nodePort: a nodePort may not be used when type is ClusterIP\n  fix: remove nodePort, or set type: NodePort",
      ],
    );
  });

  it("admin policy ports: numbers out of range, in both API versions (a reversed v1alpha1 range is only warned of: test/findings.test.ts)", () => {
    assert.deepEqual(
      errors(
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n    ports:\n    - portNumber: {protocol: TCP, port: 70000}\n    - portRange: {protocol: UDP, start: 900, end: 80}\n---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: c}\nspec:\n  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  egress:\n  - action: Accept\n    to: [{namespaces: {}}]\n    protocols: [{udp: {destinationPort: {number: 0}}}]\n",
      ),
      [
        "test.yaml:11:41: error: AdminNetworkPolicy a: spec.ingress[0].ports[0].portNumber.port: port 70000 is out of range (1-65535)\n  fix: use a port between 1 and 65535",
        "test.yaml:24:50: error: ClusterNetworkPolicy c: spec.egress[0].protocols[0].udp.destinationPort.number: port 0 is out of range (1-65535)\n  fix: use a port between 1 and 65535",
      ],
    );
  });

  it("selectors that cannot parse, and a selector that misses its template", () => {
    assert.deepEqual(
      errors(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: x}}\n  template: {metadata: {labels: {app: other}}, spec: {containers: [{name: c}]}}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec:\n  podSelector: {matchExpressions: [{key: a, operator: In}]}\n",
      ),
      [
        "test.yaml:6:33: error: Deployment default/d: spec.template.metadata.labels: selector requires app=x but the template's labels do not have it\n  fix: add app: x to spec.template.metadata.labels",
        "test.yaml:12:36: error: NetworkPolicy default/np: spec.podSelector.matchExpressions[0].values: values must be non-empty when operator is In\n  fix: list at least one value, or use Exists/DoesNotExist",
      ],
    );
  });

  it("invalid and overlapping CIDRs in the Cluster config", () => {
    assert.deepEqual(
      errors(
        "apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n  clusterCIDR: 10.244.0.1/16\n  serviceCIDR: 10.0.0.0/12\n  nodeNetwork: 10.1.0.0/24\n",
      ),
      [
        'test.yaml:5:16: error: Cluster c: spec.clusterCIDR: "10.244.0.1/16" has host bits set; the network address is 10.244.0.0/16\n  fix: write a block such as 10.244.0.0/16 with its host bits zero',
        "test.yaml:7:16: error: Cluster c: spec.nodeNetwork: nodeNetwork 10.1.0.0/24 overlaps serviceCIDR 10.0.0.0/12\n  fix: pod, Service, node and load-balancer ranges must be disjoint: choose non-overlapping blocks",
      ],
    );
  });

  it("duplicate objects, pointing at the first definition", () => {
    assert.deepEqual(errors(`${pod("p")}---\n${pod("p")}`), [
      "test.yaml:9:18: error: Pod default/p: metadata.name: defined twice; the first definition is at test.yaml:1:1\n  fix: remove one of the two definitions or rename one",
    ]);
  });

  it("IP conflicts between running pods, and between Services", () => {
    const withIP = (n: string, ip: string) => pod(n, `status: {phase: Running, podIP: ${ip}}\n`);
    assert.deepEqual(errors(`${withIP("a", "10.244.0.5")}---\n${withIP("b", "10.244.0.5")}`), [
      "test.yaml:13:33: error: Pod default/b: status.podIP: pod IP 10.244.0.5 is already the IP of Pod default/a\n  fix: two running pods cannot share an address: remove or correct one status.podIP",
    ]);
    const svc = (n: string) =>
      `apiVersion: v1\nkind: Service\nmetadata: {name: ${n}}\nspec: {clusterIP: 10.96.5.5, ports: [{port: 80}]}\n`;
    assert.deepEqual(errors(`${svc("a")}---\n${svc("b")}`), [
      "test.yaml:9:19: error: Service default/b: spec.clusterIP: clusterIP 10.96.5.5 is already allocated to Service default/a\n  fix: remove clusterIP to get a free one, or choose another address",
    ]);
  });

  it("pools that run out: node podCIDRs, pod addresses, Service IPs, nodePorts, load balancers", () => {
    const cfg = (spec: string) =>
      `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c}\nspec:\n${spec}---\n`;
    assert.deepEqual(errors(cfg("  clusterCIDR: 10.244.0.0/23\n  nodes: 3\n")), [
      "test.yaml:5:16: error: spec.clusterCIDR: clusterCIDR 10.244.0.0/23 holds 2 podCIDRs of /24; 1 more node needs one\n  fix: widen spec.clusterCIDR or raise spec.nodeCIDRMaskSize (smaller per-node blocks) in the Cluster config",
    ]);
    const pods = Array.from({ length: 6 }, (_, i) => pod(`p${i}`)).join("---\n");
    assert.deepEqual(errors(cfg("  nodeCIDRMaskSize: 30\n  nodes: 1\n") + pods), [
      "error: Node node-1: node node-1's podCIDR 10.244.0.0/30 has 1 pod addresses; 5 more pods scheduled there got none\n  fix: lower nodeCIDRMaskSize in the Cluster config (bigger per-node blocks; now /30), or lower the node's allocatable pods",
    ]);
    const svcs = Array.from(
      { length: 3 },
      (_, i) =>
        `apiVersion: v1\nkind: Service\nmetadata: {name: s${i}}\nspec: {type: LoadBalancer, ports: [{port: 80}]}\n`,
    ).join("---\n");
    // An exhausted pool leaves the Services it cannot serve <pending> (MetalLB: AllocationFailed),
    // with a warning; it is no error, as the API server accepts them.
    const tight = cfg("  loadBalancerPool: [198.51.100.0/31]\n") + svcs;
    const given = cluster(tight).services.filter((s) => s.spec.type === "LoadBalancer");
    assert.deepEqual(
      given.map((s) => s.status?.loadBalancer?.ingress?.[0]?.ip),
      ["198.51.100.0", "198.51.100.1", undefined],
    );
    const exhausted = warnings(tight).filter((w) => w.includes("has no address left"));
    assert.equal(exhausted.length, 1);
    assert.match(
      exhausted[0],
      /^test\.yaml:\d+:\d+: warning: Service default\/s2: spec\.type: loadBalancerPool \(198\.51\.100\.0\/31\) has no address left for LoadBalancer Service default\/s2: EXTERNAL-IP stays <pending>/,
    );
    // An empty pool is no load-balancer implementation: the Services stay <pending>, with a warning.
    const none = cfg("  loadBalancerPool: []\n") + svcs;
    const state = cluster(none);
    const lbs = state.services.filter((s) => s.spec.type === "LoadBalancer");
    assert.equal(lbs.length, 3);
    for (const s of lbs)
      assert.equal(s.status?.loadBalancer?.ingress, undefined, `${s.metadata.name} has no address`);
    assert.deepEqual(
      warnings(none).filter((w) => w.includes("loadBalancerPool is empty")),
      [
        "test.yaml:10:14: warning: Service default/s0: spec.type: loadBalancerPool is empty, so LoadBalancer Services default/s0, default/s1, default/s2 get no address: EXTERNAL-IP stays <pending> (status.loadBalancer empty); ClusterIP and nodePorts still answer\n  fix: add an address range to spec.loadBalancerPool in the Cluster config (as a MetalLB IPAddressPool would), or use type NodePort",
      ],
    );
    const ips = Array.from(
      { length: 3 },
      (_, i) => `apiVersion: v1\nkind: Service\nmetadata: {name: s${i}}\nspec: {ports: [{port: 80}]}\n`,
    ).join("---\n");
    const full = errors(cfg("  serviceCIDR: 10.96.0.0/30\n  dnsServiceIP: 10.96.0.2\n") + ips);
    assert.equal(full.length, 3, full.join("\n"));
    assert.ok(full.every((e) => e.includes("serviceCIDR 10.96.0.0/30 has no free address left (2 usable)")));
  });

  it("nodePorts outside the range or taken twice", () => {
    const svc = (n: string, np: number) =>
      `apiVersion: v1\nkind: Service\nmetadata: {name: ${n}}\nspec: {type: NodePort, ports: [{port: 80, nodePort: ${np}}]}\n`;
    assert.deepEqual(errors(`${svc("a", 30100)}---\n${svc("b", 30100)}---\n${svc("c", 29999)}`), [
      "test.yaml:9:53: error: Service default/b: spec.ports[0].nodePort: nodePort 30100 is already allocated to Service default/a\n  fix: choose another nodePort, or omit it to get a free one",
      "test.yaml:14:53: error: Service default/c: spec.ports[0].nodePort: nodePort 29999 is not in the valid range 30000-32767\n  fix: use a port between 30000 and 32767, or omit nodePort to get one",
    ]);
  });

  it("reports problems of every file in one run", () => {
    const r = resolveManifests([
      { file: "one.yaml", text: "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {}\n" },
      { file: "two.yaml", text: "kind: [" },
    ]);
    assert.equal(r.ok, false);
    assert.deepEqual(
      r.diagnostics.map((d) => d.code),
      ["yaml-syntax", "missing-field"],
    );
  });

  it("never half-resolves: a run with errors returns no cluster", () => {
    const r = resolveYaml(
      `${pod("ok")}---\n${pod("bad").replace("containers: [{name: c, image: x}]", "containers: 3")}`,
    );
    assert.equal(r.ok, false);
    assert.equal(r.cluster, undefined);
  });
});

describe("inputs kubectl would not take as given", () => {
  it("an input without objects is an error, not an empty cluster (kubectl: no objects passed to apply)", () => {
    for (const text of ["", "---\n---\n", "# only a comment\n"]) {
      const r = resolveManifests([{ file: "empty.yaml", text }]);
      assert.equal(r.ok, false, JSON.stringify(text));
      assert.deepEqual(
        r.diagnostics.map((d) => `${d.origin?.file}: ${d.code}: ${d.message}`),
        ["empty.yaml: no-objects: the input holds no Kubernetes objects"],
      );
    }
  });

  it("a label value that looks like a date is the string it is (go-yaml keeps timestamps as strings)", () => {
    const s = cluster(
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {released: 2026-01-01}\nspec: {containers: [{name: c, image: x}]}\n",
    );
    assert.equal(s.pods.find((p) => p.metadata.name === "p")!.metadata.labels!.released, "2026-01-01");
  });

  it("a list inside a List's items is not an object, and Lists nested past 32 are refused", () => {
    assert.deepEqual(errors('{"apiVersion": "v1", "kind": "List", "items": [[]]}'), [
      "test.yaml:1:48: error: expected a Kubernetes object (a map with apiVersion and kind), found a list\n  fix: each YAML document must be a map; separate documents with `---`",
    ]);
    let deep = '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}';
    for (let i = 0; i < 3000; i++) deep = `{"kind": "List", "items": [${deep}]}`;
    const r = resolveManifests([{ file: "deep.json", text: deep }]);
    assert.equal(r.ok, false);
    assert.match(r.diagnostics[0].message, /Lists nested more than 32 deep/);
  });
});
