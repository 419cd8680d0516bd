// The Grafana dashboard in config/grafana queries only series the controller exposes: each metric name
// in its PromQL exists in the controller's registry (a renamed metric would leave a panel empty).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../controller/metrics.js";
import { ROOT } from "../helpers/edge.js";

describe("Grafana dashboard", () => {
  it("uses only metric names the controller serves", async () => {
    const dash = JSON.parse(readFileSync(path.join(ROOT, "config/grafana/capim-edge-fleet.json"), "utf8")) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(5);
    const served = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b([a-z_]+_(?:total|seconds|requests|open))(?:_bucket)?\b/g)].map((m) => m[1])));
    expect([...used].sort()).toEqual(
      ["apiserver_current_inflight_requests", "apiserver_longrunning_requests", "apiserver_request_duration_seconds", "apiserver_request_total", "capim_reconcile_duration_seconds", "capim_reconcile_total", "capim_vips_open", "grpc_server_handled_total", "grpc_server_handling_seconds"],
    );
    for (const name of used) expect(served.has(name), name).toBe(true);
  });
});
