import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { parseIPv4 } from "../src/core/net/ipv4.ts";

/** What parseIPv4 answered when it was ipaddr.js's strict four-part parse (the reference). */
function reference(text: string): number | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  const o = ipaddr.IPv4.parse(text).octets;
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

describe("parseIPv4 (hand-written) agrees with ipaddr.js's strict four-part decimal parse", () => {
  it("on chosen edge cases", () => {
    const cases = [
      "0.0.0.0",
      "255.255.255.255",
      "10.244.1.2",
      "1.2.3.4",
      "256.1.1.1",
      "1.2.3.256",
      "01.2.3.4",
      "1.2.3.04",
      "1.2.3.0",
      "00.1.2.3",
      "1.2.3",
      "1.2.3.4.5",
      "1..2.3",
      ".1.2.3",
      "1.2.3.",
      "1.2.3.4 ",
      " 1.2.3.4",
      "1.2.3.4\n",
      "0x1.2.3.4",
      "1.2.3.-4",
      "1.2.3.+4",
      "１.2.3.4",
      "1.2.3.4/32",
      "::ffff:1.2.3.4",
      "999.999.999.999",
      "1234.1.1.1",
      "",
      "a.b.c.d",
    ];
    for (const c of cases) assert.equal(parseIPv4(c), reference(c), JSON.stringify(c));
  });

  it("on random dotted strings and random text", () => {
    const part = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.stringMatching(/^[0-9]{0,4}$/),
      fc.constantFrom("0", "00", "07", "255", "256", "x", "", "1a", " 1"),
    );
    const dotted = fc.array(part, { minLength: 1, maxLength: 6 }).map((ps) => ps.join("."));
    fc.assert(
      fc.property(fc.oneof(dotted, fc.string({ maxLength: 16 })), (text) => {
        assert.equal(parseIPv4(text), reference(text));
      }),
      { numRuns: 20000 },
    );
  });

  it("reads every octet value in every position", () => {
    for (let v = 0; v < 256; v++)
      for (let pos = 0; pos < 4; pos++) {
        const octets = [1, 2, 3, 4];
        octets[pos] = v;
        const text = octets.join(".");
        assert.equal(parseIPv4(text), reference(text));
      }
  });
});
