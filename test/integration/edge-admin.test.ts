// The edge's own HTTP surface against a real spawned edge: auth, admin API, routing, tenant and
// cluster isolation, cluster deletion.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCluster, edgeFetch, spawnEdge, type SpawnedEdge } from "../helpers/edge.js";

let edge: SpawnedEdge;
const TOKEN_A = "token-tenant-a-0123456789";
const TOKEN_B = "token-tenant-b-9876543210";

beforeAll(async () => {
  edge = await spawnEdge({ tokens: { [TOKEN_A]: "tenant-a", [TOKEN_B]: "tenant-b" } });
});
afterAll(async () => {
  await edge?.stop();
});

const asA = (p: string, init: RequestInit = {}) => edgeFetch(edge, p, { ...init, token: TOKEN_A });
const asB = (p: string, init: RequestInit = {}) => edgeFetch(edge, p, { ...init, token: TOKEN_B });

async function expectStatus(res: Response, code: number, reason: string) {
  const text = await res.text();
  expect(res.status, text).toBe(code);
  const body = JSON.parse(text);
  expect(body).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason });
  expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack traces
  return body;
}

function configMap(name: string, data: Record<string, string> = {}) {
  return JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data });
}

async function postCm(fetcher: typeof asA, cluster: string, name: string) {
  const res = await fetcher(`/clusters/${cluster}/api/v1/namespaces/default/configmaps`, {
    method: "POST",
    body: configMap(name, { k: name }),
    headers: { "content-type": "application/json" },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { metadata: { resourceVersion: string } };
}

async function listCms(fetcher: typeof asA, cluster: string) {
  const res = await fetcher(`/clusters/${cluster}/api/v1/namespaces/default/configmaps`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { metadata: { resourceVersion: string }; items: Array<{ metadata: { name: string } }> };
  return { rv: body.metadata.resourceVersion, names: body.items.map((i) => i.metadata.name).sort() };
}

describe("auth", () => {
  it("answers 401 Status without a token, with a wrong token and with a malformed header", async () => {
    const body = await expectStatus(await edgeFetch(edge, "/admin/clusters", { token: null }), 401, "Unauthorized");
    expect(body.message).toBe("Unauthorized");
    await expectStatus(await edgeFetch(edge, "/admin/clusters", { token: "nope" }), 401, "Unauthorized");
    await expectStatus(await edgeFetch(edge, "/clusters/ns/c/api/v1/namespaces", { token: TOKEN_A + "x" }), 401, "Unauthorized");
    await expectStatus(
      await fetch(`${edge.url}/admin/clusters`, { headers: { authorization: `Basic ${btoa("a:" + TOKEN_A)}` } }),
      401,
      "Unauthorized",
    );
  });

  it("serves /healthz without a token", async () => {
    const res = await fetch(`${edge.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
  });
});

describe("admin API", () => {
  it("creates idempotently (201 then 200), describes, lists and deletes a cluster", async () => {
    const first = await asA("/admin/clusters/ns-adm/c1", {
      method: "PUT",
      body: JSON.stringify({ kubernetesVersion: "v1.30.2", labels: { suite: "admin" } }),
    });
    expect(first.status, await first.clone().text()).toBe(201);
    const info = await first.json();
    expect(info).toMatchObject({ namespace: "ns-adm", name: "c1", tenant: "tenant-a", kubernetesVersion: "v1.30.2", labels: { suite: "admin" } });
    expect(info.resourceVersion).toMatch(/^\d+$/);
    expect(info.objectCount).toBeGreaterThanOrEqual(4); // the seeded namespaces at least
    expect(new Date(info.createdAt).getTime()).toBeGreaterThan(Date.now() - 120_000);

    const again = await asA("/admin/clusters/ns-adm/c1", { method: "PUT" });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ createdAt: info.createdAt, resourceVersion: info.resourceVersion });

    // The cluster's own /version reports the requested Kubernetes version.
    const version = await asA("/clusters/ns-adm/c1/version");
    expect(version.status).toBe(200);
    expect((await version.json()).gitVersion).toBe("v1.30.2");

    await postCm(asA, "ns-adm/c1", "one");
    const described = await (await asA("/admin/clusters/ns-adm/c1")).json();
    expect(described.objectCount).toBe(info.objectCount + 1);
    expect(Number(described.resourceVersion)).toBeGreaterThan(Number(info.resourceVersion));

    const list = await (await asA("/admin/clusters")).json();
    expect(list.items).toContainEqual(expect.objectContaining({ namespace: "ns-adm", name: "c1", tenant: "tenant-a", createdAt: info.createdAt }));

    const del = await asA("/admin/clusters/ns-adm/c1", { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(await del.json()).toMatchObject({ kind: "Status", status: "Success" });
    await expectStatus(await asA("/admin/clusters/ns-adm/c1"), 404, "NotFound");
    await expectStatus(await asA("/admin/clusters/ns-adm/c1", { method: "DELETE" }), 404, "NotFound");
    const nf = await expectStatus(await asA("/clusters/ns-adm/c1/api/v1/namespaces"), 404, "NotFound");
    expect(nf.message).toBe('clusters.capim-edge.dev "c1" not found');
    const listAfter = await (await asA("/admin/clusters")).json();
    expect(listAfter.items.map((i: { name: string }) => i.name)).not.toContain("c1");

    // Re-created from scratch: the old ConfigMap is gone.
    const re = await asA("/admin/clusters/ns-adm/c1", { method: "PUT" });
    expect(re.status).toBe(201);
    expect((await listCms(asA, "ns-adm/c1")).names).toEqual([]);
    expect((await re.json()).objectCount).toBe(info.objectCount);
  });

  it("refuses a different kubernetesVersion for an existing cluster with 409", async () => {
    await createCluster({ url: edge.url, token: TOKEN_A }, "ns-adm", "c-ver", { kubernetesVersion: "v1.31.0" });
    await expectStatus(
      await asA("/admin/clusters/ns-adm/c-ver", { method: "PUT", body: JSON.stringify({ kubernetesVersion: "v1.29.0" }) }),
      409,
      "Conflict",
    );
  });

  it("validates bodies and names with 400 Status", async () => {
    for (const body of ["{not json", "[]", '"x"', '{"kubernetesVersion":5}', '{"kubernetesVersion":"1.30"}', '{"labels":{"a":1}}', '{"foo":1}']) {
      await expectStatus(await asA("/admin/clusters/ns-adm/bad-body", { method: "PUT", body }), 400, "BadRequest");
    }
    await expectStatus(await asA("/admin/clusters/ns-adm/bad-body"), 404, "NotFound"); // nothing was created
    for (const p of ["/admin/clusters/Upper/c", "/admin/clusters/ns/under_score", "/admin/clusters/-ns/c", `/admin/clusters/${"a".repeat(64)}/c`, "/admin/clusters/ns/%zz"]) {
      await expectStatus(await asA(p, { method: "PUT" }), 400, "BadRequest");
    }
    await expectStatus(await asA("/clusters/ns/Bad/api/v1/namespaces"), 400, "BadRequest");
    await expectStatus(await asA("/clusters/ns..x/c/api"), 400, "BadRequest");
  });

  it("answers unknown routes and methods with 404 Status", async () => {
    for (const p of ["/", "/admin", "/admin/nope", "/admin/clusters/ns/c/unknown", "/clusters", "/clusters/ns", "/api/v1/namespaces"]) {
      await expectStatus(await asA(p), 404, "NotFound");
    }
    await expectStatus(await asA("/admin/clusters", { method: "POST", body: "{}" }), 404, "NotFound");
    // The DO has no admin paths: its Kubernetes API answers 404 for them.
    await createCluster({ url: edge.url, token: TOKEN_A }, "ns-adm", "c-int");
    await expectStatus(await asA("/clusters/ns-adm/c-int/_admin/cluster", { method: "DELETE" }), 404, "NotFound");
    expect((await asA("/admin/clusters/ns-adm/c-int")).status).toBe(200);
  });

  it("serves machines/etcd admin routes through the cluster DO's typed calls", async () => {
    await createCluster({ url: edge.url, token: TOKEN_A }, "ns-adm", "c-ext");
    // The list of machines comes from inside the DO; an unknown machine is a 404 about the machine,
    // not about the cluster (proves the request reached the extension with the path rewritten).
    const list = await asA("/admin/clusters/ns-adm/c-ext/machines");
    expect(list.status, await list.clone().text()).toBe(200);
    const m = await expectStatus(await asA("/admin/clusters/ns-adm/c-ext/machines/m-none"), 404, "NotFound");
    expect(m.message).toContain("m-none");
    expect(m.message).not.toContain("clusters.capim-edge.dev");
    const etcd = await asA("/admin/clusters/ns-adm/c-ext/etcd");
    expect(etcd.status).toBeLessThan(500);
    expect(etcd.status).not.toBe(401);
    const missing = await expectStatus(await asA("/admin/clusters/ns-adm/no-such/machines"), 404, "NotFound");
    expect(missing.message).toBe('clusters.capim-edge.dev "no-such" not found');
    // Bodies are parsed by the worker before the call: malformed, not an object, empty.
    for (const [body, re] of [["{", /not valid JSON/], ["[]", /JSON object/], ["", /version: required/], ["7", /JSON object/]] as const) {
      const bad = await expectStatus(await asA("/admin/clusters/ns-adm/c-ext/machines/m-0", { method: "PUT", body }), 400, "BadRequest");
      expect(bad.message).toMatch(re);
    }
    await expectStatus(await asA("/admin/clusters/ns-adm/c-ext/machines/m-0", { method: "POST", body: "{}" }), 405, "MethodNotAllowed");
    await expectStatus(await asA("/admin/clusters/ns-adm/c-ext/machines", { method: "DELETE" }), 405, "MethodNotAllowed");
    await expectStatus(await asA("/admin/clusters/ns-adm/c-ext/etcd/move-leader"), 405, "MethodNotAllowed");
    await expectStatus(await asA("/admin/clusters/ns-adm/c-ext/etcd/nothing"), 404, "NotFound");
    await expectStatus(await asA("/admin/clusters/ns-adm/c-ext/machines/a/b"), 404, "NotFound");
    await expectStatus(await asA("/admin/clusters/ns-adm/c-ext/machines/%E0%A4%A"), 400, "BadRequest");
    expect((await asA("/admin/clusters/ns-adm/c-ext/machines")).status).toBe(200);
    expect((await (await asA("/admin/clusters/ns-adm/c-ext/machines")).json()).items).toEqual([]);
  });

  it("does not create a cluster as a side effect of requests to it", async () => {
    for (const p of ["/clusters/ns-adm/ghost/api/v1/namespaces", "/clusters/ns-adm/ghost/version", "/admin/clusters/ns-adm/ghost"]) {
      await expectStatus(await asA(p), 404, "NotFound");
    }
    await expectStatus(
      await asA("/clusters/ns-adm/ghost/api/v1/namespaces/default/configmaps", { method: "POST", body: configMap("x") }),
      404,
      "NotFound",
    );
    await expectStatus(await asA("/admin/clusters/ns-adm/ghost"), 404, "NotFound");
    const list = await (await asA("/admin/clusters")).json();
    expect(list.items.map((i: { name: string }) => i.name)).not.toContain("ghost");
    // Creating it afterwards starts from an empty cluster.
    await createCluster({ url: edge.url, token: TOKEN_A }, "ns-adm", "ghost");
    expect((await listCms(asA, "ns-adm/ghost")).names).toEqual([]);
  });

  it("closes open watches when the cluster is deleted", async () => {
    await createCluster({ url: edge.url, token: TOKEN_A }, "ns-adm", "c-watch");
    const res = await asA("/clusters/ns-adm/c-watch/api/v1/namespaces/default/configmaps?watch=true");
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await postCm(asA, "ns-adm/c-watch", "w");
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"ADDED"');
    expect((await asA("/admin/clusters/ns-adm/c-watch", { method: "DELETE" })).status).toBe(200);
    const ended = await Promise.race([
      (async () => {
        for (;;) if ((await reader.read()).done) return "ended";
      })().catch(() => "ended"),
      new Promise((r) => setTimeout(() => r("still open"), 15_000)),
    ]);
    expect(ended).toBe("ended");
  });
});

describe("isolation", () => {
  it("keeps objects and resourceVersions of two clusters apart", async () => {
    await createCluster({ url: edge.url, token: TOKEN_A }, "ns-iso", "one");
    await createCluster({ url: edge.url, token: TOKEN_A }, "ns-iso", "two");
    const twoBefore = await listCms(asA, "ns-iso/two");
    const twoInfo = await (await asA("/admin/clusters/ns-iso/two")).json();

    // A watch on cluster two must see nothing of cluster one's writes.
    const watchRes = await asA(`/clusters/ns-iso/two/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${twoBefore.rv}`);
    const reader = watchRes.body!.getReader();
    for (let i = 0; i < 5; i++) await postCm(asA, "ns-iso/one", `only-in-one-${i}`);
    const marker = await postCm(asA, "ns-iso/two", "marker");

    const one = await listCms(asA, "ns-iso/one");
    const two = await listCms(asA, "ns-iso/two");
    expect(one.names).toEqual([0, 1, 2, 3, 4].map((i) => `only-in-one-${i}`));
    expect(two.names).toEqual(["marker"]);
    // Cluster two's counter moved by exactly its own one write.
    expect(Number(marker.metadata.resourceVersion)).toBe(Number(twoInfo.resourceVersion) + 1);
    const twoAfter = await (await asA("/admin/clusters/ns-iso/two")).json();
    expect(twoAfter.resourceVersion).toBe(marker.metadata.resourceVersion);

    let text = "";
    while (!text.includes("marker")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const events = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
    const names = events.filter((e) => e.type !== "BOOKMARK").map((e) => `${e.type} ${e.object.metadata.name}`);
    expect(names).toEqual(["ADDED marker"]);
  });

  it("keeps tenants apart: B can neither list, read, write nor delete A's clusters", async () => {
    await createCluster({ url: edge.url, token: TOKEN_A }, "shared-ns", "same-name");
    await postCm(asA, "shared-ns/same-name", "secret-of-a");

    const listB = await (await asB("/admin/clusters")).json();
    expect(listB.items).toEqual([]);
    await expectStatus(await asB("/admin/clusters/shared-ns/same-name"), 404, "NotFound");
    await expectStatus(await asB("/clusters/shared-ns/same-name/api/v1/namespaces/default/configmaps"), 404, "NotFound");
    await expectStatus(await asB("/admin/clusters/shared-ns/same-name", { method: "DELETE" }), 404, "NotFound");
    expect((await asA("/admin/clusters/shared-ns/same-name")).status).toBe(200);

    // B creating the same namespace/name gets its own, empty cluster.
    const created = await asB("/admin/clusters/shared-ns/same-name", { method: "PUT" });
    expect(created.status).toBe(201);
    expect((await created.json()).tenant).toBe("tenant-b");
    expect((await listCms(asB, "shared-ns/same-name")).names).toEqual([]);
    await postCm(asB, "shared-ns/same-name", "of-b");
    expect((await listCms(asA, "shared-ns/same-name")).names).toEqual(["secret-of-a"]);
    expect((await listCms(asB, "shared-ns/same-name")).names).toEqual(["of-b"]);
    const listA = await (await asA("/admin/clusters")).json();
    expect(listA.items.every((i: { tenant: string }) => i.tenant === "tenant-a")).toBe(true);
    const listB2 = await (await asB("/admin/clusters")).json();
    expect(listB2.items.map((i: { namespace: string; name: string }) => `${i.namespace}/${i.name}`)).toEqual(["shared-ns/same-name"]);
  });
});
