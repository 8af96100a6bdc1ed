/**
 * `podnet proxy-diff` (src/core/views/proxy-diff.ts, src/cli/proxy-diff.ts): each known difference
 * between kube-proxy's nftables and iptables modes as a fact on the shared packet-flow cluster
 * (test/cases/packet-flows.ts), with the reason's mode property; flows that do not change are absent;
 * grouping by shape equals tracing every flow, and the model agrees with each mode's rendered rules;
 * every pair of registered modes (IPVS too, once registered) is symmetric; the CLI's outputs,
 * --fail-on exit codes and bad input.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { proxyModeNames } from "../src/core/proxy/modes/registry.ts";
import { changeKinds, diffProxyModes, type FlowChange } from "../src/core/views/proxy-diff.ts";
import { flowCluster } from "./cases/packet-flows.ts";
import { cluster, runPodnet } from "./helpers.ts";

const WEB = ["10.244.0.3:8080", "10.244.1.2:8080"];
const state = cluster(flowCluster("vxlan"));
const nftToIpt = diffProxyModes(state, { from: "nftables", to: "iptables" });

/** The one change for this client and address (and node, when several rows share them). */
function flow(changes: readonly FlowChange[], client: string, address: string, node?: string): FlowChange {
  const found = changes.filter(
    (c) => c.client === client && c.address === address && (node === undefined || c.node === node),
  );
  assert.equal(found.length, 1, `${client} → ${address}: ${found.length} rows`);
  return found[0];
}

describe("proxy-diff nftables → iptables: each known difference, as kube-proxy has it", () => {
  it("localhost nodePorts: 127.0.0.1:nodePort arrives at the node in nftables, reaches the endpoints in iptables", () => {
    const c = flow(nftToIpt.changes, "localhost", "127.0.0.1:30080");
    assert.equal(c.service, "app/web-np");
    assert.equal(c.frontend, "nodePort");
    assert.equal(c.addressKind, "loopback");
    assert.deepEqual(c.from, { verdict: "arrived", reaches: "node", endpoints: [], masquerade: false });
    assert.deepEqual(c.to, { verdict: "delivered", reaches: "endpoint", endpoints: WEB, masquerade: true });
    assert.deepEqual(c.kinds, ["rerouted", "endpoints", "masquerade"]);
    assert.equal(c.property, "localhostNodePorts");
    assert.equal(c.nodes, 3);
    assert.equal(c.nodeClass, "all nodes");
  });

  it("an undefined port of a ClusterIP: rejected in nftables, routed out of the node in iptables", () => {
    const c = flow(nftToIpt.changes, "pod", "10.96.0.50:81");
    assert.equal(c.service, "app/web");
    assert.equal(c.frontend, "undefinedPort");
    assert.deepEqual(c.from, { verdict: "rejected", reaches: "nothing", endpoints: [], masquerade: false });
    assert.deepEqual(c.to, { verdict: "forwarded", reaches: "outside", endpoints: [], masquerade: true });
    assert.deepEqual(c.kinds, ["rerouted", "masquerade"]);
    assert.equal(c.property, "guardsServiceRange");
    // From the node itself: no masquerade either way.
    assert.deepEqual(flow(nftToIpt.changes, "node", "10.96.0.50:81").kinds, ["rerouted"]);
  });

  it("an unused serviceCIDR address: dropped in nftables, routed out in iptables", () => {
    const c = flow(nftToIpt.changes, "outside", "10.96.0.2:80");
    assert.equal(c.frontend, "unusedServiceIP");
    assert.equal(c.service, undefined);
    assert.equal(c.from.verdict, "dropped");
    assert.equal(c.to.verdict, "forwarded");
    assert.equal(c.property, "guardsServiceRange");
  });

  it("the node's own traffic to a load-balancer IP without endpoints: rejected in nftables, routed out in iptables", () => {
    const c = flow(nftToIpt.changes, "node", "198.51.100.2:80");
    assert.equal(c.service, "app/lb-empty");
    assert.equal(c.from.verdict, "rejected");
    assert.deepEqual(c.to, { verdict: "forwarded", reaches: "outside", endpoints: [], masquerade: false });
    assert.equal(c.property, "checksExternalEndpointsOnOutput");
  });

  it("the node's own traffic to a Local load balancer, no endpoint on the node: dropped in nftables, short-circuited in iptables", () => {
    const c = flow(nftToIpt.changes, "node", "198.51.100.3:80");
    assert.equal(c.service, "app/lb-local");
    assert.equal(c.nodeClass, "nodes without an endpoint");
    assert.equal(c.nodes, 2, "n2 and n3: app/e runs on n1");
    assert.deepEqual(c.from, { verdict: "dropped", reaches: "nothing", endpoints: [], masquerade: false });
    assert.deepEqual(c.to, {
      verdict: "delivered",
      reaches: "endpoint",
      endpoints: ["10.244.0.4:8080"],
      masquerade: true,
    });
    assert.deepEqual(c.kinds, ["gained", "endpoints", "masquerade"]);
    // On n1, which has the endpoint, both modes short-circuit: no change.
    assert.equal(
      nftToIpt.changes.some(
        (x) => x.address === "198.51.100.3:80" && x.nodeClass === "nodes with an endpoint",
      ),
      false,
    );
  });

  it("nodePorts on the node's other local addresses (cni0's): only iptables accepts them by default", () => {
    const c = flow(nftToIpt.changes, "node", "10.244.0.1:30080");
    assert.equal(c.addressKind, "device address");
    assert.deepEqual(c.from, { verdict: "arrived", reaches: "node", endpoints: [], masquerade: false });
    assert.equal(c.to.verdict, "delivered");
    assert.deepEqual(c.to.endpoints, WEB);
    assert.equal(c.property, "nodePortAddressesDefault");
    // With nodePortAddresses covering every address, both modes accept them: the difference is gone,
    // and localhost nodePorts still differ (nftables never accepts loopback).
    const all = cluster(
      flowCluster("vxlan").replace(
        "  proxyMode: nftables\n",
        "  proxyMode: nftables\n  kubeProxy: {nodePortAddresses: [0.0.0.0/0]}\n",
      ),
    );
    assert.deepEqual(all.config.kubeProxy.nodePortAddresses, ["0.0.0.0/0"]);
    const d = diffProxyModes(all, { from: "nftables", to: "iptables" });
    assert.equal(d.changes.filter((x) => x.addressKind === "device address").length, 0);
    assert.ok(d.changes.some((x) => x.addressKind === "loopback"));
  });

  it("what does not change is absent: ClusterIPs, primary-IP nodePorts, outside clients to Services", () => {
    for (const c of nftToIpt.changes) {
      assert.notEqual(c.frontend, "clusterIP", `${c.address} ${c.client}`);
      if (c.frontend === "nodePort") assert.notEqual(c.addressKind, "primary IP", `${c.address} ${c.client}`);
      if (c.frontend === "loadBalancer" || c.frontend === "externalIP") assert.equal(c.client, "node");
      assert.ok(c.kinds.length > 0);
      assert.ok(c.property, `${c.address}: every nftables/iptables difference is named by a mode property`);
    }
  });
});

describe("proxy-diff: grouping, counts, shapes and judges", () => {
  it("groups: each change in exactly one group, counts add up, most serious kind first", () => {
    const d = nftToIpt;
    assert.ok(d.groups.length > 0);
    for (const [i, g] of d.groups.entries()) {
      const members = d.changes.filter((c) => c.group === i);
      assert.equal(g.rows, members.length, g.change);
      assert.equal(
        g.flows,
        members.reduce((n, c) => n + c.nodes, 0),
      );
      assert.ok(members.every((c) => c.kinds[0] === g.kind && c.reason === g.reason));
    }
    const order = ["lost", "gained", "rerouted", "verdict", "endpoints", "masquerade"];
    const kinds = d.groups.map((g) => order.indexOf(g.kind));
    assert.deepEqual(
      kinds,
      [...kinds].sort((a, b) => a - b),
    );
    assert.ok(d.examined.flows > d.examined.rows, "a row stands for every node of its class");
    assert.ok(d.traced < d.examined.rows, "flows of one shape share a trace");
  });

  it("one trace per shape gives exactly what tracing every flow gives", () => {
    const every = diffProxyModes(state, { from: "nftables", to: "iptables", exhaustive: true });
    assert.deepEqual(every.changes, nftToIpt.changes);
    assert.ok(every.traced > nftToIpt.traced);
  });

  it("the model and each mode's rendered rules agree on every flow", () => {
    const rules = diffProxyModes(state, { from: "nftables", to: "iptables", judge: "rules" });
    assert.equal(rules.judge, "rules");
    assert.deepEqual(rules.changes, nftToIpt.changes);
  });

  it("every pair of registered modes: shapes = every flow; the switch back is the mirror image; a mode against itself changes nothing", () => {
    const names = proxyModeNames();
    for (const a of names)
      for (const b of names) {
        const d = diffProxyModes(state, { from: a, to: b });
        if (a === b) {
          assert.deepEqual(d.changes, [], a);
          continue;
        }
        const every = diffProxyModes(state, { from: a, to: b, exhaustive: true });
        assert.deepEqual(every.changes, d.changes, `${a} → ${b}: one trace per shape = every flow traced`);
        const back = diffProxyModes(state, { from: b, to: a });
        const key = (c: FlowChange) => `${c.client} ${c.address} ${c.node}`;
        assert.deepEqual(d.changes.map(key).sort(), back.changes.map(key).sort(), `${a} ↔ ${b}`);
        for (const c of d.changes) {
          const m = back.changes.find((x) => key(x) === key(c))!;
          assert.deepEqual(m.from, c.to);
          assert.deepEqual(m.to, c.from);
          assert.deepEqual(m.kinds, changeKinds(c.to, c.from));
          assert.ok(c.reason.length > 0);
        }
      }
  });

  it("the switch back: what iptables answers, nftables loses", () => {
    const back = diffProxyModes(state, { from: "iptables", to: "nftables" });
    assert.deepEqual(flow(back.changes, "node", "198.51.100.3:80").kinds, [
      "lost",
      "endpoints",
      "masquerade",
    ]);
    assert.deepEqual(flow(back.changes, "localhost", "127.0.0.1:30080").kinds, [
      "rerouted",
      "endpoints",
      "masquerade",
    ]);
  });

  it("-n: only flows to that namespace's Services", () => {
    const d = diffProxyModes(state, { from: "nftables", to: "iptables", namespace: "default" });
    assert.ok(d.changes.length > 0);
    assert.ok(d.changes.every((c) => c.service?.startsWith("default/")));
    assert.ok(d.changes.every((c) => d.groups[c.group] !== undefined));
  });

  it("changeKinds: each kind from the two fates", () => {
    const o = (
      verdict: "delivered" | "rejected" | "dropped" | "forwarded" | "arrived",
      reaches: "endpoint" | "nothing" | "outside" | "node",
      endpoints: string[] = [],
      masquerade = false,
    ) => ({ verdict, reaches, endpoints, masquerade });
    assert.deepEqual(changeKinds(o("delivered", "endpoint", WEB), o("rejected", "nothing")), [
      "lost",
      "endpoints",
    ]);
    assert.deepEqual(changeKinds(o("dropped", "nothing"), o("arrived", "node")), ["gained"]);
    assert.deepEqual(changeKinds(o("rejected", "nothing"), o("dropped", "nothing")), ["verdict"]);
    assert.deepEqual(changeKinds(o("rejected", "nothing"), o("forwarded", "outside")), ["rerouted"]);
    assert.deepEqual(changeKinds(o("delivered", "endpoint", WEB), o("delivered", "endpoint", WEB.slice(1))), [
      "endpoints",
    ]);
    assert.deepEqual(changeKinds(o("delivered", "endpoint", WEB), o("delivered", "endpoint", WEB, true)), [
      "masquerade",
    ]);
    assert.deepEqual(changeKinds(o("delivered", "endpoint", WEB), o("delivered", "endpoint", WEB)), []);
  });
});

describe("podnet proxy-diff (the built CLI)", () => {
  const dir = mkdtempSync(join(tmpdir(), "podnet-proxydiff-"));
  const file = join(dir, "flows.yaml");
  writeFileSync(file, flowCluster("vxlan"));
  const run = (...args: string[]) => runPodnet(["proxy-diff", "-f", file, ...args]);

  it("text: groups by kind with counts, reasons and rows", () => {
    const r = run("--to", "iptables");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^nftables → iptables: \d+ flows examined/);
    assert.match(
      r.out,
      /^lost: reached in the old mode, rejected or dropped in the new one — \d+ flows? \(\d+ per node\)$/m,
    );
    assert.match(
      r.out,
      /why: localhostNodePorts: iptables answers nodePorts on 127\.0\.0\.1, nftables does not/,
    );
    assert.match(
      r.out,
      /- pod → 10\.96\.0\.50:81\/TCP \(app\/web, undefinedPort\) on n1 \(×3 nodes: all nodes\): rejected ⇒ forwarded → outside, masqueraded/,
    );
    assert.match(r.out, /… and \d+ more flows \(--all or -o json lists them\)/);
    assert.doesNotMatch(run("--to", "iptables", "--all").out, /… and \d+ more/);
  });

  it("-o json is the core's answer; -o md a table per group and per flow", () => {
    const json = JSON.parse(run("--to", "iptables", "-o", "json").out);
    assert.equal(json.from, "nftables");
    assert.equal(json.to, "iptables");
    assert.deepEqual(json.changes, JSON.parse(JSON.stringify(nftToIpt.changes)));
    const md = run("--to", "iptables", "-o", "md").out;
    assert.match(md, /^\| kind \| change \| flows \| per node \| reason \| example \|$/m);
    assert.match(md, /^\| kinds \| flow \| nodes \| nftables \| iptables \|$/m);
    assert.match(md, /^\| rerouted, masquerade \| pod → 10\.96\.0\.50:81\/TCP/m);
  });

  it("-n: a namespace whose Services change nothing says so, naming it", () => {
    const r = run("--to", "iptables", "-n", "kube-public");
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /\nno flow to a Service of namespace kube-public changes between nftables and iptables mode\n$/,
    );
    assert.equal(run("--to", "iptables", "-n", "nowhere").code, 2, "a namespace the cluster does not have");
  });

  it("--from: the cluster's own mode by default, or the one named", () => {
    const back = run("--from", "iptables", "--to", "nftables", "-o", "json");
    assert.equal(back.code, 0, back.err);
    assert.equal(JSON.parse(back.out).from, "iptables");
  });

  it("--fail-on: exit 1 when a flow changes in a named kind, 0 otherwise", () => {
    const gate = run("--to", "iptables", "--fail-on", "lost,masquerade");
    assert.equal(gate.code, 1);
    assert.match(
      gate.err,
      /^proxy-diff: \d+ flows changed \((lost|masquerade)(, (lost|masquerade))?\) from nftables to iptables \(--fail-on lost,masquerade\)$/m,
    );
    assert.equal(run("--to", "iptables", "--fail-on", "verdict").code, 0, "no rejected ↔ dropped change");
  });

  it("bad input: unknown modes name the registered ones; unknown kinds; the cluster's own mode; broken manifests", () => {
    const bad = run("--to", "ipvsx");
    assert.equal(bad.code, 2);
    assert.equal(
      bad.err.trim(),
      `error: --to: unknown proxy mode "ipvsx"; the registered modes are ${proxyModeNames().join(", ")}`,
    );
    const caseSlip = run("--to", "IPVS");
    assert.equal(caseSlip.code, 2);
    assert.equal(
      caseSlip.err.trim(),
      `error: --to: unknown proxy mode "IPVS" (did you mean ipvs?); the registered modes are ${proxyModeNames().join(", ")}`,
    );
    const badFrom = run("--from", "userspace", "--to", "iptables");
    assert.equal(badFrom.code, 2);
    assert.equal(
      badFrom.err.trim(),
      `error: --from: unknown proxy mode "userspace"; the registered modes are ${proxyModeNames().join(", ")}`,
    );
    const kind = run("--to", "iptables", "--fail-on", "broken");
    assert.equal(kind.code, 2);
    assert.match(
      kind.err,
      /--fail-on: unknown kind "broken"; use lost, gained, rerouted, verdict, endpoints, masquerade/,
    );
    const same = run("--to", "nftables");
    assert.equal(same.code, 2);
    const others = proxyModeNames().filter((n) => n !== "nftables");
    assert.equal(
      same.err.trim().split("\n").at(-1),
      `error: --to nftables: the cluster already runs in nftables mode (its proxyMode); name another mode (${others.join(", ")}) or give --from`,
    );
    const both = run("--from", "iptables", "--to", "iptables");
    assert.equal(both.code, 2);
    assert.equal(
      both.err.trim().split("\n").at(-1),
      `error: --from and --to both name iptables: nothing to compare; name two different modes (${proxyModeNames().join(", ")})`,
    );
    const missing = runPodnet(["proxy-diff", "-f", file]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /required option '--to <mode>' not specified/);
    const broken = runPodnet(["proxy-diff", "-f", "test/fixtures/broken", "--to", "iptables"]);
    assert.equal(broken.code, 2);
    assert.match(broken.err, /:\d+:\d+: error: /);
  });
});
