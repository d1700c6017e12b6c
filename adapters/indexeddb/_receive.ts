import type { Bus } from '../../src/bus.js'
import { TidingsError } from '../../src/errors.js'
import { fromCloudEvent, type IncomingEvent } from '../../src/cloudevent.js'
import { readSse } from './_sse.js'
import type { IndexedDBStore } from './store.js'
import type { Waker } from './_wake.js'

/**
 * The receiving half of the bridge: streams remote events matching `pattern` (SSE, `GET /stream`)
 * into the local log with their ids, and stores the stream's cursor after each batch is appended.
 * A reconnect resumes from that cursor (`Last-Event-ID`): nothing in between is missed, and what
 * arrives twice (a batch appended just before a crash, before its cursor was stored) has an id the
 * log already holds, so it is not appended again.
 */
export const createReceiver = (o: {
  bus: Bus
  store: IndexedDBStore
  url: string
  headers: Record<string, string>
  pattern: string
  cursorKey: string
  from: 'latest' | 'earliest'
  waker: Waker
  /** Ids of received events, so the forwarding half does not send them back. */
  inbound: Set<string>
  report(r: { ok: boolean; error?: Error; received?: number; connected?: boolean }): void
  onError(e: unknown): void
}) => {
  let stopped = false
  let abort: AbortController | undefined

  const append = async (events: IncomingEvent[]) => {
    for (const e of events) o.inbound.add(e.id)
    const inputs = events.map((e) => {
      const i: Record<string, unknown> = { type: e.type, data: e.data, id: e.id, source: e.source }
      for (const k of ['key', 'correlationId', 'causationId', 'traceparent'] as const)
        if (e[k] !== undefined) i[k] = e[k]
      return i
    })
    try {
      await o.bus.publishMany(inputs as never)
    } catch (e) {
      // A failure of the local bus (a full store, a closed bus) is no event's fault: thrown, so the
      // cursor stays where it was and the reconnect receives these events again.
      if (!refused(e)) throw e
      // One event this bus refuses (its own schemas) must not stop the stream: the rest go one by one.
      for (const i of inputs)
        await o.bus.publish(i.type as string, i.data, i as never).catch((e: unknown) => {
          if (refused(e)) o.onError(e)
          else throw e
        })
    }
  }

  /**
   * The first start's cursor, stored before the stream opens: the server's log start for
   * 'earliest', its end for 'latest' (GET /events?from=latest). Without
   * one, a stream cut before its first event would reconnect at the then-latest and skip a gap.
   */
  const start = async (): Promise<string> => {
    // The server's cursors are opaque (a sharded edge's hold a position per shard): 'earliest' is
    // the name the stream takes for its start, and the end is asked for by its name, 'latest'.
    let from = 'earliest'
    if (o.from === 'latest') {
      const res = await fetch(`${o.url}/events?from=latest&limit=1`, {
        headers: o.headers,
        signal: abort!.signal,
      })
      if (!res.ok) throw new Error(`GET /events answered ${res.status}`)
      from = ((await res.json()) as { next: string }).next
    }
    await o.store.commit({
      checks: [{ key: o.cursorKey, version: null }],
      mutations: [{ type: 'set', key: o.cursorKey, value: from }],
    })
    return (await o.store.get(o.cursorKey))!.value as string
  }

  const connect = async () => {
    abort = new AbortController()
    const cursor =
      ((await o.store.get(o.cursorKey))?.value as string | undefined) ?? (await start())
    const res = await fetch(`${o.url}/stream?topic=${encodeURIComponent(o.pattern)}`, {
      headers: { ...o.headers, accept: 'text/event-stream', 'last-event-id': cursor },
      signal: abort.signal,
    })
    if (!res.ok || !res.body) throw new Error(`GET /stream answered ${res.status}`)
    o.waker.reset()
    o.report({ ok: true, connected: true })
    await readSse(res.body, async (messages) => {
      const events = messages.map((m) => fromCloudEvent(JSON.parse(m.data)))
      await append(events)
      const last = messages[messages.length - 1]!.id
      if (last !== undefined)
        await o.store.commit({ mutations: [{ type: 'set', key: o.cursorKey, value: last }] })
      o.report({ ok: true, received: events.length })
    })
  }

  const run = async () => {
    while (!stopped) {
      try {
        await connect()
        o.report({ ok: true, connected: false })
      } catch (e) {
        if (stopped) return
        o.report({
          ok: false,
          connected: false,
          error: e instanceof Error ? e : new Error(String(e)),
        })
      }
      if (!stopped) await o.waker.wait()
    }
  }

  return {
    run,
    stop() {
      stopped = true
      abort?.abort()
      o.waker.stop()
    },
  }
}

/** The local bus refused the event itself (schema, topic, size, options): skipping it loses nothing that a retry would bring. */
const refused = (e: unknown): boolean =>
  e instanceof TidingsError &&
  ['INVALID_PAYLOAD', 'INVALID_TOPIC', 'PAYLOAD_TOO_LARGE', 'INVALID_OPTIONS'].includes(e.code)
