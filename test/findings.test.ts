/**
 * The faults a new user found in issue 12's work, each the example of a kind (see the README's
 * "What podnet accepts"): fixes quote the input as written, unknown kinds of built-in groups are
 * refused, the admin tiers' list bounds, Ingress paths and CronJob schedules are held to upstream's
 * rules, `-o json` always answers in JSON, and the reports say each fault once, where it is.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Diagnostics, formatDiagnostic } from "../src/core/diagnostics.ts";
import { decodeObjects } from "../src/core/manifests/decode.ts";
import { parseSource } from "../src/core/manifests/parse.ts";

/** Decodes one file; returns its formatted errors (with their `fix:` lines) and warnings. */
function decode(text: string, file = "t.yaml"): { errors: string[]; warnings: string[] } {
  const diags = new Diagnostics();
  decodeObjects(parseSource({ file, text }, diags), diags);
  return {
    errors: diags.errors.map(formatDiagnostic),
    warnings: diags.warnings.map(formatDiagnostic),
  };
}

/** Asserts exactly one error at `pos` containing every one of `parts`. */
function oneErrorAt(text: string, pos: string, ...parts: string[]): string {
  const { errors } = decode(text);
  const at = errors.filter((e) => e.startsWith(`t.yaml:${pos}: error:`));
  assert.equal(at.length, 1, `expected one error at ${pos}, got:\n${errors.join("\n") || "(none)"}`);
  for (const p of parts) assert.ok(at[0].includes(p), `expected "${p}" in:\n${at[0]}`);
  return at[0];
}

const np = (labels: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector:
        matchLabels: {${labels}}
`;

describe("1. a fix quotes the value as the user wrote it", () => {
  for (const [written, decoded] of [
    ["yes", "boolean true"],
    ["on", "boolean true"],
    ["off", "boolean false"],
    ["y", "boolean true"],
    ["n", "boolean false"],
    ["No", "boolean false"],
  ] as const) {
    it(`access: ${written} suggests access: "${written}"`, () => {
      oneErrorAt(
        np(`access: ${written}`),
        "9:31",
        `found ${written} (YAML 1.1 reads it as the ${decoded})`,
        `fix: quote it: access: "${written}"`,
      );
    });
  }
  it("numbers and nulls are quoted as written (1.10, 0x1F, 1e23, 0755, ~)", () => {
    oneErrorAt(np("v: 1.10"), "9:26", "found number 1.10", 'quote it: v: "1.10"');
    oneErrorAt(np("v: 0x1F"), "9:26", "found number 0x1F", 'quote it: v: "0x1F"');
    oneErrorAt(np("v: 1e23"), "9:26", "found number 1e23", 'quote it: v: "1e23"');
    oneErrorAt(
      np("v: 0755"),
      "9:26",
      "found 0755 (YAML 1.1 reads it as the number 493)",
      'quote it: v: "0755"',
    );
    oneErrorAt(np("v: true"), "9:26", "found boolean true", 'quote it: v: "true"');
  });
  it("matchExpressions values, Service selectors, pod labels and annotations alike", () => {
    oneErrorAt(
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec:
  podSelector:
    matchExpressions:
    - {key: a, operator: In, values: [x, yes]}
`,
      "7:42",
      "a selector value must be a string, found yes (YAML 1.1 reads it as the boolean true)",
      'fix: quote it: "yes"',
    );
    oneErrorAt(
      `apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  selector: {app: on}
  ports: [{port: 80}]
`,
      "5:19",
      'fix: quote it: app: "on"',
    );
    oneErrorAt(
      `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: {sidecar.istio.io/inject: yes}
spec: {containers: [{name: a}]}
`,
      "5:42",
      "an annotation value must be a string, found yes",
      'fix: quote it: sidecar.istio.io/inject: "yes"',
    );
  });
  it("JSON input: numbers are shown as written too", () => {
    const { errors } = decode(
      '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 1e23}]}}',
      "t.json",
    );
    assert.ok(
      errors.some((e) => e.includes("port 1e23 is out of range")),
      errors.join("\n"),
    );
  });
});

describe("5. every type error has a fix, and numbers read as written", () => {
  const svc = (port: string) => `apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  ports:
  - port: ${port}
`;
  it("a port written as 1e23 is shown as 1e23, not 1e+23", () => {
    const e = oneErrorAt(
      svc("100000000000000000000000"),
      "6:11",
      "port 100000000000000000000000 is out of range",
    );
    assert.ok(!e.includes("e+"), e);
    oneErrorAt(svc("1e23"), "6:11", "port 1e23 is out of range (1-65535)");
  });
  it("a string where a number belongs", () => {
    oneErrorAt(
      svc('"80"'),
      "6:11",
      'expected an integer port, found the string "80"',
      "fix: write 80 without quotes",
    );
    oneErrorAt(
      svc("http"),
      "6:11",
      "expected an integer port",
      "fix: write port as a number between 1 and 65535",
    );
  });
  it("a fraction where an integer belongs", () => {
    oneErrorAt(svc("80.5"), "6:11", "found number 80.5", "fix: write a whole number between 1 and 65535");
  });
  it("a list where a map belongs, a map where a list belongs, a number where a string belongs", () => {
    oneErrorAt(
      `apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  selector: [app]
  ports: [{port: 80}]
`,
      "5:13",
      "expected a map, found a list",
      "fix: write this field as `key: value` pairs",
    );
    oneErrorAt(
      `apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  ports: {port: 80}
`,
      "5:10",
      "expected a list, found a map",
      "fix: write this field as a list",
    );
    oneErrorAt(
      `apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  type: 5
  ports: [{port: 80}]
`,
      "5:9",
      "expected one of ClusterIP, NodePort, LoadBalancer, ExternalName, found number 5",
      "fix: use one of ClusterIP, NodePort, LoadBalancer, ExternalName",
    );
    // A free string field: the fix quotes the value as written.
    oneErrorAt(
      `apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  type: ExternalName
  externalName: 0x1F
`,
      "6:17",
      "expected a string, found number 0x1F",
      'fix: quote it: externalName: "0x1F"',
    );
  });
  it("a case-only difference and a typo of a field name are named", () => {
    oneErrorAt(
      "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80, protocol: tcp}]\n",
      "5:32",
      "fix: write TCP (values are case-sensitive)",
    );
    const { warnings } = decode(
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec:\n  podSelector: {}\n  ingres: []\n",
    );
    assert.ok(
      warnings.some((w) => w.startsWith("t.yaml:6:11:") && w.includes("fix: did you mean ingress?")),
      warnings.join("\n"),
    );
  });
  it("a string where true or false belongs", () => {
    oneErrorAt(
      `apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  publishNotReadyAddresses: "true"
  ports: [{port: 80}]
`,
      "5:29",
      'expected true or false, found the string "true"',
      "fix: write true without quotes",
    );
  });
});

describe("2. an unknown kind of a built-in group is refused, as kubectl does", () => {
  const obj = (apiVersion: string, kind: string) => `apiVersion: ${apiVersion}
kind: ${kind}
metadata: {name: x}
`;
  it("v1 Pood: an error at the kind, suggesting Pod", () => {
    oneErrorAt(
      obj("v1", "Pood"),
      "2:7",
      'no kind "Pood" in the core API group',
      "fix: did you mean kind: Pod?",
    );
  });
  it("apps/v1 Deploymnet: suggesting Deployment", () => {
    oneErrorAt(
      obj("apps/v1", "Deploymnet"),
      "2:7",
      'no kind "Deploymnet" in API group apps',
      "kind: Deployment?",
    );
  });
  it("case matters: networking.k8s.io/v1 networkpolicy suggests NetworkPolicy", () => {
    oneErrorAt(obj("networking.k8s.io/v1", "networkpolicy"), "2:7", "did you mean kind: NetworkPolicy?");
  });
  it("a kind far from every kind of its group gets no guess", () => {
    const e = oneErrorAt(obj("batch/v1", "Frobnicator"), "2:7", 'no kind "Frobnicator" in API group batch');
    assert.ok(!e.includes("did you mean"), e);
  });
  it("real kinds podnet does not model, and kinds of custom groups, stay skipped with a warning", () => {
    for (const [v, k] of [
      ["v1", "ConfigMap"],
      ["rbac.authorization.k8s.io/v1", "ClusterRole"],
      ["apiextensions.k8s.io/v1", "CustomResourceDefinition"],
      ["monitoring.coreos.com/v1", "ServiceMonitor"],
      ["example.com/v1", "Pood"],
    ]) {
      const { errors, warnings } = decode(obj(v, k));
      assert.deepEqual(errors, [], `${v} ${k}`);
      assert.ok(
        warnings.some((w) => w.includes(`kind ${k}`)),
        `${v} ${k}: ${warnings.join("\n")}`,
      );
    }
  });
});

describe("3. the admin tiers' list bounds (the CRDs' minItems/maxItems) and required fields", () => {
  const anp = (rules: string, kind = "AdminNetworkPolicy") => `apiVersion: policy.networking.k8s.io/v1alpha1
kind: ${kind}
metadata: {name: default}
spec:
${kind === "AdminNetworkPolicy" ? "  priority: 10\n" : ""}  subject: {namespaces: {}}
${rules}`;
  it("ANP from: [] and BANP to: [] are refused (minItems 1)", () => {
    oneErrorAt(
      anp("  ingress:\n  - action: Allow\n    from: []\n"),
      "9:11",
      "from peers: at least 1 item required, found an empty list",
    );
    oneErrorAt(
      anp("  egress:\n  - action: Deny\n    to: []\n", "BaselineAdminNetworkPolicy"),
      "8:9",
      "to peers: at least 1 item required",
    );
  });
  it("a rule without from is refused (required)", () => {
    oneErrorAt(anp("  ingress:\n  - action: Allow\n"), "8:5", "a rule's from is required");
  });
  it("ports: [] and networks: [] are refused; 26 networks too many (maxItems 25)", () => {
    oneErrorAt(
      anp("  ingress:\n  - action: Allow\n    from: [{namespaces: {}}]\n    ports: []\n"),
      "10:12",
      "ports: at least 1 item required",
    );
    oneErrorAt(
      anp("  egress:\n  - action: Allow\n    to: [{networks: []}]\n"),
      "9:21",
      "networks: at least 1 item required",
    );
    const nets = Array.from({ length: 26 }, (_, i) => `10.${i}.0.0/16`).join(", ");
    oneErrorAt(
      anp(`  egress:\n  - action: Allow\n    to: [{networks: [${nets}]}]\n`),
      "9:21",
      "networks: at most 25 items allowed, found 26",
    );
  });
  it("101 ingress rules are too many (maxItems 100); 100 are fine", () => {
    const rules = (n: number) =>
      `  ingress:\n${Array.from({ length: n }, () => "  - {action: Allow, from: [{namespaces: {}}]}").join("\n")}\n`;
    oneErrorAt(anp(rules(101)), "8:3", "ingress rules: at most 100 items allowed, found 101");
    assert.deepEqual(decode(anp(rules(100))).errors, []);
  });
  it("pods needs both selectors; a port range needs start and end", () => {
    oneErrorAt(
      anp("  ingress:\n  - action: Allow\n    from: [{pods: {podSelector: {}}}]\n"),
      "9:13",
      "pods.namespaceSelector is required",
    );
    oneErrorAt(
      anp(
        "  ingress:\n  - action: Allow\n    from: [{namespaces: {}}]\n    ports: [{portRange: {start: 80}}]\n",
      ),
      "10:14",
      "end is required",
    );
  });
  it("a v1alpha1 range with start after end is accepted with a warning; v1alpha2 refuses start >= end", () => {
    const { errors, warnings } = decode(
      anp(
        "  ingress:\n  - action: Allow\n    from: [{namespaces: {}}]\n    ports: [{portRange: {start: 90, end: 80}}]\n",
      ),
    );
    assert.deepEqual(errors, []);
    assert.ok(
      warnings.some((w) => w.includes("matches no port")),
      warnings.join("\n"),
    );
    oneErrorAt(
      `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: c}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  ingress:
  - action: Accept
    from: [{namespaces: {}}]
    protocols: [{tcp: {destinationPort: {range: {start: 80, end: 80}}}}]
`,
      "11:49",
      "start 80 must be less than end 80",
    );
  });
});

describe("3. Ingress paths: pathType required, and the path rules of each pathType", () => {
  /** An Ingress whose one path has these fields (a flow map's entries), at line 9. */
  const ing = (fields: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - {${fields.replace(/^\{|\}$/g, "")}, backend: {service: {name: web, port: {number: 80}}}}
`;
  it("a path without pathType is refused at the path", () => {
    oneErrorAt(ing("path: /"), "9:9", "pathType is required", "fix: add pathType: Prefix");
  });
  it("pathType must be Exact, Prefix or ImplementationSpecific", () => {
    oneErrorAt(
      ing("{path: /, pathType: Regex}"),
      "9:29",
      '"Regex" is not one of Exact, Prefix, ImplementationSpecific',
    );
  });
  it("Exact and Prefix: absolute, without //, /./, /../, %2f and not ending in /. or /..", () => {
    oneErrorAt(
      ing("{path: api, pathType: Prefix}"),
      "9:16",
      'path "api" must be an absolute path',
      "fix: write /api",
    );
    oneErrorAt(ing("{path: '', pathType: Exact}"), "9:16", "must be an absolute path");
    oneErrorAt(ing("{path: /a//b, pathType: Prefix}"), "9:16", "must not contain '//'");
    oneErrorAt(ing("{path: /a/%2f, pathType: Exact}"), "9:16", "must not contain '%2f'");
    oneErrorAt(ing("{path: /a/.., pathType: Prefix}"), "9:16", "cannot end with '/..'");
  });
  it("ImplementationSpecific: any path, or none, but an absolute one when given", () => {
    assert.deepEqual(decode(ing("{path: /a//b/.., pathType: ImplementationSpecific}")).errors, []);
    assert.deepEqual(decode(ing("{pathType: ImplementationSpecific}")).errors, []);
    oneErrorAt(ing("{path: a, pathType: ImplementationSpecific}"), "9:16", "must be an absolute path");
    assert.deepEqual(decode(ing("{path: /api/v1, pathType: Exact}")).errors, []);
  });
  it("a host is a DNS name (a leading wildcard allowed), never an IP; http needs paths", () => {
    const host = (h: string) => ing("{path: /, pathType: Prefix}").replace("shop.example.com", h);
    oneErrorAt(host("10.0.0.1"), "6:11", "must be a DNS name, not an IP address");
    oneErrorAt(host("Shop.example.com"), "6:11", "not a valid DNS-1123 subdomain");
    oneErrorAt(host("a.*.example.com"), "6:11", "wildcard only as its first label");
    assert.deepEqual(decode(host('"*.example.com"')).errors, []);
    oneErrorAt(
      `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec:
  rules:
  - http: {paths: []}
`,
      "6:19",
      "http.paths is required",
    );
  });
});

describe("3. CronJob schedule and timeZone, as cron.ParseStandard and validateTimeZone decide", () => {
  const cj = (schedule: string, extra = "") => `apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  schedule: ${schedule}
${extra}  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: a}]
`;
  it("a missing schedule is refused", () => {
    oneErrorAt(cj('""'), "5:13", "spec.schedule is required");
  });
  for (const good of [
    '"*/5 * * * *"',
    '"0 0 1 1 *"',
    '"0 12 * JAN-mar mon-FRI"',
    '"15,45 */2 ? * 0-6"',
    '"5/15 * * * *"',
    "'@hourly'",
    "'@every 1h30m'",
    "'@midnight'",
  ])
    it(`accepts ${good}`, () => {
      assert.deepEqual(decode(cj(good)).errors, []);
    });
  for (const [bad, text] of [
    ['"* * * *"', "has 4 fields; a schedule has exactly 5"],
    ['"* * * * * *"', "has 6 fields"],
    ['"60 * * * *"', 'minute "60": end of range (60) above maximum (59)'],
    ['"* * 0 * *"', 'day of month "0": beginning of range (0) below minimum (1)'],
    ['"* * * * 7"', 'day of week "7": end of range (7) above maximum (6)'],
    ['"5-1 * * * *"', "beginning of range (5) beyond end of range (1)"],
    ['"*/0 * * * *"', "step of range should be a positive number"],
    ['"* * * foo *"', '"foo" is not a number or a name'],
    ["'@fortnightly'", "is not a known macro"],
    ["'@every 5 minutes'", "is not a duration"],
  ] as const)
    it(`refuses ${bad}`, () => {
      oneErrorAt(cj(bad), "5:13", text, "fix: write five fields");
    });
  it("a zone in the schedule is refused (use timeZone); timeZone must be a real zone", () => {
    oneErrorAt(
      cj('"CRON_TZ=UTC 0 * * * *"'),
      "5:13",
      "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
    );
    assert.deepEqual(decode(cj('"0 * * * *"', "  timeZone: Europe/Berlin\n")).errors, []);
    assert.deepEqual(decode(cj('"0 * * * *"', "  timeZone: Etc/UTC\n")).errors, []);
    oneErrorAt(cj('"0 * * * *"', "  timeZone: Mars/Olympus\n"), "6:13", "unknown time zone Mars/Olympus");
    oneErrorAt(cj('"0 * * * *"', "  timeZone: Local\n"), "6:13", "must be an explicit time zone");
    oneErrorAt(cj('"0 * * * *"', '  timeZone: ""\n'), "6:13", "timeZone must be nil or non-empty string");
  });
});

describe("6. each fault once, where it is, with a fix that works", () => {
  it("unnamed ports of one Service get distinct suggested names", () => {
    const { errors } = decode(`apiVersion: v1
kind: Service
metadata: {name: dns}
spec:
  selector: {app: dns}
  ports:
  - {port: 53, protocol: UDP}
  - {port: 53, protocol: TCP}
  - {port: 80}
  - {port: 80, protocol: UDP}
  - {port: 81, name: p81}
  - {port: 81, protocol: SCTP}
  - {port: 82, name: tcp-83}
  - {port: 83}
  - {port: 83, protocol: TCP, name: p83}
`);
    const fixes = errors.flatMap((e) => e.match(/fix: add name: (\S+)/)?.[1] ?? []);
    // p83 and tcp-83 are given names, so the unnamed 83/TCP gets p83-2.
    assert.deepEqual(fixes, ["udp-53", "p53", "p80", "udp-80", "sctp-81", "p83-2"]);
  });
  it("a wrong-typed ports field is reported once, not also as 'needs a port'", () => {
    const { errors } = decode(
      "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: {port: 80}\n",
    );
    assert.equal(errors.length, 1, errors.join("\n"));
  });
  it("the admin tiers' subject with two fields: keep one, not 'split it into 2 subjects'", () => {
    const e = oneErrorAt(
      `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 5
  subject:
    namespaces: {}
    pods: {namespaceSelector: {}, podSelector: {}}
`,
      "7:5",
      "a subject takes exactly one field; this one has namespaces and pods",
      "fix: a policy has one subject: keep namespaces or pods",
      "put the other in a policy of its own",
    );
    assert.ok(!e.includes("2 subjects"), e);
    oneErrorAt(
      `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 5
  subject: {namespaces: {}}
  ingress:
  - action: Allow
    from:
    - namespaces: {}
      pods: {namespaceSelector: {}, podSelector: {}}
`,
      "10:7",
      "fix: give each its own peer: one list item per field (- namespaces: … and - pods: …)",
    );
  });
});

describe("6. a field of the wrong type is reported once (never also as missing)", () => {
  for (const [name, yaml, pos, text] of [
    [
      "Service spec: a list",
      "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: [a]\n",
      "4:7",
      "spec: expected a map, found a list",
    ],
    [
      "metadata: a list",
      "apiVersion: v1\nkind: Pod\nmetadata: [a]\n",
      "3:11",
      "metadata: expected a map, found a list",
    ],
    [
      "metadata.name: n, a boolean to YAML 1.1",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: n}\nspec: {containers: [{name: c}]}\n",
      "3:18",
      'found n (YAML 1.1 reads it as the boolean false)\n  fix: quote it: name: "n"',
    ],
    [
      "Pod containers: a map",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  containers: {name: c}\n",
      "5:15",
      "spec.containers: expected a list, found a map",
    ],
    [
      "Ingress rules: a map",
      "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  rules: {host: a}\n",
      "5:10",
      "spec.rules: expected a list, found a map",
    ],
    [
      "CronJob jobTemplate: a list",
      'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: "* * * * *"\n  jobTemplate: []\n',
      "6:16",
      "spec.jobTemplate: expected a map, found a list",
    ],
  ] as const)
    it(name, () => {
      const { errors } = decode(yaml);
      assert.equal(errors.length, 1, errors.join("\n"));
      oneErrorAt(yaml, pos, text);
    });
  it("the rest of the object is still checked: every fault in one run", () => {
    const { errors } = decode(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  nodeSelector: [a]\n  containers: {name: c}\n",
    );
    assert.equal(errors.length, 2, errors.join("\n"));
    assert.ok(
      errors.some((e) =>
        e.startsWith("t.yaml:5:17: error: Pod default/q: spec.nodeSelector: expected a map"),
      ),
      errors.join("\n"),
    );
    const admin = decode(`apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: a}
spec:
  priority: 1
  subject: [a]
  egress:
  - action: Allow
    to: {namespaces: {}}
`).errors;
    assert.equal(admin.length, 2, admin.join("\n"));
    assert.ok(
      admin[1].startsWith("t.yaml:9:9: error: AdminNetworkPolicy a: spec.egress[0].to: expected a list"),
      admin[1],
    );
  });
});

describe("3. Ingress ingressClassName is a DNS subdomain", () => {
  it("Nginx_Class is refused; nginx accepted", () => {
    const ing = (cls: string) =>
      `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  ingressClassName: ${cls}\n  defaultBackend: {service: {name: web, port: {number: 80}}}\n`;
    oneErrorAt(ing("Nginx_Class"), "5:21", '"Nginx_Class" is not a valid DNS-1123 subdomain');
    assert.deepEqual(decode(ing("nginx")).errors, []);
  });
});
