// The segment log (one record per commit) against a model: a plain array of accepted events with
// seqs 1..n, dedup by id, delayed events appended when due, retention pinned by a subscription.
// Random sequences of publishes (crossing the 128-event segment size, awaited or not), delayed
// publishes and clock advances, reads page by page, waitFor and restarts run over the memory store
// and a SQLite file; two writers share one store; a store whose commit fails at random never
// leaves half a commit, and everything it accepted is readable after a restart.
import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createBus } from '../../src/bus.js'
import { encodeCursor, type BusEvent } from '../../src/event.js'
import { keys, PREFIX } from '../../src/store/keys.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/store.js'
import { manualClock } from '../../src/testing.js'
import { reopenableStores, type Reopenable } from '../_reopenable-stores.js'
import { runs } from './_oracle.js'

const temp = mkdtempSync(join(tmpdir(), 'tidings-segments-property-'))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

type Storage = Reopenable
const kinds = reopenableStores(temp)

/** An accepted event as the model keeps it. */
interface Modelled {
  id: string
  type: string
  data: number
}

/** One step of a run. */
type Step =
  | { kind: 'publish'; count: number; idFrom: number; explicit: number; awaited: boolean }
  | { kind: 'delay'; id: number; ms: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'read'; from: number; limit: number }
  | { kind: 'waitFor'; type: number }
  | { kind: 'restart' }

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('publish' as const),
      // Mostly small batches, some past one segment (128) and past two.
      count: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 100, max: 300 })),
      // Explicit ids come from a small pool, so some repeat (within a batch and across batches).
      idFrom: fc.integer({ min: 0, max: 20 }),
      explicit: fc.integer({ min: 0, max: 3 }),
      awaited: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('delay' as const),
      id: fc.integer({ min: 0, max: 20 }),
      ms: fc.integer({ min: 1, max: 900 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 700 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      from: fc.integer({ min: 0, max: 1000 }),
      limit: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 100, max: 400 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('waitFor' as const),
      type: fc.integer({ min: 0, max: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
)

/** Every event stored, checking the layout: contiguous segments of at most 128, keyed by first seq. */
const storedEvents = async (store: Store): Promise<BusEvent[]> => {
  const events: BusEvent[] = []
  for (const { key, value } of await store.list({ prefix: PREFIX.events })) {
    const segment = value as { seq: number; events: BusEvent[] }
    expect(segment.events.length).toBeGreaterThan(0)
    expect(segment.events.length).toBeLessThanOrEqual(128)
    expect(segment.seq).toBe(keys.seqOf(key))
    segment.events.forEach((event, i) => expect(event.seq).toBe(segment.seq + i))
    if (events.length) expect(segment.seq).toBe(events[events.length - 1]!.seq + 1)
    events.push(...segment.events)
  }
  return events
}

/** The model's view of an event, to compare with what the bus returns. */
const view = (event: BusEvent) => ({
  seq: event.seq,
  id: event.id,
  type: event.type,
  data: event.data,
})
const modelView = (events: Modelled[], from: number, to = events.length) =>
  events.slice(from - 1, to).map((event, i) => ({ ...event, seq: from + i }))

/** Reads the whole log page by page (pages of `limit`). */
const readAll = async (bus: ReturnType<typeof createBus>, limit: number) => {
  const events: BusEvent[] = []
  for (let from: string | undefined; ;) {
    const page = await bus.read({ ...(from && { from }), limit })
    events.push(...page.events)
    from = page.next
    if (page.events.length < limit) return events
  }
}

describe.each(kinds)('the segment log against a model, on %s', (name, kind) => {
  it('publishes, delays, reads, waitFor and restarts agree with the model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 14 }),
        fc.constantFrom(1000, 86_400_000),
        async (steps, window) => {
          const clock = manualClock(1_000_000)
          const storage = kind()
          let store = storage.open()
          const open = () => createBus({ store, clock, dedupe: { window } })
          let bus = open()
          const model: Modelled[] = []
          // Per id: its seq (0 while it is a delayed event not yet appended) and when it was stored.
          const stored = new Map<string, { seq: number; at: number }>()
          // The seq of an id the window remembers.
          const seqOf = (id: string | undefined) => {
            const entry = id === undefined ? undefined : stored.get(id)
            return entry && clock.now() - entry.at <= window ? entry.seq : undefined
          }
          const delayed: { id: string; due: number; data: number }[] = []
          let unawaited: Promise<void>[] = []
          let data = 0
          const settle = async () => {
            await Promise.all(unawaited)
            unawaited = []
            await bus.idle()
          }
          for (const s of steps) {
            if (s.kind === 'publish') {
              const entries = Array.from({ length: s.count }, (_, i) => {
                const explicit = i % 4 < s.explicit
                return {
                  type: `t${data % 3}`,
                  data: data++,
                  ...(explicit && { id: `k${(s.idFrom + i) % 80}` }),
                }
              })
              // What each entry must resolve: computed now, since appends commit in call order.
              const expected = entries.map((entry) => {
                const known = seqOf(entry.id)
                if (known !== undefined) return { duplicate: true, seq: known || undefined }
                model.push({ id: entry.id ?? '', type: entry.type, data: entry.data })
                if (entry.id !== undefined)
                  stored.set(entry.id, { seq: model.length, at: clock.now() })
                return { duplicate: false, seq: model.length }
              })
              const check = bus.publishMany(entries).then((results) => {
                results.forEach((result, i) => {
                  expect(result.duplicate).toBe(expected[i]!.duplicate)
                  expect(result.seq).toBe(expected[i]!.seq)
                  if (!result.duplicate) model[result.seq! - 1]!.id ||= result.id
                })
              })
              if (s.awaited) await check
              else unawaited.push(check)
            } else if (s.kind === 'delay') {
              await settle()
              const id = `k${s.id}`
              const result = await bus.publish('t0', data, { id, delay: s.ms })
              if (seqOf(id) !== undefined) expect(result).toMatchObject({ duplicate: true })
              else {
                expect(result).toEqual({ id, duplicate: false })
                stored.set(id, { seq: 0, at: clock.now() })
                delayed.push({ id, due: clock.now() + s.ms, data })
              }
              data++
            } else if (s.kind === 'advance') {
              await settle()
              await clock.advance(s.ms)
              await bus.idle()
              // Due events append by due time, then id.
              const due = delayed
                .filter((d) => d.due <= clock.now())
                .sort((a, b) => a.due - b.due || (a.id < b.id ? -1 : 1))
              if (due.length) {
                // Each is stored when its timer fires: the window counts from its time.
                const appended = await bus.read({ from: encodeCursor([model.length + 1]) })
                expect(appended.events.map((e) => e.id)).toEqual(due.map((d) => d.id))
                for (const [i, d] of due.entries()) {
                  delayed.splice(delayed.indexOf(d), 1)
                  model.push({ id: d.id, type: 't0', data: d.data })
                  stored.set(d.id, { seq: model.length, at: appended.events[i]!.time })
                }
              }
            } else if (s.kind === 'read') {
              await settle()
              const from = Math.min(s.from, model.length + 2) || 1
              const page = await bus.read({ from: encodeCursor([from]), limit: s.limit })
              const to = Math.min(model.length, from + s.limit - 1)
              expect(page.events.map(view)).toEqual(modelView(model, from, to))
            } else if (s.kind === 'waitFor') {
              await settle()
              const type = `t${s.type}`
              const newest = model.map((e) => e.type).lastIndexOf(type)
              // With none yet, it would wait for the next one (its timeout fires only on advance).
              if (newest >= 0)
                expect((await bus.waitFor(type, { since: 86_400_000 })).seq).toBe(newest + 1)
            } else {
              await settle()
              await bus.close()
              await storage.close(store)
              store = storage.open()
              bus = open()
            }
          }
          await settle()
          expect((await storedEvents(store)).map(view)).toEqual(modelView(model, 1))
          expect((await readAll(bus, 97)).map(view)).toEqual(modelView(model, 1))
          // After a last restart: the same log, and the next seq follows it.
          await bus.close()
          await storage.close(store)
          store = storage.open()
          bus = open()
          expect((await readAll(bus, 1000)).map(view)).toEqual(modelView(model, 1))
          for (const id of stored.keys()) {
            const seq = seqOf(id)
            if (seq)
              expect(await bus.publish('t0', -1, { id })).toMatchObject({ duplicate: true, seq })
          }
          expect((await bus.publish('t0', -1)).seq).toBe(model.length + 1)
          await bus.close()
          await storage.close(store)
        },
      ),
      { ...runs(name === 'memory' ? 30 : 12), timeout: 5000 },
    )
  }, 60_000)
})

/** A batch of `count` events with explicit ids `<prefix><i>` (ids repeat when `prefix` does). */
const batchOf = (count: number, prefix: string, data: number) =>
  Array.from({ length: count }, (_, i) => ({ type: 't0', data: data + i, id: `${prefix}${i}` }))

const batchSize = fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 100, max: 300 }))

describe.each(kinds)('retention over segments, pinned by a subscription, on %s', (name, kind) => {
  it('keeps the last N and all the subscription has not handled; nothing it needs is lost', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.array(
          fc.oneof(
            { weight: 4, arbitrary: batchSize },
            { weight: 1, arbitrary: fc.constantFrom('drain' as const, 'restart' as const) },
          ),
          { minLength: 1, maxLength: 10 },
        ),
        fc.boolean(),
        async (events, steps, pinned) => {
          const clock = manualClock(0)
          const storage = kind()
          let store = storage.open()
          const open = () => createBus({ store, clock, retention: { events } })
          let bus = open()
          const seen: number[] = []
          const attach = () =>
            bus.subscribe('pin', 't0', (event) => void seen.push(event.seq), { from: 'earliest' })
          if (pinned) await (await attach()).close()
          // Without the subscription nothing pins: as if it had handled everything.
          let handled = pinned ? 0 : Infinity
          // Retention rides on commits (and start-up): where reads start moves only then.
          let expectedFirst = 1
          const cut = () => Math.min(handled + 1, Math.max(1, total - events + 1))
          let total = 0
          let step = 0
          for (const s of steps) {
            step++
            if (s === 'drain' && pinned) {
              const subscription = await attach()
              await bus.idle()
              await subscription.close()
              expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(
                Array.from({ length: total }, (_, i) => i + 1),
              )
              handled = total
            } else if (s === 'drain') {
              continue
            } else if (s === 'restart') {
              await bus.close()
              await storage.close(store)
              store = storage.open()
              bus = open()
              expectedFirst = cut()
            } else {
              // Ids of a batch repeat the previous batch's: the first ones are duplicates.
              const results = await bus.publishMany([
                ...batchOf(2, `s${step - 1}-`, -1),
                ...batchOf(s, `s${step}-`, 0),
              ])
              const fresh = results.filter((r) => !r.duplicate)
              expect(fresh.map((r) => r.seq)).toEqual(
                Array.from({ length: fresh.length }, (_, i) => total + i + 1),
              )
              total += fresh.length
              expectedFirst = cut()
            }
            // Reads start at the last N or the subscription's cursor, and go to the end.
            const read = await readAll(bus, 1000)
            const first = read[0]?.seq ?? total + 1
            expect(first).toBe(expectedFirst)
            expect(read.map((e) => e.seq)).toEqual(
              Array.from({ length: total - first + 1 }, (_, i) => first + i),
            )
            expect((await storedEvents(store)).at(-1)?.seq ?? 0).toBe(total)
          }
          await bus.close()
          await storage.close(store)
        },
      ),
      { ...runs(name === 'memory' ? 20 : 8), timeout: 5000 },
    )
  }, 60_000)
})

describe.each(kinds)('two writers on one store, on %s', (name, kind) => {
  it('every seq is given once, nothing is lost, and every accepted event reads back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ a: batchSize, b: batchSize, overlap: fc.boolean(), restart: fc.boolean() }),
          { minLength: 1, maxLength: 5 },
        ),
        async (rounds) => {
          const storage = kind()
          const stores = [storage.open(), storage.open()]
          const buses = stores.map((store) => createBus({ store }))
          const accepted = new Map<string, number>()
          let round = 0
          for (const { a, b, overlap, restart } of rounds) {
            round++
            // With overlap, both writers publish the same ids: each id is accepted once.
            const results = await Promise.all([
              buses[0]!.publishMany(batchOf(a, `r${round}a`, 0)),
              buses[1]!.publishMany(batchOf(b, `r${round}${overlap ? 'a' : 'b'}`, 0)),
            ])
            for (const result of results.flat())
              if (!result.duplicate) {
                expect(accepted.has(result.id)).toBe(false)
                accepted.set(result.id, result.seq!)
              }
            for (const result of results.flat())
              if (result.duplicate) expect(accepted.has(result.id)).toBe(true)
            if (restart) {
              await buses[1]!.close()
              await storage.close(stores[1]!)
              stores[1] = storage.open()
              buses[1] = createBus({ store: stores[1] })
            }
          }
          const seqs = [...accepted.values()].sort((x, y) => x - y)
          expect(seqs).toEqual(Array.from({ length: accepted.size }, (_, i) => i + 1))
          const stored = await storedEvents(stores[0]!)
          expect(new Map(stored.map((e) => [e.id, e.seq]))).toEqual(accepted)
          for (const bus of buses) {
            await bus.idle()
            expect((await readAll(bus, 333)).map(view)).toEqual(stored.map(view))
            expect((await bus.publish('t0', 0, { id: 'r1a0' })).duplicate).toBe(true)
          }
          for (const [i, bus] of buses.entries()) {
            await bus.close()
            await storage.close(stores[i]!)
          }
        },
      ),
      { ...runs(name === 'memory' ? 20 : 6), timeout: 10_000 },
    )
  }, 60_000)
})

/** What a commit of the faulty store does: lands, throws before writing, or writes then throws. */
type Fault = 'ok' | 'before' | 'after'

describe('a store whose commit fails at random', () => {
  it('a rejected append leaves all of its batch or none; accepted ones read back after a restart', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Fault>('ok', 'ok', 'before', 'after'), { maxLength: 40 }),
        fc.array(fc.record({ count: batchSize, retry: fc.boolean() }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.boolean(),
        async (faults, batches, retained) => {
          const inner = memoryStore()
          let calls = 0
          const store: Store = {
            ...inner,
            commit: async (commit) => {
              const fault = faults[calls++] ?? 'ok'
              if (fault === 'before') throw new Error('disk unplugged')
              const result = await inner.commit(commit)
              if (fault === 'after') throw new Error('connection lost after commit')
              return result
            },
          }
          const retention = retained ? { events: 50 } : undefined
          let bus = createBus({ store, ...(retention && { retention }) })
          // Per id: its seq once known to be stored.
          const stored = new Map<string, number>()
          let index = 0
          for (const { count, retry } of batches) {
            const entries = batchOf(count, `b${index++}-`, 0)
            for (let attempt = 0; attempt < (retry ? 2 : 1); attempt++) {
              const outcome = await bus.publishMany(entries).then(
                (results) => ({ results }),
                (error: unknown) => ({ error }),
              )
              const inStore = new Map((await storedEvents(inner)).map((e) => [e.id, e.seq]))
              if ('results' in outcome) {
                for (const result of outcome.results) {
                  // A retry of a batch that landed on a throw answers duplicates, with their seqs.
                  expect(result.seq).toBe(stored.get(result.id) ?? inStore.get(result.id))
                  expect(result.duplicate).toBe(stored.has(result.id))
                  stored.set(result.id, result.seq!)
                }
              } else {
                // All of the batch or none of it, and nothing accepted before is lost.
                const landed = entries.filter((e) => inStore.has(e.id) && !stored.has(e.id))
                const fresh = entries.filter((e) => !stored.has(e.id))
                expect([0, fresh.length]).toContain(landed.length)
                for (const entry of landed) stored.set(entry.id, inStore.get(entry.id)!)
              }
              if (!retained) for (const [id, seq] of stored) expect(inStore.get(id)).toBe(seq)
              if ('results' in outcome) break
            }
          }
          await bus.close()
          bus = createBus({ store: inner, ...(retention && { retention }) })
          const read = await readAll(bus, 1000)
          const head = Math.max(0, ...stored.values())
          const first = read[0]?.seq ?? head + 1
          expect(read.map((e) => e.seq)).toEqual(
            Array.from({ length: head - first + 1 }, (_, i) => first + i),
          )
          if (!retained) expect(first).toBe(1)
          for (const event of read) expect(stored.get(event.id)).toBe(event.seq)
          // Every id stored is still remembered.
          for (const [id, seq] of stored)
            expect(await bus.publish('t0', 0, { id })).toMatchObject({ duplicate: true, seq })
          await bus.close()
        },
      ),
      { ...runs(40), timeout: 5000 },
    )
  }, 60_000)
})

describe('a delayed id in the dedup window', () => {
  it('is remembered for the window after it is appended, not only after it was held', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 999 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.boolean(),
        async (delay, after, restart) => {
          const clock = manualClock(0)
          const store = memoryStore()
          let bus = createBus({ store, clock, dedupe: { window: 1000 } })
          await bus.publish('a', 1, { id: 'x', delay })
          await clock.advance(delay)
          expect((await bus.read()).events.map((e) => [e.id, e.seq])).toEqual([['x', 1]])
          await clock.advance(after)
          if (restart) {
            await bus.close()
            bus = createBus({ store, clock, dedupe: { window: 1000 } })
          }
          // Another commit first: it evicts what the window no longer holds (the held record).
          await bus.publish('a', 2, { id: 'y' })
          expect(await bus.publish('a', 3, { id: 'x' })).toMatchObject({ seq: 1, duplicate: true })
          expect((await bus.read()).events.map((e) => e.id)).toEqual(['x', 'y'])
          await bus.close()
        },
      ),
      runs(30),
    )
  })
})

describe('two writers with delayed events on one clock', () => {
  it('append each due event once, whichever bus holds it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            writer: fc.integer({ min: 0, max: 1 }),
            id: fc.integer({ min: 0, max: 12 }),
            delay: fc.integer({ min: 0, max: 300 }),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 4 }),
        async (publishes, advances) => {
          const clock = manualClock(0)
          const store = memoryStore()
          const buses = [createBus({ store, clock }), createBus({ store, clock })]
          const accepted = new Set<string>()
          const results = await Promise.all(
            publishes.map(({ writer, id, delay }) =>
              buses[writer]!.publish('a', id, { id: `d${id}`, delay }),
            ),
          )
          for (const result of results) if (!result.duplicate) accepted.add(result.id)
          for (const ms of advances) await clock.advance(ms)
          await clock.advance(300)
          for (const bus of buses) await bus.idle()
          const stored = await storedEvents(store)
          // Each id once: dedup across the writers, and no due event appended twice.
          expect(stored.map((e) => e.id).sort()).toEqual([...accepted].sort())
          for (const bus of buses) {
            expect((await readAll(bus, 7)).map(view)).toEqual(stored.map(view))
            await bus.close()
          }
        },
      ),
      { ...runs(25), timeout: 5000 },
    )
  })
})

describe('a small dedup size bound', () => {
  it('never gives a seq twice, and a duplicate answers the seq of an event with its id', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200 }),
        fc.array(
          fc.oneof(
            fc.record({ count: batchSize, from: fc.integer({ min: 0, max: 400 }) }),
            fc.constant('restart' as const),
          ),
          { minLength: 1, maxLength: 10 },
        ),
        async (max, steps) => {
          const store = memoryStore()
          let bus = createBus({ store, dedupe: { max } })
          let total = 0
          for (const s of steps) {
            if (s === 'restart') {
              await bus.close()
              bus = createBus({ store, dedupe: { max } })
              continue
            }
            const entries = Array.from({ length: s.count }, (_, i) => ({
              type: 'a',
              data: i,
              id: `k${(s.from + i) % 500}`,
            }))
            const results = await bus.publishMany(entries)
            const byseq = new Map((await storedEvents(store)).map((e) => [e.seq, e.id]))
            for (const result of results)
              if (result.duplicate) {
                if (result.seq !== undefined) expect(byseq.get(result.seq)).toBe(result.id)
              } else {
                expect(result.seq).toBe(++total)
                expect(byseq.get(result.seq!)).toBe(result.id)
              }
            // The ids this batch appended are remembered while it is the newest.
            const last = results.at(-1)!
            if (max >= s.count && !last.duplicate)
              expect(await bus.publish('a', 0, { id: last.id })).toMatchObject({
                duplicate: true,
                seq: last.seq,
              })
          }
          expect((await readAll(bus, 1000)).map((e) => e.seq)).toEqual(
            Array.from({ length: total }, (_, i) => i + 1),
          )
          await bus.close()
        },
      ),
      { ...runs(25), timeout: 5000 },
    )
  })
})

describe('retention by age over segments', () => {
  it('keeps every event younger than the age at the last commit or start-up', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(
          fc.oneof(
            fc.record({ count: batchSize, wait: fc.integer({ min: 0, max: 600 }) }),
            fc.constant('restart' as const),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        async (age, steps) => {
          const clock = manualClock(0)
          const store = memoryStore()
          const open = () => createBus({ store, clock, retention: { events: 10_000, age } })
          let bus = open()
          const times: number[] = []
          let cutAt = 0
          for (const s of steps) {
            if (s === 'restart') {
              await bus.close()
              bus = open()
              await bus.read({ limit: 1 })
            } else {
              await clock.advance(s.wait)
              const results = await bus.publishMany(
                Array.from({ length: s.count }, (_, i) => ({ type: 'a', data: i })),
              )
              for (const result of results) times[result.seq! - 1] = clock.now()
            }
            cutAt = clock.now()
            const read = await readAll(bus, 1000)
            const first = read[0]?.seq ?? times.length + 1
            expect(read.map((e) => e.seq)).toEqual(
              Array.from({ length: times.length - first + 1 }, (_, i) => first + i),
            )
            const young = times.findIndex((time) => time >= cutAt - age) + 1 || times.length + 1
            expect(first).toBeLessThanOrEqual(young)
          }
          await bus.close()
        },
      ),
      { ...runs(25), timeout: 5000 },
    )
  })
})

describe('two writers pruning one store', () => {
  it('keep the last N readable from either, and remember their ids', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.record({ writer: fc.integer({ min: 0, max: 1 }), count: batchSize }), {
          minLength: 1,
          maxLength: 10,
        }),
        fc.boolean(),
        async (events, steps, concurrent) => {
          const store = memoryStore()
          // The second writer has no watch: it learns of the first's commits only when refused.
          const asleep: Store = {
            get: (key) => store.get(key),
            list: (options) => store.list(options),
            commit: (commit) => store.commit(commit),
          }
          const buses = [
            createBus({ store, retention: { events } }),
            createBus({ store: asleep, retention: { events } }),
          ]
          const seqOf = new Map<string, number>()
          let index = 0
          const publish = async ({ writer, count }: { writer: number; count: number }) => {
            const results = await buses[writer]!.publishMany(batchOf(count, `w${index++}-`, 0))
            for (const result of results) {
              expect(result.duplicate).toBe(false)
              expect(seqOf.has(result.id)).toBe(false)
              seqOf.set(result.id, result.seq!)
            }
          }
          if (concurrent) await Promise.all(steps.map(publish))
          else for (const s of steps) await publish(s)
          const total = seqOf.size
          expect([...seqOf.values()].sort((x, y) => x - y)).toEqual(
            Array.from({ length: total }, (_, i) => i + 1),
          )
          const stored = await storedEvents(store)
          for (const event of stored) expect(seqOf.get(event.id)).toBe(event.seq)
          for (const bus of buses) {
            const read = await readAll(bus, 50)
            const first = read[0]?.seq ?? total + 1
            expect(first).toBeLessThanOrEqual(Math.max(1, total - events + 1))
            expect(read.map((e) => e.seq)).toEqual(
              Array.from({ length: total - first + 1 }, (_, i) => first + i),
            )
          }
          // Every id is remembered by both, pruned or not.
          for (const [id, seq] of seqOf)
            for (const bus of buses)
              expect(await bus.publish('t0', 0, { id })).toMatchObject({ duplicate: true, seq })
          for (const bus of buses) await bus.close()
        },
      ),
      { ...runs(20), timeout: 10_000 },
    )
  }, 60_000)
})
