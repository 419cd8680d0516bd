// What the dashboard shows, read from what the controller already has: the informer caches (Clusters,
// DevClusters, DevMachines), its own request metrics (apiserver_request_total, per cluster) and the
// edge's API faults of each cluster (fetched at most every FAULTS_TTL_MS per cluster).
import type { Registry } from "prom-client";
import type { ApiFaultsJson } from "../../edge-contract/admin-api.js";
import type { KubeObject } from "../kube.js";
import type { SharedInformers } from "../manager.js";
import { owningClusterName } from "../reconcilers/devcluster.js";
import { CLUSTER_NAME_LABEL } from "../reconcilers/gates.js";
import { getCondition, isTrue, type Condition } from "../reconcilers/conditions.js";

export interface FaultsApi {
  getApiFaults(ns: string, name: string): Promise<ApiFaultsJson>;
  setApiFaults(ns: string, name: string, faults: ApiFaultsJson): Promise<ApiFaultsJson>;
  clearApiFaults(ns: string, name: string): Promise<ApiFaultsJson>;
}

export interface MachineRow {
  name: string;
  role: "control-plane" | "worker";
  /** The bootstrap step it is at (the first condition not yet True), or "Ready". */
  step: string;
  ready: boolean;
}

export interface ClusterRow {
  namespace: string;
  name: string;
  phase: string;
  endpoint?: string;
  machines: MachineRow[];
  requests: { total: number; errors: number; perSecond: number; errorsPerSecond: number };
  faults: ApiFaultsJson;
}

export interface FleetSnapshot {
  at: string;
  clusters: ClusterRow[];
}

const STEPS = ["VMProvisioned", "NodeProvisioned", "EtcdProvisioned", "APIServerProvisioned", "Ready"];
const FAULTS_TTL_MS = 10_000;
const FAULTS_CONCURRENCY = 32;
/** Rates are averaged over this much history, so every reader sees the same, steady figures. */
const RATE_WINDOW_MS = 10_000;


function machineRow(dm: KubeObject, informers: SharedInformers): MachineRow {
  const owner = dm.metadata.ownerReferences?.find((r) => r.kind === "Machine");
  const machine = owner ? informers.machines.get(owner.name, dm.metadata.namespace) : undefined;
  const controlPlane = machine?.metadata.labels?.["cluster.x-k8s.io/control-plane"] !== undefined || dm.metadata.labels?.["cluster.x-k8s.io/control-plane"] !== undefined;
  // Workers have no etcd or kube-apiserver: their conditions for those steps are not there.
  const conditions = dm.status?.conditions as Condition[] | undefined;
  const pending = STEPS.find((s) => getCondition(conditions, s) && !isTrue(conditions, s));
  const ready = isTrue(conditions, "Ready");
  return { name: dm.metadata.name!, role: controlPlane ? "control-plane" : "worker", step: ready ? "Ready" : (pending ?? "Waiting"), ready };
}

export class FleetView {
  /** Request totals at earlier snapshots, oldest first, back to RATE_WINDOW_MS (one older kept as the base). */
  private history: Array<{ at: number; totals: Map<string, { total: number; errors: number }> }> = [];
  private readonly faults = new Map<string, { at: number; value: ApiFaultsJson }>();

  constructor(
    private readonly informers: SharedInformers,
    private readonly registry: Registry,
    private readonly edge: FaultsApi,
  ) {}

  /** Request totals per cluster (`ns/name`) from the VIPs' apiserver_request_total. */
  private async requestTotals(): Promise<Map<string, { total: number; errors: number }>> {
    const out = new Map<string, { total: number; errors: number }>();
    const metric = this.registry.getSingleMetric("apiserver_request_total");
    if (!metric) return out;
    for (const v of (await metric.get()).values) {
      const cluster = String(v.labels.cluster ?? "");
      const code = Number(v.labels.code);
      const t = out.get(cluster) ?? { total: 0, errors: 0 };
      t.total += v.value;
      if (code >= 500 || code === 429) t.errors += v.value;
      out.set(cluster, t);
    }
    return out;
  }

  private async faultsOf(ns: string, name: string): Promise<ApiFaultsJson> {
    const key = `${ns}/${name}`;
    const known = this.faults.get(key);
    if (known && Date.now() - known.at < FAULTS_TTL_MS) return known.value;
    const value = await this.edge.getApiFaults(ns, name).catch(() => known?.value ?? {});
    this.faults.set(key, { at: Date.now(), value });
    return value;
  }

  async setFaults(ns: string, name: string, faults: ApiFaultsJson | undefined): Promise<ApiFaultsJson> {
    const value = faults ? await this.edge.setApiFaults(ns, name, faults) : await this.edge.clearApiFaults(ns, name);
    this.faults.set(`${ns}/${name}`, { at: Date.now(), value });
    return value;
  }

  async snapshot(): Promise<FleetSnapshot> {
    const now = Date.now();
    const totals = await this.requestTotals();
    this.history.push({ at: now, totals });
    while (this.history.length > 2 && this.history[1].at <= now - RATE_WINDOW_MS) this.history.shift();
    const prev = this.history.length > 1 ? this.history[0] : undefined;
    const seconds = prev ? Math.max(0.001, (now - prev.at) / 1000) : 0;
    const rows: ClusterRow[] = [];
    const devClusters = this.informers.devClusters.list();
    // Faults come from the edge, one call per cluster whose cached answer is old: a bounded number at a time.
    const faults = new Map<string, ApiFaultsJson>();
    const keys = devClusters.map((dc) => [dc.metadata.namespace!, owningClusterName(dc) ?? dc.metadata.name!] as const);
    for (let i = 0; i < keys.length; i += FAULTS_CONCURRENCY) {
      await Promise.all(keys.slice(i, i + FAULTS_CONCURRENCY).map(async ([ns, name]) => faults.set(`${ns}/${name}`, await this.faultsOf(ns, name))));
    }
    for (const dc of devClusters) {
      const ns = dc.metadata.namespace!;
      const name = owningClusterName(dc) ?? dc.metadata.name!;
      const cluster = this.informers.clusters.get(name, ns);
      const ep = dc.spec?.controlPlaneEndpoint as { host?: string; port?: number } | undefined;
      const machines = this.informers.devMachines
        .list(ns)
        .filter((dm) => dm.metadata.labels?.[CLUSTER_NAME_LABEL] === name)
        .map((dm) => machineRow(dm, this.informers))
        .sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === "control-plane" ? -1 : 1));
      const t = totals.get(`${ns}/${name}`) ?? { total: 0, errors: 0 };
      // A cluster with no series in the base snapshot had made no request yet: count from zero.
      const p = prev ? (prev.totals.get(`${ns}/${name}`) ?? { total: 0, errors: 0 }) : t;
      rows.push({
        namespace: ns,
        name,
        phase: String(cluster?.status?.phase ?? (isTrue(dc.status?.conditions, "Ready") ? "Provisioned" : "Provisioning")),
        endpoint: ep?.host && ep?.port ? `${ep.host}:${ep.port}` : undefined,
        machines,
        requests: {
          total: t.total,
          errors: t.errors,
          perSecond: seconds ? Math.max(0, t.total - p.total) / seconds : 0,
          errorsPerSecond: seconds ? Math.max(0, t.errors - p.errors) / seconds : 0,
        },
        faults: faults.get(`${ns}/${name}`) ?? {},
      });
    }
    rows.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    return { at: new Date(now).toISOString(), clusters: rows };
  }
}
