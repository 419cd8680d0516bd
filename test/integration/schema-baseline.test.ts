// A new cluster's database is made by WORKLOAD_CLUSTER_BASELINE in one step, an old one is brought up by
// the numbered migrations (test/integration/state-migration.test.ts): both must end at the same tables,
// columns, keys and indexes. Checked on real Durable Object SQLite (workerd via Miniflare), one object
// per way, each describing its own schema through SQLite's pragmas.
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleInlineWorker } from "../helpers/inline-worker.js";

const ENTRY = `
import { DurableObject } from "cloudflare:workers";
import { WORKLOAD_CLUSTER_BASELINE, WORKLOAD_CLUSTER_MIGRATIONS, migrate } from "./durable-objects/schema.js";

export class Schema extends DurableObject {
  async fetch(request) {
    const way = new URL(request.url).pathname.slice(1);
    const sql = this.ctx.storage.sql;
    const version = way === "baseline"
      ? migrate(this.ctx.storage, WORKLOAD_CLUSTER_MIGRATIONS, WORKLOAD_CLUSTER_BASELINE)
      : migrate(this.ctx.storage, WORKLOAD_CLUSTER_MIGRATIONS);
    const tables = sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT LIKE '_cf%' ORDER BY name").toArray();
    const described = tables.map(({ name }) => ({
      name,
      columns: sql.exec("SELECT name, type, \\"notnull\\", dflt_value, pk FROM pragma_table_info(?)", name).toArray(),
      // Automatic indexes (primary keys, UNIQUE) are named after the table they were made for: compared
      // by what they index; indexes created by name, by name.
      indexes: sql.exec("SELECT name, origin, \\"unique\\", partial FROM pragma_index_list(?)", name).toArray()
        .map((ix) => ({
          name: ix.origin === "c" ? ix.name : undefined,
          origin: ix.origin,
          unique: ix.unique,
          partial: ix.partial,
          columns: sql.exec("SELECT name FROM pragma_index_info(?) ORDER BY seqno", ix.name).toArray().map((c) => c.name),
        }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      checks: /CHECK\\s*\\([^)]*\\)/.exec(sql.exec("SELECT sql FROM sqlite_master WHERE name = ?", name).toArray()[0].sql)?.[0] ?? null,
    }));
    return Response.json({ version, tables: described });
  }
}
export default {
  fetch(request, env) {
    const way = new URL(request.url).pathname.slice(1);
    return env.SCHEMA.get(env.SCHEMA.idFromName(way)).fetch(request);
  },
};
`;

let mf: Miniflare | undefined;

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: await bundleInlineWorker(ENTRY, "schema-entry.js"),
    compatibilityDate: "2025-04-01",
    durableObjects: { SCHEMA: { className: "Schema", useSQLite: true } },
  });
  await mf.ready;
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
});

async function describeSchema(way: "steps" | "baseline") {
  const res = await mf!.dispatchFetch(`http://schema/${way}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { version: number; tables: Array<{ name: string; columns: unknown[]; indexes: unknown[] }> };
}

describe("the WorkloadCluster baseline schema", () => {
  it("leaves the same tables, columns, keys and indexes as the migrations, at the same version", async () => {
    const steps = await describeSchema("steps");
    const baseline = await describeSchema("baseline");
    expect(steps.tables.map((t) => t.name)).toContain("capim_objects");
    expect(steps.tables.find((t) => t.name === "capim_machines")!.indexes).toContainEqual(expect.objectContaining({ name: "capim_machines_next_due" }));
    expect(baseline).toEqual(steps);
  });

  it("runs again as a no-op on the database it made", async () => {
    const first = await describeSchema("baseline");
    expect(await describeSchema("baseline")).toEqual(first);
  });
});
