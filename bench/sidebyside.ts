// Side by side: CAPI's in-memory server (the one CAPD's in-memory backend runs, v1.13.7) and capim-edge,
// through its VIPs and direct to the edge, under one client-go workload (bench/sidebyside, Go). This
// file starts capim-edge for each size (an edge process and a VIP process, measured apart), hands the
// Go program its endpoints, and turns the JSON it prints into BENCHMARKS.md's tables.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { bundleBenchEntry } from "./bundle.js";
import { processTree, rss, spawnEdgeProcess } from "./edge-bench.js";
import { mb } from "./report.js";
import { CONTROLLER_NODE_FLAGS } from "../controller/node-flags.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface SideBySideOptions {
  sizes?: number[];
  rounds?: number;
  /** Extra flags for the Go program (counts per round, idle time). */
  goArgs?: string[];
  log?: (line: string) => void;
}

interface Round {
  GetP50: number;
  GetP99: number;
  GetCPU: Record<string, number>;
  ListP50: number;
  CreatesSeq: number;
  CreatesPar: number;
  WatchP50: number;
  WatchP99: number;
}
interface SystemReport {
  name: string;
  rssEmpty: Record<string, number>;
  rssFilled: Record<string, number>;
  fillCpu: Record<string, number> | null;
  fillSeconds: number;
  rounds: Round[];
  idleGetMs: number[];
}

const INMEM = "CAPI in-memory server";
const VIA_VIP = "capim-edge via VIP";
const DIRECT = "capim-edge direct";

/** Builds the Go program into the user's cache (Go's build cache makes later builds quick). */
export function buildGo(): string {
  const bin = path.join(os.homedir(), ".cache", "capim-edge", "bench-bin", "sidebyside");
  mkdirSync(path.dirname(bin), { recursive: true });
  const env = { ...process.env, GOFLAGS: "-mod=mod", PATH: `${process.env.PATH}:/usr/local/go/bin` };
  execFileSync("go", ["build", "-o", bin, "."], { cwd: path.join(root, "bench/sidebyside"), env, stdio: ["ignore", "inherit", "inherit"] });
  return bin;
}

/**
 * Stops a child that exits when its stdin closes (so --cpu-prof can write its profile), with SIGTERM if
 * it has not exited 10 s later.
 */
export async function closeChild(child: ChildProcess): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", r));
  child.stdin?.end();
  const timer = setTimeout(() => child.kill("SIGTERM"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A JSON-lines child: resolves each line as an object. */
export function jsonLines(child: ReturnType<typeof spawn>): () => Promise<Record<string, unknown>> {
  const queue: Array<Record<string, unknown>> = [];
  const waiting: Array<(o: Record<string, unknown>) => void> = [];
  createInterface({ input: child.stdout! }).on("line", (l) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(l) as Record<string, unknown>;
    } catch {
      return;
    }
    const w = waiting.shift();
    if (w) w(o);
    else queue.push(o);
  });
  return () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => waiting.push(r)));
}

/** Edge RSS outside the systems' figures: workerd once every cluster was created, the Node host at the end. */
interface EdgeAside {
  workerdAfterCreate: number;
  edgeHost: number;
}

async function runSize(bin: string, n: number, rounds: number, goArgs: string[], log: (l: string) => void): Promise<{ systems: SystemReport[]; aside: EdgeAside }> {
  const edge = await spawnEdgeProcess();
  const workerd = processTree(edge.pid).find((p) => p.name === "workerd")?.pid;
  if (!workerd) throw new Error("no workerd under the edge process");
  // CAPIM_BENCH_VIP_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the VIP process.
  const nodeArgs = process.env.CAPIM_BENCH_VIP_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const vips = spawn(process.execPath, [...CONTROLLER_NODE_FLAGS, ...nodeArgs, await bundleBenchEntry("sidebyside-vips"), "--edge-url", edge.url, "--clusters", String(n)], {
    cwd: root,
    env: { ...process.env, CAPIM_EDGE_TOKEN: edge.token },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const next = jsonLines(vips);
  try {
    const started = await next();
    const vipPid = Number(started.pid);
    const rssEmpty = { workerd: rss(workerd), "vip (node)": rss(vipPid) };
    log(`sidebyside: N=${n}: creating ${n} edge clusters and VIPs`);
    const admin = (p: string) => fetch(`${edge.url}${p}`, { method: "PUT", headers: { authorization: `Bearer ${edge.token}` } });
    for (let i = 0; i < n; i += 16) {
      const batch = Array.from({ length: Math.min(16, n - i) }, (_, k) => admin(`/admin/clusters/bench/c${i + k}`));
      for (const r of await Promise.all(batch)) if (!r.ok) throw new Error(`create edge cluster: ${r.status} ${await r.text()}`);
    }
    const workerdAfterCreate = rss(workerd);
    vips.stdin!.write("open\n");
    const opened = await next();
    const dir = mkdtempSync(path.join(os.tmpdir(), "capim-sidebyside-"));
    const targets = path.join(dir, "targets.json");
    writeFileSync(
      targets,
      JSON.stringify({
        systems: [
          { name: VIA_VIP, processes: { workerd, "vip (node)": vipPid }, clusters: opened.clusters, fill: true },
          {
            name: DIRECT,
            processes: { workerd },
            clusters: Array.from({ length: n }, (_, i) => ({ server: `${edge.httpsUrl}/clusters/bench/c${i}`, ca: edge.caPem, token: edge.token })),
            fill: false,
          },
        ],
        rssEmpty: { [VIA_VIP]: rssEmpty, [DIRECT]: { workerd: rssEmpty.workerd } },
      }),
    );
    const out = await new Promise<string>((resolve, reject) => {
      const go = spawn(bin, ["run", "--targets", targets, "--clusters", String(n), "--rounds", String(rounds), ...goArgs], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      go.stdout.on("data", (b: Buffer) => (stdout += b));
      createInterface({ input: go.stderr }).on("line", (l) => log(`  ${l}`));
      go.once("exit", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`sidebyside exited ${code}`))));
    });
    return { systems: (JSON.parse(out) as { systems: SystemReport[] }).systems, aside: { workerdAfterCreate, edgeHost: rss(edge.pid) } };
  } finally {
    await closeChild(vips);
    await edge.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const sum = (r: Record<string, number> | null | undefined) => Object.values(r ?? {}).reduce((a, b) => a + b, 0);
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");

function table(n: number, { systems, aside }: { systems: SystemReport[]; aside: EdgeAside }): string {
  const by = Object.fromEntries(systems.map((s) => [s.name, s]));
  const fill = by[VIA_VIP]; // the direct system reads what the VIP system stored
  const fig = (s: SystemReport, pick: (r: Round) => number) => median(s.rounds.map(pick));
  type Row = [string, (s: SystemReport) => number, number, "lower" | "higher"];
  const rows: Row[] = [
    ["GET p50 (ms)", (s) => fig(s, (r) => r.GetP50), 2, "lower"],
    ["GET p99 (ms)", (s) => fig(s, (r) => r.GetP99), 2, "lower"],
    [`LIST 100 of ${200} pods by label, p50 (ms)`, (s) => fig(s, (r) => r.ListP50), 2, "lower"],
    ["creates/s, one client", (s) => fig(s, (r) => r.CreatesSeq), 0, "higher"],
    ["creates/s, 8 clients", (s) => fig(s, (r) => r.CreatesPar), 0, "higher"],
    ["watch create -> ADDED p50 (ms)", (s) => fig(s, (r) => r.WatchP50), 2, "lower"],
    ["watch create -> ADDED p99 (ms)", (s) => fig(s, (r) => r.WatchP99), 2, "lower"],
    ["first GET after idling, existing connection, p50 (ms)", (s) => median(s.idleGetMs), 2, "lower"],
    ["server CPU per GET (ms, all its processes)", (s) => fig(s, (r) => sum(r.GetCPU)), 3, "lower"],
    [`server CPU to fill ${n} clusters (s)`, (s) => sum((s.name === DIRECT ? fill : s).fillCpu), 1, "lower"],
    ["RSS at empty start (MB)", (s) => sum(s.rssEmpty) / 2 ** 20, 0, "lower"],
    ["RSS per filled cluster (MB)", (s) => (sum(s.rssFilled) - sum(s.rssEmpty)) / n / 2 ** 20, 3, "lower"],
  ];
  const names = [INMEM, VIA_VIP, DIRECT];
  const lines = [
    `| figure, N = ${n} | ${names.join(" | ")} | via VIP / in-memory | direct / in-memory |`,
    "|---|---|---|---|---|---|",
  ];
  for (const [label, get, digits] of rows) {
    const v = names.map((nm) => (by[nm] ? get(by[nm]) : NaN));
    const ratio = (x: number) => (Number.isFinite(x / v[0]) ? `${f(x / v[0], 2)}x` : "n/a");
    lines.push(`| ${label} | ${v.map((x) => f(x, digits)).join(" | ")} | ${ratio(v[1])} | ${ratio(v[2])} |`);
  }
  // Where the CPU of a GET goes, by process.
  const perProcess = names
    .filter((nm) => by[nm])
    .map((nm) => {
      const s = by[nm];
      const procs = Object.keys(s.rounds[0]?.GetCPU ?? {});
      return `${nm}: ${procs.map((p) => `${p} ${f(median(s.rounds.map((r) => r.GetCPU[p] ?? 0)), 3)} ms`).join(", ")}`;
    });
  const rssFilled = names
    .filter((nm) => by[nm])
    .map((nm) => `${nm}: ${Object.entries(by[nm].rssFilled).map(([p, b]) => `${p} ${mb(b)}`).join(", ")}`);
  const fillTime = [INMEM, VIA_VIP].filter((nm) => by[nm]).map((nm) => `${nm} ${f(by[nm].fillSeconds, 1)} s`);
  return [
    ...lines,
    "",
    `Server CPU per GET by process: ${perProcess.join("; ")}.`,
    `RSS after filling: ${rssFilled.join("; ")}. Fill wall time (8 clients): ${fillTime.join(", ")}.`,
    // Not in the figures: the edge's Node host (Miniflare's supervisor; on the VIP and direct paths it only
    // idles) and workerd's RSS right after the harness created the clusters (N admin PUTs in a few seconds,
    // so every cluster's Durable Object was live at once; workerd's allocator keeps that high-water mark).
    `Edge, outside the figures: workerd right after the ${n} clusters were created ${mb(aside.workerdAfterCreate)} (empty start ${mb(fill.rssEmpty.workerd ?? 0)}); the edge's Node host (Miniflare) ${mb(aside.edgeHost)}.`,
  ].join("\n");
}

export async function benchSideBySide(opts: SideBySideOptions = {}): Promise<string> {
  const sizes = opts.sizes ?? [10, 100, 1000];
  const rounds = opts.rounds ?? 3;
  const log = opts.log ?? ((l: string) => console.error(l));
  const bin = buildGo();
  const sections: string[] = [
    "One client-go workload (bench/sidebyside, Go, k8s.io/client-go v0.35.4, JSON) against three servers on this machine, each in its own",
    "process(es): CAPI's in-memory server from `sigs.k8s.io/cluster-api/test` v1.13.7 (`inmemory/pkg/server`, what CAPD's in-memory",
    "backend runs, with `sigs.k8s.io/cluster-api` v1.13.6); capim-edge through one VIP per cluster (the controller's VipManager in a",
    "Node process, forwarding to the edge); and capim-edge direct (client-go to the edge's HTTPS with a bearer token). Each cluster gets",
    "a namespace, 1 Node, 30 Pods and 5 ConfigMaps (8 clients); cluster 0 also 200 labelled pods. Per round and system (the Go",
    "program's defaults): 1000 GETs of random pods in random clusters, 50 LISTs by label, 400 creates from one client and 400 from 8",
    `clients in 8 clusters, 100 creates each timed to its ADDED on a watch; ${rounds} round(s) with the systems taking turns in a rotating`,
    "order, figures are the medians of the rounds' figures. Then 3 times: a GET on each, 20 s idle, a GET on the same connection.",
    `${opts.goArgs?.length ? `This run's overrides: \`${opts.goArgs.join(" ")}\`. ` : ""}CPU and RSS come from`,
    "/proc for the server processes only (workerd, the VIP process, the in-memory server), never the client. One CA for all",
    "clusters on both sides (per-cluster CA keygen is CAPI's cost either way).",
    "",
  ];
  for (const n of sizes) {
    log(`sidebyside: N=${n}`);
    sections.push(table(n, await runSize(bin, n, rounds, opts.goArgs ?? [], log)), "");
  }
  return sections.join("\n");
}
