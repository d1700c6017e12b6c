import type { Clock } from './clock.js'
import { TidingsError } from '../errors.js'

/** The last instant a Date can hold: a later target is a mistake, not a time. */
const MAX_DATE = 8.64e15

/** A clock that moves only when told to. */
export interface ManualClock extends Clock {
  /**
   * Moves time forward, firing due timers in time order and letting buses settle after each.
   * Refuses (`INVALID_OPTIONS`) a negative or non-number `ms`, and a target past a Date's range.
   */
  advance(ms: number): Promise<void>
  /** How many timers are armed (a bus keeps one per kind of wait, not one per schedule). */
  readonly timers: number
}

interface Timer {
  at: number
  fn: () => void
  order: number
}

/**
 * A clock for tests: no sleeps, time moves only through `advance`. Buses on it register a settle
 * hook (`attach`) so `advance` lets them run after each timer until nothing makes progress.
 *
 * @example
 * const clock = manualClock(Date.parse('2026-03-29T00:00:00Z'))
 * const bus = createBus({ clock })
 * await clock.advance(60_000)
 */
export const manualClock = (start = 0): ManualClock => {
  let now = start
  let order = 0
  const timers = new Set<Timer>()
  const settles = new Set<() => Promise<number>>()
  /**
   * Lets every bus run until nothing makes progress: their own work (commits, reads) is awaited,
   * handlers get a macrotask turn to finish what needs no timer, and a handler that still runs is
   * waiting on the clock (its timeout is a timer), so it is never awaited itself.
   */
  // A macrotask turn without setTimeout's 1 ms clamp: a message to ourselves.
  const turn = () =>
    new Promise<void>((r) => {
      const ch = new MessageChannel()
      ch.port1.onmessage = () => {
        ch.port1.close()
        r()
      }
      ch.port2.postMessage(0)
    })
  const settle = async () => {
    for (let last = -1, round = 0; round < 1000; round++) {
      await turn()
      const total = (await Promise.all([...settles].map((s) => s()))).reduce((a, b) => a + b, 0)
      if (total === last) return
      last = total
    }
  }
  return {
    get timers() {
      return timers.size
    },
    now: () => now,
    setTimer(at, fn) {
      const t = { at, fn, order: order++ }
      timers.add(t)
      return t
    },
    clearTimer(handle) {
      timers.delete(handle as Timer)
    },
    attach(s) {
      settles.add(s)
      return () => settles.delete(s)
    },
    async advance(ms) {
      // A target no Date can hold (or NaN) would never be reached by the timers' own times.
      const target = typeof ms === 'number' && ms >= 0 ? now + ms : NaN
      if (!(target <= MAX_DATE))
        throw new TidingsError(
          'INVALID_OPTIONS',
          `advance(ms) needs a number of ms >= 0 reaching at most ${MAX_DATE} (a Date's range), got ${typeof ms === 'number' ? ms : typeof ms}`,
        )
      await settle()
      for (;;) {
        let due: Timer | undefined
        for (const t of timers)
          if (t.at <= target && (!due || t.at < due.at || (t.at === due.at && t.order < due.order)))
            due = t
        if (!due) break
        timers.delete(due)
        now = Math.max(now, due.at)
        due.fn()
        await settle()
      }
      now = target
      await settle()
    },
  }
}
