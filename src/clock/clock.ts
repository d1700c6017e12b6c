/**
 * Every wait in tidings goes through a clock, so tests can drive time (`manualClock` in
 * `tidings/testing`) and a runtime can bring its own.
 *
 * @example
 * const bus = createBus({ clock: manualClock(Date.parse('2026-01-01')) })
 */
export interface Clock {
  now(): number
  /** Calls `fn` once `now() >= at`. */
  setTimer(at: number, fn: () => void): unknown
  clearTimer(handle: unknown): void
  /**
   * Optional, for test clocks: a bus registers how to let it settle (it resolves with the bus's
   * activity count, which stops changing when nothing makes progress). Returns the detach.
   */
  attach?(settle: () => Promise<number>): () => void
}

const MAX_DELAY = 2 ** 31 - 1

/**
 * The wall clock. A timer that fires early (Node's `setTimeout` can) is re-armed, never dropped,
 * and delays beyond 2^31-1 ms are chained.
 *
 * @example
 * realClock.setTimer(Date.now() + 1000, () => console.log('a second later'))
 */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(at, fn) {
    const h: { t?: ReturnType<typeof setTimeout> } = {}
    const arm = () => {
      const wait = at - Date.now()
      if (wait <= 0) return fn()
      h.t = setTimeout(arm, Math.min(wait, MAX_DELAY))
    }
    h.t = setTimeout(arm, Math.min(Math.max(at - Date.now(), 0), MAX_DELAY))
    return h
  },
  clearTimer(handle) {
    clearTimeout((handle as { t?: ReturnType<typeof setTimeout> } | undefined)?.t)
  },
}
