// Key plumbing between PEM (what Secrets and kubeconfigs hold) and WebCrypto (what @peculiar/x509 signs with).
// Parsing goes through node:crypto because it reads every PEM flavour CAPI and openssl write
// (PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY", PKCS#8 "PRIVATE KEY").
import { createPrivateKey, KeyObject, webcrypto } from "node:crypto";

export const subtle = webcrypto.subtle as unknown as SubtleCrypto;

export type SigningAlgorithm = RsaHashedImportParams | EcKeyImportParams;

const CURVES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };

/** The WebCrypto algorithm matching a private key: RSA PKCS#1 v1.5 or ECDSA, SHA-256 (what kubeadm/CAPI use). */
export function algorithmFor(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === "rsa") return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  if (key.asymmetricKeyType === "ec") {
    const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ""];
    if (!curve) throw new Error(`unsupported EC curve ${key.asymmetricKeyDetails?.namedCurve}`);
    return { name: "ECDSA", namedCurve: curve, hash: "SHA-256" } as EcKeyImportParams;
  }
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType}`);
}

/** Imports a PEM private key (any common encoding) as a non-extractable WebCrypto signing key. */
export async function importSigningKey(keyPem: string): Promise<{ key: CryptoKey; algorithm: SigningAlgorithm }> {
  const obj = createPrivateKey(keyPem);
  const algorithm = algorithmFor(obj);
  const der = obj.export({ type: "pkcs8", format: "der" });
  const key = await subtle.importKey("pkcs8", der, algorithm, false, ["sign"]);
  return { key, algorithm };
}

/**
 * PEM in the encoding Go's tooling writes: PKCS#1 for RSA and SEC1 for EC. CAPI's own secrets use these,
 * and every consumer (client-go, kubectl, openssl, Node) reads them.
 */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await subtle.exportKey("pkcs8", key));
  const obj = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  const type = obj.asymmetricKeyType === "rsa" ? "pkcs1" : "sec1";
  return obj.export({ type, format: "pem" }) as string;
}
