// SPDY/3 framing and header compression, checked against node:zlib (an independent zlib) where possible.
import { describe, expect, it } from "vitest";
import zlib from "node:zlib";
import {
  DeflateHeaderCompressor,
  HeaderDecompressor,
  SPDY3_DICTIONARY,
  SpdyParser,
  StoredHeaderCompressor,
  encodeData,
  encodePing,
  encodeRstStream,
  encodeSynStream,
  parseHeaders,
  serializeHeaders,
} from "../../controller/vip/portforward/spdy.js";

/** Inflate a sequence of sync-flushed blocks with node:zlib, block by block, in one context. */
function nodeInflateBlocks(blocks: Buffer[]): Buffer[] {
  const all = Buffer.concat(blocks);
  const out = zlib.inflateSync(all, { dictionary: Buffer.from(SPDY3_DICTIONARY), finishFlush: zlib.constants.Z_SYNC_FLUSH });
  // Split the concatenated output back into header blocks by their own length fields.
  const res: Buffer[] = [];
  let off = 0;
  while (off < out.length) {
    const start = off;
    const count = out.readUInt32BE(off);
    off += 4;
    for (let i = 0; i < count * 2; i++) off += 4 + out.readUInt32BE(off);
    res.push(out.subarray(start, off));
  }
  return res;
}

describe("SPDY/3 header compression", () => {
  it("the dictionary is the draft's 1,423 bytes starting with the length-prefixed 'options'", () => {
    expect(SPDY3_DICTIONARY.length).toBe(1423);
    expect(Buffer.from(SPDY3_DICTIONARY.subarray(0, 11)).toString("latin1")).toBe("\0\0\0\x07options");
    expect(Buffer.from(SPDY3_DICTIONARY.subarray(-6)).toString("latin1")).toBe("enq=0.");
  });

  for (const [label, make] of [
    ["stored", () => new StoredHeaderCompressor()],
    ["deflate", () => new DeflateHeaderCompressor()],
  ] as const) {
    it(`${label} blocks end with the sync-flush marker and node:zlib reads them in one context`, () => {
      const c = make();
      const h1 = { streamtype: "error", port: "2379", requestid: "0" };
      const h2 = {};
      const b1 = c.compress(h1);
      const b2 = c.compress(h2);
      for (const b of [b1, b2]) expect([...b.subarray(-4)]).toEqual([0x00, 0x00, 0xff, 0xff]);
      const [r1, r2] = nodeInflateBlocks([b1, b2]);
      expect(parseHeaders(r1)).toEqual(h1);
      expect(parseHeaders(r2)).toEqual(h2);
    });
  }

  it("the stored encoder adds the empty stored block after every block (Go's flate needs it)", () => {
    const c = new StoredHeaderCompressor();
    c.compress({ a: "b" });
    const second = c.compress({ a: "b" });
    expect([...second.subarray(-5)]).toEqual([0x00, 0x00, 0x00, 0xff, 0xff]);
    expect(second[0]).toBe(0x00); // no zlib header after the first block
  });

  it("inflates blocks produced by node:zlib with Z_SYNC_FLUSH, across blocks", async () => {
    const d = zlib.createDeflate({ dictionary: Buffer.from(SPDY3_DICTIONARY) });
    const chunks: Buffer[] = [];
    d.on("data", (c: Buffer) => chunks.push(c));
    const block = async (h: Record<string, string>) => {
      chunks.length = 0;
      d.write(serializeHeaders(h));
      await new Promise<void>((r) => d.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
      return Buffer.concat(chunks);
    };
    const inf = new HeaderDecompressor();
    expect(inf.decompress(await block({ streamtype: "data", port: "80", requestid: "7" }))).toEqual({ streamtype: "data", port: "80", requestid: "7" });
    expect(inf.decompress(await block({ streamtype: "data", port: "80", requestid: "8" }))).toEqual({ streamtype: "data", port: "80", requestid: "8" });
    d.close();
  });

  it("a wrong dictionary is detected", () => {
    const block = zlib.deflateSync(serializeHeaders({ a: "b" }), { dictionary: Buffer.from("not the spdy dictionary") });
    expect(() => new HeaderDecompressor().decompress(block)).toThrow();
  });
});

describe("SPDY/3 frame parser", () => {
  it("yields the same frames whatever the chunk boundaries (WebSocket messages cut frames anywhere)", () => {
    const c = new StoredHeaderCompressor();
    const bytes = Buffer.concat([
      encodeSynStream(1, c.compress({ streamtype: "error", port: "2379", requestid: "0" })),
      encodeData(1, Buffer.alloc(0), true),
      encodeSynStream(3, c.compress({ streamtype: "data", port: "2379", requestid: "0" })),
      encodeData(3, Buffer.from("hello"), false),
      encodePing(5),
      encodeRstStream(3, 5),
    ]);
    const whole = new SpdyParser().push(bytes);
    const p = new SpdyParser();
    const split = [...bytes].flatMap((b) => p.push(Buffer.from([b])));
    expect(split).toEqual(whole);
    expect(whole.map((f) => f.type)).toEqual(["syn_stream", "data", "syn_stream", "data", "ping", "rst_stream"]);
    expect(whole[2]).toMatchObject({ streamId: 3, headers: { streamtype: "data", port: "2379", requestid: "0" } });
    expect(whole[3]).toMatchObject({ streamId: 3, fin: false, data: Buffer.from("hello") });
    expect(whole[1]).toMatchObject({ streamId: 1, fin: true });
    expect(whole[4]).toEqual({ type: "ping", id: 5 });
    expect(whole[5]).toEqual({ type: "rst_stream", streamId: 3, status: 5 });
  });

  it("rejects a control frame of another SPDY version", () => {
    const f = encodePing(1);
    f.writeUInt16BE(0x8002, 0);
    expect(() => new SpdyParser().push(f)).toThrow(/version 2/);
  });
});
