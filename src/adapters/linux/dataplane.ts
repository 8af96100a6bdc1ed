/**
 * The shell around the data plane plan (src/core/dataplane/plan.ts): it creates the namespaces, runs
 * the plan's `ip`/`bridge` batches and `nft -f` transactions inside them, starts the pod listeners,
 * and records all of it in a state file, so that `down` removes everything — also after a crash.
 *
 *   up:     ip netns add (all) ─► ip -n NS -batch ─► bridge -n NS -batch ─► sysctl in NS ─► nft -f in NS
 *           ─► listeners (ip netns exec POD node listener.js) ─► state file; any failure: down, then report
 *   apply:  pods' namespaces added and removed ─► per ruleset a partial sync (../../core/dataplane/nft-sync.ts)
 *           against the rulesets last loaded (<cluster>.rules) ─► listeners restarted if pods or ports changed
 *   down:   listeners (by recorded pid, start time checked) ─► every namespace with the cluster's prefix
 *           (from `ip netns list`, not only the state file) ─► state file
 *
 * Nothing here touches the machine's own network namespace: every command is `ip -n NS`,
 * `bridge -n NS` or `ip netns exec NS …`.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { refillScript, replaceTable, type SyncKind, syncScript } from "../../core/dataplane/nft-sync.ts";
import { namespacesOf, type Plan, PREFIX } from "../../core/dataplane/plan.ts";

export const STATE_DIR = process.env.PODNET_STATE_DIR ?? "/run/podnet";

export interface ClusterRecord {
  cluster: string;
  createdAt: string;
  namespaces: string[];
  nodes: Plan["nodes"];
  pods: { key: string; netns: string; node: string; ip: string; resolvConf?: string }[];
  /** The manifests it was built from (absolute paths), for commands that need the model again. */
  sources: string[];
  /** Per node namespace, the host routes to pods outside their node's podCIDR (plan.hostRoutes). */
  hostRoutes?: Record<string, string[]>;
  /** The digest of the DNS zone the listener serves (src/core/dns/zone.ts), to reload it only on change. */
  zoneDigest?: string;
  /** Processes podnet started, with their start time (field 22 of /proc/PID/stat) to recognise them. */
  processes: { pid: number; start: string; what: string }[];
}

export class DataPlaneError extends Error {}

/** Runs a command; throws DataPlaneError with the command and its stderr when it fails. */
export function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  if (r.error) throw new DataPlaneError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0)
    throw new DataPlaneError(
      `${cmd} ${args.join(" ")} failed: ${(r.stderr || r.stdout).trim().split("\n").slice(0, 5).join("; ")}`,
    );
  return r.stdout;
}

/** Why the data plane cannot run here, or undefined. */
export function dataPlaneUnavailable(): string | undefined {
  if (process.platform !== "linux") return "the data plane needs Linux";
  if (process.getuid?.() !== 0) return "the data plane needs root (network namespaces)";
  for (const tool of ["ip", "bridge", "nft"]) {
    const r = spawnSync(tool, ["-V"], { encoding: "utf8" });
    if (r.error) return `\`${tool}\` is not installed (Debian: ${tool === "nft" ? "nftables" : "iproute2"})`;
  }
  return undefined;
}

const stateFile = (cluster: string) => join(STATE_DIR, `${cluster}.json`);

export function readRecord(cluster: string): ClusterRecord | undefined {
  const file = stateFile(cluster);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ClusterRecord;
  } catch {
    return undefined; // a state file cut short by a crash: `down` still finds the namespaces by prefix
  }
}

function writeRecord(record: ClusterRecord): void {
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(stateFile(record.cluster), `${JSON.stringify(record, null, 2)}\n`);
}

/** The zone snapshot the DNS pods' listener serves (read again on SIGHUP). */
const zoneFile = (cluster: string) => join(STATE_DIR, `${cluster}.zone`);
/** What the running listener serves (its spec): compared to know whether to restart it. */
const portsFile = (cluster: string) => join(STATE_DIR, `${cluster}.ports`);

/** Where `ip netns exec NS` finds files to mount over /etc: NS/resolv.conf becomes the pod's. */
export const ETC_NETNS = "/etc/netns";

function writeResolvConfs(pods: readonly { netns: string; resolvConf: string }[]): void {
  for (const p of pods) {
    mkdirSync(join(ETC_NETNS, p.netns), { recursive: true });
    writeFileSync(join(ETC_NETNS, p.netns, "resolv.conf"), p.resolvConf);
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The rulesets last loaded, one file per namespace and table, as loaded: what a partial sync starts
 * from. Raw text, so that reading a 5 MB table costs no parsing and only changed tables are written.
 */
const rulesDir = (cluster: string) => join(STATE_DIR, `${cluster}.rules`);
const rulesPath = (cluster: string, r: { netns: string; text: string }) =>
  join(
    rulesDir(cluster),
    `${r.netns}_${(/^table (\S+) (\S+) \{$/m.exec(r.text) ?? ["", "", ""]).slice(1).join("_")}.nft`,
  );

function writeRules(cluster: string, rules: readonly { netns: string; text: string }[]): void {
  mkdirSync(rulesDir(cluster), { recursive: true });
  for (const r of rules) writeFileSync(rulesPath(cluster, r), r.text);
}

/** `nft -f -` in a namespace, without blocking: the nodes' transactions run side by side. */
function nft(netns: string, script: string): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("ip", ["netns", "exec", netns, "nft", "-f", "-"], {
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", (e) => resolve({ ok: false, stderr: e.message }));
    child.on("close", (code) => resolve({ ok: code === 0, stderr }));
    child.stdin.end(script);
  });
}

/**
 * Brings every ruleset of the plan into the kernel: a partial sync against what was loaded last, or
 * a full one when there is nothing to start from or the change is structural (refilled in place as
 * kube-proxy does; dropped and reloaded when that cannot be done or the kernel refuses it — the
 * table was changed behind podnet's back). A node's tables go one after the other, nodes side by side.
 * A table's new text is written beside the old one while nft runs, and takes its place once the kernel
 * has it: what is kept always describes what was loaded.
 */
async function syncRules(plan: Plan): Promise<Record<SyncKind, number>> {
  const count: Record<SyncKind, number> = { none: 0, partial: 0, full: 0 };
  const byNetns = new Map<string, Plan["nft"]>();
  for (const r of plan.nft) byNetns.set(r.netns, [...(byNetns.get(r.netns) ?? []), r]);
  const failures: string[] = [];
  mkdirSync(rulesDir(plan.cluster), { recursive: true });
  await Promise.all(
    [...byNetns.values()].map(async (tables) => {
      for (const r of tables) {
        const path = rulesPath(plan.cluster, r);
        const prev = readText(path);
        const sync =
          prev === undefined
            ? { kind: "full" as const, script: replaceTable(r.text) }
            : syncScript(prev, r.text);
        if (sync.kind === "none") {
          count.none++;
          continue;
        }
        const first =
          sync.kind === "partial" ? sync.script : prev === undefined ? undefined : refillScript(prev, r.text);
        const running = first === undefined ? undefined : nft(r.netns, first);
        writeFileSync(`${path}.next`, r.text);
        if (running && (await running).ok) {
          count[sync.kind]++;
        } else {
          const replaced = await nft(r.netns, replaceTable(r.text));
          count.full++;
          if (!replaced.ok) {
            failures.push(`nft -f in ${r.netns}: ${replaced.stderr.trim()}`);
            rmSync(`${path}.next`, { force: true });
            continue;
          }
        }
        renameSync(`${path}.next`, path);
      }
    }),
  );
  if (failures.length) throw new DataPlaneError(failures.join("\n"));
  return count;
}

/** Clusters with a state file or with namespaces left behind. */
export function knownClusters(): string[] {
  const names = new Set<string>();
  if (existsSync(STATE_DIR))
    for (const f of readdirSync(STATE_DIR)) if (f.endsWith(".json")) names.add(f.slice(0, -5));
  for (const ns of listNamespaces()) {
    const m = /^podnet-(.+)-(u|n\d+|p[0-9a-f]{8})$/.exec(ns);
    if (m) names.add(m[1]);
  }
  return [...names].sort();
}

export function listNamespaces(): string[] {
  const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  if (r.status !== 0) return [];
  return r.stdout
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter((n) => n.startsWith(PREFIX));
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** SIGKILL one process; false when it was already gone. */
function kill(pid: number): boolean {
  try {
    process.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

/** End the recorded processes that still run (checked by start time); how many were ended. */
function stopRecorded(processes: readonly { pid: number; start: string }[]): number {
  return processes.filter((p) => alive(p) && kill(p.pid)).length;
}

/** Whether a recorded process still runs (the same process: its start time matches). */
export function alive(p: { pid: number; start: string }): boolean {
  return startTime(p.pid) === p.start;
}

export interface UpOptions {
  /** The manifests the plan comes from, recorded for `probe`. */
  sources?: string[];
  /** Called with (done, total) as pods are set up. */
  progress?: (what: string, done: number, total: number) => void;
}

/** Build the cluster; on any failure remove what was made and rethrow. Replaces a running cluster. */
export async function up(
  plan: Plan,
  opts: UpOptions = {},
): Promise<{ record: ClusterRecord; report?: ApplyReport }> {
  // A running cluster of that name is brought to the plan instead of rebuilt.
  const running = readRecord(plan.cluster);
  if (running && new Set(listNamespaces()).has(running.namespaces[0] ?? "")) return apply(plan, opts);
  return { record: await build(plan, opts) };
}

/** Build from nothing (whatever of the cluster exists is removed first). */
async function build(plan: Plan, opts: UpOptions): Promise<ClusterRecord> {
  down(plan.cluster);
  const record: ClusterRecord = {
    cluster: plan.cluster,
    createdAt: new Date().toISOString(),
    namespaces: namespacesOf(plan),
    nodes: plan.nodes,
    pods: plan.pods.map(({ key, netns, node, ip, resolvConf }) => ({ key, netns, node, ip, resolvConf })),
    sources: opts.sources ?? [],
    processes: [],
  };
  // Recorded before anything exists, so that a crash in the middle leaves a record to remove by.
  writeRecord(record);
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
    for (const r of plan.nft) run("ip", ["netns", "exec", r.netns, "nft", "-f", "-"], r.text);
    writeRules(plan.cluster, plan.nft);
    writeResolvConfs(plan.pods);
    if (plan.dnsZone) writeFileSync(zoneFile(plan.cluster), JSON.stringify(plan.dnsZone));
    record.zoneDigest = plan.dnsZone?.digest;
    record.hostRoutes = Object.fromEntries(plan.hostRoutes.map((h) => [h.netns, h.lines]));
    const listener = await startListeners(plan);
    if (listener) record.processes.push(listener);
    opts.progress?.("pod listeners", plan.pods.length, plan.pods.length);
    writeRecord(record);
    return record;
  } catch (e) {
    down(plan.cluster, record);
    throw e;
  }
}

/** A built program of this folder: next to this file in dist/, or in dist/ when this runs from src/ (tests). */
function program(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const js = join(here, `${name}.js`);
  return existsSync(js) ? js : join(here, "..", "..", "..", "dist", "src", "adapters", "linux", `${name}.js`);
}
const LISTENER = program("listener");

/**
 * Opens every pod's listening sockets inside the pod's namespace, then becomes the listener program
 * with all of them: perl (Debian's perl-base, on every Debian system) enters each namespace with
 * setns(2), binds, keeps the descriptors open across exec and runs node on them. One process serves
 * every pod. Arguments: the setns syscall number, then `netns-path protocol port` triples, `--`, the
 * command.
 */
const OPEN_SOCKETS = `
use strict; use Socket;
$^F = 1 << 20;
my $nr = shift @ARGV; my (@fds, @keep);
while (@ARGV && $ARGV[0] ne "--") {
  my ($path, $proto, $port) = splice(@ARGV, 0, 3);
  open(my $ns, "<", $path) or die "open $path: $!\n";
  syscall($nr, fileno($ns), 0x40000000) == 0 or die "setns $path: $!\n";
  close($ns);
  my $s;
  if ($proto eq "TCP") {
    socket($s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
    setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1);
    bind($s, pack_sockaddr_in($port, INADDR_ANY)) or die "bind $path TCP $port: $!\n";
    listen($s, 1024) or die "listen: $!\n";
  } else {
    socket($s, PF_INET, SOCK_DGRAM, 0) or die "socket: $!\n";
    bind($s, pack_sockaddr_in($port, INADDR_ANY)) or die "bind $path UDP $port: $!\n";
  }
  push @fds, fileno($s); push @keep, $s;
}
shift @ARGV;
$ENV{PODNET_FDS} = join(",", @fds);
exec { $ARGV[0] } @ARGV or die "exec: $!\n";
`;

/** setns(2) by machine: the numbers differ per architecture. */
const SETNS: Record<string, number> = {
  x64: 308,
  arm64: 268,
  arm: 375,
  ia32: 346,
  riscv64: 268,
  ppc64: 350,
  s390x: 339,
};

/**
 * What the listener serves: every pod with ports, and those ports (SCTP left out: see the README);
 * host-network pods in their node's namespace.
 */
function listenerSpec(plan: Plan) {
  return [...plan.pods, ...plan.hostPods]
    .map((pod) => ({
      pod: pod.key,
      node: pod.node,
      ip: pod.ip,
      netns: pod.netns,
      ports: pod.ports.filter((p) => p.protocol !== "SCTP"),
    }))
    .filter((p) => p.ports.length > 0);
}

/** Start the one listener process for every pod; resolves when it listens (or rejects with why not). */
async function startListeners(plan: Plan): Promise<{ pid: number; start: string; what: string } | undefined> {
  const spec = listenerSpec(plan);
  if (spec.length === 0) return undefined;
  const nr = SETNS[process.arch];
  if (nr === undefined)
    throw new DataPlaneError(`pod listeners: no setns syscall number known for ${process.arch}`);
  mkdirSync(STATE_DIR, { recursive: true });
  const specFile = portsFile(plan.cluster);
  writeFileSync(specFile, JSON.stringify(spec));
  const triples = spec.flatMap((p) =>
    p.ports.flatMap((x) => [`/run/netns/${p.netns}`, x.protocol, String(x.port)]),
  );
  const child = spawn(
    "sh",
    [
      "-c",
      'ulimit -n 1048576 2>/dev/null || ulimit -n 65536; exec "$@"',
      "sh",
      "perl",
      "-e",
      OPEN_SOCKETS,
      String(nr),
      ...triples,
      "--",
      process.execPath,
      LISTENER,
      specFile,
      zoneFile(plan.cluster),
    ],
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  const ready = await new Promise<string | undefined>((resolve) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => resolve("the listeners did not start within 60 s"), 60000);
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("ready\n")) {
        clearTimeout(timer);
        resolve(undefined);
      }
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(`the listeners exited (${code}): ${err.trim().split("\n").slice(-3).join("; ")}`);
    });
  });
  child.stdout.destroy();
  child.stderr.destroy();
  child.unref();
  const start = child.pid !== undefined ? startTime(child.pid) : undefined;
  if (ready !== undefined || child.pid === undefined || !start) {
    if (child.pid !== undefined) kill(child.pid);
    throw new DataPlaneError(`pod listeners: ${ready ?? "did not start"}`);
  }
  return { pid: child.pid, start, what: `listeners of ${spec.length} pods` };
}

type ProbeResult = { ok: boolean; answer?: unknown; error?: string };

/**
 * Run probes from inside pods: one prober process per source pod (./prober.ts), four pods at a time.
 * Resolves to the results by target id.
 */
export async function runProbes(
  record: ClusterRecord,
  targets: { id: number; from: string; ip: string; port: number; protocol: "TCP" | "UDP" }[],
  timeoutMs: number,
): Promise<Map<number, ProbeResult>> {
  const bySource = new Map<string, typeof targets>();
  for (const t of targets) (bySource.get(t.from) ?? bySource.set(t.from, []).get(t.from)!).push(t);
  const results = new Map<number, ProbeResult>();
  const queue = [...bySource];
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const [from, list] = item;
      const netns = from.startsWith("node/")
        ? record.nodes.find((n) => `node/${n.name}` === from)?.netns
        : record.pods.find((p) => p.key === from)?.netns;
      if (!netns) {
        for (const t of list)
          results.set(t.id, {
            ok: false,
            error: `${from} is not a pod or node of cluster ${record.cluster}`,
          });
        continue;
      }
      const targetsJson = JSON.stringify(
        list.map(({ id, ip, port, protocol }) => ({ id, ip, port, protocol })),
      );
      const out = await new Promise<string>((resolve) => {
        const child = spawn(
          "ip",
          ["netns", "exec", netns, process.execPath, program("prober"), targetsJson, String(timeoutMs)],
          { stdio: ["ignore", "pipe", "ignore"] },
        );
        let text = "";
        child.stdout.on("data", (d) => {
          text += d;
        });
        child.on("close", () => resolve(text));
      });
      let parsed: (ProbeResult & { id: number })[] = [];
      try {
        parsed = JSON.parse(out);
      } catch {
        // the prober did not finish: every target of this pod counts as unanswered
      }
      for (const t of list)
        results.set(t.id, parsed.find((r) => r.id === t.id) ?? { ok: false, error: "prober failed" });
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return results;
}

export interface ApplyReport {
  /** The nodes changed (names, addresses, podCIDRs, cni): the cluster was rebuilt. */
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
 * came, went or moved; every node's rulesets, each replaced in one `nft -f` transaction; the listener
 * process, restarted on the new set of ports. Node changes rebuild the cluster. A failure removes the
 * cluster (nothing half-applied stays) and rethrows.
 */
export async function apply(
  plan: Plan,
  opts: UpOptions = {},
): Promise<{ record: ClusterRecord; report: ApplyReport }> {
  const t0 = performance.now();
  const old = readRecord(plan.cluster);
  if (!old) throw new DataPlaneError(`cluster ${plan.cluster} is not running; start it with podnet up`);
  if (JSON.stringify(old.nodes) !== JSON.stringify(plan.nodes)) {
    const record = await build(plan, opts);
    return {
      record,
      report: {
        rebuilt: true,
        added: plan.pods.map((p) => p.key),
        removed: [],
        nodes: plan.nodes.length,
        rules: { none: 0, partial: 0, full: plan.nft.length },
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
  };
  let rules: Record<SyncKind, number> = { none: 0, partial: 0, full: 0 };
  let restarted = false;
  // Recorded first with both old and new namespaces, so that a crash leaves nothing unrecorded.
  writeRecord({ ...record, namespaces: [...new Set([...old.namespaces, ...record.namespaces])] });
  try {
    if (removed.length)
      run("ip", ["-force", "-batch", "-"], `${removed.map((p) => `netns del ${p.netns}`).join("\n")}\n`);
    for (const p of removed) rmSync(join(ETC_NETNS, p.netns), { recursive: true, force: true });
    if (added.length) run("ip", ["-batch", "-"], `${added.map((p) => `netns add ${p.netns}`).join("\n")}\n`);
    for (const n of plan.nodes) {
      const lines = added.filter((p) => p.node === n.name).flatMap((p) => p.nodeLines);
      if (lines.length) run("ip", ["-n", n.netns, "-batch", "-"], `${lines.join("\n")}\n`);
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
    rules = await syncRules(plan);
    const fresh = new Set(added);
    writeResolvConfs(plan.pods.filter((p) => fresh.has(p) || before.get(p.key)?.resolvConf !== p.resolvConf));
    const zoneChanged =
      plan.dnsZone !== undefined &&
      (old.zoneDigest !== plan.dnsZone.digest || !existsSync(zoneFile(plan.cluster)));
    if (zoneChanged) writeFileSync(zoneFile(plan.cluster), JSON.stringify(plan.dnsZone));
    record.zoneDigest = plan.dnsZone?.digest;
    // The listener holds every pod's sockets: restarted only when pods or their ports changed.
    const running = old.processes.length > 0 && old.processes.every(alive);
    if (!running || readText(portsFile(plan.cluster)) !== JSON.stringify(listenerSpec(plan))) {
      stopRecorded(old.processes);
      const listener = await startListeners(plan);
      record.processes = listener ? [listener] : [];
      restarted = true;
    } else if (zoneChanged) for (const p of old.processes) if (alive(p)) process.kill(p.pid, "SIGHUP");
    writeRecord(record);
  } catch (e) {
    down(plan.cluster, {
      ...record,
      namespaces: [...new Set([...old.namespaces, ...record.namespaces])],
      processes: [...old.processes, ...record.processes],
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

/** Remove a cluster: its processes, every namespace with its prefix, its state file. Idempotent. */
export function down(
  cluster: string,
  record = readRecord(cluster),
): { namespaces: number; processes: number } {
  let processes = 0;
  processes += stopRecorded(record?.processes ?? []);
  const prefix = `${PREFIX}${cluster}-`;
  const namespaces = new Set(
    [...(record?.namespaces ?? []), ...listNamespaces()].filter((n) => n.startsWith(prefix)),
  );
  // Processes left in our namespaces without a record (a crash before it was written): ours by construction.
  for (const ns of namespaces) {
    const r = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" });
    for (const pid of (r.stdout ?? "").split("\n").filter(Boolean).map(Number)) if (kill(pid)) processes++;
  }
  const existing = new Set(listNamespaces());
  const gone = [...namespaces].filter((n) => existing.has(n));
  if (gone.length)
    spawnSync("ip", ["-force", "-batch", "-"], {
      input: `${gone.map((n) => `netns del ${n}`).join("\n")}\n`,
    });
  rmSync(stateFile(cluster), { force: true });
  rmSync(portsFile(cluster), { force: true });
  rmSync(rulesDir(cluster), { recursive: true, force: true });
  rmSync(zoneFile(cluster), { force: true });
  // The pods' resolv.conf files (`ip netns exec` mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf).
  if (existsSync(ETC_NETNS))
    for (const d of readdirSync(ETC_NETNS))
      if (d.startsWith(prefix)) rmSync(join(ETC_NETNS, d), { recursive: true, force: true });
  return { namespaces: gone.length, processes };
}
