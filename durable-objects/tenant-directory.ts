// The TenantDirectory Durable Object (one per tenant): the names of a tenant's clusters, so the admin
// API can list them without waking every cluster DO. Called over DO RPC by the worker.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../worker/env.js";

export interface DirectoryEntry {
  namespace: string;
  name: string;
  createdAt: string;
  kubernetesVersion: string;
}

export class TenantDirectory extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS clusters (ns TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL,
         kubernetes_version TEXT NOT NULL, PRIMARY KEY (ns, name))`,
    );
  }

  record(e: DirectoryEntry): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO clusters (ns, name, created_at, kubernetes_version) VALUES (?, ?, ?, ?)
       ON CONFLICT (ns, name) DO UPDATE SET created_at = excluded.created_at, kubernetes_version = excluded.kubernetes_version`,
      e.namespace, e.name, e.createdAt, e.kubernetesVersion,
    );
  }

  remove(namespace: string, name: string): boolean {
    const cur = this.ctx.storage.sql.exec(`DELETE FROM clusters WHERE ns = ? AND name = ?`, namespace, name);
    return cur.rowsWritten > 0;
  }

  list(namespace?: string): DirectoryEntry[] {
    const rows = namespace === undefined
      ? this.ctx.storage.sql.exec<Record<string, string>>(`SELECT * FROM clusters ORDER BY ns, name`).toArray()
      : this.ctx.storage.sql.exec<Record<string, string>>(`SELECT * FROM clusters WHERE ns = ? ORDER BY name`, namespace).toArray();
    return rows.map((r) => ({ namespace: r.ns, name: r.name, createdAt: r.created_at, kubernetesVersion: r.kubernetes_version }));
  }
}
