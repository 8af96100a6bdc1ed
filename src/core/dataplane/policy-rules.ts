/**
 * NetworkPolicy (and the admin and baseline tiers) as an nftables ruleset per node, compiled from the
 * reachability engine (../policy/reach.ts), so the kernel enforces exactly what the simulator answers.
 *
 *   table inet podnet-policy
 *     forward (filter + 10)          established/related: accept (after kube-proxy's filter chains in
 *                                    either mode: nftables -110, iptables-nft's filter table 0)
 *                                    from a local pod with egress rules → egress-Q: allowed ports per
 *                                    destination group return, the rest drop (after kube-proxy's DNAT).
 *                                    Not in input: what a pod sends to its own node is always allowed
 *     postrouting (filter, 300)      established/related: accept
 *                                    sent by this node (its addresses as the connection's original
 *                                    source, before any masquerade), or a pod reaching itself through a
 *                                    Service: accept, as Kubernetes always allows these
 *                                    to a local pod with ingress rules → ingress-P: allowed ports per
 *                                    source group accept, the rest drop (after masquerade: the source
 *                                    the packet carries when it arrives)
 *
 * Peers are grouped by the atoms the profile allows them: pods by their addresses, everything else by
 * the outside ranges the policies' CIDRs cut (host-network pods are their node's address, so they
 * fall in a range). A pod address is matched before the ranges, which may contain it.
 */
import type { ClusterState, NodeState } from "../control/state.ts";
import { nodeAddresses, podsOnNode } from "../graph/devices.ts";
import { formatIPv4 } from "../net/ipv4.ts";
import { type ChainSpec, renderReplacing } from "../nft/render.ts";
import type { Bits } from "../policy/bitset.ts";
import { CONN_PROTOCOLS, outsideRanges } from "../policy/connlist.ts";
import { PolicyEngine } from "../policy/netpol.ts";
import { Reachability } from "../policy/reach.ts";

export const POLICY_TABLE = "podnet-policy";

/** What every node's ruleset is rendered from: the engine over pods and outside ranges. */
export interface PolicyCompilation {
  reach: Reachability;
  /** Non-host pod classes and their pods' addresses. */
  podAddresses: Map<number, string[]>;
  ingressRanges: { text: string; cls: number }[];
  egressRanges: { text: string; cls: number }[];
}

export function compilePolicies(state: ClusterState): PolicyCompilation {
  const engine = new PolicyEngine(state);
  const ingress = outsideRanges(state, engine, "ingress");
  const egress = outsideRanges(state, engine, "egress");
  const reach = new Reachability(state, { engine, addresses: [...ingress, ...egress].map((r) => r.first) });
  const podAddresses = new Map<number, string[]>();
  reach.pods.forEach((pod, i) => {
    if (pod.spec.hostNetwork) return;
    const c = reach.classOf[i];
    (podAddresses.get(c) ?? podAddresses.set(c, []).get(c)!).push(pod.status!.podIP!);
  });
  const text = (r: { first: number; last: number }) =>
    r.first === r.last ? formatIPv4(r.first) : `${formatIPv4(r.first)}-${formatIPv4(r.last)}`;
  return {
    reach,
    podAddresses,
    ingressRanges: ingress.map((r, k) => ({ text: text(r), cls: reach.addressClass[k] })),
    egressRanges: egress.map((r, k) => ({ text: text(r), cls: reach.addressClass[ingress.length + k] })),
  };
}

/** The node's policy ruleset (`nft -f` input, built as ../nft/render.ts objects); it replaces any earlier one. */
export function renderPolicyRules(c: PolicyCompilation, state: ClusterState, node: NodeState): string {
  const { reach } = c;
  const local = podsOnNode(state, node);
  const classOfPod = new Map(reach.pods.map((p, i) => [p, reach.classOf[i]]));
  const egressJumps: string[] = [];
  const ingressJumps: string[] = [];
  const chains: ChainSpec[] = [];
  const used = { ingress: new Set<number>(), egress: new Set<number>() };
  for (const pod of local) {
    const cls = classOfPod.get(pod);
    if (cls === undefined) continue;
    const ip = pod.status!.podIP!;
    const q = reach.outProfile[cls];
    if (!reach.egress[q].open) {
      egressJumps.push(`ip saddr ${ip} jump egress-${q}`);
      used.egress.add(q);
    }
    const p = reach.inProfile[cls];
    if (!reach.ingress[p].open) {
      ingressJumps.push(
        `ip daddr ${ip} ct original ip saddr ${ip} accept`,
        `ip daddr ${ip} jump ingress-${p}`,
      );
      used.ingress.add(p);
    }
  }
  const allPods = [...c.podAddresses.values()].flat();
  for (const direction of ["egress", "ingress"] as const) {
    const field = direction === "ingress" ? "saddr" : "daddr";
    const verdict = direction === "ingress" ? "accept" : "return";
    for (const profile of used[direction]) {
      const name = `${direction}-${profile}`;
      const pods = groups(
        [...c.podAddresses].map(([cls, ips]) => ({
          mask: reach.admitted(direction, profile, cls),
          items: ips,
        })),
      );
      const outside = groups(
        (direction === "ingress" ? c.ingressRanges : c.egressRanges).map((r) => ({
          mask: reach.admitted(direction, profile, r.cls),
          items: [r.text],
        })),
      );
      const rules = (list: Group[]) =>
        list.flatMap((g) =>
          portMatches(reach, g.mask).map((m) => `ip ${field} ${set(g.items)}${m} ${verdict}`),
        );
      chains.push(
        {
          name,
          rules: [
            ...(allPods.length ? [`ip ${field} ${set(allPods)} goto ${name}-pods`] : []),
            `goto ${name}-outside`,
          ],
        },
        { name: `${name}-pods`, rules: [...rules(pods), "drop"] },
        { name: `${name}-outside`, rules: [...rules(outside), "drop"] },
      );
    }
  }
  const base = (hook: "forward" | "postrouting", priority: string, jumps: string[]): ChainSpec => ({
    name: hook,
    base: { type: "filter", hook, priority, policy: "accept" },
    rules: ["ct state established,related accept", ...jumps],
  });
  const fromNode = ingressJumps.length
    ? [`ct original ip saddr ${set(nodeAddresses(state, node).map(formatIPv4))} accept`]
    : [];
  return renderReplacing(
    {
      family: "inet",
      name: POLICY_TABLE,
      sets: [],
      chains: [
        base("forward", "filter + 10", egressJumps),
        base("postrouting", "300", [...fromNode, ...ingressJumps]),
        ...chains,
      ],
    },
    "compact",
  );
}

interface Group {
  mask: Bits;
  items: string[];
}

/** Peers with the same allowed atoms, together (those allowed nothing left out: the chain drops them). */
function groups(list: Group[]): Group[] {
  const byMask = new Map<string, Group>();
  for (const g of list) {
    if (g.mask.every((w) => w === 0)) continue;
    const key = g.mask.join(",");
    const hit = byMask.get(key);
    if (hit) hit.items.push(...g.items);
    else byMask.set(key, { mask: g.mask, items: [...g.items] });
  }
  return [...byMask.values()];
}

function set(items: string[]): string {
  return items.length === 1 ? items[0] : `{ ${items.join(", ")} }`;
}

/** The match expressions for an atom set: nothing (every port of every protocol) or one per protocol. */
function portMatches(reach: Reachability, mask: Bits): string[] {
  const byProtocol = reach.portRanges(mask);
  const whole = (ranges: [number, number][] | undefined) =>
    ranges?.length === 1 && ranges[0][0] === 1 && ranges[0][1] === 65535;
  if (CONN_PROTOCOLS.every((p) => whole(byProtocol.get(p)))) return [""];
  return [...byProtocol].map(([protocol, ranges]) => {
    const proto = ` meta l4proto ${protocol.toLowerCase()}`;
    if (whole(ranges)) return proto;
    return `${proto} th dport ${set(ranges.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)))}`;
  });
}
