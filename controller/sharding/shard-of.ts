// Which controller shard a workload cluster belongs to: a stable hash of `<namespace>/<cluster>`, so
// every replica agrees without talking to the others, and a cluster never moves between shards.
import { clusterSlot } from "../../edge-contract/cluster-hash.js";

/** FNV-1a (32 bit) of the cluster's namespace and name, modulo the shard count. */
export function shardOf(namespace: string, cluster: string, shards: number): number {
  return clusterSlot(namespace, cluster, shards);
}
