// The edge's reactions: Queue-delivered subscriptions, loaded by both the Worker (handlers) and
// the BusObject (patterns, retry policies).
import { defineSubscriptions } from 'tidings/cloudflare'
import type { BusEvent } from 'tidings'
import { FLAKY_MARK, GREYLIST_MS, type Order } from './shared.js'

/** A stable number per order id, so "every third order" is the same order on every run. */
const hash = (s: string) => [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)

/**
 * - `inventory` reserves stock for each order and chains `inventory.reserved` (ctx.publish sets
 *   causation and correlation, and a stable id, so a retried delivery stores it once).
 * - `email` is the flaky one. Every third order fails its first try (a timeout) and succeeds on
 *   the retry. Addresses containing "flaky" are greylisted for {@link GREYLIST_MS} after the
 *   order, longer than the three tries take, so they end in the dead letters; a redrive after
 *   that delivers them, as a redrive after a real outage would.
 */
export const subscriptions = defineSubscriptions({
  inventory: {
    pattern: 'order.placed',
    concurrency: 10,
    handler: async (e, ctx) => {
      const order = (e as BusEvent<'order.placed', Order>).data
      await ctx.publish(
        'inventory.reserved',
        { order: order.id, items: order.items },
        { key: order.id },
      )
    },
  },
  email: {
    pattern: 'order.placed',
    concurrency: 10,
    retry: { attempts: 3, backoff: { initial: 150, factor: 2, jitter: false } },
    handler: async (e, ctx) => {
      const order = (e as BusEvent<'order.placed', Order>).data
      if (order.email.includes(FLAKY_MARK) && Date.now() - e.time < GREYLIST_MS) {
        throw new Error(`451 greylisted: ${order.email} (try ${ctx.attempt})`)
      }
      if (hash(order.id) % 3 === 0 && ctx.attempt === 1) throw new Error('SMTP timeout (first try)')
      await ctx.publish('email.sent', { order: order.id, to: order.email }, { key: order.id })
    },
  },
})
