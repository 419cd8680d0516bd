// The one client of the edge's admin API (`/admin/clusters/...`), used by the controller's reconcilers,
// the VIP's etcd bridge and the CLI. Each of them brings its own transport (undici for the controller's
// hot path, the VIP's fetch, node:http with a private CA for the CLI); the paths, the wire types and the
// error type live here once. Runtime-agnostic: web globals only.
import type { ApiFaultsJson, ClusterDescription, CreateClusterRequest, EtcdStateJson, MachineJson, MachineList, MachineSpec } from "./admin-api.js";

/** Sends one request to the edge root and returns the status and body text; throws on transport errors only. */
export type AdminTransport = (req: { method: string; path: string; body?: string; signal?: AbortSignal }) => Promise<{ status: number; text: string }>;

/** A non-2xx answer from the edge; `body` is its Kubernetes `Status` when it sent one. */
export class EdgeError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason?: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = "EdgeError";
  }
}

const seg = encodeURIComponent;

/** Admin API paths, relative to the edge root. */
export const adminPaths = {
  clusters: (namespace?: string) => `/admin/clusters${namespace === undefined ? "" : `?namespace=${seg(namespace)}`}`,
  cluster: (ns: string, name: string) => `/admin/clusters/${seg(ns)}/${seg(name)}`,
  tokens: (ns: string, name: string) => `${adminPaths.cluster(ns, name)}/tokens`,
  machines: (ns: string, name: string) => `${adminPaths.cluster(ns, name)}/machines`,
  machine: (ns: string, name: string, machine: string) => `${adminPaths.machines(ns, name)}/${seg(machine)}`,
  etcd: (ns: string, name: string) => `${adminPaths.cluster(ns, name)}/etcd`,
  faults: (ns: string, name: string) => `${adminPaths.cluster(ns, name)}/faults`,
};

/** The Kubernetes API prefix of one cluster on the edge (a kubeconfig's server path). */
export const clusterApiPath = (ns: string, name: string) => `/clusters/${seg(ns)}/${seg(name)}`;

export class AdminClient {
  constructor(private readonly transport: AdminTransport) {}

  /** One call: JSON in and out; any status outside 2xx becomes an EdgeError. */
  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<{ status: number; body: T }> {
    const res = await this.transport({ method, path, body: body === undefined ? undefined : JSON.stringify(body), signal });
    let json: unknown;
    try {
      json = res.text ? JSON.parse(res.text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status < 200 || res.status > 299) {
      const st = (json ?? {}) as { message?: string; reason?: string };
      const detail = typeof st.message === "string" ? st.message : res.text.replace(/\s+/g, " ").slice(0, 200);
      throw new EdgeError(res.status, `edge ${method} ${path}: ${res.status} ${detail}`, st.reason, json ?? res.text);
    }
    return { status: res.status, body: json as T };
  }

  private async body<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return (await this.request<T>(method, path, body, signal)).body;
  }

  /** PUT: idempotent; `created` (201) is the only answer that carries the per-cluster token. */
  async createCluster(ns: string, name: string, body: CreateClusterRequest = {}): Promise<{ created: boolean; cluster: ClusterDescription }> {
    const r = await this.request<ClusterDescription>("PUT", adminPaths.cluster(ns, name), body);
    return { created: r.status === 201, cluster: r.body };
  }

  /** Create (idempotent) the fake cluster `<ns>/<name>`. */
  putCluster(ns: string, name: string, body: CreateClusterRequest = {}): Promise<ClusterDescription> {
    return this.body("PUT", adminPaths.cluster(ns, name), body);
  }

  getCluster(ns: string, name: string): Promise<ClusterDescription> {
    return this.body("GET", adminPaths.cluster(ns, name));
  }

  /** Drop the whole fake cluster; resolves to false if it was already gone. */
  async deleteCluster(ns: string, name: string): Promise<boolean> {
    try {
      await this.request("DELETE", adminPaths.cluster(ns, name));
      return true;
    } catch (e) {
      if (e instanceof EdgeError && e.code === 404) return false;
      throw e;
    }
  }

  /** The caller's clusters (all its namespaces, or one). */
  async listClusters(namespace?: string): Promise<ClusterDescription[]> {
    return (await this.body<{ items?: ClusterDescription[] }>("GET", adminPaths.clusters(namespace))).items ?? [];
  }

  /** New TTL from now (null: never expires), within the tenant's maximum. */
  setClusterTtl(ns: string, name: string, ttlSeconds: number | null): Promise<ClusterDescription> {
    return this.body("PATCH", adminPaths.cluster(ns, name), { ttlSeconds });
  }

  /** Another per-cluster token (shown once). */
  mintToken(ns: string, name: string): Promise<{ token: string }> {
    return this.body("POST", adminPaths.tokens(ns, name));
  }

  /** The faults injected into the cluster's Kubernetes API ({} when none). */
  getApiFaults(ns: string, name: string): Promise<ApiFaultsJson> {
    return this.body("GET", adminPaths.faults(ns, name));
  }

  /** Replaces the cluster's API faults (the edge answers 422 for an invalid spec). */
  setApiFaults(ns: string, name: string, faults: ApiFaultsJson): Promise<ApiFaultsJson> {
    return this.body("PUT", adminPaths.faults(ns, name), faults);
  }

  clearApiFaults(ns: string, name: string): Promise<ApiFaultsJson> {
    return this.body("DELETE", adminPaths.faults(ns, name));
  }

  /** Create or update a machine; the edge starts its timeline on first PUT and keeps it on later ones. */
  putMachine(ns: string, cluster: string, machine: string, spec: MachineSpec): Promise<MachineJson> {
    return this.body("PUT", adminPaths.machine(ns, cluster, machine), spec);
  }

  getMachine(ns: string, cluster: string, machine: string): Promise<MachineJson> {
    return this.body("GET", adminPaths.machine(ns, cluster, machine));
  }

  listMachines(ns: string, cluster: string): Promise<MachineList> {
    return this.body("GET", adminPaths.machines(ns, cluster));
  }

  /** Delete a machine (Node, static pods, etcd member); returns the remaining apiserver count. */
  deleteMachine(ns: string, cluster: string, machine: string): Promise<{ apiServers: number }> {
    return this.body("DELETE", adminPaths.machine(ns, cluster, machine));
  }

  etcdState(ns: string, cluster: string, signal?: AbortSignal): Promise<EtcdStateJson> {
    return this.body("GET", adminPaths.etcd(ns, cluster), undefined, signal);
  }

  moveEtcdLeader(ns: string, cluster: string, targetId: bigint): Promise<EtcdStateJson> {
    return this.body("POST", `${adminPaths.etcd(ns, cluster)}/move-leader`, { targetId: targetId.toString() });
  }

  removeEtcdMember(ns: string, cluster: string, id: bigint): Promise<EtcdStateJson> {
    return this.body("POST", `${adminPaths.etcd(ns, cluster)}/remove-member`, { id: id.toString() });
  }
}
