import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Cidr, formatIPv4, isCidrNotation, parseIPv4 } from "../src/core/net/ipv4.ts";

describe("IPv4 and CIDR values", () => {
  it("parses and formats dotted quads as unsigned numbers", () => {
    assert.equal(parseIPv4("10.244.1.2"), 0x0af40102);
    assert.equal(parseIPv4("255.255.255.255"), 0xffffffff);
    assert.equal(formatIPv4(0xc0a80001), "192.168.0.1");
    for (const bad of ["10.244.1", "10.244.1.256", "1.2.3.4.5", "a.b.c.d", "", "::1", "010.1.1.1"]) {
      assert.equal(parseIPv4(bad), undefined, bad);
    }
  });

  it("parses CIDRs and rejects host bits with the network address to use", () => {
    const c = Cidr.parse("10.244.0.0/16");
    assert.ok(c.ok);
    assert.equal(c.cidr.size, 65536);
    assert.equal(formatIPv4(c.cidr.last), "10.244.255.255");
    assert.equal(formatIPv4(c.cidr.nth(1)), "10.244.0.1");
    assert.deepEqual(Cidr.parse("10.244.1.5/16"), {
      ok: false,
      reason: '"10.244.1.5/16" has host bits set; the network address is 10.244.0.0/16',
    });
    assert.equal(Cidr.parse("10.0.0.0/33").ok, false);
    assert.equal(Cidr.parse("10.0.0.0").ok, false);
    assert.match((Cidr.parse("fd00::/64") as { reason: string }).reason, /IPv6/);
  });

  it("answers containment and overlap at the edges", () => {
    const a = (Cidr.parse("10.0.0.0/24") as { cidr: Cidr }).cidr;
    const b = (Cidr.parse("10.0.0.128/25") as { cidr: Cidr }).cidr;
    const c = (Cidr.parse("10.0.1.0/24") as { cidr: Cidr }).cidr;
    assert.ok(a.contains(parseIPv4("10.0.0.255")!));
    assert.ok(!a.contains(parseIPv4("10.0.1.0")!));
    assert.ok(a.overlaps(b) && b.overlaps(a));
    assert.ok(!a.overlaps(c));
    assert.equal(Cidr.of(parseIPv4("10.0.0.77")!, 24).toString(), "10.0.0.0/24");
  });
});

describe("CIDR notation as ipBlocks accept it", () => {
  it("takes IPv4 and IPv6, host bits allowed, and nothing else", () => {
    for (const ok of ["10.0.0.0/8", "10.1.2.3/8", "0.0.0.0/0", "fd00::/8", "2001:db8::1/128"])
      assert.ok(isCidrNotation(ok), ok);
    for (const bad of [
      "10.0.0.0",
      "10.0.0/8",
      "10.0.0.0/33",
      "256.0.0.0/8",
      "fd00::/129",
      "x/8",
      "10.0.0.0/",
      "010.0.0.0/8",
    ]) {
      assert.ok(!isCidrNotation(bad), bad);
    }
  });
});
