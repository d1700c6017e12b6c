/**
 * What one bus saw of a subscription since it started: attempts that succeeded and failed, when
 * the last success was, and the durations of the last 1,000 handler calls in a fixed ring buffer, so
 * memory stays the same however long the bus runs. A batch handler call counts its events one by
 * one but is one duration sample: its percentiles say how long a call takes, as `timeout` does.
 */

/** How many recent attempt durations the percentiles are taken over. */
export const DURATION_WINDOW = 1000

/** Duration percentiles in ms (nearest rank); all 0 before the first attempt. */
export interface DurationPercentiles {
  p50: number
  p95: number
  p99: number
  max: number
}

/** The metrics fields of one `stats()` row. */
export interface SubscriptionMetrics {
  /** Attempts that succeeded on this bus since it started (a batch call counts each event acked). */
  handled: number
  /** Attempts that failed (threw, timed out, or were lost with their runtime) on this bus since it started (a batch call counts each event failed). */
  failed: number
  /** Over the last 1,000 handler calls (a batch call is one), successful or not. */
  duration: DurationPercentiles
  /** When the last successful attempt ended (epoch ms), or null. */
  lastHandledAt: number | null
}

/**
 * One row of `stats()`. The metrics (`handled`, `failed`, `duration`, `lastHandledAt`) are what
 * this bus saw since it started; a subscription running on another bus shows zeros here.
 *
 * @example
 * const [mailer] = await bus.stats()
 * console.log(mailer.lag, mailer.handled, mailer.duration.p95)
 */
export interface SubscriptionStats extends SubscriptionMetrics {
  name: string
  lag: number
  inFlight: number
  retrying: number
  deadLetters: number
  oldestAge: number
}

/** The running counters of one subscription on one bus. */
export interface MetricsRecorder {
  /** Counts one finished attempt of `ms` milliseconds that ended at `at`. */
  record(ok: boolean, ms: number, at: number): void
  /**
   * Counts one finished batch handler call of `ms` milliseconds that ended at `at`: one duration
   * sample (the call's, as the timeout measures it), and each of its events as handled or failed.
   */
  recordBatch(handled: number, failed: number, ms: number, at: number): void
  /** The counters and percentiles as `stats()` shows them. */
  snapshot(): SubscriptionMetrics
  /** The durations in the window, oldest first (for merging across shards). */
  samples(): number[]
}

/** Nearest-rank percentiles of `values` (sorted in place). */
export const percentiles = (values: number[]): DurationPercentiles => {
  if (!values.length) return { p50: 0, p95: 0, p99: 0, max: 0 }
  values.sort((a, b) => a - b)
  const rank = (q: number) => values[Math.max(0, Math.ceil(q * values.length) - 1)]!
  return { p50: rank(0.5), p95: rank(0.95), p99: rank(0.99), max: values[values.length - 1]! }
}

/**
 * A subscription's counters, made once per name per bus (they outlive runner restarts and re-attaches).
 *
 * @example
 * const metrics = createMetrics()
 * metrics.record(true, 12, clock.now())
 * metrics.recordBatch(9, 1, 40, clock.now()) // a batch call of 40 ms: 9 events acked, 1 failed
 * metrics.snapshot() // { handled: 1, failed: 0, duration: { p50: 12, p95: 12, p99: 12, max: 12 }, lastHandledAt: ... }
 */
export const createMetrics = (): MetricsRecorder => {
  const ring = new Float64Array(DURATION_WINDOW)
  let written = 0
  let handled = 0
  let failed = 0
  let lastHandledAt: number | null = null
  const samples = () => {
    const filled = Math.min(written, DURATION_WINDOW)
    const start = written - filled
    return Array.from({ length: filled }, (_, index) => ring[(start + index) % DURATION_WINDOW]!)
  }
  const recordBatch = (handledNow: number, failedNow: number, ms: number, at: number) => {
    ring[written++ % DURATION_WINDOW] = Math.max(0, ms)
    handled += handledNow
    failed += failedNow
    if (handledNow) lastHandledAt = at
  }
  return {
    record: (ok, ms, at) => recordBatch(ok ? 1 : 0, ok ? 0 : 1, ms, at),
    recordBatch,
    snapshot: () => ({ handled, failed, duration: percentiles(samples()), lastHandledAt }),
    samples,
  }
}

/** Metrics of a subscription this bus never ran. */
export const noMetrics = (): SubscriptionMetrics => ({
  handled: 0,
  failed: 0,
  duration: percentiles([]),
  lastHandledAt: null,
})

// Durations an adapter measured where the handler really ran (the Cloudflare Worker), by context.
const reported = new WeakMap<object, number>()

/**
 * Tells the runner how long an attempt's handler really took, when the handler the runner calls
 * only forwards the event (the Durable Object sends it to a Worker and waits for the outcome): the
 * Worker's measurement replaces the round trip. Call it before the forwarding promise settles.
 *
 * @example
 * reportDuration(ctx, outcome.ms)
 * resolve()
 */
export const reportDuration = (ctx: object, ms: number): void => {
  reported.set(ctx, ms)
}

/** The duration an adapter reported for this context, if any. */
export const reportedDuration = (ctx: object): number | undefined => reported.get(ctx)

// The raw durations behind a stats() row, for an adapter that merges rows of several buses.
const rowSamples = new WeakMap<object, number[]>()

/**
 * The durations behind a `stats()` row of this bus (oldest first): the sharded Cloudflare bus
 * merges its objects' windows with them before taking percentiles.
 *
 * @example
 * const rows = await bus.stats()
 * const all = rows.flatMap((row) => durationSamples(row))
 */
export const durationSamples = (row: object): number[] => rowSamples.get(row) ?? []

/** A stats() row's metrics fields, remembering its samples for {@link durationSamples}. */
export const metricsRow = <T extends object>(
  row: T,
  recorder: MetricsRecorder | undefined,
): T & SubscriptionMetrics => {
  const out = Object.assign(row, recorder?.snapshot() ?? noMetrics())
  if (recorder) rowSamples.set(out, recorder.samples())
  return out
}
