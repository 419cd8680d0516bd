import { describe, expect, it } from "vitest";
import { handleDiscovery } from "../../durable-objects/apiserver/discovery.js";
import { BUILTIN_KINDS } from "../../durable-objects/apiserver/kinds.js";
import { buildGroupVersionDocument, openApiV3Index } from "../../durable-objects/apiserver/openapi.js";
import type { KindInfo } from "../../durable-objects/apiserver/types.js";

const WIDGET: KindInfo = {
  group: "example.com",
  versions: ["v1", "v1alpha1"],
  kind: "Widget",
  listKind: "WidgetList",
  resource: "widgets",
  singular: "widget",
  namespaced: false,
  subresources: ["status", "scale"],
  hasStatusSubresource: true,
  custom: true,
  schemas: { v1: { type: "object", properties: { spec: { type: "object", properties: { size: { type: "integer" } } } } } },
};
const KINDS = [...BUILTIN_KINDS, WIDGET];

function fetchDoc(path: string, kinds = KINDS, headers: Record<string, string> = {}) {
  return handleDiscovery(new URL(`http://cluster.local${path}`), new Headers(headers), kinds, { gitVersion: "v1.31.0" });
}

const doc = (group: string, version: string) =>
  buildGroupVersionDocument(group, version, KINDS.filter((k) => k.group === group && k.versions.includes(version)), "v1.31.0") as any;

/** Every operation of a document, with its path and method. */
function operations(d: any): Array<{ path: string; method: string; op: any }> {
  const out = [];
  for (const [path, item] of Object.entries<any>(d.paths)) {
    for (const method of ["get", "put", "post", "patch", "delete"]) if (item[method]) out.push({ path, method, op: item[method] });
  }
  return out;
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

describe("OpenAPI v3 index", () => {
  it("lists one hash-addressed document per served group-version", async () => {
    const res = fetchDoc("/openapi/v3")!;
    expect(res.status).toBe(200);
    const index = (await res.json()) as any;
    expect(Object.keys(index.paths)).toEqual(expect.arrayContaining(["api/v1", "apis/apps/v1", "apis/example.com/v1", "apis/example.com/v1alpha1"]));
    expect(index.paths["api/v1"].serverRelativeURL).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]+$/);
  });

  it("changes a document's hash only when its group-version changes", () => {
    const before = openApiV3Index(KINDS, "v1.31.0").paths;
    const changed = { ...WIDGET, schemas: { v1: { type: "object", properties: { spec: { type: "object" } } } } };
    const after = openApiV3Index([...BUILTIN_KINDS, changed], "v1.31.0").paths;
    expect(after["apis/example.com/v1"].serverRelativeURL).not.toBe(before["apis/example.com/v1"].serverRelativeURL);
    expect(after["apis/apps/v1"].serverRelativeURL).toBe(before["apis/apps/v1"].serverRelativeURL);
  });

  it("serves documents with cache headers, 304 on a matching ETag and 404 for unknown group-versions", async () => {
    const url = openApiV3Index(KINDS, "v1.31.0").paths["apis/apps/v1"].serverRelativeURL;
    const res = fetchDoc(url)!;
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toContain("immutable");
    const etag = res.headers.get("etag")!;
    expect(fetchDoc(url, KINDS, { "if-none-match": etag })!.status).toBe(304);
    expect(fetchDoc("/openapi/v3/apis/apps/v1")!.headers.get("cache-control")).not.toContain("immutable");
    const missing = fetchDoc("/openapi/v3/apis/nope.io/v1")!;
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ kind: "Status", reason: "NotFound", code: 404 });
    expect(fetchDoc("/openapi/v2")!.status).toBe(404);
  });
});

describe("OpenAPI v3 group-version documents", () => {
  const core = doc("", "v1");
  const apps = doc("apps", "v1");

  it("has every $ref resolvable", () => {
    for (const d of [core, apps, doc("example.com", "v1"), doc("rbac.authorization.k8s.io", "v1"), doc("batch", "v1")]) {
      for (const r of refsIn(d)) {
        expect(r.startsWith("#/components/schemas/"), r).toBe(true);
        expect(d.components.schemas[r.slice("#/components/schemas/".length)], r).toBeDefined();
      }
    }
  });

  it("gives every PATCH operation a single GVK and the query parameters kubectl checks", () => {
    for (const d of [core, apps, doc("example.com", "v1")]) {
      // (proxy's PATCH is a "connect" operation with its own options kind, as in kube-apiserver)
      const patches = operations(d).filter((o) => o.method === "patch" && o.op["x-kubernetes-action"] !== "connect");
      expect(patches.length).toBeGreaterThan(0);
      for (const { path, op } of patches) {
        const gvk = op["x-kubernetes-group-version-kind"];
        expect(Array.isArray(gvk), path).toBe(false);
        expect(Object.keys(gvk).sort()).toEqual(["group", "kind", "version"]);
        expect(op["x-kubernetes-action"]).toBe("patch");
        const names = op.parameters.filter((p: any) => p.in === "query").map((p: any) => p.name);
        expect(names, path).toEqual(expect.arrayContaining(["fieldValidation", "dryRun", "fieldManager", "force"]));
      }
    }
  });

  it("describes each kind's operations like kube-apiserver", () => {
    const item = apps.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    expect(item.get["x-kubernetes-action"]).toBe("get");
    expect(item.put["x-kubernetes-action"]).toBe("put");
    expect(item.delete["x-kubernetes-action"]).toBe("delete");
    expect(item.patch.operationId).toBe("patchAppsV1NamespacedDeployment");
    expect(item.patch["x-kubernetes-group-version-kind"]).toEqual({ group: "apps", version: "v1", kind: "Deployment" });
    expect(Object.keys(item.patch.requestBody.content)).toContain("application/strategic-merge-patch+json");
    const coll = apps.paths["/apis/apps/v1/namespaces/{namespace}/deployments"];
    expect(coll.get["x-kubernetes-action"]).toBe("list");
    expect(coll.post["x-kubernetes-action"]).toBe("post");
    expect(coll.delete["x-kubernetes-action"]).toBe("deletecollection");
    expect(apps.paths["/apis/apps/v1/deployments"].get.operationId).toBe("listAppsV1DeploymentForAllNamespaces");
    expect(core.paths["/api/v1/nodes/{name}"].patch.operationId).toBe("patchCoreV1Node");
    expect(core.paths["/api/v1/namespaces/{namespace}/pods/{name}/eviction"].post["x-kubernetes-group-version-kind"]).toEqual({ group: "policy", version: "v1", kind: "Eviction" });
    expect(core.paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"].get["x-kubernetes-action"]).toBe("connect");
    expect(apps.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status"].patch["x-kubernetes-group-version-kind"].kind).toBe("Deployment");
  });

  it("publishes kind and list schemas with GVK arrays, and the standard meta types", () => {
    const s = apps.components.schemas;
    expect(s["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", kind: "Deployment", version: "v1" }]);
    expect(s["io.k8s.api.apps.v1.DeploymentList"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", kind: "DeploymentList", version: "v1" }]);
    expect(s["io.k8s.api.apps.v1.DeploymentList"].properties.items.items.allOf[0].$ref).toBe("#/components/schemas/io.k8s.api.apps.v1.Deployment");
    for (const n of ["ObjectMeta", "ListMeta", "Status", "DeleteOptions", "Patch", "WatchEvent"]) {
      expect(s[`io.k8s.apimachinery.pkg.apis.meta.v1.${n}`], n).toBeDefined();
    }
    expect(s["io.k8s.apimachinery.pkg.apis.meta.v1.Status"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "", kind: "Status", version: "v1" }]);
    expect(core.components.schemas["io.k8s.api.policy.v1.Eviction"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "policy", kind: "Eviction", version: "v1" }]);
  });

  it("carries strategic merge metadata on the lists kubectl apply merges", () => {
    const s = core.components.schemas;
    const podSpec = s["io.k8s.api.core.v1.PodSpec"].properties;
    expect(podSpec.containers).toMatchObject({ "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] });
    expect(podSpec.volumes).toMatchObject({ "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge,retainKeys" });
    expect(podSpec.tolerations["x-kubernetes-patch-merge-key"]).toBeUndefined();
    const container = s["io.k8s.api.core.v1.Container"].properties;
    expect(container.ports).toMatchObject({ "x-kubernetes-patch-merge-key": "containerPort", "x-kubernetes-list-map-keys": ["containerPort", "protocol"] });
    expect(container.env["x-kubernetes-patch-merge-key"]).toBe("name");
    expect(container.volumeMounts["x-kubernetes-patch-merge-key"]).toBe("mountPath");
    expect(container.env.items.allOf[0].$ref).toBe("#/components/schemas/io.k8s.api.core.v1.EnvVar");
    expect(s["io.k8s.api.core.v1.ServiceSpec"].properties.ports["x-kubernetes-patch-merge-key"]).toBe("port");
    expect(s["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].properties.ownerReferences["x-kubernetes-patch-merge-key"]).toBe("uid");
  });

  it("offers strategic merge patch only for built-in kinds it describes", () => {
    const sc = doc("storage.k8s.io", "v1").paths["/apis/storage.k8s.io/v1/storageclasses/{name}"];
    expect(Object.keys(sc.patch.requestBody.content)).not.toContain("application/strategic-merge-patch+json");
    expect(doc("storage.k8s.io", "v1").components.schemas["io.k8s.api.storage.v1.StorageClass"]["x-kubernetes-preserve-unknown-fields"]).toBe(true);
    const w = doc("example.com", "v1").paths["/apis/example.com/v1/widgets/{name}"];
    expect(Object.keys(w.patch.requestBody.content).sort()).toEqual(["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"]);
  });

  it("uses a CRD's schema per version, with typed metadata, else preserves unknown fields", () => {
    const v1 = doc("example.com", "v1").components.schemas["com.example.v1.Widget"];
    expect(v1.properties.spec.properties.size).toEqual({ type: "integer" });
    expect(v1.properties.metadata.allOf[0].$ref).toBe("#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    expect(v1["x-kubernetes-group-version-kind"]).toEqual([{ group: "example.com", kind: "Widget", version: "v1" }]);
    const alpha = doc("example.com", "v1alpha1").components.schemas["com.example.v1alpha1.Widget"];
    expect(alpha["x-kubernetes-preserve-unknown-fields"]).toBe(true);
    const scale = doc("example.com", "v1").paths["/apis/example.com/v1/widgets/{name}/scale"];
    expect(scale.patch["x-kubernetes-group-version-kind"]).toEqual({ group: "autoscaling", version: "v1", kind: "Scale" });
    // The caller's schema object is not modified.
    expect((WIDGET.schemas!.v1 as any).properties.metadata).toBeUndefined();
  });
});
