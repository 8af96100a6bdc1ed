/**
 * `podnet fib -f … (--pod ns/name | --node NAME)`: a switch's forwarding table in the formal model of
 * the fourth reference article (src/core/graph/fib.ts), and the links that touch it.
 */
import { Command } from "commander";
import { type FibEntry, nodeFib, nodeLinks, podFib, podLinks } from "../core/graph/fib.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, type InputOptions, loadOrExit } from "./common.ts";
import { renderTable } from "./render/table.ts";

export function fibCommand(): Command {
  const cmd = new Command("fib")
    .description("the forwarding table (FIB) of a pod or node switch in the formal networking model")
    .option("--pod <ns/name>", "a pod switch")
    .option("--node <name>", "a node switch");
  addInputOptions(cmd);
  return cmd.action((opts: InputOptions & { node?: string; pod?: string }) => {
    if (!opts.pod === !opts.node)
      throw new CliExit(EXIT_BAD_INPUT, "error: give exactly one of --pod ns/name or --node NAME");
    const state = loadOrExit(opts.filename);
    let title: string;
    let entries: Iterable<FibEntry>;
    let links: string[];
    if (opts.pod) {
      const pod = state.pods.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === opts.pod);
      if (!pod) throw new CliExit(EXIT_BAD_INPUT, `error: pod ${opts.pod} not found`);
      if (!pod.status?.podIP || pod.spec.hostNetwork)
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: pod ${opts.pod} is no switch of its own (${pod.spec.hostNetwork ? "host network: its containers are daemons of its node" : "it has no address"})`,
        );
      title = `FIB[${opts.pod}]`;
      entries = podFib(state, pod);
      links = podLinks(pod);
    } else {
      const node = state.nodes.find((n) => n.name === opts.node);
      if (!node) throw new CliExit(EXIT_BAD_INPUT, `error: node "${opts.node}" not found`);
      title = `FIB[${node.name}]`;
      entries = nodeFib(state, node);
      links = nodeLinks(state, node);
    }
    const rows = [...entries];
    process.stdout.write(
      `${title}\n${renderTable(
        rows,
        [
          { header: "SRC", value: (e) => e.src },
          { header: "SPORT", value: (e) => e.srcPort },
          { header: "DST", value: (e) => e.dst },
          { header: "DPORT", value: (e) => e.dstPort },
          { header: "ACTION", value: (e) => e.action },
        ],
        { wide: false },
      )}\n\nlinks:\n${links.map((l) => `  ${l}`).join("\n")}\n`,
    );
  });
}
