/**
 * The processes and namespaces the data plane finds on the machine: the network namespaces with
 * podnet's prefix (`ip netns list`), the processes it started (recognised by pid and start time), and
 * the processes left inside its namespaces (`ip netns pids`). All through the host's Runner.
 */
import { PREFIX } from "../../core/dataplane/plan.ts";
import type { Host } from "./state.ts";
import { machine } from "./state.ts";

/** The network namespaces with podnet's prefix (`ip netns list`); none when it cannot be listed. */
export function listNamespaces(host = machine()): string[] {
  const r = host.runner.runSync({ cmd: "ip", args: ["netns", "list"] });
  if (r.code !== 0) return [];
  return r.stdout
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter((n) => n.startsWith(PREFIX));
}

/** Whether a recorded process still runs (the same process: its start time matches). */
export function alive(p: { pid: number; start: string }, host = machine()): boolean {
  return host.runner.startTime(p.pid) === p.start;
}

/** End the recorded processes that still run (checked by start time); how many were ended. */
export function stopRecorded(host: Host, processes: readonly { pid: number; start: string }[]): number {
  return processes.filter((p) => alive(p, host) && host.runner.signal(p.pid, "SIGKILL")).length;
}

/**
 * End every process inside a namespace (`ip netns pids`): podnet's by construction, as nothing else
 * runs in its namespaces. How many were ended.
 */
export function stopInNamespace(host: Host, netns: string): number {
  const r = host.runner.runSync({ cmd: "ip", args: ["netns", "pids", netns] });
  let n = 0;
  for (const pid of r.stdout.split("\n").filter(Boolean).map(Number))
    if (host.runner.signal(pid, "SIGKILL")) n++;
  return n;
}
