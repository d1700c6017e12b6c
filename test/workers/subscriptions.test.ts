import { describe, expectTypeOf, it } from 'vitest'
import { defineSubscriptions, type EdgeHandlerContext } from '../../adapters/cloudflare/index.js'
import type { BusEvent } from '../../src/event.js'

type Events = {
  'user.created': { email: string }
  'user.deleted': { id: number }
  'mail.sent': { to: string }
}
interface Env {
  MAIL: { send(to: string): Promise<void> }
  DELIVERY: Queue
}

describe('defineSubscriptions<Events, Env> types the handlers', () => {
  it('an exact topic gives that event; ctx.env is the Env; ctx.publish takes the map', () => {
    const subs = defineSubscriptions<Events, Env>({
      mailer: {
        pattern: 'user.created',
        handler: async (e, ctx) => {
          expectTypeOf(e).toEqualTypeOf<BusEvent<'user.created', { email: string }>>()
          expectTypeOf(ctx.env).toEqualTypeOf<Env>()
          expectTypeOf(ctx.waitUntil).toEqualTypeOf<(promise: Promise<unknown>) => void>()
          ctx.waitUntil(ctx.env.MAIL.send(e.data.email))
          await ctx.publish('mail.sent', { to: e.data.email })
          // @ts-expect-error: 'to' is a string in the map
          await ctx.publish('mail.sent', { to: 1 })
          // @ts-expect-error: not a type of the map
          await ctx.publish('mail.bounced', {})
        },
      },
      // A wildcard gives every event of the map, told apart by type.
      audit: {
        pattern: 'user.*',
        handler: (e) => {
          expectTypeOf(e.type).toEqualTypeOf<'user.created' | 'user.deleted' | 'mail.sent'>()
          if (e.type === 'user.deleted') expectTypeOf(e.data).toEqualTypeOf<{ id: number }>()
        },
      },
    })
    expectTypeOf(subs).not.toBeAny()
  })

  it('untyped, a handler still gets env and waitUntil', () => {
    defineSubscriptions({
      any: {
        pattern: '**',
        handler: (e, ctx) => {
          expectTypeOf(e).toEqualTypeOf<BusEvent>()
          expectTypeOf(ctx).toEqualTypeOf<EdgeHandlerContext>()
        },
      },
    })
  })
})
