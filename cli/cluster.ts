// `capim-edge cluster ...`: create, list, get, extend, delete, kubeconfig — each a thin layer over the
// edge's admin API (worker/admin.ts) plus human or JSON output.
import path from "node:path";
import { parseGoDuration } from "../edge-contract/durations.js";
import { adminPaths, EdgeError } from "../edge-contract/admin-client.js";
import { EdgeClient, type MachineInfo } from "./client.js";
import { CliError, EXIT, usageError } from "./errors.js";
import { age, expiresIn, printJson, table } from "./format.js";
import { kubeconfigYaml, writeKubeconfig } from "./kubeconfig.js";
import { machineProgress } from "./progress.js";

export interface CommonOptions {
  client: EdgeClient;
  namespace: string;
  json: boolean;
}

export interface CreateOptions {
  ttl: string;
  controlPlanes: number;
  workers: number;
  kubernetesVersion?: string;
  kubeconfig?: string;
  /** Go duration applied to every bootstrap step of every machine (default 0s: ready at once). */
  startupDuration?: string;
  startupJitter?: string;
  waitTimeout: string;
}

const POLL_MS = 300;

/** `--ttl 30m` -> seconds; "none" or "0" -> null (no expiry). */
export function ttlSeconds(text: string): number | null {
  if (text === "none" || text === "0") return null;
  let ms: number;
  try {
    ms = parseGoDuration(text);
  } catch (e) {
    throw usageError(`--ttl: ${(e as Error).message} (examples: 30m, 1h30m, none)`);
  }
  if (ms < 1000) throw usageError(`--ttl ${text}: must be at least 1s, or "none"`);
  return Math.ceil(ms / 1000);
}

export function durationMs(flag: string, text: string): number {
  try {
    const ms = parseGoDuration(text);
    if (ms < 0) throw new Error("must not be negative");
    return ms;
  } catch (e) {
    throw usageError(`${flag}: ${(e as Error).message}`);
  }
}

function say(o: CommonOptions, line: string): void {
  if (!o.json) process.stdout.write(line + "\n");
}

/** client-go (kubectl) drops bearer tokens for plain-http servers, so such a kubeconfig fails with 401. */
function warnIfPlainHttp(o: CommonOptions): void {
  if (o.client.url.startsWith("http:")) {
    process.stderr.write("capim-edge: warning: kubectl sends tokens only to https servers; use the edge's https:// URL (and --certificate-authority for a local edge)\n");
  }
}

export async function createCluster(o: CommonOptions, name: string, c: CreateOptions): Promise<void> {
  const ttl = ttlSeconds(c.ttl);
  const waitMs = durationMs("--wait-timeout", c.waitTimeout);
  if (c.startupDuration !== undefined) durationMs("--startup-duration", c.startupDuration);
  if (c.workers > 0 && c.controlPlanes === 0) throw usageError("--workers needs at least one control plane (--control-planes N)");
  const kubeconfigFile = path.resolve(c.kubeconfig ?? `${name}.kubeconfig`);

  const body: Record<string, unknown> = { ttlSeconds: ttl };
  if (c.kubernetesVersion) body.kubernetesVersion = c.kubernetesVersion;
  const res = await o.client.admin.createCluster(o.namespace, name, body);
  if (!res.created || !res.cluster.token) {
    // PUT is idempotent on the edge, but a token is only handed out when the cluster is new.
    throw new CliError(`cluster ${o.namespace}/${name} already exists (use "capim-edge cluster kubeconfig ${name}" for a kubeconfig)`, EXIT.failed, 409);
  }
  const info = res.cluster;
  const server = o.client.serverFor(o.namespace, name);
  // The token is only in this answer: write the kubeconfig before anything else can fail.
  writeKubeconfig(kubeconfigFile, kubeconfigYaml({ server, token: info.token!, namespace: o.namespace, name, caPem: o.client.caPem }));
  warnIfPlainHttp(o);
  say(o, `cluster ${o.namespace}/${name} created (Kubernetes ${info.kubernetesVersion}, expires ${expiresIn(info.expiresAt)})`);

  const machines = await createMachines(o, name, info.kubernetesVersion, c, waitMs);
  say(o, `kubeconfig written to ${kubeconfigFile}`);
  say(o, `  export KUBECONFIG=${kubeconfigFile}`);
  if (o.json) {
    const { token: _secret, ...rest } = info;
    printJson({ ...rest, server, kubeconfig: kubeconfigFile, machines });
  }
}

/** PUTs cp-1..N and worker-1..M, then polls until every machine reports ready. */
async function createMachines(o: CommonOptions, name: string, version: string, c: CreateOptions, waitMs: number): Promise<MachineInfo[]> {
  const total = c.controlPlanes + c.workers;
  if (total === 0) return [];
  const step = c.startupDuration ?? "0s";
  const block = { startupDuration: step, ...(c.startupJitter ? { startupJitter: c.startupJitter } : {}) };
  const provisioning = { vm: block, node: block, etcd: block, apiServer: block };
  const wanted = [
    ...Array.from({ length: c.controlPlanes }, (_, i) => ({ machine: `cp-${i + 1}`, controlPlane: true })),
    ...Array.from({ length: c.workers }, (_, i) => ({ machine: `worker-${i + 1}`, controlPlane: false })),
  ];
  const progress = machineProgress(total, !o.json);
  try {
    // Control planes first (the first one "runs kubeadm init"); each PUT is acknowledged once stored.
    for (const m of wanted) {
      await o.client.admin.putMachine(o.namespace, name, m.machine, { controlPlane: m.controlPlane, version, clusterName: name, provisioning });
    }
    const deadline = Date.now() + waitMs;
    for (;;) {
      const list = await o.client.admin.listMachines(o.namespace, name);
      const ready = list.items.filter((m) => m.ready).length;
      const pending = list.items.find((m) => !m.ready);
      progress.update(ready, pending ? `waiting for ${pending.name}` : "");
      if (ready >= total) return list.items;
      if (Date.now() > deadline) {
        throw new CliError(`timed out after ${c.waitTimeout} waiting for machines: ${ready}/${total} ready`, EXIT.timeout);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    progress.stop();
  }
}

export async function listClusters(o: CommonOptions, allNamespaces: boolean): Promise<void> {
  const items = await o.client.admin.listClusters(allNamespaces ? undefined : o.namespace);
  if (o.json) return printJson({ items });
  if (!items.length) {
    process.stdout.write(allNamespaces ? "No clusters found.\n" : `No clusters found in namespace ${o.namespace}.\n`);
    return;
  }
  const rows = items.map((c) => [c.namespace, c.name, c.kubernetesVersion, age(c.createdAt), expiresIn(c.expiresAt)]);
  process.stdout.write(table(["NAMESPACE", "NAME", "VERSION", "AGE", "EXPIRES"], rows) + "\n");
}

export async function getCluster(o: CommonOptions, name: string): Promise<void> {
  const info = await o.client.admin.getCluster(o.namespace, name);
  const machines = await o.client.admin.listMachines(o.namespace, name).then((m) => m.items ?? [], () => [] as MachineInfo[]);
  if (o.json) return printJson({ ...info, server: o.client.serverFor(o.namespace, name), machines });
  const lines = [
    `Name:         ${info.name}`,
    `Namespace:    ${info.namespace}`,
    `Kubernetes:   ${info.kubernetesVersion}`,
    `Server:       ${o.client.serverFor(o.namespace, name)}`,
    `Created:      ${info.createdAt} (${age(info.createdAt)} ago)`,
    `Expires:      ${info.expiresAt ? `${info.expiresAt} (${expiresIn(info.expiresAt)})` : "never"}`,
    `Objects:      ${info.objectCount ?? "?"}`,
    `Machines:     ${machines.length ? `${machines.filter((x) => x.ready).length}/${machines.length} ready` : "none"}`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
  if (machines.length) {
    const rows = machines.map((x) => [x.name, x.controlPlane ? "control-plane" : "worker", x.version, x.ready ? "True" : "False"]);
    process.stdout.write("\n" + table(["MACHINE", "ROLE", "VERSION", "READY"], rows) + "\n");
  }
}

/** `cluster fault`: shows the cluster's API faults, replaces them (a JSON object) or clears them. */
export async function faultCommand(o: CommonOptions, name: string, change: Record<string, unknown> | "clear" | undefined): Promise<void> {
  const admin = o.client.admin;
  const faults =
    change === "clear" ? await admin.clearApiFaults(o.namespace, name) : change ? await admin.setApiFaults(o.namespace, name, change) : await admin.getApiFaults(o.namespace, name);
  if (o.json || !change) return printJson(faults);
  say(o, change === "clear" ? `cluster ${o.namespace}/${name}: faults cleared` : `cluster ${o.namespace}/${name}: faults set`);
}

export async function extendCluster(o: CommonOptions, name: string, ttl: string): Promise<void> {
  const info = await o.client.admin.setClusterTtl(o.namespace, name, ttlSeconds(ttl));
  if (o.json) return printJson(info);
  say(o, `cluster ${o.namespace}/${name} now expires ${info.expiresAt ? `${expiresIn(info.expiresAt)} (${info.expiresAt})` : "never"}`);
}

export async function deleteCluster(o: CommonOptions, name: string, ignoreNotFound: boolean): Promise<void> {
  try {
    await o.client.admin.request("DELETE", adminPaths.cluster(o.namespace, name));
  } catch (e) {
    if (!(e instanceof EdgeError && e.code === 404 && ignoreNotFound)) throw e;
    if (o.json) return printJson({ namespace: o.namespace, name, deleted: false });
    return say(o, `cluster ${o.namespace}/${name} not found (nothing to delete)`);
  }
  if (o.json) return printJson({ namespace: o.namespace, name, deleted: true });
  say(o, `cluster ${o.namespace}/${name} deleted`);
}

/** Mints another per-cluster token and prints (or writes) a kubeconfig with it. */
export async function kubeconfigCommand(o: CommonOptions, name: string, file: string | undefined): Promise<void> {
  const { token } = await o.client.admin.mintToken(o.namespace, name);
  warnIfPlainHttp(o);
  const yamlText = kubeconfigYaml({ server: o.client.serverFor(o.namespace, name), token, namespace: o.namespace, name, caPem: o.client.caPem });
  if (!file) {
    process.stdout.write(yamlText);
    return;
  }
  const abs = path.resolve(file);
  writeKubeconfig(abs, yamlText);
  if (o.json) return printJson({ namespace: o.namespace, name, kubeconfig: abs });
  say(o, `kubeconfig written to ${abs}`);
}
