// X.509 certificates (RFC 5280) written with the DER writer in der.ts and signed with node:crypto.
// Certificates are only read back for a CA minted elsewhere (CAPI's `<cluster>-ca`), with asn1js's BER
// parser. Every value here is DER bytes: a Name, an Extension, a SubjectPublicKeyInfo go into the
// certificate as they are.
import {
  KeyUsageFlags,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
} from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import { createHash, randomBytes, type KeyObject } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import {
  ascii,
  bitString,
  contextTag,
  namedBits,
  NULL,
  objectIdentifier,
  octetString,
  sequence,
  set,
  smallInteger,
  time,
  TRUE,
  unsignedInteger,
  utf8String,
  type Der,
} from "./der.js";
import { signatureAlgorithm, signSha256, spkiDer } from "./keys.js";

export { KeyUsageFlags };

/** A Name (RFC 5280 4.1.2.4) as DER: a leaf's issuer must be its CA's subject byte for byte. */
export type Name = Der;
/** One Extension (RFC 5280 4.1) as DER. */
export type Extension = Der;

export interface SubjectPublicKeyInfo {
  der: Der;
  /** The subjectPublicKey bits (what the key identifier hashes). */
  keyBits: Uint8Array;
}

const OID_CN = "2.5.4.3";
const OID_O = "2.5.4.10";

/** CN first, then one RDN per organization (the order the subject prints in), as UTF8String. */
export function distinguishedName(commonName: string, organization: string[] = []): Name {
  const rdn = (type: string, value: string) => set(sequence(objectIdentifier(type), utf8String(value)));
  return sequence(rdn(OID_CN, commonName), ...organization.map((o) => rdn(OID_O, o)));
}

/** A positive 127-bit serial (the top bit is cleared so DER does not read it as negative). */
export function randomSerial(): Uint8Array {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  if (b[0] === 0) b[0] = 1;
  return b;
}

/** critical is DEFAULT FALSE, so DER leaves it out unless true. */
function extension(extnID: string, critical: boolean, value: Der): Extension {
  return critical ? sequence(objectIdentifier(extnID), TRUE, octetString(value)) : sequence(objectIdentifier(extnID), octetString(value));
}

export function basicConstraints(ca: boolean): Extension {
  return extension(id_ce_basicConstraints, true, ca ? sequence(TRUE) : sequence());
}

/** `flags`: KeyUsageFlags bits (digitalSignature = 1 is named bit 0, and so on). */
export function keyUsage(flags: number): Extension {
  const bits: number[] = [];
  for (let i = 0; i < 9; i++) if (flags & (1 << i)) bits.push(i);
  return extension(id_ce_keyUsage, true, namedBits(bits));
}

export function extendedKeyUsage(usages: { server: boolean; client: boolean }): Extension {
  const eku = [...(usages.server ? [id_kp_serverAuth] : []), ...(usages.client ? [id_kp_clientAuth] : [])];
  return extension(id_ce_extKeyUsage, false, sequence(...eku.map(objectIdentifier)));
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: SubjectPublicKeyInfo): Uint8Array {
  return createHash("sha1").update(spki.keyBits).digest();
}

export function subjectKeyIdentifier(keyId: Uint8Array): Extension {
  return extension(id_ce_subjectKeyIdentifier, false, octetString(keyId));
}

/** keyIdentifier is `[0] IMPLICIT OCTET STRING`. */
export function authorityKeyIdentifier(keyId: Uint8Array): Extension {
  return extension(id_ce_authorityKeyIdentifier, false, sequence(contextTag(0, false, keyId)));
}

/** dNSName is `[2] IMPLICIT IA5String`, iPAddress `[7] IMPLICIT OCTET STRING` (4 or 16 bytes). */
export function subjectAltName(dnsNames: string[], ipAddresses: string[]): Extension {
  const names = [...dnsNames.map((n) => contextTag(2, false, ascii(n))), ...ipAddresses.map((ip) => contextTag(7, false, ipBytes(ip)))];
  return extension(id_ce_subjectAltName, false, sequence(...names));
}

/** An IP address in network byte order: 4 bytes for IPv4, 16 for IPv6 (`::` expanded, a dotted IPv4 tail allowed). */
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
    return { der: sequence(sequence(objectIdentifier(ID_EC_PUBLIC_KEY), objectIdentifier(PRIME256V1)), bitString(point)), keyBits: point };
  }
  const der = spkiDer(key);
  const keyBits = (asn1js.fromBER(der).result as asn1js.Sequence).valueBlock.value?.[1];
  if (!(keyBits instanceof asn1js.BitString)) throw new Error("unexpected SubjectPublicKeyInfo encoding");
  return { der, keyBits: new Uint8Array(keyBits.valueBlock.valueHexView) };
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
  const algorithm = alg.nullParameters ? sequence(objectIdentifier(alg.oid), NULL) : sequence(objectIdentifier(alg.oid));
  const tbs = sequence(
    contextTag(0, true, smallInteger(2)), // version v3
    unsignedInteger(randomSerial()),
    algorithm,
    f.issuer,
    sequence(time(f.notBefore), time(f.notAfter)),
    f.subject,
    f.publicKey.der,
    contextTag(3, true, sequence(...f.extensions)),
  );
  const signature = await signSha256(tbs, f.signingKey);
  return Buffer.from(sequence(tbs, algorithm, bitString(signature)));
}

/**
 * The parts of a CA certificate a leaf needs: its subject exactly as encoded there (Go matches a leaf's
 * issuer bytes to the CA's subject bytes) and its key identifier. Read with asn1js's BER parser by
 * position in RFC 5280's TBSCertificate, in one pass: the schema classes' parse plus a second one for
 * the raw subject cost most of a VIP's opening when the cluster CA comes from a Secret.
 */
export function readCertificate(der: Uint8Array): { subject: Name; subjectKeyId?: Uint8Array; publicKey: SubjectPublicKeyInfo } {
  const cert = asn1js.fromBER(der);
  const tbs = cert.offset === -1 ? undefined : (cert.result as asn1js.Sequence).valueBlock.value?.[0];
  const fields = (tbs as asn1js.Sequence | undefined)?.valueBlock.value ?? [];
  const at = isContextTag(fields[0], 0) ? 1 : 0; // [0] version is optional (v1)
  const subject = fields[at + 4];
  const spki = fields[at + 5] as asn1js.Sequence | undefined;
  const keyBits = spki?.valueBlock.value?.[1];
  if (!subject || !(keyBits instanceof asn1js.BitString)) throw new Error("not an X.509 certificate");
  return {
    subject: new Uint8Array(subject.valueBeforeDecodeView),
    subjectKeyId: subjectKeyIdOf(fields.find((f) => isContextTag(f, 3))),
    publicKey: { der: new Uint8Array(spki!.valueBeforeDecodeView), keyBits: new Uint8Array(keyBits.valueBlock.valueHexView) },
  };
}

const isContextTag = (b: asn1js.AsnType | undefined, n: number) => b?.idBlock.tagClass === 3 && b.idBlock.tagNumber === n;

/** The subjectKeyIdentifier in `[3] Extensions`: an OCTET STRING holding the DER of an OCTET STRING. */
function subjectKeyIdOf(extensions: asn1js.AsnType | undefined): Uint8Array | undefined {
  const list = ((extensions as asn1js.Constructed | undefined)?.valueBlock.value?.[0] as asn1js.Sequence | undefined)?.valueBlock.value ?? [];
  for (const ext of list) {
    const parts = (ext as asn1js.Sequence).valueBlock.value ?? [];
    if (!(parts[0] instanceof asn1js.ObjectIdentifier) || parts[0].valueBlock.toString() !== id_ce_subjectKeyIdentifier) continue;
    const value = parts[parts.length - 1];
    if (!(value instanceof asn1js.OctetString)) return undefined;
    const inner = asn1js.fromBER(value.valueBlock.valueHexView);
    return inner.result instanceof asn1js.OctetString ? new Uint8Array(inner.result.valueBlock.valueHexView) : undefined;
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
