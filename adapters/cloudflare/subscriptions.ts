import type { HandlerContext } from '../../src/delivery.js'
import { fail } from '../../src/errors.js'
import type { BusEvent } from '../../src/event.js'
import type { Filter } from '../../src/filter.js'
import type { SubscribeOptions } from '../../src/_subscriptions.js'
import { compilePattern } from '../../src/_pattern.js'

/**
 * One durable subscription delivered through a Cloudflare Queue: the object keeps its cursor,
 * retries and dead letters (from `pattern`, `filter` and the options); the Worker's `queue()` runs
 * `handler`. `timeout` is the delivery lease: an outcome that has not come back by then counts as
 * a failed attempt and the event is sent again after the backoff.
 *
 * @example
 * const mailer: QueueSubscription = { pattern: 'user.created', timeout: 10_000, handler: async (e) => sendMail(e.data) }
 */
export interface QueueSubscription<Ev extends BusEvent = BusEvent> extends Omit<SubscribeOptions<Ev>, 'filter'> {
  pattern: string
  /** A declarative filter only: the object evaluates it, and a function cannot cross to it. */
  filter?: Filter
  handler: (event: Ev, ctx: HandlerContext) => unknown
}

/**
 * What {@link defineSubscriptions} returns: the same definitions, checked once.
 *
 * @example
 * new BusObject(ctx, env, { subscriptions: defineSubscriptions({ audit: { pattern: '**', handler: log } }), queue: env.DELIVERY })
 */
export type Subscriptions = Readonly<Record<string, QueueSubscription>>

/**
 * Declares the Queue-delivered subscriptions in code that both the Worker (handlers) and the
 * `BusObject` (patterns, filters, retry policy) load: the Worker is stateless, so this module is
 * where a subscription lives. Patterns and names are checked here, at load time.
 *
 * @example
 * export const subscriptions = defineSubscriptions({
 *   mailer: { pattern: 'user.created', retry: { attempts: 3 }, handler: async (e) => sendMail(e.data) },
 * })
 */
export const defineSubscriptions = <S extends Record<string, QueueSubscription>>(subscriptions: S): S => {
  for (const [name, s] of Object.entries(subscriptions)) {
    if (!/^[\w-]{1,128}$/.test(name)) fail('INVALID_OPTIONS', `subscription name ${JSON.stringify(name)} must be 1..128 characters of [A-Za-z0-9_-]`)
    if (typeof s?.handler !== 'function') fail('INVALID_OPTIONS', `subscription "${name}" needs a handler function`)
    if (typeof s.filter === 'function') fail('INVALID_FILTER', `subscription "${name}": a queue subscription takes a declarative filter (it runs in the object)`)
    compilePattern(s.pattern)
  }
  return Object.freeze(subscriptions)
}
