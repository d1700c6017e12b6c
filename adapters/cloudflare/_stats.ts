import type { SubscriptionStats } from '../../src/index.js'
import { durationSamples, percentiles } from '../../src/internal.js'

/** @internal A stats row as an object sends it: the durations behind its percentiles ride along. */
export type ShardStats = SubscriptionStats & { samples?: number[] }

/**
 * @internal The object's `stats` reply: each row with its duration window (the Worker merges the
 * shards' windows before taking percentiles; a percentile of percentiles would be wrong).
 *
 * @example
 * return withSamples(await bus.stats())
 */
export const withSamples = (rows: SubscriptionStats[]): ShardStats[] =>
  rows.map((row) => ({ ...row, samples: durationSamples(row) }))

/**
 * @internal One row per subscription from every shard's rows: counts summed, the oldest age and
 * the last handling the latest of any shard, percentiles over the shards' windows together.
 *
 * @example
 * const rows = mergeStats(await Promise.all(stubs.map((stub) => stub.call('stats', []))))
 */
export const mergeStats = (shards: ShardStats[][]): SubscriptionStats[] => {
  const merged = new Map<string, SubscriptionStats & { all: number[] }>()
  for (const rows of shards) {
    for (const { samples = [], ...row } of rows) {
      const into = merged.get(row.name)
      if (!into) {
        merged.set(row.name, { ...row, all: [...samples] })
        continue
      }
      into.lag += row.lag
      into.inFlight += row.inFlight
      into.retrying += row.retrying
      into.deadLetters += row.deadLetters
      into.oldestAge = Math.max(into.oldestAge, row.oldestAge)
      into.handled += row.handled
      into.failed += row.failed
      if (
        row.lastHandledAt !== null &&
        (into.lastHandledAt === null || row.lastHandledAt > into.lastHandledAt)
      )
        into.lastHandledAt = row.lastHandledAt
      into.all.push(...samples)
    }
  }
  return [...merged.values()].map(({ all, ...row }) => ({
    ...row,
    duration: all.length ? percentiles(all) : row.duration,
  }))
}
