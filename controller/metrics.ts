// Prometheus metrics for the controller: one registry per instance (tests and several controllers in one
// process must not share global state), and a tiny HTTP server for /metrics and the probes.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface Metrics {
  registry: Registry;
  reconcileTotal: Counter<"controller" | "result">;
  reconcileDuration: Histogram<"controller">;
  vipRequestsTotal: Counter<"cluster" | "verb" | "code">;
  vipRequestDuration: Histogram<"cluster" | "verb">;
  vipsOpen: Gauge;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    reconcileTotal: new Counter({
      name: "capim_reconcile_total",
      help: "Reconciles by controller and result (success, error, requeue).",
      labelNames: ["controller", "result"] as const,
      registers,
    }),
    reconcileDuration: new Histogram({
      name: "capim_reconcile_duration_seconds",
      help: "Time spent in one reconcile.",
      labelNames: ["controller"] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    vipRequestsTotal: new Counter({
      name: "capim_vip_requests_total",
      help: "Requests served by the cluster VIPs, by cluster (<namespace>/<name>), Kubernetes verb and HTTP code.",
      labelNames: ["cluster", "verb", "code"] as const,
      registers,
    }),
    vipRequestDuration: new Histogram({
      name: "capim_vip_request_duration_seconds",
      help: "VIP request duration until the response ends (a watch counts its whole life).",
      labelNames: ["cluster", "verb"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300],
      registers,
    }),
    vipsOpen: new Gauge({ name: "capim_vips_open", help: "Cluster VIP listeners currently open.", registers }),
  };
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves /metrics, /healthz and /readyz. `ready` (default: always) decides /readyz, e.g. "caches synced".
 * Binds 127.0.0.1 unless told otherwise (in a Pod, pass "0.0.0.0").
 */
export async function startMetricsServer(
  port: number,
  registry: Registry,
  opts: { host?: string; ready?: () => boolean } = {},
): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/metrics") {
      registry.metrics().then(
        (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
        (err) => res.writeHead(500, { "content-type": "text/plain" }).end(String(err)),
      );
    } else if (path === "/healthz" || path === "/livez") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    } else if (path === "/readyz") {
      const ok = opts.ready ? opts.ready() : true;
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok" : "not ready");
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, opts.host ?? "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
