// A stable hash of a workload cluster's `<namespace>/<name>`, for everything that spreads clusters
// over N places without a table: the controller's shards (controller/sharding) and the local edge's
// workerd processes (admin-routing.ts). Every process computes the same place for a cluster, and a
// cluster never moves while N stays the same.

/** FNV-1a (32 bit) of `<namespace>/<name>`, modulo n (0 when n <= 1). */
export function clusterSlot(namespace: string, name: string, n: number): number {
  if (n <= 1) return 0;
  let h = 0x811c9dc5;
  const key = `${namespace}/${name}`;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % n;
}
