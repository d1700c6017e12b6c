import { describe, expectTypeOf, test } from 'vitest'
import { createBus, type BusEvent, type StandardSchemaV1 } from '../src/index.js'

type Events = {
  'order.placed': { total: number }
  'order.paid': { id: string }
  'order.placed.eu': { vat: number }
  'user.created': { email: string }
}
const bus = createBus<Events>()

describe('on narrows by pattern', () => {
  test('a one-segment wildcard', () => {
    bus.on('order.*', (e) => {
      expectTypeOf(e.type).toEqualTypeOf<'order.placed' | 'order.paid'>()
      if (e.type === 'order.placed') expectTypeOf(e.data).toEqualTypeOf<{ total: number }>()
      else expectTypeOf(e.data).toEqualTypeOf<{ id: string }>()
    })
  })
  test('a many-segment wildcard, anywhere', () => {
    bus.on('order.**', (e) => expectTypeOf(e.type).toEqualTypeOf<'order.placed' | 'order.paid' | 'order.placed.eu'>())
    bus.on('**.eu', (e) => expectTypeOf(e.data).toEqualTypeOf<{ vat: number }>())
    bus.on('*.created', (e) => expectTypeOf(e.data.email).toBeString())
  })
  test('** gives the full union, an exact topic gives one event', () => {
    bus.on('**', (e) => expectTypeOf(e.type).toEqualTypeOf<keyof Events>())
    bus.on('order.placed', (e) => expectTypeOf(e).toEqualTypeOf<BusEvent<'order.placed', { total: number }>>())
  })
  test('a pattern that matches no event type is an error', () => {
    // @ts-expect-error no event type matches
    bus.on('invoice.*', () => {})
    // @ts-expect-error `*` is exactly one segment
    bus.on('order.placed.*.*', () => {})
  })
  test('a function filter sees the envelope', () => {
    bus.on('order.placed', () => {}, { filter: (e) => { expectTypeOf(e.data.total).toBeNumber(); return true } })
  })
})

describe('publish is checked against the map', () => {
  test('type and payload', () => {
    expectTypeOf(bus.publish('order.placed', { total: 1 })).resolves.toEqualTypeOf<{ id: string; seq: number; duplicate: boolean; cursor?: string }>()
    // @ts-expect-error unknown type
    void bus.publish('order.shipped', {})
    // @ts-expect-error wrong payload
    void bus.publish('order.placed', { total: 'x' })
    // @ts-expect-error missing field
    void bus.publishMany([{ type: 'order.paid', data: {} }])
  })
})

describe('an open bus', () => {
  test('takes any topic and gives unknown data', () => {
    const open = createBus()
    open.on('a.*', (e) => {
      expectTypeOf(e.type).toEqualTypeOf<string>()
      expectTypeOf(e.data).toEqualTypeOf<unknown>()
    })
    void open.publish('anything.goes', { x: 1 })
  })
})

describe('schemas type the bus', () => {
  test('input on publish, output on listeners', () => {
    const toCents: StandardSchemaV1<{ total: number }, { cents: number }> = {
      '~standard': { version: 1, vendor: 'x', validate: (v) => ({ value: { cents: (v as { total: number }).total * 100 } }) },
    }
    const typed = createBus({ schemas: { 'order.placed': toCents } })
    void typed.publish('order.placed', { total: 1 })
    // @ts-expect-error the input type is checked
    void typed.publish('order.placed', { cents: 1 })
    typed.on('order.*', (e) => expectTypeOf(e.data).toEqualTypeOf<{ cents: number }>())
  })
})

describe('read narrows by pattern', () => {
  test('events of the matching types', async () => {
    const { events, next } = await bus.read({ pattern: 'user.*' })
    expectTypeOf(events).toEqualTypeOf<BusEvent<'user.created', { email: string }>[]>()
    expectTypeOf(next).toBeString()
  })
})

describe('the entry point exports the types a user writes against', () => {
  test('a handler, its context, a subscription and a dead letter typed on their own', async () => {
    type T = import('../src/index.js').HandlerContext
    const handler = async (e: BusEvent<'order.placed', { total: number }>, ctx: T) => { await ctx.publish('order.paid', { id: String(e.data.total) }) }
    const sub: import('../src/index.js').Subscription = await bus.subscribe('s', 'order.placed', handler)
    expectTypeOf(sub.close).returns.resolves.toBeVoid()
    expectTypeOf((await bus.deadLetters.list())[0]!).toEqualTypeOf<import('../src/index.js').DeadLetter>()
    expectTypeOf<import('../src/index.js').ScheduleInfo>().toHaveProperty('nextAt')
  })
})
