import type { Bus, BusEvent, EventMap, HandlerContext, Subscription } from '../../src/index.js'
import { bridgeCursorKey, watchSubscription } from '../../src/internal.js'
import { checkBridgeOptions, outSubscription } from './_bridge-options.js'
import { watchOnline } from './_online.js'
import { watchPending } from './_pending-count.js'
import { createStatus, type BridgeStatus } from './_status.js'
import { inOneTab } from './cross-tab.js'
import { createForwarder, type SendReport } from './_forward.js'
import { receiveInOneTab, trimInbound } from './_receive.js'
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

export type { BridgeStatus } from './_status.js'

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
  const checked = checkBridgeOptions(o)
  const { name, batch, backoff, url, headers } = checked
  const onError = o.onError ?? ((e: unknown) => console.error('tidings bridge:', e))
  const outName = `${name}-out`

  const status = createStatus()
  const update = status.update
  const report = (r: SendReport & { connected?: boolean; received?: number }) => {
    update({
      online: r.ok && navigator.onLine,
      ...(r.ok ? { lastSyncAt: Date.now() } : { lastError: r.error }),
      ...(r.connected === undefined ? {} : { receiving: r.connected }),
    })
    // A half that retries on its own will say when it gets through; with nothing to retry (the
    // last events refused, say), only a probe can.
    if (!r.ok && !forwarder.busy() && !receiving) confirm(false)
  }
  let closed = false
  const online = watchOnline({
    url,
    backoff,
    closed: () => closed,
    online: () => status.current.online,
    setOnline: (online) => update({ online }),
  })
  const { confirm, waker: probeWaker } = online

  // Ids of events received from the server, so they are not sent back. A reload forgets them; a
  // received event sent back then is one the server already holds, and it stores nothing.
  const inbound = new Set<string>()

  // Pending: matching events from the out subscription's cursor on (_pending-count.ts).
  const pending =
    o.forward === undefined
      ? undefined
      : watchPending(bus as Bus, o.store, outName, o.forward, inbound, (n) => {
          if (n !== status.current.pending) update({ pending: n })
        })
  const recount = () => pending?.recount()

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
      outSubscription(checked, inbound),
      (held) => {
        if (!closed) update({ sending: held })
      },
    )
    out.catch(onError)
    recount()
  }

  const receiveWaker = createWaker(backoff)
  // The stream runs in one tab at a time, like the sending half.
  const receiving =
    o.receive === undefined
      ? undefined
      : receiveInOneTab(`tidings:${o.store.name}:${name}-in`, {
          bus: bus as Bus,
          store: o.store,
          url,
          headers,
          pattern: o.receive,
          cursorKey: bridgeCursorKey(name),
          from: o.from ?? 'latest',
          waker: receiveWaker,
          inbound,
          onError,
          report: (r) => {
            report(r)
            trimInbound(inbound)
          },
        })

  return {
    ready: out
      ? out.then(
          () => {},
          () => {},
        )
      : Promise.resolve(),
    get status() {
      return status.current
    },
    subscribe: status.subscribe,
    sync() {
      sendWaker.wake()
      receiveWaker.wake()
      probeWaker.wake()
      confirm(true)
    },
    async close() {
      closed = true
      online.stop()
      pending?.stop()
      forwarder.stop()
      receiving?.stop()
      await (await out?.catch(() => undefined))?.close()
      await receiving?.done
      update({ sending: false })
      status.clear()
    },
  }
}
