// The TenantDirectory Durable Object (one per tenant): the names of a tenant's clusters, so the admin
// API can list them without waking every cluster DO. Called over DO RPC by the worker.
// Also the per-tenant cluster count for the maxClusters limit: `reserve` checks and claims a slot in
// one DO turn (RPC calls to one DO are serialized), so concurrent creates cannot overshoot. Expired
// clusters (expires_at passed; their DO deletes itself and then calls `remove`) neither count nor list.
import { DurableObject } from "cloudflare:workers";
import { TENANT_DIRECTORY_MIGRATIONS, migrate } from "./schema.js";

export interface DirectoryEntry {
  namespace: string;
  name: string;
  createdAt: string;
  kubernetesVersion: string;
  /** ISO time the cluster expires at; absent for clusters without TTL. */
  expiresAt?: string;
}

export type ReserveResult = "reserved" | "exists" | "full";

export class TenantDirectory extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, TENANT_DIRECTORY_MIGRATIONS);
  }

  /**
   * Claims a slot for a new cluster unless the tenant already has `max` live clusters. A reserved row
   * has an empty created_at (hidden from listings) until `record`; `release` drops it if creation fails.
   */
  reserve(namespace: string, name: string, max: number, now: number): ReserveResult {
    const sql = this.ctx.storage.sql;
    if (sql.exec(`SELECT 1 FROM capim_clusters WHERE ns = ? AND name = ?`, namespace, name).toArray().length) return "exists";
    const live = sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM capim_clusters WHERE expires_at IS NULL OR expires_at > ?`, now).one().n;
    if (live >= max) return "full";
    sql.exec(`INSERT INTO capim_clusters (ns, name, created_at, kubernetes_version) VALUES (?, ?, '', '')`, namespace, name);
    return "reserved";
  }

  /** Drops a reservation that did not become a cluster (a recorded cluster is left alone). */
  release(namespace: string, name: string): void {
    this.ctx.storage.sql.exec(`DELETE FROM capim_clusters WHERE ns = ? AND name = ? AND created_at = ''`, namespace, name);
  }

  setExpiry(namespace: string, name: string, expiresAt: string | undefined): void {
    this.ctx.storage.sql.exec(
      `UPDATE capim_clusters SET expires_at = ? WHERE ns = ? AND name = ?`,
      expiresAt ? Date.parse(expiresAt) : null, namespace, name,
    );
  }

  /** Clusters past their expiry whose DO has not removed them yet (e.g. the edge was down at expiry). */
  expired(now: number, limit = 20): Array<{ namespace: string; name: string }> {
    return this.ctx.storage.sql
      .exec<{ ns: string; name: string }>(`SELECT ns, name FROM capim_clusters WHERE expires_at <= ? LIMIT ?`, now, limit)
      .toArray()
      .map((r) => ({ namespace: r.ns, name: r.name }));
  }

  record(e: DirectoryEntry): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO capim_clusters (ns, name, created_at, kubernetes_version, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (ns, name) DO UPDATE SET created_at = excluded.created_at, kubernetes_version = excluded.kubernetes_version,
         expires_at = excluded.expires_at`,
      e.namespace, e.name, e.createdAt, e.kubernetesVersion, e.expiresAt ? Date.parse(e.expiresAt) : null,
    );
  }

  remove(namespace: string, name: string): boolean {
    const cur = this.ctx.storage.sql.exec(`DELETE FROM capim_clusters WHERE ns = ? AND name = ?`, namespace, name);
    return cur.rowsWritten > 0;
  }

  list(namespace?: string, now = Date.now()): DirectoryEntry[] {
    // Reservations (empty created_at) and expired clusters are not listed.
    const live = `created_at != '' AND (expires_at IS NULL OR expires_at > ?)`;
    const rows = namespace === undefined
      ? this.ctx.storage.sql.exec<Record<string, string | number | null>>(`SELECT * FROM capim_clusters WHERE ${live} ORDER BY ns, name`, now).toArray()
      : this.ctx.storage.sql.exec<Record<string, string | number | null>>(`SELECT * FROM capim_clusters WHERE ns = ? AND ${live} ORDER BY name`, namespace, now).toArray();
    return rows.map((r) => ({
      namespace: String(r.ns),
      name: String(r.name),
      createdAt: String(r.created_at),
      kubernetesVersion: String(r.kubernetes_version),
      ...(r.expires_at === null || r.expires_at === undefined ? {} : { expiresAt: new Date(Number(r.expires_at)).toISOString() }),
    }));
  }
}
