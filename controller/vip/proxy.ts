// Streaming reverse proxy from a VIP (HTTP/1.1 or HTTP/2 compat request) to the edge:
// `<edgeUrl>/clusters/<ns>/<name><path>?<query>` with the controller's bearer token. Bodies are piped both
// ways chunk by chunk (watches stream), through one keep-alive agent shared by every cluster.
import http, { STATUS_CODES } from "node:http";
import https from "node:https";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Duplex } from "node:stream";
import { statusBody as contractStatusBody } from "../../edge-contract/status.js";

export type VipRequest = http.IncomingMessage | Http2ServerRequest;
export type VipResponse = http.ServerResponse | Http2ServerResponse;

/** Kubernetes `Status` failure body as JSON text, the error shape every Kubernetes client understands. */
export function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify(contractStatusBody(code, reason, message));
}

/** A `Status` as a whole HTTP/1.1 response on a raw socket (refused upgrades, framing errors), then close. */
export function writeStatusToSocket(socket: Duplex, code: number, reason: string, message: string): void {
  if (socket.destroyed) return;
  const body = statusBody(code, reason, message);
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? "Error"}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export function sendStatus(res: VipResponse, code: number, reason: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = statusBody(code, reason, message);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

// Hop-by-hop headers (RFC 9110 §7.6.1) plus the ones HTTP/2 forbids (RFC 9113 §8.2.2) and `host`, which the
// agent sets for the edge. Client-sent identity headers are dropped so nobody can spoof x-remote-user.
const DROP_REQUEST = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
  "transfer-encoding", "upgrade", "host", "http2-settings", "expect", "authorization",
  "x-remote-user", "x-remote-group", "x-remote-extra",
]);
const DROP_RESPONSE = new Set([
  "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
  "transfer-encoding", "upgrade", "http2-settings",
]);

function filterHeaders(
  headers: http.IncomingHttpHeaders,
  drop: Set<string>,
): Record<string, string | string[]> {
  const listed = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || k.startsWith(":") || drop.has(k) || listed.has(k)) continue;
    out[k] = v;
  }
  return out;
}

export interface EdgeTarget {
  url: URL;
  token: string;
  agent: http.Agent;
}

/** One keep-alive agent per edge: many clusters, many requests, and long-lived watches (no socket cap). */
export function createEdgeTarget(edgeUrl: string, token: string): EdgeTarget {
  const url = new URL(edgeUrl.replace(/\/+$/, ""));
  const Agent = url.protocol === "https:" ? https.Agent : http.Agent;
  return { url, token, agent: new Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: "lifo" }) };
}

/**
 * A request path is forwarded only if it cannot climb out of `/clusters/<ns>/<name>`: the edge's URL parser
 * would resolve `.`/`..` segments (also percent-encoded) into another cluster's prefix.
 */
export function safeRequestPath(url: string | undefined): string | undefined {
  if (!url || !url.startsWith("/") || url.startsWith("//")) return undefined;
  const path = url.split("?")[0];
  for (const seg of path.split("/")) {
    let d: string;
    try {
      d = decodeURIComponent(seg);
    } catch {
      return undefined;
    }
    if (d === "." || d === ".." || d.includes("/") || d.includes("\\")) return undefined;
  }
  return url;
}

export interface ProxyIdentity {
  user: string;
  groups: string[];
}

/**
 * Forwards one request. `done(code)` is called once when the exchange is over (finished, failed or aborted by
 * either side), with the status sent to the client (0 if none was).
 */
export function proxyToEdge(
  edge: EdgeTarget,
  clusterPrefix: string,
  req: VipRequest,
  res: VipResponse,
  who: ProxyIdentity,
  done: (code: number, err?: Error) => void,
  opts: { watch?: boolean; timeoutMs?: number } = {},
): void {
  let finished = false;
  const finish = (code: number, err?: Error) => {
    if (!finished) {
      finished = true;
      done(code, err);
    }
  };
  const headers = filterHeaders(req.headers, DROP_REQUEST);
  // A compressed watch is held back by the compressor until it fills a block (workerd gzips when asked),
  // so events would not arrive one by one: watches travel uncompressed, as kube-apiserver sends them.
  if (opts.watch) delete headers["accept-encoding"];
  headers.authorization = `Bearer ${edge.token}`;
  headers["x-remote-user"] = who.user;
  if (who.groups.length) headers["x-remote-group"] = who.groups;

  const upstream = (edge.url.protocol === "https:" ? https : http).request({
    protocol: edge.url.protocol,
    hostname: edge.url.hostname.replace(/^\[|\]$/g, ""),
    port: edge.url.port,
    method: req.method,
    path: `${edge.url.pathname === "/" ? "" : edge.url.pathname}${clusterPrefix}${req.url}`,
    headers,
    agent: edge.agent,
  });

  // kube-apiserver's --request-timeout: a request (not a watch) that the edge has not answered in time
  // gets a 504 Status, so a slow or stuck edge never leaves CAPI's clients hanging; the edge may still
  // complete it, as kube-apiserver may ("may still be processing the request").
  const timer =
    opts.timeoutMs && !opts.watch
      ? setTimeout(() => {
          if (res.headersSent || finished) return;
          upstream.destroy();
          sendStatus(res, 504, "Timeout", `the server was unable to return a response in the time allotted (${opts.timeoutMs! / 1000}s), but may still be processing the request`);
          finish(504, new Error("edge request timed out"));
        }, opts.timeoutMs)
      : undefined;
  upstream.on("close", () => clearTimeout(timer));

  upstream.on("response", (up) => {
    clearTimeout(timer);
    if (finished) return up.resume();
    const code = up.statusCode ?? 502;
    res.writeHead(code, filterHeaders(up.headers, DROP_RESPONSE));
    // Send the headers now: a watch client waits for them before it counts the watch as established.
    (res as { flushHeaders(): void }).flushHeaders(); // exists on both; @types/node omits it for HTTP/2
    up.on("error", (err) => {
      res.destroy();
      finish(code, err);
    });
    up.on("close", () => {
      if (!up.complete) res.destroy(); // the edge cut the stream: let the client see a broken response
    });
    res.on("finish", () => finish(code));
    (up as NodeJS.ReadableStream).pipe(res as unknown as NodeJS.WritableStream);
  });

  upstream.on("error", (err) => {
    if (finished) return; // e.g. destroyed by the timeout, which already answered
    if (res.headersSent) {
      res.destroy();
      finish(res.statusCode, err);
    } else if (!finished) {
      sendStatus(res, 503, "ServiceUnavailable", `edge unreachable: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
      finish(503, err);
    }
  });

  // The client went away (watch stopped, request cancelled): cancel the edge request so the edge ends its stream.
  res.on("close", () => {
    if (!res.writableFinished) {
      upstream.destroy();
      finish(res.headersSent ? res.statusCode : 0);
    }
  });

  (req as NodeJS.ReadableStream).pipe(upstream);
}
