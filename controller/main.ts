// `npm run controller -- --edge-url URL [--kubeconfig FILE] [--vip-host H] ...`: the capim-edge
// controller against a management cluster (in-cluster config, --kubeconfig, or $KUBECONFIG).
// SIGTERM/SIGINT: stop reconciling, close the VIPs, exit 0 (the edge keeps every cluster running).
import { KubeConfig } from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createLogger, parseLogFormat } from "./log.js";
import { startController, type ShardingOptions } from "./manager.js";
import { hostname } from "node:os";
import { createMetrics, startMetricsServer } from "./metrics.js";
import { dashboardRoutes } from "./dashboard/index.js";
import { DEFAULT_PORT_RANGE, parsePortRange } from "./vip/ports.js";
import { shardServiceHost } from "./sharding/shard-endpoints.js";
import { shardPortRange } from "./sharding/shard-ports.js";
import { parseMimicryConfig, type MimicKind } from "./reconcilers/mimicry.js";
import { startWebhookServer, type WebhookServer } from "./webhook/server.js";

const USAGE = `usage: capim-edge controller --edge-url URL [options]
  --kubeconfig FILE      management cluster (default: in-cluster, then $KUBECONFIG / ~/.kube/config)
  --edge-url URL         the edge (worker) base URL; URL1,URL2,... for a local edge spread over
                         several workerd processes (a cluster goes to FNV-1a(namespace/name) mod K)
  --edge-token TOKEN     tenant token (default: env CAPIM_EDGE_TOKEN)
  --vip-host HOST        host CAPI dials for every cluster's VIP (default 127.0.0.1)
  --vip-bind-address A   address the VIP listeners bind (default 127.0.0.1; 0.0.0.0 in a Pod)
  --vip-port-range A-B   VIP ports (default 20000-30000)
  --vip-request-timeout S  seconds the edge has to answer a request (not a watch) before the VIP
                         answers 504 (kube-apiserver's --request-timeout; default 60)
  --vip-max-inflight N   requests (not watches) in flight per cluster before the VIP answers 429 with
                         Retry-After (kube's max-requests-inflight; default 600)
  --concurrency N        reconciles at once per controller, DevCluster and DevMachine (default 10)
  --qps N                management API requests per second (default 50, 0 = unlimited)
  --metrics-port N       /metrics, /healthz, /readyz and the /dashboard (default 8080; 0 = a free port; -1 = off)
  --metrics-bind-address A  (default 127.0.0.1)
  --namespace NS         watch one namespace only
  --webhook-port N       serve CRD conversion (DevCluster/DevMachine v1beta1 <-> v1beta2) on this port
                         (0 = a free port; default off: the embedded management API converts in-process)
  --webhook-bind-address A  (default 0.0.0.0: the API server dials the Pod)
  --webhook-cert-dir D   tls.crt and tls.key for the webhook server (default
                         /tmp/k8s-webhook-server/serving-certs, controller-runtime's)
  --shards N             run as one of N replicas, each holding shards of the clusters (hash of
                         namespace/cluster) through Leases; default 1 (one replica holds all)
  --shard I              this replica's own shard, 0..N-1 (it takes others only when their holder is gone)
  --shard-hosts H0,H1..  each shard's endpoint host: its VIPs advertise it whichever replica holds the
                         shard, so controlPlaneEndpoint survives a replica (default: --vip-host); they
                         bind it too, unless --vip-bind-address is given: then every shard binds that
                         address on its own slice of --vip-port-range
  --shard-services       in a management cluster: shard I's host is the headless Service
                         capim-edge-shard-I.<lease namespace>.svc, which this replica creates and points at
                         the holder by labelling its own Pod (--identity) capim-edge.x-k8s.io/shard-I=serving
                         (needs --vip-bind-address; --shard-hosts overrides the names)
  --lease-namespace NS   where the shard Leases live (default env POD_NAMESPACE, else capim-edge-system)
  --identity ID          this replica's Lease holder name (default env POD_NAME, else <hostname>-<pid>)
  --shard-lease-duration S  seconds a shard's holder may go without renewing before another takes it (default 15)
  --bootstrap-mimicry F  YAML naming other providers' machine kinds to bootstrap in their clusters'
                         fake control planes (README: "Bootstrap mimicry for other providers")
  --log-format F         text (readable), json, or auto: text on a terminal, json otherwise (default auto;
                         env CAPIM_EDGE_LOG_FORMAT)`;

function int(name: string, v: string | undefined, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`invalid --${name} ${v}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    "edge-url": { type: "string" },
    "edge-token": { type: "string" },
    "vip-host": { type: "string", default: "127.0.0.1" },
    "vip-bind-address": { type: "string" },
    "vip-port-range": { type: "string" },
    "vip-request-timeout": { type: "string" },
    "vip-max-inflight": { type: "string" },
    concurrency: { type: "string" },
    qps: { type: "string" },
    "metrics-port": { type: "string" },
    "metrics-bind-address": { type: "string" },
    namespace: { type: "string" },
    "bootstrap-mimicry": { type: "string" },
    "webhook-port": { type: "string" },
    "webhook-bind-address": { type: "string" },
    "webhook-cert-dir": { type: "string", default: "/tmp/k8s-webhook-server/serving-certs" },
    shards: { type: "string" },
    shard: { type: "string" },
    "shard-hosts": { type: "string" },
    "shard-services": { type: "boolean" },
    "lease-namespace": { type: "string" },
    identity: { type: "string" },
    "shard-lease-duration": { type: "string" },
    "log-format": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const edgeUrl = values["edge-url"] ?? process.env.CAPIM_EDGE_URL;
const edgeToken = values["edge-token"] ?? process.env.CAPIM_EDGE_TOKEN;
if (!edgeUrl || !edgeToken) {
  console.error(`--edge-url and a token (--edge-token or CAPIM_EDGE_TOKEN) are required\n${USAGE}`);
  process.exit(2);
}
let portRange: [number, number] | undefined;
if (values["vip-port-range"]) {
  portRange = parsePortRange(values["vip-port-range"]);
  if (!portRange) {
    console.error(`invalid --vip-port-range ${values["vip-port-range"]} (want A-B, 1 <= A <= B <= 65535)\n${USAGE}`);
    process.exit(2);
  }
}

const logFormat = parseLogFormat(values["log-format"]);
if (!logFormat) {
  console.error(`invalid --log-format ${values["log-format"]} (want text, json or auto)\n${USAGE}`);
  process.exit(2);
}

let mimicry: MimicKind[] | undefined;
if (values["bootstrap-mimicry"]) {
  try {
    mimicry = parseMimicryConfig(readFileSync(values["bootstrap-mimicry"], "utf8"));
  } catch (e) {
    console.error(`invalid --bootstrap-mimicry ${values["bootstrap-mimicry"]}: ${(e as Error).message}`);
    process.exit(2);
  }
}

const shards = int("shards", values.shards, 1, 1);
const shard = int("shard", values.shard, 0, 0);
const leaseNamespace = values["lease-namespace"] ?? process.env.POD_NAMESPACE ?? "capim-edge-system";
const shardServices = values["shard-services"] ?? false;
const shardHosts = values["shard-hosts"]?.split(",").map((h) => h.trim()) ?? (shardServices ? Array.from({ length: shards }, (_, i) => shardServiceHost(i, leaseNamespace)) : undefined);
if (shard >= shards || (shardHosts && (shardHosts.length !== shards || shardHosts.some((h) => !h)))) {
  console.error(`--shard must be below --shards, and --shard-hosts must name one host per shard\n${USAGE}`);
  process.exit(2);
}
if (shardServices && (shards < 2 || values["vip-bind-address"] === undefined)) {
  console.error(`--shard-services needs --shards of 2 or more and --vip-bind-address (in a Pod, 0.0.0.0)\n${USAGE}`);
  process.exit(2);
}
if (shardHosts && values["vip-bind-address"] !== undefined && !shardPortRange(portRange ?? DEFAULT_PORT_RANGE, shards, shards - 1)) {
  console.error(`--vip-port-range has fewer ports than --shards (each shard gets its own slice when shards share --vip-bind-address)\n${USAGE}`);
  process.exit(2);
}
const sharding: ShardingOptions | undefined =
  shards > 1
    ? {
        shards,
        shard,
        hosts: shardHosts,
        services: shardServices,
        leaseNamespace,
        identity: values.identity ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
        leaseDurationSeconds: int("shard-lease-duration", values["shard-lease-duration"], 15, 1),
      }
    : undefined;

const kc = new KubeConfig();
if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
else kc.loadFromDefault();

const log = createLogger({ name: "capim-edge-controller", format: logFormat });
const metrics = createMetrics({ defaultMetrics: true });
const metricsPort = int("metrics-port", values["metrics-port"], 8080, -1);

const controller = await startController({
  kubeConfig: kc,
  edgeUrl: edgeUrl.split(",").map((u) => u.trim()).filter(Boolean),
  edgeToken,
  vipHost: values["vip-host"]!,
  vipBindAddress: values["vip-bind-address"],
  vipRequestTimeoutMs: int("vip-request-timeout", values["vip-request-timeout"], 60, 1) * 1000,
  vipMaxInflight: int("vip-max-inflight", values["vip-max-inflight"], 600, 1),
  portRange,
  log,
  metrics,
  concurrency: int("concurrency", values.concurrency, 10, 1),
  qps: int("qps", values.qps, 50),
  namespace: values.namespace,
  mimicry,
  sharding,
});
const server =
  metricsPort >= 0
    ? await startMetricsServer(metricsPort, metrics.registry, {
        host: values["metrics-bind-address"],
        ready: () => controller.manager.ready,
        routes: dashboardRoutes(controller, metrics.registry),
      })
    : undefined;
const webhookPort = values["webhook-port"] === undefined ? undefined : int("webhook-port", values["webhook-port"], 0);
let webhook: WebhookServer | undefined;
if (webhookPort !== undefined) {
  try {
    webhook = await startWebhookServer({
      port: webhookPort,
      host: values["webhook-bind-address"],
      certDir: values["webhook-cert-dir"]!,
      log,
      requests: metrics.webhookRequests,
    });
  } catch (e) {
    log.error({ err: String(e), certDir: values["webhook-cert-dir"] }, "webhook server did not start (no tls.crt/tls.key?)");
    await controller.stop();
    process.exit(1);
  }
}
log.info({ edgeUrl, metricsPort: server?.port, webhookPort: webhook?.port }, "controller running");

let exiting = false;
async function shutdown(signal: string): Promise<void> {
  if (exiting) return;
  exiting = true;
  log.info({ signal }, "shutting down");
  const force = setTimeout(() => process.exit(1), 20_000);
  force.unref();
  await controller.stop().catch((e) => log.error({ err: String(e) }, "stop failed"));
  await server?.close();
  await webhook?.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
