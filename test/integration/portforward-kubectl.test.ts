// kubectl port-forward (SPDY/3.1 and the WebSocket tunnel) through the real VIP, against the fixture edge
// (see test/helpers/portforward-harness.ts: re-point at the real edge once its etcd admin API is wired).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { createHash, randomBytes } from "node:crypto";
import { X509Certificate } from "node:crypto";
import { etcdctl, kubectlBinary, kubectlPortForward, parseJsonBig, startHarness, type Harness } from "../helpers/portforward-harness.js";

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
function rawUpgrade(h: Harness, path: string, headers: Record<string, string>, cert: { certPem: string; keyPem: string }): Promise<{ status: number; body: string }> {
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

describe("kubectl port-forward through the VIP", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  for (const v of variants) {
    it.skipIf(!v.bin)(`${v.label}: etcdctl member list through the tunnel`, async () => {
      const pf = await kubectlPortForward(h, v.bin!, "kube-system", "etcd-cp-a1", 2379, v.env);
      try {
        const r = await etcdctl(h, [`https://127.0.0.1:${pf.localPort}`], ["member", "list", "-w", "json"]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const out = parseJsonBig(r.stdout);
        expect(out.header.member_id).toBe(h.state.etcd.members[0].id.toString());
        expect(out.members.map((m: { name: string }) => m.name).sort()).toEqual(["cp-a1", "cp-b2", "cp-c3"]);
        // A second connection over the same session (kubectl's requestid 1).
        const again = await etcdctl(h, [`https://127.0.0.1:${pf.localPort}`], ["endpoint", "status", "-w", "json"]);
        expect(again.code).toBe(0);
        if (v.websocket) expect(pf.output()).toContain("negotiated protocol: portforward.k8s.io");
        else expect(pf.output()).not.toContain("negotiated protocol");
        expect(pf.output()).not.toMatch(/lost connection|error creating error stream|Timeout occurred/);
      } finally {
        await pf.stop();
      }
    });

    it.skipIf(!v.bin)(`${v.label}: 64 MiB each way to a TCP echo, byte-exact`, async () => {
      const pf = await kubectlPortForward(h, v.bin!, "default", "echo-1", 7, v.env);
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
  }

  it.skipIf(!k129)("stored (uncompressed) header blocks are read by kubectl", async () => {
    const hs = await startHarness({ headerEncoding: "stored" });
    try {
      const pf = await kubectlPortForward(hs, k129!, "kube-system", "etcd-cp-b2", 2379);
      try {
        const r = await etcdctl(hs, [`https://127.0.0.1:${pf.localPort}`], ["member", "list", "-w", "json"]);
        expect(r.code).toBe(0);
        expect(parseJsonBig(r.stdout).header.member_id).toBe(hs.state.etcd.members[1].id.toString());
      } finally {
        await pf.stop();
      }
    } finally {
      await hs.close();
    }
  });

  it.skipIf(!k132)("kube-apiserver pod: TLS with the apiserver cert, HTTP reaches the cluster API", async () => {
    const pf = await kubectlPortForward(h, k132!, "kube-system", "kube-apiserver-cp-a1", 6443);
    try {
      // KCP's expiry check: handshake without verification or client cert, read the peer cert.
      const peer = await new Promise<X509Certificate>((resolve, reject) => {
        const s = tls.connect({ host: "127.0.0.1", port: pf.localPort, rejectUnauthorized: false }, () => {
          const raw = s.getPeerCertificate().raw;
          s.end();
          resolve(new X509Certificate(raw));
        });
        s.on("error", reject);
      });
      expect(peer.subject).toContain("CN=kube-apiserver");
      expect(peer.checkIssued(new X509Certificate(h.clusterCa.certPem))).toBe(true);
      expect(new Date(peer.validTo).getTime()).toBeGreaterThan(Date.now());
      // kubectl itself through the tunnel (server = the forwarded port).
      const { run } = await import("../helpers/portforward-harness.js");
      const r = await run(k132!, ["--kubeconfig", h.kubeconfig, "--server", `https://127.0.0.1:${pf.localPort}`, "get", "--raw", "/version"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).gitVersion).toBe("v1.32.0");
    } finally {
      await pf.stop();
    }
  });

  it.skipIf(!k132)("a pod that is not running is refused by kubectl before any upgrade", async () => {
    const { run } = await import("../helpers/portforward-harness.js");
    const r = await run(k132!, ["--kubeconfig", h.kubeconfig, "-n", "default", "port-forward", "pod/pending-1", ":80"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not running|Pending/);
  });

  it("the upgrade handler answers 404/400 Status for missing and non-running pods, 400 for a bad WebSocket", async () => {
    const { issueCert } = await import("../../controller/pki/index.js");
    const admin = await issueCert(h.clusterCa, { commonName: "admin", organization: ["system:masters"], usage: "client" });
    const spdy = { upgrade: "SPDY/3.1", "x-stream-protocol-version": "portforward.k8s.io" };
    const missing = await rawUpgrade(h, "/api/v1/namespaces/kube-system/pods/etcd-nope/portforward", spdy, admin);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ kind: "Status", code: 404, reason: "NotFound", message: 'pods "etcd-nope" not found' });
    const pending = await rawUpgrade(h, "/api/v1/namespaces/default/pods/pending-1/portforward", spdy, admin);
    expect(pending.status).toBe(400);
    expect(JSON.parse(pending.body).message).toContain("not running (phase Pending)");
    const ws = await rawUpgrade(
      h,
      "/api/v1/namespaces/kube-system/pods/etcd-cp-a1/portforward",
      { upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": randomBytes(16).toString("base64"), "sec-websocket-protocol": "v4.channel.k8s.io" },
      admin,
    );
    expect(ws.status).toBe(400);
    expect(JSON.parse(ws.body).kind).toBe("Status");
    const ok = await rawUpgrade(h, "/api/v1/namespaces/kube-system/pods/etcd-cp-a1/portforward", spdy, admin);
    expect(ok.status).toBe(101);
  });
});
