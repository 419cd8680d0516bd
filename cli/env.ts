// `capim-edge env <name>`: a ControlPlaneEndpoint's cluster variables (the EnvVar's status.variables,
// see controller/reconcilers/envvar.ts) as a shell env file, read from the management cluster with the
// caller's kubeconfig, so that `. ./cluster.env && envsubst < template` and `clusterctl generate cluster`
// see CLUSTER_NAME, CONTROL_PLANE_ENDPOINT_IP/PORT and the rest.
import * as k8s from "@kubernetes/client-node";
import { CliError, EXIT } from "./errors.js";

const POLL_MS = 300;

export interface EnvOptions {
  /** Management cluster kubeconfig (default: $KUBECONFIG or ~/.kube/config). */
  kubeconfig?: string;
  namespace?: string;
  waitMs: number;
  waitTimeout: string;
}

/** One `export NAME='value'` line per variable, sorted; single quotes keep every value literal to the shell. */
export function envFile(variables: Record<string, string>): string {
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  return Object.keys(variables)
    .sort()
    .filter((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
    .map((k) => `export ${k}=${quote(variables[k])}\n`)
    .join("");
}

export async function envCommand(name: string, o: EnvOptions): Promise<void> {
  const kc = new k8s.KubeConfig();
  try {
    if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new CliError(`cannot read the kubeconfig${o.kubeconfig ? ` ${o.kubeconfig}` : ""}: ${(e as Error).message}`, EXIT.usage);
  }
  if (!kc.getCurrentCluster()) throw new CliError("no current cluster in the kubeconfig: pass --kubeconfig with the management cluster's", EXIT.usage);
  const namespace = o.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  const deadline = Date.now() + o.waitMs;
  for (;;) {
    let ev: { status?: { variables?: Record<string, string> }; spec?: { controlPlaneEndpoint?: { name?: string }; cluster?: { name?: string } } };
    try {
      ev = (await api.getNamespacedCustomObject({ group: "vcsim.infrastructure.cluster.x-k8s.io", version: "v1alpha1", namespace, plural: "envvars", name })) as typeof ev;
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code === 404) throw new CliError(`envvar ${namespace}/${name} not found (or the EnvVar CRD is not installed)`);
      if (code !== undefined) throw new CliError(`the management cluster answered ${code} for envvar ${namespace}/${name}`);
      throw new CliError(`cannot reach the management cluster at ${kc.getCurrentCluster()!.server}: ${(e as Error).message}`, EXIT.unreachable);
    }
    if (ev.status?.variables && Object.keys(ev.status.variables).length) {
      process.stdout.write(envFile(ev.status.variables));
      return;
    }
    if (Date.now() >= deadline) {
      const endpoint = ev.spec?.controlPlaneEndpoint?.name || ev.spec?.cluster?.name;
      throw new CliError(`timed out after ${o.waitTimeout}: envvar ${namespace}/${name} has no variables yet (waiting for controlplaneendpoint ${endpoint} to report its host and port)`, EXIT.timeout);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
