/**
 * Batch handlers: one handler call over several events of a subscription.
 *
 * Each event of a batch is an attempt of its own in `inFlight` (its own attempt count, noted in the
 * delivering note), so acks, retries, dead letters, the ledger and crash recovery work per event as
 * for single handlers; only the handler call, its slot, its timeout and its signal are shared.
 * A failed event takes its key's lane: the later events of that key in the batch are released (not
 * acked, not charged) and run after it.
 */
import { NonRetriableError, TidingsError } from '../errors.js'
import type { BusEvent } from '../event.js'
import type { BatchContext } from '../types.js'
import { retryWait } from './attempt.js'
import { chainedOptions } from './chained.js'
import { reportedDuration } from './metrics.js'
import {
  abortAttempt,
  releaseSlot,
  type Attempt,
  type RetryRecord,
  type RunnerCore,
} from './runner-state.js'

/** The most events one batch handler call takes (`batch.size`). */
export const MAX_BATCH_SIZE = 1000

/** The batch's context: the highest attempt, one signal for all its events, a chained publish, and `fail`. */
const contextOf = (
  core: RunnerCore,
  runs: Attempt[],
  failed: Map<number, unknown>,
): BatchContext => {
  const first = runs[0]!.event
  const bySeq = new Set(runs.map((run) => run.event.seq))
  let published = 0
  return {
    attempt: Math.max(...runs.map((run) => run.attempt)),
    get signal() {
      if (!runs[0]!.controller) {
        const controller = new AbortController()
        for (const run of runs) run.controller = controller
        const reason = runs.find((run) => run.abortReason !== undefined)?.abortReason
        if (reason !== undefined) controller.abort(reason)
      }
      return runs[0]!.controller!.signal
    },
    // Chained from the batch's first event: a batch retried with the same first event publishes no duplicate.
    publish: (type, data, options = {}) =>
      core.host.publish(
        type,
        data,
        chainedOptions(core.options.name, first, options, () => published++),
      ),
    fail(event, error) {
      // Found by seq, so a copy of the event the handler made counts too.
      const seq = (event as BusEvent | undefined)?.seq
      if (typeof seq !== 'number' || !bySeq.has(seq))
        throw new TidingsError(
          'INVALID_OPTIONS',
          `ctx.fail takes an event of this batch, got seq ${String(seq)}`,
        )
      if (runs[0]!.over) return
      failed.set(
        seq,
        error ??
          Object.assign(new Error(`marked failed by the batch handler of "${core.options.name}"`), {
            name: 'BatchFailure',
          }),
      )
    },
  }
}

/**
 * What each event of a settled batch comes to, in seq order: acked, or failed (retry or dead
 * letter), or released when an earlier event of its key failed (it runs again after that one).
 * Returns how many were acked and how many failed (the released ones are neither).
 */
const settle = (
  core: RunnerCore,
  runs: Attempt[],
  failed: Map<number, unknown>,
  thrown: { error: unknown } | undefined,
): { acked: number; failed: number } => {
  const { state, host, options } = core
  const failedKeys = new Set<string>()
  const counts = { acked: 0, failed: 0 }
  for (const run of runs) {
    const { event } = run
    if (event.key !== undefined && failedKeys.has(event.key)) {
      if (state.inFlight.get(event.seq) === run) state.inFlight.delete(event.seq)
      continue
    }
    if (!thrown && !failed.has(event.seq)) {
      counts.acked++
      core.report({ seq: event.seq, event, kind: 'ack' })
      continue
    }
    counts.failed++
    if (event.key !== undefined) failedKeys.add(event.key)
    const error = failed.has(event.seq) ? failed.get(event.seq) : thrown!.error
    const dead = error instanceof NonRetriableError || run.attempt >= options.attempts
    core.report({
      seq: event.seq,
      event,
      kind: dead ? 'dead' : 'retry',
      attempt: run.attempt,
      error,
      due: host.clock.now() + retryWait(core, error, run.attempt),
    })
  }
  return counts
}

/**
 * Runs the handler on a batch of events (in seq order; `retries[i]` is the retry state of
 * `events[i]`): one slot and one timeout for the call; each event stays in flight until its own
 * outcome is committed.
 *
 * @example
 * startBatch(core, [first, second], [undefined, undefined])
 */
export const startBatch = (
  core: RunnerCore,
  events: readonly BusEvent[],
  retries: readonly (RetryRecord | undefined)[],
): void => {
  const { state, host, options } = core
  const runs: Attempt[] = events.map((event, index) => ({
    event,
    attempt: (retries[index]?.attempt ?? 0) + 1,
    timer: undefined,
    over: false,
  }))
  const failed = new Map<number, unknown>()
  const epoch = state.epoch
  for (const run of runs) state.inFlight.set(run.event.seq, run)
  state.runningHandlers++
  let timer: unknown
  const ctx = contextOf(core, runs, failed)
  const started = host.clock.now()
  const end = (thrown: { error: unknown } | undefined) => {
    if (runs[0]!.over) return
    for (const run of runs) run.over = true
    host.clock.clearTimer(timer)
    // A replay or stop reset the count and dropped these attempts: their results go nowhere.
    if (epoch !== state.epoch || state.stopped) return
    releaseSlot(core)
    const counts = settle(core, runs, failed, thrown)
    // One duration per call (what the timeout bounds), however many events it carried.
    const now = host.clock.now()
    options.metrics.recordBatch(
      counts.acked,
      counts.failed,
      reportedDuration(ctx) ?? now - started,
      now,
    )
  }
  const maxAttempt = Math.max(...runs.map((run) => run.attempt))
  timer = host.clock.setTimer(host.clock.now() + options.timeout, () => {
    const reason = new TidingsError(
      'TIMEOUT',
      `attempt ${maxAttempt} of a batch of ${runs.length} from #${events[0]!.seq} in "${options.name}" passed ${options.timeout} ms`,
    )
    for (const run of runs) abortAttempt(run, reason)
    end({ error: reason })
  })
  for (const run of runs) run.timer = timer
  const handler = options.handler as unknown as (events: BusEvent[], ctx: BatchContext) => unknown
  try {
    const result = handler(
      runs.map((run) => run.event),
      ctx,
    )
    // Any thenable counts (another realm's Promise, a library's): the acks wait for it.
    if (typeof (result as PromiseLike<void> | undefined)?.then === 'function')
      Promise.resolve(result).then(
        () => end(undefined),
        (error) => end({ error }),
      )
    else end(undefined)
  } catch (error) {
    end({ error })
  }
}
