/**
 * The device view (./devices.ts) as `ip -batch` lines: what the data plane (../dataplane/plan.ts) and
 * the plugins' build steps (../cni/) run to create an interface or install the routes a namespace's
 * model lists. Pure text; nothing runs here.
 */
import { formatIPv4 } from "../net/ipv4.ts";
import type { Namespace } from "./namespace.ts";

/**
 * An interface's creation (bridges and VXLAN devices; veths are made in pairs elsewhere), MAC, MTU,
 * addresses and state, as `ip -batch` lines; none when the model has no interface of that name.
 */
export function interfaceLines(model: Namespace, name: string): string[] {
  const i = model.interfaces.find((x) => x.name === name);
  if (!i) return [];
  const lines: string[] = [];
  if (i.kind === "bridge") lines.push(`link add ${i.name} type bridge`);
  if (i.kind === "vxlan" && i.vxlan)
    lines.push(
      `link add ${i.name} type vxlan id ${i.vxlan.vni} dstport ${i.vxlan.port} local ${formatIPv4(i.vxlan.local)} dev eth0 nolearning`,
    );
  if (i.mac) lines.push(`link set ${i.name} address ${i.mac}`);
  if (i.mtu !== undefined) lines.push(`link set ${i.name} mtu ${i.mtu}`);
  for (const a of i.addresses) lines.push(`addr add ${formatIPv4(a.ip)}/${a.prefix} dev ${i.name}`);
  lines.push(`link set ${i.name} up`);
  return lines;
}

/**
 * The routes of a model that adding its addresses does not create by itself (`proto kernel scope
 * link src …` routes come with the address; a default route without a gateway is not installed), as
 * `route add` lines.
 */
export function routeLines(model: Namespace): string[] {
  return model.routes
    .filter((r) => !(r.scopeLink && r.src !== undefined))
    .filter((r) => r.dst !== "default" || r.via !== undefined)
    .map((r) => {
      const dst = r.dst === "default" ? "default" : r.dst.toString();
      if (r.blackhole) return `route add blackhole ${dst}${r.proto ? ` proto ${r.proto}` : ""}`;
      return `route add ${dst}${r.via !== undefined ? ` via ${formatIPv4(r.via)}` : ""} dev ${r.dev}${r.onlink ? " onlink" : ""}${r.scopeLink ? " scope link" : ""}${r.proto && r.proto !== "boot" ? ` proto ${r.proto}` : ""}`;
    });
}
