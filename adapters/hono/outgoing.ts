import type { Bus } from '../../src/bus.js'
import { toCloudEvent } from '../../src/cloudevent.js'
import { NonRetriableError, RetryAfterError } from '../../src/errors.js'
import type { HandlerContext } from '../../src/subscriptions/runner.js'
import type { RetryOptions } from '../../src/subscriptions/runner.js'
import type { Subscription } from '../../src/subscriptions/subscriptions.js'
import type { Filter } from '../../src/filter/filter.js'
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
 * (network error, non-2xx) retries with the subscription's backoff (`Retry-After` on a 429 or 503,
 * in seconds or as an HTTP-date, is honoured) and ends in the dead letters; `410 Gone` disables
 * the endpoint: that event is dead-lettered and the subscription is closed on this bus; later
 * events, those already queued behind it included, wait un-attempted until it is subscribed again.
 *
 * @example
 * await webhookSubscription(bus, { name: 'crm', pattern: 'customer.*', url: 'https://crm.example/hooks', secret: 'whsec_…' })
 */
export const webhookSubscription = async (bus: Bus, o: OutgoingWebhook): Promise<Subscription> => {
  const send = o.fetch ?? fetch
  let sub: Subscription | undefined
  let disabled = false
  // Closing stops the runner, which drops the outcome of every attempt still in flight: an event
  // that reached a disabled endpoint's handler is left as if never tried. Closing waits a
  // macrotask, so the 410's own outcome (its dead letter) is reported first and lands with the close.
  const close = (): void => void setTimeout(() => (sub ? void sub.close() : close()), 0)
  sub = await bus.subscribe(
    o.name,
    o.pattern,
    async (event, ctx) => {
      // Events queued behind the 410 hold here, sending nothing, until the close drops them.
      if (disabled) return parked(ctx)
      const body = JSON.stringify(toCloudEvent(event))
      const signed = await signStandard({
        id: event.id,
        timestamp: Math.floor(Date.now() / 1000),
        body,
        secret: o.secret,
      })
      const res = await send(o.url, {
        method: 'POST',
        body,
        signal: ctx.signal,
        headers: { 'content-type': 'application/cloudevents+json', ...signed },
      })
      await res.body?.cancel()
      if (res.ok) return
      if (res.status === 410) {
        disabled = true
        o.onDisabled?.(o.url)
        close()
        throw new NonRetriableError(`${o.url} answered 410 Gone: the endpoint is disabled`)
      }
      const after = retryAfter(res.headers.get('retry-after'), Date.now())
      if ((res.status === 429 || res.status === 503) && after > 0)
        throw new RetryAfterError(after, `${o.url} answered ${res.status}`)
      throw new Error(`${o.url} answered ${res.status}`)
    },
    {
      ...(o.filter ? { filter: o.filter } : {}),
      ...(o.retry ? { retry: o.retry } : {}),
      ...(o.timeout ? { timeout: o.timeout } : {}),
    },
  )
  return sub
}

/** Waits until the attempt is aborted (the close), then fails with the abort's reason. */
const parked = (ctx: HandlerContext): Promise<never> =>
  new Promise((_, reject) => {
    const signal = ctx.signal
    if (signal.aborted) reject(signal.reason)
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })

/**
 * A `Retry-After` header in ms from `now`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); 0 when
 * absent, malformed or already past.
 *
 * @example
 * retryAfter('120', now)                           // 120_000
 * retryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now) // until then
 */
const ASCTIME = /^[a-z]{3} [a-z]{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/i
export const retryAfter = (value: string | null, now: number): number => {
  if (value === null) return 0
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v) * 1000
  // IMF-fixdate and RFC 850 dates name their zone; asctime's is GMT though unwritten (Date.parse
  // would read it as local time).
  const at = /[a-z]/i.test(v) ? Date.parse(ASCTIME.test(v) ? `${v} GMT` : v) : NaN
  return Number.isFinite(at) && at > now ? at - now : 0
}
