/**
 * The compiled router (host maps, Exact map, Prefix trie, sorted rest) against the plain linear matcher
 * `decideLinear` on random routing tables and requests: they must pick the same rule every time.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { compileRouter, decideLinear, type RouteEntry, type RouterSpec } from "../src/core/routing/router.ts";
import type { HttpRequest, RouteDecision } from "../src/core/routing/types.ts";

const HOSTS = ["a.example.com", "b.a.example.com", "*.example.com", "*.a.example.com", "example.com"];
const SEGS = ["a", "b", "ab", ""];
const path = fc.array(fc.constantFrom(...SEGS), { minLength: 0, maxLength: 4 }).map((s) => `/${s.join("/")}`);
const valueMatch = fc.record({
  type: fc.constantFrom("Exact" as const, "RegularExpression" as const),
  name: fc.constantFrom("x", "y"),
  value: fc.constantFrom("1", "2", "[12]"),
});

function entry(api: "Ingress" | "Gateway") {
  const types =
    api === "Ingress"
      ? (["Exact", "Prefix", "ImplementationSpecific"] as const)
      : (["Exact", "Prefix", "RegularExpression"] as const);
  return fc.record({
    hostnames: fc.array(fc.constantFrom(...HOSTS), { maxLength: 2 }),
    listeners: fc.option(fc.constantFrom<string[]>(["l1"], ["l2"], ["l1", "l2"]), { nil: undefined }),
    type: fc.constantFrom(...types),
    value: fc.oneof(path, fc.constantFrom("/a/.*", "/a(/b)?", "/a/")),
    method:
      api === "Gateway"
        ? fc.option(fc.constantFrom("GET", "POST"), { nil: undefined })
        : fc.constant(undefined),
    headers:
      api === "Gateway"
        ? fc.uniqueArray(valueMatch, { maxLength: 2, selector: (h) => h.name })
        : fc.constant([]),
    queryParams:
      api === "Gateway"
        ? fc.uniqueArray(valueMatch, { maxLength: 2, selector: (h) => h.name })
        : fc.constant([]),
    fallback: api === "Ingress" ? fc.boolean() : fc.constant(false),
    weight: fc.constantFrom(0, 1, 2),
  });
}

function specOf(
  api: "Ingress" | "Gateway",
  raw: ReturnType<typeof entry> extends fc.Arbitrary<infer T> ? T[] : never,
): RouterSpec {
  const entries: RouteEntry[] = raw.map((r, i) => ({
    rule: {
      kind: api === "Ingress" ? "Ingress" : "HTTPRoute",
      namespace: "ns",
      name: `r${i}`,
      rule: 0,
      match: 0,
    },
    ...(api === "Gateway" && r.listeners ? { listeners: r.listeners } : {}),
    hostnames: r.hostnames,
    path: { type: r.type, value: r.type === "RegularExpression" || !r.value.includes("(") ? r.value : "/a" },
    ...(r.method ? { method: r.method } : {}),
    headers: [...r.headers],
    queryParams: [...r.queryParams],
    backends: [{ namespace: "ns", service: `s${i}`, port: 80, weight: r.weight }],
    filters: [],
    ...(r.fallback ? { fallback: true } : {}),
    // Ties between entries are broken by order; a few equal orders test the stable sort is not relied on.
    order: i,
  }));
  return {
    controller: { kind: "IngressClass", name: "c", controller: "x/y" },
    api,
    listeners:
      api === "Ingress"
        ? [{ name: "http", protocol: "HTTP", port: 80 }]
        : [
            { name: "l1", protocol: "HTTP", port: 80 },
            { name: "l2", protocol: "HTTP", port: 80, hostname: "*.a.example.com" },
          ],
    entries,
  };
}

const request = fc.record({
  host: fc.constantFrom(
    ...HOSTS.filter((h) => !h.startsWith("*")),
    "c.b.a.example.com",
    "x.example.com",
    "other.net",
  ),
  path: fc.oneof(path, fc.constantFrom("/a/b/", "/ab/a", "/a//b", "")),
  method: fc.constantFrom("GET", "POST"),
  headers: fc.array(fc.tuple(fc.constantFrom("x", "X", "y"), fc.constantFrom("1", "2", "3")), {
    maxLength: 3,
  }),
  query: fc.array(fc.tuple(fc.constantFrom("x", "y"), fc.constantFrom("1", "2")), { maxLength: 3 }),
});

const summary = (d: RouteDecision) =>
  d.outcome === "not-found"
    ? "404"
    : `${d.outcome} ${d.rule.name} ${d.outcome === "routed" ? d.chosen.service : d.status}`;

describe("compiled router = linear matcher", () => {
  for (const api of ["Ingress", "Gateway"] as const)
    it(`${api}: same decision on random tables`, () => {
      fc.assert(
        fc.property(
          fc.array(entry(api), { minLength: 1, maxLength: 25 }),
          fc.array(request, { minLength: 1, maxLength: 20 }),
          (raw, reqs) => {
            const spec = specOf(api, raw);
            const router = compileRouter(spec);
            for (const r of reqs) {
              const req: HttpRequest = { scheme: "http", port: 80, ...r };
              assert.equal(
                summary(router.decide(req)),
                summary(decideLinear(spec, req)),
                JSON.stringify(req),
              );
            }
          },
        ),
        { seed: 15, numRuns: 400 },
      );
    });
});
