/**
 * The controller is a real pod (src/core/control/ingress-controllers.ts): ingress-nginx and Envoy
 * Gateway recognised in the input, mapped to their pods and Service; a default controller supplied
 * when the input has Ingresses and none, said in a warning and switched off by the Cluster config.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { controllerInstance } from "../src/core/control/ingress-controllers.ts";
import { formatDiagnostic } from "../src/core/diagnostics.ts";
import type { ControllerKey } from "../src/core/routing/types.ts";
import { cluster, resolveYaml, service } from "./helpers.ts";

const cfg = (supply = "clusterDNS: false") =>
  `apiVersion: podnet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: ic}\nspec:\n  nodes: 2\n  supply: {${supply}}\n---\n`;

const app = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
---
`;

const nginxKey: ControllerKey = { kind: "IngressClass", name: "nginx", controller: "k8s.io/ingress-nginx" };

const nginx = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: edge, namespace: edge}
spec:
  replicas: 2
  selector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}
  template:
    metadata: {labels: {app.kubernetes.io/name: ingress-nginx}}
    spec:
      containers:
        - name: controller
          image: registry.k8s.io/ingress-nginx/controller:v1.12.1
          args: [/nginx-ingress-controller, --controller-class=k8s.io/ingress-nginx]
          ports: [{name: http, containerPort: 80}, {name: https, containerPort: 443}]
---
apiVersion: v1
kind: Service
metadata: {name: edge-internal, namespace: edge}
spec:
  selector: {app.kubernetes.io/name: ingress-nginx}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: edge}
spec:
  type: LoadBalancer
  selector: {app.kubernetes.io/name: ingress-nginx}
  ports: [{name: http, port: 80, targetPort: http}, {name: https, port: 443, targetPort: https}]
---
`;

describe("ingress controllers: the controller is a real pod", () => {
  it("no controller in the input: podnet supplies ingress-nginx's, after the input's Services, and says so", () => {
    const r = resolveYaml(cfg() + app);
    assert.ok(r.ok);
    const s = r.cluster;
    const warning = r.diagnostics
      .filter((d) => d.code === "supplied-ingress-controller")
      .map(formatDiagnostic);
    assert.deepEqual(warning, [
      "warning: the input has 1 Ingress but runs no controller podnet recognises (ingress-nginx, Envoy Gateway): podnet supplies ingress-nginx's (Deployment ingress-nginx/ingress-nginx-controller, 1 pod, behind LoadBalancer Service ingress-nginx/ingress-nginx-controller)\n  fix: to analyse the manifests alone, set spec.supply.ingressController: false in the Cluster config (podnet.dev/v1alpha1)",
    ]);
    // The input's LoadBalancer keeps the pool's first address; the supplied one takes the next.
    assert.equal(service(s, "shop", "web").status?.loadBalancer?.ingress?.[0].ip, "198.51.100.1");
    const lb = service(s, "ingress-nginx", "ingress-nginx-controller");
    assert.equal(lb.status?.loadBalancer?.ingress?.[0].ip, "198.51.100.2");
    assert.equal(lb.spec.externalTrafficPolicy, "Local");
    const c = controllerInstance(s, nginxKey);
    assert.equal(c.supplied, true);
    assert.equal(c.pods.length, 1);
    assert.equal(c.pods[0].metadata.namespace, "ingress-nginx");
    assert.equal(c.pods[0].status?.phase, "Running");
    assert.equal(c.service, lb);
    assert.match(
      c.why,
      /no pod of the input serves IngressClass nginx .* podnet's supplied ingress-nginx controller stands in/,
    );
  });

  it("spec.supply.ingressController: false: nothing supplied, and the answer says why no pod serves", () => {
    const s = cluster(cfg("clusterDNS: false, ingressController: false") + app);
    assert.equal(s.pods.filter((p) => p.metadata.namespace === "ingress-nginx").length, 0);
    const c = controllerInstance(s, nginxKey);
    assert.deepEqual(c.pods, []);
    assert.match(c.why, /spec\.supply\.ingressController is false/);
  });

  it("the input's ingress-nginx: its pods by --controller-class and its LoadBalancer Service; nothing supplied", () => {
    const r = resolveYaml(cfg() + nginx + app);
    assert.ok(r.ok);
    assert.equal(r.diagnostics.filter((d) => d.code === "supplied-ingress-controller").length, 0);
    const c = controllerInstance(r.cluster, nginxKey);
    assert.equal(c.supplied, false);
    assert.equal(c.implementation, "ingress-nginx");
    assert.deepEqual(
      c.pods.map((p) => p.metadata.namespace),
      ["edge", "edge"],
    );
    assert.equal(c.service?.metadata.name, "edge");
    // Another class's controller is not these pods.
    const other = controllerInstance(r.cluster, {
      kind: "IngressClass",
      name: "x",
      controller: "example.com/x",
    });
    assert.deepEqual(other.pods, []);
  });

  it("Envoy Gateway: a Gateway's proxy pods by their owning-gateway labels", () => {
    const envoy = `apiVersion: v1
kind: Pod
metadata:
  name: envoy-shop-gw-1
  namespace: envoy-gateway-system
  labels: {app.kubernetes.io/name: envoy, gateway.envoyproxy.io/owning-gateway-name: gw, gateway.envoyproxy.io/owning-gateway-namespace: shop}
spec: {containers: [{name: envoy, image: envoyproxy/envoy, ports: [{containerPort: 10080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: envoy-shop-gw, namespace: envoy-gateway-system}
spec:
  type: LoadBalancer
  selector: {gateway.envoyproxy.io/owning-gateway-name: gw, gateway.envoyproxy.io/owning-gateway-namespace: shop}
  ports: [{name: http, port: 80, targetPort: 10080}]
`;
    const s = cluster(cfg() + app + envoy);
    const c = controllerInstance(s, {
      kind: "Gateway",
      namespace: "shop",
      name: "gw",
      className: "eg",
      controller: "gateway.envoyproxy.io/gatewayclass-controller",
    });
    assert.equal(c.implementation, "Envoy Gateway");
    assert.deepEqual(
      c.pods.map((p) => p.metadata.name),
      ["envoy-shop-gw-1"],
    );
    assert.equal(c.service?.metadata.name, "envoy-shop-gw");
    // The Envoy pods are a recognised controller: nothing is supplied.
    assert.equal(s.pods.filter((p) => p.metadata.namespace === "ingress-nginx").length, 0);
  });
});
