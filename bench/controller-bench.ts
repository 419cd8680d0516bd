// Controller benchmark: the embedded default provisioning N clusters (1 control plane + W workers,
// zero startup durations) from nothing to every DevMachine ready, GET node latency through the VIPs
// with the admin client certificate of a written kubeconfig, and RSS per cluster.
// The stack runs as its own process (bench/controller-stack.ts, the same wiring as `npm start`) so
// that /proc RSS is the controller's and workerd's, not this client's; it reports its own timings.
// Run alone: `npx tsx bench/controller-bench.ts [--quick]`.
import { spawn } from "node:child_process";
import https from "node:https";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statfsSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";
import { bundleBenchEntry } from "./bundle.js";
import { processTree, rss } from "./edge-bench.js";
import { mb, ms, percentile, timed } from "./report.js";
import { CONTROLLER_NODE_FLAGS } from "../controller/node-flags.js";

export interface ControllerBenchOptions {
  /** Clusters (default 100; quick: 10). */
  clusters?: number;
  /** Workers per cluster (default 3); always 1 control plane. */
  workers?: number;
  /** Sequential GETs per latency measurement (default 2000; quick: 300). */
  requests?: number;
  quick?: boolean;
  /** Controller reconciles at once (default 10, as `npm start`). */
  concurrency?: number;
  log?: (line: string) => void;
}

interface Done {
  marks: Record<string, number>;
  reconciles: Record<string, number>;
  edgeCalls: Record<string, number>;
  kubeCalls: Record<string, number>;
  progress: Array<[number, number]>;
  names: string[];
  namespace: string;
  kubeconfigs: string[];
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function startStack(args: string[]) {
  const child = spawn(process.execPath, [...CONTROLLER_NODE_FLAGS, ...(process.env.CONTROLLER_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []), await bundleBenchEntry("controller-stack"), ...args], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const waiters: Array<{ event: string; resolve: (o: any) => void; reject: (e: Error) => void }> = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let o: any;
    try {
      o = JSON.parse(line);
    } catch {
      return;
    }
    for (const w of [...waiters]) {
      if (o.event === w.event) w.resolve(o);
      else if (o.event === "error") w.reject(new Error(`stack failed: ${o.message}`));
      else continue;
      waiters.splice(waiters.indexOf(w), 1);
    }
  });
  void exited.then((code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`stack exited (${code}) while waiting for ${w.event}`));
  });
  return {
    pid: child.pid!,
    wait: <T,>(event: string) => new Promise<T>((resolve, reject) => waiters.push({ event, resolve, reject })),
    send: (line: string) => child.stdin!.write(line + "\n"),
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
}

/** Machine-wide CPU time counters from /proc/stat (clock ticks): all, idle (+iowait), steal. */
interface MachineCpu {
  total: number;
  idle: number;
  steal: number;
}

function machineCpu(): MachineCpu {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { total: user + nice + system + idle + iowait + irq + softirq + steal, idle: idle + iowait, steal };
}

/** Idle and steal as percentages of all CPU time between two samples. */
function machineShare(a: MachineCpu, b: MachineCpu): { idle: number; steal: number } {
  const total = Math.max(1, b.total - a.total);
  return { idle: (100 * (b.idle - a.idle)) / total, steal: (100 * (b.steal - a.steal)) / total };
}

export interface Usage {
  node: number;
  workerd: number;
  nodeCpu: number;
  /** CPU seconds per workerd process (workload edge, management edge), by pid. */
  workerdCpu: Map<number, number>;
}

/** RSS and CPU time of the stack process (node: controller + driver + Miniflare host) and its workerd processes. */
function stackUsage(pid: number): Usage {
  let workerd = 0;
  const workerdCpu = new Map<number, number>();
  for (const p of processTree(pid)) {
    if (p.name === "workerd") {
      try {
        workerd += rss(p.pid);
        workerdCpu.set(p.pid, cpuSeconds(p.pid));
      } catch {
        /* exited */
      }
    }
  }
  return { node: rss(pid), workerd, nodeCpu: cpuSeconds(pid), workerdCpu };
}

/** CPU seconds each workerd used between two samples, largest first. */
export function workerdCpuUsed(before: Usage, after: Usage): number[] {
  return [...after.workerdCpu].map(([pid, s]) => s - (before.workerdCpu.get(pid) ?? 0)).sort((a, b) => b - a);
}

/** A keep-alive HTTPS client for one workload cluster, authenticated like kubectl with its kubeconfig. */
function kubeClient(kubeconfigFile: string) {
  const kc = parseYaml(readFileSync(kubeconfigFile, "utf8"));
  const b64 = (s: string) => Buffer.from(s, "base64");
  const server = new URL(kc.clusters[0].cluster.server);
  const user = kc.users[0].user;
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 1,
    ca: b64(kc.clusters[0].cluster["certificate-authority-data"]),
    cert: b64(user["client-certificate-data"]),
    key: b64(user["client-key-data"]),
  });
  const send = (method: "GET" | "POST", p: string, body?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const headers: Record<string, string> = { accept: "application/json", ...(body !== undefined ? { "content-type": "application/json" } : {}) };
      const req = https.request({ agent, host: server.hostname, port: server.port, method, path: p, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
  return { get: (p: string) => send("GET", p), post: (p: string, body: unknown) => send("POST", p, JSON.stringify(body)), close: () => agent.destroy() };
}

/**
 * `total` ConfigMap creates from `clients` concurrent clients, client i in cluster i (each through its
 * own VIP): creates per second over the whole phase.
 */
async function concurrentCreates(kubeconfigs: string[], total: number): Promise<number> {
  const clients = kubeconfigs.map(kubeClient);
  const per = Math.ceil(total / clients.length);
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, i) => {
      for (let n = 0; n < per; n++) {
        const r = await c.post("/api/v1/namespaces/default/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `bench-${i}-${n}` }, data: { n: String(n) } });
        if (r.status !== 201) throw new Error(`create configmap: ${r.status} ${r.body.slice(0, 300)}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  for (const c of clients) c.close();
  return (per * clients.length) / seconds;
}

async function getNode(c: ReturnType<typeof kubeClient>, node: string): Promise<void> {
  const r = await c.get(`/api/v1/nodes/${node}`);
  if (r.status !== 200) throw new Error(`GET node ${node}: ${r.status} ${r.body.slice(0, 300)}`);
  if (JSON.parse(r.body).metadata?.name !== node) throw new Error(`GET node ${node}: got ${r.body.slice(0, 200)}`);
}


const s = (msec: number) => `${(msec / 1000).toFixed(2)} s`;
const stats = (xs: number[]) => `${ms(percentile(xs, 50))} | ${ms(percentile(xs, 99))} | ${ms(xs[xs.length - 1])}`;

export interface Run {
  d: Done;
  before: Usage;
  after: Usage;
  /** The machine's idle and steal share (%) from "go" to all clusters ready. */
  machine: { idle: number; steal: number };
  /** The filesystem of the run's state directory (edge SQLite files). */
  fs: "tmpfs" | "disk";
  afterGets?: Usage;
  single?: number[];
  spread?: number[];
  /** ConfigMap creates per second from `creators` clients in as many clusters (runStack's `creates`). */
  createsPerSecond?: number;
}

const TMPFS_MAGIC = 0x01021994;

/**
 * Where a run keeps its throwaway state (edge SQLite files, kubeconfigs): $CAPIM_BENCH_STATE_ROOT, else
 * /dev/shm when writable, else the OS temp dir. workerd fsyncs every Durable Object commit; on this VM's
 * virtio disk that adds ~0.15-0.3 ms of CPU and up to ~0.8 ms of blocked event loop to each management
 * write, a cost of the local emulator's disk (the deployed edge's storage is not on this machine) rather
 * than of the provider. The report says which filesystem each run used, and one run on disk is reported
 * beside the others.
 */
export function benchStateRoot(): string {
  const env = process.env.CAPIM_BENCH_STATE_ROOT;
  if (env) return env;
  try {
    if (statSync("/dev/shm").isDirectory()) {
      accessSync("/dev/shm", constants.W_OK);
      return "/dev/shm";
    }
  } catch {
    /* not Linux, or not writable */
  }
  return os.tmpdir();
}

/** "tmpfs" or "disk" for the filesystem under `dir`. */
export function filesystemKind(dir: string): "tmpfs" | "disk" {
  try {
    return statfsSync(dir).type === TMPFS_MAGIC ? "tmpfs" : "disk";
  } catch {
    return "disk";
  }
}

/** One run of the stack: drive `clusters` clusters to ready; with `requests`, also time GET node through the VIPs. */
export async function runStack(o: {
  clusters: number;
  workers: number;
  concurrency: number;
  caKeys: "rsa" | "ecdsa";
  requests?: number;
  spread: number;
  log: (l: string) => void;
  /** Parent of the run's state directory (default: benchStateRoot()). */
  stateRoot?: string;
  /** Workload workerd processes (npm start's --edges; default 1). */
  edges?: number;
  /** After all are ready: this many ConfigMap creates from `creators` (default 8) clients, each in its own cluster. */
  creates?: number;
  creators?: number;
}): Promise<Run> {
  const stateRoot = o.stateRoot ?? benchStateRoot();
  const tmp = mkdtempSync(path.join(stateRoot, "capim-ctrl-bench-"));
  const stack = await startStack([
    "--clusters", String(o.clusters),
    "--workers", String(o.workers),
    "--concurrency", String(o.concurrency),
    "--startup-duration", "0s",
    "--ca-keys", o.caKeys,
    "--state-dir", path.join(tmp, "state"),
    "--kubeconfig-dir", path.join(tmp, "kubeconfigs"),
    "--edges", String(o.edges ?? 1),
  ]);
  try {
    await stack.wait("up");
    await new Promise((r) => setTimeout(r, 1000)); // let start-up garbage settle before the baseline
    const before = stackUsage(stack.pid);
    o.log(`driving ${o.clusters} clusters x ${1 + o.workers} machines, ${o.caKeys} CAs`);
    const done = stack.wait<Done>("done");
    const cpu0 = machineCpu();
    stack.send("go");
    const d = await done;
    const machine = machineShare(cpu0, machineCpu());
    const after = stackUsage(stack.pid);
    const fs = filesystemKind(tmp);
    let createsPerSecond: number | undefined;
    if (o.creates) {
      o.log(`${o.creates} ConfigMap creates from ${o.creators ?? 8} clients in as many clusters`);
      createsPerSecond = await concurrentCreates(d.kubeconfigs.slice(0, o.creators ?? 8), o.creates);
    }
    if (!o.requests) return { d, before, after, machine, fs, createsPerSecond };

    const N = o.requests;
    const node = (cluster: string) => `${cluster}-cp-0`;
    o.log(`GET node x${N} through one VIP`);
    const one = kubeClient(d.kubeconfigs[0]);
    for (let i = 0; i < 200; i++) await getNode(one, node(d.names[0])); // warm-up (TLS, JIT)
    const single = await timed(N, () => getNode(one, node(d.names[0])));
    one.close();
    o.log(`GET node x${N} over ${o.spread} VIPs`);
    const many = d.kubeconfigs.slice(0, o.spread).map(kubeClient);
    for (let i = 0; i < o.spread * 10; i++) await getNode(many[i % o.spread], node(d.names[i % o.spread]));
    const spread = await timed(N, (i) => getNode(many[i % o.spread], node(d.names[i % o.spread])));
    for (const c of many) c.close();
    return { d, before, after, machine, fs, afterGets: stackUsage(stack.pid), single, spread };
  } finally {
    await stack.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function benchController(opts: ControllerBenchOptions = {}): Promise<string> {
  const quick = opts.quick ?? false;
  const CLUSTERS = opts.clusters ?? (quick ? 10 : 100);
  const WORKERS = opts.workers ?? 3;
  const N = opts.requests ?? (quick ? 300 : 2000);
  const SPREAD = Math.min(20, CLUSTERS);
  const concurrency = opts.concurrency ?? 10;
  const log = opts.log ?? ((l: string) => console.error(l));
  const machines = CLUSTERS * (1 + WORKERS);
  const common = { clusters: CLUSTERS, workers: WORKERS, concurrency, spread: SPREAD, log };
  const EC_RUNS = quick ? 1 : 3;

  // The provider's own throughput: ECDSA cluster CAs, so that CAPI's part (RSA keygen) does not dominate.
  // Three runs, reported by the median: on this shared VM (CPU steal) single runs differ by a quarter.
  const ecRuns: Run[] = [await runStack({ ...common, caKeys: "ecdsa", requests: N })];
  for (let i = 1; i < EC_RUNS; i++) ecRuns.push(await runStack({ ...common, caKeys: "ecdsa" }));
  // What `npm start` does: RSA-2048 CAs generated by the driver (as KCP would) on the way.
  const rsa = await runStack({ ...common, caKeys: "rsa" });
  // The same as the ECDSA runs with the edge's SQLite files on disk, as `npm start` keeps them (.state/).
  const diskRoot = os.tmpdir();
  const onDisk = ecRuns[0].fs === "tmpfs" && filesystemKind(diskRoot) === "disk" ? await runStack({ ...common, caKeys: "ecdsa", stateRoot: diskRoot }) : undefined;

  const rate = (r: Run) => machines / (r.d.marks.allMachinesReady / 1000);
  /** CPU seconds the run used: "node / workerd + workerd", largest workerd first. */
  const cpuUsed = (r: Run) => `${(r.after.nodeCpu - r.before.nodeCpu).toFixed(1)} / ${workerdCpuUsed(r.before, r.after).map((c) => c.toFixed(1)).join(" + ")}`;
  const byRate = [...ecRuns].sort((a, b) => rate(a) - rate(b));
  const ec = byRate[Math.floor(byRate.length / 2)];
  const withGets = ecRuns[0];
  const pct = (x: number) => `${x.toFixed(1)}%`;
  const at = (r: Run, frac: number) => r.d.progress.find(([, n]) => n >= frac * machines)?.[0] ?? NaN;
  const both = (f: (r: Run) => string) => `${f(ec)} | ${f(rsa)}`;
  const single = withGets.single!;
  const spread = withGets.spread!;
  const p99 = percentile(single, 99);
  const perCluster = (k: "node" | "workerd") => `${((withGets.after[k] - withGets.before[k]) / CLUSTERS / 2 ** 20).toFixed(2)} MB`;
  const fmt = (o: Record<string, number>) => Object.entries(o).sort().map(([k, v]) => `${k} ${v}`).join(", ");
  return [
    `${CLUSTERS} clusters x (1 control plane + ${WORKERS} workers) = ${machines} DevMachines, every step's startupDuration 0s, ` +
      `controller concurrency ${concurrency} per controller, management client unlimited QPS (as \`npm start\`). The stack (edge and management API in a workerd each, ` +
      "management VIP, controller, CAPI-playing driver) runs as its own process (bench/controller-stack.ts, " +
      "the wiring of controller/local/main.ts) and reports its own timings; t = 0 when the driver starts (nothing exists yet). " +
      `Cluster CAs with ECDSA P-256 keys (the provider's throughput; ${EC_RUNS} run${EC_RUNS > 1 ? "s" : ""}, the table shows the median one) and with RSA-2048 keys as \`npm start\` and CAPI make them ` +
      "(one run; the driver, playing KCP, generates 2 per cluster before that cluster's objects exist). " +
      `The runs' throwaway state (the edge's SQLite files) is on ${ecRuns[0].fs === "tmpfs" ? "tmpfs (/dev/shm)" : "disk"}: workerd fsyncs every Durable Object commit, ` +
      "a cost of the local emulator's disk rather than of the provider (the deployed edge's storage is not on this machine)" +
      (onDisk ? "; one more ECDSA run with the state on disk, as `npm start` keeps it, is listed for comparison." : "."),
    "",
    `ECDSA runs (machines/s, with the machine's idle and CPU-steal share while it ran): ${ecRuns
      .map((r, i) => `run ${i + 1}: ${rate(r).toFixed(1)}/s (idle ${pct(r.machine.idle)}, steal ${pct(r.machine.steal)})`)
      .join("; ")}; **median ${rate(ec).toFixed(1)}/s**. RSA run: idle ${pct(rsa.machine.idle)}, steal ${pct(rsa.machine.steal)}.` +
      (onDisk
        ? ` ECDSA run with the state on disk: ${rate(onDisk).toFixed(1)}/s (idle ${pct(onDisk.machine.idle)}, steal ${pct(onDisk.machine.steal)}; ` +
          `CPU ${cpuUsed(onDisk)} s).`
        : ""),
      "",
    "| milestone | ECDSA CAs (median run) | RSA-2048 CAs (npm start) |",
    "|---|---|---|",
    `| driver created all CAPI objects (2 CAs per cluster, Cluster, Machines, DevCluster, DevMachines) | ${both((r) => s(r.d.marks.objectsCreated))} |`,
    `| first VIP open | ${both((r) => s(r.d.marks.firstVipOpen))} |`,
    `| all ${CLUSTERS} VIPs open | ${both((r) => s(r.d.marks.allVipsOpen))} |`,
    `| first DevMachine ready | ${both((r) => s(r.d.marks.firstMachineReady))} |`,
    `| 50% / 90% of DevMachines ready | ${both((r) => `${s(at(r, 0.5))} / ${s(at(r, 0.9))}`)} |`,
    `| **all ${machines} DevMachines ready** | ${both((r) => `**${s(r.d.marks.allMachinesReady)}**`)} |`,
    `| all clusters ready (kubeconfigs written) | ${both((r) => s(r.d.marks.allClustersReady))} |`,
    `| **machines/s** (${machines} / time to all ready) | ${both((r) => `**${rate(r).toFixed(1)}**`)} |`,
    `| CPU used meanwhile (s): stack node process / each workerd, largest (the management edge) first | ${both(cpuUsed)} |`,
    "",
    `Controller work (median ECDSA run): reconciles ${fmt(ec.d.reconciles)}; edge admin calls ${fmt(ec.d.edgeCalls)}; ` +
      `management API calls through Kube (controller and driver) ${fmt(ec.d.kubeCalls)}.`,
    "",
    `GET /api/v1/nodes/<control plane node> through the VIP (first ECDSA run, after all clusters were ready): ${N} sequential requests, ` +
      "one keep-alive HTTPS connection per VIP, Node https client (this process) presenting the admin client certificate from the written kubeconfig.",
    "",
    "| target | p50 | p99 | max |",
    "|---|---|---|---|",
    `| one VIP (${withGets.d.names[0]}) | ${stats(single)} |`,
    `| round-robin over ${SPREAD} VIPs | ${stats(spread)} |`,
    "",
    "RSS (first ECDSA run) from /proc/<pid>/status VmRSS: node = the stack process (controller + driver + management VIP + Miniflare host), workerd = its two children.",
    "",
    "| when | node RSS | workerd RSS |",
    "|---|---|---|",
    `| stack up, before the driver | ${mb(withGets.before.node)} | ${mb(withGets.before.workerd)} |`,
    `| all ${CLUSTERS} clusters ready | ${mb(withGets.after.node)} | ${mb(withGets.after.workerd)} |`,
    `| after the GET runs | ${mb(withGets.afterGets!.node)} | ${mb(withGets.afterGets!.workerd)} |`,
    `| **per cluster** (ready - before) / ${CLUSTERS} | **${perCluster("node")}** | **${perCluster("workerd")}** |`,
    "",
    `Targets: >= 50 machines/s: **${rate(ec) >= 50 ? "met" : "missed"}** with ECDSA CAs (median ${rate(ec).toFixed(1)}/s), ` +
      `**${rate(rsa) >= 50 ? "met" : "missed"}** with RSA CAs (${rate(rsa).toFixed(1)}/s); ` +
      `VIP GET p99 < 10 ms: **${p99 < 10 ? "met" : "missed"}** (${ms(p99)}).`,
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const quick = process.argv.includes("--quick");
  console.log(await benchController({ quick }));
}
