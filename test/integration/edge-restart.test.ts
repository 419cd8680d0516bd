// Durability: state written through one edge process is there after a real restart (SIGTERM, new
// process, same --state-dir), and the resourceVersion counter and watch history continue: every version
// of a changed object replays as it was, though only old versions are stored apart from the object row.
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { createCluster, edgeFetch, spawnEdge, tempDir, type SpawnedEdge } from "../helpers/edge.js";

const stateDir = tempDir("capim-restart-");
const tokens = { "restart-token-0123456789": "default" };
let edge: SpawnedEdge | undefined;

afterAll(async () => {
  await edge?.stop("SIGKILL");
  rmSync(stateDir, { recursive: true, force: true });
});

async function json(res: Response) {
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

describe("restart", () => {
  it("keeps clusters, objects, the resourceVersion and the watch log across a restart", async () => {
    edge = await spawnEdge({ stateDir, tokens });
    await createCluster(edge, "ns-r", "keep", { kubernetesVersion: "v1.29.4" });
    const names: string[] = [];
    let lastRv = 0;
    for (let i = 0; i < 5; i++) {
      const r = await json(
        await edgeFetch(edge, "/clusters/ns-r/keep/api/v1/namespaces/default/configmaps", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${i}`, labels: { i: String(i) } }, data: { i: String(i) } }),
        }),
      );
      expect(r.status, r.text).toBe(201);
      names.push(`cm-${i}`);
      lastRv = Number(r.body.metadata.resourceVersion);
    }
    const rvBeforeWrites = lastRv - 4;
    // Later versions of cm-1 and the deletion of cm-2: the replayed log must still hold every version.
    for (const v of ["1b", "1c"]) {
      const r = await json(
        await edgeFetch(edge, "/clusters/ns-r/keep/api/v1/namespaces/default/configmaps/cm-1", {
          method: "PATCH",
          headers: { "content-type": "application/merge-patch+json" },
          body: JSON.stringify({ data: { i: v } }),
        }),
      );
      expect(r.status, r.text).toBe(200);
    }
    const deleted = await edgeFetch(edge, "/clusters/ns-r/keep/api/v1/namespaces/default/configmaps/cm-2", { method: "DELETE" });
    expect(deleted.status).toBe(200);
    lastRv += 3;
    const before = await json(await edgeFetch(edge, "/admin/clusters/ns-r/keep"));
    expect(before.body.resourceVersion).toBe(String(lastRv));

    expect(await edge.stop("SIGTERM")).toBe(0); // clean shutdown
    expect(edge.output()).toContain("SIGTERM: stopping edge");

    // Second life, through `npm run edge` this time.
    edge = await spawnEdge({ stateDir, tokens, viaNpm: true });
    const after = await json(await edgeFetch(edge, "/admin/clusters/ns-r/keep"));
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ createdAt: before.body.createdAt, resourceVersion: before.body.resourceVersion, objectCount: before.body.objectCount, kubernetesVersion: "v1.29.4" });
    const list = await json(await edgeFetch(edge, "/clusters/ns-r/keep/api/v1/namespaces/default/configmaps?labelSelector=i%20in%20(1,3)"));
    expect(list.status).toBe(200);
    expect(list.body.items.map((o: { metadata: { name: string }; data: { i: string } }) => `${o.metadata.name}=${o.data.i}`)).toEqual(["cm-1=1c", "cm-3=3"]);
    expect(list.body.metadata.resourceVersion).toBe(String(lastRv));
    const listed = await (await edgeFetch(edge, "/admin/clusters")).json();
    expect(listed.items.map((i: { name: string }) => i.name)).toEqual(["keep"]);

    // The counter continues where it stopped.
    const next = await json(
      await edgeFetch(edge, "/clusters/ns-r/keep/api/v1/namespaces/default/configmaps", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "after-restart" } }),
      }),
    );
    expect(next.status, next.text).toBe(201);
    expect(Number(next.body.metadata.resourceVersion)).toBe(lastRv + 1);

    // A watch resuming from before the restart replays the stored events in order.
    const res = await edgeFetch(edge, `/clusters/ns-r/keep/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rvBeforeWrites}`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("after-restart")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const events = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)).filter((e) => e.type !== "BOOKMARK");
    expect(events.map((e) => `${e.type} ${e.object.metadata.name} ${e.object.metadata.resourceVersion} ${e.object.data?.i ?? "-"}`)).toEqual([
      `ADDED cm-1 ${rvBeforeWrites + 1} 1`,
      `ADDED cm-2 ${rvBeforeWrites + 2} 2`,
      `ADDED cm-3 ${rvBeforeWrites + 3} 3`,
      `ADDED cm-4 ${rvBeforeWrites + 4} 4`,
      `MODIFIED cm-1 ${rvBeforeWrites + 5} 1b`,
      `MODIFIED cm-1 ${rvBeforeWrites + 6} 1c`,
      `DELETED cm-2 ${rvBeforeWrites + 7} 2`,
      `ADDED after-restart ${lastRv + 1} -`,
    ]);

    expect(await edge.stop("SIGTERM")).not.toBeNull(); // exited (npm ends by the signal itself)
    edge = undefined;
  });
});
