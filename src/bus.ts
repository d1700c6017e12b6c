import { realClock } from './clock/clock.js'
import { fail, TidingsError } from './errors.js'
import { idPrefix, type BusEvent, type EventMap, type OpenEvents } from './event.js'
import { createLog, type Draft } from './log/log.js'
import { memoryStore } from './store/memory.js'
import {
  checkEnvelope,
  coded,
  describeValue,
  draftEvent,
  MAX_TIME,
  optionsOf,
  setLimits,
  signalOf,
} from './check.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import type { Subscriptions } from './subscriptions/subscriptions.js'
import type { Scheduler } from './schedule/schedule.js'
import { createTrie } from './topic/topic.js'
import type { Bus, BusOptions, PublishInput, PublishOptions } from './types.js'

export type {
  Bus,
  BusOptions,
  DelayOptions,
  DelayedResult,
  ErrorContext,
  ListenOptions,
  Matching,
  PatternOf,
  PublishInput,
  PublishOptions,
  PublishResult,
  ReadOptions,
  WaitOptions,
} from './types.js'

const DAY = 86_400_000

interface Listener {
  fn: (e: BusEvent) => unknown
  test: ((e: BusEvent) => boolean) | undefined
  n: number
}

/**
 * Creates a bus. Typed by an event map, or inferred from Standard Schema validators.
 *
 * @example
 * type Events = { 'order.placed': { id: string; total: number } }
 * const bus = createBus<Events>({ source: 'shop' })
 * const { id, seq } = await bus.publish('order.placed', { id: 'o1', total: 42 }, { key: 'o1' })
 */
export function createBus<S extends Record<string, StandardSchemaV1>>(
  options: BusOptions & { schemas: S },
): Bus<
  { [K in keyof S]: StandardSchemaV1.InferOutput<S[K]> },
  { [K in keyof S]: StandardSchemaV1.InferInput<S[K]> }
>
export function createBus<E extends EventMap = OpenEvents>(options?: BusOptions<E>): Bus<E>
export function createBus(options: BusOptions = {}): Bus {
  const clock = options.clock ?? realClock
  const source = options.source ?? 'tidings'
  const schemas = (options.schemas ?? {}) as Record<string, StandardSchemaV1 | undefined>
  // Own entries only: a topic named `constructor` or `toString` has no schema of Object.prototype's.
  const schemaOf = (type: string) => (Object.hasOwn(schemas, type) ? schemas[type] : undefined)
  const onError = options.onError ?? ((error, ctx) => console.error('tidings:', error, ctx))
  const maxBytes = options.limits?.maxEventBytes ?? 131_072
  const listeners = createTrie<Listener>()
  let closed = false
  let added = 0
  // Aborted by close(): waits still pending reject with CLOSED and drop their timers.
  const closing = new AbortController()

  const dispatch = (events: BusEvent[]) => {
    for (const e of events) {
      const ls = listeners.match(e.type)
      // The trie finds listeners by pattern; they run in the order they were added.
      if (ls.length > 1) ls.sort((a, b) => a.n - b.n)
      for (const l of ls) {
        try {
          if (l.test && !l.test(e)) continue
          const r = l.fn(e)
          if (typeof (r as PromiseLike<void> | undefined)?.then === 'function')
            Promise.resolve(r).catch((error) => onError(error, { event: e, listener: l.fn }))
        } catch (error) {
          onError(error, { event: e, listener: l.fn })
        }
      }
    }
  }

  const store = options.store ?? memoryStore()
  // Every state change bumps this: the manual clock's "until nothing makes progress", and idle().
  let activity = 0
  let wake: (() => void)[] = []
  const bump = () => {
    activity++
    for (const w of wake.splice(0)) w()
  }
  const nextActivity = () => new Promise<void>((r) => wake.push(r))
  let subs: Subscriptions | undefined
  let loading: Promise<Subscriptions> | undefined
  const log = createLog({
    store,
    clock,
    dedupe: { window: options.dedupe?.window ?? DAY, max: options.dedupe?.max ?? 100_000 },
    retention: { events: options.retention?.events ?? 10_000, age: options.retention?.age ?? DAY },
    expireAfter: options.subscriptions?.expireAfter ?? 7 * DAY,
    onAppend: (events) => {
      dispatch(events)
      subs?.notify(events)
      bump()
    },
  })
  // Durable subscriptions load on first use: apps that only publish and listen never ship them.
  const manager = () =>
    (loading ??= log.track(import('./subscriptions/subscriptions.js')).then(
      (m) =>
        (subs = m.createSubscriptions(
          {
            store,
            clock,
            log,
            owner: idPrefix(clock.now()),
            onError,
            activity: bump,
            publish: (type, data, o) => bus.publish(type as never, data as never, o),
            pin: log.pin,
            unpin: log.unpin,
            ledger: {
              window: options.dedupe?.window ?? DAY,
              max: options.subscriptions?.ledger ?? 10_000,
            },
          },
          {
            leaseMs: options.subscriptions?.lease ?? 30_000,
            expireAfter: options.subscriptions?.expireAfter ?? 7 * DAY,
          },
        )),
    ))
  // Schedules load when used, or at start-up when the store holds some (their catch-up is start-up work).
  let scheduling: Promise<Scheduler> | undefined
  const scheduler = () =>
    (scheduling ??= log.track(
      import('./schedule/schedule.js').then((m) =>
        m.createScheduler({
          store,
          clock,
          log,
          draft: (type, data, id) => prepare(type, data, { id }),
          publish: (type, data, o) => bus.publish(type as never, data as never, o),
        }),
      ),
    ))
  void log
    .track(
      log.ready.then(async () => {
        if ((await store.list({ prefix: 'c/', limit: 1 })).length) await scheduler()
      }),
    )
    .catch(() => {})
  const lazy = <
    K extends 'subscribe' | 'subscriptions' | 'deleteSubscription' | 'replay' | 'stats',
  >(
    k: K,
  ) =>
    (async (...a: unknown[]) =>
      ((await manager())[k] as (...a: unknown[]) => unknown)(...a)) as never
  const detach = clock.attach?.(async () => {
    await log.idle()
    await Promise.all([...log.working(), ...(subs?.working() ?? [])])
    return activity
  })
  // Start-up failures surface through publish and idle, not as an unhandled rejection.
  log.ready.catch(() => {})

  const limits = { source, maxBytes }
  /** When a delayed publish is due (0: now). A due time already past appends at once. */
  const holdOf = ({ delay, at }: { delay?: unknown; at?: unknown }): number => {
    if (delay === undefined && at === undefined) return 0
    const t: unknown =
      at instanceof Date
        ? at.getTime()
        : (at ?? (typeof delay === 'number' && delay >= 0 ? clock.now() + delay : NaN))
    if (
      (delay !== undefined && at !== undefined) ||
      typeof t !== 'number' ||
      !(t <= MAX_TIME) ||
      t !== t
    ) {
      fail(
        'INVALID_OPTIONS',
        `delay ${describeValue(delay)} / at ${describeValue(at)}: give delay (ms >= 0) or at (epoch ms, Date), due by year 9999`,
      )
    }
    return (t as number) > clock.now() ? Math.ceil(t as number) : 0
  }

  /** Everything that can be checked before a place in line is taken; async schemas yield a promise. */
  const prepare = (type: string, data: unknown, o: PublishOptions = {}): Draft | Promise<Draft> => {
    if (closed) fail('CLOSED', 'the bus is closed')
    checkEnvelope(type, o)
    // No id yet: the log gives one when the event reaches it.
    const id = o.id ?? ''
    const schema = schemaOf(type)
    if (!schema) return draftEvent(id, type, data, o, limits)
    const checked = (r: StandardSchemaV1.Result<unknown>) => {
      if (!r.issues) return draftEvent(id, type, r.value, o, limits)
      const what = r.issues.map(
        (i) =>
          `${i.path?.map((p) => String(typeof p === 'object' ? p.key : p)).join('.') || '(root)'}: ${i.message}`,
      )
      return fail('INVALID_PAYLOAD', `"${type}" failed its schema: ${what.join('; ')}`)
    }
    const invalid = (e: unknown): never => {
      throw coded(e, 'INVALID_PAYLOAD', `"${type}": its schema threw`)
    }
    let r: StandardSchemaV1.Result<unknown> | PromiseLike<StandardSchemaV1.Result<unknown>>
    try {
      r = schema['~standard'].validate(data)
    } catch (e) {
      return invalid(e)
    }
    return typeof (r as PromiseLike<unknown>)?.then === 'function'
      ? Promise.resolve(r).then(checked, invalid)
      : checked(r as StandardSchemaV1.Result<unknown>)
  }

  /** publish and publishMany: everything checked first, then one place in line for all. */
  const append = (inputs: () => readonly PublishInput[], single: boolean): Promise<any> => {
    let drafts, holds
    try {
      const all = inputs()
      if (!Array.isArray(all))
        fail('INVALID_OPTIONS', `publishMany takes an array, got ${describeValue(all)}`)
      // A hole or a null is refused at once: a sparse array with a huge length is not walked.
      for (const i of all) optionsOf(i ?? null, 'publishMany: each event')
      holds = all.map(holdOf)
      // prepare reads the options by name: the input itself serves, no copy per publish.
      drafts = all.map((i) => prepare(i.type, i.data, i as PublishOptions))
    } catch (e) {
      return Promise.reject(coded(e, 'INVALID_OPTIONS', 'reading the options threw'))
    }
    return log.append(
      drafts.some((d) => d instanceof Promise) ? Promise.all(drafts) : (drafts as Draft[]),
      single,
      undefined,
      holds.some(Boolean) ? holds : undefined,
    )
  }

  const bus: Bus = {
    publish: (type: string, data: unknown, o?: PublishOptions) =>
      append(() => [{ ...optionsOf(o, 'publish'), type, data }], true),
    publishMany: (inputs) => append(() => inputs, false),

    cancel: (id) =>
      typeof id === 'string'
        ? log.cancel(id)
        : Promise.reject(
            new TidingsError(
              'INVALID_OPTIONS',
              `cancel takes an event id, got ${describeValue(id)}`,
            ),
          ),

    on(pattern, fn, o) {
      let off: () => void, signal
      try {
        const { filter, ...rest } = optionsOf(o, 'on')
        signal = signalOf(rest.signal)
        if (typeof fn !== 'function')
          fail('INVALID_OPTIONS', `on() takes a listener function, got ${describeValue(fn)}`)
        if (filter !== undefined && typeof filter !== 'function')
          fail(
            'INVALID_FILTER',
            'on() takes a function filter; declarative filters are for subscribe() and waitFor()',
          )
        off = listeners.add(pattern, {
          fn: fn as Listener['fn'],
          test: filter as Listener['test'],
          n: added++,
        })
      } catch (e) {
        throw coded(e, 'INVALID_OPTIONS', 'reading the options of on() threw')
      }
      if (signal?.aborted) off()
      signal?.addEventListener('abort', off, { once: true })
      return () => {
        off()
        signal?.removeEventListener('abort', off)
      }
    },

    // Reading is async anyway: its code loads on first use, outside the entry chunk.
    read: async (o) => (await import('./log/read.js')).read(log, o) as never,

    subscribe: lazy('subscribe'),
    subscriptions: lazy('subscriptions'),
    deleteSubscription: lazy('deleteSubscription'),
    replay: lazy('replay'),
    stats: lazy('stats'),
    deadLetters: {
      list: (o) => manager().then((m) => m.deadLetters.list(o)),
      redrive: (ids) => manager().then((m) => m.deadLetters.redrive(ids)),
      discard: (ids) => manager().then((m) => m.deadLetters.discard(ids)),
    },

    waitFor(pattern, o) {
      // Registered synchronously, so nothing published after the call is missed; the rest loads lazily.
      const early: BusEvent[] = []
      let seen: ((e: BusEvent) => void) | undefined
      let off
      try {
        off = listeners.add(pattern, {
          fn: (e) => {
            if (seen) seen(e)
            else early.push(e)
          },
          test: undefined,
          n: added++,
        })
      } catch (e) {
        return Promise.reject(e)
      }
      return log.track(import('./log/wait-for.js')).then((m) =>
        m.wait({
          log,
          clock,
          pattern,
          options: o as never,
          early,
          off,
          listen: (f) => {
            seen = f
          },
          closing: closing.signal,
        }),
      ) as never
    },

    schedule: async (name, spec) => (await scheduler()).schedule(name, spec as never),
    schedules: async () => (await scheduler()).schedules(),
    unschedule: async (name) => (await scheduler()).unschedule(name),
    runSchedule: async (name, o) => (await scheduler()).run(name, o) as never,

    async idle() {
      do {
        await log.idle()
        await Promise.all(log.working())
        while (subs?.busy()) {
          await nextActivity()
          await log.idle()
        }
      } while (log.working().length)
    },

    async close(o) {
      // A grace period first (with a timeout): handlers finish, chained publishes included.
      await subs?.drain(o?.timeout)
      closed = true
      closing.abort(new TidingsError('CLOSED', 'the bus is closed'))
      await log.idle().catch(() => {})
      await subs?.close()
      void scheduling?.then((s) => s.stop())
      log.close()
      detach?.()
    },
  }
  setLimits(bus, limits)
  return bus
}
