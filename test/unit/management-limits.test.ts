// The embedded management API's limits: a management cluster holds ~19 objects per workload cluster
// (CAPI's objects and Secrets), so the workload default of 100,000 objects per cluster stopped the
// embedded default at ~5,300 clusters with 429s. Its edge gets a ceiling fit for that, under the
// operator's CAPIM_EDGE_LIMITS, which still wins where it says something.
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, limitsFor } from "../../edge-contract/limits.js";
import { MANAGEMENT_MAX_OBJECTS, managementLimits } from "../../controller/local/local-edges.js";

const limits = (operator: string | undefined, tenant = "default") => limitsFor({ CAPIM_EDGE_LIMITS: managementLimits(operator) }, tenant);

describe("the management edge's limits", () => {
  it("raise objects per cluster past what 10,000 workload clusters need, and keep the other defaults", () => {
    expect(MANAGEMENT_MAX_OBJECTS).toBeGreaterThan(10_000 * 19);
    expect(DEFAULT_LIMITS.maxObjectsPerCluster).toBeLessThan(MANAGEMENT_MAX_OBJECTS);
    expect(limits(undefined)).toMatchObject({ ...DEFAULT_LIMITS, maxObjectsPerCluster: MANAGEMENT_MAX_OBJECTS });
  });

  it("keep what the operator set, everywhere it set it", () => {
    const operator = JSON.stringify({ "*": { maxClusters: 7, maxObjectsPerCluster: 150 }, ci: { maxTtlSeconds: 60 } });
    expect(limits(operator)).toMatchObject({ maxClusters: 7, maxObjectsPerCluster: 150 });
    expect(limits(operator, "ci")).toMatchObject({ maxClusters: 7, maxObjectsPerCluster: 150, maxTtlSeconds: 60 });
    expect(limits(JSON.stringify({ "*": { maxClusters: 3 } }))).toMatchObject({ maxClusters: 3, maxObjectsPerCluster: MANAGEMENT_MAX_OBJECTS });
  });

  it("still apply their ceiling when the operator's JSON is not valid", () => {
    expect(limits("{not json").maxObjectsPerCluster).toBe(MANAGEMENT_MAX_OBJECTS);
    expect(limits("[1]").maxObjectsPerCluster).toBe(MANAGEMENT_MAX_OBJECTS);
  });
});
