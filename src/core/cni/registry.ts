/**
 * The network plugins podnet knows, by the name the Cluster config's `spec.cni` selects. Adding a
 * plugin is adding its file (./plugin.ts says what it provides) and one line here; the config's
 * validation, the shared packet-flow cases (test/cni.test.ts) and the benchmarks pick it up from
 * this list.
 */
import { calico } from "./calico.ts";
import { hostGw } from "./host-gw.ts";
import { ipip } from "./ipip.ts";
import type { NetworkPlugin } from "./plugin.ts";
import { vxlan } from "./vxlan.ts";

/** Every registered plugin; the first is the default (`spec.cni` unset). */
export const networkPlugins: readonly NetworkPlugin[] = [vxlan, hostGw, ipip, calico];

/** The names `spec.cni` accepts, in registry order. */
export const networkPluginNames: readonly string[] = networkPlugins.map((p) => p.name);

const byName = new Map(networkPlugins.map((p) => [p.name, p]));

/**
 * The plugin registered under `name`. Config validation accepts only registered names, so an unknown
 * one here is a bug of the caller: it throws.
 */
export function networkPlugin(name: string): NetworkPlugin {
  const p = byName.get(name);
  if (!p) throw new Error(`no network plugin "${name}" (registered: ${networkPluginNames.join(", ")})`);
  return p;
}
