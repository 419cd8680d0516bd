// The admin API over several edges, each holding some of the clusters (the local edge spread over K
// workerd processes): a cluster's calls go to the edge its `<namespace>/<name>` hashes to
// (cluster-hash.ts), and the one tenant-wide read, the cluster list, asks every edge and merges the
// answers. Each edge keeps its own tenant directory, so tenant limits hold per edge.
import { clusterSlot } from "./cluster-hash.js";
import type { AdminTransport } from "./admin-client.js";

/** The cluster an admin path addresses (`/admin/clusters/<ns>/<name>[/...]`), or undefined for tenant-wide paths. */
export function clusterOfAdminPath(path: string): { namespace: string; name: string } | undefined {
  const m = /^\/admin\/clusters\/([^/?#]+)\/([^/?#]+)(?:[/?#]|$)/.exec(path);
  if (!m) return undefined;
  try {
    return { namespace: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]) };
  } catch {
    return undefined;
  }
}

const isClusterList = (method: string, path: string) => method === "GET" && /^\/admin\/clusters(?:\?|$)/.test(path);

/** One transport over `edges` (index = clusterSlot(ns, name, edges.length)); with one edge, that edge's. */
export function routedTransport(edges: readonly AdminTransport[]): AdminTransport {
  if (edges.length === 1) return edges[0];
  return async (req) => {
    const cluster = clusterOfAdminPath(req.path);
    if (cluster) return edges[clusterSlot(cluster.namespace, cluster.name, edges.length)](req);
    if (!isClusterList(req.method, req.path)) return edges[0](req);
    const answers = await Promise.all(edges.map((send) => send(req)));
    const failed = answers.find((a) => a.status < 200 || a.status > 299);
    if (failed) return failed;
    const lists = answers.map((a) => JSON.parse(a.text) as { items?: unknown[] });
    return { status: answers[0].status, text: JSON.stringify({ ...lists[0], items: lists.flatMap((l) => l.items ?? []) }) };
  };
}
