import { describe, expect, it } from 'vitest'
import { busApp } from '../adapters/hono/index.js'
import { createBus } from '../src/bus.js'
import { fromCloudEvent, toCloudEvent } from '../src/cloudevent.js'
import { TidingsError } from '../src/errors.js'
import type { BusEvent, Versioned } from '../src/event.js'
import type { StandardSchemaV1 } from '../src/standard-schema.js'
import { memoryStore } from '../src/store/memory.js'
import { manualClock } from '../src/testing.js'
import { rejection } from './helpers.js'

type V1 = { total: number }
type V2 = { amount: number; currency: string }
type Events = { 'order.placed': Versioned<{ 1: V1; 2: V2 }>; 'user.created': { email: string } }

const toV2 = (v1: V1): V2 => ({ amount: v1.total, currency: 'EUR' })
const versions = { 'order.placed': { current: 2 as const, upcast: { 1: toV2 } } }

/** A Standard Schema for V2: `amount` a non-negative number. */
const v2Schema: StandardSchemaV1<V2, V2> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (v) =>
      typeof (v as V2)?.amount === 'number' && (v as V2).amount >= 0
        ? { value: v as V2 }
        : { issues: [{ message: 'amount must be >= 0', path: ['amount'] }] },
  },
}

const setup = (
  o: { store?: ReturnType<typeof memoryStore>; onError?: (e: unknown, ctx: unknown) => void } = {},
) => {
  const clock = manualClock(1_000)
  const store = o.store ?? memoryStore()
  const bus = createBus<Events>({ clock, store, versions, onError: o.onError ?? (() => {}) })
  return { bus, clock, store }
}

/** Every key and value in a store: what "nothing written" and "never rewritten" compare. */
const dump = async (store: ReturnType<typeof memoryStore>) =>
  JSON.stringify(await store.list({ prefix: '' }))

describe('the envelope and publish', () => {
  it('publish stamps the current version: the declared one, or 1 for a type with no versions', async () => {
    const { bus } = setup()
    await bus.publish('order.placed', { amount: 3, currency: 'EUR' })
    await bus.publish('user.created', { email: 'a@b.c' })
    const { events } = await bus.read({ raw: true })
    expect(events.map((e) => [e.type, e.version])).toEqual([
      ['order.placed', 2],
      ['user.created', 1],
    ])
  })

  it('an older version is accepted when its upcast passes the schema, and stored as sent', async () => {
    const store = memoryStore()
    const bus = createBus<Events>({
      clock: manualClock(0),
      store,
      versions,
      schemas: { 'order.placed': v2Schema } as never,
    })
    const r = await bus.publish('order.placed', { total: 7 }, { version: 1 })
    const raw = await bus.read({ raw: true })
    expect(raw.events[0]).toMatchObject({ id: r.id, version: 1, data: { total: 7 } })
    const seen = await bus.read()
    expect(seen.events[0]).toMatchObject({
      id: r.id,
      version: 2,
      data: { amount: 7, currency: 'EUR' },
    })
    // publishMany takes a version per entry.
    await bus.publishMany([
      { type: 'order.placed', data: { total: 1 }, version: 1 },
      { type: 'order.placed', data: { amount: 2, currency: 'USD' } },
    ])
    expect((await bus.read({ raw: true })).events.slice(1).map((e) => [e.version, e.data])).toEqual(
      [
        [1, { total: 1 }],
        [2, { amount: 2, currency: 'USD' }],
      ],
    )
  })

  it('an older payload whose upcast fails the schema is refused with INVALID_PAYLOAD naming the versions; nothing is written', async () => {
    const store = memoryStore()
    const bus = createBus<Events>({
      clock: manualClock(0),
      store,
      versions,
      schemas: { 'order.placed': v2Schema } as never,
    })
    await bus.publish('user.created', { email: 'x' })
    const before = await dump(store)
    const error = await rejection(bus.publish('order.placed', { total: -1 }, { version: 1 }))
    expect(error.code).toBe('INVALID_PAYLOAD')
    expect(error.message).toContain(
      '"order.placed" version 1 upcast to 2 failed its schema: amount: amount must be >= 0',
    )
    expect(await dump(store)).toBe(before)
  })
})

describe('consumers see the current version', () => {
  it('listeners, handlers, waitFor (live and lookback) and read get version 1 events upcast, version = current', async () => {
    const { bus, clock } = setup()
    const heard: BusEvent[] = []
    bus.on('order.placed', (e) => {
      heard.push(e)
      const amount: number = e.data.amount
      void amount
    })
    const handled: BusEvent[] = []
    await bus.subscribe('billing', 'order.*', (e) => {
      handled.push(e)
    })
    const waiting = bus.waitFor('order.placed')
    await bus.publish('order.placed', { total: 5 }, { version: 1 })
    await clock.advance(0)
    await bus.idle()
    const back = await bus.waitFor('order.placed', { since: 60_000 })
    const { events } = await bus.read()
    for (const e of [heard[0], handled[0], await waiting, back, events[0]])
      expect(e).toMatchObject({ version: 2, data: { amount: 5, currency: 'EUR' } })
  })

  it("a durable subscription's filter sees the current version; raw: true hands the handler events as stored", async () => {
    const { bus, clock } = setup()
    const big: unknown[] = []
    const raw: unknown[] = []
    await bus.subscribe(
      'big',
      'order.placed',
      (e) => {
        big.push(e.data)
      },
      { filter: { data: { amount: [{ numeric: ['>', 10] }] } } },
    )
    await bus.subscribe(
      'mirror',
      'order.placed',
      (e) => {
        raw.push([e.version, e.data])
      },
      { raw: true },
    )
    await bus.publish('order.placed', { total: 5 }, { version: 1 })
    await bus.publish('order.placed', { total: 50 }, { version: 1 })
    await clock.advance(0)
    await bus.idle()
    expect(big).toEqual([{ amount: 50, currency: 'EUR' }])
    expect(raw).toEqual([
      [1, { total: 5 }],
      [1, { total: 50 }],
    ])
  })

  it('an upcaster added later changes what a replay sees and never rewrites the log', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    // Last month's code: no versions, a `{ total }` payload (stamped version 1).
    const old = createBus<{ 'order.placed': V1 }>({ clock, store })
    await old.publish('order.placed', { total: 9 })
    await old.close()
    const log = await dump(store)
    const bus = createBus<Events>({ clock, store, versions })
    const seen: unknown[] = []
    await bus.subscribe(
      'report',
      'order.placed',
      (e) => {
        seen.push([e.version, e.data])
      },
      { from: 'earliest' },
    )
    await clock.advance(0)
    await bus.idle()
    expect(seen).toEqual([[2, { amount: 9, currency: 'EUR' }]])
    expect((await bus.read()).events[0]).toMatchObject({
      version: 2,
      data: { amount: 9, currency: 'EUR' },
    })
    expect((await bus.read({ raw: true })).events[0]).toMatchObject({
      version: 1,
      data: { total: 9 },
    })
    // Replay runs the subscription again over the same stored events, upcast again.
    await bus.replay('report', { seq: 1 })
    await clock.advance(0)
    await bus.idle()
    expect(seen).toHaveLength(2)
    expect(await dump(store)).toContain('"total":9')
    expect(JSON.parse(log).find((entry: { key: string }) => entry.key.startsWith('e/'))).toEqual(
      JSON.parse(await dump(store)).find((entry: { key: string }) => entry.key.startsWith('e/')),
    )
  })
})

describe('bad input is a coded error before anything is written', () => {
  it.each([[0], [-1], [1.5], [Number.NaN], ['1'], [null], [2 ** 31]])(
    'version %s is INVALID_OPTIONS',
    async (version) => {
      const { bus, store } = setup()
      const before = await dump(store)
      const error = await rejection(
        bus.publish('order.placed', { total: 1 } as never, { version } as never),
      )
      expect(error.code).toBe('INVALID_OPTIONS')
      expect(await dump(store)).toBe(before)
    },
  )

  it('a version above the current one is INVALID_OPTIONS naming the type; so is version 2 of a type with no versions', async () => {
    const { bus, store } = setup()
    const before = await dump(store)
    expect(
      await rejection(
        bus.publish('order.placed', { amount: 1, currency: 'EUR' }, { version: 3 } as never),
      ),
    ).toMatchObject({
      code: 'INVALID_OPTIONS',
      message: '"order.placed" version 3 is newer than its current version 2',
    })
    expect(
      (await rejection(bus.publish('user.created', { email: 'x' }, { version: 2 } as never))).code,
    ).toBe('INVALID_OPTIONS')
    expect(await dump(store)).toBe(before)
  })

  it('an upcaster that throws, or returns a promise, refuses the publish with INVALID_PAYLOAD naming the type and versions, the error as cause', async () => {
    const boom = new Error('boom')
    const store = memoryStore()
    const bus = createBus({
      store,
      versions: {
        a: {
          current: 3,
          upcast: {
            1: (d: unknown) => d,
            2: () => {
              throw boom
            },
          },
        },
        b: { current: 2, upcast: { 1: async (d: unknown) => d } },
      },
    })
    const error = (await bus
      .publish('a', 1, { version: 1 })
      .catch((e: unknown) => e)) as TidingsError
    expect(error).toBeInstanceOf(TidingsError)
    expect(error.code).toBe('INVALID_PAYLOAD')
    expect(error.message).toBe('upcasting "a" from version 2 to 3 threw')
    expect(error.cause).toBe(boom)
    expect(await rejection(bus.publish('b', 1, { version: 1 }))).toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: 'upcasting "b" from version 1 to 2 returned a promise: upcasters are synchronous',
    })
    expect(await store.list({ prefix: 'e/' })).toEqual([])
  })

  const getterThrows = {
    get current(): number {
      throw new Error('getter')
    },
  }
  it.each([
    ['not an object', 3, 'versions takes'],
    ['an array', [], 'versions takes'],
    ['an entry that is not an object', { a: 1 }, 'versions["a"] must be'],
    ['current 0', { a: { current: 0 } }, 'versions["a"].current must be an integer'],
    [
      'current 1.5',
      { a: { current: 1.5, upcast: {} } },
      'versions["a"].current must be an integer',
    ],
    [
      'a missing upcaster step',
      { a: { current: 3, upcast: { 1: (d: unknown) => d } } },
      'versions["a"] has no upcaster from version 2 to 3',
    ],
    [
      'a step that is not a function',
      { a: { current: 2, upcast: { 1: 'x' } } },
      'has no upcaster from version 1 to 2',
    ],
    [
      'a step from the current version',
      { a: { current: 2, upcast: { 1: (d: unknown) => d, 2: (d: unknown) => d } } },
      'has a step from "2"',
    ],
    [
      'a step that is no version',
      { a: { current: 2, upcast: { 1: (d: unknown) => d, x: (d: unknown) => d } } },
      'has a step from "x"',
    ],
    ['upcast not an object', { a: { current: 2, upcast: null } }, 'upcast must be an object'],
  ])(
    'a versions option with %s fails start-up: publish and idle reject with INVALID_OPTIONS, nothing is written',
    async (_, given, message) => {
      const store = memoryStore()
      const bus = createBus({ store, versions: given as never })
      expect(await rejection(bus.publish('a', 1))).toMatchObject({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining(message),
      })
      expect((await rejection(bus.idle())).code).toBe('INVALID_OPTIONS')
      expect(await store.list({ prefix: '' })).toEqual([])
    },
  )

  it('a getter that throws in the versions option is INVALID_OPTIONS with its error as cause', async () => {
    const error = (await createBus({ versions: { a: getterThrows } })
      .publish('a', 1)
      .catch((e: unknown) => e)) as TidingsError
    expect(error.code).toBe('INVALID_OPTIONS')
    expect((error.cause as Error).message).toBe('getter')
  })

  it("without a versions option a type's only version is 1", async () => {
    const bus = createBus()
    expect((await bus.publish('a', 1, { version: 1 } as never)).seq).toBe(1)
    expect(await rejection(bus.publish('a', 1, { version: 2 } as never))).toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringContaining('its only version is 1'),
    })
  })
})

describe('an upcaster that throws at read time never loses the stored event', () => {
  const buggy = {
    'order.placed': {
      current: 2 as const,
      upcast: {
        1: (): V2 => {
          throw new Error('bug in upcaster')
        },
      },
    },
  }
  const stored = async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const old = createBus<{ 'order.placed': V1 }>({ clock, store })
    await old.publish('order.placed', { total: 1 })
    await old.close()
    return { store, clock }
  }

  it('read() rejects with INVALID_PAYLOAD naming the event, cause kept; read({ raw: true }) still returns it', async () => {
    const { store, clock } = await stored()
    const bus = createBus<Events>({ clock, store, versions: buggy })
    const error = (await bus.read().catch((e: unknown) => e)) as TidingsError
    expect(error.code).toBe('INVALID_PAYLOAD')
    expect(error.message).toContain(
      'event #1 "order.placed" version 1 cannot be read upcast (read({ raw: true }) returns it as stored)',
    )
    expect((error.cause as Error).message).toBe('bug in upcaster')
    expect((await bus.read({ raw: true })).events[0]).toMatchObject({
      version: 1,
      data: { total: 1 },
    })
  })

  it('a handler attempt fails with the error, retries, and ends in the dead letters with the event as stored', async () => {
    const { store, clock } = await stored()
    const bus = createBus<Events>({ clock, store, versions: buggy, onError: () => {} })
    let calls = 0
    await bus.subscribe(
      'billing',
      'order.placed',
      () => {
        calls++
      },
      { from: 'earliest', retry: { attempts: 2, backoff: { initial: 10, jitter: false } } },
    )
    await clock.advance(0)
    await clock.advance(10)
    await bus.idle()
    expect(calls).toBe(0)
    const [letter] = await bus.deadLetters.list()
    expect(letter).toMatchObject({
      subscription: 'billing',
      attempts: 2,
      event: { seq: 1, version: 1, data: { total: 1 } },
    })
    expect(letter!.error.message).toBe('upcasting "order.placed" from version 1 to 2 threw')
  })

  it('a live listener and waitFor skip it; onError gets the error with the stored event', async () => {
    const errors: [unknown, { event?: BusEvent }][] = []
    const store = memoryStore()
    const clock = manualClock(0)
    const bus = createBus<Events>({
      clock,
      store,
      versions: buggy,
      onError: (e, ctx) => errors.push([e, ctx]),
    })
    let heard = 0
    bus.on('order.placed', () => {
      heard++
    })
    const waiting = bus.waitFor('order.placed', { timeout: 50 }).catch((e: TidingsError) => e.code)
    // Another runtime over the same store, running last month's code, appends a version 1 event.
    const old = createBus<{ 'order.placed': V1 }>({ clock, store })
    await old.publish('order.placed', { total: 1 })
    await clock.advance(0)
    await bus.idle()
    expect(heard).toBe(0)
    expect(errors).toHaveLength(1)
    expect((errors[0]![0] as TidingsError).code).toBe('INVALID_PAYLOAD')
    expect(errors[0]![1].event).toMatchObject({ version: 1, data: { total: 1 } })
    // The lookback skips it too.
    const looking = bus
      .waitFor('order.placed', { since: 60_000, timeout: 50 })
      .catch((e: TidingsError) => e.code)
    await clock.advance(50)
    expect(await waiting).toBe('TIMEOUT')
    expect(await looking).toBe('TIMEOUT')
  })
})

describe('schedules', () => {
  it('a schedule made before the versions code has loaded publishes at the current version', async () => {
    const clock = manualClock(0)
    const bus = createBus<Events>({ clock, versions })
    await bus.schedule('tick', {
      every: 1000,
      type: 'order.placed',
      data: { amount: 1, currency: 'EUR' },
    })
    await clock.advance(1000)
    expect((await bus.read({ raw: true })).events.map((e) => [e.type, e.version])).toEqual([
      ['order.placed', 2],
    ])
  })
})

describe('CloudEvents and HTTP', () => {
  it('toCloudEvent carries version as dataversion and fromCloudEvent reads it (binary mode: a string)', () => {
    const ce = toCloudEvent({
      id: 'a',
      type: 't',
      source: 's',
      seq: 1,
      time: 0,
      version: 2,
      data: 1,
    })
    expect(ce.dataversion).toBe(2)
    expect(fromCloudEvent(ce).version).toBe(2)
    expect(fromCloudEvent({ ...ce, dataversion: '1' }).version).toBe(1)
    expect(fromCloudEvent({ ...ce, dataversion: null }).version).toBeUndefined()
    for (const bad of [0, -1, 1.5, 'x', '', true, 2 ** 31]) {
      expect(() => fromCloudEvent({ ...ce, dataversion: bad })).toThrow(
        expect.objectContaining({
          code: 'INVALID_PAYLOAD',
          message: expect.stringContaining('"dataversion"'),
        }),
      )
    }
  })

  it('POST /events takes dataversion (and a plain JSON version); GET /events and /stream answer upcast', async () => {
    const { bus } = setup()
    const app = busApp({ bus, auth: false })
    const ce = {
      specversion: '1.0',
      id: 'old-1',
      type: 'order.placed',
      source: 'old-client',
      dataversion: 1,
      data: { total: 4 },
    }
    const posted = await app.request('/events', {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(ce),
    })
    expect(posted.status).toBe(200)
    const plain = await app.request('/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'order.placed', version: 1, data: { total: 6 } }),
    })
    expect(plain.status).toBe(200)
    const tooNew = await app.request('/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'order.placed', version: 3, data: {} }),
    })
    expect(tooNew.status).toBe(400)
    expect(((await tooNew.json()) as { error: { code: string } }).error.code).toBe(
      'INVALID_OPTIONS',
    )
    expect((await bus.read({ raw: true })).events.map((e) => [e.version, e.data])).toEqual([
      [1, { total: 4 }],
      [1, { total: 6 }],
    ])
    const page = (await (await app.request('/events?from=c1')).json()) as {
      events: { dataversion: number; data: unknown }[]
    }
    expect(page.events.map((e) => [e.dataversion, e.data])).toEqual([
      [2, { amount: 4, currency: 'EUR' }],
      [2, { amount: 6, currency: 'EUR' }],
    ])
    const stream = await app.request('/stream?topic=order.*&from=c1')
    const reader = stream.body!.getReader()
    let text = ''
    while (!text.includes('"amount":6'))
      text += new TextDecoder().decode((await reader.read()).value)
    await reader.cancel()
    expect(text).toContain('"dataversion":2')
    expect(text).not.toContain('"total"')
  })
})
