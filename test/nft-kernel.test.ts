/**
 * The rendered kube-proxy rulesets against the real `nft`: each must be accepted by `nft -c -f`
 * (parse and check in the kernel, nothing committed), run inside a private network namespace made
 * by `unshare --net` so the host's own namespace is never touched. Needs root and the nftables
 * package: skipped with the reason otherwise, and a failure under CI=true.
 */
import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { describe, it } from "node:test";
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

const reason = missing();
if (reason && process.env.CI === "true") {
  describe("nftables rules in the kernel", () => {
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
