// Batch handlers when a bus goes away mid-batch (issue 18): a graceful close, a runtime that
// died (each event of the batch charged a delivery), and a second bus taking over the lease.
import { describe, expect, it } from 'vitest'
import { createBus } from '../src/bus.js'
import type { BusEvent } from '../src/event.js'
import { memoryStore } from '../src/store/memory.js'
import { manualClock } from '../src/testing.js'

const noJitter = { attempts: 3, backoff: { jitter: false, initial: 1000, factor: 2, max: 60_000 } }
const LEASE = 30_000
const datas = (events: readonly BusEvent[]) => events.map((event) => event.data)
const forever = () => new Promise<never>(() => {})

describe('batch handlers across a close, a crash and a takeover', () => {
  it('close({ timeout: 0 }) mid-batch aborts it; its events are handled by the next bus, none lost', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const first = createBus({ store, clock })
    const seen: unknown[][] = []
    await first.subscribe(
      's',
      'job',
      (events, ctx) => {
        seen.push(datas(events))
        return new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        )
      },
      { batch: { size: 5 }, retry: noJitter },
    )
    await first.publishMany([
      { type: 'job', data: 1 },
      { type: 'job', data: 2 },
    ])
    await clock.advance(0)
    const closing = first.close({ timeout: 0 })
    await clock.advance(0)
    await closing
    const second = createBus({ store, clock })
    const later: { data: unknown[]; attempt: number }[] = []
    await second.subscribe(
      's',
      'job',
      (events, ctx) => {
        later.push({ data: datas(events), attempt: ctx.attempt })
      },
      { batch: { size: 5 }, retry: noJitter },
    )
    await clock.advance(1000)
    expect(seen).toEqual([[1, 2]])
    expect(later).toEqual([
      { data: [1], attempt: 2 },
      { data: [2], attempt: 2 },
    ])
    expect((await second.stats())[0]).toMatchObject({ lag: 0, retrying: 0, deadLetters: 0 })
  })

  it('a batch whose runtime died counts a delivery for each of its events, and a taker finishes them', async () => {
    const store = memoryStore()
    const calls: { data: unknown[]; attempt: number }[] = []
    let t = 0
    const runtime = async (die: boolean) => {
      const clock = manualClock(t)
      const bus = createBus({ store, clock, onError: () => {} })
      await bus.subscribe(
        's',
        'job',
        (events, ctx) => {
          calls.push({ data: datas(events), attempt: ctx.attempt })
          return die ? forever() : undefined
        },
        { batch: { size: 5 }, retry: { attempts: 3 } },
      )
      return { bus, clock }
    }
    const first = await runtime(true)
    await first.bus.publishMany([
      { type: 'job', data: 1 },
      { type: 'job', data: 2 },
      { type: 'job', data: 3 },
    ])
    // It runs long enough for a lease renewal to note the batch, then its runtime dies.
    await first.clock.advance(LEASE / 3 + 1)
    expect(calls).toEqual([{ data: [1, 2, 3], attempt: 1 }])
    t += 2 * LEASE
    const taker = await runtime(false)
    await taker.clock.advance(0)
    await taker.bus.idle()
    // Each event was charged the dead delivery, and runs alone (retried) on the taker.
    expect(calls.slice(1)).toEqual([
      { data: [1], attempt: 2 },
      { data: [2], attempt: 2 },
      { data: [3], attempt: 2 },
    ])
    expect((await taker.bus.stats())[0]).toMatchObject({ lag: 0, retrying: 0, deadLetters: 0 })
  })

  it('a second bus taking over a lapsed lease mid-batch: the old batch result counts for nothing', async () => {
    const store = memoryStore()
    const frozen = manualClock(0)
    const clock = manualClock(0)
    const a = createBus({ store, clock: frozen })
    const b = createBus({ store, clock })
    const seen: string[] = []
    let release!: () => void
    const hang = new Promise<void>((resolve) => {
      release = resolve
    })
    await a.subscribe(
      's',
      'job',
      async (events) => {
        seen.push(`a:${datas(events)}`)
        await hang
      },
      { batch: { size: 5 } },
    )
    await b.subscribe(
      's',
      'job',
      (events) => {
        seen.push(`b:${datas(events)}`)
      },
      { batch: { size: 5 } },
    )
    await b.publishMany([
      { type: 'job', data: 1 },
      { type: 'job', data: 2 },
    ])
    await frozen.advance(0)
    expect(seen).toEqual(['a:1,2'])
    await clock.advance(LEASE + 1000)
    await b.idle()
    expect(seen.slice(1).join(' ')).toMatch(/^b:/)
    expect(seen.slice(1).flatMap((entry) => entry.slice(2).split(','))).toEqual(['1', '2'])
    release()
    await frozen.advance(0)
    await b.publish('job', 3)
    await b.idle()
    expect(seen.at(-1)).toBe('b:3')
    expect((await b.stats())[0]).toMatchObject({ lag: 0 })
  })
})
