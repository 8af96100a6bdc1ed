/**
 * A cluster in the shape of issue 12's application manifests: pods that declare no ports (as the
 * cilium demo's), Services that send to them on numeric target ports, a headless Service, a Service
 * one of whose two endpoints a policy guards, a namespace whose egress is denied (so its DNS query
 * never arrives), a Service without endpoints and every kind of Service frontend (ClusterIP,
 * nodePort with either traffic policy, externalIP, load-balancer IP). kube-dns is declared.
 */
export const UNDECLARED_PORTS_CLUSTER = `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: i12}
spec:
  nodes:
    - {name: n1, ip: 172.18.0.2, podCIDR: 10.244.0.0/24}
    - {name: n2, ip: 172.18.0.3, podCIDR: 10.244.1.0/24}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  nodeName: n1
  containers:
    - name: coredns
      ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec:
  clusterIP: 10.96.0.10
  selector: {k8s-app: kube-dns}
  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53}]
${pod("deathstar-1", "n1", "{org: empire, class: deathstar}")}${pod("deathstar-2", "n2", "{org: empire, class: deathstar}")}${pod("tiefighter", "n1", "{org: empire, class: tiefighter}")}${pod("xwing", "n2", "{org: alliance, class: xwing}")}${pod("db-0", "n1", "{app: db}")}${pod("db-1", "n2", "{app: db}")}${pod("shield-1", "n1", "{app: shield}")}${pod("shield-2", "n2", "{app: shield, guarded: 'yes'}")}${pod("hermit", "n2", "{app: hermit}", "locked")}---
apiVersion: v1
kind: Service
metadata: {name: deathstar, namespace: demo}
spec:
  clusterIP: 10.96.0.80
  selector: {class: deathstar}
  ports: [{port: 80, targetPort: 8000}]
---
apiVersion: v1
kind: Service
metadata: {name: deathstar-np, namespace: demo}
spec:
  type: NodePort
  clusterIP: 10.96.0.81
  selector: {class: deathstar}
  ports: [{port: 80, targetPort: 8000, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: deathstar-npl, namespace: demo}
spec:
  type: NodePort
  clusterIP: 10.96.0.82
  externalTrafficPolicy: Local
  selector: {class: deathstar}
  ports: [{port: 80, targetPort: 8000, nodePort: 30081}]
---
apiVersion: v1
kind: Service
metadata: {name: deathstar-ext, namespace: demo}
spec:
  clusterIP: 10.96.0.83
  externalIPs: [192.0.2.80]
  selector: {class: deathstar}
  ports: [{port: 80, targetPort: 8000}]
---
apiVersion: v1
kind: Service
metadata: {name: deathstar-lb, namespace: demo}
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.84
  selector: {class: deathstar}
  ports: [{port: 443, targetPort: 8000, nodePort: 30443}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: demo}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: shield, namespace: demo}
spec:
  clusterIP: 10.96.0.85
  selector: {app: shield}
  ports: [{port: 80, targetPort: 8000}]
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: demo}
spec:
  clusterIP: 10.96.0.86
  selector: {app: nobody}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: guard, namespace: demo}
spec:
  podSelector: {matchLabels: {guarded: "yes"}}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-egress, namespace: locked}
spec:
  podSelector: {}
  policyTypes: [Egress]
`;

function pod(name: string, node: string, labels: string, ns = "demo"): string {
  return `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: ${labels}}
spec:
  nodeName: ${node}
  containers: [{name: main}]
`;
}
