// The cluster VIP end to end: real edge (workerd via Miniflare), real TLS listeners, and real clients:
// kubectl 1.32 (HTTP/2), @kubernetes/client-node (HTTP/1.1), node:https/http2/tls for the refusal cases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import https from "node:https";
import http2 from "node:http2";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { X509Certificate } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { stringify } from "yaml";
import { startEdge, type Edge } from "../../controller/local/edge.js";
import { createCluster, kubectlPath, tempDir } from "../helpers/edge.js";
import { generateCA, issueCert, kubeconfigFor, type CertKeyPair } from "../../controller/pki/index.js";
import { VipManager, type UpgradeHandler } from "../../controller/vip/index.js";
import { createLogger } from "../../controller/log.js";
import { createMetrics, startMetricsServer, type Metrics } from "../../controller/metrics.js";
import { parseMetrics, total } from "../helpers/prometheus.js";

const NS = "vip-test";
const kubectl = kubectlPath("1.32");
const home = tempDir("capim-vip-home-");

interface LogLine {
  msg: string;
  cluster?: string;
  http?: string;
  ua?: string;
  url?: string;
  code?: number;
}
const logs: LogLine[] = [];
const logger = createLogger({ level: "debug", destination: { write: (s: string) => void logs.push(JSON.parse(s)) } });

let edge: Edge;
let vip: VipManager;
let metrics: Metrics;
const cas: Record<string, CertKeyPair> = {};
const eps: Record<string, { host: string; port: number }> = {};
let adminA: CertKeyPair;
let kubeconfigA: string;
let upgrades: Array<{ namespace: string; name: string; user?: string; url?: string; hasEtcdCa: boolean }> = [];

const upgradeHandler: UpgradeHandler = (ctx, req, socket, head) => {
  upgrades.push({ namespace: ctx.namespace, name: ctx.name, user: ctx.identity.user, url: req.url, hasEtcdCa: !!ctx.etcdCa });
  // Stand-in for the port-forward layer: accept the upgrade and echo the tunnel bytes.
  socket.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n");
  if (head.length) socket.write(head);
  socket.pipe(socket);
};

function run(bin: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { env: { ...process.env, HOME: home }, timeout: timeoutMs }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(); // kubectl prompts for a user name on a terminal-less stdin otherwise
  });
}

function writeKubeconfig(name: string, server: string, ca: string, client?: CertKeyPair): string {
  const file = path.join(home, `${name}.kubeconfig`);
  const text = client
    ? kubeconfigFor({ clusterName: name, server, caPem: ca, clientCertPem: client.certPem, clientKeyPem: client.keyPem })
    : // No client certificate (a bearer token the VIP does not accept): an anonymous client to the VIP.
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name, cluster: { server, "certificate-authority-data": Buffer.from(ca).toString("base64") } }],
        users: [{ name: "anon", user: { token: "not-a-client-cert" } }],
        contexts: [{ name, context: { cluster: name, user: "anon" } }],
        "current-context": name,
      });
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

function kubectlArgs(kubeconfig: string, ...args: string[]) {
  return ["--kubeconfig", kubeconfig, "--cache-dir", path.join(home, "cache"), ...args];
}

/** One HTTPS request to a VIP with node:https (HTTP/1.1), raw path (no normalisation). */
function get(port: number, p: string, opts: { ca: string; cert?: CertKeyPair; headers?: Record<string, string>; servername?: string }) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port, path: p, ca: opts.ca, cert: opts.cert?.certPem, key: opts.cert?.keyPem, headers: opts.headers, servername: opts.servername, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function clientNode(kubeconfig: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc;
}

beforeAll(async () => {
  edge = await startEdge();
  await createCluster(edge, NS, "a");
  await createCluster(edge, NS, "b");
  [cas.a, cas.b, cas.aEtcd, cas.other] = await Promise.all([
    generateCA("kubernetes"),
    generateCA("kubernetes"),
    generateCA("etcd-ca"),
    generateCA("kubernetes", { rsa: false }),
  ]);
  metrics = createMetrics();
  vip = new VipManager({ edgeUrl: edge.url, edgeToken: edge.token, host: "127.0.0.1", logger, metrics, upgradeHandler });
  eps.a = await vip.open({ namespace: NS, name: "a", ca: cas.a, etcdCa: cas.aEtcd });
  eps.b = await vip.open({ namespace: NS, name: "b", ca: cas.b });
  adminA = await issueCert(cas.a, { commonName: "kubernetes-admin", organization: ["system:masters"], usage: "client" });
  kubeconfigA = writeKubeconfig("a", `https://${eps.a.host}:${eps.a.port}`, cas.a.certPem, adminA);
}, 180_000);

afterAll(async () => {
  await vip?.closeAll();
  await edge?.stop();
});

describe("VIP with real clients", () => {
  it("opens one listener per cluster on distinct ports in the range", () => {
    expect(eps.a.port).not.toBe(eps.b.port);
    for (const ep of Object.values(eps)) {
      expect(ep.port).toBeGreaterThanOrEqual(20000);
      expect(ep.port).toBeLessThanOrEqual(30000);
    }
    expect(vip.isOpen(NS, "a")).toBe(true);
    expect(vip.isOpen(NS, "zzz")).toBe(false);
  });

  it("serves the apiserver cert (CN kube-apiserver, SANs, cluster CA) and negotiates h2", async () => {
    const sock = tls.connect({ host: "127.0.0.1", port: eps.a.port, ca: cas.a.certPem, ALPNProtocols: ["h2", "http/1.1"] });
    await new Promise<void>((r, j) => sock.once("secureConnect", () => r()).once("error", j));
    const peer = sock.getPeerX509Certificate()!;
    sock.destroy();
    expect(sock.alpnProtocol).toBe("h2");
    expect(peer.subject).toBe("CN=kube-apiserver");
    expect(peer.checkIssued(new X509Certificate(cas.a.certPem))).toBe(true);
    for (const n of ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"]) expect(peer.checkHost(n)).toBe(n);
    for (const ip of ["127.0.0.1", "::1"]) expect(peer.checkIP(ip)).toBe(ip);
    expect(vip.getApiServerSecureContext(NS, "a")?.certPem).toBe(peer.toString());
  });

  it.skipIf(!kubectl)("kubectl 1.32 lists namespaces over HTTP/2", async () => {
    const r = await run(kubectl!, kubectlArgs(kubeconfigA, "get", "ns", "-o", "name"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toContain("namespace/kube-system");
    const kubectlLines = logs.filter((l) => l.msg === "vip request" && l.ua?.startsWith("kubectl") && l.cluster === `${NS}/a`);
    expect(kubectlLines.length).toBeGreaterThan(0);
    expect(kubectlLines.every((l) => l.http === "2.0")).toBe(true);
  });

  it("client-node lists and watches configmaps over HTTP/1.1, and kubectl -w streams the same events", async () => {
    const kc = clientNode(kubeconfigA);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const before = await core.listNamespacedConfigMap({ namespace: "default" });
    const rv = before.metadata?.resourceVersion;
    expect(rv).toBeTruthy();

    // kubectl watch (HTTP/2 stream) in the background.
    const kOut: string[] = [];
    const kproc = kubectl
      ? spawn(kubectl, kubectlArgs(kubeconfigA, "get", "configmaps", "-n", "default", "-w", "-o", "name", "--output-watch-events"), {
          env: { ...process.env, HOME: home },
        })
      : undefined;
    kproc?.stdout.on("data", (b: Buffer) => kOut.push(b.toString()));

    // client-node watch (HTTP/1.1 chunked stream).
    const seen: string[] = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch(
      "/api/v1/namespaces/default/configmaps",
      { resourceVersion: rv },
      (type: string, obj: k8s.V1ConfigMap) => seen.push(`${type} ${obj.metadata?.name}`),
      () => undefined,
    );
    // kubectl lists, then watches from the list's resourceVersion: events after its list reach it even if
    // its watch request lands a little later.
    if (kproc) {
      await waitFor(() => logs.some((l) => l.msg === "vip request" && l.ua?.startsWith("kubectl") && /\/configmaps\?limit=/.test(l.url ?? "")), 20_000);
    }
    for (const n of ["w1", "w2", "w3"]) {
      await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: n }, data: { k: n } } });
    }
    await waitFor(() => seen.length >= 3, 15_000);
    expect(seen).toEqual(["ADDED w1", "ADDED w2", "ADDED w3"]);
    req.abort();
    if (kproc) {
      await waitFor(() => /w3/.test(kOut.join("")), 20_000);
      kproc.kill();
      const text = kOut.join("");
      expect(text.split("\n").filter(Boolean)).toEqual(["configmap/w1", "configmap/w2", "configmap/w3"]);
      // kubectl's watch went over HTTP/2 and was forwarded as one long request.
      const kubectlWatches = () => logs.filter((l) => l.msg === "vip request" && l.ua?.startsWith("kubectl") && /watch=true/.test(l.url ?? ""));
      await waitFor(() => kubectlWatches().length > 0, 10_000); // logged when the stream ends
      const kw = kubectlWatches();
      expect(kw.map((l) => l.http)).toEqual(["2.0"]);
    }
    // The client-node watch was forwarded as HTTP/1.1 and counted as a watch.
    const cn = logs.filter((l) => l.msg === "vip request" && l.http === "1.1" && /configmaps\?.*watch=true/.test(l.url ?? ""));
    expect(cn.length).toBeGreaterThan(0);
    const families = parseMetrics(await metrics.registry.metrics());
    expect(total(families, "apiserver_request_total", { cluster: `${NS}/a`, verb: "POST", resource: "configmaps", code: "201" })).toBe(3);
    expect(total(families, "apiserver_request_total", { cluster: `${NS}/a`, verb: "WATCH", resource: "configmaps" })).toBeGreaterThan(0);
  });

  it("answers 401 Status without a client certificate (https and kubectl)", async () => {
    const r = await get(eps.a.port, "/api/v1/namespaces", { ca: cas.a.certPem });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ kind: "Status", code: 401, reason: "Unauthorized" });
    if (kubectl) {
      const anon = writeKubeconfig("anon", `https://127.0.0.1:${eps.a.port}`, cas.a.certPem);
      const k = await run(kubectl, kubectlArgs(anon, "get", "ns"));
      expect(k.code).not.toBe(0);
      expect(k.stderr).toMatch(/Unauthorized|must be logged in/);
    }
  });

  it("refuses a certificate from a CA that is not the cluster's", async () => {
    const stranger = await issueCert(cas.other, { commonName: "kubernetes-admin", organization: ["system:masters"], usage: "client" });
    const r = await get(eps.a.port, "/api", { ca: cas.a.certPem, cert: stranger });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body).reason).toBe("Unauthorized");
    // The etcd CA signs etcd clients, not apiserver clients.
    const etcdClient = await issueCert(cas.aEtcd, { commonName: "etcd-client", usage: "client" });
    expect((await get(eps.a.port, "/api", { ca: cas.a.certPem, cert: etcdClient })).status).toBe(401);
  });

  it("verifies client certificates the same way for clients that send a DNS server name (SNI)", async () => {
    // A name that is not etcd-<node> gets the server's default context from the SNI callback; it must still
    // carry the cluster CA as the client CA (and serve the apiserver cert).
    const stranger = await issueCert(cas.other, { commonName: "kubernetes-admin", organization: ["system:masters"], usage: "client" });
    for (const servername of ["localhost", "kubernetes.default.svc"]) {
      const ok = await get(eps.a.port, "/api/v1/namespaces", { ca: cas.a.certPem, cert: adminA, servername });
      expect(ok.status, servername).toBe(200);
      expect((await get(eps.a.port, "/api", { ca: cas.a.certPem, cert: stranger, servername })).status, servername).toBe(401);
      expect((await get(eps.a.port, "/api", { ca: cas.a.certPem, servername })).status, servername).toBe(401);
    }
  });

  it("cluster A's credentials cannot read cluster B through B's VIP", async () => {
    // Trusting B's serving cert but presenting A's client cert: the VIP refuses.
    const r = await get(eps.b.port, "/api/v1/namespaces", { ca: cas.b.certPem, cert: adminA });
    expect(r.status).toBe(401);
    if (kubectl) {
      const crossed = writeKubeconfig("a-on-b", `https://127.0.0.1:${eps.b.port}`, cas.b.certPem, adminA);
      const k = await run(kubectl, kubectlArgs(crossed, "get", "ns"));
      expect(k.code).not.toBe(0);
      expect(k.stderr).toMatch(/Unauthorized|must be logged in/);
      // A's kubeconfig as is, pointed at B's port: kubectl itself rejects B's serving cert.
      const aOnB = writeKubeconfig("a-as-is-on-b", `https://127.0.0.1:${eps.b.port}`, cas.a.certPem, adminA);
      const k2 = await run(kubectl, kubectlArgs(aOnB, "get", "ns"));
      expect(k2.code).not.toBe(0);
      expect(k2.stderr).toMatch(/certificate/);
    }
    // B's own admin works on B.
    const adminB = await issueCert(cas.b, { commonName: "b-admin", usage: "client" });
    expect((await get(eps.b.port, "/api/v1/namespaces", { ca: cas.b.certPem, cert: adminB })).status).toBe(200);
  });

  it("rejects paths that would climb out of the cluster prefix", async () => {
    for (const p of [`/../../${NS}/b/api/v1/namespaces`, `/api/%2e%2e/%2e%2e/%2e%2e/${NS}/b/api`, "/api/..%2F..%2Fadmin"]) {
      const r = await get(eps.a.port, p, { ca: cas.a.certPem, cert: adminA });
      expect(r.status, p).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ kind: "Status", code: 400 });
    }
  });

  it("streams over a raw HTTP/2 client and drops spoofed identity headers", async () => {
    const session = http2.connect(`https://127.0.0.1:${eps.a.port}`, { ca: cas.a.certPem, cert: adminA.certPem, key: adminA.keyPem });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const s = session.request({ ":path": "/api/v1/namespaces/default/configmaps/w1", "x-remote-user": "someone-else" });
        let b = "";
        s.setEncoding("utf8");
        s.on("response", (h) => expect(h[":status"]).toBe(200));
        s.on("data", (c) => (b += c));
        s.on("end", () => resolve(b));
        s.on("error", reject);
      });
      expect(JSON.parse(body).data).toEqual({ k: "w1" });
    } finally {
      session.close();
    }
    const last = logs.filter((l) => l.msg === "vip request" && l.url === "/api/v1/namespaces/default/configmaps/w1").pop() as LogLine & { user?: string };
    expect(last.user).toBe("kubernetes-admin");
  });

  it("hands authorized upgrades to the upgrade handler, refuses anonymous ones", async () => {
    upgrades = [];
    const up = (cert?: CertKeyPair) =>
      new Promise<{ status: number; echoed?: string }>((resolve, reject) => {
        const req = https.request({
          host: "127.0.0.1",
          port: eps.a.port,
          method: "POST",
          path: "/api/v1/namespaces/kube-system/pods/etcd-m1/portforward",
          ca: cas.a.certPem,
          cert: cert?.certPem,
          key: cert?.keyPem,
          agent: false,
          headers: { connection: "Upgrade", upgrade: "SPDY/3.1", "x-stream-protocol-version": "portforward.k8s.io" },
        });
        req.on("upgrade", (res, socket) => {
          socket.write("ping");
          socket.once("data", (d: Buffer) => {
            socket.destroy();
            resolve({ status: res.statusCode ?? 0, echoed: d.toString() });
          });
        });
        req.on("response", (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0 });
        });
        req.on("error", reject);
        req.end();
      });
    expect(await up(adminA)).toEqual({ status: 101, echoed: "ping" });
    expect(upgrades).toEqual([
      { namespace: NS, name: "a", user: "kubernetes-admin", url: "/api/v1/namespaces/kube-system/pods/etcd-m1/portforward", hasEtcdCa: true },
    ]);
    expect((await up()).status).toBe(401);
    expect(upgrades.length).toBe(1);
  });

  it("without an upgrade handler, upgrades get 400 Status; an unreachable edge gives 503 Status", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const other = new VipManager({ edgeUrl: `http://127.0.0.1:${closedPort}`, edgeToken: "x", host: "127.0.0.1", logger });
    try {
      const ep = await other.open({ namespace: NS, name: "c", ca: cas.b });
      const adminB = await issueCert(cas.b, { commonName: "b-admin", usage: "client" });
      const r = await get(ep.port, "/api", { ca: cas.b.certPem, cert: adminB });
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body)).toMatchObject({ kind: "Status", code: 503, reason: "ServiceUnavailable" });
      const u = await get(ep.port, "/api/v1/namespaces/kube-system/pods/x/portforward", {
        ca: cas.b.certPem,
        cert: adminB,
        headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" },
      });
      expect(u.status).toBe(400);
      expect(JSON.parse(u.body)).toMatchObject({ kind: "Status", code: 400 });
    } finally {
      await other.closeAll();
    }
  });

  it("a slow edge: 504 Status after the request timeout, 429 with Retry-After beyond the in-flight bound, watches untouched", async () => {
    const faults = (body: unknown) =>
      fetch(`${edge.url}/admin/clusters/${NS}/b/faults`, { method: body ? "PUT" : "DELETE", headers: { authorization: `Bearer ${edge.token}` }, body: body ? JSON.stringify(body) : undefined });
    const slow = new VipManager({ edgeUrl: edge.url, edgeToken: edge.token, host: "127.0.0.1", logger, requestTimeoutMs: 1_000, maxInflight: 2 });
    try {
      const ep = await slow.open({ namespace: NS, name: "b", ca: cas.b });
      const adminB = await issueCert(cas.b, { commonName: "b-admin", organization: ["system:masters"], usage: "client" });
      const opts = { ca: cas.b.certPem, cert: adminB };
      expect((await faults({ latency: [{ verbs: ["get", "list"], ms: 4_000 }] })).status).toBe(200);
      const answers = await Promise.all([1, 2, 3, 4].map(() => get(ep.port, "/api/v1/namespaces/default/configmaps", opts)));
      const byCode = answers.map((a) => a.status).sort();
      expect(byCode).toEqual([429, 429, 504, 504]);
      for (const a of answers) expect(JSON.parse(a.body)).toMatchObject({ kind: "Status", code: a.status, reason: a.status === 429 ? "TooManyRequests" : "Timeout" });
      expect(answers.find((a) => a.status === 429)!.headers["retry-after"]).toBe("1");
      // A watch is not a request with a deadline: it stays open past the timeout.
      const watchOpen = await new Promise<number>((resolve, reject) => {
        const w = https.get({ host: "127.0.0.1", port: ep.port, path: "/api/v1/namespaces/default/configmaps?watch=true", ca: cas.b.certPem, cert: adminB.certPem, key: adminB.keyPem, agent: false }, (res) => {
          const t = setTimeout(() => {
            w.destroy();
            resolve(res.statusCode ?? 0);
          }, 2_000);
          res.on("end", () => clearTimeout(t));
        });
        w.on("error", (e) => (e.message.includes("socket hang up") ? undefined : reject(e)));
      });
      expect(watchOpen).toBe(200);
      expect((await faults(undefined)).status).toBe(200);
      expect((await get(ep.port, "/api/v1/namespaces/default/configmaps", opts)).status).toBe(200);
    } finally {
      await faults(undefined);
      await slow.closeAll();
    }
  });

  it("re-enters the TLS mux for tunnelled bytes: SNI etcd-<node> gets an etcd-CA cert", async () => {
    // A loopback TCP pair stands in for a port-forward data stream.
    const pair = await new Promise<[net.Socket, net.Socket]>((resolve) => {
      const srv = net.createServer((serverSide) => {
        srv.close();
        resolve([client, serverSide]);
      });
      let client: net.Socket;
      srv.listen(0, "127.0.0.1", () => (client = net.connect((srv.address() as net.AddressInfo).port, "127.0.0.1")));
    });
    expect(vip.injectConnection(NS, "a", pair[1])).toBe(true);
    const etcdClient = await issueCert(cas.aEtcd, { commonName: "kube-etcd-healthcheck-client", usage: "client" });
    const sock = tls.connect({ socket: pair[0], servername: "etcd-m1", ca: cas.aEtcd.certPem, cert: etcdClient.certPem, key: etcdClient.keyPem, ALPNProtocols: ["h2"] });
    await new Promise<void>((r, j) => sock.once("secureConnect", () => r()).once("error", j));
    const peer = sock.getPeerX509Certificate()!;
    expect(sock.authorized).toBe(true);
    expect(peer.subject).toBe("CN=etcd-m1");
    expect(peer.checkIssued(new X509Certificate(cas.aEtcd.certPem))).toBe(true);
    sock.destroy();
    const tlsA = vip.getClusterTls(NS, "a")!;
    expect(tlsA.route("etcd-m1")).toBe("etcd");
    expect(tlsA.route(undefined)).toBe("apiserver");
    expect((await tlsA.etcd("etcd-m1"))?.certPem).toBe(peer.toString());
  });

  it("close drops open watches and frees the port; reopen reuses it", async () => {
    const kc = clientNode(kubeconfigA);
    let ended = false;
    const req = await new k8s.Watch(kc).watch("/api/v1/namespaces/default/configmaps", {}, () => undefined, () => (ended = true));
    await vip.close(NS, "a");
    expect(vip.isOpen(NS, "a")).toBe(false);
    await waitFor(() => ended, 10_000);
    req.abort();
    await expect(get(eps.a.port, "/api", { ca: cas.a.certPem, cert: adminA })).rejects.toThrow(/ECONNREFUSED/);
    const again = await vip.open({ namespace: NS, name: "a", ca: cas.a, etcdCa: cas.aEtcd, port: eps.a.port });
    expect(again.port).toBe(eps.a.port);
    expect((await get(eps.a.port, "/api/v1/namespaces/default/configmaps/w2", { ca: cas.a.certPem, cert: adminA })).status).toBe(200);
    expect(await metrics.registry.getSingleMetricAsString("capim_vips_open")).toMatch(/capim_vips_open 2/);
  });

  it("serves /metrics, /healthz and /readyz", async () => {
    const m = await startMetricsServer(0, metrics.registry);
    try {
      const scrape = async () => parseMetrics(await (await fetch(`http://127.0.0.1:${m.port}/metrics`)).text());
      const labels = { cluster: `${NS}/a`, verb: "GET", group: "", resource: "configmaps", subresource: "" };
      const before = await scrape();
      const opts = { ca: cas.a.certPem, cert: adminA };
      for (let i = 0; i < 5; i++) expect((await get(eps.a.port, "/api/v1/namespaces/default/configmaps/no-such", opts)).status).toBe(404);
      const after = await scrape();
      // kube-apiserver's names and labels, counts matching the requests made.
      expect(total(after, "apiserver_request_total", { ...labels, code: "404" }) - total(before, "apiserver_request_total", { ...labels, code: "404" })).toBe(5);
      expect(total(after, "apiserver_current_inflight_requests", { cluster: `${NS}/a` })).toBe(0);
      // (The parser folds labelled histograms into one sample, so only the family's type is checked here.)
      expect(after.find((f) => f.name === "apiserver_request_duration_seconds")?.type).toBe("HISTOGRAM");
      expect((await fetch(`http://127.0.0.1:${m.port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${m.port}/readyz`)).status).toBe(200);
    } finally {
      await m.close();
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting for condition");
    await new Promise((r) => setTimeout(r, 50));
  }
}
