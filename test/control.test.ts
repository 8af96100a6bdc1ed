/**
 * The control plane against upstream behaviour: workload controllers, scheduler, node and pod IPAM,
 * Service allocation and the EndpointSlice controller.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fnv32a, uidFor } from "../src/core/control/names.ts";
import { CREATED_POD_STATUS } from "../src/core/control/pod-ipam.ts";
import { type Cidr, parseIPv4 } from "../src/core/net/ipv4.ts";
import { deployment, pod, cluster as resolveWith, service, warnings as warningsOf } from "./helpers.ts";

// These tests look at the controllers' work on the input's own objects, so the cluster DNS add-on that
// podnet supplies by default (test/supplied.test.ts) is switched off, as a user would switch it off.
const cfg = (spec: string) =>
  `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: t}\nspec:\n  supply: {clusterDNS: false}\n${spec}---\n`;
const withConfig = (files: Record<string, string> | string): Record<string, string> | string => {
  const texts = typeof files === "string" ? [files] : Object.values(files);
  if (texts.some((t) => t.includes("kind: Cluster"))) return files;
  return { "cluster.yaml": cfg(""), ...(typeof files === "string" ? { "test.yaml": files } : files) };
};
const cluster = (files: Record<string, string> | string) => resolveWith(withConfig(files));
const warnings = (files: Record<string, string> | string) => warningsOf(withConfig(files));
const nodesCfg = (n: number) => cfg(`  nodes: ${n}\n`);

describe("workload controllers", () => {
  it("Deployment → ReplicaSet <name>-<pod-template-hash> → pods <rs>-<5 chars>, owned and labelled", () => {
    const s = cluster(deployment("web", { replicas: 3 }));
    const rs = s.workloads.find((w) => w.kind === "ReplicaSet")!;
    const hash = rs.metadata.labels!["pod-template-hash"];
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.equal(rs.metadata.ownerReferences![0].kind, "Deployment");
    assert.deepEqual((rs.spec.selector as { matchLabels: object }).matchLabels, {
      app: "web",
      "pod-template-hash": hash,
    });
    assert.equal(s.pods.length, 3);
    for (const p of s.pods) {
      assert.match(p.metadata.name, new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      assert.deepEqual(p.metadata.labels, { app: "web", "pod-template-hash": hash });
      assert.equal(p.metadata.ownerReferences![0].name, rs.metadata.name);
      assert.equal(p.status?.phase, "Running");
    }
    assert.equal(new Set(s.pods.map((p) => p.metadata.name)).size, 3);
  });

  it("names are stable across runs and the hash follows the template", () => {
    const a = cluster(deployment("web", { replicas: 2 }));
    const b = cluster(deployment("web", { replicas: 2 }));
    assert.deepEqual(
      a.pods.map((p) => p.metadata.name),
      b.pods.map((p) => p.metadata.name),
    );
    const c = cluster(deployment("web", { replicas: 2, ports: "[{name: http, containerPort: 9090}]" }));
    assert.notEqual(
      a.pods[0].metadata.labels!["pod-template-hash"],
      c.pods[0].metadata.labels!["pod-template-hash"],
    );
  });

  it("a whole resolved cluster is deterministic", () => {
    const run = () =>
      JSON.stringify(cluster(`${deployment("a", { replicas: 4 })}---\n${deployment("b", { replicas: 3 })}`));
    assert.equal(run(), run());
  });

  it("StatefulSet pods are <name>-<ordinal> with stable hostname and subdomain", () => {
    const s = cluster(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db-headless
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: x}]}
`);
    assert.deepEqual(
      s.pods.map((p) => p.metadata.name),
      ["db-0", "db-1", "db-2"],
    );
    const p1 = pod(s, "default", "db-1");
    assert.equal(p1.spec.hostname, "db-1");
    assert.equal(p1.spec.subdomain, "db-headless");
    assert.equal(p1.metadata.labels!["statefulset.kubernetes.io/pod-name"], "db-1");
    assert.equal(p1.metadata.labels!["apps.kubernetes.io/pod-index"], "1");
  });

  it("DaemonSet: one pod per eligible node, honouring nodeSelector and taints", () => {
    const s = cluster(`${cfg(`  nodes:
    - {name: cp, labels: {node-role.kubernetes.io/control-plane: ""}, taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]}
    - {name: w1}
    - {name: w2, labels: {gpu: "yes"}}
`)}apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: gpu}
spec:
  selector: {matchLabels: {app: gpu}}
  template:
    metadata: {labels: {app: gpu}}
    spec:
      nodeSelector: {gpu: "yes"}
      containers: [{name: c, image: x}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: everywhere}
spec:
  selector: {matchLabels: {app: everywhere}}
  template:
    metadata: {labels: {app: everywhere}}
    spec:
      tolerations: [{operator: Exists}]
      containers: [{name: c, image: x}]
`);
    const on = (app: string) =>
      s.pods
        .filter((p) => p.metadata.labels?.app === app)
        .map((p) => p.spec.nodeName)
        .sort();
    assert.deepEqual(on("agent"), ["w1", "w2"]);
    assert.deepEqual(on("gpu"), ["w2"]);
    assert.deepEqual(on("everywhere"), ["cp", "w1", "w2"]);
  });

  it("Jobs run `parallelism` pods with job labels; finished and suspended Jobs run none; Indexed Jobs name by index", () => {
    const job = (name: string, spec: string, status = "") =>
      `apiVersion: batch/v1\nkind: Job\nmetadata: {name: ${name}}\nspec:\n${spec}  template:\n    spec: {restartPolicy: Never, containers: [{name: c, image: x}]}\n${status}---\n`;
    const s = cluster(
      job("par", "  parallelism: 2\n  completions: 5\n") +
        job("done", "  parallelism: 1\n", "status: {conditions: [{type: Complete, status: 'True'}]}\n") +
        job("sus", "  suspend: true\n") +
        job("idx", "  completionMode: Indexed\n  completions: 3\n  parallelism: 3\n"),
    );
    const of = (j: string) => s.pods.filter((p) => p.metadata.labels?.["job-name"] === j);
    assert.equal(of("par").length, 2);
    assert.equal(of("done").length, 0);
    assert.equal(of("sus").length, 0);
    const idx = of("idx").map((p) => p.metadata.name);
    assert.equal(idx.length, 3);
    idx.forEach((n, i) => {
      assert.match(n, new RegExp(`^idx-${i}-[a-z0-9]{5}$`));
    });
    const par = of("par")[0];
    const uid = s.workloads.find((w) => w.metadata.name === "par")!.metadata.uid;
    assert.equal(par.metadata.labels!["batch.kubernetes.io/controller-uid"], uid);
  });

  it("a CronJob runs one Job as if its schedule had fired; a suspended one runs none", () => {
    const cj = (name: string, extra: string) =>
      `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: ${name}}\nspec:\n  schedule: "*/5 * * * *"\n${extra}  jobTemplate:\n    spec:\n      template:\n        metadata: {labels: {app: ${name}}}\n        spec: {restartPolicy: OnFailure, containers: [{name: c, image: x}]}\n---\n`;
    const s = cluster(cj("report", "") + cj("paused", "  suspend: true\n"));
    const jobs = s.workloads.filter((w) => w.kind === "Job");
    assert.deepEqual(
      jobs.map((j) => j.metadata.name),
      ["report-29453760"],
    );
    assert.equal(jobs[0].metadata.ownerReferences![0].kind, "CronJob");
    assert.equal(s.pods.filter((p) => p.metadata.labels?.app === "report").length, 1);
    assert.equal(s.pods.filter((p) => p.metadata.labels?.app === "paused").length, 0);
  });

  it("ReplicationController: selector defaults to the template's labels", () => {
    const s = cluster(
      `apiVersion: v1\nkind: ReplicationController\nmetadata: {name: rc}\nspec:\n  replicas: 2\n  template:\n    metadata: {labels: {app: rc}}\n    spec: {containers: [{name: c, image: x}]}\n`,
    );
    assert.equal(s.pods.length, 2);
    assert.deepEqual(s.workloads[0].spec.selector, { app: "rc" });
  });

  it("what exists is honoured: an owned ReplicaSet and its pods are used, only missing replicas are created", () => {
    const s = cluster(`${deployment("web", { replicas: 2 })}---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-abc
  uid: rs-uid
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d-uid, controller: true}]
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-abc-existing
  labels: {app: web}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, uid: rs-uid, controller: true}]
spec: {nodeName: node-2, containers: [{name: c, image: x}]}
status: {phase: Running, podIP: 10.244.1.77}
`);
    assert.deepEqual(
      s.workloads.filter((w) => w.kind === "ReplicaSet").map((w) => w.metadata.name),
      ["web-abc"],
    );
    assert.equal(s.pods.length, 2);
    assert.equal(pod(s, "default", "web-abc-existing").status?.podIP, "10.244.1.77");
    assert.match(s.pods[1].metadata.name, /^web-abc-[a-z0-9]{5}$/);
  });
});

describe("scheduler", () => {
  it("spreads pods evenly and deterministically over fitting nodes", () => {
    const s = cluster(nodesCfg(3) + deployment("web", { replicas: 7 }));
    const per = new Map<string, number>();
    for (const p of s.pods) per.set(p.spec.nodeName!, (per.get(p.spec.nodeName!) ?? 0) + 1);
    assert.deepEqual([...per.values()].sort(), [2, 2, 3]);
  });

  it("respects nodeSelector, required node affinity and taints", () => {
    const nodes = cfg(`  nodes:
    - {name: a, labels: {disk: ssd}}
    - {name: b, labels: {disk: hdd}}
    - {name: c, taints: [{key: dedicated, value: ml, effect: NoSchedule}]}
`);
    const s = cluster(
      nodes +
        deployment("sel", { replicas: 3, spec: "      nodeSelector: {disk: ssd}\n" }) +
        "---\n" +
        deployment("aff", {
          replicas: 2,
          spec: "      affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: disk, operator: In, values: [hdd]}]}]}}}\n",
        }) +
        "---\n" +
        deployment("tol", {
          replicas: 3,
          spec: "      tolerations: [{key: dedicated, operator: Equal, value: ml, effect: NoSchedule}]\n",
        }) +
        "---\n" +
        deployment("plain", { replicas: 4 }),
    );
    const nodesOf = (app: string) =>
      new Set(s.pods.filter((p) => p.metadata.labels?.app === app).map((p) => p.spec.nodeName));
    assert.deepEqual(nodesOf("sel"), new Set(["a"]));
    assert.deepEqual(nodesOf("aff"), new Set(["b"]));
    assert.ok(nodesOf("tol").has("c"));
    assert.ok(!nodesOf("plain").has("c"), "an untolerated NoSchedule taint keeps pods off");
  });

  it("leaves pods Pending with the scheduler's reason when no node fits", () => {
    const text =
      nodesCfg(2) + deployment("nowhere", { replicas: 2, spec: "      nodeSelector: {zone: mars}\n" });
    const s = cluster(text);
    for (const p of s.pods) {
      assert.equal(p.status?.phase, "Pending");
      assert.equal(p.spec.nodeName, undefined);
      assert.equal(p.status?.podIP, undefined);
    }
    assert.deepEqual(
      warnings(text).map((w) => w.replace(/nowhere-\w+-\w+/g, "nowhere-X")),
      [
        "test.yaml:8:1: warning: Deployment default/nowhere: 2 pods could not be scheduled and stay Pending (first: default/nowhere-X: 0/2 nodes are available: 2 node(s) didn't match Pod's node selector (zone=mars))\n  fix: add nodes (spec.nodes in the Cluster config), or relax nodeSelector, affinity or tolerations",
      ],
    );
  });

  it("stops at a node's allocatable pods", () => {
    const s = cluster(
      `${cfg("  nodes: [a]\n")}apiVersion: v1\nkind: Node\nmetadata: {name: a}\nstatus: {allocatable: {pods: "2"}}\n---\n${deployment("web", { replicas: 3 })}`,
    );
    assert.equal(s.pods.filter((p) => p.spec.nodeName === "a").length, 2);
    assert.equal(s.pods.filter((p) => p.status?.phase === "Pending").length, 1);
  });

  it("creates a node that pods name but nothing defines, with a warning", () => {
    const text =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: ghost, containers: [{name: c}]}\n";
    assert.deepEqual(
      cluster(text).nodes.map((n) => n.name),
      ["ghost"],
    );
    assert.deepEqual(warnings(text), [
      'test.yaml:4:18: warning: Pod default/p: spec.nodeName: node "ghost" is not defined; podnet adds it\n  fix: add Node objects, or list the nodes in the Cluster config\'s spec.nodes',
    ]);
  });
});

describe("node IPAM and node addresses", () => {
  it("gives each node the next free podCIDR, skipping given ones, and node IPs from .2", () => {
    const s = cluster(
      `${cfg("  nodes: [n1, n2, n3]\n")}apiVersion: v1\nkind: Node\nmetadata: {name: n2}\nspec: {podCIDR: 10.244.0.0/24}\nstatus: {addresses: [{type: InternalIP, address: 172.18.0.9}]}\n`,
    );
    assert.deepEqual(
      s.nodes.map((n) => [n.name, n.podCIDR.toString(), n.obj.status!.addresses![0].address]),
      [
        ["n1", "10.244.1.0/24", "172.18.0.2"],
        ["n2", "10.244.0.0/24", "172.18.0.9"],
        ["n3", "10.244.2.0/24", "172.18.0.3"],
      ],
    );
    assert.equal(s.nodes[0].obj.spec!.podCIDR, "10.244.1.0/24");
    assert.equal(s.nodes[0].labels["kubernetes.io/hostname"], "n1");
    assert.equal(s.nodes[0].labels["kubernetes.io/os"], "linux");
  });

  it("defaults to two nodes when nothing names any", () => {
    assert.deepEqual(
      cluster(deployment("x")).nodes.map((n) => n.name),
      ["node-1", "node-2"],
    );
  });
});

describe("pod IPAM (host-local)", () => {
  it("hands out addresses from the podCIDR's second address, never the gateway, network or broadcast", () => {
    const s = cluster(cfg("  nodes: 1\n  nodeCIDRMaskSize: 29\n") + deployment("web", { replicas: 5 }));
    assert.deepEqual(
      s.pods.map((p) => p.status?.podIP),
      ["10.244.0.2", "10.244.0.3", "10.244.0.4", "10.244.0.5", "10.244.0.6"],
    );
  });

  it("keeps given IPs, allocates around them, and gives hostNetwork pods the node IP", () => {
    const s = cluster(`${cfg("  nodes: 1\n")}apiVersion: v1
kind: Pod
metadata: {name: fixed}
spec: {nodeName: node-1, containers: [{name: c}]}
status: {phase: Running, podIP: 10.244.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: done}
spec: {nodeName: node-1, containers: [{name: c}]}
status: {phase: Succeeded, podIP: 10.244.0.3}
---
apiVersion: v1
kind: Pod
metadata: {name: host}
spec: {hostNetwork: true, containers: [{name: c}]}
---
${deployment("web", { replicas: 2 })}`);
    assert.equal(pod(s, "default", "fixed").status?.podIP, "10.244.0.2");
    assert.equal(pod(s, "default", "host").status?.podIP, "172.18.0.2");
    const web = s.pods.filter((p) => p.metadata.labels?.app === "web").map((p) => p.status?.podIP);
    // 10.244.0.3 belonged to a Succeeded pod: a terminal pod holds no address.
    assert.deepEqual(web, ["10.244.0.3", "10.244.0.4"]);
  });

  it("every running pod in a large cluster has a unique IP inside its node's podCIDR", () => {
    const apps = Array.from({ length: 20 }, (_, i) => deployment(`app${i}`, { replicas: 15 })).join("---\n");
    const s = cluster(cfg("  nodes: 7\n") + apps);
    const cidr = new Map(s.nodes.map((n) => [n.name, n.podCIDR]));
    const seen = new Set<string>();
    for (const p of s.pods) {
      const ip = p.status!.podIP!;
      assert.ok(!seen.has(ip), `duplicate ${ip}`);
      seen.add(ip);
      const c = cidr.get(p.spec.nodeName!) as Cidr;
      assert.ok(c.contains(parseIPv4(ip)!), `${ip} outside ${c}`);
      assert.notEqual(parseIPv4(ip), c.nth(1), "the gateway is never a pod IP");
    }
    assert.equal(seen.size, 300);
  });
});

describe("Service allocation", () => {
  const svc = (name: string, spec: string, ns = "default") =>
    `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${spec}---\n`;

  it("reserves the first address for default/kubernetes and dnsServiceIP for kube-system/kube-dns", () => {
    const s = cluster(svc("kube-dns", "  ports: [{name: dns, port: 53, protocol: UDP}]\n", "kube-system"));
    assert.equal(service(s, "default", "kubernetes").spec.clusterIP, "10.96.0.1");
    assert.equal(service(s, "kube-system", "kube-dns").spec.clusterIP, "10.96.0.10");
  });

  it("allocates dynamic ClusterIPs from the upper band, stable when other Services come and go", () => {
    const one = cluster(svc("a", "  ports: [{port: 80}]\n"));
    const two = cluster(svc("b", "  ports: [{port: 80}]\n") + svc("a", "  ports: [{port: 80}]\n"));
    const ip = service(one, "default", "a").spec.clusterIP!;
    assert.equal(service(two, "default", "a").spec.clusterIP, ip);
    const offset = parseIPv4(ip)! - parseIPv4("10.96.0.0")!;
    assert.ok(offset >= 256, `dynamic addresses avoid the static band (offset ${offset})`);
    assert.deepEqual(service(one, "default", "a").spec.clusterIPs, [ip]);
    assert.deepEqual(service(one, "default", "a").spec.ipFamilies, ["IPv4"]);
  });

  it("applies the API server's defaults", () => {
    const s = cluster(
      svc("a", "  ports: [{port: 80}]\n") + svc("np", "  type: NodePort\n  ports: [{port: 80}]\n"),
    );
    const a = service(s, "default", "a");
    assert.equal(a.spec.type, "ClusterIP");
    assert.equal(a.spec.sessionAffinity, "None");
    assert.equal(a.spec.internalTrafficPolicy, "Cluster");
    assert.deepEqual(a.spec.ports, [{ port: 80, protocol: "TCP", targetPort: 80 }]);
    assert.equal(service(s, "default", "np").spec.externalTrafficPolicy, "Cluster");
  });

  it("allocates nodePorts in range, shares one across protocols of the same port, keeps given ones", () => {
    const s = cluster(
      svc(
        "dns",
        "  type: NodePort\n  ports: [{name: u, port: 53, protocol: UDP}, {name: t, port: 53, protocol: TCP}]\n",
      ) + svc("fixed", "  type: NodePort\n  ports: [{port: 80, nodePort: 30080}]\n"),
    );
    const [u, t] = service(s, "default", "dns").spec.ports!;
    assert.equal(u.nodePort, t.nodePort);
    assert.ok(
      u.nodePort! >= 30086 && u.nodePort! <= 32767,
      `dynamic nodePort ${u.nodePort} comes from the upper band`,
    );
    assert.equal(service(s, "default", "fixed").spec.ports![0].nodePort, 30080);
  });

  it("gives LoadBalancers the pool's lowest free address and nodePorts; Local policy gets a healthCheckNodePort", () => {
    const s = cluster(
      svc("keep", "  type: LoadBalancer\n  ports: [{port: 80}]\n").replace(
        "---\n",
        "status: {loadBalancer: {ingress: [{ip: 198.51.100.1}]}}\n---\n",
      ) +
        svc("lb", "  type: LoadBalancer\n  externalTrafficPolicy: Local\n  ports: [{port: 443}]\n") +
        svc(
          "nonp",
          "  type: LoadBalancer\n  allocateLoadBalancerNodePorts: false\n  ports: [{port: 8443}]\n",
        ),
    );
    assert.equal(service(s, "default", "keep").status?.loadBalancer?.ingress?.[0].ip, "198.51.100.1");
    const lb = service(s, "default", "lb");
    assert.equal(lb.status?.loadBalancer?.ingress?.[0].ip, "198.51.100.2");
    assert.ok(lb.spec.ports![0].nodePort);
    assert.ok(lb.spec.healthCheckNodePort! >= 30000);
    assert.equal(service(s, "default", "nonp").spec.ports![0].nodePort, undefined);
  });

  it("headless Services get no virtual IP; ExternalName Services no clusterIP at all", () => {
    const s = cluster(
      svc("h", "  clusterIP: None\n  selector: {app: x}\n  ports: [{port: 80}]\n") +
        svc("ext", "  type: ExternalName\n  externalName: db.example.com\n"),
    );
    assert.deepEqual(service(s, "default", "h").spec.clusterIPs, ["None"]);
    assert.equal(service(s, "default", "ext").spec.clusterIP, undefined);
  });

  it("warns once, with a count, when given addresses lie outside the configured ranges", () => {
    const given = Array.from({ length: 3 }, (_, i) =>
      svc(`s${i}`, `  clusterIP: 10.43.0.${i + 5}\n  ports: [{port: 80}]\n`),
    ).join("");
    assert.deepEqual(warnings(given), [
      "test.yaml:5:14: warning: Service default/s0: spec.clusterIP: 3 Service clusterIPs lie outside serviceCIDR 10.96.0.0/12 (first: default/s0 10.43.0.5); kept as given\n  fix: set spec.serviceCIDR in the Cluster config to the cluster's Service range",
    ]);
  });
});

describe("EndpointSlice controller", () => {
  const svc = (spec: string) =>
    `---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n${spec}`;
  const slicesOf = (s: ReturnType<typeof cluster>) =>
    s.endpointSlices.filter((x) => x.metadata.labels?.["kubernetes.io/service-name"] === "web");

  it("resolves named target ports per pod, grouping pods by port set", () => {
    const podWith = (name: string, port: number, proto = "TCP") =>
      `---\napiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, labels: {app: web}}\nspec: {containers: [{name: c, ports: [{name: http, containerPort: ${port}, protocol: ${proto}}]}]}\n`;
    const s = cluster(
      podWith("a", 8080) +
        podWith("b", 8080) +
        podWith("c", 9090) +
        podWith("u", 7000, "UDP") +
        svc("  ports: [{port: 80, targetPort: http}]\n"),
    );
    const slices = slicesOf(s);
    const byPort = slices.map((sl) => [
      sl.ports!.map((p) => p.port),
      sl.endpoints.map((e) => e.targetRef!.name),
    ]);
    assert.deepEqual(byPort, [
      [[8080], ["a", "b"]],
      [[9090], ["c"]],
      [[], ["u"]],
    ]);
    for (const sl of slices) {
      assert.equal(
        sl.metadata.labels!["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io",
      );
      assert.match(sl.metadata.name, /^web-[a-z0-9]{5}$/);
    }
  });

  it("resolves a named target port per pod template: each Deployment's pods by their own port", () => {
    const deploy = (name: string, port: number, replicas: number) =>
      `---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}}\nspec:\n  replicas: ${replicas}\n  selector: {matchLabels: {app: web, v: ${name}}}\n  template:\n    metadata: {labels: {app: web, v: ${name}}}\n    spec: {containers: [{name: c, ports: [{name: http, containerPort: ${port}}]}]}\n`;
    const s = cluster(
      `${deploy("one", 8080, 3) + deploy("two", 9090, 2)}${svc("  ports: [{port: 80, targetPort: http}]\n")}`,
    );
    // Port set → the Deployments its endpoints come from (group order follows the pods' addresses).
    const byPort = Object.fromEntries(
      slicesOf(s).map((sl) => [
        sl.ports!.map((p) => `${p.name}/${p.protocol}/${p.port}`).join(","),
        sl.endpoints.map((e) => e.targetRef!.name.split("-")[0]).sort(),
      ]),
    );
    assert.deepEqual(byPort, {
      "/TCP/8080": ["one", "one", "one"],
      "/TCP/9090": ["two", "two"],
    });
  });

  it("sets ready/serving/terminating as the controller does, and honours publishNotReadyAddresses", () => {
    const p = (name: string, extra: string, status: string) =>
      `---\napiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, labels: {app: web}${extra}}\nspec: {containers: [{name: c}]}\nstatus: ${status}\n`;
    const pods =
      p("ready", "", "{phase: Running, podIP: 10.244.0.10, conditions: [{type: Ready, status: 'True'}]}") +
      p(
        "notready",
        "",
        "{phase: Running, podIP: 10.244.0.11, conditions: [{type: Ready, status: 'False'}]}",
      ) +
      p(
        "leaving",
        ", deletionTimestamp: '2026-01-01T00:00:00Z'",
        "{phase: Running, podIP: 10.244.0.12, conditions: [{type: Ready, status: 'True'}]}",
      ) +
      p("finished", "", "{phase: Succeeded, podIP: 10.244.0.13}");
    const conds = (s: ReturnType<typeof cluster>) =>
      Object.fromEntries(slicesOf(s)[0].endpoints.map((e) => [e.targetRef!.name, e.conditions]));
    assert.deepEqual(conds(cluster(pods + svc("  ports: [{port: 80}]\n"))), {
      ready: { ready: true, serving: true, terminating: false },
      notready: { ready: false, serving: false, terminating: false },
      leaving: { ready: false, serving: true, terminating: true },
    });
    assert.deepEqual(
      conds(cluster(pods + svc("  publishNotReadyAddresses: true\n  ports: [{port: 80}]\n"))),
      {
        ready: { ready: true, serving: true, terminating: false },
        notready: { ready: true, serving: true, terminating: false },
        leaving: { ready: true, serving: true, terminating: true },
      },
    );
  });

  it("splits at 100 endpoints per slice and records node, zone and hostname", () => {
    const s = cluster(
      `${cfg("  nodes: [{name: n1, labels: {topology.kubernetes.io/zone: z1}}]\n  nodeCIDRMaskSize: 23\n")}apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {allocatable: {pods: "500"}}\n---\n` +
        deployment("web", { replicas: 150 }) +
        svc("  ports: [{port: 80}]\n"),
    );
    const slices = slicesOf(s);
    assert.deepEqual(
      slices.map((x) => x.endpoints.length),
      [100, 50],
    );
    assert.equal(slices[0].endpoints[0].nodeName, "n1");
    assert.equal(slices[0].endpoints[0].zone, "z1");
  });

  it("sets an endpoint's hostname when the pod's subdomain names the Service", () => {
    const s = cluster(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: web}}\nspec: {hostname: h1, subdomain: web, containers: [{name: c}]}\n" +
        svc("  clusterIP: None\n  ports: [{port: 80}]\n"),
    );
    assert.equal(slicesOf(s)[0].endpoints[0].hostname, "h1");
  });

  it("uses given slices as they are and mirrors given v1 Endpoints of selectorless Services", () => {
    const s = cluster(`apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {ports: [{port: 5432}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: ext}
subsets:
  - addresses: [{ip: 192.0.2.10}]
    notReadyAddresses: [{ip: 192.0.2.11}]
    ports: [{port: 5432}]
`);
    const [sl] = s.endpointSlices.filter((x) => x.metadata.labels?.["kubernetes.io/service-name"] === "ext");
    assert.equal(
      sl.metadata.labels!["endpointslice.kubernetes.io/managed-by"],
      "endpointslicemirroring-controller.k8s.io",
    );
    assert.deepEqual(
      sl.endpoints.map((e) => [e.addresses[0], e.conditions.ready]),
      [
        ["192.0.2.10", true],
        ["192.0.2.11", false],
      ],
    );
  });
});

describe("parts shared between generated objects are frozen", () => {
  // The control plane shares some parts instead of copying them per pod (150,000 pods): a template's
  // labels between its pods, a pod's endpoint between Services (its address list and targetRef with
  // every Service), a node's hostIPs between its pods. They are frozen, so a stage that wrote one
  // (and so changed every object sharing it) throws here and in every test of the later stages.
  const s = cluster(
    deployment("web", { replicas: 3 }) +
      "---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n" +
      "---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {selector: {app: web}, ports: [{port: 81}]}\n" +
      "---\napiVersion: v1\nkind: Service\nmetadata: {name: c}\nspec: {selector: {app: web}, ports: [{port: 82}], publishNotReadyAddresses: true}\n",
  );
  const endpointsOf = (name: string) =>
    s.endpointSlices
      .filter((x) => x.metadata.labels?.["kubernetes.io/service-name"] === name)
      .flatMap((x) => x.endpoints);

  it("a template's pods share one frozen labels object", () => {
    const [p, q] = s.pods;
    assert.equal(p.metadata.labels, q.metadata.labels);
    assert.ok(Object.isFrozen(p.metadata.labels));
    assert.throws(() => {
      p.metadata.labels!.app = "other";
    }, TypeError);
    assert.equal(q.metadata.labels!.app, "web");
  });

  it("a pod's endpoint is one frozen object across Services; a publishing Service's are its own", () => {
    const [a, b, c] = [endpointsOf("a"), endpointsOf("b"), endpointsOf("c")];
    assert.equal(a.length, 3);
    for (let i = 0; i < a.length; i++) {
      assert.equal(a[i], b[i]);
      assert.notEqual(a[i], c[i]);
      assert.equal(a[i].addresses, c[i].addresses);
      assert.equal(a[i].targetRef, c[i].targetRef);
    }
    assert.ok(Object.isFrozen(a[0]));
    assert.throws(() => {
      a[0].nodeName = "other";
    }, TypeError);
    assert.throws(() => {
      c[0].addresses.push("10.0.0.1");
    }, TypeError);
    assert.throws(() => {
      c[0].targetRef!.name = "other";
    }, TypeError);
  });

  it("created pods share one frozen Pending status until the kubelet runs them", () => {
    assert.ok(Object.isFrozen(CREATED_POD_STATUS));
    assert.throws(() => {
      (CREATED_POD_STATUS as { phase?: string }).phase = "Running";
    }, TypeError);
    assert.equal(CREATED_POD_STATUS.phase, "Pending");
    // Running pods each own their status, built whole (same keys, in the kubelet's order).
    const [p, q] = s.pods;
    assert.notEqual(p.status, CREATED_POD_STATUS);
    assert.notEqual(p.status, q.status);
    assert.deepEqual(Object.keys(p.status!), ["phase", "podIP", "podIPs", "hostIP", "hostIPs", "conditions"]);
    // A created pod no node takes is Pending with its own status (the scheduler's reason).
    const stuck = resolveWith(deployment("web", { spec: "      nodeSelector: {disk: none}\n" })).pods[0];
    assert.notEqual(stuck.status, CREATED_POD_STATUS);
    assert.equal(stuck.status?.phase, "Pending");
    assert.equal((stuck.status?.conditions?.[0] as { reason?: string })?.reason, "Unschedulable");
  });

  it("a created pod's spec is a copy of its template's, even with an own __proto__ key (JSON)", () => {
    const dep = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "default" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "x" }] } },
      },
    };
    const text = JSON.stringify(dep).replace(
      '"spec":{"containers"',
      '"spec":{"__proto__":{"x":1},"containers"',
    );
    const { pods, workloads } = resolveWith({ "d.json": text });
    const template = workloads.find((w) => w.kind === "Deployment")!.spec.template!.spec;
    assert.ok(Object.hasOwn(template, "__proto__"));
    const web = pods.filter((p) => p.metadata.name.startsWith("web-"));
    assert.equal(web.length, 2);
    for (const p of web) {
      assert.notEqual(p.spec, template);
      assert.equal(Object.getPrototypeOf(p.spec), Object.prototype);
      assert.deepEqual(Object.keys(p.spec), ["__proto__", "containers", "nodeName"]);
      assert.equal(p.spec.containers, template.containers);
    }
  });

  it("pods on one node share its frozen hostIPs", () => {
    const onNode = s.pods.filter((p) => p.spec.nodeName === s.pods[0].spec.nodeName);
    const hostIPs = onNode[0].status!.hostIPs!;
    assert.ok(Object.isFrozen(hostIPs) && Object.isFrozen(hostIPs[0]));
    for (const p of onNode) assert.equal(p.status!.hostIPs, hostIPs);
  });
});

describe("uidFor", () => {
  it("is the 8-4-4-4-12 hex of four chained FNV-1a hashes, version 4, variant 8", () => {
    const hex8 = (n: number) => n.toString(16).padStart(8, "0");
    for (const key of [
      "Pod/default/web-abcde",
      "Namespace/kube-system",
      "",
      "Pod/ns/ünïcode",
      "x".repeat(300),
    ]) {
      const a = fnv32a(key);
      const b = fnv32a(key, a);
      const c = fnv32a(key, b);
      const d = fnv32a(key, c);
      const want = `${hex8(a)}-${hex8(b).slice(0, 4)}-4${hex8(b).slice(5)}-8${hex8(c).slice(1, 4)}-${hex8(c).slice(4)}${hex8(d)}`;
      assert.equal(uidFor(key), want, key);
    }
    assert.equal(uidFor("Pod/a/b"), "c426d6e5-9535-41c5-85d0-92e5a23065c5");
  });
});

describe("EndpointSlice endpoint order", () => {
  it("is by address, pods of one address (hostNetwork on one node, IPv6) by name, as the controller sorts", () => {
    const bare = (name: string, extra: string) =>
      `---\napiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, labels: {app: h}}\nspec:\n  nodeName: n1\n${extra}  containers: [{name: c, image: x}]\n`;
    const s = resolveWith(
      "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n" +
        bare("zz", "  hostNetwork: true\n") +
        bare("mm", "") +
        bare("aa", "  hostNetwork: true\n") +
        bare("kk", "  hostNetwork: true\n") +
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: h}\nspec: {selector: {app: h}, ports: [{port: 80}]}\n",
    );
    const names = s.endpointSlices
      .filter((x) => x.metadata.labels?.["kubernetes.io/service-name"] === "h")
      .flatMap((x) => x.endpoints.map((e) => e.targetRef!.name));
    const node = s.pods.find((p) => p.metadata.name === "aa")!.status!.podIP!;
    const own = s.pods.find((p) => p.metadata.name === "mm")!.status!.podIP!;
    const [a, b] = [node, own].map((ip) => ip.split(".").reduce((k, o) => k * 256 + Number(o), 0));
    // The node's address and the pod's own are ordered numerically; the node's pods among themselves by name.
    const hostPods = ["aa", "kk", "zz"];
    assert.deepEqual(names, a < b ? [...hostPods, "mm"] : ["mm", ...hostPods]);
  });
});
