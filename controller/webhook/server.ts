// The controller's webhook server: HTTPS on --webhook-port with tls.crt/tls.key from --webhook-cert-dir
// (controller-runtime's flags and file names, so cert-manager's Secret mounts as for any provider),
// serving CRD conversion at POST /convert. The certificate is re-read when its files change, as
// cert-manager renews it in place.
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Counter } from "prom-client";
import type { Logger } from "../log.js";
import { BadReviewError, reviewConversion } from "./conversion-review.js";

/** Largest review accepted: a LIST of many objects at another version arrives as one review. */
const MAX_REVIEW_BYTES = 64 << 20;

export interface WebhookServer {
  port: number;
  close(): Promise<void>;
}

export async function startWebhookServer(o: {
  port: number;
  host?: string;
  certDir: string;
  log: Logger;
  requests?: Counter<"webhook" | "code">;
  /** Largest review body accepted (default 64 MiB). */
  maxReviewBytes?: number;
}): Promise<WebhookServer> {
  const maxBytes = o.maxReviewBytes ?? MAX_REVIEW_BYTES;
  const certFile = path.join(o.certDir, "tls.crt");
  const keyFile = path.join(o.certDir, "tls.key");
  const credentials = () => ({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
  const server: Server = createServer({ ...credentials(), minVersion: "TLSv1.2" }, (req, res) => {
    const reply = (code: number, body: unknown) => {
      o.requests?.inc({ webhook: "/convert", code: String(code) });
      res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    const status = (code: number, message: string) => reply(code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, code });
    if (req.url !== "/convert" && !req.url?.startsWith("/convert?")) return status(404, "not found: this server serves POST /convert");
    if (req.method !== "POST") return status(405, "method not allowed: POST a ConversionReview");
    const tooLarge = () => status(413, `request entity too large: limit is ${maxBytes} bytes`);
    if (Number(req.headers["content-length"]) > maxBytes) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= maxBytes) return void chunks.push(c);
      if (res.headersSent) return;
      tooLarge(); // a body without a length that outgrew the limit: answer, then drop the connection
      res.once("finish", () => req.destroy());
    });
    req.on("end", () => {
      if (res.headersSent) return;
      let review: unknown;
      try {
        review = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return status(400, "the body is not JSON");
      }
      try {
        const answer = reviewConversion(review);
        if (answer.response.result.status === "Failure") o.log.warn({ message: answer.response.result.message }, "conversion refused");
        reply(200, answer);
      } catch (e) {
        if (e instanceof BadReviewError) return status(400, e.message);
        o.log.error({ err: String(e) }, "conversion webhook failed");
        status(500, "internal error converting the objects");
      }
    });
  });
  const reload = () => {
    try {
      server.setSecureContext(credentials());
      o.log.info({ certDir: o.certDir }, "webhook serving certificate reloaded");
    } catch (e) {
      o.log.warn({ err: String(e) }, "webhook serving certificate not reloaded (keeping the previous one)");
    }
  };
  // Polling, not fs.watch: a Secret volume swaps a symlink, which inotify on the file itself misses.
  watchFile(certFile, { interval: 10_000 }, reload);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  o.log.info({ port, certDir: o.certDir }, "webhook server listening");
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        unwatchFile(certFile, reload);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
