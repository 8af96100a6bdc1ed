/**
 * NetworkPolicy (networking.k8s.io/v1), as `pkg/apis/networking/validation` checks it: the pod
 * selector, rules, peers, ipBlocks and ports.
 */
import { Cidr } from "../../net/ipv4.ts";
import { type Check, portNameError, type Rec } from "../check.ts";
import { checkSelector } from "./shared.ts";

export function validatePolicyPorts(c: Check, ports: unknown, at: (string | number)[]): void {
  c.list(ports, at)?.forEach((p, i) => {
    const pp = [...at, i];
    const m = c.map(p, pp);
    if (!m) return;
    c.fields(m, pp, ["protocol", "port", "endPort"], "a NetworkPolicy port");
    if (m.protocol === undefined) m.protocol = "TCP";
    c.oneOf(m.protocol, [...pp, "protocol"], ["TCP", "UDP", "SCTP"] as const);
    if (typeof m.port === "string") {
      const err = portNameError(m.port);
      if (err) c.error([...pp, "port"], "invalid-port-name", err, "use a container port's name or a number");
    } else {
      c.port(m.port, [...pp, "port"]);
    }
    if (m.endPort !== undefined) {
      const end = c.port(m.endPort, [...pp, "endPort"], "endPort");
      if (typeof m.port !== "number") {
        c.error(
          [...pp, "endPort"],
          "invalid-value",
          "endPort requires a numeric port",
          "set port to the first number of the range",
        );
      } else if (end !== undefined && end < m.port) {
        c.error(
          [...pp, "endPort"],
          "invalid-value",
          `endPort ${end} is below port ${m.port}`,
          "make endPort at least port",
        );
      }
    }
  });
}

export function validateNetworkPolicy(c: Check, obj: Rec): void {
  const spec = c.map(obj.spec, ["spec"]);
  if (!c.required(spec, ["spec"], "spec", "add spec.podSelector ({} selects every pod of the namespace)"))
    return;
  c.fields(spec, ["spec"], ["podSelector", "policyTypes", "ingress", "egress"], "a NetworkPolicy's spec");
  // podSelector is a struct, not a pointer, in the API: null and absent both decode to {} (every pod
  // of the namespace). The API server accepts both; an absent one is most likely a mistake.
  if (!("podSelector" in spec)) {
    c.warn(
      ["spec"],
      "missing-pod-selector",
      "spec.podSelector is absent; Kubernetes treats it as {} and the policy selects every pod of the namespace",
      "write podSelector: {} to say so, or select the pods meant",
    );
  }
  if (spec.podSelector === undefined || spec.podSelector === null) spec.podSelector = {};
  checkSelector(c, spec.podSelector, ["spec", "podSelector"]);
  const types = c.list(spec.policyTypes, ["spec", "policyTypes"], "string");
  if (types && types.length > 2)
    c.error(
      ["spec", "policyTypes"],
      "invalid-value",
      "may not specify more than two policyTypes",
      "list Ingress, Egress or both",
    );
  else
    types?.forEach((t, i) => {
      c.oneOf(t, ["spec", "policyTypes", i], ["Ingress", "Egress"] as const);
    });
  for (const [dir, peersField] of [
    ["ingress", "from"],
    ["egress", "to"],
  ] as const) {
    c.list(spec[dir], ["spec", dir])?.forEach((rule, i) => {
      const rp = ["spec", dir, i];
      const m = c.map(rule, rp);
      if (!m) return;
      c.fields(m, rp, ["ports", peersField], `a NetworkPolicy ${dir} rule`);
      validatePolicyPorts(c, m.ports, [...rp, "ports"]);
      c.list(m[peersField], [...rp, peersField])?.forEach((peer, j) => {
        const pp = [...rp, peersField, j];
        const pm = c.map(peer, pp);
        if (!pm) return;
        c.fields(pm, pp, ["podSelector", "namespaceSelector", "ipBlock"], "a NetworkPolicy peer");
        // The peer's three fields are pointers: a key with nothing under it (`namespaceSelector:`)
        // is null, the same nil as an absent key, and does not count as a peer.
        for (const k of ["podSelector", "namespaceSelector", "ipBlock"] as const)
          if (pm[k] === null) delete pm[k];
        checkSelector(c, pm.podSelector, [...pp, "podSelector"]);
        checkSelector(c, pm.namespaceSelector, [...pp, "namespaceSelector"]);
        const ipb = c.map(pm.ipBlock, [...pp, "ipBlock"]);
        if (
          pm.ipBlock !== undefined &&
          (pm.podSelector !== undefined || pm.namespaceSelector !== undefined)
        ) {
          c.error(
            pp,
            "invalid-peer",
            "ipBlock cannot be combined with podSelector or namespaceSelector in one peer",
            "split them into two peers (two list items)",
          );
        }
        if (pm.ipBlock === undefined && pm.podSelector === undefined && pm.namespaceSelector === undefined)
          peerMissing(c, pp);
        if (ipb) validateIpBlock(c, ipb, [...pp, "ipBlock"]);
      });
    });
  }
}

/**
 * An ipBlock (`ValidateIPBlock`): cidr and except are legacy CIDR fields (host bits, leading zeros
 * accepted); each except must be a strict subset of cidr. The blocks are rewritten with host bits
 * cleared, as the network plugins read them (`10.0.0.5/24` selects 10.0.0.0/24).
 */
export function validateIpBlock(c: Check, ipb: Rec, at: (string | number)[]): void {
  c.fields(ipb, at, ["cidr", "except"], "an ipBlock");
  if (
    !c.required(
      c.string(ipb.cidr, [...at, "cidr"]),
      [...at, "cidr"],
      "ipBlock.cidr",
      "add cidr, e.g. 10.0.0.0/8",
    )
  )
    return;
  const cidr = c.legacyCidr(ipb.cidr, [...at, "cidr"]);
  if (!cidr) return;
  ipb.cidr = cidr.canonical;
  const v4 = (text: string) => {
    const r = Cidr.parse(text);
    return r.ok ? r.cidr : undefined;
  };
  const outer = v4(cidr.canonical);
  const except = c.list(ipb.except, [...at, "except"], "string");
  except?.forEach((e, i) => {
    const inner = c.legacyCidr(e, [...at, "except", i]);
    if (!inner) return;
    except[i] = inner.canonical;
    const block = v4(inner.canonical);
    // IPv6 blocks (undefined here) are checked for syntax only: podnet allocates IPv4.
    if (!outer || !block) {
      if (!outer !== !block) subsetError(c, [...at, "except", i], e, ipb.cidr);
      return;
    }
    if (block.prefix <= outer.prefix || !outer.contains(block.base))
      subsetError(c, [...at, "except", i], e, ipb.cidr);
  });
}

function subsetError(c: Check, path: (string | number)[], except: unknown, cidr: unknown): void {
  c.error(
    path,
    "invalid-cidr",
    `except ${JSON.stringify(except)} must be a strict subset of cidr ${JSON.stringify(cidr)}`,
    "list only blocks smaller than cidr and inside it",
  );
}

function peerMissing(c: Check, pp: (string | number)[]): void {
  c.error(
    pp,
    "invalid-peer",
    "must specify a peer: podSelector, namespaceSelector or ipBlock (a key with nothing under it is no selector)",
    "write {} to select everything (e.g. namespaceSelector: {}), or remove the empty peer",
  );
}
