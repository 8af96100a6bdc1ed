/**
 * `podnet rules -f … --node NAME`: the nftables ruleset kube-proxy's nftables mode would install on a
 * node, as `nft -f` input (src/core/proxy/nftables.ts).
 */
import { Command } from "commander";
import { renderNftables } from "../core/proxy/nftables.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, type InputOptions, loadOrExit } from "./common.ts";

export function rulesCommand(): Command {
  const cmd = new Command("rules")
    .description("the nftables ruleset kube-proxy (nftables mode) installs on a node, as `nft -f` input")
    .option("--node <name>", "the node (default: the first node)");
  addInputOptions(cmd);
  return cmd.action((opts: InputOptions & { node?: string }) => {
    const state = loadOrExit(opts.filename);
    if (state.config.proxyMode !== "nftables") {
      throw new CliExit(
        EXIT_BAD_INPUT,
        "error: podnet renders kube-proxy's nftables mode only so far; iptables-save output is not built yet\n  fix: set proxyMode: nftables in the Cluster config to see the nftables ruleset",
      );
    }
    const node = opts.node ? state.nodes.find((n) => n.name === opts.node) : state.nodes[0];
    if (!node)
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: node "${opts.node}" not found; nodes: ${state.nodes.map((n) => n.name).join(", ")}`,
      );
    process.stdout.write(renderNftables(state, node));
  });
}
