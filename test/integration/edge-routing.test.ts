// `npm run edge -- --edges 2` (two workerd processes answering the same tokens) and the controller's edge
// client given both URLs, as the embedded default's `--edges 2` wires them: each cluster is created,
// read, changed and deleted on the process its namespace/name hashes to, and the cluster list is the
// union of both processes' lists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterSlot } from "../../edge-contract/cluster-hash.js";
import { EdgeClient } from "../../controller/edge-client.js";
import { spawnEdge, type SpawnedEdge } from "../helpers/edge.js";

describe("the edge client routing clusters over two edges", () => {
  let edge: SpawnedEdge;
  let routed: EdgeClient;
  let each: EdgeClient[];
  const names = Array.from({ length: 12 }, (_, i) => `r-${i}`);

  beforeAll(async () => {
    edge = await spawnEdge({ edges: 2 });
    expect(edge.urls).toHaveLength(2);
    expect(edge.urls[0]).toBe(edge.url);
    routed = new EdgeClient({ url: edge.urls, token: edge.token });
    each = edge.urls.map((url) => new EdgeClient({ url, token: edge.token }));
  }, 120_000);

  afterAll(async () => {
    expect(await edge?.stop()).toBe(0);
  });

  it("creates each cluster on the edge its namespace/name hashes to", async () => {
    expect(new Set(names.map((n) => clusterSlot("default", n, 2))).size, "the names hash onto both edges").toBe(2);
    for (const n of names) expect((await routed.createCluster("default", n)).created).toBe(true);
    for (const [i, client] of each.entries()) {
      const held = (await client.listClusters()).map((c) => c.name).sort();
      expect(held).toEqual(names.filter((n) => clusterSlot("default", n, 2) === i).sort());
    }
  });

  it("lists the union of both edges, per namespace too", async () => {
    expect((await routed.listClusters()).map((c) => c.name).sort()).toEqual([...names].sort());
    expect((await routed.listClusters("default")).length).toBe(names.length);
    expect(await routed.listClusters("elsewhere")).toEqual([]);
  });

  it("reads, changes and deletes a cluster on its own edge; the other edge never knew it", async () => {
    for (const n of names.slice(0, 4)) {
      const home = clusterSlot("default", n, 2);
      expect((await routed.getCluster("default", n)).name).toBe(n);
      await routed.putMachine("default", n, "m-0", { controlPlane: true, version: "v1.31.0" });
      expect((await each[home].listMachines("default", n)).items.map((m) => m.name)).toEqual(["m-0"]);
      await expect(each[1 - home].getCluster("default", n)).rejects.toMatchObject({ code: 404 });
      expect(await routed.deleteCluster("default", n)).toBe(true);
      await expect(each[home].getCluster("default", n)).rejects.toMatchObject({ code: 404 });
    }
  });
});
