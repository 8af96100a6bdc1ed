/**
 * `podnet report -f … -o report.html [--against NEW…]`: the web UI's views in one self-contained HTML
 * file (src/ui/report.ts) — inline script, styles and data, nothing fetched — for CI artifacts, pull
 * requests and sharing. Exit 2 on bad input (the report is still written, showing the diagnostics).
 */
import { accessSync, constants, existsSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Command } from "commander";
import { buildReport } from "../ui/report.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT } from "./common.ts";
import { addAgainstOption, inputTitle, loadUiInputs, type UiInputOptions } from "./ui-input.ts";

interface ReportOptions extends UiInputOptions {
  output: string;
}

export function reportCommand(): Command {
  const cmd = new Command("report")
    .description("write the web UI's views as one self-contained HTML file (inline scripts, styles and data)")
    .requiredOption("-o, --output <file>", "the HTML file to write (- for standard output)")
    .addHelpText(
      "after",
      "\nExamples:\n  podnet report -f examples/shop -o shop.html\n  podnet report -f main/ --against branch/ -o change.html",
    );
  addAgainstOption(cmd, ": adds the diff view");
  addInputOptions(cmd);
  return cmd.action(async (opts: ReportOptions) => {
    // Before the seconds the report takes: a file that cannot be written is said at once.
    if (opts.output !== "-") {
      const problem = outputProblem(opts.output);
      if (problem) throw new CliExit(EXIT_BAD_INPUT, problem);
    }
    const { input, against } = loadUiInputs(opts);
    const { html, answers } = await buildReport(input, against, {
      title: `podnet report: ${inputTitle(opts)}`,
    });
    if (opts.output === "-") process.stdout.write(html);
    else {
      try {
        writeFileSync(opts.output, html);
      } catch (e) {
        throw new CliExit(EXIT_BAD_INPUT, writeProblem(opts.output, e as NodeJS.ErrnoException));
      }
      process.stderr.write(
        `wrote ${opts.output} (${(html.length / 1024).toFixed(0)} KiB, ${answers} answer${answers === 1 ? "" : "s"})\n`,
      );
    }
    if (!input.state || (against && !against.state)) throw new CliExit(EXIT_BAD_INPUT);
  });
}

/** Why `-o FILE` could not be written, and what to do: by the error's code, the message once. */
/**
 * Why `-o FILE` cannot be written, found before the report is built (nothing is created): an empty
 * name, a directory, a directory that is missing or is a file, a link loop, a name too long, no
 * permission. Undefined when it looks writable (the write itself may still fail: `writeProblem`).
 */
function outputProblem(file: string): string | undefined {
  if (file === "")
    return "error: -o: the file name is empty\n  fix: give the report's file name, such as report.html (- writes to standard output)";
  const code = (c: string) => Object.assign(new Error(c), { code: c });
  try {
    const at = statSync(file, { throwIfNoEntry: false });
    if (at?.isDirectory() || file.endsWith("/")) return writeProblem(file, code("EISDIR"));
    const dir = statSync(dirname(file), { throwIfNoEntry: false });
    if (!dir) return writeProblem(file, code("ENOENT"));
    if (!dir.isDirectory()) return writeProblem(file, code("ENOTDIR"));
    accessSync(at ? file : dirname(file), constants.W_OK);
  } catch (e) {
    return writeProblem(file, e as NodeJS.ErrnoException);
  }
  return undefined;
}

function writeProblem(file: string, e: NodeJS.ErrnoException): string {
  const dir = dirname(file);
  const fix: Record<string, string> = {
    ENOENT: existsSync(dir)
      ? `${dir} takes no new files: write elsewhere`
      : `its directory does not exist: create ${dir} first, or write elsewhere`,
    EISDIR: "it is a directory: give a file name in it, such as report.html",
    ENOTDIR: "a part of the path is a file, not a directory: correct the path",
    ELOOP: "the path loops through symbolic links: correct the path",
    ENAMETOOLONG: "the name is too long for the file system: use a shorter one",
    EACCES: "you may not write there: choose a file you can write",
    EPERM: "you may not write there: choose a file you can write",
    EROFS: "the file system is read-only: write elsewhere",
  };
  const what = e.code && Object.hasOwn(fix, e.code) ? fix[e.code] : e.message;
  return `error: -o ${file}: cannot write the report: ${e.code ?? e.message}\n  fix: ${what}`;
}
