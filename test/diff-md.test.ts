/**
 * `diff -o md`, the pull-request comment: the summary line with counts and the --fail-on verdict, the
 * connections per kind grouped by namespace, long groups folded into <details>.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { renderDiffMarkdown } from "../src/cli/render/diff-md.ts";
import type { ConnectionDiff } from "../src/core/policy/diff.ts";
import { runPodnet } from "./helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "podnet-diffmd-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("diff -o md", () => {
  it("summary, sections per kind, groups per destination namespace (a range: the source's)", () => {
    const diffs: ConnectionDiff[] = [
      { kind: "added", src: "a/web[Deployment]", dst: "b/db[StatefulSet]", new: "TCP 5432" },
      { kind: "added", src: "b/db[StatefulSet]", dst: "0.0.0.0-9.255.255.255", new: "All Connections" },
      { kind: "removed", src: "a/web[Deployment]", dst: "a/api[Deployment]", old: "TCP 80,UDP 53" },
      {
        kind: "changed",
        src: "{ingress-controller}",
        dst: "a/web[Deployment]",
        old: "TCP 80",
        new: "TCP 80,443",
      },
    ];
    assert.equal(
      renderDiffMarkdown(diffs, { failOn: ["removed"] }),
      `**podnet diff**: 2 added, 1 removed, 1 changed — **fails** --fail-on removed (1 connection)

### Added (2 connections)

#### namespace \`b\`: 2 connections

| source | destination | connections |
|---|---|---|
| \`a/web[Deployment]\` | \`b/db[StatefulSet]\` | \`TCP 5432\` |
| \`b/db[StatefulSet]\` | \`0.0.0.0-9.255.255.255\` | \`All Connections\` |

### Removed (1 connection)

#### namespace \`a\`: 1 connection

| source | destination | connections |
|---|---|---|
| \`a/web[Deployment]\` | \`a/api[Deployment]\` | \`TCP 80,UDP 53\` |

### Changed (1 connection)

#### namespace \`a\`: 1 connection

| source | destination | before | after |
|---|---|---|---|
| \`{ingress-controller}\` | \`a/web[Deployment]\` | \`TCP 80\` | \`TCP 80,443\` |
`,
    );
  });

  it("a group longer than collapseOver rows is folded; no change says so", () => {
    const many: ConnectionDiff[] = Array.from({ length: 12 }, (_, i) => ({
      kind: "added" as const,
      src: `x/w${String(i).padStart(2, "0")}[Pod]`,
      dst: "y/db[Pod]",
      new: "TCP 1",
    }));
    const md = renderDiffMarkdown(many, { collapseOver: 10 });
    assert.match(md, /^\*\*podnet diff\*\*: 12 added, 0 removed, 0 changed\n/);
    assert.match(md, /<details><summary>namespace <code>y<\/code>: 12 connections<\/summary>\n\n\| source/);
    assert.match(md, /\| `x\/w11\[Pod\]` \| `y\/db\[Pod\]` \| `TCP 1` \|\n\n<\/details>\n$/);
    assert.doesNotMatch(renderDiffMarkdown(many.slice(0, 10), { collapseOver: 10 }), /<details>/);
    assert.equal(
      renderDiffMarkdown([], { failOn: ["added"] }),
      "**podnet diff**: no connection added, removed or changed (passes --fail-on added)\n",
    );
  });

  it("the CLI writes it for a real change and still exits 1 on --fail-on", () => {
    const base = join(tmp, "base");
    const head = join(tmp, "head");
    cpSync("examples/shop", base, { recursive: true });
    cpSync("examples/shop", head, { recursive: true });
    const file = join(head, "70-policies.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("- {port: 6379}", "- {port: 6380}"));
    const r = runPodnet(["diff", "-f", base, "--against", head, "-o", "md", "--fail-on", "changed"]);
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.out,
      /^\*\*podnet diff\*\*: 0 added, 0 removed, 1 changed — \*\*fails\*\* --fail-on changed \(1 connection\)\n\n### Changed \(1 connection\)\n\n#### namespace `shop`: 1 connection\n/,
    );
    assert.match(
      r.out,
      /\| `shop\/cart\[Deployment\]` \| `shop\/cart-redis\[StatefulSet\]` \| `TCP 6379` \| `TCP 6380` \|/,
    );
  });
});
