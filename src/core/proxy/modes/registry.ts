/**
 * The registered kube-proxy modes, by the name the Cluster config's `proxyMode` takes. Adding a mode
 * is adding its file next to this one (a `ProxyMode`, ./mode.ts) and its line in `registered`: the
 * config then accepts its name, `podnet rules` prints its rules, the tracer runs its rules, and the
 * shared packet-flow cases (test/proxy-modes.test.ts) run against it.
 */
import { iptablesMode } from "./iptables.ts";
import { ipvsMode } from "./ipvs.ts";
import type { ProxyMode } from "./mode.ts";
import { nftablesMode } from "./nftables.ts";

export type { ProxyMode } from "./mode.ts";

/**
 * Every mode, the default first. A function, not a constant: the modes import the Service model,
 * which asks this registry, so the list is read only once every module has loaded.
 */
function registered(): readonly ProxyMode[] {
  return [nftablesMode, iptablesMode, ipvsMode];
}

/** The registered modes, the default first. */
export function proxyModes(): readonly ProxyMode[] {
  return registered();
}

/** The names `proxyMode` accepts, the default first. */
export function proxyModeNames(): string[] {
  return registered().map((m) => m.name);
}

/**
 * The mode called `name`. Throws for a name no mode has: the Cluster config decoder accepts only
 * registered names (model/config.ts), so an unknown name here is a fault of the caller.
 */
export function proxyMode(name: string): ProxyMode {
  const mode = registered().find((m) => m.name === name);
  if (!mode) throw new Error(`unknown proxy mode "${name}"; registered: ${proxyModeNames().join(", ")}`);
  return mode;
}
