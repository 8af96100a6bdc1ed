/**
 * Loading an input for the web front ends: like the CLI's `loadOrExit` (read the `-f` paths, resolve
 * the manifests), but the diagnostics are kept for the page instead of ending the process, so a bad
 * input is shown — file:line:col, what is wrong and the fix — in the browser.
 */
import { readSources } from "../adapters/manifests/read.ts";
import { resolveManifests } from "../core/cluster.ts";
import { Diagnostics } from "../core/diagnostics.ts";
import type { LoadedInput } from "./api.ts";

export function loadInput(files: readonly string[], namespace?: string): LoadedInput {
  const diags = new Diagnostics();
  const sources = readSources(files, diags);
  if (diags.hasErrors) return { files: [...files], diagnostics: diags.items };
  const result = resolveManifests(sources, diags, { namespace });
  return {
    files: [...files],
    diagnostics: result.diagnostics,
    ...(result.ok ? { state: result.cluster } : {}),
  };
}
