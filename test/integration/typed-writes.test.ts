// A typed-write battery: wrongly typed fields of built-in kinds, sent by every write path (POST, PUT,
// merge, strategic merge, JSON patch, server-side apply), answer 422 Invalid with kube's field path and
// store nothing; afterwards real kubectl still decodes every object of those kinds (`kubectl describe`
// and `get -o yaml` both go through client-go's typed decoders, which one bad object would break).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../helpers/cli.js";
import { clusterServer, createCluster, edgeFetch, spawnEdge, tempDir, writeKubeconfig, type SpawnedEdge } from "../helpers/edge.js";

const CLUSTER = "/clusters/default/typed";
let edge: SpawnedEdge;
let kubeconfig: string;

const JSON_CT = "application/json";
const MERGE = "application/merge-patch+json";
const STRATEGIC = "application/strategic-merge-patch+json";
const JSON_PATCH = "application/json-patch+json";
const APPLY = "application/apply-patch+yaml";

async function send(method: string, path: string, contentType: string, body: unknown) {
  const res = await edgeFetch(edge, `${CLUSTER}${path}`, { method, headers: { "content-type": contentType }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { kind?: string; reason?: string; details?: { causes?: { field?: string; reason?: string }[] } } };
}

beforeAll(async () => {
  edge = await spawnEdge();
  await createCluster(edge, "default", "typed");
  const create = async (path: string, body: unknown) => expect((await send("POST", path, JSON_CT, body)).status).toBe(201);
  await create("/api/v1/namespaces/default/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" }, data: { k: "v" } });
  await create("/api/v1/namespaces/default/secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { k: "dg==" } });
  await create("/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "n" }, spec: { taints: [{ key: "a", effect: "NoSchedule" }] } });
  await create("/api/v1/namespaces/default/pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "busybox" }] } });
  kubeconfig = writeKubeconfig({ server: clusterServer(edge.httpsUrl, "default", "typed"), token: edge.token, caPem: edge.caPem, dir: tempDir("capim-typed-") });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
});

interface Case {
  what: string;
  method: string;
  path: string;
  contentType: string;
  body: unknown;
  field: string;
}

const cm = (extra: Record<string, unknown>) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" }, ...extra });
const CASES: Case[] = [
  { what: "create data array", method: "POST", path: "/api/v1/namespaces/default/configmaps", contentType: JSON_CT, body: { ...cm({ data: [1] }), metadata: { name: "new" } }, field: "data" },
  { what: "create data number", method: "POST", path: "/api/v1/namespaces/default/configmaps", contentType: JSON_CT, body: { ...cm({ data: { a: 5 } }), metadata: { name: "new" } }, field: "data[a]" },
  { what: "put data number", method: "PUT", path: "/api/v1/namespaces/default/configmaps/cm", contentType: JSON_CT, body: cm({ data: { a: 5 } }), field: "data[a]" },
  { what: "merge data array", method: "PATCH", path: "/api/v1/namespaces/default/configmaps/cm", contentType: MERGE, body: { data: [1] }, field: "data" },
  { what: "merge data number", method: "PATCH", path: "/api/v1/namespaces/default/configmaps/cm", contentType: MERGE, body: { data: { a: 5 } }, field: "data[a]" },
  { what: "strategic data number", method: "PATCH", path: "/api/v1/namespaces/default/configmaps/cm", contentType: STRATEGIC, body: { data: { a: 5 } }, field: "data[a]" },
  { what: "json patch data number", method: "PATCH", path: "/api/v1/namespaces/default/configmaps/cm", contentType: JSON_PATCH, body: [{ op: "add", path: "/data/a", value: 5 }], field: "data[a]" },
  { what: "apply data number", method: "PATCH", path: "/api/v1/namespaces/default/configmaps/cm?fieldManager=t", contentType: APPLY, body: cm({ data: { a: 5 } }), field: "data[a]" },
  { what: "binaryData not base64", method: "PATCH", path: "/api/v1/namespaces/default/configmaps/cm", contentType: MERGE, body: { binaryData: { b: "!!!" } }, field: "binaryData[b]" },
  { what: "secret data not base64", method: "PATCH", path: "/api/v1/namespaces/default/secrets/s", contentType: MERGE, body: { data: { k: "not base64!" } }, field: "data[k]" },
  { what: "secret create not base64", method: "POST", path: "/api/v1/namespaces/default/secrets", contentType: JSON_CT, body: { apiVersion: "v1", kind: "Secret", metadata: { name: "s2" }, data: { k: "%%%" } }, field: "data[k]" },
  { what: "node taints string", method: "PATCH", path: "/api/v1/nodes/n", contentType: MERGE, body: { spec: { taints: "x" } }, field: "spec.taints" },
  { what: "node taint effect number", method: "PATCH", path: "/api/v1/nodes/n", contentType: STRATEGIC, body: { spec: { taints: [{ key: "b", effect: 1 }] } }, field: "spec.taints[0].effect" },
  { what: "node status capacity", method: "PATCH", path: "/api/v1/nodes/n/status", contentType: MERGE, body: { status: { capacity: { cpu: "lots" } } }, field: "status.capacity[cpu]" },
  { what: "pod containers number", method: "PATCH", path: "/api/v1/namespaces/default/pods/p", contentType: MERGE, body: { spec: { containers: 7 } }, field: "spec.containers" },
  { what: "pod create containers number", method: "POST", path: "/api/v1/namespaces/default/pods", contentType: JSON_CT, body: { apiVersion: "v1", kind: "Pod", metadata: { name: "p2" }, spec: { containers: 7 } }, field: "spec.containers" },
  { what: "pod create without containers", method: "POST", path: "/api/v1/namespaces/default/pods", contentType: JSON_CT, body: { apiVersion: "v1", kind: "Pod", metadata: { name: "p3" }, spec: {} }, field: "spec.containers" },
  { what: "pod container name removed", method: "PATCH", path: "/api/v1/namespaces/default/pods/p", contentType: JSON_PATCH, body: [{ op: "remove", path: "/spec/containers/0/name" }], field: "spec.containers[0].name" },
  { what: "rolebinding without roleRef", method: "POST", path: "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", contentType: JSON_CT, body: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "rb" }, subjects: [{ kind: "User", name: "u" }] }, field: "roleRef" },
  { what: "pod port fraction", method: "PATCH", path: "/api/v1/namespaces/default/pods/p", contentType: JSON_PATCH, body: [{ op: "add", path: "/spec/containers/0/ports", value: [{ containerPort: 1.5 }] }], field: "spec.containers[0].ports[0].containerPort" },
];

describe("typed writes", () => {
  it.each(CASES)("$what: 422 Invalid at $field", async (c) => {
    const { status, body } = await send(c.method, c.path, c.contentType, c.body);
    expect(status, JSON.stringify(body)).toBe(422);
    expect(body.kind).toBe("Status");
    expect(body.reason).toBe("Invalid");
    expect(body.details?.causes?.map((x) => x.field)).toContain(c.field);
  });

  it("leaves every object decodable by kubectl describe and get -o yaml", async () => {
    for (const args of [["describe", "configmaps,secrets,pods"], ["describe", "nodes"], ["get", "configmaps,secrets,pods,nodes", "-A", "-o", "yaml"]]) {
      const r = await kubectl("1.32", kubeconfig, args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe("");
    }
    const r = await kubectl("1.32", kubeconfig, ["get", "configmap", "cm", "-o", "jsonpath={.data}"]);
    expect(JSON.parse(r.stdout)).toEqual({ k: "v" });
    expect((await kubectl("1.32", kubeconfig, ["get", "pods,configmaps,secrets", "-o", "name"])).stdout.split("\n").filter(Boolean).sort()).toEqual(["configmap/cm", "pod/p", "secret/s"]);
  });
});
