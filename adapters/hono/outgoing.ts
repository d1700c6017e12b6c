import type { Bus } from '../../src/bus.js'
import { toCloudEvent } from '../../src/cloudevent.js'
import { NonRetriableError, RetryAfterError } from '../../src/errors.js'
import type { RetryOptions } from '../../src/delivery.js'
import type { Subscription } from '../../src/_subscriptions.js'
import type { Filter } from '../../src/filter.js'
import { signStandard } from './webhooks.js'

/** Options of {@link webhookSubscription}. */
export interface OutgoingWebhook {
  /** The durable subscription's name (its cursor, retries and dead letters live under it). */
  name: string
  pattern: string
  url: string
  /** A Standard Webhooks secret (`whsec_<base64>`) the receiver verifies with. */
  secret: string
  filter?: Filter
  retry?: RetryOptions
  /** Per attempt, in ms. Default 30,000. */
  timeout?: number
  /** Default: the global `fetch`. */
  fetch?: typeof fetch
  /** Called once when the endpoint answers 410 Gone and is disabled. */
  onDisabled?: (url: string) => void
}

/**
 * A durable subscription that POSTs each event to a URL as a CloudEvent, signed per Standard
 * Webhooks (`webhook-id` is the event id, so a receiver dedupes retries). A failed delivery
 * (network error, non-2xx) retries with the subscription's backoff (`Retry-After` on a 429 or 503
 * is honoured) and ends in the dead letters; `410 Gone` disables the endpoint: that event is
 * dead-lettered and the subscription is closed on this bus; later events wait for it to be
 * subscribed again.
 *
 * @example
 * await webhookSubscription(bus, { name: 'crm', pattern: 'customer.*', url: 'https://crm.example/hooks', secret: 'whsec_…' })
 */
export const webhookSubscription = async (bus: Bus, o: OutgoingWebhook): Promise<Subscription> => {
  const send = o.fetch ?? fetch
  let sub: Subscription | undefined
  let disabled = false
  sub = await bus.subscribe(o.name, o.pattern, async (event, ctx) => {
    // Events that arrive while it is being disabled stay pending for when it is subscribed again.
    if (disabled) throw new RetryAfterError(3_600_000, `${o.url} is disabled (410 Gone)`)
    const body = JSON.stringify(toCloudEvent(event))
    const signed = await signStandard({ id: event.id, timestamp: Math.floor(Date.now() / 1000), body, secret: o.secret })
    const res = await send(o.url, { method: 'POST', body, signal: ctx.signal, headers: { 'content-type': 'application/cloudevents+json', ...signed } })
    await res.body?.cancel()
    if (res.ok) return
    if (res.status === 410) {
      disabled = true
      o.onDisabled?.(o.url)
      // Close once this attempt's dead letter has landed (closing here would drop it).
      queueMicrotask(() => void bus.idle().then(() => sub?.close()))
      throw new NonRetriableError(`${o.url} answered 410 Gone: the endpoint is disabled`)
    }
    const after = Number(res.headers.get('retry-after'))
    if ((res.status === 429 || res.status === 503) && after > 0) throw new RetryAfterError(after * 1000, `${o.url} answered ${res.status}`)
    throw new Error(`${o.url} answered ${res.status}`)
  }, { ...(o.filter ? { filter: o.filter } : {}), ...(o.retry ? { retry: o.retry } : {}), ...(o.timeout ? { timeout: o.timeout } : {}) })
  return sub
}
