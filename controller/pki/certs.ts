// Leaf certificates: ECDSA P-256 keys (fast to generate) signed by the cluster's RSA or EC CA, so a serving
// or client cert costs well under a millisecond instead of an RSA key generation (~150 ms).
import { isIP } from "node:net";
import { CLOCK_SKEW_MS, type CertKeyPair } from "./ca.js";
import { newKeyPair, parsePrivateKey, privateKeyToPem } from "./keys.js";
import { recentCA, rememberCA, type LoadedCA } from "./loaded-ca.js";
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
  type Extension,
} from "./x509.js";

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

export type { LoadedCA } from "./loaded-ca.js";

export async function loadCA(ca: CertKeyPair): Promise<LoadedCA> {
  const known = recentCA(ca);
  if (known) return known;
  const cert = readCertificate(pemToDer(ca.certPem));
  return rememberCA(ca, {
    subject: cert.subject,
    key: parsePrivateKey(ca.keyPem),
    aki: authorityKeyIdentifier(cert.subjectKeyId ?? keyIdentifier(cert.publicKey)),
  });
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
