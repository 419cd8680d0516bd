// Per-cluster TLS material for the VIP's TLS mux: the kube-apiserver serving certificate (signed by
// `<cluster>-ca`) and, on demand, etcd serving certificates for SNI `etcd-<node>` (signed by `<cluster>-etcd`).
// Every SecureContext carries the CA that must sign the *client* certificates of that name: a context from
// SNICallback without `ca` makes client-cert verification fail for every client that sends SNI.
import { createSecureContext, type SecureContext } from "node:tls";
import { isIP } from "node:net";
import type { CertKeyPair } from "../pki/ca.js";
import { generateCA } from "../pki/ca.js";
import { issueCert, loadCA, type LoadedCA } from "../pki/certs.js";

export interface ServingCert {
  /** Ready for `tls.createServer`, `SNICallback` or `new tls.TLSSocket(duplex, {isServer: true, secureContext})`. */
  context: SecureContext;
  certPem: string;
  keyPem: string;
  /** The CA client certificates must chain to (also the issuer of certPem). */
  caPem: string;
}

export interface ClusterTlsContexts {
  /** CN `kube-apiserver`, signed by the cluster CA; what the VIP serves and what KCP reads NotAfter from. */
  readonly apiserver: ServingCert;
  /**
   * Serving cert for `etcd-<node>` (CN = that name), signed by the etcd CA; client certs verified against the
   * etcd CA. Minted on first use and cached. Undefined when the cluster has no etcd CA or the name is not an
   * etcd pod name.
   */
  etcd(serverName: string): Promise<ServingCert | undefined>;
  /** How many etcd serving certs are cached (bounded: at most ETCD_CERT_CACHE). */
  readonly etcdCertsCached: number;
  /** Which side of the mux a TLS server name belongs to (no SNI = apiserver). */
  route(serverName: string | undefined | false | null): "etcd" | "apiserver";
  /**
   * For `tls`/`http2` servers created with the apiserver cert and cluster CA: `etcd-*` names (when there is an
   * etcd CA) get the etcd cert, the rest no context, i.e. the server's default (the apiserver's).
   */
  sniCallback(serverName: string, cb: (err: Error | null, ctx?: SecureContext) => void): void;
}

/** DNS names the apiserver cert always carries, as kubeadm's does. */
export const APISERVER_DNS_NAMES = [
  "localhost",
  "kubernetes",
  "kubernetes.default",
  "kubernetes.default.svc",
  "kubernetes.default.svc.cluster.local",
];
export const APISERVER_IPS = ["127.0.0.1", "::1"];

// An RFC 1123 name is at most 253 chars; node names are DNS subdomains. Anything else is not an etcd pod.
const ETCD_NAME = /^etcd-[a-z0-9]([a-z0-9.-]{0,240}[a-z0-9])?$/;

/**
 * etcd serving certs kept per cluster. The name comes from the client's SNI before it has authenticated, so
 * the cache is bounded (least recently used out): made-up names cost a signature each, nothing that lasts.
 * A cluster has a handful of etcd members; 32 leaves room for every member of any real control plane.
 */
export const ETCD_CERT_CACHE = 32;

function servingCert(cert: CertKeyPair, caPem: string): ServingCert {
  let context: SecureContext | undefined;
  return {
    // Built on first use: the VIP's server already holds the apiserver cert in its default context, and
    // parsing key and certificates into another cost ~3.5 ms a VIP (1000 VIPs: 10.2 -> 6.6 s, BENCHMARKS.md).
    get context() {
      return (context ??= createSecureContext({ cert: cert.certPem, key: cert.keyPem, ca: caPem }));
    },
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    caPem,
  };
}

export async function createClusterTlsContexts(opts: {
  ca: CertKeyPair;
  etcdCa?: CertKeyPair;
  /** Extra SANs (the advertised VIP host, IP or DNS name). */
  hosts?: string[];
}): Promise<ClusterTlsContexts> {
  const dnsNames = new Set(APISERVER_DNS_NAMES);
  const ips = new Set(APISERVER_IPS);
  for (const h of opts.hosts ?? []) {
    const bare = h.replace(/^\[|\]$/g, "");
    if (isIP(bare)) ips.add(bare);
    else if (bare) dnsNames.add(bare.toLowerCase());
  }
  const apiCert = await issueCert(opts.ca, {
    commonName: "kube-apiserver",
    dnsNames: [...dnsNames],
    ipAddresses: [...ips],
    usage: "server",
  });
  const apiserver = servingCert(apiCert, opts.ca.certPem);

  const etcdCa = opts.etcdCa;
  let etcdLoaded: Promise<LoadedCA> | undefined;
  const etcdCerts = new Map<string, Promise<ServingCert>>();

  const route = (name: string | undefined | false | null) =>
    etcdCa && typeof name === "string" && ETCD_NAME.test(name.toLowerCase()) ? "etcd" : "apiserver";

  async function etcd(serverName: string): Promise<ServingCert | undefined> {
    if (!etcdCa || route(serverName) !== "etcd") return undefined;
    const name = serverName.toLowerCase();
    let p = etcdCerts.get(name);
    if (p) {
      etcdCerts.delete(name); // most recently used last
      etcdCerts.set(name, p);
    } else {
      etcdLoaded ??= loadCA(etcdCa);
      p = etcdLoaded
        .then((ca) =>
          issueCert(ca, {
            commonName: name,
            dnsNames: [name, name.slice("etcd-".length), "localhost"],
            ipAddresses: ["127.0.0.1", "::1"],
            usage: "both",
          }),
        )
        .then((c) => servingCert(c, etcdCa.certPem));
      p.catch(() => etcdCerts.delete(name));
      etcdCerts.set(name, p);
      if (etcdCerts.size > ETCD_CERT_CACHE) etcdCerts.delete(etcdCerts.keys().next().value!);
    }
    return p;
  }

  return {
    apiserver,
    etcd,
    get etcdCertsCached() {
      return etcdCerts.size;
    },
    route,
    sniCallback(serverName, cb) {
      // No context: the server's default one, which holds the same apiserver cert and client CA.
      if (route(serverName) !== "etcd") return cb(null);
      etcd(serverName).then(
        (c) => cb(null, c?.context),
        (err) => cb(err as Error),
      );
    },
  };
}

const placeholders = new Map<string, Promise<ClusterTlsContexts>>();

/**
 * What a VIP serves before CAPI has created `<cluster>-ca`: the endpoint must exist first (KCP creates the
 * CAs only once the infrastructure is provisioned), so the port listens with a cert from a throw-away CA
 * that lives only in this process. No client can prove an identity against it: every request gets 401
 * until the real CA is swapped in. One per advertised host set, shared by every VIP.
 */
export function placeholderTlsContexts(hosts: string[]): Promise<ClusterTlsContexts> {
  const key = hosts.join(",");
  let p = placeholders.get(key);
  if (!p) {
    p = generateCA("capim-edge placeholder (waiting for the cluster CA)").then((ca) => createClusterTlsContexts({ ca, hosts }));
    p.catch(() => placeholders.delete(key));
    placeholders.set(key, p);
  }
  return p;
}
