// X.509 certificates from @peculiar/asn1-x509's schema classes (RFC 5280 structures) serialized by
// @peculiar/asn1-schema, signed with node:crypto. This is the layer under @peculiar/x509's generator,
// used directly because the generator re-parses every certificate it makes and goes through a DI
// container and WebCrypto key conversions: ~8 ms a leaf against ~2 ms here, and the VIPs and
// kubeconfigs of thousands of clusters are minted in this process.
import { AsnConvert, AsnSerializer, OctetString } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
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
import { signatureAlgorithm, signSha256, spkiDer } from "./keys.js";

export { KeyUsageFlags, Name };

const OID_CN = "2.5.4.3";
const OID_O = "2.5.4.10";

/** CN first, then one RDN per organization (the order the subject prints in). */
export function distinguishedName(commonName: string, organization: string[] = []): Name {
  const rdn = (type: string, value: string) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  return new Name([rdn(OID_CN, commonName), ...organization.map((o) => rdn(OID_O, o))]);
}

/** A positive 127-bit serial (the top bit is cleared so DER does not read it as negative). */
export function randomSerial(): ArrayBuffer {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  if (b[0] === 0) b[0] = 1;
  return new Uint8Array(b).buffer;
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

export function basicConstraints(ca: boolean): Extension {
  return extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: ca }));
}

export function keyUsage(flags: number): Extension {
  return extension(id_ce_keyUsage, true, new KeyUsage(flags));
}

export function extendedKeyUsage(usages: { server: boolean; client: boolean }): Extension {
  const eku = [...(usages.server ? [id_kp_serverAuth] : []), ...(usages.client ? [id_kp_clientAuth] : [])];
  return extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage(eku));
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: SubjectPublicKeyInfo): ArrayBuffer {
  return new Uint8Array(createHash("sha1").update(new Uint8Array(spki.subjectPublicKey)).digest()).buffer;
}

export function subjectKeyIdentifier(keyId: ArrayBuffer): Extension {
  return extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId));
}

export function authorityKeyIdentifier(keyId: ArrayBuffer): Extension {
  return extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyId) }));
}

export function subjectAltName(dnsNames: string[], ipAddresses: string[]): Extension {
  const names = [...dnsNames.map((dNSName) => new GeneralName({ dNSName })), ...ipAddresses.map((iPAddress) => new GeneralName({ iPAddress }))];
  return extension(id_ce_subjectAltName, false, new SubjectAlternativeName(names));
}

const ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const PRIME256V1 = new asn1js.ObjectIdentifier({ value: "1.2.840.10045.3.1.7" }).toBER(false);

/**
 * The SubjectPublicKeyInfo of a public key. P-256 keys (every leaf) are built from their JWK coordinates:
 * OpenSSL's SPKI encoder costs ~0.25 ms a key, the JWK export ~0.01 ms.
 */
export function publicKeyInfo(key: KeyObject): SubjectPublicKeyInfo {
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") {
    const jwk = key.export({ format: "jwk" });
    const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]); // uncompressed (SEC 1 2.3.3)
    return new SubjectPublicKeyInfo({
      algorithm: new AlgorithmIdentifier({ algorithm: ID_EC_PUBLIC_KEY, parameters: PRIME256V1 }),
      subjectPublicKey: new Uint8Array(point).buffer,
    });
  }
  return AsnConvert.parse(spkiDer(key), SubjectPublicKeyInfo);
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
  const signature = new AlgorithmIdentifier({ algorithm: alg.oid, ...(alg.nullParameters ? { parameters: null } : {}) });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: randomSerial(),
    signature,
    issuer: f.issuer,
    validity: new Validity({ notBefore: f.notBefore, notAfter: f.notAfter }),
    subject: f.subject,
    subjectPublicKeyInfo: f.publicKey,
    extensions: new Extensions(f.extensions),
  });
  // Encoded once: the signed bytes go into the certificate as they are (Certificate's own serializer
  // would encode the TBS a second time).
  const tbsAsn = AsnSerializer.toASN(tbs);
  const tbsDer = new Uint8Array(tbsAsn.toBER(false));
  const sig = await signSha256(tbsDer, f.signingKey);
  const cert = new asn1js.Sequence({
    value: [tbsAsn, AsnSerializer.toASN(signature), new asn1js.BitString({ valueHex: new Uint8Array(sig).buffer })],
  });
  return Buffer.from(cert.toBER(false));
}

/** The parts of a CA certificate a leaf needs: its subject (the leaves' issuer, byte for byte) and key id. */
export function readCertificate(der: Uint8Array): { subject: Name; subjectKeyId?: ArrayBuffer; publicKey: SubjectPublicKeyInfo } {
  const cert = AsnConvert.parse(der, Certificate);
  const tbs = cert.tbsCertificate;
  const ski = tbs.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
  return {
    subject: tbs.subject,
    subjectKeyId: ski ? AsnConvert.parse(ski.extnValue, SubjectKeyIdentifier).buffer : undefined,
    publicKey: tbs.subjectPublicKeyInfo,
  };
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
