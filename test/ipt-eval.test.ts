/**
 * The iptables evaluator (src/core/proxy/ipt-eval.ts) as the IPVS evaluator uses it: the MARK
 * target's options as iptables reduces them to `--set-xmark` (extensions/libxt_MARK.c), a match
 * option a mode supplies (negated too), and the errors for what it cannot evaluate.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseIPv4 } from "../src/core/net/ipv4.ts";
import { IptEvaluator, type IptMatchOption, parseIptablesSave } from "../src/core/proxy/ipt-eval.ts";
import type { EvalOutcome, EvalPacket } from "../src/core/proxy/nft-eval.ts";

const packet = (mark = 0): EvalPacket => ({
  src: parseIPv4("10.244.0.5")!,
  sport: 40000,
  dst: parseIPv4("10.96.0.10")!,
  dport: 53,
  protocol: "udp",
  mark,
  isLocal: () => false,
});
const outcome = (): EvalOutcome => ({ verdict: "accept", masquerade: false, trail: [] });
const never = () => assert.fail("no statistic run here");

/** Runs nat OUTPUT of a table holding `rules` (in chain OUTPUT); returns the packet and outcome. */
function run(rules: string[], mark = 0, matches: Record<string, IptMatchOption> = {}) {
  const ev = new IptEvaluator(
    parseIptablesSave(["*nat", ":OUTPUT ACCEPT [0:0]", ...rules, "COMMIT"].join("\n")),
    { matches },
  );
  const p = packet(mark);
  const out = outcome();
  ev.runChain("nat", "OUTPUT", p, out, never);
  return { p, out };
}

describe("iptables evaluator: MARK", () => {
  it("--or-mark, --xor-mark, --and-mark and --set-xmark change the mark as iptables does", () => {
    assert.equal(run(["-A OUTPUT -j MARK --or-mark 0x4000"], 0x1001).p.mark, 0x5001);
    assert.equal(run(["-A OUTPUT -j MARK --xor-mark 0x4000"], 0x5001).p.mark, 0x1001);
    assert.equal(run(["-A OUTPUT -j MARK --xor-mark 0x4000"], 0x1001).p.mark, 0x5001);
    assert.equal(run(["-A OUTPUT -j MARK --and-mark 0xff"], 0x4321).p.mark, 0x21);
    assert.equal(run(["-A OUTPUT -j MARK --set-xmark 0x4000/0x4000"], 0x1).p.mark, 0x4001);
    assert.equal(run(["-A OUTPUT -j MARK --set-xmark 0x0/0xffff"], 0x4321).p.mark, 0);
  });

  it("a mark set earlier is matched by a later rule", () => {
    const { out } = run([
      "-A OUTPUT -j MARK --or-mark 0x004000",
      "-A OUTPUT -m mark ! --mark 0x004000/0x004000 -j RETURN",
      "-A OUTPUT -j DROP",
    ]);
    assert.equal(out.verdict, "drop");
  });

  it("a MARK without an option it knows is an error naming the rule", () => {
    assert.throws(
      () => run(["-A OUTPUT -j MARK --set-mark 1"]),
      /cannot evaluate "-A OUTPUT -j MARK --set-mark 1"/,
    );
  });
});

describe("iptables evaluator: match options a mode supplies", () => {
  const port: Record<string, IptMatchOption> = {
    "--port-is": { operands: 1, matches: (a, at, p) => p.dport === Number(a[at]) },
  };

  it("are asked with their operands, negated by a preceding !, and the words after them still read", () => {
    assert.equal(run(["-A OUTPUT -m x --port-is 53 -p udp -j DROP"], 0, port).out.verdict, "drop");
    assert.equal(run(["-A OUTPUT -m x --port-is 54 -p udp -j DROP"], 0, port).out.verdict, "accept");
    assert.equal(run(["-A OUTPUT -m x ! --port-is 54 -p udp -j DROP"], 0, port).out.verdict, "drop");
    assert.equal(run(["-A OUTPUT -m x --port-is 53 -p tcp -j DROP"], 0, port).out.verdict, "accept");
  });

  it("an option no one supplies is an error naming the rule and the option", () => {
    assert.throws(
      () => run(["-A OUTPUT -m x --port-is 53 -j DROP"]),
      /cannot evaluate "[^"]*" at "--port-is"/,
    );
  });

  it("bridged traffic: podnet's packets never come in on a bridge port", () => {
    assert.equal(run(["-A OUTPUT -m physdev --physdev-is-in -j DROP"]).out.verdict, "accept");
    assert.equal(run(["-A OUTPUT -m physdev ! --physdev-is-in -j DROP"]).out.verdict, "drop");
  });
});
