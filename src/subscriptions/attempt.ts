import { NonRetriableError, RetryAfterError } from '../errors.js'
import type { BusEvent } from '../event.js'
import type { HandleSpan } from '../instrumentation.js'
import type { HandlerContext } from '../types.js'
import { chainedOptions } from './chained.js'
import { armDeadline } from './deadlines.js'
import { reportedDuration } from './metrics.js'
import { releaseSlot, type Attempt, type RetryRecord, type RunnerCore } from './runner-state.js'

/**
 * When a failed attempt runs again: the error's `retryAfter`, or the backoff (with jitter, a random share of it).
 *
 * @example
 * const due = clock.now() + retryWait(core, error, 2)
 */
export const retryWait = (core: RunnerCore, error: unknown, attempt: number): number => {
  const { initial, factor, max, jitter } = core.options.backoff
  const backoff = Math.min(max, initial * factor ** (attempt - 1))
  return error instanceof RetryAfterError
    ? error.retryAfter
    : jitter
      ? Math.random() * backoff
      : backoff
}

/**
 * The handler's context: its attempt, a lazily made signal, and a chained publish with an id
 * stable across retries, made on first use and then the same function every time. Own enumerable
 * accessors over closures (not a class's prototype getters), so a handler may spread the context
 * (`{ ...ctx, logger }`) or wrap it in a Proxy and keep `signal` and `publish`.
 */
const contextOf = (
  core: RunnerCore,
  run: Attempt,
  span: HandleSpan | undefined,
): HandlerContext => {
  let publish: HandlerContext['publish'] | undefined
  return {
    attempt: run.attempt,
    get signal() {
      if (!run.controller) {
        run.controller = new AbortController()
        if (run.abortReason !== undefined) run.controller.abort(run.abortReason)
      }
      return run.controller.signal
    },
    get publish() {
      if (publish) return publish
      const { event } = run
      let published = 0
      return (publish = (type, data, options = {}) =>
        core.host.publish(
          type,
          data,
          chainedOptions(core.options.name, event, options, () => published++, span?.traceparent),
        ))
    },
  }
}

/**
 * Runs the handler on one event: the attempt stays in flight until its outcome is committed; its
 * slot frees as soon as the handler settles (or times out), so the next one starts meanwhile.
 */
export const startAttempt = (
  core: RunnerCore,
  event: BusEvent,
  retry: RetryRecord | undefined,
): void => {
  const { state, host, options } = core
  const attempt = (retry?.attempt ?? 0) + 1
  const started = host.clock.now()
  const run: Attempt = {
    event,
    attempt,
    timer: undefined,
    deadline: started + options.timeout,
    end: undefined,
    over: false,
    settlingIn: 0,
    settlesDone: false,
  }
  const epoch = state.epoch
  state.inFlight.set(event.seq, run)
  state.runningHandlers++
  const span = host.instrumentation?.handle?.(event, options.name, attempt)
  const ctx = contextOf(core, run, span)
  const end = (error: unknown, ok: boolean) => {
    if (run.over) return
    run.over = true
    span?.end(ok ? undefined : { error })
    // A replay or stop reset the count and dropped this attempt: its result goes nowhere.
    if (epoch !== state.epoch || state.stopped) return
    const now = host.clock.now()
    options.metrics.record(ok, reportedDuration(ctx) ?? now - started, now)
    // The slot is free now: start the next one while this outcome commits.
    releaseSlot(core)
    if (ok) return core.report({ seq: event.seq, event, kind: 'ack' })
    const dead = error instanceof NonRetriableError || attempt >= options.attempts
    core.report({
      seq: event.seq,
      event,
      kind: dead ? 'dead' : 'retry',
      attempt,
      error,
      due: host.clock.now() + retryWait(core, error, attempt),
    })
  }
  run.end = end
  armDeadline(core, run.deadline!)
  try {
    const result = span ? span.run(() => options.handler(event, ctx)) : options.handler(event, ctx)
    // Any thenable counts (another realm's Promise, a library's): the ack waits for it.
    if (typeof (result as PromiseLike<void> | undefined)?.then === 'function')
      Promise.resolve(result).then(
        () => end(undefined, true),
        (error) => end(error, false),
      )
    else end(undefined, true)
  } catch (error) {
    end(error, false)
  }
}
