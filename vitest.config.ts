import { defineConfig } from "vitest/config";

// Two projects: pure logic (unit) and real clients against a running local edge (integration/e2e).
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
    ],
  },
});
