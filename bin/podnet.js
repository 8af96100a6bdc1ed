#!/usr/bin/env node
// The podnet CLI. Runs the compiled code in dist/ (built by `npm ci`/`npm install` via `prepare`).
import { existsSync } from "node:fs";

const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    "podnet is not built yet: run `npm ci` (or `npm run build`) in the podnet directory first.\n",
  );
  process.exit(2);
}
const { main } = await import(entry.href);
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
});
process.exitCode = await main(process.argv.slice(2));
