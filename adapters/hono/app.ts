import { Hono } from 'hono'
import type { UpgradeWebSocket } from 'hono/ws'
import { fail, TidingsError } from '../../src/errors.js'
import { authenticate, tokenTable, type Grant, type Scope } from './_auth.js'
import { deadLetterRoutes } from './_dead-letters.js'
import { errorReply } from './_errors.js'
import { eventRoutes } from './_events.js'
import type { Env, RouteContext } from './_routes.js'
import { scheduleRoutes } from './_schedules.js'
import { healthRoutes, statsRoutes } from './_stats.js'
import { streamRoutes } from './_stream.js'
import { webhookRoutes, type WebhookSource } from './_webhook-route.js'
import type { ServedBus } from './served-bus.js'

export type { WebhookSource } from './_webhook-route.js'

/** Options of {@link busApp}. Closed by default: with neither `tokens` nor `auth: false`, every route but `/health` is 401. */
export interface BusAppOptions {
  /** The local `Bus`, the Cloudflare client, or anything else with what {@link ServedBus} lists. */
  bus: ServedBus
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

const OPEN: Grant = { token: '', scopes: ['admin'] }

/**
 * The HTTP face of a bus: publish, read and replay, live streams over SSE, signed webhooks in,
 * the external scheduler's trigger, dead letters and stats. It talks to a bus ({@link ServedBus}),
 * nothing else, so the same app serves the memory bus in Node and the Cloudflare bus in a Worker.
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
    if (t !== undefined && !(typeof t === 'number' && t > 0 && t < Infinity)) fail('INVALID_OPTIONS', `webhooks.${name}.tolerance must be a positive number of seconds, got ${String(t)}`)
  }
  const app = new Hono<Env>()
  const report = o.onError ?? ((e: unknown) => console.error('tidings/hono:', e))
  // A misbehaving onError must not turn a 500 into a crash.
  const internal = (e: unknown, request: Request) => { try { report(e, request) } catch { /* nowhere left to tell */ } }
  const context: RouteContext = { bus, options: o, now, bodyBytes, batchMax, internal }

  app.onError((e, c) => {
    const r = errorReply(e)
    if (r.status === 500) internal(e, c.req.raw)
    return c.json(r.body, r.status as 400)
  })
  app.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404))

  // Mounted before the auth middleware: open to anyone, or authenticated by signature.
  healthRoutes(app, context)
  webhookRoutes(app, context)

  app.use('*', async (c, next) => {
    if (o.auth === false) { c.set('grant', OPEN); return next() }
    // Browsers' EventSource and WebSocket cannot send headers: /stream also takes ?access_token= (RFC 6750).
    const query = c.req.method === 'GET' && c.req.path.endsWith('/stream') ? c.req.query('access_token') : undefined
    const grant = authenticate(c.req.header('authorization') ?? (query ? `Bearer ${query}` : undefined), tokens)
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

  for (const routes of [eventRoutes, streamRoutes, scheduleRoutes, deadLetterRoutes, statsRoutes]) routes(app, context)
  return app
}
