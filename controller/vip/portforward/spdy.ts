// SPDY/3.1 framing for the pods/portforward tunnel (server side only).
//
// Hand-written on purpose: npm `spdy-transport` rejects client-go's SYN_STREAMs (no `:method`/`:path`)
// and enforces window accounting that moby/spdystream never feeds, so kubectl stalls. The framer is
// small: a streaming parser, a few encoders, and zlib header blocks with the SPDY/3 dictionary.
import { Deflate, Inflate } from "pako";

const Z_SYNC_FLUSH = 2;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;
export const RST_PROTOCOL_ERROR = 1;
export const RST_INVALID_STREAM = 2;
export const RST_REFUSED_STREAM = 3;
export const RST_CANCEL = 5;
/** Largest DATA payload we send per frame (the length field is 24 bits; small frames keep latency fair). */
export const MAX_DATA_FRAME = 64 * 1024;
/** Refuse absurd frames from a peer instead of buffering them (16 MiB is the 24-bit maximum anyway). */
const MAX_FRAME = 0xffffff;

// The SPDY/3 header dictionary (draft-mbelshe-httpbis-spdy-00 §2.6.10.1), 1,423 bytes: 64 u32-length-prefixed
// tokens followed by a run of plain text. Written as its parts so it is readable; must be byte-exact.
const DICT_TOKENS = [
  "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
  "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
  "content-base", "content-encoding", "content-language", "content-length", "content-location",
  "content-md5", "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host",
  "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified",
  "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
  "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via",
  "warning", "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
  "public", "set-cookie", "keep-alive", "origin",
];
const DICT_TAIL =
  "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
  "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized" +
  "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable" +
  "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
  "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain," +
  "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

export const SPDY3_DICTIONARY: Uint8Array = (() => {
  const parts: Buffer[] = [];
  for (const t of DICT_TOKENS) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(t.length);
    parts.push(len, Buffer.from(t, "latin1"));
  }
  parts.push(Buffer.from(DICT_TAIL, "latin1"));
  return new Uint8Array(Buffer.concat(parts));
})();

export type Headers = Record<string, string>;

export type Frame =
  | { type: "data"; streamId: number; fin: boolean; data: Buffer }
  | { type: "syn_stream"; streamId: number; assocId: number; fin: boolean; headers: Headers }
  | { type: "syn_reply"; streamId: number; fin: boolean; headers: Headers }
  | { type: "rst_stream"; streamId: number; status: number }
  | { type: "settings" }
  | { type: "ping"; id: number }
  | { type: "goaway"; lastGoodStreamId: number; status: number }
  | { type: "headers"; streamId: number; fin: boolean; headers: Headers }
  | { type: "window_update"; streamId: number; delta: number }
  | { type: "unknown"; frameType: number };

export class SpdyProtocolError extends Error {}

// ---- header blocks ------------------------------------------------------------------------------

/** Serialise a header block before compression: u32 count, then u32-length-prefixed names and values. */
export function serializeHeaders(headers: Headers): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    // Go's framer rejects uppercase names; multiple values would be NUL-separated (never needed here).
    const n = Buffer.from(name.toLowerCase(), "utf8");
    const v = Buffer.from(value, "utf8");
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function parseHeaders(block: Uint8Array): Headers {
  const b = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const out: Headers = {};
  if (b.length < 4) throw new SpdyProtocolError("header block too short");
  const count = b.readUInt32BE(0);
  let off = 4;
  for (let i = 0; i < count; i++) {
    const name = readString(b, off);
    off = name.next;
    const value = readString(b, off);
    off = value.next;
    out[name.value.toLowerCase()] = value.value;
  }
  return out;
}

function readString(b: Buffer, off: number): { value: string; next: number } {
  if (off + 4 > b.length) throw new SpdyProtocolError("truncated header block");
  const len = b.readUInt32BE(off);
  const end = off + 4 + len;
  if (end > b.length) throw new SpdyProtocolError("truncated header block");
  return { value: b.toString("utf8", off + 4, end), next: end };
}

/** One persistent inflater per session (SPDY's zlib context spans every header block of a direction). */
export class HeaderDecompressor {
  private readonly inflate = new Inflate({ dictionary: SPDY3_DICTIONARY });
  private out: Uint8Array[] = [];
  constructor() {
    this.inflate.onData = (chunk) => this.out.push(chunk);
  }
  /** Every block ends with a sync flush, so Z_SYNC_FLUSH yields all of it at once. */
  decompress(block: Uint8Array): Headers {
    this.out = [];
    if (block.length > 0) {
      this.inflate.push(block, Z_SYNC_FLUSH);
      if (this.inflate.err) throw new SpdyProtocolError(`header inflate failed: ${this.inflate.msg}`);
    }
    const raw = Buffer.concat(this.out);
    return raw.length === 0 ? {} : parseHeaders(raw);
  }
}

export interface HeaderCompressor {
  compress(headers: Headers): Buffer;
}

/** Real deflate (pako) with the dictionary; each block ends with Z_SYNC_FLUSH's `00 00 ff ff` marker. */
export class DeflateHeaderCompressor implements HeaderCompressor {
  private readonly deflate = new Deflate({ dictionary: SPDY3_DICTIONARY });
  private out: Uint8Array[] = [];
  constructor() {
    this.deflate.onData = (chunk) => this.out.push(chunk);
  }
  compress(headers: Headers): Buffer {
    this.out = [];
    this.deflate.push(serializeHeaders(headers), Z_SYNC_FLUSH);
    if (this.deflate.err) throw new Error(`header deflate failed: ${this.deflate.msg}`);
    return Buffer.concat(this.out);
  }
}

/**
 * A zero-compression zlib stream: header `78 bb` + adler32(dictionary) once, then per block a non-final
 * stored block followed by the EMPTY stored block `00 00 00 ff ff`. Go's compress/flate holds back the bytes
 * of a stored block until it sees the next block header, so without that trailer kubectl never sees the
 * SYN_REPLY ("lost connection to pod"); Node's and pako's inflaters do not catch this.
 */
export class StoredHeaderCompressor implements HeaderCompressor {
  private started = false;
  compress(headers: Headers): Buffer {
    const raw = serializeHeaders(headers);
    const parts: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      parts.push(Buffer.from([0x78, 0xbb]), u32(adler32(SPDY3_DICTIONARY)));
    }
    for (let off = 0; off < raw.length; off += 0xffff) {
      const chunk = raw.subarray(off, off + 0xffff);
      const hdr = Buffer.alloc(5);
      hdr[0] = 0x00; // BFINAL=0, BTYPE=00 (stored)
      hdr.writeUInt16LE(chunk.length, 1);
      hdr.writeUInt16LE(~chunk.length & 0xffff, 3);
      parts.push(hdr, chunk);
    }
    parts.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(parts);
  }
}

export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

// ---- frame encoders -----------------------------------------------------------------------------

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME) throw new Error("SPDY control frame too large");
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8003, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(payload.length, 4);
  h[4] = flags;
  return Buffer.concat([h, payload]);
}

/** The DATA frame header only, so large payloads are written without copying. */
export function dataFrameHeader(streamId: number, length: number, fin: boolean): Buffer {
  if (length > MAX_FRAME) throw new Error("SPDY data frame too large");
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(length, 4);
  h[4] = fin ? FLAG_FIN : 0;
  return h;
}

export function encodeData(streamId: number, data: Uint8Array, fin: boolean): Buffer {
  return Buffer.concat([dataFrameHeader(streamId, data.length, fin), data]);
}

export function encodeSynReply(streamId: number, block: Buffer, fin = false): Buffer {
  return controlFrame(FrameType.SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([u32(streamId & 0x7fffffff), block]));
}

/** Only used by tests (a client-side SYN_STREAM); the server never opens streams. */
export function encodeSynStream(streamId: number, block: Buffer, fin = false): Buffer {
  const p = Buffer.alloc(10);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  return controlFrame(FrameType.SYN_STREAM, fin ? FLAG_FIN : 0, Buffer.concat([p, block]));
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return controlFrame(FrameType.RST_STREAM, 0, Buffer.concat([u32(streamId & 0x7fffffff), u32(status)]));
}

export function encodePing(id: number): Buffer {
  return controlFrame(FrameType.PING, 0, u32(id));
}

export function encodeGoaway(lastGoodStreamId: number, status = 0): Buffer {
  return controlFrame(FrameType.GOAWAY, 0, Buffer.concat([u32(lastGoodStreamId & 0x7fffffff), u32(status)]));
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

// ---- streaming parser ---------------------------------------------------------------------------

/**
 * Incremental frame parser: push() any byte chunks (WebSocket messages cut SPDY frames anywhere) and get
 * whole frames back. Every header block goes through the one inflater, HEADERS included, so the zlib
 * context stays in step even for blocks we ignore.
 */
export class SpdyParser {
  private buf: Buffer = Buffer.alloc(0);
  private readonly inflater = new HeaderDecompressor();

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    while (this.buf.length >= 8) {
      const length = this.buf.readUInt32BE(4) & 0xffffff;
      if (this.buf.length < 8 + length) break;
      const head = this.buf.subarray(0, 8);
      const payload = this.buf.subarray(8, 8 + length);
      this.buf = this.buf.subarray(8 + length);
      frames.push(this.decode(head, payload));
    }
    return frames;
  }

  private decode(head: Buffer, payload: Buffer): Frame {
    const flags = head[4];
    const fin = (flags & FLAG_FIN) !== 0;
    if ((head[0] & 0x80) === 0) {
      return { type: "data", streamId: head.readUInt32BE(0) & 0x7fffffff, fin, data: payload };
    }
    const version = head.readUInt16BE(0) & 0x7fff;
    if (version !== 3) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
    const type = head.readUInt16BE(2);
    const need = (n: number) => {
      if (payload.length < n) throw new SpdyProtocolError(`control frame ${type} too short`);
    };
    switch (type) {
      case FrameType.SYN_STREAM:
        need(10);
        return {
          type: "syn_stream",
          streamId: payload.readUInt32BE(0) & 0x7fffffff,
          assocId: payload.readUInt32BE(4) & 0x7fffffff,
          fin,
          headers: this.inflater.decompress(payload.subarray(10)),
        };
      case FrameType.SYN_REPLY:
        need(4);
        return { type: "syn_reply", streamId: payload.readUInt32BE(0) & 0x7fffffff, fin, headers: this.inflater.decompress(payload.subarray(4)) };
      case FrameType.HEADERS:
        need(4);
        return { type: "headers", streamId: payload.readUInt32BE(0) & 0x7fffffff, fin, headers: this.inflater.decompress(payload.subarray(4)) };
      case FrameType.RST_STREAM:
        need(8);
        return { type: "rst_stream", streamId: payload.readUInt32BE(0) & 0x7fffffff, status: payload.readUInt32BE(4) };
      case FrameType.SETTINGS:
        return { type: "settings" };
      case FrameType.PING:
        need(4);
        return { type: "ping", id: payload.readUInt32BE(0) };
      case FrameType.GOAWAY:
        need(4);
        return {
          type: "goaway",
          lastGoodStreamId: payload.readUInt32BE(0) & 0x7fffffff,
          status: payload.length >= 8 ? payload.readUInt32BE(4) : 0,
        };
      case FrameType.WINDOW_UPDATE:
        need(8);
        return { type: "window_update", streamId: payload.readUInt32BE(0) & 0x7fffffff, delta: payload.readUInt32BE(4) & 0x7fffffff };
      default:
        return { type: "unknown", frameType: type };
    }
  }
}
