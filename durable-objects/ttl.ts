// Expiry bookkeeping for ephemeral clusters: the expiry time lives in the cluster DO's SQLite (so it
// survives eviction and edge restarts) and is wiped with the rest of the storage. The DO has ONE
// alarm, shared with the machine timeline: the DO feeds `expiresAt` into its alarm scheduler as the
// source "expiry" (see WorkloadCluster.scheduleAlarm), which arms the earliest deadline.
// No Worker or Node imports: `sql` is the DO's SqlStorage shape.

/** The part of SqlStorage used here. */
export interface SqlLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  exec(query: string, ...bindings: any[]): { toArray(): any[] };
}

/** The alarm-scheduler source name of the expiry deadline. */
export const EXPIRY_ALARM = "expiry";

export class ClusterExpiry {
  /** The stored value once read (every request checks expiry; SQLite is the truth, this a copy). */
  private known: { at: number | null } | undefined;

  constructor(private readonly sql: SqlLike) {}

  /** Drop the in-memory copy (the DO's storage was wiped). */
  forget(): void {
    this.known = undefined;
  }

  /** Epoch ms, or null for a cluster without TTL (also when the table does not exist yet). */
  get expiresAt(): number | null {
    if (this.known) return this.known.at;
    this.known = { at: this.read() };
    return this.known.at;
  }

  private read(): number | null {
    const exists = this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'capim_ttl'").toArray().length > 0;
    if (!exists) return null;
    const row = this.sql.exec("SELECT expires_at FROM capim_ttl WHERE id = 1").toArray()[0];
    return row ? Number(row.expires_at) : null;
  }

  /** Expire `ttlSeconds` after `now` (null: never); returns the new expiry. */
  setTtl(ttlSeconds: number | null, now: number): number | null {
    this.known = undefined; // re-read if the write below throws
    if (ttlSeconds === null) {
      this.sql.exec("DELETE FROM capim_ttl");
      this.known = { at: null };
      return null;
    }
    const at = now + ttlSeconds * 1000;
    this.sql.exec("INSERT INTO capim_ttl (id, expires_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at", at);
    this.known = { at };
    return at;
  }

  isExpired(now: number): boolean {
    const at = this.expiresAt;
    return at !== null && at <= now;
  }
}
