/**
 * `podnet demo [-f …]`: a short tour of a resolved cluster — the address plan, the nodes and their
 * podCIDRs, every pod with its IP, every Service with its virtual IPs and endpoints. With no `-f` it
 * runs on the bundled example of the reference articles.
 */
import { join, relative } from "node:path";
import { Command } from "commander";
import type { ClusterState } from "../core/control/state.ts";
import { formatIPv4 } from "../core/net/ipv4.ts";
import { podsPerNode, readyEndpointAddresses, slicesByService } from "../core/views.ts";
import { addInputOptions, type InputOptions, loadOrExit, packageRoot } from "./common.ts";
import { externalIPs, servicePorts } from "./render/resources.ts";
import { renderTable } from "./render/table.ts";

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
  out.push(
    "",
    "Next: podnet get -o wide -f <dir> lists every object with its assigned addresses; -o yaml shows them as an API server would.",
    "",
  );
  return `${out.join("\n")}\n`;
}
