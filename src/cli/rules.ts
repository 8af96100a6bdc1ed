/**
 * `podnet rules -f … --node NAME`: the rules kube-proxy installs on a node, as the cluster's proxy mode
 * renders them (src/core/proxy/modes/: nftables — a ruleset as `nft -f` input; iptables —
 * `iptables-save` text).
 */
import { Command } from "commander";
import { proxyMode, proxyModes } from "../core/proxy/modes/registry.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, type InputOptions, loadOrExit } from "./common.ts";

export function rulesCommand(): Command {
  const cmd = new Command("rules")
    .description(
      `the rules kube-proxy installs on a node, per proxyMode: ${proxyModes()
        .map((m) => `${m.name}: ${m.rulesFormat}`)
        .join("; ")}`,
    )
    .option("--node <name>", "the node (default: the first node)");
  addInputOptions(cmd);
  return cmd.action((opts: InputOptions & { node?: string }) => {
    const state = loadOrExit(opts.filename);
    const node = opts.node ? state.nodes.find((n) => n.name === opts.node) : state.nodes[0];
    if (!node)
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: node "${opts.node}" not found; nodes: ${state.nodes.map((n) => n.name).join("; ")}`,
      );
    process.stdout.write(proxyMode(state.config.proxyMode).render(state, node));
  });
}
