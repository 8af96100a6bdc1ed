/**
 * NetworkPolicy semantics as the Kubernetes documentation states them, case by case, and their effect
 * on traces (egress after kube-proxy's translation, ingress on the address the packet carries).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderConnlist } from "../src/cli/connlist.ts";
import type { Protocol } from "../src/core/model/k8s.ts";
import { parseIPv4 } from "../src/core/net/ipv4.ts";
import { connlist, INGRESS_CONTROLLER_NAME } from "../src/core/policy/connlist.ts";
import { lintPolicies } from "../src/core/policy/lint.ts";
import { PolicyEngine, peerFor } from "../src/core/policy/netpol.ts";
import { Network } from "../src/core/sim/network.ts";
import { resolveDestination, resolveSource } from "../src/core/sim/targets.ts";
import { trace } from "../src/core/sim/trace.ts";
import { loadCluster } from "../src/index.ts";
import { cluster } from "./helpers.ts";

/** Pods: name → [namespace, labels, ports, ip]; namespaces get labels from `nsLabels`. */
function world(policies: string, extra = "") {
  const ns = (name: string, labels: string) =>
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}, labels: {${labels}}}\n---\n`;
  const pod = (
    name: string,
    namespace: string,
    labels: string,
    ip: string,
    ports = "[{name: http, containerPort: 8080}, {name: redis, containerPort: 6379}]",
    host = false,
  ) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ${namespace}, labels: {${labels}}}\nspec: {nodeName: node-1${host ? ", hostNetwork: true" : ""}, containers: [{name: c, ports: ${ports}}]}\nstatus: {phase: Running, podIP: ${ip}}\n---\n`;
  const text =
    ns("default", "kubernetes.io/metadata.name: default") +
    ns("myproject", "project: myproject") +
    ns("other", "project: other") +
    ns("alice", "user: alice") +
    pod("db", "default", "role: db", "10.244.0.10") +
    pod("frontend", "default", "role: frontend", "10.244.0.11") +
    pod("stranger", "default", "role: stranger", "10.244.0.12") +
    pod("mp", "myproject", "role: anything", "10.244.0.13") +
    pod("op", "other", "role: frontend", "10.244.0.14") +
    pod("client", "alice", "role: client", "10.244.0.15") +
    pod("aliceweb", "alice", "role: web", "10.244.0.16") +
    pod("range", "default", "role: range", "10.244.0.17", "[{containerPort: 32000}]") +
    pod("hostpod", "default", "role: frontend", "172.18.0.2", "[{containerPort: 9100}]", true) +
    policies +
    extra;
  const state = cluster(
    `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: t}\nspec: {nodes: [{name: node-1, ip: 172.18.0.2, podCIDR: 10.244.0.0/24}]}\n---\n${text}`,
  );
  const engine = new PolicyEngine(state);
  const byIP = new Map(
    state.pods.filter((p) => !p.spec.hostNetwork).map((p) => [parseIPv4(p.status!.podIP!)!, p]),
  );
  const peer = (who: string) => {
    const ip = parseIPv4(who) ?? parseIPv4(state.pods.find((p) => p.metadata.name === who)!.status!.podIP!)!;
    return peerFor(byIP, ip);
  };
  return (from: string, to: string, port: number, protocol: Protocol = "TCP") =>
    engine.check(peer(from), peer(to), port, protocol);
}

const DOCS_EXAMPLE = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: test-network-policy, namespace: default}
spec:
  podSelector: {matchLabels: {role: db}}
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}
        - namespaceSelector: {matchLabels: {project: myproject}}
        - podSelector: {matchLabels: {role: frontend}}
      ports:
        - {protocol: TCP, port: 6379}
  egress:
    - to:
        - ipBlock: {cidr: 10.0.0.0/24}
      ports:
        - {protocol: TCP, port: 5978}
`;

describe("NetworkPolicy semantics (the Kubernetes documentation's examples)", () => {
  it("no policy: everything is allowed, and the reason says so", () => {
    const v = world("")("frontend", "db", 6379);
    assert.equal(v.allowed, true);
    assert.equal(v.ingress.reason, "allowed: no NetworkPolicy with Ingress selects pod default/db");
  });

  it("the docs' test-network-policy: its three ingress peers, its port, its egress", () => {
    const check = world(DOCS_EXAMPLE);
    assert.equal(
      check("frontend", "db", 6379).allowed,
      true,
      "podSelector role=frontend in the policy's namespace",
    );
    assert.equal(check("mp", "db", 6379).allowed, true, "any pod of a namespace labelled project=myproject");
    assert.equal(check("172.17.0.5", "db", 6379).allowed, true, "ipBlock");
    assert.equal(check("172.17.1.5", "db", 6379).allowed, false, "ipBlock except");
    assert.equal(check("op", "db", 6379).allowed, false, "role=frontend, but in another namespace");
    assert.equal(check("stranger", "db", 6379).allowed, false);
    assert.equal(check("frontend", "db", 8080).allowed, false, "only TCP 6379");
    assert.equal(check("frontend", "db", 6379, "UDP").allowed, false, "protocol defaults to TCP");
    assert.equal(check("db", "10.0.0.7", 5978).allowed, true, "egress to the ipBlock on 5978");
    assert.equal(check("db", "10.0.0.7", 80).allowed, false);
    assert.equal(check("db", "frontend", 8080).allowed, false, "egress is restricted too");
    const denied = check("stranger", "db", 6379);
    assert.equal(
      denied.ingress.reason,
      "denied: pod default/db is selected by default/test-network-policy for Ingress, and no rule of them allows TCP 6379 from this source",
    );
    assert.deepEqual(check("frontend", "db", 6379).ingress.allowedBy, {
      policy: "default/test-network-policy",
      rule: 0,
    });
  });

  it("policyTypes defaulted as the API server does: absent or empty is Ingress, plus Egress for a non-empty egress list", () => {
    const np = (spec: string) =>
      world(
        `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: default}\nspec: {podSelector: {}${spec}}\n`,
      );
    // `egress: []` with no policyTypes: [Ingress] only (defaults.go adds Egress for len(egress) != 0).
    const emptyEgress = np(", egress: []");
    assert.equal(emptyEgress("db", "mp", 8080).allowed, true, "egress stays open");
    assert.equal(emptyEgress("frontend", "db", 8080).allowed, false, "ingress is isolated");
    // `policyTypes: []` is defaulted like an absent one: the pods are isolated for ingress.
    const emptyTypes = np(", policyTypes: []");
    assert.equal(emptyTypes("frontend", "db", 8080).allowed, false);
    assert.equal(emptyTypes("db", "mp", 8080).allowed, true);
    // A non-empty egress list without policyTypes restricts egress too.
    const egress = np(", egress: [{ports: [{port: 53, protocol: UDP}]}]");
    assert.equal(egress("db", "mp", 8080).allowed, false);
    assert.equal(egress("db", "mp", 53, "UDP").allowed, true);
  });

  it("default deny all ingress, and allow all ingress", () => {
    const deny = world(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: default}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n",
    );
    assert.equal(deny("frontend", "db", 8080).allowed, false);
    assert.equal(deny("db", "frontend", 8080).allowed, false, "the receiver is denied ingress");
    assert.equal(
      deny("db", "mp", 8080).allowed,
      true,
      "other namespaces are unaffected; egress is unrestricted",
    );
    const allow = world(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow, namespace: default}\nspec: {podSelector: {}, ingress: [{}], policyTypes: [Ingress]}\n",
    );
    assert.equal(allow("op", "db", 1234).allowed, true);
  });

  it("default deny egress; egress rules without policyTypes restrict ingress too", () => {
    const deny = world(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: default}\nspec: {podSelector: {}, policyTypes: [Egress]}\n",
    );
    assert.equal(deny("db", "mp", 8080).allowed, false);
    assert.equal(deny("mp", "db", 8080).allowed, true, "ingress is not restricted by an Egress-only policy");
    // policyTypes defaults to [Ingress, Egress] when egress rules exist: ingress becomes default-deny.
    const egressOnly = world(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: e, namespace: default}\nspec:\n  podSelector: {matchLabels: {role: db}}\n  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]\n",
    );
    assert.equal(egressOnly("db", "10.9.9.9", 443).allowed, true);
    assert.equal(egressOnly("frontend", "db", 8080).allowed, false);
  });

  it("namespaceSelector and podSelector in one peer (AND) versus two peers (OR)", () => {
    const and = world(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: and, namespace: default}\nspec:\n  podSelector: {matchLabels: {role: db}}\n  ingress:\n    - from:\n        - namespaceSelector: {matchLabels: {user: alice}}\n          podSelector: {matchLabels: {role: client}}\n",
    );
    assert.equal(and("client", "db", 8080).allowed, true);
    assert.equal(and("aliceweb", "db", 8080).allowed, false, "in alice's namespace but not role=client");
    const or = world(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: or, namespace: default}\nspec:\n  podSelector: {matchLabels: {role: db}}\n  ingress:\n    - from:\n        - namespaceSelector: {matchLabels: {user: alice}}\n        - podSelector: {matchLabels: {role: client}}\n",
    );
    assert.equal(or("aliceweb", "db", 8080).allowed, true, "any pod of alice's namespace");
  });

  it("endPort ranges, named ports resolved on the destination pod, SCTP", () => {
    const check = world(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: default}\nspec:\n  podSelector: {}\n  ingress:\n    - ports: [{protocol: TCP, port: 32000, endPort: 32768}, {port: redis}, {protocol: SCTP}]\n",
    );
    assert.equal(check("frontend", "range", 32000).allowed, true);
    assert.equal(check("frontend", "range", 32768).allowed, true);
    assert.equal(check("frontend", "range", 32769).allowed, false);
    assert.equal(check("frontend", "db", 6379).allowed, true, "db's container port named redis is 6379");
    assert.equal(check("frontend", "range", 6379).allowed, false, "range has no port named redis");
    assert.equal(check("frontend", "db", 4000, "SCTP").allowed, true, "a port entry with only a protocol");
  });

  it("host-network pods: never selected as subjects, only their node's address as peers", () => {
    const check = world(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: default}\nspec:\n  podSelector: {}\n  ingress: [{from: [{podSelector: {matchLabels: {role: frontend}}}]}]\n",
    );
    assert.equal(check("frontend", "db", 8080).allowed, true);
    assert.equal(
      check("172.18.0.2", "db", 8080).allowed,
      false,
      "the host-network role=frontend pod is just its node's address",
    );
    assert.equal(check("stranger", "172.18.0.2", 9100).allowed, true, "nothing selects a host-network pod");
  });

  it("ipBlock matches pod addresses too (as kernel-based plugins do)", () => {
    const check = world(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: default}\nspec:\n  podSelector: {matchLabels: {role: db}}\n  ingress: [{from: [{ipBlock: {cidr: 10.244.0.0/28}}]}]\n",
    );
    assert.equal(check("frontend", "db", 8080).allowed, true, "10.244.0.11 is in 10.244.0.0/28");
    assert.equal(check("client", "db", 8080).allowed, true, "10.244.0.15 too");
    assert.equal(check("aliceweb", "db", 8080).allowed, false, "10.244.0.16 is not");
  });
});

const ANP = (name: string, priority: number, body: string) =>
  `apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: ${name}}\nspec:\n  priority: ${priority}\n${body}---\n`;
const BANP = (body: string) =>
  `apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n${body}---\n`;
const DB_SUBJECT =
  "  subject: {pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: default}}, podSelector: {matchLabels: {role: db}}}}\n";

describe("AdminNetworkPolicy tiers (the network-policy-api's documented semantics)", () => {
  it("Deny in the admin tier wins over a NetworkPolicy that allows", () => {
    const check = world(
      ANP(
        "deny-alice",
        10,
        `${DB_SUBJECT}  ingress: [{name: no-alice, action: Deny, from: [{namespaces: {matchLabels: {user: alice}}}]}]\n`,
      ) +
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-all, namespace: default}\nspec: {podSelector: {}, ingress: [{}]}\n---\n",
    );
    const v = check("client", "db", 6379);
    assert.equal(v.allowed, false);
    assert.equal(v.ingress.tier, "admin");
    assert.match(
      v.ingress.reason,
      /^denied by AdminNetworkPolicy\/deny-alice \(priority 10\) ingress rule 1 "no-alice"$/,
    );
    assert.equal(check("frontend", "db", 6379).allowed, true, "others fall through to the NetworkPolicy");
  });

  it("lower priority numbers are consulted first; rules in order within a policy", () => {
    const check = world(
      ANP("late-allow", 20, `${DB_SUBJECT}  ingress: [{action: Allow, from: [{namespaces: {}}]}]\n`) +
        ANP(
          "early",
          5,
          `${DB_SUBJECT}  ingress: [{action: Allow, from: [{namespaces: {}}], ports: [{portNumber: {protocol: TCP, port: 6379}}]}, {action: Deny, from: [{namespaces: {}}]}]\n`,
        ),
    );
    assert.equal(check("client", "db", 6379).allowed, true, "early's first rule allows 6379");
    const v = check("client", "db", 8080);
    assert.equal(v.allowed, false, "early's second rule denies the rest before late-allow is reached");
    assert.match(v.ingress.reason, /early \(priority 5\) ingress rule 2/);
  });

  it("Pass hands the decision to NetworkPolicy, and the baseline only sees pods no NetworkPolicy selects", () => {
    const tiers =
      ANP(
        "pass-alice",
        1,
        `${DB_SUBJECT}  ingress: [{name: to-np, action: Pass, from: [{namespaces: {matchLabels: {user: alice}}}]}]\n`,
      ) +
      BANP(
        "  subject: {namespaces: {}}\n  ingress: [{name: baseline-deny, action: Deny, from: [{namespaces: {matchLabels: {user: alice}}}]}]\n",
      );
    // Without a NetworkPolicy, the pass reaches the baseline, which denies.
    const base = world(tiers)("client", "db", 6379);
    assert.equal(base.allowed, false);
    assert.equal(base.ingress.tier, "baseline");
    assert.deepEqual(base.ingress.walk, [
      'AdminNetworkPolicy/pass-alice (priority 1) ingress rule 1 "to-np": Pass, on to NetworkPolicy',
      'BaselineAdminNetworkPolicy/default (priority baseline) ingress rule 1 "baseline-deny": Deny',
    ]);
    // A NetworkPolicy that selects the pod decides instead, and the baseline is not consulted.
    const np = world(
      `${tiers}apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: allow-alice, namespace: default}\nspec: {podSelector: {matchLabels: {role: db}}, ingress: [{from: [{namespaceSelector: {matchLabels: {user: alice}}}]}]}\n---\n`,
    );
    const v = np("client", "db", 6379);
    assert.equal(v.allowed, true);
    assert.equal(v.ingress.tier, "networkpolicy");
    assert.equal(np("frontend", "db", 6379).allowed, false, "the NetworkPolicy isolates db from the rest");
    // The baseline still applies to pods no NetworkPolicy selects.
    assert.equal(np("client", "frontend", 8080).allowed, false);
  });

  it("egress peers: networks match addresses (pods too), nodes match node addresses (host-network pods too)", () => {
    const check = world(
      ANP(
        "egress",
        3,
        "  subject: {namespaces: {matchLabels: {user: alice}}}\n  egress: [{action: Deny, to: [{networks: [10.244.0.10/32]}]}, {action: Deny, to: [{nodes: {matchLabels: {kubernetes.io/hostname: node-1}}}], ports: [{portRange: {protocol: TCP, start: 9000, end: 9200}}]}]\n",
      ),
    );
    assert.equal(check("client", "db", 6379).allowed, false, "db's address is in the network");
    assert.equal(check("client", "frontend", 8080).allowed, true);
    assert.equal(check("client", "172.18.0.2", 9100).allowed, false, "the node, in the port range");
    assert.equal(check("client", "172.18.0.2", 22).allowed, true, "the node, outside the range");
    assert.equal(check("frontend", "db", 6379).allowed, true, "not a subject");
  });

  it("named ports match the destination's container port of that name; host-network pods are never subjects", () => {
    const check = world(
      ANP(
        "named",
        1,
        "  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{namespaces: {}}], ports: [{namedPort: redis}]}]\n",
      ),
    );
    assert.equal(check("client", "db", 6379).allowed, false);
    assert.equal(check("client", "db", 8080).allowed, true);
    assert.equal(check("client", "range", 32000).allowed, true, "range has no port named redis");
    assert.equal(check("client", "hostpod", 9100).allowed, true);
  });

  it("ClusterNetworkPolicy (v1alpha2): tiers Admin and Baseline, Accept, protocols", () => {
    const cnp = (name: string, tier: string, priority: number, body: string) =>
      `apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: ${name}}\nspec:\n  tier: ${tier}\n  priority: ${priority}\n${body}---\n`;
    const check = world(
      cnp(
        "admin",
        "Admin",
        1,
        `${DB_SUBJECT}  ingress: [{action: Accept, from: [{namespaces: {matchLabels: {user: alice}}}], protocols: [{tcp: {destinationPort: {number: 6379}}}]}]\n`,
      ) +
        cnp(
          "base",
          "Baseline",
          1,
          `${DB_SUBJECT}  ingress: [{action: Deny, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {range: {start: 6000, end: 7000}}}}, {destinationNamedPort: http}]}]\n`,
        ),
    );
    assert.equal(check("client", "db", 6379).allowed, true, "accepted in the admin tier");
    assert.equal(check("frontend", "db", 6379).allowed, false, "denied by the baseline range");
    assert.equal(check("frontend", "db", 8080).allowed, false, "denied by the baseline named port");
    assert.equal(check("frontend", "db", 5432).allowed, true, "default allow");
  });
});

describe("NetworkPolicy in traces", () => {
  const run = (net: Network, from: string, to: string, node?: string) => {
    const src = resolveSource(net, from, node);
    const dst = resolveDestination(net, to);
    assert.ok(src.ok && dst.ok, JSON.stringify([src, dst]));
    return trace(net, {
      source: src.value,
      dst: dst.value.ip,
      dport: dst.value.port,
      protocol: dst.value.protocol,
    });
  };

  it("the article's database-network-policy: only api pods reach the database", () => {
    const r = loadCluster({ files: ["examples/articles"] });
    assert.ok(r.ok);
    const net = new Network(r.cluster);
    const denied = run(net, "default/pod1", "database.default");
    assert.equal(denied.verdict, "dropped");
    assert.match(
      denied.reason,
      /^NetworkPolicy ingress denied: pod default\/database-\S+ is selected by default\/database-network-policy for Ingress/,
    );
    const api = [...net.podByIP.values()].find((p) => p.metadata.labels?.["app-component"] === "api")!;
    const allowed = run(net, `default/${api.metadata.name}`, "database.default");
    assert.equal(allowed.verdict, "delivered");
    assert.deepEqual(allowed.policy?.ingress?.allowedBy, {
      policy: "default/database-network-policy",
      rule: 0,
    });
    assert.equal(
      run(new Network(r.cluster, { policies: false }), "default/pod1", "database.default").verdict,
      "delivered",
      "with policies switched off",
    );
  });

  it("an admin-tier Deny drops the packet and the hop names the tier", () => {
    const r = loadCluster({ files: ["examples/articles", "test/fixtures/tiers/protect-db.yaml"] });
    assert.ok(r.ok);
    const denied = run(new Network(r.cluster), "default/pod1", "database.default");
    assert.equal(denied.verdict, "dropped");
    assert.match(
      denied.reason,
      /^admin-tier policy ingress denied by AdminNetworkPolicy\/protect-db \(priority 10\) ingress rule 1 "unlabelled-deny"$/,
    );
    assert.ok(
      denied.hops.some((h) => h.detail.startsWith("admin-tier policy ingress of pod default/database-")),
    );
  });

  it("traffic to a Service is judged on the endpoint and target port, not the Service port", () => {
    const text = `apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-8080}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ports: [{port: 8080}]}]
`;
    const net = new Network(cluster(text));
    assert.equal(
      run(net, "default/client", "web.default:80").verdict,
      "delivered",
      "egress allows 8080, the target port",
    );
    const direct = run(net, "default/client", "93.184.216.34:80");
    assert.equal(direct.verdict, "dropped", "port 80 itself is not allowed");
  });

  it("a NodePort under externalTrafficPolicy Cluster hides the client from ipBlock rules; Local keeps it", () => {
    const text = (etp: string) => `apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: t}
spec: {nodes: [{name: n1, ip: 172.18.0.2, podCIDR: 10.244.0.0/24}, {name: n2, ip: 172.18.0.3, podCIDR: 10.244.1.0/24}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec: {nodeName: n2, containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: NodePort, externalTrafficPolicy: ${etp}, selector: {app: web}, ports: [{port: 80, targetPort: 8080, nodePort: 30080}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-office}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{ipBlock: {cidr: 203.0.113.0/24}}]}]
`;
    const cl = run(new Network(cluster(text("Cluster"))), "203.0.113.7", "172.18.0.2:30080", "n1");
    assert.equal(
      cl.verdict,
      "dropped",
      "masqueraded to n1's flannel.1 address, which the ipBlock does not cover",
    );
    const local = run(new Network(cluster(text("Local"))), "203.0.113.7", "172.18.0.3:30080", "n2");
    assert.equal(local.verdict, "delivered", "the client address is kept");
  });
});

describe("connlist: the ingress controller behind Ingresses and Routes", () => {
  const base = (policy: string, routing: string) =>
    cluster(`apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: t}
spec: {nodes: 1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}, {name: metrics, port: 9090, targetPort: 9090}]
---
${routing}
---
${policy}`);
  const INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec: {rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]}`;
  const ROUTE = (port: string) => `apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: web, namespace: shop}
spec: {to: {kind: Service, name: web}${port}}`;
  const policy = (from: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [${from}]}]`;
  const controllerLines = (state: ReturnType<typeof cluster>) =>
    connlist(state)
      .filter((c) => c.src === INGRESS_CONTROLLER_NAME)
      .map((c) => `${c.dst} : ${c.conn}`);

  it("an Ingress sends to the Service port it names, resolved to the pods' target port", () => {
    assert.deepEqual(controllerLines(base("", INGRESS)), ["shop/web[Deployment] : TCP 8080"]);
  });

  it("a Route sends to its target port, or to every Service port without one", () => {
    assert.deepEqual(controllerLines(base("", ROUTE(", port: {targetPort: 9090}"))), [
      "shop/web[Deployment] : TCP 9090",
    ]);
    assert.deepEqual(controllerLines(base("", ROUTE(", port: {targetPort: http}"))), [
      "shop/web[Deployment] : TCP 8080",
    ]);
    assert.deepEqual(controllerLines(base("", ROUTE(""))), ["shop/web[Deployment] : TCP 8080,9090"]);
  });

  it("the controller is an unknown pod in an unknown namespace: only peers that match any pod let it in", () => {
    assert.deepEqual(controllerLines(base(policy("{namespaceSelector: {}}"), INGRESS)), [
      "shop/web[Deployment] : TCP 8080",
    ]);
    assert.deepEqual(controllerLines(base(policy("{ipBlock: {cidr: 0.0.0.0/0}}"), INGRESS)), [
      "shop/web[Deployment] : TCP 8080",
    ]);
    assert.deepEqual(
      controllerLines(base(policy("{podSelector: {}}"), INGRESS)),
      [],
      "same-namespace pods only",
    );
    assert.deepEqual(
      controllerLines(base(policy("{ipBlock: {cidr: 10.0.0.0/8}}"), INGRESS)),
      [],
      "its address is unknown",
    );
    assert.deepEqual(
      controllerLines(base(policy("{namespaceSelector: {matchLabels: {team: edge}}}"), INGRESS)),
      [],
      "its namespace's labels are unknown",
    );
  });

  it("a backend Service that does not exist sends nowhere", () => {
    assert.deepEqual(controllerLines(base("", INGRESS.replace("name: web, port", "name: gone, port"))), []);
  });
});

describe("lint and connlist: host-network pods and the own-node exception", () => {
  // Two nodes: a host-network exporter on each (a DaemonSet), web on node-1 only, db on node-2 only.
  const base = (policies: string) =>
    cluster(`apiVersion: podnet.dev/v1alpha1
kind: Cluster
metadata: {name: t}
spec: {nodes: [{name: node-1, ip: 172.18.0.2, podCIDR: 10.244.0.0/24}, {name: node-2, ip: 172.18.0.3, podCIDR: 10.244.1.0/24}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: exporter, namespace: mon}
spec:
  selector: {matchLabels: {app: exporter}}
  template:
    metadata: {labels: {app: exporter}}
    spec: {hostNetwork: true, containers: [{name: c, ports: [{containerPort: 9100}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app, labels: {app: web}}
spec: {nodeName: node-1, containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: app, labels: {app: db}}
spec: {nodeName: node-2, containers: [{name: c, ports: [{containerPort: 5432}]}]}
---
${policies}`);
  const lint = (policies: string) =>
    lintPolicies(base(policies)).findings.map((f) => `${f.object}: ${f.code}: ${f.message}`);

  it("lint: a podSelector that matches only host-network pods says so, not 'matches no pod'", () => {
    const got = lint(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: exporter, namespace: mon}
spec: {podSelector: {matchLabels: {app: exporter}}, ingress: [{}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: typo, namespace: mon}
spec: {podSelector: {matchLabels: {app: exportr}}, ingress: [{}]}`);
    assert.ok(
      got.includes(
        "NetworkPolicy mon/exporter: policy-selects-nothing: podSelector selects only host-network pods in namespace mon, which policies never apply to",
      ),
      got.join("\n"),
    );
    assert.ok(
      got.includes(
        "NetworkPolicy mon/typo: policy-selects-nothing: podSelector matches no pod in namespace mon",
      ),
      got.join("\n"),
    );
  });

  it("lint: a peer and an admin policy's subject that match only host-network pods say so too", () => {
    const got = lint(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: app}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: mon}}, podSelector: {matchLabels: {app: exporter}}}]
  - from: [{podSelector: {matchLabels: {app: web}}}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: exporters}
spec:
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: exporter}}}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]`);
    assert.ok(
      got.includes(
        "NetworkPolicy app/db: peer-selects-nothing: this peer selects only host-network pods, which policies never apply to (to policies they are their node's address), so ingress rule 1 never matches through it",
      ),
      got.join("\n"),
    );
    assert.ok(
      got.includes(
        "AdminNetworkPolicy exporters: policy-selects-nothing: subject selects only host-network pods, which policies never apply to",
      ),
      got.join("\n"),
    );
    assert.ok(!got.some((l) => l.includes("matches no pod")), got.join("\n"));
  });

  // db accepts only web: the exporter on db's node still reaches it (own node), the one on web's node
  // does not; web's ingress is open, so every exporter reaches web through the policies themselves.
  const DB_FROM_WEB = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: app}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
  egress: [{to: [{podSelector: {matchLabels: {app: web}}}]}]`;

  it("connlist: lines that exist only through the own-node exception are marked, the others not", () => {
    const lines = connlist(base(DB_FROM_WEB)).filter(
      (c) => !c.src.includes("[External]") && !c.dst.includes("[External]"),
    );
    const find = (src: string, dst: string) => lines.find((c) => c.src === src && c.dst === dst);
    assert.deepEqual(find("mon/exporter[DaemonSet]", "app/db[Pod]"), {
      src: "mon/exporter[DaemonSet]",
      dst: "app/db[Pod]",
      conn: "All Connections",
      ownNode: true,
    });
    assert.deepEqual(find("app/db[Pod]", "mon/exporter[DaemonSet]"), {
      src: "app/db[Pod]",
      dst: "mon/exporter[DaemonSet]",
      conn: "All Connections",
      ownNode: true,
    });
    assert.deepEqual(find("mon/exporter[DaemonSet]", "app/web[Pod]"), {
      src: "mon/exporter[DaemonSet]",
      dst: "app/web[Pod]",
      conn: "All Connections",
    });
    assert.deepEqual(find("app/web[Pod]", "app/db[Pod]"), {
      src: "app/web[Pod]",
      dst: "app/db[Pod]",
      conn: "All Connections",
    });
    // Without the policy, the same lines exist through the policies (none selects db): nothing is marked.
    assert.ok(connlist(base("")).every((c) => c.ownNode === undefined));
  });

  it("connlist: every output format marks the own-node lines", () => {
    const lines = connlist(base(DB_FROM_WEB)).filter(
      (c) =>
        (c.src === "mon/exporter[DaemonSet]" && c.dst === "app/db[Pod]") ||
        (c.src === "app/web[Pod]" && c.dst === "app/db[Pod]"),
    );
    assert.equal(lines.length, 2);
    assert.equal(
      renderConnlist(lines, "txt"),
      "app/web[Pod] => app/db[Pod] : All Connections\nmon/exporter[DaemonSet] => app/db[Pod] : All Connections (own node)\n",
    );
    assert.deepEqual(
      JSON.parse(renderConnlist(lines, "json")).map((c: { ownNode?: boolean }) => c.ownNode),
      [undefined, true],
    );
    assert.equal(
      renderConnlist(lines, "csv"),
      "src,dst,conn\napp/web[Pod],app/db[Pod],All Connections\nmon/exporter[DaemonSet],app/db[Pod],All Connections (own node)\n",
    );
    assert.match(
      renderConnlist(lines, "md"),
      /^\| mon\/exporter\[DaemonSet\] \| app\/db\[Pod\] \| All Connections \(own node\) \|$/m,
    );
    assert.match(
      renderConnlist(lines, "md"),
      /^\| app\/web\[Pod\] \| app\/db\[Pod\] \| All Connections \|$/m,
    );
    const dot = renderConnlist(lines, "dot");
    assert.match(
      dot,
      /"mon\/exporter\[DaemonSet\]" -> "app\/db\[Pod\]" \[label="All Connections \(own node\)" .*style=dashed\]/,
    );
    assert.match(
      dot,
      /"app\/web\[Pod\]" -> "app\/db\[Pod\]" \[label="All Connections" color="gold2" fontcolor="darkgreen"\]/,
    );
  });
});
