// What the Worker and the page agree on: the shard count, the event names and the webhook secret.

/** Shards of the demo's bus: one `BusObject` each; the page opens one live socket per shard. */
export const SHARDS = 2

/**
 * The Standard Webhooks secret of the `payments` source. A demo secret, in the page on purpose:
 * in production only the payment provider and the Worker (a Wrangler secret) know it.
 */
export const PAYMENTS_SECRET = 'whsec_ZGVtby1vbmx5LXBheW1lbnRzLXNlY3JldA=='

/** Addresses containing this are greylisted by the demo's mail server (see subscriptions.ts). */
export const FLAKY_MARK = 'flaky'

/** How long the demo's mail server greylists a message, from the order's time: longer than the mailer's retries. */
export const GREYLIST_MS = 3000

/** The shop's order, as `order.placed` carries it (key = `id`). */
export interface Order {
  id: string
  email: string
  items: { sku: string; qty: number }[]
  total: number
}

/** The events the demo publishes, by type. */
export interface DemoEvents {
  'order.placed': Order
  'inventory.reserved': { order: string; items: { sku: string; qty: number }[] }
  'email.sent': { order: string; to: string }
  'payment.processed': { order: string; amount: number; provider: string }
  'report.hourly': { note: string }
  [type: string]: unknown
}
