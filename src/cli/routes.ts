/**
 * `podnet routes -f … --node NAME [--pod ns/name] [-o text|json]`: a node's (or a pod's) interfaces,
 * addresses, routes, neighbours and FDB entries, as `ip addr`, `ip route`, `ip neigh` and `bridge fdb`
 * show them, as the cluster's network plugin builds them; then the plugin's own views of a node (its
 * `nodeViews`). `-o json` prints the same namespace as data (../core/views/devices.ts, which the web
 * UI's topology picture draws), a node's with its pods and the host end of each one's link.
 */
import { Command, Option } from "commander";
import { nodeNamespace, pluginOf, podNamespace, renderNamespace } from "../core/graph/devices.ts";
import { nodeNetworkView, podNetworkView } from "../core/views/devices.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, type InputOptions, loadOrExit } from "./common.ts";

export function routesCommand(): Command {
  const cmd = new Command("routes")
    .description(
      "a node's or pod's interfaces, addresses and routes, as the CNI builds them (ip addr / ip route)",
    )
    .option("--node <name>", "the node (default: the pod's node, or the first node)")
    .option("--pod <ns/name>", "show this pod's network namespace instead of the node's")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"),
    );
  addInputOptions(cmd);
  return cmd.action((opts: InputOptions & { node?: string; pod?: string; output: "text" | "json" }) => {
    const state = loadOrExit(opts.filename);
    const pod = opts.pod
      ? state.pods.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === opts.pod)
      : undefined;
    if (opts.pod && !pod) {
      // As --from does: the pods whose name contains what was written, else how to list them.
      const like = state.pods
        .map((p) => `${p.metadata.namespace}/${p.metadata.name}`)
        .filter((k) => k.includes(opts.pod as string))
        .slice(0, 5);
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: --pod: pod ${opts.pod} not found\n  fix: ${like.length ? `did you mean ${like.join(", ")}?` : "write NAMESPACE/NAME"} (podnet get pods -A lists them)`,
      );
    }
    const nodeName = opts.node ?? pod?.spec.nodeName ?? state.nodes[0]?.name;
    const node = state.nodes.find((n) => n.name === nodeName);
    if (!node)
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: node "${nodeName}" not found; nodes: ${state.nodes.map((n) => n.name).join(", ")}`,
      );
    if (pod) {
      if (pod.spec.nodeName !== node.name)
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: pod ${opts.pod} runs on ${pod.spec.nodeName ?? "no node"}, not ${node.name}`,
        );
      if (pod.spec.hostNetwork)
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: pod ${opts.pod} uses the host network: see podnet routes --node ${node.name}`,
        );
      if (!pod.status?.podIP)
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: pod ${opts.pod} has no address (it is ${pod.status?.phase ?? "Pending"})`,
        );
      if (opts.output === "json") {
        process.stdout.write(`${JSON.stringify(podNetworkView(state, node, pod), null, 2)}\n`);
        return;
      }
      process.stdout.write(
        renderNamespace(podNamespace(state, node, pod), {
          title: `pod ${opts.pod} on node ${node.name} (${state.config.cni})`,
        }),
      );
      return;
    }
    if (opts.output === "json") {
      process.stdout.write(`${JSON.stringify(nodeNetworkView(state, node), null, 2)}\n`);
      return;
    }
    process.stdout.write(
      renderNamespace(nodeNamespace(state, node), {
        title: `node ${node.name}, root network namespace (${state.config.cni})`,
      }),
    );
    // The plugin's own views of the node (Calico: the BGP table), as its tools print them.
    for (const v of pluginOf(state).nodeViews?.(state, node) ?? [])
      process.stdout.write(`\n# ${v.title}\n\n${v.text.endsWith("\n") ? v.text : `${v.text}\n`}`);
  });
}
