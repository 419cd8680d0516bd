// The WorkloadCluster Durable Object: one fake workload cluster, its state in this DO's SQLite.
//
// Lifecycle: a DO instance exists for every name the worker routes to, but the cluster exists only
// after `PUT /_admin/cluster` wrote the `meta` row `created`. Until then every request answers
// 404 and nothing is written (the constructor only reads sqlite_master). Idle DOs are evicted after
// ~10 s; the constructor rebuilds the API server from SQLite, so nothing lives only in memory.
//
// Extension points (for machines/etcd, implemented later in this file or a subclass):
//  - `adminExtension(request, url)`: called for `/_admin/*` paths other than `/_admin/cluster`
//    when the cluster exists (the worker maps `/admin/clusters/:ns/:name/machines...` to
//    `/_admin/machines...` and `.../etcd...` to `/_admin/etcd...`). Return a Response, or
//    undefined for "not mine" (answered 404 Status).
//  - `onAlarm`: set it to a function and `alarm()` runs it (use `ctx.storage.setAlarm` to schedule;
//    alarms survive eviction, timers do not). Deleting the cluster cancels the alarm.
//  - `onDelete`: called before the storage is wiped on cluster deletion.
//  - `this.api` (the ApiServer), `this.persistence` (its SQLite tables plus meta), `this.info`.
//
// Ephemeral clusters: an optional expiry (durable-objects/ttl.ts) is one more source of the shared
// alarm; at expiry the cluster is wiped exactly like `DELETE /_admin/cluster` and its tenant-directory
// row removed. Every request first checks the expiry too, so a cluster whose alarm was missed (edge
// down at the time) is gone before it could answer. Per-cluster token digests live in
// durable-objects/cluster-tokens.ts; the worker passes a presented token's digest in a header and
// this DO verifies it. The tenant's maxObjectsPerCluster is enforced here before creating requests.
import { DurableObject } from "cloudflare:workers";
import { ApiServer } from "./apiserver/server.js";
import { SqlitePersistence } from "./sqlite-persistence.js";
import { ClusterMachines } from "./machines/controller.js";
import { SqliteMachineStore } from "./machines-sqlite.js";
import { SqliteEtcdStore } from "./etcd-sqlite.js";
import { ClusterExpiry, EXPIRY_ALARM } from "./ttl.js";
import { ClusterTokenStore } from "./cluster-tokens.js";
import { TOKEN_DIGEST_HEADER } from "../worker/cluster-tokens.js";
import { limitsFor } from "../worker/limits.js";
import { CLUSTER_HEADER, maxBodyBytes, type Env } from "../worker/env.js";
import { clusterNotFound, json, statusResponse } from "../worker/status.js";

export const DEFAULT_KUBERNETES_VERSION = "v1.32.0";

export interface ClusterInfo {
  tenant: string;
  namespace: string;
  name: string;
  createdAt: string;
  kubernetesVersion: string;
  labels: Record<string, string>;
}

/** Body of `PUT /_admin/cluster` (validated by the worker's admin API). */
export interface CreateClusterRequest {
  kubernetesVersion?: string;
  labels?: Record<string, string>;
  /** Seconds until the cluster deletes itself (absent/null: never). Only used when creating. */
  ttlSeconds?: number | null;
}

export class WorkloadCluster extends DurableObject<Env> {
  protected readonly persistence: SqlitePersistence;
  protected api: ApiServer | undefined;
  protected info: ClusterInfo | undefined;
  protected machines: ClusterMachines | undefined;
  protected onAlarm?: () => Promise<void>;
  protected onDelete?: () => Promise<void>;
  /** The DO has a single alarm: each source's next deadline (epoch ms) is kept here and the earliest is set. */
  private readonly alarmDeadlines = new Map<string, number>();
  protected readonly expiry: ClusterExpiry;
  protected readonly tokens: ClusterTokenStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.persistence = new SqlitePersistence(ctx.storage);
    this.expiry = new ClusterExpiry(ctx.storage.sql);
    this.tokens = new ClusterTokenStore(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => this.open());
  }

  /** Loads an existing cluster; a DO whose cluster was never created stays empty (no writes). */
  private open(): void {
    if (!SqlitePersistence.hasSchema(this.ctx.storage.sql)) return;
    this.persistence.createSchema(); // no-op on existing tables; covers tables added by later versions
    const raw = this.persistence.getMeta("created");
    if (!raw) return;
    this.info = JSON.parse(raw) as ClusterInfo;
    this.api = this.newApiServer(this.info);
    this.machines = this.newMachines(this.api);
    this.tokens.ensureSchema();
    // Re-arm for the expiry too (setAlarm is idempotent); an overdue one fires at once.
    const expiresAt = this.expiry.expiresAt;
    if (expiresAt !== null) this.scheduleAlarm(EXPIRY_ALARM, expiresAt);
  }

  /** The machine bootstrap timeline and fake etcd membership, stored in this DO's SQLite. */
  private newMachines(api: ApiServer): ClusterMachines {
    const sql = this.ctx.storage.sql;
    const machineStore = new SqliteMachineStore(sql);
    const due = machineStore.nextDueAt();
    if (due !== null) this.alarmDeadlines.set("machines", due);
    return new ClusterMachines({
      api,
      machines: machineStore,
      etcd: new SqliteEtcdStore(sql),
      now: () => Date.now(),
      setAlarm: (at) => this.scheduleAlarm("machines", at),
    });
  }

  /** Records one source's next deadline (null: none) and sets the DO alarm to the earliest of all. */
  protected scheduleAlarm(source: string, at: number | null): void {
    if (at === null) this.alarmDeadlines.delete(source);
    else this.alarmDeadlines.set(source, at);
    const next = Math.min(...this.alarmDeadlines.values());
    // The storage calls return promises; the DO's output gate holds responses until they are durable.
    if (Number.isFinite(next)) void this.ctx.storage.setAlarm(next);
    else void this.ctx.storage.deleteAlarm();
  }

  private newApiServer(info: ClusterInfo): ApiServer {
    return new ApiServer({
      persistence: this.persistence,
      kubernetesVersion: info.kubernetesVersion,
      maxBodyBytes: maxBodyBytes(this.env),
    });
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (this.api && this.expiry.isExpired(Date.now())) await this.expire();
      if (url.pathname === "/_admin/cluster") return await this.adminCluster(request);
      if (!this.api || !this.info) return clusterNotFound(clusterNameFromHeader(request));
      if (url.pathname === "/_admin/tokens") return await this.mintToken(request);
      if (url.pathname.startsWith("/_admin/")) {
        return (await this.adminExtension(request, url)) ?? statusResponse(404, `admin path ${url.pathname} not found`, "NotFound");
      }
      const digest = request.headers.get(TOKEN_DIGEST_HEADER);
      if (digest !== null && !this.tokens.verify(digest)) {
        return statusResponse(401, "this cluster token is not valid for this cluster (revoked or never issued)", "Unauthorized");
      }
      const refused = await this.objectLimit(request, url);
      if (refused) return refused;
      return await this.api.handle(request);
    } catch (err) {
      console.error("WorkloadCluster error", url.pathname, err);
      return statusResponse(500, `internal error: ${(err as Error)?.message ?? String(err)}`, "InternalError");
    }
  }

  /** Hook for machines/etcd admin routes; see the file comment. */
  protected async adminExtension(request: Request, url: URL): Promise<Response | undefined> {
    return this.machines?.handleAdmin(request, url);
  }

  override async alarm(): Promise<void> {
    if (!this.api) return; // a deleted cluster's late alarm
    if (this.expiry.isExpired(Date.now())) return this.expire();
    this.machines?.onAlarm();
    await this.onAlarm?.();
  }

  private async adminCluster(request: Request): Promise<Response> {
    switch (request.method) {
      case "GET":
        return this.info && this.api ? json(this.describe()) : clusterNotFound(clusterNameFromHeader(request));
      case "PUT":
        return this.create(request);
      case "PATCH":
        return this.extend(request);
      case "DELETE":
        return this.destroy(request);
      default:
        return statusResponse(405, `method ${request.method} not allowed`, "MethodNotAllowed");
    }
  }

  describe() {
    const info = this.info!;
    return {
      tenant: info.tenant,
      namespace: info.namespace,
      name: info.name,
      createdAt: info.createdAt,
      kubernetesVersion: info.kubernetesVersion,
      labels: info.labels,
      ...(this.expiry.expiresAt === null ? {} : { expiresAt: new Date(this.expiry.expiresAt).toISOString() }),
      resourceVersion: String(this.api!.resourceVersion),
      objectCount: this.api!.countObjects(),
    };
  }

  /** PATCH /_admin/cluster {ttlSeconds}: expire ttlSeconds from now (null: never). Validated by the worker. */
  private async extend(request: Request): Promise<Response> {
    if (!this.info || !this.api) return clusterNotFound(clusterNameFromHeader(request));
    const body = JSON.parse((await request.text()) || "{}") as { ttlSeconds?: number | null };
    this.scheduleAlarm(EXPIRY_ALARM, this.expiry.setTtl(body.ttlSeconds ?? null, Date.now()));
    return json(this.describe());
  }

  /** POST /_admin/tokens: another per-cluster token; only its digest is kept. */
  private async mintToken(request: Request): Promise<Response> {
    if (request.method !== "POST") return statusResponse(405, `method ${request.method} not allowed`, "MethodNotAllowed");
    const token = await this.tokens.mint(this.info!, new Date());
    if (!token) return statusResponse(429, "this cluster already has the maximum number of tokens; delete and recreate it", "TooManyRequests");
    return json({ token }, 201);
  }

  /**
   * The tenant's maxObjectsPerCluster: checked only once the count is reached, for requests that
   * would create an object (POST, or PUT/PATCH of a missing object). Concurrent creates can overshoot
   * by the number in flight; the limit is a guard against runaway jobs, not a quota to the object.
   */
  private async objectLimit(request: Request, url: URL): Promise<Response | undefined> {
    const method = request.method.toUpperCase();
    if (method !== "POST" && method !== "PUT" && method !== "PATCH") return undefined;
    const max = limitsFor(this.env, this.info!.tenant).maxObjectsPerCluster;
    const count = this.api!.countObjects();
    if (count < max) return undefined;
    if (method === "POST" && /\/(eviction|binding)$/.test(url.pathname)) return undefined;
    if (method !== "POST") {
      // Updating an existing object is fine; only a PUT/PATCH that would create one is refused.
      const probe = await this.api!.handle(new Request(url, { method: "GET" }));
      await probe.body?.cancel();
      if (probe.status !== 404) return undefined;
    }
    return statusResponse(
      429,
      `cluster "${this.info!.name}" already holds ${count} objects, the tenant's maximum (maxObjectsPerCluster); delete some first`,
      "TooManyRequests",
    );
  }

  private async create(request: Request): Promise<Response> {
    const id = parseClusterHeader(request);
    if (!id) return statusResponse(400, `missing ${CLUSTER_HEADER} header`, "BadRequest");
    const text = await request.text();
    const body = (text ? JSON.parse(text) : {}) as CreateClusterRequest;
    if (this.info && this.api) {
      if (body.kubernetesVersion && body.kubernetesVersion !== this.info.kubernetesVersion) {
        return statusResponse(
          409,
          `cluster "${this.info.name}" already exists with kubernetesVersion ${this.info.kubernetesVersion}`,
          "Conflict",
        );
      }
      if (body.labels && JSON.stringify(body.labels) !== JSON.stringify(this.info.labels)) {
        this.info = { ...this.info, labels: body.labels };
        this.persistence.setMeta("created", JSON.stringify(this.info));
      }
      return json(this.describe(), 200);
    }
    const info: ClusterInfo = {
      ...id,
      createdAt: new Date().toISOString(),
      kubernetesVersion: body.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION,
      labels: body.labels ?? {},
    };
    // Schema, identity and the API server's seed objects are written in this one synchronous turn.
    this.persistence.createSchema();
    this.persistence.setMeta("created", JSON.stringify(info));
    this.info = info;
    this.api = this.newApiServer(info);
    this.machines = this.newMachines(this.api);
    this.tokens.ensureSchema();
    if (body.ttlSeconds) this.scheduleAlarm(EXPIRY_ALARM, this.expiry.setTtl(body.ttlSeconds, Date.parse(info.createdAt)));
    // The per-cluster token is in this answer only (the caller writes it into a kubeconfig).
    const token = await this.tokens.mint(info, new Date());
    return json({ ...this.describe(), token }, 201);
  }

  private async destroy(request: Request): Promise<Response> {
    if (!this.info || !this.api) return clusterNotFound(clusterNameFromHeader(request));
    const gone = this.describe();
    await this.wipe();
    return json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name: gone.name, group: "capim-edge.dev", kind: "clusters" } });
  }

  /** TTL reached: wipe like DELETE, then drop the tenant-directory row (the admin DELETE does that itself). */
  private async expire(): Promise<void> {
    const { tenant, namespace, name } = this.info!;
    await this.wipe();
    try {
      const dir = this.env.TENANT_DIRECTORY;
      await dir.get(dir.idFromName(tenant)).remove(namespace, name);
    } catch (err) {
      // The directory hides expired rows anyway, and the next listing wakes this DO again.
      console.error("expired cluster: directory update failed", `${tenant}/${namespace}/${name}`, err);
    }
  }

  /** Deletes the whole cluster state (objects, machines, etcd, expiry, tokens) and the alarm. */
  private async wipe(): Promise<void> {
    await this.onDelete?.();
    this.machines?.deleteAll();
    this.machines = undefined;
    this.alarmDeadlines.clear();
    this.api?.closeWatches();
    this.api = undefined;
    this.info = undefined;
    this.persistence.clear();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll(); // also drops the SQL tables of a SQLite-backed DO
    this.expiry.forget();
  }
}

function parseClusterHeader(request: Request): { tenant: string; namespace: string; name: string } | undefined {
  const parts = (request.headers.get(CLUSTER_HEADER) ?? "").split("/");
  if (parts.length !== 3 || parts.some((p) => !p)) return undefined;
  return { tenant: parts[0], namespace: parts[1], name: parts[2] };
}

function clusterNameFromHeader(request: Request): string {
  return parseClusterHeader(request)?.name ?? "";
}
