// Each shard's own slice of the VIP port range, for replicas that share one bind address (in a Pod,
// 0.0.0.0): a replica that takes over a dead replica's shard must bind that shard's published ports
// next to its own shard's, so no two shards may ever hand out the same port.

/**
 * Shard `shard` of `shards`: the range split into equal consecutive slices (the last one takes the
 * remainder). Undefined when the range has fewer ports than shards.
 */
export function shardPortRange(range: readonly [number, number], shards: number, shard: number): [number, number] | undefined {
  const [lo, hi] = range;
  const size = Math.floor((hi - lo + 1) / shards);
  if (size < 1 || shard < 0 || shard >= shards) return undefined;
  const first = lo + shard * size;
  return [first, shard === shards - 1 ? hi : first + size - 1];
}
