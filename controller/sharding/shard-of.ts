// Which controller shard a workload cluster belongs to: a stable hash of `<namespace>/<cluster>`, so
// every replica agrees without talking to the others, and a cluster never moves between shards.

/** FNV-1a (32 bit) of the cluster's namespace and name, modulo the shard count. */
export function shardOf(namespace: string, cluster: string, shards: number): number {
  if (shards <= 1) return 0;
  let h = 0x811c9dc5;
  const key = `${namespace}/${cluster}`;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}
