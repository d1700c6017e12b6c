import { Hono, type Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { Bus } from '../../src/bus.js'
import { fromCloudEvent, toCloudEvent } from '../../src/cloudevent.js'
import { fail, TidingsError } from '../../src/errors.js'
import { decodeCursor, encodeCursor, type BusEvent } from '../../src/event.js'
import { compileFilter, type Filter } from '../../src/filter.js'
import { compilePattern } from '../../src/_pattern.js'
import { allow, authenticate, type Grant, type Scope } from './_auth.js'
import { errorReply } from './_errors.js'
import { verifyWebhook, type WebhookScheme } from './webhooks.js'

/** How a signed webhook from one source becomes an event. */
export interface WebhookSource {
  scheme: WebhookScheme
  /** Several during a key rotation: any one that matches will do. */
  secrets: readonly string[]
  /** Payload and headers to the event; default `{ type: 'webhook.<source>', data: payload }`. */
  map?: (payload: unknown, headers: Headers) => { type: string; data: unknown; key?: string }
}

/** Options of {@link busApp}. Closed by default: with neither `tokens` nor `auth: false`, every route but `/health` is 401. */
export interface BusAppOptions {
  bus: Bus
  /** Bearer tokens and their scopes: `publish:<pattern>`, `subscribe:<pattern>`, `admin`. */
  tokens?: Record<string, readonly Scope[]>
  /** `false` opens every route to anyone: for local development only. */
  auth?: false
  webhooks?: Record<string, WebhookSource>
  /** Request body (default 1 MiB), events per batch (default 100), requests per token per minute (default unlimited). */
  limits?: { bodyBytes?: number; batch?: number; perTokenPerMinute?: number }
  /** Time for webhook tolerance and rate windows. Default `Date.now`. */
  now?: () => number
}

type Env = { Variables: { grant: Grant } }
type Input = { type: string; data: unknown; id?: string; key?: string; source?: string; correlationId?: string; causationId?: string; traceparent?: string }
const OPEN: Grant = { token: '', scopes: ['admin'] }
const FIELDS = ['id', 'key', 'source', 'correlationId', 'causationId', 'traceparent'] as const
// A client that reads slower than events arrive is cut off past this many queued events; it
// resumes from its Last-Event-ID, out of the log instead of this process's memory.
const STREAM_QUEUE = 10_000

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
  const app = new Hono<Env>()

  app.onError((e, c) => { const r = errorReply(e); return c.json(r.body, r.status as 400) })
  app.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404))

  app.get('/health', (c) => c.json({ ok: true }))

  // Webhooks authenticate by signature, not by token.
  app.post('/webhooks/:source', async (c) => {
    const name = c.req.param('source')
    const src = o.webhooks && Object.hasOwn(o.webhooks, name) ? o.webhooks[name] : undefined
    if (!src) return c.json({ error: { code: 'NOT_FOUND', message: `no webhook source "${name}"` } }, 404)
    const body = await readBody(c, bodyBytes)
    const { id } = await verifyWebhook(src.scheme, { body, headers: c.req.raw.headers, secrets: src.secrets, now: now() })
    const payload = parseJson(body)
    const e = src.map ? src.map(payload, c.req.raw.headers) : { type: `webhook.${name}`, data: payload }
    // The provider's delivery id is the event id: its retries are duplicates, stored once.
    return c.json(await bus.publish(e.type, e.data, { source: `webhook:${name}`, ...(id ? { id } : {}), ...(e.key ? { key: e.key } : {}) }))
  })

  app.use('*', async (c, next) => {
    if (o.auth === false) { c.set('grant', OPEN); return next() }
    const grant = authenticate(c.req.header('authorization'), o.tokens ?? {})
    const per = o.limits?.perTokenPerMinute
    if (per) {
      const t = now(), window = Math.floor(t / 60_000)
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
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    const body = parseJson(await readBody(c, bodyBytes))
    const batch = Array.isArray(body)
    const items = (batch ? body : [body]) as unknown[]
    if (items.length > batchMax) fail('PAYLOAD_TOO_LARGE', `a batch holds at most ${batchMax} events, got ${items.length}`)
    if (!items.length) fail('INVALID_PAYLOAD', 'no events in the request')
    const cloud = type === 'application/cloudevents+json' || type === 'application/cloudevents-batch+json'
    const inputs = items.map((x) => (cloud ? fromCloud(x) : fromJson(x)))
    for (const i of inputs) allow(c.get('grant'), 'publish', i.type)
    const key = c.req.header('idempotency-key')
    if (key !== undefined && !batch) inputs[0]!.id = key
    if (!batch) { const { type: t, data, ...opts } = inputs[0]!; return c.json(await bus.publish(t, data, opts)) }
    return c.json(await bus.publishMany(inputs))
  })

  app.get('/events', async (c) => {
    const pattern = c.req.query('topic') ?? '**'
    allow(c.get('grant'), 'subscribe', pattern)
    const limit = c.req.query('limit')
    const page = await bus.read({ pattern, ...opt('from', c.req.query('from')), ...(limit ? { limit: Number(limit) } : {}) })
    return c.json({ events: page.events.map(toCloudEvent), next: page.next })
  })

  app.get('/stream', (c) => {
    const pattern = c.req.query('topic') ?? '**'
    allow(c.get('grant'), 'subscribe', pattern)
    const filter = c.req.query('filter')
    const test = filter === undefined ? () => true : compileFilter(parseJson(filter) as Filter)
    compilePattern(pattern)
    const from = c.req.header('last-event-id') ?? c.req.query('from')
    const start = from === undefined ? undefined : decodeCursor(from)?.[0]
    if (from !== undefined && start === undefined) fail('INVALID_CURSOR', `${JSON.stringify(from)} is not a cursor of this bus`)
    return streamSSE(c, async (stream) => {
      const queue: BusEvent[] = []
      let wake = () => {}
      let closed = false
      stream.onAbort(() => { closed = true; wake() })
      // Listen first, then read the backlog: nothing published in between is missed, and what
      // both saw is sent once (by seq).
      const off = bus.on(pattern, (e) => { if (test(e)) { queue.push(e); wake() } })
      let next = start ?? Infinity
      const send = async (e: BusEvent) => {
        if (e.seq < next && next !== Infinity) return
        next = e.seq + 1
        await stream.writeSSE({ id: encodeCursor([next]), event: e.type, data: JSON.stringify(toCloudEvent(e)) })
      }
      try {
        if (start !== undefined) {
          for (let cursor = from; ;) {
            const page = await bus.read({ from: cursor!, pattern, limit: 500 })
            for (const e of page.events) if (test(e)) await send(e)
            if (page.events.length < 500) break
            cursor = page.next
          }
        }
        while (!closed && queue.length <= STREAM_QUEUE) {
          const e = queue.shift()
          if (e) await send(e)
          else await new Promise<void>((r) => { wake = r })
        }
      } finally {
        off()
      }
    })
  })

  app.get('/schedules', async (c) => { allow(c.get('grant'), 'admin'); return c.json(await bus.schedules()) })
  app.post('/schedules/:name/run', async (c) => {
    allow(c.get('grant'), 'admin')
    const id = c.req.header('idempotency-key')
    return c.json(await bus.runSchedule(c.req.param('name'), id ? { id } : {}))
  })

  app.get('/dead-letters', async (c) => {
    allow(c.get('grant'), 'admin')
    return c.json((await bus.deadLetters.list(opt('subscription', c.req.query('subscription')))).map((d) => ({ ...d, event: toCloudEvent(d.event) })))
  })
  app.post('/dead-letters/redrive', async (c) => {
    allow(c.get('grant'), 'admin')
    return c.json({ count: await bus.deadLetters.redrive(await ids(c, bodyBytes)) })
  })
  app.delete('/dead-letters', async (c) => {
    allow(c.get('grant'), 'admin')
    return c.json({ count: await bus.deadLetters.discard(await ids(c, bodyBytes)) })
  })

  app.get('/stats', async (c) => { allow(c.get('grant'), 'admin'); return c.json({ subscriptions: await bus.stats() }) })

  return app
}

/** `{ [key]: value }` when the value is there, `{}` otherwise (exact optional properties). */
const opt = <K extends string>(key: K, value: string | undefined) => (value === undefined ? {} : { [key]: value }) as { [P in K]?: string }

/**
 * The raw body, refused with 413 past the limit: by its declared length first, then while it is
 * read, so a body sent without a length is never held in memory past the limit.
 */
const readBody = async (c: Context, max: number): Promise<string> => {
  const declared = Number(c.req.header('content-length') ?? 0)
  if (declared > max) fail('PAYLOAD_TOO_LARGE', `the request body is ${declared} bytes; the limit is ${max}`)
  const body = c.req.raw.body
  if (!body) return ''
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel()
      fail('PAYLOAD_TOO_LARGE', `the request body is over ${max} bytes`)
    }
    chunks.push(value)
  }
  const all = new Uint8Array(size)
  let at = 0
  for (const ch of chunks) { all.set(ch, at); at += ch.byteLength }
  return new TextDecoder().decode(all)
}

const parseJson = (text: string): unknown => {
  try { return JSON.parse(text) } catch { return fail('INVALID_PAYLOAD', 'the body is not JSON') }
}

/** `{ type, data, id?, key?, ... }`: the plain JSON form of an event to publish. */
const fromJson = (x: unknown): Input => {
  if (!x || typeof x !== 'object' || typeof (x as Input).type !== 'string') return fail('INVALID_PAYLOAD', 'an event needs a string "type" and a "data"')
  const e = x as Input
  const out: Input = { type: e.type, data: e.data }
  for (const f of FIELDS) if (e[f] !== undefined) out[f] = e[f]
  return out
}

const fromCloud = (x: unknown): Input => {
  const e = fromCloudEvent(x)
  const out: Input = { type: e.type, data: e.data, id: e.id, source: e.source }
  for (const f of ['key', 'correlationId', 'causationId', 'traceparent'] as const) if (e[f] !== undefined) out[f] = e[f]
  return out
}

/** Dead-letter ids from `?ids=a,b` or a JSON body `{ ids: [...] }`; none means all. */
const ids = async (c: Context, max: number): Promise<string[] | undefined> => {
  const q = c.req.query('ids')
  if (q) return q.split(',')
  const text = await readBody(c, max)
  if (!text) return undefined
  const body = parseJson(text) as { ids?: unknown }
  if (body.ids !== undefined && (!Array.isArray(body.ids) || !body.ids.every((i) => typeof i === 'string'))) fail('INVALID_PAYLOAD', '"ids" must be an array of strings')
  return body.ids as string[] | undefined
}
