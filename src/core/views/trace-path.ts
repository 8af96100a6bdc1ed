/**
 * A trace as a path to draw: the places the packet passes (a pod's network namespace, a node's root
 * namespace, the wire between nodes, an outside client) in the order it meets them, and per hop
 * what changed in its header (DNAT, masquerade, encapsulation, decapsulation) — computed from the
 * trace's own hops (../sim/trace.ts), so the drawing shows exactly what `trace -o json` says.
 */
import type { Hop, PacketHeader } from "../sim/trace.ts";

/** A header field a hop rewrote; `encap`/`decap`: an outer header was added or removed. */
export type HeaderChange = "src" | "sport" | "dst" | "dport" | "encap" | "decap";

/** What each hop changed compared with the packet before it (the first hop: nothing). */
export function hopChanges(hops: readonly Pick<Hop, "packet">[]): HeaderChange[][] {
  let before: PacketHeader | undefined;
  return hops.map((h) => {
    const now = h.packet;
    const out: HeaderChange[] = [];
    if (before) {
      if (now.src !== before.src) out.push("src");
      if (now.sport !== before.sport) out.push("sport");
      if (now.dst !== before.dst) out.push("dst");
      if (now.dport !== before.dport) out.push("dport");
      if (now.outer && !before.outer) out.push("encap");
      if (!now.outer && before.outer) out.push("decap");
    }
    before = now;
    return out;
  });
}

/** The places of a trace in the order first met (each hop's `at`), and each hop's place index. */
export function tracePlaces(hops: readonly Pick<Hop, "at">[]): { places: string[]; placeOf: number[] } {
  const places: string[] = [];
  const index = new Map<string, number>();
  const placeOf = hops.map((h) => {
    let i = index.get(h.at);
    if (i === undefined) {
      i = places.length;
      index.set(h.at, i);
      places.push(h.at);
    }
    return i;
  });
  return { places, placeOf };
}

/** The header as one line: `[outer src → dst UDP vni 1] src:sport → dst:dport`. */
export function formatHeader(h: PacketHeader): string {
  const inner = `${h.src}:${h.sport} → ${h.dst}:${h.dport}`;
  return h.outer
    ? `[${h.outer.src} → ${h.outer.dst} ${h.outer.protocol}${h.outer.vni !== undefined ? ` vni ${h.outer.vni}` : ""}] ${inner}`
    : inner;
}

/**
 * Where a hop stands on the topology picture (./picture.ts): a pod's box (its eth0 is drawn in it),
 * a device of a node's root namespace, the node's IP stack (hops with no device: kube-proxy's DNAT,
 * conntrack), the underlay (`wire`), or nowhere drawn (`client`: an outside source).
 */
export type HopPlace =
  | { pod: string }
  | { node: string; device: string }
  | { node: string; stack: true }
  | { underlay: true }
  | { outside: string };

/** Each hop's place on the picture, read from its `at` and `device` as `trace -o json` gives them. */
export function hopPlaces(hops: readonly Pick<Hop, "at" | "device">[]): HopPlace[] {
  return hops.map((h) => {
    if (h.at.startsWith("pod ")) return { pod: h.at.slice(4) };
    if (h.at.startsWith("node ")) {
      const node = h.at.slice(5);
      return h.device ? { node, device: h.device } : { node, stack: true as const };
    }
    if (h.at === "wire") return { underlay: true as const };
    return { outside: h.at };
  });
}

/**
 * The picture a trace is drawn over: the nodes it crosses, its pods drawn on their own, and the
 * Service it went through (`ns/name[:port]` as the trace's answer names it → `name.ns` as the
 * picture does). Comma-joined, as the API's `picture` question takes them.
 */
export function tracePictureQuery(
  hops: readonly Pick<Hop, "at">[],
  service?: string,
): { nodes: string; pods: string; services?: string } {
  const nodes = new Set<string>();
  const pods = new Set<string>();
  for (const h of hops) {
    if (h.at.startsWith("node ")) nodes.add(h.at.slice(5));
    else if (h.at.startsWith("pod ")) pods.add(h.at.slice(4));
  }
  const m = service ? /^([^/]+)\/([^:]+)/.exec(service) : null;
  return {
    nodes: [...nodes].join(","),
    pods: [...pods].join(","),
    ...(m ? { services: `${m[2]}.${m[1]}` } : {}),
  };
}
