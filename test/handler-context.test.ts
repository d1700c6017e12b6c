// The handler's context is a plain object to the handler: spread into a new one, wrapped in a
// Proxy or destructured, it keeps its `signal` and a `publish` that chains (causation, stable ids).
import { describe, expect, it } from 'vitest'
import { createBus } from '../src/bus.js'
import type { BusEvent } from '../src/event.js'
import type { HandlerContext } from '../src/types.js'

/** Publishes one `order.placed`, lets `use` publish from its handler, and returns the chained event. */
const chainedThrough = async (use: (ctx: HandlerContext) => HandlerContext) => {
  const bus = createBus()
  const seen: AbortSignal[] = []
  await bus.subscribe('mailer', 'order.placed', async (_event, ctx) => {
    const handed = use(ctx)
    seen.push(handed.signal)
    await handed.publish('mail.sent', { to: 'a@b.c' })
  })
  const follow = bus.waitFor('mail.sent')
  const placed = await bus.publish('order.placed', { id: 1 })
  const sent = (await follow) as BusEvent
  await bus.idle()
  await bus.close()
  return { placed, sent, seen }
}

describe('the handler context', () => {
  it.each([
    ['as given', (ctx: HandlerContext) => ctx],
    ['spread into a new object', (ctx: HandlerContext) => ({ ...ctx, logger: console })],
    ['wrapped in a Proxy', (ctx: HandlerContext) => new Proxy(ctx, {})],
    [
      'destructured',
      (ctx: HandlerContext) => {
        const { attempt, signal, publish } = ctx
        return { attempt, signal, publish }
      },
    ],
  ])('%s, keeps its signal and a publish chained to the event', async (_how, use) => {
    const { placed, sent, seen } = await chainedThrough(use)
    expect(sent.causationId).toBe(placed.id)
    expect(seen[0]).toBeInstanceOf(AbortSignal)
    expect(seen[0]!.aborted).toBe(false)
  })
})
