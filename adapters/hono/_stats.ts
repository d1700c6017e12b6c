import { allow } from './_auth.js'
import type { Routes } from './_routes.js'

/**
 * `GET /health`: open to anyone (mounted before the auth middleware), for load balancers.
 *
 * @example
 * healthRoutes(app, context) // before the auth middleware
 */
export const healthRoutes: Routes = (app) => {
  app.get('/health', (c) => c.json({ ok: true }))
}

/**
 * `GET /stats`: per subscription, lag, in flight, retrying, dead letters, oldest age, and the
 * handler metrics (handled, failed, duration percentiles, lastHandledAt). Admin only.
 *
 * @example
 * statsRoutes(app, context)
 */
export const statsRoutes: Routes = (app, { bus }) => {
  app.get('/stats', async (c) => {
    allow(c.get('grant'), 'admin')
    return c.json({ subscriptions: await bus.stats() })
  })
}
