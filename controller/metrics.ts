// Prometheus metrics for the controller: one registry per instance (tests and several controllers in one
// process must not share global state), and a tiny HTTP server for /metrics and the probes.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { REQUEST_DURATION_BUCKETS } from "../edge-contract/kube-request.js";

/** Labels of the VIP's request metrics: kube-apiserver's, plus the cluster (`<namespace>/<name>`). */
export type RequestLabels = "cluster" | "verb" | "group" | "resource" | "subresource";

export interface Metrics {
  registry: Registry;
  reconcileTotal: Counter<"controller" | "result">;
  reconcileDuration: Histogram<"controller">;
  /** kube-apiserver's names, per cluster, for what the VIPs serve (see README "Metrics"). */
  apiRequests: Counter<RequestLabels | "code">;
  apiRequestDuration: Histogram<RequestLabels>;
  apiInflight: Gauge<"cluster" | "request_kind">;
  apiLongRunning: Gauge<RequestLabels>;
  /** etcd's own gRPC server metric names (go-grpc-prometheus), per cluster, for the etcd bridge. */
  etcdRpcs: Counter<"cluster" | "grpc_type" | "grpc_service" | "grpc_method" | "grpc_code">;
  etcdRpcDuration: Histogram<"cluster" | "grpc_type" | "grpc_service" | "grpc_method">;
  vipsOpen: Gauge;
  /** controller-runtime's name: requests to the webhook server (CRD conversion), by path and HTTP code. */
  webhookRequests: Counter<"webhook" | "code">;
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
    apiRequests: new Counter({
      name: "apiserver_request_total",
      help: "Requests served by the cluster VIPs (kube-apiserver's metric, per cluster), by verb, group, resource, subresource and HTTP code.",
      labelNames: ["cluster", "verb", "group", "resource", "subresource", "code"] as const,
      registers,
    }),
    apiRequestDuration: new Histogram({
      name: "apiserver_request_duration_seconds",
      help: "Response latency of the cluster VIPs' requests (watches and upgrades excluded), as kube-apiserver's.",
      labelNames: ["cluster", "verb", "group", "resource", "subresource"] as const,
      buckets: REQUEST_DURATION_BUCKETS,
      registers,
    }),
    apiInflight: new Gauge({
      name: "apiserver_current_inflight_requests",
      help: "Requests in flight on each cluster's VIP (watches excluded), by request_kind (readOnly or mutating).",
      labelNames: ["cluster", "request_kind"] as const,
      registers,
    }),
    apiLongRunning: new Gauge({
      name: "apiserver_longrunning_requests",
      help: "Open watches and upgraded connections (port-forward) on each cluster's VIP.",
      labelNames: ["cluster", "verb", "group", "resource", "subresource"] as const,
      registers,
    }),
    etcdRpcs: new Counter({
      name: "grpc_server_handled_total",
      help: "etcd RPCs the etcd bridge answered (etcd's metric, per cluster), by service, method and gRPC code.",
      labelNames: ["cluster", "grpc_type", "grpc_service", "grpc_method", "grpc_code"] as const,
      registers,
    }),
    etcdRpcDuration: new Histogram({
      name: "grpc_server_handling_seconds",
      help: "Time the etcd bridge took to answer an RPC (injected latency and hung members included).",
      labelNames: ["cluster", "grpc_type", "grpc_service", "grpc_method"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers,
    }),
    vipsOpen: new Gauge({ name: "capim_vips_open", help: "Cluster VIP listeners currently open.", registers }),
    webhookRequests: new Counter({
      name: "controller_runtime_webhook_requests_total",
      help: "Requests to the webhook server (CRD conversion at /convert), by webhook path and HTTP code.",
      labelNames: ["webhook", "code"] as const,
      registers,
    }),
  };
}

/** More routes on the same server (the dashboard): resolves true when it answered the request. */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves /metrics, /healthz and /readyz (and `routes`, e.g. the dashboard). `ready` (default: always) decides /readyz, e.g. "caches synced".
 * Binds 127.0.0.1 unless told otherwise (in a Pod, pass "0.0.0.0").
 */
export async function startMetricsServer(
  port: number,
  registry: Registry,
  opts: { host?: string; ready?: () => boolean; routes?: ExtraRoutes } = {},
): Promise<MetricsServer> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (opts.routes) {
      try {
        if (await opts.routes(req, res)) return;
      } catch (err) {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(`internal error: ${(err as Error).message}`);
        return;
      }
    }
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

/** gRPC code names as go-grpc-prometheus writes them (codes.Code.String()). */
const GRPC_CODE_NAMES = ["OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"];

/** Records one etcd RPC (`/etcdserverpb.Maintenance/Status`) of a cluster in etcd's metric names. */
export function etcdRpcObserver(m: Metrics) {
  return (cluster: string, path: string, code: number, seconds: number): void => {
    const [, service = "", method = ""] = path.split("/");
    const labels = { cluster, grpc_type: "unary", grpc_service: service, grpc_method: method };
    m.etcdRpcs.inc({ ...labels, grpc_code: GRPC_CODE_NAMES[code] ?? String(code) });
    m.etcdRpcDuration.observe(labels, seconds);
  };
}
