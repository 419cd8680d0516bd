// Unary gRPC over node:http2, written by hand: the bridge serves five unary RPCs on TLS sockets that arrive
// through a port-forward tunnel, and node:http2 can serve any Duplex via `emit('connection')`. @grpc/grpc-js
// could too (connection injector) but allows one credential per injector and is a much heavier dependency.
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";

export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  FAILED_PRECONDITION: 9,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

export class GrpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface UnaryCall {
  path: string;
  authority: string | undefined;
  /** Aborted when the client cancels, the stream closes, or its grpc-timeout passes. */
  signal: AbortSignal;
}

export type UnaryHandler = (request: Uint8Array, call: UnaryCall) => Promise<Uint8Array>;

const MAX_REQUEST = 4 * 1024 * 1024; // gRPC's default max receive size

/** gRPC percent-encoding: only `%` and bytes outside 0x20-0x7E (encodeURIComponent over-encodes `:` etc.). */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25 ? "%" + byte.toString(16).toUpperCase().padStart(2, "0") : String.fromCharCode(byte);
  }
  return out;
}

export function decodeGrpcMessage(encoded: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const m = encoded[i] === "%" ? /^[0-9a-fA-F]{2}$/.exec(encoded.slice(i + 1, i + 3)) : null;
    if (m) {
      bytes.push(parseInt(m[0], 16));
      i += 2;
    } else bytes.push(encoded.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes).toString("utf8");
}

/** `grpc-timeout` (e.g. "4999m", "5S") in milliseconds. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  const m = /^(\d{1,8})([HMSmun])$/.exec(value ?? "");
  if (!m) return undefined;
  const n = Number(m[1]);
  const unitMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };
  return n * unitMs[m[2]];
}

export function frameMessage(message: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** Trailers-only error response (a single HEADERS frame with END_STREAM), as gRPC specifies. */
export function respondError(stream: ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close();
    return;
  }
  stream.respond(
    { ":status": 200, "content-type": "application/grpc", "grpc-status": String(code), "grpc-message": encodeGrpcMessage(message) },
    { endStream: true },
  );
}

/** Serve one HTTP/2 stream as a unary gRPC call routed by `:path`. */
export function serveUnary(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, handlers: ReadonlyMap<string, UnaryHandler>): void {
  stream.on("error", () => {}); // a client reset is normal (cancel, deadline); nothing to report
  const path = String(headers[":path"] ?? "");
  const contentType = String(headers["content-type"] ?? "");
  if (headers[":method"] !== "POST" || !contentType.startsWith("application/grpc")) {
    if (!stream.headersSent) stream.respond({ ":status": 415, "content-type": "text/plain" });
    stream.end("gRPC requests only (POST, content-type application/grpc)\n");
    return;
  }
  const handler = handlers.get(path);
  if (!handler) {
    respondError(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${path.split("/").pop()} for service ${path.split("/")[1] ?? ""}`);
    return;
  }

  const abort = new AbortController();
  const timeoutMs = parseGrpcTimeout(headers["grpc-timeout"] as string | undefined);
  const timer = timeoutMs !== undefined ? setTimeout(() => abort.abort(new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, "context deadline exceeded")), timeoutMs) : undefined;
  timer?.unref();
  stream.on("close", () => {
    clearTimeout(timer);
    abort.abort(new GrpcError(GrpcStatus.CANCELLED, "context canceled"));
  });

  const chunks: Buffer[] = [];
  let size = 0;
  stream.on("data", (c: Buffer) => {
    size += c.length;
    if (size > MAX_REQUEST + 5) {
      respondError(stream, GrpcStatus.RESOURCE_EXHAUSTED, `grpc: received message larger than max (${size} vs. ${MAX_REQUEST})`);
      stream.removeAllListeners("data");
      stream.resume();
    } else chunks.push(c);
  });
  stream.on("end", () => {
    if (stream.closed || stream.headersSent) return;
    const body = Buffer.concat(chunks);
    if (body.length < 5 || body.length !== 5 + body.readUInt32BE(1)) {
      return respondError(stream, GrpcStatus.INTERNAL, "grpc: expected exactly one length-prefixed request message");
    }
    if (body[0] !== 0) return respondError(stream, GrpcStatus.UNIMPLEMENTED, "grpc: compressed requests are not supported");
    handler(body.subarray(5), { path, authority: headers[":authority"] as string | undefined, signal: abort.signal })
      .then((reply) => {
        if (stream.closed || stream.destroyed) return;
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(frameMessage(reply));
      })
      .catch((err: unknown) => {
        if (err instanceof GrpcError) respondError(stream, err.code, err.message);
        else respondError(stream, GrpcStatus.UNKNOWN, err instanceof Error ? err.message : String(err));
      });
  });
}
