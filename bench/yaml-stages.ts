/**
 * Benchmark: what each stage of the `yaml` library costs on the CustomResourceDefinitions of an
 * argo-cd-shaped install (bench/generate.ts generateInstall), in one warm process, CPU time: the
 * Lexer alone, the Parser (lexer + CST), the Composer (CST → nodes, which finds most syntax errors:
 * indentation, unclosed quotes, duplicate keys) and toJS. Tells what skipping a kind could save while
 * the library still reads it. Beside them js-yaml's two stages (parseEvents: the syntax; then
 * constructFromEvents: values, duplicate keys) and podnet's reader (`parseSource`, js-yaml's path).
 *
 *   node --import tsx bench/yaml-stages.ts               # seed 1, CRDs of 420, 560 and 180 KiB, 7 rounds
 *   node --import tsx bench/yaml-stages.ts --rounds 11
 */
import { parseArgs } from "node:util";
import { constructFromEvents, parseEvents, YAML11_SCHEMA } from "js-yaml";
import { Lexer, Parser, parseDocument } from "yaml";
import { Diagnostics } from "../src/core/diagnostics.ts";
import { parseSource } from "../src/core/manifests/parse.ts";
import { generateInstall } from "./generate.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    rounds: { type: "string", default: "7" },
    "crd-kib": { type: "string", default: "420,560,180" },
  },
});
const crds = generateInstall(Number(values.seed), values["crd-kib"].split(",").map(Number))
  .filter((d) => d.crd)
  .map((d) => d.text);
const OPTIONS = { version: "1.1", merge: true } as const;
const stages: Record<string, (text: string) => void> = {
  lexer: (t) => {
    for (const _ of new Lexer().lex(t));
  },
  parser: (t) => {
    for (const _ of new Parser().parse(t));
  },
  compose: (t) => {
    parseDocument(t, OPTIONS);
  },
  "compose+toJS": (t) => {
    parseDocument(t, OPTIONS).toJS();
  },
  "js-yaml events": (t) => {
    parseEvents(t, {});
  },
  "js-yaml values": (t) => {
    constructFromEvents(parseEvents(t, {}), { source: t, schema: YAML11_SCHEMA });
  },
  parseSource: (t) => {
    parseSource({ file: "crd.yaml", text: t }, new Diagnostics());
  },
};
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const ms: Record<string, number[]> = {};
for (let r = 0; r < Number(values.rounds); r++) {
  for (const [name, f] of Object.entries(stages)) {
    const c0 = cpu();
    for (const t of crds) f(t);
    if (r === 0) continue; // round 0 warms the JIT
    ms[name] ??= [];
    ms[name].push(cpu() - c0);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `yaml library stages on ${crds.length} CRDs, ${(crds.join("").length / 1024).toFixed(0)} KiB; node ${process.version}; CPU ms, median of ${Number(values.rounds) - 1} warm rounds:`,
);
for (const [name, xs] of Object.entries(ms)) console.log(`  ${name.padEnd(15)} ${median(xs).toFixed(0)}`);
