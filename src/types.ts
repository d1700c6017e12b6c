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

export type * from './types/subscriptions.js'
import type {
  RetryOptions,
  HandlerContext,
  BatchContext,
  BatchOptions,
  BatchSubscribeOptions,
  HandlerFor,
  Only,
  DeadLetter,
  SubscribeOptions,
  Subscription,
} from './types/subscriptions.js'

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
