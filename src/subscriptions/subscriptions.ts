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
import { keys, type SubRecord } from './record.js'
import type { Recovery } from './recovery.js'
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
    read: async (name) => {
      const entry = await store.get(keys.sub(name))
      return entry && { record: entry.value as SubRecord, version: entry.version }
    },
  }
  const leases = createLeases(core)
  const host: Host = { ...base, reclaim: leases.reclaim }
  const backlogs = createBacklogs(store, log)

  /** Writes the record a subscribe asks for (pattern, filter, start), unless the stored one says the same. */
  const register = async (name: string, pattern: string, options: SubscribeOptions) => {
    for (;;) {
      const got = await core.read(name)
      const cursor = got ? got.record.cursor : await startAt(log, options.from)
      const record: SubRecord = {
        ...got?.record,
        name,
        pattern,
        cursor,
        created: got?.record.created ?? clock.now(),
      }
      // A declarative filter is stored with the subscription; a function one lives only here.
      if (options.filter && typeof options.filter !== 'function') record.filter = options.filter
      else delete record.filter
      const same =
        got &&
        got.record.pattern === pattern &&
        JSON.stringify(got.record.filter) === JSON.stringify(record.filter)
      if (!same) {
        const result = await store.commit({
          checks: [{ key: keys.sub(name), version: got?.version ?? null }],
          mutations: [{ type: 'set', key: keys.sub(name), value: record }],
        })
        if (!result.ok) continue
      }
      base.pin(name, record.cursor)
      return
    }
  }

  return {
    ...createAdmin(core, backlogs, leases.reclaim),

    async subscribe(name, pattern, handler, given) {
      if (core.closed) fail('CLOSED', 'the bus is closed')
      const { options, batch, topic, test, backoff } = checkSubscribe(name, pattern, handler, given)
      if (attached.has(name))
        fail('ALREADY_SUBSCRIBED', `subscription "${name}" is already attached on this bus`)
      const attempts = options.retry?.attempts ?? 5
      const runnerOptions: RunnerOptions = {
        name,
        handler,
        matches: (event) => topic(event.type) && (!test || test(event)),
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
        batch,
      }
      const make = (record: SubRecord, version: string, recovery?: Recovery) =>
        createRunner(host, runnerOptions, record, version, recovery)
      const entry: Attached = { make, attempts, countDeadRuntimes: runnerOptions.countDeadRuntimes }
      attached.set(name, entry)
      try {
        await register(name, pattern, options)
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

    async drain(timeout) {
      if (timeout === undefined) return
      if (typeof timeout !== 'number' || !(timeout >= 0))
        fail(
          'INVALID_OPTIONS',
          `close timeout must be a number of ms >= 0, got ${JSON.stringify(timeout)}`,
        )
      core.closed = true
      const runners = [...attached.values()].flatMap((entry) =>
        entry.runner ? [entry.runner] : [],
      )
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
        runner.abortRunning(
          new TidingsError('CLOSED', `the bus closed after ${timeout} ms of grace`),
        )
      // A handler that honours its signal settles within a turn: wait that long, not longer.
      await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 0))])
    },

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
