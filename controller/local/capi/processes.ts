// Child processes of the local real-CAPI plane: each one's output goes to a log file of its own (the
// plane's directory keeps them for a failed run), readiness is waited for on a condition, and stopping
// is SIGTERM then SIGKILL, so Ctrl-C leaves nothing behind.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";

export interface Child {
  name: string;
  proc: ChildProcess;
  logFile: string;
  /** The first MiB of its output (readiness lines are near the start). */
  output(): string;
  /** Resolves with the exit code; rejects never. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function startChild(name: string, file: string, args: string[], opts: { dir: string; env?: NodeJS.ProcessEnv; cwd?: string }): Child {
  const logFile = path.join(opts.dir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: "a" });
  const proc = spawn(file, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
  let head = "";
  const keep = (b: Buffer) => {
    if (head.length < 1 << 20) head += b.toString();
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  proc.stdout!.pipe(log, { end: false });
  proc.stderr!.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => {
    proc.once("exit", (code) => resolve(code));
    proc.once("error", (err) => {
      log.write(`capim-edge: cannot start ${file}: ${err.message}\n`);
      resolve(-1);
    });
  });
  void exited.then(() => log.end());
  return {
    name,
    proc,
    logFile,
    output: () => head,
    exited,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Polls `check` until it returns a value; fails early when `child` exits, naming its log. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, opts: { timeoutMs?: number; child?: Child } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let last: unknown;
  for (;;) {
    if (opts.child && opts.child.proc.exitCode !== null) {
      throw new Error(`${opts.child.name} exited (${opts.child.proc.exitCode}) before ${what}; see ${opts.child.logFile}`);
    }
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message ?? last}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A port free right now on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
