// Property tests of publishing (issue 12): payloads of every storable type and every hostile kind,
// topics (prototype member names included). Oracle: settle() (success or a documented code), no
// write on refusal, and on success what a listener and read see deep-equals what was published.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TidingsError } from '../../src/errors.js'
import type { BusEvent } from '../../src/event.js'
import { Boom, hostile, protoKeyed, storable } from './_core-inputs.js'
import { onFreshBus } from './_core-bus.js'
import { runs, SCALE } from './_oracle.js'

// Generous: the runs are many, not slow (each is a fresh bus on a manual clock); FUZZ_SCALE multiplies both.
const TIME = 60_000 * SCALE

const PROTO_NAMES = [
  'constructor',
  'toString',
  '__proto__',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  '__defineGetter__',
  'toLocaleString',
]
const TOPIC = /^[\w-]+(\.[\w-]+){0,15}$/
const counts = { payloads: 0, hostile: 0, topics: 0 }

/** Publishes `data` on a fresh bus; on success checks the listener's and read's copies equal it. */
const roundTrip = async (type: string, data: unknown, compare = true) => {
  const seen: BusEvent[] = []
  const r = await onFreshBus(
    async ({ bus }) => {
      bus.on('**', (e) => {
        seen.push(e)
      })
      return bus.publish(type, data)
    },
    {
      schemas: {
        'order.placed': {
          '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => ({ value }) },
        },
      } as never,
    },
  )
  if (r.outcome.ok) {
    const { events } = await r.bus.read()
    // A Proxy is compared through its bus copies only: reading it again would run its traps.
    if (!compare) data = events[0]!.data
    expect(events).toHaveLength(1)
    expect(seen).toHaveLength(1)
    for (const e of [seen[0]!, events[0]!]) {
      expect(e.type).toBe(type)
      expect(e.data).toEqual(data)
      // A prototype the payload did not have would pass toEqual: compare them too, all the way down.
      sameShape(e.data, data)
    }
  }
  await r.done()
  return r.outcome
}

/** Same prototypes and own keys (an own `__proto__` included) at every level of two plain values. */
const sameShape = (a: unknown, b: unknown): void => {
  if (typeof b !== 'object' || b === null) return
  if (Array.isArray(b)) {
    b.forEach((x, i) => sameShape((a as unknown[])[i], x))
    return
  }
  if (b instanceof Map || b instanceof Set || b instanceof Date || b instanceof RegExp) {
    expect(Object.getPrototypeOf(a)).toBe(Object.getPrototypeOf(b))
    return
  }
  expect(Object.getPrototypeOf(a), 'a copied object inherits from Object.prototype').toBe(
    Object.prototype,
  )
  expect(Object.keys(a as object)).toEqual(Object.keys(b))
  for (const k of Object.keys(b))
    sameShape(Object.getOwnPropertyDescriptor(a, k)?.value, (b as Record<string, unknown>)[k])
}

describe('publish: payloads', () => {
  it(
    'stores every storable payload as it was published, or refuses it with a documented code',
    async () => {
      await fc.assert(
        fc.asyncProperty(storable, async (data) => {
          counts.payloads++
          const r = await roundTrip('order.placed', data)
          if (!r.ok) expect(r.error.code).toBe('PAYLOAD_TOO_LARGE')
        }),
        runs(800),
      )
    },
    TIME,
  )

  it(
    'refuses every hostile payload with INVALID_PAYLOAD or PAYLOAD_TOO_LARGE (the thrown value as cause), or stores it intact',
    async () => {
      await fc.assert(
        fc.asyncProperty(hostile, async (input) => {
          counts.hostile++
          const r = await roundTrip('order.placed', input.make(), !input.label.includes('Proxy'))
          if (!r.ok) {
            expect(['INVALID_PAYLOAD', 'PAYLOAD_TOO_LARGE']).toContain(r.error.code)
            // What a getter or a Proxy trap threw is the cause, never swallowed nor escaping raw.
            if (r.error.cause !== undefined && !(r.error.cause instanceof TypeError))
              expect(r.error.cause).toBeInstanceOf(Boom)
          }
        }),
        runs(400),
      )
    },
    TIME,
  )
})

describe('publish: topics', () => {
  it(
    'publishes every valid topic, prototype member names included, and refuses the rest with INVALID_TOPIC',
    async () => {
      const segment = fc.oneof(
        fc.constantFrom(...PROTO_NAMES),
        fc.stringMatching(/^[\w-]{1,8}$/),
        fc.string({ maxLength: 6 }),
      )
      const topic = fc.oneof(
        fc.array(segment, { minLength: 1, maxLength: 18 }).map((s) => s.join('.')),
        fc.constantFrom(...PROTO_NAMES),
        fc.string(),
      )
      await fc.assert(
        fc.asyncProperty(topic, async (type) => {
          counts.topics++
          const r = await roundTrip(type, { n: 1 })
          expect(r.ok).toBe(TOPIC.test(type))
          if (!r.ok) expect(r.error.code).toBe('INVALID_TOPIC')
        }),
        runs(600),
      )
      console.info(
        `publish properties: ${counts.payloads} storable payloads, ${counts.hostile} hostile payloads, ${counts.topics} topics`,
      )
    },
    TIME,
  )
})

describe('issue 12 regressions (publish)', () => {
  it("12.2: a payload's own __proto__ key stays data: no handler sees an inherited isAdmin", async () => {
    const data = JSON.parse('{"__proto__":{"isAdmin":true},"x":1}') as Record<string, unknown>
    const r = await onFreshBus(async ({ bus }) => {
      let seen: Record<string, unknown> | undefined
      bus.on('user.created', (e) => {
        seen = e.data as Record<string, unknown>
      })
      await bus.publish('user.created', data)
      return seen
    })
    const seen = (r.outcome as { value: Record<string, unknown> }).value
    expect(seen.isAdmin).toBeUndefined()
    expect(Object.getPrototypeOf(seen)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(seen, '__proto__')?.value).toEqual({ isAdmin: true })
    expect((await r.bus.read()).events[0]!.data).toEqual(protoKeyed({ isAdmin: true }, { x: 1 }))
    await r.done()
  })

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    '12.3: topic %s publishes normally, with schemas configured',
    async (type) => {
      const r = await onFreshBus(({ bus }) => bus.publish(type, 1), {
        schemas: {
          other: {
            '~standard': { version: 1, vendor: 't', validate: (value: unknown) => ({ value }) },
          },
        } as never,
      })
      expect(r.outcome.ok).toBe(true)
      await r.done()
    },
  )

  it('12.4: a getter or Proxy trap that throws is INVALID_PAYLOAD with the thrown value as cause', async () => {
    const boom = new Boom()
    for (const data of [
      Object.defineProperty({}, 'x', {
        enumerable: true,
        get() {
          throw boom
        },
      }),
      {
        p: new Proxy(
          {},
          {
            ownKeys() {
              throw boom
            },
          },
        ),
      },
    ]) {
      const r = await onFreshBus(({ bus }) => bus.publish('t', data))
      expect(r.outcome.ok).toBe(false)
      expect((r.outcome as { error: TidingsError }).error).toMatchObject({
        code: 'INVALID_PAYLOAD',
        cause: boom,
      })
      await r.done()
    }
  })

  it('12.8: a sparse array with a huge length is refused after reading a bounded number of its indexes', async () => {
    for (const length of [1e8, 2 ** 32 - 1]) {
      let reads = 0
      const sparse: unknown[] = []
      sparse.length = length
      const counted = new Proxy(sparse, {
        get(t, k) {
          if (typeof k === 'string' && /^\d+$/.test(k)) reads++
          return Reflect.get(t, k)
        },
      })
      const r = await onFreshBus(({ bus }) => bus.publish('t', { counted }))
      expect((r.outcome as { error: TidingsError }).error.code).toBe('PAYLOAD_TOO_LARGE')
      // 131,072 bytes at 13 per hole: about 10,000 reads, not 1e8 (the work is counted, not timed).
      expect(reads).toBeLessThan(11_000)
      await r.done()
    }
  })

  it('12.7: a due time after year 9999 is refused; the latest one is stored under a 15-digit key', async () => {
    for (const o of [
      { at: 1e21 },
      { delay: 1e21 },
      { at: 253_402_300_800_000 },
      { at: new Date(NaN) },
      { delay: -1 },
      { delay: NaN },
    ]) {
      const r = await onFreshBus(({ bus }) => bus.publish('t', 1, o as never))
      expect((r.outcome as { error: TidingsError }).error.code).toBe('INVALID_OPTIONS')
      await r.done()
    }
    const r = await onFreshBus(({ bus }) => bus.publish('t', 1, { at: 253_402_300_799_999 }))
    expect(r.outcome.ok).toBe(true)
    const keys = (await r.store.list({ prefix: 'd/' })).map((e) => e.key)
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatch(/^d\/253402300799999\//)
    await r.done()
  })

  it('12.7: a fractional due time is rounded up to a whole ms, so due keys stay fixed-width', async () => {
    const r = await onFreshBus(({ bus, clock }) =>
      bus.publish('t', 1, { at: clock.now() + 1000.5 }),
    )
    expect((await r.store.list({ prefix: 'd/' }))[0]!.key).toMatch(/^d\/\d{15}\//)
    await r.done()
  })
})
