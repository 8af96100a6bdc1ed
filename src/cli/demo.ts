/**
 * `podnet demo [-f …]`: a short tour of a resolved cluster — the address plan, the nodes and their
 * podCIDRs, every pod with its IP and served ports, every Service with its virtual IPs and endpoints,
 * the NetworkPolicies, the articles' walk-throughs traced, a policy verdict explained, and names. The
 * scenarios are chosen in the core (core/sim/tour.ts); sections are numbered as shown. With no `-f`
 * it runs on the bundled example of the reference articles.
 */
import { join, relative } from "node:path";
import { Command } from "commander";
import type { ClusterState, NodeState } from "../core/control/state.ts";
import { clusterDnsService } from "../core/dns/resolv.ts";
import { pluginOf } from "../core/graph/devices.ts";
import { formatIPv4, parseIPv4 } from "../core/net/ipv4.ts";
import { renderExplanations } from "../core/sim/explain.ts";
import { clusterRouters } from "../core/sim/http-routers.ts";
import { httpTourRequests, httpTrace } from "../core/sim/http-trace.ts";
import { Network } from "../core/sim/network.ts";
import { servedPorts } from "../core/sim/served-ports.ts";
import { planTour, type TourPlan } from "../core/sim/tour.ts";
import { trace } from "../core/sim/trace.ts";
import { podsPerNode, readyEndpointAddresses, slicesByService } from "../core/views.ts";
import { addInputOptions, type InputOptions, liveRead, loadOrExit, packageRoot } from "./common.ts";
import { renderHttpTrace } from "./http-trace.ts";
import { externalIPs, servicePorts } from "./render/resources.ts";
import { renderTable } from "./render/table.ts";
import { renderTrace } from "./trace.ts";

/** The outside client the demo's HTTP requests come from (TEST-NET-3, documentation addresses). */
const OUTSIDE_CLIENT = "203.0.113.7";

export function demoCommand(): Command {
  const cmd = new Command("demo").description(
    "a guided tour of a cluster's network (default: the bundled example of the reference articles)",
  );
  addInputOptions(cmd, { filenameRequired: false });
  return cmd.action((opts: InputOptions) => {
    const files =
      opts.filename.length > 0 || liveRead() ? opts.filename : [join(packageRoot(), "examples", "articles")];
    const state = loadOrExit(files);
    const read = liveRead();
    const shown = [
      ...(read ? [`context ${read.context}`] : []),
      ...files.map((f) => (f === "-" ? "<stdin>" : relative(process.cwd(), f) || ".")),
    ].join(", ");
    process.stdout.write(
      renderDemo(state, { source: shown, namespace: opts.allNamespaces ? undefined : opts.namespace }),
    );
  });
}

export function renderDemo(state: ClusterState, opts: { source: string; namespace?: string }): string {
  const c = state.config;
  const inNs = <T extends { metadata: { namespace?: string } }>(xs: T[]) =>
    opts.namespace ? xs.filter((x) => x.metadata.namespace === opts.namespace) : xs;
  const out: string[] = [];
  // Sections are numbered as they are shown, so that leaving one out leaves no gap.
  let sections = 0;
  const section = (title: string, why: string) => out.push("", `${++sections}. ${title}`, `  ${why}`, "");
  const indent = (s: string) => s.replace(/^/gm, "  ");
  const net = new Network(state);
  const plan = planTour(net, opts.namespace ? { namespace: opts.namespace } : {});
  const served = servedPorts(state);

  out.push(`podnet demo: cluster "${c.name}" from ${opts.source}`);
  section("The address plan", "Pods, Services and nodes draw their addresses from three disjoint ranges.");
  out.push(
    indent(
      renderTable(
        [
          ["pod network (clusterCIDR)", c.clusterCIDR.toString(), pluginOf(state).podNetworkNote(state)],
          [
            "Service network (serviceCIDR)",
            c.serviceCIDR.toString(),
            clusterDnsService(state)
              ? `cluster DNS at ${formatIPv4(c.dnsServiceIP)}`
              : `no Service at the DNS address ${formatIPv4(c.dnsServiceIP)}: no cluster DNS`,
          ],
          nodeNetworkRow(state, `CNI ${c.cni}, kube-proxy ${c.proxyMode} mode`),
          [
            "load balancers",
            c.loadBalancerPool.join(", ") || "<none>",
            "ingress IPs of LoadBalancer Services",
          ],
        ],
        [
          { header: "RANGE", value: (r) => r[0] },
          { header: "CIDR", value: (r) => r[1] },
          { header: "NOTE", value: (r) => r[2] },
        ],
        { wide: false },
      ),
    ),
  );

  const podsOn = podsPerNode(state);
  const plugin = pluginOf(state);
  section(
    "Nodes",
    `The network plugin is ${plugin.name}: ${plugin.summary}. Each node owns blocks of the pod network (POD-BLOCKS); its pods' addresses come from them.`,
  );
  out.push(
    indent(
      renderTable(
        state.nodes,
        [
          { header: "NODE", value: (n) => n.name },
          { header: "NODE-IP", value: (n) => formatIPv4(n.ip) },
          {
            header: "POD-BLOCKS",
            value: (n) => (state.podNetwork.blocks.get(n.name) ?? []).join(",") || "<none>",
          },
          // The plugin's own facts of a node (the bridge plugins: the gateway on cni0).
          ...(state.nodes.length ? plugin.nodeFacts(state, state.nodes[0]) : []).map((f, i) => ({
            header: f.header,
            value: (n: NodeState) => plugin.nodeFacts(state, n)[i]?.value ?? "",
          })),
          { header: "PODS", value: (n) => String(podsOn.get(n.name) ?? 0) },
        ],
        { wide: false },
      ),
    ),
  );

  const pods = inNs(state.pods);
  const viaService = pods.some((p) => served.of(p).some((x) => x.by === "service"));
  section(
    "Pods",
    `Every pod gets its own IP from its node's blocks; its containers share it and reach each other on localhost. hostNetwork pods use the node's IP.${viaService ? " A port marked * is one no container declares but a Service sends to." : ""}`,
  );
  out.push(
    indent(
      renderTable(
        pods,
        [
          { header: "POD", value: (p) => `${p.metadata.namespace}/${p.metadata.name}` },
          { header: "IP", value: (p) => p.status?.podIP ?? "<none>" },
          { header: "NODE", value: (p) => p.spec.nodeName ?? "<pending>" },
          {
            header: "LISTENS ON",
            value: (p) => {
              const ports = served
                .of(p)
                .map((x) => `${x.port}/${x.protocol}${x.by === "service" ? "*" : ""}`);
              return `${ports.join(",") || "-"}${p.spec.hostNetwork ? " (host network)" : ""}`;
            },
          },
        ],
        { wide: false },
      ),
    ),
  );

  const slices = slicesByService(state);
  const services = inNs(state.services);
  section(
    "Services",
    "A Service is a stable virtual IP (and, for NodePort/LoadBalancer, ports on every node and an outside IP) in front of its pods; kube-proxy translates it to one endpoint per connection.",
  );
  out.push(
    indent(
      renderTable(
        services,
        [
          { header: "SERVICE", value: (s) => `${s.metadata.namespace}/${s.metadata.name}` },
          { header: "TYPE", value: (s) => s.spec.type ?? "ClusterIP" },
          { header: "CLUSTER-IP", value: (s) => s.spec.clusterIP || "<none>" },
          { header: "EXTERNAL-IP", value: externalIPs },
          { header: "PORT(S)", value: servicePorts },
          {
            header: "ENDPOINTS",
            value: (s) =>
              readyEndpointAddresses(slices.get(`${s.metadata.namespace}/${s.metadata.name}`) ?? []).join(
                ",",
              ) || "<none>",
          },
        ],
        { wide: false },
      ),
    ),
  );

  const policies = inNs(state.networkPolicies);
  if (policies.length > 0) {
    section(
      "NetworkPolicies",
      "Pods selected by a policy accept (or send) only what some policy allows; all other traffic is open.",
    );
    out.push(
      indent(
        renderTable(
          policies,
          [
            { header: "POLICY", value: (p) => `${p.metadata.namespace}/${p.metadata.name}` },
            {
              header: "TYPES",
              value: (p) => {
                const spec = p.spec as { policyTypes?: string[]; egress?: unknown };
                return (spec.policyTypes ?? (spec.egress ? ["Ingress", "Egress"] : ["Ingress"])).join(",");
              },
            },
          ],
          { wide: false },
        ),
      ),
    );
  }
  if (plan.walks.length > 0) {
    section(
      "Following packets",
      "The articles' walk-throughs, traced hop by hop (podnet trace does this for any packet).",
    );
    plan.walks.forEach((w, i) => {
      const letter = String.fromCharCode(97 + i);
      const r = trace(net, w.request, { reply: w.reply });
      out.push(
        renderTrace(`${letter}. ${w.title}: ${w.from} → ${w.to}:${w.request.dport}`, r).replace(
          /^(?=.)/gm,
          "  ",
        ),
      );
    });
    if (plan.missing.length > 0) out.push(`  Not shown here: ${plan.missing.join("; ")}.`, "");
  }
  // From outside: a request through each kind of controller the input routes with (Ingress, Gateway).
  const tour = httpTourRequests(clusterRouters(state));
  if (tour.length > 0) {
    section(
      "From outside",
      "An HTTP request from the internet: the load balancer's node, the controller pod, its routing rule, the backend pod (podnet trace --to http://…).",
    );
    tour.forEach((t, i) => {
      const letter = String.fromCharCode(97 + i);
      const client = parseIPv4(OUTSIDE_CLIENT)!;
      const r = httpTrace(net, clusterRouters(state), {
        source: { kind: "external", ip: client, node: state.nodes[0] },
        request: t.request,
      });
      const text =
        "error" in r
          ? `${letter}. ${t.title}: ${t.url}: ${r.error}\n`
          : renderHttpTrace(OUTSIDE_CLIENT, t.url, r).replace(/^HTTP /, `${letter}. ${t.title}: HTTP `);
      out.push(text.replace(/^(?=.)/gm, "  "));
    });
  }
  if (plan.policy) {
    section(
      "Who may talk to whom",
      "NetworkPolicy at work: each verdict with the policies that select each side and the deciding rule (podnet explain).",
    );
    for (const x of [plan.policy.allowed, plan.policy.denied]) {
      if (!x) continue;
      const target = x.service ? `Service ${x.service}:${x.dport}` : `pod ${x.to}:${x.dport}`;
      const text = renderExplanations(
        `${x.allowed ? "allowed" : "denied"}: pod ${x.from} → ${target}`,
        x.service,
        [x.explanation],
      );
      out.push(text.replace(/^(?=.)/gm, "  "));
    }
  }
  section(
    "Names",
    "Pods reach Services by name: their resolver walks the search list kubelet wrote, asking the cluster DNS (podnet resolve).",
  );
  out.push(...names(state, plan.names));
  out.push(
    "Next: podnet get -o wide -f <dir> lists every object with its addresses; podnet trace --from … --to … follows any packet; podnet explain says why.",
    "",
  );
  return `${out.join("\n")}\n`;
}

/**
 * One pod resolving a Service of its namespace and an outside name (resolved in the core, on the
 * network: a query that NetworkPolicy keeps from the DNS pods gets no answer), or why pods cannot
 * resolve.
 */
function names(state: ClusterState, choice: TourPlan["names"]): string[] {
  if (!clusterDnsService(state))
    return [
      `  No Service holds the cluster DNS address ${formatIPv4(state.config.dnsServiceIP)}, so pods here cannot resolve names (a real cluster runs CoreDNS as kube-system/kube-dns; examples/shop does). podnet dns -f … would serve the zone.`,
      "",
    ];
  if (!choice) return ["  (no pod with a Service in its namespace to show)", ""];
  const from = `${choice.pod.metadata.namespace}/${choice.pod.metadata.name}`;
  const out: string[] = [];
  const exchange = choice.lookups[0]?.resolution.exchange;
  if (exchange && !exchange.reaches) out.push(`  ${from}'s DNS query does not arrive: ${exchange.why}`);
  else if (exchange?.partial) out.push(`  note: ${exchange.why}`);
  for (const { name, resolution: r } of choice.lookups) {
    const answer = r.result?.answer.answers.map((a) => a.data).join(", ");
    const n = r.queries.length;
    const queries = `${n} quer${n === 1 ? "y" : "ies"}`;
    const why =
      r.exchange && !r.exchange.reaches
        ? "the DNS query does not arrive"
        : "ndots:5 tries every search domain first";
    out.push(
      `  ${from} asks for "${name}": ${r.queries.map((q) => `${q.name} ${q.answer.rcode}`).join(" → ") || r.why}`,
      `    ${answer ? `→ ${answer} after ${queries}` : `no address after ${queries} (${why})`}`,
    );
  }
  out.push("");
  return out;
}

/**
 * The address plan's node row: nodeNetwork when every node's primary address lies in it (podnet
 * allocates from it), else the addresses the nodes were given, since the range does not hold them.
 */
function nodeNetworkRow(state: ClusterState, note: string): [string, string, string] {
  const c = state.config;
  const outside = state.nodes.filter((n) => !c.nodeNetwork.contains(n.ip));
  if (outside.length === 0) return ["node network", c.nodeNetwork.toString(), note];
  const ips = state.nodes.map((n) => formatIPv4(n.ip));
  const shown = ips.length > 4 ? `${ips.slice(0, 3).join(", ")} … (${ips.length} nodes)` : ips.join(", ");
  return [
    "node addresses",
    shown,
    `${note}; as the nodes give them (${outside.length === ips.length ? "none" : `${outside.length} of ${ips.length} not`} in nodeNetwork ${c.nodeNetwork})`,
  ];
}
