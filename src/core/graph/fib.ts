/**
 * The formal Kubernetes networking model of the fourth reference article: every container and node
 * daemon is a process, every pod and node a switch; links container–pod, daemon–node, pod–node and
 * node–node; and forwarding tables (FIBs) of exactly the article's shapes:
 *
 *   FIB[pod P]   [* * 127.0.0.1 p Deliver(C)]   for each container C of P with open port p
 *                [* * a         p Deliver(C)]   a = P's address
 *                [* * *         * Forward(N)]   N = P's node
 *   FIB[node N]  [* * a * Forward(P)]           for each pod P on N, a = P's address
 *                [* * a * Forward(N2)]          for each pod P on another node N2
 *
 * Host-network pods are the node's daemons: their containers are linked to the node switch, and the
 * node's FIB delivers their open ports on each of the node's addresses ([* * nodeIP p Deliver(C)] per address).
 * Tables are computed on demand for one switch; a node's table is a stream over the pods.
 */
import type { ClusterState, NodeState } from "../control/state.ts";
import type { Pod } from "../model/k8s.ts";
import { formatIPv4 } from "../net/ipv4.ts";

export interface FibEntry {
  src: string;
  srcPort: string;
  dst: string;
  dstPort: string;
  action: string;
}

function containerPorts(pod: Pod): { container: string; port: number; protocol: string }[] {
  return pod.spec.containers.flatMap((c) =>
    (c.ports ?? []).map((p) => ({ container: c.name, port: p.containerPort, protocol: p.protocol ?? "TCP" })),
  );
}

const isRunning = (p: Pod) =>
  !!p.status?.podIP && p.status.phase !== "Succeeded" && p.status.phase !== "Failed";

/** The FIB of a pod switch. */
export function podFib(pod: Pod): FibEntry[] {
  const ns = pod.metadata.namespace;
  const out: FibEntry[] = [];
  const ports = containerPorts(pod);
  for (const p of ports)
    out.push({
      src: "*",
      srcPort: "*",
      dst: "127.0.0.1",
      dstPort: `${p.port}/${p.protocol}`,
      action: `Deliver(${ns}/${pod.metadata.name}/${p.container})`,
    });
  for (const p of ports)
    out.push({
      src: "*",
      srcPort: "*",
      dst: pod.status!.podIP!,
      dstPort: `${p.port}/${p.protocol}`,
      action: `Deliver(${ns}/${pod.metadata.name}/${p.container})`,
    });
  out.push({ src: "*", srcPort: "*", dst: "*", dstPort: "*", action: `Forward(${pod.spec.nodeName})` });
  return out;
}

/** The FIB of a node switch, streamed (one entry per running pod of the cluster). */
export function* nodeFib(state: ClusterState, node: NodeState): Generator<FibEntry> {
  // A host-network listener is bound to every address of the node (INADDR_ANY).
  const nodeIPs = node.ips.map(formatIPv4);
  for (const pod of state.pods) {
    if (!pod.spec.hostNetwork || pod.spec.nodeName !== node.name || !isRunning(pod)) continue;
    for (const p of containerPorts(pod)) {
      for (const dst of nodeIPs)
        yield {
          src: "*",
          srcPort: "*",
          dst,
          dstPort: `${p.port}/${p.protocol}`,
          action: `Deliver(${pod.metadata.namespace}/${pod.metadata.name}/${p.container})`,
        };
    }
  }
  for (const pod of state.pods) {
    if (pod.spec.hostNetwork || !isRunning(pod) || !pod.spec.nodeName) continue;
    const action =
      pod.spec.nodeName === node.name
        ? `Forward(${pod.metadata.namespace}/${pod.metadata.name})`
        : `Forward(${pod.spec.nodeName})`;
    yield { src: "*", srcPort: "*", dst: pod.status!.podIP!, dstPort: "*", action };
  }
}

/** The graph's links that touch one switch. */
export function podLinks(pod: Pod): string[] {
  const me = `${pod.metadata.namespace}/${pod.metadata.name}`;
  return [
    ...pod.spec.containers.map((c) => `link(${me}/${c.name}, ${me})`),
    `link(${me}, ${pod.spec.nodeName})`,
  ];
}

export function nodeLinks(state: ClusterState, node: NodeState): string[] {
  const out: string[] = [];
  for (const p of state.pods) {
    if (p.spec.nodeName !== node.name || !isRunning(p)) continue;
    const me = `${p.metadata.namespace}/${p.metadata.name}`;
    if (p.spec.hostNetwork)
      for (const c of p.spec.containers) out.push(`link(${me}/${c.name}, ${node.name})`);
    else out.push(`link(${me}, ${node.name})`);
  }
  for (const other of state.nodes) if (other !== node) out.push(`link(${node.name}, ${other.name})`);
  return out;
}
