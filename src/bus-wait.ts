import type { Clock } from './clock/clock.js'
import type { BusEvent } from './event.js'
import type { Listeners } from './listeners.js'
import type { Log } from './log/log.js'
import type { WaitOptions } from './types.js'

/** What `waitFor` needs from the bus that calls it. */
export interface WaitParts {
  listeners: Listeners
  log: Log
  clock: Clock
  /** An event as waiters see it: upcast to its type's current version. */
  view: (event: BusEvent) => BusEvent
  /** Aborted by close(): waits still pending reject with CLOSED and drop their timers. */
  closing: AbortSignal
}

/**
 * The bus's `waitFor`: registers a listener synchronously, so nothing published after the call is
 * missed, then loads the rest (log/wait-for.ts) lazily.
 *
 * @example
 * const event = await waitFor({ listeners, log, clock, closing: closing.signal }, 'order.*', { timeout: 5_000 })
 */
export function waitFor(
  parts: WaitParts,
  pattern: string,
  waitOptions: WaitOptions | undefined,
): Promise<BusEvent> {
  const { listeners, log, clock, view, closing } = parts
  const early: BusEvent[] = []
  let seen: ((event: BusEvent) => void) | undefined
  let off
  try {
    off = listeners.add(pattern, (event) => {
      if (seen) seen(event)
      else early.push(event)
    })
  } catch (error) {
    return Promise.reject(error)
  }
  return log.track(import('./log/wait-for.js')).then((module) =>
    module.wait({
      log,
      clock,
      view,
      pattern,
      options: waitOptions as never,
      early,
      off,
      listen: (listener) => {
        seen = listener
      },
      closing,
    }),
  ) as never
}
