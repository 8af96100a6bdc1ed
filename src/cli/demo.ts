/**
 * `podnet demo [-f …]`: a short tour of a resolved cluster — the address plan, the nodes and their
 * podCIDRs, every pod with its IP, every Service with its virtual IPs and endpoints. With no `-f` it
 * runs on the bundled example of the reference articles.
 */
import { join, relative } from "node:path";
import { Command } from "commander";
import type { ClusterState } from "../core/control/state.ts";
import { clusterDnsService, resolve } from "../core/dns/resolv.ts";
import { ClusterZone } from "../core/dns/zone.ts";
import { compileSelector } from "../core/labels.ts";
import type { LabelSelector, Pod, Protocol } from "../core/model/k8s.ts";
import { formatIPv4, parseIPv4 } from "../core/net/ipv4.ts";
import { explainConnection, renderExplanations } from "../core/sim/explain.ts";
import { Network } from "../core/sim/network.ts";
import { type Source, trace } from "../core/sim/trace.ts";
import { podsPerNode, readyEndpointAddresses, slicesByService } from "../core/views.ts";
import { addInputOptions, type InputOptions, loadOrExit, packageRoot } from "./common.ts";
import { externalIPs, servicePorts } from "./render/resources.ts";
import { renderTable } from "./render/table.ts";
import { renderTrace } from "./trace.ts";

export function demoCommand(): Command {
  const cmd = new Command("demo").description(
    "a guided tour of a cluster's network (default: the bundled example of the reference articles)",
  );
  addInputOptions(cmd, { filenameRequired: false });
  return cmd.action((opts: InputOptions) => {
    const files = opts.filename.length > 0 ? opts.filename : [join(packageRoot(), "examples", "articles")];
    const state = loadOrExit(files);
    const shown = files.map((f) => (f === "-" ? "<stdin>" : relative(process.cwd(), f) || ".")).join(", ");
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
  const section = (title: string, why: string) => out.push("", title, `  ${why}`, "");
  const indent = (s: string) => s.replace(/^/gm, "  ");

  out.push(`podnet demo: cluster "${c.name}" from ${opts.source}`);
  section("1. The address plan", "Pods, Services and nodes draw their addresses from three disjoint ranges.");
  out.push(
    indent(
      renderTable(
        [
          ["pod network (clusterCIDR)", c.clusterCIDR.toString(), `a /${c.nodeCIDRMaskSize} per node`],
          [
            "Service network (serviceCIDR)",
            c.serviceCIDR.toString(),
            `cluster DNS at ${formatIPv4(c.dnsServiceIP)}`,
          ],
          ["node network", c.nodeNetwork.toString(), `CNI ${c.cni}, kube-proxy ${c.proxyMode} mode`],
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
  section(
    "2. Nodes",
    "Each node owns a slice of the pod network (its podCIDR). Its bridge cni0 holds the slice's first address, the gateway of its pods.",
  );
  out.push(
    indent(
      renderTable(
        state.nodes,
        [
          { header: "NODE", value: (n) => n.name },
          { header: "NODE-IP", value: (n) => formatIPv4(n.ip) },
          { header: "PODCIDR", value: (n) => n.podCIDR.toString() },
          { header: "GATEWAY (cni0)", value: (n) => formatIPv4(n.podCIDR.nth(1)) },
          { header: "PODS", value: (n) => String(podsOn.get(n.name) ?? 0) },
        ],
        { wide: false },
      ),
    ),
  );

  const pods = inNs(state.pods);
  section(
    "3. Pods",
    "Every pod gets its own IP from its node's podCIDR; its containers share it and reach each other on localhost. hostNetwork pods use the node's IP.",
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
              const ports = p.spec.containers.flatMap((ct) =>
                (ct.ports ?? []).map((cp) => `${cp.containerPort}/${cp.protocol ?? "TCP"}`),
              );
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
    "4. Services",
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
      "5. NetworkPolicies",
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
  const walks = walkThroughs(state);
  if (walks.length > 0) {
    section(
      "6. Following packets",
      "The articles' walk-throughs, traced hop by hop (podnet trace does this for any packet).",
    );
    for (const w of walks) out.push(w);
  }
  const why = policyExamples(state);
  if (why.length > 0) {
    section(
      "7. Who may talk to whom",
      "NetworkPolicy at work: each verdict with the policies that select each side and the deciding rule (podnet explain).",
    );
    for (const w of why) out.push(w);
  }
  section(
    "8. Names",
    "Pods reach Services by name: their resolver walks the search list kubelet wrote, asking the cluster DNS (podnet resolve).",
  );
  out.push(...names(state));
  out.push(
    "Next: podnet get -o wide -f <dir> lists every object with its addresses; podnet trace --from … --to … follows any packet; podnet explain says why.",
    "",
  );
  return `${out.join("\n")}\n`;
}

/**
 * The four walk-throughs of the reference articles, on whatever cluster the demo shows: two pods on
 * one node, two pods on different nodes, a pod to a Service and back, an outside client to a NodePort.
 */
function walkThroughs(state: ClusterState): string[] {
  const net = new Network(state);
  const pods = [...net.podByIP.values()].filter((p) => p.spec.containers.some((c) => c.ports?.length));
  const portOf = (p: Pod) => p.spec.containers.flatMap((c) => c.ports ?? [])[0];
  const out: string[] = [];
  const show = (
    title: string,
    from: Source,
    to: { ip: number; port: number; protocol: Protocol; label: string },
    reply = false,
  ) => {
    const r = trace(net, { source: from, dst: to.ip, dport: to.port, protocol: to.protocol }, { reply });
    out.push(
      renderTrace(`${title}: ${describeSource(from)} → ${to.label}:${to.port}`, r).replace(/^(?=.)/gm, "  "),
    );
  };
  // Prefer what no NetworkPolicy guards: the tracer does not evaluate policies yet (issue #4).
  const guarded = (ns: string | undefined, podName: string | undefined) => {
    const p = podName ? net.podByName.get(podName) : undefined;
    return state.networkPolicies.some(
      (np) =>
        np.metadata.namespace === ns &&
        p &&
        compileSelector(((np.spec as { podSelector?: LabelSelector }).podSelector ?? {}) as LabelSelector)(
          p.metadata.labels,
        ),
    );
  };
  const a =
    pods.find((p) => !guarded(p.metadata.namespace, `${p.metadata.namespace}/${p.metadata.name}`)) ?? pods[0];
  if (!a) return out;
  const podTarget = (p: Pod) => ({
    ip: parseIPv4(p.status!.podIP!)!,
    port: portOf(p).containerPort,
    protocol: portOf(p).protocol ?? "TCP",
    label: `pod ${p.metadata.namespace}/${p.metadata.name}`,
  });
  const sameNode = pods.find((p) => p !== a && p.spec.nodeName === a.spec.nodeName);
  if (sameNode) show("a. Pod to pod on one node", { kind: "pod", pod: a }, podTarget(sameNode));
  const otherNode = pods.find((p) => p.spec.nodeName !== a.spec.nodeName);
  if (otherNode) show("b. Pod to pod across nodes", { kind: "pod", pod: a }, podTarget(otherNode));
  const open = (s: (typeof net.proxy.ports)[number]) =>
    s.endpoints.every((e) => !guarded(s.service.metadata.namespace, e.pod));
  const candidates = net.proxy.ports.filter(
    (s) => s.clusterIP !== undefined && s.endpoints.length > 0 && s.service.metadata.name !== "kubernetes",
  );
  const svc = candidates.find(open) ?? candidates[0];
  if (svc)
    show(
      "c. Pod to Service, and the reply",
      { kind: "pod", pod: a },
      { ip: svc.clusterIP!, port: svc.port.port, protocol: svc.protocol, label: `Service ${svc.name}` },
      true,
    );
  const nodePorts = net.proxy.ports.filter((s) => s.nodePort !== undefined && s.endpoints.length > 0);
  const np = nodePorts.find(open) ?? nodePorts[0];
  const entry = state.nodes[state.nodes.length - 1];
  if (np && entry) {
    const client = parseIPv4("203.0.113.10")!;
    show(
      "d. Outside client to a NodePort",
      { kind: "external", ip: client, node: entry },
      {
        ip: entry.ip,
        port: np.nodePort!,
        protocol: np.protocol,
        label: `node ${entry.name}, NodePort of ${np.name}`,
      },
    );
  }
  return out;
}

/**
 * A guarded Service of the cluster, reached once from a pod its policies let in and once from a pod
 * they keep out (the third article's database policy on the bundled example).
 */
function policyExamples(state: ClusterState): string[] {
  const net = new Network(state);
  const out: string[] = [];
  // A tour, not an analysis: look at a bounded sample so the demo stays instant on any input.
  const pods = [...net.podByIP.values()].slice(0, 40);
  for (const info of net.proxy.ports.slice(0, 50)) {
    if (info.clusterIP === undefined || info.endpoints.length === 0) continue;
    const req = (pod: Pod) => ({
      source: { kind: "pod" as const, pod },
      dst: info.clusterIP!,
      dport: info.port.port,
      protocol: info.protocol,
    });
    const verdicts = pods.map((pod) => ({ pod, e: explainConnection(net, req(pod)) }));
    const denied = verdicts.find((v) =>
      v.e.explanations.every((x) => !x.allowed && x.ingress?.allowed === false),
    );
    const allowed = verdicts.find((v) => v.e.explanations.every((x) => x.allowed && x.ingress?.allowedBy));
    if (!denied || !allowed) continue;
    for (const v of [allowed, denied]) {
      const verdict = v.e.explanations[0].allowed ? "allowed" : "denied";
      const text = renderExplanations(
        `${verdict}: pod ${v.pod.metadata.namespace}/${v.pod.metadata.name} → Service ${info.name}:${info.port.port}`,
        v.e.service,
        v.e.explanations.slice(0, 1),
      );
      out.push(text.replace(/^(?=.)/gm, "  "));
    }
    break;
  }
  return out;
}

/** One pod resolving a Service of its namespace and an outside name, or why pods cannot resolve. */
function names(state: ClusterState): string[] {
  if (!clusterDnsService(state))
    return [
      `  No Service holds the cluster DNS address ${formatIPv4(state.config.dnsServiceIP)}, so pods here cannot resolve names (a real cluster runs CoreDNS as kube-system/kube-dns; examples/shop does). podnet dns -f … would serve the zone.`,
      "",
    ];
  const zone = new ClusterZone(state);
  const svc = state.services.find(
    (s) =>
      s.metadata.namespace !== "default" &&
      s.metadata.namespace !== "kube-system" &&
      s.spec.clusterIP &&
      s.spec.clusterIP !== "None",
  );
  const pod =
    svc &&
    state.pods.find(
      (p) => p.metadata.namespace === svc.metadata.namespace && p.status?.podIP && !p.spec.hostNetwork,
    );
  if (!svc || !pod) return ["  (no pod with a Service in its namespace to show)", ""];
  const from = `${pod.metadata.namespace}/${pod.metadata.name}`;
  const out: string[] = [];
  for (const name of [svc.metadata.name, "api.example.com"]) {
    const r = resolve(state, zone, pod, name);
    const answer = r.result?.answer.answers.map((a) => a.data).join(", ");
    out.push(
      `  ${from} asks for "${name}": ${r.queries.map((q) => `${q.name} ${q.answer.rcode}`).join(" → ")}`,
      `    ${answer ? `→ ${answer} after ${r.queries.length} quer${r.queries.length === 1 ? "y" : "ies"}` : `no address after ${r.queries.length} queries (ndots:5 tries every search domain first)`}`,
    );
  }
  out.push("");
  return out;
}

function describeSource(s: Source): string {
  if (s.kind === "pod") return `pod ${s.pod.metadata.namespace}/${s.pod.metadata.name}`;
  if (s.kind === "node") return `node ${s.node.name}`;
  return `client ${formatIPv4(s.ip)}`;
}
