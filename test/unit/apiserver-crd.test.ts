import { describe, expect, it } from "vitest";
import { ApiServer } from "../../durable-objects/apiserver/server.js";
import { call, newServer } from "../helpers/node-host.js";

const CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

const widgetCrd = (versions = ["v1alpha1", "v1beta1"]) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", shortNames: ["wd"], categories: ["all"] },
    versions: versions.map((name, i) => ({
      name,
      served: true,
      storage: i === versions.length - 1,
      schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      subresources: { status: {} },
    })),
  },
});

describe("apiserver CRDs", () => {
  it("registers the kind with Established/NamesAccepted and serves it in every version", async () => {
    const { api } = newServer();
    const unknown = await call(api, "GET", "/apis/example.com/v1beta1/namespaces/default/widgets");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ kind: "Status", reason: "NotFound", message: "the server could not find the requested resource" });

    const c = await call(api, "POST", CRDS, widgetCrd());
    expect(c.status).toBe(201);
    const conds = Object.fromEntries(c.body.status.conditions.map((x: any) => [x.type, x.status]));
    expect(conds).toEqual({ NamesAccepted: "True", Established: "True" });
    expect(c.body.status.acceptedNames).toMatchObject({ plural: "widgets", kind: "Widget", shortNames: ["wd"] });
    const k = api.kinds().find((x) => x.group === "example.com")!;
    expect(k).toMatchObject({ resource: "widgets", versions: ["v1beta1", "v1alpha1"], namespaced: true, hasStatusSubresource: true, custom: true });

    const w = await call(api, "POST", "/apis/example.com/v1alpha1/namespaces/default/widgets", {
      apiVersion: "example.com/v1alpha1",
      kind: "Widget",
      metadata: { name: "w1" },
      spec: { size: 1 },
      status: { ready: true },
    });
    expect(w.status).toBe(201);
    expect(w.body.status).toBeUndefined(); // status subresource: dropped on create
    const other = await call(api, "GET", "/apis/example.com/v1beta1/namespaces/default/widgets/w1");
    expect(other.body.apiVersion).toBe("example.com/v1beta1");
    const st = await call(api, "PATCH", "/apis/example.com/v1beta1/namespaces/default/widgets/w1/status", { status: { ready: true } }, { "content-type": "application/merge-patch+json" });
    expect(st.status).toBe(200);
    expect(st.body.status).toEqual({ ready: true });
    const smp = await call(api, "PATCH", "/apis/example.com/v1beta1/namespaces/default/widgets/w1", { spec: { size: 2 } }, { "content-type": "application/strategic-merge-patch+json" });
    expect(smp.status).toBe(415);
    expect(smp.body.reason).toBe("UnsupportedMediaType");
  });

  it("survives a restart and is unregistered (with its objects) on delete", async () => {
    const { api, persistence } = newServer();
    await call(api, "POST", CRDS, widgetCrd(["v1"]));
    await call(api, "POST", "/apis/example.com/v1/namespaces/default/widgets", { metadata: { name: "w" }, spec: {} });
    const again = new ApiServer({ persistence });
    expect((await call(again, "GET", "/apis/example.com/v1/namespaces/default/widgets/w")).status).toBe(200);
    const d = await call(again, "DELETE", `${CRDS}/widgets.example.com`);
    expect(d.status).toBe(200);
    expect((await call(again, "GET", "/apis/example.com/v1/namespaces/default/widgets")).status).toBe(404);
    // re-creating the CRD does not bring the old objects back
    await call(again, "POST", CRDS, widgetCrd(["v1"]));
    expect((await call(again, "GET", "/apis/example.com/v1/namespaces/default/widgets")).body.items).toEqual([]);
  });

  it("rejects invalid CRDs with 422 and a name that is not plural.group", async () => {
    const { api } = newServer();
    const bad = widgetCrd();
    bad.metadata.name = "wrong.example.com";
    const r = await call(api, "POST", CRDS, bad);
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe("Invalid");
    const noStorage = widgetCrd();
    noStorage.spec.versions.forEach((v) => (v.storage = false));
    expect((await call(api, "POST", CRDS, noStorage)).status).toBe(422);
    expect(api.kinds().some((k) => k.group === "example.com")).toBe(false);
  });

  it("rejects a schema whose keywords have the wrong JSON type (a YAML `description: a: b` slip), naming the field", async () => {
    const { api } = newServer();
    const crd = widgetCrd(["v1"]) as any;
    crd.spec.versions[0].schema.openAPIV3Schema = {
      type: "object",
      properties: {
        spec: {
          type: "object",
          required: "name",
          properties: { name: { type: "string", description: { "The name (default": "none)" } }, size: { type: "integer", minimum: "0" } },
          additionalProperties: { type: 7 },
        },
      },
    };
    const r = await call(api, "POST", CRDS, crd);
    expect(r.status).toBe(422);
    const fields = r.body.details.causes.map((c: any) => c.field);
    const at = "spec.versions[0].schema.openAPIV3Schema.properties[spec]";
    expect(fields).toEqual(expect.arrayContaining([`${at}.required`, `${at}.properties[name].description`, `${at}.properties[size].minimum`, `${at}.additionalProperties.type`]));
    expect(api.kinds().some((k) => k.group === "example.com")).toBe(false);
  });

  it.each([
    [{ strategy: "Convert" }, "spec.conversion.strategy"],
    [{ strategy: "Webhook" }, "spec.conversion.webhook"],
    [{ strategy: "Webhook", webhook: { clientConfig: { url: "https://x/convert" } } }, "spec.conversion.webhook.conversionReviewVersions"],
    [{ strategy: "Webhook", webhook: { conversionReviewVersions: ["v1"], clientConfig: {} } }, "spec.conversion.webhook.clientConfig"],
    [{ strategy: "None", webhook: { conversionReviewVersions: ["v1"] } }, "spec.conversion.webhook"],
  ])("rejects conversion %j with a 422 on %s", async (conversion, field) => {
    const { api } = newServer();
    const crd = { ...widgetCrd(), spec: { ...widgetCrd().spec, conversion } };
    const r = await call(api, "POST", CRDS, crd);
    expect(r.status).toBe(422);
    expect(r.body.details.causes.map((c: any) => c.field)).toContain(field);
  });

  it("a conversion webhook it does not run leaves objects relabelled between versions", async () => {
    const { api } = newServer();
    const conversion = { strategy: "Webhook", webhook: { conversionReviewVersions: ["v1"], clientConfig: { service: { namespace: "x", name: "y" } } } };
    expect((await call(api, "POST", CRDS, { ...widgetCrd(), spec: { ...widgetCrd().spec, conversion } })).status).toBe(201);
    expect(api.kinds().find((k) => k.group === "example.com")!.convert).toBeUndefined();
    await call(api, "POST", "/apis/example.com/v1alpha1/namespaces/default/widgets", { metadata: { name: "w" }, spec: { a: 1 } });
    const r = await call(api, "GET", "/apis/example.com/v1beta1/namespaces/default/widgets/w");
    expect(r.body).toMatchObject({ apiVersion: "example.com/v1beta1", spec: { a: 1 } });
  });

  it("a CRD colliding with a built-in resource is not established", async () => {
    const { api } = newServer();
    const r = await call(api, "POST", CRDS, {
      metadata: { name: "pods.example.com" },
      spec: { group: "example.com", scope: "Namespaced", names: { plural: "pods", kind: "Pod" }, versions: [{ name: "v1", served: true, storage: true }] },
    });
    expect(r.status).toBe(201);
    // Different group: no collision, so it is accepted.
    expect(r.body.status.conditions.find((c: any) => c.type === "Established").status).toBe("True");
  });
});
