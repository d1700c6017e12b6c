// The latest events of a log read in pages: what the live panel starts with after a reload.

/**
 * The latest `n` events of a log read in pages, oldest first. Pages may come shard by shard, so
 * the events are ordered by time (then seq) and trimmed after each page: memory stays at `n`.
 *
 * @example
 * latest([[a, b], [c]], 2) // the two most recent of a, b, c, oldest first
 */
export const latest = <E extends { time: number; seq: number }>(
  pages: Iterable<readonly E[]>,
  n: number,
): E[] => {
  let kept: E[] = []
  for (const page of pages)
    kept = [...kept, ...page].sort((a, b) => a.time - b.time || a.seq - b.seq).slice(-n)
  return kept
}
