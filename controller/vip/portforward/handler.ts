// The VIP's handler for `pods/<pod>/portforward` upgrades: checks the pod, answers the SPDY/3.1 or the
// WebSocket (`SPDY/3.1+portforward.k8s.io`) upgrade, and hands every forwarded connection to the tunnel mux.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { TargetError, TunnelMux, type ClusterEtcdObserver, type IssueCert, type TunnelContext, type TunnelLog } from "../etcd/tls-mux.js";
import { writeStatusToSocket } from "../proxy.js";
import { SpdySession, type PortForwardPair } from "./session.js";
import { acceptPortForwardWebSocket, isWebSocketUpgrade, webSocketRejection } from "./websocket.js";

export type PortForwardContext = TunnelContext;

/** Assignable to controller/vip's UpgradeHandler (its UpgradeContext is a superset of TunnelContext). */
export type PortForwardUpgradeHandler = (ctx: PortForwardContext, req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Connects one forwarded connection; rejects with TargetError when nothing listens there. */
export type ConnectTarget = (ctx: PortForwardContext, pod: string, port: number, stream: Duplex) => Promise<void>;

export interface PortForwardHandlerOptions {
  /** Leaf issuer for etcd member certs when the context carries no VIP TLS material (default controller/pki). */
  issueCert?: IssueCert;
  /** Where tunnelled connections go; defaults to the TLS mux (etcd gRPC bridge / apiserver). */
  connectTarget?: ConnectTarget;
  headerEncoding?: "deflate" | "stored";
  log?: TunnelLog;
  unresponsiveCapMs?: number;
  /** Told of every etcd RPC served through a tunnel (metrics). */
  observeEtcd?: ClusterEtcdObserver;
}

export const PORTFORWARD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/;
export const SPDY_PORTFORWARD_PROTOCOL = "portforward.k8s.io";

export interface PortForwardHandler extends PortForwardUpgradeHandler {
  /** The mux behind the default target, e.g. to forget a deleted cluster's cached servers. */
  mux: TunnelMux;
}

export function createPortForwardHandler(opts: PortForwardHandlerOptions = {}): PortForwardHandler {
  const mux = new TunnelMux({ issueCert: opts.issueCert, log: opts.log, unresponsiveCapMs: opts.unresponsiveCapMs, observeEtcd: opts.observeEtcd });
  const connect: ConnectTarget = opts.connectTarget ?? ((ctx, pod, port, stream) => mux.connect(ctx, pod, port, stream));

  const handler = ((ctx, req, socket, head) => {
    socket.on("error", (err) => opts.log?.("portforward socket error", { err: String(err) }));
    handleUpgrade(ctx, req, socket, head).catch((err) => {
      opts.log?.("portforward upgrade failed", { cluster: `${ctx.namespace}/${ctx.name}`, url: req.url, err: String(err) }, "warn");
      writeStatus(socket, 500, "InternalError", `capim-edge: port-forward failed: ${(err as Error)?.message ?? err}`);
    });
  }) as PortForwardHandler;
  handler.mux = mux;

  async function handleUpgrade(ctx: PortForwardContext, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "https://vip.invalid");
    const m = PORTFORWARD_PATH.exec(url.pathname);
    if (!m) return writeStatus(socket, 404, "NotFound", `the server could not find the requested resource (${url.pathname})`);
    const namespace = decodeURIComponent(m[1]);
    const pod = decodeURIComponent(m[2]);

    const ws = isWebSocketUpgrade(req);
    if (ws) {
      const why = webSocketRejection(req);
      // A non-101 answer makes kubectl and KCP fall back to SPDY.
      if (why) return writeStatus(socket, 400, "BadRequest", `unable to upgrade connection: ${why}`);
    } else {
      const upgrade = String(req.headers.upgrade ?? "").toLowerCase();
      const versions = headerList(req.headers["x-stream-protocol-version"]);
      if (req.method !== "POST" && req.method !== "GET") return writeStatus(socket, 405, "MethodNotAllowed", `method ${req.method} not allowed`);
      if (!upgrade.split(",").map((s) => s.trim()).includes("spdy/3.1")) {
        return writeStatus(socket, 400, "BadRequest", "unable to upgrade connection: missing upgrade headers in request (want Upgrade: SPDY/3.1 or websocket)");
      }
      if (!versions.includes(SPDY_PORTFORWARD_PROTOCOL)) {
        return writeStatus(socket, 403, "Forbidden", `unable to upgrade connection: no supported stream protocol offered (want ${SPDY_PORTFORWARD_PROTOCOL})`);
      }
    }

    const podRes = await ctx.edgeFetch(`${ctx.clusterPath}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}`, {
      headers: { accept: "application/json" },
    });
    if (podRes.status === 404) return writeStatus(socket, 404, "NotFound", `pods "${pod}" not found`);
    if (!podRes.ok) {
      const text = await podRes.text().catch(() => "");
      opts.log?.("portforward: reading the pod from the edge failed", { cluster: `${ctx.namespace}/${ctx.name}`, pod: `${namespace}/${pod}`, code: podRes.status, err: text.slice(0, 200) }, "warn");
      return writeStatus(socket, podRes.status >= 500 ? 503 : podRes.status, "ServiceUnavailable", `capim-edge: reading pod ${namespace}/${pod}: ${podRes.status} ${text.slice(0, 200)}`);
    }
    const podObj = (await podRes.json().catch(() => ({}))) as { status?: { phase?: string } };
    const phase = podObj.status?.phase ?? "Unknown";
    if (phase !== "Running") {
      return writeStatus(socket, 400, "BadRequest", `unable to upgrade connection: pod ${pod} is not running (phase ${phase})`);
    }

    let transport: Duplex;
    let rest: Buffer | undefined;
    if (ws) {
      transport = acceptPortForwardWebSocket(req, socket, head);
    } else {
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\n" +
          "Connection: Upgrade\r\n" +
          "Upgrade: SPDY/3.1\r\n" +
          `X-Stream-Protocol-Version: ${SPDY_PORTFORWARD_PROTOCOL}\r\n\r\n`,
      );
      transport = socket;
      rest = head;
    }
    // ctx.namespace/name identify the cluster (admin API); `namespace` is the pod's, inside the cluster.
    new SpdySession(transport, rest, {
      headerEncoding: opts.headerEncoding,
      log: opts.log,
      onPair: (pair) => forward(ctx, pod, pair),
    });
  }

  function forward(ctx: PortForwardContext, pod: string, pair: PortForwardPair): void {
    // The error stream's FIN tells kubectl this connection is over (it waits for it per connection).
    let finished = false;
    const finish = (message?: string) => {
      if (finished) return;
      finished = true;
      pair.finishError(message);
    };
    pair.data.once("close", () => finish());
    pair.data.on("error", () => {});
    connect(ctx, pod, pair.port, pair.data).catch((err: unknown) => {
      const message = err instanceof TargetError ? err.message : `capim-edge: port-forward to ${pod}:${pair.port} failed: ${(err as Error)?.message ?? err}`;
      // Warn: KCP only sees a timeout or an error stream; this names the cluster and pod it was for.
      opts.log?.("portforward target failed", { cluster: `${ctx.namespace}/${ctx.name}`, pod, port: pair.port, err: message }, "warn");
      finish(message);
      pair.data.destroy();
    });
  }

  return handler;
}

function headerList(v: string | string[] | undefined): string[] {
  return (Array.isArray(v) ? v.join(",") : (v ?? ""))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A Kubernetes Status as a plain HTTP/1.1 response on the not-yet-upgraded socket. */
const writeStatus = writeStatusToSocket;
