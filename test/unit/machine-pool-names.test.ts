// Which of a cluster's edge machines belong to a DevMachinePool: `<pool>-<index>`, nothing else.
import { describe, expect, it } from "vitest";
import { poolIndex } from "../../controller/reconcilers/devmachinepool.js";

describe("poolIndex", () => {
  it("reads the index of the pool's own machines", () => {
    expect(poolIndex("mp", "mp-0")).toBe(0);
    expect(poolIndex("mp", "mp-17")).toBe(17);
    expect(poolIndex("c1-mp-0", "c1-mp-0-3")).toBe(3);
  });

  it("ignores other machines, other pools and names that only look alike", () => {
    for (const name of ["mp", "mp-", "mp-01", "mp-x", "mp-1-2", "mpx-1", "other-1", "mp-1234567", "c1-mp-0-3"]) {
      expect(poolIndex("mp", name), name).toBeUndefined();
    }
    expect(poolIndex("c1-mp", "c1-mp-0-3")).toBeUndefined();
  });
});
