import { describe, expect, it } from "vitest";
import { call, cm, newServer, readEvents } from "../helpers/node-host.js";
import { MAX_BACKLOG, WatchHub } from "../../durable-objects/apiserver/watch.js";

const CMS = "/api/v1/namespaces/default/configmaps";
const watch = (api: ReturnType<typeof newServer>["api"], path: string) => api.handle(new Request(`http://c${path}`));

describe("apiserver watch", () => {
  it("rv unset sends the current state as ADDED then live events", async () => {
    const { api } = newServer();
    await call(api, "POST", CMS, cm("a"));
    const res = await watch(api, `${CMS}?watch=true`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    await call(api, "POST", CMS, cm("b"));
    await call(api, "DELETE", `${CMS}/a`);
    const ev = await readEvents(res, 3);
    expect(ev.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ["ADDED", "a"],
      ["ADDED", "b"],
      ["DELETED", "a"],
    ]);
    expect(ev[0].object.apiVersion).toBe("v1");
    expect(ev[0].object.kind).toBe("ConfigMap");
    api.closeWatches();
    expect(api.watchCount).toBe(0);
  });

  it("resumes from a resourceVersion and answers 410 Expired past the log", async () => {
    const { api } = newServer({ eventLogSize: 10 });
    const a = (await call(api, "POST", CMS, cm("a"))).body;
    await call(api, "PATCH", `${CMS}/a`, { data: { x: "1" } }, { "content-type": "application/merge-patch+json" });
    await call(api, "POST", CMS, cm("b"));
    const res = await watch(api, `${CMS}?watch=true&resourceVersion=${a.metadata.resourceVersion}`);
    const ev = await readEvents(res, 2);
    expect(ev.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ["MODIFIED", "a"],
      ["ADDED", "b"],
    ]);
    api.closeWatches();
    for (let i = 0; i < 20; i++) await call(api, "POST", CMS, cm(`x${i}`));
    const old = await watch(api, `${CMS}?watch=true&resourceVersion=${a.metadata.resourceVersion}`);
    expect(old.status).toBe(200);
    const err = await readEvents(old, 2);
    expect(err).toHaveLength(1);
    expect(err[0].type).toBe("ERROR");
    expect(err[0].object).toMatchObject({ kind: "Status", code: 410, reason: "Expired" });
    expect(err[0].object.message).toMatch(/^too old resource version/);
    const garbage = await call(api, "GET", `${CMS}?watch=true&resourceVersion=abc`);
    expect(garbage.status).toBe(400);
  });

  it("filters live events like the list; leaving the selector is a DELETED", async () => {
    const { api } = newServer();
    const start = api.resourceVersion;
    const res = await watch(api, `/api/v1/configmaps?watch=true&resourceVersion=${start}&labelSelector=app%3Dx`);
    await call(api, "POST", CMS, cm("other", {}, { labels: { app: "y" } }));
    await call(api, "POST", CMS, cm("m", {}, { labels: { app: "x" } }));
    await call(api, "PATCH", `${CMS}/m`, { metadata: { labels: { app: "y" } } }, { "content-type": "application/merge-patch+json" });
    await call(api, "PATCH", `${CMS}/other`, { metadata: { labels: { app: "x" } } }, { "content-type": "application/merge-patch+json" });
    const ev = await readEvents(res, 3);
    expect(ev.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ["ADDED", "m"],
      ["DELETED", "m"],
      ["ADDED", "other"],
    ]);
    api.closeWatches();
  });

  it("field selector and namespace filtering on pods (spec.nodeName)", async () => {
    const { api } = newServer();
    await call(api, "POST", "/api/v1/namespaces", { metadata: { name: "other" } });
    const res = await watch(api, `/api/v1/namespaces/default/pods?watch=true&resourceVersion=${api.resourceVersion}&fieldSelector=spec.nodeName%3Dn1`);
    await call(api, "POST", "/api/v1/namespaces/other/pods", { metadata: { name: "p0" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }] } });
    await call(api, "POST", "/api/v1/namespaces/default/pods", { metadata: { name: "p1" }, spec: { nodeName: "n2", containers: [{ name: "c", image: "i" }] } });
    await call(api, "POST", "/api/v1/namespaces/default/pods", { metadata: { name: "p2" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }] } });
    const ev = await readEvents(res, 1);
    expect(ev.map((e) => [e.type, e.object.metadata.name])).toEqual([["ADDED", "p2"]]);
    api.closeWatches();
  });

  it("sendInitialEvents ends the initial state with the initial-events-end bookmark", async () => {
    const { api } = newServer();
    await call(api, "POST", CMS, cm("a"));
    const res = await watch(api, `${CMS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
    const ev = await readEvents(res, 2);
    expect(ev[0]).toMatchObject({ type: "ADDED", object: { metadata: { name: "a" } } });
    expect(ev[1].type).toBe("BOOKMARK");
    expect(ev[1].object.metadata.annotations).toEqual({ "k8s.io/initial-events-end": "true" });
    expect(ev[1].object.metadata.resourceVersion).toBe(String(api.resourceVersion));
    expect(ev[1].object.kind).toBe("ConfigMap");
    api.closeWatches();
    const bad = await call(api, "GET", `${CMS}?watch=true&sendInitialEvents=true`);
    expect(bad.status).toBe(422);
  });

  it("bookmarks as heartbeats, timeoutSeconds ends the stream, cancel drops the watcher", async () => {
    const { api } = newServer({ watchHeartbeatMs: 20 });
    const res = await watch(api, `${CMS}?watch=true&allowWatchBookmarks=true&resourceVersion=${api.resourceVersion}`);
    const ev = await readEvents(res, 1);
    expect(ev[0].type).toBe("BOOKMARK");
    expect(api.watchCount).toBe(1);
    await res.body!.cancel();
    expect(api.watchCount).toBe(0);

    const timed = await watch(api, `${CMS}?watch=true&timeoutSeconds=0&resourceVersion=${api.resourceVersion}`);
    const text = await timed.text(); // resolves only because the stream ends
    expect(text.trim()).toBe("");
    expect(api.watchCount).toBe(0);
  });

  it("watch on a single object via the legacy /watch/ path", async () => {
    const { api } = newServer();
    const rv = api.resourceVersion;
    const res = await watch(api, `/api/v1/watch/namespaces/default/configmaps/one?resourceVersion=${rv}`);
    await call(api, "POST", CMS, cm("two"));
    await call(api, "POST", CMS, cm("one"));
    const ev = await readEvents(res, 1);
    expect(ev.map((e) => e.object.metadata.name)).toEqual(["one"]);
    api.closeWatches();
  });
});

describe("a watcher that does not read", () => {
  it("is dropped with its stream ended once MAX_BACKLOG events wait unread, so its client re-watches", async () => {
    const hub = new WatchHub(60_000, () => 1);
    const res = hub.open({
      group: "",
      resource: "configmaps",
      matches: () => true,
      render: (o) => o,
      bookmark: () => ({}),
      allowBookmarks: false,
      initial: [],
      initialEventsEnd: false,
    });
    const object = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "default" } };
    for (let rv = 1; rv <= MAX_BACKLOG + 3; rv++) {
      hub.publish({ rv, type: "ADDED", key: { group: "", resource: "configmaps", namespace: "default", name: `c${rv}` }, object }, undefined);
    }
    expect(hub.size).toBe(0);
    // The queued events are discarded with the stream: the first read fails instead of waiting forever.
    await expect(res.body!.getReader().read()).rejects.toThrow(/watch dropped/);
  });
});
