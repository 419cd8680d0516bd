// Every table of the two Durable Objects' SQLite databases, as numbered migrations, and the one
// function that brings a database up to date. A DO runs `migrate` before it reads anything, so state
// written by any earlier version (including the unversioned state before this file existed) is
// upgraded in place on first use, and a new table or column is one more entry at the end of a list.
//
// The version lives in a one-row table: workerd refuses `PRAGMA user_version` (SQLITE_AUTH).
// Statements use the SqlStorage `exec` shape only, so this file needs no Worker imports.

export interface SqlExec {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  exec(query: string, ...bindings: any[]): { toArray(): any[] };
}

export interface SchemaStorage {
  sql: SqlExec;
  transactionSync<T>(fn: () => T): T;
}

export interface Migration {
  version: number;
  /** What the step changes, and why. */
  why: string;
  up: string[] | ((sql: SqlExec) => void);
}

const VERSION_TABLE = "capim_schema";

function tableExists(sql: SqlExec, name: string): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
}

/** The version a database is at: 0 for one written before versions were recorded (or an empty one). */
export function schemaVersion(sql: SqlExec): number {
  if (!tableExists(sql, VERSION_TABLE)) return 0;
  return Number(sql.exec(`SELECT version FROM ${VERSION_TABLE} WHERE k = 1`).toArray()[0]?.version ?? 0);
}

/**
 * The schema at some version created in one step, for a database that holds nothing yet: what the
 * migrations up to `version` would leave, without their history. Renaming tables costs a live Durable
 * Object memory for as long as it stays in memory (SQLite reloads its schema): in bench/floor.ts's stand-in
 * Durable Object the cluster tables made through version 2's renames cost 0.42 MB of workerd RSS per live
 * object, made directly 0.27 MB. A new cluster should not pay for the names the first release used.
 */
export interface Baseline {
  version: number;
  why: string;
  up: string[];
  /** True when the database holds none of this DO's state, at any version (the baseline may run). */
  isEmpty(sql: SqlExec): boolean;
}

function setVersion(sql: SqlExec, version: number): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (k INTEGER PRIMARY KEY CHECK (k = 1), version INTEGER NOT NULL)`);
  sql.exec(`INSERT INTO ${VERSION_TABLE} (k, version) VALUES (1, ?) ON CONFLICT (k) DO UPDATE SET version = excluded.version`, version);
}

/**
 * Brings the database to the newest version: an empty one straight to the baseline (when given), then
 * every migration above its version, each in its own transaction with its version bump.
 */
export function migrate(storage: SchemaStorage, migrations: readonly Migration[], baseline?: Baseline): number {
  let version = schemaVersion(storage.sql);
  if (baseline && version === 0 && baseline.isEmpty(storage.sql)) {
    storage.transactionSync(() => {
      for (const stmt of baseline.up) storage.sql.exec(stmt);
      setVersion(storage.sql, baseline.version);
    });
    version = baseline.version;
  }
  for (const m of migrations) {
    if (m.version <= version) continue;
    storage.transactionSync(() => {
      if (typeof m.up === "function") m.up(storage.sql);
      else for (const stmt of m.up) storage.sql.exec(stmt);
      setVersion(storage.sql, m.version);
    });
    version = m.version;
  }
  return version;
}

/** The newest version of a list (what `migrate` leaves a database at). */
export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((v, m) => Math.max(v, m.version), 0);
}

/** The tables as first released (version 1). */
const V1_TABLES = [
  `CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS objects (grp TEXT NOT NULL, resource TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
     body TEXT NOT NULL, PRIMARY KEY (grp, resource, ns, name))`,
  `CREATE TABLE IF NOT EXISTS events (rv INTEGER PRIMARY KEY, type TEXT NOT NULL, grp TEXT NOT NULL, resource TEXT NOT NULL,
     ns TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL)`,
  // Machines: the record as JSON plus the two columns the alarm logic queries.
  `CREATE TABLE IF NOT EXISTS capim_machines (name TEXT PRIMARY KEY, created_at REAL NOT NULL, next_due REAL, data TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS capim_machines_next_due ON capim_machines (next_due)`,
  // Fake etcd: one meta row and the members; ids are TEXT (uint64 exceeds SQLite's int64).
  `CREATE TABLE IF NOT EXISTS capim_etcd_meta (k INTEGER PRIMARY KEY CHECK (k = 1), data TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS capim_etcd_members (id TEXT PRIMARY KEY, name TEXT NOT NULL, removed INTEGER NOT NULL, seq INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS capim_cluster_tokens (digest TEXT PRIMARY KEY, created_at TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS capim_ttl (id INTEGER PRIMARY KEY CHECK (id = 1), expires_at REAL NOT NULL)`,
];

/** Version 2's renames, old name to new: a new cluster gets the new names directly (the baseline). */
const RENAMED_IN_V2: Readonly<Record<string, string>> = { meta: "capim_meta", objects: "capim_objects", events: "capim_events" };

/**
 * A WorkloadCluster DO's database. It holds a cluster once `capim_meta` (or, before version 2, `meta`)
 * exists; a DO that was only addressed stays without tables (see `hasClusterState`).
 */
export const WORKLOAD_CLUSTER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    why: "the tables as first released; IF NOT EXISTS adopts unversioned databases as they are",
    up: V1_TABLES,
  },
  {
    version: 2,
    why: "one naming style: the API state's tables get the capim_ prefix the others have",
    up: Object.entries(RENAMED_IN_V2).map(([from, to]) => `ALTER TABLE ${from} RENAME TO ${to}`),
  },
];

/**
 * A new cluster's tables at version 2: version 1's tables under the names version 2 gives them
 * (test/integration/schema-baseline.test.ts checks that both ways end at the same schema).
 */
export const WORKLOAD_CLUSTER_BASELINE: Baseline = {
  version: 2,
  why: "a new cluster's tables under their current names, without version 2's renames",
  up: V1_TABLES.map((stmt) => stmt.replace(/^CREATE TABLE IF NOT EXISTS (\w+) /, (_, table: string) => `CREATE TABLE IF NOT EXISTS ${RENAMED_IN_V2[table] ?? table} `)),
  // A DO that was only addressed has no tables; one with a cluster at any version has one of these.
  isEmpty: (sql) => !hasClusterState(sql),
};

/** True when the DO's database holds a cluster (at any version); reads sqlite_master only. */
export function hasClusterState(sql: SqlExec): boolean {
  return tableExists(sql, "capim_meta") || tableExists(sql, "meta");
}

/** A TenantDirectory DO's database: one row per cluster of the tenant. */
export const TENANT_DIRECTORY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    why: "the directory as first released",
    up: [
      `CREATE TABLE IF NOT EXISTS clusters (ns TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL,
         kubernetes_version TEXT NOT NULL, PRIMARY KEY (ns, name))`,
    ],
  },
  {
    version: 2,
    why: "ephemeral clusters: expiry in epoch ms (NULL: no TTL); unversioned databases may have it already",
    up: (sql) => {
      const cols = sql.exec(`PRAGMA table_info(clusters)`).toArray() as Array<{ name: string }>;
      if (!cols.some((c) => c.name === "expires_at")) sql.exec(`ALTER TABLE clusters ADD COLUMN expires_at REAL`);
    },
  },
  {
    version: 3,
    why: "one naming style across both DOs",
    up: [`ALTER TABLE clusters RENAME TO capim_clusters`],
  },
];
