/**
 * The public types of durable subscriptions: options, handler contexts (single and batch),
 * dead letters. Re-exported by src/types.ts.
 */
import type { BusEvent, EventMap, OpenEvents, Payload } from '../event.js'
import type { Filter } from '../filter/filter.js'

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
