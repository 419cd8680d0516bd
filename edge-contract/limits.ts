// Per-tenant limits, so one runaway CI job cannot take the edge down for the others.
// Configured by the operator in CAPIM_EDGE_LIMITS (JSON): `{"*": {...defaults}, "<tenant>": {...}}`,
// each with any of maxClusters, maxObjectsPerCluster, maxBodyBytes, maxTtlSeconds. A tenant's entry
// is merged over "*", which is merged over the built-in defaults below. Read by the worker (cluster
// count, body size, TTL) and by the cluster DO (object count), both from the same binding.
//   too many clusters / objects -> 429 TooManyRequests, body too large -> 413, TTL above max -> 422.

/** Largest request body in bytes unless CAPIM_EDGE_MAX_BODY says otherwise: 3 MiB, like kube-apiserver. */
export const DEFAULT_MAX_BODY = 3 * 1024 * 1024;

/** The bindings limits are read from (the worker's and every DO's env). */
export interface LimitsEnv {
  CAPIM_EDGE_MAX_BODY?: string;
  CAPIM_EDGE_LIMITS?: string;
}

export function maxBodyBytes(env: Pick<LimitsEnv, "CAPIM_EDGE_MAX_BODY">): number {
  const n = Number(env.CAPIM_EDGE_MAX_BODY);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : DEFAULT_MAX_BODY;
}

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

/** CAPIM_EDGE_LIMITS as tenant -> the limits it sets (invalid JSON or fields: ignored, with one line on stderr). */
export function limitsTable(env: LimitsEnv): Record<string, Partial> {
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
  const t = limitsTable(env);
  const global = maxBodyBytes(env);
  const merged = { ...DEFAULT_LIMITS, maxBodyBytes: global, ...t["*"], ...t[tenant] };
  // The edge-wide body limit still applies (the DO's API server enforces it on streamed bodies).
  return { ...merged, maxBodyBytes: Math.min(merged.maxBodyBytes, global) };
}

/**
 * Validates a `ttlSeconds` field (absent/null: no TTL). Returns an error message or undefined.
 * `maxTtlSeconds` (a tenant limit) makes a TTL mandatory and caps it.
 */
export function invalidTtl(value: unknown, maxTtlSeconds: number | null): string | undefined {
  if (value === undefined || value === null) {
    return maxTtlSeconds === null ? undefined : `ttlSeconds: Required value: this tenant's clusters need a TTL of at most ${maxTtlSeconds} seconds`;
  }
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) return "ttlSeconds: Invalid value: must be a positive integer";
  if (maxTtlSeconds !== null && value > maxTtlSeconds) {
    return `ttlSeconds: Invalid value: ${value}: must be at most ${maxTtlSeconds} (the tenant's maxTtlSeconds)`;
  }
  // setAlarm takes epoch ms; keep far below Number.MAX_SAFE_INTEGER.
  if (value > 10 * 365 * 24 * 3600) return `ttlSeconds: Invalid value: ${value}: must be at most ten years`;
  return undefined;
}
