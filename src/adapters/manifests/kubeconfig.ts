/**
 * Which cluster and credentials `--kubeconfig PATH` and `--context NAME` mean, as kubectl reads them
 * (k8s.io/client-go/tools/clientcmd/loader.go, `ClientConfigLoadingRules.Load`, and
 * client_config.go, `inClusterClientConfig`):
 * - `--kubeconfig PATH` names the one file to read; a missing file is an error.
 * - otherwise the files of `KUBECONFIG` (separated by `:`; files that do not exist are ignored) are
 *   merged, the first file to define a cluster, user or context by name winning, and the first
 *   `current-context` set winning;
 * - otherwise `~/.kube/config`;
 * - otherwise, inside a pod (KUBERNETES_SERVICE_HOST/PORT set and the service-account token mounted),
 *   the in-cluster config: the pod's service account against the API server's Service.
 * `--context NAME` picks a context of the merged config; without it the config's `current-context`.
 * The files are read by `@kubernetes/client-node`'s `KubeConfig`, which also applies the user's
 * credentials (bearer token or token file, client certificate and key, exec credential plugins).
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { type Cluster, type Context, KubeConfig, type User } from "@kubernetes/client-node";

/** A user-facing failure to find or read the configuration: the message says what and how to fix it. */
export class KubeconfigError extends Error {}

/** The chosen configuration: the client library's `KubeConfig` set to `context`, and where it came from. */
export interface ChosenConfig {
  readonly kc: KubeConfig;
  /** The context's name (`inClusterContext` for the in-cluster config). */
  readonly context: string;
  /** The API server's URL, e.g. `https://10.0.0.1:6443`. */
  readonly server: string;
  /** The cluster's and user's names in the kubeconfig (for messages). */
  readonly clusterName: string;
  readonly userName: string;
  /** The files read, or `in-cluster`. */
  readonly origin: string;
}

/**
 * Loads the configuration as described in the module comment. `context` undefined means the
 * current context. `env` and `home` are for tests. Throws KubeconfigError naming the file or
 * context and the fix: a missing `--kubeconfig` file, an unreadable or malformed file, no
 * configuration at all, an unknown context (listing the known ones), a context whose cluster or
 * user is not defined, a cluster without a server.
 */
export function chooseConfig(
  opts: { kubeconfig?: string; context?: string },
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): ChosenConfig {
  let kc: KubeConfig;
  let origin: string;
  if (opts.kubeconfig !== undefined) {
    if (!existsSync(opts.kubeconfig))
      throw new KubeconfigError(
        `error: --kubeconfig ${opts.kubeconfig}: no such file; give the path of a kubeconfig file`,
      );
    kc = loadFile(opts.kubeconfig, "--kubeconfig");
    origin = opts.kubeconfig;
  } else if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f !== "" && existsSync(f));
    if (files.length === 0)
      throw new KubeconfigError(
        `error: KUBECONFIG=${env.KUBECONFIG}: none of its files exists; set KUBECONFIG to existing kubeconfig files or give --kubeconfig PATH`,
      );
    kc = merge(files.map((f) => loadFile(f, "KUBECONFIG")));
    origin = files.join(delimiter);
  } else if (existsSync(join(home, ".kube", "config"))) {
    origin = join(home, ".kube", "config");
    kc = loadFile(origin, "the default kubeconfig");
  } else if (
    env.KUBERNETES_SERVICE_HOST &&
    env.KUBERNETES_SERVICE_PORT &&
    existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token")
  ) {
    kc = new KubeConfig();
    kc.loadFromCluster();
    origin = "in-cluster";
  } else {
    throw new KubeconfigError(
      "error: no kubeconfig: KUBECONFIG is not set, ~/.kube/config does not exist and this is not a pod; give --kubeconfig PATH",
    );
  }
  const name = opts.context ?? kc.getCurrentContext();
  const known = kc.getContexts().map((c) => c.name);
  if (!name)
    throw new KubeconfigError(
      `error: ${origin} sets no current-context; choose one with --context (${known.length ? `it has ${known.join(", ")}` : "it defines no context"})`,
    );
  const ctx = kc.getContextObject(name);
  if (!ctx)
    throw new KubeconfigError(
      `error: --context ${name}: no such context in ${origin}; ${known.length ? `it has ${known.join(", ")}` : "it defines no context"}`,
    );
  kc.setCurrentContext(name);
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster)
    throw new KubeconfigError(
      `error: context ${name} names cluster "${ctx.cluster}", which ${origin} does not define; add it under clusters:`,
    );
  if (!cluster.server)
    throw new KubeconfigError(
      `error: cluster "${cluster.name}" in ${origin} has no server; set clusters[].cluster.server`,
    );
  if (ctx.user && !kc.getUser(ctx.user))
    throw new KubeconfigError(
      `error: context ${name} names user "${ctx.user}", which ${origin} does not define; add it under users:`,
    );
  return {
    kc,
    context: name,
    server: cluster.server.replace(/\/+$/, ""),
    clusterName: cluster.name,
    userName: ctx.user ?? "",
    origin,
  };
}

function loadFile(file: string, what: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (e) {
    throw new KubeconfigError(
      `error: ${what} ${file}: not a readable kubeconfig: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  return kc;
}

/** KUBECONFIG's merge: the first definition of a name wins, and the first current-context set. */
function merge(configs: readonly KubeConfig[]): KubeConfig {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let current = "";
  for (const kc of configs) {
    for (const c of kc.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of kc.getContexts()) if (!contexts.has(c.name)) contexts.set(c.name, c);
    current ||= kc.getCurrentContext() ?? "";
  }
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext: current,
  });
  return out;
}
