// A state directory written before the schema had versions (test/fixtures/edge-state-v0, made by
// test/fixtures/make-edge-state.ts at commit 58017bb) opened by today's edge: every table is upgraded
// in place on first use, and everything the old edge stored reads back the same. kubectl and
// the admin API sees machines, etcd faults, TTL and labels; the old cluster token still works; a second
// start serves the same. Today's code reads only the renamed tables (version 2 renamed `meta`,
// `objects`, `events` and `clusters`), so reading anything back proves the migration ran.
import { cpSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, edgeFetch, spawnEdge, tempDir, type SpawnedEdge } from "../helpers/edge.js";
import { FIXTURE_TOKEN } from "../fixtures/make-edge-state.js";

const FIXTURE = path.join(ROOT, "test/fixtures/edge-state-v0");
let stateDir: string;
let edge: SpawnedEdge | undefined;

beforeAll(() => {
  stateDir = tempDir("capim-migrate-");
  cpSync(FIXTURE, stateDir, { recursive: true });
});
afterAll(async () => {
  await edge?.stop();
});

describe("state written before schema versions", () => {
  it("is upgraded in place and reads back unchanged", async () => {
    edge = await spawnEdge({ stateDir, keepState: true, tokens: { [FIXTURE_TOKEN]: "fixture" } });

    const list = await (await edgeFetch(edge, "/admin/clusters")).json();
    expect(list.items.map((c: { name: string }) => c.name)).toEqual(["old", "plain"]);
    const old = list.items.find((c: { name: string }) => c.name === "old");
    expect(old.expiresAt).toBeDefined();

    const info = await (await edgeFetch(edge, "/admin/clusters/default/old")).json();
    expect(info).toMatchObject({ tenant: "fixture", kubernetesVersion: "v1.31.0", labels: { made: "v0" }, expiresAt: old.expiresAt });

    const cms = await (await edgeFetch(edge, "/clusters/default/old/api/v1/namespaces/default/configmaps")).json();
    expect(cms.items.map((c: { metadata: { name: string } }) => c.metadata.name)).toEqual(["cm-0", "cm-1", "cm-2"]);
    expect(cms.items[1].data).toEqual({ i: "1" });
    // The resourceVersion counter continues where it was: a new write gets a higher one.
    const created = await edgeFetch(edge, "/clusters/default/old/api/v1/namespaces/default/configmaps", {
      method: "POST",
      body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm-new" } }),
      headers: { "content-type": "application/json" },
    });
    expect(created.status).toBe(201);
    expect(Number((await created.json()).metadata.resourceVersion)).toBeGreaterThan(Number(cms.metadata.resourceVersion));

    const machines = await (await edgeFetch(edge, "/admin/clusters/default/old/machines")).json();
    expect(machines.items.map((m: { name: string; ready: boolean }) => [m.name, m.ready])).toEqual([["cp-0", true], ["w-0", false]]);
    const etcd = await (await edgeFetch(edge, "/admin/clusters/default/old/etcd")).json();
    expect(etcd.members.map((m: { name: string }) => m.name)).toEqual(["cp-0"]);
    expect(etcd.faults.alarms).toEqual([expect.objectContaining({ memberName: "cp-0", alarm: "NOSPACE" })]);

    // The cluster token minted by the old edge still reaches its cluster, and only it.
    const token = readFileSync(path.join(FIXTURE, "cluster-token.txt"), "utf8").trim();
    expect((await edgeFetch(edge, "/clusters/default/old/api/v1/nodes", { token })).status).toBe(200);
    expect((await edgeFetch(edge, "/clusters/default/plain/api/v1/nodes", { token })).status).toBe(403);
  });

  it("a restart finds the state current and serves it the same", async () => {
    await edge!.stop();
    edge = await spawnEdge({ stateDir, keepState: true, tokens: { [FIXTURE_TOKEN]: "fixture" } });
    const cms = await (await edgeFetch(edge, "/clusters/default/old/api/v1/namespaces/default/configmaps")).json();
    expect(cms.items.map((c: { metadata: { name: string } }) => c.metadata.name)).toEqual(["cm-0", "cm-1", "cm-2", "cm-new"]);
  });
});
