/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The browser front end of `podnet ui` and `podnet report`: one script, no imports at run time, no
 * network beyond its own server's read-only `/api/…` (none at all in a report, whose answers are
 * embedded). Views are reached by URL (`#/topology`, `#/trace?from=…&to=…`, `#/policy?level=…`,
 * `#/connlist`, `#/diff`, `#/rules?node=…`, `#/dns?from=…&name=…`), so a link can be shared.
 *
 * Safety: every text from the input goes into the page through `textContent` or attribute setters,
 * never as markup; the only markup inserted is the server's SVG, whose labels it escaped.
 */

// biome-ignore lint/suspicious/noExplicitAny: answers are the API's JSON, checked where used
type Json = any;

interface PageData {
  mode: "server" | "report";
  title: string;
  /** Report mode: answers by question key (see src/ui/api.ts `questionKey`). */
  answers?: Record<string, { status: number; body: Json }>;
}

const DATA: PageData = JSON.parse(document.getElementById("podnet-data")?.textContent ?? "{}");

/** The key a question is stored under: path and sorted non-empty parameters (as the server's). */
function questionKey(path: string, params: Record<string, string | undefined>): string {
  const entries = Object.entries(params)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const qs = new URLSearchParams(entries).toString();
  return qs ? `${path}?${qs}` : path;
}

/** Whether the report holds any answer whose question starts with `prefix` (`/api/resolve?`). */
function reportHolds(prefix: string): boolean {
  return Object.keys(DATA.answers ?? {}).some((k) => k.startsWith(prefix));
}

const NOT_IN_REPORT =
  "This question was not answered when the report was written. Run `podnet ui -f …` on the same input to ask any question.";

/** Asks the API (server mode) or looks the answer up (report mode). */
async function api(
  path: string,
  params: Record<string, string | undefined> = {},
): Promise<{ status: number; body: Json }> {
  const key = questionKey(`/api/${path}`, params);
  if (DATA.mode === "report") {
    const found = DATA.answers?.[key] ?? reportFallback(path, params);
    return found ?? { status: 404, body: { error: NOT_IN_REPORT } };
  }
  const res = await fetch(key, { headers: { accept: "application/json" } });
  return { status: res.status, body: await res.json() };
}

/**
 * A heatmap narrowed to a namespace or workload is the whole level's heatmap with fewer rows and
 * columns: the report stores each level once and narrows it here (no counting, only selection).
 */
function reportFallback(
  path: string,
  params: Record<string, string | undefined>,
): { status: number; body: Json } | undefined {
  if (path !== "heatmap" || (!params.rows && !params.cols)) return undefined;
  const whole = DATA.answers?.[questionKey("/api/heatmap", { ...params, rows: undefined, cols: undefined })];
  if (whole?.status !== 200) return undefined;
  const h = whole.body.heatmap;
  const inScope = (g: Json, scope: string | undefined) =>
    !scope ||
    (scope.includes("/")
      ? g.parent === scope
      : h.level === "workload"
        ? g.parent === scope
        : g.id.startsWith(`${scope}/`));
  const rows: number[] = [];
  const cols: number[] = [];
  h.rows.forEach((g: Json, i: number) => {
    if (inScope(g, params.rows)) rows.push(i);
  });
  h.cols.forEach((g: Json, j: number) => {
    if (inScope(g, params.cols)) cols.push(j);
  });
  return {
    status: 200,
    body: {
      heatmap: {
        ...h,
        rows: rows.map((i) => h.rows[i]),
        cols: cols.map((j) => h.cols[j]),
        allowed: rows.map((i) => cols.map((j) => h.allowed[i][j])),
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// DOM helpers: text only.

type Child = Node | string | number | null | undefined | false;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined | ((e: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") e.addEventListener(k.replace(/^on/, ""), v);
    else if (v === true) e.setAttribute(k, "");
    else e.setAttribute(k, v);
  }
  for (const c of children)
    if (c !== null && c !== undefined && c !== false) e.append(typeof c === "number" ? String(c) : c);
  return e;
}

function frag(...children: (Node | string)[]): DocumentFragment {
  const f = document.createDocumentFragment();
  f.append(...children);
  return f;
}

function link(hash: string, text: string, attrs: Record<string, string> = {}): HTMLAnchorElement {
  return el("a", { href: hash, ...attrs }, text);
}

/** The server's SVG (labels escaped there) placed into a container. */
/**
 * A drawing (server-made SVG, its text escaped there). `fit`: shown whole, scaled to the page's
 * width, with a button for its actual size (a graph wider than the page otherwise opens on a corner
 * of edges with no node in sight).
 */
function svgBox(svg: string | undefined, label: string, opts: { fit?: boolean } = {}): HTMLElement {
  const box = el("div", { class: `drawing${opts.fit ? " fit" : ""}`, role: "figure", "aria-label": label });
  if (svg) box.innerHTML = svg;
  if (!opts.fit || !svg) return box;
  const toggle = el("button", { type: "button", class: "zoom", "aria-pressed": "false" }, "actual size");
  toggle.addEventListener("click", () => {
    const fitted = box.classList.toggle("fit");
    toggle.textContent = fitted ? "actual size" : "fit to width";
    toggle.setAttribute("aria-pressed", String(!fitted));
  });
  return el("div", {}, toggle, box);
}

function hashOf(view: string, params: Record<string, string | undefined>): string {
  const entries = Object.entries(params).filter(
    (e): e is [string, string] => e[1] !== undefined && e[1] !== "",
  );
  const qs = new URLSearchParams(entries).toString();
  return `#/${view}${qs ? `?${qs}` : ""}`;
}

const main = () => document.getElementById("main")!;

/** Replaces a container's children, skipping the absent ones. */
function fill(box: HTMLElement, ...children: Child[]): void {
  box.replaceChildren(
    ...children
      .filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false)
      .map((c) => (typeof c === "number" ? String(c) : c)),
  );
}

/** The timer that puts "Loading…" in place of the previous view, until the new view shows itself. */
let loadingTimer: number | undefined;

function show(...children: Child[]): void {
  window.clearTimeout(loadingTimer);
  main().removeAttribute("aria-busy");
  fill(main(), ...children);
}

function errorBox(body: Json): HTMLElement {
  return el(
    "div",
    { class: "error", role: "alert" },
    el("strong", {}, "error: "),
    String(body?.error ?? "unknown error"),
    body?.diagnostics ? diagnosticsList(body.diagnostics) : null,
  );
}

function diagnosticsList(diags: { severity: string; text: string }[]): HTMLElement {
  return el(
    "ul",
    { class: "diagnostics" },
    ...diags.map((d) => el("li", { class: `diag-${d.severity}` }, el("code", {}, d.text))),
  );
}

function verdictBadge(verdict: string): HTMLElement {
  const good = verdict === "delivered" || verdict === "arrived" || verdict === "forwarded";
  return el("span", { class: `badge ${good ? "good" : "bad"}` }, `${good ? "✓" : "✗"} ${verdict}`);
}

/**
 * A question form: its controls, then a submit button; submitting moves to `#/view?…` with the
 * form's fields (empty ones dropped, checkboxes as their value when ticked) over `keep`.
 */
function askForm(
  view: string,
  submit: string,
  controls: Child[],
  keep: Record<string, string | undefined> = {},
): HTMLFormElement {
  return el(
    "form",
    {
      class: "ask",
      onsubmit: (e: Event) => {
        e.preventDefault();
        const f = new FormData(e.target as HTMLFormElement);
        location.hash = hashOf(view, {
          ...keep,
          ...Object.fromEntries([...f].map(([k, v]) => [k, String(v)])),
        });
      },
    },
    ...controls,
    el("button", { type: "submit" }, submit),
  );
}

/** A labelled text field of an ask form. */
function field(
  name: string,
  label: string,
  value: string,
  attrs: Record<string, string | ((e: Event) => void)> = {},
): HTMLLabelElement {
  return el("label", {}, `${label} `, el("input", { name, value, "aria-label": label, ...attrs }));
}

/** A labelled choice of an ask form: `[value, text]` pairs, the current one selected. */
function choice(
  name: string,
  label: string,
  value: string,
  options: [string, string][],
  aria = label,
): HTMLLabelElement {
  return el(
    "label",
    {},
    `${label} `,
    el(
      "select",
      { name, "aria-label": aria },
      ...options.map(([v, text]) => el("option", { value: v, selected: v === value }, text)),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Overview (cached: the first answer every view needs).

let overview: Json;
async function getOverview(): Promise<Json> {
  if (!overview) overview = (await api("overview")).body;
  return overview;
}

// ---------------------------------------------------------------------------------------------
// Topology.

async function topologyView(p: URLSearchParams): Promise<void> {
  const o = await getOverview();
  if (!o.ok) return;
  if (p.get("node")) return nodeView(p.get("node")!, p.get("all") === "1");
  if (p.get("ns")) return namespaceView(p.get("ns")!);
  const t = o.topology;
  // Many nodes: the first CARD_LIMIT as cards, the others found by name.
  const CARD_LIMIT = 60;
  const cards = el("ul", { class: "cards", "aria-label": "nodes" });
  const drawNodes = (filter: string) => {
    const matching = filter ? t.nodes.filter((n: Json) => n.name.includes(filter)) : t.nodes;
    fill(
      cards,
      ...matching
        .slice(0, CARD_LIMIT)
        .map((n: Json) =>
          el(
            "li",
            { class: "card node" },
            link(hashOf("topology", { node: n.name }), n.name, { class: "title" }),
            el("div", {}, `address ${n.ip}`),
            el("div", {}, `${n.blockTerm} ${n.podBlocks}`),
            el("div", {}, `${n.pods} pods`),
          ),
        ),
      matching.length > CARD_LIMIT
        ? el("li", { class: "more" }, `… and ${matching.length - CARD_LIMIT} more: type part of a name above`)
        : null,
    );
  };
  drawNodes("");
  const nodeCards = el(
    "div",
    {},
    t.nodes.length > CARD_LIMIT
      ? el(
          "label",
          {},
          `find among ${t.nodes.length} nodes `,
          el("input", {
            type: "search",
            "aria-label": "find a node",
            oninput: (e: Event) => drawNodes((e.target as HTMLInputElement).value),
          }),
        )
      : null,
    cards,
  );
  // The picture comes after the cards (a few hundred ms on thousands of nodes): the view is usable at once.
  const drawing = el("div", {
    class: "drawing topology",
    role: "figure",
    "aria-label":
      "the cluster's network: Services over their endpoints, nodes with their pods and devices, the underlay",
  });
  drawing.textContent = "drawing the topology…";
  void api("picture").then((picture) => {
    if (picture.status !== 200) return fill(drawing, errorBox(picture.body));
    drawing.innerHTML = picture.body.svg;
    drawing.dataset.state = "ready";
  });
  show(
    el("h2", {}, `Topology of ${t.cluster}`),
    el(
      "p",
      {},
      `${t.totals.nodes} nodes, ${t.totals.pods} pods in ${t.totals.workloads} workloads, ${t.totals.services} Services, ${t.totals.networkPolicies} NetworkPolicies · network plugin ${t.cni} · kube-proxy ${t.proxyMode} · pods ${t.clusterCIDR} · Services ${t.serviceCIDR}`,
    ),
    drawing,
    el(
      "p",
      { class: "hint" },
      "Click a node to open its network namespaces, a namespace to open its workloads.",
    ),
    el("h3", {}, "Nodes and their pod ranges"),
    nodeCards,
    el("h3", {}, "Namespaces"),
    el(
      "ul",
      { class: "cards", "aria-label": "namespaces" },
      ...t.namespaces.map((n: Json) =>
        el(
          "li",
          { class: "card ns" },
          link(hashOf("topology", { ns: n.name }), n.name, { class: "title" }),
          el(
            "div",
            {},
            `${n.workloads} workloads, ${n.pods} pods${n.notRunning ? `, ${n.notRunning} not running` : ""}`,
          ),
          el("div", {}, `${n.services} Services`),
        ),
      ),
    ),
  );
}

async function namespaceView(name: string): Promise<void> {
  const r = await api("namespace", { name });
  if (r.status !== 200) return show(errorBox(r.body));
  const d = r.body;
  show(
    el("nav", { class: "crumbs" }, link("#/topology", "Topology"), " › ", `namespace ${d.name}`),
    el("h2", {}, `Namespace ${d.name}`),
    el("h3", {}, "Workloads and their pods"),
    el(
      "ul",
      { class: "cards" },
      ...d.workloads.map((w: Json) =>
        el(
          "li",
          { class: "card workload" },
          el("div", { class: "title" }, `${w.name} [${w.kind}]`),
          el(
            "ul",
            { class: "pods" },
            ...w.pods.map((pod: Json) =>
              el(
                "li",
                {},
                `${pod.name} `,
                pod.ip ? el("code", {}, pod.ip) : el("em", {}, pod.noAddress ?? pod.phase),
                pod.node ? frag(" on ", link(hashOf("topology", { node: pod.node }), pod.node)) : null,
                pod.hostNetwork ? " (host network)" : null,
                pod.ip
                  ? frag(" · ", link(hashOf("trace", { from: `${d.name}/${pod.name}` }), "trace from here"))
                  : null,
              ),
            ),
          ),
        ),
      ),
    ),
    el("h3", {}, "Services over their endpoints"),
    el(
      "ul",
      { class: "cards" },
      ...d.services.map((s: Json) =>
        el(
          "li",
          { class: "card service" },
          el("div", { class: "title" }, `${s.name} (${s.type}${s.clusterIP ? ` ${s.clusterIP}` : ""})`),
          el("div", {}, s.ports.join("; ")),
          el(
            "ul",
            { class: "endpoints" },
            ...(s.endpoints.length
              ? s.endpoints.map((e: Json) =>
                  el("li", {}, `→ ${e.ip}${e.pod ? ` (${e.pod})` : ""} ${e.ready ? "ready" : "not ready"}`),
                )
              : [el("li", {}, "no endpoints")]),
          ),
        ),
      ),
    ),
  );
}

async function nodeView(name: string, all: boolean): Promise<void> {
  const r = await api("node", { name, all: all ? "1" : undefined });
  if (r.status !== 200) return show(errorBox(r.body));
  const d = r.body;
  show(
    el("nav", { class: "crumbs" }, link("#/topology", "Topology"), " › ", `node ${d.node.name}`),
    el("h2", {}, `Node ${d.node.name}`),
    el(
      "p",
      {},
      `address ${d.node.ip} · ${d.node.blockTerm} ${d.node.podBlocks} · ${d.node.pods} pods · plugin ${d.cni} · `,
      link(hashOf("rules", { node: d.node.name }), "kube-proxy rules"),
    ),
    svgBox(d.svg, `node ${d.node.name}: pods, veth pairs, bridge, underlay and tunnel`),
    el("h3", {}, "Devices of the root network namespace"),
    el(
      "table",
      { class: "devices" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", {}, "device"),
          el("th", {}, "kind"),
          el("th", {}, "addresses"),
          el("th", {}, "attached to"),
        ),
      ),
      el(
        "tbody",
        {},
        ...d.devices.map((x: Json) =>
          el(
            "tr",
            {},
            el("td", {}, x.name),
            el("td", {}, x.kind),
            el("td", {}, x.addresses.join(", ")),
            el("td", {}, x.master ? `bridge ${x.master}` : x.peer ? `peer ${x.peer}` : ""),
          ),
        ),
      ),
    ),
    el("h3", {}, "As `podnet routes` prints it"),
    el("pre", { class: "text" }, d.root),
    d.entries.shown !== null &&
      Math.max(d.entries.routes, d.entries.neighbours, d.entries.fdb) > d.entries.shown
      ? el(
          "p",
          { class: "more" },
          `The first ${d.entries.shown} of each list: ${d.entries.routes} routes, ${d.entries.neighbours} neighbours, ${d.entries.fdb} FDB entries in all (one of each per other node). `,
          link(hashOf("topology", { node: d.node.name, all: "1" }), "show all"),
        )
      : null,
    el("h3", {}, "Pods' network namespaces"),
    ...d.pods.map((p: Json) =>
      el("details", {}, el("summary", {}, `${p.pod} ${p.ip}`), el("pre", { class: "text" }, p.text)),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Trace.

let playTimer: number | undefined;

/** Up to this many pods the trace view asks for the tour's walk-throughs by itself. */
const WALKS_AUTO_PODS = 20_000;

async function traceView(p: URLSearchParams): Promise<void> {
  const q = {
    from: p.get("from") ?? "",
    to: p.get("to") ?? "",
    protocol: p.get("protocol") ?? "",
    node: p.get("node") ?? "",
    reply: p.get("reply") ?? "",
    all: p.get("all") ?? "",
  };
  const names = el("datalist", { id: "names" });
  const named = (name: keyof typeof q, label: string, placeholder: string) =>
    field(name, label, q[name], {
      placeholder,
      list: "names",
      oninput: (e: Event) => suggestNames((e.target as HTMLInputElement).value, names),
    });
  const form = askForm("trace", "Trace", [
    named("from", "from", "ns/pod, node/NAME or an IP"),
    named("to", "to", "ns/pod, name.ns, IP, with :PORT"),
    choice("protocol", "protocol", q.protocol.toUpperCase(), [
      ["", "the port's"],
      ["TCP", "TCP"],
      ["UDP", "UDP"],
      ["SCTP", "SCTP"],
    ]),
    named("node", "entry node", "for an outside source"),
    el(
      "label",
      {},
      el("input", { type: "checkbox", name: "reply", value: "1", checked: q.reply === "1" }),
      " reply",
    ),
    el(
      "label",
      {},
      el("input", { type: "checkbox", name: "all", value: "1", checked: q.all === "1" }),
      " all endpoints",
    ),
    names,
  ]);
  // The tour's walk-throughs: choosing them takes seconds on big clusters (and holds the server), so
  // there they come on request; in a report they are embedded.
  const presets = el("div", { class: "presets" });
  const loadWalks = () =>
    void api("walks").then((walked) => {
      const walks = (walked.status === 200 ? walked.body.walks : []) as Json[];
      fill(
        presets,
        walks.length ? "The tour's walk-throughs: " : "The tour found no walk-through in this cluster.",
        ...walks.map((w) =>
          link(
            hashOf("trace", { from: w.from, to: w.to, node: w.node, reply: w.reply ? "1" : "" }),
            w.title,
            {
              class: "preset",
            },
          ),
        ),
      );
    });
  const o = await getOverview();
  if (DATA.mode === "report" || o.topology.totals.pods <= WALKS_AUTO_PODS) loadWalks();
  else
    fill(
      presets,
      el(
        "button",
        {
          type: "button",
          onclick: () => {
            fill(presets, "choosing the tour's walk-throughs…");
            loadWalks();
          },
        },
        "Suggest walk-throughs (the tour's; takes a while on this cluster)",
      ),
    );
  if (!q.from || !q.to) return show(el("h2", {}, "Trace a packet"), form, presets);
  const r = await api("trace", { ...q });
  if (r.status !== 200) return show(el("h2", {}, "Trace a packet"), form, presets, errorBox(r.body));
  const t = r.body;
  const hops: { part: string; hop: Json; changes: string[]; place: Json }[] = [];
  for (const part of t.parts)
    part.hops.forEach((hop: Json, i: number) => {
      hops.push({ part: part.label, hop, changes: part.changes[i], place: part.places?.[i] });
    });
  const list = el("ol", { class: "hops", "aria-label": "hops" });
  let partLabel: string | undefined;
  hops.forEach((x, i) => {
    if (x.part !== partLabel) {
      partLabel = x.part;
      if (x.part) list.append(el("li", { class: "part", "aria-hidden": "true" }, x.part));
    }
    const packet = x.hop.packet;
    const field = (name: string, text: string) =>
      x.changes.includes(name) ? el("mark", { title: `${name} changed` }, text) : text;
    list.append(
      el(
        "li",
        { class: `hop step-${x.hop.step}`, "data-step": String(i), tabindex: "-1" },
        el("span", { class: "n" }, `${i + 1}.`),
        " ",
        el("strong", {}, x.hop.step),
        ` at ${x.hop.at}${x.hop.device ? ` on ${x.hop.device}` : ""}`,
        x.hop.step === "policy" ? el("span", { class: "badge policy" }, "policy verdict") : null,
        x.changes.length ? el("span", { class: "badge changed" }, `changed: ${x.changes.join(", ")}`) : null,
        el("div", { class: "detail" }, x.hop.detail),
        el(
          "div",
          { class: "packet" },
          packet.outer
            ? `[${packet.outer.src} → ${packet.outer.dst} ${packet.outer.protocol}${packet.outer.vni !== undefined ? ` vni ${packet.outer.vni}` : ""}] `
            : "",
          field("src", packet.src),
          ":",
          field("sport", String(packet.sport)),
          " → ",
          field("dst", packet.dst),
          ":",
          field("dport", String(packet.dport)),
        ),
      ),
    );
  });
  const a = t.answer;
  const ends = el(
    "div",
    { class: "verdicts" },
    ...t.parts.map((part: Json) =>
      el("div", {}, part.label ? `${part.label}: ` : "", verdictBadge(part.verdict), " ", part.reason),
    ),
    a.traces
      ? el("div", { class: "summary" }, "all endpoints: ", verdictBadge(a.verdict), " ", a.reason)
      : null,
    a.endpoints?.length
      ? el(
          "div",
          {},
          `endpoints of ${a.service ?? "the destination"}: ${a.endpoints.join(", ")}${a.chosen ? ` (chosen: ${a.chosen})` : ""}`,
        )
      : null,
    a.masquerade ? el("div", {}, "masquerade: the source address was rewritten on the way") : null,
    a.verdict === "unresolved" ? el("div", {}, verdictBadge("unresolved"), " ", a.reason) : null,
    (t.nodes as string[]).length
      ? el(
          "div",
          {},
          "kube-proxy rules, the ones this packet hit marked: ",
          ...(t.nodes as string[]).flatMap((n, i) => [
            i ? " · " : "",
            link(hashOf("rules", { node: n, chains: t.chains.join(",") }), `node ${n}`),
          ]),
        )
      : null,
    a.dns
      ? el(
          "details",
          { class: "dns" },
          el("summary", {}, `DNS: ${a.dns.resolution.why}`),
          el(
            "ol",
            {},
            ...a.dns.resolution.queries.map((x: Json) =>
              el(
                "li",
                {},
                `${x.name} ${x.type} → ${x.answer.rcode} ${x.answer.answers.map((y: Json) => `${y.type} ${typeof y.data === "string" ? y.data : JSON.stringify(y.data)}`).join(", ")} (${x.answer.why})`,
              ),
            ),
          ),
        )
      : null,
  );
  let current = -1;
  const svg = svgBox(t.svg, "the packet's path");
  // The topology of the nodes crossed, the path drawn over it (comes after the hop list).
  const topo = el("div", {
    class: "drawing topology",
    role: "figure",
    "aria-label": "the path over the topology",
  });
  let placed: (Element | undefined)[] = [];
  const select = (i: number) => {
    current = Math.max(0, Math.min(hops.length - 1, i));
    for (const e of document.querySelectorAll(".current")) e.classList.remove("current");
    for (const e of document.querySelectorAll(".tp-current")) e.classList.remove("tp-current");
    list.querySelector(`[data-step="${current}"]`)?.classList.add("current");
    svg.querySelector(`[data-step="${current}"]`)?.classList.add("current");
    placed[current]?.classList.add("tp-current");
    placed[current]?.scrollIntoView({ block: "nearest", inline: "nearest" });
    (list.querySelector(`[data-step="${current}"]`) as HTMLElement | null)?.scrollIntoView({
      block: "nearest",
    });
    status.textContent = `hop ${current + 1} of ${hops.length}: ${hops[current].hop.step} at ${hops[current].hop.at}`;
  };
  const status = el("span", { class: "status", "aria-live": "polite" }, "");
  const stop = () => {
    if (playTimer !== undefined) window.clearInterval(playTimer);
    playTimer = undefined;
  };
  const controls = el(
    "div",
    { class: "controls" },
    el(
      "button",
      {
        type: "button",
        onclick: () => {
          stop();
          select(current - 1);
        },
        "aria-label": "back one hop",
      },
      "◀ back",
    ),
    el(
      "button",
      {
        type: "button",
        onclick: () => {
          stop();
          if (current >= hops.length - 1) current = -1;
          playTimer = window.setInterval(() => {
            if (current >= hops.length - 1) return stop();
            select(current + 1);
          }, 700);
        },
      },
      "▶ play",
    ),
    el(
      "button",
      {
        type: "button",
        onclick: () => {
          stop();
          select(current + 1);
        },
        "aria-label": "step one hop",
      },
      "step ▶",
    ),
    status,
  );
  show(
    el("h2", {}, `Trace ${t.heading}`),
    form,
    presets,
    ends,
    controls,
    el("div", { class: "split" }, list, svg),
    el("h3", {}, "The path over the topology"),
    topo,
  );
  void api("picture", t.picture).then((pic) => {
    if (pic.status !== 200) return fill(topo, errorBox(pic.body));
    topo.innerHTML = pic.body.svg;
    placed = placeHops(topo, hops);
    if (current >= 0) placed[current]?.classList.add("tp-current");
    topo.dataset.state = "ready";
  });
  main().onkeydown = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).closest("input,select")) return;
    if (e.key === "ArrowRight" || e.key === "j") select(current + 1);
    else if (e.key === "ArrowLeft" || e.key === "k") select(current - 1);
  };
}

/**
 * What a hop that changed the header did, written beside its place on the picture: by its step when
 * the step names it, else by what changed (an outer header appears on the wire for Calico's IP-in-IP).
 */
const MARKS: Record<string, string> = {
  dnat: "DNAT",
  snat: "masquerade",
  encap: "encapsulated",
  decap: "decapsulated",
  conntrack: "NAT reversed",
};

/**
 * Finds each hop's element on the topology picture (its `places` entry: a pod's box, a node's
 * device, its IP stack, the underlay), marks the path (the reply's apart) and writes what rewrote
 * the header beside the hops that did. A device the picture counts rather than draws (a pod link on a
 * busy node) falls back to the node's links box, then its IP stack.
 */
function placeHops(
  box: HTMLElement,
  hops: { part: string; hop: Json; changes: string[]; place: Json }[],
): (Element | undefined)[] {
  const q = (s: string) => box.querySelector(s) ?? undefined;
  const attr = (k: string, v: string) => `[${k}="${CSS.escape(v)}"]`;
  const found = hops.map(({ place: p }) => {
    if (!p) return undefined;
    if (p.pod) return q(`g.tp-pod${attr("data-pod", p.pod)}`);
    if (p.underlay) return q("g.tp-underlay");
    if (!p.node) return undefined;
    const node = attr("data-node", p.node);
    if (p.device)
      return (
        q(`g.tp-dev${node}${attr("data-device", p.device)}`) ??
        q(`g.tp-links${node}`) ??
        q(`g.tp-stack${node}`)
      );
    return q(`g.tp-stack${node}`);
  });
  const marked = new Set<Element>();
  found.forEach((e, i) => {
    if (!e) return;
    e.classList.add(hops[i].part.startsWith("reply") ? "tp-path-reply" : "tp-path");
    const c = hops[i].changes;
    if (c.length === 0 || marked.has(e)) return;
    const mark =
      MARKS[hops[i].hop.step] ??
      (c.includes("encap")
        ? "encapsulated"
        : c.includes("decap")
          ? "decapsulated"
          : c.includes("dst") || c.includes("dport")
            ? "destination rewritten"
            : "source rewritten");
    marked.add(e);
    const r = e.querySelector("rect");
    if (!r) return;
    const t = document.createElementNS("http://www.w3.org/2000/svg", "text");
    t.setAttribute("class", "tp-mark");
    // Beside the box; on the underlay's long bar, after its label.
    const wide = e.classList.contains("tp-underlay");
    t.setAttribute(
      "x",
      String(Number(r.getAttribute("x")) + (wide ? 260 : Number(r.getAttribute("width")) + 4)),
    );
    t.setAttribute("y", String(Number(r.getAttribute("y")) + 12));
    t.textContent = `${mark}: ${hops[i].changes.join(", ")}`;
    e.append(t);
  });
  return found;
}

async function suggestNames(prefix: string, list: HTMLDataListElement): Promise<void> {
  const o = await getOverview();
  let names: string[] = o.names ?? [];
  if (!o.names) {
    const r = await api("suggest", { q: prefix });
    names = r.status === 200 ? r.body.names : [];
  } else names = names.filter((n) => n.includes(prefix)).slice(0, 20);
  list.replaceChildren(...names.map((n) => el("option", { value: n })));
}

// ---------------------------------------------------------------------------------------------
// Policy: the heatmap with drill-down, and explanations.

function shareText(allowed: number, total: number): string {
  if (total === 0) return "";
  if (allowed === total) return "✓";
  if (allowed === 0) return "·";
  return `${Math.max(1, Math.min(99, Math.round((100 * allowed) / total)))}%`;
}

function shareColour(share: number): string {
  const mix = (a: number, b: number) => Math.round(a + (b - a) * share);
  return `rgb(${mix(255, 0)},${mix(255, 114)},${mix(255, 178)})`;
}

async function policyView(p: URLSearchParams): Promise<void> {
  const level = p.get("level") ?? "namespace";
  const protocol = p.get("protocol") ?? "TCP";
  const port = p.get("port") ?? "";
  const rows = p.get("rows") ?? "";
  const cols = p.get("cols") ?? "";
  const base = { level, protocol, port, rows, cols };
  const form = askForm(
    "policy",
    "Show",
    [
      choice(
        "level",
        "cells per",
        level,
        [
          ["namespace", "namespace"],
          ["workload", "workload"],
          ["pod", "pod"],
        ],
        "level",
      ),
      choice("protocol", "protocol", protocol, [
        ["TCP", "TCP"],
        ["UDP", "UDP"],
        ["SCTP", "SCTP"],
      ]),
      field("port", "port", port, { placeholder: "any", size: "6" }),
    ],
    { rows, cols },
  );
  const r = await api("heatmap", base);
  const crumbs = el(
    "nav",
    { class: "crumbs" },
    link(hashOf("policy", { protocol, port }), "all namespaces"),
    rows || cols ? ` › from ${rows || "all"} to ${cols || "all"}` : "",
  );
  if (r.status !== 200) return show(el("h2", {}, "Who can reach whom"), form, crumbs, errorBox(r.body));
  const h = r.body.heatmap;
  const table = el("table", {
    class: "heatmap",
    role: "grid",
    "aria-label": "reachability heatmap: rows are sources, columns destinations",
  });
  table.append(
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", { class: "corner" }, "from \\ to"),
        ...h.cols.map((c: Json) =>
          el("th", { class: "col", title: `${c.id} (${c.pods} pods)`, scope: "col" }, el("span", {}, c.id)),
        ),
      ),
    ),
  );
  const body = el("tbody");
  h.rows.forEach((rw: Json, i: number) => {
    const tr = el("tr", {}, el("th", { scope: "row", title: `${rw.id} (${rw.pods} pods)` }, rw.id));
    h.cols.forEach((c: Json, j: number) => {
      const total = rw.pods * c.pods;
      const n = h.allowed[i][j];
      const share = total ? n / total : 0;
      // Light cells (text, a shade class, two data attributes): a 200 × 200 heatmap stays fast; the
      // words for a cell are set when it is focused or pointed at.
      const td = document.createElement("td");
      td.dataset.r = String(i);
      td.dataset.c = String(j);
      td.textContent = shareText(n, total);
      td.className = `s${Math.round(share * 10)}`;
      if (i === 0 && j === 0) td.tabIndex = 0;
      tr.append(td);
    });
    body.append(tr);
  });
  table.append(body);
  const describe = (td: HTMLElement) => {
    const rw = h.rows[Number(td.dataset.r)];
    const c = h.cols[Number(td.dataset.c)];
    const text = `${rw.id} → ${c.id}: ${h.allowed[Number(td.dataset.r)][Number(td.dataset.c)]} of ${rw.pods * c.pods} pod pairs allowed`;
    td.title = text;
    td.setAttribute("aria-label", text);
    td.setAttribute("role", "gridcell");
  };
  table.addEventListener("mouseover", (e) => {
    const td = (e.target as HTMLElement).closest("td");
    if (td && !td.title) describe(td);
  });
  table.addEventListener("focusin", (e) => {
    const td = (e.target as HTMLElement).closest("td");
    if (td) describe(td);
  });
  const explainBox = el("div", { class: "explain", "aria-live": "polite" });
  const open = (i: number, j: number) => {
    const rw = h.rows[i];
    const c = h.cols[j];
    if (h.level === "namespace")
      location.hash = hashOf("policy", { protocol, port, level: "workload", rows: rw.id, cols: c.id });
    else if (h.level === "workload")
      location.hash = hashOf("policy", { protocol, port, level: "pod", rows: rw.id, cols: c.id });
    else explainCell(rw, c, h, explainBox);
  };
  table.addEventListener("click", (e) => {
    const td = (e.target as HTMLElement).closest("td");
    if (td) open(Number(td.dataset.r), Number(td.dataset.c));
  });
  table.addEventListener("keydown", (e) => {
    const td = (e.target as HTMLElement).closest("td");
    if (!td) return;
    let i = Number(td.dataset.r);
    let j = Number(td.dataset.c);
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      focusHeatmapAfterRoute = h.level !== "pod";
      return open(i, j);
    }
    if (e.key === "ArrowRight") j++;
    else if (e.key === "ArrowLeft") j--;
    else if (e.key === "ArrowDown") i++;
    else if (e.key === "ArrowUp") i--;
    else return;
    e.preventDefault();
    const next = body.rows[i]?.cells[j + 1] as HTMLElement | undefined;
    if (next) {
      td.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    }
  });
  show(
    el("h2", {}, "Who can reach whom"),
    form,
    crumbs,
    el(
      "p",
      { class: "legend" },
      `${h.protocol} ${h.port ?? "any port"}; rows are sources, columns destinations; a cell is the share of its pod pairs allowed: `,
      el("span", { class: "swatch", style: `background:${shareColour(1)};color:#fff` }, "✓ all"),
      " ",
      el("span", { class: "swatch", style: `background:${shareColour(0.5)}` }, "50% some"),
      " ",
      el("span", { class: "swatch", style: `background:${shareColour(0)}` }, "· none"),
      `. ${h.classes} pod classes. ${h.level === "pod" ? "Click a cell (or Enter) to explain it." : "Click a cell (or Enter) to open it."}`,
      h.truncated
        ? ` The first ${h.rows.length} rows and ${h.cols.length} columns are shown: narrow to a workload.`
        : "",
    ),
    el(
      "div",
      { class: "split" },
      el(
        "div",
        { class: "scroll" },
        h.rows.length * h.cols.length > TABLE_CELLS ? canvasHeatmap(h, open) : table,
      ),
      explainBox,
    ),
  );
  // Opened from the keyboard: the focus goes on into the opened heatmap (its first cell), not to the page.
  if (focusHeatmapAfterRoute) {
    focusHeatmapAfterRoute = false;
    main().querySelector<HTMLElement>('td[tabindex="0"], canvas[tabindex]')?.focus();
  }
}

/** Above this many cells the heatmap is drawn on a canvas: a table of 40,000 cells is slow to lay out. */
const TABLE_CELLS = 2500;

/**
 * A large heatmap on a canvas: a cell per pixel square, shaded as the table's, ✓ and · drawn where
 * they fit; the pointer or the keyboard (arrows move a cursor, Enter opens) names the cell in words
 * in the status line beside it.
 */
function canvasHeatmap(h: Json, open: (i: number, j: number) => void): HTMLElement {
  const cell = 12;
  const left = 170;
  const top = 150;
  const canvas = el("canvas", {
    class: "heatmap-canvas",
    tabindex: "0",
    role: "img",
    "aria-label": `reachability heatmap, ${h.rows.length} rows by ${h.cols.length} columns: arrow keys move, Enter opens a cell`,
  });
  const ratio = window.devicePixelRatio || 1;
  const width = left + h.cols.length * cell + 10;
  const height = top + h.rows.length * cell + 10;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const g = canvas.getContext("2d")!;
  g.scale(ratio, ratio);
  const status = el(
    "div",
    { class: "status", "aria-live": "polite" },
    "Point at a cell or use the arrow keys.",
  );
  let cursor = { i: 0, j: 0 };
  const paint = () => {
    g.fillStyle = "#fff";
    g.fillRect(0, 0, width, height);
    g.font = "10px sans-serif";
    g.fillStyle = "#000";
    g.textAlign = "right";
    h.rows.forEach((r: Json, i: number) => {
      g.fillText(r.id.length > 28 ? `${r.id.slice(0, 27)}…` : r.id, left - 4, top + i * cell + cell - 3);
    });
    h.cols.forEach((c: Json, j: number) => {
      g.save();
      g.translate(left + j * cell + cell - 3, top - 4);
      g.rotate(-Math.PI / 2);
      g.textAlign = "left";
      g.fillText(c.id.length > 24 ? `${c.id.slice(0, 23)}…` : c.id, 0, 0);
      g.restore();
    });
    g.textAlign = "center";
    h.rows.forEach((r: Json, i: number) => {
      h.cols.forEach((c: Json, j: number) => {
        const total = r.pods * c.pods;
        const share = total ? h.allowed[i][j] / total : 0;
        g.fillStyle = shareColour(Math.round(share * 10) / 10);
        g.fillRect(left + j * cell, top + i * cell, cell - 1, cell - 1);
        const text = shareText(h.allowed[i][j], total);
        if (text === "✓" || text === "·") {
          g.fillStyle = share > 0.5 ? "#fff" : "#000";
          g.fillText(text, left + j * cell + cell / 2, top + i * cell + cell - 3);
        }
      });
    });
    g.strokeStyle = "#E69F00";
    g.lineWidth = 2;
    g.strokeRect(left + cursor.j * cell - 1, top + cursor.i * cell - 1, cell + 1, cell + 1);
  };
  const describe = (i: number, j: number) => {
    const r = h.rows[i];
    const c = h.cols[j];
    const total = r.pods * c.pods;
    status.textContent = `${r.id} → ${c.id}: ${h.allowed[i][j]} of ${total} pod pairs allowed (${shareText(h.allowed[i][j], total)})`;
  };
  const at = (e: MouseEvent) => {
    const i = Math.floor((e.offsetY - top) / cell);
    const j = Math.floor((e.offsetX - left) / cell);
    return i >= 0 && j >= 0 && i < h.rows.length && j < h.cols.length ? { i, j } : undefined;
  };
  canvas.addEventListener("mousemove", (e) => {
    const p = at(e);
    if (p) describe(p.i, p.j);
  });
  canvas.addEventListener("click", (e) => {
    const p = at(e);
    if (p) open(p.i, p.j);
  });
  canvas.addEventListener("keydown", (e) => {
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      focusHeatmapAfterRoute = h.level !== "pod";
      return open(cursor.i, cursor.j);
    }
    const m = moves[e.key];
    if (!m) return;
    e.preventDefault();
    cursor = {
      i: Math.max(0, Math.min(h.rows.length - 1, cursor.i + m[0])),
      j: Math.max(0, Math.min(h.cols.length - 1, cursor.j + m[1])),
    };
    paint();
    describe(cursor.i, cursor.j);
  });
  paint();
  return el("div", {}, status, canvas);
}

async function explainCell(rw: Json, c: Json, h: Json, box: HTMLElement): Promise<void> {
  const started = performance.now();
  delete box.dataset.took;
  const ports: number[] = c.ports ?? [];
  const port = h.port ?? ports[0];
  if (port === undefined) {
    box.replaceChildren(
      el("p", {}, `${c.id} declares no ${h.protocol} port: choose a port above to explain this cell.`),
    );
    return;
  }
  let r = await api("explain", { from: rw.id, to: `${c.id}:${port}`, protocol: h.protocol });
  let note: HTMLElement | null = null;
  const reps = (await getOverview()).representatives as Record<string, string> | undefined;
  if (r.status === 404 && reps?.[rw.id] && reps[c.id] && (reps[rw.id] !== rw.id || reps[c.id] !== c.id)) {
    // A report holds one explanation per pair of workloads: that of their representative pods.
    r = await api("explain", { from: reps[rw.id], to: `${reps[c.id]}:${port}`, protocol: h.protocol });
    note = el(
      "p",
      { class: "note" },
      `This report explains one pod per workload: shown for ${reps[rw.id]} → ${reps[c.id]}, whose labels are the same (podnet ui explains each pod).`,
    );
  }
  fill(
    box,
    el("h3", {}, `${rw.id} → ${c.id}:${port}`),
    h.port === null && ports.length > 1
      ? el("p", {}, `on ${port}, the first of its ports ${ports.join(", ")}; choose a port above for another`)
      : null,
    note,
    r.status === 200 ? explanation(r.body) : errorBox(r.body),
  );
  box.dataset.took = String(Math.round(performance.now() - started));
}

function explanation(body: Json): HTMLElement {
  if (body.unresolved) return el("p", {}, verdictBadge("unresolved"), " ", body.unresolved);
  const a = body.answer;
  const sources = new Map<string, Json>((body.policies ?? []).map((p: Json) => [p.name, p]));
  const direction = (d: Json) =>
    d
      ? el(
          "div",
          { class: "direction" },
          el("strong", {}, `${d.direction}${d.subject ? ` at ${d.subject}` : ""}: `),
          el("span", { class: `badge ${d.allowed ? "good" : "bad"}` }, d.allowed ? "✓ allowed" : "✗ denied"),
          ` (${d.tier}) ${d.reason}`,
          d.walk?.length ? el("ol", { class: "walk" }, ...d.walk.map((w: string) => el("li", {}, w))) : null,
          d.selectedBy?.length
            ? el(
                "div",
                {},
                "selected by: ",
                ...d.selectedBy.flatMap((name: string, i: number) => {
                  const src = sources.get(name);
                  return [
                    i ? ", " : "",
                    src
                      ? link(
                          hashOf("yaml", { kind: src.kind, name }),
                          `${src.kind} ${name} (its YAML, file and line)`,
                        )
                      : name,
                  ];
                }),
              )
            : null,
          d.allowedBy ? el("div", {}, `allowed by ${d.allowedBy.policy} rule ${d.allowedBy.rule + 1}`) : null,
        )
      : null;
  return el(
    "div",
    {},
    el(
      "p",
      {},
      el("span", { class: `badge ${a.allowed ? "good" : "bad"}` }, a.allowed ? "✓ allowed" : "✗ denied"),
      ` ${a.protocol} ${a.from} → ${a.to}:${a.port}${a.service ? ` (Service ${a.service})` : ""}`,
    ),
    ...a.explanations.map((x: Json) =>
      el(
        "div",
        { class: "explanation" },
        x.endpoint || x.pod ? el("div", {}, `endpoint ${x.endpoint ?? ""} ${x.pod ?? ""}`) : null,
        el("div", {}, x.outcome),
        direction(x.egress),
        direction(x.ingress),
      ),
    ),
  );
}

async function yamlView(p: URLSearchParams): Promise<void> {
  const r = await api("policy", { kind: p.get("kind") ?? "", name: p.get("name") ?? "" });
  if (r.status !== 200) return show(errorBox(r.body));
  const s = r.body;
  show(
    el("h2", {}, `${s.kind} ${s.name}`),
    el("p", {}, s.file ? `${s.file}${s.line ? `:${s.line}` : ""}` : "supplied by podnet"),
    el("pre", { class: "text" }, s.yaml),
  );
}

// ---------------------------------------------------------------------------------------------
// Connlist and diff.

async function connlistView(p: URLSearchParams): Promise<void> {
  const q = {
    namespace: p.get("namespace") ?? "",
    selector: p.get("selector") ?? "",
    port: p.get("port") ?? "",
    level: p.get("level") ?? "",
  };
  // A report holds the whole list (and any filtered lists it was written with): without those, its
  // filters could only answer "not in the report", so it says where filtering is done instead.
  const form =
    DATA.mode === "report" && !reportHolds("/api/connlist?")
      ? el(
          "p",
          { class: "note" },
          "This report holds the whole list; `podnet ui -f …` filters it by namespace, labels and port.",
        )
      : askForm("connlist", "Filter", [
          field("namespace", "namespace", q.namespace),
          field("selector", "labels", q.selector, { placeholder: "app=web", "aria-label": "label selector" }),
          field("port", "port", q.port, { size: "6" }),
          choice(
            "level",
            "graph",
            q.level,
            [
              ["", "auto"],
              ["workload", "workload"],
              ["namespace", "namespace"],
            ],
            "graph level",
          ),
        ]);
  const r = await api("connlist", q);
  if (r.status !== 200) return show(el("h2", {}, "Allowed connections"), form, errorBox(r.body));
  const lines = r.body.lines as Json[];
  show(
    el("h2", {}, "Allowed connections"),
    form,
    el(
      "p",
      {},
      `${lines.length} lines${r.body.folded ? "; the graph is folded into namespaces (too many workloads to read)" : ""}. Dashed: only through the own-node exception.`,
    ),
    svgBox(r.body.svg, "connlist graph", { fit: true }),
    el(
      "table",
      { class: "lines" },
      el("thead", {}, el("tr", {}, el("th", {}, "src"), el("th", {}, "dst"), el("th", {}, "conn"))),
      el(
        "tbody",
        {},
        ...lines.map((l) =>
          el(
            "tr",
            {},
            el("td", {}, l.src),
            el("td", {}, l.dst),
            el("td", {}, `${l.conn}${l.ownNode ? " (own node)" : ""}`),
          ),
        ),
      ),
    ),
  );
}

async function diffView(): Promise<void> {
  const r = await api("diff");
  if (r.status !== 200) return show(el("h2", {}, "What the change does"), errorBox(r.body));
  const d = r.body;
  const sign: Record<string, string> = { added: "+", removed: "−", changed: "~" };
  show(
    el("h2", {}, "What the change does"),
    el(
      "p",
      { class: "counts" },
      el("span", { class: "badge added" }, `+ ${d.counts.added} added`),
      " ",
      el("span", { class: "badge removed" }, `− ${d.counts.removed} removed`),
      " ",
      el("span", { class: "badge changed" }, `~ ${d.counts.changed} changed`),
    ),
    svgBox(d.svg, "diff graph", { fit: true }),
    el(
      "ul",
      { class: "diffs" },
      ...d.diffs.map((x: Json) =>
        el(
          "li",
          { class: x.kind },
          el("span", { class: `badge ${x.kind}` }, `${sign[x.kind]} ${x.kind}`),
          ` ${x.src} => ${x.dst} : ${x.kind === "changed" ? `${x.old} -> ${x.new}` : (x.new ?? x.old)}`,
        ),
      ),
    ),
    el(
      "h3",
      {},
      `${d.cellsLevel === "workload" ? "Workload" : "Namespace"} cells that changed (allowed pod pairs, any TCP port, before → after)`,
    ),
    d.cells.length
      ? el(
          "ul",
          { class: "cells" },
          ...d.cells.map((c: Json) =>
            el(
              "li",
              { class: c.kind },
              el("span", { class: `badge ${c.kind}` }, c.kind),
              ` ${c.from} → ${c.to}: ${c.before ?? "–"} → ${c.after ?? "–"}`,
            ),
          ),
        )
      : el("p", {}, "none"),
  );
}

// ---------------------------------------------------------------------------------------------
// Rules and DNS.

async function rulesView(p: URLSearchParams): Promise<void> {
  const o = await getOverview();
  const node = p.get("node") ?? o.topology.nodes[0]?.name ?? "";
  const chains = (p.get("chains") ?? "").split(",").filter(Boolean);
  const r = await api("rules", { node });
  const picker = el(
    "nav",
    { class: "crumbs" },
    "node: ",
    ...o.topology.nodes
      .slice(0, 200)
      .flatMap((n: Json, i: number) => [
        i ? " · " : "",
        n.name === node
          ? el("strong", {}, n.name)
          : link(hashOf("rules", { node: n.name, chains: chains.join(",") }), n.name),
      ]),
  );
  if (r.status !== 200) return show(el("h2", {}, "kube-proxy rules"), picker, errorBox(r.body));
  const pre = el("pre", { class: "text rules" });
  let hits = 0;
  const lines = (r.body.text as string).split("\n");
  lines.forEach((line, i) => {
    const hit = chains.some((c) => line.includes(c));
    if (hit) hits++;
    pre.append(hit ? el("mark", { class: "hit" }, `${line}  ◀ hit`) : line, i < lines.length - 1 ? "\n" : "");
  });
  show(
    el("h2", {}, `kube-proxy rules of ${r.body.node} (${r.body.proxyMode})`),
    picker,
    chains.length
      ? el(
          "p",
          {},
          `${hits} lines name a chain the traced packet went through (marked ◀ hit): ${chains.join(", ")}`,
        )
      : null,
    pre,
  );
  // The first line the packet hit, in sight.
  (pre.querySelector("mark.hit") as HTMLElement | null)?.scrollIntoView({ block: "center" });
}

async function dnsView(p: URLSearchParams): Promise<void> {
  const q = { from: p.get("from") ?? "", name: p.get("name") ?? "", type: p.get("type") ?? "" };
  // A report answers the names it was written with (the tour's): it offers those, not a free form.
  const form =
    DATA.mode === "report"
      ? el(
          "div",
          { class: "presets" },
          "Names this report resolves: ",
          ...Object.keys(DATA.answers ?? {})
            .filter((k) => k.startsWith("/api/resolve?"))
            .flatMap((k, i) => {
              const u = new URLSearchParams(k.split("?")[1]);
              const text = `${u.get("from")} → ${u.get("name")}${u.get("type") ? ` ${u.get("type")}` : ""}`;
              return [i ? " · " : "", link(`#/dns?${u}`, text)];
            }),
          el("span", { class: "note" }, " (`podnet ui -f …` resolves any name)"),
        )
      : askForm("dns", "Resolve", [
          field("from", "pod", q.from, { placeholder: "ns/pod" }),
          field("name", "resolves", q.name, { placeholder: "cart, api.example.com", "aria-label": "name" }),
          field("type", "type", q.type, { placeholder: "A", size: "5" }),
        ]);
  if (!q.from || !q.name) return show(el("h2", {}, "A pod's resolver at work"), form);
  const r = await api("resolve", q);
  if (r.status !== 200) return show(el("h2", {}, "A pod's resolver at work"), form, errorBox(r.body));
  const a = r.body.answer;
  show(
    el("h2", {}, `${q.from} resolves ${q.name}`),
    form,
    el("p", {}, a.why),
    el("h3", {}, "Queries and answers"),
    el(
      "ol",
      { class: "queries" },
      ...a.queries.map((x: Json) =>
        el(
          "li",
          {},
          el("code", {}, `${x.name} ${x.type}`),
          " → ",
          el(
            "span",
            { class: `badge ${x.answer.rcode === "NOERROR" && x.answer.answers.length ? "good" : "bad"}` },
            x.answer.rcode,
          ),
          ` ${x.answer.answers.map((y: Json) => `${y.type} ${typeof y.data === "string" ? y.data : JSON.stringify(y.data)}`).join(", ")} (${x.answer.why})`,
        ),
      ),
    ),
    a.result
      ? el("p", {}, verdictBadge("delivered"), " resolved")
      : el("p", {}, verdictBadge("unresolved"), " the name does not resolve"),
  );
}

// ---------------------------------------------------------------------------------------------
// Router and frame.

const VIEWS: Record<string, (p: URLSearchParams) => Promise<void>> = {
  topology: topologyView,
  trace: traceView,
  policy: policyView,
  yaml: yamlView,
  connlist: connlistView,
  diff: () => diffView(),
  rules: rulesView,
  dns: dnsView,
};

/** Set when Enter opened a heatmap cell: the next heatmap drawn takes the focus (keyboard users). */
let focusHeatmapAfterRoute = false;

async function route(): Promise<void> {
  const started = performance.now();
  if (playTimer !== undefined) window.clearInterval(playTimer);
  playTimer = undefined;
  main().onkeydown = null;
  const m = /^#\/([a-z]+)(?:\?(.*))?$/.exec(location.hash);
  const view = m && VIEWS[m[1]] ? m[1] : "topology";
  const params = new URLSearchParams(m?.[2] ?? "");
  for (const a of document.querySelectorAll("header nav a"))
    a.toggleAttribute("aria-current", a.getAttribute("data-view") === view);
  document.body.dataset.view = view;
  document.body.dataset.state = "loading";
  // A view that answers at once replaces the old one without a flash; a slower one shows that it
  // is on its way instead of leaving the previous view under the new tab.
  window.clearTimeout(loadingTimer);
  loadingTimer = window.setTimeout(() => {
    main().setAttribute("aria-busy", "true");
    fill(main(), el("p", { class: "loading", role: "status" }, `Loading the ${view} view…`));
  }, 120);
  const o = await getOverview();
  const problems = document.getElementById("problems")!;
  if (!o.ok || o.diagnostics.length || o.against?.diagnostics.length) {
    // The --against input's diagnostics that the first input has too are said once.
    const seen = new Set(o.diagnostics.map((d: Json) => d.text.replace(/^[^:]*:/, "")));
    const againstOnly = (o.against?.diagnostics ?? []).filter(
      (d: Json) => !seen.has(d.text.replace(/^[^:]*:/, "")),
    );
    const againstErrors = (o.against?.diagnostics ?? []).some((d: Json) => d.severity === "error");
    const lists: Child[] = [
      diagnosticsList(o.diagnostics),
      againstOnly.length
        ? el("div", {}, el("h3", {}, "--against input"), diagnosticsList(againstOnly))
        : null,
    ];
    const count = o.diagnostics.length + againstOnly.length;
    // Errors stay open; warnings only (a supplied CoreDNS, added node labels…) fold into one line.
    fill(
      problems,
      !o.ok || againstErrors
        ? el(
            "div",
            {},
            el(
              "h2",
              {},
              o.ok
                ? "The --against input has errors: the diff cannot be drawn"
                : "The input has errors: nothing was resolved",
            ),
            ...lists,
          )
        : el(
            "details",
            {},
            el(
              "summary",
              {},
              `${count} input warning${count === 1 ? "" : "s"} (what podnet supplied or ignored)`,
            ),
            ...lists,
          ),
    );
    problems.hidden = false;
  }
  if (!o.ok) {
    window.clearTimeout(loadingTimer);
    main().replaceChildren();
    document.body.dataset.state = "ready";
    return;
  }
  try {
    await VIEWS[view](params);
  } catch (e) {
    show(errorBox({ error: String((e as Error)?.message ?? e) }));
  }
  window.clearTimeout(loadingTimer);
  main().removeAttribute("aria-busy");
  // How long the view took from the URL's change to the page shown (read by bench/ui.ts).
  document.body.dataset.took = String(Math.round(performance.now() - started));
  document.body.dataset.state = "ready";
}

function frame(): void {
  document.title = DATA.title;
  const nav = el(
    "nav",
    { "aria-label": "views" },
    ...[
      ["topology", "Topology"],
      ["trace", "Trace"],
      ["policy", "Policy"],
      ["connlist", "Connections"],
      ["diff", "Diff"],
      ["rules", "Rules"],
      ["dns", "DNS"],
    ].map(([v, text]) => link(`#/${v}`, text, { "data-view": v })),
  );
  document.body.replaceChildren(
    el(
      "header",
      {},
      el("h1", {}, DATA.title),
      nav,
      DATA.mode === "report" ? el("span", { class: "mode" }, "report (read-only answers)") : null,
    ),
    el("section", { id: "problems", hidden: true, role: "alert" }),
    el("main", { id: "main", tabindex: "-1" }),
  );
  window.addEventListener("hashchange", () => void route());
  void route();
}

frame();
