/**
 * The pure entry point of the core: manifest texts in, a resolved cluster (or diagnostics) out.
 * No I/O: the adapters read files and stdin and hand their texts here.
 */

import { resolveCluster } from "./control/resolve.ts";
import type { ClusterState } from "./control/state.ts";
import { type Diagnostic, Diagnostics } from "./diagnostics.ts";
import { type DecodeOptions, decodeObjects } from "./manifests/decode.ts";
import { kindInfo } from "./manifests/kinds.ts";
import { parseSource, type RawObject, type Source } from "./manifests/parse.ts";

export type ResolveResult =
  | { ok: true; cluster: ClusterState; diagnostics: Diagnostic[] }
  | { ok: false; cluster?: undefined; diagnostics: Diagnostic[] };

/**
 * Options of a load: see `DecodeOptions` (`namespace`: where namespace-less objects go, as `-n`).
 * `objects`: objects already read (a live cluster's), decoded before the sources' objects; with
 * `overlay`, a source object replaces the given object of the same kind, namespace and name, as
 * `kubectl apply` of the sources onto that cluster would.
 */
export type ResolveOptions = DecodeOptions & { objects?: readonly RawObject[]; overlay?: boolean };

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
  const parsed: RawObject[] = [];
  // One by one: spreading a dump of 150,000 objects into push() overflows the call stack.
  for (const s of distinctSources(sources, diags)) for (const r of parseSource(s, diags)) parsed.push(r);
  const raws = opts.objects ? withGiven(opts.objects, parsed, opts) : parsed;
  if (raws.length === 0 && !diags.hasErrors) {
    // As `kubectl apply` says "no objects passed to apply": an empty answer from an empty input
    // (a failed `kubectl get … | podnet …`) must not pass for a clean cluster.
    diags.error({
      code: "no-objects",
      message: "the input holds no Kubernetes objects",
      hint: "give manifests with -f (a kubectl get -A -o yaml dump, Helm output, plain YAML); check that the command piping them succeeded",
      origin: {
        file: sources.map((s) => s.file).join(", ") || (opts.objects ? "the live cluster" : "(no input)"),
        locate: () => undefined,
      },
    });
    return { ok: false, diagnostics: diags.items };
  }
  const inventory = decodeObjects(raws, diags, { namespace: opts.namespace });
  // A broken Cluster config would make every range-dependent finding below spurious: stop here.
  if (inventory.configOrigin && !inventory.config) return { ok: false, diagnostics: diags.items };
  const cluster = resolveCluster(inventory, diags);
  if (diags.hasErrors) return { ok: false, diagnostics: diags.items };
  return { ok: true, cluster, diagnostics: diags.items };
}

/**
 * The sources with each file once: a file given twice (`-f a.yaml -f a.yaml`, or `-f dir` and a
 * file under it) is read once, with one warning naming the files, as `kubectl apply` applies
 * such a file twice to the same effect, instead of every object of it being "defined twice".
 */
function distinctSources(sources: readonly Source[], diags: Diagnostics): Source[] {
  const seen = new Set<string>();
  const twice: string[] = [];
  const out: Source[] = [];
  for (const s of sources) {
    const key =
      s.file === "<stdin>"
        ? s.file
        : s.file
            .replace(/\/(\.\/)+/g, "/")
            .replace(/\/{2,}/g, "/")
            .replace(/^(\.\/)+/, "");
    if (seen.has(key)) {
      if (!twice.includes(s.file)) twice.push(s.file);
      continue;
    }
    seen.add(key);
    out.push(s);
  }
  if (twice.length > 0)
    diags.warn({
      code: "file-given-twice",
      message: `${twice.length === 1 ? `${twice[0]} was` : `${twice.length} files were`} given twice; ${twice.length === 1 ? "its" : "their"} objects are read once${twice.length > 1 ? ` (${twice.join(", ")})` : ""}`,
      hint: "give each file once (a directory given with -f includes every file under it)",
      origin: { file: twice[0], locate: () => undefined },
    });
  return out;
}

/** The given objects then the parsed ones; with `overlay`, parsed objects replace given ones of the same key. */
function withGiven(given: readonly RawObject[], parsed: RawObject[], opts: ResolveOptions): RawObject[] {
  const out: RawObject[] = [];
  if (!opts.overlay) {
    for (const r of given) out.push(r);
    for (const r of parsed) out.push(r);
    return out;
  }
  const key = (r: RawObject): string => {
    const v = r.value;
    const meta = (v.metadata ?? {}) as Record<string, unknown>;
    const kind = typeof v.kind === "string" ? v.kind : "";
    const ns = kindInfo(kind)?.namespaced ? String(meta.namespace || opts.namespace || "default") : "";
    return `${kind}/${ns}/${String(meta.name ?? "")}`;
  };
  const replaced = new Set(parsed.map(key));
  for (const r of given) if (!replaced.has(key(r))) out.push(r);
  for (const r of parsed) out.push(r);
  return out;
}
