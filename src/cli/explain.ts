/**
 * `podnet explain -f … --from A --to B[:PORT] [--protocol P] [--node NAME] [-o text|json]`
 *
 * Why a connection is allowed or denied by NetworkPolicy: per direction, the policies that select
 * each side and the rule that allowed it or the reason it was denied. For a Service, each endpoint it
 * could pick is explained (the verdict applies to the endpoint and its target port, after kube-proxy's
 * translation). Built on the tracer, so an explanation always agrees with `podnet trace`.
 *
 * Exit status: 0 when every explanation allows the connection, 1 when any is denied (or the name does
 * not resolve), 2 on bad input. JSON has a top-level `allowed`; a name that does not resolve gives
 * `{allowed: false, resolved: false, reason, explanations: []}`. A headless Service's name is
 * explained for each of its addresses, as `trace --all-endpoints` traces each.
 *
 * `--from {ingress-controller}` explains connlist's lines of that name: the destination's ingress
 * verdicts for the cluster's ingress controller, a pod nobody knows in a namespace of its own.
 */
import { Command, Option } from "commander";
import type { ClusterState } from "../core/control/state.ts";
import type { Protocol } from "../core/model/k8s.ts";
import { INGRESS_CONTROLLER_NAME } from "../core/policy/connlist.ts";
import {
  type Explanation,
  explainConnection,
  explainFromIngressController,
  renderExplanations,
} from "../core/sim/explain.ts";
import { Network } from "../core/sim/network.ts";
import { type Destination, resolveDestination } from "../core/sim/targets.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, EXIT_FINDING, loadOrExit } from "./common.ts";
import { noRunningPods, printNote, serviceWithoutPods } from "./empty-answer.ts";
import {
  addEndpointOptions,
  type EndpointOptions,
  resolveEndpointsOrExit,
  UnresolvedName,
} from "./endpoints.ts";

interface ExplainOptions extends EndpointOptions {
  output: "text" | "json";
}

type Explained = {
  dst: Destination;
  service?: string;
  routes?: string[];
  explanations: Explanation[];
  state: ClusterState;
};

export function explainCommand(): Command {
  const cmd = addEndpointOptions(
    new Command("explain").description(
      "why NetworkPolicy allows or denies a connection: the policies that select each side and the deciding rule",
    ),
  )
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      `\nExit status: 0 when the connection is allowed (to every endpoint of a Service), 1 when denied to any,\n2 on bad input.\n\nExamples:\n  podnet explain -f examples/articles --from default/pod1 --to database.default:5432\n  podnet explain -f DIR --from '${INGRESS_CONTROLLER_NAME}' --to web.shop:80   # as connlist's lines of that name`,
    );
  addInputOptions(cmd);
  return cmd.action((opts: ExplainOptions) => {
    let explained: Explained;
    try {
      explained = opts.from === INGRESS_CONTROLLER_NAME ? fromIngressController(opts) : fromSource(opts);
    } catch (e) {
      // A name that does not resolve from the pod: no connection is made, so none is allowed (exit 1).
      if (!(e instanceof UnresolvedName) || opts.output !== "json") throw e;
      process.stderr.write(`${e.message}\n`);
      process.stdout.write(
        `${JSON.stringify({ from: opts.from, to: opts.to, allowed: false, resolved: false, reason: e.reason, explanations: [] }, null, 2)}\n`,
      );
      throw new CliExit(EXIT_FINDING);
    }
    const { dst, service, routes, explanations, state } = explained;
    // No endpoint to judge: say why when it is because no pod runs (silence is never success).
    if (explanations.every((e) => e.endpoint === undefined && e.pod === undefined)) {
      const ns = service?.split("/")[0];
      printNote(service ? serviceWithoutPods(state, service) : noRunningPods(state, ns));
    }
    // Exit 1 when any endpoint is denied, as `trace` exits 1 when the packet does not get there.
    const denied = explanations.some((e) => !e.allowed);
    if (opts.output === "json") {
      process.stdout.write(
        `${JSON.stringify({ from: opts.from, to: dst.label, port: dst.port, protocol: dst.protocol, allowed: !denied, service, ...(routes ? { routes } : {}), explanations }, null, 2)}\n`,
      );
      if (denied) throw new CliExit(EXIT_FINDING);
      return;
    }
    const heading = [`explain ${dst.protocol} ${opts.from} → ${dst.label}:${dst.port}`];
    if (routes)
      heading.push(
        routes.length
          ? `sent there by: ${routes.join(", ")}`
          : "no Ingress or Route sends there (connlist lists no such line)",
      );
    process.stdout.write(renderExplanations(heading.join("\n"), service, explanations));
    if (denied) throw new CliExit(EXIT_FINDING);
  });
}

function fromSource(opts: ExplainOptions): Explained {
  const { net, src, dst } = resolveEndpointsOrExit(opts);
  const req = { source: src, dst: dst.ip, dport: dst.port, protocol: dst.protocol };
  // A headless Service's name stands for each of its pods: each address is explained.
  return { dst, state: net.state, ...explainConnection(net, req, dst.addresses) };
}

function fromIngressController(opts: ExplainOptions): Explained {
  const net = new Network(loadOrExit(opts.filename));
  const protocol = opts.protocol ? (opts.protocol.toUpperCase() as Protocol) : undefined;
  const dst = resolveDestination(net, opts.to, protocol);
  if (!dst.ok) throw new CliExit(EXIT_BAD_INPUT, `error: --to: ${dst.message}`);
  return { dst: dst.value, state: net.state, ...explainFromIngressController(net, dst.value) };
}
