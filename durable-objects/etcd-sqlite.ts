// EtcdStore over a Durable Object's SQLite storage: one meta row (cluster id, leader, term, faults as
// JSON) and one row per member. Member ids are TEXT: they are uint64s above SQLite's int64 range.
import type { EtcdMemberRecord, EtcdMeta, EtcdStore } from "./etcd/members.js";
import type { SqlStorageLike } from "./machines-sqlite.js";

export class SqliteEtcdStore implements EtcdStore {
  /** The tables are created by durable-objects/schema.ts. */
  constructor(private readonly sql: SqlStorageLike) {}

  getMeta(): EtcdMeta | undefined {
    const rows = this.sql.exec("SELECT data FROM capim_etcd_meta WHERE k = 1").toArray();
    return rows.length ? (JSON.parse(rows[0].data as string) as EtcdMeta) : undefined;
  }

  putMeta(meta: EtcdMeta): void {
    this.sql.exec(
      "INSERT INTO capim_etcd_meta (k, data) VALUES (1, ?) ON CONFLICT (k) DO UPDATE SET data = excluded.data",
      JSON.stringify(meta),
    );
  }

  listMembers(): EtcdMemberRecord[] {
    return this.sql
      .exec("SELECT id, name, removed, seq FROM capim_etcd_members ORDER BY seq")
      .toArray()
      .map((r) => ({ id: String(r.id), name: String(r.name), removed: Number(r.removed) !== 0, seq: Number(r.seq) }));
  }

  putMember(m: EtcdMemberRecord): void {
    this.sql.exec(
      "INSERT INTO capim_etcd_members (id, name, removed, seq) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name, removed = excluded.removed, seq = excluded.seq",
      m.id,
      m.name,
      m.removed ? 1 : 0,
      m.seq,
    );
  }

  deleteMember(id: string): void {
    this.sql.exec("DELETE FROM capim_etcd_members WHERE id = ?", id);
  }

  clear(): void {
    this.sql.exec("DELETE FROM capim_etcd_members");
    this.sql.exec("DELETE FROM capim_etcd_meta");
  }
}
