/**
 * One timer per runner for the handler timeouts of single-event attempts, armed at the earliest
 * deadline of the attempts still running, instead of a timer armed and cleared per attempt (at
 * thousands of attempts a second, the timers were a measurable share of handling). It goes
 * through the bus's clock, so a manual clock drives the timeouts as before: an attempt times out
 * at its start plus `timeout`, whichever attempts ran in between.
 */
import { TidingsError } from '../errors.js'
import { abortAttempt, type Attempt, type RunnerCore } from './runner-state.js'

/** Aborts a running attempt's signal with a TIMEOUT and ends it as failed. */
const expire = (core: RunnerCore, run: Attempt): void => {
  const { event } = run
  const { name, timeout } = core.options
  abortAttempt(
    run,
    new TidingsError(
      'TIMEOUT',
      `attempt ${run.attempt} of "${event.type}" #${event.seq} in "${name}" passed ${timeout} ms`,
    ),
  )
  run.end!(run.abortReason, false)
}

/** Times out the running attempts whose deadline has passed, then re-arms for the next one. */
const expireDue = (core: RunnerCore): void => {
  const { state, host } = core
  state.deadlineTimer = undefined
  state.deadlineAt = Infinity
  if (state.stopped) return
  const now = host.clock.now()
  let next = Infinity
  for (const run of state.inFlight.values()) {
    if (run.over || !run.end) continue
    if (run.deadline! <= now) expire(core, run)
    else if (run.deadline! < next) next = run.deadline!
  }
  if (next < Infinity) armDeadline(core, next)
}

/**
 * Makes sure the runner's deadline timer fires by `at` (an attempt just started with that
 * deadline). An armed timer at or before `at` already covers it: when it fires, it re-arms for
 * the earliest deadline still running, so ended attempts cost nothing.
 *
 * @example
 * run.deadline = clock.now() + options.timeout
 * armDeadline(core, run.deadline)
 */
export const armDeadline = (core: RunnerCore, at: number): void => {
  const { state, host } = core
  if (state.deadlineAt <= at) return
  host.clock.clearTimer(state.deadlineTimer)
  state.deadlineAt = at
  state.deadlineTimer = host.clock.setTimer(at, (state.expireDue ??= () => expireDue(core)))
}

/**
 * Disarms the deadline timer (the runner stops, or drops what was in flight on a replay).
 *
 * @example
 * clearDeadline(core)
 */
export const clearDeadline = (core: RunnerCore): void => {
  const { state, host } = core
  host.clock.clearTimer(state.deadlineTimer)
  state.deadlineTimer = undefined
  state.deadlineAt = Infinity
}
