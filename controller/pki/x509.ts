// X.509 certificates (RFC 5280) as node-forge ASN.1 structures, signed with node:crypto. node-forge's
// pki encodes certificates only for RSA subject keys and signs in JavaScript (~41 ms with an RSA key),
// while our leaves carry ECDSA P-256 keys and signing must stay native; so the certificate is assembled
// here from forge's asn1 module in RFC 5280's field order, and node:crypto makes keys and signatures.
// Certificates are read back only for a CA minted elsewhere (CAPI's `<cluster>-ca`).
import forge from "node-forge";
import { createHash, randomBytes, type KeyObject } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import { signatureAlgorithm, signSha256, spkiDer } from "./keys.js";

const { asn1 } = forge;
const { oids } = forge.pki;
type Asn1 = forge.asn1.Asn1;

/** A Name (RFC 5280 4.1.2.4): a leaf's issuer must encode exactly as its CA's subject. */
export type Name = Asn1;
/** One Extension (RFC 5280 4.1). */
export type Extension = Asn1;

export interface SubjectPublicKeyInfo {
  spki: Asn1;
  /** The subjectPublicKey bits (what the key identifier hashes). */
  keyBits: Uint8Array;
}

/** RFC 5280 4.2.1.3 KeyUsage bits (digitalSignature is named bit 0). */
export const KeyUsageFlags = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
} as const;

// forge's byte strings ("binary" strings: one char per byte) to and from bytes.
const byteString = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("binary");
const bytesOf = (s: string): Buffer => Buffer.from(s, "binary");

const U = asn1.Class.UNIVERSAL;
const seq = (...value: Asn1[]) => asn1.create(U, asn1.Type.SEQUENCE, true, value);
const setOf = (...value: Asn1[]) => asn1.create(U, asn1.Type.SET, true, value);
const oid = (dotted: string) => asn1.create(U, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());
const octets = (bytes: string) => asn1.create(U, asn1.Type.OCTETSTRING, false, bytes);
const bool = (v: boolean) => asn1.create(U, asn1.Type.BOOLEAN, false, v ? "\xff" : "\x00");
/** BIT STRING of whole bytes (keys, signatures): forge's value starts with the unused-bits count. */
const bitString = (bytes: Uint8Array) => asn1.create(U, asn1.Type.BITSTRING, false, `\x00${byteString(bytes)}`);
/** Context-specific `[n]`: constructed (EXPLICIT) over asn1 values, or primitive (IMPLICIT) over bytes. */
const tagged = (n: number, value: Asn1[] | string) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, n, typeof value !== "string", value);
const toDer = (a: Asn1): Buffer => bytesOf(asn1.toDer(a).getBytes());

/** CN first, then one RDN per organization (the order the subject prints in), as UTF8String. */
export function distinguishedName(commonName: string, organization: string[] = []): Name {
  const rdn = (type: string, value: string) => setOf(seq(oid(type), asn1.create(U, asn1.Type.UTF8, false, forge.util.encodeUtf8(value))));
  return seq(rdn(oids.commonName, commonName), ...organization.map((o) => rdn(oids.organizationName, o)));
}

/** A positive 127-bit serial with a non-zero first byte: a minimal DER INTEGER as it stands. */
export function randomSerial(): Uint8Array {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  if (b[0] === 0) b[0] = 1;
  return b;
}

/** critical is DEFAULT FALSE, so DER leaves it out unless true. */
function extension(extnID: string, critical: boolean, value: Asn1): Extension {
  const inner = octets(asn1.toDer(value).getBytes());
  return critical ? seq(oid(extnID), bool(true), inner) : seq(oid(extnID), inner);
}

export function basicConstraints(ca: boolean): Extension {
  return extension(oids.basicConstraints, true, ca ? seq(bool(true)) : seq());
}

/** `flags`: KeyUsageFlags bits, written as a named bit list (trailing zero bits dropped, as DER requires). */
export function keyUsage(flags: number): Extension {
  let highest = -1;
  for (let i = 0; i < 9; i++) if (flags & (1 << i)) highest = i;
  const bytes = new Uint8Array(highest < 0 ? 0 : (highest >> 3) + 1);
  for (let i = 0; i <= highest; i++) if (flags & (1 << i)) bytes[i >> 3] |= 0x80 >> (i & 7);
  const unused = highest < 0 ? 0 : 7 - (highest & 7);
  return extension(oids.keyUsage, true, asn1.create(U, asn1.Type.BITSTRING, false, String.fromCharCode(unused) + byteString(bytes)));
}

export function extendedKeyUsage(usages: { server: boolean; client: boolean }): Extension {
  const eku = [...(usages.server ? [oids.serverAuth] : []), ...(usages.client ? [oids.clientAuth] : [])];
  return extension(oids.extKeyUsage, false, seq(...eku.map(oid)));
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: SubjectPublicKeyInfo): Uint8Array {
  return createHash("sha1").update(spki.keyBits).digest();
}

export function subjectKeyIdentifier(keyId: Uint8Array): Extension {
  return extension(oids.subjectKeyIdentifier, false, octets(byteString(keyId)));
}

/** keyIdentifier is `[0] IMPLICIT OCTET STRING`. */
export function authorityKeyIdentifier(keyId: Uint8Array): Extension {
  return extension(oids.authorityKeyIdentifier, false, seq(tagged(0, byteString(keyId))));
}

/** dNSName is `[2] IMPLICIT IA5String`, iPAddress `[7] IMPLICIT OCTET STRING` (4 or 16 bytes). */
export function subjectAltName(dnsNames: string[], ipAddresses: string[]): Extension {
  for (const n of dnsNames) if (!/^[\x00-\x7f]*$/.test(n)) throw new Error(`not ASCII: ${JSON.stringify(n)}`);
  const names = [...dnsNames.map((n) => tagged(2, n)), ...ipAddresses.map((ip) => tagged(7, byteString(ipBytes(ip))))];
  return extension(oids.subjectAltName, false, seq(...names));
}

/**
 * An IP address in network byte order: 4 bytes for IPv4, 16 for IPv6 (`::` expanded, a dotted IPv4 tail
 * allowed, which forge's util.bytesFromIP does not read).
 */
export function ipBytes(ip: string): Uint8Array {
  if (isIPv4(ip)) return Uint8Array.from(ip.split(".").map(Number));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  let text = ip.replace(/%.*$/, ""); // a zone id is not part of the address
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split(".").map(Number);
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(":") : []);
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

// id-ecPublicKey and prime256v1 (RFC 5480): not among forge's named OIDs.
const ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const PRIME256V1 = "1.2.840.10045.3.1.7";

/**
 * The SubjectPublicKeyInfo of a public key. P-256 keys (every leaf) are built from their JWK coordinates:
 * OpenSSL's SPKI encoder costs ~0.25 ms a key, the JWK export ~0.01 ms.
 */
export function publicKeyInfo(key: KeyObject): SubjectPublicKeyInfo {
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") {
    const jwk = key.export({ format: "jwk" });
    const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]); // uncompressed (SEC 1 2.3.3)
    return { spki: seq(seq(oid(ID_EC_PUBLIC_KEY), oid(PRIME256V1)), bitString(point)), keyBits: point };
  }
  return readPublicKeyInfo(fromDer(spkiDer(key)));
}

function readPublicKeyInfo(spki: Asn1 | undefined): SubjectPublicKeyInfo {
  const keyBits = Array.isArray(spki?.value) ? spki.value[1] : undefined;
  if (!spki || keyBits?.type !== asn1.Type.BITSTRING || typeof keyBits.value !== "string") throw new Error("unexpected SubjectPublicKeyInfo encoding");
  return { spki, keyBits: bytesOf(keyBits.value).subarray(1) };
}

/** forge's fromDer takes an options object since 1.0; @types/node-forge still types only the boolean form. */
const fromDerWithOptions = asn1.fromDer as unknown as (bytes: string, options: { strict: boolean; decodeBitStrings: boolean; parseAllBytes: boolean }) => Asn1;

/** DER to forge's tree; BIT STRING contents stay bytes (forge would otherwise try to parse keys as ASN.1). */
function fromDer(der: Uint8Array): Asn1 {
  return fromDerWithOptions(byteString(der), { strict: true, decodeBitStrings: false, parseAllBytes: true });
}

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime after; whole seconds, UTC. */
function time(d: Date): Asn1 {
  const year = d.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new Error(`certificate time out of range: ${d.toISOString()}`);
  return year > 2049 ? asn1.create(U, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d)) : asn1.create(U, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(d));
}

export interface CertificateFields {
  issuer: Name;
  subject: Name;
  notBefore: Date;
  notAfter: Date;
  publicKey: SubjectPublicKeyInfo;
  extensions: Extension[];
  signingKey: KeyObject;
}

/** A v3 certificate signed with SHA-256 by `signingKey` (RSA PKCS#1 v1.5 or ECDSA), as DER. */
export async function buildCertificate(f: CertificateFields): Promise<Buffer> {
  const alg = signatureAlgorithm(f.signingKey);
  const algorithm = () => (alg.nullParameters ? seq(oid(alg.oid), asn1.create(U, asn1.Type.NULL, false, "")) : seq(oid(alg.oid)));
  const tbs = seq(
    tagged(0, [asn1.create(U, asn1.Type.INTEGER, false, asn1.integerToDer(2).getBytes())]), // version v3
    asn1.create(U, asn1.Type.INTEGER, false, byteString(randomSerial())),
    algorithm(),
    f.issuer,
    seq(time(f.notBefore), time(f.notAfter)),
    f.subject,
    f.publicKey.spki,
    tagged(3, [seq(...f.extensions)]),
  );
  const tbsDer = toDer(tbs);
  const signature = await signSha256(tbsDer, f.signingKey);
  return toDer(seq(tbs, algorithm(), bitString(signature)));
}

const isContextTag = (a: Asn1 | undefined, n: number) => a?.tagClass === asn1.Class.CONTEXT_SPECIFIC && a.type === n;
const children = (a: Asn1 | undefined): Asn1[] => (Array.isArray(a?.value) ? a.value : []);

/**
 * The parts of a CA certificate a leaf needs: its subject (Go matches a leaf's issuer bytes to the CA's
 * subject bytes, so the re-encoded subject must be found in the certificate as it was) and its key
 * identifier, by position in RFC 5280's TBSCertificate.
 */
export function readCertificate(der: Uint8Array): { subject: Name; subjectKeyId?: Uint8Array; publicKey: SubjectPublicKeyInfo } {
  let cert: Asn1;
  try {
    cert = fromDer(der);
  } catch (e) {
    throw new Error(`not an X.509 certificate: ${(e as Error).message}`);
  }
  const fields = children(children(cert)[0]);
  const at = isContextTag(fields[0], 0) ? 1 : 0; // [0] version is optional (v1)
  const subject = fields[at + 4];
  if (!subject || subject.type !== asn1.Type.SEQUENCE) throw new Error("not an X.509 certificate");
  if (!Buffer.from(der).includes(toDer(subject))) throw new Error("the CA certificate's subject is not DER-encoded");
  return { subject, subjectKeyId: subjectKeyIdOf(fields.find((f) => isContextTag(f, 3))), publicKey: readPublicKeyInfo(fields[at + 5]) };
}

/** The subjectKeyIdentifier in `[3] Extensions`: an OCTET STRING holding the DER of an OCTET STRING. */
function subjectKeyIdOf(extensions: Asn1 | undefined): Uint8Array | undefined {
  for (const ext of children(children(extensions)[0])) {
    const parts = children(ext);
    if (parts[0]?.type !== asn1.Type.OID || asn1.derToOid(parts[0].value as string) !== oids.subjectKeyIdentifier) continue;
    const value = parts[parts.length - 1];
    if (value.type !== asn1.Type.OCTETSTRING || typeof value.value !== "string") return undefined;
    const inner = asn1.fromDer(value.value);
    return inner.type === asn1.Type.OCTETSTRING && typeof inner.value === "string" ? bytesOf(inner.value) : undefined;
  }
  return undefined;
}

/** PEM from DER. */
export function derToPem(der: Uint8Array, label = "CERTIFICATE"): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error("no PEM certificate");
  return Buffer.from(m[1].replace(/\s+/g, ""), "base64");
}
