/**
 * `podnet rules -f … --node NAME`: the rules kube-proxy installs on a node — for `proxyMode: nftables`
 * its nftables ruleset as `nft -f` input (src/core/proxy/nftables.ts), for `iptables` its
 * `iptables-save` text (src/core/proxy/iptables.ts).
 */
import { Command } from "commander";
import { renderIptables } from "../core/proxy/iptables.ts";
import { renderNftables } from "../core/proxy/nftables.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, type InputOptions, loadOrExit } from "./common.ts";

export function rulesCommand(): Command {
  const cmd = new Command("rules")
    .description(
      "the rules kube-proxy installs on a node: nftables ruleset (nft -f input) or iptables-save text, per proxyMode",
    )
    .option("--node <name>", "the node (default: the first node)");
  addInputOptions(cmd);
  return cmd.action((opts: InputOptions & { node?: string }) => {
    const state = loadOrExit(opts.filename);
    const node = opts.node ? state.nodes.find((n) => n.name === opts.node) : state.nodes[0];
    if (!node)
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: node "${opts.node}" not found; nodes: ${state.nodes.map((n) => n.name).join(", ")}`,
      );
    process.stdout.write(
      state.config.proxyMode === "iptables" ? renderIptables(state, node) : renderNftables(state, node),
    );
  });
}
