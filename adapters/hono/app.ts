import { Hono, type Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { UpgradeWebSocket, WSContext, WSEvents } from 'hono/ws'
import type { Bus } from '../../src/bus.js'
import { toCloudEvent } from '../../src/cloudevent.js'
import { fail, TidingsError } from '../../src/errors.js'
import { encodeCursor } from '../../src/event.js'
import { compileFilter, type Filter } from '../../src/filter/filter.js'
import { compilePattern } from '../../src/topic/pattern.js'
import { allow, authenticate, tokenTable, type Grant, type Scope } from './_auth.js'
import { parseJson, readBody, readBytes } from './_body.js'
import { errorReply } from './_errors.js'
import { deadLetterIds, eventsOf, mediaType, webhookPayload } from './_input.js'
import { openFeed, type FeedOptions } from './_feed.js'
import { verifyWebhook, type WebhookScheme } from './webhooks.js'

/** How a signed webhook from one source becomes an event. */
export interface WebhookSource {
  scheme: WebhookScheme
  /** Several during a key rotation: any one that matches will do. */
  secrets: readonly string[]
  /**
   * Payload and headers to the event; default `{ type: 'webhook.<source>', data: payload }`. The
   * payload is the body decoded: JSON parsed, form fields decoded (GitHub's `payload=` field as its
   * JSON), other text as a string.
   */
  map?: (payload: unknown, headers: Headers) => { type: string; data: unknown; key?: string }
  /** How far a signed timestamp may be from now, in seconds (Standard Webhooks, Svix, Stripe). Default 300. */
  tolerance?: number
}

/** Options of {@link busApp}. Closed by default: with neither `tokens` nor `auth: false`, every route but `/health` is 401. */
export interface BusAppOptions {
  bus: Bus
  /** Bearer tokens and their scopes: `publish:<pattern>`, `subscribe:<pattern>`, `admin`. */
  tokens?: Record<string, readonly Scope[]>
  /** `false` opens every route to anyone: for local development only. */
  auth?: false
  webhooks?: Record<string, WebhookSource>
  /**
   * Request body (default 1 MiB), events per batch (default 100), requests per token per minute
   * (default unlimited), events queued for one slow stream client before it is cut off (default 10,000).
   */
  limits?: { bodyBytes?: number; batch?: number; perTokenPerMinute?: number; streamQueue?: number }
  /** Time for webhook tolerance and rate windows. Default `Date.now`. */
  now?: () => number
  /**
   * The runtime's WebSocket helper (`hono/cloudflare-workers`, `@hono/node-server`, `hono/deno`,
   * `hono/bun`): with it, `GET /stream` also upgrades to a WebSocket. Without it, SSE only.
   */
  upgradeWebSocket?: UpgradeWebSocket<any>
  /**
   * How `GET /stream` follows the bus: by default it listens (`bus.on`); `{ poll: ms }` tails the
   * log with `bus.read` instead, for a bus without live listeners (the Cloudflare client in a
   * Worker). Either way an event's id is the bus's cursor right after it.
   */
  stream?: { poll: number }
  /**
   * Told of every failure that is not a refusal of bad input (the client gets 500 `INTERNAL` and no
   * details; a stream is closed). Default: `console.error`.
   */
  onError?: (error: unknown, request: Request) => void
}

type Env = { Variables: { grant: Grant } }
const OPEN: Grant = { token: '', scopes: ['admin'] }

/**
 * The HTTP face of a bus: publish, read and replay, live streams over SSE, signed webhooks in,
 * the external scheduler's trigger, dead letters and stats. It talks to a `Bus`, nothing else, so
 * the same app serves the memory bus in Node and the Cloudflare bus in a Worker.
 *
 * @example
 * const app = busApp({ bus, tokens: { [token]: ['publish:order.**', 'subscribe:**', 'admin'] } })
 * export default { fetch: app.fetch }
 */
export const busApp = (o: BusAppOptions): Hono<Env> => {
  const { bus } = o
  const now = o.now ?? Date.now
  const bodyBytes = o.limits?.bodyBytes ?? 1 << 20
  const batchMax = o.limits?.batch ?? 100
  const rate = new Map<string, { window: number; count: number }>()
  const tokens = tokenTable(o.tokens ?? {})
  for (const [name, src] of Object.entries(o.webhooks ?? {})) {
    const t = src.tolerance
    if (t !== undefined && !(typeof t === 'number' && t > 0 && t < Infinity))
      fail(
        'INVALID_OPTIONS',
        `webhooks.${name}.tolerance must be a positive number of seconds, got ${String(t)}`,
      )
  }
  const app = new Hono<Env>()
  const report = o.onError ?? ((e: unknown) => console.error('tidings/hono:', e))
  // A misbehaving onError must not turn a 500 into a crash.
  const internal = (e: unknown, request: Request) => {
    try {
      report(e, request)
    } catch {
      /* nowhere left to tell */
    }
  }

  app.onError((e, c) => {
    const r = errorReply(e)
    if (r.status === 500) internal(e, c.req.raw)
    return c.json(r.body, r.status as 400)
  })
  app.notFound((c) =>
    c.json(
      { error: { code: 'NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } },
      404,
    ),
  )

  app.get('/health', (c) => c.json({ ok: true }))

  // Webhooks authenticate by signature, not by token.
  app.post('/webhooks/:source', async (c) => {
    const name = c.req.param('source')
    const src = o.webhooks && Object.hasOwn(o.webhooks, name) ? o.webhooks[name] : undefined
    if (!src)
      return c.json({ error: { code: 'NOT_FOUND', message: `no webhook source "${name}"` } }, 404)
    // The signature covers the bytes sent: decoding first would drop a BOM or replace invalid UTF-8.
    const body = await readBytes(c, bodyBytes)
    const { id: delivery } = await verifyWebhook(src.scheme, {
      body,
      headers: c.req.raw.headers,
      secrets: src.secrets,
      now: now(),
      ...(src.tolerance ? { toleranceMs: src.tolerance * 1000 } : {}),
    })
    const payload = webhookPayload(
      mediaType(c.req.header('content-type')),
      new TextDecoder().decode(body),
    )
    const e = src.map
      ? src.map(payload, c.req.raw.headers)
      : { type: `webhook.${name}`, data: payload }
    // The provider's delivery id is the event id, so its retries are duplicates, stored once. It
    // is prefixed with the source: a delivery id is not always signed (GitHub's is a bare header),
    // and no header may claim an id outside its own source, such as a schedule's tick.
    const id = delivery ? `${name}:${delivery}` : undefined
    if (id) await refuseTickIds(bus, [id])
    return c.json(
      await bus.publish(e.type, e.data, {
        source: `webhook:${name}`,
        ...(id ? { id } : {}),
        ...(e.key ? { key: e.key } : {}),
      }),
    )
  })

  app.use('*', async (c, next) => {
    if (o.auth === false) {
      c.set('grant', OPEN)
      return next()
    }
    // Browsers' EventSource and WebSocket cannot send headers: /stream also takes ?access_token= (RFC 6750).
    const query =
      c.req.method === 'GET' && c.req.path.endsWith('/stream')
        ? c.req.query('access_token')
        : undefined
    const grant = authenticate(
      c.req.header('authorization') ?? (query ? `Bearer ${query}` : undefined),
      tokens,
    )
    const per = o.limits?.perTokenPerMinute
    if (per) {
      const t = now(),
        window = Math.floor(t / 60_000)
      const r = rate.get(grant.token)
      if (!r || r.window !== window) rate.set(grant.token, { window, count: 1 })
      else if (++r.count > per) {
        c.header('Retry-After', String(Math.ceil(((window + 1) * 60_000 - t) / 1000)))
        throw new TidingsError('RATE_LIMITED', `more than ${per} requests this minute`)
      }
    }
    c.set('grant', grant)
    return next()
  })

  app.post('/events', async (c) => {
    const { inputs, batch } = eventsOf(c.req.raw.headers, await readBody(c, bodyBytes), batchMax)
    for (const i of inputs) allow(c.get('grant'), 'publish', i.type)
    const key = c.req.header('idempotency-key')
    if (key !== undefined && !batch) inputs[0]!.id = key
    await refuseTickIds(
      bus,
      inputs.flatMap((i) => (i.id === undefined ? [] : [i.id])),
    )
    if (!batch) {
      const { type: t, data, ...opts } = inputs[0]!
      const r = await bus.publish(t, data, opts)
      if (await collides(bus, r, t))
        fail('CONFLICT', `id ${JSON.stringify(r.id)} is taken by an event of another type`)
      return c.json(r)
    }
    const results = await bus.publishMany(inputs)
    return c.json(
      await Promise.all(
        results.map(async (r, i) =>
          (await collides(bus, r, inputs[i]!.type))
            ? {
                id: r.id,
                error: { code: 'CONFLICT', message: 'the id is taken by an event of another type' },
              }
            : r,
        ),
      ),
    )
  })

  app.get('/events', async (c) => {
    const pattern = c.req.query('topic') ?? '**'
    allow(c.get('grant'), 'subscribe', pattern)
    const limit = c.req.query('limit')
    const page = await bus.read({
      pattern,
      ...opt('from', c.req.query('from')),
      ...(limit ? { limit: Number(limit) } : {}),
    })
    return c.json({ events: page.events.map(toCloudEvent), next: page.next })
  })

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

  app.get('/schedules', async (c) => {
    allow(c.get('grant'), 'admin')
    return c.json(await bus.schedules())
  })
  app.post('/schedules/:name/run', async (c) => {
    allow(c.get('grant'), 'admin')
    const id = c.req.header('idempotency-key')
    return c.json(await bus.runSchedule(c.req.param('name'), id ? { id } : {}))
  })

  app.get('/dead-letters', async (c) => {
    allow(c.get('grant'), 'admin')
    return c.json(
      (await bus.deadLetters.list(opt('subscription', c.req.query('subscription')))).map((d) => ({
        ...d,
        event: toCloudEvent(d.event),
      })),
    )
  })
  app.post('/dead-letters/redrive', async (c) => {
    allow(c.get('grant'), 'admin')
    return c.json({ count: await bus.deadLetters.redrive(await ids(c)) })
  })
  app.delete('/dead-letters', async (c) => {
    allow(c.get('grant'), 'admin')
    return c.json({ count: await bus.deadLetters.discard(await ids(c)) })
  })

  /** Dead-letter ids of a redrive or discard: `?ids=a,b`, or a body of `{}` (all) or `{ ids }`. */
  async function ids(c: Context<Env>): Promise<string[] | undefined> {
    const text = await readBody(c, bodyBytes)
    return deadLetterIds(c.req.query('ids'), text ? parseJson(text) : undefined)
  }

  app.get('/stats', async (c) => {
    allow(c.get('grant'), 'admin')
    return c.json({ subscriptions: await bus.stats() })
  })

  return app
}

/**
 * Whether a duplicate publish hit an event of another type: the id was taken, so this is not a
 * retry of the same publish. Such a client learns it with 409 rather than a false success.
 */
const collides = async (
  bus: Bus,
  r: { duplicate: boolean; seq?: number; cursor?: string },
  type: string,
): Promise<boolean> => {
  // A delayed event has no seq until it is due: nothing to compare yet.
  if (!r.duplicate || r.seq === undefined) return false
  // The bus's cursor for it when it gives one (a sharded bus does), else its seq's.
  const page = await bus
    .read({ from: r.cursor ?? encodeCursor([r.seq]), limit: 1 })
    .catch(() => undefined)
  const stored = page?.events[0]
  return stored?.seq === r.seq && stored.type !== type
}

/**
 * A schedule's ticks have ids anyone can predict (`schedule:<name>:<tick>`): no client may take one
 * in the namespace of a schedule this bus has, or the tick would be a duplicate and never stored.
 * Others (a browser's own schedules, forwarded by its bridge) pass.
 */
const refuseTickIds = async (bus: Bus, ids: readonly string[]): Promise<void> => {
  const ticks = ids.filter((id) => id.startsWith('schedule:'))
  if (!ticks.length) return
  const names = new Set((await bus.schedules()).map((s) => s.name))
  for (const id of ticks) {
    const name = id.split(':')[1]!
    if (names.has(name))
      fail(
        'INVALID_PAYLOAD',
        `ids starting with "schedule:${name}:" belong to this bus's schedule, got ${JSON.stringify(id)}`,
      )
  }
}

/** `{ [key]: value }` when the value is there, `{}` otherwise (exact optional properties). */
const opt = <K extends string>(key: K, value: string | undefined) =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: string }

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
  bus: Bus,
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
