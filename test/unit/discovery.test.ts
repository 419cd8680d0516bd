import { describe, expect, it } from "vitest";
import { aggregatedVersion, handleDiscovery } from "../../durable-objects/apiserver/discovery.js";
import { BUILTIN_KINDS } from "../../durable-objects/apiserver/kinds.js";
import type { KindInfo } from "../../durable-objects/apiserver/types.js";

const CRD: KindInfo = {
  group: "infrastructure.example.io",
  versions: ["v1beta2", "v1alpha1"],
  kind: "DevCluster",
  listKind: "DevClusterList",
  resource: "devclusters",
  singular: "devcluster",
  namespaced: true,
  categories: ["cluster-api"],
  subresources: ["status"],
  hasStatusSubresource: true,
  custom: true,
};
const KINDS = [...BUILTIN_KINDS, CRD];
const V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

async function get(path: string, accept = "application/json", kinds = KINDS, gitVersion = "v1.31.0") {
  const res = handleDiscovery(new URL(`http://cluster.local${path}`), new Headers({ accept }), kinds, { gitVersion });
  if (!res) return undefined;
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text (health)
  }
  return { status: res.status, type: res.headers.get("content-type"), body };
}

describe("version and health", () => {
  it("derives /version from gitVersion", async () => {
    const r = await get("/version", "application/json", KINDS, "v1.32.3");
    expect(r?.status).toBe(200);
    expect(r?.body).toMatchObject({ major: "1", minor: "32", gitVersion: "v1.32.3", compiler: "gc", platform: "linux/amd64", gitTreeState: "clean" });
    for (const f of ["gitCommit", "buildDate", "goVersion"]) expect(typeof r?.body[f]).toBe("string");
    expect((await get("/version", "application/json", KINDS, "v1.30.0-rc.1"))?.body.minor).toBe("30+");
  });

  it("answers health checks as text", async () => {
    for (const p of ["/healthz", "/livez", "/readyz", "/readyz/ping", "/livez/etcd"]) {
      const r = await get(p);
      expect(r?.status, p).toBe(200);
      expect(r?.body).toBe("ok");
      expect(r?.type).toMatch(/^text\/plain/);
    }
    const verbose = await get("/readyz?verbose");
    expect(verbose?.body).toContain("[+]ping ok");
    expect(verbose?.body).toMatch(/readyz check passed\n$/);
    expect((await get("/healthz/nope"))?.status).toBe(404);
  });

  it("lists the served paths at /", async () => {
    const r = await get("/");
    expect(r?.body.paths).toEqual(expect.arrayContaining(["/api", "/api/v1", "/apis", "/apis/apps/v1", "/apis/infrastructure.example.io/v1beta2", "/version", "/healthz", "/openapi/v3"]));
  });
});

describe("legacy discovery", () => {
  it("serves /api and /api/v1 with subresources", async () => {
    expect((await get("/api"))?.body).toMatchObject({ kind: "APIVersions", versions: ["v1"] });
    const r = await get("/api/v1");
    expect(r?.body).toMatchObject({ kind: "APIResourceList", apiVersion: "v1", groupVersion: "v1" });
    const byName = new Map<string, any>(r!.body.resources.map((x: any) => [x.name, x]));
    expect(byName.get("configmaps")).toMatchObject({ singularName: "configmap", namespaced: true, kind: "ConfigMap", shortNames: ["cm"] });
    expect(byName.get("configmaps").verbs).toEqual(expect.arrayContaining(["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]));
    expect(byName.get("pods")).toMatchObject({ shortNames: ["po"], categories: ["all"] });
    expect(byName.get("pods/status")).toMatchObject({ namespaced: true, kind: "Pod", verbs: ["get", "patch", "update"] });
    expect(byName.get("pods/eviction")).toMatchObject({ group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] });
    expect(byName.get("pods/portforward")).toMatchObject({ kind: "PodPortForwardOptions", verbs: ["create", "get"] });
    expect(byName.get("nodes/status")).toMatchObject({ namespaced: false, kind: "Node" });
    expect(byName.get("namespaces/status")).toMatchObject({ namespaced: false, kind: "Namespace" });
    expect(byName.get("serviceaccounts/token")).toMatchObject({ group: "authentication.k8s.io", kind: "TokenRequest" });
  });

  it("serves /apis, /apis/<g> and /apis/<g>/<v> following the kinds", async () => {
    const list = await get("/apis");
    expect(list?.body.kind).toBe("APIGroupList");
    const crd = list?.body.groups.find((g: any) => g.name === "infrastructure.example.io");
    expect(crd.versions.map((v: any) => v.version)).toEqual(["v1beta2", "v1alpha1"]);
    expect(crd.preferredVersion).toEqual({ groupVersion: "infrastructure.example.io/v1beta2", version: "v1beta2" });
    expect(list?.body.groups.some((g: any) => g.name === "")).toBe(false);

    const apps = await get("/apis/apps");
    expect(apps?.body).toMatchObject({ kind: "APIGroup", name: "apps", preferredVersion: { groupVersion: "apps/v1" } });

    const r = await get("/apis/infrastructure.example.io/v1alpha1");
    expect(r?.body.groupVersion).toBe("infrastructure.example.io/v1alpha1");
    expect(r?.body.resources.map((x: any) => x.name)).toEqual(["devclusters", "devclusters/status"]);
    expect(r?.body.resources[0]).toMatchObject({ kind: "DevCluster", categories: ["cluster-api"], namespaced: true });
    // Without the CRD its group disappears.
    expect((await get("/apis/infrastructure.example.io", "application/json", BUILTIN_KINDS))?.status).toBe(404);
  });

  it("orders a group's versions by Kubernetes version priority", async () => {
    const k: KindInfo = { ...CRD, group: "x.example.io", versions: ["v1alpha1", "v2beta1", "v1", "v1beta1"] };
    const r = await get("/apis/x.example.io", "application/json", [k]);
    expect(r?.body.versions.map((v: any) => v.version)).toEqual(["v1", "v2beta1", "v1beta1", "v1alpha1"]);
  });

  it("answers 404 Status for unknown groups and versions", async () => {
    for (const p of ["/apis/nope.io", "/apis/nope.io/v1", "/apis/apps/v2", "/api/v2"]) {
      const r = await get(p);
      expect(r?.status, p).toBe(404);
      expect(r?.body).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
    }
  });

  it("leaves resource paths to the router", async () => {
    for (const p of ["/api/v1/pods", "/api/v1/namespaces/default/configmaps/x", "/apis/apps/v1/deployments", "/apis/apps/v1/watch/deployments", "/metrics", "/foo"]) {
      expect(await get(p), p).toBeUndefined();
    }
  });
});

describe("aggregated discovery", () => {
  it("picks the aggregated form the Accept header prefers", () => {
    expect(aggregatedVersion(`${V2},${V2BETA1},application/json`)).toBe("v2");
    expect(aggregatedVersion(`${V2BETA1},application/json`)).toBe("v2beta1");
    expect(aggregatedVersion(`application/json,${V2}`)).toBeUndefined();
    expect(aggregatedVersion("application/json")).toBeUndefined();
    expect(aggregatedVersion(null)).toBeUndefined();
    expect(aggregatedVersion("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList, application/json")).toBeUndefined();
  });

  for (const [accept, version] of [[`${V2},application/json`, "v2"], [`${V2BETA1},application/json`, "v2beta1"]] as const) {
    it(`serves /apis and /api as apidiscovery.k8s.io/${version}`, async () => {
      const apis = await get("/apis", accept);
      expect(apis?.type).toBe(`application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`);
      expect(apis?.body).toMatchObject({ kind: "APIGroupDiscoveryList", apiVersion: `apidiscovery.k8s.io/${version}` });
      const apps = apis?.body.items.find((g: any) => g.metadata.name === "apps");
      const deploy = apps.versions[0].resources.find((r: any) => r.resource === "deployments");
      expect(apps.versions[0]).toMatchObject({ version: "v1", freshness: "Current" });
      expect(deploy).toMatchObject({
        responseKind: { group: "apps", version: "v1", kind: "Deployment" },
        scope: "Namespaced",
        singularResource: "deployment",
        shortNames: ["deploy"],
        categories: ["all"],
        subresources: [
          { subresource: "status", responseKind: { group: "apps", version: "v1", kind: "Deployment" }, verbs: ["get", "patch", "update"] },
          { subresource: "scale", responseKind: { group: "autoscaling", version: "v1", kind: "Scale" }, verbs: ["get", "patch", "update"] },
        ],
      });
      const crd = apis?.body.items.find((g: any) => g.metadata.name === "infrastructure.example.io");
      expect(crd.versions.map((v: any) => v.version)).toEqual(["v1beta2", "v1alpha1"]);

      const core = await get("/api", accept);
      expect(core?.body.items).toHaveLength(1);
      const nodes = core?.body.items[0].versions[0].resources.find((r: any) => r.resource === "nodes");
      expect(nodes).toMatchObject({ scope: "Cluster", responseKind: { group: "", version: "v1", kind: "Node" }, shortNames: ["no"] });
    });
  }
});
