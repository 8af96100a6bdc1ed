/**
 * `podnet report -f … -o report.html [--against NEW…]`: the web UI's views in one self-contained HTML
 * file (src/ui/report.ts) — inline script, styles and data, nothing fetched — for CI artifacts, pull
 * requests and sharing. Exit 2 on bad input (the report is still written, showing the diagnostics).
 */
import { writeFileSync } from "node:fs";
import { Command } from "commander";
import { buildReport } from "../ui/report.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT } from "./common.ts";
import { addAgainstOption, loadUiInputs, type UiInputOptions } from "./ui-input.ts";

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
    const { input, against } = loadUiInputs(opts);
    const { html, answers } = await buildReport(input, against, {
      title: `podnet report: ${opts.filename.join(", ")}`,
    });
    if (opts.output === "-") process.stdout.write(html);
    else {
      try {
        writeFileSync(opts.output, html);
      } catch (e) {
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: -o ${opts.output}: ${(e as NodeJS.ErrnoException).code ?? ""} ${(e as Error).message}`,
        );
      }
      process.stderr.write(
        `wrote ${opts.output} (${(html.length / 1024).toFixed(0)} KiB, ${answers} answers)\n`,
      );
    }
    if (!input.state || (against && !against.state)) throw new CliExit(EXIT_BAD_INPUT);
  });
}
