// The segment log (one record per commit) against a model: a plain array of accepted events with
// seqs 1..n, dedup by id, delayed events appended when due, retention pinned by a subscription.
// Random sequences of publishes (crossing the 128-event segment size, awaited or not), delayed
// publishes and clock advances, reads page by page, waitFor and restarts run over the memory store
// and a SQLite file; two writers share one store; a store whose commit fails at random never
// leaves half a commit, and everything it accepted is readable after a restart.
import Database from 'better-sqlite3'
import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../adapters/sqlite/index.js'
import { createBus } from '../../src/bus.js'
import { encodeCursor, type BusEvent } from '../../src/event.js'
import { keys, PREFIX } from '../../src/store/keys.js'
import { memoryStore } from '../../src/store/memory.js'
import type { Store } from '../../src/store/store.js'
import { manualClock } from '../../src/testing.js'
import { runs } from './_oracle.js'

const temp = mkdtempSync(join(tmpdir(), 'tidings-segments-property-'))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

/** A store kind, reopened over the same data by `open` after `close` (a restart). */
interface Storage {
  open(): Store
  close(store: Store): Promise<void>
}

const kinds: [string, () => Storage][] = [
  [
    'memory',
    () => {
      const store = memoryStore()
      return { open: () => store, close: async () => {} }
    },
  ],
  [
    'sqlite file',
    () => {
      const path = join(temp, `${Math.random()}.db`)
      const databases: Database.Database[] = []
      return {
        open: () => {
          const database = new Database(path)
          databases.push(database)
          return sqliteStore(database)
        },
        close: async (store) => {
          await store.close?.()
          databases.pop()?.close()
        },
      }
    },
  ],
]

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
      idFrom: fc.integer({ min: 0, max: 60 }),
      explicit: fc.integer({ min: 0, max: 3 }),
      awaited: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('delay' as const),
      id: fc.integer({ min: 0, max: 80 }),
      ms: fc.integer({ min: 1, max: 500 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 400 }),
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
const view = (event: BusEvent) => ({ seq: event.seq, id: event.id, type: event.type, data: event.data })
const modelView = (events: Modelled[], from: number, to = events.length) =>
  events.slice(from - 1, to).map((event, i) => ({ ...event, seq: from + i }))

/** Reads the whole log page by page (pages of `limit`). */
const readAll = async (bus: ReturnType<typeof createBus>, limit: number) => {
  const events: BusEvent[] = []
  for (let from: string | undefined; ; ) {
    const page = await bus.read({ ...(from && { from }), limit })
    events.push(...page.events)
    from = page.next
    if (page.events.length < limit) return events
  }
}

describe.each(kinds)('the segment log against a model, on %s', (name, kind) => {
  it('publishes, delays, reads, waitFor and restarts agree with the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
        const clock = manualClock(1_000_000)
        const storage = kind()
        let store = storage.open()
        let bus = createBus({ store, clock })
        const model: Modelled[] = []
        // Per id: its seq, or 0 while it is a delayed event not yet appended.
        const seqOf = new Map<string, number>()
        const delayed: { id: string; due: number; data: number }[] = []
        let unawaited: Promise<void>[] = []
        let data = 0
        const settle = async () => {
          await Promise.all(unawaited)
          unawaited = []
          await bus.idle()
        }
        for (const s of steps) {
          if (process.env.TRACE) console.log(JSON.stringify(s))
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
              const known = entry.id === undefined ? undefined : seqOf.get(entry.id)
              if (known !== undefined) return { duplicate: true, seq: known || undefined }
              model.push({ id: entry.id ?? '', type: entry.type, data: entry.data })
              if (entry.id !== undefined) seqOf.set(entry.id, model.length)
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
            if (seqOf.has(id)) expect(result).toMatchObject({ duplicate: true })
            else {
              expect(result).toEqual({ id, duplicate: false })
              seqOf.set(id, 0)
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
            for (const d of due) {
              delayed.splice(delayed.indexOf(d), 1)
              model.push({ id: d.id, type: 't0', data: d.data })
              seqOf.set(d.id, model.length)
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
            const newest = model.findLastIndex((e) => e.type === type)
            // With none yet, it would wait for the next one (its timeout fires only on advance).
            if (newest >= 0)
              expect((await bus.waitFor(type, { since: 86_400_000 })).seq).toBe(newest + 1)
          } else {
            await settle()
            await bus.close()
            await storage.close(store)
            store = storage.open()
            bus = createBus({ store, clock })
          }
        }
        await settle()
        expect((await storedEvents(store)).map(view)).toEqual(modelView(model, 1))
        expect((await readAll(bus, 97)).map(view)).toEqual(modelView(model, 1))
        // After a last restart: the same log, and the next seq follows it.
        await bus.close()
        await storage.close(store)
        store = storage.open()
        bus = createBus({ store, clock })
        expect((await readAll(bus, 1000)).map(view)).toEqual(modelView(model, 1))
        for (const [id, seq] of seqOf)
          if (seq) expect(await bus.publish('t0', -1, { id })).toMatchObject({ duplicate: true, seq })
        expect((await bus.publish('t0', -1)).seq).toBe(model.length + 1)
        await bus.close()
        await storage.close(store)
      }),
      { ...runs(name === 'memory' ? 25 : 10), timeout: 5000 },
    )
  }, 60_000)
})
