// The local edge's own CA and serving certificate, for its HTTPS port (workerd serves it).
//
// Why: kubectl (client-go's clientcmd) only sends a bearer token to https servers, so
// `kubectl --server <edge https>/clusters/... --token T` needs TLS with a CA the user can point at.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CertKeyPair } from "../pki/index.js";

export interface EdgeTls {
  ca: CertKeyPair;
  serving: CertKeyPair;
}

/**
 * The edge's own CA and a serving certificate for 127.0.0.1/localhost. Kept in `<stateDir>/edge-tls`
 * so kubeconfigs written before a restart still verify afterwards.
 */
export async function loadOrCreateEdgeTls(stateDir: string | undefined): Promise<EdgeTls> {
  const dir = stateDir ? path.join(stateDir, "edge-tls") : undefined;
  const files = dir ? ["ca.crt", "ca.key", "tls.crt", "tls.key"].map((f) => path.join(dir, f)) : [];
  if (dir && files.every((f) => existsSync(f))) {
    const [caCert, caKey, cert, key] = files.map((f) => readFileSync(f, "utf8"));
    return { ca: { certPem: caCert, keyPem: caKey }, serving: { certPem: cert, keyPem: key } };
  }
  // The PKI is loaded only to mint: a restart reads the stored files.
  const { generateCA, issueCert } = await import("../pki/index.js");
  const ca = await generateCA("capim-edge-local-ca", { rsa: false });
  const serving = await issueCert(ca, {
    commonName: "capim-edge",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1", "::1"],
    usage: "server",
    validityDays: 3650,
  });
  if (dir) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const contents = [ca.certPem, ca.keyPem, serving.certPem, serving.keyPem];
    files.forEach((f, i) => writeFileSync(f, contents[i], { mode: 0o600 }));
  }
  return { ca, serving };
}
