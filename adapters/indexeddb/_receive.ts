import { type Bus, fromCloudEvent, type IncomingEvent, TidingsError } from '../../src/index.js'
import { publishInputOf } from '../../src/internal.js'
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
    const inputs = events.map(publishInputOf)
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

/** The receiving half running under its Web Lock (see {@link receiveInOneTab}). */
export interface Receiving {
  /** Settles once the stream has stopped, or the lock was given up. */
  done: Promise<unknown>
  stop(): void
}

/**
 * The stream runs in one tab at a time, like the sending half: the receiver runs while this tab
 * holds the Web Lock `lock`. Failures go to `onError`, unless `stop()` gave up the lock.
 *
 * @example
 * const receiving = receiveInOneTab('tidings:shop:bridge-in', { bus, store, url, headers, pattern: 'catalog.**', cursorKey, from: 'latest', waker, inbound, report, onError })
 * receiving.stop()
 * await receiving.done
 */
export const receiveInOneTab = (
  lock: string,
  options: Parameters<typeof createReceiver>[0],
): Receiving => {
  const receiver = createReceiver(options)
  const stopReceiving = new AbortController()
  const done = navigator.locks
    .request(lock, { signal: stopReceiving.signal }, () => receiver.run())
    .catch((e: unknown) => {
      if (!stopReceiving.signal.aborted) options.onError(e)
    })
  return {
    done,
    stop() {
      stopReceiving.abort()
      receiver.stop()
    },
  }
}

/**
 * Keeps the ids of received events (never sent back) to the last 5,000 once over 10,000.
 *
 * @example
 * report: (r) => { report(r); trimInbound(inbound) }
 */
export const trimInbound = (inbound: Set<string>): void => {
  if (inbound.size > 10_000) for (const id of [...inbound].slice(0, 5_000)) inbound.delete(id)
}
