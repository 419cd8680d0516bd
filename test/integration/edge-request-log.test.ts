// The edge's request log: with LOG_LEVEL=debug the worker prints one line per request (method, path
// without the query, status, time).
import { afterEach, describe, expect, it } from "vitest";
import { createCluster, edgeFetch, spawnEdge, type SpawnedEdge } from "../helpers/edge.js";
import { until } from "../helpers/wait.js";

let edge: SpawnedEdge | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
});

describe("edge request log", () => {
  it("logs each request at debug level", async () => {
    edge = await spawnEdge({ env: { LOG_LEVEL: "debug" } });
    await createCluster(edge, "team-l", "l1");
    expect((await edgeFetch(edge, "/clusters/team-l/l1/api/v1/namespaces/default/configmaps?labelSelector=a%3Db")).status).toBe(200);
    expect((await edgeFetch(edge, "/clusters/team-l/l1/api/v1/namespaces/default/configmaps/nope")).status).toBe(404);
    const e = edge;
    await until(() => /GET \/clusters\/team-l\/l1\/api\/v1\/namespaces\/default\/configmaps\/nope 404 \d+ms/.test(e.output()), "the 404 logged");
    expect(e.output()).toMatch(/GET \/clusters\/team-l\/l1\/api\/v1\/namespaces\/default\/configmaps 200 \d+ms/);
    expect(e.output()).not.toContain("labelSelector");
  });
});
