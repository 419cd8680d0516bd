// VipManager: opens and closes the per-cluster VIP listeners (see listeners.ts for what one VIP does).
import type { Duplex } from "node:stream";
import type { SecureContext } from "node:tls";
import type { Logger } from "pino";
import type { CertKeyPair } from "../pki/ca.js";
import type { Metrics } from "../metrics.js";
import { ClusterListener, type EtcdRequestHandler, type UpgradeHandler } from "./listeners.js";
import { DEFAULT_PORT_RANGE, PortPool } from "./ports.js";
import { createEdgeTarget, type EdgeTarget } from "./proxy.js";
import { clusterSlot } from "../../edge-contract/cluster-hash.js";
import { createClusterTlsContexts, placeholderTlsContexts, type ClusterTlsContexts } from "./tls.js";

export type { UpgradeHandler, UpgradeContext, ClusterContext, EtcdRequestHandler, ConnectionIdentity } from "./listeners.js";
export { connectionIdentity } from "./listeners.js";
export type { ClusterTlsContexts, ServingCert } from "./tls.js";
export { createClusterTlsContexts, APISERVER_DNS_NAMES, APISERVER_IPS } from "./tls.js";
export { PortPool, PortRangeExhaustedError, PortUnavailableError, DEFAULT_PORT_RANGE, parsePortRange } from "./ports.js";
export { statusBody, safeRequestPath } from "./proxy.js";

export interface VipManagerOptions {
  /** The edge, or the K edges a cluster is routed among by its namespace/name (edge-contract/cluster-hash.ts). */
  edgeUrl: string | readonly string[];
  edgeToken: string;
  /** Advertised host (IP or DNS name) written into controlPlaneEndpoint.host and the serving cert's SANs. */
  host: string;
  /** Address the listeners bind. Default 127.0.0.1; in a Pod pass 0.0.0.0. */
  bindAddress?: string;
  /** Inclusive. Default [20000, 30000]. */
  portRange?: [number, number];
  logger: Logger;
  metrics?: Metrics;
  upgradeHandler?: UpgradeHandler;
  /** Serves HTTP/2 (gRPC) on connections whose SNI is `etcd-<node>` (port-forwarded etcd traffic). */
  etcdHandler?: EtcdRequestHandler;
  /** Per request (not watch): the edge's answer must start within this, else 504. Default 60 s. */
  requestTimeoutMs?: number;
  /** Per cluster: requests (not watches) in flight beyond this get 429 + Retry-After. Default 600. */
  maxInflight?: number;
  /**
   * A cluster's own advertised host and bind address (a controller shard's endpoint host, see
   * controller/sharding); absent or undefined for a cluster: `host` and `bindAddress`.
   */
  hostFor?: (namespace: string, name: string) => VipPlace | undefined;
}

export interface VipCluster {
  namespace: string;
  name: string;
  /** Preferred port; used when free, else a new one from the range, unless `exactPort`. */
  port?: number;
  /** `port` is published (DevCluster.spec.controlPlaneEndpoint): bind it or fail with PortUnavailableError. */
  exactPort?: boolean;
  /** `<cluster>-ca`. Undefined until CAPI creates it: the VIP listens anyway (see placeholderTlsContexts). */
  ca?: CertKeyPair;
  etcdCa?: CertKeyPair;
}

/** Where a cluster's VIP listens and what it advertises. */
export interface VipPlace {
  host: string;
  bindAddress: string;
  /** Its own ports (a shard's slice when shards share `bindAddress`); default: the manager's range. */
  portRange?: [number, number];
}

export interface VipEndpoint {
  host: string;
  port: number;
}

const keyOf = (ns: string, name: string) => `${ns}/${name}`;
const sameCa = (a?: CertKeyPair, b?: CertKeyPair) => a?.certPem === b?.certPem && a?.keyPem === b?.keyPem;

export class VipManager {
  private readonly edges: EdgeTarget[];
  /** One port pool per bind address and range: shards on their own addresses reuse port numbers, shards sharing one get disjoint slices. */
  private readonly pools = new Map<string, PortPool>();
  private readonly listeners = new Map<string, ClusterListener>();
  /** Per-cluster operation chain: open/close of one cluster never interleave. */
  private readonly ops = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: VipManagerOptions) {
    this.edges = (typeof opts.edgeUrl === "string" ? [opts.edgeUrl] : opts.edgeUrl).map((url) => createEdgeTarget(url, opts.edgeToken));
  }

  private placeOf(namespace: string, name: string): VipPlace {
    return this.opts.hostFor?.(namespace, name) ?? { host: this.opts.host, bindAddress: this.opts.bindAddress ?? "127.0.0.1" };
  }

  private poolFor({ bindAddress, portRange }: VipPlace): PortPool {
    const range = portRange ?? this.opts.portRange ?? DEFAULT_PORT_RANGE;
    const key = `${bindAddress} ${range[0]}-${range[1]}`;
    let pool = this.pools.get(key);
    if (!pool) this.pools.set(key, (pool = new PortPool(range)));
    return pool;
  }

  private serialize<T>(key: string, op: () => Promise<T>): Promise<T> {
    const prev = this.ops.get(key) ?? Promise.resolve();
    const next = prev.then(op, op);
    const tail = next.catch(() => undefined);
    this.ops.set(key, tail);
    void tail.then(() => {
      if (this.ops.get(key) === tail) this.ops.delete(key);
    });
    return next;
  }

  /**
   * Opens (or returns the already open) VIP of a cluster. When its CAs changed (created after the VIP
   * opened, or rotated), the listener swaps TLS contexts in place: same port, no connection dropped.
   * The returned port differs from `cluster.port` only when that port could not be bound.
   */
  open(cluster: VipCluster): Promise<VipEndpoint> {
    const key = keyOf(cluster.namespace, cluster.name);
    return this.serialize(key, async () => {
      const existing = this.listeners.get(key);
      if (existing) {
        if (!sameCa(existing.ctx.clusterCA, cluster.ca) || !sameCa(existing.ctx.etcdCa, cluster.etcdCa)) {
          existing.updateTls(await this.tlsFor(cluster), cluster.ca, cluster.etcdCa);
          this.opts.logger.info({ cluster: key, port: existing.port, ca: !!cluster.ca, etcdCa: !!cluster.etcdCa }, "VIP serving with new CAs");
        }
        return { host: this.placeOf(cluster.namespace, cluster.name).host, port: existing.port };
      }
      const tls = await this.tlsFor(cluster);
      const listener = new ClusterListener(cluster, tls, {
        edge: this.edges[clusterSlot(cluster.namespace, cluster.name, this.edges.length)],
        logger: this.opts.logger,
        metrics: this.opts.metrics,
        upgradeHandler: this.opts.upgradeHandler,
        etcdHandler: this.opts.etcdHandler,
        requestTimeoutMs: this.opts.requestTimeoutMs,
        maxInflight: this.opts.maxInflight,
      });
      const place = this.placeOf(cluster.namespace, cluster.name);
      const { host, bindAddress } = place;
      const port = await listener.listen(this.poolFor(place), bindAddress, cluster.port, cluster.exactPort);
      this.listeners.set(key, listener);
      this.opts.metrics?.vipsOpen.set(this.listeners.size);
      if (cluster.port !== undefined && cluster.port !== port) {
        this.opts.logger.warn({ cluster: key, wanted: cluster.port, port }, "requested VIP port unavailable; using another");
      }
      this.opts.logger.info({ cluster: key, host, port, ca: !!cluster.ca, etcdCa: !!cluster.etcdCa }, "VIP open");
      return { host, port };
    });
  }

  private tlsFor(cluster: VipCluster): Promise<ClusterTlsContexts> {
    const hosts = [this.placeOf(cluster.namespace, cluster.name).host];
    return cluster.ca ? createClusterTlsContexts({ ca: cluster.ca, etcdCa: cluster.etcdCa, hosts }) : placeholderTlsContexts(hosts);
  }

  private async closeListener(key: string, l: ClusterListener): Promise<void> {
    this.listeners.delete(key);
    this.opts.metrics?.vipsOpen.set(this.listeners.size);
    await l.close();
    this.poolFor(this.placeOf(l.ctx.namespace, l.ctx.name)).release(l.port);
    this.opts.logger.info({ cluster: key, port: l.port }, "VIP closed");
  }

  /** Closes a cluster's VIP, dropping its connections; the port becomes reusable. No-op when not open. */
  close(namespace: string, name: string): Promise<void> {
    const key = keyOf(namespace, name);
    return this.serialize(key, async () => {
      const l = this.listeners.get(key);
      if (l) await this.closeListener(key, l);
    });
  }

  isOpen(namespace: string, name: string): boolean {
    return this.listeners.has(keyOf(namespace, name));
  }

  endpoint(namespace: string, name: string): VipEndpoint | undefined {
    const l = this.listeners.get(keyOf(namespace, name));
    return l && { host: this.placeOf(namespace, name).host, port: l.port };
  }

  list(): Array<{ namespace: string; name: string } & VipEndpoint> {
    return [...this.listeners.values()].map((l) => ({ namespace: l.ctx.namespace, name: l.ctx.name, host: this.placeOf(l.ctx.namespace, l.ctx.name).host, port: l.port }));
  }

  /** Closes the VIPs of the clusters `which` selects (a shard this replica no longer holds). */
  async closeWhere(which: (namespace: string, name: string) => boolean): Promise<void> {
    const chosen = [...this.listeners.values()].filter((l) => which(l.ctx.namespace, l.ctx.name));
    await Promise.all(chosen.map((l) => this.close(l.ctx.namespace, l.ctx.name)));
  }

  async closeAll(): Promise<void> {
    const keys = [...new Set([...this.listeners.keys(), ...this.ops.keys()])];
    await Promise.all(keys.map((k) => this.serialize(k, async () => {
      const l = this.listeners.get(k);
      if (l) await this.closeListener(k, l);
    })));
    for (const e of this.edges) e.agent.destroy();
  }

  /** The cluster's TLS mux material (apiserver cert, etcd-<node> certs, SNI callback), if its VIP is open. */
  getClusterTls(namespace: string, name: string): ClusterTlsContexts | undefined {
    return this.listeners.get(keyOf(namespace, name))?.tls;
  }

  /**
   * The kube-apiserver serving context of an open VIP: for the `kube-apiserver-<node>:6443` port-forward
   * target (KCP reads NotAfter of this cert), e.g. `new tls.TLSSocket(duplex, {isServer: true, secureContext})`.
   */
  getApiServerSecureContext(namespace: string, name: string): { context: SecureContext; certPem: string } | undefined {
    const tls = this.getClusterTls(namespace, name);
    return tls && { context: tls.apiserver.context, certPem: tls.apiserver.certPem };
  }

  /** Feeds tunnelled TLS bytes into a cluster's VIP mux (see ClusterContext.injectConnection). False if not open. */
  injectConnection(namespace: string, name: string, socket: Duplex): boolean {
    const l = this.listeners.get(keyOf(namespace, name));
    if (!l) return false;
    l.ctx.injectConnection(socket);
    return true;
  }
}
