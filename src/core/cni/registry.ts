/**
 * The network plugins podnet implements, one per name the Cluster config's `spec.cni` accepts
 * (model/config.ts `NETWORK_PLUGIN_NAMES`). Adding a plugin is adding its file (./plugin.ts says what
 * it provides), its name there and its line here (the type below refuses a name without a plugin);
 * the shared packet-flow cases (test/cni.test.ts) and the benchmarks pick it up from this list.
 */
import { type CniMode, NETWORK_PLUGIN_NAMES } from "../model/config.ts";
import { calico } from "./calico.ts";
import { hostGw } from "./host-gw.ts";
import { ipip } from "./ipip.ts";
import type { NetworkPlugin } from "./plugin.ts";
import { vxlan } from "./vxlan.ts";

const byName: { readonly [name in CniMode]: NetworkPlugin } = {
  vxlan,
  "host-gw": hostGw,
  ipip,
  calico,
};

/** Every plugin, in the order of `NETWORK_PLUGIN_NAMES`; the first is the default (`spec.cni` unset). */
export const networkPlugins: readonly NetworkPlugin[] = NETWORK_PLUGIN_NAMES.map((n) => byName[n]);

/** The names `spec.cni` accepts, the default first. */
export const networkPluginNames: readonly CniMode[] = NETWORK_PLUGIN_NAMES;

/**
 * The plugin called `name`. Config validation accepts only these names, so an unknown one here is a
 * bug of the caller: it throws.
 */
export function networkPlugin(name: string): NetworkPlugin {
  const p = Object.hasOwn(byName, name) ? byName[name as CniMode] : undefined;
  if (!p) throw new Error(`no network plugin "${name}" (registered: ${networkPluginNames.join(", ")})`);
  return p;
}
