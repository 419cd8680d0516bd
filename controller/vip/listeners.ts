// One TLS listener per cluster: HTTP/2 + HTTP/1.1 on a port of its own, the cluster's serving cert, client
// certificates verified against the cluster CA, requests proxied to the edge and upgrades handed to the
// port-forward layer.
//
// Authentication choice (consistent for every VIP): the handshake accepts any client (requestCert, but
// rejectUnauthorized false) and each request is then checked: no certificate, or one that does not chain
// to *this* cluster's CA (another cluster's CA, expired, self-signed), gets HTTP 401 with a `Status` body,
// like kube-apiserver with anonymous auth off. Clients see "Unauthorized" instead of an opaque TLS reset.
// Exception: connections whose SNI routes to etcd (`etcd-<node>`) are closed right after the handshake
// when their client cert does not chain to the etcd CA, as etcd with --client-cert-auth does.
import type http from "node:http";
import http2, { type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { Duplex } from "node:stream";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import type { CertKeyPair } from "../pki/ca.js";
import type { Metrics, RequestLabels } from "../metrics.js";
import type { ClusterTlsContexts } from "./tls.js";
import { kubeRequest, metricVerb, type KubeRequest } from "../../edge-contract/kube-request.js";
import { proxyToEdge, safeRequestPath, sendStatus, writeStatusToSocket, type EdgeTarget, type VipRequest, type VipResponse } from "./proxy.js";
import type { PortPool } from "./ports.js";

/** Who is on the other end of a TLS connection, decided once at handshake time. */
export interface ConnectionIdentity {
  /** The client certificate chains to the CA of the name the client reached (cluster CA, or etcd CA for etcd-*). */
  authorized: boolean;
  /** Client certificate CN (Kubernetes user name) when authorized. */
  user?: string;
  /** Client certificate O values (Kubernetes groups) when authorized. */
  groups: string[];
  /** Why not authorized (OpenSSL's reason, or "no client certificate"). */
  error?: string;
  /** SNI the client sent, if any. */
  serverName?: string;
  route: "apiserver" | "etcd";
}

const kIdentity = Symbol("capim.vip.identity");

/** The identity of a VIP connection; works on TLS sockets and on the socket proxies of HTTP/2 requests. */
export function connectionIdentity(socket: unknown): ConnectionIdentity | undefined {
  return (socket as Record<symbol, ConnectionIdentity | undefined> | undefined)?.[kIdentity];
}

/** Everything the port-forward/etcd layer needs to act for one cluster. */
export interface ClusterContext {
  namespace: string;
  name: string;
  /** `<cluster>-ca`; undefined until CAPI (KCP) has created it: the VIP then serves a placeholder cert. */
  clusterCA?: CertKeyPair;
  /** `<cluster>-etcd`; may appear after the VIP opened (KCP writes it after `<cluster>-ca`). */
  etcdCa?: CertKeyPair;
  /** Serving certs/contexts for this cluster's TLS mux (apiserver and etcd-<node>); replaced when a CA changes. */
  tls: ClusterTlsContexts;
  /** `/clusters/<ns>/<name>`, the cluster's prefix on the edge. */
  clusterPath: string;
  /**
   * fetch() against the edge with the controller's bearer token. `path` is relative to the edge root
   * (e.g. `${clusterPath}/api/v1/...` or `/admin/...`); absolute URLs on the edge's origin are accepted too.
   */
  edgeFetch(path: string, init?: RequestInit): Promise<Response>;
  /**
   * Feeds a duplex carrying TLS bytes (a port-forward data stream) into this cluster's TLS mux: SNI picks the
   * certificate, apiserver requests are proxied like any VIP request, etcd-* requests go to `etcdHandler`.
   */
  injectConnection(socket: Duplex): void;
}

export type UpgradeContext = ClusterContext & { identity: ConnectionIdentity };

/**
 * Called for every authorized HTTP/1.1 Upgrade request (SPDY/3.1 or WebSocket, normally
 * `/api/v1/namespaces/<ns>/pods/<pod>/portforward`). It owns `socket` from then on: it writes the 101 (or a
 * refusal) itself. Without a handler the VIP answers 400 with a Status, which makes clients fall back/fail cleanly.
 */
export type UpgradeHandler = (ctx: UpgradeContext, req: http.IncomingMessage, socket: Duplex, head: Buffer) => void | Promise<void>;

/** Serves HTTP/2 requests on connections whose SNI is `etcd-<node>` (gRPC from the etcd client via a tunnel). */
export type EtcdRequestHandler = (ctx: UpgradeContext, req: Http2ServerRequest, res: Http2ServerResponse) => void;

type RequestMetricLabels = Record<RequestLabels, string>;

/** kube-apiserver's defaults: --request-timeout 1m, --max-requests-inflight 400 (+200 mutating). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_INFLIGHT = 600;

export interface ListenerDeps {
  edge: EdgeTarget;
  logger: Logger;
  /** Requests (not watches) the edge must answer within, else 504 (kube-apiserver's --request-timeout). */
  requestTimeoutMs?: number;
  /** Requests (not watches) in flight per cluster beyond which a new one gets 429 (kube's --max-requests-inflight). */
  maxInflight?: number;
  metrics?: Metrics;
  upgradeHandler?: UpgradeHandler;
  etcdHandler?: EtcdRequestHandler;
}

function identify(socket: TLSSocket, tls: ClusterTlsContexts): ConnectionIdentity {
  const serverName = typeof socket.servername === "string" ? socket.servername : undefined;
  const route = tls.route(serverName);
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return { authorized: false, groups: [], error: "no client certificate", serverName, route };
  if (!socket.authorized) {
    return { authorized: false, groups: [], error: String(socket.authorizationError ?? "unverified"), serverName, route };
  }
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const many = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  return { authorized: true, user: one(cert.subject?.CN) ?? "", groups: many(cert.subject?.O), serverName, route };
}

/** The default (non-SNI) context: apiserver cert, client certs checked against the cluster CA. */
function secureContextOptions(tls: ClusterTlsContexts) {
  return { key: tls.apiserver.keyPem, cert: tls.apiserver.certPem, ca: tls.apiserver.caPem };
}

const rejectUpgrade = writeStatusToSocket;

export class ClusterListener {
  readonly server: Http2SecureServer;
  readonly ctx: ClusterContext;
  readonly label: string;
  port = 0;
  /** The current TLS material; `updateTls` swaps it without dropping the listener or its connections. */
  private current: ClusterTlsContexts;
  private readonly sockets = new Set<Duplex>();
  private closed?: Promise<void>;
  /** Requests (not watches) being proxied now, for the maxInflight bound. */
  private inflight = 0;

  constructor(
    cluster: { namespace: string; name: string; ca?: CertKeyPair; etcdCa?: CertKeyPair },
    tls: ClusterTlsContexts,
    private readonly deps: ListenerDeps,
  ) {
    const { namespace, name } = cluster;
    this.current = tls;
    this.label = `${namespace}/${name}`;
    const clusterPath = `/clusters/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
    const edge = deps.edge;
    this.ctx = {
      namespace,
      name,
      clusterCA: cluster.ca,
      etcdCa: cluster.etcdCa,
      tls,
      clusterPath,
      edgeFetch: (path, init) => {
        const base = edge.url.href.replace(/\/+$/, "");
        const url = /^https?:/.test(path) ? path : `${base}${path.startsWith("/") ? "" : "/"}${path}`;
        if (new URL(url).origin !== edge.url.origin) return Promise.reject(new Error(`not an edge URL: ${url}`));
        const headers = new Headers(init?.headers);
        headers.set("authorization", `Bearer ${edge.token}`);
        return fetch(url, { ...init, headers });
      },
      injectConnection: (socket) => {
        if (this.closed) socket.destroy();
        else this.server.emit("connection", socket);
      },
    };

    this.server = http2.createSecureServer({
      allowHTTP1: true,
      requestCert: true,
      rejectUnauthorized: false,
      ...secureContextOptions(tls),
      // Reads the current material: a CA that appears later is used by the next handshake.
      SNICallback: (serverName, cb) => this.current.sniCallback(serverName, cb),
      ALPNProtocols: ["h2", "http/1.1"],
    });
    this.server.on("connection", (raw: Duplex) => {
      this.sockets.add(raw);
      raw.once("close", () => this.sockets.delete(raw));
      (raw as Socket).setNoDelay?.(true);
    });
    this.server.on("secureConnection", (socket: TLSSocket) => {
      const id = identify(socket, this.current);
      (socket as unknown as Record<symbol, ConnectionIdentity>)[kIdentity] = id;
      if (id.route === "etcd" && !id.authorized) {
        deps.logger.debug({ cluster: this.label, sni: id.serverName, err: id.error }, "etcd connection refused");
        socket.destroy();
      }
    });
    this.server.on("tlsClientError", (err) => deps.logger.debug({ cluster: this.label, err: err.message }, "TLS handshake failed"));
    // A malformed HTTP/1.1 request (two Content-Lengths, a bad chunk size, obs-fold...) gets a 400 Status
    // and the connection closes, as kube-apiserver answers; Node's default is a body-less 400.
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
      deps.logger.debug({ cluster: this.label, err: err.message, code: err.code }, "malformed HTTP/1.1 request");
      if (err.code === "ECONNRESET" || !socket.writable) return socket.destroy();
      writeStatusToSocket(socket, 400, "BadRequest", `malformed HTTP request: ${err.code ?? err.message}`);
    });
    this.server.on("request", (req: VipRequest, res: VipResponse) => this.onRequest(req, res));
    this.server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    // An HTTP/2 session error must not take the process down; the session is torn down by Node.
    this.server.on("sessionError", (err) => deps.logger.debug({ cluster: this.label, err: err.message }, "h2 session error"));
  }

  get tls(): ClusterTlsContexts {
    return this.current;
  }

  /**
   * Serves with new CAs from the next handshake on (CAPI creates `<cluster>-ca`, then `<cluster>-etcd`, after
   * the endpoint exists). The port stays open and established connections keep the identity they proved.
   */
  updateTls(tls: ClusterTlsContexts, ca: CertKeyPair | undefined, etcdCa: CertKeyPair | undefined): void {
    this.current = tls;
    this.ctx.tls = tls;
    this.ctx.clusterCA = ca;
    this.ctx.etcdCa = etcdCa;
    this.server.setSecureContext(secureContextOptions(tls));
  }

  async listen(pool: PortPool, bindAddress: string, preferred?: number, exact = false): Promise<number> {
    this.port = await pool.listen(this.server, bindAddress, preferred, { exact });
    return this.port;
  }

  /** kube-apiserver's request metrics for one finished request (the duration only for short ones). */
  private record(labels: RequestMetricLabels, code: number | string, started: number) {
    const m = this.deps.metrics;
    if (!m) return;
    m.apiRequests.inc({ ...labels, code: String(code) });
    if (labels.verb !== "WATCH" && labels.verb !== "CONNECT") m.apiRequestDuration.observe(labels, (performance.now() - started) / 1000);
  }

  /** The request's labels on the request metrics, worked out once per request. */
  private labels(r: KubeRequest): RequestMetricLabels {
    return { cluster: this.label, verb: metricVerb(r.verb), group: r.group, resource: r.resource, subresource: r.subresource };
  }

  private onRequest(req: VipRequest, res: VipResponse): void {
    const started = performance.now();
    const id = connectionIdentity(req.socket);
    const kreq = kubeRequest(req.method ?? "GET", req.url ?? "/");
    const verb = kreq.verb;
    const labels = this.labels(kreq);
    const log = this.deps.logger;
    const reply = (code: number, reason: string, message: string) => {
      sendStatus(res, code, reason, message);
      this.record(labels, code, started);
      log.debug({ cluster: this.label, method: req.method, url: req.url, code, user: id?.user, err: id?.error }, "vip request refused");
    };
    if (!id) return reply(500, "InternalError", "connection identity missing");
    if (id.route === "etcd") {
      if (!this.deps.etcdHandler || !("stream" in req)) return reply(503, "ServiceUnavailable", "etcd is not served on this VIP");
      this.deps.etcdHandler({ ...this.ctx, identity: id }, req, res as Http2ServerResponse);
      return;
    }
    if (!id.authorized) return reply(401, "Unauthorized", "Unauthorized");
    if (!safeRequestPath(req.url)) return reply(400, "BadRequest", `invalid request path ${JSON.stringify(req.url)}`);
    const watch = verb === "watch";
    if (!watch && this.inflight >= (this.deps.maxInflight ?? DEFAULT_MAX_INFLIGHT)) {
      // As kube-apiserver's max-in-flight filter answers: the client backs off for Retry-After and retries.
      res.setHeader("retry-after", "1");
      return reply(429, "TooManyRequests", "Too many requests, please try again later.");
    }
    const m = this.deps.metrics;
    const kind = { cluster: this.label, request_kind: verb === "get" || verb === "list" ? "readOnly" : "mutating" };
    if (!watch) {
      this.inflight++;
      m?.apiInflight.inc(kind);
    } else m?.apiLongRunning.inc(labels);
    proxyToEdge(this.deps.edge, this.ctx.clusterPath, req, res, { user: id.user ?? "", groups: id.groups }, (code, err) => {
      if (!watch) {
        this.inflight--;
        m?.apiInflight.dec(kind);
      } else m?.apiLongRunning.dec(labels);
      this.record(labels, code, started);
      const ms = Math.round((performance.now() - started) * 10) / 10;
      if (err || code >= 500) log.warn({ cluster: this.label, method: req.method, url: req.url, code, user: id.user, ms, err: err?.message }, "vip request failed");
      else log.debug({ cluster: this.label, method: req.method, url: req.url, code, user: id.user, ms, http: req.httpVersion, ua: req.headers["user-agent"] }, "vip request");
    }, { watch, timeoutMs: this.deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS });
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = performance.now();
    const id = connectionIdentity(socket);
    const log = this.deps.logger;
    const labels = this.labels({ ...kubeRequest(req.method ?? "GET", req.url ?? "/"), verb: "connect" });
    const refuse = (code: number, reason: string, message: string) => {
      rejectUpgrade(socket, code, reason, message);
      this.record(labels, code, started);
      log.debug({ cluster: this.label, url: req.url, upgrade: req.headers.upgrade, code, user: id?.user }, "upgrade refused");
    };
    if (!id?.authorized) return refuse(401, "Unauthorized", "Unauthorized");
    if (!safeRequestPath(req.url)) return refuse(400, "BadRequest", `invalid request path ${JSON.stringify(req.url)}`);
    const handler = this.deps.upgradeHandler;
    if (!handler) return refuse(400, "BadRequest", `upgrade to ${req.headers.upgrade ?? "?"} is not supported`);
    // kube counts an upgraded connection once, with 101, and as long-running while it is open.
    this.record(labels, 101, started);
    const m = this.deps.metrics;
    m?.apiLongRunning.inc(labels);
    socket.once("close", () => m?.apiLongRunning.dec(labels));
    Promise.resolve()
      .then(() => handler({ ...this.ctx, identity: id }, req, socket, head))
      .catch((err: Error) => {
        log.warn({ cluster: this.label, url: req.url, err: err.message }, "upgrade handler failed");
        if (socket.writable) rejectUpgrade(socket, 500, "InternalError", "upgrade failed");
        else socket.destroy();
      });
  }

  /** Stops listening and drops every connection (open watches and tunnels included). Idempotent. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (!this.server.listening) {
        for (const s of this.sockets) s.destroy();
        return resolve();
      }
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    return this.closed;
  }
}
