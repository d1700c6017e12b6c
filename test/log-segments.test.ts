// The log as one record per commit (segments, issue 16): what they could break. Data written in
// the layout before segments stays readable on every store; retention cuts through a segment and
// reads start at the cut, across restarts; dedup spans segments, restarts and pruning; a commit
// writes one record.
import 'fake-indexeddb/auto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { reopenableStores, type Reopenable } from './_reopenable-stores.js'
import { indexedDBStore } from '../adapters/indexeddb/index.js'
import { createBus } from '../src/bus.js'
import type { BusEvent } from '../src/event.js'
import { HEAD, keys, PREFIX } from '../src/store/keys.js'
import { memoryStore } from '../src/store/memory.js'
import type { Commit, Store } from '../src/store/store.js'
import { manualClock } from '../src/testing.js'

const temp = mkdtempSync(join(tmpdir(), 'tidings-segments-'))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

/** Each store kind, reopened over the same data (a restart). */
const kinds: [string, () => Reopenable][] = [
  ...reopenableStores(temp),
  [
    'indexeddb',
    () => {
      const name = `segments-${Math.random()}`
      return { open: () => indexedDBStore({ name }), close: async (store) => store.close?.() }
    },
  ],
]

/** Five events, their dedup record and the head, as the layout before segments wrote them. */
const writeOldLayout = async (store: Store) => {
  const events: BusEvent[] = [1, 2, 3, 4, 5].map((seq) => ({
    id: `old-${seq}`,
    type: seq % 2 ? 'order.placed' : 'order.paid',
    source: 'before',
    time: 1000,
    data: { seq },
    seq,
  }))
  const commit: Commit = {
    mutations: [
      ...events.map((event) => ({
        type: 'set' as const,
        key: keys.event(event.seq),
        value: event,
      })),
      {
        type: 'set',
        key: keys.dedup(1),
        value: { n: 1, t: 1000, s: 1, ids: events.map((e) => e.id) },
      },
      { type: 'set', key: HEAD, value: { seq: 5, n: 1 } },
    ],
  }
  expect((await store.commit(commit)).ok).toBe(true)
}

describe.each(kinds)('data from before segments, on %s', (_, kind) => {
  it('reads every old event, dedupes old ids, and appends after them across restarts', async () => {
    const clock = manualClock(2000)
    const storage = kind()
    let store = storage.open()
    await writeOldLayout(store)
    let bus = createBus({ store, clock })
    expect((await bus.read()).events.map((e) => e.id)).toEqual(
      [1, 2, 3, 4, 5].map((s) => `old-${s}`),
    )
    expect(await bus.publish('order.placed', {}, { id: 'old-3' })).toMatchObject({
      seq: 3,
      duplicate: true,
    })
    expect(
      (
        await bus.publishMany([
          { type: 'a', data: 6 },
          { type: 'a', data: 7 },
        ])
      ).map((r) => r.seq),
    ).toEqual([6, 7])
    expect(
      (await bus.read({ from: (await bus.read({ limit: 2 })).next, limit: 3 })).events.map(
        (e) => e.seq,
      ),
    ).toEqual([3, 4, 5])
    expect(await bus.waitFor('order.paid', { since: 10_000, timeout: 0 })).toMatchObject({ seq: 4 })
    await bus.close()
    await storage.close(store)

    store = storage.open()
    bus = createBus({ store, clock })
    const seen: number[] = []
    await bus.subscribe(
      'all',
      '**',
      (e) => {
        seen.push(e.seq)
      },
      { from: 'earliest' },
    )
    expect((await bus.publish('a', 8)).seq).toBe(8)
    expect(await bus.publish('order.placed', {}, { id: 'old-1' })).toMatchObject({
      seq: 1,
      duplicate: true,
    })
    await bus.idle()
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect((await bus.read({ limit: 100 })).events.map((e) => e.seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ])
    await bus.close()
    await storage.close(store)
  })
})

/** A store that records each commit. */
const recording = (inner: Store) => {
  const commits: Commit[] = []
  const store: Store = { ...inner, commit: (c) => (commits.push(c), inner.commit(c)) }
  return { store, commits }
}

describe('one record per commit', () => {
  it('an awaited publish writes one record: its segment', async () => {
    const { store, commits } = recording(memoryStore())
    const bus = createBus({ store })
    await bus.publish('a', 1)
    await bus.publish('a', 2)
    expect(commits.map((c) => c.mutations.map((m) => m.type === 'set' && m.key))).toEqual([
      [keys.event(1)],
      [keys.event(2)],
    ])
    // Unawaited publishes of one tick share one segment.
    await Promise.all([3, 4, 5].map((n) => bus.publish('a', n)))
    expect(commits[2]!.mutations).toHaveLength(1)
    expect((await bus.read()).events.map((e) => e.data)).toEqual([1, 2, 3, 4, 5])
  })
})

describe('retention across segment boundaries', () => {
  it('a segment the cut goes through reads from the cut, before and after a restart', async () => {
    const store = memoryStore()
    let bus = createBus({ store, retention: { events: 6 } })
    for (let i = 0; i < 4; i++)
      await bus.publishMany([0, 1, 2, 3].map((j) => ({ type: 'a', data: i * 4 + j + 1 })))
    // 16 events in segments of 4: the last 6 are 11..16, half of segment 9..12 and all of 13..16.
    const kept = [11, 12, 13, 14, 15, 16]
    expect((await bus.read()).events.map((e) => e.data)).toEqual(kept)
    expect((await bus.read({ from: 'earliest', limit: 1 })).events.map((e) => e.seq)).toEqual([11])
    expect((await store.list({ prefix: PREFIX.events })).map((e) => keys.seqOf(e.key))).toEqual([
      9, 13,
    ])
    await bus.close()
    bus = createBus({ store, retention: { events: 6 } })
    expect((await bus.read()).events.map((e) => e.data)).toEqual(kept)
    expect(await bus.waitFor('a', { since: 60_000, timeout: 0 })).toMatchObject({ seq: 16 })
    const seen: number[] = []
    await bus.subscribe(
      'late',
      'a',
      (e) => {
        seen.push(e.seq)
      },
      { from: 'earliest' },
    )
    await bus.idle()
    expect(seen).toEqual(kept)
  })

  it('a commit past the retention count keeps its last N, though nothing older is stored', async () => {
    // Pruning in the commit that writes the segments must not delete them: the cut is inside them.
    for (const [events, count] of [
      [10, 11],
      [50, 300],
    ] as const) {
      const store = memoryStore()
      let bus = createBus({ store, retention: { events } })
      await bus.publishMany(Array.from({ length: count }, (_, i) => ({ type: 'a', data: i + 1 })))
      const kept = Array.from({ length: events }, (_, i) => count - events + i + 1)
      expect((await bus.read({ limit: 1000 })).events.map((e) => e.data)).toEqual(kept)
      await bus.close()
      bus = createBus({ store, retention: { events } })
      expect((await bus.read({ limit: 1000 })).events.map((e) => e.data)).toEqual(kept)
      expect(await bus.publish('a', 0, { id: 'next' })).toMatchObject({ seq: count + 1 })
    }
  })

  it('a subscription pins a segment it still needs, from its cursor', async () => {
    const bus = createBus({ retention: { events: 2 } })
    const seen: number[] = []
    const sub = await bus.subscribe('slow', 'a', (e) => {
      seen.push(e.seq)
    })
    await sub.close()
    for (let i = 0; i < 3; i++)
      await bus.publishMany([1, 2, 3].map((data) => ({ type: 'a', data })))
    await bus.subscribe('slow', 'a', (e) => {
      seen.push(e.seq)
    })
    await bus.idle()
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
  })
})

describe('dedup across segments', () => {
  it('remembers ids of earlier segments, across a restart and after retention deletes them', async () => {
    const clock = manualClock(0)
    const store = memoryStore()
    let bus = createBus({ store, clock, retention: { events: 2 } })
    await bus.publishMany(['a', 'b', 'c'].map((id) => ({ type: 't', data: id, id })))
    await bus.publishMany(['d', 'e'].map((id) => ({ type: 't', data: id, id })))
    await bus.publishMany(['f', 'g'].map((id) => ({ type: 't', data: id, id })))
    expect(await bus.publish('t', 'again', { id: 'b' })).toMatchObject({ seq: 2, duplicate: true })
    // Retention deleted the segments of a..e: their ids moved to dedup records.
    expect((await store.list({ prefix: PREFIX.events })).map((e) => keys.seqOf(e.key))).toEqual([6])
    await bus.close()
    bus = createBus({ store, clock, retention: { events: 2 } })
    for (const [id, seq] of [
      ['a', 1],
      ['d', 4],
      ['g', 7],
    ] as const)
      expect(await bus.publish('t', 'again', { id })).toMatchObject({ seq, duplicate: true })
    expect((await bus.publish('t', 'new', { id: 'h' })).seq).toBe(8)
    // Past the window the ids are forgotten, and their dedup records deleted.
    await clock.advance(86_400_001)
    expect((await bus.publish('t', 'later', { id: 'x' })).seq).toBe(9)
    expect(await store.list({ prefix: PREFIX.dedup })).toEqual([])
    expect((await bus.publish('t', 'a again', { id: 'a' })).duplicate).toBe(false)
  })

  it('two writers racing over one store never give out one seq, and dedup each other', async () => {
    const store = memoryStore()
    const a = createBus({ store })
    const b = createBus({ store })
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).publishMany([
          { type: 't', data: i, id: `x${i}` },
          { type: 't', data: i, id: `x${(i + 1) % 40}` },
        ]),
      ),
    )
    const fresh = results.flat().filter((r) => !r.duplicate)
    expect(fresh.map((r) => r.seq).sort((x, y) => x! - y!)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    )
    expect(new Set(fresh.map((r) => r.id)).size).toBe(40)
    expect((await a.read({ limit: 100 })).events.map((e) => e.seq)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    )
  })
})

describe('a writer catching up while another prunes', () => {
  it('learns the ids of segments deleted before it read them, from their dedup records', async () => {
    const store = memoryStore()
    const watching = createBus({ store, retention: { events: 1 } })
    // No watch: this writer learns of the other's commits only when its own commit is refused.
    const other = createBus({
      store: {
        get: (k) => store.get(k),
        list: (o) => store.list(o),
        commit: (c) => store.commit(c),
      },
      retention: { events: 1 },
    })
    const batch = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, i) => ({ type: 'a', data: i, id: `${prefix}${i}` }))
    await watching.publishMany(batch('a', 129))
    // Two commits in a row: the second deletes the first's segments while the watching bus reads.
    await other.publishMany(batch('b', 129))
    await other.publishMany(batch('c', 1))
    for (const [id, seq] of [
      ['b0', 130],
      ['b127', 257],
      ['a0', 1],
    ] as const)
      expect(await watching.publish('a', 'again', { id })).toMatchObject({ seq, duplicate: true })
    expect(await watching.publish('a', 'new', { id: 'd' })).toMatchObject({ seq: 260 })
  })
})

describe('segments of a big batch', () => {
  it('a batch past 128 events is several segments of one commit, read page by page', async () => {
    const { store, commits } = recording(memoryStore())
    const bus = createBus({ store })
    await bus.publishMany(Array.from({ length: 300 }, (_, i) => ({ type: 'a', data: i })))
    expect(commits).toHaveLength(1)
    expect((await store.list({ prefix: PREFIX.events })).map((e) => keys.seqOf(e.key))).toEqual([
      1, 129, 257,
    ])
    const seqs: number[] = []
    for (let from: string | undefined; seqs.length < 300;) {
      const page = await bus.read({ ...(from && { from }), limit: 70 })
      seqs.push(...page.events.map((e) => e.seq))
      from = page.next
    }
    expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    expect(await bus.publish('a', 'next')).toMatchObject({ seq: 301 })
  })
})

describe('reading page by page', () => {
  it('a page that ended at a segment end finds the next segment with one listing', async () => {
    const inner = memoryStore()
    let listings = 0
    const store: Store = { ...inner, list: (o) => (listings++, inner.list(o)) }
    const bus = createBus({ store })
    for (let i = 0; i < 4; i++)
      await bus.publishMany([1, 2, 3, 4, 5].map((j) => ({ type: 'a', data: i * 5 + j })))
    let page = await bus.read({ limit: 5 })
    const seqs = page.events.map((e) => e.seq)
    for (let i = 1; i < 4; i++) {
      const before = listings
      page = await bus.read({ from: page.next, limit: 5 })
      seqs.push(...page.events.map((e) => e.seq))
      expect(listings - before).toBe(1)
    }
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    // A page ending inside a segment, and one starting elsewhere, still read right.
    expect((await bus.read({ limit: 3 })).events.map((e) => e.seq)).toEqual([1, 2, 3])
    const mid = await bus.read({ from: (await bus.read({ limit: 3 })).next, limit: 4 })
    expect(mid.events.map((e) => e.seq)).toEqual([4, 5, 6, 7])
    expect((await bus.read({ from: mid.next, limit: 20 })).events.map((e) => e.seq)).toEqual(
      Array.from({ length: 13 }, (_, i) => i + 8),
    )
  })
})

describe('a writer that slept through pruning', () => {
  it('gives out the next seq, not one of a deleted segment', async () => {
    const store = memoryStore()
    // No watch: this bus learns of the other's commits only when its own commit is refused.
    const asleep = createBus({
      store: {
        get: (k) => store.get(k),
        list: (o) => store.list(o),
        commit: (c) => store.commit(c),
      },
      dedupe: { max: 1 },
    })
    await asleep.read()
    const awake = createBus({ store, retention: { events: 2 }, dedupe: { max: 1 } })
    for (let i = 1; i <= 5; i++) await awake.publish('a', i)
    expect((await store.list({ prefix: PREFIX.events })).map((e) => keys.seqOf(e.key))).toEqual([
      4, 5,
    ])
    expect(await asleep.publish('a', 'late')).toMatchObject({ seq: 6 })
    const stored = (await store.list({ prefix: PREFIX.events })).flatMap(
      (e) => (e.value as { events: BusEvent[] }).events,
    )
    expect(stored.map((e) => e.seq)).toEqual([4, 5, 6])
  })
})
