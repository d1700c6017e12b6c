import type { Log } from './log/log.js'

/**
 * A counter every state change bumps: the manual clock's "until nothing makes progress", and
 * idle().
 *
 * @example
 * const activity = createActivity()
 * const woken = activity.next()
 * activity.bump() // woken resolves, activity.count() is 1
 */
export interface Activity {
  count(): number
  bump(): void
  /** Resolves at the next bump. */
  next(): Promise<void>
}

/**
 * Creates an {@link Activity} counter at 0.
 *
 * @example
 * const activity = createActivity()
 * activity.bump()
 */
export function createActivity(): Activity {
  let activity = 0
  const activityWaiters: (() => void)[] = []
  return {
    count: () => activity,
    bump: () => {
      activity++
      for (const wake of activityWaiters.splice(0)) wake()
    },
    next: () => new Promise<void>((resolve) => activityWaiters.push(resolve)),
  }
}

/**
 * The bus's idle(): resolves when no handler is running and nothing can start until the clock
 * moves (start-up included).
 *
 * @example
 * await waitIdle(log, () => subscriptions?.busy() ?? false, activity.next)
 */
export async function waitIdle(
  log: Log,
  busy: () => boolean | undefined,
  nextActivity: () => Promise<void>,
): Promise<void> {
  do {
    await log.idle()
    await Promise.all(log.working())
    while (busy()) {
      await nextActivity()
      await log.idle()
    }
  } while (log.working().length)
}
