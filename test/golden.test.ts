/**
 * Golden outputs for the reference articles' walk-throughs on examples/articles: the trace text a user
 * reads. A change to routing, NAT or wording shows up here as a diff. Regenerate deliberately with
 * `UPDATE_GOLDEN=1 npm test` and review the diff.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
import { renderTrace } from "../src/cli/trace.ts";
import { Network } from "../src/core/sim/network.ts";
import { resolveDestination, resolveSource } from "../src/core/sim/targets.ts";
import { trace } from "../src/core/sim/trace.ts";
import { loadCluster } from "../src/index.ts";

const WALKS: [string, string, string, string?][] = [
  ["same-node", "default/pod1", "default/pod2:8080"],
  ["cross-node-vxlan", "default/pod1", "default/pod3:8080"],
  ["pod-to-service-and-back", "default/pod1", "service1.default:http"],
  ["outside-to-nodeport", "203.0.113.7", "172.18.0.4:30080", "node-3"],
];

describe("golden traces of the articles' walk-throughs", () => {
  const r = loadCluster({ files: ["examples/articles"] });
  assert.ok(r.ok);
  const net = new Network(r.cluster);
  for (const [name, from, to, node] of WALKS) {
    it(name, () => {
      const src = resolveSource(net, from, node);
      const dst = resolveDestination(net, to);
      assert.ok(src.ok && dst.ok);
      const t = trace(
        net,
        { source: src.value, dst: dst.value.ip, dport: dst.value.port, protocol: dst.value.protocol },
        { reply: true },
      );
      const text = renderTrace(
        `trace ${dst.value.protocol} ${from} → ${dst.value.label}:${dst.value.port}`,
        t,
      );
      const file = `test/golden/${name}.txt`;
      if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, text);
      assert.ok(existsSync(file), `${file} is missing (UPDATE_GOLDEN=1 writes it)`);
      assert.equal(
        text,
        readFileSync(file, "utf8"),
        `${file} differs (UPDATE_GOLDEN=1 rewrites it; review the diff)`,
      );
    });
  }
});
