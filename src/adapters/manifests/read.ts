/**
 * Reads manifest sources the way kubectl's `-f` does: files, directories (recursively, `.yaml`,
 * `.yml` and `.json`, in name order) and `-` for standard input. Problems are diagnostics.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Diagnostics } from "../../core/diagnostics.ts";
import type { Source } from "../../core/manifests/parse.ts";

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/**
 * The sources at `paths` (files, directories, `-`). A path that cannot be read is an error naming
 * `flag`, the option that gave it (`-f` unless told: diff's `--against`).
 */
export function readSources(
  paths: readonly string[],
  diags: Diagnostics,
  stdin: () => string = readStdin,
  flag = "-f",
): Source[] {
  const out: Source[] = [];
  for (const p of paths) {
    if (p === "-") {
      out.push({ file: "<stdin>", text: stdin() });
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      diags.error({
        code: "file-not-found",
        message: `cannot read "${p}": ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`,
        hint: `check the path given to ${flag}`,
      });
      continue;
    }
    if (isDir) {
      const files = walk(p);
      if (files.length === 0)
        diags.warn({
          code: "empty-directory",
          message: `directory "${p}" holds no .yaml, .yml or .json file`,
        });
      for (const f of files) readOne(f, out, diags);
    } else readOne(p, out, diags);
  }
  return out;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(full));
    else if (e.isFile() && MANIFEST_FILE.test(e.name)) out.push(full);
  }
  return out;
}

function readOne(file: string, out: Source[], diags: Diagnostics): void {
  try {
    out.push({ file, text: readFileSync(file, "utf8") });
  } catch (e) {
    diags.error({
      code: "file-unreadable",
      message: `cannot read "${file}": ${(e as Error).message}`,
      hint: "check the file's permissions",
    });
  }
}

function readStdin(): string {
  return readFileSync(0, "utf8");
}
