// The embedded default's two local edges, each its own workerd process: one holds the workload
// clusters, the other the embedded management API (cluster capim-system/management).
//
// Why two: workerd runs all Durable Objects of a worker on one thread, and the management cluster takes
// most of the embedded default's edge CPU (every CAPI and provider write lands there, ~5500 per 100
// clusters), so with one workerd the management writes and the workload clusters' bootstrap timelines
// queued behind each other while the second core idled. It also matches the deployed shape, where the
// management cluster is a separate kube-apiserver and the edge holds only workload clusters.
//
// The workload clusters may in turn be spread over K workerd processes (`edges`): workerd runs every
// Durable Object of a process on one thread, so one process is one core however many clusters it
// holds. A cluster's process is FNV-1a of its namespace/name mod K (edge-contract/cluster-hash.ts),
// which the controller computes too and sends the cluster's traffic straight there. Process i keeps
// its state in `edge` (i = 0) or `edge-<i>`; K is fixed by the directories that exist, so a
// cluster never moves to a process that does not hold it.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { limitsTable } from "../../edge-contract/limits.js";
import { startEdge, type Edge, type EdgeOptions } from "./edge.js";

export interface LocalEdges {
  /** Workload clusters: the first of `workload` (`edge ready at`). */
  edge: Edge;
  /** Every workload edge process, in cluster-hash order (one unless `edges` asked for more). */
  workload: Edge[];
  /** The embedded management API's edge; the same as `edge` for a state directory from before the split. */
  managementEdge: Edge;
  stop(): Promise<void>;
  /** Both edges stop restarting workerd (see Edge.stopSupervising). */
  stopSupervising(): void;
}

/**
 * The management edge's tenant limits: the operator's (env CAPIM_EDGE_LIMITS), with a ceiling on objects
 * per cluster fit for a management cluster. The workload default (100,000) stopped the embedded default
 * at ~5,300 clusters: CAPI's objects and Secrets are ~19 per workload cluster, all in this one cluster,
 * and kube-apiserver has no such count (etcd's 8 GiB quota is the bound there).
 */
export const MANAGEMENT_MAX_OBJECTS = 5_000_000;

export function managementLimits(operator: string | undefined): string {
  const table = limitsTable({ CAPIM_EDGE_LIMITS: operator });
  return JSON.stringify({ ...table, "*": { maxObjectsPerCluster: MANAGEMENT_MAX_OBJECTS, ...table["*"] } });
}

/** Workload edge i's state directory: `edge` (i = 0, as before there were several) or `edge-<i>`. */
const workloadEdgeDir = (stateDir: string, i: number) => path.join(stateDir, i === 0 ? "edge" : `edge-${i}`);

/** How many workload edges a state directory already has. */
export function existingWorkloadEdges(stateDir: string): number {
  let n = 0;
  while (existsSync(workloadEdgeDir(stateDir, n))) n++;
  return n;
}

export async function startLocalEdges(o: { stateDir: string; token: string; edges?: number; supervise?: EdgeOptions["supervise"] }): Promise<LocalEdges> {
  const edgeDir = workloadEdgeDir(o.stateDir, 0);
  const managementDir = path.join(o.stateDir, "management-edge");
  const tokens = { [o.token]: "default" };
  // A state directory written before the split keeps its management cluster in the workload edge: use it there.
  if (existsSync(edgeDir) && !existsSync(managementDir)) {
    const edge = await startEdge({ stateDir: edgeDir, tokens, supervise: o.supervise });
    return { edge, workload: [edge], managementEdge: edge, stop: () => edge.stop(), stopSupervising: () => edge.stopSupervising() };
  }
  const count = existingWorkloadEdges(o.stateDir) || Math.max(1, o.edges ?? 1);
  const dirs = Array.from({ length: count }, (_, i) => workloadEdgeDir(o.stateDir, i));
  for (const d of [...dirs, managementDir]) mkdirSync(d, { recursive: true });
  const inspector = Number(process.env.CAPIM_EDGE_INSPECTOR_PORT) || undefined;
  const started = await Promise.allSettled([
    startEdge({ stateDir: managementDir, tokens, inspectorPort: inspector && inspector + 1, limits: managementLimits(process.env.CAPIM_EDGE_LIMITS), supervise: o.supervise }),
    // With CAPIM_EDGE_INSPECTOR_PORT=P: workload edge 0 on P, the management edge on P + 1, workload edge i on P + 1 + i.
    ...dirs.map((stateDir, i) => startEdge({ stateDir, tokens, inspectorPort: i > 0 ? inspector && inspector + 1 + i : undefined, supervise: o.supervise })),
  ]);
  const ok = started.map((r) => (r.status === "fulfilled" ? r.value : undefined));
  if (ok.some((e) => !e)) {
    await Promise.all(ok.map((e) => e?.stop()));
    throw started.find((r): r is PromiseRejectedResult => r.status === "rejected")!.reason;
  }
  const [managementEdge, ...workload] = ok as Edge[];
  const all = [...workload, managementEdge];
  return {
    edge: workload[0],
    workload,
    managementEdge,
    stop: async () => void (await Promise.all(all.map((e) => e.stop()))),
    stopSupervising: () => {
      for (const e of all) e.stopSupervising();
    },
  };
}
