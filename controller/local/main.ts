// `npm start -- [--clusters N] [--control-planes C] [--workers W] [--kubeconfig-dir DIR] [--state-dir DIR]
//               [--startup-duration 2s] [--jitter 0.2] [--version v1.31.0] [--shards R] [--edges K]
// The embedded default: the edge in workerd (miniflare), the embedded management API (in a workerd of its
// own, see local-edges.ts), the controller in-process, and a driver playing CAPI for N clusters. Prints
// `all <n> clusters ready` once every machine is ready and every kubeconfig is written, then runs until
// SIGINT/SIGTERM. With the same --state-dir a restart converges without re-creating anything (VIPs come
// back on the same ports).
import { Presets, SingleBar } from "cli-progress";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { createLogger, parseLogFormat } from "../log.js";
import { Kube } from "../kube.js";
import { startController } from "../manager.js";
import { parsePortRange } from "../vip/ports.js";
import { createMetrics, startMetricsServer, type MetricsServer } from "../metrics.js";
import { dashboardRoutes } from "../dashboard/index.js";
import { Driver, type Progress } from "./driver.js";
import { startLocalEdges } from "./local-edges.js";
import { localShardHosts, localSharding, startShardReplicas, type ShardReplica } from "./shard-replicas.js";
import { connect } from "node:net";
import { startManagement } from "./management.js";

const USAGE = `usage: npm start -- [options]
  --clusters N           fake workload clusters capim-1..N in namespace default (default 3)
  --control-planes C     control plane machines per cluster (default 1)
  --workers W            worker machines per cluster (default 1)
  --kubeconfig-dir DIR   where management.kubeconfig and <ns>-<name>.kubeconfig go (default .state/kubeconfigs)
  --state-dir DIR        edge state (Durable Object SQLite files); reuse it to restart (default .state)
  --startup-duration D   per step (vm, node, apiServer, etcd), Go duration (default 2s)
  --jitter F             startupJitter (default 0.2)
  --version V            Kubernetes version of the machines (default v1.31.0)
  --concurrency N        controller reconciles at once, per controller (default 10)
  --vip-port-range A-B   ports of the clusters' VIPs and the management API (default 20000-30000);
                         give a second instance on the same host a range of its own
  --shards R             R controller replicas: this process holds shard 0 (127.0.0.1), a controller
                         process each the others (127.0.0.2, ...); kill one and another takes its
                         clusters over on the same host:port once its Lease expires (default 1; Linux)
  --edges K              workerd processes holding the workload clusters, each one core (default 1); a
                         cluster's process is FNV-1a of namespace/name mod K. Fixed by the state
                         directory once it has clusters (a restart keeps its K)
  --dashboard-port N     the fleet dashboard and /metrics on 127.0.0.1:N (default 0: a free port; -1: off)
  --log-format F         text (readable), json, or auto: text on a terminal, json otherwise (default auto;
                         env CAPIM_EDGE_LOG_FORMAT). Logs go to stderr, warn and up unless LOG_LEVEL says otherwise`;

function usageError(message: string): never {
  console.error(`capim-edge: ${message}\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      clusters: { type: "string", default: "3" },
      "control-planes": { type: "string", default: "1" },
      workers: { type: "string", default: "1" },
      "kubeconfig-dir": { type: "string", default: ".state/kubeconfigs" },
      "state-dir": { type: "string", default: ".state" },
      "startup-duration": { type: "string", default: "2s" },
      jitter: { type: "string", default: "0.2" },
      version: { type: "string", default: "v1.31.0" },
      concurrency: { type: "string", default: "10" },
      "vip-port-range": { type: "string", default: "20000-30000" },
      "log-format": { type: "string" },
      "dashboard-port": { type: "string", default: "0" },
      shards: { type: "string", default: "1" },
      edges: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (e) {
  usageError((e as Error).message); // e.g. a flag without its value: one line, not a stack
}
const { values } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
function count(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`invalid --${name} ${v}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}
const clusters = count("clusters", values.clusters!, 1);
const controlPlanes = count("control-planes", values["control-planes"]!, 1);
const workers = count("workers", values.workers!, 0);
const concurrency = count("concurrency", values.concurrency!, 1);
const shards = count("shards", values.shards!, 1);
const edgeCount = values.edges === undefined ? undefined : count("edges", values.edges, 1);
if (edgeCount !== undefined && edgeCount > 64) usageError(`invalid --edges ${edgeCount} (at most 64 workerd processes)`);
if (shards > 254) usageError(`invalid --shards ${shards} (at most 254: one loopback address each)`);
if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(values["startup-duration"]!) || !Number.isFinite(Number(values.jitter))) {
  console.error(`invalid --startup-duration or --jitter\n${USAGE}`);
  process.exit(2);
}
// kubeadm's version form; anything else would only fail later, in every DevMachine's bootstrap.
if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(values.version!)) usageError(`invalid --version ${values.version} (want a Kubernetes version such as v1.31.0)`);
const portRange = parsePortRange(values["vip-port-range"]!);
if (!portRange) {
  console.error(`invalid --vip-port-range ${values["vip-port-range"]} (want A-B, 1 <= A <= B <= 65535)\n${USAGE}`);
  process.exit(2);
}
const dashboardPort = Number(values["dashboard-port"]);
if (!Number.isInteger(dashboardPort) || dashboardPort < -1 || dashboardPort > 65535) usageError(`invalid --dashboard-port ${values["dashboard-port"]} (want a port, 0 for a free one, or -1 for none)`);
const logFormat = parseLogFormat(values["log-format"]);
if (!logFormat) usageError(`invalid --log-format ${values["log-format"]} (want text, json or auto)`);
const stateDir = path.resolve(values["state-dir"]!);
const kubeconfigDir = path.resolve(values["kubeconfig-dir"]!);
mkdirSync(stateDir, { recursive: true });

// The tenant token is kept with the state so that management.kubeconfig stays valid across restarts.
const tokenFile = path.join(stateDir, "token");
const token = existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : randomBytes(24).toString("hex");
writeFileSync(tokenFile, token, { mode: 0o600 });

// Logs go to stderr (warn and up unless LOG_LEVEL says otherwise) so stdout stays readable.
const log = createLogger({ level: process.env.LOG_LEVEL ?? "warn", fd: 2, format: logFormat });

// Miniflare installs SIGINT/SIGTERM handlers that kill workerd and exit at once; replace the ones it
// adds with an orderly shutdown (driver, controller and VIPs, then the edge).
const before = { SIGINT: process.listeners("SIGINT"), SIGTERM: process.listeners("SIGTERM") };
const edges = await startLocalEdges({
  stateDir,
  token,
  edges: edgeCount,
  supervise: {
    log: (message) => log.warn(message),
    giveUp: (message) => {
      log.error(message);
      console.error(`capim-edge: ${message}`);
      void shutdown("workerd keeps dying", 1);
    },
  },
});
const edge = edges.edge;
let driver: Driver | undefined;
let management: Awaited<ReturnType<typeof startManagement>> | undefined;
let controller: Awaited<ReturnType<typeof startController>> | undefined;
let replicas: ShardReplica[] = [];
let dashboard: MetricsServer | undefined;
let exiting = false;
async function shutdown(reason: string, code = 0): Promise<void> {
  if (exiting) return;
  exiting = true;
  bar?.stop();
  console.log(`${reason}: stopping`);
  edges.stopSupervising();
  setTimeout(() => process.exit(1), 15_000).unref();
  await driver?.stop().catch(() => {});
  await dashboard?.close().catch(() => {});
  for (const r of replicas) r.child.kill("SIGTERM");
  await controller?.stop().catch(() => {});
  await Promise.all(replicas.map((r) => (r.child.exitCode === null && r.child.signalCode === null ? new Promise((done) => r.child.once("exit", done)) : undefined)));
  await management?.stop().catch(() => {});
  await edges.stop().catch(() => {});
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  for (const l of process.listeners(signal)) if (!before[signal].includes(l)) process.removeListener(signal, l);
  process.on(signal, () => void shutdown(signal));
}

console.log(`edge ready at ${edge.url} (state in ${stateDir}); https at ${edge.httpsUrl}`);
const workloadUrls = edges.workload.map((e) => e.url);
if (workloadUrls.length > 1) console.log(`workload edges: ${workloadUrls.join(" ")} (a cluster's edge is FNV-1a of namespace/name mod ${workloadUrls.length})`);
if (edgeCount !== undefined && workloadUrls.length !== edgeCount) console.error(`capim-edge: ${stateDir} holds clusters on ${workloadUrls.length} workerd process(es); keeping that (--edges ${edgeCount} applies to a new state directory)`);
management = await startManagement({ edgeUrl: edges.managementEdge.url, edgeToken: token, kubeconfigDir, stateDir, logger: log, portRange });
console.log(`management API at ${management.server}: kubectl --kubeconfig ${management.kubeconfigPath} get devclusters,devmachines -A`);

const metrics = createMetrics();
controller = await startController({
  kubeConfig: management.directKubeConfig,
  edgeUrl: workloadUrls,
  edgeToken: token,
  vipHost: "127.0.0.1",
  log,
  metrics,
  concurrency,
  qps: 0,
  portRange,
  // Shard 0's endpoint host is 127.0.0.1, the VIP host above.
  ...(shards > 1 ? { sharding: localSharding(shards, 0) } : {}),
});
if (shards > 1) {
  replicas = await startShardReplicas({
    shards,
    managementKubeconfig: management.kubeconfigPath,
    edgeUrl: workloadUrls.join(","),
    edgeToken: token,
    portRange,
    concurrency,
    logLevel: process.env.LOG_LEVEL ?? "warn",
    log: (line) => console.error(line),
  });
  console.log(`controller shards: ${shards} (shard 0 here on ${localShardHosts(shards)[0]}; ${replicas.map((r) => `shard ${r.shard} pid ${r.child.pid}`).join(", ")})`);
}
if (dashboardPort >= 0) {
  dashboard = await startMetricsServer(dashboardPort, metrics.registry, { routes: dashboardRoutes(controller, metrics.registry) });
  console.log(`dashboard at http://127.0.0.1:${dashboard.port}/dashboard (metrics at /metrics)`);
}

let bar: SingleBar | undefined;
const tty = process.stderr.isTTY;
function onProgress(p: Progress): void {
  if (tty) {
    if (!bar) {
      bar = new SingleBar({ format: "machines [{bar}] {value}/{total} | clusters {clusters}/{nclusters}", hideCursor: true }, Presets.shades_classic);
      bar.start(p.totalMachines, p.readyMachines, { clusters: p.readyClusters, nclusters: p.totalClusters });
    }
    bar.update(p.readyMachines, { clusters: p.readyClusters, nclusters: p.totalClusters });
  } else {
    console.log(`progress: ${p.readyMachines}/${p.totalMachines} machines ready, ${p.readyClusters}/${p.totalClusters} clusters ready`);
  }
}

driver = new Driver({
  kube: new Kube(management.directKubeConfig),
  log,
  informers: controller.manager.sharedInformers,
  clusters,
  controlPlanes,
  workers,
  version: values.version,
  provisioning: { startupDuration: values["startup-duration"]!, startupJitter: values.jitter },
  kubeconfigDir,
  onProgress,
});
await driver.start();
await driver.allReady();
// After a restart the management API already shows every machine ready while the controller is still
// reopening the VIPs: the ready line promises that kubectl works, so it waits for them too.
const d = driver;
while (!(await allVipsServing(d))) await new Promise((r) => setTimeout(r, 50));
bar?.stop();
console.log(`all ${clusters} clusters ready`);
console.log(`try: kubectl --kubeconfig ${driver.kubeconfigPath(driver.names[0])} get nodes`);
console.log(`     kubectl --kubeconfig ${driver.kubeconfigPath(driver.names[0])} -n kube-system get pods`);
const undriven = driver.undrivenClusters();
if (undriven.length) {
  console.log(`also running, from an earlier run with more --clusters: ${undriven.join(", ")}; to remove one:`);
  console.log(`     kubectl --kubeconfig ${management.kubeconfigPath} delete cluster ${undriven[0]}`);
}
console.log(`kubeconfigs in ${kubeconfigDir}; Ctrl-C to stop (state is kept in ${stateDir})`);

/** Every driven cluster's VIP accepts connections (whichever replica holds its shard). */
async function allVipsServing(d: Driver): Promise<boolean> {
  if (shards === 1) return d.names.every((n) => controller!.vip.isOpen(d.namespace, n));
  const informers = controller!.manager.sharedInformers;
  const open = await Promise.all(
    d.names.map((n) => {
      const ep = informers.devClusters.get(n, d.namespace)?.spec?.controlPlaneEndpoint as { host?: string; port?: number } | undefined;
      const { host, port } = ep ?? {};
      if (!host || !port) return false;
      return new Promise<boolean>((resolve) => {
        const sock = connect({ host, port }, () => (sock.destroy(), resolve(true)));
        sock.once("error", () => resolve(false));
      });
    }),
  );
  return open.every(Boolean);
}
