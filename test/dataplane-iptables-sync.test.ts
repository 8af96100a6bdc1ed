/**
 * Partial syncs of kube-proxy's iptables rules (src/core/dataplane/iptables-sync.ts): the
 * `iptables-restore --noflush` input from the rules restored last to the rules wanted. Judged twice:
 * by a model of what `iptables-restore --noflush` does with its input (a chain line creates or flushes
 * the chain, `-A` appends, `-X` deletes) over generated pairs of clusters, without root; and by the
 * kernel, as root, in a private network namespace (`unshare --net`): the old rules plus the partial
 * input must save exactly what a fresh restore of the new rules saves.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { prng } from "../bench/generate.ts";
import {
  canonicalSave,
  iptablesSyncScript,
  isServiceChainName,
  parseIptablesSave,
  type SavedTable,
} from "../src/core/dataplane/iptables-sync.ts";
import { RULESET_SYNC } from "../src/core/dataplane/ruleset-sync.ts";
import { renderIptables } from "../src/core/proxy/iptables.ts";
import { cluster } from "./helpers.ts";

/**
 * A seeded cluster in iptables mode; `variant` 1 is the same cluster after a few edits: pods relabelled
 * or gone, Services gone, retyped or reselected.
 */
function world(seed: number, variant: 0 | 1): string {
  const rand = prng(seed);
  const edit = prng(seed * 104729 + 3);
  const edits = new Set<number>();
  for (let i = 0; i < 1 + Math.floor(edit() * 4); i++) edits.add(Math.floor(edit() * 24));
  const edited = (i: number) => variant === 1 && edits.has(i);
  const apps = ["a", "b", "c"];
  const docs = [
    "apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: ipt}\nspec: {nodes: 2, proxyMode: iptables, loadBalancerPool: [198.18.0.0/24]}\n",
  ];
  for (let i = 0; i < 6; i++) {
    if (edited(i) && i % 2 === 1) continue;
    docs.push(
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p${i}, namespace: default, labels: {app: ${apps[(i + (edited(i) ? 1 : 0)) % 3]}}}\nspec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}\n`,
    );
  }
  for (let s = 0; s < 8; s++) {
    if (edited(8 + s) && s % 3 === 0) continue;
    const twist = edited(8 + s) ? 1 : 0;
    const type = ["ClusterIP", "NodePort", "LoadBalancer"][(Math.floor(rand() * 3) + twist) % 3];
    const spec = [
      `type: ${type}`,
      `selector: {app: ${apps[(s + twist) % 3]}}`,
      "ports: [{port: 80, targetPort: http}]",
    ];
    if (rand() < 0.3) spec.push("sessionAffinity: ClientIP");
    if (type !== "ClusterIP" && rand() < 0.5) spec.push("externalTrafficPolicy: Local");
    if (type === "LoadBalancer" && rand() < 0.5) spec.push("loadBalancerSourceRanges: [203.0.113.0/24]");
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata: {name: s${s}, namespace: default}\nspec: {${spec.join(", ")}}\n`,
    );
  }
  return docs.join("---\n");
}

/** Every node's rules of a world. */
function rulesOf(seed: number, variant: 0 | 1): string[] {
  const state = cluster(world(seed, variant));
  return state.nodes.map((n) => renderIptables(state, n));
}

/** What `iptables-restore --noflush` does with `script` on the tables `before` (a model of it). */
function restoreNoflush(before: SavedTable[], script: string): SavedTable[] {
  const tables = new Map(
    before.map((t) => [
      t.name,
      new Map([...t.chains].map(([k, c]) => [k, { policy: c.policy, rules: [...c.rules] }])),
    ]),
  );
  let current: Map<string, { policy: string; rules: string[] }> | undefined;
  for (const line of script.split("\n").filter(Boolean)) {
    if (line.startsWith("*"))
      current = tables.get(line.slice(1)) ?? tables.set(line.slice(1), new Map()).get(line.slice(1));
    else if (line === "COMMIT") current = undefined;
    else if (line.startsWith(":")) {
      const [name, policy] = line.slice(1).split(" ");
      const c = current!.get(name);
      if (c && policy === "-")
        c.rules = []; // --noflush: a user chain's line flushes it
      else if (!c) current!.set(name, { policy, rules: [] });
    } else if (line.startsWith("-A ")) {
      const c = current!.get(line.split(" ")[1]);
      assert.ok(c, `rule for a chain that does not exist: ${line}`);
      c.rules.push(line);
    } else if (line.startsWith("-X ")) {
      const name = line.slice(3);
      assert.equal(current!.get(name)?.rules.length, 0, `-X of a chain that is not empty: ${name}`);
      for (const [, c] of current!)
        assert.ok(!c.rules.some((r) => r.endsWith(` -j ${name}`)), `-X of ${name}, still jumped to`);
      current!.delete(name);
    } else assert.fail(`unexpected line ${line}`);
  }
  return [...tables].map(([name, chains]) => ({ name, chains }));
}

const text = (tables: SavedTable[]) =>
  tables
    .map(
      (t) =>
        `*${t.name}\n${[...t.chains].map(([n, c]) => `:${n} ${c.policy} [0:0]\n`).join("")}${[
          ...t.chains.values(),
        ]
          .flatMap((c) => c.rules)
          .map((r) => `${r}\n`)
          .join("")}COMMIT\n`,
    )
    .join("");

describe("iptables partial sync (iptables-sync.ts)", () => {
  it("equal rules: nothing to do; a changed built-in chain or policy: a full restore", () => {
    const [a] = rulesOf(1, 0);
    assert.deepEqual(iptablesSyncScript(a, a), { kind: "none", script: "" });
    assert.deepEqual(RULESET_SYNC["iptables-restore"](a, a), []);
    const policy = a.replace(":FORWARD ACCEPT [0:0]", ":FORWARD DROP [0:0]");
    assert.deepEqual(iptablesSyncScript(a, policy), { kind: "full", script: policy });
    const jump = a.replace(/^-A OUTPUT .*\n/m, "");
    assert.equal(iptablesSyncScript(a, jump).kind, "full");
    assert.equal(iptablesSyncScript(a, "not iptables-save text").kind, "full");
  });

  it("writes the top-level chains every time, a Service's chains only when they changed, never the built-in ones", () => {
    const yaml = (selector: string) => `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: ipt}
spec: {nodes: 1, proxyMode: iptables}
---
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: default, labels: {app: a}}
spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p2, namespace: default, labels: {app: b}}
spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: stays, namespace: default}
spec: {selector: {app: a}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: moves, namespace: default}
spec: {selector: {app: ${selector}}, ports: [{port: 80, targetPort: 8080}]}
`;
    const render = (sel: string) => {
      const s = cluster(yaml(sel));
      return renderIptables(s, s.nodes[0]);
    };
    const [before, after] = [render("a"), render("b")];
    const { kind, script } = iptablesSyncScript(before, after);
    assert.equal(kind, "partial");
    const declared = [...script.matchAll(/^:(\S+) - \[0:0\]$/gm)].map((m) => m[1]);
    const [prev, next] = [parseIptablesSave(before), parseIptablesSave(after)];
    // Every user-defined chain that is not per Service, in both tables.
    for (const t of next)
      for (const name of t.chains.keys())
        if (!/^[A-Z]+$/.test(name) && !isServiceChainName(name)) assert.ok(declared.includes(name), name);
    assert.ok(!declared.some((n) => ["INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"].includes(n)));
    // moves' cluster chain changed (the other endpoint): written; the unchanged Services' chains are not.
    const nat = (ts: SavedTable[]) => ts.find((t) => t.name === "nat")!.chains;
    const svcChains = [...nat(next).keys()].filter((n) => n.startsWith("KUBE-SVC-"));
    const unchanged = svcChains.filter(
      (n) => nat(prev).get(n)?.rules.join() === nat(next).get(n)!.rules.join(),
    );
    const changed = svcChains.filter((n) => !unchanged.includes(n));
    // (stays, and the kube-dns and kubernetes Services podnet supplies, are unchanged)
    assert.ok(unchanged.length >= 2);
    assert.equal(changed.length, 1);
    assert.ok(declared.includes(changed[0]));
    for (const n of unchanged) assert.ok(!declared.includes(n), `${n} is unchanged and not written`);
    // p1's endpoint chain of `moves` is stale: flushed by its chain line, then deleted, after every rule.
    const stale = [...nat(prev).keys()].filter((n) => !nat(next).has(n));
    assert.equal(stale.length, 1);
    assert.ok(declared.includes(stale[0]));
    const lines = script.split("\n");
    assert.ok(lines.indexOf(`-X ${stale[0]}`) > lines.findLastIndex((l) => l.startsWith("-A ")));
  });

  it("over generated pairs, old rules + the partial input = the new rules (a model of iptables-restore --noflush)", () => {
    let partial = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const [a, b] = [rulesOf(seed, 0), rulesOf(seed, 1)];
      for (let i = 0; i < a.length; i++) {
        const { kind, script } = iptablesSyncScript(a[i], b[i]);
        assert.notEqual(kind, "full", `seed ${seed} node ${i}`);
        if (kind === "none") continue;
        partial++;
        const got = restoreNoflush(parseIptablesSave(a[i]), script);
        assert.equal(canonicalSave(text(got)), canonicalSave(b[i]), `seed ${seed} node ${i}`);
      }
    }
    assert.ok(partial >= 40, `${partial} partial syncs`);
  });

  const why = (() => {
    if (process.getuid?.() !== 0) return "needs root (iptables-restore in a private network namespace)";
    for (const tool of ["iptables-restore", "unshare"])
      if (spawnSync(tool, ["--version"]).error) return `needs ${tool}`;
    return undefined;
  })();
  if (why && process.env.CI === "true") it("runs in CI", () => assert.fail(why));
  it("in the kernel: old rules + the partial input save exactly what the new rules restored afresh save", {
    skip: process.env.CI === "true" ? false : why,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-ipt-sync-"));
    try {
      let checked = 0;
      for (let seed = 1; seed <= 12; seed++) {
        const [a, b] = [rulesOf(seed, 0), rulesOf(seed, 1)];
        const { kind, script } = iptablesSyncScript(a[0], b[0]);
        if (kind !== "partial") continue;
        const [old, step, fresh] = ["old", "step", "fresh"].map((f) => join(dir, `${seed}-${f}`));
        writeFileSync(old, a[0]);
        writeFileSync(step, script);
        writeFileSync(fresh, b[0]);
        const save = (cmds: string) => {
          const r = spawnSync(
            "unshare",
            ["--net", "sh", "-ec", `${cmds}; iptables-save -t filter; iptables-save -t nat`],
            {
              encoding: "utf8",
            },
          );
          assert.equal(r.status, 0, `seed ${seed}: ${r.stderr}`);
          return canonicalSave(r.stdout);
        };
        assert.equal(
          save(`iptables-restore < ${old}; iptables-restore --noflush < ${step}`),
          save(`iptables-restore < ${fresh}`),
          `seed ${seed}`,
        );
        checked++;
      }
      assert.ok(checked >= 8, `${checked} pairs checked`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
