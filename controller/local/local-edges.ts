// The embedded default's two local edges, each its own workerd process: one holds the workload
// clusters, the other the embedded management API (cluster capim-system/management).
//
// Why two: workerd runs all Durable Objects of a worker on one thread, and the management cluster takes
// most of the embedded default's edge CPU (every CAPI and provider write lands there, ~5500 per 100
// clusters), so with one workerd the management writes and the workload clusters' bootstrap timelines
// queued behind each other while the second core idled. It also matches the deployed shape, where the
// management cluster is a separate kube-apiserver and the edge holds only workload clusters.
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { startEdge, type Edge, type EdgeOptions } from "./edge.js";

export interface LocalEdges {
  /** Workload clusters (the URL the controller registers clusters with, `edge ready at`). */
  edge: Edge;
  /** The embedded management API's edge; the same as `edge` for a state directory from before the split. */
  managementEdge: Edge;
  stop(): Promise<void>;
  /** Both edges stop restarting workerd (see Edge.stopSupervising). */
  stopSupervising(): void;
}

export async function startLocalEdges(o: { stateDir: string; token: string; supervise?: EdgeOptions["supervise"] }): Promise<LocalEdges> {
  const edgeDir = path.join(o.stateDir, "edge");
  const managementDir = path.join(o.stateDir, "management-edge");
  const tokens = { [o.token]: "default" };
  // A state directory written before the split keeps its management cluster in the workload edge: use it there.
  if (existsSync(edgeDir) && !existsSync(managementDir)) {
    const edge = await startEdge({ stateDir: edgeDir, tokens, supervise: o.supervise });
    return { edge, managementEdge: edge, stop: () => edge.stop(), stopSupervising: () => edge.stopSupervising() };
  }
  mkdirSync(edgeDir, { recursive: true });
  mkdirSync(managementDir, { recursive: true });
  const inspector = Number(process.env.CAPIM_EDGE_INSPECTOR_PORT) || undefined;
  const started = await Promise.allSettled([
    startEdge({ stateDir: edgeDir, tokens, supervise: o.supervise }),
    startEdge({ stateDir: managementDir, tokens, inspectorPort: inspector && inspector + 1, supervise: o.supervise }),
  ]);
  const [edge, managementEdge] = started.map((r) => (r.status === "fulfilled" ? r.value : undefined));
  if (!edge || !managementEdge) {
    await Promise.all([edge?.stop(), managementEdge?.stop()]);
    throw started.find((r): r is PromiseRejectedResult => r.status === "rejected")!.reason;
  }
  return {
    edge,
    managementEdge,
    stop: async () => void (await Promise.all([edge.stop(), managementEdge.stop()])),
    stopSupervising: () => {
      edge.stopSupervising();
      managementEdge.stopSupervising();
    },
  };
}
