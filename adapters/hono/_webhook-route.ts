import { readBytes } from './_body.js'
import { mediaType, webhookPayload } from './_input.js'
import type { Routes } from './_routes.js'
import { refuseTickIds } from './_ticks.js'
import { verifyWebhook } from './webhooks.js'

/**
 * `POST /webhooks/:source`: a signed webhook of a configured source becomes an event. Mounted
 * before the auth middleware: webhooks authenticate by signature, not by token.
 *
 * @example
 * webhookRoutes(app, context) // before the auth middleware
 */
export const webhookRoutes: Routes = (app, { bus, options: o, now, bodyBytes }) => {
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
}
