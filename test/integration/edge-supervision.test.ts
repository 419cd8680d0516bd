// workerd is supervised: killed under `npm run edge`, it is restarted on the same ports with every
// acknowledged write kept, and a workerd that keeps dying makes the edge exit 1 with a clear message
// instead of running on with its ports refusing connections.
import { afterAll, describe, expect, it } from "vitest";
import { createCluster, edgeFetch, spawnEdge, type SpawnedEdge } from "../helpers/edge.js";
import { pidsInGroup } from "../helpers/procs.js";
import { until } from "../helpers/wait.js";

const spawned: SpawnedEdge[] = [];
afterAll(async () => {
  await Promise.all(spawned.map((e) => e.stop("SIGKILL")));
});

/** Kills the edge's workerd as a crash would and returns the pid that was killed. */
async function killWorkerd(edge: SpawnedEdge): Promise<number> {
  const pid = await until(async () => pidsInGroup(edge.child.pid!, "workerd")[0], "a workerd in the edge's process group");
  process.kill(pid, "SIGKILL");
  return pid;
}

const configMap = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { k: name } });
const CMS = "/clusters/default/sup/api/v1/namespaces/default/configmaps";

describe("workerd supervision", () => {
  it("npm run edge restarts a killed workerd on the same ports, with the cluster's objects kept", async () => {
    const edge = await spawnEdge({ viaNpm: true });
    spawned.push(edge);
    await createCluster(edge, "default", "sup");
    for (const name of ["before-1", "before-2"]) {
      const res = await edgeFetch(edge, CMS, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(configMap(name)) });
      expect(res.status).toBe(201);
    }
    const killed = await killWorkerd(edge);
    // The plain-HTTP and the HTTPS URL both serve again; the old process is gone, a new one serves.
    const list = await until(async () => {
      const res = await edgeFetch(edge, CMS);
      return res.status === 200 ? ((await res.json()) as { items: { metadata: { name: string } }[] }) : undefined;
    }, "the edge to serve again");
    expect(list.items.map((i) => i.metadata.name)).toEqual(["before-1", "before-2"]);
    expect(pidsInGroup(edge.child.pid!, "workerd")).not.toContain(killed);
    const https = await until(async () => {
      const { request } = await import("node:https");
      return new Promise<number | undefined>((resolve) => {
        const req = request(`${edge.httpsUrl}/clusters/default/sup/api/v1/namespaces`, { ca: edge.caPem, headers: { authorization: `Bearer ${edge.token}` } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on("error", () => resolve(undefined));
        req.end();
      });
    }, "https to serve again");
    expect(https).toBe(200);
    const res = await edgeFetch(edge, CMS, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(configMap("after")) });
    expect(res.status).toBe(201);
    expect(edge.output()).toMatch(/edge: workerd restarted \(restart 1\)/);
    expect(edge.child.exitCode).toBeNull();
  }, 180_000);

  it("exits 1 with a clear message when workerd keeps dying", async () => {
    const edge = await spawnEdge({ env: { CAPIM_EDGE_RESTART_MAX: "1", CAPIM_EDGE_RESTART_WINDOW_MS: "600000" } });
    spawned.push(edge);
    await killWorkerd(edge);
    await until(async () => ((await edgeFetch(edge, "/admin/clusters")).status === 200 ? true : undefined), "the first restart");
    await killWorkerd(edge);
    expect(await Promise.race([edge.exited, new Promise((r) => setTimeout(() => r("still running"), 60_000))])).toBe(1);
    expect(edge.output()).toMatch(/workerd died 2 times within 600 s; giving up \(limits: CAPIM_EDGE_RESTART_MAX=1/);
    expect(pidsInGroup(edge.child.pid!, "workerd")).toEqual([]);
  }, 180_000);
});
