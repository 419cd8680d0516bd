// Persistence of one workload cluster's API state in its Durable Object's SQLite database.
// Synchronous like the DO SQL API, so a write is stored before the response that acknowledges it
// exists (and the DO output gate holds the response until SQLite has committed). The tables are
// created by durable-objects/schema.ts.
import { storedJson } from "./apiserver/object-json.js";
import { objectKeyString, type EventRecord, type KubeObject, type ObjectKey, type Persistence, type PersistedState } from "./apiserver/types.js";

/** The part of DurableObjectStorage this module uses (kept narrow so it is easy to see what is touched). */
export interface SqliteStorage {
  sql: SqlStorage;
  transactionSync<T>(fn: () => T): T;
}

/** Writes between two trims of the event table. */
const TRIM_EVERY = 64;

/**
 * An event's body when it is the object row's current version: most events are, and SQLite's page cache
 * held every such body twice (~40 KB of workerd RSS per live cluster of 37 objects). A real body is
 * never empty (it is a JSON object), and `body` is NOT NULL since version 1, so no migration is needed.
 */
const IN_OBJECT_ROW = "";

export class SqlitePersistence implements Persistence {
  constructor(private readonly storage: SqliteStorage) {}

  getMeta(k: string): string | undefined {
    const row = this.storage.sql.exec<{ v: string }>(`SELECT v FROM capim_meta WHERE k = ?`, k).toArray()[0];
    return row?.v;
  }

  setMeta(k: string, v: string): void {
    this.storage.sql.exec(`INSERT INTO capim_meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`, k, v);
  }

  deleteMeta(k: string): void {
    this.storage.sql.exec(`DELETE FROM capim_meta WHERE k = ?`, k);
  }

  load(): PersistedState {
    const sql = this.storage.sql;
    // Every write stores an event under its rv and trims only older ones, so the newest event carries the
    // counter; `meta.rv` is what databases written before that was relied on held.
    const latest = sql.exec<{ rv: number | null }>(`SELECT MAX(rv) AS rv FROM capim_events`).toArray()[0]?.rv;
    const rv = Math.max(Number(this.getMeta("rv") ?? 0), Number(latest ?? 0));
    const objects = sql
      .exec<{ grp: string; resource: string; ns: string; name: string; body: string }>(
        `SELECT grp, resource, ns, name, body FROM capim_objects`,
      )
      .toArray()
      .map((r) => ({ key: { group: r.grp, resource: r.resource, namespace: r.ns, name: r.name }, object: JSON.parse(r.body) as KubeObject }));
    const current = new Map(objects.map((o) => [objectKeyString(o.key), o.object]));
    let events: EventRecord[] = [];
    for (const r of sql.exec<{ rv: number; type: string; grp: string; resource: string; ns: string; name: string; body: string }>(
      `SELECT rv, type, grp, resource, ns, name, body FROM capim_events ORDER BY rv`,
    )) {
      const key = { group: r.grp, resource: r.resource, namespace: r.ns, name: r.name };
      const eventRv = Number(r.rv);
      const object = r.body === IN_OBJECT_ROW ? current.get(objectKeyString(key)) : (JSON.parse(r.body) as KubeObject);
      // An event whose version is no longer anywhere cannot be replayed, nor can anything before it: the
      // log starts after it (a watch from an older resourceVersion gets 410 and relists). commit never
      // leaves one behind; this guards against a database that says otherwise.
      if (!object || (r.body === IN_OBJECT_ROW && object.metadata?.resourceVersion !== String(eventRv))) events = [];
      else events.push({ rv: eventRv, type: r.type as EventRecord["type"], key, object });
    }
    return { rv, objects, events };
  }

  commit(event: EventRecord, keepFromRv: number, replacedRv?: number): void {
    const { sql } = this.storage;
    const k: ObjectKey = event.key;
    const body = storedJson(event.object);
    this.storage.transactionSync(() => {
      // The replaced version's event may point at the object row: give it its own copy before the row
      // changes (a no-op when it already has one or was trimmed).
      if (replacedRv !== undefined) {
        sql.exec(
          `UPDATE capim_events SET body = (SELECT body FROM capim_objects WHERE grp = ? AND resource = ? AND ns = ? AND name = ?)
           WHERE rv = ? AND body = ?`,
          k.group, k.resource, k.namespace, k.name, replacedRv, IN_OBJECT_ROW,
        );
      }
      if (event.type === "DELETED") {
        sql.exec(`DELETE FROM capim_objects WHERE grp = ? AND resource = ? AND ns = ? AND name = ?`, k.group, k.resource, k.namespace, k.name);
      } else {
        sql.exec(
          `INSERT INTO capim_objects (grp, resource, ns, name, body) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (grp, resource, ns, name) DO UPDATE SET body = excluded.body`,
          k.group, k.resource, k.namespace, k.name, body,
        );
      }
      sql.exec(
        `INSERT OR REPLACE INTO capim_events (rv, type, grp, resource, ns, name, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        event.rv, event.type, k.group, k.resource, k.namespace, k.name, event.type === "DELETED" ? body : IN_OBJECT_ROW,
      );
      // Keep only what the store's log still holds (a count and a 75 s window): the table is read back
      // only to resume watches after a restart. Trimming by count alone kept ~1 MB of old bodies per
      // cluster, and SQLite's page cache grew with it (+75 MB of workerd RSS over 5 minutes on 50
      // clusters in the soak bench). A range delete on the primary key touches only the rows it removes; finding the cut with
      // `ORDER BY rv DESC LIMIT 1 OFFSET n` walked n index entries on every write and was a third of the
      // edge's CPU under a write-heavy load. It runs every TRIM_EVERY writes, so most writes are two
      // statements (the table holds at most TRIM_EVERY - 1 extra rows). The counter is not written
      // separately either: the newest event carries it (see load).
      if (event.rv % TRIM_EVERY === 0) sql.exec(`DELETE FROM capim_events WHERE rv < ?`, Math.min(keepFromRv, event.rv));
    });
  }

  clear(): void {
    const { sql } = this.storage;
    this.storage.transactionSync(() => {
      sql.exec(`DELETE FROM capim_objects`);
      sql.exec(`DELETE FROM capim_events`);
      sql.exec(`DELETE FROM capim_meta`);
    });
  }
}
