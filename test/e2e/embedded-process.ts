// Runs the embedded default exactly as a user does (`npm start -- ...`) as a child process in its own
// process group, and gives tests its output lines, its kubeconfigs and clients for its management API.
import * as k8s from "@kubernetes/client-node";
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { kubectlPath, ROOT } from "../helpers/edge.js";

const execFileP = promisify(execFile);
// Set CAPIM_E2E_LOG=1 to copy the child's output to stderr.
const echo = process.env.CAPIM_E2E_LOG === "1";

export interface Embedded {
  child: ChildProcess;
  kubeconfigDir: string;
  stateDir: string;
  /** All stdout lines so far. */
  lines: string[];
  stderr(): string;
  /** Resolves with the first stdout line matching `re` (already printed or future). */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** The edge URL printed at start-up. */
  edgeUrl(): Promise<string>;
  /** SIGTERM (graceful) or SIGKILL (crash) the whole process group; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) killGroup(c, "SIGKILL");
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

export function startEmbedded(args: string[], dirs: { kubeconfigDir: string; stateDir: string }): Embedded {
  const child = spawn("npm", ["start", "--", ...args, "--kubeconfig-dir", dirs.kubeconfigDir, "--state-dir", dirs.stateDir], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn" },
  });
  live.add(child);
  const lines: string[] = [];
  let partial = "";
  let err = "";
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    if (echo) process.stderr.write(chunk);
    partial += chunk;
    const parts = partial.split("\n");
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    if (echo) process.stderr.write(chunk);
    err = (err + chunk).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code, sig) => resolve(code ?? (sig ? 128 : null))));
  void exited.then(() => live.delete(child));

  const waitForLine = (re: RegExp, timeoutMs = 120_000) => {
    const have = lines.find((l) => re.test(l));
    if (have) return Promise.resolve(have);
    return new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; stdout:\n${lines.join("\n")}\nstderr tail:\n${err.slice(-3000)}`)), timeoutMs);
      const w = {
        re,
        resolve: (l: string) => {
          clearTimeout(t);
          resolve(l);
        },
      };
      waiters.push(w);
      void exited.then((code) => {
        if (waiters.includes(w)) {
          clearTimeout(t);
          reject(new Error(`npm start exited (${code}) before printing ${re}; stdout:\n${lines.join("\n")}\nstderr tail:\n${err.slice(-3000)}`));
        }
      });
    });
  };

  return {
    child,
    ...dirs,
    lines,
    stderr: () => err,
    waitForLine,
    edgeUrl: async () => /edge ready at (\S+)/.exec(await waitForLine(/^edge ready at /))![1],
    exited,
    stop: async (signal = "SIGTERM") => {
      // A crash takes the whole group down; a graceful stop signals only our program (node, which
      // `npm start` runs bundled from dist/controller/local/main.js), so npm and sh exit with its exit code.
      if (signal === "SIGKILL") killGroup(child, signal);
      else for (const pid of programPids(child)) process.kill(pid, signal);
      const t = setTimeout(() => killGroup(child, "SIGKILL"), 20_000);
      const code = await exited;
      clearTimeout(t);
      killGroup(child, "SIGKILL"); // leftovers (workerd) of a crashed group
      return code;
    },
  };
}

function programPids(child: ChildProcess): number[] {
  if (child.pid === undefined || child.exitCode !== null) return [];
  try {
    const out = execFileSync("ps", ["-o", "pid=,args=", "-g", String(child.pid)], { encoding: "utf8" });
    return out
      .split("\n")
      .map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => !!m && /^(\S*\/)?node\s/.test(m[2]) && /controller\/local\/main\.(ts|js)\b/.test(m[2]))
      .map((m) => Number(m[1]));
  } catch {
    return [];
  }
}

/** A client-node KubeConfig from a kubeconfig file the embedded default wrote. */
export function kubeConfigFile(file: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** The server URL in a kubeconfig file. */
export function kubeconfigServer(file: string): string {
  return parse(readFileSync(file, "utf8")).clusters[0].cluster.server as string;
}

export function portOf(server: string): number {
  return Number(new URL(server).port);
}

export const KUBECTL = kubectlPath("1.32");

/** kubectl.1.32 with a kubeconfig; stdout parsed as JSON when `-o json` is asked. */
export async function kubectl(kubeconfig: string, args: string[]): Promise<string> {
  if (!KUBECTL) throw new Error("kubectl.1.32 not found");
  const { stdout } = await execFileP(KUBECTL, ["--kubeconfig", kubeconfig, ...args], { maxBuffer: 64 << 20 });
  return stdout;
}

export async function kubectlJson<T = any>(kubeconfig: string, args: string[]): Promise<T> {
  return JSON.parse(await kubectl(kubeconfig, [...args, "-o", "json"])) as T;
}

export { until } from "../helpers/wait.js";

export function fileExists(dir: string, name: string): boolean {
  return existsSync(path.join(dir, name));
}
