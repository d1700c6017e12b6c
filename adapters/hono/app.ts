import { fail } from '../../src/internal.js'
import { TidingsError } from '../../src/index.js'
import { Hono } from 'hono'
import { authenticate, tokenTable, type Grant } from './_auth.js'
import { deadLetterRoutes } from './_dead-letters.js'
import { errorReply } from './_errors.js'
import { eventRoutes } from './_events.js'
import { mountDashboard } from './dashboard.js'
import type { Env, RouteContext } from './_routes.js'
import { scheduleRoutes } from './_schedules.js'
import { healthRoutes, statsRoutes } from './_stats.js'
import { streamRoutes } from './_stream.js'
import { webhookRoutes } from './_webhook-route.js'
import type { BusAppOptions } from './options.js'

export type { BusAppOptions, WebhookSource } from './options.js'

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
  const context: RouteContext = { bus, options: o, now, bodyBytes, batchMax, internal }

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

  // Mounted before the auth middleware: open to anyone, or authenticated by signature.
  healthRoutes(app, context)
  if (o.dashboard) mountDashboard(app)
  webhookRoutes(app, context)

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

  for (const routes of [eventRoutes, streamRoutes, scheduleRoutes, deadLetterRoutes, statsRoutes])
    routes(app, context)
  return app
}
