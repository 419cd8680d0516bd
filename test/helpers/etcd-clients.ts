// Real etcd clients against the REAL stack (the embedded default, test/e2e/embedded-process.ts): the
// cluster's etcd CA read from its `<cluster>-etcd` Secret through the management API, client certs issued
// from it (controller/pki), Debian etcdctl and the npm etcd3 (grpc-js) client, `kubectl port-forward`, and
// the edge's per-cluster etcd admin API (fault injection).
//
// Where the edge is: `npm start` prints `edge ready at <url>` and keeps the tenant token in
// `<state-dir>/token` (controller/local/main.ts); the admin API takes it as a bearer token.
import * as k8s from "@kubernetes/client-node";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Etcd3, type IOptions } from "etcd3";
import { pino } from "pino";
import { generateCA, issueCert, kubeconfigFor, type CertKeyPair } from "../../controller/pki/index.js";
import { VipManager } from "../../controller/vip/index.js";
import { createEtcdRequestHandler } from "../../controller/vip/etcd/tls-mux.js";
import { kubeConfigFile, type Embedded } from "../e2e/embedded-process.js";
import { echoPortForwardHandler, etcdctl as runEtcdctl, kubectlPortForward, run, type PortForward, type RunResult } from "./portforward-harness.js";

export { parseJsonBig, kubectlBinary, run, startEchoServer, type PortForward, type RunResult } from "./portforward-harness.js";

/** Files etcdctl and etcd3 read: the cluster's etcd CA and a client cert/key. */
export interface EtcdCreds {
  etcdCaFile: string;
  etcdClientCert: string;
  etcdClientKey: string;
}

export interface RealCluster extends EtcdCreds {
  namespace: string;
  name: string;
  /** The workload cluster's kubeconfig the embedded default wrote (server = the controller's VIP). */
  kubeconfig: string;
  /** Scratch dir for kubectl HOMEs and cert files. */
  dir: string;
  clusterCa: CertKeyPair;
  etcdCa: CertKeyPair;
  /** A client cert from an unrelated CA (the etcd member must refuse it). */
  strangerCert: string;
  strangerKey: string;
}

/** Reads `<name>-<suffix>` (tls.crt/tls.key) through the management API. */
export async function readCaSecret(e: Embedded, namespace: string, name: string): Promise<CertKeyPair> {
  const core = kubeConfigFile(path.join(e.kubeconfigDir, "management.kubeconfig")).makeApiClient(k8s.CoreV1Api);
  const s = await core.readNamespacedSecret({ namespace, name });
  const d = (k: string) => Buffer.from(s.data?.[k] ?? "", "base64").toString("utf8");
  if (!d("tls.crt") || !d("tls.key")) throw new Error(`secret ${namespace}/${name} has no tls.crt/tls.key`);
  return { certPem: d("tls.crt"), keyPem: d("tls.key") };
}

/** CA secrets, an etcd client cert and a stranger's client cert for one cluster of the embedded default. */
export async function realCluster(e: Embedded, namespace: string, name: string, dir: string): Promise<RealCluster> {
  const cdir = path.join(dir, `${namespace}-${name}`);
  mkdirSync(cdir, { recursive: true });
  const [clusterCa, etcdCa] = await Promise.all([readCaSecret(e, namespace, `${name}-ca`), readCaSecret(e, namespace, `${name}-etcd`)]);
  const stranger = await generateCA("etcd-ca", { rsa: false }); // same CN as the real one: only the key differs
  const [client, strangerClient] = await Promise.all([
    issueCert(etcdCa, { commonName: "capi-etcd-client", usage: "client" }),
    issueCert(stranger, { commonName: "capi-etcd-client", usage: "client" }),
  ]);
  const w = (f: string, text: string) => {
    const p = path.join(cdir, f);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };
  return {
    namespace,
    name,
    kubeconfig: path.join(e.kubeconfigDir, `${namespace}-${name}.kubeconfig`),
    dir: cdir,
    clusterCa,
    etcdCa,
    etcdCaFile: w("etcd-ca.crt", etcdCa.certPem),
    etcdClientCert: w("etcd-client.crt", client.certPem),
    etcdClientKey: w("etcd-client.key", client.keyPem),
    strangerCert: w("stranger.crt", strangerClient.certPem),
    strangerKey: w("stranger.key", strangerClient.keyPem),
  };
}

/** Debian etcdctl (API v3) with the cluster's client cert (or `creds`). */
export function etcdctl(c: EtcdCreds, endpoints: string[], args: string[], creds?: { cert: string; key: string }): Promise<RunResult> {
  return runEtcdctl(c, endpoints, args, creds);
}

/** `kubectl port-forward pod/<pod> :<port>` against the cluster's kubeconfig (temporary HOME). */
export function portForward(c: { dir: string; kubeconfig: string }, kubectl: string, namespace: string, pod: string, port: number, env: Record<string, string> = {}): Promise<PortForward> {
  return kubectlPortForward(c, kubectl, namespace, pod, port, env);
}

/** npm etcd3 (grpc-js) with the cluster's client cert. */
export function etcd3Client(c: EtcdCreds, endpoint: string, extra: Partial<IOptions> = {}): Etcd3 {
  return new Etcd3({
    hosts: endpoint,
    credentials: {
      rootCertificate: readFileSync(c.etcdCaFile),
      certChain: readFileSync(c.etcdClientCert),
      privateKey: readFileSync(c.etcdClientKey),
    },
    ...extra,
  });
}

// ---- the edge's etcd admin API ----

export interface EdgeAdmin {
  url: string;
  token: string;
}

export async function edgeAdmin(e: Embedded): Promise<EdgeAdmin> {
  return { url: await e.edgeUrl(), token: readFileSync(path.join(e.stateDir, "token"), "utf8").trim() };
}

export interface AdminEtcdState {
  clusterId: string;
  leaderId: string;
  raftTerm: number;
  revision: number;
  version: string;
  members: { id: string; name: string; removed: boolean }[];
  removedMembers: { id: string; name: string }[];
  faults: { alarms: { memberId: string; memberName: string; alarm: string }[]; noLeader: boolean; unresponsive: string[]; latencyMs?: number };
}

async function adminCall(edge: EdgeAdmin, c: { namespace: string; name: string }, suffix: string, init: RequestInit = {}): Promise<AdminEtcdState> {
  const res = await fetch(`${edge.url}/admin/clusters/${c.namespace}/${c.name}/etcd${suffix}`, {
    ...init,
    headers: { authorization: `Bearer ${edge.token}`, accept: "application/json", ...(init.body ? { "content-type": "application/json" } : {}) },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`edge ${init.method ?? "GET"} etcd${suffix}: ${res.status} ${text}`);
  return JSON.parse(text) as AdminEtcdState;
}

/** GET /admin/clusters/{ns}/{name}/etcd: the membership the cluster's Durable Object keeps. */
export function etcdState(edge: EdgeAdmin, c: { namespace: string; name: string }): Promise<AdminEtcdState> {
  return adminCall(edge, c, "");
}

/** PUT /admin/clusters/{ns}/{name}/etcd/faults (replaces all injected faults; `{}` clears them). */
export function setFaults(
  edge: EdgeAdmin,
  c: { namespace: string; name: string },
  faults: { alarms?: { memberName?: string; memberId?: string; alarm: string }[]; noLeader?: boolean; unresponsive?: string[]; latencyMs?: number },
): Promise<AdminEtcdState> {
  return adminCall(edge, c, "/faults", { method: "PUT", body: JSON.stringify(faults) });
}

// ---- a test-built VIP on the real edge ----

export interface TestVip {
  vipUrl: string;
  /** Admin kubeconfig (client cert from the cluster's CA) whose server is this VIP. */
  kubeconfig: string;
  close(): Promise<void>;
}

let testVips = 0;

/**
 * A second VIP for a real cluster, built from the product's VipManager, port-forward handler and etcd handler,
 * talking to the real edge with the tenant token. The only test-only part is the port-forward handler's
 * `echo-*` target hook (test/helpers/portforward-harness.ts echoPortForwardHandler), for byte-exact bulk
 * transfers that fake pods cannot serve, and handler options such as the header encoding.
 */
export async function openTestVip(edge: EdgeAdmin, c: RealCluster, echoPort: number, opts: { headerEncoding?: "deflate" | "stored" } = {}): Promise<TestVip> {
  const vip = new VipManager({
    edgeUrl: edge.url,
    edgeToken: edge.token,
    host: "127.0.0.1",
    logger: pino({ level: process.env.LOG_LEVEL ?? "silent" }),
    upgradeHandler: echoPortForwardHandler(echoPort, { headerEncoding: opts.headerEncoding }),
    etcdHandler: createEtcdRequestHandler(),
  });
  const ep = await vip.open({ namespace: c.namespace, name: c.name, ca: c.clusterCa, etcdCa: c.etcdCa });
  const vipUrl = `https://127.0.0.1:${ep.port}`;
  const admin = await issueCert(c.clusterCa, { commonName: "kubernetes-admin", organization: ["system:masters"], usage: "client" });
  const kubeconfig = path.join(c.dir, `test-vip-${++testVips}.kubeconfig`);
  writeFileSync(kubeconfig, kubeconfigFor({ clusterName: c.name, server: vipUrl, caPem: c.clusterCa.certPem, clientCertPem: admin.certPem, clientKeyPem: admin.keyPem }), { mode: 0o600 });
  return { vipUrl, kubeconfig, close: () => vip.closeAll() };
}

/** Creates a pod in the workload cluster with kubectl; `phase` is then set through pods/status. */
export async function createPod(c: { dir: string; kubeconfig: string }, kubectl: string, namespace: string, name: string, phase?: string): Promise<void> {
  const env = { HOME: c.dir };
  const manifest = path.join(c.dir, `pod-${namespace}-${name}.json`);
  writeFileSync(manifest, JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace }, spec: { containers: [{ name: "main", image: "registry.k8s.io/pause:3.9" }] } }));
  const created = await run(kubectl, ["--kubeconfig", c.kubeconfig, "create", "-f", manifest], env);
  if (created.code !== 0) throw new Error(`kubectl create pod ${namespace}/${name}: ${created.stderr}`);
  if (phase) {
    const patched = await run(kubectl, ["--kubeconfig", c.kubeconfig, "-n", namespace, "patch", "pod", name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { phase } })], env);
    if (patched.code !== 0) throw new Error(`kubectl patch pod ${namespace}/${name} status: ${patched.stderr}`);
  }
}
