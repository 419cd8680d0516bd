// How far one machine goes: the embedded default (one workload workerd, one controller process, the
// CAPI-playing driver) provisioning growing numbers of clusters of 1 control plane + 3 workers, each
// size a fresh stack (controller-bench.ts's runStack, ECDSA cluster CAs, every startupDuration 0s), up to
// the first size that fails or would not fit in memory; the report says which and why.
import os from "node:os";
import { runStack, workerdCpuUsed, type Run } from "./controller-bench.js";
import { mb, ms, percentile } from "./report.js";

export interface ScaleBenchOptions {
  /** Cluster counts, smallest first (default 1000, 3000, 10000). */
  sizes?: number[];
  workers?: number;
  log?: (line: string) => void;
}

/** VIP ports the controller takes by default (20000-30000), one of them for the management API. */
const VIP_PORTS = 10_001 - 1;

export async function benchScale(opts: ScaleBenchOptions = {}): Promise<string> {
  const sizes = opts.sizes ?? [1000, 3000, 10_000];
  const workers = opts.workers ?? 3;
  const log = opts.log ?? ((l: string) => console.error(l));
  const rows: string[] = [];
  let stoppedBy = `every size ran (largest ${sizes[sizes.length - 1]})`;
  let perCluster: number | undefined;
  for (const n of sizes) {
    if (n > VIP_PORTS) {
      stoppedBy = `${n} clusters: more than the ${VIP_PORTS} VIP ports of the default range 20000-30000 (one controller holds one port per cluster)`;
      break;
    }
    const need = perCluster !== undefined ? perCluster * n : 0;
    if (need > 0.8 * os.freemem()) {
      stoppedBy = `${n} clusters: ~${mb(need)} of RSS projected from the previous size's per-cluster figure, over 80% of the ${mb(os.freemem())} free`;
      break;
    }
    let r: Run;
    try {
      r = await runStack({ clusters: n, workers, concurrency: 10, caKeys: "ecdsa", requests: 200, spread: Math.min(20, n), log });
    } catch (e) {
      stoppedBy = `${n} clusters: the run failed: ${(e as Error).message.slice(0, 300)}`;
      break;
    }
    const machines = n * (1 + workers);
    const ready = r.d.marks.allMachinesReady;
    const rss = r.after.node + r.after.workerd - r.before.node - r.before.workerd;
    perCluster = rss / n;
    const cpu = workerdCpuUsed(r.before, r.after).map((c) => c.toFixed(0)).join(" + ");
    rows.push(
      `| ${n} | ${machines} | ${(r.d.marks.allVipsOpen / 1000).toFixed(1)} s | **${(ready / 1000).toFixed(1)} s** | ${(machines / (ready / 1000)).toFixed(1)} | ` +
        `${mb(r.after.node)} / ${mb(r.after.workerd)} | ${(perCluster / 2 ** 20).toFixed(2)} MB | ${(r.after.nodeCpu - r.before.nodeCpu).toFixed(0)} / ${cpu} | ` +
        `${ms(percentile(r.spread!, 50))} / ${ms(percentile(r.spread!, 99))} | ${r.machine.idle.toFixed(0)}% / ${r.machine.steal.toFixed(1)}% |`,
    );
  }
  return [
    `Each size is a fresh embedded default (bench/controller-stack.ts: one workload workerd and the management API's, one Node process for controller, VIPs and driver) ` +
      `provisioning N clusters x (1 control plane + ${workers} workers) from nothing (t = 0 when the driver starts), ECDSA cluster CAs, every startupDuration 0s, ` +
      `controller concurrency 10, the edge's SQLite on ${"tmpfs (/dev/shm)"}; after all are ready, 200 GETs of a Node spread over 20 VIPs.`,
    "",
    "| clusters | DevMachines | all VIPs open | all machines ready | machines/s | RSS node / workerd at the end | RSS per cluster | CPU s node / workerd | VIP GET p50 / p99 | machine idle / steal |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `Stopped: ${stoppedBy}.`,
  ].join("\n");
}
