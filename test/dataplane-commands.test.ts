/**
 * The data plane's command sequences, without root: `up`, `apply` and `down` run against a
 * RecordingRunner (src/adapters/linux/runner.ts), which records every command, keeps the set of network
 * namespaces the commands create and delete, and fails the commands a test scripts to fail. State files
 * go to a temporary directory. What the kernel does with the commands is the root tests' business
 * (test/dataplane.test.ts); here: which commands run, in which order, with which input, and that a
 * failure leaves nothing behind.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { apply, down, type Host, up } from "../src/adapters/linux/dataplane.ts";
import { retryTimeoutMs, runProbes } from "../src/adapters/linux/probes.ts";
import { type Command, type Completed, commandLine, RecordingRunner } from "../src/adapters/linux/runner.ts";
import { namespacesOf, type Plan, planCluster } from "../src/core/dataplane/plan.ts";
import { renderIptables } from "../src/core/proxy/iptables.ts";
import { cluster } from "./helpers.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A host whose commands are recorded and whose files live in a fresh temporary directory. */
function host(script?: (c: Command, call: number) => Partial<Completed> | undefined): Host & {
  runner: RecordingRunner;
} {
  const dir = mkdtempSync(join(tmpdir(), "podnet-commands-"));
  dirs.push(dir);
  return {
    runner: new RecordingRunner(script),
    stateDir: join(dir, "state"),
    etcNetns: join(dir, "etc-netns"),
  };
}

/**
 * Two nodes, web-1 on node-1 behind Service web, a cluster DNS pod on node-2 (podnet supplies the
 * kube-dns Service in front of it), other on node-2 (labelled `app: other`, or `app: web`
 * with `bothBehindWeb`: a second endpoint of web, and no pod came or went), `extra` adds a pod on node-1 (with its address, as
 * a live dump gives it: the other pods keep theirs); `calico` makes it a Calico cluster with a VXLAN pool (the extra pod then gets its address from
 * node-1's block).
 */
function yaml(
  mode: "nftables" | "iptables",
  opts: { bothBehindWeb?: boolean; extra?: boolean; calico?: boolean } = {},
) {
  return `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: cmd}
spec: {proxyMode: ${mode}${opts.calico ? ", cni: calico" : ""}}
---
${
  opts.calico
    ? `apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: vx}
spec: {cidr: 10.244.0.0/16, vxlanMode: Always, natOutgoing: true}
---
`
    : ""
}
apiVersion: v1
kind: Node
metadata: {name: node-1}
spec: {podCIDR: 10.244.1.0/24}
status: {addresses: [{type: InternalIP, address: 172.18.0.2}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-2}
spec: {podCIDR: 10.244.2.0/24}
status: {addresses: [{type: InternalIP, address: 172.18.0.3}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: default, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: default, labels: {app: ${opts.bothBehindWeb ? "web" : "other"}}}
spec: {nodeName: node-2, containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  nodeName: node-2
  containers:
    - name: coredns
      ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
${
  opts.extra
    ? `---
apiVersion: v1
kind: Pod
metadata: {name: extra, namespace: default}
spec: {nodeName: node-1, containers: [{name: c, ports: [{containerPort: 9090}]}]}
${opts.calico ? "" : "status: {phase: Running, podIP: 10.244.1.200}\n"}`
    : ""
}`;
}

const planOf = (mode: "nftables" | "iptables", opts: Parameters<typeof yaml>[1] = {}) =>
  planCluster(cluster(yaml(mode, opts)), "cmd");

/** Each call as its command line; a started process as `start <program>`. */
function lines(runner: RecordingRunner, from = 0): string[] {
  return runner.calls.slice(from).map((c) => (c.how === "start" ? `start ${c.cmd}` : commandLine(c)));
}

/** The plan's sysctls as `key=value` per namespace, namespaces in plan order. */
function sysctlsByNetns(plan: Plan): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of plan.sysctls) out.set(s.netns, [...(out.get(s.netns) ?? []), `${s.key}=${s.value}`]);
  return out;
}

/** The commands `up` runs on a machine where the cluster does not exist, in order. */
function expectedUp(plan: Plan): string[] {
  const rulesets = plan.rules.map((r) =>
    r.tool === "nft" ? `ip netns exec ${r.netns} nft -f -` : `ip netns exec ${r.netns} iptables-restore`,
  );
  // Node namespaces sync side by side: the first ruleset of each node, then the second of each.
  const byRound: string[] = [];
  for (let round = 0; round < 2; round++)
    for (let n = 0; n < plan.nodes.length; n++) byRound.push(rulesets[n * 2 + round]);
  return [
    "ip netns list", // build → down: anything of it left? (up read no state file: nothing runs)
    "ip -batch -",
    ...plan.steps.map((s) => `${s.tool} -n ${s.netns} -batch -`),
    // One `sysctl -w` per namespace, its keys in plan order.
    ...[...sysctlsByNetns(plan)].map(([netns, kv]) => `ip netns exec ${netns} sysctl -q -w ${kv.join(" ")}`),
    ...byRound,
    "start sh",
  ];
}

describe("data plane commands (recorded, no root)", () => {
  for (const mode of ["nftables", "iptables"] as const) {
    it(`up (${mode}): namespaces, links, sysctls, rulesets with the mode's tool, listeners, state file`, async () => {
      const h = host();
      const plan = planOf(mode);
      const { record } = await up(plan, { host: h });
      assert.deepEqual(lines(h.runner), expectedUp(plan));
      assert.equal(
        h.runner.calls[1].input,
        `${namespacesOf(plan)
          .map((n) => `netns add ${n}`)
          .join("\n")}\n`,
      );
      assert.deepEqual([...h.runner.namespaces].sort(), [...namespacesOf(plan)].sort());
      assert.deepEqual(
        record.processes.map((p) => p.pid),
        [...h.runner.processes.keys()],
      );
      assert.ok(existsSync(join(h.stateDir, "cmd.json")));
      const proxyCalls = h.runner.calls.filter((c) =>
        c.args.includes(mode === "nftables" ? "nft" : "iptables-restore"),
      );
      if (mode === "iptables") {
        // kube-proxy's tables as `podnet rules` prints them, restored whole (no --noflush: a first sync).
        const state = cluster(yaml(mode));
        assert.equal(proxyCalls.length, 2);
        assert.equal(proxyCalls[0].input, renderIptables(state, state.nodes[0]));
        assert.equal(proxyCalls[1].input, renderIptables(state, state.nodes[1]));
        // route_localnet in each node's namespace (never the host's), for localhost nodePorts.
        for (const n of plan.nodes)
          assert.ok(
            lines(h.runner).some(
              (l) =>
                l.startsWith(`ip netns exec ${n.netns} sysctl -q -w `) &&
                l.split(" ").includes("net.ipv4.conf.all.route_localnet=1"),
            ),
          );
        // The policy table is nftables in both modes.
        assert.equal(h.runner.calls.filter((c) => c.args.includes("nft")).length, 2);
      } else {
        assert.equal(proxyCalls.length, 4, "kube-proxy's table and the policy table, per node");
        assert.ok(!lines(h.runner).some((l) => l.includes("route_localnet")));
        assert.match(
          proxyCalls[0].input ?? "",
          /^table ip kube-proxy\ndelete table ip kube-proxy\ntable ip kube-proxy \{/,
        );
      }
    });

    it(`apply (${mode}) with nothing changed runs nothing`, async () => {
      const h = host();
      await up(planOf(mode), { host: h });
      const n = h.runner.calls.length;
      const { report } = await apply(planOf(mode), { host: h });
      assert.deepEqual(lines(h.runner, n), []);
      assert.deepEqual(report?.rules, { none: 4, partial: 0, full: 0 });
      assert.equal(report?.listenersRestarted, false);
    });

    it(`apply (${mode}) of one changed endpoint: a partial sync of kube-proxy's rules on each node, nothing else`, async () => {
      const h = host();
      await up(planOf(mode), { host: h });
      const n = h.runner.calls.length;
      const plan = planOf(mode, { bothBehindWeb: true });
      const { report } = await apply(plan, { host: h });
      const tool = mode === "nftables" ? "nft -f -" : "iptables-restore --noflush";
      const pid = [...h.runner.processes.keys()][0];
      assert.deepEqual(lines(h.runner, n), [
        ...plan.nodes.map((x) => `ip netns exec ${x.netns} ${tool}`),
        // The zone changed with the endpoints: the DNS listener reads it again, and is not restarted.
        `kill -SIGHUP ${pid}`,
      ]);
      assert.deepEqual(report.rules, { none: 2, partial: 2, full: 0 });
      assert.equal(report.listenersRestarted, false);
      const input = h.runner.calls[n].input ?? "";
      if (mode === "iptables") {
        // Only the Service's changed chains among the per-Service ones, and the top-level chains.
        assert.match(input, /^\*filter\n/);
        assert.match(input, /^:KUBE-SVC-\S+ - \[0:0\]$/m);
        assert.match(input, /^:KUBE-SEP-\S+ - \[0:0\]$/m, "the new endpoint's chain");
        assert.doesNotMatch(
          input,
          /^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) /m,
          "built-in chains untouched",
        );
      } else assert.doesNotMatch(input, /delete table/, "not the whole table");
    });

    it(`apply (${mode}) of an added, then a removed pod: its namespace, veth and the listener restarted`, async () => {
      const h = host();
      const first = planOf(mode);
      await up(first, { host: h });
      const pid = [...h.runner.processes.keys()][0];
      const n = h.runner.calls.length;
      const plan = planOf(mode, { extra: true });
      const pod = plan.pods.find((p) => p.key === "default/extra")!;
      const node = plan.nodes.find((x) => x.name === "node-1")!;
      const { report } = await apply(plan, { host: h });
      assert.deepEqual(report.added, ["default/extra"]);
      assert.deepEqual(lines(h.runner, n), [
        "ip -batch -",
        `ip -n ${node.netns} -batch -`,
        `ip -n ${pod.netns} -batch -`,
        // The pod's address joins the policy table's and (iptables) nothing of kube-proxy's changes.
        ...h.runner.calls
          .slice(n + 3, -2)
          .map((c) => commandLine(c))
          .filter((l) => / (nft|iptables-restore)( |$)/.test(l)),
        `kill -SIGKILL ${pid}`,
        "start sh",
      ]);
      assert.equal(h.runner.calls[n].input, `netns add ${pod.netns}\n`);
      assert.equal(h.runner.calls[n + 1].input, `${pod.nodeLines.join("\n")}\n`);
      assert.equal(h.runner.calls[n + 2].input, `${pod.podLines.join("\n")}\n`);
      assert.ok(h.runner.namespaces.has(pod.netns));
      assert.ok(existsSync(join(h.etcNetns, pod.netns, "resolv.conf")));
      // And back: the pod's namespace deleted, its resolv.conf gone.
      const m = h.runner.calls.length;
      const back = await apply(first, { host: h });
      assert.deepEqual(back.report.removed, ["default/extra"]);
      assert.equal(lines(h.runner, m)[0], "ip -force -batch -");
      assert.equal(h.runner.calls[m].input, `netns del ${pod.netns}\n`);
      assert.ok(!h.runner.namespaces.has(pod.netns));
      assert.ok(!existsSync(join(h.etcNetns, pod.netns)));
    });
  }

  it("apply with the proxy mode changed rebuilds the cluster: the old mode's rules and sysctls do not stay", async () => {
    const h = host();
    await up(planOf("nftables"), { host: h });
    const n = h.runner.calls.length;
    const plan = planOf("iptables");
    const { report } = await apply(plan, { host: h });
    assert.equal(report.rebuilt, true);
    const after = lines(h.runner, n);
    assert.ok(
      after.indexOf("ip -force -batch -") < after.indexOf("ip -batch -"),
      "removed, then built again",
    );
    assert.deepEqual(after.slice(after.indexOf("ip -batch -")), expectedUp(plan).slice(1));
    assert.deepEqual([...h.runner.namespaces].sort(), [...namespacesOf(plan)].sort());
  });

  it("apply: a partial iptables sync the kernel refuses is followed by a full restore", async () => {
    const h = host((c) =>
      c.args.includes("--noflush") ? { code: 1, stderr: "iptables-restore: line 3 failed" } : undefined,
    );
    await up(planOf("iptables"), { host: h });
    const n = h.runner.calls.length;
    const plan = planOf("iptables", { bothBehindWeb: true });
    const { report } = await apply(plan, { host: h });
    assert.deepEqual(report.rules, { none: 2, partial: 0, full: 2 });
    const node0 = plan.nodes[0].netns;
    const mine = h.runner.calls.slice(n).filter((c) => c.args[2] === node0);
    assert.deepEqual(
      mine.map((c) => commandLine(c)),
      [`ip netns exec ${node0} iptables-restore --noflush`, `ip netns exec ${node0} iptables-restore`],
    );
    assert.equal(
      mine[1].input,
      plan.rules.find((r) => r.netns === node0 && r.tool === "iptables-restore")!.text,
    );
  });

  it("down: the listener, processes left in the namespaces, every namespace of the cluster, the state files", async () => {
    const h = host();
    const plan = planOf("nftables");
    const { record } = await up(plan, { host: h });
    const n = h.runner.calls.length;
    const r = down("cmd", { host: h });
    const all = namespacesOf(plan);
    assert.deepEqual(lines(h.runner, n), [
      `kill -SIGKILL ${record.processes[0].pid}`,
      "ip netns list",
      ...all.map((ns) => `ip netns pids ${ns}`),
      "ip -force -batch -",
    ]);
    assert.equal(h.runner.calls.at(-1)!.input, `${all.map((ns) => `netns del ${ns}`).join("\n")}\n`);
    assert.deepEqual(r, { namespaces: all.length, processes: 1 });
    assert.equal(h.runner.namespaces.size, 0);
    assert.deepEqual(readdirSync(h.stateDir), []);
    assert.deepEqual(readdirSync(h.etcNetns), []);
    // Idempotent: nothing left to remove.
    assert.deepEqual(down("cmd", { host: h }), { namespaces: 0, processes: 0 });
  });

  describe("rollback after a failure", () => {
    const plan = planOf("iptables");
    const failures: [string, (c: Command) => boolean][] = [
      [
        "the second `ip -n NS -batch` step",
        (c) => c.args[1] === plan.steps[1].netns && c.args[2] === "-batch",
      ],
      ["a sysctl", (c) => c.args.includes("sysctl")],
      [
        "iptables-restore on the second node",
        (c) => c.args[2] === plan.nodes[1].netns && c.args[3] === "iptables-restore",
      ],
      ["the policy table's nft -f", (c) => c.args.includes("nft")],
      ["the listener", (c) => c.cmd === "sh"],
    ];
    for (const [what, fails] of failures)
      it(`up: ${what} fails → everything created is removed, no state file, the error names the command`, async () => {
        const h = host((c) =>
          fails(c) ? { code: 2, stderr: "RTNETLINK answers: Operation not permitted" } : undefined,
        );
        await assert.rejects(up(plan, { host: h }), (e: Error) => {
          assert.equal(e.name, "Error");
          assert.match(e.message, /failed|exited|Operation not permitted/);
          return true;
        });
        assert.equal(h.runner.namespaces.size, 0, "no namespace left");
        assert.equal(h.runner.processes.size, 0, "no process left");
        assert.ok(!existsSync(join(h.stateDir, "cmd.json")), "no state file left");
        assert.ok(!existsSync(join(h.stateDir, "cmd.rules")), "no rules left");
        assert.deepEqual(existsSync(h.etcNetns) ? readdirSync(h.etcNetns) : [], []);
        assert.equal(lines(h.runner).at(-1), "ip -force -batch -", "the namespaces are deleted last");
      });

    it("apply: the kernel refuses a ruleset midway → the cluster is removed, nothing half-applied stays", async () => {
      let failing = false;
      const h = host((c) =>
        failing && c.args.includes("nft") ? { code: 1, stderr: "Error: Could not process rule" } : undefined,
      );
      await up(planOf("nftables"), { host: h });
      failing = true;
      const next = planOf("nftables", { extra: true, bothBehindWeb: true });
      await assert.rejects(apply(next, { host: h }), /nft in podnet-cmd-n\d+: Error: Could not process rule/);
      assert.equal(h.runner.namespaces.size, 0);
      assert.equal(h.runner.processes.size, 0);
      assert.ok(!existsSync(join(h.stateDir, "cmd.json")));
    });
  });

  it("probe: a timed-out connection is tried once more with a longer timeout when asked, never a third time", async () => {
    const rounds: string[] = [];
    const h = host((c) => {
      const at = c.args.findIndex((a) => /prober\.js$/.test(a));
      if (c.cmd !== "ip" || at < 0) return undefined;
      const targets = JSON.parse(c.args[at + 1]) as { id: number }[];
      rounds.push(`${c.args[2]} ${targets.map((t) => t.id).join(",")} ${c.args[at + 2]} ms`);
      // Target 3 answers on its second try; every other try times out.
      const second = rounds.filter((r) => r.includes(` ${targets[0].id} `)).length > 1;
      return {
        stdout: JSON.stringify(
          targets.map((t) =>
            t.id === 3 && second
              ? { id: 3, ok: true, answer: {} }
              : { id: t.id, ok: false, error: "timeout" },
          ),
        ),
      };
    });
    const { record } = await up(planOf("nftables"), { host: h });
    const [a, b] = record.pods;
    const to = (id: number, from: string) => ({
      id,
      from,
      ip: "10.0.0.1",
      port: 80,
      protocol: "TCP" as const,
    });
    const targets = [to(1, a.key), to(2, a.key), to(3, b.key)];

    const once = await runProbes(record, targets, 400, { host: h });
    assert.deepEqual(
      [...once.values()].map((r) => r.error),
      ["timeout", "timeout", "timeout"],
    );
    assert.deepEqual(rounds.sort(), [`${a.netns} 1,2 400 ms`, `${b.netns} 3 400 ms`].sort());

    rounds.length = 0;
    const retried = await runProbes(record, targets, 400, { host: h, retryTimedOut: (t) => t.id !== 2 });
    assert.deepEqual(
      rounds.sort(),
      [`${a.netns} 1 2000 ms`, `${a.netns} 1,2 400 ms`, `${b.netns} 3 2000 ms`, `${b.netns} 3 400 ms`].sort(),
    );
    assert.deepEqual(
      [1, 2, 3].map((id) => retried.get(id)?.ok),
      [false, false, true],
    );
    assert.equal(retryTimeoutMs(50), 2000);
    assert.equal(retryTimeoutMs(1000), 5000);
    assert.equal(retryTimeoutMs(5000), 10000);
  });

  it("apply (calico) of an added pod: its cali link and that link's sysctls, no rebuild", async () => {
    const h = host();
    await up(planOf("nftables", { calico: true }), { host: h });
    const n = h.runner.calls.length;
    const plan = planOf("nftables", { calico: true, extra: true });
    const pod = plan.pods.find((p) => p.key === "default/extra")!;
    const node = plan.nodes.find((x) => x.name === "node-1")!;
    assert.ok(pod.nodeSysctls.some((s) => s.key.endsWith(".proxy_arp")));
    const { report } = await apply(plan, { host: h });
    assert.equal(report.rebuilt, false);
    assert.deepEqual(report.added, ["default/extra"]);
    assert.deepEqual(lines(h.runner, n).slice(0, 4), [
      "ip -batch -",
      `ip -n ${node.netns} -batch -`,
      `ip netns exec ${node.netns} sysctl -q -w ${pod.nodeSysctls.map((s) => `${s.key}=${s.value}`).join(" ")}`,
      `ip -n ${pod.netns} -batch -`,
    ]);
  });
});
