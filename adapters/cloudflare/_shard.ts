/**
 * @internal The shard of a string (an ordering key, or an unkeyed event's id): FNV-1a, 32 bits,
 * modulo the shard count. Stable forever, since a key's events must keep landing on one shard.
 *
 * @example
 * shardOf('order-42', 8) // the same number in every Worker, every deploy
 */
export const shardOf = (s: string, shards: number): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % shards
}
