// kubectl port-forward (SPDY/3.1 and the WebSocket tunnel) on the REAL stack: `npm start` (edge in workerd,
// management API, controller with its VIP, driver) for one cluster with 3 control planes.
//  - kubectl x etcdctl matrix: through the controller's own VIP (the cluster's kubeconfig) to etcd-<node>.
//  - 64 MiB each way, byte-exact, and stored header blocks: through a second VIP built from the product's
//    VipManager/handlers on the same real edge (test/helpers/etcd-clients.ts openTestVip). Its only test-only
//    part is the `echo-*` target hook: fake pods run no processes and 64 MiB of etcd gRPC is not a bulk
//    transfer, so a real pod `default/echo-1` (created with kubectl, phase Running via pods/status) is
//    routed to a loopback TCP echo server.
//  - Refusals (missing pod, Pending pod, bad WebSocket subprotocol): real pods, the controller's VIP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import https from "node:https";
import net from "node:net";
import { rmSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { issueCert } from "../../controller/pki/index.js";
import { tempDir } from "../helpers/edge.js";
import {
  createPod,
  edgeAdmin,
  etcdctl,
  etcdState,
  kubectlBinary,
  openTestVip,
  parseJsonBig,
  portForward,
  realCluster,
  run,
  startEchoServer,
  type EdgeAdmin,
  type RealCluster,
  type TestVip,
} from "../helpers/etcd-clients.js";
import { kubeconfigServer, startEmbedded, type Embedded } from "../e2e/embedded-process.js";

const k129 = kubectlBinary(29);
const k132 = kubectlBinary(32);

const variants: { label: string; bin: string | undefined; env: Record<string, string>; websocket: boolean }[] = [
  { label: "kubectl 1.29 (SPDY)", bin: k129, env: {}, websocket: false },
  { label: "kubectl 1.32 (WebSocket first)", bin: k132, env: {}, websocket: true },
  { label: "kubectl 1.32 KUBECTL_PORT_FORWARD_WEBSOCKETS=false", bin: k132, env: { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" }, websocket: false },
];

/** Send `size` random bytes through localhost:port and read them back; returns both hashes. */
function echoThrough(port: number, size: number): Promise<{ sent: string; received: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const sentHash = createHash("sha256");
    const recvHash = createHash("sha256");
    let received = 0;
    sock.on("data", (d: Buffer) => {
      recvHash.update(d);
      received += d.length;
      if (received === size) {
        sock.end();
        resolve({ sent: sentHash.digest("hex"), received: recvHash.digest("hex"), bytes: received });
      }
    });
    sock.on("error", reject);
    sock.on("close", () => received !== size && reject(new Error(`closed after ${received} of ${size} bytes`)));
    sock.once("connect", async () => {
      const chunk = 256 * 1024;
      for (let off = 0; off < size; off += chunk) {
        const buf = randomBytes(Math.min(chunk, size - off));
        sentHash.update(buf);
        if (!sock.write(buf)) await new Promise((r) => sock.once("drain", r));
      }
    });
  });
}

/** A raw HTTPS upgrade request to the VIP (to see the status a refused port-forward gets). */
function rawUpgrade(h: { vipUrl: string; clusterCa: { certPem: string } }, path: string, headers: Record<string, string>, cert: { certPem: string; keyPem: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(h.vipUrl + path, {
      method: "POST",
      headers: { connection: "Upgrade", ...headers },
      ca: h.clusterCa.certPem,
      cert: cert.certPem,
      key: cert.keyPem,
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: "" });
    });
    req.on("error", reject);
    req.end();
  });
}

describe.skipIf(!k129 || !k132)("kubectl port-forward through the VIP on the real stack", () => {
  const dir = tempDir("capim-it-pf-");
  let e: Embedded;
  let c: RealCluster;
  let edge: EdgeAdmin;
  let nodes: string[];
  let echo: { port: number; close(): void };
  let testVip: TestVip;
  const vipUrl = () => kubeconfigServer(c.kubeconfig); // the controller's VIP

  beforeAll(async () => {
    e = startEmbedded(["--clusters", "1", "--control-planes", "3", "--workers", "0", "--startup-duration", "0s"], {
      kubeconfigDir: `${dir}/kubeconfigs`,
      stateDir: `${dir}/state`,
    });
    await e.waitForLine(/^all 1 clusters ready$/, 150_000);
    edge = await edgeAdmin(e);
    c = await realCluster(e, "default", "capim-1", dir);
    nodes = (await etcdState(edge, c)).members.map((m) => m.name).sort();
    echo = await startEchoServer();
    testVip = await openTestVip(edge, c, echo.port);
    await createPod(c, k132!, "default", "echo-1", "Running");
    await createPod(c, k132!, "default", "pending-1");
  });
  afterAll(async () => {
    await testVip?.close();
    echo?.close();
    await e?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  variants.forEach((v, i) => {
    it(`${v.label}: etcdctl member list and endpoint status through the controller's VIP`, async () => {
      const node = nodes[i % nodes.length];
      const pf = await portForward(c, v.bin!, "kube-system", `etcd-${node}`, 2379, v.env);
      try {
        const state = await etcdState(edge, c);
        const r = await etcdctl(c, [`https://127.0.0.1:${pf.localPort}`], ["member", "list", "-w", "json"]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const out = parseJsonBig(r.stdout);
        expect(out.header.member_id).toBe(state.members.find((m) => m.name === node)!.id);
        expect(out.members.map((m: { name: string }) => m.name).sort()).toEqual(nodes);
        // A second connection over the same session (kubectl's requestid 1).
        const again = await etcdctl(c, [`https://127.0.0.1:${pf.localPort}`], ["endpoint", "status", "-w", "json"]);
        expect(again.code).toBe(0);
        expect(parseJsonBig(again.stdout)[0].Status.leader).toBe(state.leaderId);
        if (v.websocket) expect(pf.output()).toContain("negotiated protocol: portforward.k8s.io");
        else expect(pf.output()).not.toContain("negotiated protocol");
        expect(pf.output()).not.toMatch(/lost connection|error creating error stream|Timeout occurred/);
      } finally {
        await pf.stop();
      }
    });

    it(`${v.label}: 64 MiB each way to a TCP echo, byte-exact (test VIP on the real edge)`, async () => {
      const pf = await portForward({ dir: c.dir, kubeconfig: testVip.kubeconfig }, v.bin!, "default", "echo-1", 7, v.env);
      try {
        const size = 64 * 1024 * 1024;
        const r = await echoThrough(pf.localPort, size);
        expect(r.bytes).toBe(size);
        expect(r.received).toBe(r.sent);
        // The connection ended cleanly: the error stream got its FIN and the session is still usable.
        const small = await echoThrough(pf.localPort, 1000);
        expect(small.received).toBe(small.sent);
        expect(pf.output()).not.toMatch(/lost connection|an error occurred forwarding/);
      } finally {
        await pf.stop();
      }
    }, 180_000);
  });

  it("stored (uncompressed) header blocks are read by kubectl 1.29 (test VIP on the real edge)", async () => {
    const stored = await openTestVip(edge, c, echo.port, { headerEncoding: "stored" });
    try {
      const pf = await portForward({ dir: c.dir, kubeconfig: stored.kubeconfig }, k129!, "kube-system", `etcd-${nodes[1]}`, 2379);
      try {
        const r = await etcdctl(c, [`https://127.0.0.1:${pf.localPort}`], ["member", "list", "-w", "json"]);
        expect(r.code).toBe(0);
        expect(parseJsonBig(r.stdout).header.member_id).toBe((await etcdState(edge, c)).members.find((m) => m.name === nodes[1])!.id);
      } finally {
        await pf.stop();
      }
    } finally {
      await stored.close();
    }
  });

  it("a pod that is not running is refused by kubectl before any upgrade", async () => {
    const r = await run(k132!, ["--kubeconfig", c.kubeconfig, "-n", "default", "port-forward", "pod/pending-1", ":80"], { HOME: c.dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not running|Pending/);
  });

  it("the upgrade handler answers 404/400 Status for missing and non-running pods, 400 for a bad WebSocket", async () => {
    const h = { vipUrl: vipUrl(), clusterCa: c.clusterCa };
    const admin = await issueCert(c.clusterCa, { commonName: "admin", organization: ["system:masters"], usage: "client" });
    const spdy = { upgrade: "SPDY/3.1", "x-stream-protocol-version": "portforward.k8s.io" };
    const missing = await rawUpgrade(h, "/api/v1/namespaces/kube-system/pods/etcd-nope/portforward", spdy, admin);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ kind: "Status", code: 404, reason: "NotFound", message: 'pods "etcd-nope" not found' });
    const pending = await rawUpgrade(h, "/api/v1/namespaces/default/pods/pending-1/portforward", spdy, admin);
    expect(pending.status).toBe(400);
    expect(JSON.parse(pending.body).message).toContain("not running (phase Pending)");
    const ws = await rawUpgrade(
      h,
      `/api/v1/namespaces/kube-system/pods/etcd-${nodes[0]}/portforward`,
      { upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": randomBytes(16).toString("base64"), "sec-websocket-protocol": "v4.channel.k8s.io" },
      admin,
    );
    expect(ws.status).toBe(400);
    expect(JSON.parse(ws.body).kind).toBe("Status");
    const ok = await rawUpgrade(h, `/api/v1/namespaces/kube-system/pods/etcd-${nodes[0]}/portforward`, spdy, admin);
    expect(ok.status).toBe(101);
  });
});
