/**
 * Partial nftables syncs (src/core/dataplane/nft-sync.ts): the script from the table loaded last to
 * the table wanted. The kernel is the judge: in a private network namespace (`unshare --net`), the old
 * table plus the partial script must list exactly what a fresh load of the new table lists — over
 * generated pairs of clusters (Services of every kind come, go and change; pods scale and relabel;
 * policies change), for kube-proxy's table and the policy table of every node. Needs root and nft:
 * skipped with the reason otherwise, and a failure under CI=true.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { prng } from "../bench/generate.ts";
import { canonicalTable, refillScript, replaceTable, syncScript } from "../src/core/dataplane/nft-sync.ts";
import { planCluster } from "../src/core/dataplane/plan.ts";
import { parseTable } from "../src/core/nft/parse.ts";
import { cluster } from "./helpers.ts";

/** A cluster from a seeded random world; `variant` 1 is the same world after a handful of random edits. */
function world(seed: number, variant: 0 | 1): string {
  const rand = prng(seed);
  const edit = prng(seed * 7919 + 1);
  const changes = new Set<number>();
  // Which of the ~40 things below the edit touches (the same draws for both variants).
  for (let i = 0; i < 1 + Math.floor(edit() * 5); i++) changes.add(Math.floor(edit() * 40));
  const changed = (i: number) => variant === 1 && changes.has(i);
  const docs = [
    "apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: sync}\nspec: {nodes: 2, loadBalancerPool: [198.18.0.0/24]}\n",
  ];
  const apps = ["web", "api", "db"];
  for (let i = 0; i < 8; i++) {
    if (changed(i) && i % 2 === 0) continue; // a pod goes away
    const app = apps[(i + (changed(i) ? 1 : 0)) % 3]; // or is relabelled
    docs.push(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: default, labels: {app: ${app}}}\nspec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}, {name: dns, containerPort: 53, protocol: UDP}]}]}\n`,
    );
  }
  if (changed(8))
    docs.push(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: extra, namespace: default, labels: {app: web}}\nspec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}\n",
    );
  for (let s = 0; s < 10; s++) {
    if (changed(10 + s) && s % 3 === 0) continue; // a Service goes away
    const kind = Math.floor(rand() * 4);
    const twist = changed(10 + s) ? 1 : 0;
    const type = ["ClusterIP", "NodePort", "LoadBalancer", "ClusterIP"][(kind + twist) % 4];
    const spec = [
      `type: ${type}`,
      `selector: {app: ${apps[(s + twist) % 3]}}`,
      "ports: [{name: http, port: 80, targetPort: http}, {name: dns, port: 53, protocol: UDP, targetPort: dns}]",
    ];
    if (rand() < 0.3) spec.push("sessionAffinity: ClientIP");
    if (type !== "ClusterIP" && rand() < 0.5) spec.push("externalTrafficPolicy: Local");
    if (rand() < 0.2) spec.push("internalTrafficPolicy: Local");
    if (type === "LoadBalancer" && rand() < 0.5) spec.push("loadBalancerSourceRanges: [203.0.113.0/24]");
    if (kind === 3) spec.push(`externalIPs: [192.0.2.${10 + s}]`);
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata: {name: s${s}, namespace: default}\nspec: {${spec.join(", ")}}\n`,
    );
  }
  if (changed(20))
    docs.push(
      "apiVersion: v1\nkind: Service\nmetadata: {name: added, namespace: default}\nspec: {selector: {app: db}, ports: [{port: 5432, targetPort: 8080}]}\n",
    );
  for (let n = 0; n < 3; n++) {
    if (changed(30 + n) && n === 0) continue;
    const from = apps[(n + (changed(30 + n) ? 1 : 0)) % 3];
    docs.push(
      `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np${n}, namespace: default}\nspec: {podSelector: {matchLabels: {app: ${apps[n]}}}, ingress: [{from: [{podSelector: {matchLabels: {app: ${from}}}}], ports: [{port: http}]}]}\n`,
    );
  }
  return docs.join("---\n");
}

describe("nft-sync: partial scripts", () => {
  const before =
    'table ip t {\n\tmap m {\n\t\ttype ipv4_addr : verdict\n\t\telements = { 10.0.0.1 : goto a,\n\t\t\t     10.0.0.2 comment "x" : goto b }\n\t}\n\n\tchain a {\n\t\taccept\n\t}\n\n\tchain b {\n\t\tdrop\n\t}\n}\n';

  it("parses sets, elements (by key, comments kept), chains and base chains", () => {
    const t = parseTable(before);
    assert.deepEqual(
      [...t.sets.get("m")!.elements.entries()],
      [
        ["10.0.0.1", "10.0.0.1 : goto a"],
        ["10.0.0.2", '10.0.0.2 comment "x" : goto b'],
      ],
    );
    assert.deepEqual(t.chains.get("b"), { head: [], rules: ["drop"] });
  });

  it("equal tables need nothing; a changed element is deleted and added; a chain nobody uses is flushed and deleted", () => {
    assert.deepEqual(syncScript(before, before), { kind: "none", script: "" });
    const after = before
      .replace('10.0.0.2 comment "x" : goto b', "10.0.0.2 : goto a")
      .replace(/\tchain b \{\n\t\tdrop\n\t\}\n/, "");
    const s = syncScript(before, after);
    assert.equal(s.kind, "partial");
    assert.equal(
      s.script,
      "delete element ip t m { 10.0.0.2 }\nadd element ip t m { 10.0.0.2 : goto a }\nflush chain ip t b\ndelete chain ip t b\n",
    );
  });

  it("a new base chain, a changed set type or another table means replacing the table whole", () => {
    const base = before.replace(
      "\tchain a {\n",
      "\tchain a {\n\t\ttype filter hook input priority 0; policy accept;\n",
    );
    assert.equal(syncScript(before, base).kind, "full");
    assert.equal(
      syncScript(before, before.replace("ipv4_addr : verdict", "ipv4_addr . inet_service : verdict")).kind,
      "full",
    );
    const other = syncScript(before, before.replace("table ip t", "table inet t"));
    assert.equal(other.kind, "full");
    assert.ok(other.script.startsWith("table inet t\ndelete table inet t\ntable inet t {\n"), other.script);
    assert.equal(
      replaceTable(`table ip t\ndelete table ip t\n${before}`),
      `table ip t\ndelete table ip t\n${before}`,
    );
  });

  it("a full sync refills the table in place, and drops it only when a set's type or a base chain's hook changes", () => {
    const r = refillScript(before, before.replace(/\tchain b \{\n\t\tdrop\n\t\}\n/, ""));
    assert.ok(r.startsWith("flush table ip t\nflush map ip t m\ntable ip t {\n"), r);
    assert.ok(r.endsWith("}\ndelete chain ip t b\n"), r);
    const typed = refillScript(
      before,
      before.replace("ipv4_addr : verdict", "ipv4_addr . inet_service : verdict"),
    );
    assert.ok(typed.startsWith("table ip t\ndelete table ip t\n"), typed);
    const base = before.replace(
      "\tchain a {\n",
      "\tchain a {\n\t\ttype filter hook input priority 0; policy accept;\n",
    );
    assert.ok(refillScript(before, base).startsWith("table ip t\ndelete table ip t\n"));
    assert.ok(refillScript(base, base).startsWith("flush table ip t\n"));
  });

  it("looking only between the common beginning and end of two tables gives the script of comparing them whole", () => {
    const base = [
      "table ip t {",
      '\tcomment "head"',
      ...Array.from({ length: 13 }, (_, i) =>
        i % 4 === 3
          ? `\tmap m${i} {\n\t\ttype ipv4_addr : verdict\n\t\telements = { 10.0.0.${i} : goto c${i - 1} }\n\t}`
          : `\tchain c${i} {\n\t\tip daddr 10.0.0.${i} accept\n\t}`,
      ),
      "}",
      "",
    ].join("\n");
    const edits: [string, (t: string) => string][] = [
      ["the first block", (t) => t.replace("10.0.0.0 accept", "10.0.0.99 accept")],
      ["the last block", (t) => t.replace("10.0.0.12 accept", "10.0.0.12 drop")],
      [
        "first and last",
        (t) => t.replace("10.0.0.0 accept", "10.0.0.0 drop").replace("10.0.0.12 accept", "10.0.0.12 drop"),
      ],
      ["a chain added at the end", (t) => t.replace(/\}\n$/, "\tchain z {\n\t\taccept\n\t}\n}\n")],
      [
        "a chain removed in the middle",
        (t) => t.replace("\tchain c5 {\n\t\tip daddr 10.0.0.5 accept\n\t}\n", ""),
      ],
      [
        "a rule added, the next block the same",
        (t) => t.replace("10.0.0.4 accept", "10.0.0.4 accept\n\t\tdrop"),
      ],
      ["an element changed", (t) => t.replace("10.0.0.7 : goto c6", "10.0.0.7 : goto c5")],
      ["the table's own line", (t) => t.replace('comment "head"', 'comment "other"')],
      [
        "a rule that ends like the next block",
        (t) => t.replace("10.0.0.1 accept\n\t}", "10.0.0.1 accept\n\t\tip daddr 10.0.0.2 accept\n\t}"),
      ],
    ];
    for (const [what, edit] of edits) {
      const next = edit(base);
      assert.notEqual(next, base, what);
      for (const [a, b] of [
        [base, next],
        [next, base],
      ])
        assert.deepEqual(syncScript(a, b), syncScript(a, b, { narrow: false }), what);
    }
    // Random tables of few distinct names and bodies (so that the same text recurs at other places),
    // and random edits of them.
    const block = fc.record({
      kind: fc.constantFrom("chain", "chain", "set"),
      name: fc.constantFrom("a", "b", "c", "d", "e"),
      body: fc.constantFrom("accept", "drop", "ip daddr 10.0.0.1 accept", ""),
    });
    const render = (blocks: { kind: string; name: string; body: string }[]) => {
      const seen = new Set<string>();
      const out = ["table ip t {"];
      for (const b of blocks) {
        if (seen.has(b.name)) continue;
        seen.add(b.name);
        out.push(
          b.kind === "set"
            ? `\tset ${b.name} {\n\t\ttype ipv4_addr\n${b.body ? "\t\telements = { 10.0.0.1, 10.0.0.2 }\n" : ""}\t}`
            : `\tchain ${b.name} {\n${b.body ? `\t\t${b.body}\n` : ""}\t}`,
        );
      }
      return `${out.join("\n")}\n}\n`;
    };
    fc.assert(
      fc.property(fc.array(block, { maxLength: 6 }), fc.array(block, { maxLength: 6 }), (x, y) => {
        const [a, b] = [render(x), render(y)];
        assert.deepEqual(syncScript(a, b), syncScript(a, b, { narrow: false }));
      }),
      { seed: 5, numRuns: 3000 },
    );
    // And over the generated pairs: every node's tables.
    for (let seed = 1; seed <= 30; seed++) {
      const [a, b] = [planCluster(cluster(world(seed, 0)), "s"), planCluster(cluster(world(seed, 1)), "s")];
      for (let i = 0; i < a.rules.length; i++)
        assert.deepEqual(
          syncScript(a.rules[i].text, b.rules[i].text),
          syncScript(a.rules[i].text, b.rules[i].text, { narrow: false }),
          `seed ${seed}, ruleset ${i}`,
        );
    }
  });

  it("the generated pairs differ, and mostly only in ways a partial sync covers", () => {
    let partial = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const [a, b] = [planCluster(cluster(world(seed, 0)), "s"), planCluster(cluster(world(seed, 1)), "s")];
      const kinds = a.rules.map((r, i) => syncScript(r.text, b.rules[i].text).kind);
      if (kinds.includes("partial")) partial++;
      assert.ok(!kinds.includes("full"), `seed ${seed}: ${kinds}`);
    }
    assert.ok(partial >= 25, `${partial} of 30 pairs need a partial sync`);
  });
});

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (the scripts run in the kernel)";
  for (const tool of ["nft", "unshare"])
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0)
      return `needs ${tool} (Debian package ${tool === "nft" ? "nftables" : "util-linux"})`;
  const probe = spawnSync("unshare", ["--net", "true"]);
  if (probe.status !== 0) return `cannot create a network namespace: ${String(probe.stderr).trim()}`;
  return undefined;
}

/** Runs the `nft -f` files in order in a fresh private network namespace, then lists table `table`. */
function inKernel(files: string[], table: string): string {
  const script = `${files.map((f) => `nft -f ${f}`).join(" && ")} && nft list table ${table}`;
  const r = spawnSync("unshare", ["--net", "sh", "-c", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const reason = missing();
if (reason && process.env.CI === "true") {
  describe("nft-sync in the kernel", () => {
    it("runs in CI", () => assert.fail(`a kernel test cannot be skipped under CI=true: ${reason}`));
  });
} else {
  describe("nft-sync in the kernel (private network namespaces)", { skip: reason ?? false }, () => {
    it("old table + partial script lists the same as a fresh load of the new table (30 generated pairs, every node, both tables)", () => {
      const dir = mkdtempSync(join(tmpdir(), "podnet-nftsync-"));
      try {
        let checked = 0;
        for (let seed = 1; seed <= 30; seed++) {
          const [a, b] = [
            planCluster(cluster(world(seed, 0)), "s"),
            planCluster(cluster(world(seed, 1)), "s"),
          ];
          for (let i = 0; i < a.rules.length; i++) {
            const sync = syncScript(a.rules[i].text, b.rules[i].text);
            if (sync.kind !== "partial") continue;
            const table = /^table (\S+ \S+) \{$/m.exec(b.rules[i].text)![1];
            const [old, step, fresh] = ["old", "step", "fresh"].map((f) =>
              join(dir, `${seed}-${i}-${f}.nft`),
            );
            writeFileSync(old, a.rules[i].text);
            writeFileSync(step, sync.script);
            writeFileSync(fresh, b.rules[i].text);
            const expected = canonicalTable(inKernel([fresh], table));
            assert.equal(
              canonicalTable(inKernel([old, step], table)),
              expected,
              `seed ${seed}, ruleset ${i} (${table}):\n${sync.script}`,
            );
            // The full sync without dropping the table ends in the same place.
            const refill = join(dir, `${seed}-${i}-refill.nft`);
            writeFileSync(refill, refillScript(a.rules[i].text, b.rules[i].text));
            assert.equal(
              canonicalTable(inKernel([old, refill], table)),
              expected,
              `seed ${seed}, ruleset ${i}: refill`,
            );
            checked++;
          }
        }
        assert.ok(checked >= 40, `${checked} partial syncs checked`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
