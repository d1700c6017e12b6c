import { describe, expect, it } from 'vitest'
import { createBus } from '../src/bus.js'
import { NonRetriableError, TidingsError } from '../src/errors.js'
import type { BusEvent } from '../src/event.js'
import { memoryStore } from '../src/store/memory.js'
import { manualClock } from '../src/testing.js'

const noJitter = { attempts: 3, backoff: { jitter: false, initial: 1000, factor: 2, max: 60_000 } }
const datas = (events: readonly BusEvent[]) => events.map((event) => event.data)
const forever = () => new Promise<never>(() => {})

describe('batch handlers', () => {
  it('call the handler with up to size events, in seq order, and ack them when it returns', async () => {
    const clock = manualClock(0)
    const store = memoryStore()
    const bus = createBus({ clock, store })
    await bus.publishMany(Array.from({ length: 7 }, (_, index) => ({ type: 'job', data: index })))
    const calls: unknown[][] = []
    await bus.subscribe(
      's',
      'job',
      (events, ctx) => {
        calls.push(datas(events))
        expect(ctx.attempt).toBe(1)
      },
      { from: 'earliest', batch: { size: 3 } },
    )
    await bus.idle()
    expect(calls).toEqual([[0, 1, 2], [3, 4, 5], [6]])
    await bus.close()
    // Acked: a bus over the same store handles none of them again.
    const again = createBus({ clock, store })
    const later: unknown[] = []
    await again.subscribe(
      's',
      'job',
      (events) => {
        later.push(...datas(events))
      },
      { batch: { size: 3 } },
    )
    await again.publish('job', 7)
    await again.idle()
    expect(later).toEqual([7])
  })

  it('wait at most `wait` ms (on the clock) for a batch to fill; a full batch starts at once', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    const calls: unknown[][] = []
    await bus.subscribe(
      's',
      'job',
      (events) => {
        calls.push(datas(events))
      },
      { batch: { size: 3, wait: 1000 } },
    )
    await bus.publish('job', 1)
    await clock.advance(500)
    await bus.publish('job', 2)
    await clock.advance(499)
    expect(calls).toEqual([])
    await clock.advance(1) // 1000 ms after the first event was ready
    expect(calls).toEqual([[1, 2]])
    await bus.publishMany([
      { type: 'job', data: 3 },
      { type: 'job', data: 4 },
      { type: 'job', data: 5 },
      { type: 'job', data: 6 },
    ])
    await clock.advance(0)
    expect(calls).toEqual([
      [1, 2],
      [3, 4, 5],
    ])
    await clock.advance(1000)
    expect(calls).toEqual([[1, 2], [3, 4, 5], [6]])
  })

  it('ctx.fail marks one event failed: the others ack, it is retried alone with the backoff, then dead-lettered', async () => {
    const clock = manualClock(0)
    const errors: unknown[] = []
    const bus = createBus({
      clock,
      onError: (error) => {
        errors.push(error)
      },
    })
    const calls: { data: unknown[]; attempt: number }[] = []
    await bus.subscribe(
      's',
      'job',
      (events, ctx) => {
        calls.push({ data: datas(events), attempt: ctx.attempt })
        for (const event of events)
          if (event.data === 'bad') ctx.fail(event, new Error(`bad #${event.seq}`))
      },
      { batch: { size: 10 }, retry: noJitter },
    )
    await bus.publishMany([
      { type: 'job', data: 'a' },
      { type: 'job', data: 'bad' },
      { type: 'job', data: 'c' },
    ])
    await bus.idle()
    expect(calls).toEqual([{ data: ['a', 'bad', 'c'], attempt: 1 }])
    await clock.advance(999)
    expect(calls).toHaveLength(1)
    await clock.advance(1) // backoff 1000 ms
    expect(calls[1]).toEqual({ data: ['bad'], attempt: 2 })
    await clock.advance(2000) // then 2000 ms
    expect(calls[2]).toEqual({ data: ['bad'], attempt: 3 })
    await clock.advance(60_000)
    expect(calls).toHaveLength(3)
    const dead = await bus.deadLetters.list()
    expect(dead).toEqual([
      expect.objectContaining({
        id: 's/2',
        attempts: 3,
        event: expect.objectContaining({ data: 'bad' }),
        error: { name: 'Error', message: 'bad #2' },
      }),
    ])
    expect(errors).toHaveLength(1)
    expect((await bus.stats())[0]).toMatchObject({
      lag: 0,
      inFlight: 0,
      retrying: 0,
      deadLetters: 1,
    })
  })

  it('throwing fails every event of the batch: each is retried alone', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    const calls: unknown[][] = []
    let threw = false
    await bus.subscribe(
      's',
      'job',
      async (events) => {
        calls.push(datas(events))
        if (!threw) {
          threw = true
          throw new Error('the report service is down')
        }
      },
      { batch: { size: 10 }, retry: noJitter },
    )
    await bus.publishMany([
      { type: 'job', data: 1 },
      { type: 'job', data: 2 },
    ])
    await bus.idle()
    expect(calls).toEqual([[1, 2]])
    expect((await bus.stats())[0]).toMatchObject({ retrying: 2 })
    await clock.advance(1000)
    expect(calls).toEqual([[1, 2], [1], [2]])
    expect((await bus.stats())[0]).toMatchObject({ lag: 0, retrying: 0, deadLetters: 0 })
  })

  it('a NonRetriableError passed to ctx.fail dead-letters that event at once', async () => {
    const bus = createBus({ clock: manualClock(0), onError: () => {} })
    await bus.subscribe(
      's',
      'job',
      (events, ctx) => {
        ctx.fail(events[0]!, new NonRetriableError('malformed'))
      },
      { batch: { size: 5 } },
    )
    await bus.publishMany([
      { type: 'job', data: 1 },
      { type: 'job', data: 2 },
    ])
    await bus.idle()
    expect((await bus.deadLetters.list()).map((letter) => [letter.id, letter.attempts])).toEqual([
      ['s/1', 1],
    ])
  })

  it('ctx.fail refuses an event that is not of the batch (which fails the batch as a throw does)', async () => {
    const bus = createBus({ clock: manualClock(0), onError: () => {} })
    let refused: unknown
    await bus.subscribe(
      's',
      'job',
      (_, ctx) => {
        try {
          ctx.fail({ seq: 99 } as BusEvent)
        } catch (error) {
          refused = error
        }
      },
      { batch: { size: 5 } },
    )
    await bus.publish('job', 1)
    await bus.idle()
    expect(refused).toBeInstanceOf(TidingsError)
    expect((refused as TidingsError).code).toBe('INVALID_OPTIONS')
  })

  it("keep ordering keys: a key's events in seq order; after a failure its later events wait, other keys ack", async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    const calls: string[][] = []
    let failA1 = true
    await bus.subscribe(
      's',
      'o',
      (events, ctx) => {
        calls.push(events.map((event) => `${event.key}${event.data}`))
        for (const event of events)
          if (event.key === 'a' && event.data === 1 && failA1) ctx.fail(event)
      },
      { batch: { size: 10 }, retry: noJitter },
    )
    await bus.publishMany([
      { type: 'o', data: 1, key: 'a' },
      { type: 'o', data: 1, key: 'b' },
      { type: 'o', data: 2, key: 'a' },
      { type: 'o', data: 2, key: 'b' },
      { type: 'o', data: 3, key: 'a' },
      { type: 'o', data: 'x' },
    ])
    await bus.idle()
    expect(calls).toEqual([['a1', 'b1', 'a2', 'b2', 'a3', 'undefinedx']])
    // b's events and the unkeyed one are acked; a2 and a3 wait behind a1's retry.
    await bus.publishMany([
      { type: 'o', data: 3, key: 'b' },
      { type: 'o', data: 4, key: 'a' },
    ])
    await bus.idle()
    expect(calls[1]).toEqual(['b3'])
    expect((await bus.stats())[0]).toMatchObject({ retrying: 1, lag: 4 })
    failA1 = false
    await clock.advance(1000)
    expect(calls.slice(2)).toEqual([['a1'], ['a2', 'a3', 'a4']])
    expect((await bus.stats())[0]).toMatchObject({ lag: 0, retrying: 0, deadLetters: 0 })
  })

  it('a throw fails each key at its first event; the later ones of that key run after it, uncharged', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    const calls: { events: string[]; attempt: number }[] = []
    let threw = false
    await bus.subscribe(
      's',
      'o',
      (events, ctx) => {
        calls.push({
          events: events.map((event) => `${event.key}${event.data}`),
          attempt: ctx.attempt,
        })
        if (!threw) {
          threw = true
          throw new Error('down')
        }
      },
      { batch: { size: 10 }, retry: noJitter },
    )
    await bus.publishMany([
      { type: 'o', data: 1, key: 'a' },
      { type: 'o', data: 2, key: 'a' },
      { type: 'o', data: 1, key: 'b' },
    ])
    await bus.idle()
    await clock.advance(1000)
    expect(calls).toEqual([
      { events: ['a1', 'a2', 'b1'], attempt: 1 },
      { events: ['a1'], attempt: 2 },
      { events: ['b1'], attempt: 2 },
      { events: ['a2'], attempt: 1 },
    ])
  })

  it('a poison event inside a batch is dead-lettered while the others ack', async () => {
    const clock = manualClock(0)
    const dead: unknown[] = []
    const bus = createBus({
      clock,
      onError: (_, context) => {
        dead.push(context.event?.data)
      },
    })
    const handled: unknown[] = []
    // The report throws whenever the batch holds the poison event.
    await bus.subscribe(
      's',
      'row',
      (events) => {
        if (events.some((event) => event.data === 'poison')) throw new Error('cannot render')
        handled.push(...datas(events))
      },
      { batch: { size: 10, wait: 100 }, retry: noJitter },
    )
    await bus.publishMany(['r1', 'poison', 'r2', 'r3'].map((data) => ({ type: 'row', data })))
    await clock.advance(100)
    await clock.advance(1000)
    await clock.advance(2000)
    await clock.advance(60_000)
    expect(handled.sort()).toEqual(['r1', 'r2', 'r3'])
    expect(dead).toEqual(['poison'])
    expect((await bus.deadLetters.list()).map((letter) => [letter.id, letter.attempts])).toEqual([
      ['s/2', 3],
    ])
  })

  it('a batch that outlives the timeout fails each of its events, and its signal aborts', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    let aborted: unknown
    let calls = 0
    await bus.subscribe(
      's',
      'job',
      (_, ctx) => {
        if (++calls > 1) return
        ctx.signal.addEventListener('abort', () => {
          aborted = ctx.signal.reason
        })
        return forever()
      },
      { batch: { size: 5 }, timeout: 500, retry: noJitter },
    )
    await bus.publishMany([
      { type: 'job', data: 1 },
      { type: 'job', data: 2 },
    ])
    await clock.advance(500)
    expect((aborted as TidingsError).code).toBe('TIMEOUT')
    expect((await bus.stats())[0]).toMatchObject({ retrying: 2 })
    await clock.advance(1000)
    expect((await bus.stats())[0]).toMatchObject({ retrying: 0, lag: 0 })
  })

  it('concurrency bounds the batch calls in flight; keys never run in two batches at once', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    let running = 0
    let most = 0
    const calls: string[][] = []
    const gates: (() => void)[] = []
    await bus.subscribe(
      's',
      'o',
      async (events) => {
        calls.push(events.map((event) => `${event.key}${event.data}`))
        most = Math.max(most, ++running)
        await new Promise<void>((resolve) => gates.push(resolve))
        running--
      },
      { batch: { size: 2 }, concurrency: 2 },
    )
    await bus.publishMany([
      { type: 'o', data: 1, key: 'a' },
      { type: 'o', data: 1, key: 'b' },
      { type: 'o', data: 2, key: 'a' },
      { type: 'o', data: 1, key: 'c' },
      { type: 'o', data: 1, key: 'd' },
    ])
    await clock.advance(0)
    // [a1 b1] runs; a2 waits for a1, so the next batch is [c1 d1].
    expect(calls).toEqual([
      ['a1', 'b1'],
      ['c1', 'd1'],
    ])
    for (const open of gates.splice(0)) open()
    await clock.advance(0)
    expect(calls.at(-1)).toEqual(['a2'])
    for (const open of gates.splice(0)) open()
    await bus.idle()
    expect(most).toBe(2)
  })

  it('the ledger covers batches: an event appended again under a new seq is not handled again', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock, dedupe: { max: 2 } })
    const seen: string[] = []
    await bus.subscribe(
      's',
      'invoice',
      (events) => {
        seen.push(...events.map((event) => `${event.id}@${event.seq}`))
      },
      { batch: { size: 10 } },
    )
    await bus.publishMany([
      { type: 'invoice', data: 1, id: 'inv-1' },
      { type: 'invoice', data: 2, id: 'inv-2' },
    ])
    await bus.idle()
    for (let i = 0; i < 3; i++) await bus.publish('noise', i)
    expect((await bus.publish('invoice', 1, { id: 'inv-1' })).duplicate).toBe(false) // the publish dedup forgot it
    await bus.publish('invoice', 3, { id: 'inv-3' })
    await bus.idle()
    expect(seen).toEqual(['inv-1@1', 'inv-2@2', 'inv-3@7'])
  })

  it('a dead-lettered event of a batch is redriven alone with fresh attempts; replay hands the range over again in batches', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock, onError: () => {} })
    const calls: { data: unknown[]; attempt: number }[] = []
    let healthy = false
    await bus.subscribe(
      's',
      'job',
      (events, ctx) => {
        calls.push({ data: datas(events), attempt: ctx.attempt })
        for (const event of events)
          if (event.data === 'bad' && !healthy) ctx.fail(event, new NonRetriableError('bad'))
      },
      { batch: { size: 10 } },
    )
    await bus.publishMany(['a', 'bad', 'c'].map((data) => ({ type: 'job', data })))
    await bus.idle()
    healthy = true
    expect(await bus.deadLetters.redrive()).toBe(1)
    await bus.idle()
    expect(calls).toEqual([
      { data: ['a', 'bad', 'c'], attempt: 1 },
      { data: ['bad'], attempt: 1 },
    ])
    await bus.replay('s', { seq: 1 })
    await bus.idle()
    expect(calls.slice(2)).toEqual([{ data: ['a', 'bad', 'c'], attempt: 1 }])
  })
})
