// The controller as deployed: `controller/main.ts`, bundled (dist/controller/main.js), with flags, in its own process, against a management
// API kubeconfig and a spawned edge; resolves its metrics port once it logs "controller running".
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { CONTROLLER_NODE_ARGS, ensureControllerBundle } from "../../controller/local/controller-bundle.js";
import { startManagement, type Management } from "../../controller/local/management.js";
import { kubectl, kubectlJson, until } from "../e2e/embedded-process.js";
import { ROOT, spawnEdge, tempDir, type SpawnedEdge } from "./edge.js";

export interface ControllerProc {
  child: ChildProcess;
  metricsPort: Promise<number>;
  exited: Promise<number | null>;
  output(): string;
}

/** The bundled controller, as `npm run controller` runs it (startControllerStack builds the bundle first). */
export function spawnController(edge: SpawnedEdge, kubeconfig: string, portRange = "21000-21999", extraArgs: string[] = []): ControllerProc {
  const child = spawn(
    process.execPath,
    [...CONTROLLER_NODE_ARGS, "--kubeconfig", kubeconfig, "--edge-url", edge.url, "--metrics-port", "0", "--vip-port-range", portRange, ...extraArgs],
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

/** A spawned edge, the embedded management API on it, and the controller process against both. */
export interface ControllerStack {
  edge: SpawnedEdge;
  mgmt: Management;
  /** The running controller (a test may replace it with another spawnController). */
  ctl: ControllerProc;
  /** Where the test keeps its files (kubeconfigs, manifests). */
  dir: string;
  /** `kubectl apply -f` of a YAML text against the management API. */
  apply(yaml: string): Promise<string>;
  stop(): Promise<void>;
}

/** `beforeController` runs once the management API serves (e.g. to install a CRD) and may return more controller flags. */
export async function startControllerStack(o: { portRange?: string; beforeController?: (s: Omit<ControllerStack, "ctl">) => Promise<string[] | void> } = {}): Promise<ControllerStack> {
  await ensureControllerBundle();
  const dir = tempDir("capim-ctl-");
  const edge = await spawnEdge();
  const mgmt = await startManagement({ edgeUrl: edge.url, edgeToken: edge.token, kubeconfigDir: dir, stateDir: tempDir("capim-ctl-state-"), logger: pino({ level: "silent" }) });
  const apply = (yaml: string) => {
    const file = path.join(dir, `apply-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yaml);
    return kubectl(mgmt.kubeconfigPath, ["apply", "-f", file]);
  };
  const stack = { edge, mgmt, dir, apply } as ControllerStack;
  stack.stop = async () => {
    stack.ctl?.child.kill("SIGKILL");
    await mgmt.stop();
    await edge.stop();
  };
  try {
    const extraArgs = (await o.beforeController?.(stack)) ?? [];
    stack.ctl = spawnController(edge, mgmt.kubeconfigPath, o.portRange, extraArgs);
    await stack.ctl.metricsPort;
  } catch (e) {
    await stack.stop();
    throw e;
  }
  return stack;
}

/** A Cluster and its in-memory DevCluster, as CAPI and a template would create them (no machines). */
export function inMemoryClusterYaml(namespace: string, name: string): string {
  return `apiVersion: cluster.x-k8s.io/v1beta2
kind: Cluster
metadata: {name: ${name}, namespace: ${namespace}}
spec: {}
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: DevCluster
metadata: {name: ${name}, namespace: ${namespace}, labels: {cluster.x-k8s.io/cluster-name: ${name}}}
spec: {backend: {inMemory: {}}}
`;
}

/** The namespace names kubectl lists through a kubeconfig, or undefined while that fails (VIP dark, cert not yet served). */
export async function namespacesVia(kubeconfig: string): Promise<string[] | undefined> {
  try {
    return (await kubectlJson(kubeconfig, ["get", "namespaces", "--request-timeout=5s"])).items.map((n: { metadata: { name: string } }) => n.metadata.name) as string[];
  } catch {
    return undefined;
  }
}
