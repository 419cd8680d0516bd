// Per-cluster bearer tokens for ephemeral clusters (CI jobs): `cet.<base64url(tenant/ns/name)>.<secret>`
// where the secret is 32 random bytes (base64url). The cluster part is not secret: it only tells the
// worker which cluster DO to ask, and that DO holds the token's SHA-256 digest (never the token), so
// a token reaches exactly the cluster it was minted for and dies with the cluster's storage.
// Web globals only (crypto.subtle, btoa/atob), so the DO and the worker share this file.
import type { ClusterId } from "./cluster-id.js";

const PREFIX = "cet";
const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return undefined;
  try {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** A fresh token for one cluster (returned to the caller once; store only its digest). */
export function mintClusterToken(id: ClusterId): string {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  return `${PREFIX}.${base64url(encoder.encode(`${id.tenant}/${id.namespace}/${id.name}`))}.${base64url(secret)}`;
}

/** True when the string has the shape of a cluster token (says nothing about validity). */
export function looksLikeClusterToken(token: string): boolean {
  return token.startsWith(`${PREFIX}.`);
}

/** The cluster a token claims to belong to; undefined when malformed. The claim is verified by that cluster's DO. */
export function parseClusterToken(token: string): ClusterId | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
  const secret = fromBase64url(parts[2]);
  if (!secret || secret.length !== 32) return undefined;
  const idBytes = fromBase64url(parts[1]);
  if (!idBytes) return undefined;
  let id: string;
  try {
    id = new TextDecoder("utf-8", { fatal: true }).decode(idBytes);
  } catch {
    return undefined;
  }
  const [tenant, namespace, name, ...extra] = id.split("/");
  if (extra.length || !tenant || !namespace || !name) return undefined;
  return { tenant, namespace, name };
}

/** Hex SHA-256 of a token: what the cluster DO stores for cluster tokens, and the worker for tenant tokens. */
export async function tokenDigest(token: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison of two hex digests (no early exit, so timing does not leak a prefix). */
export function digestsEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
