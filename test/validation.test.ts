/**
 * What podnet accepts equals what the API server accepts, in both directions, for every field podnet
 * reads. One table: for each kind and field, accepted and rejected examples transcribed from
 * upstream's validation code and tests (kubernetes pkg/apis/core/validation, pkg/apis/networking/
 * validation, apimachinery's util/validation and meta/v1/validation; network-policy-api's CRD rules),
 * each with the position of its message, and for accepted ones the value later stages read.
 * Then the behaviours built on them: named targetPorts, `-n NS` placement, unevaluated policy kinds.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveManifests } from "../src/core/cluster.ts";
import { Diagnostics, formatDiagnostic } from "../src/core/diagnostics.ts";
import { decodeObjects, type Inventory } from "../src/core/manifests/decode.ts";
import { parseSource } from "../src/core/manifests/parse.ts";
import { canonicalIP, parseCidrSloppy } from "../src/core/net/ipv4.ts";
import { cluster, pod, runPodnet, service, warnings } from "./helpers.ts";

interface Row {
  /** Kind, field, and the upstream rule. */
  name: string;
  yaml: string;
  /** `[line:col, text]` of the expected error; absent: the object is accepted without errors. */
  error?: [string, string];
  /** `[line:col, text]` of an expected warning. */
  warning?: [string, string];
  /** For accepted objects: what later stages read, and its value. */
  read?: (inv: Inventory) => unknown;
  value?: unknown;
}

const podSpec = (containers: string) => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
${containers}`;

const svc = (spec: string, meta = "") => `apiVersion: v1
kind: Service
metadata:
  name: s${meta}
spec:
${spec}`;

const netpol = (spec: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec:
  podSelector: {}
${spec}`;

const anp = (spec: string) => `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 10
${spec}`;

const firstSpec = (inv: Inventory, bucket: keyof Inventory) =>
  // biome-ignore lint/suspicious/noExplicitAny: test reads raw decoded fields
  ((inv[bucket] as { obj: any }[])[0]?.obj ?? {}) as any;

const ROWS: Row[] = [
  // ------------------------------------------------------------------ Pod: container ports
  {
    name: "Pod ports: two containers may both name a port http (uniqueness is per container)",
    yaml: podSpec(`  - {name: a, ports: [{name: http, containerPort: 8080}]}
  - {name: b, ports: [{name: http, containerPort: 9090}]}`),
  },
  {
    name: "Pod ports: one container naming two ports http is a duplicate",
    yaml: podSpec(`  - name: a
    ports:
    - {name: http, containerPort: 8080}
    - {name: http, containerPort: 9090}`),
    error: ["9:14", 'port name "http" is used twice in this container'],
  },
  {
    name: "Pod ports: an initContainer may reuse a container's port name",
    yaml: `${podSpec("  - {name: a, ports: [{name: http, containerPort: 8080}]}")}
  initContainers:
  - {name: i, restartPolicy: Always, ports: [{name: http, containerPort: 9090}]}`,
  },
  {
    name: "Pod ports: port names are IANA service names (lower case)",
    yaml: podSpec("  - {name: a, ports: [{name: HTTP, containerPort: 80}]}"),
    error: ["6:30", '"HTTP" is not a valid port name'],
  },
  {
    name: "Pod ports: a port name needs a letter",
    yaml: podSpec("  - {name: a, ports: [{name: '80', containerPort: 80}]}"),
    error: ["6:30", '"80" is not a valid port name'],
  },
  {
    name: "Pod ports: containerPort is 1-65535",
    yaml: podSpec("  - {name: a, ports: [{containerPort: 65536}]}"),
    error: ["6:39", "containerPort 65536 is out of range (1-65535)"],
  },
  {
    name: "Pod ports: hostPort 0 is unset (HostPort != 0)",
    yaml: podSpec("  - {name: a, ports: [{containerPort: 80, hostPort: 0}]}"),
  },
  {
    name: "Pod containers: names are unique across containers and initContainers",
    yaml: `${podSpec("  - {name: app}")}
  initContainers:
  - {name: app}`,
    error: ["8:12", 'container name "app" is used twice in this pod'],
  },
  {
    name: "Pod containers: a null container is the zero container, whose name is missing",
    yaml: podSpec("  -"),
    error: ["6:4", "container name is required"],
  },
  // ------------------------------------------------------------------ Pod: addresses
  {
    name: "Pod status.podIP: leading zeros are accepted (legacy field) and read as decimal",
    yaml: `${podSpec("  - {name: a}")}
status: {podIP: 010.001.002.003}`,
    read: (inv) => firstSpec(inv, "pods").status.podIP,
    value: "10.1.2.3",
  },
  {
    name: "Pod status.podIP: surrounding spaces are refused",
    yaml: `${podSpec("  - {name: a}")}
status: {podIP: " 10.0.0.1"}`,
    error: ["7:17", '" 10.0.0.1" is not a valid IP address'],
  },
  {
    name: "Pod status.podIPs[].ip: an octet above 255 is refused",
    yaml: `${podSpec("  - {name: a}")}
status: {podIPs: [{ip: 10.0.0.256}]}`,
    error: ["7:24", '"10.0.0.256" is not a valid IP address'],
  },
  {
    name: "Pod dnsConfig.nameservers: legacy IP field, read canonical",
    yaml: `${podSpec("  - {name: a}")}
  dnsPolicy: None
  dnsConfig: {nameservers: [1.1.1.01]}`,
    read: (inv) => firstSpec(inv, "pods").spec.dnsConfig.nameservers,
    value: ["1.1.1.1"],
  },
  // ------------------------------------------------------------------ Pod: label maps and selectors
  {
    name: "Pod nodeSelector: YAML 1.1 `yes` is a boolean, not a label value",
    yaml: `${podSpec("  - {name: a}")}
  nodeSelector: {disk: yes}`,
    error: [
      "7:24",
      'label value must be a string, found yes (YAML 1.1 reads it as the boolean true)\n  fix: quote it: disk: "yes"',
    ],
  },
  {
    name: "Pod nodeSelector: the label key's prefix must be a DNS subdomain",
    yaml: `${podSpec("  - {name: a}")}
  nodeSelector: {Example.com/disk: ssd}`,
    error: ["7:36", 'label key "Example.com/disk" has an invalid prefix'],
  },
  {
    name: "Pod node affinity: a requirement's key is a label name",
    yaml: `${podSpec("  - {name: a}")}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: "bad key", operator: Exists}]`,
    error: ["11:36", 'label key "bad key" is invalid'],
  },
  {
    name: "Pod node affinity: Exists takes no values",
    yaml: `${podSpec("  - {name: a}")}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: zone, operator: Exists, values: [a]}]`,
    error: ["11:68", "values may not be specified when operator is Exists"],
  },
  {
    name: "Pod node affinity: Gt takes one value, not checked to be an integer (the term then matches no node)",
    yaml: `${podSpec("  - {name: a}")}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: cores, operator: Gt, values: [many]}]`,
  },
  {
    name: "Pod node affinity: Lt with two values is refused",
    yaml: `${podSpec("  - {name: a}")}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: cores, operator: Lt, values: ["1", "2"]}]`,
    error: ["11:65", "Lt needs exactly one value"],
  },
  {
    name: "Pod node affinity: a term needs a requirement",
    yaml: `${podSpec("  - {name: a}")}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{}]`,
    error: ["10:29", "must have at least one node selector requirement"],
  },
  {
    name: "Pod node affinity: matchFields selects metadata.name only",
    yaml: `${podSpec("  - {name: a}")}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchFields: [{key: spec.nodeName, operator: In, values: [n1]}]`,
    error: ["11:31", '"spec.nodeName" is not a valid field selector key'],
  },
  {
    name: "Pod node affinity: matchFields metadata.name In one node is fine",
    yaml: `${podSpec("  - {name: a}")}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchFields: [{key: metadata.name, operator: In, values: [n1]}]`,
  },
  {
    name: "Pod labels: a key with nothing after it is the empty value (JSON null into a string map)",
    yaml: `apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: {app: web, canary: }
spec: {containers: [{name: a}]}`,
    warning: ["5:30", 'label canary has no value; Kubernetes reads it as the empty value ""'],
    read: (inv) => firstSpec(inv, "pods").metadata.labels,
    value: { app: "web", canary: "" },
  },
  {
    name: "Pod tolerations: an empty key needs operator Exists",
    yaml: `${podSpec("  - {name: a}")}
  tolerations: [{effect: NoSchedule}]`,
    error: ["7:17", "operator must be Exists when key is empty"],
  },
  {
    name: "Pod tolerations: operator and effect may be empty strings (Equal, every effect)",
    yaml: `${podSpec("  - {name: a}")}
  tolerations: [{key: dedicated, operator: "", value: ml, effect: ""}]`,
  },
  {
    name: "Pod tolerations: Exists takes no value",
    yaml: `${podSpec("  - {name: a}")}
  tolerations: [{key: dedicated, operator: Exists, value: ml}]`,
    error: ["7:59", "value must be empty when operator is Exists"],
  },
  // ------------------------------------------------------------------ workloads
  {
    name: "Deployment selector.matchLabels: a boolean value is refused",
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector: {matchLabels: {app: true}}
  template:
    metadata: {labels: {app: "true"}}
    spec: {containers: [{name: a}]}`,
    error: ["5:33", "label value must be a string, found boolean true"],
  },
  {
    name: "Deployment selector.matchExpressions: the key is a label name",
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector:
    matchLabels: {app: a}
    matchExpressions: [{key: -bad, operator: Exists}]
  template:
    metadata: {labels: {app: a}}
    spec: {containers: [{name: a}]}`,
    error: ["7:30", 'label key "-bad" is invalid'],
  },
  {
    name: "Deployment selector.matchExpressions: each value is a label value",
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector:
    matchLabels: {app: a}
    matchExpressions: [{key: tier, operator: In, values: ["a b"]}]
  template:
    metadata: {labels: {app: a}}
    spec: {containers: [{name: a}]}`,
    error: ["7:59", 'label value "a b" is invalid'],
  },
  {
    name: "Deployment template labels: `on` is a YAML 1.1 boolean",
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a, tier: on}}
    spec: {containers: [{name: a}]}`,
    error: ["7:39", "label value must be a string, found on (YAML 1.1 reads it as the boolean true)"],
  },
  {
    name: "Deployment selector: matchLabels {} with no expressions is an empty selector",
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector: {matchLabels: {}}
  template:
    metadata: {labels: {app: a}}
    spec: {containers: [{name: a}]}`,
    error: ["5:13", "an empty selector is not allowed here"],
  },
  {
    name: "Deployment selector: matchExpressions must match the template's labels too",
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector:
    matchLabels: {app: a}
    matchExpressions: [{key: tier, operator: In, values: [web]}]
  template:
    metadata: {labels: {app: a, tier: db}}
    spec: {containers: [{name: a}]}`,
    error: ["7:24", "selector requires tier in (web) but the template's labels do not satisfy it"],
  },
  {
    name: "Deployment selector: a NotIn requirement the template satisfies",
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector:
    matchLabels: {app: a}
    matchExpressions: [{key: tier, operator: NotIn, values: [web]}]
  template:
    metadata: {labels: {app: a, tier: db}}
    spec: {containers: [{name: a}]}`,
  },
  // ------------------------------------------------------------------ Service
  {
    name: "Service loadBalancerSourceRanges: surrounding spaces are trimmed (a historical leniency)",
    yaml: svc(`  type: LoadBalancer
  ports: [{port: 80}]
  loadBalancerSourceRanges: [" 203.0.113.0/25"]`),
    read: (inv) => firstSpec(inv, "services").spec.loadBalancerSourceRanges,
    value: ["203.0.113.0/25"],
  },
  {
    name: "Service loadBalancerSourceRanges: host bits are accepted and cleared (ParseCIDRSloppy)",
    yaml: svc(`  type: LoadBalancer
  ports: [{port: 80}]
  loadBalancerSourceRanges: [203.0.113.7/25]`),
    read: (inv) => firstSpec(inv, "services").spec.loadBalancerSourceRanges,
    value: ["203.0.113.0/25"],
  },
  {
    name: "Service loadBalancerSourceRanges: a prefix above 32 is refused",
    yaml: svc(`  type: LoadBalancer
  ports: [{port: 80}]
  loadBalancerSourceRanges: [203.0.113.0/33]`),
    error: ["8:30", '"203.0.113.0/33" is not a valid CIDR'],
  },
  {
    name: "Service loadBalancerSourceRanges: only on type LoadBalancer",
    yaml: svc(`  ports: [{port: 80}]
  loadBalancerSourceRanges: [10.0.0.0/8]`),
    error: ["7:29", "loadBalancerSourceRanges may only be used when type is LoadBalancer"],
  },
  {
    name: "Service source-ranges annotation: comma-separated, each trimmed",
    yaml: svc(
      `  type: LoadBalancer
  ports: [{port: 80}]`,
      `
  annotations: {service.beta.kubernetes.io/load-balancer-source-ranges: "10.0.0.0/8, 192.168.0.0/16 "}`,
    ),
  },
  {
    name: "Service source-ranges annotation: each part must be a CIDR",
    yaml: svc(
      `  type: LoadBalancer
  ports: [{port: 80}]`,
      `
  annotations: {service.beta.kubernetes.io/load-balancer-source-ranges: "10.0.0.0/8,bogus"}`,
    ),
    error: ["5:73", '"bogus" is not a valid CIDR'],
  },
  {
    name: "Service clusterIP: leading zeros accepted (legacy field), read as decimal",
    yaml: svc(`  clusterIP: 10.96.0.010
  ports: [{port: 80}]`),
    read: (inv) => firstSpec(inv, "services").spec.clusterIP,
    value: "10.96.0.10",
  },
  {
    name: "Service externalIPs: trailing space refused (only the source ranges are trimmed)",
    yaml: svc(`  ports: [{port: 80}]
  externalIPs: ["1.2.3.4 "]`),
    error: ["7:17", '"1.2.3.4 " is not a valid IP address'],
  },
  {
    name: "Service selector: `yes` is a boolean (ValidateLabels)",
    yaml: svc(`  selector: {app: yes}
  ports: [{port: 80}]`),
    error: ["6:19", "label value must be a string, found yes (YAML 1.1 reads it as the boolean true)"],
  },
  {
    name: "Service status.loadBalancer.ingress.ip: IPv4-mapped IPv6 is the IPv4 address",
    yaml: `${svc(`  type: LoadBalancer
  ports: [{port: 80}]`)}
status: {loadBalancer: {ingress: [{ip: "::ffff:203.0.113.9"}]}}`,
    read: (inv) => firstSpec(inv, "services").status.loadBalancer.ingress[0].ip,
    value: "203.0.113.9",
  },
  {
    name: "Service ports: two ports of one name are a duplicate",
    yaml: svc(`  ports: [{name: web, port: 80}, {name: web, port: 81}]`),
    error: ["6:41", 'port name "web" is used twice'],
  },
  {
    name: "Service ports: nodePort 0 is unset (NodePort != 0), so a ClusterIP Service may show it",
    yaml: svc("  ports: [{port: 80, nodePort: 0}]"),
    read: (inv) => "nodePort" in firstSpec(inv, "services").spec.ports[0],
    value: false,
  },
  // -------------------------------------------- unknown fields (kubectl's strict validation rejects them)
  {
    name: "NetworkPolicy spec: a misspelt ingress is an unknown field, named with the fields there are",
    yaml: netpol(`  ingres:
  - from: [{podSelector: {}}]`),
    warning: ["7:3", 'unknown field "ingres": podnet ignores it'],
  },
  {
    name: "NetworkPolicy spec: podselector differs from podSelector only in case",
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec:
  podselector: {}`,
    warning: ["5:16", 'unknown field "podselector"'],
  },
  {
    name: "NetworkPolicy peer: an unknown key beside a selector",
    yaml: netpol(`  ingress:
  - from: [{podSelector: {}, namspaceSelector: {}}]`),
    warning: ["7:48", 'unknown field "namspaceSelector"'],
  },
  {
    name: "label selector: matchLabel (singular) is refused",
    yaml: netpol(`  ingress:
  - from: [{podSelector: {matchLabel: {app: a}}}]`),
    error: ["7:39", 'unknown selector field "matchLabel"'],
  },
  {
    name: "label selector: an unknown key in a requirement",
    yaml: netpol(`  ingress:
  - from: [{podSelector: {matchExpressions: [{key: a, operator: Exists, value: [x]}]}}]`),
    warning: ["7:80", 'unknown field "value"'],
  },
  {
    name: "Service spec: selectr is an unknown field",
    yaml: svc(`  selectr: {app: a}
  ports: [{port: 80}]`),
    warning: ["6:12", 'unknown field "selectr"'],
  },
  {
    name: "Pod spec: nodeselector differs from nodeSelector only in case",
    yaml: podSpec(`  - name: c
  nodeselector: {a: b}`),
    warning: ["7:17", 'unknown field "nodeselector"'],
  },
  {
    name: "Pod tolerations: an unknown key in a toleration (tolerationSecond) is named",
    yaml: podSpec(`  - name: c
  tolerations: [{key: a, operator: Exists, tolerationSecond: 5}]`),
    warning: ["7:62", 'unknown field "tolerationSecond"'],
  },
  {
    name: "Pod affinity: nodeAfinity is named, with nodeAffinity as the fix",
    yaml: podSpec(`  - name: c
  affinity:
    nodeAfinity: {}`),
    warning: ["8:18", 'unknown field "nodeAfinity"'],
  },
  {
    name: "Pod nodeAffinity: a misspelt required term list is named",
    yaml: podSpec(`  - name: c
  affinity:
    nodeAffinity:
      requiredDuringScheduling: {}`),
    warning: ["9:33", 'unknown field "requiredDuringScheduling"'],
  },
  {
    name: "Pod nodeAffinity: an unknown key in a node selector requirement (value for values)",
    yaml: podSpec(`  - name: c
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: a, operator: In, values: [x], value: y}]`),
    warning: ["11:73", 'unknown field "value"'],
  },
  {
    name: "Pod dnsConfig: nameserver (singular) is named",
    yaml: podSpec(`  - name: c
  dnsConfig: {nameserver: [1.1.1.1]}`),
    warning: ["7:27", 'unknown field "nameserver"'],
  },
  {
    name: "Node spec: podCidr differs from podCIDR only in case",
    yaml: `apiVersion: v1
kind: Node
metadata: {name: n1}
spec: {podCidr: 10.244.0.0/24}`,
    warning: ["4:17", 'unknown field "podCidr"'],
  },
  {
    name: "Node taints: an unknown key in a taint",
    yaml: `apiVersion: v1
kind: Node
metadata: {name: n1}
spec:
  taints: [{key: a, effect: NoSchedule, operator: Exists}]`,
    warning: ["5:51", 'unknown field "operator"'],
  },
  {
    name: "Service ports: targetPort 0 defaults to the port (SetDefaults_Service)",
    yaml: svc("  ports: [{port: 80, targetPort: 0}]"),
    read: (inv) => firstSpec(inv, "services").spec.ports[0].targetPort,
    value: 80,
  },
  {
    name: 'Service ports: targetPort "" defaults to the port (SetDefaults_Service)',
    yaml: svc('  ports: [{port: 80, targetPort: ""}]'),
    read: (inv) => firstSpec(inv, "services").spec.ports[0].targetPort,
    value: 80,
  },
  {
    name: "Service ports: a nodePort on type ClusterIP is forbidden",
    yaml: svc("  ports: [{port: 80, nodePort: 30080}]"),
    error: ["6:32", "a nodePort may not be used when type is ClusterIP"],
  },
  {
    name: "Service ports: a nodePort on an ExternalName Service is accepted and ignored",
    yaml: svc(`  type: ExternalName
  externalName: db.example.com
  ports: [{port: 80, nodePort: 30080}]`),
    warning: ["8:32", "a nodePort on an ExternalName Service is ignored"],
  },
  {
    name: "AdminNetworkPolicy rules: a null list item is refused (CRD list items are objects)",
    yaml: anp(`  subject: {namespaces: {}}
  ingress:
  -`),
    error: ["8:4", "expected a map, found null"],
  },
  // ------------------------------------------------------------------ Ingress
  {
    name: "Ingress: either defaultBackend or rules must be specified",
    yaml: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec: {ingressClassName: nginx}`,
    error: ["4:7", "either defaultBackend or rules must be specified"],
  },
  {
    name: "Ingress backend port: a name or a number, not both",
    yaml: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec:
  defaultBackend: {service: {name: web, port: {name: http, number: 80}}}`,
    error: ["5:47", "cannot set both port name and port number"],
  },
  {
    name: "Ingress backend port: one of them is required",
    yaml: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec:
  defaultBackend: {service: {name: web}}`,
    error: ["5:20", "port name or number is required"],
  },
  {
    name: "Ingress backend: the Service name is a DNS-1035 label",
    yaml: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec:
  defaultBackend: {service: {name: Web, port: {number: 80}}}`,
    error: ["5:36", '"Web" is not a valid DNS-1035 label'],
  },
  {
    name: "Ingress backend port: a named Service port",
    yaml: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}`,
  },
  {
    name: "Service name: a DNS-1035 label, so it starts with a letter",
    yaml: `apiVersion: v1
kind: Service
metadata: {name: 1web}
spec: {ports: [{port: 80}]}`,
    error: ["3:18", '"1web" is not a valid DNS-1035 label'],
  },
  {
    name: "Service externalName: a lower-case DNS subdomain, trailing dot allowed",
    yaml: svc(`  type: ExternalName
  externalName: db.example.com.`),
  },
  {
    name: "Service externalName: upper case is refused (IsDNS1123Subdomain)",
    yaml: svc(`  type: ExternalName
  externalName: DB.example.com`),
    error: ["7:17", '"DB.example.com" is not a valid DNS-1123 subdomain'],
  },
  // ------------------------------------------------------------------ Endpoints, EndpointSlice
  {
    name: "Endpoints addresses[].ip: legacy field, read canonical",
    yaml: `apiVersion: v1
kind: Endpoints
metadata: {name: e}
subsets: [{addresses: [{ip: 10.0.0.07}], ports: [{port: 80}]}]`,
    read: (inv) => firstSpec(inv, "endpoints").subsets[0].addresses[0].ip,
    value: "10.0.0.7",
  },
  {
    name: "Endpoints addresses[].ip: loopback is refused (ValidateEndpointIP)",
    yaml: `apiVersion: v1
kind: Endpoints
metadata: {name: e}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{port: 80}]}]`,
    error: ["4:29", "127.0.0.1 may not be in the loopback range (127.0.0.0/8)"],
  },
  {
    name: "EndpointSlice addresses: link-local is refused (ValidateEndpointIP)",
    yaml: `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: e}
addressType: IPv4
endpoints: [{addresses: [169.254.169.254]}]`,
    error: ["5:26", "169.254.169.254 may not be in the link-local range (169.254.0.0/16)"],
  },
  {
    name: "Service externalIPs: unspecified is refused (ValidateEndpointIP, for historical reasons)",
    yaml: svc(`  ports: [{port: 80}]
  externalIPs: [0.0.0.0]`),
    error: ["7:17", "0.0.0.0 may not be unspecified (0.0.0.0)"],
  },
  {
    name: "Service externalIPs: a global multicast address is not refused (upstream allows it)",
    yaml: svc(`  ports: [{port: 80}]
  externalIPs: [239.1.1.1]`),
  },
  {
    name: "EndpointSlice: an IPv4 slice holds IPv4 addresses only",
    yaml: `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: e}
addressType: IPv4
endpoints: [{addresses: ["fd00::1"]}]`,
    error: ["5:26", "fd00::1 is not an IPv4 address"],
  },
  // ------------------------------------------------------------------ NetworkPolicy
  {
    name: "NetworkPolicy peer matchLabels: `yes` is a boolean and would match nothing",
    yaml: netpol(`  ingress:
  - from:
    - podSelector:
        matchLabels: {access: yes}`),
    error: [
      "9:31",
      'label value must be a string, found yes (YAML 1.1 reads it as the boolean true)\n  fix: quote it: access: "yes"',
    ],
  },
  {
    name: "NetworkPolicy peer: a null namespaceSelector is no peer (must specify a peer)",
    yaml: netpol(`  ingress:
  - from:
    - namespaceSelector:`),
    error: ["8:7", "must specify a peer"],
  },
  {
    name: "NetworkPolicy peer: an empty peer is no peer",
    yaml: netpol(`  egress:
  - to:
    - {}`),
    error: ["8:7", "must specify a peer"],
  },
  {
    name: "NetworkPolicy peer: podSelector with a null namespaceSelector is the policy's own namespace",
    yaml: netpol(`  ingress:
  - from:
    - podSelector: {matchLabels: {app: a}}
      namespaceSelector:`),
    read: (inv) => Object.keys(firstSpec(inv, "networkPolicies").spec.ingress[0].from[0]),
    value: ["podSelector"],
  },
  {
    name: "NetworkPolicy peer: namespaceSelector {} selects every namespace",
    yaml: netpol(`  ingress:
  - from:
    - namespaceSelector: {}`),
  },
  {
    name: "NetworkPolicy rules: a null rule (`-` alone) is the zero rule, which allows everything",
    yaml: netpol(`  ingress:
  -`),
    read: (inv) => firstSpec(inv, "networkPolicies").spec.ingress,
    value: [{}],
  },
  {
    name: "NetworkPolicy ports: a null port is the zero port: every TCP port",
    yaml: netpol(`  egress:
  - ports:
    -`),
    read: (inv) => firstSpec(inv, "networkPolicies").spec.egress[0].ports,
    value: [{ protocol: "TCP" }],
  },
  {
    name: "NetworkPolicy ipBlock.cidr: host bits accepted (legacy) and cleared, as the plugins mask",
    yaml: netpol(`  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.5/24}`),
    read: (inv) => firstSpec(inv, "networkPolicies").spec.egress[0].to[0].ipBlock.cidr,
    value: "10.0.0.0/24",
  },
  {
    name: "NetworkPolicy ipBlock.cidr: leading zeros accepted, read as decimal",
    yaml: netpol(`  egress:
  - to:
    - ipBlock: {cidr: 010.0.0.0/08}`),
    read: (inv) => firstSpec(inv, "networkPolicies").spec.egress[0].to[0].ipBlock.cidr,
    value: "10.0.0.0/8",
  },
  {
    name: "NetworkPolicy ipBlock.except: must lie inside cidr",
    yaml: netpol(`  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}`),
    error: ["8:45", "must be a strict subset of cidr"],
  },
  {
    name: "NetworkPolicy ipBlock.except: equal to cidr is not a strict subset",
    yaml: netpol(`  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}`),
    error: ["8:45", "must be a strict subset of cidr"],
  },
  {
    name: "NetworkPolicy ipBlock.except: a smaller block inside cidr is fine",
    yaml: netpol(`  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.0/16, except: [10.0.3.0/24]}`),
  },
  {
    name: "NetworkPolicy peer: ipBlock may not be combined with a selector",
    yaml: netpol(`  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.0/8}
      podSelector: {}`),
    error: ["8:7", "ipBlock cannot be combined with podSelector or namespaceSelector"],
  },
  {
    name: "NetworkPolicy ports: endPort needs a numeric port",
    yaml: netpol(`  ingress:
  - ports: [{port: http, endPort: 90}]`),
    error: ["7:35", "endPort requires a numeric port"],
  },
  {
    name: "NetworkPolicy podSelector: In needs values",
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec:
  podSelector: {matchExpressions: [{key: app, operator: In}]}`,
    error: ["5:36", "values must be non-empty when operator is In"],
  },
  {
    name: "NetworkPolicy policyTypes: Ingress or Egress",
    yaml: netpol("  policyTypes: [Both]"),
    error: ["6:17", '"Both" is not one of Ingress, Egress'],
  },
  {
    name: "NetworkPolicy policyTypes: at most two",
    yaml: netpol("  policyTypes: [Ingress, Egress, Ingress]"),
    error: ["6:16", "may not specify more than two policyTypes"],
  },
  {
    name: "NetworkPolicy podSelector: a label value is at most 63 characters",
    yaml: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec:
  podSelector: {matchLabels: {app: ${"a".repeat(64)}}}`,
    error: ["5:36", "is invalid (at most 63 characters"],
  },
  // ------------------------------------------------------------------ admin tiers
  {
    name: "AdminNetworkPolicy subject: matchLabels `yes` refused",
    yaml: anp(`  subject:
    namespaces: {matchLabels: {team: yes}}`),
    error: ["7:38", "label value must be a string, found yes (YAML 1.1 reads it as the boolean true)"],
  },
  {
    name: "AdminNetworkPolicy peer: a null field is pruned, leaving no field (minProperties 1)",
    yaml: anp(`  subject: {namespaces: {}}
  ingress:
  - action: Deny
    from:
    - namespaces:`),
    error: ["10:7", "a peer needs exactly one field"],
  },
  {
    name: "AdminNetworkPolicy peer: at most one field (maxProperties 1)",
    yaml: anp(`  subject: {namespaces: {}}
  ingress:
  - action: Deny
    from:
    - namespaces: {}
      pods: {namespaceSelector: {}, podSelector: {}}`),
    error: ["10:7", "a peer takes exactly one field; this one has namespaces and pods"],
  },
  {
    name: "AdminNetworkPolicy networks: CEL requires the network address (no host bits)",
    yaml: anp(`  subject: {namespaces: {}}
  egress:
  - action: Deny
    to:
    - networks: [10.0.0.5/24]`),
    error: ["10:18", '"10.0.0.5/24" has host bits set; the network address is 10.0.0.0/24'],
  },
  {
    name: "AdminNetworkPolicy networks: CEL isCIDR refuses leading zeros",
    yaml: anp(`  subject: {namespaces: {}}
  egress:
  - action: Deny
    to:
    - networks: [010.0.0.0/24]`),
    error: ["10:18", '"010.0.0.0/24" is not a valid CIDR'],
  },
  {
    name: "AdminNetworkPolicy networks: a network address is fine",
    yaml: anp(`  subject: {namespaces: {}}
  egress:
  - action: Deny
    to:
    - networks: [10.0.0.0/24, "fd00::/64"]`),
  },
  {
    name: "AdminNetworkPolicy ports: each entry exactly one of portNumber, portRange, namedPort",
    yaml: anp(`  subject: {namespaces: {}}
  ingress:
  - action: Deny
    from: [{namespaces: {}}]
    ports:
    - {portNumber: {protocol: TCP, port: 80}, namedPort: http}`),
    error: ["11:7", "a port takes exactly one field; this one has portNumber and namedPort"],
  },
  {
    name: "AdminNetworkPolicy priority: 0-1000",
    yaml: `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 1001
  subject: {namespaces: {}}`,
    error: ["5:13", "priority 1001 is out of range (0-1000)"],
  },
  // ------------------------------------------------------------------ Node, Namespace
  {
    name: "Node podCIDR: legacy CIDR, host bits accepted and cleared",
    yaml: `apiVersion: v1
kind: Node
metadata: {name: n1}
spec: {podCIDR: 10.244.1.7/24}`,
    read: (inv) => firstSpec(inv, "nodes").spec.podCIDR,
    value: "10.244.1.0/24",
  },
  {
    name: "Node addresses: legacy IP, read canonical",
    yaml: `apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 192.168.001.010}]}`,
    read: (inv) => firstSpec(inv, "nodes").status.addresses[0].address,
    value: "192.168.1.10",
  },
  {
    name: "Node taints: an effect is required",
    yaml: `apiVersion: v1
kind: Node
metadata: {name: n1}
spec: {taints: [{key: dedicated, value: ml}]}`,
    error: ["4:17", "taint effect is required"],
  },
  {
    name: "Namespace labels: `on` is a YAML 1.1 boolean",
    yaml: `apiVersion: v1
kind: Namespace
metadata:
  name: team
  labels: {monitored: on}`,
    error: ["5:23", "label value must be a string, found on (YAML 1.1 reads it as the boolean true)"],
  },
  // ------------------------------------------------------------------ unknown fields at every level
  {
    name: "Container: portss is an unknown field (strict validation), named with the field meant",
    yaml: podSpec("  - name: a\n    portss: [{containerPort: 80}]"),
    warning: ["7:13", 'unknown field "portss"'],
  },
  {
    name: "Container: an ephemeral container may name its targetContainerName",
    yaml: `${podSpec("  - {name: a}")}
  ephemeralContainers:
  - {name: debug, targetContainerName: a}`,
  },
  {
    name: "metadata: label is an unknown field of ObjectMeta",
    yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, label: {a: b}}\nspec: {containers: [{name: a}]}\n",
    warning: ["3:28", 'unknown field "label"'],
  },
  {
    name: "a top-level specs is an unknown field (and the Service's spec is then missing)",
    yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspecs: {ports: [{port: 80}]}\n",
    error: ["1:1", "spec is required"],
    warning: ["4:8", 'unknown field "specs"'],
  },
  {
    name: "EndpointSlice: addressType, endpoints and ports are its top-level fields",
    yaml: "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: IPv4\nendpoints: []\nports: []\n",
  },
  {
    name: "Deployment spec: replica is an unknown field",
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  replica: 3
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec: {containers: [{name: a}]}`,
    warning: ["5:12", 'unknown field "replica"'],
  },
  {
    name: "CronJob: the Job template's spec fields are a Job's",
    yaml: `apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: "@hourly"
  jobTemplate:
    spec:
      backoffLimits: 2
      template: {spec: {restartPolicy: Never, containers: [{name: a}]}}`,
    warning: ["8:22", 'unknown field "backoffLimits"'],
  },
  {
    name: "pod template metadata: labelz is an unknown field (the labels would be lost)",
    yaml: `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}, labelz: {tier: web}}
    spec: {containers: [{name: a}]}`,
    warning: ["7:42", 'unknown field "labelz"'],
  },
  // ------------------------------------------------------------------ kinds
  {
    name: "kind: a name of Object.prototype is no kind (kubectl: no matches for kind)",
    yaml: "apiVersion: v1\nkind: constructor\nmetadata: {name: x}\n",
    error: ["2:7", 'no kind "constructor" in the core API group'],
  },
  {
    name: "kind: toString in apps/v1 is no kind either",
    yaml: "apiVersion: apps/v1\nkind: toString\nmetadata: {name: x}\n",
    error: ["2:7", 'no kind "toString" in API group apps'],
  },
  {
    name: "Calico CRD kinds: IPPools is a near miss of IPPool, which no Calico release defines",
    yaml: "apiVersion: crd.projectcalico.org/v1\nkind: IPPools\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/16}\n",
    error: ["2:7", 'no kind "IPPools" in API group crd.projectcalico.org'],
  },
  {
    name: "Calico API server kinds: IPpool (projectcalico.org/v3) is a near miss of IPPool",
    yaml: "apiVersion: projectcalico.org/v3\nkind: IPpool\nmetadata: {name: p}\nspec: {cidr: 10.0.0.0/16}\n",
    error: ["2:7", 'no kind "IPpool" in API group projectcalico.org'],
  },
  {
    name: "Calico kinds podnet does not read (BGPPeer) are skipped, not refused",
    yaml: "apiVersion: crd.projectcalico.org/v1\nkind: BGPPeer\nmetadata: {name: p}\nspec: {peerIP: 192.0.2.1}\n",
    warning: ["1:1", "skipped 1 object of kind BGPPeer"],
  },
  {
    name: "a Calico kind podnet cannot know (a newer release's) is skipped, not refused",
    yaml: "apiVersion: crd.projectcalico.org/v1\nkind: LiveMigrationPolicy\nmetadata: {name: p}\n",
    warning: ["1:1", "skipped 1 object of kind LiveMigrationPolicy"],
  },
];

function decode(yaml: string, opts: { namespace?: string } = {}) {
  const diags = new Diagnostics();
  const inv = decodeObjects(parseSource({ file: "test.yaml", text: yaml }, diags), diags, opts);
  return { inv, diags };
}

describe("validation equals the API server's: one row per kind and field", () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const { inv, diags } = decode(row.yaml);
      const errs = diags.items.filter((d) => d.severity === "error").map(formatDiagnostic);
      const warns = diags.items.filter((d) => d.severity === "warning").map(formatDiagnostic);
      if (row.error) {
        const [pos, text] = row.error;
        assert.ok(
          errs.some((e) => e.startsWith(`test.yaml:${pos}: error:`) && e.includes(text)),
          `expected an error at ${pos} with "${text}", got:\n${errs.join("\n") || "(no errors)"}`,
        );
      } else {
        assert.deepEqual(errs, [], "expected no errors");
      }
      if (row.warning) {
        const [pos, text] = row.warning;
        assert.ok(
          warns.some((w) => w.startsWith(`test.yaml:${pos}: warning:`) && w.includes(text)),
          `expected a warning at ${pos} with "${text}", got:\n${warns.join("\n") || "(no warnings)"}`,
        );
      }
      if (row.read) assert.deepEqual(row.read(inv), row.value);
    });
  }
});

describe("what the accepted values then mean", () => {
  it("a Service targetPort: http uses the first container's port of that name (podutil.FindPort)", () => {
    const state = cluster(`apiVersion: v1
kind: Pod
metadata: {name: p, labels: {app: a}}
spec:
  containers:
  - {name: a, ports: [{name: http, containerPort: 8080}]}
  - {name: b, ports: [{name: http, containerPort: 9090}]}
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  selector: {app: a}
  ports: [{port: 80, targetPort: http}]`);
    const slice = state.endpointSlices.find((s) => s.metadata.labels?.["kubernetes.io/service-name"] === "s");
    assert.deepEqual(
      slice?.ports?.map((p) => p.port),
      [8080],
    );
  });

  it("a named targetPort found only on a sidecar (initContainer with restartPolicy Always) is used", () => {
    const state = cluster(`apiVersion: v1
kind: Pod
metadata: {name: p, labels: {app: a}}
spec:
  containers: [{name: a}]
  initContainers:
  - {name: once, ports: [{name: metrics, containerPort: 7070}]}
  - {name: proxy, restartPolicy: Always, ports: [{name: metrics, containerPort: 9090}]}
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  selector: {app: a}
  ports: [{port: 80, targetPort: metrics}]`);
    const slice = state.endpointSlices.find((s) => s.metadata.labels?.["kubernetes.io/service-name"] === "s");
    assert.deepEqual(
      slice?.ports?.map((p) => p.port),
      [9090],
    );
  });

  it("a source range written with spaces reaches kube-proxy as the trimmed block", () => {
    const state = cluster(
      svc(`  type: LoadBalancer
  ports: [{port: 80}]
  loadBalancerSourceRanges: [" 203.0.113.0/25"]`),
    );
    assert.deepEqual(service(state, "default", "s").spec.loadBalancerSourceRanges, ["203.0.113.0/25"]);
  });
});

describe("-n NS places objects that name no namespace, as kubectl apply -n does", () => {
  const text = `apiVersion: v1
kind: Pod
metadata: {name: a, labels: {app: a}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: other}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: argocd}`;

  it("in the core: resolveManifests(…, {namespace})", () => {
    const r = resolveManifests([{ file: "t.yaml", text }], new Diagnostics(), { namespace: "argocd" });
    assert.ok(r.ok);
    assert.equal(pod(r.cluster, "argocd", "a").metadata.namespace, "argocd");
    assert.equal(pod(r.cluster, "other", "b").metadata.namespace, "other");
  });

  it("without -n they go to default", () => {
    const { inv } = decode(text);
    assert.equal(inv.pods[0].obj.metadata.namespace, "default");
  });

  it("via the CLI: connlist -n argocd lists the pods placed there", () => {
    const r = runPodnet(["connlist", "-f", "-", "-n", "argocd"], text);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /argocd\/a\[Pod\]/);
    assert.doesNotMatch(r.out, /default\/a/);
  });

  it("via the CLI: an invalid -n is a usage error", () => {
    const r = runPodnet(["get", "pods", "-f", "-", "-n", "Team_A"], text);
    assert.equal(r.code, 2);
    assert.match(r.err, /-n Team_A: "Team_A" is not a valid DNS-1123 label/);
  });
});

describe("policies of kinds podnet does not evaluate", () => {
  const text = `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: deny}
spec: {endpointSelector: {}}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: calico}
spec: {selector: all()}
---
apiVersion: crd.projectcalico.org/v1
kind: GlobalNetworkPolicy
metadata: {name: g}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: authz}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: deny2}`;

  it("are named in one warning instead of the skipped-kind one; Calico's NetworkPolicy is not a wrong apiVersion", () => {
    assert.deepEqual(warnings(text), [
      "test.yaml:1:1: warning: 5 policies of kinds podnet does not evaluate (1 AuthorizationPolicy (security.istio.io), 2 CiliumNetworkPolicy (cilium.io), 1 GlobalNetworkPolicy (crd.projectcalico.org), 1 NetworkPolicy (projectcalico.org)); connections they deny are shown as allowed\n  fix: podnet evaluates NetworkPolicy and the admin tiers (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy) only",
    ]);
  });

  it("the warning is printed by the commands that load", () => {
    const r = runPodnet(["connlist", "-f", "-"], text);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /5 policies of kinds podnet does not evaluate/);
  });

  it("a networking.k8s.io NetworkPolicy of a removed apiVersion is still refused", () => {
    const { diags } = decode(`apiVersion: extensions/v1beta1
kind: NetworkPolicy
metadata: {name: old}
spec: {podSelector: {}}`);
    assert.equal(diags.errors.length, 1);
  });
});

describe("the legacy IP and CIDR readers (netutils.ParseIPSloppy, ParseCIDRSloppy)", () => {
  it("accept what Go's legacy parser accepts and give the canonical text", () => {
    const cases: [string, string | undefined][] = [
      ["10.0.0.1", "10.0.0.1"],
      ["010.000.000.001", "10.0.0.1"],
      ["0010.0.0.1", "10.0.0.1"],
      ["::ffff:192.0.2.1", "192.0.2.1"],
      ["fd00::1", "fd00::1"],
      ["10.0.0.256", undefined],
      ["10.0.0", undefined],
      ["10.0.0.1.", undefined],
      [" 10.0.0.1", undefined],
      ["0x0a.0.0.1", undefined],
      ["fe80::1%eth0", undefined],
      ["", undefined],
    ];
    for (const [text, want] of cases) assert.equal(canonicalIP(text), want, text);
  });

  it("read CIDRs with host bits cleared, leading zeros in the prefix allowed", () => {
    assert.deepEqual(parseCidrSloppy("10.0.0.5/24"), {
      canonical: "10.0.0.0/24",
      hostBits: true,
      nonStandard: false,
    });
    assert.deepEqual(parseCidrSloppy("10.0.0.0/024"), {
      canonical: "10.0.0.0/24",
      hostBits: false,
      nonStandard: true,
    });
    assert.equal(parseCidrSloppy("0.0.0.0/0")?.canonical, "0.0.0.0/0");
    assert.equal(parseCidrSloppy("fd00::1/64")?.canonical, "fd00::/64");
    assert.equal(parseCidrSloppy("fd00::/64")?.hostBits, false);
    for (const bad of ["10.0.0.0/33", "10.0.0.0", "10.0.0.0/", "10.0.0.0/-1", "fd00::/129", " 10.0.0.0/8"])
      assert.equal(parseCidrSloppy(bad), undefined, bad);
  });
});
