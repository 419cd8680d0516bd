// The controller as deployed: `controller/main.ts` with flags, in its own process, against a management
// API kubeconfig and a spawned edge; resolves its metrics port once it logs "controller running".
import { spawn, type ChildProcess } from "node:child_process";
import { until } from "../e2e/embedded-process.js";
import { ROOT, type SpawnedEdge } from "./edge.js";

export interface ControllerProc {
  child: ChildProcess;
  metricsPort: Promise<number>;
  exited: Promise<number | null>;
  output(): string;
}

export function spawnController(edge: SpawnedEdge, kubeconfig: string, portRange = "21000-21999", extraArgs: string[] = []): ControllerProc {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "controller/main.ts", "--kubeconfig", kubeconfig, "--edge-url", edge.url, "--metrics-port", "0", "--vip-port-range", portRange, ...extraArgs],
    { cwd: ROOT, env: { ...process.env, CAPIM_EDGE_TOKEN: edge.token, LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const metricsPort = until(() => {
    const m = /"metricsPort":(\d+)[^\n]*"controller running"/.exec(out);
    return m ? Number(m[1]) : undefined;
  }, "controller running").catch((e) => {
    throw new Error(`${e.message}\n${out}`);
  });
  return { child, metricsPort, exited, output: () => out };
}
