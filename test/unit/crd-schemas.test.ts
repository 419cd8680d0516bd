import { describe, expect, it } from "vitest";
import { call, newServer } from "../helpers/node-host.js";

const widgetSchema = {
  type: "object",
  properties: { spec: { type: "object", properties: { size: { type: "integer", description: "How big the widget is." } } } },
};

describe("CRD schemas in OpenAPI", () => {
  it("publishes each served version's openAPIV3Schema in the group-version document", async () => {
    const { api } = newServer();
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "widgets.example.com" },
      spec: {
        group: "example.com",
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
        versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: widgetSchema } }],
      },
    };
    expect((await call(api, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)).status).toBe(201);
    const index = await call(api, "GET", "/openapi/v3");
    const docPath = index.body.paths["apis/example.com/v1"].serverRelativeURL as string;
    const doc = await call(api, "GET", docPath);
    expect(doc.status).toBe(200);
    const schemas = doc.body.components.schemas as Record<string, any>;
    const widget = Object.values(schemas).find((s) =>
      (s["x-kubernetes-group-version-kind"] ?? []).some((g: any) => g.kind === "Widget" && g.version === "v1"),
    );
    expect(widget?.properties?.spec?.properties?.size).toMatchObject({ type: "integer", description: "How big the widget is." });
  });
});
