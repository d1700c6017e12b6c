import { runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { MAX_EVENT_BYTES } from '../../adapters/cloudflare/index.js'
import { TidingsError } from '../../src/errors.js'
import { decodeCursor } from '../../src/event.js'
import { freshBus, shardStub } from './helpers.js'

/** The number of commits that wrote the rows under `prefix` still there (a commit's rows share its version). */
const commitsOf = (name: string, shard: number, prefix: string) =>
  runInDurableObject(
    shardStub(name, shard),
    (_, state) =>
      state.storage.sql
        .exec<{ n: number }>(
          `SELECT count(DISTINCT version) AS n FROM tidings_kv WHERE key >= ? AND key < ?`,
          prefix,
          prefix + '\uffff',
        )
        .one().n,
  )
const rows = (name: string, shard: number, prefix: string) =>
  runInDurableObject(
    shardStub(name, shard),
    (_, state) =>
      state.storage.sql
        .exec<{ n: number }>(
          `SELECT count(*) AS n FROM tidings_kv WHERE key >= ? AND key < ?`,
          prefix,
          prefix + '\uffff',
        )
        .one().n,
  )

describe('cloudflareBus over BusObject shards', () => {
  it('publishes and reads back values that are not JSON, with a cursor covering every shard', async () => {
    const bus = freshBus()
    const at = new Date('2026-05-01T00:00:00Z')
    const r = await bus.publish('cart.added', { at, tags: new Set(['a']), big: 10n }, { key: 'o1' })
    expect(r.seq).toBe(1)
    expect(r.duplicate).toBe(false)
    const page = await bus.read()
    expect(page.events).toHaveLength(1)
    expect(page.events[0]!.data).toEqual({ at, tags: new Set(['a']), big: 10n })
    expect(page.events[0]!.source).toBe('test')
    expect(decodeCursor(page.next)).toHaveLength(3)
    for (let i = 0; i < 6; i++) await bus.publish('cart.added', { i }, { key: `k${i}` })
    const rest = await bus.read({ from: page.next, limit: 4 })
    expect(rest.events.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3])
    const last = await bus.read({ from: rest.next })
    expect(last.events.map((e) => (e.data as { i: number }).i)).toEqual([4, 5])
    expect((await bus.read({ from: last.next })).events).toEqual([])
    await expect(bus.read({ from: 'c1' })).rejects.toMatchObject({ code: 'INVALID_CURSOR' })
  })

  it("takes 'earliest' and 'latest' over every shard", async () => {
    const bus = freshBus(3)
    for (let n = 1; n <= 4; n++) await bus.publish('t.x', { n }, { key: `k${n}` })
    expect(
      (await bus.read({ from: 'earliest' })).events.map((e) => (e.data as { n: number }).n).sort(),
    ).toEqual([1, 2, 3, 4])
    const end = await bus.read({ from: 'latest' })
    expect(end.events).toEqual([])
    expect(decodeCursor(end.next)).toHaveLength(3)
    for (let n = 5; n <= 7; n++) await bus.publish('t.x', { n }, { key: `k${n}` })
    expect(
      (await bus.read({ from: end.next })).events.map((e) => (e.data as { n: number }).n).sort(),
    ).toEqual([5, 6, 7])
  })

  it("pages by time over shards without skipping an event when a shard's clock stepped back", async () => {
    const bus = freshBus(2)
    const keyOn = (shard: number) =>
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].find((k) => bus.shardOf(k) === shard)!
    const k0 = keyOn(0),
      k1 = keyOn(1)
    await bus.publish('t.x', { n: 1 }, { key: k0 })
    await shardStub(bus.name, 0).advance(-60_000) // shard 0's clock is now a minute behind
    await bus.publish('t.x', { n: 2 }, { key: k0 })
    await bus.publish('t.x', { n: 3 }, { key: k0 })
    await shardStub(bus.name, 1).advance(-30_000) // shard 1's, half a minute behind
    await bus.publish('t.x', { n: 4 }, { key: k1 })
    const seen: number[] = []
    for (let from: string | undefined, i = 0; i < 10; i++) {
      const page = await bus.read({ limit: 3, ...(from ? { from } : {}) })
      if (!page.events.length) break
      seen.push(...page.events.map((e) => (e.data as { n: number }).n))
      from = page.next
    }
    // Each once: shard 0's events in seq order, whatever their times say.
    expect(seen.filter((n) => n <= 3)).toEqual([1, 2, 3])
    expect([...seen].sort()).toEqual([1, 2, 3, 4])
  })

  it('keeps order per key across shards, and sends an unkeyed event to the shard of its id', async () => {
    const bus = freshBus()
    const keys = ['a', 'b', 'c', 'd', 'e', 'f']
    expect(new Set(keys.map((k) => bus.shardOf(k))).size).toBeGreaterThan(1)
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        bus.publish('cart.added', { n: i }, { key: keys[i % keys.length]! }),
      ),
    )
    const events = []
    for (let from: string | undefined; ;) {
      const page = await bus.read({ ...(from ? { from } : {}), limit: 7 })
      events.push(...page.events)
      if (!page.events.length) break
      from = page.next
    }
    expect(events).toHaveLength(60)
    for (const k of keys) {
      const ns = events.filter((e) => e.key === k).map((e) => (e.data as { n: number }).n)
      expect(ns).toEqual([...ns].sort((x, y) => x - y))
      expect(ns).toHaveLength(10)
    }
    // A retried unkeyed publish with the same id lands on the same shard and is a duplicate.
    const first = await bus.publish('user.created', { email: 'a@b' }, { id: 'signup-1' })
    const again = await bus.publish('user.created', { email: 'a@b' }, { id: 'signup-1' })
    expect(again).toEqual({ ...first, duplicate: true, cursor: expect.any(String) })
    // The duplicate's cursor reads the stored event back, whatever shard it is on.
    expect((await bus.read({ from: again.cursor!, limit: 1 })).events.map((e) => e.id)).toEqual([
      'signup-1',
    ])
  })

  it('group commit: publishes of one tick are one RPC and one storage commit per shard', async () => {
    const bus = freshBus(1)
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => bus.publish('cart.added', { i })),
    )
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
    // One commit: its events in segments of at most 128 (their ids are its dedup record).
    expect(await rows(bus.name, 0, 'e/')).toBe(2)
    expect(await commitsOf(bus.name, 0, 'e/')).toBe(1)
    expect(await rows(bus.name, 0, 'i/')).toBe(0)
    // Separate append calls that reach the object before its gathering window closes share one
    // commit. Made in one tick inside the object, they all arrive before it closes: exactly one.
    // (Calls over the network arrive when the machine lets them: how many commits they take is
    // not a guarantee, so it is not asserted.)
    const calls = await runInDurableObject(shardStub(bus.name, 0), (object) =>
      Promise.all(
        Array.from({ length: 20 }, (_, c) => object.append([{ type: 'cart.added', data: { c } }])),
      ),
    )
    expect(calls.every((r) => r.ok)).toBe(true)
    expect(await rows(bus.name, 0, 'e/')).toBe(3)
    expect(await commitsOf(bus.name, 0, 'e/')).toBe(2)
    expect((await bus.read({ limit: 1000 })).events).toHaveLength(220)
  })

  it('publishMany is atomic on a shard and reports each entry', async () => {
    const bus = freshBus(2)
    const out = await bus.publishMany([
      { type: 'cart.added', data: 1, key: 'x' },
      { type: 'cart.paid', data: 2, key: 'x' },
    ])
    expect(out.map((r) => r.seq)).toEqual([1, 2])
    await expect(
      bus.publishMany([
        { type: 'cart.added', data: 3, key: 'x' },
        { type: 'bad..topic', data: 4, key: 'x' },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_TOPIC' })
    expect((await bus.read()).events).toHaveLength(2)
  })

  it(`refuses an event above ${MAX_EVENT_BYTES} bytes with PAYLOAD_TOO_LARGE before writing anything`, async () => {
    const bus = freshBus(1)
    const ok = 'x'.repeat(MAX_EVENT_BYTES - 1000)
    await bus.publish('file.uploaded', { body: ok })
    const err = await bus.publish('file.uploaded', { body: ok + 'y'.repeat(2000) }).catch((e) => e)
    expect(err).toBeInstanceOf(TidingsError)
    expect(err.code).toBe('PAYLOAD_TOO_LARGE')
    // Nothing of it was written; another publish in the same tick is unaffected.
    const [a, b] = await Promise.allSettled([
      bus.publish('file.uploaded', { body: 'z'.repeat(200_000) }),
      bus.publish('file.uploaded', { small: 1 }),
    ])
    expect(a.status === 'rejected' && (a.reason as TidingsError).code).toBe('PAYLOAD_TOO_LARGE')
    expect(b.status === 'fulfilled' && b.value.seq).toBe(2)
    expect((await bus.read()).events).toHaveLength(2)
    expect(await rows(bus.name, 0, 'e/')).toBe(2)
  })

  it('refuses malformed RPC arguments with a stable code, writing nothing', async () => {
    const bus = freshBus(1)
    const stub = shardStub(bus.name, 0)
    for (const bad of ['nope', [], [null], [{ data: 1 }], [{ many: [1] }]]) {
      const r = await stub.append(bad)
      expect(r.ok).toBe(false)
      expect(!r.ok && r.error.code).toBe('INVALID_OPTIONS')
    }
    const r = await stub.call('constructor', [])
    expect(!r.ok && r.error.code).toBe('INVALID_OPTIONS')
    expect(await stub.settle({ delivery: 1 })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_OPTIONS' },
    })
    expect(await stub.settle([{ delivery: 'x' }])).toMatchObject({
      ok: false,
      error: { code: 'INVALID_OPTIONS' },
    })
    // A failure without its error is refused whole, before any outcome of the call is applied.
    expect(
      await stub.settle([
        { delivery: 'a', ok: true },
        { delivery: 'b', ok: false },
      ]),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_OPTIONS' } })
    expect(await stub.lost([1])).toMatchObject({ ok: false, error: { code: 'INVALID_OPTIONS' } })
    expect(await stub.fireCron(5, 'soon')).toMatchObject({
      ok: false,
      error: { code: 'INVALID_OPTIONS' },
    })
    expect(await rows(bus.name, 0, 'e/')).toBe(0)
    // @ts-expect-error not part of CloudflareBus: a caller without its types still gets a coded refusal
    await expect(bus.subscribe('x', '**', () => {})).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    })
  })
})
