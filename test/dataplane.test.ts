/**
 * The Linux data plane (issue #5): the plan without root; as root, real clusters in network namespaces
 * whose answers must equal the simulator's (which pod answers, which client address it sees), and the
 * host's own network namespace left exactly as it was. Without root or the tools these tests skip with
 * the reason; under CI=true that is a failure.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { generateCluster } from "../bench/generate.ts";
import { generatePolicies } from "../bench/policy.ts";
import { dataPlaneUnavailable, listNamespaces, STATE_DIR } from "../src/adapters/linux/dataplane.ts";
import { DataplaneRefused, namespacesOf, planCluster } from "../src/core/dataplane/plan.ts";
import { probeCases } from "../src/core/dataplane/probe.ts";
import { parseIPv4 } from "../src/core/net/ipv4.ts";
import { Network } from "../src/core/sim/network.ts";
import { resolveDestination, resolveSource } from "../src/core/sim/targets.ts";
import { trace } from "../src/core/sim/trace.ts";
import { loadCluster } from "../src/index.ts";
import { NODE_EXEMPTION_CLUSTER } from "./cases/node-exemption.ts";
import { UNDECLARED_PORTS_CLUSTER } from "./cases/undeclared-ports.ts";
import { cluster as clusterOf, runPodnet } from "./helpers.ts";

/** A TCP trace request from a pod to `ip:port`, optionally to one endpoint of a Service. */
function request(net: Network, from: string, to: string, endpoint?: string): Parameters<typeof trace>[1] {
  const src = resolveSource(net, from);
  const dst = resolveDestination(net, to);
  assert.ok(src.ok && dst.ok);
  const [ip, port] = (endpoint ?? "").split(":");
  return {
    source: src.value,
    dst: dst.value.ip,
    dport: dst.value.port,
    protocol: "TCP",
    ...(endpoint
      ? {
          endpoint: {
            ip: parseIPv4(ip)!,
            port: Number(port),
            ready: true,
            serving: true,
            terminating: false,
          },
        }
      : {}),
  };
}

/** Whether a process has ended (gone, or a zombie nobody reaped yet). */
function ended(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

const podnet = (args: string[]) => runPodnet(args);

/**
 * node-1 has InternalIPs 172.18.0.11 (primary) and 10.10.0.11 (outside nodeNetwork) and the ExternalIP
 * 203.0.113.11 (on its interface: bare metal); node-2 has 172.18.0.12. kube-proxy takes nodePorts on
 * the node addresses inside 172.18.0.0/24 and 10.10.0.0/24, so not on 203.0.113.11. web (node-1) and
 * peer (node-2) are NodePorts 30080 and 30090; hn1 is a host-network pod on node-1 serving 9100.
 */
const SECOND_ADDRESS_CLUSTER = `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: second}
spec:
  nodeNetwork: 172.18.0.0/24
  kubeProxy: {nodePortAddresses: [172.18.0.0/24, 10.10.0.0/24]}
---
apiVersion: v1
kind: Node
metadata: {name: node-1}
spec: {podCIDR: 10.244.1.0/24}
status:
  addresses:
    - {type: InternalIP, address: 172.18.0.11}
    - {type: InternalIP, address: 10.10.0.11}
    - {type: ExternalIP, address: 203.0.113.11}
---
apiVersion: v1
kind: Node
metadata: {name: node-2}
spec: {podCIDR: 10.244.2.0/24}
status:
  addresses: [{type: InternalIP, address: 172.18.0.12}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: peer, namespace: default, labels: {app: peer}}
spec: {nodeName: node-2, containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: hn1, namespace: default, labels: {app: hn}}
spec: {nodeName: node-1, hostNetwork: true, containers: [{name: c, ports: [{containerPort: 9100}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: http, nodePort: 30080}]}
---
apiVersion: v1
kind: Service
metadata: {name: peer, namespace: default}
spec: {type: NodePort, selector: {app: peer}, ports: [{port: 80, targetPort: 8080, nodePort: 30090}]}
`;

const articles = () => {
  const r = loadCluster({ files: ["examples/articles"] });
  assert.ok(r.ok);
  return r.cluster;
};

describe("data plane plan", () => {
  it("names a podnet namespace in every command and links namespaces from inside them", () => {
    const plan = planCluster(articles(), "t1");
    const all = namespacesOf(plan);
    assert.equal(new Set(all).size, all.length, "namespaces are distinct");
    assert.ok(all.every((n) => n.startsWith("podnet-t1-")));
    assert.equal(plan.pods.length, 7);
    for (const step of plan.steps) assert.ok(all.includes(step.netns), `${step.tool} runs in ${step.netns}`);
    for (const s of [...plan.sysctls, ...plan.rules]) assert.ok(all.includes(s.netns));
    const lines = plan.steps.flatMap((s) => s.lines);
    assert.ok(
      lines.some((l) =>
        /^link add flannel\.1 type vxlan id 1 dstport 8472 local 172\.18\.0\.2 dev eth0/.test(l),
      ),
    );
    assert.ok(
      lines.some((l) =>
        /^link add veth[0-9a-f]{8} type veth peer name eth0 netns podnet-t1-p[0-9a-f]{8}$/.test(l),
      ),
    );
    assert.ok(
      lines.some((l) => / type bridge_slave hairpin on$/.test(l)),
      "hairpin on pod ports",
    );
    assert.ok(
      lines.includes("link set cni0 mtu 1450") && lines.includes("link set eth0 mtu 1450"),
      "VXLAN's 50 bytes off the pod MTU, as flannel does",
    );
    assert.match(
      plan.rules[0].text,
      /^table ip kube-proxy/m,
      "kube-proxy's ruleset as `podnet rules` prints it",
    );
  });

  it("routes a node's addresses outside nodeNetwork to its primary IP in the underlay, with forwarding on there only", () => {
    const state = clusterOf(SECOND_ADDRESS_CLUSTER);
    const plan = planCluster(state, "t3");
    const ul = plan.steps.find((s) => s.netns === plan.underlay)!.lines;
    assert.deepEqual(
      ul.filter((l) => l.startsWith("route ")),
      [
        "route add 10.10.0.11/32 via 172.18.0.11 dev ul0",
        "route add 203.0.113.11/32 via 172.18.0.11 dev ul0",
        "route add blackhole default",
      ],
    );
    assert.ok(
      plan.sysctls.some(
        (x) => x.netns === plan.underlay && x.key === "net.ipv4.ip_forward" && x.value === "1",
      ),
    );
    const n1 = plan.steps.find((s) => s.netns === plan.nodes[0].netns)!.lines;
    assert.ok(
      n1.includes("addr add 10.10.0.11/32 dev eth0") && n1.includes("addr add 203.0.113.11/32 dev eth0"),
    );
    assert.deepEqual(plan.nodes[0].ips, ["172.18.0.11", "10.10.0.11", "203.0.113.11"]);
    // A cluster whose node addresses all lie in nodeNetwork (and no load-balancer IP): the underlay
    // routes to no node address; it forwards only between the outside client and the nodes.
    const plain = planCluster(articles(), "t4");
    assert.ok(plain.outside, "the outside client's network");
    assert.ok(!plain.steps[0].lines.some((l) => l.startsWith("route ")));
    assert.deepEqual(
      plain.sysctls.filter((x) => x.netns === plain.underlay).map((x) => `${x.key}=${x.value}`),
      [
        "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.rp_filter=0",
        "net.ipv4.conf.ul0.rp_filter=0",
        "net.ipv4.conf.all.send_redirects=0",
        "net.ipv4.conf.ul0.send_redirects=0",
      ],
    );
  });

  it("probe asks for host-network pods and nodePorts at every node address", () => {
    const cases = probeCases(clusterOf(SECOND_ADDRESS_CLUSTER), { toServices: true });
    const find = (from: string, to: string) => cases.find((c) => c.from === from && c.to === to);
    // The host-network pod at each of node-1's addresses.
    for (const to of [
      "default/hn1:9100/TCP",
      "default/hn1@10.10.0.11:9100/TCP",
      "default/hn1@203.0.113.11:9100/TCP",
    ])
      assert.deepEqual([...(find("node/node-2", to)?.allowed ?? [])], [["default/hn1", "172.18.0.12"]], to);
    // nodePorts where kube-proxy takes them: web answers; on the ExternalIP, outside nodePortAddresses, nothing.
    const web = (ip: string) => find("node/node-2", `default/web@node/node-1/${ip}:30080/TCP`);
    assert.deepEqual([...web("10.10.0.11")!.allowed.keys()], ["default/web"]);
    assert.deepEqual([...web("172.18.0.11")!.allowed.keys()], ["default/web"]);
    assert.equal(web("203.0.113.11")!.allowed.size, 0);
    assert.match(web("203.0.113.11")!.reason ?? "", /arrived/);
  });

  it("probe predicts what the kernel does with replies and the own-node exception behind another node's nodePort", () => {
    // xwing (n2) to n1's externalTrafficPolicy Local nodePort: deathstar-2, on xwing's own node, answers
    // straight on n2's bridge, past n1 that translated the request: no connection of xwing matches.
    const und = probeCases(clusterOf(UNDECLARED_PORTS_CLUSTER), { toServices: true });
    const npl = und.find(
      (c) => c.from === "demo/xwing" && c.to === "demo/deathstar-npl@node/n1/172.18.0.2:30081/TCP",
    )!;
    assert.deepEqual([...npl.allowed.keys()], ["demo/deathstar-1"]);
    assert.equal(npl.backends, 2);
    assert.match(npl.reason ?? "", /the NAT was not undone on its way back/);
    // node-1 to node-2's nodePort, sent back to web on node-1 masqueraded to node-2's address: node-1's
    // conntrack never saw node-1 as its source, so web's policy applies (the kernel drops it).
    const ex = probeCases(clusterOf(NODE_EXEMPTION_CLUSTER("vxlan")), { toServices: true });
    for (const from of ["node/node-1", "default/web"]) {
      const c = ex.find((x) => x.from === from && x.to === "default/web@node/node-2/172.18.0.3:30080/TCP")!;
      assert.equal(c.allowed.size, 0, from);
    }
    // Its own node straight to web is exempt as before.
    assert.equal(
      ex.find((x) => x.from === "node/node-1" && x.to === "default/web:8080/TCP")!.allowed.size,
      1,
    );
  });

  it("refuses what it cannot build, before anything is made", () => {
    const state = articles();
    assert.throws(
      () => planCluster({ ...state, config: { ...state.config, cni: "ipip" } }, "t2"),
      (e: unknown) =>
        e instanceof DataplaneRefused &&
        /no IP-in-IP module/.test(e.diagnostic.message) &&
        /the data plane builds vxlan,? (and )?host-gw/.test(e.diagnostic.hint ?? ""),
    );
  });

  it("the simulator masquerades hairpin traffic for whichever endpoint is traced (as the kernel does)", () => {
    const net = new Network(articles());
    const r = trace(net, request(net, "default/pod3", "10.96.109.204:80", "10.244.1.2:8080"));
    assert.equal(r.verdict, "delivered");
    assert.equal(r.masquerade, true);
    assert.match(r.delivered!.seenSource, /^10\.244\.1\.1:/, "masqueraded to node-2's cni0 address");
  });
});

// --------------------------------------------------------------------------------- as root

const unavailable = dataPlaneUnavailable(["iptables-restore"]);
const skip = unavailable && process.env.CI !== "true" ? unavailable : false;

/** The host's own network state, without counters and timers. */
function hostSnapshot(): string {
  const json = (args: string[]) => {
    const r = spawnSync("ip", ["-j", ...args], { encoding: "utf8" });
    return JSON.parse(r.stdout || "[]", (k, v) => (/_life_time$|^expires$|^used$/.test(k) ? undefined : v));
  };
  const sysctl = (key: string) => {
    const file = `/proc/sys/${key.replaceAll(".", "/")}`;
    return existsSync(file) ? readFileSync(file, "utf8").trim() : "absent";
  };
  return JSON.stringify({
    links: json(["link"]),
    addresses: json(["addr"]),
    routes: json(["route", "show", "table", "all"]),
    rules: json(["rule"]),
    neighbours: json(["neigh"]).filter((n: { state?: string[] }) => n.state?.includes("PERMANENT")),
    nft: spawnSync("nft", ["list", "ruleset"], { encoding: "utf8" }).stdout,
    sysctls: [
      "net.ipv4.ip_forward",
      "net.ipv4.conf.all.rp_filter",
      "net.ipv4.conf.all.forwarding",
      "net.ipv4.conf.all.route_localnet",
    ].map(sysctl),
    otherNetns: spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout,
    // Not network state, but podnet writes there (the pods' resolv.conf) and must leave nothing.
    etcNetns: existsSync("/etc/netns") ? readdirSync("/etc/netns").sort() : [],
  });
}

/** One bounded TCP exchange from inside a pod: the listener's JSON answer, or undefined. */
function ask(cluster: string, pod: string, target: string): { pod: string; client: string } | undefined {
  const [host, port] = target.split(":");
  const client = `const s=require("net").connect(${port},"${host}");let d="";s.setTimeout(2000,()=>process.exit(3));s.on("data",x=>d+=x);s.on("end",()=>{process.stdout.write(d);process.exit(0)});s.on("error",()=>process.exit(2))`;
  const r = podnet(["exec", "--name", cluster, pod, "--", process.execPath, "-e", client]);
  if (r.code !== 0 || !r.out.trim()) return undefined;
  return JSON.parse(r.out) as { pod: string; client: string };
}

/** `podnet probe --to-services` on a running cluster: no disagreement, exit 0; the probes. */
function probeAgrees(cluster: string, timeoutMs: number, what: string) {
  const r = podnet([
    "probe",
    "--name",
    cluster,
    "--to-services",
    "--timeout",
    String(timeoutMs),
    "-o",
    "json",
  ]);
  const out = JSON.parse(r.out) as {
    probes: { agree: boolean; from: string; to: string; kernel: string; simulator: string }[];
  };
  const bad = out.probes
    .filter((p) => !p.agree)
    .map((p) => `${p.from} → ${p.to}: kernel ${p.kernel}; simulator ${p.simulator}`);
  assert.deepEqual(bad, [], what);
  assert.equal(r.code, 0, what);
  return out.probes;
}

/** The simulator's answer for the same connection: the pod that receives it and the client it sees. */
function predict(state: ReturnType<typeof articles>, from: string, to: string) {
  const net = new Network(state);
  const r = trace(net, request(net, from, to));
  return { endpoints: r.endpoints, r };
}

/**
 * Manifests (a directory or a file) in a proxy mode: as they are for nftables (every example's), else a
 * copy whose Cluster config says `proxyMode: iptables` (a Cluster object added when there is none, as
 * for a live dump). Returns the path and a cleanup.
 */
function inMode(src: string, mode: "nftables" | "iptables"): { path: string; done: () => void } {
  if (mode === "nftables") return { path: src, done: () => {} };
  const dir = mkdtempSync(join(tmpdir(), "podnet-mode-"));
  const isDir = !src.endsWith(".yaml");
  const path = isDir ? join(dir, "in") : join(dir, "in.yaml");
  cpSync(src, path, { recursive: true });
  const files = isDir ? readdirSync(path).map((f) => join(path, f)) : [path];
  const config = files.find((f) => /^kind: Cluster$/m.test(readFileSync(f, "utf8")));
  if (config) {
    const text = readFileSync(config, "utf8");
    const at = text.indexOf("\nspec:", text.search(/^kind: Cluster$/m));
    assert.ok(at > 0, `${config}: a Cluster without spec`);
    writeFileSync(
      config,
      /^ {2}proxyMode: \S+$/m.test(text)
        ? text.replace(/^ {2}proxyMode: \S+$/m, "  proxyMode: iptables")
        : `${text.slice(0, at)}\nspec:\n  proxyMode: iptables${text.slice(at + 6)}`,
    );
  } else
    writeFileSync(
      isDir ? join(path, "cluster.yaml") : join(dir, "cluster.yaml"),
      "apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: in}\nspec: {proxyMode: iptables}\n",
    );
  return { path: isDir ? path : dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

describe("the cluster for real", { skip }, () => {
  it("is available under CI", () => {
    assert.equal(unavailable, undefined, `the data plane tests cannot run: ${unavailable}`);
  });

  it("builds the articles' cluster; pods answer across nodes and through Services as the simulator says; down restores the host", () => {
    const before = hostSnapshot();
    const state = articles();
    const up = podnet(["up", "-f", "examples/articles", "--name", "pntest"]);
    try {
      assert.equal(up.code, 0, up.err);
      assert.match(
        up.out,
        /^cluster pntest is up: 3 nodes, 7 pods, 12 network namespaces, listeners on 10 ports/,
      );
      assert.match(podnet(["status"]).out, /^pntest: 3 nodes, 7 pods; 12\/12 namespaces; listeners running/m);

      // Pod to pod across nodes (VXLAN): pod3 answers and sees pod1's own address.
      const direct = ask("pntest", "default/pod1", "10.244.1.2:8080");
      const want = predict(state, "default/pod1", "10.244.1.2:8080").r;
      assert.equal(direct?.pod, want.delivered?.pod);
      assert.equal(direct?.client.split(":")[0], want.delivered?.seenSource.split(":")[0]);

      // Through a Service: every backend that answers is one the simulator lists, and the client address it
      // sees is the simulator's for that backend (pod3 reaching itself is masqueraded: hairpin).
      const { endpoints } = predict(state, "default/pod3", "10.96.109.204:80");
      const seen = new Map<string, string>();
      for (let i = 0; i < 40 && seen.size < endpoints.length; i++) {
        const a = ask("pntest", "default/pod3", "10.96.109.204:80");
        assert.ok(a, "the Service answers");
        seen.set(a.pod, a.client.split(":")[0]);
      }
      assert.equal(seen.size, endpoints.length, "every endpoint answered within 40 connections");
      const net = new Network(state);
      for (const e of net.state.endpointSlices.flatMap((s) =>
        s.metadata.labels?.["kubernetes.io/service-name"] === "service1" ? s.endpoints : [],
      )) {
        const r = trace(net, request(net, "default/pod3", "10.96.109.204:80", `${e.addresses[0]}:8080`));
        assert.equal(
          seen.get(r.delivered!.pod!),
          r.delivered!.seenSource.split(":")[0],
          `client seen by ${r.delivered!.pod}`,
        );
      }

      // exec passes the exit code through; nodes are reachable by name.
      assert.equal(podnet(["exec", "--name", "pntest", "default/pod1", "--", "false"]).code, 1);
      assert.equal(podnet(["exec", "--name", "pntest", "node/node-2", "--", "true"]).code, 0);
      assert.equal(podnet(["exec", "--name", "pntest", "default/nope", "--", "true"]).code, 2);
    } finally {
      const down = podnet(["down", "--name", "pntest"]);
      assert.equal(down.code, 0, down.err);
    }
    assert.deepEqual(
      listNamespaces().filter((n) => n.startsWith("podnet-pntest-")),
      [],
    );
    assert.equal(
      hostSnapshot(),
      before,
      "the host's links, addresses, routes, rules, nftables and sysctls are unchanged",
    );
    assert.equal(podnet(["down", "--name", "pntest"]).code, 0, "down again is fine");
  });

  it("host-gw routes pods through the node addresses", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-hostgw-"));
    try {
      cpSync("examples/articles", dir, { recursive: true });
      const cfg = join(dir, "cluster.yaml");
      writeFileSync(cfg, readFileSync(cfg, "utf8").replace("cni: vxlan", "cni: host-gw"));
      const up = podnet(["up", "-f", dir, "--name", "pnhostgw"]);
      assert.equal(up.code, 0, up.err);
      const a = ask("pnhostgw", "default/pod1", "10.244.1.2:8080");
      assert.equal(a?.pod, "default/pod3");
      assert.equal(a?.client.split(":")[0], "10.244.0.2");
      const route = podnet([
        "exec",
        "--name",
        "pnhostgw",
        "node/node-1",
        "--",
        "ip",
        "route",
        "get",
        "10.244.1.2",
      ]);
      assert.match(route.out, /via 172\.18\.0\.3 dev eth0/);
    } finally {
      podnet(["down", "--name", "pnhostgw"]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("down removes everything after a crash that lost the state file", () => {
    const up = podnet(["up", "-f", "examples/articles", "--name", "pncrash"]);
    assert.equal(up.code, 0, up.err);
    const record = JSON.parse(readFileSync(join(STATE_DIR, "pncrash.json"), "utf8")) as {
      processes: { pid: number }[];
    };
    rmSync(join(STATE_DIR, "pncrash.json"));
    const down = podnet(["down", "--name", "pncrash"]);
    assert.equal(down.code, 0, down.err);
    assert.match(down.out, /12 network namespaces and 1 process removed/);
    assert.deepEqual(
      listNamespaces().filter((n) => n.startsWith("podnet-pncrash-")),
      [],
    );
    for (const p of record.processes) assert.ok(ended(p.pid), `listener ${p.pid} ended`);
  });

  for (const mode of ["nftables", "iptables"] as const)
    it(`probe (${mode} mode): the kernel's answers equal the simulator's on the examples, policies and Services included`, () => {
      const host = hostSnapshot();
      for (const example of ["articles", "shop", "live-dump"]) {
        const input = inMode(`examples/${example}`, mode);
        const up = podnet(["up", "-f", input.path, "--name", "pnprobe"]);
        try {
          assert.equal(up.code, 0, up.err);
          const probes = probeAgrees("pnprobe", 400, example);
          const least = { articles: 50, shop: 500, "live-dump": 30 }[example] ?? 0;
          assert.ok(probes.length > least, `${example}: ${probes.length} probes`);
          // Every example has pods probed on a port nothing serves: arrived, and the kernel refuses.
          assert.ok(
            probes.some((p) => p.kernel.startsWith("refused") && p.agree),
            `${example}: ports nothing serves are probed`,
          );
          // The live dump has no policies: everything answers there (but localhost nodePorts in
          // nftables mode, checked below).
          assert.equal(
            probes.some((p) => p.kernel.startsWith("no answer") && !p.to.includes("/127.0.0.1:")),
            example !== "live-dump",
            `${example}: denied connections`,
          );
          // Localhost nodePorts: answered in iptables mode (route_localnet set in the node's namespace
          // only), refused in nftables mode.
          const localhost = probes.filter((p) => p.to.includes("/127.0.0.1:"));
          if (example !== "live-dump")
            assert.ok(localhost.length > 0, `${example}: localhost nodePorts probed`);
          for (const p of localhost)
            assert.equal(
              p.kernel.startsWith("answered"),
              mode === "iptables",
              `${example}: ${p.to}: ${p.kernel}`,
            );
          const localnet = podnet([
            "exec",
            "--name",
            "pnprobe",
            `node/${probes.find((p) => p.from.startsWith("node/"))!.from.slice(5)}`,
            "--",
            "sysctl",
            "-n",
            "net.ipv4.conf.all.route_localnet",
          ]);
          assert.equal(localnet.out.trim(), mode === "iptables" ? "1" : "0");
        } finally {
          podnet(["down", "--name", "pnprobe"]);
          input.done();
        }
      }
      assert.equal(hostSnapshot(), host, "the host's own network state is unchanged");
    });

  it("cluster DNS: pods resolve Service names through the DNS Service to the DNS pods (getent, dig +search, Node), and apply updates the records", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-dns-"));
    const state = loadCluster({ files: ["examples/shop"] });
    assert.ok(state.ok);
    const frontend = state.cluster.pods.find((p) => p.metadata.name.startsWith("frontend-"))!;
    const from = `shop/${frontend.metadata.name}`;
    const cartIP = state.cluster.services.find((s) => s.metadata.name === "cart")!.spec.clusterIP!;
    const exec = (...cmd: string[]) => podnet(["exec", "--name", "pndns", from, "--", ...cmd]);
    try {
      const up = podnet(["up", "-f", "examples/shop", "--name", "pndns"]);
      assert.equal(up.code, 0, up.err);
      assert.equal(
        exec("cat", "/etc/resolv.conf").out,
        "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n",
      );
      assert.match(
        exec("getent", "hosts", "cart").out,
        new RegExp(`^${cartIP.replaceAll(".", "\\.")}\\s+cart\\.shop\\.svc\\.cluster\\.local`),
      );
      assert.match(
        exec("getent", "hosts", "cart-redis-0.cart-redis").out,
        /^10\.244\.\d+\.\d+\s+cart-redis-0\.cart-redis\.shop/,
      );
      assert.equal(exec("getent", "hosts", "no-such-service").code, 2, "an unknown name does not resolve");
      const lookup = exec(
        process.execPath,
        "-e",
        'require("dns").lookup("cart",(e,a)=>console.log(e?e.code:a))',
      );
      assert.equal(lookup.out.trim(), cartIP, "Node's lookup (getaddrinfo) walks the search list");
      const dig = spawnSync("sh", ["-c", "command -v dig"]).status === 0;
      if (dig || process.env.CI === "true") {
        assert.equal(exec("dig", "+search", "+short", "+time=2", "+tries=1", "cart").out.trim(), cartIP);
        assert.equal(
          exec("dig", "+short", "+tcp", "+time=2", "+tries=1", "cart.shop.svc.cluster.local").out.trim(),
          cartIP,
        );
      }
      // A new Service: the zone is rewritten and the DNS listener reloads it (no restart).
      cpSync("examples/shop", dir, { recursive: true });
      writeFileSync(
        join(dir, "99-extra.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: extra, namespace: shop}\nspec: {selector: {app: cart}, ports: [{port: 7070}]}\n",
      );
      const applied = podnet(["apply", "-f", dir, "--name", "pndns"]);
      assert.equal(applied.code, 0, applied.err);
      assert.match(applied.out, /listeners kept/);
      const extra = loadCluster({ files: [dir] });
      assert.ok(extra.ok);
      const extraIP = extra.cluster.services.find((s) => s.metadata.name === "extra")!.spec.clusterIP!;
      assert.match(exec("getent", "hosts", "extra").out, new RegExp(`^${extraIP.replaceAll(".", "\\.")}\\s`));
    } finally {
      podnet(["down", "--name", "pndns"]);
      rmSync(dir, { recursive: true, force: true });
    }
    assert.ok(
      !existsSync("/etc/netns") || !readdirSync("/etc/netns").some((d) => d.startsWith("podnet-pndns-")),
      "no resolv.conf left",
    );
  });

  it("pods whose address lies outside their node's podCIDR: host routes on every node (vxlan and host-gw), added and removed by apply", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-stray-"));
    const base = (cni: string) =>
      `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: stray}\nspec: {nodes: 3, cni: ${cni}, supply: {clusterDNS: false}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: default}\nspec: {nodeName: node-2, containers: [{name: c, ports: [{containerPort: 8080}]}]}\n`;
    // Outside every podCIDR, and inside another node's.
    const strays =
      "---\napiVersion: v1\nkind: Pod\nmetadata: {name: odd, namespace: default}\nspec: {nodeName: node-1, containers: [{name: c, ports: [{containerPort: 8080}]}]}\nstatus: {phase: Running, podIP: 10.244.7.5}\n" +
      "---\napiVersion: v1\nkind: Pod\nmetadata: {name: squatter, namespace: default}\nspec: {nodeName: node-3, containers: [{name: c, ports: [{containerPort: 8080}]}]}\nstatus: {phase: Running, podIP: 10.244.1.200}\n";
    try {
      for (const cni of ["vxlan", "host-gw"]) {
        writeFileSync(join(dir, "c.yaml"), base(cni) + strays);
        const up = podnet(["up", "-f", dir, "--name", "pnstray"]);
        assert.equal(up.code, 0, up.err);
        const probes = probeAgrees("pnstray", 400, `strays (${cni})`);
        // The squatter's address lies in node-2's podCIDR: node-2's pods ARP for it on their own link
        // and get no answer, both ways. Every other pair answers.
        const answered = probes
          .filter((p) => p.kernel.startsWith("answered") && !p.from.startsWith("node/"))
          .map((p) => `${p.from} ${p.to}`);
        // The nodes reach all three (their host routes are more specific than cni0's podCIDR route).
        assert.equal(
          probes.filter((p) => p.from.startsWith("node/") && p.kernel.startsWith("answered")).length,
          9,
          `${cni}: every node reaches every pod`,
        );
        assert.deepEqual(answered.sort(), [
          "default/client default/odd:8080/TCP",
          "default/odd default/client:8080/TCP",
          "default/odd default/squatter:8080/TCP",
          "default/squatter default/odd:8080/TCP",
        ]);
        const routes = () => podnet(["exec", "--name", "pnstray", "node/node-2", "--", "ip", "route"]).out;
        assert.match(routes(), /^10\.244\.7\.5 via /m);
        writeFileSync(join(dir, "c.yaml"), base(cni));
        assert.equal(podnet(["apply", "-f", dir, "--name", "pnstray"]).code, 0);
        assert.doesNotMatch(
          routes(),
          /10\.244\.7\.5|10\.244\.1\.200/,
          `${cni}: the host routes went with the pods`,
        );
        writeFileSync(join(dir, "c.yaml"), base(cni) + strays);
        assert.equal(podnet(["apply", "-f", dir, "--name", "pnstray"]).code, 0);
        assert.match(routes(), /^10\.244\.1\.200 via /m);
        probeAgrees("pnstray", 400, `strays back (${cni})`);
        podnet(["down", "--name", "pnstray"]);
      }
    } finally {
      podnet(["down", "--name", "pnstray"]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("NetworkPolicy never blocks a pod's own node, nor the pod reaching itself through its Service; other nodes it does (vxlan and host-gw)", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-exempt-"));
    try {
      for (const cni of ["vxlan", "host-gw"]) {
        writeFileSync(join(dir, "c.yaml"), NODE_EXEMPTION_CLUSTER(cni));
        const up = podnet(["up", "-f", dir, "--name", "pnexempt"]);
        assert.equal(up.code, 0, up.err);
        const probes = probeAgrees("pnexempt", 400, `exemptions (${cni})`);
        const answered = (from: string, to: string) =>
          probes.some((p) => p.from === from && p.to === to && p.kernel.startsWith("answered"));
        assert.ok(answered("default/web", "default/web:80/TCP"), "web through its own Service");
        assert.ok(!answered("default/locked", "default/web:8080/TCP"), "locked sends nothing");
        // From the nodes' namespaces: web's node gets in, the other node does not.
        assert.ok(answered("node/node-1", "default/web:8080/TCP"), "web's own node");
        assert.ok(!answered("node/node-2", "default/web:8080/TCP"), "the other node");
        // To the nodes: locked, which may send nothing, reaches the host-network pod on its own node
        // (the node's address), and not the one on the other node.
        assert.ok(answered("default/locked", "default/hn1:9100/TCP"), "locked to its own node");
        assert.ok(!answered("default/locked", "default/hn2:9100/TCP"), "locked to the other node");
        podnet(["down", "--name", "pnexempt"]);
      }
    } finally {
      podnet(["down", "--name", "pnexempt"]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ports nobody declared: the listeners serve every Service's target port, any other port refuses as the simulator's arrived predicts (issue 12 §4)", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-ports-"));
    try {
      writeFileSync(join(dir, "c.yaml"), UNDECLARED_PORTS_CLUSTER);
      const up = podnet(["up", "-f", dir, "--name", "pnports"]);
      assert.equal(up.code, 0, up.err);
      const probes = probeAgrees("pnports", 400, "undeclared ports");
      const kernel = (from: string, to: string) => probes.find((p) => p.from === from && p.to === to)?.kernel;
      // The pods declare no ports; the Services' numeric target port 8000 is listened on and answers.
      assert.match(
        kernel("demo/tiefighter", "demo/deathstar-1:8000/TCP") ?? "",
        /^answered by demo\/deathstar-1/,
      );
      assert.match(
        kernel("demo/tiefighter", "demo/deathstar:80/TCP") ?? "",
        /^answered by demo\/deathstar-\d/,
      );
      // Elsewhere nothing listens: the pod's kernel resets the connection (the simulator: arrived).
      assert.match(kernel("demo/tiefighter", "demo/xwing:9/TCP") ?? "", /^refused/);
      assert.match(kernel("node/n2", "demo/deathstar-1:9/TCP") ?? "", /^refused/);
      // A policy drops it before the pod: no reset comes back.
      assert.match(kernel("locked/hermit", "demo/xwing:9/TCP") ?? "", /^no answer \(timeout\)/);
    } finally {
      podnet(["down", "--name", "pnports"]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a node's second InternalIP outside nodeNetwork: reachable from the other node; probe agrees, nodePorts and host-network pods at every address (issue 12 §3)", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-addrs-"));
    try {
      writeFileSync(join(dir, "c.yaml"), SECOND_ADDRESS_CLUSTER);
      const up = podnet(["up", "-f", dir, "--name", "pnaddrs"]);
      assert.equal(up.code, 0, up.err);
      const probes = probeAgrees("pnaddrs", 1000, "second node address");
      const kernel = (from: string, to: string) => probes.find((p) => p.from === from && p.to === to)?.kernel;
      // The nodePort on node-1's second InternalIP, from node-2 and from node-2's pod, as predicted.
      assert.match(
        kernel("node/node-2", "default/web@node/node-1/10.10.0.11:30080/TCP") ?? "",
        /^answered by default\/web/,
      );
      assert.match(
        kernel("default/peer", "default/web@node/node-1/10.10.0.11:30080/TCP") ?? "",
        /^answered by default\/web/,
      );
      // Through node-1 to a backend on node-2 (masqueraded to node-1's address on the way).
      assert.match(
        kernel("node/node-2", "default/peer@node/node-1/10.10.0.11:30090/TCP") ?? "",
        /^answered by default\/peer/,
      );
      // The host-network pod on every address of node-1.
      for (const ip of ["10.10.0.11", "203.0.113.11"])
        assert.match(
          kernel("node/node-2", `default/hn1@${ip}:9100/TCP`) ?? "",
          /^answered by default\/hn1/,
          ip,
        );
      // kube-proxy does not take nodePorts on the ExternalIP: the node's kernel refuses there.
      assert.match(
        kernel("node/node-2", "default/web@node/node-1/203.0.113.11:30080/TCP") ?? "",
        /^no answer/,
      );
      const route = podnet([
        "exec",
        "--name",
        "pnaddrs",
        "node/node-2",
        "--",
        "ip",
        "route",
        "get",
        "10.10.0.11",
      ]);
      assert.match(route.out, /via 172\.18\.0\.1 dev eth0/, "node-2 sends it to the underlay");
      // The second address removed: the cluster is rebuilt without it.
      writeFileSync(
        join(dir, "c.yaml"),
        SECOND_ADDRESS_CLUSTER.replace("    - {type: InternalIP, address: 10.10.0.11}\n", ""),
      );
      const apply = podnet(["apply", "-f", dir, "--name", "pnaddrs"]);
      assert.equal(apply.code, 0, apply.err);
      const ul = spawnSync("ip", ["-n", "podnet-pnaddrs-u", "route"], { encoding: "utf8" }).stdout;
      assert.ok(!ul.includes("10.10.0.11") && ul.includes("203.0.113.11"), ul);
    } finally {
      podnet(["down", "--name", "pnaddrs"]);
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(
      listNamespaces().filter((n) => n.startsWith("podnet-pnaddrs-")),
      [],
    );
  });

  for (const mode of ["nftables", "iptables"] as const)
    it(`probe (${mode} mode): 20 generated clusters (fixed seeds; 2-4 nodes, 4-30 pods, random policies with ipBlocks, named ports, egress; vxlan and host-gw)`, () => {
      const dir = mkdtempSync(join(tmpdir(), "podnet-gen-"));
      const outcomes = { answered: 0, denied: 0 };
      try {
        for (let seed = 1; seed <= 20; seed++) {
          const nodes = 2 + (seed % 3);
          const pods = 4 + ((seed * 7) % 27);
          let text = `${generateCluster({ seed, nodes, pods, services: 3, namespaces: 2, policies: 0 })}---\n${generatePolicies(seed, 3 + (seed % 6), 2)}`;
          const cni = seed % 2 ? "vxlan" : "host-gw";
          text = text.replace(
            "spec:\n  clusterCIDR:",
            `spec:\n  cni: ${cni}\n  proxyMode: ${mode}\n  clusterCIDR:`,
          );
          assert.match(text, new RegExp(`proxyMode: ${mode}`));
          const file = join(dir, `gen-${seed}.yaml`);
          writeFileSync(file, text);
          const up = podnet(["up", "-f", file, "--name", "pngen"]);
          try {
            assert.equal(up.code, 0, `seed ${seed}: ${up.err}`);
            const probes = probeAgrees("pngen", 300, `seed ${seed} (${cni}, ${mode}, ${nodes} nodes)`);
            for (const p of probes) outcomes[p.kernel.startsWith("answered") ? "answered" : "denied"]++;
          } finally {
            podnet(["down", "--name", "pngen"]);
          }
        }
        assert.ok(
          outcomes.answered > 1000 && outcomes.denied > 1000,
          `both outcomes are exercised: ${JSON.stringify(outcomes)}`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

  it("apply changes only what changed, and up on a running cluster reconciles it; probe agrees after each", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-apply-"));
    try {
      cpSync("examples/articles", dir, { recursive: true });
      const app = join(dir, "app.yaml");
      // One more api replica; the database opens to every pod of the namespace.
      writeFileSync(
        app,
        readFileSync(app, "utf8")
          .replace("replicas: 2", "replicas: 3")
          .replace(
            /ingress:\n(\s+)- from:\n\s+- podSelector:\n\s+matchLabels:\n\s+app-component: api/,
            "ingress:\n$1- from:\n$1    - podSelector: {}",
          ),
      );
      assert.notEqual(readFileSync(app, "utf8"), readFileSync("examples/articles/app.yaml", "utf8"));
      const up = podnet(["up", "-f", "examples/articles", "--name", "pnapply"]);
      assert.equal(up.code, 0, up.err);
      const before = new Set(listNamespaces());
      const r = podnet(["apply", "-f", dir, "--name", "pnapply"]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^cluster pnapply synced in \d+ ms: \d+ pods? added .*default\/api-/);
      // Every node's two tables changed (a new endpoint, a new policy peer), none structurally.
      assert.match(r.out, /rulesets: \d+ partial syncs; listeners restarted/);
      const after = new Set(listNamespaces());
      const kept = [...before].filter((n) => after.has(n) && n.startsWith("podnet-pnapply-"));
      assert.ok(kept.length >= 8, `unchanged pods keep their namespaces (${kept.length})`);
      const probe = (what: string) => probeAgrees("pnapply", 400, what);
      const opened = probe("after apply");
      assert.ok(
        opened.some(
          (x) => x.from === "default/pod1" && x.to.includes("database") && x.kernel.startsWith("answered"),
        ),
        "the new policy lets pod1 in",
      );
      // A table changed behind podnet's back: the partial script fails on it, and it is replaced whole.
      const node0 = "podnet-pnapply-n0";
      assert.equal(
        spawnSync("ip", ["netns", "exec", node0, "nft", "delete", "table", "ip", "kube-proxy"]).status,
        0,
      );
      const again = podnet(["up", "-f", "examples/articles", "--name", "pnapply"]);
      assert.equal(again.code, 0, again.err);
      assert.match(again.out, /rulesets: \d+ partial syncs, 1 replaced; listeners restarted/);
      const closed = probe("after up reconciled back");
      assert.ok(
        closed.some(
          (x) => x.from === "default/pod1" && x.to.includes("database") && x.kernel.startsWith("no answer"),
        ),
        "the old policy is back",
      );
    } finally {
      podnet(["down", "--name", "pnapply"]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("apply in iptables mode: kube-proxy's chains synced with iptables-restore --noflush; rules changed behind podnet's back are restored whole; probe agrees after each", () => {
    const base = inMode("examples/articles", "iptables");
    const dir = inMode("examples/articles", "iptables");
    try {
      const app = join(dir.path, "app.yaml");
      writeFileSync(app, readFileSync(app, "utf8").replace("replicas: 2", "replicas: 3"));
      const up = podnet(["up", "-f", base.path, "--name", "pnipt"]);
      assert.equal(up.code, 0, up.err);
      const node0 = "podnet-pnipt-n0";
      const save = () =>
        spawnSync("ip", ["netns", "exec", node0, "iptables-save", "-t", "nat"], { encoding: "utf8" }).stdout;
      const svcChains = (text: string) => text.split("\n").filter((l) => /^:KUBE-(SVC|SEP)-/.test(l)).length;
      const before = svcChains(save());
      const r = podnet(["apply", "-f", dir.path, "--name", "pnipt"]);
      assert.equal(r.code, 0, r.err);
      // kube-proxy's rules changed on every node (a new endpoint of api), the policy tables too (a new
      // pod in their sets): partial syncs, nothing replaced.
      assert.match(r.out, /rulesets: \d+ partial syncs(, \d+ unchanged)?; listeners restarted/);
      assert.equal(svcChains(save()), before + 1, "the new endpoint's KUBE-SEP chain");
      probeAgrees("pnipt", 400, "after apply (iptables)");
      // The nat table emptied behind podnet's back: the partial input refers to chains that are gone,
      // the kernel refuses it, and the rules are restored whole.
      assert.equal(
        spawnSync("ip", ["netns", "exec", node0, "sh", "-c", "iptables -t nat -F && iptables -t nat -X"])
          .status,
        0,
      );
      const again = podnet(["up", "-f", base.path, "--name", "pnipt"]);
      assert.equal(again.code, 0, again.err);
      assert.match(again.out, /rulesets: \d+ partial syncs, 1 replaced/);
      assert.equal(svcChains(save()), before, "the endpoint's chain deleted again (-X)");
      probeAgrees("pnipt", 400, "after up reconciled back (iptables)");
    } finally {
      podnet(["down", "--name", "pnipt"]);
      base.done();
      dir.done();
    }
  });
});
