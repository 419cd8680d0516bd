// MachineStore over a Durable Object's SQLite storage (ctx.storage.sql). Takes any object with the
// SqlStorage `exec` shape, so this file needs no Worker imports. One row per machine: the record as
// JSON plus the two columns the alarm logic queries (creation order, earliest pending due time).
import type { MachineStore } from "./machines/store.js";
import { nextDueAt, type MachineRecord } from "./machines/timeline.js";

/** The part of Cloudflare's SqlStorage used here. */
export interface SqlStorageLike {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  exec(query: string, ...bindings: any[]): { toArray(): any[] };
}

export class SqliteMachineStore implements MachineStore {
  /** The table is created by durable-objects/schema.ts. */
  constructor(private readonly sql: SqlStorageLike) {}

  get(name: string): MachineRecord | undefined {
    const rows = this.sql.exec("SELECT data FROM capim_machines WHERE name = ?", name).toArray();
    return rows.length ? (JSON.parse(rows[0].data as string) as MachineRecord) : undefined;
  }

  list(): MachineRecord[] {
    return this.sql
      .exec("SELECT data FROM capim_machines ORDER BY created_at, name")
      .toArray()
      .map((r) => JSON.parse(r.data as string) as MachineRecord);
  }

  put(rec: MachineRecord): void {
    this.sql.exec(
      "INSERT INTO capim_machines (name, created_at, next_due, data) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (name) DO UPDATE SET created_at = excluded.created_at, next_due = excluded.next_due, data = excluded.data",
      rec.name,
      rec.createdAt,
      nextDueAt(rec),
      JSON.stringify(rec),
    );
  }

  delete(name: string): boolean {
    const existed = this.sql.exec("SELECT 1 AS x FROM capim_machines WHERE name = ?", name).toArray().length > 0;
    if (existed) this.sql.exec("DELETE FROM capim_machines WHERE name = ?", name);
    return existed;
  }

  listDue(now: number): MachineRecord[] {
    return this.sql
      .exec("SELECT data FROM capim_machines WHERE next_due IS NOT NULL AND next_due <= ? ORDER BY created_at, name", now)
      .toArray()
      .map((r) => JSON.parse(r.data as string) as MachineRecord);
  }

  nextDueAt(): number | null {
    const rows = this.sql.exec("SELECT MIN(next_due) AS next FROM capim_machines").toArray();
    const v = rows[0]?.next;
    return v === null || v === undefined ? null : Number(v);
  }

  clear(): void {
    this.sql.exec("DELETE FROM capim_machines");
  }
}
