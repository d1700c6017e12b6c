/**
 * The public types of tidings: the bus, its options and results, and what subscriptions take and
 * give. Types only: the code they describe lives in the folders (bus.ts, subscriptions/, ...).
 */
import type { Clock } from './clock/clock.js'
import type {
  BusEvent,
  EventMap,
  EventOf,
  OpenEvents,
  Payload,
  PayloadAt,
  StoredEventOf,
  VersionsOption,
} from './event.js'
import type { Filter } from './filter/filter.js'
import type {
  DelayOptions,
  DelayedResult,
  PublishInput,
  PublishOptions,
  PublishResult,
} from './publish-options.js'
import type { Instrumentation } from './instrumentation.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import type { SubscriptionStats } from './subscriptions/metrics.js'
import type { Store } from './store/store.js'
import type { Matching, PatternOf } from './types/pattern.js'
import type { MatchingTopics } from './topic/topic.js'
import type { ScheduleInfo, ScheduleSpec } from './types/schedule.js'

export type { Matching, PatternOf } from './types/pattern.js'
export type { ScheduleInfo, ScheduleSpec } from './types/schedule.js'
export type { DelayOptions, DelayedResult, PublishInput, PublishOptions, PublishResult }

/** Retry policy of a subscription; every field defaults on its own (see README, Defaults). */
export interface RetryOptions {
  /** Tries in all, the first included. Default 5. */
  attempts?: number
  backoff?: { initial?: number; factor?: number; max?: number; jitter?: boolean }
}

/**
 * What a handler gets besides the event, typed by the bus's event map (`I`, what `publish`
 * takes). Written bare, it fits a handler of any bus.
 *
 * @example
 * await bus.subscribe('inventory', 'order.placed', async (e, ctx: HandlerContext<Events>) => {
 *   await ctx.publish('inventory.reserved', { order: e.data.id })
 * })
 */
export interface HandlerContext<I extends EventMap = any> {
  /** 1 on the first try. */
  attempt: number
  /** Aborts when the attempt times out or the bus closes. */
  signal: AbortSignal
  /** A chained publish: causation, correlation and trace carried over, and an id stable across retries. */
  publish<T extends keyof I & string>(
    type: T,
    data: Payload<I[T]>,
    options?: { id?: string; key?: string },
  ): Promise<unknown>
}

/**
 * What a batch handler gets besides its events: the handler context, plus `fail` to mark one
 * event of the batch failed (it is retried alone with the subscription's backoff); the events
 * not marked are acked when the handler returns.
 *
 * @example
 * await bus.subscribe('indexer', 'doc.*', async (events, ctx) => {
 *   for (const e of events) if (!(await index(e.data))) ctx.fail(e, new Error('index refused'))
 * }, { batch: { size: 100, wait: 1000 } })
 */
export interface BatchContext<I extends EventMap = any, Ev = BusEvent> extends HandlerContext<I> {
  /** Marks one event of this batch failed, with the error its retry and dead letter record. */
  fail(event: Ev, error?: unknown): void
}

/**
 * A batch subscription's batching: up to `size` events per handler call (an integer, 1..1000),
 * waiting at most `wait` ms (default 0) after the first one is ready for more to arrive.
 *
 * @example
 * const batch: BatchOptions = { size: 500, wait: 60_000 }
 */
export interface BatchOptions {
  size: number
  wait?: number
}

/**
 * Options of a batch subscription: `subscribe`'s options with `batch`.
 *
 * @example
 * const options: BatchSubscribeOptions = { from: 'earliest', batch: { size: 100, wait: 5000 } }
 */
export interface BatchSubscribeOptions<Ev = BusEvent> extends SubscribeOptions<Ev> {
  batch: BatchOptions
}

/**
 * The handler `subscribe` takes for its options: `(events, ctx)` with `batch`, else `(event, ctx)`.
 *
 * @example
 * type H = HandlerFor<{ batch: { size: 10 } }, BusEvent, OpenEvents> // (events: BusEvent[], ctx: BatchContext) => unknown
 */
export type HandlerFor<O, Ev, I extends EventMap> = [O] extends [{ batch: BatchOptions }]
  ? (events: Ev[], ctx: BatchContext<I, Ev>) => unknown
  : (event: Ev, ctx: HandlerContext<I>) => unknown

/**
 * Refuses the keys of `O` that `Known` does not have (what excess-property checks do for a
 * non-generic parameter): a misspelt option stays a type error.
 *
 * @example
 * const f = <O extends { a?: number }>(o: O & Only<O, { a?: number }>) => o
 */
export type Only<O, Known> = { [K in Exclude<keyof O, keyof Known>]: never }

/** One event that ran out of attempts (or threw `NonRetriableError`) in one subscription. */
export interface DeadLetter {
  /** `<subscription>/<seq>`: what `redrive` and `discard` take. */
  id: string
  subscription: string
  event: BusEvent
  error: { name: string; message: string }
  attempts: number
  failedAt: number
}

/** Options of `subscribe`. */
export interface SubscribeOptions<Ev = BusEvent> {
  /** Where a new subscription starts. Default `'latest'`: events published after `subscribe` resolves. */
  from?: 'latest' | 'earliest' | { seq: number } | { time: number }
  /** A declarative filter (stored with the subscription) or a function (local only). */
  filter?: Filter | ((event: Ev) => boolean)
  /** Handlers in flight at once, keyed or not. Default 1. */
  concurrency?: number
  retry?: RetryOptions
  /** Per attempt, in ms. Default 30,000. */
  timeout?: number
  /**
   * Hand the handler (and the filter) events as stored, not upcast to their type's current version:
   * for forwarding the log as it is (the IndexedDB bridge). Default `false`.
   */
  raw?: boolean
}

/** A handle on a durable subscription attached on this bus. */
export interface Subscription {
  name: string
  close(): Promise<void>
}

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
  /**
   * Event versions per type: the `current` version and an upcaster from each older one to the
   * next. Events are stored as sent; listeners, handlers, `waitFor` and `read` see them upcast.
   */
  versions?: VersionsOption<E>
  /** Tracing hooks per publish and per handling attempt, e.g. `otel()` from `tidings/otel`. Default: none. */
  instrumentation?: Instrumentation
}

/** Options of `waitFor`. `filter` may be declarative or a function. */
export interface WaitOptions<Ev = BusEvent> {
  filter?: Filter | ((event: Ev) => boolean)
  timeout?: number
  signal?: AbortSignal
  since?: number
}

/** What `onError` is told about a failure. */
export interface ErrorContext {
  event?: BusEvent
  listener?: (event: never) => unknown
  subscription?: string
}

/**
 * Options of `on`: an abort signal to unsubscribe, and a predicate. Declarative filters are for
 * durable subscriptions and `waitFor`, whose code loads lazily; a live listener takes a function.
 */
export interface ListenOptions<Ev = BusEvent> {
  signal?: AbortSignal
  filter?: (event: Ev) => boolean
}

/**
 * Options of `read`: an opaque cursor (inclusive) or `'earliest'` (the default) or `'latest'` (the
 * end of the log: no events, and the cursor that follows), a pattern, a page size (default 100, at
 * most 10,000), and `cursors: true` for the cursor right after each event (to resume mid-page).
 */
export interface ReadOptions<P extends string = string> {
  from?: string
  pattern?: P
  limit?: number
  cursors?: boolean
  /** Events as stored, not upcast to their type's current version. */
  raw?: boolean
}

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
  publish<T extends keyof I & string>(
    type: T,
    data: Payload<I[T]>,
    options: PublishOptions & DelayOptions,
  ): Promise<DelayedResult>
  publish<T extends keyof I & string>(
    type: T,
    data: Payload<I[T]>,
    options?: PublishOptions,
  ): Promise<PublishResult>
  /** An older version's payload (see `versions`): upcast to be checked, stored as sent. */
  publish<T extends keyof I & string, V extends number>(
    type: T,
    data: PayloadAt<I[T], V>,
    options: PublishOptions & { version: V } & DelayOptions,
  ): Promise<DelayedResult>
  publish<T extends keyof I & string, V extends number>(
    type: T,
    data: PayloadAt<I[T], V>,
    options: PublishOptions & { version: V },
  ): Promise<PublishResult>
  /** Stores all the events or none (one commit); delayed entries resolve without `seq`. */
  publishMany(events: readonly PublishInput<I>[]): Promise<DelayedResult[]>
  /** Drops a delayed event that is not yet due; true when it was. Its id stays remembered. */
  cancel(id: string): Promise<boolean>
  /** A live listener: in-process, at-most-once, in publish order. Returns its unsubscribe. */
  on<P extends string>(
    pattern: PatternOf<E, P>,
    listener: (event: Matching<E, P>) => unknown,
    options?: ListenOptions<Matching<E, P>>,
  ): () => void
  /** Reads the log oldest first from an opaque cursor; `next` continues where this page ended. */
  read<P extends string = '**'>(
    options: ReadOptions<P> & { raw: true },
  ): Promise<{
    events: StoredEventOf<E, MatchingTopics<keyof E & string, P>>[]
    next: string
    cursors?: string[]
  }>
  read<P extends string = '**'>(
    options?: ReadOptions<P>,
  ): Promise<{ events: Matching<E, P>[]; next: string; cursors?: string[] }>
  /** A durable subscription: at-least-once, resumed by any bus over the same store. Resolves once registered. */
  /** With `batch`, `handler` gets up to `batch.size` events at once, in seq order (see README, "Batch handlers"). */
  subscribe<
    P extends string,
    O extends SubscribeOptions<Matching<E, P>> | BatchSubscribeOptions<Matching<E, P>> =
      SubscribeOptions<Matching<E, P>>,
  >(
    name: string,
    pattern: PatternOf<E, P>,
    handler: HandlerFor<O, Matching<E, P>, I>,
    options?: O & Only<O, BatchSubscribeOptions>,
  ): Promise<Subscription>
  /** A batch subscription whose options hold a function filter (its handler's events annotated: they are inferred after it). */
  subscribe<P extends string>(
    name: string,
    pattern: PatternOf<E, P>,
    handler: (events: Matching<E, P>[], ctx: BatchContext<I, Matching<E, P>>) => unknown,
    options: BatchSubscribeOptions<Matching<E, P>>,
  ): Promise<Subscription>
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
  /**
   * Per subscription: events behind, in flight, waiting to retry, dead letters, age of the oldest
   * unhandled (ms); and what this bus saw since it started: attempts handled and failed, duration
   * percentiles (ms) over the last 1,000 attempts, when the last one succeeded.
   */
  stats(): Promise<SubscriptionStats[]>
  /** The next matching event, or the most recent one within `since` ms; rejects with `TIMEOUT` or the signal's reason. */
  waitFor<P extends string>(
    pattern: PatternOf<E, P>,
    options?: WaitOptions<Matching<E, P>>,
  ): Promise<Matching<E, P>>
  /** Creates or updates a schedule (an identical spec changes nothing); it persists in the store. */
  schedule<T extends keyof I & string>(
    name: string,
    spec: ScheduleSpec<T, Payload<I[T]>>,
  ): Promise<void>
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
