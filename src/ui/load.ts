/**
 * Loading an input for the web front ends: like the CLI's `loadOrExit` (read the `-f` paths, resolve
 * the manifests), but the diagnostics are kept for the page instead of ending the process, so a bad
 * input is shown — file:line:col, what is wrong and the fix — in the browser.
 */
import { readSources } from "../adapters/manifests/read.ts";
import { resolveManifests } from "../core/cluster.ts";
import { Diagnostics } from "../core/diagnostics.ts";
import type { RawObject } from "../core/manifests/parse.ts";
import type { LoadedInput } from "./api.ts";

/**
 * Loads `files` (with `-n`'s `namespace`) and, when given, a live cluster's objects (`live.objects`,
 * decoded before the files'; `live.overlay`: the files' objects replace the live ones of the same
 * kind, namespace and name, as `diff --context --against` does). `live.name` (e.g. `context prod`)
 * is listed after the files.
 */
export function loadInput(
  files: readonly string[],
  namespace?: string,
  live?: { objects: readonly RawObject[]; overlay?: boolean; name: string },
): LoadedInput {
  const diags = new Diagnostics();
  const sources = readSources(files, diags);
  const names = [...files, ...(live ? [live.name] : [])];
  if (diags.hasErrors) return { files: names, diagnostics: diags.items };
  const result = resolveManifests(sources, diags, {
    namespace,
    ...(live ? { objects: live.objects, overlay: !!live.overlay } : {}),
  });
  return {
    files: names,
    diagnostics: result.diagnostics,
    ...(result.ok ? { state: result.cluster } : {}),
  };
}
