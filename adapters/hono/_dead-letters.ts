import { toCloudEvent } from '../../src/index.js'
import type { Context } from 'hono'
import { allow } from './_auth.js'
import { parseJson, readBody } from './_body.js'
import { deadLetterIds } from './_input.js'
import { opt, type Env, type Routes } from './_routes.js'

/**
 * `GET /dead-letters`, `POST /dead-letters/redrive` and `DELETE /dead-letters`: admin only.
 *
 * @example
 * deadLetterRoutes(app, context)
 */
export const deadLetterRoutes: Routes = (app, { bus, bodyBytes }) => {
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
}
