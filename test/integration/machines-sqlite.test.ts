// The SQLite-backed machine and etcd stores on real Durable Object SQLite (workerd via Miniflare):
// a tiny test DO runs ClusterMachines over SqliteMachineStore + SqliteEtcdStore, and a Miniflare
// restart over the same persist directory checks that timelines and etcd members survive.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleInlineWorker } from "../helpers/inline-worker.js";

// The test DO: a clock that only moves when told (stored, so it survives restarts too), an alarm
// recorded in storage, and ClusterMachines' admin calls by path (test/helpers/machines-admin.ts). The ApiServer is in memory (its own
// SQLite persistence is tested elsewhere); these tests look only at what the two stores keep.
const ENTRY = `
import { DurableObject } from "cloudflare:workers";
import { ApiServer } from "./durable-objects/apiserver/server.js";
import { MemoryPersistence } from "./durable-objects/apiserver/memory-persistence.js";
import { ClusterMachines } from "./durable-objects/machines/controller.js";
import { SqliteMachineStore } from "./durable-objects/machines-sqlite.js";
import { SqliteEtcdStore } from "./durable-objects/etcd-sqlite.js";
import { WORKLOAD_CLUSTER_MIGRATIONS, migrate } from "./durable-objects/schema.js";
import { adminCall } from "./test/helpers/machines-admin.js";

export class TestCluster extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    migrate(ctx.storage, WORKLOAD_CLUSTER_MIGRATIONS);
    sql.exec("CREATE TABLE IF NOT EXISTS t_clock (k INTEGER PRIMARY KEY, now REAL, alarm REAL)");
    sql.exec("INSERT OR IGNORE INTO t_clock (k, now, alarm) VALUES (1, ?, NULL)", Date.parse("2026-03-01T12:00:00Z"));
    const row = () => sql.exec("SELECT now, alarm FROM t_clock WHERE k = 1").toArray()[0];
    this.row = row;
    this.sql = sql;
    this.cm = new ClusterMachines({
      api: new ApiServer({ persistence: new MemoryPersistence() }),
      machines: new SqliteMachineStore(sql),
      etcd: new SqliteEtcdStore(sql),
      now: () => row().now,
      random: () => 0.5,
      setAlarm: (at) => sql.exec("UPDATE t_clock SET alarm = ? WHERE k = 1", at),
    });
  }
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/_test/advance") {
      const to = Number(url.searchParams.get("to"));
      this.sql.exec("UPDATE t_clock SET now = ? WHERE k = 1", to);
      this.cm.onAlarm();
      return Response.json(this.row());
    }
    if (url.pathname === "/_test/clock") return Response.json(this.row());
    if (url.pathname === "/_test/delete-all") { this.cm.deleteAll(); return Response.json({}); }
    const text = await request.text();
    const r = adminCall(this.cm, request.method, url.pathname.replace("/_admin", ""), text ? JSON.parse(text) : undefined);
    return Response.json(r.body, { status: r.status });
  }
}
export default {
  fetch(request, env) {
    return env.CLUSTER.get(env.CLUSTER.idFromName("c1")).fetch(request);
  },
};
`;

let script = "";
let persist = "";
let mf: Miniflare | undefined;

async function start() {
  mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: "2025-04-01",
    durableObjects: { CLUSTER: { className: "TestCluster", useSQLite: true } },
    durableObjectsPersist: persist,
  });
  await mf.ready;
}

async function call(method: string, p: string, body?: unknown) {
  const res = await mf!.dispatchFetch(`http://edge${p}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  script = await bundleInlineWorker(ENTRY, "test-entry.js");
  persist = mkdtempSync(path.join(os.tmpdir(), "capim-machines-sqlite-"));
  await start();
});

afterAll(async () => {
  await mf?.dispose();
  if (persist) rmSync(persist, { recursive: true, force: true });
});

const T0 = Date.parse("2026-03-01T12:00:00Z");

describe("SQLite machine and etcd stores in a Durable Object", () => {
  it("keeps timelines, alarms and etcd members across a restart", async () => {
    const prov = { vm: { startupDuration: "10s", startupJitter: "0.2" }, node: { startupDuration: "2s" } };
    const cp = await call("PUT", "/_admin/machines/cp-0", { controlPlane: true, version: "v1.31.0", provisioning: prov });
    expect(cp.status).toBe(201);
    expect(cp.body.steps.vm.dueAt).toBe(new Date(T0 + 11_000).toISOString());
    expect((await call("PUT", "/_admin/machines/w-0", { controlPlane: false, version: "v1.31.0", bootstrapped: true })).body.ready).toBe(true);
    expect((await call("GET", "/_test/clock")).body.alarm).toBe(T0 + 11_000);

    // VM and Node (etcd/apiServer have no wait) all run when the alarm passes their times.
    await call("POST", `/_test/advance?to=${T0 + 11_000}`);
    await call("POST", `/_test/advance?to=${T0 + 13_000}`);
    const ready = await call("GET", "/_admin/machines/cp-0");
    expect(ready.body.ready).toBe(true);
    expect((await call("GET", "/_test/clock")).body.alarm).toBeNull();
    const etcd = await call("GET", "/_admin/etcd");
    expect(etcd.body.members.map((m: any) => m.name)).toEqual(["cp-0"]);
    // 64-bit ids survive SQLite as text.
    expect(BigInt(etcd.body.members[0].id).toString()).toBe(etcd.body.members[0].id);

    await call("PUT", "/_admin/machines/cp-1", { controlPlane: true, version: "v1.31.0", provisioning: prov });
    await call("PUT", "/_admin/etcd/faults", { alarms: [{ memberName: "cp-0", alarm: "NOSPACE" }] });
    const before = await call("GET", "/_admin/machines");
    const etcdBefore = await call("GET", "/_admin/etcd");

    await mf!.dispose();
    mf = undefined;
    await start();

    const after = await call("GET", "/_admin/machines");
    expect(after.body.items).toEqual(before.body.items);
    const etcdAfter = await call("GET", "/_admin/etcd");
    const { revision: _r1, ...a } = etcdAfter.body;
    const { revision: _r2, ...b } = etcdBefore.body;
    expect(a).toEqual(b);
    expect(a.faults.alarms).toHaveLength(1);

    // The restarted instance continues cp-1's timeline from the stored due times.
    const due = Date.parse(before.body.items.find((m: any) => m.name === "cp-1").nextTransitionAt);
    expect((await call("GET", "/_test/clock")).body.alarm).toBe(due);
    await call("POST", `/_test/advance?to=${due + 60_000}`);
    const cp1 = await call("GET", "/_admin/machines/cp-1");
    expect(cp1.body.ready).toBe(true);
    expect((await call("GET", "/_admin/etcd")).body.members.map((m: any) => m.name)).toEqual(["cp-0", "cp-1"]);

    // Delete one machine, then everything.
    expect((await call("DELETE", "/_admin/machines/cp-0")).status).toBe(200);
    const left = await call("GET", "/_admin/etcd");
    expect(left.body.members.map((m: any) => m.name)).toEqual(["cp-1"]);
    expect(left.body.leaderId).toBe(left.body.members[0].id);
    await call("POST", "/_test/delete-all");
    expect((await call("GET", "/_admin/machines")).body.items).toEqual([]);
    expect((await call("GET", "/_admin/etcd")).body.members).toEqual([]);
  });
});
