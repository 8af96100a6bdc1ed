/**
 * `podnet get` as kubectl reads its arguments: named objects that exist are printed even when others
 * are missing (one `Error from server (NotFound)` each, exit 1), and TYPE.GROUP takes short names.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRequests, runGet } from "../src/cli/get.ts";
import { loadCluster } from "../src/index.ts";
import { runPodnet } from "./helpers.ts";

const loaded = loadCluster({ files: ["examples/articles"] });
if (!loaded.ok) throw new Error("examples/articles does not load");
const state = loaded.cluster;

describe("get with names, some missing", () => {
  it("prints the found objects and a NotFound error per missing name", () => {
    const r = runGet(state, parseRequests(["pods", "pod1", "nope", "pod2"]), { output: "table" });
    assert.match(r.stdout, /^default\s+pod1\s/m);
    assert.match(r.stdout, /^default\s+pod2\s/m);
    assert.deepEqual(r.notFound, ['Error from server (NotFound): pods "nope" not found']);
    const typed = runGet(state, parseRequests(["pod/pod1", "svc/nope"]), { output: "json" });
    assert.deepEqual(
      JSON.parse(typed.stdout).items.map((o: { metadata: { name: string } }) => o.metadata.name),
      ["pod1"],
    );
    assert.deepEqual(typed.notFound, ['Error from server (NotFound): services "nope" not found']);
  });

  it("the CLI exits 1 with the found objects on stdout and the errors on stderr", () => {
    const r = runPodnet(["get", "pods", "pod1", "nope", "-f", "examples/articles"]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /pod1/);
    assert.equal(r.err, 'Error from server (NotFound): pods "nope" not found\n');
  });
});

describe("TYPE.GROUP with short names and versions", () => {
  it("accepts deploy.apps, ing.networking.k8s.io, deployments.v1.apps; refuses a wrong group", () => {
    for (const [word, name] of [
      ["deploy.apps", "deployments"],
      ["deployments.v1.apps", "deployments"],
      ["ing.networking.k8s.io", "ingresses"],
      ["netpol.networking.k8s.io", "networkpolicies"],
    ])
      assert.equal(parseRequests([word])[0].type.name, name, word);
    assert.throws(() => parseRequests(["deploy.batch"]), /doesn't have a resource type "deploy.batch"/);
  });
});
