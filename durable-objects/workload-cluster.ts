// The WorkloadCluster Durable Object: one fake workload cluster, its state in this DO's SQLite.
//
// Two doors, and only two:
//  - `fetch` serves the cluster's Kubernetes API and nothing else. The worker is its only caller; it
//    names the cluster and, for a cluster token, the presented token's digest in headers, and the DO
//    checks those before anything else: a digest it did not mint gets 401, whatever the path. No path
//    reaches admin code.
//  - The admin side is typed RPC methods (`createCluster`, `describeCluster`, `putMachine`, ...), called
//    by the worker's admin API only after it has authenticated a tenant token. Each takes the cluster's
//    identity, answers an `AdminReply` (status + JSON body, a `Status` on failure) and never throws.
//
// Lifecycle: a DO instance exists for every name the worker routes to, but the cluster exists only
// after `createCluster` wrote the `meta` row `created`. Until then every call answers 404 and nothing
// is written (the constructor only reads sqlite_master). Idle DOs are evicted after ~10 s; the
// constructor rebuilds the API server from SQLite, so nothing lives only in memory.
//
// Ephemeral clusters: an optional expiry (durable-objects/ttl.ts) is one more source of the shared
// alarm; at expiry the cluster is wiped exactly like `deleteCluster` and its tenant-directory row
// removed. Every call first checks the expiry too, so a cluster whose alarm was missed (edge down at
// the time) is gone before it could answer. Per-cluster token digests live in
// durable-objects/cluster-tokens.ts. The tenant's maxObjectsPerCluster is enforced here before creating requests.
import { DurableObject } from "cloudflare:workers";
import { ApiServer } from "./apiserver/server.js";
import { ApiError } from "./apiserver/types.js";
import { SqlitePersistence } from "./sqlite-persistence.js";
import { WORKLOAD_CLUSTER_BASELINE, WORKLOAD_CLUSTER_MIGRATIONS, hasClusterState, migrate } from "./schema.js";
import { ClusterMachines } from "./machines/controller.js";
import { SqliteMachineStore } from "./machines-sqlite.js";
import { SqliteEtcdStore } from "./etcd-sqlite.js";
import { ClusterExpiry, EXPIRY_ALARM } from "./ttl.js";
import { ClusterTokenStore } from "./cluster-tokens.js";
import type { AdminReply, ApiFaultsJson, ClusterDescription, CreateClusterRequest, EtcdStateJson, MachineJson, MachineList } from "../edge-contract/admin-api.js";
import { parseApiFaults } from "./apiserver/api-faults.js";
import { CLUSTER_HEADER, TOKEN_DIGEST_HEADER, parseClusterObjectName, sameCluster, type ClusterId } from "../edge-contract/cluster-id.js";
import { DEFAULT_KUBERNETES_VERSION } from "../edge-contract/defaults.js";
import { limitsFor, maxBodyBytes } from "../edge-contract/limits.js";
import { ADMIN_GROUP, clusterNotFoundStatus, jsonResponse, statusBody, statusResponse, type StatusJson } from "../edge-contract/status.js";

/** What the `meta` row `created` stores: the cluster's identity and the fields fixed at creation. */
export type ClusterInfo = Pick<ClusterDescription, "tenant" | "namespace" | "name" | "createdAt" | "kubernetesVersion" | "labels">;

export class WorkloadCluster extends DurableObject<Env> {
  protected readonly persistence: SqlitePersistence;
  protected api: ApiServer | undefined;
  protected info: ClusterInfo | undefined;
  protected machines: ClusterMachines | undefined;
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
    if (!hasClusterState(this.ctx.storage.sql)) return;
    migrate(this.ctx.storage, WORKLOAD_CLUSTER_MIGRATIONS); // state written by an earlier version is upgraded in place
    const raw = this.persistence.getMeta("created");
    if (!raw) return;
    this.info = JSON.parse(raw) as ClusterInfo;
    this.api = this.newApiServer(this.info);
    this.machines = this.newMachines(this.api);
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
    const api = new ApiServer({
      persistence: this.persistence,
      kubernetesVersion: info.kubernetesVersion,
      maxBodyBytes: maxBodyBytes(this.env),
    });
    // Injected API faults are stored with the cluster, so they survive a restart of the edge.
    const faults = this.persistence.getMeta(API_FAULTS_META);
    if (faults) api.setFaults(JSON.parse(faults) as ApiFaultsJson);
    return api;
  }

  /** The Kubernetes API of this cluster; the caller is checked first (see the file comment). */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (this.api && this.expiry.isExpired(Date.now())) await this.expire();
      const caller = parseClusterHeader(request);
      // A deleted or expired cluster answers 404 to every caller (the README promises an old kubeconfig
      // a NotFound); it holds nothing a forged token could read.
      if (!this.api || !this.info) return jsonResponse(404, clusterNotFoundStatus(caller?.name ?? ""));
      const digest = request.headers.get(TOKEN_DIGEST_HEADER);
      if (digest !== null && !this.tokens.verify(digest)) {
        return statusResponse(401, "Unauthorized", "this cluster token is not valid for this cluster (revoked or never issued)");
      }
      if (!caller || !sameCluster(caller, this.info)) return statusResponse(403, "Forbidden", "this request does not name this cluster");
      const refused = await this.objectLimit(request, url);
      if (refused) return refused;
      return await this.api.handle(request);
    } catch (err) {
      console.error("WorkloadCluster error", url.pathname, err);
      return statusResponse(500, "InternalError", `internal error: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  override async alarm(): Promise<void> {
    if (!this.api) return; // a deleted cluster's late alarm
    if (this.expiry.isExpired(Date.now())) return this.expire();
    this.machines?.onAlarm();
  }

  // ---- admin RPC: called by worker/admin.ts only, after it authenticated a tenant token ----

  /** Creates the cluster (201, with a per-cluster token shown only this once) or answers the existing one (200). */
  async createCluster(id: ClusterId, body: CreateClusterRequest): Promise<AdminReply<ClusterDescription & { token?: string }>> {
    return this.reply(id, { allowMissing: true }, () => this.create(id, body));
  }

  async describeCluster(id: ClusterId): Promise<AdminReply<ClusterDescription>> {
    return this.reply(id, {}, () => ({ status: 200, body: this.describe() }));
  }

  /** The cluster expires ttlSeconds from now (null: never); the worker checked it against the tenant's limit. */
  async setClusterTtl(id: ClusterId, ttlSeconds: number | null): Promise<AdminReply<ClusterDescription>> {
    return this.reply(id, {}, () => {
      this.scheduleAlarm(EXPIRY_ALARM, this.expiry.setTtl(ttlSeconds, Date.now()));
      return { status: 200, body: this.describe() };
    });
  }

  async deleteCluster(id: ClusterId): Promise<AdminReply<StatusJson>> {
    return this.reply(id, {}, async () => {
      const gone = this.describe();
      await this.wipe();
      return { status: 200, body: statusBody(200, "", "", { name: gone.name, group: ADMIN_GROUP, kind: "clusters" }) };
    });
  }

  /** Another per-cluster token; only its digest is kept. */
  async mintClusterToken(id: ClusterId): Promise<AdminReply<{ token: string }>> {
    return this.reply(id, {}, async () => {
      const token = await this.tokens.mint(this.info!, new Date());
      if (!token) throw new ApiError(429, "TooManyRequests", "this cluster already has the maximum number of tokens; delete and recreate it");
      return { status: 201, body: { token } };
    });
  }

  async listMachines(id: ClusterId): Promise<AdminReply<MachineList>> {
    return this.reply(id, {}, () => ({ status: 200, body: this.machines!.listMachines() }));
  }

  async getMachine(id: ClusterId, name: string): Promise<AdminReply<MachineJson>> {
    return this.reply(id, {}, () => ({ status: 200, body: this.machines!.getMachine(name) }));
  }

  /** Creates (201) or confirms (200) a machine; the spec is validated by ClusterMachines. */
  async putMachine(id: ClusterId, name: string, spec: Record<string, unknown>): Promise<AdminReply<MachineJson>> {
    return this.reply(id, {}, () => {
      const { created, machine } = this.machines!.putMachine(name, spec);
      return { status: created ? 201 : 200, body: machine };
    });
  }

  async deleteMachine(id: ClusterId, name: string): Promise<AdminReply<{ apiServers: number }>> {
    return this.reply(id, {}, () => ({ status: 200, body: this.machines!.removeMachine(name) }));
  }

  async etcdState(id: ClusterId): Promise<AdminReply<EtcdStateJson>> {
    return this.reply(id, {}, () => ({ status: 200, body: this.machines!.etcdState() }));
  }

  async etcdFaults(id: ClusterId): Promise<AdminReply<EtcdStateJson["faults"]>> {
    return this.reply(id, {}, () => ({ status: 200, body: this.machines!.etcdState().faults }));
  }

  async moveEtcdLeader(id: ClusterId, body: Record<string, unknown>): Promise<AdminReply<EtcdStateJson>> {
    return this.reply(id, {}, () => ({ status: 200, body: this.machines!.moveEtcdLeader(body) }));
  }

  async removeEtcdMember(id: ClusterId, body: Record<string, unknown>): Promise<AdminReply<EtcdStateJson>> {
    return this.reply(id, {}, () => ({ status: 200, body: this.machines!.removeEtcdMember(body) }));
  }

  async setEtcdFaults(id: ClusterId, body: Record<string, unknown>): Promise<AdminReply<EtcdStateJson>> {
    return this.reply(id, {}, () => ({ status: 200, body: this.machines!.setEtcdFaults(body) }));
  }

  /** kube-apiserver's request metrics of this cluster (Prometheus text; counters start at the DO's start). */
  async requestMetrics(id: ClusterId): Promise<AdminReply<string>> {
    return this.reply(id, {}, () => ({ status: 200, body: this.api!.metricsText(`${this.info!.namespace}/${this.info!.name}`) }));
  }

  async apiFaults(id: ClusterId): Promise<AdminReply<ApiFaultsJson>> {
    return this.reply(id, {}, () => ({ status: 200, body: this.api!.faults ?? {} }));
  }

  /** Replaces the cluster's API faults (422 for an invalid spec, nothing changed). */
  async setApiFaults(id: ClusterId, body: Record<string, unknown>): Promise<AdminReply<ApiFaultsJson>> {
    return this.reply(id, {}, () => {
      const faults = parseApiFaults(body);
      this.persistence.setMeta(API_FAULTS_META, JSON.stringify(faults));
      this.api!.setFaults(faults);
      return { status: 200, body: faults };
    });
  }

  async clearApiFaults(id: ClusterId): Promise<AdminReply<ApiFaultsJson>> {
    return this.reply(id, {}, () => {
      this.persistence.deleteMeta(API_FAULTS_META);
      this.api!.setFaults(undefined);
      return { status: 200, body: {} };
    });
  }

  /**
   * Runs one admin call: an expired cluster is wiped first; a missing cluster (unless creating) or one
   * whose stored identity is not `id` answers 404; an ApiError becomes its Status, anything else a
   * logged 500 Status without a stack.
   */
  private async reply<T>(
    id: ClusterId,
    opts: { allowMissing?: boolean },
    fn: () => AdminReply<T> | Promise<AdminReply<T>>,
  ): Promise<AdminReply<T>> {
    try {
      if (this.api && this.expiry.isExpired(Date.now())) await this.expire();
      const exists = Boolean(this.api && this.info);
      if (exists ? !sameCluster(id, this.info!) : !opts.allowMissing) return notFoundReply(id);
      return await fn();
    } catch (err) {
      if (err instanceof ApiError) return { status: err.code, body: statusBody(err.code, err.reason, err.message, err.details) };
      console.error("WorkloadCluster admin error", `${id.tenant}/${id.namespace}/${id.name}`, err);
      return { status: 500, body: statusBody(500, "InternalError", `internal error: ${(err as Error)?.message ?? String(err)}`) };
    }
  }

  describe(): ClusterDescription {
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
    return statusResponse(429, "TooManyRequests", `cluster "${this.info!.name}" already holds ${count} objects, the tenant's maximum (maxObjectsPerCluster); delete some first`);
  }

  private async create(id: ClusterId, body: CreateClusterRequest): Promise<AdminReply<ClusterDescription & { token?: string }>> {
    if (this.info && this.api) {
      if (body.kubernetesVersion && body.kubernetesVersion !== this.info.kubernetesVersion) {
        throw new ApiError(409, "Conflict", `cluster "${this.info.name}" already exists with kubernetesVersion ${this.info.kubernetesVersion}`);
      }
      if (body.labels && JSON.stringify(body.labels) !== JSON.stringify(this.info.labels)) {
        this.info = { ...this.info, labels: body.labels };
        this.persistence.setMeta("created", JSON.stringify(this.info));
      }
      return { status: 200, body: this.describe() };
    }
    const info: ClusterInfo = {
      tenant: id.tenant,
      namespace: id.namespace,
      name: id.name,
      createdAt: new Date().toISOString(),
      kubernetesVersion: body.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION,
      labels: body.labels ?? {},
    };
    // Schema, identity and the API server's seed objects are written in this one synchronous turn.
    migrate(this.ctx.storage, WORKLOAD_CLUSTER_MIGRATIONS, WORKLOAD_CLUSTER_BASELINE);
    this.persistence.setMeta("created", JSON.stringify(info));
    this.info = info;
    this.api = this.newApiServer(info);
    this.machines = this.newMachines(this.api);
    if (body.ttlSeconds) this.scheduleAlarm(EXPIRY_ALARM, this.expiry.setTtl(body.ttlSeconds, Date.parse(info.createdAt)));
    // The per-cluster token is in this answer only (the caller writes it into a kubeconfig).
    const token = await this.tokens.mint(info, new Date());
    return { status: 201, body: { ...this.describe(), token } };
  }

  /** TTL reached: wipe like deleteCluster, then drop the tenant-directory row (the admin DELETE does that itself). */
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

/** `capim_meta` key of the cluster's injected API faults (JSON). */
const API_FAULTS_META = "apiFaults";

/** The caller the worker named in CLUSTER_HEADER (`tenant/namespace/name`). */
function parseClusterHeader(request: Request): ClusterId | undefined {
  return parseClusterObjectName(request.headers.get(CLUSTER_HEADER) ?? "");
}

function notFoundReply(id: ClusterId): AdminReply<never> {
  return { status: 404, body: clusterNotFoundStatus(id.name) };
}
