/**
 * `podnet explain -f … --from A --to B[:PORT] [--protocol P] [--node NAME] [-o text|json]`
 *
 * Why a connection is allowed or denied by NetworkPolicy: per direction, the policies that select
 * each side and the rule that allowed it or the reason it was denied. For a Service, each endpoint it
 * could pick is explained (the verdict applies to the endpoint and its target port, after kube-proxy's
 * translation). Built on the tracer, so an explanation always agrees with `podnet trace`.
 *
 * Exit status: 0 when every explanation allows the connection, 1 when any is denied (or the name does
 * not resolve), 2 on bad input. JSON has a top-level `allowed`.
 *
 * `--from {ingress-controller}` explains connlist's lines of that name: when the input runs the
 * controller of an Ingress that sends there (ingress-nginx: ../core/sim/http-routers.ts
 * `realControllerPods`), from that pod, egress and ingress, as connlist lists its own lines; else the
 * destination's ingress verdicts for an unknown controller, a pod nobody knows in a namespace of its own.
 */
import { Command, Option } from "commander";
import { INGRESS_CONTROLLER_NAME } from "../core/policy/connlist.ts";
import { renderExplanations } from "../core/sim/explain.ts";
import { Network } from "../core/sim/network.ts";
import { explainQuestion } from "../core/views/questions.ts";
import { addInputOptions, CliExit, EXIT_BAD_INPUT, EXIT_FINDING, loadOrExit } from "./common.ts";
import { noRunningPods, printNote, serviceWithoutPods } from "./empty-answer.ts";
import { addEndpointOptions, type EndpointOptions, noteDnsUnreachable, UnresolvedName } from "./endpoints.ts";

interface ExplainOptions extends EndpointOptions {
  output: "text" | "json";
}

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
    const net = new Network(loadOrExit(opts.filename));
    // Resolution and explanation come from the core (core/views/questions.ts), which the web UI asks too.
    const x = explainQuestion(net, opts);
    if (!x.ok && x.kind === "bad-input")
      throw new CliExit(EXIT_BAD_INPUT, `error: ${x.option}: ${x.message}`);
    if (!x.ok) {
      // A name that does not resolve from the pod: no connection is made, so none is allowed (exit 1).
      if (x.dnsUnreachable) noteDnsUnreachable(net);
      const e = new UnresolvedName(x.resolution, x.reason);
      if (opts.output !== "json") throw e;
      process.stderr.write(`${e.message}\n`);
      process.stdout.write(`${JSON.stringify(x.answer, null, 2)}\n`);
      throw new CliExit(EXIT_FINDING);
    }
    const { dst, service, routes, controller, explanations } = x;
    // No endpoint to judge: say why when it is because no pod runs (silence is never success).
    if (explanations.every((e) => e.endpoint === undefined && e.pod === undefined)) {
      const ns = service?.split("/")[0];
      printNote(service ? serviceWithoutPods(net.state, service) : noRunningPods(net.state, ns));
    }
    // Exit 1 when any endpoint is denied, as `trace` exits 1 when the packet does not get there.
    if (opts.output === "json") {
      process.stdout.write(`${JSON.stringify(x.answer, null, 2)}\n`);
      if (!x.allowed) throw new CliExit(EXIT_FINDING);
      return;
    }
    const heading = [`explain ${dst.protocol} ${opts.from} → ${dst.label}:${dst.port}`];
    if (routes)
      heading.push(
        routes.length
          ? `sent there by: ${routes.join(", ")}`
          : "no Ingress or Route sends there (connlist lists no such line)",
      );
    if (controller)
      heading.push(
        `the input runs that controller: explained from its pod ${controller} (egress and ingress)`,
      );
    process.stdout.write(renderExplanations(heading.join("\n"), service, explanations));
    if (!x.allowed) throw new CliExit(EXIT_FINDING);
  });
}
