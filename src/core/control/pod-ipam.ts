/**
 * host-local IPAM, the pod address assignment of the bridge-based network plugins (../cni/bridge.ts
 * calls it; other plugins bring their own, see ../cni/plugin.ts `assignPodAddresses`). Pod IPs, as
 * the CNI's host-local IPAM hands them out on each node: the podCIDR's first address is
 * the bridge gateway, pods get addresses from the second one up, never the network or broadcast
 * address. Given `status.podIP`s are kept (and reserved first); two running pods never share an IP.
 * hostNetwork pods take their node's IP. Pods in a terminal phase (Succeeded/Failed) hold no address:
 * their IP may already belong to another pod, as in any live cluster.
 *
 * Also fills what the kubelet would report for a running pod: phase, hostIP, Ready conditions.
 */
import type { Diagnostics, Origin } from "../diagnostics.ts";
import type { ClusterConfig } from "../model/config.ts";
import type { Pod } from "../model/k8s.ts";
import { objectRef } from "../model/k8s.ts";
import { formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import type { GroupedWarnings, NodeState } from "./state.ts";

/**
 * The status of a pod a workload controller creates, before the scheduler and the kubelet act on it
 * (`{phase: "Pending"}`, as the API server defaults it): one frozen object shared by every created
 * pod. Every stage that changes a pod's status replaces the object (`setRunning` builds a running
 * pod's whole status in one literal), so 150,000 created pods allocate none and grow none.
 */
export const CREATED_POD_STATUS: NonNullable<Pod["status"]> = Object.freeze({ phase: "Pending" });

export function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

export function assignPodIPs(args: {
  pods: readonly Pod[];
  nodes: readonly NodeState[];
  config: ClusterConfig;
  originOf: (pod: Pod) => Origin | undefined;
  diags: Diagnostics;
  grouped: GroupedWarnings;
}): void {
  const { pods, nodes, config, originOf, diags, grouped } = args;
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));
  const nodeIPs = new Map(nodes.flatMap((n) => n.ips.map((ip) => [ip, n.name] as const)));
  const owner = new Map<IPv4, Pod>();

  // Given addresses first: they are facts of the cluster and must not be handed to anyone else.
  for (const pod of pods) {
    // A created pod has no address yet: its status alone says so (its spec is not read).
    if (pod.status === CREATED_POD_STATUS || isTerminal(pod) || pod.spec.hostNetwork) continue;
    const text = pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip;
    if (text === undefined) continue;
    const ip = parseIPv4(text);
    if (ip === undefined) continue; // an IPv6 pod IP is kept as given and not checked here
    const path = ["status", "podIP"];
    const other = owner.get(ip) ?? undefined;
    const nodeClash = nodeIPs.get(ip);
    if (other || nodeClash) {
      diags.error({
        code: "ip-conflict",
        message: `pod IP ${text} is already the IP of ${other ? objectRef(other) : `Node ${nodeClash}`}`,
        hint: "two running pods cannot share an address: remove or correct one status.podIP",
        object: objectRef(pod),
        origin: originOf(pod),
        path,
      });
      continue;
    }
    owner.set(ip, pod);
    const node = pod.spec.nodeName ? nodeByName.get(pod.spec.nodeName) : undefined;
    if (node && !node.podCIDR.contains(ip)) {
      grouped.add(
        "pod-ip-outside-node-cidr",
        {
          object: objectRef(pod),
          origin: originOf(pod),
          path,
          detail: `${pod.metadata.namespace}/${pod.metadata.name} ${text} on ${node.name} ${node.podCIDR}`,
        },
        (count, first) =>
          `${count} pod${count === 1 ? " has an IP" : "s have IPs"} outside their node's podCIDR (first: ${first}); kept as given`,
        "check the nodes' spec.podCIDR, or the Cluster config's clusterCIDR and nodeCIDRMaskSize",
      );
    }
  }

  // Then host-local allocation, node by node, in pod order.
  const cursor = new Map<string, number>();
  const exhausted = new Map<string, number>();
  for (const pod of pods) {
    if (isTerminal(pod)) continue;
    const node = pod.spec.nodeName ? nodeByName.get(pod.spec.nodeName) : undefined;
    if (!node) continue; // Pending: no node, no address
    if (pod.spec.hostNetwork) {
      setRunning(pod, node, formatIPv4(node.ip));
      continue;
    }
    const given = pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip;
    if (given !== undefined) {
      setRunning(pod, node, given);
      continue;
    }
    const cidr = node.podCIDR;
    let n = cursor.get(node.name) ?? 2;
    while (n < cidr.size - 1 && owner.has(cidr.nth(n))) n++;
    if (n >= cidr.size - 1) {
      exhausted.set(node.name, (exhausted.get(node.name) ?? 0) + 1);
      pod.status = {
        ...pod.status,
        phase: "Pending",
        conditions: [{ type: "Ready", status: "False" }],
      };
      continue;
    }
    // Not recorded in `owner`: the cursor only moves up, so no later pod on this node is offered it,
    // and `owner` stays the (usually empty) set of given addresses the loop above must step over.
    const ip = cidr.nth(n);
    cursor.set(node.name, n + 1);
    setRunning(pod, node, formatIPv4(ip));
  }
  for (const [name, count] of exhausted) {
    const node = nodeByName.get(name)!;
    diags.error({
      code: "pool-exhausted",
      message: `node ${name}'s podCIDR ${node.podCIDR} has ${node.podCIDR.size - 3} pod addresses; ${count} more pod${count === 1 ? "" : "s"} scheduled there got none`,
      hint: `lower nodeCIDRMaskSize in the Cluster config (bigger per-node blocks; now /${config.nodeCIDRMaskSize}), or lower the node's allocatable pods`,
      object: `Node ${name}`,
    });
  }
}

/**
 * The conditions the kubelet reports for a running, ready pod. One frozen list shared by every pod
 * podnet starts: 150,000 pods would otherwise allocate 750,000 identical objects.
 */
const RUNNING_CONDITIONS = Object.freeze(
  ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) =>
    Object.freeze({ type, status: "True" as const }),
  ),
) as unknown as NonNullable<Pod["status"]>["conditions"];

/**
 * A node's primary address as pods report it (`hostIP`), and the frozen one-item `hostIPs` list of
 * it, made once per node and shared by the pods whose input gives neither (no stage writes a pod's
 * status lists): 150,000 pods on 5,000 nodes then format 5,000 addresses, not 150,000.
 */
const HOST_IPS = new WeakMap<NodeState, { hostIP: string; hostIPs: { ip: string }[] }>();

function hostIPsOf(node: NodeState): { hostIP: string; hostIPs: { ip: string }[] } {
  let h = HOST_IPS.get(node);
  if (!h) {
    const hostIP = formatIPv4(node.ip);
    h = { hostIP, hostIPs: Object.freeze([Object.freeze({ ip: hostIP })]) as { ip: string }[] };
    HOST_IPS.set(node, h);
  }
  return h;
}

/**
 * Marks a pod Running on `node` with address `ip` (dotted quad), as the kubelet reports it:
 * `podIP(s)`, `hostIP(s)` (kept when given), phase Running unless the pod has a later phase, and
 * the Ready conditions. Shared by every plugin's IPAM (../cni/plugin.ts `assignPodAddresses`).
 */
export function setRunning(pod: Pod, node: NodeState, ip: string): void {
  if (pod.status === CREATED_POD_STATUS) {
    // A pod podnet made: its whole status in one literal, keys in the order the steps below give
    // them (phase first, as the created status has it), rather than five properties added to it.
    const h = hostIPsOf(node);
    pod.status = {
      phase: "Running",
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: h.hostIP,
      hostIPs: h.hostIPs,
      conditions: RUNNING_CONDITIONS,
    };
    return;
  }
  const status = pod.status ?? {};
  status.podIP = ip;
  status.podIPs ??= [{ ip }];
  if (status.hostIP === undefined) {
    const h = hostIPsOf(node);
    status.hostIP = h.hostIP;
    status.hostIPs ??= h.hostIPs;
  } else status.hostIPs ??= [{ ip: status.hostIP }];
  if (status.phase === undefined || status.phase === "Pending") status.phase = "Running";
  status.conditions ??= RUNNING_CONDITIONS;
  pod.status = status;
}

/** The pod's Ready condition (a running pod without conditions counts as ready). */
export function isPodReady(pod: Pod): boolean {
  if (isTerminal(pod) || !pod.status?.podIP) return false;
  if (pod.status.conditions === RUNNING_CONDITIONS) return true; // what setRunning gives most pods
  const ready = pod.status.conditions?.find((c) => c.type === "Ready");
  return ready ? ready.status === "True" : pod.status.phase === "Running";
}
