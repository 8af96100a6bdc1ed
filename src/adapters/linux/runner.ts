/**
 * The one door through which the data plane reaches the machine: every command it runs (`ip`,
 * `bridge`, `ip netns exec … nft|iptables-restore|sysctl`, the listener and prober processes, `ip netns
 * list|pids`) and every signal it sends goes through a Runner, as knftables' `exec` interface does for
 * kube-proxy. `spawnRunner` runs them for real; `RecordingRunner` records them and answers from a script,
 * so the command sequences of up, apply and down are tested without root.
 *
 *   up/apply/down ──► Runner ──► spawnRunner (node:child_process, /proc)      as root, for real
 *                            └─► RecordingRunner (calls[], scripted failures)  tests
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** A data plane command failed: the message names the command and the first lines of its stderr. */
export class DataPlaneError extends Error {}

/** One command: program, arguments, and the text given on its stdin (none: stdin is empty). */
export interface Command {
  cmd: string;
  args: readonly string[];
  input?: string;
}

/** How a command ended: exit code (non-zero also when it could not be started), stdout, stderr. */
export interface Completed {
  code: number;
  stdout: string;
  stderr: string;
}

/** A long-lived process the data plane started: its pid and start time (field 22 of /proc/PID/stat). */
export interface Started {
  pid: number;
  start: string;
}

export interface Runner {
  /** Run to completion, blocking (short commands: `ip -batch`, `sysctl`, `ip netns list`). */
  runSync(c: Command): Completed;
  /** Run to completion without blocking, so that several run side by side (one per node namespace). */
  run(c: Command): Promise<Completed>;
  /**
   * Start a detached process that outlives podnet and resolve once it prints `ready` on a line of its
   * stdout. Rejects with a DataPlaneError (and ends the process) when it exits first or does not get
   * ready within `timeoutMs`.
   */
  start(c: Command, timeoutMs: number): Promise<Started>;
  /** Send a signal to a process; false when it no longer exists. */
  signal(pid: number, signal: "SIGKILL" | "SIGHUP"): boolean;
  /** A process's start time (to recognise it, pids are reused), or undefined when it is gone. */
  startTime(pid: number): string | undefined;
}

/** The command as one shell-like line, for messages and recorded sequences. */
export function commandLine(c: Command): string {
  return [c.cmd, ...c.args].join(" ");
}

/** The command's stdout; a DataPlaneError naming the command and its first lines of stderr when it failed. */
export function must(c: Command, r: Completed): string {
  if (r.code !== 0)
    throw new DataPlaneError(
      `${commandLine(c)} failed: ${(r.stderr || r.stdout).trim().split("\n").slice(0, 5).join("; ")}`,
    );
  return r.stdout;
}

/** Run `c` through `runner`, blocking; its stdout, or a DataPlaneError when it fails. */
export function runOrThrow(runner: Runner, c: Command): string {
  return must(c, runner.runSync(c));
}

function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** The runner of the real machine: node:child_process and /proc. */
export const spawnRunner: Runner = {
  runSync(c) {
    const r = spawnSync(c.cmd, c.args, { input: c.input, encoding: "utf8", maxBuffer: 256 * 2 ** 20 });
    if (r.error) return { code: 127, stdout: "", stderr: `${c.cmd}: ${r.error.message}` };
    return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  },
  run(c) {
    return new Promise((resolve) => {
      const child = spawn(c.cmd, c.args, { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => {
        stdout += d;
      });
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      child.on("error", (e) => resolve({ code: 127, stdout, stderr: `${c.cmd}: ${e.message}` }));
      child.on("close", (code) => resolve({ code: code ?? 128, stdout, stderr }));
      child.stdin.on("error", () => {}); // a command that exits before reading its input
      child.stdin.end(c.input ?? "");
    });
  },
  async start(c, timeoutMs) {
    const child = spawn(c.cmd, c.args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const failed = await new Promise<string | undefined>((resolve) => {
      let out = "";
      let err = "";
      const timer = setTimeout(() => resolve(`did not get ready within ${timeoutMs / 1000} s`), timeoutMs);
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
      child.on("error", (e) => {
        clearTimeout(timer);
        resolve(e.message);
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve(`exited (${code}): ${err.trim().split("\n").slice(-3).join("; ")}`);
      });
    });
    child.stdout.destroy();
    child.stderr.destroy();
    child.unref();
    const start = child.pid !== undefined ? procStartTime(child.pid) : undefined;
    if (failed !== undefined || child.pid === undefined || !start) {
      if (child.pid !== undefined) this.signal(child.pid, "SIGKILL");
      throw new DataPlaneError(failed ?? "did not start");
    }
    return { pid: child.pid, start };
  },
  signal(pid, signal) {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  },
  startTime: procStartTime,
};

/** One call a RecordingRunner saw. */
export interface RecordedCall extends Command {
  how: "runSync" | "run" | "start" | "signal";
}

/**
 * A runner for tests: records every call in order and answers it without running anything. It keeps
 * the one piece of machine state the data plane reads back — which network namespaces exist — by
 * reading the `netns add|del` lines of `ip -batch` input, and answers `ip netns list` from it. Every
 * other command succeeds with empty output unless `script` answers it (return a Completed, or part of
 * one, to script a failure or an output). Started processes get pids from 1000 up and live until
 * signalled with SIGKILL.
 */
export class RecordingRunner implements Runner {
  readonly calls: RecordedCall[] = [];
  readonly namespaces = new Set<string>();
  readonly processes = new Map<number, string>();
  #pid = 1000;

  constructor(
    private readonly script: (c: Command, call: number) => Partial<Completed> | undefined = () => undefined,
  ) {}

  #answer(how: RecordedCall["how"], c: Command): Completed {
    this.calls.push({
      how,
      cmd: c.cmd,
      args: [...c.args],
      ...(c.input !== undefined ? { input: c.input } : {}),
    });
    const scripted = this.script(c, this.calls.length - 1);
    if (scripted) return { code: 0, stdout: "", stderr: "", ...scripted };
    if (c.cmd === "ip" && c.args[0] === "netns" && c.args[1] === "list")
      return { code: 0, stdout: [...this.namespaces].map((n) => `${n}\n`).join(""), stderr: "" };
    if (c.cmd === "ip" && c.args.includes("-batch") && !c.args.includes("-n"))
      for (const line of (c.input ?? "").split("\n")) {
        const m = /^netns (add|del) (\S+)$/.exec(line);
        if (m?.[1] === "add") {
          if (this.namespaces.has(m[2]))
            return { code: 1, stdout: "", stderr: `Cannot create namespace "${m[2]}": File exists` };
          this.namespaces.add(m[2]);
        } else if (m) this.namespaces.delete(m[2]);
      }
    return { code: 0, stdout: "", stderr: "" };
  }

  runSync(c: Command): Completed {
    return this.#answer("runSync", c);
  }

  async run(c: Command): Promise<Completed> {
    return this.#answer("run", c);
  }

  async start(c: Command): Promise<Started> {
    const r = this.#answer("start", c);
    if (r.code !== 0) throw new DataPlaneError(`exited (${r.code}): ${r.stderr}`);
    const pid = this.#pid++;
    this.processes.set(pid, `t${pid}`);
    return { pid, start: `t${pid}` };
  }

  signal(pid: number, signal: "SIGKILL" | "SIGHUP"): boolean {
    this.calls.push({ how: "signal", cmd: "kill", args: [`-${signal}`, String(pid)] });
    if (!this.processes.has(pid)) return false;
    if (signal === "SIGKILL") this.processes.delete(pid);
    return true;
  }

  startTime(pid: number): string | undefined {
    return this.processes.get(pid);
  }

  /** The calls as lines: the command, then its stdin indented (for readable expectations). */
  transcript(): string[] {
    return this.calls.map(
      (c) =>
        `${c.how === "signal" ? "" : c.how === "start" ? "start " : ""}${commandLine(c)}${
          c.input ? `\n${c.input.trimEnd().replace(/^/gm, "  ")}` : ""
        }`,
    );
  }
}
