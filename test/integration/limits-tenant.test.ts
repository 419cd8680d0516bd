// Per-tenant limits (CAPIM_EDGE_LIMITS): a "small" tenant hits maxClusters (429), maxObjectsPerCluster
// (429), maxBodyBytes (413) and maxTtlSeconds (422) with Kubernetes Status answers, through kubectl
// and the CLI; updates of existing objects still work at the limit; and another tenant on the same edge,
// with the default limits, is not affected at any point.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { edgeFetch, newToken, spawnEdge, tempDir, type SpawnedEdge } from "../helpers/edge.js";
import { capim, cliEnv, kubectl } from "../helpers/cli.js";

const SMALL = newToken();
const BIG = newToken();
const LIMITS = { small: { maxClusters: 2, maxObjectsPerCluster: 10, maxBodyBytes: 4096, maxTtlSeconds: 3600 } };
let edge: SpawnedEdge;
const dir = tempDir("capim-limits-");
const previous = process.env.CAPIM_EDGE_LIMITS;

beforeAll(async () => {
  // startEdge reads CAPIM_EDGE_LIMITS from its environment; spawnEdge passes ours on.
  process.env.CAPIM_EDGE_LIMITS = JSON.stringify(LIMITS);
  try {
    edge = await spawnEdge({ tokens: { [SMALL]: "small", [BIG]: "big" } });
  } finally {
    if (previous === undefined) delete process.env.CAPIM_EDGE_LIMITS;
    else process.env.CAPIM_EDGE_LIMITS = previous;
  }
});
afterAll(async () => {
  await edge?.stop();
});

async function status(res: Response) {
  const body = (await res.json()) as { kind: string; code: number; reason: string; message: string };
  expect(body.kind).toBe("Status");
  return body;
}

function put(token: string, name: string, body: unknown) {
  return edgeFetch(edge, `/admin/clusters/default/${name}`, {
    method: "PUT",
    token,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("tenant limits", () => {
  it("maxClusters and maxTtlSeconds: 429 and 422, other tenant unaffected", async () => {
    const small = cliEnv(edge, SMALL);
    // TTL above the maximum, or none at all, is Invalid for this tenant.
    const tooLong = await capim(["cluster", "create", "s0", "--ttl", "2h"], small);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toMatch(/^capim-edge: 422 Invalid: .*maxTtlSeconds/);
    const none = await status(await put(SMALL, "s0", {}));
    expect(none).toMatchObject({ code: 422, reason: "Invalid" });
    const createTooLong = await put(SMALL, "s0", { ttlSeconds: 7200 });
    expect(createTooLong.status).toBe(422);

    for (const n of ["s1", "s2"]) {
      const r = await capim(["cluster", "create", n, "--ttl", "30m", "--kubeconfig", path.join(dir, `${n}.kubeconfig`)], small);
      expect(r.code, r.stderr).toBe(0);
    }
    const third = await capim(["cluster", "create", "s3", "--ttl", "30m", "--kubeconfig", path.join(dir, "s3.kubeconfig")], small);
    expect(third.code).toBe(1);
    expect(third.stderr.trim().split("\n")).toHaveLength(1);
    expect(third.stderr).toMatch(/^capim-edge: 429 TooManyRequests: .*maximum of 2 clusters/);
    const raw = await status(await put(SMALL, "s3", { ttlSeconds: 60 }));
    expect(raw).toMatchObject({ code: 429, reason: "TooManyRequests" });
    // Re-PUT of an existing cluster is not a new cluster: still fine at the limit.
    expect((await put(SMALL, "s1", { ttlSeconds: 60 })).status).toBe(200);
    const extend = await capim(["cluster", "extend", "s1", "--ttl", "3h"], small);
    expect(extend.code).toBe(1);
    expect(extend.stderr).toContain("422 Invalid");

    // The other tenant, on the same edge at the same time, has the default limits.
    const big = cliEnv(edge, BIG);
    for (const n of ["b1", "b2", "b3"]) {
      const r = await capim(["cluster", "create", n, "--ttl", "5h", "--kubeconfig", path.join(dir, `${n}.kubeconfig`)], big);
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await put(BIG, "b-forever", {})).status).toBe(201);

    // Deleting one frees a slot.
    expect((await capim(["cluster", "delete", "s2"], small)).code).toBe(0);
    const retry = await capim(["cluster", "create", "s3", "--ttl", "30m", "--kubeconfig", path.join(dir, "s3.kubeconfig")], small);
    expect(retry.code, retry.stderr).toBe(0);
  });

  it("maxObjectsPerCluster (429) and maxBodyBytes (413) through kubectl; updates and other clusters unaffected", async () => {
    const kc = path.join(dir, "s1.kubeconfig");
    const info = await (await edgeFetch(edge, "/admin/clusters/default/s1", { token: SMALL })).json();
    let count = info.objectCount as number;
    expect(count).toBeLessThan(LIMITS.small.maxObjectsPerCluster);
    let i = 0;
    while (count < LIMITS.small.maxObjectsPerCluster) {
      const r = await kubectl("1.32", kc, ["create", "configmap", `cm-${i++}`]);
      expect(r.code, r.stderr).toBe(0);
      count++;
    }
    const refused = await kubectl("1.32", kc, ["create", "configmap", "one-too-many"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("maxObjectsPerCluster");
    // The same refusal as a Status over raw HTTP (POST, and a PUT that would create).
    const cm = (name: string) => JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
    const base = "/clusters/default/s1/api/v1/namespaces/default/configmaps";
    const post = await edgeFetch(edge, base, { method: "POST", token: SMALL, headers: { "content-type": "application/json" }, body: cm("x") });
    expect(post.status).toBe(429);
    expect(await status(post)).toMatchObject({ code: 429, reason: "TooManyRequests" });
    const putNew = await edgeFetch(edge, `${base}/y`, { method: "PUT", token: SMALL, headers: { "content-type": "application/json" }, body: cm("y") });
    expect(putNew.status).toBe(429);
    // Updating an existing object at the limit is fine; so is deleting, which frees room.
    const label = await kubectl("1.29", kc, ["label", "configmap", "cm-0", "touched=yes"]);
    expect(label.code, label.stderr).toBe(0);
    const del = await kubectl("1.29", kc, ["delete", "configmap", "cm-0"]);
    expect(del.code, del.stderr).toBe(0);
    const after = await kubectl("1.29", kc, ["create", "configmap", "fits-again"]);
    expect(after.code, after.stderr).toBe(0);

    // Body limit: 413 before the request reaches the cluster.
    const bigValue = "x".repeat(5000);
    const tooBig = await kubectl("1.32", path.join(dir, "s3.kubeconfig"), ["create", "configmap", "big", `--from-literal=v=${bigValue}`]);
    expect(tooBig.code).not.toBe(0);
    expect(tooBig.stderr).toMatch(/exceeds the limit of 4096 bytes/);
    const raw413 = await edgeFetch(edge, "/clusters/default/s3/api/v1/namespaces/default/configmaps", {
      method: "POST",
      token: SMALL,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "big" }, data: { v: bigValue } }),
    });
    expect(await status(raw413)).toMatchObject({ code: 413, reason: "RequestEntityTooLarge" });
    // A small write to the same cluster still works.
    expect((await kubectl("1.32", path.join(dir, "s3.kubeconfig"), ["create", "configmap", "small"])).code).toBe(0);

    // The other tenant: many objects and a large body in one of its clusters, unaffected.
    const bkc = path.join(dir, "b1.kubeconfig");
    for (let j = 0; j < 12; j++) expect((await kubectl("1.32", bkc, ["create", "configmap", `b-${j}`])).code).toBe(0);
    const bBig = await kubectl("1.29", bkc, ["create", "configmap", "big", `--from-literal=v=${"y".repeat(100_000)}`]);
    expect(bBig.code, bBig.stderr).toBe(0);
    const bList = await kubectl("1.29", bkc, ["get", "configmaps", "-o", "name"]);
    expect(bList.stdout.trim().split("\n")).toHaveLength(13);
  });
});
