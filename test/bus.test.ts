import { describe, expect, it, vi } from 'vitest'
import { createBus } from '../src/bus.js'
import { memoryStore } from '../src/store/memory.js'
import { manualClock } from '../src/testing.js'
import { TidingsError } from '../src/errors.js'
import { compileFilter } from '../src/filter/filter.js'
import type { BusEvent, EventMap } from '../src/event.js'
import type { StandardSchemaV1 } from '../src/standard-schema.js'
import { countingStore, rejection } from './helpers.js'

type Events = {
  'order.placed': { id: string; total: number }
  'order.paid': { id: string }
  'user.created': { email: string }
}

/** A tiny Standard Schema validator, sync or async, that can transform. */
const schema = <T>(
  check: (v: unknown) => string | undefined,
  transform = (v: unknown) => v as T,
  async = false,
): StandardSchemaV1<unknown, T> => ({
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (v) => {
      const why = check(v)
      const r = why ? { issues: [{ message: why, path: ['total'] }] } : { value: transform(v) }
      return async ? Promise.resolve(r) : r
    },
  },
})

describe('publish', () => {
  it('stores an envelope and resolves { id, seq, duplicate }', async () => {
    const clock = manualClock(1_700_000_000_000)
    const bus = createBus<Events>({ clock, source: 'shop' })
    const r = await bus.publish(
      'order.placed',
      { id: 'o1', total: 5 },
      {
        key: 'o1',
        correlationId: 'c1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    )
    expect(r).toEqual({ id: r.id, seq: 1, duplicate: false })
    const { events } = await bus.read()
    expect(events).toEqual([
      {
        id: r.id,
        type: 'order.placed',
        source: 'shop',
        time: 1_700_000_000_000,
        seq: 1,
        data: { id: 'o1', total: 5 },
        key: 'o1',
        correlationId: 'c1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    ])
    expect(Object.keys(events[0]!)).not.toContain('causationId')
  })

  it('gives unique ids that sort in publish order, and seqs that follow call order', async () => {
    const bus = createBus()
    const rs = await Promise.all(Array.from({ length: 300 }, (_, i) => bus.publish('t', i)))
    const ids = rs.map((r) => r.id)
    expect(new Set(ids).size).toBe(300)
    expect([...ids].sort()).toEqual(ids)
    expect(rs.map((r) => r.seq)).toEqual(rs.map((_, i) => i + 1))
    const other = createBus()
    expect((await other.publish('t', 0)).id.slice(0, 15)).not.toBe(ids[0]!.slice(0, 15))
  })

  it('keeps call order when an earlier publish validates asynchronously', async () => {
    const bus = createBus({
      schemas: {
        slow: schema<number>(
          () => undefined,
          (v) => v as number,
          true,
        ),
        fast: schema<number>(() => undefined),
      },
    })
    const a = bus.publish('slow', 1)
    const b = bus.publish('fast', 2)
    expect((await a).seq).toBe(1)
    expect((await b).seq).toBe(2)
  })

  it('never waits for listeners', async () => {
    const bus = createBus()
    bus.on('t', () => new Promise(() => {}))
    bus.on('t', () => {
      for (let i = 0; i < 1e5; i++);
    })
    await expect(bus.publish('t', 1)).resolves.toMatchObject({ seq: 1 })
  })

  it('costs one commit, and unawaited publishes share one commit (group commit)', async () => {
    const { store, stats } = countingStore()
    const bus = createBus({ store })
    await bus.idle()
    await bus.publish('t', 1)
    expect(stats.commits).toBe(1)
    await Promise.all(Array.from({ length: 500 }, (_, i) => bus.publish('t', i)))
    expect(stats.commits).toBe(2)
  })

  it('snapshots and freezes the payload: later changes by the caller or a listener do not leak', async () => {
    const bus = createBus()
    const seen: BusEvent[] = []
    let threw: unknown
    // Caught here: a listener's own throw would only reach onError.
    bus.on('t', (e) => {
      seen.push(e)
      try {
        ;(e.data as { a: number[] }).a.push(9)
      } catch (x) {
        threw = x
      }
    })
    const data = { a: [1], when: new Date(0), m: new Map([['k', 1]]) }
    await bus.publish('t', data)
    data.a.push(2)
    data.when.setTime(5)
    const [stored] = (await bus.read()).events
    expect(stored!.data).toEqual({ a: [1], when: new Date(0), m: new Map([['k', 1]]) })
    expect(Object.isFrozen(stored)).toBe(true)
    expect(Object.isFrozen((stored!.data as { a: number[] }).a)).toBe(true)
    expect(seen).toHaveLength(1)
    expect(threw).toBeInstanceOf(TypeError)
  })

  it('stores the schema output and types inferred from schemas', async () => {
    const bus = createBus({
      schemas: {
        'order.placed': schema<{ total: number; cents: number }>(
          () => undefined,
          (v) => ({ ...(v as { total: number }), cents: (v as { total: number }).total * 100 }),
        ),
      },
    })
    await bus.publish('order.placed', { total: 2 })
    expect((await bus.read()).events[0]!.data).toEqual({ total: 2, cents: 200 })
  })
})

describe('publish dedup (the idempotency ledger)', () => {
  it('a repeated id stores nothing, reaches no listener and resolves the original', async () => {
    const bus = createBus()
    const heard = vi.fn()
    bus.on('**', heard)
    await bus.publish('a', 1)
    const first = await bus.publish('t', 1, { id: 'order-1' })
    const again = await bus.publish('t', 2, { id: 'order-1' })
    expect(again).toEqual({ id: 'order-1', seq: first.seq, duplicate: true })
    expect(heard).toHaveBeenCalledTimes(2)
    expect((await bus.read()).events.map((e) => e.data)).toEqual([1, 1])
  })

  it('dedups within one group commit and within publishMany', async () => {
    const bus = createBus()
    const [a, b] = await Promise.all([
      bus.publish('t', 1, { id: 'x' }),
      bus.publish('t', 2, { id: 'x' }),
    ])
    expect(a).toEqual({ id: 'x', seq: 1, duplicate: false })
    expect(b).toEqual({ id: 'x', seq: 1, duplicate: true })
    const many = await bus.publishMany([
      { type: 't', data: 3, id: 'y' },
      { type: 't', data: 4, id: 'y' },
      { type: 't', data: 5, id: 'x' },
    ])
    expect(many.map((r) => [r.seq, r.duplicate])).toEqual([
      [2, false],
      [2, true],
      [1, true],
    ])
    expect((await bus.read()).events).toHaveLength(2)
  })

  it('knows its own ids: re-publishing one is a duplicate until it leaves the window', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock, dedupe: { window: 60_000, max: 100_000 } })
    const rs = await Promise.all(Array.from({ length: 3000 }, (_, i) => bus.publish('t', i)))
    const again = await bus.publishMany(
      rs.slice(0, 5).map((r) => ({ type: 't', data: 'again', id: r.id })),
    )
    expect(again.map((r) => [r.seq, r.duplicate])).toEqual(rs.slice(0, 5).map((r) => [r.seq, true]))
    await clock.advance(61_000)
    expect((await bus.publish('t', 'later', { id: rs[0]!.id })).duplicate).toBe(false)
  })

  it('remembers every appended id, not only caller-supplied ones', async () => {
    const store = memoryStore()
    const a = createBus({ store })
    const { id } = await a.publish('t', 1)
    const b = createBus({ store })
    expect(await b.publish('t', 1, { id })).toEqual({ id, seq: 1, duplicate: true })
  })

  it('forgets ids after the window and beyond the maximum', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock, dedupe: { window: 60_000, max: 3 } })
    await bus.publish('t', 0, { id: 'old' })
    await clock.advance(61_000)
    expect((await bus.publish('t', 1, { id: 'old' })).duplicate).toBe(false)
    for (const id of ['a', 'b', 'c', 'd']) await bus.publish('t', id, { id })
    expect((await bus.publish('t', 'a', { id: 'a' })).duplicate).toBe(false)
    expect((await bus.publish('t', 'd', { id: 'd' })).duplicate).toBe(true)
  })

  it('survives a restart: a new bus over the store keeps the ledger, within its bounds', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const a = createBus({ store, clock, dedupe: { window: 60_000, max: 2 } })
    for (const id of ['a', 'b', 'c']) await a.publish('t', id, { id })
    await a.close()
    const b = createBus({ store, clock, dedupe: { window: 60_000, max: 2 } })
    expect((await b.publish('t', 'c', { id: 'c' })).duplicate).toBe(true)
    expect((await b.publish('t', 'a', { id: 'a' })).duplicate).toBe(false)
    expect((await b.publish('t', 'next', {})).seq).toBe(5)
  })
})

describe('publishMany', () => {
  it('stores all in one commit, in order', async () => {
    const { store, stats } = countingStore()
    const bus = createBus<Events>({ store })
    await bus.idle()
    const rs = await bus.publishMany([
      { type: 'order.placed', data: { id: 'a', total: 1 } },
      { type: 'order.paid', data: { id: 'a' }, key: 'a' },
    ])
    expect(rs.map((r) => r.seq)).toEqual([1, 2])
    expect(stats.commits).toBe(1)
  })

  it('stores none when one is invalid', async () => {
    const bus = createBus<EventMap>({
      schemas: { checked: schema(() => 'too small', undefined, true) },
    })
    const heard = vi.fn()
    bus.on('**', heard)
    const e = await rejection(
      bus.publishMany([
        { type: 'ok', data: 1 },
        { type: 'checked', data: 0 },
      ]),
    )
    expect(e.code).toBe('INVALID_PAYLOAD')
    await expect(
      bus.publishMany([
        { type: 'ok', data: 1 },
        { type: 'bad..topic', data: 0 },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_TOPIC' })
    await bus.idle()
    expect((await bus.read()).events).toEqual([])
    expect(heard).not.toHaveBeenCalled()
  })
})

describe('bad input is refused before anything is written', () => {
  const cases: [string, (bus: ReturnType<typeof createBus>) => Promise<unknown>, string, string][] =
    [
      [
        'an empty segment',
        (b) => b.publish('order..placed', {}),
        'INVALID_TOPIC',
        'segment 2 ("") is empty',
      ],
      [
        'a wildcard in a topic',
        (b) => b.publish('order.*', {}),
        'INVALID_TOPIC',
        'segment 2 ("*") is a wildcard',
      ],
      ['a bad character', (b) => b.publish('order.pl@ced', {}), 'INVALID_TOPIC', '"pl@ced"'],
      [
        '17 segments',
        (b) => b.publish(Array(17).fill('a').join('.'), {}),
        'INVALID_TOPIC',
        '17 segments',
      ],
      [
        'a function in the payload',
        (b) => b.publish('t', { cb: () => 1 }),
        'INVALID_PAYLOAD',
        'data.cb: a function',
      ],
      [
        'a symbol deep in the payload',
        (b) => b.publish('t', { a: [1, { s: Symbol('x') }] }),
        'INVALID_PAYLOAD',
        'data.a[1].s: a symbol',
      ],
      [
        'a class instance',
        (b) => b.publish('t', { u: new URL('https://x.test') }),
        'INVALID_PAYLOAD',
        'data.u: a URL instance',
      ],
      [
        'a cycle',
        (b) => {
          const o: Record<string, unknown> = {}
          o.self = o
          return b.publish('t', o)
        },
        'INVALID_PAYLOAD',
        'a cycle',
      ],
      [
        'a payload over maxEventBytes',
        (b) => b.publish('t', 'x'.repeat(140_000)),
        'PAYLOAD_TOO_LARGE',
        'the limit is 131072',
      ],
      [
        'multi-byte text over the limit',
        (b) => b.publish('t', '€'.repeat(45_000)),
        'PAYLOAD_TOO_LARGE',
        'the limit is 131072',
      ],
      [
        'an empty id',
        (b) => b.publish('t', 1, { id: '' }),
        'INVALID_OPTIONS',
        'id "" is not a string of 1..512',
      ],
      [
        'a non-string key',
        (b) => b.publish('t', 1, { key: 5 as unknown as string }),
        'INVALID_OPTIONS',
        'key 5 is not a string',
      ],
      [
        'a malformed traceparent',
        (b) => b.publish('t', 1, { traceparent: 'nope' }),
        'INVALID_OPTIONS',
        'in W3C form',
      ],
    ]
  it.each(cases)('%s', async (_, act, code, text) => {
    const bus = createBus()
    const heard = vi.fn()
    bus.on('**', heard)
    const e = await rejection(act(bus))
    expect(e).toBeInstanceOf(TidingsError)
    expect(e.code).toBe(code)
    expect(e.message).toContain(text)
    await bus.idle()
    expect((await bus.read()).events).toEqual([])
    expect(heard).not.toHaveBeenCalled()
  })

  it('a schema failure names each issue path', async () => {
    const bus = createBus({ schemas: { 'order.placed': schema(() => 'expected a number') } })
    const e = await rejection(bus.publish('order.placed', { total: 'x' }))
    expect(e.code).toBe('INVALID_PAYLOAD')
    expect(e.message).toBe('"order.placed" failed its schema: total: expected a number')
  })

  it('a payload just under the limit is accepted', async () => {
    const bus = createBus({ limits: { maxEventBytes: 1000 } })
    await expect(bus.publish('t', 'x'.repeat(700))).resolves.toMatchObject({ seq: 1 })
    await expect(bus.publish('t', 'x'.repeat(1000))).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    })
  })

  it('a failing store rejects the publishes of that commit and writes nothing; later ones succeed', async () => {
    const { store, stats } = countingStore()
    const bus = createBus({ store })
    await bus.idle()
    stats.failNext = 1
    stats.error = new TidingsError('STORAGE_FULL', 'quota exceeded')
    const heard = vi.fn()
    bus.on('**', heard)
    const e = await rejection(Promise.all([bus.publish('t', 1), bus.publish('t', 2)]))
    expect(e.code).toBe('STORAGE_FULL')
    expect(heard).not.toHaveBeenCalled()
    expect((await bus.publish('t', 3)).seq).toBe(1)
    expect((await bus.read()).events.map((x) => x.data)).toEqual([3])
  })

  it('publishing on a closed bus is refused with CLOSED', async () => {
    const bus = createBus()
    const pending = bus.publish('t', 1)
    await bus.close()
    expect((await pending).seq).toBe(1)
    expect((await rejection(bus.publish('t', 2))).code).toBe('CLOSED')
  })
})

describe('live listeners (on)', () => {
  it('match exact topics and wildcards, in publish order', async () => {
    const bus = createBus<Events>()
    const got: string[] = []
    bus.on('order.*', (e) => {
      got.push(`star:${e.type}`)
    })
    bus.on('order.placed', (e) => {
      got.push(`exact:${e.data.total}`)
    })
    bus.on('**', (e) => {
      got.push(`all:${e.seq}`)
    })
    bus.publish('order.placed', { id: 'a', total: 1 })
    bus.publish('user.created', { email: 'x' })
    await bus.publish('order.paid', { id: 'a' })
    expect(got).toEqual([
      'star:order.placed',
      'exact:1',
      'all:1',
      'all:2',
      'star:order.paid',
      'all:3',
    ])
  })

  it('unsubscribe by the returned function or an AbortSignal, even during a fan-out', async () => {
    const bus = createBus()
    const b = vi.fn()
    let offB = () => {}
    bus.on('t', () => offB())
    offB = bus.on('t', b)
    const ac = new AbortController()
    const c = vi.fn()
    bus.on('t', c, { signal: ac.signal })
    await bus.publish('t', 1)
    expect(b).toHaveBeenCalledTimes(1) // snapshotted before the fan-out
    ac.abort()
    await bus.publish('t', 2)
    expect(b).toHaveBeenCalledTimes(1)
    expect(c).toHaveBeenCalledTimes(1)
    const d = vi.fn()
    bus.on('t', d, { signal: AbortSignal.abort() })
    await bus.publish('t', 3)
    expect(d).not.toHaveBeenCalled()
  })

  it('apply declarative and function filters', async () => {
    const bus = createBus<Events>()
    const big = vi.fn()
    const fr = vi.fn()
    bus.on('order.placed', big, {
      filter: compileFilter({ data: { total: [{ numeric: ['>=', 100] }] } }),
    })
    bus.on('order.placed', fr, { filter: (e) => e.key === 'FR' })
    await bus.publish('order.placed', { id: 'a', total: 50 }, { key: 'FR' })
    await bus.publish('order.placed', { id: 'b', total: 150 })
    expect(big.mock.calls.map(([e]) => e.data.id)).toEqual(['b'])
    expect(fr.mock.calls.map(([e]) => e.data.id)).toEqual(['a'])
    expect(() =>
      bus.on('order.paid', vi.fn(), { filter: { data: { total: [1] } } as never }),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_FILTER',
        message: expect.stringContaining('subscribe()'),
      }),
    )
  })

  it('refuse a malformed pattern with INVALID_PATTERN', () => {
    const bus = createBus()
    expect(() => bus.on('order.**x', vi.fn())).toThrow(
      expect.objectContaining({ code: 'INVALID_PATTERN' }),
    )
  })

  it('a throwing or rejecting listener goes to onError and breaks neither publish nor other listeners', async () => {
    const onError = vi.fn()
    const bus = createBus({ onError })
    const boom = new Error('boom')
    const bad = () => {
      throw boom
    }
    bus.on('t', bad)
    bus.on('t', async () => {
      throw new Error('later')
    })
    const good = vi.fn()
    bus.on('t', good)
    await expect(bus.publish('t', 1)).resolves.toMatchObject({ seq: 1 })
    await new Promise((r) => setTimeout(r, 0))
    expect(good).toHaveBeenCalledTimes(1)
    expect(onError).toHaveBeenCalledTimes(2)
    expect(onError.mock.calls[0]![0]).toBe(boom)
    expect(onError.mock.calls[0]![1]).toMatchObject({ event: { seq: 1 }, listener: bad })
  })

  it('onError defaults to console.error', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    const bus = createBus()
    bus.on('t', () => {
      throw new Error('x')
    })
    await bus.publish('t', 1)
    expect(spy).toHaveBeenCalledWith(
      'tidings:',
      expect.objectContaining({ message: 'x' }),
      expect.objectContaining({ event: expect.objectContaining({ seq: 1 }) }),
    )
    spy.mockRestore()
  })
})

describe('read', () => {
  it('pages oldest first with opaque cursors; from is inclusive', async () => {
    const bus = createBus()
    for (let i = 1; i <= 25; i++) await bus.publish(i % 2 ? 'odd.n' : 'even.n', i)
    const p1 = await bus.read({ limit: 10 })
    expect(p1.events.map((e) => e.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(typeof p1.next).toBe('string')
    const p2 = await bus.read({ from: p1.next, limit: 10 })
    expect(p2.events[0]!.data).toBe(11)
    const p3 = await bus.read({ from: p2.next, limit: 10 })
    expect(p3.events.map((e) => e.data)).toEqual([21, 22, 23, 24, 25])
    const p4 = await bus.read({ from: p3.next })
    expect(p4.events).toEqual([])
    expect(p4.next).toBe(p3.next)
    await bus.publish('odd.n', 26)
    expect((await bus.read({ from: p4.next })).events.map((e) => e.data)).toEqual([26])
  })

  it('filters by pattern and keeps the cursor past what it skipped', async () => {
    const bus = createBus()
    for (let i = 1; i <= 3000; i++) bus.publish(i === 2999 ? 'rare.hit' : 'common.x', i)
    await bus.idle()
    const r = await bus.read({ pattern: 'rare.*', limit: 5 })
    expect(r.events.map((e) => e.data)).toEqual([2999])
    // The scan went past 3000 (skipped, not a match): reading on from there sees only what comes next.
    expect((await bus.read({ from: r.next })).events).toEqual([])
    await bus.publish('rare.again', 3001)
    expect((await bus.read({ from: r.next, pattern: 'rare.*' })).events.map((e) => e.data)).toEqual(
      [3001],
    )
  })

  it("takes 'earliest' (the oldest retained event) and 'latest' (the end: nothing read, the next event's cursor)", async () => {
    const bus = createBus()
    await bus.publishMany([
      { type: 'a', data: 1 },
      { type: 'a', data: 2 },
    ])
    expect((await bus.read({ from: 'earliest' })).events.map((e) => e.data)).toEqual([1, 2])
    const end = await bus.read({ from: 'latest', cursors: true })
    expect(end.events).toEqual([])
    expect(end.cursors).toEqual([])
    await bus.publish('a', 3)
    expect((await bus.read({ from: end.next })).events.map((e) => e.data)).toEqual([3])
  })

  it('refuses a bad cursor and a bad limit', async () => {
    const bus = createBus()
    expect((await rejection(bus.read({ from: 'garbage' }))).code).toBe('INVALID_CURSOR')
    expect((await rejection(bus.read({ limit: 0 }))).code).toBe('INVALID_OPTIONS')
    expect((await rejection(bus.read({ pattern: 'a..b' }))).code).toBe('INVALID_PATTERN')
  })
})

describe('retention', () => {
  it('keeps the last N events', async () => {
    const bus = createBus({ retention: { events: 5 } })
    for (let i = 1; i <= 20; i++) await bus.publish('t', i)
    expect((await bus.read()).events.map((e) => e.data)).toEqual([16, 17, 18, 19, 20])
  })

  it('drops events older than the age', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock, retention: { age: 60_000 } })
    for (let i = 1; i <= 3; i++) await bus.publish('t', i)
    await clock.advance(61_000)
    await bus.publish('t', 4)
    expect((await bus.read()).events.map((e) => e.data)).toEqual([4])
  })

  it('keeps seq counting across pruning and restarts', async () => {
    const store = memoryStore()
    const a = createBus({ store, retention: { events: 2 } })
    for (let i = 1; i <= 5; i++) await a.publish('t', i)
    await a.close()
    const b = createBus({ store, retention: { events: 2 } })
    expect((await b.publish('t', 6)).seq).toBe(6)
    expect((await b.read()).events.map((e) => e.seq)).toEqual([5, 6])
  })
})

describe('two buses over one store', () => {
  it("see each other's events live and never share a seq", async () => {
    const store = memoryStore()
    const a = createBus({ store })
    const b = createBus({ store })
    const heardByB: unknown[] = []
    b.on('**', (e) => {
      heardByB.push(e.data)
    })
    const rs = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => a.publish('t', `a${i}`)),
      ...Array.from({ length: 50 }, (_, i) => b.publish('t', `b${i}`)),
    ])
    const seqs = rs.map((r) => r.seq).sort((x, y) => x - y)
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    await a.idle()
    await b.idle()
    await new Promise((r) => setTimeout(r, 10))
    await b.idle()
    expect(heardByB).toHaveLength(100)
    expect(new Set(heardByB).size).toBe(100)
    const all = (await a.read({ limit: 200 })).events
    expect(all.map((e) => e.seq)).toEqual(seqs)
  })

  it('dedup an id published on both at once', async () => {
    const store = memoryStore()
    const a = createBus({ store })
    const b = createBus({ store })
    const [ra, rb] = await Promise.all([
      a.publish('t', 'a', { id: 'same' }),
      b.publish('t', 'b', { id: 'same' }),
    ])
    expect([ra.duplicate, rb.duplicate].sort()).toEqual([false, true])
    expect(ra.seq).toBe(rb.seq)
    expect((await a.read()).events).toHaveLength(1)
  })
})

describe('idle and close', () => {
  it('idle covers publishes that have not resolved yet', async () => {
    const bus = createBus<EventMap>({ schemas: { slow: schema(() => undefined, undefined, true) } })
    void bus.publish('slow', 1)
    void bus.publish('t', 2)
    await bus.idle()
    expect((await bus.read()).events.map((e) => e.data)).toEqual([1, 2])
  })

  it('close stores every accepted publish before it resolves', async () => {
    const store = memoryStore()
    const bus = createBus({ store })
    const all = Array.from({ length: 2500 }, (_, i) => bus.publish('t', i))
    await bus.close()
    const seqs = (await Promise.all(all)).map((r) => r.seq)
    expect(seqs[2499]).toBe(2500)
    const again = createBus({ store })
    expect((await again.read({ limit: 10_000 })).events).toHaveLength(2500)
  })
})
