// Bindings and variables the worker and its Durable Objects receive (see wrangler.toml).
import type { WorkloadCluster } from "../durable-objects/workload-cluster.js";
import type { TenantDirectory } from "../durable-objects/tenant-directory.js";

export interface Env {
  WORKLOAD_CLUSTER: DurableObjectNamespace<WorkloadCluster>;
  TENANT_DIRECTORY: DurableObjectNamespace<TenantDirectory>;
  /** JSON object token -> tenant name. A secret in deployed mode; a binding under miniflare. */
  CAPIM_EDGE_TOKENS?: string;
  /** Largest request body in bytes (default 3 MiB, like kube-apiserver). */
  CAPIM_EDGE_MAX_BODY?: string;
}

export const DEFAULT_MAX_BODY = 3 * 1024 * 1024;

export function maxBodyBytes(env: Pick<Env, "CAPIM_EDGE_MAX_BODY">): number {
  const n = Number(env.CAPIM_EDGE_MAX_BODY);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : DEFAULT_MAX_BODY;
}

/** Header through which the worker tells a cluster DO who it is (`tenant/namespace/name`). */
export const CLUSTER_HEADER = "x-capim-cluster";
