/**
 * What every real cluster has, podnet has too (README, "What podnet supplies"): kubelet's node labels
 * and kubeadm's CoreDNS add-on where the input lacks them, one warning each, each switched off by the
 * Cluster config; and commands whose answer is empty because no pod runs say so.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { formatDiagnostic } from "../src/core/diagnostics.ts";
import { cluster, deployment, pod, resolveYaml, runPodnet, service } from "./helpers.ts";

/** Every warning of a run (helpers.ts's `warnings` leaves out the notices this file checks). */
const warnings = (files: Record<string, string> | string) =>
  resolveYaml(files)
    .diagnostics.filter((d) => d.severity === "warning")
    .map(formatDiagnostic);

const SOCKS = "test/fixtures/supplied/socks.yaml";
const socks = readFileSync(SOCKS, "utf8");
const cfg = (spec: string) =>
  `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: t}\nspec:\n${spec}`;
const LABELS_OFF = cfg("  supply: {nodeLabels: false}\n");
const DNS_OFF = cfg("  supply: {clusterDNS: false}\n");

describe("kubelet's node labels", () => {
  it("sock shop's beta.kubernetes.io/os nodeSelector: all 14 pods schedule on the implicit nodes", () => {
    const s = cluster({ "socks.yaml": socks });
    const shop = s.pods.filter((p) => p.metadata.namespace === "socks");
    assert.equal(shop.length, 14);
    assert.deepEqual(
      shop.filter((p) => p.status?.phase !== "Running").map((p) => p.metadata.name),
      [],
    );
    for (const n of s.nodes)
      assert.deepEqual(n.obj.metadata.labels, {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": n.name,
        "kubernetes.io/os": "linux",
      });
  });

  it("switched off, the same pods stay Pending with the scheduler's reason", () => {
    const s = cluster({ "socks.yaml": socks, "cluster.yaml": LABELS_OFF });
    const shop = s.pods.filter((p) => p.metadata.namespace === "socks");
    assert.equal(shop.filter((p) => p.status?.phase === "Pending").length, 14);
    assert.deepEqual(s.nodes[0].obj.metadata.labels, {});
  });

  it("declared Node objects get the labels they lack, theirs win, and one warning counts them", () => {
    const nodes =
      "apiVersion: v1\nkind: Node\nmetadata: {name: a, labels: {kubernetes.io/arch: arm64, beta.kubernetes.io/os: windows}}\n---\n" +
      "apiVersion: v1\nkind: Node\nmetadata: {name: b}\n---\n" +
      "apiVersion: v1\nkind: Node\nmetadata:\n  name: c\n  labels: {beta.kubernetes.io/arch: amd64, beta.kubernetes.io/os: linux, kubernetes.io/arch: amd64, kubernetes.io/hostname: c, kubernetes.io/os: linux}\n";
    const files = { "nodes.yaml": nodes, "dns.yaml": DNS_OFF };
    const s = cluster(files);
    const labels = (name: string) => s.nodes.find((n) => n.name === name)!.labels;
    assert.equal(labels("a")["kubernetes.io/arch"], "arm64");
    // The twins follow what the Node says it is (kubelet sets both from one GOOS/GOARCH).
    assert.equal(labels("a")["beta.kubernetes.io/arch"], "arm64");
    assert.equal(labels("a")["kubernetes.io/os"], "windows");
    assert.equal(labels("a")["beta.kubernetes.io/os"], "windows");
    assert.equal(labels("b")["kubernetes.io/hostname"], "b");
    assert.equal(labels("b")["beta.kubernetes.io/os"], "linux");
    assert.deepEqual(warnings(files), [
      "nodes.yaml:3:29: warning: Node a: metadata.labels: 2 Node objects lack labels kubelet sets on registration (first: a); podnet adds them (kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch and the beta.kubernetes.io/ twins)\n  fix: to keep the Nodes' labels as given, set spec.supply.nodeLabels: false in the Cluster config",
    ]);
  });

  it("the architecture is the config's choice, and must be a label value", () => {
    const s = cluster({ "c.yaml": cfg("  nodeArch: arm64\n  supply: {clusterDNS: false}\n") });
    assert.equal(s.nodes[0].labels["kubernetes.io/arch"], "arm64");
    assert.equal(s.nodes[0].labels["beta.kubernetes.io/arch"], "arm64");
    const bad = resolveYaml({ "c.yaml": cfg("  nodeArch: ARM 64\n") });
    assert.equal(bad.ok, false);
    assert.match(
      bad.diagnostics.map((d) => d.message).join("\n"),
      /"ARM 64" is not an architecture name kubelet reports/,
    );
    const typo = resolveYaml({ "c.yaml": cfg("  supply: {clusterDns: false}\n") });
    assert.equal(typo.ok, false);
    assert.match(
      typo.diagnostics.map(formatDiagnostic).join("\n"),
      /c\.yaml:5:24: error: Cluster t: spec\.supply\.clusterDns: unknown field "clusterDns"\n {2}fix: did you mean clusterDNS\? \(field names are case-sensitive\)/,
    );
  });
});

describe("cluster DNS", () => {
  const app = deployment("web", { replicas: 3 });

  it("an application without DNS gets kube-system/kube-dns and two CoreDNS pods as kubeadm makes them", () => {
    const s = cluster(app);
    const svc = service(s, "kube-system", "kube-dns");
    assert.equal(svc.spec.clusterIP, "10.96.0.10");
    assert.deepEqual(
      svc.spec.ports!.map((p) => [p.name, p.port, p.protocol, p.targetPort]),
      [
        ["dns", 53, "UDP", 53],
        ["dns-tcp", 53, "TCP", 53],
        ["metrics", 9153, "TCP", 9153],
      ],
    );
    assert.equal(svc.metadata.labels?.["k8s-app"], "kube-dns");
    const coredns = s.pods.filter((p) => p.metadata.namespace === "kube-system");
    assert.equal(coredns.length, 2);
    for (const p of coredns) {
      assert.match(p.metadata.name, /^coredns-\w+-\w{5}$/);
      assert.equal(p.metadata.labels?.["k8s-app"], "kube-dns");
      assert.equal(p.status?.phase, "Running");
      assert.equal(p.spec.dnsPolicy, "Default");
      assert.deepEqual(
        p.spec.containers[0].ports!.map((x) => `${x.name} ${x.containerPort}/${x.protocol}`),
        [
          "dns 53/UDP",
          "dns-tcp 53/TCP",
          "metrics 9153/TCP",
          "liveness-probe 8080/TCP",
          "readiness-probe 8181/TCP",
        ],
      );
    }
    const eps = s.endpointSlices
      .filter((e) => e.metadata.labels?.["kubernetes.io/service-name"] === "kube-dns")
      .flatMap((e) => e.endpoints.map((x) => x.addresses[0]));
    assert.deepEqual(eps.sort(), coredns.map((p) => p.status!.podIP!).sort());
    assert.equal(s.workloads.find((w) => w.metadata.name === "coredns")?.spec.replicas, 2);
  });

  it("the supplied pods come after the input's: no input pod changes node or address", () => {
    const a = cluster(app);
    const b = cluster({ "app.yaml": app, "c.yaml": DNS_OFF });
    const place = (s: typeof a) =>
      s.pods
        .filter((p) => p.metadata.namespace === "default")
        .map((p) => `${p.metadata.name} ${p.spec.nodeName} ${p.status?.podIP}`);
    assert.deepEqual(place(a), place(b));
    assert.equal(
      b.services.some((x) => x.metadata.name === "kube-dns"),
      false,
    );
  });

  it("says so once; nothing is supplied when the input has kube-dns; only the Service when it has the pods", () => {
    assert.deepEqual(
      warnings(app).filter((w) => w.includes("kube-dns")),
      [
        "warning: no Service kube-system/kube-dns in the input: podnet supplies kubeadm's CoreDNS add-on (Service kube-system/kube-dns at dnsServiceIP 10.96.0.10, Deployment kube-system/coredns with 2 pods), as every cluster has one\n  fix: to analyse the manifests alone, set spec.supply.clusterDNS: false in the Cluster config (podnet.dev/v1alpha1)",
      ],
    );
    const shop = cluster({ "shop.yaml": readFileSync("examples/shop/10-kube-system.yaml", "utf8") });
    assert.equal(shop.workloads.filter((w) => w.metadata.name === "coredns").length <= 1, true);
    assert.equal(shop.services.filter((x) => x.metadata.name === "kube-dns").length, 1);
    const own = deployment("my-dns", { ns: "kube-system", labels: { "k8s-app": "kube-dns" }, replicas: 1 });
    const s = cluster(own);
    assert.equal(s.pods.filter((p) => p.metadata.namespace === "kube-system").length, 1);
    assert.equal(pod(s, "kube-system", s.pods[0].metadata.name).metadata.labels?.["k8s-app"], "kube-dns");
    assert.equal(service(s, "kube-system", "kube-dns").spec.clusterIP, "10.96.0.10");
  });

  it("the two CoreDNS pods go to different hosts when they can, as their preferred anti-affinity asks", () => {
    // node-1 fuller than node-2: the fewest-pods rule alone would put both on node-2.
    const given =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {nodeName: node-1, containers: [{name: c}]}\n---\n" +
      "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {nodeName: node-1, containers: [{name: c}]}\n";
    const s = cluster({ "c.yaml": cfg("  nodes: 2\n"), "p.yaml": given });
    assert.deepEqual(
      s.pods
        .filter((p) => p.metadata.namespace === "kube-system")
        .map((p) => p.spec.nodeName)
        .sort(),
      ["node-1", "node-2"],
    );
    const one = cluster({ "c.yaml": cfg("  nodes: 1\n") });
    assert.deepEqual(
      one.pods.map((p) => `${p.spec.nodeName} ${p.status?.phase}`),
      ["node-1 Running", "node-1 Running"],
      "a preference, not a requirement",
    );
  });

  it("supplied pods never exhaust a pool the input's pods fit in: they stay Pending with the reason", () => {
    const files = { "c.yaml": cfg("  nodeCIDRMaskSize: 30\n  nodes: 1\n"), "app.yaml": deployment("web") };
    const r = resolveYaml(files);
    assert.ok(r.ok, r.diagnostics.map(formatDiagnostic).join("\n"));
    assert.equal(pod(r.cluster, "default", r.cluster.pods[0].metadata.name).status?.podIP, "10.244.0.2");
    const coredns = r.cluster.pods.filter((p) => p.metadata.namespace === "kube-system");
    assert.deepEqual(
      coredns.map((p) => p.status?.phase),
      ["Pending", "Pending"],
    );
    assert.ok(
      warnings(files).some((w) =>
        w.startsWith(
          "warning: 2 supplied CoreDNS pods stay Pending: the input's pods take every address of their nodes' podCIDR",
        ),
      ),
    );
  });

  it("names resolve, trace --to NAME and lint's DNS check work on application manifests", () => {
    const s = cluster({ "socks.yaml": socks });
    const fe = s.pods.find((p) => p.metadata.labels?.name === "front-end")!;
    const from = `socks/${fe.metadata.name}`;
    const r = runPodnet(["resolve", "-f", SOCKS, "--from", from, "catalogue"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /catalogue\.socks\.svc\.cluster\.local\. A @10\.96\.0\.10 → /);
    const t = runPodnet(["trace", "-f", SOCKS, "--from", from, "--to", "catalogue:80", "-o", "json"]);
    assert.equal(t.code, 0, t.err);
    assert.equal(JSON.parse(t.out).verdict, "delivered");
    const l = runPodnet(["lint", "-f", SOCKS, "-o", "json"]);
    assert.deepEqual(JSON.parse(l.out).skipped, []);
  });
});

describe("silence is never success", () => {
  const off = (args: string[]) => runPodnet([...args, "-f", SOCKS, "-f", "-"], LABELS_OFF);
  const reason =
    "0/2 nodes are available: 2 node(s) didn't match Pod's node selector (beta.kubernetes.io/os=linux)";

  it("connlist and matrix say that no pod runs, and why", () => {
    const c = off(["connlist"]);
    assert.equal(c.out, "");
    assert.ok(
      c.err.includes(
        `note: 0 pods are Running: 16 are Pending (14 × ${reason}; 2 × 0/2 nodes are available: 2 node(s) didn't match Pod's node selector (kubernetes.io/os=linux))`,
      ),
      c.err,
    );
    const m = off(["matrix", "-n", "socks", "-o", "stats"]);
    assert.match(m.out, /0 pods/);
    assert.ok(
      m.err.includes(`note: 0 pods are Running in namespace socks: 14 are Pending (${reason})`),
      m.err,
    );
  });

  it("lint, diff and explain say so too", () => {
    const l = off(["lint", "-n", "socks"]);
    assert.ok(
      l.err.includes(`note: 0 pods are Running in namespace socks: 14 are Pending (${reason})`),
      l.err,
    );
    const d = runPodnet(["diff", "-f", SOCKS, "--against", SOCKS, "-n", "socks"]);
    assert.equal(d.out, "no connection added, removed or changed\n");
    assert.doesNotMatch(d.err, /note:/, "with labels supplied the pods run");
    const client =
      "---\napiVersion: v1\nkind: Pod\nmetadata: {name: client}\nspec: {containers: [{name: c, image: x}]}\n";
    // The supplied CoreDNS pods stay Pending too, so the name does not resolve, and explain says why.
    const unresolved = runPodnet(
      ["explain", "-f", SOCKS, "-f", "-", "--from", "default/client", "--to", "front-end.socks:80"],
      `${LABELS_OFF}${client}`,
    );
    assert.equal(unresolved.code, 1);
    assert.match(
      unresolved.err,
      /^note: Service kube-system\/kube-dns's selector k8s-app=kube-dns matches 2 pods, none Running: 2 are Pending \(0\/2 nodes are available: 2 node\(s\) didn't match Pod's node selector \(kubernetes\.io\/os=linux\)\)$/m,
    );
    // Without cluster DNS the name is looked up directly: the Service's own pods are the reason.
    const withClient = `${cfg("  supply: {nodeLabels: false, clusterDNS: false}\n")}${client}`;
    const e = runPodnet(
      ["explain", "-f", SOCKS, "-f", "-", "--from", "default/client", "--to", "front-end.socks:80"],
      withClient,
    );
    assert.ok(
      e.err.includes(
        `note: Service socks/front-end's selector name=front-end matches 1 pod, none Running: 1 is Pending (${reason})`,
      ),
      e.err,
    );
    // A named Service port: the trace names the Service `ns/name:port`, and the note still finds it.
    const named = `${withClient}---\napiVersion: v1\nkind: Service\nmetadata: {name: shop, namespace: socks}\nspec: {selector: {name: front-end}, ports: [{name: web, port: 80, targetPort: 8079}]}\n`;
    const en = runPodnet(
      ["explain", "-f", SOCKS, "-f", "-", "--from", "default/client", "--to", "shop.socks:80"],
      named,
    );
    assert.ok(
      en.err.includes(
        `note: Service socks/shop's selector name=front-end matches 1 pod, none Running: 1 is Pending (${reason})`,
      ),
      en.err,
    );
    // A namespace the cluster does not have is an error naming those it has (test/findings-cli.test.ts).
    const n = runPodnet(["connlist", "-f", SOCKS, "-n", "nowhere"]);
    assert.equal(n.code, 2);
    assert.ok(
      n.err.includes('error: -n nowhere: the cluster has no namespace "nowhere"; it has default,'),
      n.err,
    );
  });

  it("check reports each Pending pod with its reason and exits 1", () => {
    const r = off(["check"]);
    assert.equal(r.code, 1);
    const pending = r.out.split("\n").filter((l) => l.startsWith("pending: socks/"));
    assert.equal(pending.length, 14);
    assert.ok(pending.every((l) => l.endsWith(`: ${reason}`)));
    assert.match(r.out, /^16 pods Pending, 0 Running: /m);
    const ok = runPodnet(["check", "-f", SOCKS]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /^ok: /m);
  });
});
