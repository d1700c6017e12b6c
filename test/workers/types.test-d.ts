// Type-checked only (npx tsc --noEmit -p tsconfig.workers.json; the workers project runs *.test.ts):
// the Cloudflare client's type has what works from a Worker and nothing that always rejects.
import { describe, expectTypeOf, test } from 'vitest'
import {
  cloudflareBus,
  type BusNamespace,
  type CloudflareBus,
} from '../../adapters/cloudflare/index.js'
import { busApp, type ServedBus } from '../../adapters/hono/index.js'

type Events = { 'order.placed': { total: number }; 'user.created': { email: string } }
declare const namespace: BusNamespace
const bus = cloudflareBus<Events>(namespace, { shards: 4 })

describe('CloudflareBus', () => {
  test('has no member that needs a process that lives on', () => {
    // @ts-expect-error live listeners run in the object: connect a WebSocket
    bus.on('order.*', () => {})
    // @ts-expect-error declare subscriptions with defineSubscriptions
    void bus.subscribe('mailer', 'user.created', () => {})
    // @ts-expect-error connect a WebSocket
    void bus.waitFor('order.placed')
  })
  test('keeps the event map on what it has', () => {
    void bus.publish('order.placed', { total: 42 }, { key: 'o1' })
    // @ts-expect-error wrong payload
    void bus.publish('order.placed', { total: '42' })
    expectTypeOf(bus.read<'user.*'>)
      .returns.resolves.toHaveProperty('events')
      .items.toHaveProperty('data')
      .toEqualTypeOf<{ email: string }>()
    expectTypeOf(bus.shardOf).returns.toBeNumber()
  })
  test('is served by busApp, typed or not', () => {
    expectTypeOf(bus).toMatchTypeOf<ServedBus>()
    expectTypeOf<CloudflareBus>().toMatchTypeOf<ServedBus>()
    busApp({ bus, auth: false, stream: { poll: 500 } })
  })
})
