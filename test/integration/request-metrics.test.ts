// kube-apiserver's request metrics of one cluster, served by the edge (GET /admin/clusters/<ns>/<name>/
// metrics, tenant token) and read with a Prometheus text parser: counts match the requests a real
// client (@kubernetes/client-node) made, an open watch shows as long-running, and nothing stays in flight.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { createCluster, edgeFetch, kubeConfigFor, spawnEdge, type SpawnedEdge } from "../helpers/edge.js";
import { parseMetrics, total } from "../helpers/prometheus.js";
import { until } from "../helpers/wait.js";

let edge: SpawnedEdge;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
const METRICS = "/admin/clusters/team-m/m1/metrics";

beforeAll(async () => {
  edge = await spawnEdge();
  await createCluster(edge, "team-m", "m1");
  kc = kubeConfigFor(edge.url, "team-m", "m1", edge.token);
  core = kc.makeApiClient(k8s.CoreV1Api);
});
afterAll(async () => {
  await edge?.stop();
});

async function scrape() {
  const r = await edgeFetch(edge, METRICS);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await r.text());
}

describe("edge request metrics", () => {
  it("counts each request by kube's verb, resource and code", async () => {
    const c = { cluster: "team-m/m1", group: "", resource: "configmaps", subresource: "" };
    const before = await scrape();
    for (let i = 0; i < 3; i++) await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: `m-${i}` }, data: { i: String(i) } } });
    for (let i = 0; i < 4; i++) await core.readNamespacedConfigMap({ namespace: "default", name: "m-0" });
    await expect(core.readNamespacedConfigMap({ namespace: "default", name: "missing" })).rejects.toMatchObject({ code: 404 });
    for (let i = 0; i < 2; i++) await core.listNamespacedConfigMap({ namespace: "default" });
    const after = await scrape();
    const delta = (labels: Record<string, string>) => total(after, "apiserver_request_total", { ...c, ...labels }) - total(before, "apiserver_request_total", { ...c, ...labels });
    expect(delta({ verb: "POST", code: "201" })).toBe(3);
    expect(delta({ verb: "GET", code: "200" })).toBe(4);
    expect(delta({ verb: "GET", code: "404" })).toBe(1);
    expect(delta({ verb: "LIST", code: "200" })).toBe(2);
    expect(total(after, "apiserver_current_inflight_requests", { cluster: "team-m/m1" })).toBe(0);
    expect(after.find((f) => f.name === "apiserver_request_duration_seconds")?.type).toBe("HISTOGRAM");
  });

  it("shows an open watch as long-running until it ends", async () => {
    const watch = new k8s.Watch(kc);
    const req = await watch.watch("/api/v1/namespaces/default/configmaps", {}, () => undefined, () => undefined);
    try {
      await until(async () => total(await scrape(), "apiserver_longrunning_requests", { cluster: "team-m/m1", verb: "WATCH" }) === 1, "the watch to show");
    } finally {
      req.abort();
    }
    await until(async () => total(await scrape(), "apiserver_longrunning_requests", { cluster: "team-m/m1" }) === 0, "the watch to end");
  });

  it("needs the tenant token", async () => {
    expect((await edgeFetch(edge, METRICS, { token: null })).status).toBe(401);
    expect((await edgeFetch(edge, METRICS, { method: "POST" })).status).toBe(405);
  });
});
