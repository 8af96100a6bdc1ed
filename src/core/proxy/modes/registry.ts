/**
 * The kube-proxy modes podnet implements, one per name the Cluster config's `proxyMode` accepts
 * (model/config.ts `PROXY_MODE_NAMES`). Adding a mode is adding its file next to this one (a
 * `ProxyMode`, ./mode.ts), its name there and its line here (the type below refuses a name without
 * a mode): `podnet rules` then prints its rules, the tracer runs them, and the shared packet-flow
 * cases (test/proxy-modes.test.ts) run against it.
 */
import { PROXY_MODE_NAMES, type ProxyModeName } from "../../model/config.ts";
import { iptablesMode } from "./iptables.ts";
import { ipvsMode } from "./ipvs.ts";
import type { ProxyMode } from "./mode.ts";
import { nftablesMode } from "./nftables.ts";

export type { ProxyMode } from "./mode.ts";

const byName: { readonly [name in ProxyModeName]: ProxyMode } = {
  nftables: nftablesMode,
  iptables: iptablesMode,
  ipvs: ipvsMode,
};

/** Every mode, in the order of `PROXY_MODE_NAMES` (the default first). */
export function proxyModes(): readonly ProxyMode[] {
  return PROXY_MODE_NAMES.map((n) => byName[n]);
}

/** The names `proxyMode` accepts, the default first. */
export function proxyModeNames(): ProxyModeName[] {
  return [...PROXY_MODE_NAMES];
}

/**
 * The mode called `name`. Throws for a name no mode has: the Cluster config decoder accepts only
 * these names (model/config.ts), so an unknown name here is a fault of the caller.
 */
export function proxyMode(name: string): ProxyMode {
  const mode = Object.hasOwn(byName, name) ? byName[name as ProxyModeName] : undefined;
  if (!mode) throw new Error(`unknown proxy mode "${name}"; registered: ${proxyModeNames().join(", ")}`);
  return mode;
}
