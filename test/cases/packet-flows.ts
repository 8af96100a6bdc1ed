/**
 * Packet-flow cases shared by every judge of the network: the simulator today, the tracer over the
 * rendered nftables rules and the real kernel later. A case is {from, to, protocol, port} →
 * {verdict, endpoints, masquerade, what the receiver sees}.
 */

/** The cluster the cases run against; `cni` varies. */
export function flowCluster(cni: string, proxyMode = "nftables"): string {
  const pod = (name: string, node: string, labels: string, ports: string, extra = "") => `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: app, labels: {${labels}}${extra}}
spec:
  nodeName: ${node}
  containers: [{name: main, ports: [${ports}]}]
`;
  const svc = (name: string, spec: string) => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: app}
spec:
${spec}`;
  return `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: flows}
spec:
  cni: ${cni}
  proxyMode: ${proxyMode}
  nodes:
    - {name: n1, ip: 172.18.0.2, podCIDR: 10.244.0.0/24}
    - {name: n2, ip: 172.18.0.3, podCIDR: 10.244.1.0/24}
    - {name: n3, ip: 172.18.0.4, podCIDR: 10.244.2.0/24}
${pod("a", "n1", "role: client", "{containerPort: 7000}")}${pod("b", "n1", "role: web", "{name: http, containerPort: 8080}, {name: dns, containerPort: 53, protocol: UDP}, {name: sig, containerPort: 9000, protocol: SCTP}")}${pod("c", "n2", "role: web", "{name: http, containerPort: 8080}, {name: dns, containerPort: 53, protocol: UDP}, {name: sig, containerPort: 9000, protocol: SCTP}")}${pod("d", "n2", "role: leaving", "{containerPort: 8080}", ", deletionTimestamp: '2026-01-01T00:00:00Z'")}${pod("e", "n1", "role: lonely", "{containerPort: 8080}")}---
apiVersion: v1
kind: Pod
metadata: {name: exporter, namespace: app}
spec:
  nodeName: n3
  hostNetwork: true
  containers: [{name: exporter, ports: [{containerPort: 9100}]}]
${svc("web", "  clusterIP: 10.96.0.50\n  selector: {role: web}\n  ports: [{name: http, port: 80, targetPort: http}, {name: dns, port: 53, protocol: UDP, targetPort: dns}]\n")}${svc("web-local", "  clusterIP: 10.96.0.51\n  internalTrafficPolicy: Local\n  selector: {role: web}\n  ports: [{port: 80, targetPort: 8080}]\n")}${svc("web-np", "  type: NodePort\n  clusterIP: 10.96.0.52\n  selector: {role: web}\n  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]\n")}${svc("web-npl", "  type: NodePort\n  clusterIP: 10.96.0.53\n  externalTrafficPolicy: Local\n  selector: {role: lonely}\n  ports: [{port: 80, targetPort: 8080, nodePort: 30081}]\n")}${svc("empty", "  clusterIP: 10.96.0.54\n  selector: {role: nobody}\n  ports: [{port: 80}]\n")}${svc("lb", "  type: LoadBalancer\n  clusterIP: 10.96.0.55\n  loadBalancerSourceRanges: [192.0.2.0/24]\n  selector: {role: web}\n  ports: [{port: 443, targetPort: 8080, nodePort: 30443}]\n")}${svc("leaving", "  clusterIP: 10.96.0.56\n  selector: {role: leaving}\n  ports: [{port: 80, targetPort: 8080}]\n")}${svc("ext", "  clusterIP: 10.96.0.58\n  externalIPs: [192.0.2.80]\n  selector: {role: web}\n  ports: [{port: 80, targetPort: 8080}]\n")}${svc("signal", "  clusterIP: 10.96.0.59\n  selector: {role: web}\n  ports: [{name: sig, port: 9000, protocol: SCTP, targetPort: sig}]\n")}${svc("lb-local", "  type: LoadBalancer\n  clusterIP: 10.96.0.60\n  externalTrafficPolicy: Local\n  selector: {role: lonely}\n  ports: [{port: 80, targetPort: 8080, nodePort: 30082}]\n")}${svc("lb-empty", "  type: LoadBalancer\n  clusterIP: 10.96.0.61\n  selector: {role: nobody}\n  ports: [{port: 80, nodePort: 30083}]\n")}${svc("sticky", "  clusterIP: 10.96.0.57\n  sessionAffinity: ClientIP\n  selector: {role: web}\n  ports: [{port: 80, targetPort: 8080}]\n")}${svc("raw", "  clusterIP: 10.96.0.62\n  selector: {role: web}\n  ports: [{port: 80, targetPort: 8443}]\n")}`;
}

export interface FlowCase {
  name: string;
  from: string;
  /** As `podnet trace --to` takes it. */
  to: string;
  protocol?: "TCP" | "UDP";
  node?: string;
  expect: {
    verdict: "delivered" | "arrived" | "forwarded" | "dropped" | "rejected";
    /** Every endpoint the Service could pick (sorted), or [] when no Service matched. */
    endpoints?: string[];
    masquerade?: boolean;
    /** The source address the receiver sees. */
    seen?: string;
    /** The pod that receives it. */
    at?: string;
  };
  /** Where kube-proxy's iptables mode differs from its nftables mode, what it does instead. */
  iptables?: FlowCase["expect"];
  /** Where kube-proxy's IPVS mode differs from its nftables mode, what it does instead. */
  ipvs?: FlowCase["expect"];
}

const WEB = ["10.244.0.3:8080", "10.244.1.2:8080"];

export const FLOW_CASES: FlowCase[] = [
  {
    name: "pod to pod, same node (bridge)",
    from: "app/a",
    to: "app/b:8080",
    expect: { verdict: "delivered", endpoints: [], masquerade: false, seen: "10.244.0.2", at: "app/b" },
  },
  {
    name: "pod to pod, across nodes (overlay)",
    from: "app/a",
    to: "app/c:8080",
    expect: { verdict: "delivered", endpoints: [], masquerade: false, seen: "10.244.0.2", at: "app/c" },
  },
  {
    name: "pod to pod, a port nobody declares: arrives (whether a process listens is unknown)",
    from: "app/a",
    to: "app/c:9999",
    expect: { verdict: "arrived", endpoints: [] },
  },
  {
    name: "pod to pod, a port no container declares but a Service targets: delivered (known to be served)",
    from: "app/a",
    to: "app/c:8443",
    expect: { verdict: "delivered", endpoints: [], masquerade: false, seen: "10.244.0.2", at: "app/c" },
  },
  {
    name: "pod to a ClusterIP whose numeric targetPort no container declares: delivered",
    from: "app/a",
    to: "raw.app:80",
    expect: {
      verdict: "delivered",
      endpoints: ["10.244.0.3:8443", "10.244.1.2:8443"],
      masquerade: false,
      seen: "10.244.0.2",
    },
  },
  {
    name: "node to pod, a port nobody declares: arrives",
    from: "node/n1",
    to: "app/c:9999",
    expect: { verdict: "arrived", endpoints: [], masquerade: false },
  },
  {
    name: "pod to a node address, a port nobody declares: arrives at the node",
    from: "app/a",
    to: "node/n2:2222",
    expect: { verdict: "arrived", endpoints: [], masquerade: false },
  },
  {
    name: "outside client to a node address, a port nobody declares: arrives at the node",
    from: "203.0.113.7",
    node: "n3",
    to: "172.18.0.4:2222",
    expect: { verdict: "arrived", endpoints: [], masquerade: false },
  },
  {
    name: "pod to its own IP (loopback)",
    from: "app/b",
    to: "10.244.0.3:8080",
    expect: { verdict: "delivered", masquerade: false, at: "app/b" },
  },
  {
    name: "pod to ClusterIP: DNAT, no masquerade",
    from: "app/a",
    to: "web.app:http",
    expect: { verdict: "delivered", endpoints: WEB, masquerade: false, seen: "10.244.0.2" },
  },
  {
    name: "pod to ClusterIP over UDP",
    from: "app/a",
    to: "web.app:dns",
    expect: {
      verdict: "delivered",
      endpoints: ["10.244.0.3:53", "10.244.1.2:53"],
      masquerade: false,
      seen: "10.244.0.2",
    },
  },
  {
    name: "node to ClusterIP: masqueraded (source outside clusterCIDR)",
    from: "node/n3",
    to: "web.app:http",
    expect: { verdict: "delivered", endpoints: WEB, masquerade: true },
  },
  {
    name: "internalTrafficPolicy Local: only this node's endpoints",
    from: "app/a",
    to: "web-local.app:80",
    expect: { verdict: "delivered", endpoints: ["10.244.0.3:8080"], masquerade: false, at: "app/b" },
  },
  {
    name: "internalTrafficPolicy Local, no local endpoint: dropped",
    from: "node/n3",
    to: "web-local.app:80",
    expect: { verdict: "dropped", endpoints: [] },
    // pkg/proxy/ipvs syncEndpoint: no local endpoint, so the virtual server holds every endpoint (PR 97081).
    ipvs: { verdict: "delivered", endpoints: WEB, masquerade: true },
  },
  {
    name: "outside client to NodePort, externalTrafficPolicy Cluster: masqueraded",
    from: "203.0.113.7",
    node: "n3",
    to: "172.18.0.4:30080",
    expect: { verdict: "delivered", endpoints: WEB, masquerade: true },
  },
  {
    name: "outside client to NodePort, Local: local endpoint, client address kept",
    from: "203.0.113.7",
    node: "n1",
    to: "172.18.0.2:30081",
    expect: {
      verdict: "delivered",
      endpoints: ["10.244.0.4:8080"],
      masquerade: false,
      seen: "203.0.113.7",
      at: "app/e",
    },
  },
  {
    name: "outside client to NodePort, Local, no local endpoint: dropped",
    from: "203.0.113.7",
    node: "n2",
    to: "172.18.0.3:30081",
    expect: { verdict: "dropped", endpoints: [] },
    // IPVS: the virtual server falls back to every endpoint; KUBE-NODE-PORT-LOCAL-TCP returns before
    // the masquerade mark, so the client address is kept (and the pod's reply does not come back here).
    ipvs: {
      verdict: "delivered",
      endpoints: ["10.244.0.4:8080"],
      masquerade: false,
      seen: "203.0.113.7",
      at: "app/e",
    },
  },
  {
    name: "pod to another node's NodePort, Local: short-circuited to all endpoints",
    from: "app/c",
    to: "172.18.0.3:30081",
    expect: {
      verdict: "delivered",
      endpoints: ["10.244.0.4:8080"],
      masquerade: false,
      seen: "10.244.1.2",
      at: "app/e",
    },
  },
  {
    name: "ClusterIP without endpoints: rejected",
    from: "app/a",
    to: "10.96.0.54:80",
    expect: { verdict: "rejected", endpoints: [] },
  },
  {
    name: "ClusterIP on an undefined port: rejected (iptables mode: routed out like any address; IPVS: KUBE-IPVS-FILTER)",
    from: "app/a",
    to: "10.96.0.50:81",
    expect: { verdict: "rejected", endpoints: [] },
    iptables: { verdict: "forwarded", endpoints: [], masquerade: true },
  },
  {
    name: "unallocated address in serviceCIDR: dropped (iptables mode: routed out like any address)",
    from: "app/a",
    to: "10.96.0.99:80",
    expect: { verdict: "dropped", endpoints: [] },
    iptables: { verdict: "forwarded", endpoints: [], masquerade: true },
    ipvs: { verdict: "forwarded", endpoints: [], masquerade: true },
  },
  {
    name: "LoadBalancer source ranges: a client outside them is dropped",
    from: "203.0.113.7",
    node: "n1",
    to: "198.51.100.1:443",
    expect: { verdict: "dropped", endpoints: [] },
  },
  {
    name: "LoadBalancer source ranges: a client inside them is served (masqueraded)",
    from: "192.0.2.10",
    node: "n1",
    to: "198.51.100.1:443",
    expect: { verdict: "delivered", endpoints: WEB, masquerade: true },
  },
  {
    name: "only terminating endpoints: the serving ones are used",
    from: "app/a",
    to: "leaving.app:80",
    expect: { verdict: "delivered", endpoints: ["10.244.1.3:8080"], masquerade: false, at: "app/d" },
  },
  {
    name: "outside client to an externalIP: DNAT, masqueraded (externalTrafficPolicy Cluster)",
    from: "203.0.113.7",
    node: "n2",
    to: "192.0.2.80:80",
    expect: { verdict: "delivered", endpoints: WEB, masquerade: true },
  },
  {
    name: "pod to an externalIP: the same Service, masqueraded",
    from: "app/a",
    to: "192.0.2.80:80",
    expect: { verdict: "delivered", endpoints: WEB, masquerade: true },
  },
  {
    name: "pod to ClusterIP over SCTP",
    from: "app/a",
    to: "signal.app:sig",
    expect: {
      verdict: "delivered",
      endpoints: ["10.244.0.3:9000", "10.244.1.2:9000"],
      masquerade: false,
      seen: "10.244.0.2",
    },
  },
  {
    name: "node to a LoadBalancer IP, Local policy, no endpoint here: dropped before translation (iptables: short-circuited)",
    from: "node/n3",
    to: "198.51.100.3:80",
    expect: { verdict: "dropped", endpoints: [] },
    iptables: { verdict: "delivered", endpoints: ["10.244.0.4:8080"], masquerade: true, at: "app/e" },
    // IPVS: the LB IP is on kube-ipvs0, so the node's connection has it as source; KUBE-LOAD-BALANCER-LOCAL
    // returns before the mark, and the virtual server falls back to every endpoint.
    ipvs: {
      verdict: "delivered",
      endpoints: ["10.244.0.4:8080"],
      masquerade: false,
      seen: "198.51.100.3",
      at: "app/e",
    },
  },
  {
    name: "node to a LoadBalancer IP without endpoints: rejected (iptables: not on the output path, routed out)",
    from: "node/n3",
    to: "198.51.100.2:80",
    expect: { verdict: "rejected", endpoints: [] },
    iptables: { verdict: "forwarded", endpoints: [] },
  },
  {
    name: "pod to an outside address: forwarded with the CNI's masquerade",
    from: "app/a",
    to: "93.184.216.34:443",
    expect: { verdict: "forwarded", endpoints: [], masquerade: true },
  },
  {
    name: "pod to a host-network pod on a node",
    from: "app/a",
    to: "172.18.0.4:9100",
    expect: {
      verdict: "delivered",
      endpoints: [],
      masquerade: false,
      seen: "10.244.0.2",
      at: "app/exporter",
    },
  },
  {
    name: "node to pod on another node",
    from: "node/n3",
    to: "app/c:8080",
    expect: { verdict: "delivered", endpoints: [], masquerade: false, at: "app/c" },
  },
];
