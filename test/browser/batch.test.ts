// Batch handlers over the IndexedDB store in real Chromium (issue 18): batches, partial failure
// and ordering keys, and a bus closed or abandoned mid-batch and reopened on a fresh connection.
import { describe, expect, it } from 'vitest'
import { createBus } from '../../src/bus.js'
import type { BusEvent } from '../../src/event.js'
import { manualClock } from '../../src/testing.js'
import { crossTab, indexedDBStore } from '../../adapters/indexeddb/index.js'

const run = Math.random().toString(36).slice(2, 8)
let count = 0
const fresh = () => `batch-${run}-${++count}`
const datas = (events: readonly BusEvent[]) => events.map((event) => event.data)
const retry = { attempts: 3, backoff: { jitter: false, initial: 1000, factor: 2, max: 60_000 } }
const LEASE = 30_000

describe('batch handlers over indexedDBStore (Chromium)', () => {
  it('take up to size events per call and keep their acks across a new connection', async () => {
    const name = fresh()
    const clock = manualClock(0)
    const a = createBus({ store: indexedDBStore({ name }), clock })
    await a.publishMany(Array.from({ length: 5 }, (_, index) => ({ type: 'row', data: index })))
    const calls: unknown[][] = []
    await a.subscribe(
      'report',
      'row',
      (events) => {
        calls.push(datas(events))
      },
      { from: 'earliest', batch: { size: 3, wait: 100 } },
    )
    await clock.advance(100)
    await a.idle()
    expect(calls).toEqual([
      [0, 1, 2],
      [3, 4],
    ])
    await a.close()
    const b = createBus({ store: indexedDBStore({ name }), clock })
    const again: unknown[] = []
    await b.subscribe(
      'report',
      'row',
      (events) => {
        again.push(...datas(events))
      },
      { batch: { size: 3 } },
    )
    await b.publish('row', 5)
    await b.idle()
    expect(again).toEqual([5])
    await b.close()
  })

  it('ctx.fail retries one event alone and holds its key; the other keys ack', async () => {
    const clock = manualClock(0)
    const bus = createBus({ store: indexedDBStore({ name: fresh() }), clock, onError: () => {} })
    const calls: string[][] = []
    await bus.subscribe(
      's',
      'o',
      (events, ctx) => {
        calls.push(events.map((event) => `${event.key}${event.data}`))
        for (const event of events)
          if (event.data === 'poison') ctx.fail(event, new Error('poison'))
      },
      { batch: { size: 10 }, retry },
    )
    await bus.publishMany([
      { type: 'o', data: 'poison', key: 'a' },
      { type: 'o', data: 1, key: 'b' },
      { type: 'o', data: 2, key: 'a' },
      { type: 'o', data: 3, key: 'b' },
    ])
    await bus.idle()
    await clock.advance(1000)
    await clock.advance(2000)
    await bus.idle()
    expect(calls).toEqual([['apoison', 'b1', 'a2', 'b3'], ['apoison'], ['apoison'], ['a2']])
    expect(
      (await bus.deadLetters.list()).map((letter) => [
        letter.event.data,
        letter.attempts,
        letter.error.message,
      ]),
    ).toEqual([['poison', 3, 'poison']])
    expect((await bus.stats())[0]).toMatchObject({ lag: 0, retrying: 0 })
    await bus.close()
  })

  it('closed mid-batch and reopened: the batch runs again on the new connection, none lost, none twice after its ack', async () => {
    const name = fresh()
    const clock = manualClock(0)
    const a = createBus({ store: indexedDBStore({ name }), clock })
    const seen: string[] = []
    await a.subscribe(
      's',
      'job',
      (events, ctx) => {
        seen.push(`a:${datas(events)}`)
        return new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        )
      },
      { batch: { size: 5 }, retry },
    )
    await a.publishMany([
      { type: 'job', data: 1 },
      { type: 'job', data: 2 },
    ])
    await clock.advance(0)
    await a.close() // aborts the running batch: counts nothing
    const b = createBus({ store: indexedDBStore({ name }), clock })
    await b.subscribe(
      's',
      'job',
      (events, ctx) => {
        seen.push(`b:${datas(events)}#${ctx.attempt}`)
      },
      { batch: { size: 5 }, retry },
    )
    await b.idle()
    expect(seen).toEqual(['a:1,2', 'b:1,2#1'])
    await b.close()
  })

  it('abandoned mid-batch (the tab died): a taker charges each event of the batch a delivery', async () => {
    const name = fresh()
    const first = manualClock(0)
    const a = createBus({ store: indexedDBStore({ name }), clock: first, onError: () => {} })
    const seen: string[] = []
    await a.subscribe(
      's',
      'job',
      (events) => {
        seen.push(`a:${datas(events)}`)
        return new Promise(() => {})
      },
      { batch: { size: 5 }, retry },
    )
    await a.publishMany([
      { type: 'job', data: 1 },
      { type: 'job', data: 2 },
    ])
    // Long enough for a lease renewal to note the batch; then the tab is gone (its clock stops).
    await first.advance(LEASE / 3 + 1)
    const clock = manualClock(3 * LEASE)
    const b = createBus({ store: indexedDBStore({ name }), clock, onError: () => {} })
    await b.subscribe(
      's',
      'job',
      (events, ctx) => {
        seen.push(`b:${datas(events)}#${ctx.attempt}`)
      },
      { batch: { size: 5 }, retry },
    )
    await clock.advance(0)
    await b.idle()
    expect(seen).toEqual(['a:1,2', 'b:1#2', 'b:2#2'])
    expect((await b.stats())[0]).toMatchObject({ lag: 0, retrying: 0, deadLetters: 0 })
    await b.close()
  })

  it('run through crossTab, and a bad batch is refused even by a bus that would wait in line', async () => {
    const name = fresh()
    const clock = manualClock(0)
    const storeA = indexedDBStore({ name })
    const a = createBus({ store: storeA, clock })
    const calls: unknown[][] = []
    await crossTab(a, storeA).subscribe(
      's',
      'job',
      (events) => {
        calls.push(datas(events))
      },
      { batch: { size: 2 } },
    )
    await a.publishMany([1, 2, 3].map((data) => ({ type: 'job', data })))
    await clock.advance(0)
    await a.idle()
    expect(calls).toEqual([[1, 2], [3]])
    const storeB = indexedDBStore({ name })
    const b = createBus({ store: storeB, clock })
    // 's' is held by a: without the check up front this would wait in line, then fail.
    await expect(
      crossTab(b, storeB).subscribe('s', 'job', () => {}, { batch: { size: 0 } }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
    await a.close()
    await b.close()
  })
})
