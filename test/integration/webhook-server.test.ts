// The controller's conversion webhook server over real TLS, as kube-apiserver calls it: a review in, a
// review out; hostile requests (other paths and methods, non-JSON, not a review, over the size limit) get a Status
// with a 4xx and the server keeps serving; a renewed certificate in the cert dir is picked up.
import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCA, issueCert } from "../../controller/pki/index.js";
import { startWebhookServer, type WebhookServer } from "../../controller/webhook/server.js";
import { tempDir } from "../helpers/edge.js";
import { until } from "../helpers/wait.js";

describe("conversion webhook server", () => {
  let server: WebhookServer;
  let caPem: string;
  let certDir: string;

  const post = (body: string | Buffer, o: { path?: string; method?: string; ca?: string } = {}) =>
    new Promise<{ status: number; json: any; issuer: string }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: server.port, path: o.path ?? "/convert", method: o.method ?? "POST", ca: o.ca ?? caPem, headers: { "content-type": "application/json" } }, (res) => {
        const issuer = String((res.socket as TLSSocket).getPeerCertificate().issuer?.CN ?? "");
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          try {
            resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : undefined, issuer });
          } catch (e) {
            reject(new Error(`${res.statusCode}: ${text.slice(0, 200)} (${e})`));
          }
        });
      });
      req.on("error", reject);
      req.end(body);
    });

  const writeServing = async (caName: string) => {
    const ca = await generateCA(caName, { rsa: false });
    const serving = await issueCert(ca, { commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server" });
    writeFileSync(path.join(certDir, "tls.crt"), serving.certPem);
    writeFileSync(path.join(certDir, "tls.key"), serving.keyPem);
    return ca.certPem;
  };

  beforeAll(async () => {
    certDir = path.join(tempDir("capim-webhook-"), "certs");
    mkdirSync(certDir, { recursive: true });
    caPem = await writeServing("webhook-ca-1");
    server = await startWebhookServer({ port: 0, host: "127.0.0.1", certDir, log: pino({ level: "silent" }), maxReviewBytes: 1 << 20 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("converts a DevCluster review", async () => {
    const r = await post(JSON.stringify({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "ConversionReview",
      request: { uid: "abc", desiredAPIVersion: "infrastructure.cluster.x-k8s.io/v1beta1", objects: [{ apiVersion: "infrastructure.cluster.x-k8s.io/v1beta2", kind: "DevCluster", metadata: { name: "c" }, spec: { backend: { inMemory: {} } }, status: { initialization: { provisioned: true } } }] },
    }));
    expect(r.status).toBe(200);
    expect(r.json.response).toMatchObject({ uid: "abc", result: { status: "Success" } });
    expect(r.json.response.convertedObjects[0]).toMatchObject({ apiVersion: "infrastructure.cluster.x-k8s.io/v1beta1", status: { ready: true } });
  });

  it.each([
    ["another path", "{}", { path: "/mutate" }, 404],
    ["GET", "", { method: "GET" }, 405],
    ["not JSON", "{", {}, 400],
    ["not a review", JSON.stringify({ kind: "AdmissionReview" }), {}, 400],
    ["oversized", Buffer.alloc(2 << 20, 0x20), {}, 413],
  ] as const)("answers %s with a Status of the code given", async (_what, body, o, code) => {
    const r = await post(body, o);
    expect(r.status).toBe(code);
    expect(r.json).toMatchObject({ kind: "Status", code });
  });

  it("picks up a renewed certificate from the cert dir", async () => {
    const renewed = await writeServing("webhook-ca-2");
    const r = await until(async () => {
      try {
        return await post(JSON.stringify({}), { ca: renewed });
      } catch {
        return undefined; // still the old certificate
      }
    }, "the renewed certificate served", 60_000);
    expect(r.issuer).toBe("webhook-ca-2");
    caPem = renewed;
  });
});
