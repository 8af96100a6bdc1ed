/**
 * Calico IPAM (calico-ipam, libcalico-go lib/ipam), pure: IP pools cut into blocks, blocks affine to
 * nodes and claimed on demand, addresses handed out from a node's own blocks, borrowed from other
 * nodes' blocks when no block is left.
 *
 *   pools (IPPool objects, or the default pool)      per node, per address request (ipam.go autoAssign):
 *   ┌ 10.244.0.0/16, blockSize 26 ─────────────┐       1. its affine blocks, in the order claimed: the
 *   │ 10.244.0.0/26  10.244.0.64/26  …          │          lowest free address of the first with room
 *   │   node-1 ▲        node-2 ▲                │       2. a new block (at most 20 a node): each pool that
 *   └──────────────────────────────────────────┘          selects the node, name order, walked from the
 *                                                          node's start block, wrapping: the first unclaimed
 *                                                       3. borrowing: the same walk, the first block of any
 *                                                          node with a free address (the pod's node then
 *                                                          routes it as a /32)
 *
 * Where Calico is random, podnet is deterministic: Calico starts each node's walk at a block drawn by
 * Go's math/rand seeded with the FNV-32 hash of the host name (ipam_block_reader_writer.go
 * `randomBlockGenerator`, `determineSeed`); podnet starts it at that hash, mixed (`startSeed`), modulo
 * the number of blocks.
 * A node's blocks are tried in the order it claimed them.
 *
 * Order of allocation: every given address first (pods' `status.podIP`, nodes' tunnel-address
 * annotations `projectcalico.org/IPv4IPIPTunnelAddr` / `IPv4VXLANTunnelAddr`), each claiming its block
 * for its node when the block is still free (as `AssignIP` does); then each node's tunnel address, as
 * calico-node allocates it at start-up (node/pkg/allocateip: from a pool with IP-in-IP, else VXLAN,
 * enabled for the node); then the pods in order. Nothing is ever released, so each cursor only moves
 * forward: the whole run costs about one step per address and per block, never per pod pair.
 */
import type { Diagnostics, Origin } from "../../diagnostics.ts";
import type { ClusterConfig } from "../../model/config.ts";
import type { Labels, Pod } from "../../model/k8s.ts";
import { objectRef } from "../../model/k8s.ts";
import { Cidr, findBlock, type IPv4, parseIPv4Sloppy } from "../../net/ipv4.ts";
import { type CalicoSelector, parseCalicoSelector } from "./selector.ts";

/** Calico's encapsulation modes of a pool (`ipipMode`, `vxlanMode`). */
export type EncapMode = "Never" | "Always" | "CrossSubnet";

/** An IPv4 pool as Calico IPAM and Felix read it (IPPoolSpec with its defaults filled in). */
export interface CalicoPool {
  readonly name: string;
  readonly cidr: Cidr;
  /** Prefix length of the pool's blocks (20–32). */
  readonly blockSize: number;
  readonly ipipMode: EncapMode;
  readonly vxlanMode: EncapMode;
  /** Pods of this pool are masqueraded to their node's address when they talk outside every pool. */
  readonly natOutgoing: boolean;
  /** No new addresses from it; given addresses inside it are kept. */
  readonly disabled: boolean;
  readonly nodeSelector: string;
  /** The namespaceSelector as written; empty when the pool has none (every namespace). */
  readonly namespaceSelector: string;
  readonly selectsNode: CalicoSelector;
  readonly selectsNamespace: CalicoSelector;
  /** `allowedUses` includes Workload (pods) / Tunnel (tunnel addresses). */
  readonly forWorkloads: boolean;
  readonly forTunnels: boolean;
  /** `assignmentMode: Automatic`: addresses are picked from it without being asked for by name. */
  readonly automatic: boolean;
  /** True for the pool podnet made from the Cluster config (no IPPool in the input). */
  readonly isDefault: boolean;
  readonly origin?: Origin;
  readonly object: string;
}

/**
 * The pool calico-node creates at start-up when none exists (node/pkg/lifecycle/startup/startup.go
 * `configureIPPools`): `default-ipv4-ippool`, the cluster's pod CIDR (from kubeadm's config: here the
 * Cluster config's clusterCIDR), blockSize 26, `natOutgoing: true` (CALICO_IPV4POOL_NAT_OUTGOING
 * defaults to true), nodeSelector `all()`, and the encapsulation of Calico's manifest
 * (manifests/calico.yaml sets CALICO_IPV4POOL_IPIP=Always, CALICO_IPV4POOL_VXLAN=Never).
 */
export function defaultPool(config: ClusterConfig): CalicoPool {
  return {
    name: "default-ipv4-ippool",
    cidr: config.clusterCIDR,
    blockSize: Math.max(26, config.clusterCIDR.prefix),
    ipipMode: "Always",
    vxlanMode: "Never",
    natOutgoing: true,
    disabled: false,
    nodeSelector: "all()",
    namespaceSelector: "",
    selectsNode: () => true,
    selectsNamespace: () => true,
    forWorkloads: true,
    forTunnels: true,
    automatic: true,
    isDefault: true,
    object: "IPPool default-ipv4-ippool",
  };
}

/** An IPPool entry of the inventory (validated by manifests/validate/calico.ts, defaults filled in). */
export interface IPPoolEntry {
  readonly obj: { metadata: { name?: string }; spec?: Record<string, unknown> };
  readonly origin?: Origin;
}

/**
 * The IPv4 pools of the input, in name order (as Calico lists them), or the default pool when the
 * input has no IPv4 pool (IPv6 pools alone do not count). Reports pools that overlap each other
 * (Calico's client refuses a pool that overlaps an existing one), the Service range, the load-balancer
 * range or the node network; warns about pools outside clusterCIDR.
 */
export function readPools(
  entries: readonly IPPoolEntry[],
  config: ClusterConfig,
  diags: Diagnostics,
): CalicoPool[] {
  const pools: CalicoPool[] = [];
  for (const e of entries) {
    const spec = e.obj.spec ?? {};
    const parsed = typeof spec.cidr === "string" ? Cidr.parse(spec.cidr) : undefined;
    if (!parsed?.ok) continue; // IPv6 pools (warned about by the validator)
    const name = e.obj.metadata.name ?? "";
    const sel = (s: unknown): CalicoSelector => {
      const p = parseCalicoSelector(typeof s === "string" ? s : "");
      return p.ok ? p.match : () => false;
    };
    const uses = Array.isArray(spec.allowedUses) ? (spec.allowedUses as string[]) : [];
    pools.push({
      name,
      cidr: parsed.cidr,
      blockSize: typeof spec.blockSize === "number" ? spec.blockSize : 26,
      ipipMode: (spec.ipipMode as EncapMode) ?? "Never",
      vxlanMode: (spec.vxlanMode as EncapMode) ?? "Never",
      natOutgoing: spec.natOutgoing === true,
      disabled: spec.disabled === true,
      nodeSelector: typeof spec.nodeSelector === "string" ? spec.nodeSelector : "all()",
      namespaceSelector: typeof spec.namespaceSelector === "string" ? spec.namespaceSelector : "",
      selectsNode: sel(spec.nodeSelector),
      selectsNamespace: sel(spec.namespaceSelector),
      forWorkloads: uses.length === 0 || uses.includes("Workload"),
      forTunnels: uses.length === 0 || uses.includes("Tunnel"),
      automatic: spec.assignmentMode !== "Manual",
      isDefault: false,
      origin: e.origin,
      object: `IPPool ${name}`,
    });
  }
  // calico-node makes its default IPv4 pool when no IPv4 pool exists, whatever IPv6 pools there are
  // (node/pkg/lifecycle/startup: configureIPPools tracks the two families apart).
  if (pools.length === 0) return [defaultPool(config)];
  pools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const err = (p: CalicoPool, message: string, hint: string) =>
    diags.error({
      code: "overlapping-cidrs",
      message,
      hint,
      object: p.object,
      origin: p.origin,
      path: ["spec", "cidr"],
    });
  for (let i = 0; i < pools.length; i++) {
    const p = pools[i];
    for (let j = 0; j < i; j++) {
      if (p.cidr.overlaps(pools[j].cidr))
        err(
          p,
          `IPPool ${p.name} (${p.cidr}) overlaps IPPool ${pools[j].name} (${pools[j].cidr})`,
          "IP pools must not overlap: choose disjoint CIDRs",
        );
    }
    if (p.cidr.overlaps(config.serviceCIDR))
      err(
        p,
        `IPPool ${p.name} (${p.cidr}) overlaps the Service range ${config.serviceCIDR}`,
        "choose a pool outside serviceCIDR (or move serviceCIDR in the Cluster config)",
      );
    // podnet's own rule, as for clusterCIDR: pod, Service, node and load-balancer ranges are disjoint.
    for (const lb of config.loadBalancerPool)
      if (p.cidr.overlaps(lb))
        err(
          p,
          `IPPool ${p.name} (${p.cidr}) overlaps the load-balancer range ${lb}`,
          "choose a pool outside loadBalancerPool (or move loadBalancerPool in the Cluster config)",
        );
    if (p.cidr.overlaps(config.nodeNetwork))
      err(
        p,
        `IPPool ${p.name} (${p.cidr}) overlaps the node network ${config.nodeNetwork}`,
        "choose a pool outside nodeNetwork (or move nodeNetwork in the Cluster config)",
      );
    if (!(config.clusterCIDR.contains(p.cidr.base) && config.clusterCIDR.contains(p.cidr.last)))
      diags.warn({
        code: "pool-outside-cluster-cidr",
        message: `IPPool ${p.name} (${p.cidr}) lies outside clusterCIDR ${config.clusterCIDR}: kube-proxy takes its pods for outside clients (masquerades their Service traffic)`,
        hint: "set the Cluster config's clusterCIDR to cover every IP pool, as kube-proxy's --cluster-cidr",
        object: p.object,
        origin: p.origin,
        path: ["spec", "cidr"],
      });
  }
  return pools;
}

/** A node as the IPAM sees it. */
export interface IpamNode {
  readonly name: string;
  readonly labels: Labels;
  /** The node's own addresses (a pod may not take one). */
  readonly ips: readonly IPv4[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly object: string;
  readonly origin?: Origin;
}

/** One claimed block. */
export interface CalicoBlock {
  readonly cidr: Cidr;
  readonly pool: CalicoPool;
  /** The node the block is affine to. */
  readonly node: string;
  /** Where the block's addresses are recorded in the run's table of holders (internal). */
  readonly offset: number;
  /** Number of addresses (2^(32 − blockSize)). */
  readonly size: number;
  /** Lowest ordinal that may be free (every ordinal below it is in use). */
  next: number;
  /** Addresses in use. */
  count: number;
}

/** Which tunnel device a node's tunnel address is for. */
export type TunnelKind = "ipip" | "vxlan";

/** What Calico IPAM decided. */
export interface CalicoIpamResult {
  readonly pools: readonly CalicoPool[];
  /** Every claimed block, by node, in the order the node claimed it. */
  readonly blocksByNode: ReadonlyMap<string, readonly CalicoBlock[]>;
  /** Every claimed block, sorted by address. */
  readonly blocks: readonly CalicoBlock[];
  /** Pod addresses handed out (or kept) on a node that does not own their block: address → node. */
  readonly borrowed: ReadonlyMap<IPv4, string>;
  /** Each node's tunnel address (tunl0's for IP-in-IP, vxlan.calico's for VXLAN pools). */
  readonly tunnels: ReadonlyMap<string, { ip: IPv4; kind: TunnelKind }>;
  /**
   * The address this run gave each pod, by the pod's index in the input (-1: none, because it was
   * given one, is not addressed here, or got none).
   */
  readonly assigned: Float64Array;
  /** The pool containing an address (disabled pools included), by binary search. */
  poolOf(ip: IPv4): CalicoPool | undefined;
  /** The claimed block containing an address, by binary search. */
  blockOf(ip: IPv4): CalicoBlock | undefined;
}

/** Calico IPAM's default limit of blocks a host may claim (ipam.go autoAssign: `maxNumBlocks = 20`). */
export const MAX_BLOCKS_PER_HOST = 20;

/** Annotations calico-node writes on a Node for its tunnel addresses (libcalico-go k8s conversion). */
export const IPIP_TUNNEL_ANNOTATION = "projectcalico.org/IPv4IPIPTunnelAddr";
export const VXLAN_TUNNEL_ANNOTATION = "projectcalico.org/IPv4VXLANTunnelAddr";

/** FNV-32 (not 32a) of a string's UTF-8 bytes, Go's hash/fnv `New32`, as `determineSeed` uses it. */
export function fnv32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of UTF8.encode(s)) h = (Math.imul(h, 0x01000193) ^ b) >>> 0;
  return h >>> 0;
}
const UTF8 = new TextEncoder();

/**
 * Where a node's walk over a pool's blocks starts: FNV-32 of the host name (Calico's seed), mixed by
 * MurmurHash3's 32-bit finalizer. Calico feeds the seed to Go's math/rand, which scatters hosts over
 * the pool; FNV-32 alone differs only in its low bits between `node-1` and `node-2`, so the walks of
 * similarly named nodes would collide. Taken modulo the number of blocks.
 */
export function startSeed(host: string): number {
  let h = fnv32(host);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The address requests of one run. */
export interface IpamInput {
  readonly pools: readonly CalicoPool[];
  readonly nodes: readonly IpamNode[];
  /** Pods in input order; only running pod-network pods on a node are addressed. */
  readonly pods: readonly Pod[];
  /** A namespace's labels (for namespaceSelector); `kubernetes.io/metadata.name` is added. */
  readonly namespaceLabels: (ns: string) => Labels | undefined;
  readonly originOf: (pod: Pod) => Origin | undefined;
  readonly diags: Diagnostics;
}

const isTerminal = (pod: Pod) => pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";

/**
 * Runs Calico IPAM over the cluster (see the module comment for the order). Problems are reported,
 * never thrown: an address taken twice (`ip-conflict`), a given address in no pool
 * (`ip-outside-pools`), a node that no pool selects (`no-pool-for-node`), a node at the block limit
 * (`block-limit`), pools without a free address (`pool-exhausted`). A pod that gets no address is
 * not in `assigned`; the caller leaves it Pending.
 */
export function runCalicoIpam(input: IpamInput): CalicoIpamResult {
  const { pools, nodes, pods, diags } = input;
  const v4pools = [...pools].sort((a, b) => a.cidr.base - b.cidr.base);
  const blockMap = new Map<IPv4, CalicoBlock>();
  const blocksByNode = new Map<string, CalicoBlock[]>(nodes.map((n) => [n.name, []]));
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));
  const borrowed = new Map<IPv4, string>();
  const tunnels = new Map<string, { ip: IPv4; kind: TunnelKind }>();
  const assigned = new Float64Array(pods.length).fill(-1);
  // Who holds each address of a claimed block: one table for all blocks (an index into `holders`,
  // 0 free), so that 150,000 addresses cost no map entry each. Addresses outside every pool (given
  // ones, nodes') are few: they go to a map.
  let table = new Int32Array(1 << 12);
  let tableTop = 0;
  const holders: (Pod | string)[] = [""];
  const holderName = (h: Pod | string) => (typeof h === "string" ? h : objectRef(h));
  const outsideOwner = new Map<IPv4, Pod | string>();
  const nodeIPs: IPv4[] = [];
  for (const n of nodes)
    for (const ip of n.ips) {
      outsideOwner.set(ip, `Node ${n.name}`);
      nodeIPs.push(ip);
    }
  nodeIPs.sort((a, b) => a - b);

  const poolOf = (ip: IPv4): CalicoPool | undefined => findBlock(v4pools, ip, (p) => p.cidr);
  const blockBase = (ip: IPv4, pool: CalicoPool) => Cidr.of(ip, pool.blockSize).base;
  const claim = (base: IPv4, pool: CalicoPool, node: string): CalicoBlock => {
    const size = 2 ** (32 - pool.blockSize);
    while (tableTop + size > table.length) {
      const bigger = new Int32Array(table.length * 2);
      bigger.set(table);
      table = bigger;
    }
    const b: CalicoBlock = {
      cidr: Cidr.of(base, pool.blockSize),
      pool,
      node,
      offset: tableTop,
      size,
      next: 0,
      count: 0,
    };
    tableTop += size;
    blockMap.set(base, b);
    blocksByNode.get(node)?.push(b);
    // A node's own address inside the block is never handed out.
    let lo = 0;
    let hi = nodeIPs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (nodeIPs[mid] < base) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < nodeIPs.length && nodeIPs[i] <= b.cidr.last; i++) {
      holders.push(outsideOwner.get(nodeIPs[i])!);
      table[b.offset + nodeIPs[i] - base] = holders.length - 1;
    }
    return b;
  };
  const holderAt = (b: CalicoBlock, ord: number) => table[b.offset + ord];
  const take = (b: CalicoBlock, ip: IPv4, holder: Pod | string, node: string) => {
    holders.push(holder);
    table[b.offset + ip - b.cidr.base] = holders.length - 1;
    b.count++;
    if (b.node !== node) borrowed.set(ip, node);
  };

  // 1. Given addresses: pods' podIPs, then nodes' tunnel annotations.
  const outside: { what: string; object: string; origin?: Origin; path: (string | number)[] }[] = [];
  const keep = (
    ipText: string,
    node: string,
    holder: Pod | string,
    object: string,
    origin: Origin | undefined,
    path: string[],
  ) => {
    const ip = parseIPv4Sloppy(ipText);
    if (ip === undefined) return undefined; // IPv6: kept as given, not Calico IPAM's (IPv4) business here
    const pool = poolOf(ip);
    const block = pool ? blockMap.get(blockBase(ip, pool)) : undefined;
    const h = block ? holderAt(block, ip - block.cidr.base) : 0;
    const other = h > 0 ? holders[h] : outsideOwner.get(ip);
    if (other) {
      diags.error({
        code: "ip-conflict",
        message: `${ipText} is already the address of ${holderName(other)}`,
        hint: "two running pods (or a pod and a node) cannot share an address: remove or correct one",
        object,
        origin,
        path,
      });
      return undefined;
    }
    if (!pool) {
      outside.push({ what: `${holderName(holder).replace(/^Pod /, "")} ${ipText}`, object, origin, path });
      outsideOwner.set(ip, holder);
      return ip;
    }
    take(block ?? claim(blockBase(ip, pool), pool, node), ip, holder, node);
    return ip;
  };
  for (const pod of pods) {
    if (isTerminal(pod) || pod.spec.hostNetwork || !pod.spec.nodeName || !nodeByName.has(pod.spec.nodeName))
      continue;
    const text = pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip;
    if (text === undefined) continue;
    keep(text, pod.spec.nodeName, pod, objectRef(pod), input.originOf(pod), ["status", "podIP"]);
  }
  for (const n of nodes) {
    for (const [key, kind] of [
      [IPIP_TUNNEL_ANNOTATION, "ipip"],
      [VXLAN_TUNNEL_ANNOTATION, "vxlan"],
    ] as const) {
      const text = n.annotations?.[key];
      if (text === undefined || tunnels.has(n.name)) continue;
      const ip = keep(text, n.name, `the tunnel of Node ${n.name}`, n.object, n.origin, [
        "metadata",
        "annotations",
        key,
      ]);
      if (ip !== undefined) tunnels.set(n.name, { ip, kind });
    }
  }
  if (outside.length > 0) {
    const f = outside[0];
    diags.error({
      code: "ip-outside-pools",
      message: `${outside.length} given address${outside.length === 1 ? " lies" : "es lie"} in no IP pool (first: ${f.what}); pools: ${v4pools.map((p) => `${p.name} ${p.cidr}`).join(", ") || "none"}`,
      hint: "add an IPPool that covers the addresses (or set the Cluster config's clusterCIDR, which makes the default pool), or correct the addresses",
      object: f.object,
      origin: f.origin,
      path: f.path,
    });
  }

  // 2. and 3. Auto-assignment: tunnel addresses, then pods.
  const claimCursor = new Map<string, number[]>();
  const borrowCursor = new Map<string, number[]>();
  const affineCursor = new Map<string, number>();
  const poolIndex = new Map(v4pools.map((p, i) => [p, i]));
  const numBlocks = (p: CalicoPool) => 2 ** (p.blockSize - p.cidr.prefix);
  const startOf = new Map<string, number>();
  const start = (node: string, p: CalicoPool) => {
    let h = startOf.get(node);
    if (h === undefined) {
      h = startSeed(node);
      startOf.set(node, h);
    }
    return h % numBlocks(p);
  };
  const freeIn = (b: CalicoBlock): number => {
    const size = b.size;
    while (b.next < size && table[b.offset + b.next] !== 0) b.next++;
    return b.next < size ? b.next : -1;
  };
  const cursorOf = (m: Map<string, number[]>, node: string) => {
    let c = m.get(node);
    if (!c) {
      c = v4pools.map(() => 0);
      m.set(node, c);
    }
    return c;
  };
  type Failure = "no-pool" | "block-limit" | "exhausted";
  const autoAssign = (node: string, usable: readonly CalicoPool[], holder: Pod | string): IPv4 | Failure => {
    if (usable.length === 0) return "no-pool";
    // 1. The node's affine blocks, in claim order (only blocks fill up, so the cursor moves forward).
    const mine = blocksByNode.get(node) ?? [];
    let i = affineCursor.get(node) ?? 0;
    for (let k = i; k < mine.length; k++) {
      const b = mine[k];
      if (!usable.includes(b.pool)) continue;
      const ord = freeIn(b);
      if (ord >= 0) {
        const ip = b.cidr.nth(ord);
        take(b, ip, holder, node);
        return ip;
      }
      if (k === i) i++;
    }
    affineCursor.set(node, i);
    // 2. A new block, unless the node is at the limit.
    if (mine.length >= MAX_BLOCKS_PER_HOST) return "block-limit";
    const cc = cursorOf(claimCursor, node);
    for (const p of usable) {
      const pi = poolIndex.get(p)!;
      const n = numBlocks(p);
      const s = start(node, p);
      for (; cc[pi] < n; cc[pi]++) {
        const base = p.cidr.base + ((s + cc[pi]) % n) * 2 ** (32 - p.blockSize);
        if (blockMap.has(base >>> 0)) continue;
        const b = claim(base >>> 0, p, node);
        const ord = freeIn(b);
        if (ord < 0) continue;
        const ip = b.cidr.nth(ord);
        take(b, ip, holder, node);
        return ip;
      }
    }
    // 3. Borrowing from any node's block with a free address.
    const bc = cursorOf(borrowCursor, node);
    for (const p of usable) {
      const pi = poolIndex.get(p)!;
      const n = numBlocks(p);
      const s = start(node, p);
      for (; bc[pi] < n; bc[pi]++) {
        const base = (p.cidr.base + ((s + bc[pi]) % n) * 2 ** (32 - p.blockSize)) >>> 0;
        const b = blockMap.get(base);
        if (!b) continue;
        const ord = freeIn(b);
        if (ord < 0) continue;
        const ip = b.cidr.nth(ord);
        take(b, ip, holder, node);
        return ip;
      }
    }
    return "exhausted";
  };

  const failures = new Map<
    Failure,
    {
      count: number;
      first: string;
      node: string;
      object: string;
      origin?: Origin;
      /** Why no pool served the first request (its node's and namespace's labels). */
      unusable?: () => PoolUnusable[];
    }
  >();
  const fail = (
    why: Failure,
    node: string,
    what: string,
    object: string,
    origin?: Origin,
    unusable?: () => PoolUnusable[],
  ) => {
    const f = failures.get(why);
    if (f) f.count++;
    else failures.set(why, { count: 1, first: what, node, object, origin, unusable });
  };

  for (const n of nodes) {
    if (tunnels.has(n.name)) continue;
    const selecting = v4pools.filter(
      (p) => !p.disabled && p.automatic && p.forTunnels && p.selectsNode(n.labels),
    );
    // allocateip.go: an IP-in-IP address when a pool with ipipMode enabled selects the node, else a
    // VXLAN address for a pool with vxlanMode enabled; none for unencapsulated pools.
    const ipipPools = selecting.filter((p) => p.ipipMode !== "Never");
    const vxlanPools = selecting.filter((p) => p.vxlanMode !== "Never");
    const kind: TunnelKind | undefined =
      ipipPools.length > 0 ? "ipip" : vxlanPools.length > 0 ? "vxlan" : undefined;
    if (!kind) continue;
    const got = autoAssign(n.name, kind === "ipip" ? ipipPools : vxlanPools, `the tunnel of Node ${n.name}`);
    if (typeof got === "number") tunnels.set(n.name, { ip: got, kind });
    else fail(got, n.name, `the tunnel address of node ${n.name}`, n.object, n.origin);
  }

  // The pools a pod may use, per node and namespace (labels are the same for all its pods).
  const usableCache = new Map<string, Map<string, CalicoPool[]>>();
  for (let podIndex = 0; podIndex < pods.length; podIndex++) {
    const pod = pods[podIndex];
    if (isTerminal(pod) || pod.spec.hostNetwork) continue;
    const nodeName = pod.spec.nodeName;
    const node = nodeName ? nodeByName.get(nodeName) : undefined;
    if (!node) continue;
    if ((pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip) !== undefined) continue;
    const ns = pod.metadata.namespace ?? "default";
    let byNs = usableCache.get(node.name);
    if (!byNs) {
      byNs = new Map();
      usableCache.set(node.name, byNs);
    }
    let usable = byNs.get(ns);
    if (!usable) {
      const nsLabels = { ...input.namespaceLabels(ns), "kubernetes.io/metadata.name": ns };
      usable = v4pools.filter(
        (p) =>
          !p.disabled &&
          p.automatic &&
          p.forWorkloads &&
          p.selectsNode(node.labels) &&
          p.selectsNamespace(nsLabels),
      );
      // Calico lists pools by name.
      usable.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      byNs.set(ns, usable);
    }
    const got = autoAssign(node.name, usable, pod);
    if (typeof got === "number") assigned[podIndex] = got;
    else
      fail(
        got,
        node.name,
        `${ns}/${pod.metadata.name} on ${node.name}`,
        objectRef(pod),
        input.originOf(pod),
        () =>
          whyUnusable(v4pools, node, ns, { ...input.namespaceLabels(ns), "kubernetes.io/metadata.name": ns }),
      );
  }

  for (const [why, f] of failures) {
    const n = `${f.count} address request${f.count === 1 ? "" : "s"}`;
    const enabled = v4pools.filter((p) => !p.disabled);
    const capacity = enabled.reduce((s, p) => s + p.cidr.size, 0);
    const [message, hint] =
      why === "no-pool"
        ? noPoolMessage(f.unusable?.() ?? [], n, f.first)
        : why === "block-limit"
          ? [
              `node ${f.node} already has ${MAX_BLOCKS_PER_HOST} blocks, Calico IPAM's limit per node, and no free address in them: ${n} got no address (first: ${f.first})`,
              "use a smaller blockSize number (bigger blocks, e.g. 26 gives 64 addresses a block), or fewer pods per node",
            ]
          : [
              `the IP pools have no free address left (${capacity} addresses in ${enabled.map((p) => `${p.name} ${p.cidr}`).join(", ")}): ${n} got none (first: ${f.first})`,
              "make the pool larger (a shorter prefix in spec.cidr or the Cluster config's clusterCIDR), or add another IPPool",
            ];
    diags.error({
      code: why === "exhausted" ? "pool-exhausted" : why,
      message,
      hint,
      object: f.object,
      origin: f.origin,
    });
  }

  const blocks = [...blockMap.values()].sort((a, b) => a.cidr.base - b.cidr.base);
  const blockOf = (ip: IPv4): CalicoBlock | undefined => findBlock(blocks, ip, (b) => b.cidr);
  return { pools: v4pools, blocksByNode, blocks, borrowed, tunnels, assigned, poolOf, blockOf };
}

/** Why one IP pool gave a pod no address (`whyUnusable`). */
export interface PoolUnusable {
  readonly pool: string;
  readonly reason: "disabled" | "not-for-workloads" | "manual" | "node" | "namespace";
  /** The reason in words, naming the field and its value. */
  readonly text: string;
}

/**
 * For each IPv4 pool, the first reason Calico IPAM's auto-assignment skips it for a pod on `node` in
 * namespace `ns` (libcalico-go ipam `getPoolsForNode` and the CNI plugin's pool filter: disabled
 * pools, pools whose allowedUses lacks Workload, `assignmentMode: Manual` pools, then the node and
 * namespace selectors), in the order Calico lists pools (by name).
 */
export function whyUnusable(
  pools: readonly CalicoPool[],
  node: { name: string; labels: Labels },
  ns: string,
  nsLabels: Labels,
): PoolUnusable[] {
  const out: PoolUnusable[] = [];
  for (const p of [...pools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const at = (reason: PoolUnusable["reason"], text: string) => out.push({ pool: p.name, reason, text });
    if (p.disabled) at("disabled", `${p.name} is disabled (disabled: true)`);
    else if (!p.forWorkloads) at("not-for-workloads", `${p.name}'s allowedUses has no Workload`);
    else if (!p.automatic) at("manual", `${p.name} has assignmentMode: Manual`);
    else if (!p.selectsNode(node.labels))
      at(
        "node",
        `${p.name}'s nodeSelector ${JSON.stringify(p.nodeSelector)} does not select node ${node.name}`,
      );
    else if (!p.selectsNamespace(nsLabels))
      at(
        "namespace",
        `${p.name}'s namespaceSelector ${JSON.stringify(p.namespaceSelector)} does not select namespace ${ns}`,
      );
  }
  return out;
}

const UNUSABLE_FIX: Record<PoolUnusable["reason"], string> = {
  disabled: "enable a pool (remove disabled: true)",
  "not-for-workloads": "add Workload to a pool's allowedUses (or add an IPPool for pods)",
  manual:
    "set assignmentMode: Automatic (pods ask for a Manual pool by the cni.projectcalico.org/ipv4pools annotation, which podnet does not read)",
  node: "widen a pool's nodeSelector (all() selects every node)",
  namespace: "widen a pool's namespaceSelector, or remove it",
};

/** The message and fix of the "no pool" failure, from each pool's reason (`whyUnusable`). */
function noPoolMessage(unusable: readonly PoolUnusable[], requests: string, first: string): [string, string] {
  const reasons = unusable.map((u) => u.text).join("; ");
  const fixes = [...new Set(unusable.map((u) => u.reason))].map((r) => UNUSABLE_FIX[r]);
  return [
    `no IP pool gives this pod an address (${reasons || "no IPv4 pool"}): ${requests} got no address (first: ${first})`,
    fixes.length > 0 ? fixes.join(", or ") : "add an IPPool for pods",
  ];
}
