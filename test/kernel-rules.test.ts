/**
 * The rendered kube-proxy rules against the real tools: every nftables ruleset must be accepted by
 * `nft -c -f` and every iptables-save text by `iptables-restore --test` (parsed and checked in the
 * kernel, nothing committed), each run inside a private network namespace made by `unshare --net` so
 * the host's own namespace is never touched. Needs root and the Debian packages nftables and iptables:
 * skipped with the reason otherwise, and a failure under CI=true.
 */
import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { renderIptables } from "../src/core/proxy/iptables.ts";
import { renderNftables } from "../src/core/proxy/nftables.ts";
import { loadCluster } from "../src/index.ts";
import { flowCluster } from "./cases/packet-flows.ts";
import { cluster } from "./helpers.ts";

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (nft checks rules against the kernel)";
  for (const tool of ["nft", "unshare"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0)
      return `needs ${tool} (Debian package ${tool === "nft" ? "nftables" : "util-linux"})`;
  }
  const probe = spawnSync("unshare", ["--net", "true"]);
  if (probe.status !== 0) return `cannot create a network namespace: ${String(probe.stderr).trim()}`;
  return undefined;
}

/** `nft -c -f -` (check only) inside a fresh network namespace. */
function nftCheck(text: string): SpawnSyncReturns<string> {
  return spawnSync("unshare", ["--net", "nft", "-c", "-f", "-"], { input: text, encoding: "utf8" });
}

/** `iptables-restore --test` (check only) inside a fresh network namespace. */
function iptablesCheck(text: string): SpawnSyncReturns<string> {
  return spawnSync("unshare", ["--net", "iptables-restore", "--test"], { input: text, encoding: "utf8" });
}

const reason = missing();
if (reason && process.env.CI === "true") {
  describe("kube-proxy rules in the kernel", () => {
    it("runs in CI", () => assert.fail(`a kernel test cannot be skipped under CI=true: ${reason}`));
  });
} else {
  describe("nftables rules in the kernel (nft -c in a private network namespace)", {
    skip: reason ?? false,
  }, () => {
    const clusters = [
      ["examples/articles", loadCluster({ files: ["examples/articles"] })],
      ["examples/shop", loadCluster({ files: ["examples/shop"] })],
      ["examples/live-dump", loadCluster({ files: ["examples/live-dump"] })],
    ] as const;
    for (const [name, r] of clusters) {
      it(`${name}: every node's ruleset is valid nft input`, () => {
        assert.ok(r.ok);
        for (const node of r.cluster.nodes) {
          const res = nftCheck(renderNftables(r.cluster, node));
          assert.equal(res.status, 0, `${name} ${node.name}: ${res.stderr}`);
        }
      });
    }
    for (const [name, r] of clusters) {
      it(`${name}: every node's iptables-save text (proxyMode iptables) restores`, () => {
        assert.ok(r.ok);
        const state = { ...r.cluster, config: { ...r.cluster.config, proxyMode: "iptables" as const } };
        for (const node of state.nodes) {
          const res = iptablesCheck(renderIptables(state, node));
          assert.equal(res.status, 0, `${name} ${node.name}: ${res.stderr}`);
        }
      });
    }
    it("the packet-flow cluster's iptables-save text (firewall, affinity, Local policies) restores", () => {
      const s = cluster(flowCluster("vxlan", "iptables"));
      for (const node of s.nodes) {
        const text = renderIptables(s, node);
        assert.match(text, /-m recent --rcheck/);
        assert.match(text, /:KUBE-FW-/);
        const res = iptablesCheck(text);
        assert.equal(res.status, 0, `${node.name}: ${res.stderr}`);
      }
    });
    it("the packet-flow cluster (firewall, affinity, Local policies, no-endpoint verdicts) is valid nft input", () => {
      const s = cluster(flowCluster("vxlan"));
      for (const node of s.nodes) {
        const text = renderNftables(s, node);
        assert.match(text, /set affinity-/);
        assert.match(text, /chain firewall-/);
        const res = spawnSync("unshare", ["--net", "nft", "-c", "-f", "-"], {
          input: text,
          encoding: "utf8",
        });
        assert.equal(res.status, 0, `${node.name}: ${res.stderr}`);
      }
    });
  });
}
