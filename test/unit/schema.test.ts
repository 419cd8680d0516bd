// The migration runner on a plain in-memory SQL stand-in is not worth having (SQLite semantics are the
// point), so this checks the lists themselves: versions strictly increasing from 1, each with a reason.
import { describe, expect, it } from "vitest";
import { TENANT_DIRECTORY_MIGRATIONS, WORKLOAD_CLUSTER_MIGRATIONS, latestVersion } from "../../durable-objects/schema.js";

describe("schema migrations", () => {
  for (const [name, list] of [["WorkloadCluster", WORKLOAD_CLUSTER_MIGRATIONS], ["TenantDirectory", TENANT_DIRECTORY_MIGRATIONS]] as const) {
    it(`${name}: numbered 1..n without gaps, each with a reason`, () => {
      expect(list.map((m) => m.version)).toEqual(list.map((_, i) => i + 1));
      expect(latestVersion(list)).toBe(list.length);
      for (const m of list) expect(m.why.length).toBeGreaterThan(10);
    });
  }
});
