// `npm run bench [-- [--only] edge|controller|vip|soak|capi|sidebyside|floor|scale|edges] [--requests N] [--clusters N] [--objects N] [--workers N]
// [--sizes 10,100,1000] [--edges 1,2]`: runs the benchmarks and writes each one's section of BENCHMARKS.md (bench/report.ts). `--quick` uses
// small counts. Names may also be given bare (`npm run bench -- sidebyside`).
import { parseArgs } from "node:util";
import { cpuTicks, machineInfo, stealSince, writeSection } from "./report.js";
import { benchController } from "./controller-bench.js";
import { runEdgeBench } from "./edge-bench.js";
import { benchVipCerts } from "./vip-bench.js";
import { benchRealCapi } from "./capi-bench.js";
import { benchSoak } from "./soak-bench.js";
import { benchSideBySide } from "./sidebyside.js";
import { benchScale } from "./scale-bench.js";
import { benchEdges } from "./edges-bench.js";
import { benchFloor } from "./floor.js";

const { values, positionals } = parseArgs({
  options: {
    only: { type: "string", multiple: true },
    requests: { type: "string" },
    clusters: { type: "string" },
    objects: { type: "string" },
    workers: { type: "string" },
    quick: { type: "boolean" },
    "no-write": { type: "boolean" },
    sizes: { type: "string" },
    edges: { type: "string" },
  },
  allowPositionals: true,
});

const num = (v: string | undefined, quick: number, full: number) => (v !== undefined ? Number(v) : values.quick ? quick : full);
const command = `npm run bench${process.argv.length > 2 ? " -- " + process.argv.slice(2).join(" ") : ""}`;

const benchmarks: Record<string, { title: string; run: () => Promise<string> }> = {
  edge: {
    title: "Edge: latency, writes, watch delivery, memory with many clusters",
    run: () =>
      runEdgeBench({
        requests: num(values.requests, 300, 2000),
        clusters: num(values.clusters, 50, 1000),
        objectsPerCluster: num(values.objects, 30, 30),
      }),
  },
  controller: {
    title: "Controller: embedded default from nothing to all machines ready, VIP GET latency, RSS per cluster",
    run: () =>
      benchController({
        quick: values.quick,
        clusters: num(values.clusters, 10, 100),
        workers: num(values.workers, 3, 3),
        requests: num(values.requests, 300, 2000),
      }),
  },
  vip: {
    title: "Controller VIPs: certificates and listeners",
    run: () => benchVipCerts(values.quick ? { vips: 50 } : {}),
  },
  soak: {
    title: "Edge memory under a steady mixed load, and after idling",
    run: () => benchSoak(values.quick ? { clusters: 10, durationMs: 90_000, idleMs: 20_000 } : { clusters: num(values.clusters, 10, 50) }),
  },
  capi: {
    title: "Real Cluster API: lifecycle phases and the 10-cluster shape",
    run: () => benchRealCapi(),
  },
  scale: {
    title: "Scale: clusters of 1 control plane + 3 workers on one machine, as far as it goes",
    run: () => benchScale({ sizes: values.sizes ? values.sizes.split(",").map(Number) : values.quick ? [100] : undefined, workers: num(values.workers, 3, 3) }),
  },
  edges: {
    title: "Workload clusters over K workerd processes",
    run: () =>
      benchEdges({
        clusters: num(values.clusters, 100, 1000),
        edgeCounts: values.edges ? values.edges.split(",").map(Number) : [1, 2],
        rounds: values.quick ? 1 : 2,
        creates: num(values.requests, 800, 4000),
      }),
  },
  sidebyside: {
    title: "Side by side with CAPI's in-memory server",
    run: () =>
      benchSideBySide({
        sizes: values.sizes ? values.sizes.split(",").map(Number) : values.quick ? [10] : [10, 100, 1000],
        rounds: values.quick ? 1 : 3,
        goArgs: values.quick ? ["--gets=200", "--creates=80", "--watches=20", "--idle=5s", "--idle-samples=1"] : [],
      }),
  },
  floor: {
    title: "The floor: each hop of the request path with nothing behind it",
    run: () => benchFloor({ requests: num(values.requests, 1000, 5000), objects: num(values.objects, 100, 500), rounds: values.quick ? 1 : 3 }),
  },
};

const named = [...(values.only ?? []), ...positionals];
// The scale run takes most of an hour at its largest size: only when named.
const selected = named.length ? named : Object.keys(benchmarks).filter((name) => name !== "scale");
for (const name of selected) {
  const b = benchmarks[name];
  if (!b) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(benchmarks).join(", ")}`);
    process.exit(2);
  }
  console.error(`== ${name}`);
  const ticks = cpuTicks();
  const body = await b.run();
  const section = `## ${b.title}\n\n${machineInfo(command, stealSince(ticks))}\n\n${body}\n`;
  console.log(section);
  if (!values["no-write"]) writeSection(name, section);
}
