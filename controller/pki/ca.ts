// Cluster CAs, minted the way CAPI's kubeadm bootstrap does for `<cluster>-ca` and `<cluster>-etcd`.
import { newKeyPair, privateKeyToPem } from "./keys.js";
import { rememberCA } from "./loaded-ca.js";
import {
  authorityKeyIdentifier,
  basicConstraints,
  buildCertificate,
  derToPem,
  distinguishedName,
  keyIdentifier,
  keyUsage,
  KeyUsageFlags,
  publicKeyInfo,
  subjectKeyIdentifier,
} from "./x509.js";

export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

const DAY_MS = 86_400_000;
/** Backdate notBefore so that clients with a slightly slow clock accept a certificate minted just now. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * A self-signed CA, valid 10 years. RSA-2048 by default because CAPI's cluster CAs are RSA (the key is
 * generated natively by OpenSSL on the thread pool, ~150 ms); `{rsa: false}` gives ECDSA P-256 (fast, for
 * tests and benchmarks).
 */
export async function generateCA(commonName: string, opts: { rsa?: boolean } = {}): Promise<CertKeyPair> {
  const keys = await newKeyPair(opts.rsa ?? true ? "rsa" : "ecdsa");
  const name = distinguishedName(commonName);
  const publicKey = publicKeyInfo(keys.publicKey);
  const keyId = keyIdentifier(publicKey);
  const now = Date.now();
  const der = await buildCertificate({
    issuer: name,
    subject: name,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    publicKey,
    signingKey: keys.privateKey,
    extensions: [
      keyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment),
      basicConstraints(true),
      subjectKeyIdentifier(keyId),
    ],
  });
  const ca = { certPem: derToPem(der), keyPem: privateKeyToPem(keys.privateKey) };
  // The leaves it signs will need exactly what was just built; nothing to parse back.
  rememberCA(ca, { subject: name, key: keys.privateKey, aki: authorityKeyIdentifier(keyId) });
  return ca;
}
