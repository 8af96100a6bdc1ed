/**
 * The reverse proxies' commands, without root (a RecordingRunner, src/adapters/linux/runner.ts): `up`
 * makes the TLS certificate with openssl when a listener is HTTPS, starts one proxy per controller
 * pod inside its namespace with its spec, leaves the proxied ports out of the pod listener, records
 * the processes; `apply` restarts the proxies; `down` ends them and removes their files.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { apply, down, type Host, up } from "../src/adapters/linux/dataplane.ts";
import { listenerSpec } from "../src/adapters/linux/pod-listeners.ts";
import { RecordingRunner } from "../src/adapters/linux/runner.ts";
import { httpDir } from "../src/adapters/linux/state.ts";
import { loadOrExit } from "../src/cli/common.ts";
import { clusterHttpControllers } from "../src/core/dataplane/http-controllers.ts";
import { planCluster } from "../src/core/dataplane/plan.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function host(): Host & { runner: RecordingRunner } {
  const dir = mkdtempSync(join(tmpdir(), "podnet-http-commands-"));
  dirs.push(dir);
  return { runner: new RecordingRunner(), stateDir: join(dir, "state"), etcNetns: join(dir, "etc-netns") };
}

const state = loadOrExit([join(import.meta.dirname, "fixtures", "http")]);
const plan = planCluster(state, "httpcmd", { proxies: clusterHttpControllers(state).proxies });

describe("reverse proxies, recorded", () => {
  it("the plan: one proxy per controller pod, in its namespace; the pod listener leaves their ports", () => {
    assert.equal(plan.proxies.length, 2);
    for (const p of plan.proxies) {
      assert.equal(p.netns, plan.pods.find((x) => x.key === p.spec.pod)!.netns);
      const served = listenerSpec(plan).find((l) => l.pod === p.spec.pod);
      assert.ok(!served?.ports.some((x) => x.port === 80 || x.port === 443), "80 and 443 are the proxy's");
    }
  });

  it("up: the certificate with openssl, then each proxy started in its pod's namespace with its spec", async () => {
    const h = host();
    const { record } = await up(plan, { host: h });
    const lines = h.runner.transcript();
    const openssl = lines.findIndex((l) => l.startsWith("openssl req -x509"));
    assert.ok(openssl >= 0, "openssl makes the certificate");
    assert.match(lines[openssl], /-addext subjectAltName=DNS:shop\.example\.com /);
    const starts = lines.filter((l) => /reverse-proxy\.js /.test(l));
    assert.equal(starts.length, 2);
    for (const [i, p] of plan.proxies.entries()) {
      const file = join(httpDir(h, "httpcmd"), `${i}.json`);
      assert.ok(starts[i].startsWith(`start ip netns exec ${p.netns} `) && starts[i].endsWith(file));
      const spec = JSON.parse(readFileSync(file, "utf8"));
      assert.equal(spec.pod, p.spec.pod);
      assert.deepEqual(spec.tls, {
        cert: join(httpDir(h, "httpcmd"), "cert.pem"),
        key: join(httpDir(h, "httpcmd"), "key.pem"),
      });
      assert.equal(spec.router.controller.name, "nginx");
    }
    assert.deepEqual(
      record.processes.map((p) => p.what),
      // The controller pods serve nothing but the proxied ports: the listener has the other 3 pods.
      ["listeners of 3 pods", ...plan.proxies.map((p) => `reverse proxy of ${p.spec.pod}`)],
    );
    assert.deepEqual(record.outside, { netns: "podnet-httpcmd-o", client: "203.0.113.7" });

    // apply: the proxies restart (the listener is kept: nothing changed for it).
    const before = record.processes.filter((p) => p.what.startsWith("reverse proxy")).map((p) => p.pid);
    const { record: again, report } = await apply(plan, { host: h });
    assert.equal(report.listenersRestarted, false);
    const now = again.processes.filter((p) => p.what.startsWith("reverse proxy")).map((p) => p.pid);
    assert.equal(now.length, 2);
    assert.ok(
      now.every((pid) => !before.includes(pid)),
      "new proxy processes",
    );
    for (const pid of before) assert.ok(h.runner.transcript().includes(`kill -SIGKILL ${pid}`));

    down("httpcmd", { host: h });
    assert.ok(!existsSync(httpDir(h, "httpcmd")), "the proxies' files are removed");
    for (const p of again.processes) assert.ok(h.runner.transcript().includes(`kill -SIGKILL ${p.pid}`));
  });
});
