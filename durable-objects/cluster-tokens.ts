// The digests of a cluster's per-cluster tokens, in the cluster DO's SQLite (the tokens themselves
// are returned to the caller once and never stored). Deleting or expiring the cluster wipes the
// table with the rest of the storage, which revokes every token of that cluster.
import { digestsEqual, mintClusterToken, tokenDigest } from "../edge-contract/cluster-tokens.js";
import type { ClusterId } from "../edge-contract/cluster-id.js";
import type { SqlLike } from "./ttl.js";

/** Bounds the table when a job keeps asking for kubeconfigs. */
export const MAX_TOKENS_PER_CLUSTER = 100;

export class ClusterTokenStore {
  constructor(private readonly sql: SqlLike) {}

  count(): number {
    return Number(this.sql.exec("SELECT COUNT(*) AS n FROM capim_cluster_tokens").toArray()[0]?.n ?? 0);
  }

  /** Mints a token for `id`, stores its digest and returns the token; undefined when the cap is reached. */
  async mint(id: ClusterId, now: Date): Promise<string | undefined> {
    if (this.count() >= MAX_TOKENS_PER_CLUSTER) return undefined;
    const token = mintClusterToken(id);
    this.sql.exec("INSERT INTO capim_cluster_tokens (digest, created_at) VALUES (?, ?)", await tokenDigest(token), now.toISOString());
    return token;
  }

  /** True when `digest` belongs to one of this cluster's tokens (compared without early exit). */
  verify(digest: string): boolean {
    let ok = false;
    for (const row of this.sql.exec("SELECT digest FROM capim_cluster_tokens").toArray()) {
      if (digestsEqual(String(row.digest), digest)) ok = true;
    }
    return ok;
  }
}
