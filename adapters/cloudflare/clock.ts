import type { Clock } from '../../src/clock/clock.js'
import { alarmFired, wakeAt } from './store.js'

/**
 * A {@link Clock} whose timers also keep the Durable Object's alarm, plus what the alarm handler calls.
 *
 * @example
 * async alarm() { await this.clock.fireDue() }
 */
export interface AlarmClock extends Clock {
  /** Runs every timer that is due by `now()`, then sets the alarm for the earliest one left. */
  fireDue(): Promise<void>
}

interface Timer {
  at: number
  fn: () => void
  t?: ReturnType<typeof setTimeout>
}
const MAX_DELAY = 2 ** 31 - 1

/**
 * The clock of a `BusObject`: every wait of the core (delayed events, retries, attempt timeouts
 * that end a delivery lease, schedules) is a timer here, and the object's single storage alarm is
 * kept at the earliest of them. While the object is in memory a plain timeout fires it; when the
 * object was evicted, the alarm wakes it, the bus rebuilds its timers from storage, and
 * `fireDue()` runs what is due. An alarm already in the past still fires, so waits longer than
 * any platform limit (the Queues' 12 h delay) work.
 *
 * The alarm only ever moves earlier while timers are set (a cleared timer leaves it; the extra
 * wake-up costs nothing), so a busy object does not write its alarm on every attempt.
 *
 * `now` may be replaced (a test skews time); the alarm is then set at the matching wall time.
 *
 * @example
 * const clock = alarmClock(ctx.storage)
 * const bus = createBus({ store: durableObjectStore(ctx.storage), clock })
 * // in the object: async alarm() { await clock.fireDue() }
 */
export const alarmClock = (
  storage: DurableObjectStorage,
  now: () => number = Date.now,
): AlarmClock => {
  const timers = new Set<Timer>()
  const fire = (t: Timer) => {
    if (!timers.delete(t)) return
    if (t.t !== undefined) clearTimeout(t.t)
    t.fn()
  }
  const arm = (t: Timer) => {
    const wait = t.at - now()
    if (wait <= 0) return fire(t)
    t.t = setTimeout(() => arm(t), Math.min(wait, MAX_DELAY))
  }
  // The wall time of clock time `at`.
  const wall = (at: number) => Date.now() + (at - now())
  return {
    now,
    setTimer(at, fn) {
      const t: Timer = { at, fn }
      timers.add(t)
      // Not synchronously: a timer set for now must not run inside the call that sets it.
      t.t = setTimeout(() => arm(t), Math.min(Math.max(at - now(), 0), MAX_DELAY))
      void wakeAt(storage, wall(at)).catch(() => {})
      return t
    },
    clearTimer(handle) {
      const t = handle as Timer | undefined
      if (!t) return
      timers.delete(t)
      if (t.t !== undefined) clearTimeout(t.t)
    },
    async fireDue() {
      alarmFired(storage)
      const due = [...timers].filter((t) => t.at <= now()).sort((a, b) => a.at - b.at)
      for (const t of due) fire(t)
      let next = Infinity
      for (const t of timers) next = Math.min(next, t.at)
      if (next < Infinity) await wakeAt(storage, wall(next))
    },
  }
}
