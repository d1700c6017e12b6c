import { allow } from './_auth.js'
import type { Routes } from './_routes.js'

/**
 * `GET /schedules` and `POST /schedules/:name/run` (the external scheduler's trigger): admin only.
 *
 * @example
 * scheduleRoutes(app, context)
 */
export const scheduleRoutes: Routes = (app, { bus }) => {
  app.get('/schedules', async (c) => {
    allow(c.get('grant'), 'admin')
    return c.json(await bus.schedules())
  })
  app.post('/schedules/:name/run', async (c) => {
    allow(c.get('grant'), 'admin')
    const id = c.req.header('idempotency-key')
    return c.json(await bus.runSchedule(c.req.param('name'), id ? { id } : {}))
  })
}
