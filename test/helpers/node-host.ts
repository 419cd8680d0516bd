// Serves an ApiServer over node:http on 127.0.0.1 (random port) so real clients (kubectl,
// @kubernetes/client-node) can talk to it in tests without the Durable Object host.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { MemoryPersistence } from "../../durable-objects/apiserver/memory-persistence.js";
import { ApiServer } from "../../durable-objects/apiserver/server.js";
import type { ApiServerOptions } from "../../durable-objects/apiserver/types.js";

function toRequest(req: IncomingMessage, base: string): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else headers.set(k, v);
  }
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(new URL(req.url ?? "/", base), {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    // Node's fetch Request needs duplex for streamed bodies.
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}

async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  res.on("close", stop);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise<void>((r) => res.once("drain", r).once("close", r));
    }
  } catch {
    // stream cancelled
  } finally {
    res.off("close", stop);
    res.end();
  }
}

export async function serveApiServer(api: ApiServer): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const base = `http://${req.headers.host ?? "127.0.0.1"}`;
    let request: Request;
    try {
      request = toRequest(req, base);
    } catch {
      res.writeHead(400).end();
      return;
    }
    api
      .handle(request)
      .then((response) => writeResponse(res, response))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// In-process helpers for the apiserver unit tests: drive ApiServer.handle with real Request objects.

export function newServer(opts: Partial<ApiServerOptions> = {}) {
  const persistence = (opts.persistence as MemoryPersistence | undefined) ?? new MemoryPersistence();
  const api = new ApiServer({ watchHeartbeatMs: 60_000, ...opts, persistence });
  return { api, persistence };
}

export interface Call {
  status: number;
  body: any;
  headers: Headers;
}

export async function call(
  api: ApiServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Call> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    if (!("content-type" in headers)) (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const res = await api.handle(new Request(`http://cluster.local${path}`, init));
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (e.g. discovery text)
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export const cm = (name: string, data: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, ...extra },
  data,
});

/** Read NDJSON watch events from a streaming response until `n` events arrived (or the stream ended). */
export async function readEvents(res: Response, n: number): Promise<any[]> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = "";
  const out: any[] = [];
  while (out.length < n) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) out.push(JSON.parse(line));
    }
  }
  reader.releaseLock();
  return out;
}
