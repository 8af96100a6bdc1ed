/**
 * The shell around the data plane plan (src/core/dataplane/plan.ts): it creates the namespaces, runs
 * the plan's `ip`/`bridge` batches and loads its rulesets inside them, starts the pod listeners, and
 * records all of it in a state file, so that `down` removes everything — also after a crash. Every
 * command goes through the host's Runner (./runner.ts).
 *
 *   up:     state file ─► ip netns add (all) ─► ip -n NS -batch ─► bridge -n NS -batch ─► sysctl in NS
 *           ─► rulesets (./rules.ts: nft -f, or iptables-restore in iptables mode) ─► listeners
 *           (./pod-listeners.ts) ─► the controller pods' reverse proxies (./http-proxies.ts) ─► state
 *           file; any failure: down, then report
 *   apply:  pods' namespaces added and removed ─► host routes ─► per ruleset a sync against the rulesets
 *           last loaded (<cluster>.rules) ─► listeners restarted if pods or ports changed
 *   down:   listeners (by recorded pid, start time checked) ─► processes left in the namespaces
 *           ─► every namespace with the cluster's prefix (from `ip netns list`, not only the state
 *           file) ─► state files
 *
 * Nothing here touches the machine's own network namespace: every command is `ip -n NS`,
 * `bridge -n NS` or `ip netns exec NS …`.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SyncKind } from "../../core/dataplane/nft-sync.ts";
import { namespacesOf, type Plan, PREFIX } from "../../core/dataplane/plan.ts";
import type { RulesetTool } from "../../core/dataplane/ruleset-sync.ts";
import { startProxies } from "./http-proxies.ts";
import { listenerSpec, startListeners } from "./pod-listeners.ts";
import { alive, listNamespaces, stopInNamespace, stopRecorded } from "./processes.ts";
import { syncRules } from "./rules.ts";
import { DataPlaneError, runOrThrow, spawnRunner } from "./runner.ts";
import {
  type ClusterRecord,
  type Host,
  httpDir,
  type LiveSource,
  machine,
  portsFile,
  readRecord,
  readText,
  rulesDir,
  setupOf,
  stateFile,
  writeRecord,
  writeResolvConfs,
  zoneFile,
} from "./state.ts";

export { runProbes } from "./probes.ts";
export { alive, listNamespaces } from "./processes.ts";
export { DataPlaneError } from "./runner.ts";
export { type ClusterRecord, ETC_NETNS, type Host, type LiveSource, readRecord, STATE_DIR } from "./state.ts";

/** A recorded process that is a controller pod's reverse proxy (./http-proxies.ts), not the pod listener. */
const isProxy = (p: { what: string }) => p.what.startsWith("reverse proxy");

/** The Debian package of each program the data plane runs. */
const PACKAGES: Record<string, string> = {
  ip: "iproute2",
  bridge: "iproute2",
  nft: "nftables",
  "iptables-restore": "iptables",
};

/**
 * Why the data plane cannot run here, or undefined: not Linux, not root, or a program missing (`ip`,
 * `bridge`, `nft`, and the ruleset tools `tools` names, e.g. `iptables-restore` for iptables mode).
 */
export function dataPlaneUnavailable(tools: readonly RulesetTool[] = []): string | undefined {
  if (process.platform !== "linux") return "the data plane needs Linux";
  if (process.getuid?.() !== 0) return "the data plane needs root (network namespaces)";
  for (const tool of new Set(["ip", "bridge", "nft", ...tools])) {
    const r = spawnRunner.runSync({ cmd: tool, args: tool === "iptables-restore" ? ["--version"] : ["-V"] });
    if (r.code === 127) return `\`${tool}\` is not installed (Debian: ${PACKAGES[tool] ?? tool})`;
  }
  return undefined;
}

/** Clusters with a state file or with namespaces left behind. */
export function knownClusters(host = machine()): string[] {
  const names = new Set<string>();
  if (existsSync(host.stateDir))
    for (const f of readdirSync(host.stateDir)) if (f.endsWith(".json")) names.add(f.slice(0, -5));
  for (const ns of listNamespaces(host)) {
    const m = /^podnet-(.+)-(u|o|n\d+|p[0-9a-f]{8})$/.exec(ns);
    if (m) names.add(m[1]);
  }
  return [...names].sort();
}

export interface UpOptions {
  /** The manifests the plan comes from, recorded for `probe`. */
  sources?: string[];
  /** The live cluster the plan comes from too, recorded for `probe` (with `sources`: replaces the record's). */
  live?: LiveSource;
  /** Called with (done, total) as pods are set up. */
  progress?: (what: string, done: number, total: number) => void;
  /** Where state lives and how commands run (default: the machine). */
  host?: Host;
}

/** Build the cluster; on any failure remove what was made and rethrow. Replaces a running cluster. */
export async function up(
  plan: Plan,
  opts: UpOptions = {},
): Promise<{ record: ClusterRecord; report?: ApplyReport }> {
  const host = opts.host ?? machine();
  // A running cluster of that name is brought to the plan instead of rebuilt.
  const running = readRecord(plan.cluster, host);
  if (running && new Set(listNamespaces(host)).has(running.namespaces[0] ?? "")) return apply(plan, opts);
  return { record: await build(plan, opts, host) };
}

/** Build from nothing (whatever of the cluster exists is removed first). */
async function build(plan: Plan, opts: UpOptions, host: Host): Promise<ClusterRecord> {
  down(plan.cluster, { host });
  const run = (cmd: string, args: string[], input?: string) => runOrThrow(host.runner, { cmd, args, input });
  const record: ClusterRecord = {
    cluster: plan.cluster,
    createdAt: new Date().toISOString(),
    namespaces: namespacesOf(plan),
    nodes: plan.nodes,
    pods: plan.pods.map(({ key, netns, node, ip, resolvConf }) => ({ key, netns, node, ip, resolvConf })),
    sources: opts.sources ?? [],
    ...(opts.live ? { live: opts.live } : {}),
    processes: [],
    setup: setupOf(plan),
    ...(plan.outside ? { outside: { netns: plan.outside.netns, client: plan.outside.client } } : {}),
  };
  // Recorded before anything exists, so that a crash in the middle leaves a record to remove by.
  writeRecord(host, record);
  try {
    run("ip", ["-batch", "-"], `${record.namespaces.map((n) => `netns add ${n}`).join("\n")}\n`);
    opts.progress?.("namespaces", record.namespaces.length, record.namespaces.length);
    let done = 0;
    for (const step of plan.steps) {
      run(step.tool, ["-n", step.netns, "-batch", "-"], `${step.lines.join("\n")}\n`);
      done++;
      opts.progress?.("links, addresses and routes", done, plan.steps.length);
    }
    // One `sysctl -w` per namespace, in plan order: Calico has three per pod, and a process each cost
    // about 33 s for 1,000 pods (bench/calico-up.ts).
    const sysctls = new Map<string, string[]>();
    for (const s of plan.sysctls) {
      const kv = sysctls.get(s.netns) ?? [];
      kv.push(`${s.key}=${s.value}`);
      sysctls.set(s.netns, kv);
    }
    for (const [netns, kv] of sysctls) run("ip", ["netns", "exec", netns, "sysctl", "-q", "-w", ...kv]);
    await syncRules(host, plan);
    writeResolvConfs(host, plan.pods);
    if (plan.dnsZone) writeFileSync(zoneFile(host, plan.cluster), JSON.stringify(plan.dnsZone));
    record.zoneDigest = plan.dnsZone?.digest;
    record.hostRoutes = Object.fromEntries(plan.hostRoutes.map((h) => [h.netns, h.lines]));
    const listener = await startListeners(host, plan);
    if (listener) record.processes.push(listener);
    opts.progress?.("pod listeners", plan.pods.length, plan.pods.length);
    writeRecord(host, record);
    record.processes.push(...(await startProxies(host, plan)));
    writeRecord(host, record);
    return record;
  } catch (e) {
    down(plan.cluster, { record, host });
    throw e;
  }
}

export interface ApplyReport {
  /** The nodes (names, addresses, podCIDRs, cni) or the proxy mode changed: the cluster was rebuilt. */
  rebuilt: boolean;
  added: string[];
  removed: string[];
  nodes: number;
  /** Rulesets (kube-proxy's and the policy table, per node) by how they were synced. */
  rules: Record<SyncKind, number>;
  /** Whether the pod listeners were restarted (pods or their ports changed). */
  listenersRestarted: boolean;
  ms: number;
}

/**
 * Bring a running cluster to a new plan, touching only what changed: namespaces and veths of pods that
 * came, went or moved; every node's rulesets, each synced in one transaction; the listener process,
 * restarted on the new set of ports. Node changes rebuild the cluster. A failure removes the cluster
 * (nothing half-applied stays) and rethrows.
 */
export async function apply(
  plan: Plan,
  opts: UpOptions = {},
): Promise<{ record: ClusterRecord; report: ApplyReport }> {
  const t0 = performance.now();
  const host = opts.host ?? machine();
  const run = (cmd: string, args: string[], input?: string) => runOrThrow(host.runner, { cmd, args, input });
  const old = readRecord(plan.cluster, host);
  if (!old) throw new DataPlaneError(`cluster ${plan.cluster} is not running; start it with podnet up`);
  // Node changes, and a changed proxy mode or sysctls (the kernel keeps the old mode's rules and
  // settings), rebuild the cluster.
  if (
    JSON.stringify(old.nodes) !== JSON.stringify(plan.nodes) ||
    (old.setup ?? setupOf(plan)) !== setupOf(plan)
  ) {
    const record = await build(plan, opts, host);
    return {
      record,
      report: {
        rebuilt: true,
        added: plan.pods.map((p) => p.key),
        removed: [],
        nodes: plan.nodes.length,
        rules: { none: 0, partial: 0, full: plan.rules.length },
        listenersRestarted: true,
        ms: performance.now() - t0,
      },
    };
  }
  const same = (
    a: { netns: string; node: string; ip: string },
    b: { netns: string; node: string; ip: string },
  ) => a.netns === b.netns && a.node === b.node && a.ip === b.ip;
  const before = new Map(old.pods.map((p) => [p.key, p]));
  const after = new Map(plan.pods.map((p) => [p.key, p]));
  const removed = old.pods.filter((p) => !after.has(p.key) || !same(p, after.get(p.key)!));
  const added = plan.pods.filter((p) => !before.has(p.key) || !same(before.get(p.key)!, p));
  const record: ClusterRecord = {
    ...old,
    namespaces: namespacesOf(plan),
    pods: plan.pods.map(({ key, netns, node, ip, resolvConf }) => ({ key, netns, node, ip, resolvConf })),
    sources: opts.sources ?? old.sources,
    live: opts.sources ? opts.live : old.live,
  };
  let rules: Record<SyncKind, number> = { none: 0, partial: 0, full: 0 };
  let restarted = false;
  // Recorded first with both old and new namespaces, so that a crash leaves nothing unrecorded.
  writeRecord(host, { ...record, namespaces: [...new Set([...old.namespaces, ...record.namespaces])] });
  try {
    if (removed.length)
      run("ip", ["-force", "-batch", "-"], `${removed.map((p) => `netns del ${p.netns}`).join("\n")}\n`);
    for (const p of removed) rmSync(join(host.etcNetns, p.netns), { recursive: true, force: true });
    if (added.length) run("ip", ["-batch", "-"], `${added.map((p) => `netns add ${p.netns}`).join("\n")}\n`);
    for (const n of plan.nodes) {
      const lines = added.filter((p) => p.node === n.name).flatMap((p) => p.nodeLines);
      if (lines.length) run("ip", ["-n", n.netns, "-batch", "-"], `${lines.join("\n")}\n`);
      // The host side of the new links (Calico: proxy ARP on cali…), one `sysctl -w` per node.
      const kv = added
        .filter((p) => p.node === n.name)
        .flatMap((p) => p.nodeSysctls.map((s) => `${s.key}=${s.value}`));
      if (kv.length) run("ip", ["netns", "exec", n.netns, "sysctl", "-q", "-w", ...kv]);
    }
    for (const p of added) run("ip", ["-n", p.netns, "-batch", "-"], `${p.podLines.join("\n")}\n`);
    // Host routes to pods outside their node's podCIDR, on every node: the ones gone, the ones new.
    for (const { netns, lines } of plan.hostRoutes) {
      const before = new Set(old.hostRoutes?.[netns] ?? []);
      const now = new Set(lines);
      const batch = [
        ...[...before].filter((l) => !now.has(l)).map((l) => `route del ${l.split(" ")[2]}`),
        ...lines.filter((l) => !before.has(l)).map((l) => l.replace(/^route add /, "route replace ")),
      ];
      if (batch.length) run("ip", ["-n", netns, "-batch", "-"], `${batch.join("\n")}\n`);
    }
    record.hostRoutes = Object.fromEntries(plan.hostRoutes.map((h) => [h.netns, h.lines]));
    rules = await syncRules(host, plan);
    const fresh = new Set(added);
    writeResolvConfs(
      host,
      plan.pods.filter((p) => fresh.has(p) || before.get(p.key)?.resolvConf !== p.resolvConf),
    );
    const zoneChanged =
      plan.dnsZone !== undefined &&
      (old.zoneDigest !== plan.dnsZone.digest || !existsSync(zoneFile(host, plan.cluster)));
    if (zoneChanged) writeFileSync(zoneFile(host, plan.cluster), JSON.stringify(plan.dnsZone));
    record.zoneDigest = plan.dnsZone?.digest;
    // The listener holds every pod's sockets: restarted only when pods or their ports changed.
    const listeners = old.processes.filter((p) => !isProxy(p));
    const running = listeners.length > 0 && listeners.every((p) => alive(p, host));
    // The reverse proxies are few: restarted on every apply, with the routes as they are now.
    stopRecorded(host, old.processes.filter(isProxy));
    if (!running || readText(portsFile(host, plan.cluster)) !== JSON.stringify(listenerSpec(plan))) {
      stopRecorded(host, listeners);
      const listener = await startListeners(host, plan);
      record.processes = listener ? [listener] : [];
      restarted = true;
    } else {
      record.processes = listeners;
      if (zoneChanged) for (const p of listeners) if (alive(p, host)) host.runner.signal(p.pid, "SIGHUP");
    }
    writeRecord(host, record);
    record.processes = [...record.processes, ...(await startProxies(host, plan))];
    writeRecord(host, record);
  } catch (e) {
    down(plan.cluster, {
      host,
      record: {
        ...record,
        namespaces: [...new Set([...old.namespaces, ...record.namespaces])],
        processes: [...old.processes, ...record.processes],
      },
    });
    throw e;
  }
  return {
    record,
    report: {
      rebuilt: false,
      added: added.map((p) => p.key),
      removed: removed.map((p) => p.key),
      nodes: plan.nodes.length,
      rules,
      listenersRestarted: restarted,
      ms: performance.now() - t0,
    },
  };
}

/**
 * Remove a cluster: its processes, every namespace with its prefix, its state files. Idempotent.
 * `record` defaults to the state file's.
 */
export function down(
  cluster: string,
  opts: { record?: ClusterRecord; host?: Host } = {},
): { namespaces: number; processes: number } {
  const host = opts.host ?? machine();
  const record = opts.record ?? readRecord(cluster, host);
  let processes = stopRecorded(host, record?.processes ?? []);
  const prefix = `${PREFIX}${cluster}-`;
  const existing = new Set(listNamespaces(host));
  const namespaces = new Set(
    [...(record?.namespaces ?? []), ...existing].filter((n) => n.startsWith(prefix)),
  );
  const gone = [...namespaces].filter((n) => existing.has(n));
  // Processes left in our namespaces without a record (a crash before it was written): ours by construction.
  for (const ns of gone) processes += stopInNamespace(host, ns);
  if (gone.length)
    host.runner.runSync({
      cmd: "ip",
      args: ["-force", "-batch", "-"],
      input: `${gone.map((n) => `netns del ${n}`).join("\n")}\n`,
    });
  rmSync(stateFile(host, cluster), { force: true });
  rmSync(portsFile(host, cluster), { force: true });
  rmSync(rulesDir(host, cluster), { recursive: true, force: true });
  rmSync(zoneFile(host, cluster), { force: true });
  rmSync(httpDir(host, cluster), { recursive: true, force: true });
  // The pods' resolv.conf files (`ip netns exec` mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf).
  if (existsSync(host.etcNetns))
    for (const d of readdirSync(host.etcNetns))
      if (d.startsWith(prefix)) rmSync(join(host.etcNetns, d), { recursive: true, force: true });
  return { namespaces: gone.length, processes };
}
