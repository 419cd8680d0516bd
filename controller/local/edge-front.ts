// One local port that speaks both plain HTTP and HTTPS in front of miniflare's plain-HTTP socket.
//
// Why: kubectl (client-go's clientcmd) only sends a bearer token to https servers, so
// `kubectl --server <edge>/clusters/... --token T` needs TLS, while Miniflare serves one protocol per
// socket and scripts expect the plain `http://` URL too. The first byte of a connection tells them apart
// (0x16 starts every TLS handshake record); after that both are raw byte pipes, so streaming (watch)
// responses pass through untouched and HTTP parsing stays in workerd.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import type { CertKeyPair } from "../pki/index.js";

const TLS_HANDSHAKE_RECORD = 0x16;

export interface EdgeTls {
  ca: CertKeyPair;
  serving: CertKeyPair;
}

export interface EdgeFront {
  port: number;
  close(): Promise<void>;
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
  // The PKI (@peculiar/x509 and its polyfills) is loaded only to mint: a restart reads the stored files.
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

/** Listens on `port` (0: any) of 127.0.0.1 and pipes every connection to `upstreamPort`. */
export async function startEdgeFront(opts: { port: number; upstreamPort: number; tls: EdgeTls }): Promise<EdgeFront> {
  const secureContext = tls.createSecureContext({ cert: opts.tls.serving.certPem, key: opts.tls.serving.keyPem });
  const sockets = new Set<net.Socket>();

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    client.setNoDelay(true);
    client.once("readable", () => {
      const first: Buffer | null = client.read(1);
      if (!first) return client.destroy();
      client.unshift(first);
      const upstream = net.connect({ host: "127.0.0.1", port: opts.upstreamPort });
      sockets.add(upstream);
      upstream.setNoDelay(true);
      upstream.on("close", () => sockets.delete(upstream));
      // TLSSocket reads the bytes already buffered on the socket (the unshifted first byte) first.
      const downstream: net.Socket = first[0] === TLS_HANDSHAKE_RECORD ? new tls.TLSSocket(client, { isServer: true, secureContext }) : client;
      const closeBoth = () => {
        downstream.destroy();
        upstream.destroy();
      };
      upstream.on("error", closeBoth);
      downstream.on("error", closeBoth);
      downstream.pipe(upstream);
      upstream.pipe(downstream);
    });
    client.resume();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
