// HTTP/1.1 framing errors at a VIP, sent over raw TLS as a hostile client would: each gets a 400 Kubernetes
// Status and a closed connection, nothing reaches the edge, and the VIP keeps serving well-formed requests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import tls from "node:tls";
import { startEdge, type Edge } from "../../controller/local/edge.js";
import { createLogger } from "../../controller/log.js";
import { generateCA, issueCert, type CertKeyPair } from "../../controller/pki/index.js";
import { VipManager } from "../../controller/vip/index.js";
import { createCluster } from "../helpers/edge.js";

const NS = "framing";
let edge: Edge;
let vip: VipManager;
let port: number;
let ca: CertKeyPair;
let client: CertKeyPair;

beforeAll(async () => {
  edge = await startEdge();
  await createCluster(edge, NS, "c");
  ca = await generateCA("kubernetes", { rsa: false });
  client = await issueCert(ca, { commonName: "kubernetes-admin", organization: ["system:masters"], usage: "client" });
  vip = new VipManager({ edgeUrl: edge.url, edgeToken: edge.token, host: "127.0.0.1", logger: createLogger({ level: "silent" }) });
  port = (await vip.open({ namespace: NS, name: "c", ca })).port;
}, 180_000);

afterAll(async () => {
  await vip?.closeAll();
  await edge?.stop();
});

/** Writes `raw` over TLS (HTTP/1.1 by ALPN) and resolves with everything read until the server closes. */
function exchange(raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem, cert: client.certPem, key: client.keyPem, servername: "localhost", ALPNProtocols: ["http/1.1"] }, () => s.write(raw));
    let text = "";
    s.on("data", (b: Buffer) => (text += b.toString()));
    s.on("close", () => resolve(text));
    s.on("error", reject);
    s.setTimeout(20_000, () => s.destroy(new Error(`no close after ${JSON.stringify(raw.slice(0, 60))}`)));
  });
}

const BAD: Record<string, string> = {
  "two Content-Lengths": "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
  "a bad chunk size": "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
  "obs-fold": "GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
  "Content-Length with Transfer-Encoding": "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "a space in the header name": "GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
  "a non-numeric Content-Length": "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
};

describe("VIP: malformed HTTP/1.1", () => {
  for (const [what, raw] of Object.entries(BAD)) {
    it(`${what}: 400 Status, connection closed`, async () => {
      const text = await exchange(raw);
      expect(text).toMatch(/^HTTP\/1\.1 400 /);
      const body = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
      expect(body).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", code: 400, reason: "BadRequest" });
    });
  }

  it("still serves a well-formed request, and nothing malformed was stored", async () => {
    const text = await exchange("GET /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    const list = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, ""));
    expect(list.items ?? []).toEqual([]);
  });
});
