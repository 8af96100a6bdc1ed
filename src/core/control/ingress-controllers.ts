/**
 * The controller behind an Ingress class or a Gateway is a real pod: this file finds it.
 *
 * Recognised in the input:
 * - **ingress-nginx** (kubernetes/ingress-nginx, deploy/static/provider/cloud/deploy.yaml and
 *   cmd/nginx/flags.go): a container running `/nginx-ingress-controller` (its first argument or
 *   command) or an `ingress-nginx/controller` image. It serves the IngressClasses whose
 *   `spec.controller` equals its `--controller-class` flag (default `k8s.io/ingress-nginx`).
 * - **Envoy Gateway** (envoyproxy/gateway, internal/gatewayapi/helpers.go): each Gateway gets its own
 *   Envoy Deployment and Service in the controller's namespace, labelled
 *   `gateway.envoyproxy.io/owning-gateway-name` and `…/owning-gateway-namespace` with the Gateway's
 *   name and namespace.
 * - **Any Gateway implementation labelling as Gateway API's GEP-1762 asks** (Istio, Envoy Gateway):
 *   pods in the Gateway's namespace with `gateway.networking.k8s.io/gateway-name: <gateway>`.
 *
 * The controller's Service is the LoadBalancer (else NodePort) Service of the pods' namespace whose
 * selector picks them.
 *
 * Supplied when missing (`spec.supply.ingressController`, default on): when the input has Ingresses or Gateways
 * but no pod of a recognised controller, podnet adds ingress-nginx's own cloud deployment, trimmed
 * to what the network sees — namespace `ingress-nginx`, Deployment `ingress-nginx-controller` (1
 * replica, container ports http 80, https 443, webhook 8443, `--controller-class=k8s.io/ingress-nginx`)
 * and its Service `ingress-nginx-controller` (type LoadBalancer, `externalTrafficPolicy: Local`, ports
 * http 80 → http and https 443 → https) — and says so in a warning. Every controller key no input pod
 * serves is then served by these pods, and the answer says the supplied controller stands in.
 */
import type { Diagnostics, Origin } from "../diagnostics.ts";

import { decodeObjects, type Entry, type Inventory } from "../manifests/decode.ts";
import type { ClusterConfig } from "../model/config.ts";
import type { Container, Labels, Pod, PodSpec, Service, Workload } from "../model/k8s.ts";
import type { ControllerKey } from "../routing/types.ts";
import type { ClusterState } from "./state.ts";

/** ingress-nginx's default `--controller-class` (cmd/nginx/flags.go), the IngressClass `spec.controller` it serves. */
export const INGRESS_NGINX_CONTROLLER = "k8s.io/ingress-nginx";

/** The annotation podnet puts on what it supplies (a Deployment, its pods, its Service). */
export const SUPPLIED_ANNOTATION = "podnet.dev/supplied";

/** Where the supplied controller's objects come from (they have no file). */
export const SUPPLIED_CONTROLLER_ORIGIN: Origin = Object.freeze({
  file: "(supplied by podnet: ingress-nginx's controller)",
  locate: () => undefined,
});

/** The supplied controller's namespace and names (ingress-nginx's own). */
export const SUPPLIED_CONTROLLER = Object.freeze({
  namespace: "ingress-nginx",
  deployment: "ingress-nginx-controller",
  service: "ingress-nginx-controller",
  labels: Object.freeze({
    "app.kubernetes.io/component": "controller",
    "app.kubernetes.io/instance": "ingress-nginx",
    "app.kubernetes.io/name": "ingress-nginx",
  }) as Readonly<Labels>,
});

/** What a pod runs, as far as routing goes. */
export type ControllerRole =
  /** An ingress-nginx controller serving IngressClasses whose `spec.controller` is `controllerClass`. */
  | { kind: "ingress-nginx"; controllerClass: string }
  /** A Gateway's proxy (Envoy Gateway's or GEP-1762's labels). */
  | { kind: "gateway-proxy"; namespace: string; name: string; labelledBy: string };

function flag(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
    if (a === name && i + 1 < args.length) return args[i + 1];
  }
  return undefined;
}

/** A container's command and args, the strings among them. */
function commandLine(c: Container): string[] {
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  return [...list(c.command), ...list(c.args)];
}

function isIngressNginx(c: Container): boolean {
  const cmd = commandLine(c);
  return (
    cmd.some((a) => a.endsWith("/nginx-ingress-controller")) ||
    /ingress-nginx\/controller(:|@|$)/.test(c.image ?? "")
  );
}

/**
 * The parts of a container's command line and image that make it a controller podnet recognises
 * (`isIngressNginx` and the `--controller-class` flag), or undefined for any other container: what an
 * anonymized dump must keep of them (core/manifests/anonymize.ts drops command and args otherwise)
 * for the controller to be found again.
 */
export function controllerIdentity(
  c: Container,
): { command: string[]; args: string[]; image?: string } | undefined {
  if (!isIngressNginx(c)) return undefined;
  const keep = (v: unknown) => {
    const xs = Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
    const out: string[] = [];
    xs.forEach((a, i) => {
      if (a.endsWith("/nginx-ingress-controller") || a.startsWith("--controller-class=")) out.push(a);
      else if (a === "--controller-class" && i + 1 < xs.length) out.push(a, xs[i + 1]);
    });
    return out;
  };
  const image = /ingress-nginx\/controller(:|@|$)/.test(c.image ?? "") ? c.image : undefined;
  return { command: keep(c.command), args: keep(c.args), image };
}

/**
 * What a pod (its labels, namespace and spec) does for routing, or undefined when it is no controller
 * podnet recognises.
 */
export function controllerRole(
  namespace: string,
  labels: Labels | undefined,
  spec: PodSpec,
): ControllerRole | undefined {
  const l = labels ?? {};
  const egName = l["gateway.envoyproxy.io/owning-gateway-name"];
  const egNamespace = l["gateway.envoyproxy.io/owning-gateway-namespace"];
  if (egName !== undefined && egNamespace !== undefined)
    return {
      kind: "gateway-proxy",
      namespace: egNamespace,
      name: egName,
      labelledBy: "gateway.envoyproxy.io/owning-gateway-name and -namespace (Envoy Gateway)",
    };
  const gwName = l["gateway.networking.k8s.io/gateway-name"];
  if (gwName !== undefined)
    return {
      kind: "gateway-proxy",
      namespace,
      name: gwName,
      labelledBy: "gateway.networking.k8s.io/gateway-name",
    };
  for (const c of spec.containers ?? []) {
    if (!isIngressNginx(c)) continue;
    const args = commandLine(c);
    return {
      kind: "ingress-nginx",
      controllerClass: flag(args, "--controller-class") ?? INGRESS_NGINX_CONTROLLER,
    };
  }
  return undefined;
}

/** Whether a role serves a controller key. */
function serves(role: ControllerRole, key: ControllerKey): boolean {
  if (key.kind === "IngressClass")
    return role.kind === "ingress-nginx" && role.controllerClass === key.controller;
  return role.kind === "gateway-proxy" && role.namespace === key.namespace && role.name === key.name;
}

/** The pods and Service that carry one controller key's traffic. */
export interface ControllerInstance {
  key: ControllerKey;
  /** `ingress-nginx`, `Envoy Gateway`, `Gateway API (gateway-name label)`, or the supplied one. */
  implementation: string;
  /** Its running pods with an address, in the cluster's order (none: the controller is not running). */
  pods: Pod[];
  /** Its LoadBalancer (else NodePort) Service, when one selects the pods. */
  service?: Service;
  /** podnet's supplied controller stands in (the input runs none for this key). */
  supplied: boolean;
  /** How the pods were found, in words. */
  why: string;
}

const keyText = (k: ControllerKey) =>
  k.kind === "IngressClass"
    ? `IngressClass ${k.name} (controller ${k.controller})`
    : `Gateway ${k.namespace}/${k.name} (class ${k.className}, controller ${k.controller})`;

function running(p: Pod): boolean {
  return p.status?.phase === "Running" && !!p.status.podIP;
}

function isSupplied(p: Pod): boolean {
  return p.metadata.annotations?.[SUPPLIED_ANNOTATION] === "true";
}

/**
 * Whether a pod is the ingress-nginx controller podnet supplied: its annotation and what it runs,
 * not its namespace (an anonymized dump renames `ingress-nginx`; the container's identity is kept).
 */
export function isSuppliedController(p: Pod): boolean {
  return (
    isSupplied(p) &&
    controllerRole(p.metadata.namespace ?? "default", p.metadata.labels, p.spec)?.kind === "ingress-nginx"
  );
}

/** The LoadBalancer, else NodePort, Service of the pods' namespace whose selector picks the first pod. */
export function serviceOf(state: ClusterState, pods: readonly Pod[]): Service | undefined {
  const p = pods[0];
  if (!p) return undefined;
  const picks = (s: Service) =>
    s.metadata.namespace === p.metadata.namespace &&
    !!s.spec.selector &&
    Object.keys(s.spec.selector).length > 0 &&
    Object.entries(s.spec.selector).every(([k, v]) => p.metadata.labels?.[k] === v);
  return (
    state.services.find((s) => s.spec.type === "LoadBalancer" && picks(s)) ??
    state.services.find((s) => s.spec.type === "NodePort" && picks(s))
  );
}

/**
 * The controller pods and Service for `key`: the input's recognised controller, else podnet's supplied
 * one standing in, else `pods: []` with the reason (supplying switched off, or nothing to stand in).
 */
export function controllerInstance(state: ClusterState, key: ControllerKey): ControllerInstance {
  const own: Pod[] = [];
  let role: ControllerRole | undefined;
  for (const p of state.pods) {
    if (isSupplied(p)) continue;
    const r = controllerRole(p.metadata.namespace ?? "default", p.metadata.labels, p.spec);
    if (r && serves(r, key)) {
      role ??= r;
      if (running(p)) own.push(p);
    }
  }
  if (role) {
    const implementation =
      role.kind === "ingress-nginx"
        ? "ingress-nginx"
        : role.labelledBy.includes("Envoy")
          ? "Envoy Gateway"
          : "Gateway API (gateway-name label)";
    const how =
      role.kind === "ingress-nginx"
        ? `ingress-nginx pods with --controller-class=${role.controllerClass}`
        : `pods labelled ${role.labelledBy} = ${key.kind === "Gateway" ? `${key.namespace}/${key.name}` : ""}`;
    const service = serviceOf(state, own);
    return {
      key,
      implementation,
      pods: own,
      ...(service ? { service } : {}),
      supplied: false,
      why: `${keyText(key)} is served by ${how}: ${own.length === 0 ? "none is running" : own.map(podName).join(", ")}${service ? `, behind Service ${svcName(service)}` : ""}`,
    };
  }
  const supplied = state.pods.filter(isSuppliedController);
  if (supplied.length > 0) {
    const pods = supplied.filter(running);
    const service = serviceOf(state, supplied);
    return {
      key,
      implementation: "ingress-nginx (supplied by podnet)",
      pods,
      ...(service ? { service } : {}),
      supplied: true,
      why: `no pod of the input serves ${keyText(key)}: podnet's supplied ingress-nginx controller stands in (${pods.map(podName).join(", ") || "not running"}${service ? `, behind Service ${svcName(service)}` : ""})`,
    };
  }
  return {
    key,
    implementation: "none",
    pods: [],
    supplied: false,
    why: `no pod of the input serves ${keyText(key)} (podnet recognises ingress-nginx and Envoy Gateway pods)${state.config.supply.ingressController ? "" : ", and spec.supply.ingressController is false"}`,
  };
}

function podName(p: Pod): string {
  return `${p.metadata.namespace}/${p.metadata.name}`;
}

function svcName(s: Service): string {
  return `${s.metadata.namespace}/${s.metadata.name}`;
}

/** The supplied controller, decoded (defaults filled in), to be resolved with the input's objects. */
export interface IngressControllerAddon {
  services: Entry<Service>[];
  workloads: Entry<Workload>[];
}

/**
 * podnet's default controller when the input has Ingresses, no recognised controller pod or workload,
 * and `spec.supply.ingressController` is not false; undefined otherwise. Warns once what it supplied.
 */
export function supplyIngressController(
  inv: Inventory,
  config: ClusterConfig,
  diags: Diagnostics,
): IngressControllerAddon | undefined {
  const gateways = inv.gateways.length;
  if (!config.supply.ingressController || inv.ingresses.length + gateways === 0) return undefined;
  const recognised =
    inv.pods.some((e) =>
      controllerRole(e.obj.metadata.namespace ?? "default", e.obj.metadata.labels, e.obj.spec),
    ) ||
    inv.workloads.some((e) => {
      const t = (e.obj.spec as { template?: { metadata?: { labels?: Labels }; spec?: PodSpec } }).template;
      return t?.spec && controllerRole(e.obj.metadata.namespace ?? "default", t.metadata?.labels, t.spec);
    });
  if (recognised) return undefined;
  const erroneous = diags.hasErrors;
  const decoded = decodeObjects(
    [deployment(), service()].map((value) => ({ value, origin: SUPPLIED_CONTROLLER_ORIGIN })),
    diags,
  );
  if (!erroneous)
    diags.warn({
      code: "supplied-ingress-controller",
      message: `the input has ${[
        inv.ingresses.length
          ? `${inv.ingresses.length} Ingress${inv.ingresses.length === 1 ? "" : "es"}`
          : "",
        gateways ? `${gateways} Gateway${gateways === 1 ? "" : "s"}` : "",
      ]
        .filter(Boolean)
        .join(
          " and ",
        )} but runs no controller podnet recognises (ingress-nginx, Envoy Gateway): podnet supplies ingress-nginx's (Deployment ${SUPPLIED_CONTROLLER.namespace}/${SUPPLIED_CONTROLLER.deployment}, 1 pod, behind LoadBalancer Service ${SUPPLIED_CONTROLLER.namespace}/${SUPPLIED_CONTROLLER.service})`,
      hint: "to analyse the manifests alone, set spec.supply.ingressController: false in the Cluster config (podnet.dev/v1alpha1)",
    });
  return { services: decoded.services, workloads: decoded.workloads as Entry<Workload>[] };
}

function deployment(): Record<string, unknown> {
  const labels = { ...SUPPLIED_CONTROLLER.labels };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: SUPPLIED_CONTROLLER.deployment,
      namespace: SUPPLIED_CONTROLLER.namespace,
      labels,
      annotations: { [SUPPLIED_ANNOTATION]: "true" },
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { [SUPPLIED_ANNOTATION]: "true" } },
        spec: {
          nodeSelector: { "kubernetes.io/os": "linux" },
          dnsPolicy: "ClusterFirst",
          containers: [
            {
              name: "controller",
              image: "registry.k8s.io/ingress-nginx/controller:v1.12.1",
              args: [
                "/nginx-ingress-controller",
                `--publish-service=$(POD_NAMESPACE)/${SUPPLIED_CONTROLLER.service}`,
                "--election-id=ingress-nginx-leader",
                `--controller-class=${INGRESS_NGINX_CONTROLLER}`,
                "--ingress-class=nginx",
              ],
              ports: [
                { name: "http", containerPort: 80, protocol: "TCP" },
                { name: "https", containerPort: 443, protocol: "TCP" },
                { name: "webhook", containerPort: 8443, protocol: "TCP" },
              ],
            },
          ],
        },
      },
    },
  };
}

function service(): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: SUPPLIED_CONTROLLER.service,
      namespace: SUPPLIED_CONTROLLER.namespace,
      labels: { ...SUPPLIED_CONTROLLER.labels },
      annotations: { [SUPPLIED_ANNOTATION]: "true" },
    },
    spec: {
      type: "LoadBalancer",
      externalTrafficPolicy: "Local",
      selector: { ...SUPPLIED_CONTROLLER.labels },
      ports: [
        { name: "http", port: 80, protocol: "TCP", targetPort: "http", appProtocol: "http" },
        { name: "https", port: 443, protocol: "TCP", targetPort: "https", appProtocol: "https" },
      ],
    },
  };
}
