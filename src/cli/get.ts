/**
 * `podnet get [TYPE[,TYPE…]] [NAME…|TYPE/NAME…] -f … [-n NS|-A] [-o table|wide|json|yaml]`
 *
 * Like `kubectl get`, over the resolved cluster. Two differences, both because podnet reads a whole
 * cluster rather than a kubeconfig context: every namespace is listed unless `-n` narrows it, and with
 * no TYPE it shows `all` (nodes, pods, Services, NetworkPolicies).
 */
import { Command, Option } from "commander";
import { stringify } from "yaml";
import type { ClusterState } from "../core/control/state.ts";
import type { KubeObject } from "../core/model/k8s.ts";
import {
  addInputOptions,
  CliExit,
  EXIT_BAD_INPUT,
  EXIT_FINDING,
  type InputOptions,
  loadOrExit,
} from "./common.ts";
import { ALL_TYPES, findResourceType, RESOURCE_TYPES, type ResourceType } from "./render/resources.ts";
import { renderTable } from "./render/table.ts";

export type OutputFormat = "table" | "wide" | "json" | "yaml";

interface GetOptions extends InputOptions {
  output: OutputFormat;
}

export function getCommand(): Command {
  const cmd = new Command("get")
    .description("list resources of the resolved cluster, as the API server would return them")
    .argument(
      "[resources...]",
      "TYPE[,TYPE...] [NAME...] or TYPE/NAME...; TYPE is one of the names below (default: all)",
    )
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["table", "wide", "json", "yaml"])
        .default("table"),
    )
    .addHelpText(
      "after",
      `\nResource types: ${RESOURCE_TYPES.map((t) => t.name).join(", ")}, all.\n\nExamples:\n  podnet get -f examples/shop\n  podnet get pods,svc -n shop -o wide -f examples/shop\n  podnet get svc/frontend -n shop -o yaml -f examples/shop`,
    );
  addInputOptions(cmd);
  return cmd.action((resources: string[], opts: GetOptions) => {
    const requests = parseRequests(resources);
    const state = loadOrExit(opts.filename);
    // As in kubectl, -A wins over -n.
    const { stdout, stderr, notFound } = runGet(state, requests, {
      output: opts.output,
      namespace: opts.allNamespaces ? undefined : opts.namespace,
    });
    process.stdout.write(stdout);
    process.stderr.write(stderr);
    // kubectl prints what it found, then one NotFound error per missing name, and exits 1.
    if (notFound.length > 0) throw new CliExit(EXIT_FINDING, notFound.join("\n"));
  });
}

interface Request {
  type: ResourceType;
  names: string[];
}

/** `pods,svc web` → two requests with names; `pod/a svc/b` → one name each. */
export function parseRequests(words: readonly string[]): Request[] {
  if (words.length === 0) words = ["all"];
  const out: Request[] = [];
  const typeOf = (w: string): ResourceType[] => {
    if (w.toLowerCase() === "all") return ALL_TYPES.map((n) => findResourceType(n)!);
    const t = findResourceType(w);
    if (!t) {
      throw new CliExit(
        EXIT_BAD_INPUT,
        `error: the server doesn't have a resource type "${w}"\n  fix: use one of ${RESOURCE_TYPES.map((x) => x.name).join(", ")}, all`,
      );
    }
    return [t];
  };
  if (words.some((w) => w.includes("/"))) {
    for (const w of words) {
      const [t, name] = w.split("/", 2);
      if (!name)
        throw new CliExit(
          EXIT_BAD_INPUT,
          `error: "${w}" mixes TYPE/NAME with other forms; write every argument as TYPE/NAME`,
        );
      for (const type of typeOf(t)) out.push({ type, names: [name] });
    }
    return out;
  }
  const [types, ...names] = words;
  for (const t of types.split(",").filter(Boolean)) for (const type of typeOf(t)) out.push({ type, names });
  return out;
}

/**
 * Renders a `get`; pure, so tests and fuzzing can run it on any resolved cluster. `notFound` holds
 * kubectl's `Error from server (NotFound): TYPE "NAME" not found` line for each named object the
 * cluster lacks; the objects that were found are rendered all the same (kubectl exits 1 then).
 */
export function runGet(
  state: ClusterState,
  requests: readonly Request[],
  opts: { output: OutputFormat; namespace?: string },
): { stdout: string; stderr: string; notFound: string[] } {
  const sections: { type: ResourceType; items: KubeObject[] }[] = [];
  const notFound: string[] = [];
  for (const r of requests) {
    let items = r.type.list(state);
    if (opts.namespace && r.type.namespaced)
      items = items.filter((o) => o.metadata.namespace === opts.namespace);
    if (r.names.length > 0) {
      const found = items.filter((o) => r.names.includes(o.metadata.name));
      for (const n of r.names) {
        if (!found.some((o) => o.metadata.name === n)) {
          const where = opts.namespace && r.type.namespaced ? ` in namespace "${opts.namespace}"` : "";
          notFound.push(`Error from server (NotFound): ${r.type.name} "${n}" not found${where}`);
        }
      }
      items = found;
    }
    // kubectl's order: by namespace, then name.
    items = [...items].sort(
      (a, b) =>
        (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
    sections.push({ type: r.type, items });
  }

  const all = sections.flatMap((s) => s.items);
  if (opts.output === "json" || opts.output === "yaml") {
    const single = requests.length === 1 && requests[0].names.length === 1 && all.length === 1;
    const doc = single
      ? all[0]
      : { apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items: all };
    const stdout =
      opts.output === "json"
        ? `${JSON.stringify(doc, null, 2)}\n`
        : stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
    return { stdout, stderr: "", notFound };
  }

  const wide = opts.output === "wide";
  const prefixed = sections.length > 1;
  const blocks: string[] = [];
  for (const { type, items } of sections) {
    if (items.length === 0) continue;
    const columns = type.columns(state);
    if (prefixed) {
      const first = columns[0];
      columns[0] = { ...first, value: (o) => `${type.aliases[0]}/${first.value(o)}` };
    }
    if (type.namespaced && !opts.namespace)
      columns.unshift({ header: "NAMESPACE", value: (o) => o.metadata.namespace ?? "" });
    blocks.push(renderTable(items, columns, { wide }));
  }
  if (blocks.length === 0 && notFound.length > 0) return { stdout: "", stderr: "", notFound };
  if (blocks.length === 0) {
    return {
      notFound,
      stdout: "",
      stderr: opts.namespace
        ? `No resources found in ${opts.namespace} namespace.\n`
        : "No resources found\n",
    };
  }
  return { stdout: `${blocks.join("\n\n")}\n`, stderr: "", notFound };
}
