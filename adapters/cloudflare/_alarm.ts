import type { Clock } from '../../src/index.js'
// The object's one storage alarm, and what it is kept for. Every wait of the core (delayed events,
// retries, attempt timeouts that end a delivery lease, schedules) is a timer of the object's
// AlarmClock (clock.ts), which keeps the alarm at the earliest of them through `wakeAt`. On top
// of those, while deliveries are out or events were just appended, the alarm is kept within
// `RECOVERY_MS` (`alarmKeeper`), so an object that died restarts soon and re-sends.
// When the alarm goes off, `ringAlarm` runs what is due.

// The alarm each storage is known to be set for, so a later wake-up never pushes an earlier one back.
const armed = new WeakMap<DurableObjectStorage, number>()

/**
 * @internal Moves the object's one alarm to `at` when that is earlier than where it stands. The
 * alarm handler forgets it (see {@link alarmFired}) and re-arms for what is still due.
 *
 * @example
 * await wakeAt(ctx.storage, Date.now() + 60_000)
 */
export const wakeAt = async (storage: DurableObjectStorage, at: number): Promise<void> => {
  const cur = armed.get(storage)
  if (cur !== undefined && cur <= at) return
  armed.set(storage, at)
  await storage.setAlarm(at)
}

/** @internal The alarm went off: it is no longer set. @example alarmFired(ctx.storage) */
export const alarmFired = (storage: DurableObjectStorage): void => {
  armed.delete(storage)
}

/** While a delivery is out, the alarm is kept this close, so an object that crashed restarts soon and re-sends. */
export const RECOVERY_MS = 5_000

/**
 * @internal Keeps the alarm close while work may be owed: after an append (until its deliveries
 * are out) and while each delivery is out (until its outcome is in).
 *
 * @example
 * const alarm = alarmKeeper(clock)
 * const hold = alarm.hold(30_000) // a delivery went out
 * alarm.release(hold)             // its outcome came back
 */
export const alarmKeeper = (clock: Clock) => {
  // One no-op timer at a time keeps the alarm close while work may be owed (see keepAwake).
  let awake: { at: number; timer: unknown } | undefined
  return {
    /**
     * Events were just appended: their deliveries start in this tick, but an object that dies
     * before they go out must still be woken to send them. Keeps the alarm within RECOVERY_MS
     * (one alarm write per RECOVERY_MS at most, coalesced with the append's commit).
     */
    keepAwake() {
      const now = clock.now()
      if (awake && awake.at > now) return
      const at = now + RECOVERY_MS
      awake = {
        at,
        timer: clock.setTimer(at, () => {
          awake = undefined
        }),
      }
    },
    /** A delivery with this lease went out: an object that dies now is woken by its alarm this soon (not at the lease's end) and re-sends. */
    hold: (timeout: number): unknown =>
      clock.setTimer(clock.now() + Math.min(timeout, RECOVERY_MS), () => {}),
    /** The delivery's outcome is in (or its lease lapsed). */
    release: (hold: unknown): void => clock.clearTimer(hold),
  }
}

/**
 * @internal The object's `alarm()`: runs whatever is due (the bus rebuilt its timers from storage
 * on wake-up), and lets what those timers started (a delayed append, a schedule's commit) land
 * before the alarm reports success; handlers waiting on the Queue are not waited for.
 *
 * @example
 * override async alarm() { await ringAlarm(this.clock) }
 */
export const ringAlarm = async (clock: { fireDue(): Promise<void> }): Promise<void> => {
  await clock.fireDue()
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0))
}
