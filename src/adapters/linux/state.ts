/**
 * What the data plane remembers of a cluster it built, on the machine: under the state directory
 * (/run/podnet, or $PODNET_STATE_DIR)
 *
 *   <cluster>.json     the record: namespaces, nodes, pods, processes started (ClusterRecord)
 *   <cluster>.rules/   each ruleset as last loaded (one file per node namespace and ruleset): what the
 *                      next sync starts from
 *   <cluster>.zone     the DNS zone the DNS pods' listener serves
 *   <cluster>.ports    what the running listener serves (its spec)
 *   <cluster>.http/    the controller pods' reverse proxies: their specs, the TLS certificate and key
 *
 * and /etc/netns/<pod namespace>/resolv.conf, which `ip netns exec` mounts over the pod's
 * /etc/resolv.conf. A Host says where these live and which Runner runs the commands, so that tests
 * put them in a temporary directory and record the commands (./runner.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Plan } from "../../core/dataplane/plan.ts";
import type { RulesetTool } from "../../core/dataplane/ruleset-sync.ts";
import { type Runner, spawnRunner } from "./runner.ts";

export const STATE_DIR = process.env.PODNET_STATE_DIR ?? "/run/podnet";
/** Where `ip netns exec NS` finds files to mount over /etc: NS/resolv.conf becomes the pod's. */
export const ETC_NETNS = "/etc/netns";

/** Where the data plane keeps its state and how it runs commands. */
export interface Host {
  runner: Runner;
  /** The state directory (STATE_DIR on the machine). */
  stateDir: string;
  /** /etc/netns on the machine. */
  etcNetns: string;
}

/** The machine: commands run for real, state under STATE_DIR, resolv.conf files under /etc/netns. */
export function machine(): Host {
  return { runner: spawnRunner, stateDir: STATE_DIR, etcNetns: ETC_NETNS };
}

/** Where a live cluster was read from: see ClusterRecord.live. */
export interface LiveSource {
  kubeconfig?: string;
  context: string;
}

export interface ClusterRecord {
  cluster: string;
  createdAt: string;
  namespaces: string[];
  nodes: Plan["nodes"];
  pods: { key: string; netns: string; node: string; ip: string; resolvConf?: string }[];
  /** The outside client's namespace and address (plan.outside), when the cluster has one. */
  outside?: { netns: string; client: string };
  /** The manifests it was built from (absolute paths), for commands that need the model again. */
  sources: string[];
  /**
   * The live cluster it was built from too (`up --context`/`--kubeconfig`): the kubeconfig file
   * (absolute; absent: KUBECONFIG, ~/.kube/config or in-cluster, as at read time) and the context
   * read, for `probe` to read it again.
   */
  live?: LiveSource;
  /** Per node namespace, the host routes to pods outside their node's podCIDR (plan.hostRoutes). */
  hostRoutes?: Record<string, string[]>;
  /** The digest of the DNS zone the listener serves (src/core/dns/zone.ts), to reload it only on change. */
  zoneDigest?: string;
  /** Processes podnet started, with their start time (field 22 of /proc/PID/stat) to recognise them. */
  processes: { pid: number; start: string; what: string }[];
  /**
   * The node namespaces' setup that apply does not change in place (setupOf: the sysctls and which
   * tool loads each ruleset, so the proxy mode): when it differs, apply rebuilds.
   */
  setup?: string;
}

/** What of a plan apply cannot change in place, as text (ClusterRecord.setup). */
export function setupOf(plan: Plan): string {
  return JSON.stringify({
    // A pod link's sysctls come and go with the pod (apply sets them): not the node's setup.
    sysctls: plan.sysctls.filter((s) => !s.pod).map((s) => `${s.netns} ${s.key}=${s.value}`),
    rulesets: plan.rules.map((r) => `${r.netns} ${r.tool}`),
    outside: plan.outside?.netns ?? null,
  });
}

export const stateFile = (host: Host, cluster: string) => join(host.stateDir, `${cluster}.json`);
/** The zone snapshot the DNS pods' listener serves (read again on SIGHUP). */
export const zoneFile = (host: Host, cluster: string) => join(host.stateDir, `${cluster}.zone`);
/** What the running listener serves (its spec): compared to know whether to restart it. */
export const portsFile = (host: Host, cluster: string) => join(host.stateDir, `${cluster}.ports`);
/**
 * The rulesets last loaded, one file per namespace and ruleset, as loaded: what a sync starts from.
 * Raw text, so that reading a 5 MB table costs no parsing and only changed rulesets are written.
 */
export const rulesDir = (host: Host, cluster: string) => join(host.stateDir, `${cluster}.rules`);
/** The reverse proxies' specs and the TLS certificate they present (./http-proxies.ts). */
export const httpDir = (host: Host, cluster: string) => join(host.stateDir, `${cluster}.http`);

/** The file of one ruleset: per nftables table (`NS_ip_kube-proxy.nft`), or the namespace's iptables rules. */
export function rulesPath(
  host: Host,
  cluster: string,
  r: { netns: string; tool: RulesetTool; text: string },
): string {
  if (r.tool === "iptables-restore") return join(rulesDir(host, cluster), `${r.netns}.iptables`);
  const table = (/^table (\S+) (\S+) \{$/m.exec(r.text) ?? ["", "", ""]).slice(1).join("_");
  return join(rulesDir(host, cluster), `${r.netns}_${table}.nft`);
}

export function readRecord(cluster: string, host = machine()): ClusterRecord | undefined {
  const file = stateFile(host, cluster);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ClusterRecord;
  } catch {
    return undefined; // a state file cut short by a crash: `down` still finds the namespaces by prefix
  }
}

export function writeRecord(host: Host, record: ClusterRecord): void {
  mkdirSync(host.stateDir, { recursive: true });
  writeFileSync(stateFile(host, record.cluster), `${JSON.stringify(record, null, 2)}\n`);
}

/** Each pod's resolv.conf where `ip netns exec` mounts it over /etc/resolv.conf. */
export function writeResolvConfs(host: Host, pods: readonly { netns: string; resolvConf: string }[]): void {
  for (const p of pods) {
    mkdirSync(join(host.etcNetns, p.netns), { recursive: true });
    writeFileSync(join(host.etcNetns, p.netns, "resolv.conf"), p.resolvConf);
  }
}

/** A file's text, or undefined when it cannot be read. */
export function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
