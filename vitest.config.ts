import { defineConfig } from "vitest/config";

// Three projects: pure logic (unit), real clients against a running local edge (integration/e2e), and real
// Cluster API against capim-edge (capi: builds Kubernetes and CAPI from Go modules first; run on its own).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Each file starts its own edge/controller processes; run files one at a time on 2 cores.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "capi",
          include: ["test/capi-e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 1_200_000,
          hookTimeout: 3_600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
