/**
 * What users type for a trace's endpoints, resolved against the cluster:
 *
 *   SRC  ns/pod | node/NAME | IP (a pod's, a node's, or an outside client entering at --node)
 *   DST  ns/pod | node/NAME | name.ns[.svc[.<clusterDomain>]] | IP, each with an optional :PORT
 *        (a number, or a Service or container port name)
 *
 * Problems come back as messages with a fix, for the CLI to print with exit code 2. A pod without an
 * address is named with the reason its status records (the scheduler's message; ../views.ts).
 */
import type { NodeState } from "../control/state.ts";
import type { Pod, Protocol, Service } from "../model/k8s.ts";
import { formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import { noAddressReason } from "../views.ts";
import type { Network } from "./network.ts";
import type { Source } from "./trace.ts";

/** A resolved endpoint, or why not; `option` names the CLI option at fault when it is not the one resolved. */
export type Resolved<T> = { ok: true; value: T } | { ok: false; message: string; option?: string };

const fail = (message: string, option?: string): { ok: false; message: string; option?: string } =>
  option ? { ok: false, message, option } : { ok: false, message };

export function resolveSource(net: Network, text: string, entryNode?: string): Resolved<Source> {
  if (text.startsWith("node/")) {
    const node = net.nodeByName.get(text.slice(5));
    return node ? { ok: true, value: { kind: "node", node } } : fail(unknownNode(net, text.slice(5)));
  }
  if (text.includes("/")) {
    const pod = net.podByName.get(text);
    if (!pod) return fail(unknownPod(net, text));
    if (!pod.status?.podIP || !pod.spec.nodeName)
      return fail(`pod ${text} has no address (${noAddressReason(pod)}); it cannot send`);
    return { ok: true, value: { kind: "pod", pod } };
  }
  const ip = parseIPv4(text);
  if (ip === undefined) return fail(`"${text}" is not a source: write ns/pod, node/NAME or an IPv4 address`);
  const pod = net.podByIP.get(ip);
  if (pod) return { ok: true, value: { kind: "pod", pod } };
  const node = net.nodeByIP.get(ip);
  if (node) return { ok: true, value: { kind: "node", node, ip } };
  const entry = entryNode ? net.nodeByName.get(entryNode) : net.state.nodes[0];
  if (!entry)
    return entryNode
      ? fail(unknownNode(net, entryNode), "--node")
      : fail("the cluster has no node for an outside client to enter");
  return { ok: true, value: { kind: "external", ip, node: entry } };
}

export interface Destination {
  ip: IPv4;
  port: number;
  protocol: Protocol;
  /** What the user named, for headings: `Service shop/web (10.96.0.5)`. */
  label: string;
  /**
   * Every address the name stands for when it is more than one — a headless Service's ready endpoints,
   * as its DNS name answers them (or, for a name a pod resolved, each A record of its answer: set by
   * the caller from ../dns/exchange.ts `resolveDestinationName`); `ip` is the first.
   * `trace --all-endpoints` traces to each.
   */
  addresses?: IPv4[];
}

export function resolveDestination(net: Network, text: string, protocol?: Protocol): Resolved<Destination> {
  const m = /^(.*?)(?::([A-Za-z0-9-]+))?$/.exec(text)!;
  const what = m[1];
  const portText = m[2];
  if (what.startsWith("node/")) {
    const node = net.nodeByName.get(what.slice(5));
    if (!node) return fail(unknownNode(net, what.slice(5)));
    return withPort({
      ip: node.ip,
      label: `node ${node.name} (${formatIPv4(node.ip)})`,
      portText,
      protocol,
      ports: hostPorts(net, node),
    });
  }
  if (what.includes("/")) {
    const pod = net.podByName.get(what);
    if (!pod) return fail(unknownPod(net, what));
    if (!pod.status?.podIP) return fail(`pod ${what} has no address (${noAddressReason(pod)})`);
    return withPort({
      ip: parseIPv4(pod.status.podIP)!,
      label: `pod ${what} (${pod.status.podIP})`,
      portText,
      protocol,
      ports: podPorts(pod),
    });
  }
  const ip = parseIPv4(what);
  if (ip !== undefined) {
    const pod = net.podByIP.get(ip);
    const svc = net.state.services.find((s) => s.spec.clusterIP === what);
    const ports = pod ? podPorts(pod) : svc ? servicePorts(svc) : [];
    return withPort({ ip, label: what, portText, protocol, ports });
  }
  const svc = findService(net, what);
  if (!svc)
    return fail(
      `"${what}" is not a pod (ns/name), a node (node/NAME), a Service (name.namespace) or an IPv4 address`,
    );
  const id = `${svc.metadata.namespace}/${svc.metadata.name}`;
  if (svc.spec.type === "ExternalName")
    return fail(
      `Service ${id} is an ExternalName alias of ${svc.spec.externalName}: it has no address of its own to trace to`,
    );
  if (svc.spec.clusterIP === "None") return headless(net, svc, portText, protocol);
  const vip = parseIPv4(svc.spec.clusterIP ?? "");
  if (vip === undefined) return fail(`Service ${id} has no IPv4 ClusterIP`);
  return withPort({
    ip: vip,
    label: `Service ${id} (${svc.spec.clusterIP})`,
    portText,
    protocol,
    ports: servicePorts(svc),
  });
}

type NamedPort = { name?: string; port: number; protocol: Protocol };

/**
 * A headless Service (clusterIP: None) stands for its ready endpoints' addresses, as its DNS name does
 * (CoreDNS answers one A record per ready endpoint, or every endpoint with publishNotReadyAddresses):
 * the first is traced, `addresses` holds them all. Its ports are the endpoints' (the resolved target
 * ports, by the Service port's name), as its SRV records give them: a client connects to the pod.
 */
function headless(
  net: Network,
  svc: Service,
  portText: string | undefined,
  protocol: Protocol | undefined,
): Resolved<Destination> {
  const id = `${svc.metadata.namespace}/${svc.metadata.name}`;
  const addresses: IPv4[] = [];
  const ports: NamedPort[] = [];
  const all = svc.spec.publishNotReadyAddresses === true;
  for (const slice of net.state.endpointSlices) {
    if (
      slice.metadata.namespace !== svc.metadata.namespace ||
      slice.metadata.labels?.["kubernetes.io/service-name"] !== svc.metadata.name ||
      slice.addressType !== "IPv4"
    )
      continue;
    for (const p of slice.ports ?? [])
      if (
        p.port !== undefined &&
        !ports.some((x) => x.name === p.name && x.protocol === (p.protocol ?? "TCP"))
      )
        ports.push({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? "TCP" });
    for (const ep of slice.endpoints) {
      if (!all && ep.conditions.ready === false) continue;
      for (const a of ep.addresses) {
        const ip = parseIPv4(a);
        if (ip !== undefined && !addresses.includes(ip)) addresses.push(ip);
      }
    }
  }
  if (addresses.length === 0)
    return fail(
      `Service ${id} is headless (clusterIP: None) and has no ready endpoint: its name stands for no address (podnet get endpointslices -n ${svc.metadata.namespace})`,
    );
  const r = withPort({
    ip: addresses[0],
    label: `headless Service ${id} (${formatIPv4(addresses[0])}${addresses.length > 1 ? `, one of ${addresses.length} addresses` : ""})`,
    portText,
    protocol,
    ports,
  });
  if (r.ok && addresses.length > 1) r.value.addresses = addresses;
  return r;
}

function withPort(a: {
  ip: IPv4;
  label: string;
  portText?: string;
  protocol?: Protocol;
  ports: NamedPort[];
}): Resolved<Destination> {
  let port: NamedPort | undefined;
  if (a.portText === undefined) {
    const candidates = a.protocol ? a.ports.filter((p) => p.protocol === a.protocol) : a.ports;
    if (candidates.length !== 1) {
      const list = a.ports.map((p) => `${p.name ? `${p.name}=` : ""}${p.port}/${p.protocol}`).join(", ");
      return fail(`${a.label}: give a port (DST:PORT)${list ? `; it has ${list}` : ""}`);
    }
    port = candidates[0];
  } else if (/^\d+$/.test(a.portText)) {
    const n = Number(a.portText);
    if (n < 1 || n > 65535) return fail(`port ${n} is out of range (1-65535)`);
    const declared = a.ports.filter((p) => p.port === n);
    const proto =
      a.protocol ??
      (declared.length > 0 && !declared.some((p) => p.protocol === "TCP") ? declared[0].protocol : "TCP");
    port = { port: n, protocol: proto };
  } else {
    port = a.ports.find((p) => p.name === a.portText && (!a.protocol || p.protocol === a.protocol));
    if (!port) {
      const named = a.ports.filter((p) => p.name).map((p) => `${p.name}=${p.port}/${p.protocol}`);
      return fail(
        `${a.label} has no port named "${a.portText}"${named.length ? `; its named ports: ${named.join(", ")}` : "; it names no port: give a number"}`,
      );
    }
  }
  return {
    ok: true,
    value: { ip: a.ip, port: port.port, protocol: a.protocol ?? port.protocol, label: a.label },
  };
}

function podPorts(pod: Pod): NamedPort[] {
  return pod.spec.containers.flatMap((c) =>
    (c.ports ?? []).map((p) => ({ name: p.name, port: p.containerPort, protocol: p.protocol ?? "TCP" })),
  );
}

function servicePorts(svc: Service): NamedPort[] {
  return (svc.spec.ports ?? []).map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? "TCP" }));
}

function hostPorts(net: Network, node: NodeState): NamedPort[] {
  return net.state.pods.filter((p) => p.spec.hostNetwork && p.spec.nodeName === node.name).flatMap(podPorts);
}

/** `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local` (trailing dot allowed). */
function findService(net: Network, text: string): Service | undefined {
  const domain = net.state.config.clusterDomain;
  const parts = text
    .replace(/\.$/, "")
    .replace(new RegExp(`\\.svc\\.${domain.replace(/\./g, "\\.")}$`), "")
    .replace(/\.svc$/, "")
    .split(".");
  if (parts.length !== 2) return undefined;
  const [name, ns] = parts;
  return net.state.services.find((s) => s.metadata.name === name && s.metadata.namespace === ns);
}

function unknownPod(net: Network, text: string): string {
  const [ns, name] = text.split("/", 2);
  const near = [...net.podByName.keys()]
    .filter((k) => k.startsWith(`${ns}/`) && (k.includes(name) || name.includes(k.split("/")[1])))
    .slice(0, 3);
  return `pod ${text} not found${near.length ? `; did you mean ${near.join(", ")}?` : " (podnet get pods lists them)"}`;
}

function unknownNode(net: Network, name: string): string {
  return `node "${name}" not found; nodes: ${net.state.nodes
    .map((n) => n.name)
    .slice(0, 8)
    .join(", ")}${net.state.nodes.length > 8 ? ", …" : ""}`;
}
