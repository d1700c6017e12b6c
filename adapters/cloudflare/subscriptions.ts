import type {
  BatchOptions,
  BusEvent,
  EventMap,
  EventOf,
  Filter,
  HandlerContext,
  OpenEvents,
  Payload,
  SubscribeOptions,
} from '../../src/index.js'
import { checkBatch, checkSubscriptionName, compilePattern, fail } from '../../src/internal.js'

/**
 * What a Queue subscription's handler gets besides the event: the core's context, plus the
 * Worker's `env` and `waitUntil`, and a chained `publish` typed by the event map.
 *
 * @example
 * const handler = async (e: BusEvent, ctx: EdgeHandlerContext<Events, Env>) => {
 *   ctx.waitUntil(ctx.env.AUDIT.writeDataPoint({ blobs: [e.type] }))
 *   await ctx.publish('mail.sent', { to: 'ann@example.com' })
 * }
 */
export interface EdgeHandlerContext<E extends EventMap = OpenEvents, Env = unknown> extends Omit<
  HandlerContext,
  'publish'
> {
  /** The Worker's bindings, as its `queue(batch, env)` handler received them. */
  env: Env
  /** Extends the Worker's invocation past the handler (`ctx.waitUntil` of its `queue` handler). */
  waitUntil(promise: Promise<unknown>): void
  /** A chained publish: causation, correlation and trace carried over, and an id stable across retries. */
  publish<T extends keyof E & string>(
    type: T,
    data: Payload<E[T]>,
    options?: { id?: string; key?: string },
  ): Promise<unknown>
}

/**
 * One durable subscription delivered through a Cloudflare Queue: the object keeps its cursor,
 * retries and dead letters (from `pattern`, `filter` and the options); the Worker's `queue()` runs
 * `handler`. `timeout` is the delivery lease: an outcome that has not come back by then counts as
 * a failed attempt and the event is sent again after the backoff.
 *
 * @example
 * const mailer: QueueSubscription = { pattern: 'user.created', timeout: 10_000, handler: async (e) => sendMail(e.data) }
 */
export interface QueueSubscription<
  Ev extends BusEvent = BusEvent,
  E extends EventMap = OpenEvents,
  Env = unknown,
> extends Omit<SubscribeOptions<Ev>, 'filter'> {
  pattern: string
  /** A declarative filter only: the object evaluates it, and a function cannot cross to it. */
  filter?: Filter
  batch?: undefined
  handler(event: Ev, ctx: EdgeHandlerContext<E, Env>): unknown
}

/**
 * What a batch subscription's handler gets at the edge: the edge context, plus `fail` to mark one
 * event of the batch failed (retried alone with the subscription's backoff).
 *
 * @example
 * const handler = async (events: BusEvent[], ctx: EdgeBatchContext) => { for (const e of events) if (!e.data) ctx.fail(e) }
 */
export interface EdgeBatchContext<
  E extends EventMap = OpenEvents,
  Env = unknown,
  Ev = BusEvent,
> extends EdgeHandlerContext<E, Env> {
  /** Marks one event of this batch failed, with the error its retry and dead letter record. */
  fail(event: Ev, error?: unknown): void
}

/**
 * A batch subscription delivered through a Cloudflare Queue: the object makes the batches (up to
 * `batch.size` events, waiting at most `batch.wait` ms) and sends each as one Queue message; the
 * Worker's `queue()` runs `handler` once per message, or once for several messages of the
 * subscription that arrive in one `queue()` batch while they fit in `size`. `timeout` is the
 * lease of the whole batch.
 *
 * @example
 * const digest: BatchQueueSubscription = { pattern: 'order.*', batch: { size: 100, wait: 5000 }, handler: async (events) => sendDigest(events) }
 */
export interface BatchQueueSubscription<
  Ev extends BusEvent = BusEvent,
  E extends EventMap = OpenEvents,
  Env = unknown,
> extends Omit<QueueSubscription<Ev, E, Env>, 'batch' | 'handler'> {
  batch: BatchOptions
  handler(events: Ev[], ctx: EdgeBatchContext<E, Env, Ev>): unknown
}

/** One subscription of either kind. @example const s: AnyQueueSubscription = { pattern: '**', handler: () => {} } */
export type AnyQueueSubscription<
  Ev extends BusEvent = BusEvent,
  E extends EventMap = OpenEvents,
  Env = unknown,
> = QueueSubscription<Ev, E, Env> | BatchQueueSubscription<Ev, E, Env>

/**
 * A subscription of a typed bus: an exact topic gives its handler that event; a wildcard pattern
 * (`*`, `**`) gives every event of the map, told apart by `e.type`.
 *
 * @example
 * const mailer: TypedQueueSubscription<Events, Env> = { pattern: 'user.created', handler: (e, ctx) => ctx.env.MAIL.send(e.data.email) }
 */
export type TypedQueueSubscription<E extends EventMap, Env = unknown> = string extends keyof E
  ? AnyQueueSubscription<BusEvent, E, Env>
  : | {
        [T in keyof E & string]: AnyQueueSubscription<EventOf<E, T>, E, Env> & { pattern: T }
      }[keyof E & string]
    | (AnyQueueSubscription<EventOf<E, keyof E & string>, E, Env> & {
        pattern: `${string}*${string}`
      })

/**
 * What {@link defineSubscriptions} returns: the same definitions, checked once.
 *
 * @example
 * new BusObject(ctx, env, { subscriptions: defineSubscriptions({ audit: { pattern: '**', handler: log } }), queue: env.DELIVERY })
 */
export type Subscriptions = Readonly<Record<string, AnyQueueSubscription<any, any, any>>>

/**
 * Declares the Queue-delivered subscriptions in code that both the Worker (handlers) and the
 * `BusObject` (patterns, filters, retry policy) load: the Worker is stateless, so this module is
 * where a subscription lives. Patterns and names are checked here, at load time.
 *
 * Typed by the bus's event map and the Worker's `Env`: a handler's event follows its pattern,
 * `ctx.publish` takes the map's types, and `ctx.env` is the Worker's bindings.
 *
 * @example
 * type Events = { 'user.created': { email: string }; 'mail.sent': { to: string } }
 * export const subscriptions = defineSubscriptions<Events, Env>({
 *   mailer: { pattern: 'user.created', retry: { attempts: 3 }, handler: async (e, ctx) => {
 *     await ctx.env.MAIL.send(e.data.email)
 *     await ctx.publish('mail.sent', { to: e.data.email })
 *   } },
 * })
 */
export const defineSubscriptions = <E extends EventMap = OpenEvents, Env = unknown>(
  subscriptions: Readonly<Record<string, TypedQueueSubscription<NoInfer<E>, NoInfer<Env>>>>,
): Readonly<Record<string, TypedQueueSubscription<E, Env>>> => {
  for (const [name, s] of Object.entries(subscriptions)) {
    checkSubscriptionName(name)
    if (typeof s?.handler !== 'function')
      fail('INVALID_OPTIONS', `subscription "${name}" needs a handler function`)
    if (typeof s.filter === 'function')
      fail(
        'INVALID_FILTER',
        `subscription "${name}": a queue subscription takes a declarative filter (it runs in the object)`,
      )
    compilePattern(s.pattern)
    if (s.batch !== undefined) {
      try {
        checkBatch(s.batch)
      } catch (error) {
        fail('INVALID_OPTIONS', `subscription "${name}": ${(error as Error).message}`)
      }
    }
  }
  return Object.freeze(subscriptions)
}
