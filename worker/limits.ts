// Per-tenant limits, so one runaway CI job cannot take the edge down for the others.
// Configured by the operator in CAPIM_EDGE_LIMITS (JSON): `{"*": {...defaults}, "<tenant>": {...}}`,
// each with any of maxClusters, maxObjectsPerCluster, maxBodyBytes, maxTtlSeconds. A tenant's entry
// is merged over "*", which is merged over the built-in defaults below. Read by the worker (cluster
// count, body size, TTL) and by the cluster DO (object count), both from the same binding.
//   too many clusters / objects -> 429 TooManyRequests, body too large -> 413, TTL above max -> 422.
import { maxBodyBytes, type Env } from "./env.js";

export interface TenantLimits {
  maxClusters: number;
  maxObjectsPerCluster: number;
  maxBodyBytes: number;
  /** Longest TTL a cluster may be created or extended with. When set, every cluster needs a TTL; null: no limit. */
  maxTtlSeconds: number | null;
}

/** Generous defaults: scale tests run thousands of clusters per tenant. */
export const DEFAULT_LIMITS: Omit<TenantLimits, "maxBodyBytes"> = {
  maxClusters: 10_000,
  maxObjectsPerCluster: 100_000,
  maxTtlSeconds: null,
};

export type LimitsEnv = Pick<Env, "CAPIM_EDGE_MAX_BODY"> & { CAPIM_EDGE_LIMITS?: string };

type Partial = { [K in keyof TenantLimits]?: TenantLimits[K] };

function parsePartial(v: unknown): Partial {
  const out: Partial = {};
  if (!v || typeof v !== "object" || Array.isArray(v)) return out;
  for (const key of ["maxClusters", "maxObjectsPerCluster", "maxBodyBytes", "maxTtlSeconds"] as const) {
    const n = (v as Record<string, unknown>)[key];
    if (typeof n === "number" && Number.isFinite(n) && n >= 0) out[key] = Math.floor(n);
  }
  return out;
}

function table(env: LimitsEnv): Record<string, Partial> {
  const source = env.CAPIM_EDGE_LIMITS ?? "";
  const t: Record<string, Partial> = {};
  if (source) {
    try {
      const parsed = JSON.parse(source) as unknown;
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
        for (const [tenant, v] of Object.entries(parsed)) t[tenant] = parsePartial(v);
      }
    } catch {
      console.error("CAPIM_EDGE_LIMITS is not valid JSON; using the default limits");
    }
  }
  return t;
}

/** Merged limits by env object and tenant: bindings are fixed for an isolate's life, and this runs on every request. */
const limitsByEnv = new WeakMap<object, Map<string, TenantLimits>>();

export function limitsFor(env: LimitsEnv, tenant: string): TenantLimits {
  let byTenant = limitsByEnv.get(env);
  if (!byTenant) limitsByEnv.set(env, (byTenant = new Map()));
  let limits = byTenant.get(tenant);
  if (!limits) byTenant.set(tenant, (limits = computeLimits(env, tenant)));
  return limits;
}

function computeLimits(env: LimitsEnv, tenant: string): TenantLimits {
  const t = table(env);
  const global = maxBodyBytes(env);
  const merged = { ...DEFAULT_LIMITS, maxBodyBytes: global, ...t["*"], ...t[tenant] };
  // The edge-wide body limit still applies (the DO's API server enforces it on streamed bodies).
  return { ...merged, maxBodyBytes: Math.min(merged.maxBodyBytes, global) };
}
