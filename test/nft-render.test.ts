/**
 * The nftables toolkit's objects (src/core/nft/render.ts): the text each layout gives, and that the
 * toolkit's one parser (src/core/nft/parse.ts) reads it back into the same sets, elements and chains.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTable } from "../src/core/nft/parse.ts";
import { renderReplacing, renderTable, type TableSpec } from "../src/core/nft/render.ts";

const TABLE: TableSpec = {
  family: "ip",
  name: "t",
  comment: "a table",
  sets: [
    {
      kind: "set",
      name: "ips",
      type: "ipv4_addr",
      comment: "some addresses",
      elements: ["10.0.0.1", "10.0.0.2"],
    },
    {
      kind: "set",
      name: "seen",
      type: "ipv4_addr",
      flags: ["dynamic", "timeout"],
      timeoutSeconds: 10800,
      elements: [],
    },
    {
      kind: "map",
      name: "dispatch",
      type: "ipv4_addr . inet_proto . inet_service : verdict",
      elements: ["10.96.0.1 . tcp . 443 : goto svc", '10.96.0.2 . udp . 53 comment "ns/dns" : drop'],
    },
  ],
  chains: [
    {
      name: "pre",
      base: { type: "nat", hook: "prerouting", priority: -100, policy: "accept" },
      comment: "entry",
      rules: ["ip daddr . meta l4proto . th dport vmap @dispatch"],
    },
    { name: "svc", rules: ["ip saddr @ips return", "dnat to 10.244.0.2:8080"] },
  ],
};

describe("nftables objects rendered to text (nft/render.ts)", () => {
  it("listing layout: as `nft list table` prints it", () => {
    assert.equal(
      renderTable(TABLE),
      [
        "table ip t {",
        '\tcomment "a table"',
        "",
        "\tset ips {",
        "\t\ttype ipv4_addr",
        '\t\tcomment "some addresses"',
        "\t\telements = { 10.0.0.1,",
        "\t\t\t     10.0.0.2 }",
        "\t}",
        "\tset seen {",
        "\t\ttype ipv4_addr",
        "\t\tflags dynamic,timeout",
        "\t\ttimeout 10800s",
        "\t}",
        "\tmap dispatch {",
        "\t\ttype ipv4_addr . inet_proto . inet_service : verdict",
        "\t\telements = { 10.96.0.1 . tcp . 443 : goto svc,",
        '\t\t\t     10.96.0.2 . udp . 53 comment "ns/dns" : drop }',
        "\t}",
        "",
        "\tchain pre {",
        "\t\ttype nat hook prerouting priority -100; policy accept;",
        '\t\tcomment "entry"',
        "\t\tip daddr . meta l4proto . th dport vmap @dispatch",
        "\t}",
        "",
        "\tchain svc {",
        "\t\tip saddr @ips return",
        "\t\tdnat to 10.244.0.2:8080",
        "\t}",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("compact layout, replacing any earlier table of the name", () => {
    const t: TableSpec = {
      family: "inet",
      name: "p",
      sets: [],
      chains: [
        {
          name: "forward",
          base: { type: "filter", hook: "forward", priority: "filter", policy: "accept" },
          rules: ["ct state established,related accept"],
        },
        { name: "x", rules: ["drop"] },
      ],
    };
    assert.equal(
      renderReplacing(t, "compact"),
      "table inet p\ndelete table inet p\ntable inet p {\n  chain forward {\n    type filter hook forward priority filter; policy accept;\n    ct state established,related accept\n  }\n  chain x {\n    drop\n  }\n}\n",
    );
  });

  it("the toolkit's parser reads either layout back into the same table", () => {
    for (const layout of ["listing", "compact"] as const) {
      const parsed = parseTable(renderTable(TABLE, layout));
      assert.equal(parsed.family, "ip");
      assert.equal(parsed.name, "t");
      assert.deepEqual(parsed.head, ['comment "a table"']);
      assert.deepEqual([...parsed.sets.keys()], ["ips", "seen", "dispatch"]);
      assert.deepEqual([...parsed.sets.get("ips")!.elements.keys()], ["10.0.0.1", "10.0.0.2"]);
      assert.deepEqual(parsed.sets.get("seen")!.decl, [
        "type ipv4_addr",
        "flags dynamic,timeout",
        "timeout 10800s",
      ]);
      assert.equal(parsed.sets.get("dispatch")!.kind, "map");
      assert.deepEqual(
        [...parsed.sets.get("dispatch")!.elements.keys()],
        ["10.96.0.1 . tcp . 443", "10.96.0.2 . udp . 53"],
      );
      assert.deepEqual(parsed.chains.get("pre"), {
        head: ["type nat hook prerouting priority -100; policy accept;", 'comment "entry"'],
        rules: ["ip daddr . meta l4proto . th dport vmap @dispatch"],
      });
      assert.deepEqual(parsed.chains.get("svc")?.rules, ["ip saddr @ips return", "dnat to 10.244.0.2:8080"]);
    }
  });
});
