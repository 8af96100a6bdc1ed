/**
 * ClusterState: the cluster after the control plane ran. Every pod has its node and IP (or is Pending
 * with a reason), every node its IP and podCIDR, every Service its ClusterIP, nodePorts, load-balancer
 * IPs and EndpointSlices. All objects are in their Kubernetes API shape; `NodeState` adds the parsed
 * addresses that the later stages (routes, traces, the data plane) compute with.
 */
import type { Diagnostic, Diagnostics, FieldPath, Origin } from "../diagnostics.ts";
import type { ClusterConfig } from "../model/config.ts";
import type {
  EndpointSlice,
  KubeObject,
  Labels,
  Namespace,
  Node,
  Pod,
  Service,
  Taint,
  Workload,
} from "../model/k8s.ts";
import type { Cidr, IPv4 } from "../net/ipv4.ts";

/** What the plugin's IPAM decided, kept in `ClusterState.podNetwork`. */
export interface PodNetworkState {
  /**
   * Each node's pod address blocks, by node name, in the order the node claimed them (flannel:
   * `[podCIDR]`; Calico: its affine blocks). Blocks of different nodes never overlap: the network index
   * finds the node owning an address by binary search over all of them. A pod whose address lies in
   * none of its node's blocks (given in the input, or borrowed from another node's block) is routed to
   * its node by a /32 of its own (`Network.podAddressOwner`).
   */
  readonly blocks: ReadonlyMap<string, readonly Cidr[]>;
  /** What else the plugin's IPAM decided that its routes and views need later; opaque outside it. */
  readonly extra?: unknown;
}

export interface NodeState {
  readonly name: string;
  /** The Node object as an API server would return it (addresses, podCIDR, labels filled in). */
  readonly obj: Node;
  /**
   * The node's primary IPv4 address, as kubelet's `GetNodeHostIPs` picks it: the first InternalIP, else
   * the first ExternalIP (else one podnet allocates from nodeNetwork). Pods' hostIP, host-network pods'
   * podIP, kube-proxy's `--nodeport-addresses primary`, the underlay's routes and tunnels use it.
   */
  readonly ip: IPv4;
  /**
   * Every IPv4 address the node's own interfaces carry among those its Node object lists (InternalIPs,
   * and ExternalIPs not held by a cloud provider's 1:1 NAT, see `NodeIP.onInterface`), primary first.
   * These are the node's own wherever that matters: the kernel's `fib daddr type local` (nodePorts,
   * input), the source of the node's own traffic, and NetworkPolicy's exception for a pod's own node.
   * The network plugin's device addresses (cni0's gateway, a tunnel's) are local too (graph/devices.ts
   * `nodeAddresses`).
   */
  readonly ips: readonly IPv4[];
  /**
   * Every IPv4 InternalIP and ExternalIP of `status.addresses` (InternalIPs first, then ExternalIPs,
   * each in the order listed; an allocated primary as an InternalIP): AdminNetworkPolicy `nodes` peers
   * match all of them.
   */
  readonly addresses: readonly NodeIP[];
  readonly podCIDR: Cidr;
  readonly labels: Labels;
  readonly taints: readonly Taint[];
  /** status.allocatable.pods (kubelet default 110). */
  readonly maxPods: number;
  readonly unschedulable: boolean;
}

/** One IPv4 address of a node's `status.addresses`. */
export interface NodeIP {
  readonly ip: IPv4;
  readonly type: "InternalIP" | "ExternalIP";
  /**
   * On one of the node's interfaces (a local address). InternalIPs always are; an ExternalIP is too
   * (bare metal, k3s `--node-external-ip`, providers that put the public address on the NIC), except
   * on a node whose `spec.providerID` names a provider that holds ExternalIPs in a 1:1 NAT in front of
   * the node (aws, gce, azure, openstack): those addresses never reach the node as such.
   */
  readonly onInterface: boolean;
}

export interface ClusterState {
  readonly config: ClusterConfig;
  readonly namespaces: Namespace[];
  readonly nodes: NodeState[];
  /**
   * What the network plugin's IPAM decided (../cni/plugin.ts): each node's pod address blocks (flannel:
   * its podCIDR; Calico: its affine IPAM blocks), which the network index searches to find the node
   * owning an address.
   */
  readonly podNetwork: PodNetworkState;
  readonly pods: Pod[];
  /** Deployments, ReplicaSets (given and generated), StatefulSets, DaemonSets, Jobs, CronJobs, RCs. */
  readonly workloads: Workload[];
  readonly services: Service[];
  readonly endpointSlices: EndpointSlice[];
  /** Objects the controllers created (ReplicaSets, Jobs, pods) rather than the input gave. */
  readonly generated: ReadonlySet<KubeObject>;
  readonly networkPolicies: KubeObject[];
  readonly ingresses: KubeObject[];
  readonly ingressClasses: KubeObject[];
  /** OpenShift Routes (route.openshift.io/v1): like Ingresses, they bring outside traffic to Services. */
  readonly routes: KubeObject[];
  /** Calico IPPools of the input (validated, Calico's defaults filled in), whatever the network plugin. */
  readonly ipPools: KubeObject[];
  readonly adminNetworkPolicies: KubeObject[];
  readonly baselineAdminNetworkPolicies: KubeObject[];
  readonly clusterNetworkPolicies: KubeObject[];
  /** Gateway API objects of the input (model/gateway.ts), validated and defaulted as the CRDs do. */
  readonly gatewayClasses: KubeObject[];
  readonly gateways: KubeObject[];
  readonly httpRoutes: KubeObject[];
  readonly referenceGrants: KubeObject[];
  /** Where each given pod and policy was defined (file and positions), for findings about them. */
  readonly origins: ReadonlyMap<KubeObject, Origin>;
  /** Where the Cluster config was written, when the input has one (findings about spec.cni …). */
  readonly configOrigin?: Origin;
}

/**
 * Warnings that can hit thousands of objects at once (every pod of a k3s dump lies outside the default
 * clusterCIDR) are gathered per category and reported as one line with a count and the first example.
 */
export class GroupedWarnings {
  readonly #groups = new Map<
    string,
    {
      count: number;
      first: { object: string; origin?: Origin; path?: FieldPath; detail: string };
      message: (n: number, first: string) => string;
      hint: string;
    }
  >();

  add(
    category: string,
    at: { object: string; origin?: Origin; path?: FieldPath; detail: string },
    message: (count: number, first: string) => string,
    hint: string,
  ): void {
    const g = this.#groups.get(category);
    if (g) g.count++;
    else this.#groups.set(category, { count: 1, first: at, message, hint });
  }

  flush(diags: Diagnostics): void {
    for (const [code, g] of this.#groups) {
      const d: Omit<Diagnostic, "severity"> = {
        code,
        message: g.message(g.count, g.first.detail),
        hint: g.hint,
        object: g.first.object,
        origin: g.first.origin,
        path: g.first.path,
      };
      diags.warn(d);
    }
    this.#groups.clear();
  }
}
