/**
 * The pure entry point of the core: manifest texts in, a resolved cluster (or diagnostics) out.
 * No I/O: the adapters read files and stdin and hand their texts here.
 */

import { resolveCluster } from "./control/resolve.ts";
import type { ClusterState } from "./control/state.ts";
import { type Diagnostic, Diagnostics } from "./diagnostics.ts";
import { type DecodeOptions, decodeObjects } from "./manifests/decode.ts";
import { parseSource, type RawObject, type Source } from "./manifests/parse.ts";

export type ResolveResult =
  | { ok: true; cluster: ClusterState; diagnostics: Diagnostic[] }
  | { ok: false; cluster?: undefined; diagnostics: Diagnostic[] };

/** Options of a load: see `DecodeOptions` (`namespace`: where namespace-less objects go, as `-n`). */
export type ResolveOptions = DecodeOptions;

/**
 * Parses, validates and resolves manifests. `diagnostics` holds every warning and error of the run;
 * `ok` is false when any of them is an error. `opts.namespace` places objects that name no
 * namespace, as `kubectl apply -n NS` does.
 */
export function resolveManifests(
  sources: readonly Source[],
  diags = new Diagnostics(),
  opts: ResolveOptions = {},
): ResolveResult {
  const raws: RawObject[] = [];
  // One by one: spreading a dump of 150,000 objects into push() overflows the call stack.
  for (const s of sources) for (const r of parseSource(s, diags)) raws.push(r);
  if (raws.length === 0 && !diags.hasErrors) {
    // As `kubectl apply` says "no objects passed to apply": an empty answer from an empty input
    // (a failed `kubectl get … | podnet …`) must not pass for a clean cluster.
    diags.error({
      code: "no-objects",
      message: "the input holds no Kubernetes objects",
      hint: "give manifests with -f (a kubectl get -A -o yaml dump, Helm output, plain YAML); check that the command piping them succeeded",
      origin: { file: sources.map((s) => s.file).join(", ") || "(no input)", locate: () => undefined },
    });
    return { ok: false, diagnostics: diags.items };
  }
  const inventory = decodeObjects(raws, diags, opts);
  // A broken Cluster config would make every range-dependent finding below spurious: stop here.
  if (inventory.configOrigin && !inventory.config) return { ok: false, diagnostics: diags.items };
  const cluster = resolveCluster(inventory, diags);
  if (diags.hasErrors) return { ok: false, diagnostics: diags.items };
  return { ok: true, cluster, diagnostics: diags.items };
}
