// Bearer-token authentication: the single place that maps a request to who is calling.
// Tenant tokens (CAPIM_EDGE_TOKENS, JSON token -> tenant) reach every cluster of that tenant.
// Per-cluster tokens (edge-contract/cluster-tokens.ts) return {tenant, cluster} and reach only that cluster:
// the token names its cluster, and that cluster's DO verifies `tokenDigest` against the digests it
// stored at minting (so verification costs no extra round trip). A cluster token of a tenant that is
// no longer configured is refused here.
import { digestsEqual, looksLikeClusterToken, parseClusterToken, tokenDigest } from "../edge-contract/cluster-tokens.js";

export type Principal =
  | { tenant: string; cluster?: undefined }
  | { tenant: string; cluster: { namespace: string; name: string; tokenDigest: string } };

interface TokenTable {
  /** Hex SHA-256 of each configured token. */
  entries: Array<{ digest: string; tenant: string }>;
  /** Tenant tokens already verified (token -> tenant): a SHA-256 per request was a visible share of the edge's CPU. */
  verified: Map<string, string>;
}

/** Bound on remembered tokens (only configured tenant tokens are remembered, so this is never reached in practice). */
const MAX_VERIFIED = 1024;

/** The table per env object: reading a binding off `env` costs workerd a copy of its value on every access. */
const byEnv = new WeakMap<object, TokenTable>();
async function tokenTable(env: Pick<Env, "CAPIM_EDGE_TOKENS">): Promise<TokenTable> {
  const known = byEnv.get(env);
  if (known) return known;
  const table = await tokenTableOf(env);
  byEnv.set(env, table);
  return table;
}

async function tokenTableOf(env: Pick<Env, "CAPIM_EDGE_TOKENS">): Promise<TokenTable> {
  const source = env.CAPIM_EDGE_TOKENS ?? "";
  let parsed: unknown = {};
  try {
    parsed = source ? JSON.parse(source) : {};
  } catch {
    console.error("CAPIM_EDGE_TOKENS is not valid JSON; no token will be accepted");
  }
  const entries: TokenTable["entries"] = [];
  if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
    for (const [token, tenant] of Object.entries(parsed as Record<string, unknown>)) {
      // Empty tokens or tenants would make every request (or a nameless tenant) valid: skip them.
      if (token && typeof tenant === "string" && tenant) entries.push({ digest: await tokenDigest(token), tenant });
    }
  }
  return { entries, verified: new Map() };
}

/** Returns the caller, or null when the token is missing or unknown. */
export async function authenticate(req: Request, env: Pick<Env, "CAPIM_EDGE_TOKENS">): Promise<Principal | null> {
  const header = req.headers.get("authorization") ?? "";
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return null;
  const table = await tokenTable(env);
  const known = table.verified.get(m[1]);
  if (known !== undefined) return { tenant: known };
  // Hash the presented token once and compare it with every configured digest (no early exit).
  const digest = await tokenDigest(m[1]);
  let tenant: string | null = null;
  for (const e of table.entries) {
    if (digestsEqual(digest, e.digest) && tenant === null) tenant = e.tenant;
  }
  if (tenant !== null) {
    if (table.verified.size >= MAX_VERIFIED) table.verified.clear();
    table.verified.set(m[1], tenant);
    return { tenant };
  }
  if (!looksLikeClusterToken(m[1])) return null;
  const id = parseClusterToken(m[1]);
  if (!id || !table.entries.some((e) => e.tenant === id.tenant)) return null;
  return { tenant: id.tenant, cluster: { namespace: id.namespace, name: id.name, tokenDigest: digest } };
}
