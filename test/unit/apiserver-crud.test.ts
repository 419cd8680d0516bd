import { describe, expect, it } from "vitest";
import { ApiServer } from "../../durable-objects/apiserver/server.js";
import { call, cm, newServer } from "../helpers/node-host.js";

const CMS = "/api/v1/namespaces/default/configmaps";
const deploymentShape = { selector: { matchLabels: { app: "d" } }, template: { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "i" }] } } };

describe("apiserver CRUD", () => {
  it("starts with the four system namespaces", async () => {
    const { api } = newServer();
    const r = await call(api, "GET", "/api/v1/namespaces");
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe("NamespaceList");
    expect(r.body.items.map((n: any) => n.metadata.name)).toEqual(["default", "kube-node-lease", "kube-public", "kube-system"]);
    expect(r.body.metadata.resourceVersion).toBe(String(api.resourceVersion));
    expect(r.body.items[0].status.phase).toBe("Active");
  });

  it("creates with uid, creationTimestamp, generation and rv; get returns it", async () => {
    const { api } = newServer();
    const before = api.resourceVersion;
    const c = await call(api, "POST", CMS, cm("a", { k: "v" }));
    expect(c.status).toBe(201);
    expect(c.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(c.body.metadata.generation).toBe(1);
    expect(c.body.metadata.namespace).toBe("default");
    expect(Number(c.body.metadata.resourceVersion)).toBe(before + 1);
    const g = await call(api, "GET", `${CMS}/a`);
    expect(g.status).toBe(200);
    expect(g.body).toEqual(c.body);
    const dup = await call(api, "POST", CMS, cm("a"));
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ kind: "Status", reason: "AlreadyExists", code: 409, message: 'configmaps "a" already exists' });
  });

  it("generateName produces distinct names", async () => {
    const { api } = newServer();
    const a = await call(api, "POST", CMS, { metadata: { generateName: "x-" }, data: {} });
    const b = await call(api, "POST", CMS, { metadata: { generateName: "x-" }, data: {} });
    expect(a.status).toBe(201);
    expect(a.body.metadata.name).toMatch(/^x-[a-z0-9]{5}$/);
    expect(b.body.metadata.name).not.toBe(a.body.metadata.name);
  });

  it("namespaced create needs an existing namespace", async () => {
    const { api } = newServer();
    const r = await call(api, "POST", "/api/v1/namespaces/nope/configmaps", cm("a"));
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ reason: "NotFound", message: 'namespaces "nope" not found' });
  });

  it("update with stale rv conflicts, without rv is unconditional, generation follows spec", async () => {
    const { api } = newServer();
    const d = (await call(api, "POST", "/apis/apps/v1/namespaces/default/deployments", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: { replicas: 1, ...deploymentShape },
    })).body;
    const stale = { ...d, spec: { ...d.spec, replicas: 2 } };
    const u1 = await call(api, "PUT", "/apis/apps/v1/namespaces/default/deployments/d", stale);
    expect(u1.status).toBe(200);
    expect(u1.body.metadata.generation).toBe(2);
    const u2 = await call(api, "PUT", "/apis/apps/v1/namespaces/default/deployments/d", { ...stale, spec: { ...d.spec, replicas: 3 } });
    expect(u2.status).toBe(409);
    expect(u2.body.reason).toBe("Conflict");
    expect(u2.body.message).toBe(
      'Operation cannot be fulfilled on deployments.apps "d": the object has been modified; please apply your changes to the latest version and try again',
    );
    const { resourceVersion: _rv, ...meta } = u1.body.metadata;
    const u3 = await call(api, "PUT", "/apis/apps/v1/namespaces/default/deployments/d", { ...u1.body, metadata: { ...meta, labels: { a: "b" } } });
    expect(u3.status).toBe(200);
    expect(u3.body.metadata.generation).toBe(2); // metadata-only change
    expect(u3.body.metadata.labels).toEqual({ a: "b" });
    // status is ignored on the main resource, accepted on /status
    const u4 = await call(api, "PUT", "/apis/apps/v1/namespaces/default/deployments/d", { ...u3.body, status: { replicas: 9 } });
    expect(u4.body.status).toBeUndefined();
    const u5 = await call(api, "PUT", "/apis/apps/v1/namespaces/default/deployments/d/status", { ...u3.body, spec: { replicas: 7 }, status: { replicas: 9 } });
    expect(u5.status).toBe(200);
    expect(u5.body.status).toEqual({ replicas: 9 });
    expect(u5.body.spec).toEqual({ ...d.spec, replicas: 2 });
  });

  it("update of a missing configmap is 404, of a missing lease creates it", async () => {
    const { api } = newServer();
    const r = await call(api, "PUT", `${CMS}/zz`, cm("zz"));
    expect(r.status).toBe(404);
    const l = await call(api, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "n1" },
      spec: { holderIdentity: "n1" },
    });
    expect(l.status).toBe(201);
  });

  it("patches: merge, json, stale rv, missing object", async () => {
    const { api } = newServer();
    const c = (await call(api, "POST", CMS, cm("p", { a: "1" }))).body;
    const m = await call(api, "PATCH", `${CMS}/p`, { data: { b: "2" } }, { "content-type": "application/merge-patch+json" });
    expect(m.status).toBe(200);
    expect(m.body.data).toEqual({ a: "1", b: "2" });
    const j = await call(api, "PATCH", `${CMS}/p`, [{ op: "remove", path: "/data/a" }], { "content-type": "application/json-patch+json" });
    expect(j.status).toBe(200);
    expect(j.body.data).toEqual({ b: "2" });
    const stale = await call(api, "PATCH", `${CMS}/p`, { metadata: { resourceVersion: c.metadata.resourceVersion }, data: { c: "3" } }, { "content-type": "application/merge-patch+json" });
    expect(stale.status).toBe(409);
    const missing = await call(api, "PATCH", `${CMS}/nothere`, { data: {} }, { "content-type": "application/merge-patch+json" });
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('configmaps "nothere" not found');
    const bad = await call(api, "PATCH", `${CMS}/p`, { data: {} }, { "content-type": "text/plain" });
    expect(bad.status).toBe(415);
  });

  it("apply patch creates then updates, needs fieldManager", async () => {
    const { api } = newServer();
    const yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap\ndata:\n  x: '1'\n";
    const noFm = await call(api, "PATCH", `${CMS}/ap`, yaml, { "content-type": "application/apply-patch+yaml" });
    expect(noFm.status).toBe(422);
    const a = await call(api, "PATCH", `${CMS}/ap?fieldManager=t`, yaml, { "content-type": "application/apply-patch+yaml" });
    expect(a.status).toBe(201);
    expect(a.body.data).toEqual({ x: "1" });
    const b = await call(api, "PATCH", `${CMS}/ap?fieldManager=t`, yaml.replace("'1'", "'2'"), { "content-type": "application/apply-patch+yaml" });
    expect(b.status).toBe(200);
    expect(b.body.data).toEqual({ x: "2" });
  });

  it("list with label and field selectors, paging with continue", async () => {
    const { api } = newServer();
    for (let i = 0; i < 5; i++) await call(api, "POST", CMS, cm(`c${i}`, {}, { labels: { i: String(i), even: String(i % 2 === 0) } }));
    const sel = await call(api, "GET", `${CMS}?labelSelector=${encodeURIComponent("even=true,i!=4")}`);
    expect(sel.body.items.map((o: any) => o.metadata.name)).toEqual(["c0", "c2"]);
    const f = await call(api, "GET", `/api/v1/configmaps?fieldSelector=metadata.name%3Dc3`);
    expect(f.body.items.map((o: any) => o.metadata.name)).toEqual(["c3"]);
    const p1 = await call(api, "GET", `${CMS}?limit=2`);
    expect(p1.body.items.map((o: any) => o.metadata.name)).toEqual(["c0", "c1"]);
    expect(p1.body.metadata.remainingItemCount).toBe(3);
    const p2 = await call(api, "GET", `${CMS}?limit=2&continue=${encodeURIComponent(p1.body.metadata.continue)}`);
    expect(p2.body.items.map((o: any) => o.metadata.name)).toEqual(["c2", "c3"]);
    const p3 = await call(api, "GET", `${CMS}?limit=2&continue=${encodeURIComponent(p2.body.metadata.continue)}`);
    expect(p3.body.items.map((o: any) => o.metadata.name)).toEqual(["c4"]);
    expect(p3.body.metadata.continue).toBeUndefined();
    const garbage = await call(api, "GET", `${CMS}?limit=2&continue=notatoken`);
    expect(garbage.status).toBe(400);
    const badSel = await call(api, "GET", `${CMS}?labelSelector=${encodeURIComponent("a in (")}`);
    expect(badSel.status).toBe(400);
    const badField = await call(api, "GET", `${CMS}?fieldSelector=spec.nope%3D1`);
    expect(badField.status).toBe(400);
  });

  it("continue tokens expire once the event log moved past them", async () => {
    const { api } = newServer({ eventLogSize: 5 });
    for (let i = 0; i < 3; i++) await call(api, "POST", CMS, cm(`c${i}`));
    const p1 = await call(api, "GET", `${CMS}?limit=1`);
    for (let i = 0; i < 10; i++) await call(api, "POST", CMS, cm(`d${i}`));
    const p2 = await call(api, "GET", `${CMS}?limit=1&continue=${encodeURIComponent(p1.body.metadata.continue)}`);
    expect(p2.status).toBe(410);
    expect(p2.body.reason).toBe("Expired");
  });

  it("finalizers delay deletion; removal of the last one deletes immediately", async () => {
    const { api } = newServer();
    await call(api, "POST", CMS, cm("f", {}, { finalizers: ["example.com/x"] }));
    const d = await call(api, "DELETE", `${CMS}/f`);
    expect(d.status).toBe(200);
    expect(d.body.metadata.deletionTimestamp).toBeDefined();
    expect(d.body.metadata.deletionGracePeriodSeconds).toBe(0);
    const still = await call(api, "GET", `${CMS}/f`);
    expect(still.status).toBe(200);
    const addFin = await call(api, "PATCH", `${CMS}/f`, { metadata: { finalizers: ["example.com/x", "example.com/y"] } }, { "content-type": "application/merge-patch+json" });
    expect(addFin.status).toBe(422);
    const rm = await call(api, "PATCH", `${CMS}/f`, { metadata: { finalizers: null } }, { "content-type": "application/merge-patch+json" });
    expect(rm.status).toBe(200);
    expect((await call(api, "GET", `${CMS}/f`)).status).toBe(404);
  });

  it("delete preconditions, cascade via ownerReferences, orphan", async () => {
    const { api } = newServer();
    const owner = (await call(api, "POST", CMS, cm("owner"))).body;
    const ref = { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid };
    await call(api, "POST", CMS, cm("dep1", {}, { ownerReferences: [ref] }));
    await call(api, "POST", CMS, cm("dep2", {}, { ownerReferences: [ref] }));
    const pre = await call(api, "DELETE", `${CMS}/owner`, { kind: "DeleteOptions", apiVersion: "v1", preconditions: { uid: "wrong" } });
    expect(pre.status).toBe(409);
    const del = await call(api, "DELETE", `${CMS}/owner`);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ kind: "Status", status: "Success" });
    expect((await call(api, "GET", `${CMS}/dep1`)).status).toBe(404);
    expect((await call(api, "GET", `${CMS}/dep2`)).status).toBe(404);

    const o2 = (await call(api, "POST", CMS, cm("owner2"))).body;
    await call(api, "POST", CMS, cm("dep3", {}, { ownerReferences: [{ ...ref, name: "owner2", uid: o2.metadata.uid }] }));
    await call(api, "DELETE", `${CMS}/owner2?propagationPolicy=Orphan`);
    const dep3 = await call(api, "GET", `${CMS}/dep3`);
    expect(dep3.status).toBe(200);
    expect(dep3.body.metadata.ownerReferences).toBeUndefined();
  });

  it("namespace delete removes content; deletecollection; eviction", async () => {
    const { api } = newServer();
    await call(api, "POST", "/api/v1/namespaces", { metadata: { name: "tmp" } });
    await call(api, "POST", "/api/v1/namespaces/tmp/configmaps", cm("a"));
    await call(api, "POST", "/api/v1/namespaces/tmp/pods", { metadata: { name: "p", labels: { app: "x" } }, spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }] } });
    const ev = await call(api, "POST", "/api/v1/namespaces/tmp/pods/p/eviction", { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "p", namespace: "tmp" } });
    expect(ev.status).toBe(201);
    expect(ev.body).toMatchObject({ kind: "Status", status: "Success" });
    expect((await call(api, "GET", "/api/v1/namespaces/tmp/pods/p")).status).toBe(404);
    const ev404 = await call(api, "POST", "/api/v1/namespaces/tmp/pods/p/eviction", { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "p" } });
    expect(ev404.status).toBe(404);
    const d = await call(api, "DELETE", "/api/v1/namespaces/tmp");
    expect(d.status).toBe(200);
    expect((await call(api, "GET", "/api/v1/namespaces/tmp")).status).toBe(404);
    expect((await call(api, "GET", "/api/v1/namespaces/tmp/configmaps/a")).status).toBe(404);

    for (const n of ["x1", "x2", "y1"]) await call(api, "POST", CMS, cm(n, {}, { labels: { g: n[0] } }));
    const dc = await call(api, "DELETE", `${CMS}?labelSelector=g%3Dx`);
    expect(dc.status).toBe(200);
    const left = await call(api, "GET", CMS);
    expect(left.body.items.map((o: any) => o.metadata.name)).toEqual(["y1"]);
  });

  it("eviction respects a PodDisruptionBudget with no disruptions allowed", async () => {
    const { api } = newServer();
    await call(api, "POST", "/api/v1/namespaces/default/pods", { metadata: { name: "p", labels: { app: "x" } }, spec: { containers: [{ name: "c", image: "i" }] } });
    api.upsertObject({ ...api.getObject("v1", "Pod", "default", "p")!, status: { phase: "Running" } });
    await call(api, "POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets", {
      metadata: { name: "b" },
      spec: { selector: { matchLabels: { app: "x" } } },
    });
    const ev = await call(api, "POST", "/api/v1/namespaces/default/pods/p/eviction", { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "p" } });
    expect(ev.status).toBe(429);
    expect(ev.body.reason).toBe("TooManyRequests");
    expect((await call(api, "GET", "/api/v1/namespaces/default/pods/p")).status).toBe(200);
  });

  it("state survives a restart over the same persistence", async () => {
    const { api, persistence } = newServer();
    await call(api, "POST", CMS, cm("keep", { a: "b" }));
    const rv = api.resourceVersion;
    const again = new ApiServer({ persistence });
    expect(again.resourceVersion).toBe(rv);
    const g = await call(again, "GET", `${CMS}/keep`);
    expect(g.body.data).toEqual({ a: "b" });
    expect((await call(again, "GET", "/api/v1/namespaces")).body.items).toHaveLength(4);
  });

  it("system access has the same semantics", async () => {
    const { api } = newServer();
    const n = api.upsertObject({ apiVersion: "v1", kind: "Node", metadata: { name: "n1", labels: { a: "b" } }, spec: { providerID: "x://1" } });
    expect(n.metadata!.uid).toBeDefined();
    const n2 = api.upsertObject({ apiVersion: "v1", kind: "Node", metadata: { name: "n1" }, spec: { providerID: "x://1" }, status: { phase: "Running" } });
    expect(n2.metadata!.uid).toBe(n.metadata!.uid);
    expect(n2.metadata!.creationTimestamp).toBe(n.metadata!.creationTimestamp);
    expect(api.listObjects("v1", "Node", undefined, "a=b")).toHaveLength(0);
    expect(api.listObjects("v1", "Node")).toHaveLength(1);
    expect(api.getObject("v1", "Node", "", "n1")!.status).toEqual({ phase: "Running" });
    expect(api.deleteObject("v1", "Node", "", "n1")).toBe(true);
    expect(api.deleteObject("v1", "Node", "", "n1")).toBe(false);
    expect(api.countObjects()).toBe(4);
  });

  it("serves Table output for kubectl", async () => {
    const { api } = newServer();
    const r = await call(api, "GET", "/api/v1/namespaces?limit=500", undefined, { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" });
    expect(r.body.kind).toBe("Table");
    expect(r.body.columnDefinitions.map((c: any) => c.name)).toEqual(["Name", "Status", "Age"]);
    expect(r.body.rows.map((x: any) => x.cells[0])).toContain("kube-system");
  });

  it("dryRun stores nothing", async () => {
    const { api, persistence } = newServer();
    const before = persistence.commits;
    const r = await call(api, "POST", `${CMS}?dryRun=All`, cm("dry"));
    expect(r.status).toBe(201);
    expect(persistence.commits).toBe(before);
    expect((await call(api, "GET", `${CMS}/dry`)).status).toBe(404);
  });
});
