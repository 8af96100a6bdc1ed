/**
 * Pod-by-pod reachability under network policy (AdminNetworkPolicy, NetworkPolicy and
 * BaselineAdminNetworkPolicy tiers), computed on equivalence classes.
 *
 *   pods ──(namespace, labels, host network, named ports, CIDR memberships)──► classes
 *   ports ──(every boundary a policy draws: numbers, ranges, resolved names)──► atoms per protocol
 *   class × class × atom: one PolicyEngine check on representatives ──► class matrix ──► pod matrix
 *
 * Two pods of one class are indistinguishable to every policy, as source and as destination, and every
 * port of one atom is treated alike by every rule; so checking one representative pair per class pair
 * and one port per atom gives the exact pod-by-pod answer. A cell without `port` is true when some
 * port of the protocol is allowed. A pod reaches itself (loopback) regardless of policy.
 */
import type { ClusterState } from "../control/state.ts";
import type { Pod, Protocol } from "../model/k8s.ts";
import { parseIPv4 } from "../net/ipv4.ts";
import { inBlock, PolicyEngine, type PolicyPeer } from "./netpol.ts";

export interface Matrix {
  protocol: Protocol;
  port?: number;
  /** `ns/name`, sorted by namespace then name. */
  pods: string[];
  /** rows = from, columns = to. */
  allowed(from: number, to: number): boolean;
  classes: number;
  atoms: number;
  checks: number;
}

export function computeMatrix(
  state: ClusterState,
  opts: { protocol: Protocol; port?: number; namespace?: string },
): Matrix {
  const engine = new PolicyEngine(state);
  const { blocks, bounds, named } = engine.features();
  const pods = state.pods
    .filter(
      (p) =>
        p.status?.podIP &&
        p.status.phase !== "Succeeded" &&
        p.status.phase !== "Failed" &&
        (!opts.namespace || p.metadata.namespace === opts.namespace),
    )
    .sort(
      (a, b) =>
        a.metadata.namespace!.localeCompare(b.metadata.namespace!) ||
        a.metadata.name.localeCompare(b.metadata.name),
    );

  // Equivalence classes.
  const classOf = new Int32Array(pods.length);
  const reps: Pod[] = [];
  const keys = new Map<string, number>();
  pods.forEach((p, i) => {
    const ip = parseIPv4(p.status!.podIP!) ?? 0;
    const ports = named
      ? p.spec.containers
          .flatMap((c) =>
            (c.ports ?? [])
              .filter((x) => x.name)
              .map((x) => `${x.name}/${x.protocol ?? "TCP"}/${x.containerPort}`),
          )
          .sort()
          .join(",")
      : "";
    const key = [
      p.metadata.namespace,
      JSON.stringify(Object.entries(p.metadata.labels ?? {}).sort()),
      p.spec.hostNetwork ? "host" : "",
      ports,
      blocks.map((b) => (inBlock(ip, b) ? "1" : "0")).join(""),
      p.spec.hostNetwork ? p.status!.podIP : "",
    ].join("|");
    let c = keys.get(key);
    if (c === undefined) {
      c = reps.length;
      keys.set(key, c);
      reps.push(p);
    }
    classOf[i] = c;
  });

  // Port atoms: the first port of every interval between boundaries (plus named ports' numbers).
  let probes: number[];
  if (opts.port !== undefined) probes = [opts.port];
  else {
    const set = new Set(bounds.get(opts.protocol));
    if (named)
      for (const p of reps)
        for (const c of p.spec.containers)
          for (const x of c.ports ?? [])
            if (x.name && (x.protocol ?? "TCP") === opts.protocol) {
              set.add(x.containerPort);
              set.add(x.containerPort + 1);
            }
    probes = [...set].filter((x) => x >= 1 && x <= 65535).sort((a, b) => a - b);
  }

  const peerOf = (p: Pod): PolicyPeer =>
    p.spec.hostNetwork
      ? { kind: "address", ip: parseIPv4(p.status!.podIP!)! }
      : { kind: "pod", pod: p, ip: parseIPv4(p.status!.podIP!)! };
  const n = reps.length;
  const cls = new Uint8Array(n * n);
  let checks = 0;
  for (let a = 0; a < n; a++) {
    const src = peerOf(reps[a]);
    for (let b = 0; b < n; b++) {
      const dst = peerOf(reps[b]);
      for (const port of probes) {
        checks++;
        if (engine.check(src, dst, port, opts.protocol).allowed) {
          cls[a * n + b] = 1;
          break;
        }
      }
    }
  }
  return {
    protocol: opts.protocol,
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    pods: pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    allowed: (from, to) => from === to || cls[classOf[from] * n + classOf[to]] === 1,
    classes: n,
    atoms: probes.length,
    checks,
  };
}
