// Cluster CAs, minted the way CAPI's kubeadm bootstrap does for `<cluster>-ca` and `<cluster>-etcd`.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { randomBytes, webcrypto } from "node:crypto";
import { privateKeyToPem, subtle } from "./keys.js";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

const DAY_MS = 86_400_000;
/** Backdate notBefore so that clients with a slightly slow clock accept a certificate minted just now. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** A positive 127-bit serial (the top bit is cleared so DER does not read it as negative). */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  if (b[0] === 0) b[0] = 1;
  return b.toString("hex");
}

/**
 * A self-signed CA, valid 10 years. RSA-2048 by default because CAPI's cluster CAs are RSA (the key is
 * generated natively by OpenSSL through WebCrypto, ~150 ms); `{rsa: false}` gives ECDSA P-256 (fast, for tests
 * and benchmarks).
 */
export async function generateCA(commonName: string, opts: { rsa?: boolean } = {}): Promise<CertKeyPair> {
  const rsa = opts.rsa ?? true;
  const alg: RsaHashedKeyGenParams | EcKeyGenParams = rsa
    ? { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
    : { name: "ECDSA", namedCurve: "P-256" };
  const keys = (await subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
    keys,
    signingAlgorithm: rsa ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } : { name: "ECDSA", hash: "SHA-256" },
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature |
          x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem") + "\n", keyPem: await privateKeyToPem(keys.privateKey) };
}
