import { describe, expect, it } from "vitest";
import { shardPortRange } from "../../controller/sharding/shard-ports.js";

describe("shardPortRange", () => {
  it("splits the range into disjoint consecutive slices covering it, the last taking the remainder", () => {
    const slices = [0, 1, 2].map((s) => shardPortRange([20000, 30000], 3, s)!);
    expect(slices).toEqual([
      [20000, 23332],
      [23333, 26665],
      [26666, 30000],
    ]);
    for (let i = 1; i < slices.length; i++) expect(slices[i][0]).toBe(slices[i - 1][1] + 1);
  });

  it("one shard keeps the whole range", () => {
    expect(shardPortRange([20000, 30000], 1, 0)).toEqual([20000, 30000]);
  });

  it("is undefined when there are fewer ports than shards, or the shard is out of bounds", () => {
    expect(shardPortRange([20000, 20001], 3, 0)).toBeUndefined();
    expect(shardPortRange([20000, 20002], 3, 2)).toEqual([20002, 20002]);
    expect(shardPortRange([20000, 30000], 3, 3)).toBeUndefined();
    expect(shardPortRange([20000, 30000], 3, -1)).toBeUndefined();
  });
});
