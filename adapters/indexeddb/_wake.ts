/** Backoff delays: the first wait, and the cap it doubles up to. */
export interface Backoff {
  initial: number
  max: number
}

/**
 * The bridge's retry timer: waits a backoff that doubles after each failure (full jitter, so tabs
 * and devices coming back together do not retry in step), cut short when the browser says the
 * network is back (`online`) or the page becomes visible again (`visibilitychange`).
 */
export const createWaker = ({ initial, max }: Backoff) => {
  let delay = initial
  const sleepers = new Set<() => void>()
  const wake = () => {
    for (const s of [...sleepers]) s()
  }
  const onVisible = () => {
    if (document.visibilityState === 'visible') wake()
  }
  addEventListener('online', wake)
  document.addEventListener('visibilitychange', onVisible)
  return {
    /** Waits the next backoff delay, or less if woken (or stopped). */
    wait(): Promise<void> {
      const ms = Math.random() * delay
      delay = Math.min(delay * 2, max)
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer)
          sleepers.delete(done)
          resolve()
        }
        const timer = setTimeout(done, ms)
        sleepers.add(done)
      })
    },
    /** A success: the next failure starts from the first delay again. */
    reset() {
      delay = initial
    },
    wake,
    stop() {
      removeEventListener('online', wake)
      document.removeEventListener('visibilitychange', onVisible)
      wake()
    },
  }
}

export type Waker = ReturnType<typeof createWaker>
