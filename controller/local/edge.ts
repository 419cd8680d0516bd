// Starts the edge (worker + Durable Objects) locally in workerd through the Miniflare API.
// Used by the embedded default, `npm run edge`, integration tests and benchmarks.
import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync } from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";
import { loadOrCreateEdgeTls } from "./edge-tls.js";
import { mtimeOf, newestMtime, ROOT } from "./project-root.js";
import { probePort, restartPolicyFromEnv, Supervisor } from "./supervisor.js";

export const WORKER_BUNDLE = path.join(ROOT, "dist/worker.js");
const SOURCE_DIRS = ["worker", "durable-objects", "edge-contract"].map((d) => path.join(ROOT, d));
/** Keep in step with wrangler.toml's compatibility_date. */
export const COMPATIBILITY_DATE = "2026-04-01";

export interface EdgeOptions {
  /** Plain-HTTP port on 127.0.0.1 (default 0: a free one). */
  port?: number;
  /** HTTPS port on 127.0.0.1 (default: port + 1 when port is given, else a free one). */
  httpsPort?: number;
  /** Where DO SQLite files persist; absent: a temporary directory removed on stop(). */
  stateDir?: string;
  /** token -> tenant. Default: one generated token for tenant "default". */
  tokens?: Record<string, string>;
  /** Largest request body in bytes (default 3 MiB). */
  maxBody?: number;
  /** Per-tenant limits, JSON (see worker/limits.ts); default: env CAPIM_EDGE_LIMITS. */
  limits?: string;
  /** workerd's inspector port for CPU profiles (default: env CAPIM_EDGE_INSPECTOR_PORT; absent: none). */
  inspectorPort?: number;
  /**
   * Restart workerd when it dies (supervisor.ts): `log` gets each restart, `giveUp` the reason when it
   * keeps dying (the caller exits). Absent: a dead workerd stays dead (tests that want exactly that).
   */
  supervise?: { log(message: string): void; giveUp(message: string): void };
}

export interface Edge {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The HTTPS port's base URL (kubectl sends bearer tokens only to https servers). */
  httpsUrl: string;
  /** PEM of the CA that signed the edge's serving certificate (kept in <stateDir>/edge-tls). */
  caPem: string;
  /** The first token (tenant "default" when tokens were generated). */
  token: string;
  tokens: Record<string, string>;
  stop(): Promise<void>;
  /** The Miniflare instance (benchmarks read the workerd pid through it). */
  miniflare: Miniflare;
  /**
   * Stop restarting workerd. Shutdown calls it first: a signal to the process group reaches workerd too,
   * and a restart racing the orderly shutdown would only start a process that stop() then disposes.
   */
  stopSupervising(): void;
}

/** Bundles worker/index.ts to dist/worker.js when it is missing or older than any source. */
export async function ensureWorkerBundle(): Promise<string> {
  const bundled = mtimeOf(WORKER_BUNDLE);
  const newest = Math.max(...SOURCE_DIRS.map(newestMtime));
  if (bundled >= newest) return WORKER_BUNDLE;
  mkdirSync(path.dirname(WORKER_BUNDLE), { recursive: true });
  // Same options as `npm run build:worker`; written to a temp file and renamed so that parallel
  // starters never load a half-written bundle.
  const tmp = `${WORKER_BUNDLE}.${process.pid}.${Date.now()}.tmp`;
  // Imported only when a rebuild is due: esbuild's module and its service process would otherwise
  // stay in every edge process for nothing (`npm run edge` builds before starting).
  const { build } = await import("esbuild");
  await build({
    entryPoints: [path.join(ROOT, "worker/index.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    external: ["cloudflare:*"],
    outfile: tmp,
    logLevel: "warning",
  });
  renameSync(tmp, WORKER_BUNDLE);
  return WORKER_BUNDLE;
}

export async function startEdge(opts: EdgeOptions = {}): Promise<Edge> {
  const scriptPath = await ensureWorkerBundle();
  const tokens = opts.tokens && Object.keys(opts.tokens).length ? opts.tokens : { [randomBytes(24).toString("hex")]: "default" };
  const bindings: Record<string, string> = { CAPIM_EDGE_TOKENS: JSON.stringify(tokens) };
  if (opts.maxBody) bindings.CAPIM_EDGE_MAX_BODY = String(opts.maxBody);
  // LOG_LEVEL=debug turns on the worker's request log (one line per request).
  bindings.CAPIM_EDGE_LOG_LEVEL = process.env.LOG_LEVEL === "debug" ? "debug" : "info";
  const limits = opts.limits ?? process.env.CAPIM_EDGE_LIMITS;
  if (limits) bindings.CAPIM_EDGE_LIMITS = limits;
  if (opts.stateDir) mkdirSync(opts.stateDir, { recursive: true });
  const edgeTls = await loadOrCreateEdgeTls(opts.stateDir);
  const port = opts.port ?? 0;
  const inspectorPort = opts.inspectorPort ?? (Number(process.env.CAPIM_EDGE_INSPECTOR_PORT) || undefined);
  // Both sockets are workerd's own, so no request passes through this Node process:
  // - plain HTTP is a direct socket to the worker (Miniflare's unsafeDirectSockets), which skips
  //   Miniflare's entry worker and its edge-compression emulation (gzip of every JSON response);
  // - HTTPS is Miniflare's entry socket with the edge CA's serving certificate, for kubectl, which
  //   sends bearer tokens to https servers only.
  // (One port for both would need a Node process sniffing each connection's first byte and piping
  // every request through it: an extra hop that dominated the GET latency tail on 2 cores.)
  const options = {
    modules: true,
    scriptPath,
    compatibilityDate: COMPATIBILITY_DATE,
    durableObjects: {
      WORKLOAD_CLUSTER: { className: "WorkloadCluster", useSQLite: true },
      TENANT_DIRECTORY: { className: "TenantDirectory", useSQLite: true },
    },
    ...(opts.stateDir ? { durableObjectsPersist: path.resolve(opts.stateDir) } : {}),
    bindings,
    host: "127.0.0.1",
    port: opts.httpsPort ?? (port ? port + 1 : 0),
    httpsCert: edgeTls.serving.certPem,
    httpsKey: edgeTls.serving.keyPem,
    logRequests: false,
    ...(inspectorPort ? { inspectorPort } : {}),
    unsafeDirectSockets: [{ host: "127.0.0.1", port }],
  };
  const mf = new Miniflare(options);
  let httpsUrl: URL;
  let httpUrl: URL;
  try {
    httpsUrl = await mf.ready;
    httpUrl = await mf.unsafeGetDirectURL();
  } catch (err) {
    await mf.dispose().catch(() => {});
    throw err;
  }
  let supervisor: Supervisor | undefined;
  if (opts.supervise) {
    // A restart keeps both ports, so every client (the controller, kubeconfigs) reconnects to the same URLs.
    const pinned = { ...options, port: Number(httpsUrl.port), unsafeDirectSockets: [{ host: "127.0.0.1", port: Number(httpUrl.port) }] };
    supervisor = new Supervisor({
      probe: () => probePort(Number(httpUrl.port)),
      restart: async () => {
        await mf.setOptions(pinned);
        await mf.ready;
      },
      policy: restartPolicyFromEnv(),
      log: opts.supervise.log,
      giveUp: opts.supervise.giveUp,
    });
    supervisor.start();
  }
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${httpUrl.port}`,
    httpsUrl: `https://127.0.0.1:${httpsUrl.port}`,
    caPem: edgeTls.ca.certPem,
    token: Object.keys(tokens)[0],
    tokens,
    miniflare: mf,
    stopSupervising: () => supervisor?.stop(),
    stop: () => {
      supervisor?.stop();
      return (stopped ??= mf.dispose());
    },
  };
}
