// What the tunnelled bytes of a port-forward reach. Fake pods run no processes, so the controller plays them:
//  - `etcd-<node>` port 2379: TLS with that member's serving cert (client certs must chain to the etcd CA),
//    ALPN h2, then the etcd gRPC bridge answering as member <node>. The pod decides the member, not SNI:
//    grpc-go sends no SNI for IP endpoints, so `etcdctl --endpoints https://127.0.0.1:L` must work too.
//  - `kube-apiserver-<node>`: the VIP's own TLS mux (ctx.injectConnection): apiserver cert (KCP reads its
//    NotAfter), client-cert auth and proxying to the edge exactly as on the VIP port; SNI etcd-<node> there
//    reaches the etcd bridge through the VIP's EtcdRequestHandler (createEtcdRequestHandler below).
// Servers are node:http2 instances that never listen: `emit('connection', duplex)` runs TLS over the
// tunnel stream itself, so no loopback socket is involved.
import { createHash } from "node:crypto";
import http2, { type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { issueCert as pkiIssueCert } from "../../pki/index.js";
import { etcdAdmin, type EdgeFetch, type EtcdAdmin } from "./state.js";
import { serveUnary, type UnaryHandler } from "./grpc.js";
import { createEtcdService } from "./service.js";

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

/** Leaf issuer, controller/pki's `issueCert` by default. */
export type IssueCert = (
  ca: KeyPair,
  req: {
    commonName: string;
    organization?: string[];
    dnsNames?: string[];
    ipAddresses?: string[];
    usage: "server" | "client" | "both";
    validityDays?: number;
  },
) => Promise<KeyPair>;

/** The part of the VIP's UpgradeContext (controller/vip/listeners.ts) the tunnel needs. */
export interface TunnelContext {
  /** Cluster namespace and name (management side). */
  namespace: string;
  name: string;
  clusterCA?: KeyPair;
  etcdCa?: KeyPair;
  /** fetch() against the edge root (`/admin/...`, `${clusterPath}/api/...`). */
  edgeFetch: EdgeFetch;
  /** `/clusters/<ns>/<name>`: the cluster's Kubernetes API prefix on the edge. */
  clusterPath: string;
  /** The VIP's cached serving certs; used for `etcd-<node>` when present. */
  tls?: { etcd(serverName: string): Promise<KeyPair | undefined> };
  /** Feeds TLS bytes into the VIP's mux (apiserver + etcd by SNI). */
  injectConnection?(socket: Duplex): void;
}

/** A failure to reach the "process in the pod"; its message goes to the port-forward error stream. */
export class TargetError extends Error {}

/** An etcd RPC answered for a cluster (`namespace/name`): its path, gRPC code and duration. */
export type ClusterEtcdObserver = (cluster: string, path: string, code: number, seconds: number) => void;

export const ETCD_CLIENT_PORT = 2379;

/** Logging callback of the tunnel layer; "warn" for failures an operator should see (default debug). */
export type TunnelLog = (msg: string, fields?: Record<string, unknown>, level?: "debug" | "warn") => void;

export interface TunnelMuxOptions {
  issueCert?: IssueCert;
  log?: TunnelLog;
  /** Passed to the etcd service (tests shorten it). */
  unresponsiveCapMs?: number;
  /** Told of every etcd RPC answered, with the cluster (`namespace/name`); see EtcdServiceOptions.observe. */
  observeEtcd?: ClusterEtcdObserver;
}

interface Served {
  server: http2.Http2SecureServer;
  /** The latest context for this cluster; the VIP may hand us a fresh edgeFetch per upgrade. */
  ctx: TunnelContext;
}

const fingerprint = (pem: string) => createHash("sha256").update(pem).digest("hex").slice(0, 16);

/** The etcd admin calls for the cluster of `ctx`. */
export function etcdAdminFor(ctx: Pick<TunnelContext, "edgeFetch" | "namespace" | "name">): EtcdAdmin {
  return etcdAdmin(ctx.edgeFetch, ctx.namespace, ctx.name);
}

export class TunnelMux {
  private readonly etcdServers = new Map<string, Promise<Served>>();

  constructor(private readonly opts: TunnelMuxOptions) {}

  /**
   * Serve `stream` as a connection to `pod`:`port`. Resolves once the connection is handed to a server;
   * rejects with TargetError when nothing listens there (the caller reports it on the error stream).
   */
  async connect(ctx: TunnelContext, pod: string, port: number, stream: Duplex): Promise<void> {
    const etcd = /^etcd-(.+)$/.exec(pod);
    if (etcd) {
      if (port !== ETCD_CLIENT_PORT) throw refused(pod, port);
      const node = etcd[1];
      if (!ctx.etcdCa) throw new TargetError(`capim-edge: no etcd CA (Secret ${ctx.name}-etcd) known for cluster ${ctx.namespace}/${ctx.name}`);
      await this.assertMemberServing(ctx, node, pod, port);
      const served = await this.etcdServer(ctx, node);
      served.ctx = ctx;
      served.server.emit("connection", stream);
      // After the TLS layer has seen the client's EOF (its listener runs first): end the tunnel connection.
      // Destroying the TLS socket of an h2 session does not reach the stream below it.
      stream.once("end", () => stream.destroy());
      return;
    }
    if (/^kube-apiserver-.+$/.test(pod)) {
      if (!ctx.injectConnection) throw new TargetError(`capim-edge: the apiserver of ${ctx.namespace}/${ctx.name} is not served here`);
      ctx.injectConnection(stream);
      return;
    }
    throw new TargetError(
      `error forwarding port ${port} to pod ${pod}: capim-edge pods run no processes; only etcd-<node>:${ETCD_CLIENT_PORT} and kube-apiserver-<node> accept connections`,
    );
  }

  /** Drop the cached servers of a deleted cluster. */
  forgetCluster(namespace: string, name: string): void {
    const prefix = `${namespace}/${name}/`;
    for (const key of this.etcdServers.keys()) if (key.startsWith(prefix)) this.etcdServers.delete(key);
  }

  /** A removed member has shut down: its port refuses connections (clients see TransientFailure). */
  private async assertMemberServing(ctx: TunnelContext, node: string, pod: string, port: number): Promise<void> {
    let state;
    try {
      state = await etcdAdminFor(ctx).getState();
    } catch (err) {
      // The edge being briefly unreachable should not look like a dead member; RPCs will report it.
      this.opts.log?.("etcd state unavailable at connect", { cluster: `${ctx.namespace}/${ctx.name}`, pod, err: String(err) }, "warn");
      return;
    }
    const member = state.members.find((m) => m.name === node);
    if (!member || member.removed) throw refused(pod, port);
  }

  private etcdServer(ctx: TunnelContext, node: string): Promise<Served> {
    const etcdCa = ctx.etcdCa!;
    const key = `${ctx.namespace}/${ctx.name}/etcd/${node}/${fingerprint(etcdCa.certPem)}`;
    let p = this.etcdServers.get(key);
    if (!p) {
      p = (async () => {
        const pair =
          (await ctx.tls?.etcd(`etcd-${node}`)) ??
          (await (this.opts.issueCert ?? pkiIssueCert)(etcdCa, {
            commonName: `etcd-${node}`,
            dnsNames: [`etcd-${node}`, node, "localhost"],
            ipAddresses: ["127.0.0.1"],
            usage: "both",
          }));
        const served: Served = { ctx, server: undefined as unknown as http2.Http2SecureServer };
        // Reads served.ctx at call time, so a newer edgeFetch is picked up.
        const admin = {
          getState: (signal?: AbortSignal) => etcdAdminFor(served.ctx).getState(signal),
          moveLeader: (id: bigint) => etcdAdminFor(served.ctx).moveLeader(id),
          removeMember: (id: bigint) => etcdAdminFor(served.ctx).removeMember(id),
        };
        const observe = this.opts.observeEtcd;
        const service = createEtcdService({
          admin,
          memberName: node,
          unresponsiveCapMs: this.opts.unresponsiveCapMs,
          observe: observe && ((path, code, seconds) => observe(`${served.ctx.namespace}/${served.ctx.name}`, path, code, seconds)),
        });
        // No SNICallback: the default context (which carries `ca`) serves every SNI, and the member is
        // fixed by the pod anyway. (An SNICallback context without `ca` breaks client-cert checks.)
        served.server = http2.createSecureServer({
          key: pair.keyPem,
          cert: pair.certPem,
          ca: etcdCa.certPem,
          requestCert: true,
          rejectUnauthorized: true,
          ALPNProtocols: ["h2"],
        });
        served.server.on("stream", (stream, headers) => serveUnary(stream, headers, service));
        served.server.on("secureConnection", closeOnPeerEof);
        served.server.on("tlsClientError", (err) => this.opts.log?.("etcd tls client error", { node, err: String(err) }));
        served.server.on("sessionError", () => {});
        return served;
      })();
      p.catch(() => this.etcdServers.delete(key));
      this.etcdServers.set(key, p);
    }
    return p;
  }
}

/**
 * The VIP's EtcdRequestHandler: gRPC on connections whose SNI is `etcd-<node>` (the VIP already checked the
 * client cert against the etcd CA), answered as member <node>.
 */
export function createEtcdRequestHandler(opts: { unresponsiveCapMs?: number; observeEtcd?: ClusterEtcdObserver } = {}) {
  return (
    ctx: Pick<TunnelContext, "edgeFetch" | "namespace" | "name"> & { identity?: { serverName?: string } },
    req: Http2ServerRequest,
    res: Http2ServerResponse,
  ): void => {
    const node = /^etcd-(.+)$/.exec((ctx.identity?.serverName ?? "").toLowerCase())?.[1];
    if (!node) {
      res.writeHead(421, { "content-type": "text/plain" });
      res.end("misdirected request: not an etcd-<node> server name\n");
      return;
    }
    const observe = opts.observeEtcd;
    const service: Map<string, UnaryHandler> = createEtcdService({
      admin: etcdAdminFor(ctx),
      memberName: node,
      unresponsiveCapMs: opts.unresponsiveCapMs,
      observe: observe && ((path, code, seconds) => observe(`${ctx.namespace}/${ctx.name}`, path, code, seconds)),
    });
    // Serve the raw stream: the compat response's own trailer handler would send a second set of trailers.
    req.stream.removeAllListeners("wantTrailers");
    serveUnary(req.stream, req.headers, service);
  };
}

/**
 * HTTP/2 has no half-close: a peer that sent EOF is gone, and grpc-go (a real etcd) closes such a connection.
 * Node's http2 server keeps the half-open TLS socket, and over a port-forward tunnel no later write ever fails,
 * so the pair's streams would stay open for good: kubectl waits for the error stream's FIN per connection, and
 * a write of ours after its local connection went away (a deadline answer racing the client's cancel) parks one
 * of spdystream's frame workers, stalling every later stream of the session that worker serves. So the TLS
 * socket (and its h2 session) is destroyed here, and TunnelMux.connect destroys the tunnel stream below it,
 * which finishes both streams of the pair (session.ts) and releases them on kubectl's side.
 */
function closeOnPeerEof(socket: TLSSocket): void {
  socket.once("end", () => socket.destroy());
}

function refused(pod: string, port: number): TargetError {
  // kubelet's wording for a port nothing listens on, so logs read the same as with a real cluster.
  return new TargetError(
    `error forwarding port ${port} to pod ${pod}: failed to connect to localhost:${port}: dial tcp4 127.0.0.1:${port}: connect: connection refused`,
  );
}
