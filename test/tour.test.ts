/**
 * `podnet demo`'s choices on inputs shaped like the public installs users try it on (our own small
 * stand-ins, not those projects' files): bookinfo (four apps, no policies), an online-boutique-like
 * shop (a LoadBalancer frontend, named target ports), a network-policy recipe (one node, an api
 * that only its own app may reach), kube-prometheus (per-component ingress policies, a host-network
 * exporter) and cilium's star-wars demo (pods that declare no ports). The tour must show a pod
 * reaching a Service backed by another pod, cross the nodes when there are two, explain a verdict
 * whenever policies deny something, and number its sections without gaps.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadOrExit } from "../src/cli/common.ts";
import { renderDemo } from "../src/cli/demo.ts";
import type { ClusterState } from "../src/core/control/state.ts";
import { resolveFrom } from "../src/core/dns/exchange.ts";
import { Network } from "../src/core/sim/network.ts";
import { servedPorts } from "../src/core/sim/served-ports.ts";
import { planTour, type TourPlan, type Walk } from "../src/core/sim/tour.ts";
import { trace } from "../src/core/sim/trace.ts";
import { cluster, deployment } from "./helpers.ts";

const config = (nodes: number) =>
  `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: t}\nspec: {nodes: ${nodes}}\n---\n`;

const svc = (name: string, ns: string, selector: string, ports: string, type = "ClusterIP") =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ${ns}}\nspec: {type: ${type}, selector: {${selector}}, ports: ${ports}}\n---\n`;

const BOOKINFO =
  config(2) +
  ["productpage", "details", "ratings"]
    .map(
      (app) =>
        `${deployment(app, { ns: "bookinfo", labels: { app }, ports: "[{containerPort: 9080}]" })}---\n${svc(app, "bookinfo", `app: ${app}`, "[{name: http, port: 9080}]")}`,
    )
    .join("") +
  deployment("reviews", {
    ns: "bookinfo",
    replicas: 3,
    labels: { app: "reviews" },
    ports: "[{containerPort: 9080}]",
  }) +
  "---\n" +
  svc("reviews", "bookinfo", "app: reviews", "[{name: http, port: 9080}]");

const BOUTIQUE =
  config(3) +
  deployment("frontend", {
    ns: "shop",
    labels: { app: "frontend" },
    ports: "[{name: http, containerPort: 8080}]",
  }) +
  "---\n" +
  svc("frontend", "shop", "app: frontend", "[{name: http, port: 80, targetPort: http}]", "LoadBalancer") +
  [
    ["cartservice", 7070],
    ["currencyservice", 7000],
    ["productcatalogservice", 3550],
  ]
    .map(
      ([app, port]) =>
        `${deployment(String(app), { ns: "shop", labels: { app: String(app) }, ports: `[{name: grpc, containerPort: ${port}}]` })}---\n${svc(String(app), "shop", `app: ${app}`, `[{name: grpc, port: ${port}, targetPort: grpc}]`)}`,
    )
    .join("");

// The recipe "limit traffic to an application": only app=bookstore pods reach the api.
const RECIPE =
  config(1) +
  deployment("apiserver", {
    labels: { app: "bookstore", role: "api" },
    replicas: 2,
    ports: "[{containerPort: 80}]",
  }) +
  "---\n" +
  svc("apiserver", "default", "app: bookstore, role: api", "[{port: 80}]") +
  deployment("frontend", {
    labels: { app: "bookstore", role: "frontend" },
    ports: "[{containerPort: 8080}]",
  }) +
  "---\n" +
  deployment("coffeeshop", { labels: { app: "coffeeshop" }, ports: "[{containerPort: 8080}]" }) +
  `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-allow, namespace: default}
spec:
  podSelector: {matchLabels: {app: bookstore, role: api}}
  ingress: [{from: [{podSelector: {matchLabels: {app: bookstore}}}]}]
`;

// kube-prometheus's shape: every component admits only named peers on its web port; egress is open.
const promPolicy = (app: string, port: number, from: string[]) => `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${app}, namespace: monitoring}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: ${app}}}
  policyTypes: [Egress, Ingress]
  egress: [{}]
  ingress:
  - from: [${from.map((f) => `{podSelector: {matchLabels: {app.kubernetes.io/name: ${f}}}}`).join(", ")}]
    ports: [{port: ${port}, protocol: TCP}]
`;
const KUBE_PROMETHEUS =
  config(2) +
  [
    ["prometheus", 9090],
    ["alertmanager", 9093],
    ["grafana", 3000],
    ["kube-state-metrics", 8443],
    ["blackbox-exporter", 9115],
  ]
    .map(
      ([app, port]) =>
        `${deployment(String(app), { ns: "monitoring", labels: { "app.kubernetes.io/name": String(app) }, ports: `[{name: web, containerPort: ${port}}]` })}---\n${svc(String(app), "monitoring", `app.kubernetes.io/name: ${app}`, `[{name: web, port: ${port}, targetPort: web}]`)}`,
    )
    .join("") +
  `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-exporter, namespace: monitoring}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: node-exporter}}
  template:
    metadata: {labels: {app.kubernetes.io/name: node-exporter}}
    spec: {hostNetwork: true, containers: [{name: c, ports: [{name: https, containerPort: 9100}]}]}
` +
  promPolicy("prometheus", 9090, ["prometheus", "grafana"]) +
  promPolicy("alertmanager", 9093, ["prometheus", "alertmanager"]) +
  promPolicy("grafana", 3000, ["prometheus"]) +
  promPolicy("kube-state-metrics", 8443, ["prometheus"]) +
  promPolicy("blackbox-exporter", 9115, ["prometheus"]);

// kube-prometheus as its manifests stand: Prometheus and Alertmanager are the operator's custom
// resources, so no prometheus pod exists, and every policy admits only prometheus: no pod is let in.
const KUBE_PROMETHEUS_OPERATED =
  config(2) +
  [
    ["grafana", 3000],
    ["kube-state-metrics", 8443],
    ["blackbox-exporter", 9115],
    ["prometheus-adapter", 6443],
    ["prometheus-operator", 8080],
  ]
    .map(
      ([app, port]) =>
        `${deployment(String(app), { ns: "monitoring", labels: { "app.kubernetes.io/name": String(app) }, ports: `[{name: web, containerPort: ${port}}]` })}---\n${svc(String(app), "monitoring", `app.kubernetes.io/name: ${app}`, `[{name: web, port: ${port}, targetPort: web}]`)}`,
    )
    .join("") +
  `apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: k8s, namespace: monitoring}
spec: {replicas: 2}
` +
  promPolicy("grafana", 3000, ["prometheus"]) +
  promPolicy("kube-state-metrics", 8443, ["prometheus"]) +
  promPolicy("blackbox-exporter", 9115, ["prometheus"]) +
  promPolicy("prometheus-adapter", 6443, ["prometheus"]) +
  promPolicy("prometheus-operator", 8080, ["prometheus"]);

// cilium's star-wars demo: no container declares a port; the deathstar Service sends to port 80.
const STAR_WARS =
  config(2) +
  `apiVersion: apps/v1
kind: Deployment
metadata: {name: deathstar, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {org: empire, class: deathstar}}
  template:
    metadata: {labels: {org: empire, class: deathstar}}
    spec: {containers: [{name: deathstar, image: x}]}
---
${svc("deathstar", "default", "org: empire, class: deathstar", "[{port: 80, protocol: TCP}]")}apiVersion: v1
kind: Pod
metadata: {name: tiefighter, namespace: default, labels: {org: empire, class: tiefighter}}
spec: {containers: [{name: spaceship, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: xwing, namespace: default, labels: {org: alliance, class: xwing}}
spec: {containers: [{name: spaceship, image: x}]}
`;

function plan(state: ClusterState, namespace?: string): { plan: TourPlan; net: Network } {
  const net = new Network(state);
  return { plan: planTour(net, namespace ? { namespace } : {}), net };
}

const walk = (p: TourPlan, kind: Walk["kind"]) => p.walks.find((w) => w.kind === kind);
const nodeOf = (state: ClusterState, pod: string) =>
  state.pods.find(
    (p) =>
      `pod ${p.metadata.namespace}/${p.metadata.name}` === pod ||
      `${p.metadata.namespace}/${p.metadata.name}` === pod,
  )?.spec.nodeName;

/** The demo's section headings, in order. */
const headings = (text: string) =>
  [...text.matchAll(/^(\d+)\. (.+)$/gm)].map((m) => [Number(m[1]), m[2]] as const);

function assertNumberedWithoutGaps(text: string) {
  const h = headings(text);
  assert.deepEqual(
    h.map(([n]) => n),
    h.map((_, i) => i + 1),
    `sections: ${h.map(([n, t]) => `${n}. ${t}`).join(" | ")}`,
  );
}

/** The walk's packet gets there (not refused by kube-proxy or dropped by a policy or route). */
function assertGetsThere(net: Network, w: Walk) {
  const r = trace(net, w.request);
  assert.ok(!["dropped", "rejected"].includes(r.verdict), `${w.title}: ${r.verdict}: ${r.reason}`);
}

describe("demo: the tour fits the input", () => {
  it("ingress controllers run the cluster, not the application: the walks' clients are application pods (examples/ingress)", () => {
    const { plan: p } = plan(loadOrExit(["examples/ingress"]));
    assert.ok(p.walks.length >= 3);
    for (const w of p.walks.filter((x) => x.from.startsWith("pod ")))
      assert.match(w.from, /^pod shop\//, `${w.title}: the client is an application pod`);
  });

  it("bookinfo-like: a pod to a Service backed by another pod, across the two nodes; no policy sections", () => {
    const state = cluster(BOOKINFO);
    const { plan: p, net } = plan(state);
    const service = walk(p, "service");
    assert.ok(service, p.missing.join("; "));
    assert.match(service.from, /^pod bookinfo\/productpage-/);
    assert.ok(service.serverPods.length > 0);
    assert.ok(!service.serverPods.includes(service.from.slice(4)), "the client is not behind the Service");
    assert.notEqual(service.to, "Service bookinfo/productpage:http", "not the client's own Service");
    assert.equal(service.to, "Service bookinfo/details:http");
    const cross = walk(p, "cross-node");
    assert.ok(cross, p.missing.join("; "));
    assert.notEqual(nodeOf(state, cross.from), nodeOf(state, cross.to));
    assert.equal(cross.request.dport, 9080);
    for (const w of p.walks) assertGetsThere(net, w);
    assert.equal(p.policy, undefined, "no policies, nothing denied");
    const text = renderDemo(state, { source: "bookinfo" });
    assertNumberedWithoutGaps(text);
    assert.deepEqual(
      headings(text).map(([, t]) => t),
      ["The address plan", "Nodes", "Pods", "Services", "Following packets", "Names"],
    );
  });

  it("boutique-like: named target ports, another pod's Service, an outside client to the LoadBalancer's NodePort", () => {
    const state = cluster(BOUTIQUE);
    const { plan: p, net } = plan(state);
    assert.deepEqual(
      p.walks.map((w) => w.kind),
      ["same-node", "cross-node", "service", "node-port"],
      p.missing.join("; "),
    );
    const service = walk(p, "service")!;
    assert.ok(service.from.startsWith("pod shop/frontend-"), service.from);
    assert.equal(service.to, "Service shop/cartservice:grpc");
    assert.ok(service.serverPods.every((s) => s.startsWith("shop/cartservice-")));
    assert.equal(service.reply, true);
    const np = walk(p, "node-port")!;
    assert.match(np.to, /^node node-\d, NodePort of shop\/frontend:http$/);
    for (const w of p.walks) assertGetsThere(net, w);
    const text = renderDemo(state, { source: "boutique" });
    assertNumberedWithoutGaps(text);
    assert.match(
      text,
      /^ {2}c\. Pod to Service, and the reply: pod shop\/frontend-\S+ → Service shop\/cartservice:grpc:7070$/m,
    );
  });

  it("recipe-like, one node: no cross-node walk (and says why); the api's policy explained, allowed and denied", () => {
    const state = cluster(RECIPE);
    const { plan: p, net } = plan(state);
    assert.equal(walk(p, "cross-node"), undefined);
    assert.ok(p.missing.includes("cross-node: the cluster has one node"), p.missing.join("; "));
    const service = walk(p, "service")!;
    // The first pod is an api pod: it reaches the frontend's pods, never its own Service.
    assert.ok(!service.serverPods.includes(service.from.slice(4)), `${service.from} → ${service.to}`);
    for (const w of p.walks) assertGetsThere(net, w);
    assert.ok(p.policy, "the policy denies something");
    assert.equal(p.policy.denied.allowed, false);
    assert.match(p.policy.denied.from, /^default\/coffeeshop-/);
    assert.match(p.policy.denied.to, /^default\/apiserver-/);
    assert.equal(p.policy.denied.service, "default/apiserver");
    assert.equal(p.policy.allowed?.allowed, true);
    assert.match(p.policy.allowed!.from, /^default\/frontend-/);
    assert.equal(p.policy.allowed!.to, p.policy.denied.to, "one destination, two verdicts");
    // Names: the default namespace is the application's too; the asking pod is not behind the Service.
    assert.equal(p.names?.service.metadata.name, "apiserver");
    assert.match(p.names?.pod.metadata.name ?? "", /^frontend-/);
    const text = renderDemo(state, { source: "recipe" });
    assertNumberedWithoutGaps(text);
    assert.match(text, /^ {2}Not shown here: .*cross-node: the cluster has one node/m);
    assert.match(text, /^\d+\. Who may talk to whom$/m);
    assert.match(text, /^ {2}denied: pod default\/coffeeshop-\S+ → Service default\/apiserver:80$/m);
    assert.match(text, /^ {2}allowed: pod default\/frontend-\S+ → Service default\/apiserver:80$/m);
  });

  it("names: the pod resolves on the network, so a policy that keeps its DNS query from the DNS pods leaves it without an address, as resolve says", () => {
    const open = plan(cluster(RECIPE)).plan.names!;
    assert.match(open.pod.metadata.name, /^frontend-/);
    const svc = open.lookups.find((l) => l.name === "apiserver")!;
    assert.equal(svc.resolution.exchange?.reaches, true);
    assert.equal(svc.resolution.result?.answer.answers[0]?.data, open.service.spec.clusterIP);
    // The frontend may send nothing at all: its DNS query is dropped at its own egress.
    const state = cluster(`${RECIPE}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: frontend-no-egress, namespace: default}
spec:
  podSelector: {matchLabels: {role: frontend}}
  policyTypes: [Egress]
`);
    const { plan: p, net } = plan(state);
    const names = p.names!;
    assert.match(names.pod.metadata.name, /^frontend-/);
    assert.deepEqual(
      names.lookups.map((l) => l.name),
      ["apiserver", "api.example.com"],
    );
    for (const { name, resolution: r } of names.lookups) {
      assert.equal(r.result, undefined, `${name} does not resolve`);
      assert.equal(r.exchange?.reaches, false);
      assert.equal(r.exchange?.query.verdict, "dropped");
      assert.deepEqual(
        r.queries.map((q) => q.answer.rcode),
        ["TIMEOUT"],
        "the resolver hears nothing and stops",
      );
      // The same answer as `podnet resolve` (and `trace --to NAME`) gives.
      assert.deepEqual(r, resolveFrom(net, names.pod, name));
    }
    const text = renderDemo(state, { source: "recipe" });
    assert.match(
      text,
      /^ {2}default\/frontend-\S+'s DNS query does not arrive: the DNS query to 10\.96\.0\.10:53\/UDP is dropped at .*NetworkPolicy/m,
    );
    assert.match(
      text,
      /^ {2}default\/frontend-\S+ asks for "apiserver": apiserver\.default\.svc\.cluster\.local\. TIMEOUT\n {4}no address after 1 query \(the DNS query does not arrive\)$/m,
    );
    assert.doesNotMatch(text, /NOERROR/);
  });

  it("a monitoring stack with its prometheus as a pod: policies deny pairs, so 'who may talk to whom' is there; the walks avoid the denials", () => {
    const state = cluster(KUBE_PROMETHEUS);
    const { plan: p, net } = plan(state);
    assert.ok(p.policy, "policies deny something");
    const d = p.policy.denied;
    assert.equal(d.allowed, false);
    assert.match(d.explanation.ingress?.reason ?? "", /denied/);
    assert.ok(p.policy.allowed, "someone is let in too");
    assert.equal(p.policy.allowed.to, d.to);
    assert.equal(p.policy.allowed.port, d.port);
    // Grafana may reach prometheus's web port; alertmanager may not.
    assert.match(d.to, /^monitoring\/prometheus-/);
    assert.equal(d.port, 9090);
    assert.match(p.policy.allowed.from, /^monitoring\/grafana-/);
    assert.match(d.from, /^monitoring\/alertmanager-/);
    // The walk-throughs use pairs the policies allow: the packets get there.
    assert.deepEqual(
      p.walks.map((w) => w.kind),
      ["same-node", "cross-node", "service"],
    );
    for (const w of p.walks) assertGetsThere(net, w);
    assert.ok(
      p.walks.every((w) => w.from.startsWith("pod monitoring/prometheus-")),
      "prometheus reaches everyone",
    );
    const text = renderDemo(state, { source: "kube-prometheus" });
    assertNumberedWithoutGaps(text);
    assert.match(text, /^6\. Following packets$/m);
    assert.match(text, /^7\. Who may talk to whom$/m);
    assert.match(text, /^8\. Names$/m);
  });

  it("kube-prometheus-like, prometheus operator-managed: every pair is denied, and 'who may talk to whom' shows one", () => {
    const state = cluster(KUBE_PROMETHEUS_OPERATED);
    const { plan: p, net } = plan(state);
    assert.ok(p.policy, "policies deny something");
    assert.equal(p.policy.allowed, undefined, "no pod is let in");
    const d = p.policy.denied;
    assert.equal(d.allowed, false);
    assert.match(d.from, /^monitoring\/kube-state-metrics-/);
    assert.match(d.to, /^monitoring\/grafana-/);
    assert.equal(d.service, "monitoring/grafana:web");
    assert.equal(d.port, 3000);
    // The walk-throughs cannot avoid these policies between the monitoring pods: a walk that does not
    // get there shows the drop and the policy's reason. (A cluster with DNS pods gets walks to them:
    // see the next test.)
    assert.deepEqual(
      p.walks.map((w) => w.kind),
      ["same-node", "cross-node", "service"],
    );
    for (const w of p.walks) {
      const r = trace(net, w.request);
      if (w.serverPods.every((x) => x.startsWith("monitoring/"))) {
        assert.equal(r.verdict, "dropped", w.title);
        assert.match(r.reason, /NetworkPolicy ingress denied/);
      } else assertGetsThere(net, w);
    }
    const text = renderDemo(state, { source: "kube-prometheus" });
    assertNumberedWithoutGaps(text);
    assert.match(text, /^7\. Who may talk to whom$/m);
    assert.match(
      text,
      /^ {2}denied: pod monitoring\/kube-state-metrics-\S+ → Service monitoring\/grafana:web:3000$/m,
    );
    assert.doesNotMatch(text, /^ {2}allowed: /m);
  });

  it("kube-prometheus-like with the cluster's DNS: the walks take the pods the policies let in", () => {
    const state = cluster(`${KUBE_PROMETHEUS_OPERATED}---
${deployment("coredns", { ns: "kube-system", replicas: 2, labels: { "k8s-app": "kube-dns" }, ports: "[{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]" })}---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec: {clusterIP: 10.96.0.10, selector: {k8s-app: kube-dns}, ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53}]}
`);
    const { plan: p, net } = plan(state);
    assert.match(p.walks[0].from, /^pod monitoring\//, "an application pod is the client");
    assert.equal(walk(p, "service")?.to, "Service kube-system/kube-dns:dns");
    for (const w of p.walks) assertGetsThere(net, w);
    assert.match(p.policy?.denied.to ?? "", /^monitoring\/grafana-/);
    // Names: a pod asks for a Service of its own namespace that other pods are behind.
    assert.equal(p.names?.service.metadata.name, "grafana");
    assert.match(p.names?.pod.metadata.name ?? "", /^kube-state-metrics-/);
    assert.match(
      renderDemo(state, { source: "kube-prometheus" }),
      /^ {2}monitoring\/kube-state-metrics-\S+ asks for "grafana": grafana\.monitoring\.svc\.cluster\.local\. NOERROR$/m,
    );
  });

  it("a denial at the source's egress, through a Service of several endpoints, is explained at one endpoint", () => {
    const state = cluster(
      `${config(2)}${deployment("web", { replicas: 2, ports: "[{containerPort: 8080}]" })}---
${svc("web", "default", "app: web", "[{port: 80, targetPort: 8080}]")}${deployment("locked", { labels: { app: "locked" }, ports: "[]" })}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: locked-egress, namespace: default}
spec: {podSelector: {matchLabels: {app: locked}}, policyTypes: [Egress]}
`,
    );
    const { plan: p } = plan(state);
    assert.ok(p.policy, "the egress policy denies something");
    const d = p.policy.denied;
    assert.match(d.from, /^default\/locked-/);
    assert.match(d.to, /^default\/web-/);
    assert.equal(d.service, "default/web");
    assert.equal(d.dport, 80);
    assert.equal(d.port, 8080);
    assert.equal(d.explanation.egress?.allowed, false);
    assert.equal(
      d.explanation.endpoint,
      `${state.pods.find((x) => `default/${x.metadata.name}` === d.to)!.status!.podIP}:8080`,
    );
    // The other web pod is let in (no policy guards web's ingress).
    assert.match(p.policy.allowed?.from ?? "", /^default\/web-/);
  });

  it("a policy that closes only ports nobody serves still gets its example (any port it closes)", () => {
    const state = cluster(
      `${config(1)}${deployment("web", { ports: "[{containerPort: 8080}]" })}---
${deployment("client", { labels: { app: "client" }, ports: "[{containerPort: 9000}]" })}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-8080-only, namespace: default}
spec: {podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: 8080}]}]}
`,
    );
    const { plan: p } = plan(state);
    assert.ok(p.policy, "ports other than 8080 are closed");
    const d = p.policy.denied;
    assert.equal(d.allowed, false);
    assert.match(d.to, /^default\/web-/);
    assert.match(d.from, /^default\/client-/);
    assert.equal(d.protocol, "TCP");
    assert.notEqual(d.port, 8080);
    assert.equal(d.service, undefined, "no Service sends there");
    assert.equal(p.policy.allowed, undefined);
    assert.match(
      renderDemo(state, { source: "x" }),
      /^ {2}denied: pod default\/client-\S+ → pod default\/web-\S+:\d+$/m,
    );
  });

  it("star-wars-like, no declared ports: the Service's target port is served, and the walks use it", () => {
    const state = cluster(STAR_WARS);
    const net = new Network(state);
    const served = servedPorts(net.state);
    const deathstar = state.pods.filter((x) => x.metadata.name.startsWith("deathstar-"));
    assert.equal(deathstar.length, 2);
    for (const ds of deathstar)
      assert.deepEqual(
        served.of(ds).map(({ port, protocol, by }) => ({ port, protocol, by })),
        [{ port: 80, protocol: "TCP", by: "service" }],
      );
    const fighter = state.pods.find((x) => x.metadata.name === "tiefighter")!;
    assert.deepEqual(served.of(fighter), [], "nothing known about the fighters' ports");
    const { plan: p } = plan(state);
    const service = walk(p, "service");
    assert.ok(service, p.missing.join("; "));
    assert.equal(service.from, "pod default/tiefighter");
    assert.equal(service.to, "Service default/deathstar");
    assert.equal(service.request.dport, 80);
    for (const kind of ["same-node", "cross-node"] as const) {
      const w = walk(p, kind);
      if (!w) continue;
      assert.match(w.to, /^pod default\/deathstar-/, `${kind}: only the deathstar serves a known port`);
      assert.equal(w.request.dport, 80);
    }
    assert.ok(walk(p, "same-node") || walk(p, "cross-node"), "a pod-to-pod walk on port 80");
    for (const w of p.walks) assertGetsThere(net, w);
    const text = renderDemo(state, { source: "star-wars" });
    assertNumberedWithoutGaps(text);
    assert.match(text, /default\/deathstar-\S+\s+10\.244\.\d+\.\d+\s+node-\d\s+80\/TCP\*/);
    assert.match(text, /A port marked \* is one no container declares but a Service sends to\./);
    assert.match(
      text,
      /^ {2}c\. Pod to Service, and the reply: pod default\/tiefighter → Service default\/deathstar:80$/m,
    );
  });

  it("pods without known ports are never a walk's destination, and the numbers stay contiguous", () => {
    const state = cluster(
      `${config(2)}apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: c, image: x}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: x}\nspec: {containers: [{name: c, image: x}]}\n`,
    );
    const { plan: p } = plan(state);
    assert.ok(!p.walks.some((w) => w.to.startsWith("pod x/")), p.walks.map((w) => w.to).join(", "));
    // Each walk not shown is named with the reason (here no other pod serves a known port).
    for (const kind of ["same-node", "cross-node", "service", "node-port"] as const)
      assert.ok(
        walk(p, kind) || p.missing.some((m) => m.startsWith(`${kind}: `)),
        `${kind}: ${p.missing.join("; ")}`,
      );
    const text = renderDemo(state, { source: "bare" });
    assertNumberedWithoutGaps(text);
    assert.doesNotMatch(text, /→ pod x\//);
  });

  it("-n prefers that namespace's pods and Services", () => {
    const state = cluster(`${BOOKINFO}---\n${BOUTIQUE.slice(config(3).length)}`);
    const all = plan(state).plan;
    assert.ok(walk(all, "service")!.from.startsWith("pod bookinfo/"));
    const shop = plan(state, "shop").plan;
    assert.ok(walk(shop, "service")!.from.startsWith("pod shop/"), walk(shop, "service")!.from);
    assert.ok(walk(shop, "service")!.to.startsWith("Service shop/"));
  });
});

describe("the names section asks from a pod that uses the cluster DNS", () => {
  it("never from a pod on the node's resolver (CoreDNS's own, dnsPolicy Default); another namespace's Service by name.namespace", () => {
    // Two application pods that serve nothing, a policy, and the supplied CoreDNS: the only Service
    // besides `kubernetes` is kube-dns, whose own pods resolve through the node (dnsPolicy Default).
    const state = cluster(`apiVersion: v1
kind: Pod
metadata: {name: a, labels: {app: a}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, labels: {app: b}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec: {podSelector: {}, policyTypes: [Ingress]}
`);
    const { plan: p } = plan(state);
    assert.ok(p.names, "a names section");
    assert.equal(`${p.names.pod.metadata.namespace}/${p.names.pod.metadata.name}`, "default/a");
    assert.equal(p.names.service.metadata.name, "kube-dns");
    assert.equal(p.names.lookups[0].name, "kube-dns.kube-system");
    const answer = p.names.lookups[0].resolution.result?.answer;
    assert.equal(answer?.rcode, "NOERROR");
    assert.deepEqual(
      answer?.answers.map((r) => r.data),
      ["10.96.0.10"],
    );
  });
});
