import type { HandlerContext } from '../../src/subscriptions/runner.js'
import { fail } from '../../src/errors.js'
import type { BusEvent, EventMap, EventOf, OpenEvents } from '../../src/event.js'
import type { Filter } from '../../src/filter/filter.js'
import type { SubscribeOptions } from '../../src/subscriptions/subscriptions.js'
import { compilePattern } from '../../src/topic/pattern.js'

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
    data: E[T],
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
  handler(event: Ev, ctx: EdgeHandlerContext<E, Env>): unknown
}

/**
 * A subscription of a typed bus: an exact topic gives its handler that event; a wildcard pattern
 * (`*`, `**`) gives every event of the map, told apart by `e.type`.
 *
 * @example
 * const mailer: TypedQueueSubscription<Events, Env> = { pattern: 'user.created', handler: (e, ctx) => ctx.env.MAIL.send(e.data.email) }
 */
export type TypedQueueSubscription<E extends EventMap, Env = unknown> = string extends keyof E
  ? QueueSubscription<BusEvent, E, Env>
  : | {
        [T in keyof E & string]: QueueSubscription<EventOf<E, T>, E, Env> & { pattern: T }
      }[keyof E & string]
    | (QueueSubscription<EventOf<E, keyof E & string>, E, Env> & { pattern: `${string}*${string}` })

/**
 * What {@link defineSubscriptions} returns: the same definitions, checked once.
 *
 * @example
 * new BusObject(ctx, env, { subscriptions: defineSubscriptions({ audit: { pattern: '**', handler: log } }), queue: env.DELIVERY })
 */
export type Subscriptions = Readonly<Record<string, QueueSubscription<any, any, any>>>

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
    if (!/^[\w-]{1,128}$/.test(name))
      fail(
        'INVALID_OPTIONS',
        `subscription name ${JSON.stringify(name)} must be 1..128 characters of [A-Za-z0-9_-]`,
      )
    if (typeof s?.handler !== 'function')
      fail('INVALID_OPTIONS', `subscription "${name}" needs a handler function`)
    if (typeof s.filter === 'function')
      fail(
        'INVALID_FILTER',
        `subscription "${name}": a queue subscription takes a declarative filter (it runs in the object)`,
      )
    compilePattern(s.pattern)
  }
  return Object.freeze(subscriptions)
}
