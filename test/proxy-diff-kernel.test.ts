/**
 * `proxy-diff`'s predictions held to the kernel (issue 16): the same small cluster brought up for real
 * in nftables mode and in iptables mode (`podnet up`, the Cluster config's proxyMode), and a sample of
 * the differences `diffProxyModes` predicts between them probed from inside the cluster's namespaces:
 * a localhost nodePort, a nodePort on the node's bridge address, an undefined ClusterIP port, the
 * node's own traffic to a load-balancer IP without endpoints. Each
 * probe's outcome in each mode must be what the predicted fate means in the kernel (delivered: the
 * endpoint answers; arrived at the node, where nothing listens, or rejected: the connection is
 * refused; routed out of the node: neither answered nor refused). As root only, under the shared lock
 * (`flock /work/wt/root.lock …`); without root or the tools the tests skip with the reason, and under
 * CI=true that is a failure. Clusters are named `proxydiff-*` and always brought down.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { dataPlaneUnavailable } from "../src/adapters/linux/dataplane.ts";
import { diffProxyModes, type FlowChange, type FlowOutcome } from "../src/core/views/proxy-diff.ts";
import { cluster, runPodnet } from "./helpers.ts";

/** Two nodes; `web` on node-1 behind the NodePort `web-np` (ClusterIP 10.96.0.80, nodePort 30080). */
const CLUSTER = (mode: string) => `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: proxydiff}
spec:
  proxyMode: ${mode}
  nodes:
    - {name: node-1, ip: 172.18.0.11, podCIDR: 10.244.1.0/24}
    - {name: node-2, ip: 172.18.0.12, podCIDR: 10.244.2.0/24}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
spec: {nodeName: node-2, containers: [{name: c}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-np, namespace: default}
spec: {type: NodePort, clusterIP: 10.96.0.80, selector: {app: web}, ports: [{port: 80, targetPort: http, nodePort: 30080}]}
---
apiVersion: v1
kind: Service
metadata: {name: lb-empty, namespace: default}
spec: {type: LoadBalancer, clusterIP: 10.96.0.81, selector: {app: nobody}, ports: [{port: 80, nodePort: 30081}]}
`;

/**
 * The sampled flows: who sends (as `podnet exec` names it), and the predicted row's client and address
 * (or, for the load-balancer IP podnet allocates, its Service and frontend).
 */
const SAMPLE = [
  { exec: "node/node-1", client: "localhost", address: "127.0.0.1:30080" },
  { exec: "node/node-1", client: "node", address: "10.244.1.1:30080" },
  { exec: "default/client", client: "pod", address: "10.96.0.80:81" },
  { exec: "node/node-1", client: "node", service: "default/lb-empty", frontend: "loadBalancer" },
] as const;

type Observed = "answered" | "refused" | "no answer";

/** What a predicted fate looks like to a TCP client in the kernel. */
function expected(o: FlowOutcome): Observed {
  if (o.reaches === "endpoint" && o.verdict === "delivered") return "answered";
  if (o.verdict === "rejected" || (o.verdict === "arrived" && o.reaches === "node")) return "refused";
  if (o.verdict === "forwarded" || o.verdict === "dropped") return "no answer";
  throw new Error(`no kernel observation for ${JSON.stringify(o)}`);
}

/** One bounded TCP connection from inside `who`'s namespace; what came back. */
function connect(name: string, who: string, address: string): { seen: Observed; detail: string } {
  const [host, port] = address.split(":");
  const client = `const s=require("net").connect(${port},"${host}");let d="";const t=setTimeout(()=>{console.log("timeout");process.exit(0)},1500);s.on("data",x=>d+=x);s.on("end",()=>{console.log("data "+d);process.exit(0)});s.on("error",e=>{console.log("error "+e.code);process.exit(0)})`;
  const r = runPodnet(["exec", "--name", name, who, "--", process.execPath, "-e", client]);
  const out = r.out.trim();
  const seen: Observed = out.startsWith("data ")
    ? "answered"
    : out === "error ECONNREFUSED"
      ? "refused"
      : "no answer";
  return { seen, detail: `${out} ${r.err.trim()}`.trim() };
}

const unavailable = dataPlaneUnavailable(["iptables-restore"]);
const skip = unavailable && process.env.CI !== "true" ? unavailable : false;

describe("proxy-diff's nftables ↔ iptables predictions in the kernel", { skip }, () => {
  it("is available under CI", () => {
    assert.equal(unavailable, undefined, `the data plane tests cannot run: ${unavailable}`);
  });

  const diff = diffProxyModes(cluster(CLUSTER("nftables")), { from: "nftables", to: "iptables" });
  const predicted = SAMPLE.map((s) => {
    const row = diff.changes.find(
      (c: FlowChange) =>
        c.client === s.client &&
        ("address" in s ? c.address === s.address : c.service === s.service && c.frontend === s.frontend),
    );
    return { exec: s.exec, client: s.client, address: row?.address ?? JSON.stringify(s), row };
  });

  it("the sample is among the predicted differences", () => {
    for (const p of predicted) assert.ok(p.row, `${p.client} → ${p.address} is not predicted to change`);
    for (const p of predicted) assert.notEqual(expected(p.row!.from), expected(p.row!.to), p.address);
  });

  for (const mode of ["nftables", "iptables"] as const) {
    it(`${mode} mode: each sampled flow does in the kernel what proxy-diff predicts`, () => {
      const dir = mkdtempSync(join(tmpdir(), "podnet-proxydiff-"));
      const name = `proxydiff-${mode === "nftables" ? "nft" : "ipt"}`;
      try {
        writeFileSync(join(dir, "c.yaml"), CLUSTER(mode));
        const up = runPodnet(["up", "-f", dir, "--name", name]);
        assert.equal(up.code, 0, up.err);
        for (const p of predicted) {
          const want = expected(mode === "nftables" ? p.row!.from : p.row!.to);
          const got = connect(name, p.exec, p.address);
          assert.equal(got.seen, want, `${mode}: ${p.exec} → ${p.address}: ${got.detail}`);
        }
      } finally {
        runPodnet(["down", "--name", name]);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
