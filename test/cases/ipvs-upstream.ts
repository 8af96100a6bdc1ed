/**
 * kube-proxy's IPVS proxier, held to its own unit tests: the expectations of
 * kubernetes pkg/proxy/ipvs/proxier_test.go (TestNodePortIPv4 and the cases it shares with the
 * ClusterIP and load-balancer tests), transcribed as facts — which virtual servers and real servers
 * (with weights) a Service produces on the node, which set members, which KUBE-SERVICES and
 * KUBE-NODE-PORT rules in order (jump target and the set they match, as the upstream
 * ExpectedIptablesChain lists them) — plus where a packet to each frontend goes. The node is the
 * upstream tests' `test-node` at 100.101.102.103; the other node's endpoint is on `other-node`.
 *
 * Upstream builds nodePort virtual servers on every local address (the fake's node IPs); podnet's
 * node also owns the CNI's bridge address, so the cases list the addresses they expect on the node's
 * primary IP and the test adds the same virtual server on each other local address of the node.
 */

/** A Cluster (ipvs mode, scheduler `rr`) with the upstream tests' node, ranges and the given objects. */
export function upstreamCluster(objects: string, kubeProxy = ""): string {
  return `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: ipvs-upstream}
spec:
  cni: host-gw
  proxyMode: ipvs
  nodeNetwork: 100.101.102.0/24
  serviceCIDR: 10.20.30.0/24
  serviceNodePortRange: 3000-32767
  nodes:
    - {name: test-node, ip: 100.101.102.103, podCIDR: 10.244.0.0/24}
    - {name: other-node, ip: 100.101.102.104, podCIDR: 10.244.1.0/24}
  supply: {clusterDNS: false}${kubeProxy}
${objects}`;
}

/** An EndpointSlice of ns1/svc1 with endpoints `ip@node` (node optional) on port p80. */
export function slice(protocol: string, ...endpoints: string[]): string {
  const eps = endpoints.map((e) => {
    const [ip, node] = e.split("@");
    return `  - {addresses: [${ip}]${node ? `, nodeName: ${node}` : ""}}`;
  });
  return `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc1-1, namespace: ns1, labels: {kubernetes.io/service-name: svc1}}
addressType: IPv4
endpoints:
${eps.join("\n")}
ports: [{name: p80, port: 80, protocol: ${protocol}}]
`;
}

export interface IpvsUpstreamCase {
  /** The upstream test case's name. */
  name: string;
  /** Service ns1/svc1 and its EndpointSlices. */
  objects: string;
  /** Virtual servers of ns1/svc1 as `ipvsadm -Sn` keys → real servers `ip:port/weight`. */
  virtualServers: Record<string, string[]>;
  /** Set name → exactly these members (as `ipset save` prints them). */
  sets?: Record<string, string[]>;
  /** Chain → the rules in order as `target set` (set empty when the rule matches none). */
  chains?: Record<string, string[]>;
  /** Packets and where they go: the endpoints the node may pick, and whether it is masqueraded. */
  packets?: {
    from: "pod" | "outside" | "node";
    to: string;
    protocol: "TCP" | "UDP" | "SCTP";
    endpoints: string[];
    masquerade: boolean;
  }[];
}

const svc = (spec: string) => `---
apiVersion: v1
kind: Service
metadata: {name: svc1, namespace: ns1}
spec:
${spec}`;

export const IPVS_UPSTREAM_CASES: IpvsUpstreamCase[] = [
  {
    name: "TestNodePortIPv4: 1 service with node port, has 2 endpoints",
    objects:
      svc(
        "  type: NodePort\n  clusterIP: 10.20.30.41\n  ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]\n",
      ) + slice("TCP", "10.180.0.1"),
    virtualServers: {
      "-t 10.20.30.41:80": ["10.180.0.1:80/1"],
      "-t 100.101.102.103:3001": ["10.180.0.1:80/1"],
    },
    // podnet supplies Service default/kubernetes (10.20.30.1:443), as every cluster has it.
    sets: { "KUBE-NODE-PORT-TCP": ["3001"], "KUBE-CLUSTER-IP": ["10.20.30.1,tcp:443", "10.20.30.41,tcp:80"] },
    packets: [
      {
        from: "outside",
        to: "100.101.102.103:3001",
        protocol: "TCP",
        endpoints: ["10.180.0.1:80"],
        masquerade: true,
      },
      { from: "pod", to: "10.20.30.41:80", protocol: "TCP", endpoints: ["10.180.0.1:80"], masquerade: false },
    ],
  },
  {
    name: "TestNodePortIPv4: 1 UDP service with node port, has endpoints",
    objects:
      svc(
        "  type: NodePort\n  clusterIP: 10.20.30.41\n  ports: [{name: p80, port: 80, protocol: UDP, nodePort: 3001}]\n",
      ) + slice("UDP", "10.180.0.1"),
    virtualServers: {
      "-u 10.20.30.41:80": ["10.180.0.1:80/1"],
      "-u 100.101.102.103:3001": ["10.180.0.1:80/1"],
    },
    sets: { "KUBE-NODE-PORT-UDP": ["3001"] },
    chains: {
      "KUBE-NODE-PORT": ["KUBE-MARK-MASQ KUBE-NODE-PORT-UDP", "ACCEPT KUBE-HEALTH-CHECK-NODE-PORT"],
      "KUBE-SERVICES": [
        "RETURN ",
        "KUBE-MARK-MASQ KUBE-CLUSTER-IP",
        "KUBE-NODE-PORT ",
        "ACCEPT KUBE-CLUSTER-IP",
      ],
    },
    packets: [
      {
        from: "outside",
        to: "100.101.102.103:3001",
        protocol: "UDP",
        endpoints: ["10.180.0.1:80"],
        masquerade: true,
      },
    ],
  },
  {
    name: "TestNodePortIPv4: service has node port but no endpoints",
    objects: svc(
      "  type: NodePort\n  clusterIP: 10.20.30.41\n  ports: [{name: p80, port: 80, protocol: TCP, nodePort: 3001}]\n",
    ),
    // "no real servers corresponding to no endpoints": IPVS answers ICMP port unreachable.
    virtualServers: { "-t 10.20.30.41:80": [], "-t 100.101.102.103:3001": [] },
    packets: [
      { from: "pod", to: "10.20.30.41:80", protocol: "TCP", endpoints: [], masquerade: false },
      { from: "outside", to: "100.101.102.103:3001", protocol: "TCP", endpoints: [], masquerade: false },
    ],
  },
  {
    name: "TestNodePortIPv4: node port service with protocol sctp and externalTrafficPolicy local",
    objects:
      svc(
        "  type: NodePort\n  clusterIP: 10.20.30.41\n  externalTrafficPolicy: Local\n  ports: [{name: p80, port: 80, protocol: SCTP, nodePort: 3001}]\n",
      ) + slice("SCTP", "10.180.0.1@test-node", "10.180.1.1@other-node"),
    virtualServers: {
      "--sctp-service 10.20.30.41:80": ["10.180.0.1:80/1", "10.180.1.1:80/1"],
      "--sctp-service 100.101.102.103:3001": ["10.180.0.1:80/1"],
    },
    sets: {
      "KUBE-NODE-PORT-SCTP-HASH": ["100.101.102.103,sctp:3001", "10.244.0.1,sctp:3001"],
      "KUBE-NODE-PORT-LOCAL-SCTP-HASH": ["100.101.102.103,sctp:3001", "10.244.0.1,sctp:3001"],
    },
    chains: {
      "KUBE-NODE-PORT": [
        "RETURN KUBE-NODE-PORT-LOCAL-SCTP-HASH",
        "KUBE-MARK-MASQ KUBE-NODE-PORT-SCTP-HASH",
        "ACCEPT KUBE-HEALTH-CHECK-NODE-PORT",
      ],
    },
    packets: [
      // externalTrafficPolicy Local: the local endpoint only, the client address kept.
      {
        from: "outside",
        to: "100.101.102.103:3001",
        protocol: "SCTP",
        endpoints: ["10.180.0.1:80"],
        masquerade: false,
      },
      // The ClusterIP's virtual server holds both (external policy does not apply to it).
      {
        from: "pod",
        to: "10.20.30.41:80",
        protocol: "SCTP",
        endpoints: ["10.180.0.1:80", "10.180.1.1:80"],
        masquerade: false,
      },
    ],
  },
];
