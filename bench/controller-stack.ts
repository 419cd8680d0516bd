// The embedded default (what `npm start` wires in controller/local/main.ts: edge and management API in a
// workerd each, controller, CAPI-playing driver) in a process of its own, with timing hooks for the controller
// benchmark. Its own process so that /proc RSS is the stack's, not the benchmark client's.
// Protocol (JSON lines on stdout): {"event":"up"} once edge + management + controller are running;
// the driver starts when a line "go" arrives on stdin; then {"event":"done", ...timings and counters}.
// Kubeconfigs are written to --kubeconfig-dir as by `npm start`. SIGTERM stops everything.
import type { AdminTransport } from "../edge-contract/admin-client.js";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { Kube } from "../controller/kube.js";
import { Driver } from "../controller/local/driver.js";
import { startLocalEdges } from "../controller/local/local-edges.js";
import { startManagement } from "../controller/local/management.js";
import { startController } from "../controller/manager.js";
import { createMetrics } from "../controller/metrics.js";

const { values } = parseArgs({
  options: {
    clusters: { type: "string", default: "100" },
    "control-planes": { type: "string", default: "1" },
    workers: { type: "string", default: "3" },
    concurrency: { type: "string", default: "10" },
    "startup-duration": { type: "string", default: "0s" },
    "ca-keys": { type: "string", default: "rsa" },
    "state-dir": { type: "string" },
    "kubeconfig-dir": { type: "string" },
    edges: { type: "string", default: "1" },
  },
});
const clusters = Number(values.clusters);
const stateDir = path.resolve(values["state-dir"]!);
const kubeconfigDir = path.resolve(values["kubeconfig-dir"]!);
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + "\n");
const log = pino({ name: "capim-bench", level: process.env.LOG_LEVEL ?? "warn" }, pino.destination(2));
const token = randomBytes(24).toString("hex");

// As in main.ts: Miniflare's SIGTERM handler would kill workerd and exit before we stop in order.
const before = process.listeners("SIGTERM");
const edges = await startLocalEdges({ stateDir, token, edges: Number(values.edges) });
for (const l of process.listeners("SIGTERM")) if (!before.includes(l)) process.removeListener("SIGTERM", l);
const management = await startManagement({ edgeUrl: edges.managementEdge.url, edgeToken: token, kubeconfigDir, stateDir, logger: log });
const metrics = createMetrics();
const controller = await startController({
  kubeConfig: management.directKubeConfig,
  edgeUrl: edges.workload.map((e) => e.url),
  edgeToken: token,
  vipHost: "127.0.0.1",
  log,
  metrics,
  concurrency: Number(values.concurrency),
  qps: 0,
});

// Counters for finding the bottleneck: edge admin calls by method (a wrapper on this instance only).
const edgeCalls: Record<string, number> = {};
// AdminClient sends every call through its private `transport` (edge-contract/admin-client.ts).
const edgeAny = controller.edge as unknown as { transport: AdminTransport };
const transport = edgeAny.transport;
edgeAny.transport = (req) => {
  const k = `${req.method} ${req.path.includes("/machines") ? "machine" : "cluster"}`;
  edgeCalls[k] = (edgeCalls[k] ?? 0) + 1;
  return transport(req);
};

// Management API calls by method and kind, from the controller and the driver alike (both use Kube).
const kubeCalls: Record<string, number> = {};
for (const method of ["get", "list", "create", "patch", "patchStatus", "delete", "getSecret"] as const) {
  const proto = Kube.prototype as unknown as Record<string, (...a: any[]) => Promise<unknown>>;
  const orig = proto[method];
  proto[method] = function (this: Kube, ...a: any[]) {
    const k = `${method} ${method === "getSecret" ? "Secret" : (a[0] as { kind: string }).kind}`;
    kubeCalls[k] = (kubeCalls[k] ?? 0) + 1;
    return orig.apply(this, a);
  };
}

let driver: Driver | undefined;
let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 15_000).unref();
  await driver?.stop().catch(() => {});
  await controller.stop().catch(() => {});
  await management.stop().catch(() => {});
  await edges.stop().catch(() => {});
  rmSync(stateDir, { recursive: true, force: true });
  process.exit(0);
}
process.on("SIGTERM", () => void stop());

/** How long the driver may go without a machine becoming ready before the run counts as stalled. */
const STALL_MS = Number(process.env.CAPIM_BENCH_STALL_MS) || 180_000;

async function drive(): Promise<void> {
  const t0 = performance.now();
  const since = () => Math.round(performance.now() - t0);
  const marks: Record<string, number> = {};
  const progress: Array<[number, number]> = [];
  driver = new Driver({
    kube: new Kube(management.directKubeConfig),
    log,
    informers: controller.manager.sharedInformers,
    clusters,
    controlPlanes: Number(values["control-planes"]),
    workers: Number(values.workers),
    provisioning: { startupDuration: values["startup-duration"]! },
    kubeconfigDir,
    caKeys: values["ca-keys"] === "ecdsa" ? "ecdsa" : "rsa",
    onProgress: (p) => {
      lastProgress = { at: performance.now(), p };
      progress.push([since(), p.readyMachines]);
      if (p.readyMachines > 0) marks.firstMachineReady ??= since();
      if (p.readyMachines === p.totalMachines) marks.allMachinesReady ??= since();
    },
  });
  const names = driver.names;
  // VIPs: sampled every 5 ms in this process (the VipManager is the one the controller opens them on).
  // Only the ones not seen open yet are looked at, so the sampling costs the measured process little.
  const notOpen = new Set(names);
  const vipTimer = setInterval(() => {
    for (const n of notOpen) if (controller.vip.isOpen(driver!.namespace, n)) notOpen.delete(n);
    if (notOpen.size < names.length) marks.firstVipOpen ??= since();
    if (notOpen.size === 0) {
      marks.allVipsOpen ??= since();
      clearInterval(vipTimer);
    }
  }, 5);
  // A run whose progress stops fails with what it reached instead of waiting forever (the scale benchmark
  // reports it as what stopped that size).
  let lastProgress = { at: performance.now(), p: driver.progress() };
  const stalled = new Promise<never>((_, reject) => {
    const t = setInterval(() => {
      if (performance.now() - lastProgress.at < STALL_MS) return;
      clearInterval(t);
      const p = lastProgress.p;
      reject(new Error(`stalled: no progress for ${STALL_MS / 1000} s at ${p.readyMachines}/${p.totalMachines} machines, ${p.readyClusters}/${p.totalClusters} clusters ready (t = ${(since() / 1000).toFixed(0)} s)`));
    }, 1000);
    t.unref();
    void driver!.allReady().then(() => clearInterval(t));
  });
  await Promise.race([driver.start(), stalled]);
  marks.objectsCreated = since();
  await Promise.race([driver.allReady(), stalled]);
  marks.allClustersReady = since();
  clearInterval(vipTimer);
  const reconciles: Record<string, number> = {};
  for (const v of (await metrics.reconcileTotal.get()).values) {
    reconciles[`${v.labels.controller}/${v.labels.result}`] = v.value;
  }
  emit({ event: "done", marks, reconciles, edgeCalls, kubeCalls, progress, names, namespace: driver.namespace, kubeconfigs: names.map((n) => driver!.kubeconfigPath(n)) });
}

emit({ event: "up", pid: process.pid });
const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (line.trim() === "go")
    drive().catch((e) => {
      emit({ event: "error", message: String((e as Error)?.stack ?? e) });
    });
});
