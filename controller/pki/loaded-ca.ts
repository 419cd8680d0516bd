// CAs ready to sign: subject, key object and authority key identifier, remembered by their PEM text.
// In `npm start` a cluster's CA is used by the driver (kubeconfig) and by the VIP (serving cert) at about
// the same time, and parsing a CA's certificate and key is most of a leaf's cost; a CA this process
// generated is remembered as it is made, so it is never parsed back at all.
import type { KeyObject } from "node:crypto";
import type { CertKeyPair } from "./ca.js";
import type { Extension, Name } from "./x509.js";

/** A CA parsed and its key read once, for callers that issue several certificates from it. */
export interface LoadedCA {
  /** The CA's subject: the leaves' issuer, with the CA's own encoding (Go matches issuer bytes to subject bytes). */
  subject: Name;
  key: KeyObject;
  /** Authority key identifier for the leaves (the CA's SKI, or one derived from its public key). */
  aki: Extension;
}

const recent = new Map<string, LoadedCA>();
const RECENT_CAS = 256;

const idOf = (ca: CertKeyPair) => `${ca.certPem}\0${ca.keyPem}`;

export function recentCA(ca: CertKeyPair): LoadedCA | undefined {
  return recent.get(idOf(ca));
}

export function rememberCA(ca: CertKeyPair, loaded: LoadedCA): LoadedCA {
  if (recent.size >= RECENT_CAS) recent.delete(recent.keys().next().value!);
  recent.set(idOf(ca), loaded);
  return loaded;
}
