import { fail, TidingsError } from '../errors.js'
import type { SubscriptionsCore } from './attached.js'

/**
 * close()'s grace period: starts no new handler, lets running ones finish until `timeout` ms, then
 * aborts their signals and waits a turn for those that honour them. Without a timeout, nothing.
 *
 * @example
 * await drain(core, 5_000)
 */
export const drain = async (
  core: SubscriptionsCore,
  timeout: number | undefined,
): Promise<void> => {
  const { attached } = core
  const { clock } = core.base
  if (timeout === undefined) return
  if (typeof timeout !== 'number' || !(timeout >= 0))
    fail(
      'INVALID_OPTIONS',
      `close timeout must be a number of ms >= 0, got ${JSON.stringify(timeout)}`,
    )
  core.closed = true
  const runners = [...attached.values()].flatMap((entry) => (entry.runner ? [entry.runner] : []))
  const finished = Promise.all(runners.map((runner) => runner.drain()))
  let deadline: unknown
  await Promise.race([
    finished,
    new Promise<void>((resolve) => {
      deadline = clock.setTimer(clock.now() + timeout, resolve)
    }),
  ])
  clock.clearTimer(deadline)
  for (const runner of runners)
    runner.abortRunning(new TidingsError('CLOSED', `the bus closed after ${timeout} ms of grace`))
  // A handler that honours its signal settles within a turn: wait that long, not longer.
  await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 0))])
}
