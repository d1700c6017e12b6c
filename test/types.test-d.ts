import { describe, expectTypeOf, test } from 'vitest'
import {
  createBus,
  type Bus,
  type BusEvent,
  type HandlerContext,
  type StandardSchemaV1,
} from '../src/index.js'
import { busApp, webhookSubscription, type ServedBus } from '../adapters/hono/index.js'
import { bridge, crossTab, outbox, type IndexedDBStore } from '../adapters/indexeddb/index.js'

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
    bus.on('order.**', (e) =>
      expectTypeOf(e.type).toEqualTypeOf<'order.placed' | 'order.paid' | 'order.placed.eu'>(),
    )
    bus.on('**.eu', (e) => expectTypeOf(e.data).toEqualTypeOf<{ vat: number }>())
    bus.on('*.created', (e) => expectTypeOf(e.data.email).toBeString())
  })
  test('** gives the full union, an exact topic gives one event', () => {
    bus.on('**', (e) => expectTypeOf(e.type).toEqualTypeOf<keyof Events>())
    bus.on('order.placed', (e) =>
      expectTypeOf(e).toEqualTypeOf<BusEvent<'order.placed', { total: number }>>(),
    )
  })
  test('a pattern that matches no event type is an error', () => {
    // @ts-expect-error no event type matches
    bus.on('invoice.*', () => {})
    // @ts-expect-error `*` is exactly one segment
    bus.on('order.placed.*.*', () => {})
  })
  test('a function filter sees the envelope', () => {
    bus.on('order.placed', () => {}, {
      filter: (e) => {
        expectTypeOf(e.data.total).toBeNumber()
        return true
      },
    })
  })
})

describe('publish is checked against the map', () => {
  test('type and payload', () => {
    expectTypeOf(bus.publish('order.placed', { total: 1 })).resolves.toEqualTypeOf<{
      id: string
      seq: number
      duplicate: boolean
      cursor?: string
    }>()
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
      '~standard': {
        version: 1,
        vendor: 'x',
        validate: (v) => ({ value: { cents: (v as { total: number }).total * 100 } }),
      },
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
    const handler = async (e: BusEvent<'order.placed', { total: number }>, ctx: T) => {
      await ctx.publish('order.paid', { id: String(e.data.total) })
    }
    const sub: import('../src/index.js').Subscription = await bus.subscribe(
      's',
      'order.placed',
      handler,
    )
    expectTypeOf(sub.close).returns.resolves.toBeVoid()
    expectTypeOf((await bus.deadLetters.list())[0]!).toEqualTypeOf<
      import('../src/index.js').DeadLetter
    >()
    expectTypeOf<import('../src/index.js').ScheduleInfo>().toHaveProperty('nextAt')
  })
})

describe('an interface is an event map', () => {
  interface IEvents {
    'order.placed': { total: number }
    'user.created': { email: string }
  }
  test('it types every call like a type alias does', () => {
    const ibus = createBus<IEvents>()
    ibus.on('order.*', (e) =>
      expectTypeOf(e).toEqualTypeOf<BusEvent<'order.placed', { total: number }>>(),
    )
    void ibus.publish('user.created', { email: 'a@example.com' })
    // @ts-expect-error wrong payload
    void ibus.publish('user.created', { email: 1 })
    // @ts-expect-error no event type matches
    ibus.on('invoice.*', () => {})
  })
})

describe('every function that takes a bus takes a typed bus', () => {
  interface IEvents {
    'order.placed': { total: number }
  }
  const typed = createBus<Events>()
  const viaInterface = createBus<IEvents>()
  test('busApp and webhookSubscription', () => {
    busApp({ bus: typed, auth: false })
    busApp({ bus: viaInterface, auth: false })
    void webhookSubscription(typed, {
      name: 'out',
      pattern: 'order.**',
      url: 'https://example.com/hook',
      secret: 'whsec_aGVsbG8=',
    })
  })
  test('busApp takes any bus with what it serves, live listeners optional', () => {
    expectTypeOf(typed).toMatchTypeOf<ServedBus>()
    const { on: _, waitFor: __, subscribe: ___, ...withoutListeners } = typed
    busApp({ bus: withoutListeners, auth: false, stream: { poll: 500 } })
    const { read: ____, ...withoutRead } = typed
    // @ts-expect-error read is what it serves GET /events and the stream with
    busApp({ bus: withoutRead, auth: false })
  })
  test('the browser adapters', () => {
    const store = {} as IndexedDBStore
    // Type-checked only (this file never runs): each call infers the bus's own map.
    const wire = () => [
      outbox(typed, store),
      crossTab(viaInterface, store),
      bridge(typed, { store, url: 'https://edge.example.com/bus' }),
    ]
    expectTypeOf(wire).returns.toBeArray()
  })
  test('a function of the user written against the bare Bus', () => {
    const pending = async (bus: Bus) => (await bus.stats()).length
    expectTypeOf(pending).toBeCallableWith(typed)
    expectTypeOf(pending).toBeCallableWith(viaInterface)
    expectTypeOf(pending).toBeCallableWith(createBus())
  })
  test('the open bus still gives unknown data, the bare Bus accepts it', () => {
    const open: Bus = createBus()
    open.on('x.y', () => {})
    expectTypeOf(createBus().read)
      .returns.resolves.toHaveProperty('events')
      .items.toHaveProperty('data')
      .toEqualTypeOf<unknown>()
  })
})

describe("ctx.publish is typed by the bus's event map", () => {
  test('a chained publish is checked like publish', () => {
    void bus.subscribe('chain', 'order.placed', async (e, ctx) => {
      expectTypeOf(ctx).toEqualTypeOf<HandlerContext<Events>>()
      await ctx.publish('order.paid', { id: String(e.data.total) })
      await ctx.publish('user.created', { email: 'a@example.com' }, { key: 'k' })
      // @ts-expect-error wrong payload: id is a string
      await ctx.publish('order.paid', { id: 1 })
      // @ts-expect-error unknown event type
      await ctx.publish('order.shipped', {})
    })
  })
  test('on an open bus it takes any topic', () => {
    void createBus().subscribe('open', 'a.*', async (_e, ctx) => {
      await ctx.publish('b.c', { anything: true })
    })
  })
  test('a handler written against the bare HandlerContext fits any bus', () => {
    const handler = async (_e: BusEvent, ctx: HandlerContext) => {
      await ctx.publish('order.paid', { id: 'x' })
    }
    void bus.subscribe('bare', 'order.placed', handler)
  })
})

describe('versioned events', () => {
  type V1 = { total: number }
  type V2 = { amount: number; currency: string }
  type Evolving = {
    'order.placed': import('../src/index.js').Versioned<{ 1: V1; 2: V2 }>
    'user.created': { email: string }
  }
  const versioned = createBus<Evolving>({
    versions: {
      'order.placed': {
        current: 2,
        upcast: { 1: (v1) => ({ amount: v1.total, currency: 'EUR' }) },
      },
    },
  })

  test("handlers, listeners, waitFor and read see the current version's type", async () => {
    versioned.on('order.placed', (e) => expectTypeOf(e.data).toEqualTypeOf<V2>())
    versioned.on('**', (e) => {
      if (e.type === 'user.created') expectTypeOf(e.data).toEqualTypeOf<{ email: string }>()
    })
    await versioned.subscribe('s', 'order.*', (e) => expectTypeOf(e.data).toEqualTypeOf<V2>())
    expectTypeOf((await versioned.waitFor('order.placed')).data).toEqualTypeOf<V2>()
    expectTypeOf(
      (await versioned.read({ pattern: 'order.placed' })).events[0]!.data,
    ).toEqualTypeOf<V2>()
    expectTypeOf<BusEvent['version']>().toEqualTypeOf<number | undefined>()
    // As stored: any version's payload.
    expectTypeOf(
      (await versioned.read({ pattern: 'order.placed', raw: true })).events[0]!.data,
    ).toEqualTypeOf<V1 | V2>()
    expectTypeOf(
      (await versioned.read({ pattern: 'user.created', raw: true })).events[0]!.data,
    ).toEqualTypeOf<{ email: string }>()
  })

  test("publish takes the current version by default, and an older version's type with { version }", () => {
    void versioned.publish('order.placed', { amount: 1, currency: 'EUR' })
    void versioned.publish('order.placed', { total: 1 }, { version: 1 })
    void versioned.publish('order.placed', { amount: 1, currency: 'EUR' }, { version: 2, key: 'k' })
    void versioned.publish('user.created', { email: 'x' }, { version: 1 })
    void versioned.publishMany([
      { type: 'order.placed', data: { total: 1 }, version: 1 },
      { type: 'order.placed', data: { amount: 1, currency: 'EUR' } },
    ])
    // @ts-expect-error an old payload needs its version
    void versioned.publish('order.placed', { total: 1 })
    // @ts-expect-error version 1's payload is { total }
    void versioned.publish('order.placed', { amount: 1, currency: 'EUR' }, { version: 1 })
    // @ts-expect-error the map declares no version 3
    void versioned.publish('order.placed', { total: 1 }, { version: 3 })
  })

  test("the versions option is typed from the map: current and each upcaster's input and output", () => {
    createBus<Evolving>({
      versions: {
        'order.placed': {
          // @ts-expect-error current is the highest declared version
          current: 3,
          upcast: { 1: (v1) => ({ amount: v1.total, currency: 'EUR' }) },
        },
      },
    })
    createBus<Evolving>({
      // @ts-expect-error the upcaster must return version 2's payload
      versions: { 'order.placed': { current: 2, upcast: { 1: (v1) => ({ amount: v1.total }) } } },
    })
    // @ts-expect-error the upcaster from 1 is missing
    createBus<Evolving>({ versions: { 'order.placed': { current: 2, upcast: {} } } })
    createBus<Evolving>({ versions: { 'user.created': { current: 1 } } })
  })

  test('an existing event map is unchanged', () => {
    bus.on('order.placed', (e) => expectTypeOf(e.data).toEqualTypeOf<{ total: number }>())
    expectTypeOf<import('../src/index.js').Payload<{ total: number }>>().toEqualTypeOf<{
      total: number
    }>()
  })
})

describe('batch handlers', () => {
  test('events is the union the pattern matches; ctx.fail takes one of them', () => {
    void bus.subscribe(
      'report',
      'order.*',
      async (events, ctx) => {
        expectTypeOf(events).toEqualTypeOf<
          (BusEvent<'order.placed', { total: number }> | BusEvent<'order.paid', { id: string }>)[]
        >()
        expectTypeOf(ctx.attempt).toBeNumber()
        for (const e of events)
          if (e.type === 'order.placed' && e.data.total < 0) ctx.fail(e, new Error('negative'))
        await ctx.publish('user.created', { email: 'ops@example.com' })
        // @ts-expect-error ctx.publish is typed by the map
        await ctx.publish('user.created', { email: 1 })
      },
      { batch: { size: 100, wait: 1000 } },
    )
    void bus.subscribe(
      'one',
      'order.placed',
      (events) => expectTypeOf(events[0]!.data).toEqualTypeOf<{ total: number }>(),
      { batch: { size: 10 } },
    )
  })
  test('a single handler keeps taking one event; batch options need a size', () => {
    void bus.subscribe('single', 'order.placed', (e) =>
      expectTypeOf(e.data).toEqualTypeOf<{ total: number }>(),
    )
    // @ts-expect-error batch needs a size
    void bus.subscribe('nosize', 'order.placed', (events) => events, { batch: { wait: 5 } })
    // @ts-expect-error a misspelt option is still refused
    void bus.subscribe('typo', 'order.placed', (e) => e, { concurency: 2 })
    // With a function filter the options are inferred after the handler: annotate the batch's events.
    void bus.subscribe(
      'filtered',
      'order.placed',
      (events: BusEvent<'order.placed', { total: number }>[]) => events,
      { filter: (e) => e.data.total > 0, batch: { size: 10 } },
    )
    void bus.subscribe(
      'declarative',
      'order.placed',
      (events) => expectTypeOf(events).toBeArray(),
      { filter: { type: ['order.placed'] }, batch: { size: 10 } },
    )
    void bus.subscribe(
      'filtered1',
      'order.placed',
      (e) => expectTypeOf(e.data.total).toBeNumber(),
      { filter: (e) => e.data.total > 0 },
    )
    void bus.subscribe(
      'wrong',
      'order.placed',
      // @ts-expect-error a batch handler gets an array, not one event
      (events: BusEvent<'order.placed', { total: number }>) => events,
      { batch: { size: 5 } },
    )
  })
})
