/**
 * Property tests of the tracer on random clusters (fast-check, fixed seeds): any packet between pods,
 * nodes, Services and outside addresses is traced without error to a valid end, forward and reply,
 * and kube-proxy's decisions read off the rendered rules equal the model's, in both proxy modes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Protocol } from "../src/core/model/k8s.ts";
import { parseIPv4 } from "../src/core/net/ipv4.ts";
import { Network } from "../src/core/sim/network.ts";
import { type Source, trace } from "../src/core/sim/trace.ts";
import { arbCluster, manifest } from "./cases/random-cluster.ts";
import { cluster } from "./helpers.ts";

const VERDICTS = new Set(["delivered", "arrived", "forwarded", "dropped", "rejected"]);

describe("tracer properties on random clusters", () => {
  it("every trace ends well, forward and reply, and the rules agree with the model", () => {
    fc.assert(
      fc.property(
        arbCluster,
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 12 }),
        (c, picks) => {
          const state = cluster(manifest(c));
          const model = new Network(state);
          const rules = new Network(state, { proxy: "rules" });
          const pods = [...model.podByIP.values()];
          const sources: Source[] = [
            ...pods.map((pod) => ({ kind: "pod" as const, pod })),
            ...state.nodes.map((node) => ({ kind: "node" as const, node })),
            { kind: "external", ip: parseIPv4("203.0.113.9")!, node: state.nodes[0] },
          ];
          const targets: [number, number, Protocol][] = [];
          for (const p of pods)
            for (const ct of p.spec.containers)
              for (const port of ct.ports ?? [])
                targets.push([parseIPv4(p.status!.podIP!)!, port.containerPort, port.protocol ?? "TCP"]);
          for (const info of model.proxy.ports) {
            if (info.clusterIP !== undefined) targets.push([info.clusterIP, info.port.port, info.protocol]);
            for (const ip of info.lbIPs) targets.push([ip, info.port.port, info.protocol]);
            if (info.nodePort !== undefined)
              for (const n of state.nodes) targets.push([n.ip, info.nodePort, info.protocol]);
          }
          for (const n of state.nodes) targets.push([n.ip, 9100, "TCP"]);
          targets.push([parseIPv4("10.96.0.99")!, 80, "TCP"], [parseIPv4("198.18.0.1")!, 443, "TCP"]);
          for (const [a, b, sport] of picks) {
            const source = sources[a % sources.length];
            const [dst, dport, protocol] = targets[b % targets.length];
            const req = { source, dst, dport, protocol, sport: 32768 + (sport % 20000) };
            const m = trace(model, req, { reply: true });
            const r = trace(rules, req, { reply: true });
            assert.ok(VERDICTS.has(m.verdict), m.verdict);
            assert.ok(m.hops.length > 0 && m.hops.length < 64, `${m.hops.length} hops`);
            if (m.reply) assert.ok(VERDICTS.has(m.reply.verdict));
            const summary = (t: typeof m) => ({
              verdict: t.verdict,
              endpoints: [...t.endpoints].sort(),
              chosen: t.chosen,
              masquerade: t.masquerade,
              seen: t.delivered?.seenSource,
            });
            assert.deepEqual(
              summary(r),
              summary(m),
              `rules and model disagree on ${JSON.stringify({ cni: c.cni, mode: c.mode, source: source.kind, dst, dport, protocol })}`,
            );
          }
        },
      ),
      { seed: 2026, numRuns: 120 },
    );
  });
});
