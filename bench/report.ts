// BENCHMARKS.md writer, plus the small measuring helpers the benchmarks share; one file, one section per benchmark, each replaced in place by its own run
// (so the edge, controller and VIP benchmarks can be re-run independently).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCHMARKS_MD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../BENCHMARKS.md");

const HEADER = `# capim-edge benchmarks

Written by \`npm run bench\` (bench/run.ts); each section is replaced by its own benchmark's last run.
Numbers are from a shared development machine: compare orders of magnitude, not single digits.
`;

const begin = (name: string) => `<!-- bench:${name} -->`;
const end = (name: string) => `<!-- /bench:${name} -->`;

/** Replaces (or appends) the section `name` of BENCHMARKS.md with `markdown`. */
export function writeSection(name: string, markdown: string, file = BENCHMARKS_MD): void {
  let doc = existsSync(file) ? readFileSync(file, "utf8") : HEADER;
  const block = `${begin(name)}\n${markdown.trim()}\n${end(name)}`;
  const i = doc.indexOf(begin(name));
  const j = doc.indexOf(end(name));
  if (i >= 0 && j > i) doc = doc.slice(0, i) + block + doc.slice(j + end(name).length);
  else doc = `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, doc.endsWith("\n") ? doc : doc + "\n");
}

/** Cumulative CPU ticks from /proc/stat: all, and "steal" (time the hypervisor ran other guests on our vCPUs). */
export function cpuTicks(): { total: number; steal: number } | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
  } catch {
    return undefined; // not Linux
  }
}

/** "steal x%" between two cpuTicks() readings: on a shared VM, the share of CPU time other guests took. */
export function stealSince(before: ReturnType<typeof cpuTicks>): string {
  const now = cpuTicks();
  if (!before || !now || now.total === before.total) return "unknown";
  return `${((100 * (now.steal - before.steal)) / (now.total - before.total)).toFixed(1)}%`;
}

/** Command, machine and date lines that every section starts with (and the run's CPU steal when given). */
export function machineInfo(command: string, steal?: string): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  let nproc = String(os.cpus().length);
  try {
    nproc = execFileSync("nproc", { encoding: "utf8" }).trim();
  } catch {
    /* keep os.cpus() */
  }
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  return [
    `- command: \`${command}\``,
    `- date: ${new Date().toISOString()}`,
    `- machine: ${nproc} CPUs (${cpu}), ${memGiB} GiB memory, ${os.platform()} ${os.release()}, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`,
    ...(steal ? [`- CPU steal during this benchmark: ${steal} (time the hypervisor gave other guests; figures move with it)`] : []),
  ].join("\n");
}

/** Percentile of sorted numbers (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function ms(n: number): string {
  return `${n.toFixed(2)} ms`;
}

export function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MB`;
}

/** Runs `n` sequential calls and returns their durations in ms, sorted (for percentile()). */
export async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out.sort((a, b) => a - b);
}
