/**
 * The GitHub Action (action.yml): its shell steps, run as the runner runs them (bash -eo pipefail,
 * step outputs through $GITHUB_OUTPUT, `${{ … }}` filled in from inputs, github, runner and earlier
 * steps), on two commits of a temporary git repository; no network: podnet is the built checkout
 * (dist/), the base commit is local, and `gh` is a stand-in that records its calls.
 * The `uses:` steps (SARIF upload) are not run; the files they would upload are checked instead.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";

interface Step {
  id?: string;
  name: string;
  shell?: string;
  run?: string;
  uses?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface Action {
  inputs: Record<string, { default?: string; required?: boolean }>;
  runs: { using: string; steps: Step[] };
}

const action = parse(readFileSync("action.yml", "utf8")) as Action;
const root = resolve(".");
const tmp = mkdtempSync(join(tmpdir(), "podnet-action-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

interface Run {
  steps: Record<
    string,
    { outputs: Record<string, string>; code: number | null; stdout: string; stderr: string }
  >;
  /** Exit code per step name, in order; a step after a failed one is not run (null). */
  codes: [string, number | null][];
  uploads: { sarif: string; category: string }[];
  summary: string;
  ghCalls: string[];
}

/**
 * Runs the action's steps in `repo` as a pull_request job would, with `inputs` over the defaults.
 * Only the expressions the action uses are known; any other fails the test.
 */
function runAction(
  repo: string,
  ctx: { baseSha: string; inputs: Record<string, string>; ghCommentId?: string; gh403?: boolean },
): Run {
  const runner = mkdtempSync(join(tmp, "runner-"));
  const bin = join(runner, "bin");
  mkdirSync(bin);
  const ghLog = join(runner, "gh.log");
  writeFileSync(
    join(bin, "gh"),
    `#!/bin/sh\necho "$*" >> "${ghLog}"\nif [ -n "$FAKE_GH_403" ]; then echo "HTTP 403: Resource not accessible by integration" >&2; exit 1; fi\ncase "$*" in *"-X "*) ;; *) [ -n "$FAKE_GH_ID" ] && echo "$FAKE_GH_ID" ;; esac\nexit 0\n`,
  );
  chmodSync(join(bin, "gh"), 0o755);
  const summary = join(runner, "summary.md");
  writeFileSync(summary, "");
  const github: Record<string, string> = {
    action_path: root,
    token: "t0ken",
    "event.pull_request.base.sha": ctx.baseSha,
    "event.pull_request.number": "7",
  };
  const steps: Run["steps"] = {};
  const evaluate = (text: string): string =>
    text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
      let m = /^inputs\.([\w-]+)$/.exec(expr);
      if (m) {
        const def = action.inputs[m[1]];
        assert.ok(def, `unknown input ${m[1]}`);
        return ctx.inputs[m[1]] ?? evaluate(def.default ?? "");
      }
      m = /^github\.(.+)$/.exec(expr);
      if (m && m[1] in github) return github[m[1]];
      if (expr === "runner.temp") return runner;
      m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
      if (m) return steps[m[1]]?.outputs[m[2]] ?? "";
      assert.fail(`the test does not know the expression ${expr}`);
    });
  const out: Run = { steps, codes: [], uploads: [], summary: "", ghCalls: [] };
  let failed = false;
  for (const step of action.runs.steps) {
    if (step.uses) {
      assert.match(step.uses, /^github\/codeql-action\/upload-sarif@v\d+$/);
      const sarif = evaluate(step.with?.sarif_file ?? "");
      if (sarif) out.uploads.push({ sarif, category: step.with?.category ?? "" });
      continue;
    }
    if (failed) {
      out.codes.push([step.name, null]);
      continue;
    }
    assert.equal(step.shell, "bash");
    const outputFile = join(runner, `output-${out.codes.length}`);
    writeFileSync(outputFile, "");
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      PATH: `${bin}:${process.env.PATH}`,
      NO_COLOR: "1",
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_REPOSITORY: "octo/shop",
      GITHUB_WORKSPACE: repo,
      RUNNER_TEMP: runner,
      ...(ctx.ghCommentId ? { FAKE_GH_ID: ctx.ghCommentId } : {}),
      ...(ctx.gh403 ? { FAKE_GH_403: "1" } : {}),
    };
    for (const [k, v] of Object.entries(step.env ?? {})) env[k] = evaluate(String(v));
    // As the runner runs `shell: bash`.
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run!], {
      cwd: repo,
      env,
      encoding: "utf8",
      timeout: 120_000,
    });
    const outputs: Record<string, string> = {};
    for (const line of readFileSync(outputFile, "utf8").split("\n")) {
      const eq = line.indexOf("=");
      if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
    }
    if (step.id) steps[step.id] = { outputs, code: r.status, stdout: r.stdout, stderr: r.stderr };
    out.codes.push([step.name, r.status]);
    if (r.status !== 0) failed = true;
  }
  out.summary = readFileSync(summary, "utf8");
  out.ghCalls = existsSync(ghLog) ? readFileSync(ghLog, "utf8").trim().split("\n") : [];
  return out;
}

let repo: string;
let baseSha: string;

describe("the GitHub Action", () => {
  before(() => {
    assert.ok(existsSync("dist/src/cli/main.js"), "dist/ is missing: run `npm run build`");
    repo = join(tmp, "repo");
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    cpSync("examples/shop", join(repo, "k8s"), { recursive: true });
    writeFileSync(join(repo, "README.md"), "a shop\n");
    git(repo, "add", "-A");
    git(repo, "commit", "-qm", "base");
    baseSha = git(repo, "rev-parse", "HEAD");
    // The pull request: cart-redis now listens on 6380 per its policy, and a policy with a typo.
    const file = join(repo, "k8s", "70-policies.yaml");
    writeFileSync(
      file,
      `${readFileSync(file, "utf8").replace("- {port: 6379}", "- {port: 6380}")}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: typo, namespace: shop}
spec:
  podSelector: {matchLabels: {app: cartt}}
  policyTypes: [Ingress]
`,
    );
    git(repo, "commit", "-qam", "head");
  });

  it("fails on a changed connection; comments the diff; lint and diff SARIF for upload", () => {
    const r = runAction(repo, { baseSha, inputs: { manifests: "k8s/" } });
    const codes = Object.fromEntries(r.codes);
    assert.deepEqual(
      r.codes.map(([n]) => n),
      [
        "Install podnet",
        "Check out the base's manifests",
        "podnet diff",
        "podnet lint",
        "Comment on the pull request",
        "Gate",
      ],
    );
    for (const name of ["Install podnet", "Check out the base's manifests", "podnet diff", "podnet lint"])
      assert.equal(codes[name], 0, `${name}: ${JSON.stringify(r.steps)}`);
    assert.equal(r.steps.diff.outputs["exit-code"], "1");
    assert.equal(codes.Gate, 1, "the gate fails the job");
    const md = readFileSync(r.steps.diff.outputs.markdown, "utf8");
    assert.match(
      md,
      /^\*\*podnet diff\*\*: 0 added, 0 removed, 1 changed — \*\*fails\*\* --fail-on removed,changed/,
    );
    assert.match(md, /`shop\/cart-redis\[StatefulSet\]` \| `TCP 6379` \| `TCP 6380`/);
    assert.ok(r.summary.includes(md), "the diff is in the job summary");
    // The comment: looked for, then created, with the marker first.
    assert.equal(r.ghCalls.length, 2, r.ghCalls.join("\n"));
    assert.match(r.ghCalls[0], /^api repos\/octo\/shop\/issues\/7\/comments --paginate --jq/);
    const post = /^api -X POST repos\/octo\/shop\/issues\/7\/comments -F body=@(\S+)$/.exec(r.ghCalls[1]);
    assert.ok(post, r.ghCalls[1]);
    assert.equal(readFileSync(post[1], "utf8"), `<!-- podnet diff -->\n${md}`);
    // SARIF: the diff at the changed policy in the head's file (relative to the repository), lint's finding.
    assert.deepEqual(
      r.uploads.map((u) => u.category),
      ["podnet-diff", "podnet-lint"],
    );
    const diff = JSON.parse(readFileSync(r.uploads[0].sarif, "utf8"));
    const [result] = diff.runs[0].results;
    assert.equal(result.ruleId, "connection-changed");
    assert.equal(result.locations[0].physicalLocation.artifactLocation.uri, "k8s/70-policies.yaml");
    const lint = JSON.parse(readFileSync(r.uploads[1].sarif, "utf8"));
    assert.equal(r.steps.lint.outputs["exit-code"], "1");
    const typo = lint.runs[0].results.find((x: { message: { text: string } }) =>
      x.message.text.startsWith("NetworkPolicy shop/typo"),
    );
    assert.equal(typo?.ruleId, "policy-selects-nothing");
    assert.equal(typo.locations[0].physicalLocation.artifactLocation.uri, "k8s/70-policies.yaml");
  });

  it("passes when the change has none of the fail-on kinds; edits its earlier comment", () => {
    const r = runAction(repo, {
      baseSha,
      inputs: { manifests: "k8s", "fail-on": "added,removed" },
      ghCommentId: "42",
    });
    assert.deepEqual(
      r.codes.filter(([, c]) => c !== 0),
      [],
      JSON.stringify(r.steps),
    );
    assert.equal(r.steps.diff.outputs["exit-code"], "0");
    assert.match(r.ghCalls[1], /^api -X PATCH repos\/octo\/shop\/issues\/comments\/42 -F body=@/);
  });

  it("manifests the base does not have: nothing to compare, says so, passes", () => {
    const r = runAction(repo, {
      baseSha,
      inputs: { manifests: "k8s new-dir/", comment: "false", lint: "false" },
    });
    // k8s exists in the base: compared; new-dir exists nowhere and is left out.
    assert.equal(r.steps.diff.outputs["exit-code"], "1");
    const r2 = runAction(repo, {
      baseSha,
      inputs: { manifests: "new-dir/", comment: "false", lint: "false" },
    });
    assert.equal(r2.steps.base.outputs.found, "0");
    assert.match(
      readFileSync(r2.steps.diff.outputs.markdown, "utf8"),
      /the base commit has none of: new-dir\//,
    );
    assert.deepEqual(
      r2.codes.filter(([, c]) => c !== 0),
      [],
    );
    assert.equal(r2.ghCalls.length, 0);
  });

  it("a fork's read-only token (403 on the comment) warns and leaves the verdict to the Gate", () => {
    const r = runAction(repo, { baseSha, inputs: { manifests: "k8s/", lint: "false" }, gh403: true });
    const codes = Object.fromEntries(r.codes);
    assert.equal(codes["Comment on the pull request"], 0, r.steps.comment?.stderr);
    assert.match(
      r.steps.comment.stdout,
      /^::warning::podnet: could not comment on pull request #7 \(a pull request from a fork/m,
    );
    assert.equal(codes.Gate, 1, "the Gate still runs and fails on the changed connection");
    assert.match(r.summary, /1 changed/);
  });

  it("SARIF uploads cannot fail the job (forks, code scanning off in private repositories)", () => {
    const uploads = action.runs.steps.filter((s) => s.uses);
    assert.equal(uploads.length, 2);
    for (const u of uploads)
      assert.equal((u as { "continue-on-error"?: boolean })["continue-on-error"], true, u.name);
  });

  it("a pull request that deletes every manifest path: says so, and fails on removed", () => {
    const gone = join(tmp, "gone");
    cpSync(repo, gone, { recursive: true });
    git(gone, "rm", "-rq", "k8s");
    git(gone, "commit", "-qm", "delete all");
    const r = runAction(gone, { baseSha, inputs: { manifests: "k8s", comment: "false" } });
    const md = readFileSync(r.steps.diff.outputs.markdown, "utf8");
    assert.match(
      md,
      /deletes every manifest path \(k8s\): all the connections the base's manifests define are removed/,
    );
    assert.doesNotMatch(md, /do not load/);
    assert.equal(r.steps.diff.outputs["exit-code"], "1");
    assert.equal(Object.fromEntries(r.codes)["podnet lint"], 0, r.steps.lint?.stderr);
    assert.equal(Object.fromEntries(r.codes).Gate, 1);
    const kept = runAction(gone, {
      baseSha,
      inputs: { manifests: "k8s", comment: "false", "fail-on": "added,changed" },
    });
    assert.equal(kept.steps.diff.outputs["exit-code"], "0");
    assert.equal(Object.fromEntries(kept.codes).Gate, 0);
  });

  it("bad input fails the gate with podnet's file:line:col message in the comment", () => {
    const broken = join(tmp, "broken");
    cpSync(repo, broken, { recursive: true });
    writeFileSync(
      join(broken, "k8s", "99-bad.yaml"),
      "apiVersion: v1\nkind: Service\nmetadata: {name: x, namespace: shop}\nspec:\n  ports: [{port: 70000}]\n",
    );
    git(broken, "add", "-A");
    git(broken, "commit", "-qm", "bad");
    const r = runAction(broken, { baseSha, inputs: { manifests: "k8s", lint: "false" } });
    assert.equal(r.steps.diff.outputs["exit-code"], "2");
    const md = readFileSync(r.steps.diff.outputs.markdown, "utf8");
    assert.match(md, /the manifests do not load/);
    assert.match(md, /k8s\/99-bad\.yaml:5:\d+: error: .*70000/);
    assert.equal(Object.fromEntries(r.codes).Gate, 1);
    // The uploaded SARIF is a valid log marking the line that stops the load, not an empty file.
    const sarif = JSON.parse(readFileSync(r.uploads[0].sarif, "utf8"));
    const result = sarif.runs[0].results[0];
    assert.equal(result.level, "error");
    assert.match(result.locations[0].physicalLocation.artifactLocation.uri, /k8s\/99-bad\.yaml$/);
    assert.equal(result.locations[0].physicalLocation.region.startLine, 5);
  });
});
