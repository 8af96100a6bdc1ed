/**
 * `podnet snapshot --context NAME [-o dump.yaml] [--anonymize [--seed S]]`: writes the objects a
 * live read finds (adapters/manifests/live.ts) as one `v1 List` that every command reads with -f and
 * answers alike; a header comment names the context, server, Kubernetes version and time.
 * `--anonymize` renames it (core/manifests/anonymize.ts) so it can be shared. `-f DUMP` (instead of
 * or with a live cluster) snapshots manifests too, e.g. to anonymize an existing dump.
 */
import { randomBytes } from "node:crypto";
import { closeSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { Command } from "commander";
import { readSources } from "../adapters/manifests/read.ts";
import { Diagnostics } from "../core/diagnostics.ts";
import { makeAnonymizer } from "../core/manifests/anonymize.ts";
import { decodeObjects } from "../core/manifests/decode.ts";
import { parseSource } from "../core/manifests/parse.ts";
import { CliExit, EXIT_BAD_INPUT, type InputOptions, printDiagnostics, readLiveOrExit } from "./common.ts";

interface SnapshotOptions extends InputOptions {
  output?: string;
  anonymize?: boolean;
  seed?: string;
}

/**
 * The dump's text: the header lines (each prefixed `# `), then the objects as one v1 List in JSON,
 * one object to a line (`JSON.stringify` of each). JSON is YAML (1.2, and 1.1 for what JSON can
 * hold: every string is double-quoted, so `yes`, `0755` or `1e3` stay strings), so the file is read
 * with -f as `.yaml` — comments and all — and as `.json` once the header is left out (`-o
 * FILE.json`). A YAML library's emitter takes many times longer on a 150,000-pod cluster; JSON's is
 * native, and one line per object (no indentation) keeps that cluster's dump near 230 MB rather
 * than 390 MB, greppable by object (`jq .items[]` pretty-prints it).
 */
export function renderSnapshot(header: readonly string[], items: readonly Record<string, unknown>[]): string {
  const parts: string[] = [];
  writeSnapshot(
    header,
    items.length,
    (i) => items[i],
    (s) => parts.push(s),
  );
  return parts.join("");
}

/**
 * Writes the text of `renderSnapshot` piece by piece (pieces of about 1 MiB) through `write`,
 * asking `item(i)` for each of the `count` items in turn: the whole text of a large cluster is
 * never held at once (at 150,000 pods it nears V8's longest string, 2^29 characters).
 */
export function writeSnapshot(
  header: readonly string[],
  count: number,
  item: (i: number) => Record<string, unknown>,
  write: (text: string) => void,
): void {
  let buf = `${header.map((l) => `# ${l}\n`).join("")}{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[`;
  for (let i = 0; i < count; i++) {
    buf += `${i ? "," : ""}\n${JSON.stringify(item(i))}`;
    if (buf.length >= 1 << 20) {
      write(buf);
      buf = "";
    }
  }
  write(`${buf}${count ? "\n" : ""}]}\n`);
}

export function snapshotCommand(): Command {
  return new Command("snapshot")
    .description(
      "write a live cluster's objects as a dump every command reads with -f (--anonymize to share it)",
    )
    .option("--kubeconfig <path>", "the kubeconfig file (as kubectl)")
    .option("--context [name]", "the kubeconfig context to read (bare: the current context)")
    .option(
      "--request-timeout <duration>",
      "the live read's limit per request: seconds, or 30s, 5m, 1h as kubectl",
      "30",
    )
    .option(
      "-f, --filename <path>",
      "also (or instead) snapshot these manifests; repeatable",
      (v: string, p: string[]) => [...p, v],
      [] as string[],
    )
    .option("-o, --output <file>", "write the dump here (default: standard output)")
    .option(
      "--anonymize",
      "rename namespaces, names, label values, DNS names and addresses consistently, and drop env, commands and volumes",
    )
    .option("--seed <text>", "the anonymization's seed: the same seed renames alike (default: random)")
    .action(async (opts: SnapshotOptions) => {
      const liveWanted = opts.kubeconfig !== undefined || opts.context !== undefined;
      if (!liveWanted && opts.filename.length === 0)
        throw new CliExit(
          EXIT_BAD_INPUT,
          "error: nothing to snapshot: give --context NAME (or --kubeconfig PATH) to read a live cluster, or -f a dump",
        );
      if (opts.seed !== undefined && !opts.anonymize)
        throw new CliExit(EXIT_BAD_INPUT, "error: --seed is for --anonymize; add --anonymize");
      // -o names the file: a format's name there is a slip (snapshot writes one format).
      if (opts.output !== undefined && /^(json|ya?ml|text|wide|md|sarif)$/i.test(opts.output))
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: -o ${opts.output}: -o names the file to write (a snapshot is always one v1 List, JSON that is YAML): write -o dump.yaml`,
        );
      // -o must be neither an input nor inside a directory read with -f (the next read of that
      // directory would read the dump too, every object twice).
      if (opts.output !== undefined && opts.output !== "-") {
        const out = resolve(opts.output);
        const inside = opts.filename.find(
          (f) => f !== "-" && (out === resolve(f) || out.startsWith(`${resolve(f)}${sep}`)),
        );
        if (inside !== undefined)
          throw new CliExit(
            EXIT_BAD_INPUT,
            out === resolve(inside)
              ? `error: -o ${opts.output} is also read with -f: the snapshot would overwrite its own input; write it to another file`
              : `error: -o ${opts.output} lies inside ${inside}, which -f reads: the snapshot would overwrite or join its own input; write it outside ${inside}`,
          );
      }
      const live = liveWanted ? await readLiveOrExit(opts) : undefined;
      let items: Record<string, unknown>[] = live ? live.items : [];
      if (opts.filename.length > 0) {
        const diags = new Diagnostics();
        const parsed = readSources(opts.filename, diags).flatMap((s) => parseSource(s, diags));
        // What every command would refuse when it reads the dump back is refused here, before
        // anything is written: invalid objects, one defined twice, one the live cluster holds too.
        if (!diags.hasErrors) decodeObjects(parsed, diags);
        if (live && !diags.hasErrors) {
          const keyOf = (o: Record<string, unknown>) => {
            const m = (o.metadata ?? {}) as { name?: unknown; namespace?: unknown };
            const group = String(o.apiVersion ?? "")
              .split("/")
              .slice(0, -1)
              .join("/");
            return `${group}|${o.kind}|${m.namespace ?? "default"}|${m.name}`;
          };
          const read = new Set(live.items.map(keyOf));
          for (const r of parsed)
            if (read.has(keyOf(r.value)))
              diags.error({
                code: "duplicate",
                message: `${r.value.kind} ${(r.value.metadata as { name?: string })?.name} is also in context ${live.context}: the dump would hold it twice, and no command reads that`,
                hint: "snapshot the live cluster alone, and see the change with: podnet diff --context … --against FILE",
                origin: r.origin,
                path: ["metadata", "name"],
              });
        }
        printDiagnostics(diags.items);
        if (diags.hasErrors)
          throw new CliExit(
            EXIT_BAD_INPUT,
            "error: the input has errors (above); nothing was written",
            diags.items,
          );
        items = [...items, ...parsed.map((r) => r.value)];
      }
      if (items.length === 0)
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: ${live ? `context ${live.context} holds no object of the kinds podnet reads` : "the input holds no Kubernetes objects"}; nothing was written`,
        );
      const counts = new Map<string, number>();
      for (const o of items) counts.set(String(o.kind), (counts.get(String(o.kind)) ?? 0) + 1);
      const census = [...counts].map(([k, n]) => `${n} ${k}`).join(", ");
      const header: string[] = [];
      let item = (i: number) => items[i];
      if (opts.anonymize) {
        const seed = opts.seed ?? randomBytes(16).toString("hex");
        // One object at a time, as it is written: the renamed cluster is never held whole.
        const { anonymize } = makeAnonymizer(items, seed);
        item = (i) => anonymize(items[i]);
        header.push(
          `podnet snapshot, anonymized (names, label values, DNS names and addresses renamed)${live ? `: Kubernetes ${live.serverVersion}, read ${live.readAt}` : ""}`,
        );
        if (opts.seed === undefined)
          process.stderr.write(
            "note: anonymized with a random seed; give --seed to rename alike across snapshots\n",
          );
      } else {
        if (live)
          header.push(
            `podnet snapshot of context ${live.context} (${live.server}, Kubernetes ${live.serverVersion}), read ${live.readAt}`,
          );
        if (opts.filename.length > 0) header.push(`manifests: ${opts.filename.join(", ")}`);
      }
      header.push(`${items.length} objects: ${census}`, "replay with: podnet COMMAND -f THIS_FILE");
      // A .json file carries no comments: the header goes to standard error instead.
      const json = opts.output?.toLowerCase().endsWith(".json") ?? false;
      if (json) for (const l of header) process.stderr.write(`${l}\n`);
      if (opts.output === undefined || opts.output === "-") {
        writeSnapshot(json ? [] : header, items.length, item, (s) => process.stdout.write(s));
        return;
      }
      // (A path through a file, `x.json/d.yaml`, is no directory: opening it below says why.)
      if (isDirectory(opts.output))
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: -o ${opts.output} is a directory: -o names the file to write, e.g. -o ${join(opts.output, "dump.yaml")}`,
        );
      // Written to a file beside it, then renamed: a failure leaves no half-written dump behind.
      const partial = `${opts.output}.partial-${process.pid}`;
      let fd: number | undefined;
      try {
        fd = openSync(partial, "w");
        const out = fd;
        writeSnapshot(json ? [] : header, items.length, item, (s) => writeSync(out, s));
        closeSync(fd);
        fd = undefined;
        renameSync(partial, opts.output);
      } catch (e) {
        if (fd !== undefined) closeSync(fd);
        try {
          rmSync(partial, { force: true });
        } catch {
          // Nothing was created there (a path through a file, a directory that does not exist).
        }
        const code = (e as NodeJS.ErrnoException).code;
        if (!code) throw e;
        const why: Record<string, string> = {
          ENOENT: `the directory ${dirname(opts.output)} does not exist`,
          ENOTDIR: `a part of ${dirname(opts.output)} is not a directory`,
          EACCES: `permission denied in ${dirname(opts.output)}`,
          EROFS: `${dirname(opts.output)} is on a read-only file system`,
          ENOSPC: "no space left on the device",
        };
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: -o ${opts.output}: cannot write it: ${why[code] ?? `${code} (${(e as Error).message.replaceAll(partial, opts.output)})`}`,
        );
      }
      process.stderr.write(`wrote ${items.length} objects to ${opts.output}\n`);
    });
}

/** Whether `path` is a directory; false when it cannot be read at all (missing, or through a file). */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
