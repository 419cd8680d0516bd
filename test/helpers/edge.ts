// Test helpers: spawn the local edge as a real child process (`edge-main.ts`, what `npm run edge`
// runs), so restart tests are real restarts; create clusters; write kubeconfigs; find kubectl.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import * as k8s from "@kubernetes/client-node";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface SpawnEdgeOptions {
  /** Persisted state; default a fresh temp dir, removed by stop() unless keepState. */
  stateDir?: string;
  keepState?: boolean;
  /** token -> tenant; default one random token for tenant "default". */
  tokens?: Record<string, string>;
  port?: number;
  httpsPort?: number;
  maxBody?: number;
  /** Spawn through `npm run edge` (npm, sh, node) instead of node directly. */
  viaNpm?: boolean;
  readyTimeoutMs?: number;
  /** Extra environment for the edge process. */
  env?: NodeJS.ProcessEnv;
  /** `--edges K`: K workerd processes (see `urls`). */
  edges?: number;
}
// Set CAPIM_EDGE_LOG=1 to copy the edge's output (workerd logs included) to stderr.

export interface SpawnedEdge {
  /** http://127.0.0.1:<port> */
  url: string;
  /** With `edges`: every process's URL, in cluster-hash order (else [url]). */
  urls: string[];
  /** https://127.0.0.1:<https port>: kubectl sends bearer tokens only over TLS. */
  httpsUrl: string;
  /** PEM of the edge's local CA (from <stateDir>/edge-tls/ca.crt), for kubeconfigs. */
  caPem: string;
  /** The first token, and all of them. */
  token: string;
  tokens: Record<string, string>;
  stateDir: string;
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /**
   * SIGTERM (default) and wait for exit; kills leftovers of the process group; removes a temp state
   * dir. Resolves to the exit code (128 + n when signal n ended it), or null when it did not exit in 15 s.
   */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code (128 + n for signal n) when the process ends by itself or by stop(). */
  exited: Promise<number | null>;
}

const running = new Set<SpawnedEdge>();
process.once("exit", () => {
  for (const e of running) killGroup(e.child, "SIGKILL");
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

export function newToken(): string {
  return randomBytes(18).toString("hex");
}

export async function spawnEdge(opts: SpawnEdgeOptions = {}): Promise<SpawnedEdge> {
  const ownState = !opts.stateDir;
  const stateDir = opts.stateDir ?? mkdtempSync(path.join(os.tmpdir(), "capim-edge-state-"));
  const tokens = opts.tokens ?? { [newToken()]: "default" };
  const args = ["--port", String(opts.port ?? 0), "--state-dir", stateDir];
  if (opts.httpsPort !== undefined) args.push("--https-port", String(opts.httpsPort));
  if (opts.maxBody) args.push("--max-body", String(opts.maxBody));
  if (opts.edges) args.push("--edges", String(opts.edges));
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, CAPIM_EDGE_TOKENS: JSON.stringify(tokens) };
  delete env.CAPIM_EDGE_TOKEN;
  // detached: its own process group, so stop() can clean up npm/sh/node/workerd leftovers too.
  const child = opts.viaNpm
    ? spawn("npm", ["run", "-s", "edge", "--", ...args], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] })
    : spawn(process.execPath, ["--import", "tsx", "controller/local/edge-main.ts", ...args], {
        cwd: ROOT,
        env,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
  let out = "";
  // Exit code, or 128 + signal number when a signal ended it (like a shell's $?).
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : null))),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child, "SIGKILL");
      reject(new Error(`edge not ready after ${opts.readyTimeoutMs ?? 60_000} ms; output:\n${out}`));
    }, opts.readyTimeoutMs ?? 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (process.env.CAPIM_EDGE_LOG) process.stderr.write(b);
      const m = /^edge ready at (http:\/\/\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (b: Buffer) => {
      out += b.toString();
      if (process.env.CAPIM_EDGE_LOG) process.stderr.write(b);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`edge exited with ${code} before ready; output:\n${out}`));
    });
  });
  let stopping: Promise<number | null> | undefined;
  const caFile = path.join(stateDir, "edge-tls", "ca.crt");
  const edge: SpawnedEdge = {
    url,
    urls: /^edges: ((?:http:\/\/\S+ ?)+) \(/m.exec(out)?.[1].trim().split(" ") ?? [url],
    httpsUrl: /^edge https at (https:\/\/\S+)/m.exec(out)?.[1] ?? "",
    caPem: existsSync(caFile) ? readFileSync(caFile, "utf8") : "",
    token: Object.keys(tokens)[0],
    tokens,
    stateDir,
    child,
    exited,
    output: () => out,
    stop(signal: NodeJS.Signals = "SIGTERM") {
      return (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          if (opts.viaNpm) killGroup(child, signal);
          else child.kill(signal);
        }
        const code = await Promise.race([exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 15_000))]);
        killGroup(child, "SIGKILL"); // leftovers (workerd) if the launcher did not dispose
        running.delete(edge);
        if (ownState && !opts.keepState) rmSync(stateDir, { recursive: true, force: true });
        return code === "timeout" ? null : code;
      })());
    },
  };
  running.add(edge);
  return edge;
}

/** A Response whose json() is typed `any`, for terse assertions in tests. */
export interface JsonResponse extends Response {
  json(): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  clone(): JsonResponse;
}

/** `fetch` against the edge with a bearer token (default the edge's first token; null: none). */
export function edgeFetch(edge: { url: string; token: string }, pathname: string, init: RequestInit & { token?: string | null } = {}): Promise<JsonResponse> {
  const headers = new Headers(init.headers);
  const token = init.token === undefined ? edge.token : init.token;
  if (token !== null) headers.set("authorization", `Bearer ${token}`);
  return fetch(edge.url + pathname, { ...init, headers }) as Promise<JsonResponse>;
}

/** Creates (idempotently) a cluster through the admin API; throws unless 200/201. */
export async function createCluster(
  edge: { url: string; token: string },
  namespace: string,
  name: string,
  body: { kubernetesVersion?: string; labels?: Record<string, string> } = {},
  token?: string,
) {
  const res = await edgeFetch(edge, `/admin/clusters/${namespace}/${name}`, {
    method: "PUT",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
    token,
  });
  if (res.status !== 200 && res.status !== 201) throw new Error(`create cluster ${namespace}/${name}: ${res.status} ${await res.text()}`);
  return { status: res.status, info: (await res.json()) as Record<string, unknown> };
}

export function clusterServer(edgeUrl: string, namespace: string, name: string): string {
  return `${edgeUrl}/clusters/${namespace}/${name}`;
}

/**
 * Writes a kubeconfig for one cluster. With `caPem` the server should be the https URL (kubectl sends
 * tokens only over TLS); without it, TLS verification is skipped (client-node needs that for http).
 */
export function writeKubeconfig(opts: { server: string; token: string; caPem?: string; dir?: string; name?: string }): string {
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), "capim-kubeconfig-"));
  const name = opts.name ?? "capim-edge";
  const file = path.join(dir, `${name}.kubeconfig`);
  const cluster = opts.caPem
    ? { server: opts.server, "certificate-authority-data": Buffer.from(opts.caPem).toString("base64") }
    : { server: opts.server, "insecure-skip-tls-verify": true };
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster }],
    users: [{ name, user: { token: opts.token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: "default" } }],
    "current-context": name,
  };
  writeFileSync(file, stringify(doc), { mode: 0o600 });
  return file;
}

/** A client-node KubeConfig for one cluster of the edge. */
export function kubeConfigFor(edgeUrl: string, namespace: string, name: string, token: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "edge", server: clusterServer(edgeUrl, namespace, name), skipTLSVerify: true }],
    users: [{ name: "edge", token }],
    contexts: [{ name: "edge", cluster: "edge", user: "edge", namespace: "default" }],
    currentContext: "edge",
  });
  return kc;
}

/** Full path of `kubectl.<version>` beside the kubectl dispatcher, or undefined when missing. */
export function kubectlPath(version: string): string | undefined {
  try {
    const onPath = execFileSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" }).trim();
    if (!onPath) return undefined;
    const p = path.join(path.dirname(realpathSync(onPath)), `kubectl.${version}`);
    return existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the RSS of a process from /proc, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

export function tempDir(prefix = "capim-test-"): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}
