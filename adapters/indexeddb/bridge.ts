import type { Bus } from '../../src/bus.js'
import { fail } from '../../src/errors.js'
import { encodeCursor, type BusEvent, type EventMap } from '../../src/event.js'
import type { HandlerContext } from '../../src/subscriptions/runner.js'
import type { Subscription } from '../../src/subscriptions/subscriptions.js'
import { compilePattern } from '../../src/topic/pattern.js'
import { inOneTab } from './cross-tab.js'
import { createForwarder, type SendReport } from './_forward.js'
import { createReceiver } from './_receive.js'
import { createWaker } from './_wake.js'
import type { IndexedDBStore } from './store.js'

/** Options of {@link bridge}. */
export interface BridgeOptions {
  /** The `busApp` base URL, e.g. `https://edge.example.com/bus` (no trailing slash). */
  url: string
  /** The store the bus runs on: the bridge keeps its cursors there. */
  store: IndexedDBStore
  /** Local events matching this pattern are sent to the server. */
  forward?: string
  /** Remote events matching this pattern are brought into the local log. */
  receive?: string
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string
  /** Names the bridge's subscription (`<name>-out`), cursor and locks. Default `'bridge'`. */
  name?: string
  /** Events per request, at most the server's batch limit. Default 100. */
  batch?: number
  /** Retry delays in ms: the first, and the cap it doubles up to. Default `{ initial: 1000, max: 60_000 }`. */
  backoff?: { initial?: number; max?: number }
  /** Where a new bridge starts receiving: `'latest'` (default) or `'earliest'` (everything the server retains). */
  from?: 'latest' | 'earliest'
  /** Where failures to append received events go. Default `console.error`. */
  onError?: (error: unknown) => void
}

/** What the bridge reports. `pending` counts in every tab; the rest is the tab running the bridge's. */
export interface BridgeStatus {
  /**
   * The browser says it is online and the last request reached the server. Confirmed by a cheap
   * probe (`GET <url>/health`) when the bridge starts, on the `online` event, on `sync()`, and
   * after a failure nothing will retry (or the `offline` event), until one gets through, so it comes back even with nothing to send.
   */
  readonly online: boolean
  /** Local events matching `forward` the server has not confirmed yet. */
  readonly pending: number
  readonly lastError: Error | undefined
  /** When a request last succeeded (epoch ms). */
  readonly lastSyncAt: number | undefined
  /** This tab runs the sending half: it holds its Web Lock (the others wait in line). */
  readonly sending: boolean
  /** This tab holds the live stream from the server open. */
  readonly receiving: boolean
}

/** A running bridge: its status, a way to hear about changes, and `sync()` to try now. */
export interface Bridge {
  /** Resolves once the sending half is registered (its subscription stored) in this tab or another. */
  readonly ready: Promise<void>
  readonly status: BridgeStatus
  /** Calls back on every status change; returns the unsubscribe. */
  subscribe(listener: (status: BridgeStatus) => void): () => void
  /** Cuts the current backoff short: try sending and connecting now. */
  sync(): void
  close(): Promise<void>
}

const YEAR = 365 * 86_400_000
const NAME = /^[\w-]{1,100}$/

/**
 * The offline-first bridge between a bus in the browser and a `busApp` at the edge.
 *
 * Out: local events matching `forward` wait in a durable subscription (`<name>-out`, running in
 * one tab at a time, starting from the oldest event in the local log the first time, so events
 * published offline before the bridge ever ran go too) until the server has stored them; they are sent in batches, in seq order,
 * with their ids, whenever the network allows, waking on `online`, on `visibilitychange` and on
 * a backoff timer. A resend after a lost response is a no-op on the server (ids). Events of one
 * ordering key reach the server in order. An event the server refuses (4xx) is dead-lettered in
 * `<name>-out` rather than retried forever.
 *
 * In: remote events matching `receive` stream into the local log (SSE `GET /stream`) from a
 * stored cursor, resumed with `Last-Event-ID` after every reconnect; ids make a replayed event a
 * no-op, so there is no gap and no duplicate. Received events are not forwarded back.
 *
 * @example
 * const store = indexedDBStore({ name: 'shop' })
 * const bus = createBus<Events>({ store })
 * const sync = bridge(bus, { store, url: 'https://edge.example.com/bus', forward: 'order.**', receive: 'catalog.**', token })
 * sync.subscribe((s) => render(s.online ? `${s.pending} to send` : 'offline'))
 */
export const bridge = <E extends EventMap>(bus: Bus<E>, o: BridgeOptions): Bridge => {
  const name = o.name ?? 'bridge'
  if (!NAME.test(name))
    fail(
      'INVALID_OPTIONS',
      `bridge name ${JSON.stringify(name)} must be 1..100 characters of [A-Za-z0-9_-]`,
    )
  if (!/^https?:\/\//.test(o.url))
    fail('INVALID_OPTIONS', `bridge url ${JSON.stringify(o.url)} must be an http(s) URL`)
  if (o.forward === undefined && o.receive === undefined)
    fail('INVALID_OPTIONS', 'a bridge needs forward, receive or both')
  if (o.forward !== undefined) compilePattern(o.forward)
  if (o.receive !== undefined) compilePattern(o.receive)
  const batch = o.batch ?? 100
  if (!Number.isInteger(batch) || batch < 1)
    fail('INVALID_OPTIONS', `batch must be a positive integer, got ${batch}`)
  const backoff = { initial: o.backoff?.initial ?? 1000, max: o.backoff?.max ?? 60_000 }
  const url = o.url.replace(/\/+$/, '')
  const headers: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {}
  const onError = o.onError ?? ((e: unknown) => console.error('tidings bridge:', e))
  const outName = `${name}-out`

  let status: BridgeStatus = {
    online: navigator.onLine,
    pending: 0,
    lastError: undefined,
    lastSyncAt: undefined,
    sending: false,
    receiving: false,
  }
  const listeners = new Set<(s: BridgeStatus) => void>()
  const update = (patch: Partial<BridgeStatus>) => {
    status = { ...status, ...patch }
    for (const l of listeners) l(status)
  }
  const report = (r: SendReport & { connected?: boolean; received?: number }) => {
    update({
      online: r.ok && navigator.onLine,
      ...(r.ok ? { lastSyncAt: Date.now() } : { lastError: r.error }),
      ...(r.connected === undefined ? {} : { receiving: r.connected }),
    })
    // A half that retries on its own will say when it gets through; with nothing to retry (the
    // last events refused, say), only a probe can.
    if (!r.ok && !forwarder.busy() && !receiver) confirm(false)
  }
  // Going offline is news at once; coming back is confirmed by a request or a probe.
  let closed = false
  const probeWaker = createWaker(backoff)
  let probing = false
  /** One cheap request that needs no token: does the server answer? */
  const probe = async () => {
    const ok = await fetch(`${url}/health`, { cache: 'no-store' }).then(
      (r) => r.ok,
      () => false,
    )
    if (!closed && (ok && navigator.onLine) !== status.online)
      update({ online: ok && navigator.onLine })
    return ok
  }
  /**
   * Probes until the server answers: at once (`now`) or after a backoff, then after each backoff,
   * cut short by `online`. Without it, a status gone offline waits for a request that may never
   * come (nothing pending, no stream).
   */
  const confirm = (now: boolean) => {
    if (probing || closed) return
    probing = true
    void (async () => {
      try {
        if (!now) await probeWaker.wait()
        while (!closed && !(await probe())) await probeWaker.wait()
        probeWaker.reset()
      } finally {
        probing = false
      }
    })()
  }
  const onOffline = () => {
    update({ online: false })
    confirm(false)
  }
  const onOnline = () => confirm(true)
  addEventListener('offline', onOffline)
  addEventListener('online', onOnline)
  confirm(true)

  // Ids of events received from the server, so they are not sent back. A reload forgets them; a
  // received event sent back then is one the server already holds, and it stores nothing.
  const inbound = new Set<string>()
  const trimInbound = () => {
    if (inbound.size > 10_000) for (const id of [...inbound].slice(0, 5_000)) inbound.delete(id)
  }

  // Pending: matching events from the out subscription's cursor on. Recounted, at most every
  // 50 ms, when the cursor moves or a matching event is appended (in any tab).
  let counting: ReturnType<typeof setTimeout> | undefined
  const recount = () => {
    if (counting || o.forward === undefined) return
    counting = setTimeout(
      () =>
        void count()
          .catch(() => {})
          .finally(() => {
            counting = undefined
          }),
      50,
    )
  }
  const count = async () => {
    const rec = (await o.store.get(`s/${outName}`))?.value as { cursor: number } | undefined
    let n = 0
    if (rec) {
      for (let from = encodeCursor([rec.cursor]); ;) {
        const page = await bus.read({ from, pattern: o.forward!, limit: 1000 } as never)
        n += (page.events as { id: string }[]).filter((e) => !inbound.has(e.id)).length
        if (page.events.length < 1000) break
        from = page.next
      }
    }
    if (n !== status.pending) update({ pending: n })
  }
  const offCount =
    o.forward === undefined
      ? undefined
      : [o.store.watch!(`s/${outName}`, recount), bus.on(o.forward as never, recount)]

  const sendWaker = createWaker(backoff)
  const forwarder = createForwarder({
    url,
    headers,
    batch,
    waker: sendWaker,
    report: (r) => {
      report(r)
      if (r.ok) recount()
    },
  })
  let out: Promise<Subscription> | undefined
  if (o.forward !== undefined) {
    out = inOneTab(bus, o.store)(
      outName,
      o.forward as never,
      (e: BusEvent, ctx: HandlerContext) => forwarder.push(e, ctx.signal),
      {
        // Each ordering key one at a time (the server sees it in order); the rest travel together.
        concurrency: batch,
        // The handler waits for the network, however long that takes; it never gives up.
        timeout: YEAR,
        retry: {
          attempts: Number.MAX_SAFE_INTEGER,
          backoff: { initial: backoff.initial, max: backoff.max },
        },
        filter: (e) => !inbound.has(e.id),
        // Events published before the bridge first ran (offline, at boot) go out too. Only a new
        // name starts here; later the stored cursor does.
        from: 'earliest',
      },
      (held) => {
        if (!closed) update({ sending: held })
      },
    )
    out.catch(onError)
    recount()
  }

  const receiveWaker = createWaker(backoff)
  const receiver =
    o.receive === undefined
      ? undefined
      : createReceiver({
          bus: bus as Bus,
          store: o.store,
          url,
          headers,
          pattern: o.receive,
          cursorKey: `b/${name}/in`,
          from: o.from ?? 'latest',
          waker: receiveWaker,
          inbound,
          onError,
          report: (r) => {
            report(r)
            trimInbound()
          },
        })
  const stopReceiving = new AbortController()
  // The stream runs in one tab at a time, like the sending half.
  const receiving =
    receiver &&
    navigator.locks
      .request(`tidings:${o.store.name}:${name}-in`, { signal: stopReceiving.signal }, () =>
        receiver.run(),
      )
      .catch((e: unknown) => {
        if (!stopReceiving.signal.aborted) onError(e)
      })

  return {
    ready: out
      ? out.then(
          () => {},
          () => {},
        )
      : Promise.resolve(),
    get status() {
      return status
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    sync() {
      sendWaker.wake()
      receiveWaker.wake()
      probeWaker.wake()
      confirm(true)
    },
    async close() {
      closed = true
      probeWaker.stop()
      removeEventListener('offline', onOffline)
      removeEventListener('online', onOnline)
      for (const off of offCount ?? []) off()
      clearTimeout(counting)
      forwarder.stop()
      stopReceiving.abort()
      receiver?.stop()
      await (await out?.catch(() => undefined))?.close()
      await receiving
      update({ sending: false })
      listeners.clear()
    },
  }
}
