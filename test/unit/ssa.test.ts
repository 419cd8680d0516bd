// Server-side apply with field ownership (metadata.managedFields), through the ApiServer request path.
import { describe, expect, it } from "vitest";
import { call, newServer } from "../helpers/node-host.js";

const CMS = "/api/v1/namespaces/default/configmaps";
const DEPS = "/apis/apps/v1/namespaces/default/deployments";
const APPLY = { "content-type": "application/apply-patch+yaml" };

function apply(api: any, path: string, manager: string, body: unknown, extra = "") {
  return call(api, "PATCH", `${path}?fieldManager=${manager}${extra}`, JSON.stringify(body), APPLY);
}
const cmBody = (data?: Record<string, string>, labels?: Record<string, string>) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", ...(labels ? { labels } : {}) }, ...(data ? { data } : {}) });
const entries = (o: any) => (o.metadata.managedFields ?? []).map((m: any) => `${m.manager}/${m.operation}`).sort();
const entry = (o: any, manager: string, op = "Apply") => o.metadata.managedFields.find((m: any) => m.manager === manager && m.operation === op);

describe("server-side apply ownership", () => {
  it("records Apply entries in FieldsV1 form and removes fields the manager stopped applying", async () => {
    const { api } = newServer();
    let r = await apply(api, `${CMS}/c`, "a", cmBody({ s: "1", keep: "x" }, { app: "w" }));
    expect(r.status).toBe(201);
    const e = entry(r.body, "a");
    expect(e).toMatchObject({ manager: "a", operation: "Apply", apiVersion: "v1", fieldsType: "FieldsV1" });
    expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(e.fieldsV1).toEqual({ "f:data": { "f:keep": {}, "f:s": {} }, "f:metadata": { "f:labels": { "f:app": {} } } });

    r = await apply(api, `${CMS}/c`, "a", cmBody({ t: "2", keep: "x" }));
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ t: "2", keep: "x" });
    expect(r.body.metadata.labels).toBeUndefined();
    expect(entry(r.body, "a").fieldsV1).toEqual({ "f:data": { "f:keep": {}, "f:t": {} } });

    // Same manifest again: nothing changes, not even the resourceVersion.
    const again = await apply(api, `${CMS}/c`, "a", cmBody({ t: "2", keep: "x" }));
    expect(again.body.metadata.resourceVersion).toBe(r.body.metadata.resourceVersion);
  });

  it("a field another manager also owns survives its removal from one manager's apply", async () => {
    const { api } = newServer();
    await apply(api, `${CMS}/c`, "a", cmBody({ k: "v", only: "a" }));
    await apply(api, `${CMS}/c`, "b", cmBody({ k: "v" })); // same value: shared, no conflict
    const r = await apply(api, `${CMS}/c`, "a", cmBody());
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ k: "v" });
    expect(entries(r.body)).toEqual(["b/Apply"]);
  });

  it("conflicts with another manager's fields are 409 unless force=true", async () => {
    const { api } = newServer();
    await apply(api, `${CMS}/c`, "a", cmBody({ key: "1", other: "1" }));
    let r = await apply(api, `${CMS}/c`, "b", cmBody({ key: "2", other: "2" }));
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ kind: "Status", status: "Failure", reason: "Conflict", code: 409 });
    expect(r.body.message).toBe('Apply failed with 2 conflicts: conflicts with "a":\n- .data.key\n- .data.other');
    expect(r.body.details.causes).toEqual([
      { type: "FieldManagerConflict", message: 'conflict with "a"', field: ".data.key" },
      { type: "FieldManagerConflict", message: 'conflict with "a"', field: ".data.other" },
    ]);
    expect((await call(api, "GET", `${CMS}/c`)).body.data).toEqual({ key: "1", other: "1" });

    r = await apply(api, `${CMS}/c`, "b", cmBody({ key: "2" }), "&force=true");
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ key: "2", other: "1" });
    expect(entry(r.body, "a").fieldsV1).toEqual({ "f:data": { "f:other": {} } });
    expect(entry(r.body, "b").fieldsV1).toEqual({ "f:data": { "f:key": {} } });
  });

  it("non-apply writes record Update entries (fieldManager, else user agent) and a conflict names them", async () => {
    const { api } = newServer();
    let r = await call(api, "POST", CMS, cmBody({ key: "1" }), { "user-agent": "kubectl-create/v1.32.3 (linux/amd64) kubernetes/abc" });
    expect(entries(r.body)).toEqual(["kubectl-create/Update"]);
    expect(entry(r.body, "kubectl-create", "Update").fieldsV1).toEqual({ "f:data": { "f:key": {} } });
    r = await call(api, "PATCH", `${CMS}/c?fieldManager=kubectl-edit`, { data: { key: "2", more: "x" } }, { "content-type": "application/merge-patch+json" });
    expect(entries(r.body)).toEqual(["kubectl-edit/Update"]); // it took over key; kubectl-create owns nothing now
    const edit = entry(r.body, "kubectl-edit", "Update");
    r = await apply(api, `${CMS}/c`, "ssa", cmBody({ key: "3" }));
    expect(r.status).toBe(409);
    expect(r.body.message).toBe(`Apply failed with 1 conflict: conflict with "kubectl-edit" using v1 at ${edit.time}: .data.key`);
    r = await apply(api, `${CMS}/c`, "ssa", cmBody({ key: "2" })); // same value: no conflict
    expect(r.status).toBe(200);
    expect(entries(r.body)).toEqual(["kubectl-edit/Update", "ssa/Apply"]);
    // A write that removes a field takes it from every owner.
    r = await call(api, "PUT", `${CMS}/c`, cmBody(), { "user-agent": "kubectl-replace/v1.29.3" });
    expect(r.body.metadata.managedFields ?? []).toEqual([]);
    // managedFields: [] clears them, as kube documents.
    await apply(api, `${CMS}/c`, "ssa", cmBody({ key: "9" }));
    r = await call(api, "PATCH", `${CMS}/c`, { metadata: { managedFields: [] } }, { "content-type": "application/merge-patch+json" });
    expect(r.body.metadata.managedFields).toBeUndefined();
    expect(r.body.data).toEqual({ key: "9" });
  });

  it("keyed lists: items are k:{...} with '.', dropping an item removes it, other owners keep theirs", async () => {
    const { api } = newServer();
    const dep = (containers: unknown[], replicas?: number) => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d", finalizers: ["x.io/f"] },
      spec: { ...(replicas ? { replicas } : {}), selector: { matchLabels: { app: "d" } }, template: { metadata: { labels: { app: "d" } }, spec: { containers } } },
    });
    let r = await apply(api, `${DEPS}/d`, "a", dep([{ name: "nginx", image: "nginx:1" }, { name: "side", image: "busybox" }], 2));
    expect(r.status).toBe(201);
    const f = entry(r.body, "a").fieldsV1;
    expect(f["f:metadata"]).toEqual({ "f:finalizers": { 'v:"x.io/f"': {} } });
    expect(f["f:spec"]["f:template"]["f:spec"]["f:containers"]).toEqual({
      'k:{"name":"nginx"}': { ".": {}, "f:image": {}, "f:name": {} },
      'k:{"name":"side"}': { ".": {}, "f:image": {}, "f:name": {} },
    });
    // Another manager sets a field inside the sidecar item, then "a" drops the sidecar: the item stays
    // (still partly owned by b) with only b's and the key field... and a's image goes.
    r = await call(api, "PATCH", `${DEPS}/d?fieldManager=b`, { spec: { template: { spec: { containers: [{ name: "side", command: ["sleep"] }] } } } }, { "content-type": "application/strategic-merge-patch+json" });
    expect(r.status).toBe(200);
    r = await apply(api, `${DEPS}/d`, "a", dep([{ name: "nginx", image: "nginx:2" }]));
    expect(r.status).toBe(200);
    expect(r.body.spec.template.spec.containers.map((c: any) => c.name)).toEqual(["nginx", "side"]);
    expect(r.body.spec.template.spec.containers[1].image).toBeUndefined();
    expect(r.body.spec.template.spec.containers[1].command).toEqual(["sleep"]);
    expect(r.body.spec.replicas).toBeUndefined(); // a stopped applying replicas
    expect(r.body.metadata.generation).toBe(3);

    // An item no one else owns disappears when its applier drops it.
    r = await apply(api, `${DEPS}/d`, "c", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { template: { spec: { containers: [{ name: "extra", image: "e" }] } } } });
    expect(r.body.spec.template.spec.containers.map((c: any) => c.name).sort()).toEqual(["extra", "nginx", "side"]); // order: not modelled
    r = await apply(api, `${DEPS}/d`, "c", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" } });
    expect(r.body.spec.template.spec.containers.map((c: any) => c.name).sort()).toEqual(["nginx", "side"]);
    expect(entries(r.body)).not.toContain("c/Apply");
  });

  it("bad apply requests are Status errors", async () => {
    const { api } = newServer();
    let r = await call(api, "PATCH", `${CMS}/c`, JSON.stringify(cmBody({})), APPLY);
    expect(r.status).toBe(422);
    r = await apply(api, `${CMS}/c`, "a", { ...cmBody({}), metadata: { name: "c", managedFields: [{ manager: "x" }] } });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe("metadata.managedFields must be nil");
  });
});
