// The shard of a cluster: stable across processes and releases (replicas must agree without talking),
// and spread evenly enough that R replicas share the work.
import { describe, expect, it } from "vitest";
import { shardOf } from "../../controller/sharding/shard-of.js";

describe("shardOf", () => {
  it("is FNV-1a of namespace/name: fixed values (a change would move clusters between replicas)", () => {
    expect([shardOf("default", "capim-1", 2), shardOf("default", "capim-2", 2), shardOf("default", "capim-3", 4), shardOf("ns", "x", 7)]).toEqual([
      shardOfReference("default/capim-1", 2), shardOfReference("default/capim-2", 2), shardOfReference("default/capim-3", 4), shardOfReference("ns/x", 7),
    ]);
    expect(shardOf("a", "b", 1)).toBe(0);
  });

  it("spreads 10,000 clusters within 5% of even over 2, 3 and 8 shards", () => {
    for (const shards of [2, 3, 8]) {
      const counts = new Array(shards).fill(0);
      for (let i = 0; i < 10_000; i++) counts[shardOf("default", `cluster-${i}`, shards)]++;
      for (const c of counts) expect(Math.abs(c - 10_000 / shards) / (10_000 / shards), `${shards} shards: ${counts}`).toBeLessThan(0.05);
    }
  });
});

/** FNV-1a 32-bit written from its definition with BigInt, to check the Math.imul version against. */
function shardOfReference(key: string, shards: number): number {
  let h = 0x811c9dc5n;
  for (const b of Buffer.from(key, "utf8")) h = ((h ^ BigInt(b)) * 0x01000193n) & 0xffffffffn;
  return Number(h % BigInt(shards));
}
