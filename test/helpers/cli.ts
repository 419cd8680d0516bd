// Test helpers for the capim-edge CLI: run `node bin/capim-edge.mjs` as a real child process against
// a spawned local edge (its https URL and CA), and run versioned kubectl binaries with a kubeconfig.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, kubectlPath, type SpawnedEdge } from "./edge.js";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const CLI = path.join(ROOT, "bin/capim-edge.mjs");

/** Env for the CLI pointing at a spawned edge over https (kubectl sends tokens only over TLS). */
export function cliEnv(edge: SpawnedEdge, token: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CAPIM_EDGE_URL: edge.httpsUrl,
    CAPIM_EDGE_TOKEN: token,
    CAPIM_EDGE_CA_FILE: path.join(edge.stateDir, "edge-tls", "ca.crt"),
  };
}

export function run(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function capim(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], { env, cwd });
}

/**
 * kubectl.<version> with a kubeconfig; throws when the binary is missing (the tests need it).
 * A fresh discovery cache per call: edges on reused loopback ports must not see another edge's cache.
 */
export async function kubectl(version: string, kubeconfig: string, args: string[]): Promise<RunResult> {
  const bin = kubectlPath(version);
  if (!bin) throw new Error(`kubectl.${version} not found next to the kubectl dispatcher`);
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig };
  delete env.CAPIM_EDGE_TOKEN;
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), "capim-kubectl-cache-"));
  try {
    return await run(bin, ["--kubeconfig", kubeconfig, "--cache-dir", cacheDir, "--request-timeout=30s", ...args], { env });
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
