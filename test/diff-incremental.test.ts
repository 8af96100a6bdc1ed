/**
 * The scoped diff (only the lines a policy change can reach: src/core/policy/diff.ts) against the full
 * recompute, on random changes to the policy benchmark's generated clusters: both must list exactly
 * the same added, removed and changed connections. The changes are those a pull request makes: a
 * policy's ports, selector, policyTypes, rules, peers or ipBlocks edited, a rule of another policy
 * added, a policy added or deleted — and, for the fallback, a change to something else (a namespace's
 * labels, an admin tier).
 *
 * The new side's reachability started from the old side's (src/core/policy/reach.ts
 * ReachabilityOptions.previous) against the same computed in full, cell by cell: every class pair and
 * every port boundary either side draws; a new CIDR falls back, a new port boundary splits atoms. And
 * the CLI: PODNET_DEBUG names the path taken, and the output does not change.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments, stringify } from "yaml";
import { generateCluster, prng } from "../bench/generate.ts";
import { generatePolicies } from "../bench/policy.ts";
import { resolveManifests } from "../src/core/cluster.ts";
import type { ClusterState } from "../src/core/control/state.ts";
import type { Protocol } from "../src/core/model/k8s.ts";
import { rangeCuts } from "../src/core/policy/connlist.ts";
import { changeScope, diffConnections, diffConnectionsFull } from "../src/core/policy/diff.ts";
import { Reachability } from "../src/core/policy/reach.ts";
import { runPodnet } from "./helpers.ts";

type Doc = {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
};

function load(docs: Doc[], cluster: string): ClusterState {
  const text = `${cluster}---\n${docs.map((d) => stringify(d)).join("---\n")}`;
  const r = resolveManifests([{ file: "gen.yaml", text }]);
  assert.ok(r.ok, JSON.stringify(r.diagnostics.slice(0, 3)));
  return r.cluster;
}

const TIERS = ["web", "api", "worker", "cache", "db"];

/** One random pull-request-like change to the NetworkPolicies; returns the new list and what it did. */
function change(docs: Doc[], rand: () => number, namespaces: number): { docs: Doc[]; what: string } {
  const out = structuredClone(docs);
  const nps = out.map((d, i) => [d, i] as const).filter(([d]) => d.kind === "NetworkPolicy");
  const [p, index] = nps[Math.floor(rand() * nps.length)];
  const spec = p.spec as {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes?: string[];
    ingress?: { from?: unknown[]; ports?: unknown[] }[];
    egress?: { to?: unknown[]; ports?: unknown[] }[];
  };
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  switch (Math.floor(rand() * 9)) {
    case 0:
      out.splice(index, 1);
      return { docs: out, what: `delete ${p.metadata.name}` };
    case 1: {
      const copy = structuredClone(p);
      copy.metadata.name = `${p.metadata.name}-copy`;
      copy.metadata.namespace = `ns-${Math.floor(rand() * namespaces)}`;
      out.push(copy);
      return { docs: out, what: `add ${copy.metadata.name} in ${copy.metadata.namespace}` };
    }
    case 2:
      spec.podSelector = { matchLabels: { tier: pick(TIERS) } };
      return { docs: out, what: `${p.metadata.name}: podSelector` };
    case 3:
      spec.policyTypes = pick([["Ingress"], ["Egress"], ["Ingress", "Egress"]]);
      return { docs: out, what: `${p.metadata.name}: policyTypes ${spec.policyTypes.join(",")}` };
    case 4: {
      const rules = spec.ingress ?? spec.egress;
      if (rules?.length) rules.pop();
      else spec.ingress = [{}];
      return { docs: out, what: `${p.metadata.name}: a rule removed or allow-all added` };
    }
    case 5: {
      spec.ingress ??= spec.egress ? undefined : [];
      const rules = (spec.ingress ?? spec.egress)!;
      if (rules.length === 0) rules.push({});
      rules[0].ports = [
        pick([
          { port: 9091 },
          { port: "http" },
          { protocol: "UDP", port: 53 },
          { port: 8000, endPort: 8100 },
        ]),
      ];
      return { docs: out, what: `${p.metadata.name}: ports ${JSON.stringify(rules[0].ports)}` };
    }
    case 7: {
      // A rule of another policy, as it is (its peers and ports draw no new boundary).
      const [q] = nps[Math.floor(rand() * nps.length)];
      const qs = q.spec as typeof spec;
      const rule = structuredClone((qs.ingress ?? qs.egress ?? [{}])[0] ?? {}) as Record<string, unknown>;
      const field = spec.egress && !spec.ingress ? "egress" : "ingress";
      const moved = { ...rule } as { from?: unknown[]; to?: unknown[]; ports?: unknown[] };
      if (field === "egress" && moved.from) [moved.to, moved.from] = [moved.from, undefined];
      if (field === "ingress" && moved.to) [moved.from, moved.to] = [moved.to, undefined];
      spec[field] ??= [];
      (spec[field] as unknown[]).push(JSON.parse(JSON.stringify(moved)));
      return { docs: out, what: `${p.metadata.name}: ${field} rule of ${q.metadata.name} added` };
    }
    case 8: {
      const peer = { namespaceSelector: { matchLabels: { team: `team-${Math.floor(rand() * 20)}` } } };
      const rules = (spec.ingress ?? spec.egress)!;
      if (!rules || rules.length === 0) spec.ingress = [{ from: [peer] }];
      else if (spec.ingress) rules[0] = { ...rules[0], from: [peer] };
      else rules[0] = { ...rules[0], to: [peer] };
      return { docs: out, what: `${p.metadata.name}: first rule's peer ${JSON.stringify(peer)}` };
    }
    default: {
      const peer = { ipBlock: { cidr: `10.${16 * Math.floor(rand() * 16)}.0.0/12` } };
      if (spec.egress) {
        if (spec.egress.length === 0) spec.egress.push({});
        spec.egress[0].to = [peer];
      } else {
        spec.ingress ??= [];
        spec.ingress[0] = { ...(spec.ingress[0] ?? {}), from: [peer] };
      }
      return { docs: out, what: `${p.metadata.name}: ipBlock ${peer.ipBlock.cidr}` };
    }
  }
}

describe("diff: scoped to a policy change, the same as the full recompute", () => {
  const pods = 400;
  const namespaces = 4;
  const seed = 5;
  const cluster = generateCluster({ seed, nodes: 4, pods, services: 5, namespaces, policies: 0 });
  const docs = parseAllDocuments(generatePolicies(seed, 10, namespaces)).map((d) => d.toJS() as Doc);
  const before = load(docs, cluster);

  it("random policy changes: identical answers, and the scoped path taken", () => {
    const rand = prng(42);
    let nonEmpty = 0;
    let reused = 0;
    let fellBack = 0;
    for (let i = 0; i < 32; i++) {
      const { docs: next, what } = change(docs, rand, namespaces);
      const after = load(next, cluster);
      const scope = changeScope(before, after);
      assert.ok(scope, `${what}: only policies changed, so the diff is scoped`);
      const notes: string[] = [];
      const fast = diffConnections(before, after, { note: (line) => notes.push(line) });
      const full = diffConnectionsFull(before, after);
      assert.deepEqual(fast, full, what);
      if (full.length > 0) nonEmpty++;
      if (notes.some((n) => n.includes("reused the previous analysis"))) reused++;
      if (notes.some((n) => n.includes("computed in full:"))) fellBack++;
    }
    assert.ok(nonEmpty >= 16, `most changes change connections (${nonEmpty} of 32)`);
    assert.ok(reused >= 12, `most changes reuse the old side's analysis (${reused} of 32)`);
    assert.ok(fellBack >= 1, `some changes draw a new boundary and fall back (${fellBack} of 32)`);
  });

  it("an unchanged cluster: an empty scope and no difference", () => {
    const again = load(docs, cluster);
    assert.deepEqual(changeScope(before, again), {
      sources: new Set(),
      destinations: new Set(),
      policies: new Set(),
    });
    assert.deepEqual(diffConnections(before, again), []);
  });

  it("policies compared by their document's text first, then by their specs", () => {
    const policy = (name: string, port: number) =>
      `{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: ${name}, namespace: ns-0}, spec: {podSelector: {}, ingress: [{ports: [{port: ${port}}]}]}}`;
    const flow = `${policy("a", 80)}\n`;
    const block =
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: a\n  namespace: ns-0\nspec:\n  podSelector: {}\n  ingress:\n    - ports:\n        - port: 80\n";
    const list = (port: number) =>
      `apiVersion: v1\nkind: List\nitems:\n- ${policy("b", 80)}\n- ${policy("c", port)}\n`;
    const state = (...texts: string[]) => {
      const r = resolveManifests([{ file: "p.yaml", text: `${cluster}---\n${texts.join("---\n")}` }]);
      assert.ok(r.ok, JSON.stringify(r.diagnostics.slice(0, 3)));
      return r.cluster;
    };
    const old = state(flow, list(80));
    const a = old.networkPolicies.find((o) => o.metadata.name === "a")!;
    // The text from the document's first line to the next document's (its `---` included).
    assert.equal(old.origins.get(a)?.document, `${flow}---\n`);
    const [b, c] = ["b", "c"].map((n) => old.networkPolicies.find((o) => o.metadata.name === n)!);
    assert.equal(old.origins.get(b)?.document, list(80), "a List's items share their document");
    assert.equal(old.origins.get(c)?.document, list(80));
    assert.deepEqual(changeScope(old, state(flow, list(80)))?.policies, new Set());
    // Another layout of the same spec: other text, the same policy.
    assert.deepEqual(changeScope(old, state(block, list(80)))?.policies, new Set());
    // One item of a List changed: that item alone, though the document's text differs for both.
    assert.deepEqual(changeScope(old, state(block, list(81)))?.policies, new Set(["ns-0/c"]));
  });

  it("a change outside the policies (a namespace's labels) takes the full recompute", () => {
    const from = "metadata: {name: ns-1, labels: {team: team-1}}";
    assert.ok(cluster.includes(from));
    const after = load(docs, cluster.replace(from, "metadata: {name: ns-1, labels: {team: team-0}}"));
    assert.equal(changeScope(before, after), undefined);
    assert.deepEqual(diffConnections(before, after), diffConnectionsFull(before, after));
  });
});

/**
 * Every (source, destination, port) a class pair of `inc` stands for, answered by both analyses: the
 * classes of each side's own pod or address, and each side's atom of the port. Returns the cells compared.
 */
function sameCells(inc: Reachability, full: Reachability, what: string): number {
  // One point per class of `inc`: a pod index (≥ 0) or an address (−1 − its index in addressClass).
  const points = new Map<number, number>();
  inc.classOf.forEach((c, i) => {
    if (!points.has(c)) points.set(c, i);
  });
  inc.addressClass.forEach((c, k) => {
    if (!points.has(c)) points.set(c, -1 - k);
  });
  const classIn = (r: Reachability, point: number) =>
    point >= 0 ? r.classOf[point] : r.addressClass[-1 - point];
  const ports = new Map<string, { protocol: Protocol; port: number }>();
  for (const a of [...inc.atoms, ...full.atoms])
    ports.set(`${a.protocol}/${a.start}`, { protocol: a.protocol, port: a.start });
  let cells = 0;
  for (const s of points.values())
    for (const d of points.values()) {
      const [si, di, sf, df] = [classIn(inc, s), classIn(inc, d), classIn(full, s), classIn(full, d)];
      for (const { protocol, port } of ports.values()) {
        const x = inc.classAllowed(si, di, inc.atomOf(protocol, port));
        const y = full.classAllowed(sf, df, full.atomOf(protocol, port));
        if (x !== y)
          assert.fail(
            `${what}: point ${s} → ${d} ${protocol} ${port}: started from the old analysis ${x}, in full ${y}`,
          );
        cells++;
      }
    }
  return cells;
}

describe("reachability: the new side started from the old side's analysis, the same as in full", () => {
  const pods = 400;
  const namespaces = 4;
  const seed = 9;
  const cluster = generateCluster({ seed, nodes: 4, pods, services: 5, namespaces, policies: 0 });
  const docs = parseAllDocuments(generatePolicies(seed, 12, namespaces)).map((d) => d.toJS() as Doc);
  // A port range that a new boundary can split (the test "a new port boundary …").
  docs.push({
    kind: "NetworkPolicy",
    apiVersion: "networking.k8s.io/v1",
    metadata: { name: "ranged", namespace: "ns-2" },
    spec: {
      podSelector: { matchLabels: { tier: "db" } },
      ingress: [
        { from: [{ podSelector: { matchLabels: { tier: "api" } } }], ports: [{ port: 7000, endPort: 7100 }] },
      ],
    },
  } as Doc);
  const before = load(docs, cluster);
  const outside = (a: ClusterState, b: ClusterState) =>
    [
      ...new Set([
        ...rangeCuts(a, "ingress"),
        ...rangeCuts(b, "ingress"),
        ...rangeCuts(a, "egress"),
        ...rangeCuts(b, "egress"),
      ]),
    ].sort((x, y) => x - y);

  it("random policy changes: every class pair and port answered alike; untouched profiles shared", () => {
    const rand = prng(7);
    let reused = 0;
    let fellBack = 0;
    for (let i = 0; i < 40; i++) {
      const { docs: next, what } = change(docs, rand, namespaces);
      const after = load(next, cluster);
      const scope = changeScope(before, after);
      assert.ok(scope, what);
      const addresses = outside(before, after);
      const old = new Reachability(before, { addresses });
      const inc = new Reachability(after, { addresses, previous: { reach: old, changed: scope.policies } });
      const full = new Reachability(after, { addresses });
      assert.ok(sameCells(inc, full, what) > 0);
      if (inc.reuse.startsWith("reused")) {
        reused++;
        // What the change left alone is the old analysis's own rows, not a copy.
        assert.ok(
          inc.ingress.some((p) => old.ingress.some((q) => q.rows === p.rows)) &&
            inc.egress.some((p) => old.egress.some((q) => q.rows === p.rows)),
          `${what}: untouched profiles are reused`,
        );
      } else {
        assert.match(inc.reuse, /^computed in full: /, what);
        fellBack++;
      }
    }
    assert.ok(reused >= 20, `most changes reuse the old analysis (${reused} of 40)`);
    assert.ok(fellBack >= 1, `a new CIDR or port boundary falls back (${fellBack} of 40)`);
  });

  it("lazy analyses (diff's scoped lines), alone or started from the old side's: the same atoms as in full", () => {
    // Egress in every tier: an admin policy that denies, passes (a named port) and allows, and the
    // baseline denying towards a tier, so that the column-wise egress meets each outcome.
    const tiered = structuredClone(docs);
    tiered.push({
      kind: "AdminNetworkPolicy",
      apiVersion: "policy.networking.k8s.io/v1alpha1",
      metadata: { name: "egress-tiers" },
      spec: {
        priority: 30,
        subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { tier: "web" } } } },
        egress: [
          {
            name: "no-db",
            action: "Deny",
            to: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { tier: "db" } } } }],
            ports: [{ portNumber: { protocol: "TCP", port: 5432 } }],
          },
          { name: "http", action: "Pass", to: [{ namespaces: {} }], ports: [{ namedPort: "http" }] },
          { name: "team-1", action: "Allow", to: [{ namespaces: { matchLabels: { team: "team-1" } } }] },
        ],
      },
    } as unknown as Doc);
    const banp = tiered.find((d) => d.kind === "BaselineAdminNetworkPolicy")!;
    banp.spec.subject = { namespaces: {} };
    banp.spec.egress = [
      {
        name: "no-cache",
        action: "Deny",
        to: [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { tier: "cache" } } } }],
      },
    ];
    const base = load(tiered, cluster);
    const rand = prng(11);
    let columns = 0;
    for (let i = 0; i < 24; i++) {
      const { docs: next, what } = change(tiered, rand, namespaces);
      const after = load(next, cluster);
      const scope = changeScope(base, after);
      assert.ok(scope, what);
      const addresses = outside(base, after);
      const old = new Reachability(base, { addresses, lazy: true });
      const started = new Reachability(after, {
        addresses,
        lazy: true,
        previous: { reach: old, changed: scope.policies },
      });
      const full = new Reachability(after, { addresses });
      const alone = new Reachability(after, { addresses, lazy: true });
      for (const lazy of [started, alone]) {
        // Egress towards a few destinations, column-wise (as connlist's scoped lines ask), before
        // any profile is computed; then every cell, which computes the profiles on demand.
        const n = lazy.reps.length;
        const dsts = [0, 1, 2].map(() => Math.floor(rand() * n));
        const sameClasses = lazy.reps.length === full.reps.length && lazy.atoms.length === full.atoms.length;
        for (let s = 0; s < n; s++)
          for (const d of dsts) {
            const open = lazy.isOpen("egress", s);
            const column = [...lazy.admits("egress", s, d)];
            if (!sameClasses) continue;
            assert.equal(open, full.egress[full.outProfile[s]].open, `${what}: ${s} open`);
            assert.deepEqual(
              column,
              [...full.admitted("egress", full.outProfile[s], d)],
              `${what}: ${s} → ${d}`,
            );
            assert.deepEqual(
              [...lazy.admits("ingress", d, s)],
              [...full.admitted("ingress", full.inProfile[d], s)],
              `${what}: ${s} → ${d} ingress`,
            );
            columns++;
          }
        assert.ok(sameCells(lazy, full, `${what} (lazy)`) > 0);
      }
    }
    assert.ok(columns > 1000, `egress columns compared (${columns})`);
  });

  it("a new CIDR falls back to the full computation and says why", () => {
    const next = structuredClone(docs);
    next.push({
      kind: "NetworkPolicy",
      apiVersion: "networking.k8s.io/v1",
      metadata: { name: "new-cidr", namespace: "ns-0" },
      spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "192.168.7.0/24" } }] }] },
    } as Doc);
    const after = load(next, cluster);
    const scope = changeScope(before, after)!;
    const old = new Reachability(before);
    const inc = new Reachability(after, { previous: { reach: old, changed: scope.policies } });
    assert.equal(
      inc.reuse,
      "computed in full: a rule names 192.168.7.0/24, a CIDR the previous analysis did not split at",
    );
    sameCells(inc, new Reachability(after), "new CIDR");
  });

  it("a new port boundary splits the old atoms and keeps the rest", () => {
    const next = structuredClone(docs);
    next.push({
      kind: "NetworkPolicy",
      apiVersion: "networking.k8s.io/v1",
      metadata: { name: "new-port", namespace: "ns-1" },
      spec: {
        podSelector: { matchLabels: { tier: "api" } },
        ingress: [{ ports: [{ port: 12345, endPort: 12400 }, { port: 7020 }] }],
      },
    } as Doc);
    const after = load(next, cluster);
    const scope = changeScope(before, after)!;
    const old = new Reachability(before);
    const inc = new Reachability(after, { previous: { reach: old, changed: scope.policies } });
    assert.match(
      inc.reuse,
      /^reused the previous analysis: \d+ classes, (\d+) port atoms \((\d+) after the new port boundaries\)/,
    );
    // 7020 splits 7000-7100 in three; 12345-12400 adds two starts.
    assert.ok(old.atoms.some((a) => a.protocol === "TCP" && a.start === 7000 && a.end === 7100));
    assert.equal(inc.atoms.length, old.atoms.length + 4);
    assert.ok(inc.atoms.some((a) => a.protocol === "TCP" && a.start === 12345 && a.end === 12400));
    assert.ok(sameCells(inc, new Reachability(after), "new port") > 0);
  });

  it("a changed admin tier: not a NetworkPolicy-only change, and the analysis is not reused", () => {
    const next = structuredClone(docs);
    const anp = next.find((d) => d.kind === "AdminNetworkPolicy")!;
    (anp.spec as { priority: number }).priority = 30;
    const after = load(next, cluster);
    assert.equal(changeScope(before, after), undefined);
    assert.deepEqual(diffConnections(before, after), diffConnectionsFull(before, after));
    const inc = new Reachability(after, {
      previous: { reach: new Reachability(before), changed: new Set() },
    });
    assert.equal(inc.reuse, "computed in full: the admin or baseline tier differs");
    sameCells(inc, new Reachability(after), "admin tier");
  });
});

describe("podnet diff: what connlist lists, compared", () => {
  /** One manifest file rewritten: `from`, which it must contain, replaced by `to`. */
  const edit = (file: string, from: string, to: string) => {
    const text = readFileSync(file, "utf8");
    assert.ok(text.includes(from), `${file} has ${from}`);
    writeFileSync(file, text.replace(from, to));
  };
  /** The lines of `connlist` over some inputs, `src => dst : conn` as connlist shows them. */
  const lines = (args: string[]) => {
    const r = runPodnet(["connlist", ...args, "-o", "txt"]);
    assert.equal(r.code, 0, r.err);
    return new Set(r.out.split("\n").filter((l) => l.includes(" => ")));
  };
  const diffLines = (args: string[]) => {
    const r = runPodnet(["diff", ...args]);
    assert.equal(r.code, 0, r.err);
    return r.out.split("\n").filter((l) => l.includes(" => "));
  };

  it("an Ingress served by a controller pod of the input: no {ingress-controller} line, on either path", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-diff-ing-"));
    cpSync("examples/ingress", join(dir, "new"), { recursive: true });
    const policies = join(dir, "new", "40-policies.yaml");
    edit(
      policies,
      "    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]",
      "    - from: [{namespaceSelector: {}}]",
    );
    const out = diffLines(["-f", "examples/ingress", "--against", join(dir, "new")]);
    assert.ok(out.length > 0, "the change opens cart to every namespace");
    assert.deepEqual(
      out.filter((l) => l.includes("{ingress-controller}")),
      [],
      "connlist lists ingress-nginx's own pods for this Ingress, not {ingress-controller}",
    );
    const before = lines(["-f", "examples/ingress"]);
    const after = lines(["-f", join(dir, "new")]);
    for (const l of out.filter((x) => x.startsWith("+ ")))
      assert.ok(after.has(l.slice(2)) && !before.has(l.slice(2)), l);
    // The IngressClass names another controller: no pod of the input serves the Ingress any more,
    // so the {ingress-controller} line appears (not a NetworkPolicy-only change).
    edit(
      join(dir, "new", "10-ingress-nginx.yaml"),
      "  controller: k8s.io/ingress-nginx",
      "  controller: example.com/other-controller",
    );
    rmSync(policies);
    cpSync("examples/ingress/40-policies.yaml", policies);
    const moved = diffLines(["-f", "examples/ingress", "--against", join(dir, "new")]);
    const gained = [...lines(["-f", join(dir, "new")])].filter((l) => !before.has(l));
    assert.ok(
      gained.some((l) => l.startsWith("{ingress-controller} => ")),
      gained.join("\n"),
    );
    for (const l of gained) assert.ok(moved.includes(`+ ${l}`), `${l} in:\n${moved.join("\n")}`);
    rmSync(dir, { recursive: true });
  });

  it("a path --against cannot read is named as --against's, exit 2", () => {
    const r = runPodnet(["diff", "-f", "examples/articles", "--against", "no/such/dir"]);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /error: cannot read "no\/such\/dir": no such file or directory\n {2}fix: check the path given to --against\n/,
    );
  });

  it("a line that comes to exist only through the own-node exception has changed", () => {
    const cluster = "test/fixtures/diff/own-node-cluster.yaml";
    const out = diffLines([
      "-f",
      cluster,
      "--against",
      cluster,
      "--against",
      "test/fixtures/diff/own-node-deny.yaml",
    ]);
    assert.ok(
      out.includes(
        "~ default/tool[Deployment] => default/agent[DaemonSet] : All Connections -> All Connections (own node)",
      ),
      out.join("\n"),
    );
  });
});

describe("podnet diff: PODNET_DEBUG says which path was taken", () => {
  const base = ["diff", "-f", "examples/articles", "--against", "examples/articles", "--against"];
  const run = (extra: string, debug: boolean) => {
    const r = spawnSync(process.execPath, ["bin/podnet.js", ...base, extra], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", PODNET_DEBUG: debug ? "1" : "" },
    });
    assert.equal(r.status, 0, r.stderr);
    return { out: r.stdout, err: r.stderr };
  };

  it("a policy change reuses the old side's analysis; the output is the same with and without the log", () => {
    assert.ok(existsSync("dist/src/cli/main.js"), "dist/ is missing: run `npm run build`");
    const change = "test/fixtures/diff/change.yaml";
    const debug = run(change, true);
    assert.match(debug.err, /^diff: NetworkPolicy-only change \(/m);
    assert.match(debug.err, /^diff: new side's reachability reused the previous analysis: \d+ classes/m);
    // Last, the time the analysis took after both loads (what BENCHMARKS.md quotes for the CLI).
    assert.match(debug.err, /^diff: analysed in \d+ ms after both loads \(CPU \d+ ms\)\n$/m);
    assert.doesNotMatch(run(change, false).err, /analysed in/);
    assert.equal(debug.out, run(change, false).out);
    assert.match(debug.out, /^3 added, 9 removed, 0 changed$/m);
  });

  it("a new CIDR: the new side is computed in full, and the log says why", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-incdiff-"));
    const file = join(dir, "cidr.yaml");
    writeFileSync(
      file,
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: from-lab, namespace: default}\nspec:\n  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 192.168.77.0/24}}]}]\n",
    );
    const debug = run(file, true);
    assert.match(
      debug.err,
      /^diff: new side's reachability computed in full: a rule names 192\.168\.77\.0\/24, a CIDR the previous analysis did not split at$/m,
    );
    assert.equal(debug.out, run(file, false).out);
    rmSync(dir, { recursive: true });
  });
});
