/**
 * Every allowed connection, aggregated per workload: the "connlist" view users of connectivity
 * analysers know (`ns/a[Deployment] => ns/b[Deployment] : TCP 8080`).
 *
 *   pods ──► workloads: the owner the input names (a given pod's controller ownerReference), or the
 *            top-level workload podnet expanded it from; bare pods stand alone as `[Pod]`
 *   outside ──► IP ranges: 0.0.0.0/0 cut at every ingress CIDR boundary (sources) and every egress
 *            CIDR boundary (destinations); the addresses of one range are treated alike
 *   workload × workload, range × workload, workload × range ──► the allowed connections per protocol
 *            as port ranges, from the policy engine on one port per atom
 *
 * A workload's connections to itself are not listed. Lines are sorted by source, then destination.
 * Ranges stand for addresses outside the pods: traffic from a pod is always the pod's workload.
 */
import type { ClusterState } from "../control/state.ts";
import type { KubeObject, Pod, Protocol } from "../model/k8s.ts";
import { formatIPv4, type IPv4, parseIPv4 } from "../net/ipv4.ts";
import { PolicyEngine, type PolicyPeer } from "./netpol.ts";

export const CONN_PROTOCOLS: readonly Protocol[] = ["SCTP", "TCP", "UDP"];

export interface Connection {
  src: string;
  dst: string;
  /** `All Connections`, or `TCP 80,8000-8100,UDP 53` (protocols in order SCTP, TCP, UDP). */
  conn: string;
}

interface Endpoint {
  name: string;
  /** The pods of a workload (one is enough for policy: they share labels), or an outside range. */
  pods?: Pod[];
  range?: { first: IPv4; last: IPv4 };
}

/**
 * `ns/name[Kind]` of each pod's workload: for a pod the input gives, its controller as the
 * ownerReference names it (a live dump's pods show their ReplicaSet); for a pod podnet created, the
 * workload the input gave (climbing the ReplicaSets and Jobs podnet created on the way); else `[Pod]`.
 */
export function workloadOf(state: ClusterState): (pod: Pod) => string {
  const byKey = new Map<string, KubeObject>();
  for (const w of state.workloads) byKey.set(`${w.kind}/${w.metadata.namespace}/${w.metadata.name}`, w);
  const controller = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller);
  return (pod) => {
    const ns = pod.metadata.namespace;
    const ref = controller(pod);
    if (!ref) return `${ns}/${pod.metadata.name}[Pod]`;
    let kind = ref.kind;
    let name = ref.name;
    if (state.generated.has(pod)) {
      for (let o = byKey.get(`${kind}/${ns}/${name}`); o && state.generated.has(o); ) {
        const up = controller(o);
        if (!up) break;
        kind = up.kind;
        name = up.name;
        o = byKey.get(`${kind}/${ns}/${name}`);
      }
    }
    return `${ns}/${name}[${kind}]`;
  };
}

/** Where the CIDRs the policies name for one direction cut 0.0.0.0/0 (the first address of each piece). */
export function rangeCuts(
  state: ClusterState,
  direction: "ingress" | "egress",
  engine = new PolicyEngine(state),
): number[] {
  const cuts = new Set<number>([0]);
  for (const b of engine.features().blocks) {
    if (b.direction !== direction) continue;
    const size = 2 ** (32 - b.prefix);
    cuts.add(b.base);
    if (b.base + size - 1 < 0xffffffff) cuts.add(b.base + size);
  }
  return [...cuts].sort((a, b) => a - b);
}

/** The disjoint ranges the cuts (the policies' own, plus any extra) make of 0.0.0.0/0. */
function ranges(
  state: ClusterState,
  engine: PolicyEngine,
  direction: "ingress" | "egress",
  extra: readonly number[] = [],
): { first: number; last: number }[] {
  const sorted = [...new Set([...rangeCuts(state, direction, engine), ...extra])].sort((a, b) => a - b);
  return sorted.map((first, i) => ({ first, last: i + 1 < sorted.length ? sorted[i + 1] - 1 : 0xffffffff }));
}

/** Port boundaries the policies draw, per protocol (plus named ports' numbers, resolved per pod). */
function portAtoms(state: ClusterState, engine: PolicyEngine): Map<Protocol, number[]> {
  const { bounds, named } = engine.features();
  const cuts = new Map<Protocol, Set<number>>(CONN_PROTOCOLS.map((p) => [p, new Set(bounds.get(p))]));
  if (named) {
    for (const pod of state.pods) {
      for (const c of pod.spec.containers) {
        for (const x of c.ports ?? []) {
          if (!x.name) continue;
          const set = cuts.get(x.protocol ?? "TCP")!;
          set.add(x.containerPort);
          if (x.containerPort < 65535) set.add(x.containerPort + 1);
        }
      }
    }
  }
  return new Map([...cuts].map(([p, s]) => [p, [...s].sort((a, b) => a - b)]));
}

/** The connection-set text: `All Connections` or `TCP 80,8000-8100,UDP 53`. */
export function formatConnections(allowed: Map<Protocol, [number, number][]>): string {
  const full = CONN_PROTOCOLS.every((p) => {
    const r = allowed.get(p) ?? [];
    return r.length === 1 && r[0][0] === 1 && r[0][1] === 65535;
  });
  if (full) return "All Connections";
  const parts: string[] = [];
  for (const p of CONN_PROTOCOLS) {
    const r = allowed.get(p) ?? [];
    if (r.length === 0) continue;
    parts.push(`${p} ${r.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)).join(",")}`);
  }
  return parts.join(",");
}

export interface ConnlistOptions {
  /** Extra range starts, so that two clusters' outside ranges line up (used by diff). */
  cuts?: { ingress: readonly number[]; egress: readonly number[] };
}

export function connlist(state: ClusterState, opts: ConnlistOptions = {}): Connection[] {
  const engine = new PolicyEngine(state);
  const owner = workloadOf(state);
  const atoms = portAtoms(state, engine);
  const workloads = new Map<string, Pod[]>();
  for (const pod of state.pods) {
    if (!pod.status?.podIP || pod.status.phase === "Succeeded" || pod.status.phase === "Failed") continue;
    const name = owner(pod);
    const list = workloads.get(name) ?? [];
    list.push(pod);
    workloads.set(name, list);
  }
  const endpoints: Endpoint[] = [...workloads].map(([name, pods]) => ({ name, pods }));
  const rangeName = (r: { first: number; last: number }) =>
    `${formatIPv4(r.first)}-${formatIPv4(r.last)}[External]`;
  const peerOf = (pod: Pod): PolicyPeer =>
    ({
      kind: pod.spec.hostNetwork ? "address" : "pod",
      pod,
      ip: parseIPv4(pod.status!.podIP!)!,
    }) as PolicyPeer;

  /** Allowed port ranges per protocol between two peers, one check per atom. */
  const allowedBetween = (
    from: (port: number, p: Protocol) => boolean,
  ): Map<Protocol, [number, number][]> => {
    const out = new Map<Protocol, [number, number][]>();
    for (const p of CONN_PROTOCOLS) {
      const cuts = atoms.get(p)!;
      const list: [number, number][] = [];
      cuts.forEach((start, i) => {
        const end = i + 1 < cuts.length ? cuts[i + 1] - 1 : 65535;
        if (!from(start, p)) return;
        const last = list.at(-1);
        if (last && last[1] === start - 1) last[1] = end;
        else list.push([start, end]);
      });
      if (list.length) out.set(p, list);
    }
    return out;
  };

  const lines: Connection[] = [];
  const add = (src: string, dst: string, allowed: Map<Protocol, [number, number][]>) => {
    if (allowed.size > 0) lines.push({ src, dst, conn: formatConnections(allowed) });
  };
  for (const a of endpoints) {
    for (const b of endpoints) {
      if (a === b) continue;
      const src = a.pods!.map(peerOf);
      const dst = b.pods!.map(peerOf);
      add(
        a.name,
        b.name,
        allowedBetween((port, p) => src.some((s) => dst.some((d) => engine.check(s, d, port, p).allowed))),
      );
    }
  }
  for (const r of ranges(state, engine, "ingress", opts.cuts?.ingress)) {
    const outside: PolicyPeer = { kind: "address", ip: r.first };
    for (const b of endpoints) {
      const dst = b.pods!.map(peerOf);
      add(
        rangeName(r),
        b.name,
        allowedBetween((port, p) => dst.some((d) => engine.check(outside, d, port, p).allowed)),
      );
    }
  }
  for (const r of ranges(state, engine, "egress", opts.cuts?.egress)) {
    const outside: PolicyPeer = { kind: "address", ip: r.first };
    for (const a of endpoints) {
      const src = a.pods!.map(peerOf);
      add(
        a.name,
        rangeName(r),
        allowedBetween((port, p) => src.some((s) => engine.check(s, outside, port, p).allowed)),
      );
    }
  }
  return lines.sort((x, y) =>
    x.src < y.src ? -1 : x.src > y.src ? 1 : x.dst < y.dst ? -1 : x.dst > y.dst ? 1 : 0,
  );
}
