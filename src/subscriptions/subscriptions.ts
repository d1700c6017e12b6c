import { describeValue, optionsOf } from '../check.js'
import { fail, TidingsError } from '../errors.js'
import type { BusEvent } from '../event.js'
import { compileFilter, type EventPredicate, type Filter } from '../filter/filter.js'
import { compilePattern } from '../topic/pattern.js'
import type { HandlerContext, RetryOptions, SubscribeOptions, Subscription } from '../types.js'
import { createAdmin, type SubscriptionsAdmin } from './admin.js'
import { checkBatch, checkName, checkPoint, checkPositive, checking } from './arguments.js'
import type { Attached, SubscriptionsCore } from './attached.js'
import { createBacklogs } from './backlog.js'
import type { Host } from './host.js'
import { createLeases } from './leases.js'
import { createMetrics } from './metrics.js'
import { keys, type SubRecord } from './record.js'
import type { Recovery } from './recovery.js'
import { drain } from './drain.js'
import { register } from './register.js'
import { createRunner } from './runner.js'
import type { RunnerOptions } from './runner-state.js'
import { startAt } from './start-point.js'
import { countsDeadRuntimes } from './host-counted.js'

export type { SubscribeOptions, Subscription } from '../types.js'
export type { Host } from './host.js'
export type { SubRecord } from './record.js'

/** Durable subscriptions of one bus, as the bus uses them. */
export interface Subscriptions extends SubscriptionsAdmin {
  subscribe(
    name: string,
    pattern: string,
    handler: (event: BusEvent, ctx: HandlerContext) => unknown,
    options?: SubscribeOptions,
  ): Promise<Subscription>
  /** New events appended to the log. */
  notify(events: readonly BusEvent[]): void
  /** Internal work in progress (commits, reads), not handlers' own promises. */
  working(): (Promise<void> | undefined)[]
  busy(): boolean
  /**
   * The grace period of `close({ timeout })`: nothing new starts, running handlers may finish until
   * the deadline, then their signals abort and whatever they settle with in that turn is kept,
   * to be committed by `close()`.
   */
  drain(timeout: number | undefined): Promise<void>
  close(): Promise<void>
}

/** The event a filter sees (as stored with `raw`); `undefined` when its upcast throws. */
const viewedBy =
  (view: (event: BusEvent) => BusEvent) =>
  (raw: boolean | undefined, event: BusEvent): BusEvent | undefined => {
    if (raw) return event
    try {
      return view(event)
    } catch {
      return undefined
    }
  }

type Checked = {
  options: SubscribeOptions & { batch?: unknown }
  batch: RunnerOptions['batch']
  topic: (type: string) => boolean
  test: EventPredicate | undefined
  backoff: NonNullable<RetryOptions['backoff']>
}

/** Checks and copies `subscribe`'s arguments: what was checked is what runs, however the caller's objects change (or throw) later. */
const checkSubscribe = (
  name: string,
  pattern: string,
  handler: unknown,
  given: SubscribeOptions | undefined,
): Checked => {
  let options: SubscribeOptions & { batch?: unknown } = {},
    batch: RunnerOptions['batch'],
    topic!: (type: string) => boolean,
    test: EventPredicate | undefined,
    backoff: NonNullable<RetryOptions['backoff']> = {}
  checking(() => {
    checkName(name)
    options = { ...optionsOf(given, 'subscribe') }
    if (options.from !== undefined) checkPoint(options.from)
    const { retry } = options
    if (
      retry !== undefined &&
      (!retry ||
        typeof retry !== 'object' ||
        (retry.backoff !== undefined && (!retry.backoff || typeof retry.backoff !== 'object')))
    ) {
      fail(
        'INVALID_OPTIONS',
        `retry must be { attempts?, backoff?: { initial?, max?, factor?, jitter? } }, got ${describeValue(retry)}`,
      )
    }
    if (typeof handler !== 'function')
      fail('INVALID_OPTIONS', 'a subscription needs a handler function')
    topic = compilePattern(pattern)
    test =
      options.filter === undefined
        ? undefined
        : compileFilter(options.filter as Filter | EventPredicate)
    if (options.retry) options.retry = { ...options.retry }
    backoff = { ...options.retry?.backoff }
    checkPositive('concurrency', options.concurrency)
    checkPositive('timeout', options.timeout, false)
    checkPositive('retry.attempts', options.retry?.attempts)
    checkPositive('retry.backoff.initial', backoff.initial, false)
    checkPositive('retry.backoff.max', backoff.max, false)
    checkPositive('retry.backoff.factor', backoff.factor, false)
    if (options.batch !== undefined) batch = checkBatch(options.batch)
  })
  return { options, batch, topic, test, backoff }
}

/**
 * Durable subscriptions of one bus: leases, runners, and the admin operations over the store.
 *
 * @example
 * const subscriptions = createSubscriptions(host, { leaseMs: 30_000, expireAfter: 7 * 86_400_000 })
 * await subscriptions.subscribe('mailer', 'user.*', async (event) => send(event))
 */
export const createSubscriptions = (
  base: Omit<Host, 'reclaim'>,
  { leaseMs, expireAfter }: { leaseMs: number; expireAfter: number },
): Subscriptions => {
  const { store, clock, log } = base
  const attached = new Map<string, Attached>()
  const core: SubscriptionsCore = {
    base,
    attached,
    closed: false,
    leaseMs,
    expireAfter,
    metrics: new Map(),
    read: async (name) => {
      const entry = await store.get(keys.sub(name))
      return entry && { record: entry.value as SubRecord, version: entry.version }
    },
  }
  const leases = createLeases(core)
  const host: Host = { ...base, reclaim: leases.reclaim }
  const backlogs = createBacklogs(store, log)
  const viewed = viewedBy(base.view)

  return {
    ...createAdmin(core, backlogs, leases.reclaim),

    async subscribe(name, pattern, handler, given) {
      if (core.closed) fail('CLOSED', 'the bus is closed')
      const { options, batch, topic, test, backoff } = checkSubscribe(name, pattern, handler, given)
      if (attached.has(name))
        fail('ALREADY_SUBSCRIBED', `subscription "${name}" is already attached on this bus`)
      const attempts = options.retry?.attempts ?? 5
      const runnerOptions: RunnerOptions = {
        // Upcast where the handler runs: an upcaster that throws fails that attempt (retried, then
        // dead-lettered with the error) and never loses the event. A filter that cannot see the
        // current version lets the event through, so the attempt reports why.
        name,
        handler: options.raw ? handler : (event, ctx) => handler(base.view(event), ctx),
        matches: (event) => {
          if (!topic(event.type) || !test) return topic(event.type)
          const seen = viewed(options.raw, event)
          return !seen || test(seen)
        },
        concurrency: options.concurrency ?? 1,
        attempts,
        timeout: options.timeout ?? 30_000,
        backoff: {
          initial: backoff.initial ?? 1000,
          factor: backoff.factor ?? 2,
          max: backoff.max ?? 60_000,
          jitter: backoff.jitter ?? true,
        },
        ledger: base.ledger,
        countDeadRuntimes: countsDeadRuntimes(store),
        metrics: core.metrics.get(name) ?? core.metrics.set(name, createMetrics()).get(name)!,
        batch,
      }
      const make = (record: SubRecord, version: string, recovery?: Recovery) =>
        createRunner(host, runnerOptions, record, version, recovery)
      const entry: Attached = { make, attempts, countDeadRuntimes: runnerOptions.countDeadRuntimes }
      attached.set(name, entry)
      try {
        await register(core, name, pattern, options)
        await leases.acquire(name)
      } catch (error) {
        attached.delete(name)
        throw error
      }
      return {
        name,
        close: async () => {
          if (attached.get(name) !== entry) return
          attached.delete(name)
          clock.clearTimer(entry.timer)
          if (!entry.runner) return
          entry.runner.stop(new TidingsError('CLOSED', `subscription "${name}" closed`))
          await entry.runner.lease(null).catch(() => {})
        },
      }
    },

    notify(events) {
      for (const entry of attached.values()) entry.runner?.notify(events)
      backlogs.notify(events)
    },
    working: () => [...attached.values()].map((entry) => entry.runner?.working).filter(Boolean),
    busy: () => [...attached.values()].some((entry) => entry.runner?.busy()),

    drain: (timeout) => drain(core, timeout),

    async close() {
      core.closed = true
      leases.unwatch?.()
      for (const [name, entry] of [...attached]) {
        attached.delete(name)
        clock.clearTimer(entry.timer)
        if (!entry.runner) continue
        entry.runner.stop(new TidingsError('CLOSED', 'the bus is closed'))
        await entry.runner.lease(null).catch(() => {})
      }
    },
  }
}
