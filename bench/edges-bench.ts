// The embedded default with its workload clusters in K workerd processes (npm start's --edges) against
// one: the same N clusters x (1 control plane + 3 workers) provisioned from nothing, then ConfigMap
// creates from 8 clients in 8 clusters through their VIPs; rounds alternate the order of K so that
// drift on this shared VM falls on both. Figures are the medians of the rounds.
import { clusterSlot } from "../edge-contract/cluster-hash.js";
import { runStack, workerdCpuUsed, type Run } from "./controller-bench.js";
import { mb } from "./report.js";

export interface EdgesBenchOptions {
  clusters?: number;
  edgeCounts?: number[];
  rounds?: number;
  creates?: number;
  log?: (line: string) => void;
}

const CREATORS = 8;

export async function benchEdges(opts: EdgesBenchOptions = {}): Promise<string> {
  const clusters = opts.clusters ?? 1000;
  const counts = opts.edgeCounts ?? [1, 2];
  const rounds = opts.rounds ?? 2;
  const creates = opts.creates ?? 4000;
  const log = opts.log ?? ((l: string) => console.error(l));
  const workers = 3;
  const machines = clusters * (1 + workers);
  const runs = new Map<number, Run[]>(counts.map((k) => [k, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? counts : [...counts].reverse();
    for (const k of order) {
      log(`round ${round + 1}: ${k} workload workerd process(es)`);
      runs.get(k)!.push(await runStack({ clusters, workers, concurrency: 10, caKeys: "ecdsa", spread: 1, log, edges: k, creates, creators: CREATORS }));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rate = (r: Run) => machines / (r.d.marks.allMachinesReady / 1000);
  const base = counts[0];
  const fig = (k: number) => {
    const rs = runs.get(k)!;
    return { rate: median(rs.map(rate)), creates: median(rs.map((r) => r.createsPerSecond!)), r: rs[0] };
  };
  const rows = counts.map((k) => {
    const f = fig(k);
    const b = fig(base);
    const split = Array.from({ length: k }, (_, i) => Array.from({ length: CREATORS }, (_, c) => clusterSlot("default", `capim-${c + 1}`, k)).filter((x) => x === i).length).join(" / ");
    return (
      `| ${k} | ${f.rate.toFixed(1)} (${(f.rate / b.rate).toFixed(2)}x) | ${runs.get(k)!.map((r) => rate(r).toFixed(1)).join(", ")} | ` +
      `**${f.creates.toFixed(0)}** (${(f.creates / b.creates).toFixed(2)}x) | ${runs.get(k)!.map((r) => r.createsPerSecond!.toFixed(0)).join(", ")} | ${split} | ` +
      `${(f.r.after.nodeCpu - f.r.before.nodeCpu).toFixed(0)} / ${workerdCpuUsed(f.r.before, f.r.after).map((c) => c.toFixed(0)).join(" + ")} | ${mb(f.r.after.node)} / ${mb(f.r.after.workerd)} | ` +
      `${f.r.machine.idle.toFixed(0)}% |`
    );
  });
  return [
    `The embedded default's stack (bench/controller-stack.ts: one Node process for controller, VIPs and the CAPI-playing driver; the management API's workerd; ` +
      `K workerd processes for the workload clusters, a cluster's process FNV-1a of namespace/name mod K) provisioning ${clusters} clusters x (1 control plane + ${workers} workers) ` +
      `from nothing (ECDSA cluster CAs, every startupDuration 0s, controller concurrency 10), then ${creates} ConfigMap creates from ${CREATORS} keep-alive clients, ` +
      `each in its own cluster (capim-1..${CREATORS}) through its VIP. ${rounds} rounds, the order of K alternating; medians.`,
    "",
    "| workload workerds (K) | machines/s provisioning (vs K=" + base + ") | each round | creates/s, 8 clients (vs K=" + base + ") | each round | the 8 clusters per process | CPU s node / workerds (first round) | RSS node / workerds at ready | machine idle |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}
