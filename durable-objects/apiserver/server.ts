// The runtime-agnostic fake kube-apiserver: REST + watch over Request/Response for one cluster.
// State lives in memory (ObjectStore), written through to Persistence before any response.
import { handleDiscovery } from "./discovery.js";
import { KindRegistry } from "./kinds.js";
import { ObjectOps } from "./objects.js";
import { cloneJson } from "./patch/merge.js";
import { resolveRequest, type RequestInfo } from "./request-info.js";
import { matchesLabelSelector, parseLabelSelector } from "./label-selectors.js";
import { errorResponse, errors } from "./status.js";
import { atVersion, toStorageVersion } from "./versions.js";
import { ObjectStore } from "./store.js";
import { ApiError, type ApiServerOptions, type KindInfo, type KubeObject } from "./types.js";
import { WatchHub } from "./watch.js";
import { FaultInjector, type ApiFaultsJson } from "./api-faults.js";
import { RequestMetrics } from "./request-metrics.js";
import { kubeRequest } from "../../edge-contract/kube-request.js";
import type { ApiContext } from "./handlers/context.js";
import { deleteCollection, deleteObject, evict } from "./handlers/delete.js";
import { get, list, watch } from "./handlers/read.js";
import { getScale, patchScale, updateScale } from "./handlers/scale.js";
import { create, patch, update } from "./handlers/write.js";

const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export class ApiServer {
  private readonly store: ObjectStore;
  private readonly registry = new KindRegistry();
  private readonly ops: ObjectOps;
  private readonly hub: WatchHub;
  private readonly now: () => Date;
  private readonly gitVersion: string;
  private readonly ctx: ApiContext;
  private faultInjector: FaultInjector | undefined;
  private readonly metrics = new RequestMetrics();

  constructor(private readonly opts: ApiServerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.gitVersion = opts.kubernetesVersion ?? "v1.31.0";
    this.store = new ObjectStore(opts.persistence, opts.eventLogSize ?? 1000, opts.eventWindowMs ?? 75_000, () => this.now().getTime());
    this.ops = new ObjectOps(this.store, this.registry, this.now, opts.randomUUID ?? (() => crypto.randomUUID()));
    this.hub = new WatchHub(opts.watchHeartbeatMs ?? 10_000, () => this.store.rv);
    this.store.onChange((ev, prev) => this.hub.publish(ev, prev));
    this.ctx = { store: this.store, ops: this.ops, registry: this.registry, hub: this.hub, now: this.now, maxBodyBytes: opts.maxBodyBytes ?? 3 * 1024 * 1024 };
    this.ops.registerStoredCrds();
    if (this.store.rv === 0) {
      const ns = this.registry.byGroupResource("", "namespaces")!;
      for (const name of DEFAULT_NAMESPACES) this.ops.create(ns, "", { metadata: { name } });
    }
  }

  get resourceVersion(): number {
    return this.store.rv;
  }

  kinds(): KindInfo[] {
    return this.registry.all();
  }

  /** Number of open watch streams (for metrics and tests). */
  get watchCount(): number {
    return this.hub.size;
  }

  // ------------------------------------------------------------------------------------------
  // System access (no HTTP): same semantics and watch events as the REST path.

  getObject(apiVersion: string, kind: string, namespace: string, name: string): KubeObject | undefined {
    const k = this.kindOf(apiVersion, kind);
    const o = this.ops.get(k, namespace, name);
    return o && atVersion(k, cloneJson(o), apiVersion);
  }

  upsertObject(obj: KubeObject): KubeObject {
    const k = this.kindOf(obj.apiVersion ?? "", obj.kind ?? "");
    const name = obj.metadata?.name;
    if (!name) throw errors.badRequest("upsertObject needs metadata.name");
    const ns = k.namespaced ? (obj.metadata?.namespace ?? "default") : "";
    const body = toStorageVersion(k, cloneJson(obj), obj.apiVersion!, this.ops.storageApiVersion(k));
    if (body.metadata) delete body.metadata.resourceVersion; // system writes are unconditional
    const { object } = this.ops.update(k, ns, name, body, "system");
    return atVersion(k, cloneJson(object), obj.apiVersion!);
  }

  deleteObject(apiVersion: string, kind: string, namespace: string, name: string): boolean {
    const k = this.kindOf(apiVersion, kind);
    if (!this.ops.get(k, namespace, name)) return false;
    this.ops.delete(k, namespace, name, {});
    return true;
  }

  listObjects(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): KubeObject[] {
    const k = this.kindOf(apiVersion, kind);
    const sel = labelSelector ? parseLabelSelector(labelSelector) : undefined;
    return this.store
      .list(k.group, k.resource, k.namespaced ? namespace : undefined)
      .filter((s) => !sel || matchesLabelSelector(sel, s.object.metadata?.labels))
      .map((s) => atVersion(k, cloneJson(s.object), apiVersion));
  }

  countObjects(): number {
    return this.store.count();
  }

  /** Faults injected into this cluster's API from now on (undefined: none). Checked by the caller (parseApiFaults). */
  setFaults(faults: ApiFaultsJson | undefined): void {
    this.faultInjector = faults ? new FaultInjector(faults) : undefined;
    this.ctx.watchLimitMs = this.faultInjector?.watchLimitMs;
  }

  get faults(): ApiFaultsJson | undefined {
    return this.faultInjector?.faults;
  }

  closeWatches(): void {
    this.hub.closeAll();
  }

  private kindOf(apiVersion: string, kind: string): KindInfo {
    const k = this.registry.fromApiVersionKind(apiVersion, kind);
    if (!k) throw new ApiError(404, "NotFound", `no matches for kind "${kind}" in version "${apiVersion}"`);
    return k;
  }

  // ------------------------------------------------------------------------------------------
  // HTTP

  async handle(request: Request): Promise<Response> {
    const started = Date.now();
    const q = request.url.indexOf("/", request.url.indexOf("//") + 2);
    const info = kubeRequest(request.method, q < 0 ? "/" : request.url.slice(q));
    const end = info.verb === "watch" ? undefined : this.metrics.begin(info);
    let res: Response;
    try {
      res = await this.route(request);
    } catch (e) {
      if (e instanceof ApiError) res = errorResponse(e);
      else {
        // Never leak a stack to the client; all checks ran before any commit, so state is unchanged.
        // The operator still needs to see it: a 500 is a bug here.
        (this.opts.onInternalError ?? ((err) => console.error("apiserver: internal error", err)))(e);
        res = errorResponse(errors.internal());
      }
    } finally {
      end?.();
    }
    this.metrics.record(info, res.status, (Date.now() - started) / 1000);
    return res;
  }

  /** kube-apiserver's request metrics of this cluster, in Prometheus text (`cluster` labels every series). */
  metricsText(cluster: string): string {
    return this.metrics.render(cluster, this.hub.size);
  }

  /** Dispatch on the verb; the RequestInfo is worked out once, here, and handed to the handler. */
  private async route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const discovery = handleDiscovery(url, request.headers, this.kinds(), { gitVersion: this.gitVersion });
    if (discovery) return discovery;
    const req: RequestInfo = resolveRequest(request, url, this.registry);
    if (this.faultInjector) {
      const refused = await this.injectFaults(req);
      if (refused) return refused;
    }
    const ctx = this.ctx;
    const name = req.name!;
    if (req.mode === "scale") {
      if (req.verb === "get") return getScale(ctx, req, name);
      return req.verb === "update" ? updateScale(ctx, req, name) : patchScale(ctx, req, name);
    }
    switch (req.verb) {
      case "get":
        return get(ctx, req, name);
      case "list":
        return list(ctx, req);
      case "watch":
        return watch(ctx, req);
      case "create":
        return create(ctx, req);
      case "update":
        return update(ctx, req, name, req.mode as "main" | "status");
      case "patch":
        return patch(ctx, req, name, req.mode as "main" | "status");
      case "delete":
        return deleteObject(ctx, req, name);
      case "deletecollection":
        return deleteCollection(ctx, req);
      case "evict":
        return evict(ctx, req, name);
    }
  }

  /** Waits the injected latency, then answers the injected error if one is drawn. */
  private async injectFaults(req: RequestInfo): Promise<Response | undefined> {
    const { delayMs, error } = this.faultInjector!.decide(req.verb, req.kind.resource);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (!error) return undefined;
    const details = error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : undefined;
    const res = errorResponse(new ApiError(error.code, error.reason, error.message, details));
    if (error.retryAfterSeconds !== undefined) res.headers.set("retry-after", String(error.retryAfterSeconds));
    return res;
  }
}
