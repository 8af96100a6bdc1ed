/**
 * Benchmark: one routing decision among 10,000 rules (issue 15's target: ≤ 10 µs), for an Ingress
 * controller and for a Gateway, each in two shapes — rules spread over 500 hosts, and all on one host
 * (the worst case for the per-host path index). Also the time to compile the table.
 *
 *   node --import tsx bench/routing.ts [--seed 15 --rules 10000 --requests 200000 --runs 5]
 *
 * Prints wall-clock time per decision for each run, its median, and the median CPU time per decision
 * (the process's user + system time: on a shared, loaded machine, the wall clock includes waiting).
 *
 * Requests: 90 % aimed at a rule (its host; a path under its prefix or equal to its exact path; its
 * headers), 10 % misses. Pure computation: no I/O, no root.
 */
import { parseArgs } from "node:util";
import { compileRouter, type RouteEntry, type RouterSpec } from "../src/core/routing/router.ts";
import type { HttpRequest } from "../src/core/routing/types.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "15" },
    rules: { type: "string", default: "10000" },
    requests: { type: "string", default: "200000" },
    runs: { type: "string", default: "5" },
  },
});

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  "api",
  "cart",
  "shop",
  "v1",
  "v2",
  "users",
  "items",
  "static",
  "img",
  "search",
  "admin",
  "pay",
];

function makeSpec(api: "Ingress" | "Gateway", rules: number, hosts: number, rnd: () => number): RouterSpec {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const entries: RouteEntry[] = [];
  for (let i = 0; i < rules; i++) {
    const h = i % hosts;
    const host = h % 10 === 9 ? `*.w${h}.example.com` : `h${h}.example.com`;
    const depth = 1 + Math.floor(rnd() * 4);
    const path = `/${Array.from({ length: depth }, () => pick(WORDS)).join("/")}/${i}`;
    const r = rnd();
    const type = api === "Gateway" && r < 0.05 ? "RegularExpression" : r < 0.3 ? "Exact" : "Prefix";
    entries.push({
      rule: {
        kind: api === "Ingress" ? "Ingress" : "HTTPRoute",
        namespace: "bench",
        name: `r${i >> 4}`,
        rule: i & 15,
        match: 0,
      },
      hostnames: [host],
      path: { type, value: type === "RegularExpression" ? `${path}/[0-9]+` : path },
      ...(api === "Gateway" && rnd() < 0.2 ? { method: "GET" } : {}),
      headers:
        api === "Gateway" && rnd() < 0.3
          ? [{ type: "Exact", name: "x-version", value: pick(["1", "2"]) }]
          : [],
      queryParams: api === "Gateway" && rnd() < 0.1 ? [{ type: "Exact", name: "q", value: "1" }] : [],
      backends: [{ namespace: "bench", service: `svc${i % 1000}`, port: 80, weight: 1 }],
      filters: [],
      order: i,
    });
  }
  return {
    controller:
      api === "Ingress"
        ? { kind: "IngressClass", name: "nginx", controller: "k8s.io/ingress-nginx" }
        : { kind: "Gateway", namespace: "bench", name: "gw", className: "eg", controller: "example.net/gw" },
    api,
    listeners: [{ name: "http", protocol: "HTTP", port: 80 }],
    entries,
  };
}

function makeRequests(spec: RouterSpec, n: number, rnd: () => number): HttpRequest[] {
  const out: HttpRequest[] = [];
  for (let i = 0; i < n; i++) {
    const e = spec.entries[Math.floor(rnd() * spec.entries.length)];
    const miss = rnd() < 0.1;
    const h = e.hostnames[0];
    const host = h.startsWith("*.") ? `a${i % 7}${h.slice(1)}` : h;
    const path =
      e.path.type === "Exact"
        ? e.path.value
        : e.path.type === "RegularExpression"
          ? `${e.path.value.slice(0, -7)}/${i % 100}`
          : `${e.path.value}/x`;
    out.push({
      scheme: "http",
      host: miss ? "nowhere.example.net" : host,
      port: 80,
      path: miss ? "/missing" : path,
      query: e.queryParams.length ? [["q", "1"]] : [],
      method: "GET",
      headers: e.headers.length ? [["X-Version", e.headers[0].value]] : [],
    });
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rules = Number(values.rules);
const nreq = Number(values.requests);
const runs = Number(values.runs);
console.log(`bench/routing: ${rules} rules, ${nreq} requests per run, ${runs} runs, seed ${values.seed}`);
for (const api of ["Ingress", "Gateway"] as const)
  for (const hosts of [500, 1]) {
    const rnd = prng(Number(values.seed));
    const spec = makeSpec(api, rules, hosts, rnd);
    const reqs = makeRequests(spec, nreq, rnd);
    const compileMs: number[] = [];
    let router = compileRouter(spec);
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      router = compileRouter(spec);
      compileMs.push(performance.now() - t0);
    }
    // Warm up, then time.
    let routed = 0;
    for (let i = 0; i < Math.min(20000, reqs.length); i++) router.decide(reqs[i]);
    const perDecision: number[] = [];
    const cpuPerDecision: number[] = [];
    for (let r = 0; r < runs; r++) {
      routed = 0;
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (const q of reqs) if (router.decide(q).outcome === "routed") routed++;
      perDecision.push(Number(process.hrtime.bigint() - t0) / 1000 / reqs.length);
      const c = process.cpuUsage(c0);
      cpuPerDecision.push((c.user + c.system) / reqs.length);
    }
    console.log(
      `${api.padEnd(7)} ${String(hosts).padStart(3)} host${hosts === 1 ? " " : "s"}: ${perDecision.map((x) => x.toFixed(2)).join(" ")} µs/decision, median ${median(perDecision).toFixed(2)} µs (CPU time ${median(cpuPerDecision).toFixed(2)} µs; routed ${((100 * routed) / reqs.length).toFixed(0)} %); compile median ${median(compileMs).toFixed(0)} ms`,
    );
  }
