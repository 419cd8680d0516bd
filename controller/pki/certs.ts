// Leaf certificates: ECDSA P-256 keys (0.04 ms to generate) signed by the cluster's RSA or EC CA through
// WebCrypto (native OpenSSL), so a serving or client cert costs a few ms instead of an RSA keygen (~150 ms).
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { isIP } from "node:net";
import { CLOCK_SKEW_MS, randomSerial, type CertKeyPair } from "./ca.js";
import { importSigningKey, privateKeyToPem, subtle, type SigningAlgorithm } from "./keys.js";

export type CertUsage = "server" | "client" | "both";

export interface IssueOptions {
  commonName: string;
  organization?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: CertUsage;
  /** Default 365. */
  validityDays?: number;
}

/** A CA parsed and its key imported once, for callers that issue several certificates from it. */
export interface LoadedCA {
  cert: x509.X509Certificate;
  key: CryptoKey;
  algorithm: SigningAlgorithm;
  /** Authority key identifier for the leaves (the CA's SKI, or one derived from its public key). */
  aki: x509.AuthorityKeyIdentifierExtension;
}

export async function loadCA(ca: CertKeyPair): Promise<LoadedCA> {
  const cert = new x509.X509Certificate(ca.certPem);
  const { key, algorithm } = await importSigningKey(ca.keyPem);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = ski
    ? new x509.AuthorityKeyIdentifierExtension(ski.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(cert.publicKey);
  return { cert, key, algorithm, aki };
}

const LEAF_KEY: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };

// Extensions that do not vary per certificate are encoded once: ASN.1 encoding through @peculiar's schema
// layer costs ~0.5 ms per extension, a sizeable part of a leaf.
const STATIC_EXTENSIONS = new Map<CertUsage, x509.Extension[]>();
function staticExtensions(usage: CertUsage): x509.Extension[] {
  let exts = STATIC_EXTENSIONS.get(usage);
  if (!exts) {
    const eku: string[] = [];
    if (usage !== "client") eku.push(x509.ExtendedKeyUsage.serverAuth);
    if (usage !== "server") eku.push(x509.ExtendedKeyUsage.clientAuth);
    exts = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      // ECDSA keys sign the handshake; keyEncipherment is for RSA key transport only.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(eku),
    ];
    STATIC_EXTENSIONS.set(usage, exts);
  }
  return exts;
}

/** PEM from DER directly (cheaper than the library's text conversion). */
export function derToPem(der: ArrayBuffer, label = "CERTIFICATE"): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export async function issueCert(ca: CertKeyPair | LoadedCA, opts: IssueOptions): Promise<CertKeyPair> {
  const loaded = "certPem" in ca ? await loadCA(ca) : ca;
  const keys = (await subtle.generateKey(LEAF_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
  const subject: x509.JsonName = [{ CN: [opts.commonName] }];
  for (const o of opts.organization ?? []) subject.push({ O: [o] });

  const extensions: x509.Extension[] = [...staticExtensions(opts.usage), loaded.aki];
  const names: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => {
      if (!isIP(value)) throw new Error(`not an IP address: ${value}`);
      return { type: "ip" as const, value };
    }),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names));

  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    // The parsed Name keeps the CA's exact DER (string types included): Go matches issuer bytes to subject bytes.
    issuer: loaded.cert.subjectName,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + (opts.validityDays ?? 365) * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: loaded.key,
    signingAlgorithm: { name: loaded.algorithm.name, hash: "SHA-256" } as EcdsaParams,
    extensions,
  });
  return { certPem: derToPem(cert.rawData), keyPem: await privateKeyToPem(keys.privateKey) };
}
