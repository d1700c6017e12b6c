import type { Clock } from '../clock/clock.js'
import type { Log } from '../log/log.js'
import { keys, PREFIX } from '../store/keys.js'
import type { Store } from '../store/store.js'
import { compilePattern } from '../topic/pattern.js'

/**
 * Whether a subscription with a handler attached (anywhere) matched the event at `seq` and has not
 * handled it: overlap 'skip' then skips the next tick.
 *
 * @example
 * const silent = await stillUnhandled(store, log, clock, seq)
 */
export const stillUnhandled = async (
  store: Store,
  log: Log,
  clock: Clock,
  seq: number,
): Promise<boolean> => {
  const [event] = await log.read(seq, 1)
  if (event?.seq !== seq) return false
  const now = clock.now()
  for (const e of await store.list({ prefix: PREFIX.subscriptions })) {
    const s = e.value as {
      name: string
      pattern: string
      cursor: number
      lease?: { until: number }
    }
    if (
      !s.lease ||
      s.lease.until <= now ||
      s.cursor > seq ||
      !compilePattern(s.pattern)(event.type)
    )
      continue
    const done = await Promise.all([
      store.get(keys.ack(s.name, seq)),
      store.get(keys.dead(s.name, seq)),
    ])
    if (!done[0] && !done[1]) return true
  }
  return false
}
