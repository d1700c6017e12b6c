import { realClock, type Clock } from './clock/clock.js'
import { fail, TidingsError } from './errors.js'
import { idPrefix, type BusEvent, type EventMap, type EventOf, type OpenEvents } from './event.js'
import { createLog, type Appended, type Draft } from './log/log.js'
import { memoryStore } from './store/memory.js'
import { PREFIX } from './store/keys.js'
import { checkEnvelope, coded, describeValue, draftEvent, MAX_TIME, optionsOf, setLimits, signalOf } from './check.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import type { Store } from './store/store.js'
import type { DeadLetter, HandlerContext } from './subscriptions/runner.js'
import type { SubscribeOptions, Subscription, Subscriptions } from './subscriptions/subscriptions.js'
import type { Filter } from './filter/filter.js'
import type { Scheduler, ScheduleInfo, ScheduleSpec } from './schedule/schedule.js'
import { createTrie, type MatchingTopics } from './topic/topic.js'

const DAY = 86_400_000

/** Options of {@link createBus}; every field has a default (see README, "Defaults"). */
export interface BusOptions<E extends EventMap = OpenEvents, I extends EventMap = E> {
  /** Where events live. Default: a fresh {@link memoryStore}. */
  store?: Store
  /** The `source` of events published here. Default `'tidings'`. */
  source?: string
  /** Default: the wall clock. Tests pass `manualClock()`. */
  clock?: Clock
  /** Standard Schema validators per type; the stored payload is the validator's output. */
  schemas?: { [K in keyof E & keyof I]?: StandardSchemaV1<I[K], E[K]> }
  /** Where listener and handler errors go. Default `console.error`. */
  onError?: (error: unknown, context: ErrorContext) => void
  limits?: { maxEventBytes?: number }
  /** Publish dedup: ids remembered for `window` ms, at most `max` of them. Default 24 h, 100,000. */
  dedupe?: { window?: number; max?: number }
  /** Beyond what subscriptions need: the last `events` events no older than `age` ms. Default 10,000, 24 h. */
  retention?: { events?: number; age?: number }
  /**
   * Durable subscriptions: deleted after `expireAfter` ms with no handler (default 7 days); `lease`
   * ms (default 30 s); `ledger`: handled ids each one remembers (default 10,000, within the dedup window).
   */
  subscriptions?: { expireAfter?: number; lease?: number; ledger?: number }
}

/** Options of `waitFor`. `filter` may be declarative or a function. */
export interface WaitOptions<Ev = BusEvent> { filter?: Filter | ((event: Ev) => boolean); timeout?: number; signal?: AbortSignal; since?: number }

/** What `onError` is told about a failure. */
export interface ErrorContext { event?: BusEvent; listener?: (event: never) => unknown; subscription?: string }

/** Per-publish options. `id` makes a retried publish a no-op within the dedup window. */
export interface PublishOptions {
  id?: string
  key?: string
  source?: string
  correlationId?: string
  causationId?: string
  traceparent?: string
}

/** When a delayed event is due: `delay` ms from now, or `at` (epoch ms or a Date). */
export type DelayOptions = { delay: number; at?: undefined } | { at: number | Date; delay?: undefined }

/** What a publish resolves once the event is durably stored. */
export interface PublishResult {
  id: string
  seq: number
  duplicate: boolean
  /**
   * On a duplicate, from buses whose cursors are more than a seq (the sharded Cloudflare client):
   * where the stored event can be read back, `read({ from: cursor, limit: 1 })`.
   */
  cursor?: string
}
/** What a delayed publish resolves: held aside until due, it has no `seq` yet. */
export type DelayedResult = Appended

/** One entry of `publishMany`. */
export type PublishInput<I extends EventMap = OpenEvents> = {
  [T in keyof I & string]: { type: T; data: I[T] } & PublishOptions & Partial<{ delay: number; at: number | Date }>
}[keyof I & string]

/**
 * Options of `on`: an abort signal to unsubscribe, and a predicate. Declarative filters are for
 * durable subscriptions and `waitFor`, whose code loads lazily; a live listener takes a function.
 */
export interface ListenOptions<Ev = BusEvent> { signal?: AbortSignal; filter?: (event: Ev) => boolean }

/**
 * Options of `read`: an opaque cursor (inclusive) or `'earliest'` (the default) or `'latest'` (the
 * end of the log: no events, and the cursor that follows), a pattern, a page size (default 100, at
 * most 10,000), and `cursors: true` for the cursor right after each event (to resume mid-page).
 */
export interface ReadOptions<P extends string = string> { from?: string; pattern?: P; limit?: number; cursors?: boolean }

/** The events whose topics a pattern matches. */
export type Matching<E extends EventMap, P extends string> = EventOf<E, MatchingTopics<keyof E & string, P>>

/** A pattern checked against a typed event map: one that matches no event type is a type error. */
export type PatternOf<E extends EventMap, P extends string> =
  [MatchingTopics<keyof E & string, P>] extends [never] ? `pattern "${P}" matches no event type` : P

/**
 * The bus. Create one with {@link createBus}. Written bare, `Bus` is a bus of any event map, so a
 * function that takes `bus: Bus` accepts every typed bus. The default is `any`, not
 * {@link OpenEvents}: a bus's methods take its map's types as arguments, so `Bus<Events>` is not
 * a `Bus<OpenEvents>`, and only an `any` argument relates to every map both ways.
 *
 * @example
 * const bus = createBus<{ 'order.placed': { total: number } }>()
 * bus.on('order.*', (e) => console.log(e.type, e.data.total))
 * await bus.publish('order.placed', { total: 42 })
 * const app = busApp({ bus, auth: false }) // takes `bus: Bus`
 */
export interface Bus<E extends EventMap = any, I extends EventMap = E> {
  /** Validates, then stores the event; resolves once it is durably stored, never waits for handlers. */
  publish<T extends keyof I & string>(type: T, data: I[T], options: PublishOptions & DelayOptions): Promise<DelayedResult>
  publish<T extends keyof I & string>(type: T, data: I[T], options?: PublishOptions): Promise<PublishResult>
  /** Stores all the events or none (one commit); delayed entries resolve without `seq`. */
  publishMany(events: readonly PublishInput<I>[]): Promise<DelayedResult[]>
  /** Drops a delayed event that is not yet due; true when it was. Its id stays remembered. */
  cancel(id: string): Promise<boolean>
  /** A live listener: in-process, at-most-once, in publish order. Returns its unsubscribe. */
  on<P extends string>(pattern: PatternOf<E, P>, listener: (event: Matching<E, P>) => unknown, options?: ListenOptions<Matching<E, P>>): () => void
  /** Reads the log oldest first from an opaque cursor; `next` continues where this page ended. */
  read<P extends string = '**'>(options?: ReadOptions<P>): Promise<{ events: Matching<E, P>[]; next: string; cursors?: string[] }>
  /** A durable subscription: at-least-once, resumed by any bus over the same store. Resolves once registered. */
  subscribe<P extends string>(name: string, pattern: PatternOf<E, P>, handler: (event: Matching<E, P>, ctx: HandlerContext<I>) => unknown,
    options?: SubscribeOptions<Matching<E, P>>): Promise<Subscription>
  /** Every subscription in the store, attached anywhere or not. */
  subscriptions(): Promise<{ name: string; pattern: string; attached: boolean; lag: number }[]>
  /** Drops a subscription with its cursor, acks, retries and dead letters; true when it existed. */
  deleteSubscription(name: string): Promise<boolean>
  /** Pub/Sub's seek: everything before the point counts as handled, everything from it on runs again. */
  replay(name: string, point: { seq: number } | { time: number }): Promise<void>
  deadLetters: {
    list(options?: { subscription?: string }): Promise<DeadLetter[]>
    /** Delivers again to that one subscription with fresh attempts; resolves the number affected. */
    redrive(ids?: readonly string[]): Promise<number>
    discard(ids?: readonly string[]): Promise<number>
  }
  /** Per subscription: events behind, in flight, waiting to retry, dead letters, age of the oldest unhandled (ms). */
  stats(): Promise<{ name: string; lag: number; inFlight: number; retrying: number; deadLetters: number; oldestAge: number }[]>
  /** The next matching event, or the most recent one within `since` ms; rejects with `TIMEOUT` or the signal's reason. */
  waitFor<P extends string>(pattern: PatternOf<E, P>, options?: WaitOptions<Matching<E, P>>): Promise<Matching<E, P>>
  /** Creates or updates a schedule (an identical spec changes nothing); it persists in the store. */
  schedule<T extends keyof I & string>(name: string, spec: ScheduleSpec<T, I[T]>): Promise<void>
  /** Active schedules with their next fire time. */
  schedules(): Promise<ScheduleInfo[]>
  /** Removes a schedule; true when it existed. */
  unschedule(name: string): Promise<boolean>
  /** Fires a schedule now (the external-scheduler hook): id `schedule:<name>:run:<timeMs>` or the caller's. */
  runSchedule(name: string, options?: { id?: string }): Promise<PublishResult>
  /** Resolves when no handler is running and nothing can start until the clock moves (start-up included). */
  idle(): Promise<void>
  /**
   * Stores what was accepted, aborts running handlers, releases leases; later publishes get `CLOSED`.
   * With `timeout` (ms), first starts no new handler and lets running ones finish until then, their
   * outcomes committed; at the deadline their signals abort and what they settle with is committed too.
   */
  close(options?: { timeout?: number }): Promise<void>
}

interface Listener { fn: (e: BusEvent) => unknown; test: ((e: BusEvent) => boolean) | undefined; n: number }

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
): Bus<{ [K in keyof S]: StandardSchemaV1.InferOutput<S[K]> }, { [K in keyof S]: StandardSchemaV1.InferInput<S[K]> }>
export function createBus<E extends EventMap = OpenEvents>(options?: BusOptions<E>): Bus<E>
export function createBus(options: BusOptions = {}): Bus {
  const clock = options.clock ?? realClock
  const source = options.source ?? 'tidings'
  const schemas = (options.schemas ?? {}) as Record<string, StandardSchemaV1 | undefined>
  // Own entries only: a topic named `constructor` or `toString` has no schema of Object.prototype's.
  const schemaOf = (type: string) => Object.hasOwn(schemas, type) ? schemas[type] : undefined
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
          if (typeof (r as PromiseLike<void> | undefined)?.then === 'function') Promise.resolve(r).catch((error) => onError(error, { event: e, listener: l.fn }))
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
  const bump = () => { activity++; for (const w of wake.splice(0)) w() }
  const nextActivity = () => new Promise<void>((r) => wake.push(r))
  let subs: Subscriptions | undefined
  let loading: Promise<Subscriptions> | undefined
  const log = createLog({
    store,
    clock,
    dedupe: { window: options.dedupe?.window ?? DAY, max: options.dedupe?.max ?? 100_000 },
    retention: { events: options.retention?.events ?? 10_000, age: options.retention?.age ?? DAY },
    expireAfter: options.subscriptions?.expireAfter ?? 7 * DAY,
    onAppend: (events) => { dispatch(events); subs?.notify(events); bump() },
  })
  // Durable subscriptions load on first use: apps that only publish and listen never ship them.
  const manager = () => loading ??= log.track(import('./subscriptions/subscriptions.js')).then((m) => (subs = m.createSubscriptions({
    store, clock, log, owner: idPrefix(clock.now()), onError, activity: bump,
    publish: (type, data, o) => bus.publish(type as never, data as never, o),
    pin: log.pin, unpin: log.unpin, ledger: { window: options.dedupe?.window ?? DAY, max: options.subscriptions?.ledger ?? 10_000 },
  }, { leaseMs: options.subscriptions?.lease ?? 30_000, expireAfter: options.subscriptions?.expireAfter ?? 7 * DAY })))
  // Schedules load when used, or at start-up when the store holds some (their catch-up is start-up work).
  let scheduling: Promise<Scheduler> | undefined
  const scheduler = () => scheduling ??= log.track(import('./schedule/schedule.js').then((m) => m.createScheduler({
    store, clock, log, draft: (type, data, id) => prepare(type, data, { id }),
    publish: (type, data, o) => bus.publish(type as never, data as never, o),
  })))
  void log.track(log.ready.then(async () => { if ((await store.list({ prefix: PREFIX.schedules, limit: 1 })).length) await scheduler() })).catch(() => {})
  const lazy = <K extends 'subscribe' | 'subscriptions' | 'deleteSubscription' | 'replay' | 'stats'>(k: K) =>
    (async (...a: unknown[]) => ((await manager())[k] as (...a: unknown[]) => unknown)(...a)) as never
  const detach = clock.attach?.(async () => {
    await log.idle()
    await Promise.all([...log.working(), ...subs?.working() ?? []])
    return activity
  })
  // Start-up failures surface through publish and idle, not as an unhandled rejection.
  log.ready.catch(() => {})

  const limits = { source, maxBytes }
  /** When a delayed publish is due (0: now). A due time already past appends at once. */
  const holdOf = ({ delay, at }: { delay?: unknown; at?: unknown }): number => {
    if (delay === undefined && at === undefined) return 0
    const t: unknown = at instanceof Date ? at.getTime() : at ?? (typeof delay === 'number' && delay >= 0 ? clock.now() + delay : NaN)
    if (delay !== undefined && at !== undefined || typeof t !== 'number' || !(t <= MAX_TIME) || t !== t) {
      fail('INVALID_OPTIONS', `delay ${describeValue(delay)} / at ${describeValue(at)}: give delay (ms >= 0) or at (epoch ms, Date), due by year 9999`)
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
      const what = r.issues.map((i) => `${i.path?.map((p) => String(typeof p === 'object' ? p.key : p)).join('.') || '(root)'}: ${i.message}`)
      return fail('INVALID_PAYLOAD', `"${type}" failed its schema: ${what.join('; ')}`)
    }
    const invalid = (e: unknown): never => { throw coded(e, 'INVALID_PAYLOAD', `"${type}": its schema threw`) }
    let r: StandardSchemaV1.Result<unknown> | PromiseLike<StandardSchemaV1.Result<unknown>>
    try { r = schema['~standard'].validate(data) } catch (e) { return invalid(e) }
    return typeof (r as PromiseLike<unknown>)?.then === 'function' ? Promise.resolve(r).then(checked, invalid) : checked(r as StandardSchemaV1.Result<unknown>)
  }

  /** publish and publishMany: everything checked first, then one place in line for all. */
  const append = (inputs: () => readonly PublishInput[], single: boolean): Promise<any> => {
    let drafts, holds
    try {
      const all = inputs()
      if (!Array.isArray(all)) fail('INVALID_OPTIONS', `publishMany takes an array, got ${describeValue(all)}`)
      // A hole or a null is refused at once: a sparse array with a huge length is not walked.
      for (const i of all) optionsOf(i ?? null, 'publishMany: each event')
      holds = all.map(holdOf)
      // prepare reads the options by name: the input itself serves, no copy per publish.
      drafts = all.map((i) => prepare(i.type, i.data, i as PublishOptions))
    } catch (e) { return Promise.reject(coded(e, 'INVALID_OPTIONS', 'reading the options threw')) }
    return log.append(drafts.some((d) => d instanceof Promise) ? Promise.all(drafts) : (drafts as Draft[]), single, undefined, holds.some(Boolean) ? holds : undefined)
  }

  const bus: Bus = {
    publish: (type: string, data: unknown, o?: PublishOptions) => append(() => [{ ...optionsOf(o, 'publish'), type, data }], true),
    publishMany: (inputs) => append(() => inputs, false),

    cancel: (id) => typeof id === 'string' ? log.cancel(id) : Promise.reject(new TidingsError('INVALID_OPTIONS', `cancel takes an event id, got ${describeValue(id)}`)),

    on(pattern, fn, o) {
      let off: () => void, signal
      try {
        const { filter, ...rest } = optionsOf(o, 'on')
        signal = signalOf(rest.signal)
        if (typeof fn !== 'function') fail('INVALID_OPTIONS', `on() takes a listener function, got ${describeValue(fn)}`)
        if (filter !== undefined && typeof filter !== 'function') fail('INVALID_FILTER', 'on() takes a function filter; declarative filters are for subscribe() and waitFor()')
        off = listeners.add(pattern, { fn: fn as Listener['fn'], test: filter as Listener['test'], n: added++ })
      } catch (e) { throw coded(e, 'INVALID_OPTIONS', 'reading the options of on() threw') }
      if (signal?.aborted) off()
      signal?.addEventListener('abort', off, { once: true })
      return () => { off(); signal?.removeEventListener('abort', off) }
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
        off = listeners.add(pattern, { fn: (e) => { if (seen) seen(e); else early.push(e) }, test: undefined, n: added++ })
      } catch (e) { return Promise.reject(e) }
      return log.track(import('./log/wait-for.js')).then((m) => m.wait({ log, clock, pattern, options: o as never, early, off, listen: (f) => { seen = f }, closing: closing.signal })) as never
    },

    schedule: async (name, spec) => (await scheduler()).schedule(name, spec as never),
    schedules: async () => (await scheduler()).schedules(),
    unschedule: async (name) => (await scheduler()).unschedule(name),
    runSchedule: async (name, o) => (await scheduler()).run(name, o) as never,

    async idle() {
      do {
        await log.idle()
        await Promise.all(log.working())
        while (subs?.busy()) { await nextActivity(); await log.idle() }
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

