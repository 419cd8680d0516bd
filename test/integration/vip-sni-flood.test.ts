// Unauthenticated TLS handshakes with made-up `etcd-*` SNI names must not cost anything that lasts: the VIP
// mints a serving cert per etcd name before the client has proved anything, so those are kept in a bounded
// cache, and the real members' names keep working after a flood.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import tls from "node:tls";
import { startEdge, type Edge } from "../../controller/local/edge.js";
import { createLogger } from "../../controller/log.js";
import { generateCA, issueCert, type CertKeyPair } from "../../controller/pki/index.js";
import { VipManager } from "../../controller/vip/index.js";
import { ETCD_CERT_CACHE } from "../../controller/vip/tls.js";
import { createCluster } from "../helpers/edge.js";

const NS = "sni-flood";
let edge: Edge;
let vip: VipManager;
let port: number;
let etcdCa: CertKeyPair;

beforeAll(async () => {
  edge = await startEdge();
  await createCluster(edge, NS, "c");
  const ca = await generateCA("kubernetes", { rsa: false });
  etcdCa = await generateCA("etcd-ca", { rsa: false });
  vip = new VipManager({ edgeUrl: edge.url, edgeToken: edge.token, host: "127.0.0.1", logger: createLogger({ level: "silent" }) });
  port = (await vip.open({ namespace: NS, name: "c", ca, etcdCa })).port;
}, 180_000);

afterAll(async () => {
  await vip?.closeAll();
  await edge?.stop();
});

/** One handshake; resolves to the served cert's CN (undefined when the handshake failed). */
function hello(servername: string, opts: tls.ConnectionOptions = {}): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false, ...opts }, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      s.destroy();
      resolve(cn === undefined ? undefined : String(cn));
    });
    s.once("error", () => resolve(undefined));
  });
}

describe("VIP: a flood of made-up etcd SNI names", () => {
  it("keeps at most ETCD_CERT_CACHE etcd certs, and the real member's name still verifies afterwards", async () => {
    for (let i = 0; i < 400; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => hello(`etcd-made-up-${i + j}`)));
    }
    const cached = vip.getClusterTls(NS, "c")!.etcdCertsCached;
    expect(cached).toBeGreaterThan(0);
    expect(cached).toBeLessThanOrEqual(ETCD_CERT_CACHE);

    const member = await issueCert(etcdCa, { commonName: "kube-apiserver-etcd-client", usage: "client" });
    const cn = await hello("etcd-cp-1", { rejectUnauthorized: true, ca: etcdCa.certPem, cert: member.certPem, key: member.keyPem });
    expect(cn).toBe("etcd-cp-1");
  });
});
