// A DER writer for the few ASN.1 types an X.509 certificate of ours is made of (RFC 5280, X.690).
//
// Why hand-written: @peculiar/asn1-schema builds an object tree and walks it through asn1js to encode
// it, ~1.5 ms of CPU for one certificate; these functions write the same bytes in ~0.05 ms. The
// embedded default mints four certificates per cluster (two CAs, the admin client, the VIP's serving
// cert) on the process that also runs the controller, so that was a tenth of its CPU. Parsing stays
// with the library (x509.ts), and the unit tests check every certificate made here against the
// library's own encoding of it, byte for byte.

export type Der = Uint8Array;

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

/** One tag-length-value; the parts are the content, concatenated. */
export function tlv(tag: number, ...parts: Uint8Array[]): Der {
  let size = 0;
  for (const p of parts) size += p.length;
  const head = [tag, ...lengthBytes(size)];
  const out = new Uint8Array(head.length + size);
  out.set(head, 0);
  let at = head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const sequence = (...parts: Uint8Array[]): Der => tlv(0x30, ...parts);
export const set = (...parts: Uint8Array[]): Der => tlv(0x31, ...parts);
export const octetString = (bytes: Uint8Array): Der => tlv(0x04, bytes);
export const utf8String = (s: string): Der => tlv(0x0c, new TextEncoder().encode(s));
export const NULL: Der = Uint8Array.of(0x05, 0x00);
export const TRUE: Der = Uint8Array.of(0x01, 0x01, 0xff);

/** BIT STRING of whole bytes (keys, signatures). */
export const bitString = (bytes: Uint8Array): Der => tlv(0x03, Uint8Array.of(0), bytes);

/** Context-specific tag `[n]`: constructed (EXPLICIT, or IMPLICIT over a constructed type) or primitive (IMPLICIT). */
export const contextTag = (n: number, constructed: boolean, ...parts: Uint8Array[]): Der => tlv(0x80 | (constructed ? 0x20 : 0) | n, ...parts);

/** INTEGER from an unsigned big-endian magnitude: no redundant leading zeros, a zero byte where the top bit is set. */
export function unsignedInteger(magnitude: Uint8Array): Der {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const body = magnitude.subarray(start);
  return body.length && body[0] & 0x80 ? tlv(0x02, Uint8Array.of(0), body) : tlv(0x02, body.length ? body : Uint8Array.of(0));
}

export function smallInteger(n: number): Der {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new Error(`not a small non-negative integer: ${n}`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Uint8Array.from(bytes.length ? bytes : [0]));
}

const oids = new Map<string, Der>();

/** OBJECT IDENTIFIER from its dotted form (encoded once per OID). */
export function objectIdentifier(dotted: string): Der {
  const known = oids.get(dotted);
  if (known) return known;
  const arcs = dotted.split(".").map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new Error(`bad OID ${dotted}`);
  const bytes: number[] = [];
  for (const arc of [arcs[0] * 40 + arcs[1], ...arcs.slice(2)]) {
    const group = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) group.unshift(0x80 | (v & 0x7f));
    bytes.push(...group);
  }
  const der = tlv(0x06, Uint8Array.from(bytes));
  oids.set(dotted, der);
  return der;
}

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime after; whole seconds, UTC. */
export function time(d: Date): Der {
  const iso = new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "") + "Z"; // YYYYMMDDHHMMSSZ
  const year = d.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new Error(`certificate time out of range: ${iso}`);
  return year > 2049 ? tlv(0x18, ascii(digits)) : tlv(0x17, ascii(digits.slice(2)));
}

/** BIT STRING of a named bit list (bit 0 is the first byte's top bit), trailing zero bits dropped as DER requires. */
export function namedBits(bits: number[]): Der {
  const highest = Math.max(-1, ...bits);
  if (highest < 0) return Uint8Array.of(0x03, 0x01, 0x00);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const b of bits) bytes[b >> 3] |= 0x80 >> (b & 7);
  return tlv(0x03, Uint8Array.of(7 - (highest & 7)), bytes);
}

export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) throw new Error(`not ASCII: ${JSON.stringify(s)}`);
    out[i] = c;
  }
  return out;
}
