// The controller's access to the management cluster: a thin layer over @kubernetes/client-node that
// names the kinds we touch, turns 404 into `undefined`, sends merge patches, and rate-limits (--qps).
// Reads and writes go through kube-rest.ts (undici, client-node's auth); watches and informers through client-node.
import {
  ApiException,
  KubeConfig,
  type V1Secret,
} from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import { RestClient } from "./kube-rest.js";

export interface GVR {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const DEV_CLUSTER: GVR = { group: "infrastructure.cluster.x-k8s.io", version: "v1beta2", plural: "devclusters", kind: "DevCluster" };
export const DEV_MACHINE: GVR = { group: "infrastructure.cluster.x-k8s.io", version: "v1beta2", plural: "devmachines", kind: "DevMachine" };
export const CLUSTER: GVR = { group: "cluster.x-k8s.io", version: "v1beta2", plural: "clusters", kind: "Cluster" };
export const SECRET: GVR = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
export const SERVICE: GVR = { group: "", version: "v1", plural: "services", kind: "Service" };
export const POD: GVR = { group: "", version: "v1", plural: "pods", kind: "Pod" };
export const MACHINE: GVR = { group: "cluster.x-k8s.io", version: "v1beta2", plural: "machines", kind: "Machine" };
export const IN_MEMORY_CLUSTER: GVR = { group: "infrastructure.cluster.x-k8s.io", version: "v1alpha1", plural: "inmemoryclusters", kind: "InMemoryCluster" };
export const IN_MEMORY_MACHINE: GVR = { group: "infrastructure.cluster.x-k8s.io", version: "v1alpha1", plural: "inmemorymachines", kind: "InMemoryMachine" };
export const DEV_MACHINE_POOL: GVR = { group: "infrastructure.cluster.x-k8s.io", version: "v1beta2", plural: "devmachinepools", kind: "DevMachinePool" };
export const MACHINE_POOL: GVR = { group: "cluster.x-k8s.io", version: "v1beta2", plural: "machinepools", kind: "MachinePool" };
export const CONTROL_PLANE_ENDPOINT: GVR = { group: "vcsim.infrastructure.cluster.x-k8s.io", version: "v1alpha1", plural: "controlplaneendpoints", kind: "ControlPlaneEndpoint" };
export const ENV_VAR: GVR = { group: "vcsim.infrastructure.cluster.x-k8s.io", version: "v1alpha1", plural: "envvars", kind: "EnvVar" };

export function apiVersionOf(gvr: GVR): string {
  return `${gvr.group}/${gvr.version}`;
}

/** Path of a collection (all namespaces when `ns` is absent), as used by list and watch. */
export function collectionPath(gvr: GVR, ns?: string): string {
  const base = gvr.group ? `/apis/${gvr.group}/${gvr.version}` : `/api/${gvr.version}`;
  return ns ? `${base}/namespaces/${ns}/${gvr.plural}` : `${base}/${gvr.plural}`;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  };
  spec?: any;
  status?: any;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiException && e.code === 404;
}

export function isConflict(e: unknown): boolean {
  return e instanceof ApiException && e.code === 409;
}

export function isAlreadyExists(e: unknown): boolean {
  return e instanceof ApiException && e.code === 409;
}

/** A token bucket: `qps` sustained, `burst` at once. qps <= 0 disables it. */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly qps: number,
    private readonly burst: number = Math.max(1, Math.ceil(qps * 1.5)),
  ) {
    this.tokens = burst;
  }

  take(): Promise<void> {
    if (this.qps <= 0) return Promise.resolve();
    // Serialise waiters so that tokens are handed out in arrival order.
    const next = this.chain.then(async () => {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens < 1) {
        const waitMs = ((1 - this.tokens) / this.qps) * 1000;
        await new Promise((r) => setTimeout(r, waitMs));
        this.tokens = 1;
        this.last = Date.now();
      }
      this.tokens -= 1;
    });
    this.chain = next;
    return next;
  }
}

const MERGE_PATCH = "application/merge-patch+json";

type DispatcherOf = (cluster: unknown, agentOptions: Record<string, unknown>) => { close(): Promise<void> } | undefined;

/**
 * `kc` for API clients whose requests share keep-alive connections. client-node 2.0.1 builds a new undici
 * Agent for every request (KubeConfig.applySecurityAuthentication -> createDispatcher), i.e. a new
 * TLS connection and handshake per call; against a client-cert VIP that was most of the embedded
 * default's CPU. The returned object inherits everything from `kc` (the caller's config is not
 * touched) and hands out one dispatcher per distinct TLS setting: a rotated client certificate
 * (exec plugins) gives a new key, a new agent, and the old one is closed once its requests finish.
 */
export function withSharedConnections(kc: KubeConfig): KubeConfig {
  const shared = Object.create(kc) as KubeConfig;
  const build = (kc as unknown as { createDispatcher: DispatcherOf }).createDispatcher;
  let cached: { key: string; dispatcher: ReturnType<DispatcherOf> } | undefined;
  (shared as unknown as { createDispatcher: DispatcherOf }).createDispatcher = function (this: KubeConfig, cluster, agentOptions) {
    const opts = kc.createDispatcherOptions(cluster as never, agentOptions);
    if (opts.type !== "agent") return build.call(this, cluster, agentOptions); // proxies, plain HTTP: as client-node does
    const h = createHash("sha256");
    for (const [k, v] of Object.entries(opts.connect ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      h.update(`${k}=`).update(Buffer.isBuffer(v) ? v : String(v)).update("\0");
    }
    const key = h.digest("hex");
    if (cached?.key !== key) {
      void cached?.dispatcher?.close().catch(() => {});
      cached = { key, dispatcher: build.call(this, cluster, agentOptions) };
    }
    return cached.dispatcher;
  };
  return shared;
}

export class Kube {
  /** The calls below (see kube-rest.ts for why not through client-node's generated clients). */
  private readonly rest: RestClient;
  private readonly limiter: RateLimiter;

  constructor(
    readonly kc: KubeConfig,
    opts: { qps?: number; burst?: number } = {},
  ) {
    this.rest = new RestClient(withSharedConnections(kc));
    this.limiter = new RateLimiter(opts.qps ?? 0, opts.burst);
  }

  async get<T extends KubeObject = KubeObject>(gvr: GVR, namespace: string, name: string): Promise<T | undefined> {
    await this.limiter.take();
    try {
      return await this.rest.call<T>({ method: "GET", path: objectPath(gvr, namespace, name) });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async list<T extends KubeObject = KubeObject>(
    gvr: GVR,
    namespace?: string,
    labelSelector?: string,
  ): Promise<{ items: T[]; metadata?: { resourceVersion?: string } }> {
    await this.limiter.take();
    return await this.rest.call({ method: "GET", path: collectionPath(gvr, namespace), query: { labelSelector } });
  }

  async create<T extends KubeObject = KubeObject>(gvr: GVR, namespace: string, body: KubeObject): Promise<T> {
    await this.limiter.take();
    return await this.rest.call<T>({ method: "POST", path: collectionPath(gvr, namespace), body });
  }

  /** JSON merge patch of the main resource (metadata and spec). */
  async patch<T extends KubeObject = KubeObject>(gvr: GVR, namespace: string, name: string, body: object): Promise<T> {
    await this.limiter.take();
    return await this.rest.call<T>({ method: "PATCH", path: objectPath(gvr, namespace, name), body, contentType: MERGE_PATCH });
  }

  /** JSON merge patch of the status subresource. */
  async patchStatus<T extends KubeObject = KubeObject>(gvr: GVR, namespace: string, name: string, body: object): Promise<T> {
    await this.limiter.take();
    return await this.rest.call<T>({ method: "PATCH", path: `${objectPath(gvr, namespace, name)}/status`, body, contentType: MERGE_PATCH });
  }

  /** Delete; false when it was already gone. */
  async delete(gvr: GVR, namespace: string, name: string): Promise<boolean> {
    await this.limiter.take();
    try {
      await this.rest.call({ method: "DELETE", path: objectPath(gvr, namespace, name) });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async getSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    await this.limiter.take();
    try {
      return await this.rest.call<V1Secret>({ method: "GET", path: objectPath(SECRET, namespace, name) });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}

function objectPath(gvr: GVR, namespace: string, name: string): string {
  return `${collectionPath(gvr, namespace)}/${encodeURIComponent(name)}`;
}

/** Decoded `data[key]` of a Secret (base64 in the API), or undefined. */
export function secretValue(secret: V1Secret | undefined, key: string): string | undefined {
  const v = secret?.data?.[key];
  return v === undefined ? secret?.stringData?.[key] : Buffer.from(v, "base64").toString("utf8");
}

/** An error message for logs and conditions; ApiException bodies carry the server's Status message. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiException) {
    let msg = "";
    try {
      msg = (typeof e.body === "string" ? JSON.parse(e.body) : e.body)?.message ?? "";
    } catch {
      msg = String(e.body ?? "").slice(0, 200);
    }
    return `HTTP ${e.code}${msg ? `: ${msg}` : ""}`;
  }
  return e instanceof Error ? e.message : String(e);
}
