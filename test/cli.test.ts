/**
 * The command line as a user runs it: the built `bin/podnet.js`, exit codes, output formats, stdin,
 * and errors without stack traces. (`npm test` builds dist/ first.)
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { runPodnet } from "./helpers.ts";

const podnet = runPodnet;

function assertNoStack(text: string) {
  assert.doesNotMatch(text, /\n\s+at .+\(.+:\d+:\d+\)/, "no stack trace");
}

describe("podnet CLI", () => {
  it("--help and --version exit 0; every command has --help", () => {
    const help = podnet(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /get \[options\] \[resources\.\.\.\]/);
    assert.match(help.out, /demo \[options\]/);
    assert.equal(podnet(["--version"]).out.trim(), JSON.parse(readFileSync("package.json", "utf8")).version);
    for (const cmd of ["get", "demo"]) {
      const r = podnet([cmd, "--help"]);
      assert.equal(r.code, 0, cmd);
      assert.match(r.out, /-f, --filename <path>/);
    }
  });

  it("demo runs on the bundled example with no arguments", () => {
    const r = podnet(["demo"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /podnet demo: cluster "articles"/);
    assert.match(r.out, /node-1\s+172\.18\.0\.2\s+10\.244\.0\.0\/24\s+10\.244\.0\.1/);
    assert.match(r.out, /default\/pod1\s+10\.244\.0\.2\s+node-1/);
    assert.match(
      r.out,
      /default\/database\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+5432\/TCP\s+10\.244\.\d+\.\d+:5432,10\.244\.\d+\.\d+:5432/,
    );
    // The articles' four walk-throughs, traced.
    assert.match(r.out, /^ {2}a\. Pod to pod on one node: pod default\/pod1 → pod default\/pod2:8080$/m);
    assert.match(r.out, /^ {2}b\. Pod to pod across nodes: pod default\/pod1 → pod default\/pod3:8080$/m);
    assert.match(r.out, /VXLAN encapsulation: outer 172\.18\.0\.2 → 172\.18\.0\.3 UDP 8472, VNI 1/);
    assert.match(
      r.out,
      /^ {2}c\. Pod to Service, and the reply: pod default\/pod1 → Service default\/api:80 \(reply\)$/m,
    );
    assert.match(r.out, /^ {2}delivered: the client receives the reply from 10\.\d+\.\d+\.\d+:80$/m);
    assert.match(
      r.out,
      /^ {2}d\. Outside client to a NodePort: client 203\.0\.113\.10 → node node-3, NodePort of default\/api:30080$/m,
    );
    // The article's NetworkPolicy, explained.
    assert.match(r.out, /^ {2}allowed: pod default\/api-\S+ → Service default\/database:5432$/m);
    assert.match(r.out, /^ {2}denied: pod default\/pod1 → Service default\/database:5432$/m);
  });

  it("get -o wide shows every pod with node, IP and podCIDR, every Service with endpoints", () => {
    const r = podnet(["get", "-o", "wide", "-f", "examples/articles"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^NAME\s+STATUS\s+ROLES\s+INTERNAL-IP\s+PODCIDR\s+PODS\s+MAX-PODS\s+TAINTS$/m);
    assert.match(
      r.out,
      /^default\s+pod\/pod3\s+2\/2\s+Running\s+10\.244\.1\.2\s+node-2\s+10\.244\.1\.0\/24\s+http:8080\/TCP,metrics:9090\/TCP\s+<none>$/m,
    );
    assert.match(
      r.out,
      /^default\s+service\/api\s+NodePort\s+\S+\s+<none>\s+80:30080\/TCP\s+app-component=api\s+10\.244\.\d+\.\d+:8080,10\.244\.\d+\.\d+:8080$/m,
    );
  });

  it("get -o json returns a List of API objects with assigned fields; one named object alone", () => {
    const list = JSON.parse(podnet(["get", "pods", "-o", "json", "-f", "examples/articles"]).out);
    assert.equal(list.kind, "List");
    assert.equal(list.items.length, 7);
    for (const p of list.items) {
      assert.equal(p.kind, "Pod");
      assert.match(p.status.podIP, /^10\.244\./);
      assert.ok(p.spec.nodeName);
    }
    const one = JSON.parse(
      podnet(["get", "svc/api", "-n", "default", "-o", "json", "-f", "examples/articles"]).out,
    );
    assert.equal(one.kind, "Service");
    assert.equal(one.spec.ports[0].nodePort, 30080);
  });

  it("get -o yaml parses back; -n narrows; stdin with -f -", () => {
    const text = readFileSync("examples/articles/pods.yaml", "utf8");
    const r = podnet(["get", "pods,svc", "-n", "default", "-o", "yaml", "-f", "-"], text);
    assert.equal(r.code, 0, r.err);
    const doc = parse(r.out);
    assert.deepEqual(
      doc.items.map((o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`),
      ["Pod/pod1", "Pod/pod2", "Pod/pod3", "Service/kubernetes", "Service/service1"],
    );
    const table = podnet(["get", "pods", "-n", "default", "-f", "-"], text);
    assert.match(table.out, /^NAME\s+READY\s+STATUS\s+IP\s+NODE$/m, "no NAMESPACE column with -n");
  });

  it("bad input: exit 2, every error with file:line:col, no stack trace", () => {
    const r = podnet(["get", "-f", "test/fixtures/broken"]);
    assert.equal(r.code, 2);
    assert.equal(r.out, "");
    assertNoStack(r.err);
    const lines = r.err.split("\n").filter((l) => l.includes(": error: "));
    assert.equal(lines.length, 7);
    for (const l of lines) assert.match(l, /^test\/fixtures\/broken\/\w+\.yaml:\d+:\d+: error: /);
    assert.match(r.err, /7 errors; nothing was resolved\.\n$/);
  });

  it("usage errors exit 2 with a message", () => {
    const cases: [string[], RegExp][] = [
      [["get", "pods"], /no input: give manifests with -f/],
      [["get", "widgets", "-f", "examples/articles"], /doesn't have a resource type "widgets"/],
      [["get", "-f", "no/such/dir"], /cannot read "no\/such\/dir": no such file or directory/],
      [["get", "-o", "xml", "-f", "examples/articles"], /argument 'xml' is invalid/],
      [["get", "--bogus"], /unknown option '--bogus'/],
      [["frobnicate"], /unknown command 'frobnicate'/],
    ];
    for (const [args, msg] of cases) {
      const r = podnet(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, msg);
      assertNoStack(r.err);
    }
  });

  it("-A lists every namespace even with -n, as in kubectl", () => {
    const r = podnet(["get", "pods", "-n", "shop", "-A", "-f", "examples/shop"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^NAMESPACE\s+NAME/m);
    assert.match(r.out, /^kube-system\s+coredns-/m);
  });

  it("the library is importable by its package name", () => {
    const code =
      'import("podnet").then((m) => { const r = m.loadCluster({ files: ["examples/articles"] }); console.log(r.ok, r.cluster.pods.length); })';
    const r = spawnSync(process.execPath, ["-e", code], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "true 7");
  });

  it("trace: text for people, JSON with verdict, endpoints, masquerade and hops", () => {
    const text = podnet([
      "trace",
      "-f",
      "examples/articles",
      "--from",
      "default/pod1",
      "--to",
      "default/pod3:8080",
    ]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^trace TCP default\/pod1 → pod default\/pod3 \(10\.244\.1\.2\):8080$/m);
    assert.match(text.out, /VXLAN encapsulation: outer 172\.18\.0\.2 → 172\.18\.0\.3 UDP 8472, VNI 1/);
    assert.match(
      text.out,
      /^delivered: container c1 of pod default\/pod3 receives it from 10\.244\.0\.2:\d+$/m,
    );
    const json = JSON.parse(
      podnet([
        "trace",
        "-f",
        "examples/articles",
        "--from",
        "default/pod1",
        "--to",
        "api.default",
        "-o",
        "json",
        "--reply",
      ]).out,
    );
    assert.equal(json.verdict, "delivered");
    assert.deepEqual(json.endpoints.length, 2);
    assert.equal(json.masquerade, false);
    assert.ok(
      json.hops.length > 5 &&
        json.hops.every(
          (h: { at: string; step: string; detail: string; packet: object }) =>
            h.at && h.step && h.detail && h.packet,
        ),
    );
    assert.equal(json.reply.verdict, "delivered");
    const all = JSON.parse(
      podnet([
        "trace",
        "-f",
        "examples/articles",
        "--from",
        "default/pod1",
        "--to",
        "service1.default",
        "--all-endpoints",
        "-o",
        "json",
      ]).out,
    );
    assert.equal(all.traces.length, 3);
    assert.deepEqual(
      all.traces.map((t: { endpoint: string }) => t.endpoint).sort(),
      [...all.endpoints].sort(),
    );
  });

  it("trace: bad endpoints exit 2 with a fix", () => {
    const cases: [string[], RegExp][] = [
      [["--from", "default/nope", "--to", "default/pod1:8080"], /--from: pod default\/nope not found/],
      [
        ["--from", "default/pod1", "--to", "default/pod3"],
        /--to: pod default\/pod3 \(10\.244\.1\.2\): give a port \(DST:PORT\); it has http=8080\/TCP, metrics=9090\/TCP/,
      ],
      [
        ["--from", "default/pod1", "--to", "nosuch.default:80"],
        /is not a pod \(ns\/name\), a node \(node\/NAME\), a Service/,
      ],
      [["--from", "default/pod1"], /required option '--to <dst>' not specified/],
    ];
    for (const [args, msg] of cases) {
      const r = podnet(["trace", "-f", "examples/articles", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, msg);
    }
  });

  it("explain: the policies that select each side and the deciding rule, per endpoint of a Service", () => {
    const r = podnet([
      "explain",
      "-f",
      "examples/articles",
      "--from",
      "default/pod1",
      "--to",
      "database.default",
    ]);
    assert.equal(r.code, 1, `denied: exit 1; ${r.err}`);
    assert.match(
      r.out,
      /^explain TCP default\/pod1 → Service default\/database \(10\.\d+\.\d+\.\d+\):5432$/m,
    );
    assert.equal(
      (r.out.match(/^via default\/database, endpoint /gm) ?? []).length,
      2,
      "one explanation per endpoint",
    );
    assert.match(r.out, /^ {4}selected by: default\/database-network-policy$/m);
    assert.match(r.out, /^ {2}result: denied$/m);
    const json = JSON.parse(
      podnet([
        "explain",
        "-f",
        "examples/shop",
        "--from",
        "node/worker-b",
        "--to",
        "10.244.0.2:6379",
        "-o",
        "json",
      ]).out,
    );
    assert.equal(json.explanations.length, 1);
    assert.equal(json.explanations[0].allowed, false, "cart-redis only accepts the cart pods");
    assert.deepEqual(json.explanations[0].ingress.selectedBy, [
      "shop/default-deny",
      "shop/cart-redis-ingress",
      "shop/allow-prometheus",
    ]);
    assert.equal(podnet(["explain", "-f", "examples/articles", "--from", "default/pod1"]).code, 2);
  });

  it("explain --from {ingress-controller}: connlist's lines of that name, with the Ingress that sends there", () => {
    const front = podnet([
      "explain",
      "-f",
      "examples/shop",
      "--from",
      "{ingress-controller}",
      "--to",
      "frontend.shop:80",
    ]);
    assert.equal(front.code, 0, front.err);
    assert.match(
      front.out,
      /^explain TCP \{ingress-controller\} → Service shop\/frontend \(10\.[\d.]+\):80\nsent there by: Ingress shop\/shop$/m,
    );
    assert.equal(
      (front.out.match(/^ {4}allowed by shop\/frontend-ingress ingress rule 1$/gm) ?? []).length,
      3,
    );
    const cart = JSON.parse(
      podnet([
        "explain",
        "-f",
        "examples/shop",
        "--from",
        "{ingress-controller}",
        "--to",
        "cart.shop",
        "-o",
        "json",
      ]).out,
    );
    assert.deepEqual(cart.routes, []);
    assert.ok(
      cart.explanations.length > 0 && cart.explanations.every((e: { allowed: boolean }) => !e.allowed),
    );
    const udp = podnet([
      "explain",
      "-f",
      "examples/shop",
      "--from",
      "{ingress-controller}",
      "--to",
      "frontend.shop:80",
      "--protocol",
      "udp",
    ]);
    assert.match(
      udp.out,
      /result: denied \(Service shop\/frontend has no UDP port 80: kube-proxy rejects the connection\)/,
    );
    assert.equal(
      podnet(["explain", "-f", "examples/shop", "--from", "{ingress-controller}", "--to", "nope.shop"]).code,
      2,
    );
  });

  it("matrix: pod-by-pod reachability as a table, JSON, CSV, Markdown and stats", () => {
    const table = podnet(["matrix", "-f", "examples/articles"]);
    assert.equal(table.code, 0, table.err);
    assert.match(
      table.out,
      /^3 default\/database-\S+\s+✓ ✓ ✓ · ✓ ✓ ✓$/m,
      "the database pods do not reach each other",
    );
    assert.match(table.out, /^5 default\/pod1\s+✓ ✓ · · ✓ ✓ ✓$/m, "pod1 does not reach the database");
    const json = JSON.parse(
      podnet(["matrix", "-f", "examples/articles", "--port", "5432", "-o", "json"]).out,
    );
    assert.equal(json.protocol, "TCP");
    assert.equal(json.port, 5432);
    assert.equal(json.pods.length, 7);
    const db = json.pods.findIndex((p: string) => p.startsWith("default/database-"));
    const api = json.pods.findIndex((p: string) => p.startsWith("default/api-"));
    const pod1 = json.pods.indexOf("default/pod1");
    assert.equal(json.matrix[api][db], true);
    assert.equal(json.matrix[pod1][db], false);
    assert.match(podnet(["matrix", "-f", "examples/articles", "-o", "csv"]).out, /^from\\to,default\/api-/);
    // Grouping is the SVG heatmap's: the other outputs are per pod, and say so rather than ignore it.
    const grouped = podnet(["matrix", "-f", "examples/articles", "--group-by", "workload"]);
    assert.equal(grouped.code, 2);
    assert.match(grouped.err, /--group-by workload groups the cells of -o svg only.*\n {2}fix: add -o svg/);
    assert.match(
      podnet(["matrix", "-f", "examples/articles", "-o", "md"]).out,
      /^\| from \\ to \| default\/api-/,
    );
    assert.match(
      podnet(["matrix", "-f", "examples/shop", "-n", "shop", "-o", "stats"]).out,
      /^protocol TCP, port any: 18 pods in \d+ classes, \d+ port atoms, \d+ ingress and \d+ egress profiles; 119 of 324 ordered pairs allowed/,
    );
    assert.equal(podnet(["matrix", "-f", "examples/articles", "--port", "70000"]).code, 2);
  });

  it("explain walks the AdminNetworkPolicy tier before NetworkPolicy", () => {
    const files = ["-f", "examples/articles", "-f", "test/fixtures/tiers/protect-db.yaml"];
    const denied = podnet(["explain", ...files, "--from", "default/pod1", "--to", "database.default:5432"]);
    assert.equal(denied.code, 1, `denied: exit 1; ${denied.err}`);
    assert.match(
      denied.out,
      /selected by: AdminNetworkPolicy\/protect-db, default\/database-network-policy$/m,
    );
    assert.match(
      denied.out,
      /^ {4}denied by AdminNetworkPolicy\/protect-db \(priority 10\) ingress rule 1 "unlabelled-deny"$/m,
    );
    const pods = podnet(["get", "pods", ...files, "-o", "json"]);
    const api = (JSON.parse(pods.out).items as { metadata: { name: string } }[]).find((p) =>
      p.metadata.name.startsWith("api-"),
    )!.metadata.name;
    const allowed = podnet([
      "explain",
      ...files,
      "--from",
      `default/${api}`,
      "--to",
      "database.default:5432",
    ]);
    assert.match(
      allowed.out,
      /^ {4}consulted: AdminNetworkPolicy\/protect-db \(priority 10\) ingress rule 2 "rest-to-np": Pass, on to NetworkPolicy\n {4}allowed by default\/database-network-policy ingress rule 1$/m,
    );
    assert.doesNotMatch(allowed.out, /result: denied/);
  });

  it("connlist: allowed connections per workload, in five formats", () => {
    const txt = podnet(["connlist", "-f", "examples/articles"]);
    assert.equal(txt.code, 0, txt.err);
    const lines = txt.out.trim().split("\n");
    assert.ok(lines.includes("default/api[Deployment] => default/database[Deployment] : All Connections"));
    assert.ok(
      !lines.some((l) => l.startsWith("default/pod1[Pod] => default/database")),
      "pod1 may not reach the database",
    );
    assert.ok(!lines.some((l) => l.includes("External] => default/database")), "nor may the outside");
    const shop = podnet(["connlist", "-f", "examples/shop", "-n", "shop"]).out;
    assert.match(shop, /^monitoring\/prometheus\[Deployment\] => shop\/cart\[Deployment\] : TCP 8080-9999$/m);
    assert.doesNotMatch(
      shop,
      /^kube-system\/\S+ => kube-system\//m,
      "-n keeps lines with an end in the namespace",
    );
    const json = JSON.parse(podnet(["connlist", "-f", "examples/articles", "-o", "json"]).out);
    assert.equal(json.length, lines.length);
    assert.deepEqual(Object.keys(json[0]), ["src", "dst", "conn"]);
    assert.match(podnet(["connlist", "-f", "examples/articles", "-o", "csv"]).out, /^src,dst,conn\n/);
    assert.match(
      podnet(["connlist", "-f", "examples/articles", "-o", "md"]).out,
      /^\| src \| dst \| conn \|/,
    );
    assert.match(
      podnet(["connlist", "-f", "examples/articles", "-o", "dot"]).out,
      /^\t"default\/api\[Deployment\]" -> "default\/database\[Deployment\]" \[label="All Connections"/m,
    );
    assert.equal(podnet(["connlist", "-f", "test/fixtures/broken"]).code, 2);
  });

  it("diff: connections added, removed and changed, and --fail-on for CI gates", () => {
    const args = [
      "diff",
      "-f",
      "examples/articles",
      "--against",
      "examples/articles",
      "--against",
      "test/fixtures/diff/change.yaml",
    ];
    const plain = podnet(args);
    assert.equal(plain.code, 0, plain.err);
    assert.match(plain.out, /^\+ default\/pod1\[Pod\] => default\/database\[Deployment\] : TCP 5432$/m);
    assert.match(
      plain.out,
      /^- default\/pod1\[Pod\] => 0\.0\.0\.0-255\.255\.255\.255\[External\] : All Connections$/m,
    );
    assert.match(plain.out, /^3 added, 9 removed, 0 changed$/m);
    const gate = podnet([...args, "--fail-on", "removed,changed"]);
    assert.equal(gate.code, 1);
    assert.match(gate.err, /9 connections removed \(--fail-on removed,changed\)/);
    assert.equal(podnet([...args, "--fail-on", "changed"]).code, 0, "nothing changed");
    const json = JSON.parse(podnet([...args, "-o", "json"]).out);
    assert.equal(json.length, 12);
    assert.match(podnet([...args, "-o", "csv"]).out, /^diff,src,dst,old,new\nremoved,default\/pod1/);
    const same = podnet([
      "diff",
      "-f",
      "examples/shop",
      "--against",
      "examples/shop",
      "--fail-on",
      "added,removed,changed",
    ]);
    assert.equal(same.code, 0);
    assert.equal(same.out, "no connection added, removed or changed\n");
    const bad = podnet([...args, "--fail-on", "grown"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--fail-on: unknown kind "grown"; use added, removed, changed/);
  });

  it("lint: one finding of each kind, at its file, line and column; exit 1", () => {
    const r = podnet(["lint", "-f", "test/fixtures/lint", "-o", "json"]);
    assert.equal(r.code, 1, r.err);
    const found = (
      JSON.parse(r.out).findings as { code: string; object: string; field: string; line: number }[]
    ).map((f) => `${f.code} ${f.object} ${f.field}:${f.line}`);
    assert.deepEqual(found, [
      "policy-selects-nothing NetworkPolicy app/typo spec.podSelector:6",
      "policy-no-effect NetworkPolicy app/web-extra spec:24",
      "peer-selects-nothing NetworkPolicy app/web-extra spec.ingress[0].from[0]:26",
      "named-port-unmatched NetworkPolicy app/web-extra spec.ingress[1].ports[0].port:28",
      "dns-egress-blocked NetworkPolicy app/api-egress spec.egress:38",
      "named-port-unmatched NetworkPolicy app/api-egress spec.egress[1].ports[0].port:40",
      "policy-selects-nothing AdminNetworkPolicy nobody spec.subject:47",
    ]);
    const text = podnet(["lint", "-f", "test/fixtures/lint"]);
    assert.match(
      text.out,
      /^test\/fixtures\/lint\/policies\.yaml:38:3: warning: NetworkPolicy app\/api-egress: spec\.egress: app\/api\[Deployment\] cannot reach the cluster DNS/m,
    );
    assert.match(text.out, /^7 findings$/m);
    const clean = podnet(["lint", "-f", "examples/shop"]);
    assert.equal(clean.code, 0, clean.out);
    assert.equal(clean.out, "0 findings\n", "a default deny is not reported as idle; shop's DNS is allowed");
  });

  it("routes and fib print the device view and the formal model", () => {
    const node = podnet(["routes", "-f", "examples/articles", "--node", "node-2"]);
    assert.equal(node.code, 0, node.err);
    assert.match(node.out, /^\$ ip route$/m);
    assert.match(node.out, /^10\.244\.0\.0\/24 via 10\.244\.0\.0 dev flannel\.1 onlink$/m);
    const pod = podnet(["routes", "-f", "examples/articles", "--pod", "default/pod1"]);
    assert.match(pod.out, /^default via 10\.244\.0\.1 dev eth0$/m);
    const fib = podnet(["fib", "-f", "examples/articles", "--pod", "default/pod1"]);
    assert.equal(fib.code, 0, fib.err);
    assert.match(fib.out, /^\*\s+\*\s+127\.0\.0\.1\s+8080\/TCP\s+Deliver\(default\/pod1\/c1\)$/m);
    assert.match(fib.out, /^\*\s+\*\s+\*\s+\*\s+Forward\(node-1\)$/m);
    assert.equal(podnet(["fib", "-f", "examples/articles"]).code, 2);
  });

  it("rules: the node's kube-proxy ruleset with kube-proxy's chain names", () => {
    const r = podnet(["rules", "-f", "examples/articles", "--node", "node-2"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^table ip kube-proxy \{$/m);
    assert.match(r.out, /elements = \{ 172\.18\.0\.3 \}/, "nodePorts on the node's primary IP");
    assert.match(
      r.out,
      /^\t\tnumgen random mod 3 vmap \{ 0 : goto endpoint-[A-Z2-7]{8}-default\/service1\/tcp\/http__10\.244\.0\.2\/8080, /m,
    );
    assert.match(podnet(["rules", "-f", "examples/articles", "--node", "nope"]).err, /node "nope" not found/);
    // An outside client's entry node: the error names --node, the option at fault.
    const entry = podnet([
      "trace",
      "-f",
      "examples/articles",
      "--from",
      "203.0.113.5",
      "--node",
      "nope",
      "--to",
      "default/pod1:8080",
    ]);
    assert.equal(entry.code, 2);
    assert.match(entry.err, /^error: --node: node "nope" not found/m);
    const cfg = readFileSync("examples/articles/cluster.yaml", "utf8").replace(
      "proxyMode: nftables",
      "proxyMode: iptables",
    );
    const others = ["pods.yaml", "app.yaml"]
      .map((f) => readFileSync(`examples/articles/${f}`, "utf8"))
      .join("---\n");
    const ipt = podnet(["rules", "--node", "node-1", "-f", "-"], `${cfg}---\n${others}`);
    assert.equal(ipt.code, 0, ipt.err);
    assert.match(ipt.out, /^\*nat$/m);
    assert.match(
      ipt.out,
      /^-A KUBE-SERVICES -d 10\.96\.0\.1\/32 -p tcp -m comment --comment "default\/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y$/m,
    );
  });

  it("check: exit 0 on a sound cluster, 1 with the violations listed", () => {
    const ok = podnet(["check", "-f", "examples/shop"]);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.out, /^ok: \d+ traces covering/m);
    const bad = podnet(
      ["check", "-f", "-"],
      "apiVersion: v1\nkind: Pod\nmetadata: {name: twin}\nspec:\n  containers:\n    - {name: one, ports: [{containerPort: 80}]}\n    - {name: two, ports: [{containerPort: 80}]}\n",
    );
    assert.equal(bad.code, 1);
    assert.match(
      bad.out,
      /^violation \(localhost\): pod default\/twin: containers one and two both open 80\/TCP/m,
    );
  });

  it("warnings go to stderr and do not change the exit code", () => {
    const r = podnet(["get", "nodes", "-f", "examples/live-dump"]);
    assert.equal(r.code, 0);
    assert.match(r.err, /warning: skipped 1 object of kind ConfigMap/);
    assert.match(r.out, /^node\/dump-control-plane|^dump-control-plane/m);
  });
});
