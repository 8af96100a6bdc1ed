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

export interface NodeState {
  readonly name: string;
  /** The Node object as an API server would return it (addresses, podCIDR, labels filled in). */
  readonly obj: Node;
  /** InternalIP. */
  readonly ip: IPv4;
  readonly podCIDR: Cidr;
  readonly labels: Labels;
  readonly taints: readonly Taint[];
  /** status.allocatable.pods (kubelet default 110). */
  readonly maxPods: number;
  readonly unschedulable: boolean;
}

export interface ClusterState {
  readonly config: ClusterConfig;
  readonly namespaces: Namespace[];
  readonly nodes: NodeState[];
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
  readonly adminNetworkPolicies: KubeObject[];
  readonly baselineAdminNetworkPolicies: KubeObject[];
  readonly clusterNetworkPolicies: KubeObject[];
  /** Where each given pod and policy was defined (file and positions), for findings about them. */
  readonly origins: ReadonlyMap<KubeObject, Origin>;
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
