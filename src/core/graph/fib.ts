/**
 * The formal Kubernetes networking model of the fourth reference article: every container and node
 * daemon is a process, every pod and node a switch; links container–pod, daemon–node, pod–node and
 * node–node; and forwarding tables (FIBs) of exactly the article's shapes:
 *
 *   FIB[pod P]   [* * 127.0.0.1 p Deliver(C)]   for each port p known to be served in P, by container C
 *                [* * a         p Deliver(C)]   a = P's address
 *                [* * *         * Forward(N)]   N = P's node
 *   FIB[node N]  [* * a * Forward(P)]           for each pod P on N, a = P's address
 *                [* * a * Forward(N2)]          for each pod P on another node N2
 *
 * Which ports are open is the tracer's rule, computed by one piece of code (../sim/served-ports.ts): a
 * port is known to be served when a container declares it (`Deliver(ns/pod/container)`) or a Service's
 * targetPort resolves to the pod (`Deliver(ns/pod)`: which container listens is unknown). A packet for
 * any other port matches only the default entry; the tracer says it `arrived` (containerPort is
 * informational, so whether a process listens is unknown). When two containers declare the same port
 * only the first gets it (one socket per port on the pod's shared localhost; `check` reports the
 * clash), as the tracer delivers it.
 *
 * Host-network pods are the node's daemons: their containers are linked to the node switch, and the
 * node's FIB delivers their served ports on each of the node's addresses ([* * nodeIP p Deliver(C)] per
 * address); two host-network pods serving one port: the first in input order gets it, as in the tracer.
 * Tables are computed on demand for one switch; a node's table is a stream over the pods.
 */
import type { ClusterState, NodeState } from "../control/state.ts";
import type { Pod } from "../model/k8s.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import { type ServedPort, servedPorts } from "../sim/served-ports.ts";

export interface FibEntry {
  src: string;
  srcPort: string;
  dst: string;
  dstPort: string;
  action: string;
}

/**
 * The ports of a pod a FIB delivers: its served ports (../sim/served-ports.ts), the first for each
 * port/protocol (what `ServedPorts.find`, and so the tracer, picks).
 */
function openPorts(state: ClusterState, pod: Pod): ServedPort[] {
  const seen = new Set<string>();
  const out: ServedPort[] = [];
  for (const p of servedPorts(state).of(pod)) {
    const key = `${p.port}/${p.protocol}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}

/** The FIB action delivering a served port: to its container, or to the pod when only a Service targets it. */
function deliver(pod: Pod, p: ServedPort): string {
  const me = `${pod.metadata.namespace}/${pod.metadata.name}`;
  return `Deliver(${p.container ? `${me}/${p.container}` : me})`;
}

const isRunning = (p: Pod) =>
  !!p.status?.podIP && p.status.phase !== "Succeeded" && p.status.phase !== "Failed";

/**
 * The FIB of a pod switch (a pod of `state` with an address of its own, not host-network): its served
 * ports delivered on 127.0.0.1 and on its address, then everything else forwarded to its node.
 */
export function podFib(state: ClusterState, pod: Pod): FibEntry[] {
  const out: FibEntry[] = [];
  const ports = openPorts(state, pod);
  for (const dst of ["127.0.0.1", pod.status!.podIP!])
    for (const p of ports)
      out.push({ src: "*", srcPort: "*", dst, dstPort: `${p.port}/${p.protocol}`, action: deliver(pod, p) });
  out.push({ src: "*", srcPort: "*", dst: "*", dstPort: "*", action: `Forward(${pod.spec.nodeName})` });
  return out;
}

/**
 * The FIB of a node switch, streamed: the served ports of its running host-network pods on each of
 * the node's addresses, then one entry per running pod-network pod of the cluster.
 */
export function* nodeFib(state: ClusterState, node: NodeState): Generator<FibEntry> {
  // A host-network listener is bound to every address of the node (INADDR_ANY).
  const nodeIPs = node.ips.map(formatIPv4);
  const taken = new Set<string>();
  for (const pod of state.pods) {
    if (!pod.spec.hostNetwork || pod.spec.nodeName !== node.name || !isRunning(pod)) continue;
    for (const p of openPorts(state, pod)) {
      const dstPort = `${p.port}/${p.protocol}`;
      if (taken.has(dstPort)) continue;
      taken.add(dstPort);
      for (const dst of nodeIPs) yield { src: "*", srcPort: "*", dst, dstPort, action: deliver(pod, p) };
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

/** The graph's links that touch one pod switch: its containers, and its node. */
export function podLinks(pod: Pod): string[] {
  const me = `${pod.metadata.namespace}/${pod.metadata.name}`;
  return [
    ...pod.spec.containers.map((c) => `link(${me}/${c.name}, ${me})`),
    `link(${me}, ${pod.spec.nodeName})`,
  ];
}

/** The graph's links that touch one node switch: its pods (or host-network daemons), and every other node. */
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
