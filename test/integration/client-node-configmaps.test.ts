// @kubernetes/client-node 2.0.1 against a real local edge: CRUD, informer (live and resumed), Watch.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { createCluster, kubeConfigFor, spawnEdge, type SpawnedEdge } from "../helpers/edge.js";

let edge: SpawnedEdge;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
const NS = "default";

beforeAll(async () => {
  edge = await spawnEdge();
  await createCluster(edge, "team-a", "cn1");
  kc = kubeConfigFor(edge.url, "team-a", "cn1", edge.token);
  core = kc.makeApiClient(k8s.CoreV1Api);
});
afterAll(async () => {
  await edge?.stop();
});

function cm(name: string, data: Record<string, string>, labels: Record<string, string> = {}): k8s.V1ConfigMap {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels }, data };
}

/** Resolves when `pred` holds, polling; rejects with `what` after the timeout. */
async function until(pred: () => boolean, what: string, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("client-node CRUD", () => {
  it("creates, lists with a label selector, patches and deletes ConfigMaps", async () => {
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: cm("crud-1", { a: "1" }, { app: "crud" }) });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.namespace).toBe(NS);
    await core.createNamespacedConfigMap({ namespace: NS, body: cm("crud-2", { a: "2" }, { app: "other" }) });

    const list = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: "app=crud" });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(["crud-1"]);
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThanOrEqual(Number(created.metadata?.resourceVersion));

    const merged = await core.patchNamespacedConfigMap(
      { namespace: NS, name: "crud-1", body: { data: { b: "x" }, metadata: { labels: { tier: "t1" } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    expect(merged.data).toEqual({ a: "1", b: "x" });
    expect(merged.metadata?.labels).toEqual({ app: "crud", tier: "t1" });
    expect(Number(merged.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));

    const jsonPatched = await core.patchNamespacedConfigMap(
      { namespace: NS, name: "crud-1", body: [{ op: "replace", path: "/data/a", value: "one" }] },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.data).toEqual({ a: "one", b: "x" });

    const read = await core.readNamespacedConfigMap({ namespace: NS, name: "crud-1" });
    expect(read.data).toEqual({ a: "one", b: "x" });

    await core.deleteNamespacedConfigMap({ namespace: NS, name: "crud-1" });
    await expect(core.readNamespacedConfigMap({ namespace: NS, name: "crud-1" })).rejects.toMatchObject({ code: 404 });
    const after = await core.listNamespacedConfigMap({ namespace: NS });
    expect(after.items.map((i) => i.metadata?.name)).toContain("crud-2");
    expect(after.items.map((i) => i.metadata?.name)).not.toContain("crud-1");
  });

  it("refuses a duplicate create with 409 AlreadyExists", async () => {
    await core.createNamespacedConfigMap({ namespace: NS, body: cm("dup", {}) });
    const err = await core.createNamespacedConfigMap({ namespace: NS, body: cm("dup", {}) }).catch((e) => e);
    expect(err.code).toBe(409);
    expect(JSON.parse(err.body).reason).toBe("AlreadyExists");
  });
});

describe("client-node informer", () => {
  it("sees add, update and delete live, and catches up on changes made while stopped", async () => {
    const path = `/api/v1/namespaces/${NS}/configmaps`;
    const informer = k8s.makeInformer(kc, path, () => core.listNamespacedConfigMap({ namespace: NS, labelSelector: "inf=yes" }), "inf=yes");
    const seen: string[] = [];
    const errors: unknown[] = [];
    informer.on("add", (o) => seen.push(`add ${o.metadata?.name} ${JSON.stringify(o.data ?? {})}`));
    informer.on("update", (o) => seen.push(`update ${o.metadata?.name} ${JSON.stringify(o.data ?? {})}`));
    informer.on("delete", (o) => seen.push(`delete ${o.metadata?.name}`));
    // stop() aborts the running watch, which client-node reports as an AbortError: not a failure.
    informer.on("error", (e) => {
      if ((e as Error)?.name !== "AbortError") errors.push(e);
    });
    await core.createNamespacedConfigMap({ namespace: NS, body: cm("inf-pre", { v: "0" }, { inf: "yes" }) });
    await informer.start();
    try {
      await until(() => seen.includes(`add inf-pre {"v":"0"}`), "initial list add");
      await core.createNamespacedConfigMap({ namespace: NS, body: cm("inf-1", { v: "1" }, { inf: "yes" }) });
      await core.createNamespacedConfigMap({ namespace: NS, body: cm("inf-ignored", { v: "1" }, { inf: "no" }) });
      await until(() => seen.includes(`add inf-1 {"v":"1"}`), "live add");
      await core.patchNamespacedConfigMap(
        { namespace: NS, name: "inf-1", body: { data: { v: "2" } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      await until(() => seen.includes(`update inf-1 {"v":"2"}`), "live update");
      await core.deleteNamespacedConfigMap({ namespace: NS, name: "inf-pre" });
      await until(() => seen.includes("delete inf-pre"), "live delete");
      expect(informer.list(NS).map((o) => o.metadata?.name).sort()).toEqual(["inf-1"]);

      // Resync: stop, change things, start again. The informer resumes from its last
      // resourceVersion (or relists) and must report what it missed.
      await informer.stop();
      seen.length = 0;
      await core.createNamespacedConfigMap({ namespace: NS, body: cm("inf-2", { v: "a" }, { inf: "yes" }) });
      await core.patchNamespacedConfigMap(
        { namespace: NS, name: "inf-1", body: { data: { v: "3" } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedConfigMap({ namespace: NS, name: "inf-2" });
      await core.createNamespacedConfigMap({ namespace: NS, body: cm("inf-3", { v: "b" }, { inf: "yes" }) });
      await informer.start();
      await until(() => seen.includes(`update inf-1 {"v":"3"}`) && seen.includes(`add inf-3 {"v":"b"}`), "catch-up events");
      await until(() => informer.list(NS).length === 2, "cache of 2");
      expect(informer.list(NS).map((o) => o.metadata?.name).sort()).toEqual(["inf-1", "inf-3"]);
      expect(seen.filter((s) => s.includes("inf-ignored"))).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});

describe("client-node Watch", () => {
  it("streams ADDED/MODIFIED/DELETED from a resourceVersion and ends on abort", async () => {
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    const rv = list.metadata!.resourceVersion!;
    const events: Array<{ type: string; name?: string; rv?: string }> = [];
    let doneErr: unknown = "not done";
    const watch = new k8s.Watch(kc);
    const ctl = await watch.watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: rv, allowWatchBookmarks: true },
      (type, obj) => {
        if (type !== "BOOKMARK") events.push({ type, name: obj?.metadata?.name, rv: obj?.metadata?.resourceVersion });
      },
      (err) => (doneErr = err),
    );
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: cm("w-1", { x: "1" }) });
      await core.replaceNamespacedConfigMap({ namespace: NS, name: "w-1", body: cm("w-1", { x: "2" }) });
      await core.deleteNamespacedConfigMap({ namespace: NS, name: "w-1" });
      await until(() => events.length >= 3, "3 watch events");
      expect(events.map((e) => `${e.type} ${e.name}`)).toEqual(["ADDED w-1", "MODIFIED w-1", "DELETED w-1"]);
      const rvs = events.map((e) => Number(e.rv));
      expect(rvs[0]).toBeGreaterThan(Number(rv));
      expect(rvs[1]).toBeGreaterThan(rvs[0]);
      expect(rvs[2]).toBeGreaterThan(rvs[1]);
    } finally {
      ctl.abort();
    }
    await until(() => doneErr !== "not done", "watch done callback");
  });
});
