import { toCloudEvent } from '../../src/cloudevent.js'
import { NonRetriableError } from '../../src/errors.js'
import type { BusEvent } from '../../src/event.js'
import type { Waker } from './_wake.js'

interface Item {
  event: BusEvent
  resolve(): void
  reject(e: unknown): void
  alone?: boolean
}

/** What the sender reports after each request. */
export interface SendReport {
  ok: boolean
  error?: Error
  sent?: number
}

/**
 * The sending half of the bridge. The bridge's durable subscription hands each event to `push`,
 * whose promise settles when the server has stored it: so the subscription's cursor and acks are
 * the outbox, and an event is acknowledged only once the server has it. Events in hand are sent
 * together, in seq order, with their ids, one request at a time; a failed request is retried after
 * a backoff with the same ids, so a request whose response was lost is a no-op the second time.
 * The subscription's ordering keys hold each key's next event until its previous one is stored
 * remotely, so the server sees every key in order.
 */
export const createForwarder = (o: {
  url: string
  headers: Record<string, string>
  batch: number
  waker: Waker
  report(r: SendReport): void
}) => {
  const queue: Item[] = []
  let running = false
  let stopped = false

  /**
   * 'sent', 'refused' (the server will never take this batch as it is), or 'retry'. On 'sent',
   * `refusedIds` holds the items the server answered with an error of their own (a batch reply
   * `[{ id, error }]`, such as 409 CONFLICT for an id of another type): not stored there.
   */
  let refusedIds = new Map<string, string>()
  const post = async (items: Item[]): Promise<'sent' | 'refused' | 'retry'> => {
    try {
      const res = await fetch(`${o.url}/events`, {
        method: 'POST',
        headers: { ...o.headers, 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify(items.map((i) => toCloudEvent(i.event))),
      })
      if (res.ok) {
        const results = (await res.json().catch(() => undefined)) as unknown
        refusedIds = new Map(
          Array.isArray(results)
            ? results
                .filter((r) => r && typeof r === 'object' && 'error' in r)
                .map((r: { id: unknown; error: { code?: unknown } }) => [
                  String(r.id),
                  String(r.error?.code ?? 'ERROR'),
                ])
            : [],
        )
        o.report({ ok: true, sent: items.length - refusedIds.size })
        return 'sent'
      }
      const text = await res.text().catch(() => '')
      o.report({
        ok: false,
        error: new Error(`POST /events answered ${res.status}: ${text.slice(0, 200)}`),
      })
      // Timeouts, rate limits and server errors pass, and so do a refused token (401) and a wrong
      // URL (404): those are the bridge's configuration, not the events', and dead-lettering every
      // pending event over them would empty the outbox. Any other 4xx refuses what was sent.
      return res.status >= 400 && res.status < 500 && ![401, 404, 408, 429].includes(res.status)
        ? 'refused'
        : 'retry'
    } catch (e) {
      o.report({ ok: false, error: e instanceof Error ? e : new Error(String(e)) })
      return 'retry'
    }
  }

  const loop = async () => {
    try {
      while (queue.length && !stopped) {
        const items = queue
          .splice(0, queue[0]!.alone ? 1 : o.batch)
          .sort((a, b) => a.event.seq - b.event.seq)
        const r = await post(items)
        if (r === 'sent') {
          o.waker.reset()
          // An item the server refused on its own goes to the dead letters, like a refused event.
          for (const i of items) {
            const refused = refusedIds.get(i.event.id)
            if (refused)
              i.reject(new NonRetriableError(`the server refused event ${i.event.id}: ${refused}`))
            else i.resolve()
          }
          continue
        }
        if (r === 'refused') {
          // One bad event must not hold back the rest: send them one by one, so only it is refused,
          // and it goes to the bridge subscription's dead letters (redrive it once fixed).
          if (items.length > 1) {
            for (const i of items) i.alone = true
            queue.unshift(...items)
          } else
            items[0]!.reject(
              new NonRetriableError(`the server refused event ${items[0]!.event.id}`),
            )
          continue
        }
        queue.unshift(...items)
        await o.waker.wait()
      }
    } finally {
      running = false
      if (queue.length && !stopped) start()
    }
  }
  // A macrotask later: every event the subscription hands over in one go joins the same request.
  const start = () => {
    if (!running && !stopped) {
      running = true
      setTimeout(() => void loop(), 0)
    }
  }

  return {
    push(event: BusEvent, signal: AbortSignal): Promise<void> {
      return new Promise((resolve, reject) => {
        const item: Item = { event, resolve, reject }
        queue.push(item)
        // The attempt was abandoned (takeover, close): it is the subscription's to hand out again.
        signal.addEventListener(
          'abort',
          () => {
            const i = queue.indexOf(item)
            if (i >= 0) queue.splice(i, 1)
            reject(signal.reason)
          },
          { once: true },
        )
        start()
      })
    },
    /** Events in hand: a failed request will be retried (and report) without anyone asking. */
    busy: () => queue.length > 0,
    stop() {
      stopped = true
      o.waker.stop()
    },
  }
}
