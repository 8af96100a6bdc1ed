/**
 * Starts the reverse proxy of every controller pod (./reverse-proxy.ts), one process each, inside the
 * pod's namespace (`ip netns exec NS node reverse-proxy.js SPEC`), so that it binds the pod's ports and
 * its connections to backends leave from the pod, through the node's kube-proxy rules. Before that,
 * the TLS certificate the HTTPS listeners present is made with Debian's `openssl` (self-signed, one
 * for the cluster, every TLS host as a subjectAltName): nothing is downloaded.
 *
 *   <state>/<cluster>.http/  cert.pem key.pem (the certificate), <n>.json (each proxy's spec)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Plan } from "../../core/dataplane/plan.ts";
import { program } from "./pod-listeners.ts";
import { DataPlaneError } from "./runner.ts";
import { type Host, httpDir } from "./state.ts";

/** Every host a certificate must name: each HTTPS listener's TLS hosts and hostname, sorted, once each. */
export function tlsHosts(plan: Pick<Plan, "proxies">): string[] {
  const hosts = new Set<string>();
  for (const p of plan.proxies)
    for (const { listener } of p.spec.listeners)
      if (listener.protocol === "HTTPS") {
        for (const h of listener.tlsHosts ?? []) hosts.add(h.toLowerCase());
        if (listener.hostname) hosts.add(listener.hostname.toLowerCase());
      }
  return [...hosts].sort();
}

/**
 * Makes the cluster's certificate and key (PEM, ECDSA P-256, valid 30 days) for `hosts` (none: the
 * name `podnet.test`), returns their files. Throws a DataPlaneError when `openssl` fails or is missing.
 */
export function makeCertificate(
  host: Host,
  cluster: string,
  hosts: readonly string[],
): { cert: string; key: string } {
  const dir = httpDir(host, cluster);
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const names = hosts.length ? hosts : ["podnet.test"];
  const r = host.runner.runSync({
    cmd: "openssl",
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "30",
      "-subj",
      `/CN=${names[0]}`,
      "-addext",
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`,
      "-keyout",
      key,
      "-out",
      cert,
    ],
  });
  if (r.code === 127)
    throw new DataPlaneError("`openssl` is not installed (Debian: openssl); HTTPS listeners need it");
  if (r.code !== 0)
    throw new DataPlaneError(`openssl could not make the TLS certificate: ${r.stderr.trim().split("\n")[0]}`);
  return { cert, key };
}

/**
 * Start every controller pod's proxy; resolves with the processes once each listens (prints `ready`),
 * rejects with a DataPlaneError naming the pod when one does not.
 */
export async function startProxies(
  host: Host,
  plan: Plan,
): Promise<{ pid: number; start: string; what: string }[]> {
  if (plan.proxies.length === 0) return [];
  const dir = httpDir(host, plan.cluster);
  mkdirSync(dir, { recursive: true });
  const https = plan.proxies.some((p) => p.spec.listeners.some((l) => l.listener.protocol === "HTTPS"));
  const tls = https ? makeCertificate(host, plan.cluster, tlsHosts(plan)) : undefined;
  const started: { pid: number; start: string; what: string }[] = [];
  for (const [i, p] of plan.proxies.entries()) {
    const file = join(dir, `${i}.json`);
    writeFileSync(file, JSON.stringify({ ...p.spec, ...(tls ? { tls } : {}) }));
    try {
      const s = await host.runner.start(
        { cmd: "ip", args: ["netns", "exec", p.netns, process.execPath, program("reverse-proxy"), file] },
        30000,
      );
      started.push({ ...s, what: `reverse proxy of ${p.spec.pod}` });
    } catch (e) {
      // The proxies started before stay in their namespaces: `down` ends them there.
      throw new DataPlaneError(`reverse proxy of ${p.spec.pod}: ${(e as Error).message}`);
    }
  }
  return started;
}
