// A server-side SPDY/3.1 session for pods/portforward: pairs the client's error and data streams by
// `requestid` and hands each pair to the caller as a Duplex. No flow control (moby/spdystream never sends
// WINDOW_UPDATE, so honouring the 64 KiB window would stall); back-pressure comes from TCP instead.
import { Duplex } from "node:stream";
import { EventEmitter } from "node:events";
import {
  DeflateHeaderCompressor,
  MAX_DATA_FRAME,
  RST_PROTOCOL_ERROR,
  SpdyParser,
  StoredHeaderCompressor,
  dataFrameHeader,
  encodeData,
  encodeGoaway,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  type Frame,
  type HeaderCompressor,
  type Headers,
} from "./spdy.js";

export interface PortForwardPair {
  requestId: string;
  port: number;
  /** The forwarded connection: what the client's local socket sends is readable, writes go back to it. */
  data: Duplex;
  /** Write `message` (if any) to the error stream, then FIN it. kubectl waits for this FIN per connection. */
  finishError(message?: string): void;
}

export interface SpdySessionOptions {
  onPair(pair: PortForwardPair): void;
  /** "deflate" (pako, default) or "stored" (no compression); both end every block with a sync flush. */
  headerEncoding?: "deflate" | "stored";
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

interface StreamState {
  id: number;
  kind: "error" | "data";
  requestId: string;
  port: number;
  remoteFin: boolean;
  localFin: boolean;
  data?: DataStream;
}

export class SpdySession extends EventEmitter {
  private readonly parser = new SpdyParser();
  private readonly compressor: HeaderCompressor;
  private readonly streams = new Map<number, StreamState>();
  private readonly pending = new Map<string, { error?: StreamState; data?: StreamState }>();
  private readonly blocked = new Set<DataStream>();
  private lastStreamId = 0;
  private goingAway = false;
  closed = false;

  constructor(
    private readonly transport: Duplex,
    head: Buffer | undefined,
    private readonly opts: SpdySessionOptions,
  ) {
    super();
    this.compressor = opts.headerEncoding === "stored" ? new StoredHeaderCompressor() : new DeflateHeaderCompressor();
    transport.on("data", (chunk: Buffer) => this.onBytes(chunk));
    transport.on("end", () => this.close());
    transport.on("close", () => this.close());
    transport.on("error", (err) => {
      this.opts.log?.("spdy transport error", { err: String(err) });
      this.close();
    });
    if (head && head.length > 0) this.onBytes(head);
  }

  /** Tear the session down: every stream is destroyed and the transport closed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.data?.destroy();
    this.streams.clear();
    this.pending.clear();
    this.transport.destroy();
    this.emit("close");
  }

  private onBytes(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (err) {
      this.opts.log?.("spdy protocol error", { err: String(err) });
      this.write(encodeGoaway(this.lastStreamId, RST_PROTOCOL_ERROR));
      this.close();
      return;
    }
    for (const f of frames) this.onFrame(f);
  }

  private onFrame(f: Frame): void {
    switch (f.type) {
      case "syn_stream":
        return this.onSynStream(f.streamId, f.headers, f.fin);
      case "data": {
        const s = this.streams.get(f.streamId);
        if (!s) return; // late frames for a stream we already closed
        if (f.data.length > 0 && s.data) s.data.deliver(f.data);
        if (f.fin) this.onRemoteFin(s);
        return;
      }
      case "rst_stream": {
        const s = this.streams.get(f.streamId);
        if (!s) return;
        this.streams.delete(s.id);
        s.localFin = s.remoteFin = true; // nothing more may be sent on a reset stream
        s.data?.destroy();
        return;
      }
      case "ping":
        // Odd ids are the client's; even ids would answer our own pings, which we never send.
        if (f.id % 2 === 1) this.write(encodePing(f.id));
        return;
      case "goaway":
        this.goingAway = true;
        if (this.streams.size === 0) this.close();
        return;
      case "headers": // inflated by the parser (keeps zlib in step), otherwise ignored
      case "settings":
      case "window_update":
      case "syn_reply":
      case "unknown":
        return;
    }
  }

  private onSynStream(id: number, headers: Headers, fin: boolean): void {
    this.lastStreamId = Math.max(this.lastStreamId, id);
    // Every SYN_STREAM gets a SYN_REPLY before anything else on that stream: spdystream's CreateStream
    // waits for it (30 s timeout) and drops DATA that arrives before it.
    this.write(encodeSynReply(id, this.compressor.compress({})));
    const kind = headers["streamtype"];
    const requestId = headers["requestid"] ?? "";
    const port = Number(headers["port"]);
    if (this.goingAway || (kind !== "error" && kind !== "data") || !Number.isInteger(port) || port <= 0 || port > 65535) {
      this.opts.log?.("refusing spdy stream", { id, headers });
      this.write(encodeRstStream(id, RST_PROTOCOL_ERROR));
      return;
    }
    const s: StreamState = { id, kind, requestId, port, remoteFin: false, localFin: false };
    this.streams.set(id, s);
    if (kind === "data") s.data = new DataStream(this, s);
    if (fin) this.onRemoteFin(s);

    const p = this.pending.get(requestId) ?? {};
    if (p[kind]) {
      // A second stream of the same kind for a request id: the old one is orphaned; replace it.
      this.opts.log?.("duplicate spdy stream for request", { requestId, kind });
    }
    p[kind] = s;
    this.pending.set(requestId, p);
    if (p.error && p.data) {
      this.pending.delete(requestId);
      const errorStream = p.error;
      const dataStream = p.data;
      this.opts.onPair({
        requestId,
        port: dataStream.port,
        data: dataStream.data!,
        finishError: (message) => this.finishError(errorStream, message),
      });
    }
  }

  private onRemoteFin(s: StreamState): void {
    if (s.remoteFin) return;
    s.remoteFin = true;
    s.data?.deliver(null);
    this.maybeForget(s);
  }

  private finishError(s: StreamState, message?: string): void {
    if (s.localFin || this.closed) return;
    s.localFin = true;
    this.write(encodeData(s.id, message ? Buffer.from(message, "utf8") : Buffer.alloc(0), true));
    this.maybeForget(s);
  }

  private maybeForget(s: StreamState): void {
    if (s.localFin && s.remoteFin) this.streams.delete(s.id);
    if (this.goingAway && this.streams.size === 0) this.close();
  }

  // ---- used by DataStream ----

  write(buf: Buffer): boolean {
    if (this.closed) return false;
    return this.transport.write(buf);
  }

  /** Send `chunk` as DATA frames; `cb` runs once the transport has accepted it (TCP back-pressure). */
  sendData(s: StreamState, chunk: Buffer, cb: (err?: Error | null) => void): void {
    if (this.closed || s.localFin) return cb(new Error("spdy stream closed"));
    let ok = true;
    for (let off = 0; off < chunk.length; off += MAX_DATA_FRAME) {
      const part = chunk.subarray(off, off + MAX_DATA_FRAME);
      // One write per frame: over the WebSocket tunnel each write becomes one binary message.
      ok = this.transport.write(Buffer.concat([dataFrameHeader(s.id, part.length, false), part]));
    }
    if (ok) return cb();
    const done = () => {
      this.transport.off("drain", done);
      this.transport.off("close", done);
      cb(this.closed ? new Error("spdy session closed") : null);
    };
    this.transport.on("drain", done);
    this.transport.on("close", done);
  }

  sendFin(s: StreamState): void {
    if (s.localFin || this.closed) return;
    s.localFin = true;
    this.write(encodeData(s.id, Buffer.alloc(0), true));
    this.maybeForget(s);
  }

  block(d: DataStream): void {
    this.blocked.add(d);
    this.transport.pause();
  }

  unblock(d: DataStream): void {
    if (!this.blocked.delete(d)) return;
    if (this.blocked.size === 0 && !this.closed) this.transport.resume();
  }
}

/** The data stream of a pair as a Node Duplex. */
class DataStream extends Duplex {
  constructor(
    private readonly session: SpdySession,
    private readonly state: StreamState,
  ) {
    // A full buffer pauses the whole session (all streams share one socket), so allow a generous buffer
    // per stream before applying that backpressure: a slow or not-yet-attached reader of one tunnel
    // (e.g. while its target is being looked up) must not stall the session's other connections.
    super({ allowHalfOpen: true, readableHighWaterMark: 4 * 1024 * 1024 });
  }

  deliver(chunk: Buffer | null): void {
    if (this.destroyed) return;
    // A push after EOF destroys the stream; a destroyed stream is never read again, so it must not pause the session.
    if (!this.push(chunk) && chunk !== null && !this.destroyed) this.session.block(this);
  }

  override _read(): void {
    this.session.unblock(this);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.session.sendData(this.state, chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.session.sendFin(this.state);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.session.unblock(this);
    // Half-close towards the client rather than resetting: kubectl treats a FIN as a clean EOF.
    this.session.sendFin(this.state);
    cb(err);
  }
}
