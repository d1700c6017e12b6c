import { fail, encodeCursor } from '../../src/internal.js'
import { toCloudEvent } from '../../src/index.js'
import { allow } from './_auth.js'
import { readBody } from './_body.js'
import { eventsOf } from './_input.js'
import { opt, type Routes } from './_routes.js'
import { refuseTickIds } from './_ticks.js'
import type { ServedBus } from './served-bus.js'

/**
 * `POST /events` (one event, a batch, or CloudEvents; `Idempotency-Key` is a single event's id) and
 * `GET /events` (a page of the log from a cursor).
 *
 * @example
 * eventRoutes(app, context) // after the auth middleware
 */
export const eventRoutes: Routes = (app, { bus, bodyBytes, batchMax }) => {
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
}

/**
 * Whether a duplicate publish hit an event of another type: the id was taken, so this is not a
 * retry of the same publish. Such a client learns it with 409 rather than a false success.
 */
const collides = async (
  bus: Pick<ServedBus, 'read'>,
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
