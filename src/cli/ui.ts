/**
 * `podnet ui -f … [--against NEW…] [--listen ADDR] [--port N]`: serves the web UI (src/ui/server.ts)
 * on 127.0.0.1 unless `--listen` says otherwise, prints its URL and runs until interrupted. A bad
 * input does not stop it: the page shows the diagnostics, as the CLI prints them.
 */
import { isIP } from "node:net";
import { Command, InvalidArgumentError } from "commander";
import { UiApi } from "../ui/api.ts";
import { startUiServer } from "../ui/server.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT } from "./common.ts";
import { addAgainstOption, inputTitle, loadUiInputs, type UiInputOptions } from "./ui-input.ts";

interface UiOptions extends UiInputOptions {
  listen: string;
  port: string;
}

export function uiCommand(): Command {
  const cmd = new Command("ui")
    .description(
      "serve a local web UI: topology, traces, the policy heatmap, connections, diff, rules and DNS",
    )
    .option(
      "--listen <address>",
      "the address to bind (another machine can reach it unless loopback)",
      "127.0.0.1",
    )
    .option(
      "--port <n>",
      "the port (0: any free one)",
      (v) => {
        if (!/^\d+$/.test(v) || Number(v) > 65535)
          throw new InvalidArgumentError("a port number (0-65535) is expected");
        return v;
      },
      "8080",
    )
    .addHelpText(
      "after",
      "\nRead-only: only GET, answers only to the address it serves (Host header checked).\n\nExamples:\n  podnet ui -f examples/shop\n  podnet ui -f main/ --against branch/ --port 0",
    );
  addAgainstOption(cmd, ", for the diff view");
  addInputOptions(cmd);
  return cmd.action(async (opts: UiOptions) => {
    // An IPv6 address as URLs write it, [::1], is the address ::1.
    const bracketed = /^\[(.*)\]$/.exec(opts.listen);
    if (bracketed && isIP(bracketed[1]) === 6) opts.listen = bracketed[1];
    if (isIP(opts.listen) === 0 && opts.listen !== "localhost")
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: --listen ${opts.listen}: give an IP address (127.0.0.1, 0.0.0.0, ::1)${/:\d+$/.test(opts.listen) ? "; the port goes in --port" : ""}`,
      );
    const { input, against } = loadUiInputs(opts);
    let server: Awaited<ReturnType<typeof startUiServer>>;
    try {
      server = await startUiServer({
        api: new UiApi(input, against),
        title: `podnet: ${inputTitle(opts)}`,
        host: opts.listen,
        port: Number(opts.port),
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // The fix depends on what failed: the address (not this machine's) or the port (taken, privileged).
      const fix =
        code === "EADDRNOTAVAIL"
          ? `${opts.listen} is not an address of this machine: use one it has (127.0.0.1, the default, or 0.0.0.0 for all)`
          : code === "EACCES"
            ? `port ${opts.port} needs privileges: choose one above 1023, or --port 0 for any free one`
            : code === "EINVAL"
              ? `${opts.listen} cannot be bound as given (a link-local IPv6 address needs its interface, as fe80::1%eth0): use 127.0.0.1 or ::1`
              : `choose another --port (0 picks a free one)`;
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: cannot listen on ${opts.listen}:${opts.port}: ${code ?? (e as Error).message}\n  fix: ${fix}`,
      );
    }
    process.stdout.write(`podnet ui: ${server.url}  (Ctrl-C stops it)\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        void server.close().then(resolve);
        setTimeout(resolve, 1000).unref();
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  });
}
