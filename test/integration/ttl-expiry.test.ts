// TTL of ephemeral clusters: a cluster created with a short --ttl is gone after it (404 Status for
// its kubeconfig and the admin API, not listed), also when the edge was restarted in between or was
// down at the moment of expiry; `cluster extend` moves the expiry; clusters around it are untouched.
import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { edgeFetch, newToken, spawnEdge, tempDir, type SpawnedEdge } from "../helpers/edge.js";
import { capim, cliEnv, kubectl } from "../helpers/cli.js";

const TOKEN = newToken();
const tokens = { [TOKEN]: "ci" };
const dir = tempDir("capim-ttl-");
const stateDir = path.join(dir, "state");
let edge: SpawnedEdge | undefined;

afterAll(async () => {
  await edge?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (without touching the edge) until the wall clock is past `iso` plus a margin. */
async function waitPast(iso: string, marginMs = 1500) {
  const left = Date.parse(iso) + marginMs - Date.now();
  if (left > 0) await sleep(left);
}

let created = 0;
async function create(e: SpawnedEdge, name: string, ttl: string) {
  const kc = path.join(dir, `${name}-${++created}.kubeconfig`);
  const r = await capim(["cluster", "create", name, "--ttl", ttl, "--kubeconfig", kc, "-o", "json"], cliEnv(e, TOKEN));
  expect(r.code, r.stderr).toBe(0);
  const info = JSON.parse(r.stdout) as { expiresAt?: string };
  const cm = await kubectl("1.32", kc, ["create", "configmap", `data-of-${name}`]);
  expect(cm.code, cm.stderr).toBe(0);
  return { kc, expiresAt: info.expiresAt };
}

/** kubectl against the (possibly restarted) edge, whose port changed: --server overrides the kubeconfig's. */
function kubectlAt(e: SpawnedEdge, kc: string, name: string, args: string[]) {
  return kubectl("1.29", kc, ["--server", `${e.httpsUrl}/clusters/default/${name}`, ...args]);
}

async function expectGone(e: SpawnedEdge, name: string, kc: string) {
  const k = await kubectlAt(e, kc, name, ["get", "configmaps"]);
  expect(k.code).not.toBe(0);
  expect(k.stderr).toMatch(/NotFound|not found/);
  const api = await edgeFetch(e, `/clusters/default/${name}/api/v1/namespaces/default/configmaps`);
  expect(api.status).toBe(404);
  expect(await api.json()).toMatchObject({ kind: "Status", code: 404, reason: "NotFound" });
  const get = await capim(["cluster", "get", name], cliEnv(e, TOKEN));
  expect(get.code).toBe(1);
  expect(get.stderr).toContain("404 NotFound");
}

async function listed(e: SpawnedEdge): Promise<string[]> {
  const r = await capim(["cluster", "list", "-o", "json"], cliEnv(e, TOKEN));
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout).items as Array<{ name: string }>).map((i) => i.name).sort();
}

async function stillThere(e: SpawnedEdge, name: string, kc: string) {
  const k = await kubectlAt(e, kc, name, ["get", "configmap", `data-of-${name}`, "-o", "name"]);
  expect(k.code, k.stderr).toBe(0);
  expect(k.stdout.trim()).toBe(`configmap/data-of-${name}`);
}

describe("cluster TTL", () => {
  it("expires a cluster, leaves its neighbours alone, and honours extend", async () => {
    edge = await spawnEdge({ tokens, stateDir, keepState: true });
    // "extended" is extended long before its own expiry: its TTL leaves room for two more CLI creates
    // on a loaded machine (a 3 s one once expired before the extend arrived).
    const extended = await create(edge, "extended", "20s");
    const short = await create(edge, "short", "3s");
    const keep = await create(edge, "keep", "30m");
    expect(short.expiresAt).toBeDefined();

    const ext = await capim(["cluster", "extend", "extended", "--ttl", "20m", "-o", "json"], cliEnv(edge, TOKEN));
    expect(ext.code, ext.stderr).toBe(0);
    expect(Date.parse(JSON.parse(ext.stdout).expiresAt)).toBeGreaterThan(Date.parse(extended.expiresAt!) + 60_000);

    // Wait past the expiry without touching the edge: the DO alarm deletes the cluster.
    await waitPast(short.expiresAt!);
    expect(await listed(edge)).toEqual(["extended", "keep"]);
    await expectGone(edge, "short", short.kc);
    await stillThere(edge, "extended", extended.kc);
    await stillThere(edge, "keep", keep.kc);

    // The name is free again, and a new cluster under it starts empty (the old state was wiped).
    const again = await create(edge, "short", "30m");
    const objects = await kubectlAt(edge, again.kc, "short", ["get", "configmaps", "-o", "name"]);
    expect(objects.stdout.trim()).toBe("configmap/data-of-short");
    // The expired cluster's old token is dead even though the name exists again.
    const oldToken = await kubectlAt(edge, short.kc, "short", ["get", "configmaps"]);
    expect(oldToken.code).not.toBe(0);
    expect(oldToken.stderr).toMatch(/Unauthorized|must be logged in/);
    for (const n of ["short", "extended", "keep"]) expect((await capim(["cluster", "delete", n], cliEnv(edge, TOKEN))).code).toBe(0);
  });

  it("expiry survives restarts: edge down at the moment of expiry, and restarted before it", async () => {
    edge ??= await spawnEdge({ tokens, stateDir, keepState: true });
    // TTLs leave room for three CLI creates and an edge restart (~4 s together on a 2-core machine)
    // before the first expiry, and for a second restart after it before the second.
    const down = await create(edge, "down-at-expiry", "9s");
    const before = await create(edge, "restarted-before", "18s");
    const keep = await create(edge, "long-lived", "1h");

    // Restart #1 right away (before either expiry).
    expect(await edge.stop()).toBe(0);
    edge = await spawnEdge({ tokens, stateDir, keepState: true });
    await stillThere(edge, "down-at-expiry", down.kc);

    // Stop again and stay down past the first expiry.
    expect(await edge.stop()).toBe(0);
    await waitPast(down.expiresAt!);
    edge = await spawnEdge({ tokens, stateDir, keepState: true });
    await expectGone(edge, "down-at-expiry", down.kc);

    // The second cluster expires while this (restarted) edge is up, untouched in between.
    await waitPast(before.expiresAt!);
    expect(await listed(edge)).toEqual(["long-lived"]);
    await expectGone(edge, "restarted-before", before.kc);
    await stillThere(edge, "long-lived", keep.kc);
  });
});
