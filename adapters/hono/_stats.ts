import { allow } from './_auth.js'
import type { Routes } from './_routes.js'

/** `GET /health`: open to anyone (mounted before the auth middleware), for load balancers. */
export const healthRoutes: Routes = (app) => {
  app.get('/health', (c) => c.json({ ok: true }))
}

/** `GET /stats`: per subscription, lag, in flight, retrying, dead letters, oldest age. Admin only. */
export const statsRoutes: Routes = (app, { bus }) => {
  app.get('/stats', async (c) => { allow(c.get('grant'), 'admin'); return c.json({ subscriptions: await bus.stats() }) })
}
