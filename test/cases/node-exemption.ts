/**
 * The two exceptions Kubernetes documents for NetworkPolicy — traffic between a pod and the node it
 * runs on always passes, and no policy keeps a pod from reaching itself — as a cluster every view is
 * tested on: the tracer under every CNI and both proxy judges, matrix and connlist, and the kernel.
 *
 *   node-1: web (ingress only from peer), locked (no egress at all), hn1 (host network)
 *   node-2: peer, hn2 (host network)          web is also a NodePort Service (30080)
 */
export const NODE_EXEMPTION_CLUSTER = (cni: string): string => `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: exempt}
spec: {nodes: 2, cni: ${cni}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: peer, namespace: default, labels: {app: peer}}
spec: {nodeName: node-2, containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: locked, namespace: default, labels: {app: locked}}
spec: {nodeName: node-1, containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: hn1, namespace: default, labels: {app: hn}}
spec: {nodeName: node-1, hostNetwork: true, containers: [{name: c, ports: [{containerPort: 9100}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: hn2, namespace: default, labels: {app: hn}}
spec: {nodeName: node-2, hostNetwork: true, containers: [{name: c, ports: [{containerPort: 9100}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80, targetPort: http, nodePort: 30080}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-peer, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: peer}}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: locked-egress, namespace: default}
spec:
  podSelector: {matchLabels: {app: locked}}
  policyTypes: [Egress]
`;
