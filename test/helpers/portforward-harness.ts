// Test harness for the port-forward tunnel and the etcd bridge: the REAL VIP (controller/vip VipManager with
// our upgrade and etcd handlers, real PKI) in front of a FIXTURE edge, plus the real-client runners
// (kubectl port-forward, etcdctl, bigint-safe JSON) that the real-stack tests share (test/helpers/etcd-clients.ts).
//
// !!! DEVELOPMENT FIXTURE !!! `FixtureEdge` is a tiny HTTP server that stands in for the edge (worker + the
// cluster's Durable Object): it answers /version, discovery, pod GETs and the etcd admin API contract from an
// in-test state object. The real stack now serves all of it (test/e2e/etcd-port-forward.test.ts,
// test/integration/portforward-kubectl.test.ts); the fixture stays only for test/integration/etcd-bridge.test.ts,
// which needs what the real system cannot be made to produce on demand: member and cluster ids all above 2^63
// (real ids are random uint64s, so only about half exercise the top bit) and state changed synchronously
// between two RPCs of one test.
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { generateCA, issueCert, kubeconfigFor, type CertKeyPair } from "../../controller/pki/index.js";
import { VipManager } from "../../controller/vip/index.js";
import { createPortForwardHandler, type ConnectTarget, type PortForwardHandler, type PortForwardHandlerOptions } from "../../controller/vip/portforward/handler.js";
import { TargetError, createEtcdRequestHandler } from "../../controller/vip/etcd/tls-mux.js";

export interface FixtureMember {
  id: bigint;
  name: string;
  removed: boolean;
}

export interface FixtureState {
  pods: Map<string, { phase: string }>; // key "ns/name"
  etcd: {
    clusterId: bigint;
    leaderId: bigint;
    raftTerm: number;
    revision: number;
    members: FixtureMember[];
    faults: { alarms: { memberId: bigint; alarm: string }[]; noLeader: boolean; unresponsive: string[] };
  };
}

/** Random uint64 above 2^63 so every id exercises bigint handling (> 2^53). */
export function bigId(): bigint {
  return (1n << 63n) | BigInt("0x" + randomBytes(8).toString("hex")) % (1n << 63n);
}

export function newFixtureState(nodes: string[]): FixtureState {
  const members = nodes.map((name) => ({ id: bigId(), name, removed: false }));
  const pods = new Map<string, { phase: string }>();
  for (const n of nodes) {
    pods.set(`kube-system/etcd-${n}`, { phase: "Running" });
    pods.set(`kube-system/kube-apiserver-${n}`, { phase: "Running" });
  }
  return {
    pods,
    etcd: {
      clusterId: bigId(),
      leaderId: members[0].id,
      raftTerm: 2,
      revision: 17,
      members,
      faults: { alarms: [], noLeader: false, unresponsive: [] },
    },
  };
}

function etcdJson(s: FixtureState["etcd"]) {
  return {
    clusterId: s.clusterId.toString(),
    leaderId: s.leaderId.toString(),
    raftTerm: s.raftTerm,
    revision: s.revision,
    version: "3.5.16",
    members: s.members.map((m) => ({
      id: m.id.toString(),
      name: m.name,
      peerURLs: [`https://${m.name}:2380`],
      clientURLs: [`https://${m.name}:2379`],
      removed: m.removed,
    })),
    faults: {
      alarms: s.faults.alarms.map((a) => ({ memberId: a.memberId.toString(), alarm: a.alarm })),
      noLeader: s.faults.noLeader,
      unresponsive: s.faults.unresponsive,
    },
  };
}

const status = (code: number, reason: string, message: string) => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });

/** DEVELOPMENT FIXTURE edge (see the file header). */
export async function startFixtureEdge(state: FixtureState, cluster: { namespace: string; name: string }) {
  const prefix = `/clusters/${cluster.namespace}/${cluster.name}`;
  const admin = `/admin/clusters/${cluster.namespace}/${cluster.name}/etcd`;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
    const send = (code: number, obj: unknown) => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(obj));
    };
    const url = new URL(req.url ?? "/", "http://x");
    const p = url.pathname;
    const e = state.etcd;
    if (p === admin && req.method === "GET") return send(200, etcdJson(e));
    if (p === `${admin}/move-leader` && req.method === "POST") {
      const t = e.members.find((m) => m.id.toString() === String(body?.targetId));
      if (!t) return send(404, status(404, "NotFound", `etcd member ${body?.targetId} not found`));
      if (t.removed) return send(412, status(412, "PreconditionFailed", "member removed"));
      if (e.leaderId !== t.id) e.raftTerm++;
      e.leaderId = t.id;
      return send(200, etcdJson(e));
    }
    if (p === `${admin}/remove-member` && req.method === "POST") {
      const t = e.members.find((m) => m.id.toString() === String(body?.id) && !m.removed);
      if (!t) return send(404, status(404, "NotFound", `etcd member ${body?.id} not found`));
      t.removed = true;
      if (e.leaderId === t.id) {
        e.leaderId = e.members.find((m) => !m.removed)?.id ?? 0n;
        e.raftTerm++;
      }
      return send(200, etcdJson(e));
    }
    if (!p.startsWith(prefix)) return send(404, status(404, "NotFound", "no such cluster"));
    const k = p.slice(prefix.length) || "/";
    if (k === "/version") return send(200, { major: "1", minor: "32", gitVersion: "v1.32.0", platform: "linux/amd64" });
    if (k === "/api") return send(200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] });
    if (k === "/apis") return send(200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
    if (k === "/api/v1") {
      return send(200, {
        kind: "APIResourceList",
        groupVersion: "v1",
        resources: [
          { name: "pods", singularName: "pod", namespaced: true, kind: "Pod", verbs: ["get", "list"], shortNames: ["po"] },
          { name: "pods/portforward", singularName: "", namespaced: true, kind: "PodPortForwardOptions", verbs: ["create", "get"] },
        ],
      });
    }
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(k);
    if (m) {
      const pod = state.pods.get(`${m[1]}/${m[2]}`);
      if (!pod) return send(404, status(404, "NotFound", `pods "${m[2]}" not found`));
      return send(200, {
        kind: "Pod",
        apiVersion: "v1",
        metadata: { name: m[2], namespace: m[1], uid: "00000000-0000-0000-0000-000000000001", resourceVersion: "1" },
        spec: { containers: [{ name: "main", image: "fake", ports: [{ containerPort: 2379 }] }] },
        status: { phase: pod.phase },
      });
    }
    send(404, status(404, "NotFound", `the server could not find the requested resource`));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export interface Harness {
  dir: string;
  vipUrl: string;
  state: FixtureState;
  kubeconfig: string;
  etcdCaFile: string;
  etcdClientCert: string;
  etcdClientKey: string;
  /** A client cert/key from an unrelated CA (must be refused by the etcd bridge). */
  strangerCert: string;
  strangerKey: string;
  etcdCa: CertKeyPair;
  clusterCa: CertKeyPair;
  echoPort: number;
  close(): Promise<void>;
}

/**
 * Real VIP + fixture edge. Test-only target hook: pods named `echo-*` are routed to a local TCP echo server
 * (product code stays clean: the hook is the handler's `connectTarget` option).
 */
export async function startHarness(
  opts: { nodes?: string[]; headerEncoding?: "deflate" | "stored"; unresponsiveCapMs?: number } = {},
): Promise<Harness> {
  const nodes = opts.nodes ?? ["cp-a1", "cp-b2", "cp-c3"];
  const dir = mkdtempSync(path.join(os.tmpdir(), "capim-pf-"));
  const cluster = { namespace: "default", name: "c1" };
  const state = newFixtureState(nodes);
  state.pods.set("default/echo-1", { phase: "Running" });
  state.pods.set("default/pending-1", { phase: "Pending" });
  const edge = await startFixtureEdge(state, cluster);

  const echo = net.createServer((s) => {
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  const echoPort = (echo.address() as net.AddressInfo).port;

  const [ca, etcdCa, strangerCa] = await Promise.all([
    generateCA("kubernetes", { rsa: false }),
    generateCA("etcd-ca", { rsa: false }),
    generateCA("stranger", { rsa: false }),
  ]);
  const handler = echoPortForwardHandler(echoPort, { headerEncoding: opts.headerEncoding, unresponsiveCapMs: opts.unresponsiveCapMs });
  const vip = new VipManager({
    edgeUrl: edge.url,
    edgeToken: "fixture-token",
    host: "127.0.0.1",
    logger: pino({ level: process.env.LOG_LEVEL ?? "silent" }),
    upgradeHandler: handler,
    etcdHandler: createEtcdRequestHandler({ unresponsiveCapMs: opts.unresponsiveCapMs }),
  });
  const ep = await vip.open({ ...cluster, ca, etcdCa });
  const vipUrl = `https://127.0.0.1:${ep.port}`;

  const admin = await issueCert(ca, { commonName: "kubernetes-admin", organization: ["system:masters"], usage: "client" });
  const etcdClient = await issueCert(etcdCa, { commonName: "capi-etcd-client", usage: "client" });
  const stranger = await issueCert(strangerCa, { commonName: "capi-etcd-client", usage: "client" });
  const w = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text, { mode: 0o600 });
    return f;
  };
  const kubeconfig = w("kubeconfig", kubeconfigFor({ clusterName: "c1", server: vipUrl, caPem: ca.certPem, clientCertPem: admin.certPem, clientKeyPem: admin.keyPem }));

  return {
    dir,
    vipUrl,
    state,
    kubeconfig,
    etcdCa,
    clusterCa: ca,
    etcdCaFile: w("etcd-ca.crt", etcdCa.certPem),
    etcdClientCert: w("etcd-client.crt", etcdClient.certPem),
    etcdClientKey: w("etcd-client.key", etcdClient.keyPem),
    strangerCert: w("stranger.crt", stranger.certPem),
    strangerKey: w("stranger.key", stranger.keyPem),
    echoPort,
    async close() {
      await vip.closeAll();
      await edge.close();
      echo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The product's port-forward handler with one TEST-ONLY target hook (its `connectTarget` option): pods named
 * `echo-*` are routed to a local TCP echo server, everything else to the product's TLS mux. Fake pods run
 * no processes, so a byte-exact bulk transfer needs something that echoes; product code stays clean.
 */
export function echoPortForwardHandler(echoPort: number, opts: Omit<PortForwardHandlerOptions, "connectTarget"> = {}): PortForwardHandler {
  const connectTarget: ConnectTarget = async (ctx, pod, p, stream) => {
    if (!pod.startsWith("echo-")) return handler.mux.connect(ctx, pod, p, stream);
    const sock = net.connect(echoPort, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", resolve);
      sock.once("error", (err) => reject(new TargetError(`echo: ${err.message}`)));
    });
    sock.on("error", () => stream.destroy());
    stream.on("error", () => sock.destroy());
    sock.pipe(stream);
    stream.pipe(sock);
    sock.on("close", () => stream.destroy());
  };
  const handler = createPortForwardHandler({ ...opts, connectTarget });
  return handler;
}

/** A loopback TCP echo server. */
export async function startEchoServer(): Promise<{ port: number; close(): void }> {
  const echo = net.createServer((s) => {
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  return { port: (echo.address() as net.AddressInfo).port, close: () => echo.close() };
}

// ---- real clients ----

export function kubectlBinary(minor: number): string | undefined {
  try {
    const real = realpathSync(execFileSync("sh", ["-c", "command -v kubectl"]).toString().trim());
    const f = path.join(path.dirname(real), `kubectl.1.${minor}`);
    return existsSync(f) ? f : undefined;
  } catch {
    return undefined;
  }
}

export interface PortForward {
  localPort: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

// kubectl processes still running when the test process exits (a failed test) are killed with it.
const livePortForwards = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of livePortForwards) c.kill("SIGKILL");
});

/** `kubectl port-forward pod/<pod> :<port>` with a temporary HOME and cache dir; resolves on "Forwarding from". */
export async function kubectlPortForward(
  h: Pick<Harness, "dir" | "kubeconfig">,
  kubectl: string,
  namespace: string,
  pod: string,
  port: number,
  env: Record<string, string> = {},
): Promise<PortForward> {
  const home = mkdtempSync(path.join(h.dir, "home-"));
  const child = spawn(
    kubectl,
    ["--kubeconfig", h.kubeconfig, "--cache-dir", path.join(home, "cache"), "-n", namespace, "port-forward", `pod/${pod}`, `:${port}`, "--address", "127.0.0.1", "-v=4"],
    { env: { PATH: process.env.PATH ?? "", HOME: home, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  livePortForwards.add(child);
  child.once("exit", () => livePortForwards.delete(child));
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const localPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubectl port-forward did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward exited ${code}:\n${out}`));
    });
  });
  return {
    localPort,
    child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run Debian's etcdctl (API v3) against `endpoints` with the given client cert. */
export function etcdctl(h: Pick<Harness, "etcdCaFile" | "etcdClientCert" | "etcdClientKey">, endpoints: string[], args: string[], creds?: { cert: string; key: string }): Promise<RunResult> {
  const c = creds ?? { cert: h.etcdClientCert, key: h.etcdClientKey };
  return run("etcdctl", ["--endpoints", endpoints.join(","), "--cacert", h.etcdCaFile, "--cert", c.cert, "--key", c.key, "--dial-timeout", "5s", "--command-timeout", "5s", ...args], {
    ETCDCTL_API: "3",
  });
}

export function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    // A missing binary (e.g. etcdctl without Debian's etcd-client) fails the test instead of hanging it.
    child.on("error", (err) => resolve({ code: 127, stdout, stderr: `${stderr}${cmd}: ${err.message}` }));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** JSON.parse that keeps integers above 2^53 exact (etcdctl prints uint64 ids as bare numbers). */
export function parseJsonBig(text: string): any {
  const quoted = text.replace(/([:\[,]\s*)(\d{16,})(?=\s*[,\]}])/g, '$1"$2"');
  return JSON.parse(quoted);
}
