// Leaf certificates: ECDSA P-256 keys (fast to generate) signed by the cluster's RSA or EC CA, so a serving
// or client cert costs a millisecond or two instead of an RSA key generation (~150 ms).
import type { KeyObject } from "node:crypto";
import { isIP } from "node:net";
import { CLOCK_SKEW_MS, type CertKeyPair } from "./ca.js";
import { newKeyPair, parsePrivateKey, privateKeyToPem } from "./keys.js";
import {
  authorityKeyIdentifier,
  basicConstraints,
  buildCertificate,
  derToPem,
  distinguishedName,
  extendedKeyUsage,
  keyIdentifier,
  keyUsage,
  KeyUsageFlags,
  pemToDer,
  publicKeyInfo,
  readCertificate,
  subjectAltName,
  type Name,
} from "./x509.js";
import type { Extension } from "@peculiar/asn1-x509";

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

/** A CA parsed and its key read once, for callers that issue several certificates from it. */
export interface LoadedCA {
  /** The CA's subject: the leaves' issuer, with the CA's own encoding (Go matches issuer bytes to subject bytes). */
  subject: Name;
  key: KeyObject;
  /** Authority key identifier for the leaves (the CA's SKI, or one derived from its public key). */
  aki: Extension;
}

/**
 * CAs loaded lately, by their PEM: in `npm start` a cluster's CA is loaded by the VIP (serving cert) and
 * by the driver (kubeconfig) at about the same time, and parsing a CA is most of a leaf's cost.
 */
const recentCAs = new Map<string, LoadedCA>();
const RECENT_CAS = 256;

export async function loadCA(ca: CertKeyPair): Promise<LoadedCA> {
  const id = `${ca.certPem}\0${ca.keyPem}`;
  const known = recentCAs.get(id);
  if (known) return known;
  const cert = readCertificate(pemToDer(ca.certPem));
  const loaded: LoadedCA = {
    subject: cert.subject,
    key: parsePrivateKey(ca.keyPem),
    aki: authorityKeyIdentifier(cert.subjectKeyId ?? keyIdentifier(cert.publicKey)),
  };
  if (recentCAs.size >= RECENT_CAS) recentCAs.delete(recentCAs.keys().next().value!);
  recentCAs.set(id, loaded);
  return loaded;
}

// Extensions that do not vary per certificate are encoded once.
const STATIC_EXTENSIONS = new Map<CertUsage, Extension[]>();
function staticExtensions(usage: CertUsage): Extension[] {
  let exts = STATIC_EXTENSIONS.get(usage);
  if (!exts) {
    exts = [
      // ECDSA keys sign the handshake; keyEncipherment is for RSA key transport only.
      keyUsage(KeyUsageFlags.digitalSignature),
      extendedKeyUsage({ server: usage !== "client", client: usage !== "server" }),
      basicConstraints(false),
    ];
    STATIC_EXTENSIONS.set(usage, exts);
  }
  return exts;
}

export async function issueCert(ca: CertKeyPair | LoadedCA, opts: IssueOptions): Promise<CertKeyPair> {
  for (const ip of opts.ipAddresses ?? []) if (!isIP(ip)) throw new Error(`not an IP address: ${ip}`);
  const loaded = "certPem" in ca ? await loadCA(ca) : ca;
  const keys = await newKeyPair("ecdsa");
  const extensions = [...staticExtensions(opts.usage), loaded.aki];
  if (opts.dnsNames?.length || opts.ipAddresses?.length) extensions.push(subjectAltName(opts.dnsNames ?? [], opts.ipAddresses ?? []));
  const now = Date.now();
  const der = await buildCertificate({
    issuer: loaded.subject,
    subject: distinguishedName(opts.commonName, opts.organization),
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + (opts.validityDays ?? 365) * 86_400_000),
    publicKey: publicKeyInfo(keys.publicKey),
    signingKey: loaded.key,
    extensions,
  });
  return { certPem: derToPem(der), keyPem: privateKeyToPem(keys.privateKey) };
}
