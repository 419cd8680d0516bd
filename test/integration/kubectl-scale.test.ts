// The scale subresource, driven by real kubectl: `kubectl scale` on a Deployment and on a custom
// resource whose CRD declares scale paths (as CAPI's MachineDeployment does), the Scale object kubectl
// and the HPA read, and the refusals (negative replicas, a stale resourceVersion) that change nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../helpers/cli.js";
import { clusterServer, createCluster, edgeFetch, kubectlPath, spawnEdge, tempDir, writeKubeconfig, type SpawnedEdge } from "../helpers/edge.js";

const VERSION = "1.32";
const C = "/clusters/default/scale";
let edge: SpawnedEdge;
let kubeconfig: string;

const DEPLOYMENT = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web" },
  spec: { replicas: 2, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
};

const CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "pools.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { plural: "pools", singular: "pool", kind: "Pool", listKind: "PoolList" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        subresources: { status: {}, scale: { specReplicasPath: ".spec.size", statusReplicasPath: ".status.size", labelSelectorPath: ".status.selector" } },
      },
    ],
  },
};

async function post(path: string, body: unknown) {
  const res = await edgeFetch(edge, `${C}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(201);
}

beforeAll(async () => {
  edge = await spawnEdge();
  await createCluster(edge, "default", "scale");
  await post("/apis/apps/v1/namespaces/default/deployments", DEPLOYMENT);
  await post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD);
  await post("/apis/example.com/v1/namespaces/default/pools", { apiVersion: "example.com/v1", kind: "Pool", metadata: { name: "p" }, spec: { size: 1 } });
  kubeconfig = writeKubeconfig({ server: clusterServer(edge.httpsUrl, "default", "scale"), token: edge.token, caPem: edge.caPem, dir: tempDir("capim-scale-") });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
});

describe.skipIf(!kubectlPath(VERSION))("scale subresource", () => {
  it("kubectl scale a Deployment: spec.replicas changes, nothing else does", async () => {
    const before = await (await edgeFetch(edge, `${C}/apis/apps/v1/namespaces/default/deployments/web`)).json();
    const r = await kubectl(VERSION, kubeconfig, ["scale", "deployment", "web", "--replicas=5"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("deployment.apps/web scaled");
    const after = await (await edgeFetch(edge, `${C}/apis/apps/v1/namespaces/default/deployments/web`)).json();
    expect(after.spec.replicas).toBe(5);
    expect({ ...after.spec, replicas: 2 }).toEqual(before.spec);
    expect(after.metadata.generation).toBe(before.metadata.generation + 1);
  });

  it("serves the Scale object with the selector as a string", async () => {
    const scale = await (await edgeFetch(edge, `${C}/apis/apps/v1/namespaces/default/deployments/web/scale`)).json();
    expect(scale).toMatchObject({ kind: "Scale", apiVersion: "autoscaling/v1", metadata: { name: "web", namespace: "default" }, spec: { replicas: 5 }, status: { replicas: 0, selector: "app=web" } });
  });

  it("kubectl scale a custom resource through its CRD's scale paths, with --current-replicas as a precondition", async () => {
    const refused = await kubectl(VERSION, kubeconfig, ["scale", "pool", "p", "--replicas=4", "--current-replicas=3"]);
    expect(refused.code).not.toBe(0);
    const r = await kubectl(VERSION, kubeconfig, ["scale", "pool", "p", "--replicas=4", "--current-replicas=1"]);
    expect(r.code, r.stderr).toBe(0);
    const pool = await (await edgeFetch(edge, `${C}/apis/example.com/v1/namespaces/default/pools/p`)).json();
    expect(pool.spec.size).toBe(4);
  });

  it("refuses negative replicas (422) and a stale resourceVersion (409), changing nothing", async () => {
    const path = `${C}/apis/apps/v1/namespaces/default/deployments/web/scale`;
    const neg = await edgeFetch(edge, path, { method: "PATCH", headers: { "content-type": "application/merge-patch+json" }, body: JSON.stringify({ spec: { replicas: -1 } }) });
    expect(neg.status).toBe(422);
    expect((await neg.json()).details.causes[0].field).toBe("spec.replicas");
    const stale = await edgeFetch(edge, path, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: "web", resourceVersion: "1" }, spec: { replicas: 9 } }) });
    expect(stale.status).toBe(409);
    const d = await (await edgeFetch(edge, `${C}/apis/apps/v1/namespaces/default/deployments/web`)).json();
    expect(d.spec.replicas).toBe(5);
  });
});
