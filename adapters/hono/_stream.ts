import { fail, compileFilter, compilePattern } from '../../src/internal.js'
import { toCloudEvent, type Filter } from '../../src/index.js'
import { streamSSE } from 'hono/streaming'
import type { WSContext, WSEvents } from 'hono/ws'
import { allow } from './_auth.js'
import { parseJson } from './_body.js'
import { noListeners, openFeed, type FeedBus, type FeedOptions } from './_feed.js'
import type { Routes } from './_routes.js'

/**
 * `GET /stream`: live events over SSE, or a WebSocket where the app has the runtime's helper;
 * resumable from any id it sent (`Last-Event-ID` or `?from=`). Over a bus without `on` it needs
 * `stream: { poll }`: whether the bus listens is read once, here, from the bus object.
 *
 * @example
 * streamRoutes(app, context)
 */
export const streamRoutes: Routes = (app, { bus, options: o, internal }) => {
  const listens = typeof bus.on === 'function'
  app.get('/stream', async (c) => {
    const pattern = c.req.query('topic') ?? '**'
    allow(c.get('grant'), 'subscribe', pattern)
    const filter = c.req.query('filter')
    const test =
      filter === undefined
        ? () => true
        : compileFilter(parseJson(filter, 'the filter', 'INVALID_FILTER') as Filter)
    compilePattern(pattern)
    const given = c.req.header('last-event-id') ?? c.req.query('from')
    // 'latest' is where a stream without a cursor starts anyway.
    const from = given === 'latest' ? undefined : given
    const poll = o.stream?.poll
    if (from !== undefined && from !== 'earliest') {
      // Refused here, before the stream starts, rather than as a broken stream: by the bus itself,
      // which alone knows its cursors' shape (a well-formed cursor of another bus is not one of its).
      await bus.read({ from, limit: 1 })
    }
    if (!poll && !listens) noListeners()
    // A client that reads slower than events arrive is cut off past this many queued events; it
    // resumes from its last id, out of the log instead of this process's memory.
    const options = { pattern, test, from, queue: o.limits?.streamQueue ?? 10_000, poll }
    if (c.req.header('upgrade')?.toLowerCase() === 'websocket') {
      const upgrade = o.upgradeWebSocket
      if (!upgrade)
        return fail(
          'INVALID_OPTIONS',
          "this app streams over SSE only: give busApp the runtime's upgradeWebSocket for WebSocket",
        )
      return upgrade(
        c,
        socketEvents(bus, options, (e) => internal(e, c.req.raw)),
      )
    }
    return streamSSE(c, async (stream) => {
      const feed = openFeed(bus, options)
      stream.onAbort(() => feed.stop())
      // Caught here rather than by streamSSE's onError, which would send the error's message to the client.
      try {
        // No `event:` line: every event is the default message, so EventSource's onmessage hears
        // them all (a per-type event name could not cover a wildcard stream). The type is in the data.
        await feed.run((e, id) => stream.writeSSE({ id, data: JSON.stringify(toCloudEvent(e)) }))
      } catch (e) {
        internal(e, c.req.raw)
      }
    })
  })
}

// Above this many bytes buffered in a socket (where the runtime tells), sending waits, so the
// feed's bounded queue, not the socket, absorbs a slow client.
const SOCKET_BUFFER = 1 << 20

/**
 * WebSocket frames are text, one per event: `{ "id": cursor, "event": CloudEvent }`. A client
 * resumes with `?from=<id>`. Where the runtime's helper reports no open event (Cloudflare
 * Workers), the client sends one message (any text) to start the stream. A client too slow for the feed's queue is closed with 1013 and
 * resumes the same way.
 */
const socketEvents = (
  bus: FeedBus,
  options: FeedOptions,
  internal: (e: unknown) => void,
): WSEvents<any> => {
  const feed = openFeed(bus, options)
  let started = false
  const drained = async (ws: WSContext<any>) => {
    while ((ws.raw?.bufferedAmount ?? 0) > SOCKET_BUFFER && ws.readyState === 1)
      await new Promise((r) => setTimeout(r, 5))
  }
  const start = (ws: WSContext<any>) => {
    if (started) return
    started = true
    void feed
      .run(async (e, id) => {
        await drained(ws)
        if (ws.readyState === 1) ws.send(JSON.stringify({ id, event: toCloudEvent(e) }))
      })
      .then(
        (end) => {
          if (end === 'overflow') ws.close(1013, 'too slow: reconnect with ?from=<last id>')
        },
        (e) => {
          internal(e)
          ws.close(1011, 'internal error')
        },
      )
  }
  return {
    onOpen: (_e, ws) => start(ws),
    // Some runtimes' helpers (hono/cloudflare-workers) have no open event: a client's first message starts the feed there.
    onMessage: (_e, ws) => start(ws),
    onClose: () => feed.stop(),
    onError: () => feed.stop(),
  }
}
