import { describe, expect, it } from "vitest";
import { call, cm, newServer } from "../helpers/node-host.js";

const CMS = "/api/v1/namespaces/default/configmaps";

// A patch whose body is still arriving while another client writes the same object.
describe("apiserver patch concurrency", () => {
  for (const [type, body] of [
    ["application/merge-patch+json", { data: { slow: "1" } }],
    ["application/strategic-merge-patch+json", { data: { slow: "1" } }],
    ["application/json-patch+json", [{ op: "add", path: "/data/slow", value: "1" }]],
  ] as const) {
    it(`${type} without resourceVersion is applied to the latest object, not refused as stale`, async () => {
      const { api } = newServer();
      expect((await call(api, "POST", CMS, cm("race", { a: "1" }))).status).toBe(201);

      let push!: (chunk: Uint8Array | null) => void;
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          push = (chunk) => (chunk ? controller.enqueue(chunk) : controller.close());
        },
      });
      const slow = api.handle(
        new Request(`http://x${CMS}/race`, { method: "PATCH", headers: { "content-type": type }, body: stream, duplex: "half" } as RequestInit),
      );
      // Another writer changes the object while the slow patch's body is in flight.
      const fast = await call(api, "PATCH", `${CMS}/race`, { data: { fast: "1" } }, { "content-type": "application/merge-patch+json" });
      expect(fast.status).toBe(200);
      push(new TextEncoder().encode(JSON.stringify(body)));
      push(null);

      const res = await slow;
      const out = (await res.json()) as { data: Record<string, string>; metadata: { resourceVersion: string } };
      expect(res.status).toBe(200);
      expect(out.data).toEqual({ a: "1", fast: "1", slow: "1" });
      expect(Number(out.metadata.resourceVersion)).toBeGreaterThan(Number(fast.body.metadata.resourceVersion));
    });
  }

  it("a patch carrying a stale metadata.resourceVersion is still a conflict", async () => {
    const { api } = newServer();
    const created = await call(api, "POST", CMS, cm("race", { a: "1" }));
    await call(api, "PATCH", `${CMS}/race`, { data: { b: "1" } }, { "content-type": "application/merge-patch+json" });
    const stale = await call(api, "PATCH", `${CMS}/race`, { metadata: { resourceVersion: created.body.metadata.resourceVersion }, data: { c: "1" } }, { "content-type": "application/merge-patch+json" });
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe("Conflict");
  });
});
