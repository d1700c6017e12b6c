import { describeValue } from '../check.js'
import { fail } from '../errors.js'
import type { Log } from '../log/log.js'
import type { SubscribeOptions } from '../types.js'

const PAGE = 500

/**
 * The seq a start or replay point stands for: after the head (`'latest'`), 0 (`'earliest'`), the
 * seq, or the first event at or after the time.
 *
 * @example
 * const cursor = await startAt(log, { time: Date.now() - 3_600_000 })
 */
export const startAt = async (
  log: Log,
  from: SubscribeOptions['from'] = 'latest',
): Promise<number> => {
  await log.idle()
  if (from === 'latest') return log.head + 1
  if (from === 'earliest') return 0
  if ('seq' in from && Number.isInteger(from.seq) && from.seq >= 0) return from.seq
  if ('time' in from && Number.isFinite(from.time)) {
    for (let at = 0; ;) {
      const page = await log.read(at, PAGE)
      const hit = page.find((event) => event.time >= from.time)
      if (hit) return hit.seq
      if (page.length < PAGE) return log.head + 1
      at = page[page.length - 1]!.seq + 1
    }
  }
  return fail(
    'INVALID_OPTIONS',
    `from must be 'latest', 'earliest', { seq } or { time }, got ${describeValue(from)}`,
  )
}
