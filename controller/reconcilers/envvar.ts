// EnvVar reconciler (vcsim's API, vcsim.infrastructure.cluster.x-k8s.io/v1alpha1): the variables a
// cluster template needs for one workload cluster, gathered in status.variables so that
// `capim-edge env <name>` (or `kubectl get envvar -o jsonpath`) can hand them to envsubst or clusterctl.
// The endpoint comes from the named ControlPlaneEndpoint (default: the one named like the cluster).
import { ENV_VAR, isNotFound, type KubeObject } from "../kube.js";
import type { ReconcileContext, Result } from "./context.js";

export const DEFAULT_KUBERNETES_VERSION = "v1.31.0";

/** The ControlPlaneEndpoint an EnvVar reads: `spec.controlPlaneEndpoint`, defaulting to its own namespace and the cluster's name. */
export function endpointRef(ev: KubeObject): { namespace: string; name: string } {
  const ref = ev.spec?.controlPlaneEndpoint ?? {};
  return { namespace: ref.namespace || ev.metadata.namespace!, name: ref.name || ev.spec?.cluster?.name };
}

/** The variables, or undefined while the endpoint has no host/port yet. */
export function envVariables(ev: KubeObject, endpoint: { host?: string; port?: number } | undefined): Record<string, string> | undefined {
  const c = ev.spec?.cluster ?? {};
  if (!endpoint?.host || !endpoint.port) return undefined;
  return {
    ...(ev.spec?.variables ?? {}),
    CLUSTER_NAME: c.name,
    NAMESPACE: c.namespace || ev.metadata.namespace!,
    KUBERNETES_VERSION: c.kubernetesVersion || DEFAULT_KUBERNETES_VERSION,
    CONTROL_PLANE_MACHINE_COUNT: String(c.controlPlaneMachines ?? 1),
    WORKER_MACHINE_COUNT: String(c.workerMachines ?? 1),
    CONTROL_PLANE_ENDPOINT_IP: endpoint.host,
    CONTROL_PLANE_ENDPOINT_PORT: String(endpoint.port),
  };
}

export async function reconcileEnvVar(ctx: ReconcileContext, ns: string, name: string): Promise<Result> {
  const ev = ctx.cache.envVar(ns, name);
  if (!ev || ev.metadata.deletionTimestamp || !ev.spec?.cluster?.name) return {};
  const ref = endpointRef(ev);
  // The ControlPlaneEndpoint's status changes enqueue this EnvVar (manager.ts): no polling.
  const variables = envVariables(ev, ctx.cache.controlPlaneEndpoint(ref.namespace, ref.name)?.status);
  if (!variables || JSON.stringify(variables) === JSON.stringify(ev.status?.variables)) return {};
  try {
    await ctx.kube.patchStatus(ENV_VAR, ns, name, { status: { variables } });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  return {};
}
