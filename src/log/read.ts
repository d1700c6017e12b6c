import { fail } from '../errors.js'
import { coded, describeValue, optionsOf } from '../check.js'
import { decodeCursor, encodeCursor, type BusEvent } from '../event.js'
import type { ReadOptions } from '../types.js'
import type { Log } from './log.js'
import { compilePattern } from '../topic/pattern.js'

/** `bus.read`: pages of the log from an opaque cursor, optionally filtered by pattern. */
export const read = async (log: Log, options?: ReadOptions) => {
  let from, pattern, limit, cursors
  try {
    ;({ from, pattern, limit = 100, cursors } = optionsOf(options, 'read'))
  } catch (e) {
    throw coded(e, 'INVALID_OPTIONS', 'reading the options of read() threw')
  }
  // Two names any bus's cursors allow: the oldest retained event, and the end of the log (which
  // reads nothing: it only says where the next event will be).
  if (from === 'latest') {
    await log.ready
    return {
      events: [] as BusEvent[],
      next: encodeCursor([log.head + 1]),
      ...(cursors ? { cursors: [] as string[] } : {}),
    }
  }
  const at = from === undefined || from === 'earliest' ? [1] : decodeCursor(from)
  if (!at || at.length !== 1)
    return fail('INVALID_CURSOR', `${describeValue(from)} is not a cursor of this bus`)
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > 10_000)
    fail('INVALID_OPTIONS', `limit must be an integer in 1..10000, got ${describeValue(limit)}`)
  const match = pattern === undefined ? undefined : compilePattern(pattern)
  const events: BusEvent[] = []
  let next = at[0]!
  for (let page = limit; events.length < limit; page = 1000) {
    const got = await log.read(next, page)
    for (const e of got) {
      next = e.seq + 1
      if ((!match || match(e.type)) && events.push(e) >= limit) break
    }
    if (got.length < page) break
  }
  return {
    events,
    next: encodeCursor([next]),
    ...(cursors ? { cursors: events.map((e) => encodeCursor([e.seq + 1])) } : {}),
  }
}
