/**
 * The HTTP controllers of a cluster as the data plane runs them and `probe --http` addresses them:
 * each router spec (`routerSpecs(state)`, ../routing/router.ts) compiled, with the controller's pods
 * and Service (found by `instanceOf`: ../control/ingress-controllers.ts `controllerInstance`), each
 * router listener tied to the Service port clients use for it (the port number the listener declares)
 * and to the pod port behind it (the Service port's targetPort, by number or container port name).
 * Pure.
 */
import { controllerInstance } from "../control/ingress-controllers.ts";
import type { ClusterState } from "../control/state.ts";
import type { Pod, Service } from "../model/k8s.ts";
import { compileRouter, type RouterSpec, routerSpecs } from "../routing/router.ts";
import type { ControllerKey } from "../routing/types.ts";
import { type ControllerStatuses, controllerStatuses, INGRESS_NGINX_STATUSES } from "../sim/http-trace.ts";
import type { ProxyListener, ProxySpec } from "./http.ts";
import { proxyServices } from "./http.ts";
import type { HttpController } from "./http-probe.ts";

/** The pods and Service that carry one controller's traffic, and the statuses it answers with itself. */
export interface ControllerPods {
  pods: Pod[];
  service?: Service;
  /** ../sim/http-trace.ts `controllerStatuses` of the controller. Default: ingress-nginx's. */
  statuses?: ControllerStatuses;
}

/** What `httpControllers` found: the controllers to probe, the proxies to run, and what was left out and why. */
export interface HttpControllers {
  controllers: HttpController[];
  proxies: ProxySpec[];
  /** One line per controller or listener left out (`IngressClass nginx: no Service in front of its pods`). */
  notes: string[];
}

function keyText(k: ControllerKey): string {
  return k.kind === "IngressClass" ? `IngressClass ${k.name}` : `Gateway ${k.namespace}/${k.name}`;
}

/** The pod port a Service port sends to on `pod`: its targetPort by number or by container port name. */
function containerPortOf(pod: Pod, port: { port: number; targetPort?: number | string }): number | undefined {
  const t = port.targetPort ?? port.port;
  if (typeof t === "number") return t;
  for (const c of pod.spec.containers)
    for (const p of c.ports ?? []) if (p.name === t) return p.containerPort;
  return undefined;
}

/**
 * Every controller of `specs` with its pods, Service and listeners, and one proxy per controller pod.
 * A controller without running pods or without a Service, and a listener whose port the Service does
 * not offer (TCP) or whose target port the pods do not name, are left out with a note.
 */
export function httpControllers(
  state: ClusterState,
  specs: readonly RouterSpec[],
  instanceOf: (key: ControllerKey) => ControllerPods,
): HttpControllers {
  const services = proxyServices(state);
  const out: HttpControllers = { controllers: [], proxies: [], notes: [] };
  for (const spec of specs) {
    const name = keyText(spec.controller);
    const { pods, service, statuses = INGRESS_NGINX_STATUSES } = instanceOf(spec.controller);
    const running = pods.filter((p) => p.status?.podIP && !p.spec.hostNetwork);
    if (running.length === 0) {
      out.notes.push(
        `${name}: no running controller pod (with its own network namespace) to run the proxy in`,
      );
      continue;
    }
    if (!service) {
      out.notes.push(`${name}: no LoadBalancer or NodePort Service in front of its pods`);
      continue;
    }
    const listeners: HttpController["listeners"] = [];
    const bound: ProxyListener[] = [];
    for (const listener of spec.listeners) {
      const sp = (service.spec.ports ?? []).find(
        (p) => p.port === listener.port && (p.protocol ?? "TCP") === "TCP",
      );
      if (!sp) {
        out.notes.push(
          `${name}: listener ${listener.name} (port ${listener.port}): Service ${service.metadata.namespace}/${service.metadata.name} has no TCP port ${listener.port}`,
        );
        continue;
      }
      const containerPort = containerPortOf(running[0], sp);
      if (containerPort === undefined) {
        out.notes.push(`${name}: listener ${listener.name}: the pods name no port ${String(sp.targetPort)}`);
        continue;
      }
      listeners.push({ listener, servicePort: sp.port });
      bound.push({ listener, containerPort });
    }
    if (listeners.length === 0) continue;
    out.controllers.push({ router: compileRouter(spec), service, listeners, statuses });
    for (const p of running)
      out.proxies.push({
        pod: `${p.metadata.namespace}/${p.metadata.name}`,
        ip: p.status!.podIP!,
        listeners: bound,
        router: spec,
        services,
        statuses,
      });
  }
  return out;
}

/**
 * Every controller of the cluster (`routerSpecs(state)`), with the pods and Service the simulator
 * finds for it (../control/ingress-controllers.ts `controllerInstance`: the input's ingress-nginx or
 * Envoy Gateway / GEP-1762 pods, else podnet's supplied ingress-nginx), so the kernel runs the proxy
 * in exactly the pods `trace --to http://…` names.
 */
export function clusterHttpControllers(state: ClusterState): HttpControllers {
  return httpControllers(state, routerSpecs(state), (key) => {
    const instance = controllerInstance(state, key);
    return { ...instance, statuses: controllerStatuses(instance) };
  });
}
