import { describe, expect, it, vi } from 'vitest'
import { createBus, type WaitOptions } from '../src/bus.js'
import { memoryStore } from '../src/store/memory.js'
import { manualClock } from '../src/testing.js'
import { NonRetriableError, TidingsError } from '../src/errors.js'
import type { EventOf } from '../src/event.js'
import type { Filter } from '../src/filter/filter.js'
import { rejection } from './helpers.js'

type Events = {
  'order.placed': { id: string; total: number }
  'order.paid': { id: string }
  'order.shipped': { id: string }
  'user.created': { email: string }
}

const DAY = 86_400_000
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
const W3C = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/

/** A promise the test settles itself: a handler blocked on it stays in flight until then. */
const deferred = <T = void>() => {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Watches a promise without awaiting it (and without leaving a rejection unhandled). */
const track = <T>(promise: Promise<T>) => {
  const t: {
    state: 'pending' | 'resolved' | 'rejected'
    value?: T
    error?: unknown
    promise: Promise<T>
  } = { state: 'pending', promise }
  promise.then(
    (v) => {
      t.state = 'resolved'
      t.value = v
    },
    (e: unknown) => {
      t.state = 'rejected'
      t.error = e
    },
  )
  return t
}

/**
 * waitFor's code may load lazily: this makes sure it has arrived, so that a wait set up next is
 * fully in place once the bus has settled (`clock.advance(0)`).
 */
const waitForLoaded = async (bus: {
  waitFor(pattern: never, options: { signal: AbortSignal }): Promise<unknown>
}) => {
  await bus.waitFor('**' as never, { signal: AbortSignal.abort() }).catch(() => {})
}

/** Rows keyed by subscription name, so assertions do not depend on listing order. */
const byName = <R extends { name: string }>(rows: R[]): Record<string, R> =>
  Object.fromEntries(rows.map((r) => [r.name, r]))

describe('waitFor', () => {
  // Resolutions are awaited directly (waitFor's code may load lazily); "still pending" is checked
  // after `clock.advance(0)`, which lets the bus settle without moving time.

  describe('the next match', () => {
    it('resolves with the first matching event published after the call, not an earlier one', async () => {
      const clock = manualClock(0)
      const bus = createBus<Events>({ clock })
      await bus.publish('order.placed', { id: 'before', total: 1 })
      const waiting = track(bus.waitFor('order.*'))
      await clock.advance(0)
      expect(waiting.state).toBe('pending')
      await bus.publish('user.created', { email: 'a@x.test' })
      await bus.publish('order.paid', { id: 'after' })
      await bus.publish('order.placed', { id: 'later', total: 2 })
      expect(await waiting.promise).toMatchObject({
        type: 'order.paid',
        seq: 3,
        data: { id: 'after' },
      })
    })

    it('sees an event published synchronously right after the call, before any await', async () => {
      const bus = createBus<Events>()
      const waiting = bus.waitFor('order.placed')
      const published = bus.publish('order.placed', { id: 'at-once', total: 1 })
      const e = await waiting
      expect(e.id).toBe((await published).id)
      expect(e.data).toEqual({ id: 'at-once', total: 1 })
    })

    it('rejects with INVALID_PATTERN for a malformed pattern', async () => {
      const bus = createBus()
      for (const pattern of ['order..placed', 'order.pl*', '']) {
        const e = await rejection(bus.waitFor(pattern))
        expect(e).toBeInstanceOf(TidingsError)
        expect(e.code).toBe('INVALID_PATTERN')
      }
    })
  })

  describe('filters', () => {
    const filters: [string, WaitOptions<EventOf<Events, 'order.placed'>>['filter']][] = [
      ['a declarative filter', { data: { total: [{ numeric: ['>', 5] }] } }],
      ['a function filter', (e) => e.data.total > 5],
    ]
    const cases = filters.flatMap(([what, filter]) => [
      [what, 'published at once', filter, false] as const,
      [what, 'published once the wait is in place', filter, true] as const,
    ])

    it.each(cases)('%s skips non-matching events (%s)', async (_, __, filter, later) => {
      const clock = manualClock(0)
      const bus = createBus<Events>({ clock })
      await bus.publish('order.placed', { id: 'old-but-big', total: 50 })
      if (later) await waitForLoaded(bus)
      const waiting = track(bus.waitFor('order.placed', { filter: filter! }))
      if (later) {
        await clock.advance(0)
        await bus.publish('order.placed', { id: 'small', total: 5 })
        await clock.advance(0)
        expect(waiting.state).toBe('pending')
      } else {
        void bus.publish('order.placed', { id: 'small', total: 5 })
      }
      void bus.publish('order.placed', { id: 'big', total: 6 })
      void bus.publish('order.placed', { id: 'bigger', total: 7 })
      expect((await waiting.promise).data.id).toBe('big')
    })

    it('rejects with INVALID_FILTER for a malformed declarative filter', async () => {
      const bus = createBus<Events>()
      const bad: Filter[] = [
        { data: { total: [] } },
        { data: { total: [{ numeric: ['>>', 5] }] } } as unknown as Filter,
        { total: 5 } as unknown as Filter,
      ]
      for (const filter of bad) {
        const e = await rejection(bus.waitFor('order.placed', { filter }))
        expect(e).toBeInstanceOf(TidingsError)
        expect(e.code).toBe('INVALID_FILTER')
      }
    })
  })

  describe('since (lookback)', () => {
    it('resolves with the most recent match published before the call within `since` ms', async () => {
      const clock = manualClock(1_000_000)
      const bus = createBus<Events>({ clock })
      await bus.publish('order.placed', { id: 'too-old', total: 1 }) // t = 1_000_000
      await clock.advance(10_000)
      await bus.publish('order.placed', { id: 'older', total: 2 }) // t = 1_010_000
      await clock.advance(1_000)
      await bus.publish('order.placed', { id: 'recent', total: 3 }) // t = 1_011_000
      await bus.publish('order.paid', { id: 'other-type' })
      await clock.advance(1_000) // now 1_012_000
      expect(await bus.waitFor('order.placed', { since: 5_000 })).toMatchObject({
        data: { id: 'recent' },
        time: 1_011_000,
      })
      // With a filter: the most recent event that passes it.
      expect(
        (
          await bus.waitFor('order.placed', {
            since: 5_000,
            filter: { data: { total: [{ numeric: ['<', 3] }] } },
          })
        ).data.id,
      ).toBe('older')
      expect(
        (await bus.waitFor('order.placed', { since: 5_000, filter: (e) => e.data.total < 3 })).data
          .id,
      ).toBe('older')
    })

    it('ignores a match older than `since` and waits for the next one', async () => {
      const clock = manualClock(1_000_000)
      const bus = createBus<Events>({ clock })
      await bus.publish('order.placed', { id: 'too-old', total: 1 })
      await clock.advance(10_000)
      await waitForLoaded(bus)
      const waiting = track(bus.waitFor('order.placed', { since: 5_000 }))
      await clock.advance(0)
      expect(waiting.state).toBe('pending')
      await bus.publish('order.placed', { id: 'new', total: 2 })
      expect((await waiting.promise).data.id).toBe('new')
    })
  })

  describe('timeout and abort', () => {
    it('rejects with TIMEOUT once the clock passes the timeout, not before', async () => {
      const clock = manualClock(0)
      const bus = createBus<Events>({ clock })
      const waiting = track(bus.waitFor('order.placed', { timeout: 1_000 }))
      await bus.publish('order.paid', { id: 'not-it' })
      await clock.advance(999)
      expect(waiting.state).toBe('pending')
      await clock.advance(2)
      expect(waiting.state).toBe('rejected')
      expect(waiting.error).toBeInstanceOf(TidingsError)
      expect((waiting.error as TidingsError).code).toBe('TIMEOUT')
    })

    it("the timeout counts from the call, also while waitFor's lazily loaded code is on the way", async () => {
      // waitFor's code arrives a few macrotask turns late, as a chunk fetched over a network would.
      vi.doMock('../src/log/wait-for.js', async (importOriginal) => {
        for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0))
        return importOriginal()
      })
      try {
        const clock = manualClock(0)
        const bus = createBus<Events>({ clock })
        const waiting = track(bus.waitFor('order.placed', { timeout: 1_000 }))
        await clock.advance(1_000)
        expect(waiting.state).toBe('rejected')
        expect((waiting.error as TidingsError).code).toBe('TIMEOUT')
      } finally {
        vi.doUnmock('../src/log/wait-for.js')
      }
    })

    it('resolves when a match arrives within the timeout', async () => {
      const clock = manualClock(0)
      const bus = createBus<Events>({ clock })
      const waiting = track(bus.waitFor('order.placed', { timeout: 1_000 }))
      await clock.advance(500)
      await bus.publish('order.placed', { id: 'in-time', total: 1 })
      expect((await waiting.promise).data.id).toBe('in-time')
      await clock.advance(5_000)
      expect(waiting.state).toBe('resolved')
    })

    it('rejects with the reason of an already-aborted signal', async () => {
      const bus = createBus<Events>()
      const ac = new AbortController()
      const reason = new Error('user left the page')
      ac.abort(reason)
      const waiting = bus.waitFor('order.placed', { signal: ac.signal })
      void bus.publish('order.placed', { id: 'too-late', total: 1 })
      await expect(waiting).rejects.toBe(reason)
    })

    it('rejects with the reason of a signal aborted later, and ignores later events', async () => {
      const clock = manualClock(0)
      const bus = createBus<Events>({ clock })
      const ac = new AbortController()
      const waiting = track(bus.waitFor('order.placed', { signal: ac.signal, timeout: 10_000 }))
      await clock.advance(100)
      expect(waiting.state).toBe('pending')
      const reason = new Error('cancelled')
      ac.abort(reason)
      await bus.publish('order.placed', { id: 'after-abort', total: 1 })
      await expect(waiting.promise).rejects.toBe(reason)
      await clock.advance(20_000)
      expect(waiting.error).toBe(reason)
    })

    it("an abort without a reason rejects with the signal's AbortError", async () => {
      const bus = createBus<Events>()
      const ac = new AbortController()
      const waiting = bus.waitFor('order.placed', { signal: ac.signal })
      ac.abort()
      await expect(waiting).rejects.toBe(ac.signal.reason)
      expect((ac.signal.reason as Error).name).toBe('AbortError')
    })
  })
})

describe('handler ctx.publish (event chaining)', () => {
  it('sets causationId to the handled event and starts the correlation at the root event', async () => {
    const bus = createBus<Events>()
    await bus.subscribe('pay', 'order.placed', (e, ctx) =>
      ctx.publish('order.paid', { id: e.data.id }),
    )
    await bus.subscribe('ship', 'order.paid', (e, ctx) =>
      ctx.publish('order.shipped', { id: e.data.id }),
    )
    const root = await bus.publish('order.placed', { id: 'o1', total: 1 })
    await bus.idle()
    const { events } = await bus.read()
    expect(events.map((e) => e.type)).toEqual(['order.placed', 'order.paid', 'order.shipped'])
    const [placed, paid, shipped] = events
    expect(placed!.causationId).toBeUndefined()
    expect(placed!.correlationId).toBeUndefined()
    expect(paid).toMatchObject({ causationId: root.id, correlationId: root.id, data: { id: 'o1' } })
    expect(shipped).toMatchObject({
      causationId: paid!.id,
      correlationId: root.id,
      data: { id: 'o1' },
    })
  })

  it("carries the handled event's correlationId", async () => {
    const bus = createBus<Events>()
    await bus.subscribe('pay', 'order.placed', (e, ctx) =>
      ctx.publish('order.paid', { id: e.data.id }),
    )
    await bus.subscribe('ship', 'order.paid', (e, ctx) =>
      ctx.publish('order.shipped', { id: e.data.id }),
    )
    const root = await bus.publish(
      'order.placed',
      { id: 'o1', total: 1 },
      { correlationId: 'checkout-42' },
    )
    await bus.idle()
    const [, paid, shipped] = (await bus.read()).events
    expect(paid).toMatchObject({
      type: 'order.paid',
      causationId: root.id,
      correlationId: 'checkout-42',
    })
    expect(shipped).toMatchObject({
      type: 'order.shipped',
      causationId: paid!.id,
      correlationId: 'checkout-42',
    })
  })

  it('keeps the W3C trace id with a new span id', async () => {
    const bus = createBus<Events>()
    await bus.subscribe('pay', 'order.placed', (e, ctx) =>
      ctx.publish('order.paid', { id: e.data.id }),
    )
    await bus.subscribe('ship', 'order.paid', (e, ctx) =>
      ctx.publish('order.shipped', { id: e.data.id }),
    )
    await bus.publish('order.placed', { id: 'o1', total: 1 }, { traceparent: TRACEPARENT })
    await bus.idle()
    const [, paid, shipped] = (await bus.read()).events
    const traceId = TRACEPARENT.slice(3, 35)
    const spanOf = (tp: string) => tp.slice(36, 52)
    for (const child of [paid!, shipped!]) {
      expect(child.traceparent).toMatch(W3C)
      expect(child.traceparent!.slice(3, 35)).toBe(traceId)
    }
    expect(spanOf(paid!.traceparent!)).not.toBe(spanOf(TRACEPARENT))
    expect(spanOf(shipped!.traceparent!)).not.toBe(spanOf(paid!.traceparent!))
    expect(spanOf(shipped!.traceparent!)).not.toBe(spanOf(TRACEPARENT))
  })

  it('a handler that publishes, fails and is retried stores each chained event once', async () => {
    const clock = manualClock(0)
    const bus = createBus<Events>({ clock })
    const heard = vi.fn()
    bus.on('order.paid', heard)
    const attempts: number[] = []
    const results: unknown[] = []
    await bus.subscribe(
      'pay',
      'order.placed',
      async (e, ctx) => {
        attempts.push(ctx.attempt)
        results.push(await ctx.publish('order.paid', { id: e.data.id }))
        results.push(await ctx.publish('order.paid', { id: `${e.data.id}-receipt` }))
        if (ctx.attempt === 1) throw new Error('downstream flaked after publishing')
      },
      { retry: { backoff: { jitter: false, initial: 1_000 } } },
    )
    await bus.publish('order.placed', { id: 'o1', total: 1 })
    await bus.idle()
    expect(attempts).toEqual([1])
    const paidAfterFirst = (await bus.read({ pattern: 'order.paid' })).events
    expect(paidAfterFirst.map((e) => e.data.id)).toEqual(['o1', 'o1-receipt'])

    await clock.advance(999)
    expect(attempts).toEqual([1])
    await clock.advance(1)
    await bus.idle()
    expect(attempts).toEqual([1, 2])

    const paid = (await bus.read({ pattern: 'order.paid' })).events
    expect(paid.map((e) => e.data.id)).toEqual(['o1', 'o1-receipt'])
    expect(paid.map((e) => e.id)).toEqual(paidAfterFirst.map((e) => e.id))
    // The retry's publishes resolve the originals as duplicates.
    expect(results.slice(2)).toEqual(
      paidAfterFirst.map((e) => ({ id: e.id, seq: e.seq, duplicate: true })),
    )
    expect(heard).toHaveBeenCalledTimes(2)
    expect(byName(await bus.stats())['pay']).toMatchObject({ lag: 0, retrying: 0, deadLetters: 0 })
  })
})

describe('subscriptions()', () => {
  it('lists every subscription with name, pattern, attached and lag', async () => {
    const clock = manualClock(0)
    const bus = createBus<Events>({ clock })
    expect(await bus.subscriptions()).toEqual([])
    const gate = deferred()
    const audit = await bus.subscribe('audit', 'order.*', () => gate.promise)
    await bus.subscribe('mailer', 'user.created', () => {})
    expect(byName(await bus.subscriptions())).toEqual({
      audit: { name: 'audit', pattern: 'order.*', attached: true, lag: 0 },
      mailer: { name: 'mailer', pattern: 'user.created', attached: true, lag: 0 },
    })

    for (const id of ['o1', 'o2', 'o3']) await bus.publish('order.placed', { id, total: 1 })
    await clock.advance(0)
    let rows = byName(await bus.subscriptions())
    expect(rows['audit']).toEqual({ name: 'audit', pattern: 'order.*', attached: true, lag: 3 })
    expect(rows['mailer']).toEqual({
      name: 'mailer',
      pattern: 'user.created',
      attached: true,
      lag: 0,
    })

    gate.resolve()
    await bus.idle()
    expect(byName(await bus.subscriptions())['audit']).toMatchObject({ attached: true, lag: 0 })

    await audit.close()
    expect(byName(await bus.subscriptions())['audit']).toEqual({
      name: 'audit',
      pattern: 'order.*',
      attached: false,
      lag: 0,
    })
    await bus.publish('order.paid', { id: 'o1' })
    await bus.publish('order.paid', { id: 'o2' })
    await bus.idle()
    rows = byName(await bus.subscriptions())
    expect(rows['audit']).toEqual({ name: 'audit', pattern: 'order.*', attached: false, lag: 2 })
    expect(rows['mailer']).toMatchObject({ attached: true, lag: 0 })
  })

  it('lag counts only the events not yet handled, also when later ones finished first', async () => {
    const clock = manualClock(0)
    const bus = createBus<Events>({ clock })
    const gate = deferred()
    await bus.subscribe(
      'audit',
      'order.placed',
      (e) => (e.data.id === 'slow' ? gate.promise : undefined),
      { concurrency: 3 },
    )
    await bus.publish('order.placed', { id: 'slow', total: 1 })
    await bus.publish('order.placed', { id: 'fast-1', total: 1 })
    await bus.publish('order.placed', { id: 'fast-2', total: 1 })
    await clock.advance(0)
    expect(byName(await bus.stats())['audit']).toMatchObject({ lag: 1, inFlight: 1 })
    expect(byName(await bus.subscriptions())['audit']).toMatchObject({ attached: true, lag: 1 })
    gate.resolve()
    await bus.idle()
    expect(byName(await bus.subscriptions())['audit']).toMatchObject({ lag: 0 })
  })
})

describe('stats()', () => {
  it('reports lag, inFlight, retrying, deadLetters and oldestAge per subscription', async () => {
    const clock = manualClock(1_000_000)
    const bus = createBus<Events>({ clock, onError: () => {} })
    const gate = deferred()
    await bus.subscribe('slow', 'order.placed', () => gate.promise, {
      concurrency: 2,
      timeout: 60_000,
    })
    await bus.subscribe(
      'flaky',
      'order.paid',
      () => {
        throw new Error('down')
      },
      { retry: { attempts: 2, backoff: { jitter: false, initial: 10_000 } } },
    )
    await bus.subscribe('quiet', 'user.created', () => {})
    const zero = { lag: 0, inFlight: 0, retrying: 0, deadLetters: 0, oldestAge: 0 }
    expect(byName(await bus.stats())).toEqual({
      slow: { name: 'slow', ...zero },
      flaky: { name: 'flaky', ...zero },
      quiet: { name: 'quiet', ...zero },
    })

    for (const id of ['o1', 'o2', 'o3']) await bus.publish('order.placed', { id, total: 1 })
    await bus.publish('order.paid', { id: 'o1' })
    await clock.advance(0)
    let s = byName(await bus.stats())
    expect(s['slow']).toEqual({
      name: 'slow',
      lag: 3,
      inFlight: 2,
      retrying: 0,
      deadLetters: 0,
      oldestAge: 0,
    })
    expect(s['flaky']).toEqual({
      name: 'flaky',
      lag: 1,
      inFlight: 0,
      retrying: 1,
      deadLetters: 0,
      oldestAge: 0,
    })
    expect(s['quiet']).toEqual({ name: 'quiet', ...zero })

    await clock.advance(4_000)
    s = byName(await bus.stats())
    expect(s['slow']).toMatchObject({ lag: 3, inFlight: 2, oldestAge: 4_000 })
    expect(s['flaky']).toMatchObject({ lag: 1, retrying: 1, oldestAge: 4_000 })

    // The second and last attempt fails at 10 s: a dead letter, nothing left to handle.
    await clock.advance(6_000)
    s = byName(await bus.stats())
    expect(s['flaky']).toEqual({
      name: 'flaky',
      lag: 0,
      inFlight: 0,
      retrying: 0,
      deadLetters: 1,
      oldestAge: 0,
    })
    expect(s['slow']).toMatchObject({ lag: 3, inFlight: 2, oldestAge: 10_000 })

    gate.resolve()
    await bus.idle()
    s = byName(await bus.stats())
    expect(s['slow']).toEqual({ name: 'slow', ...zero })
    expect(s['flaky']).toMatchObject({ deadLetters: 1 })
  })

  it('reports a closed subscription from the store: lag and age of what waits for it', async () => {
    const clock = manualClock(0)
    const bus = createBus<Events>({ clock })
    const sub = await bus.subscribe('mailer', 'user.created', () => {})
    await sub.close()
    await bus.publish('user.created', { email: 'a@x.test' })
    await clock.advance(1_000)
    await bus.publish('user.created', { email: 'b@x.test' })
    await clock.advance(2_000)
    expect(await bus.stats()).toEqual([
      { name: 'mailer', lag: 2, inFlight: 0, retrying: 0, deadLetters: 0, oldestAge: 3_000 },
    ])
  })
})

describe('the lag of a subscription no bus here runs (issue 20.3)', () => {
  it('counts only the events its pattern and declarative filter match', async () => {
    const clock = manualClock(0)
    const store = memoryStore()
    const bus = createBus({ store, clock })
    const x = await bus.subscribe('x', 'a.b', () => {})
    const big = await bus.subscribe('big', 'a.*', () => {}, {
      filter: { data: [{ numeric: ['>', 10] }] },
    })
    await x.close()
    await big.close()
    await clock.advance(500)
    for (const n of [1, 20, 30]) await bus.publish('a.b', n)
    for (const n of [40, 50]) await bus.publish('c.d', n)
    await clock.advance(500)
    expect(byName(await bus.subscriptions())).toMatchObject({
      x: { attached: false, lag: 3 },
      big: { attached: false, lag: 2 },
    })
    expect(byName(await bus.stats())).toMatchObject({
      x: { lag: 3, oldestAge: 500 },
      big: { lag: 2, oldestAge: 500 },
    })
    // Re-attached, it handles exactly what its lag said.
    const handled: unknown[] = []
    await bus.subscribe('x', 'a.b', (e) => {
      handled.push(e.data)
    })
    await bus.idle()
    expect(handled).toEqual([1, 20, 30])
  })

  it('keeps the count as events are appended, reading the backlog once, not on every look', async () => {
    const clock = manualClock(0)
    const inner = memoryStore()
    let eventReads = 0
    const store = {
      ...inner,
      list: (o: Parameters<typeof inner.list>[0]) => {
        if (o.start?.startsWith('e/')) eventReads++
        return inner.list(o)
      },
    }
    const bus = createBus({ store, clock })
    await (await bus.subscribe('x', 'a.b', () => {})).close()
    for (let i = 0; i < 30; i++) await bus.publish(i % 3 ? 'c.d' : 'a.b', i)
    expect(byName(await bus.subscriptions())['x']).toMatchObject({ lag: 10 })
    const reads = eventReads
    for (let round = 1; round <= 5; round++) {
      for (let i = 0; i < 30; i++) await bus.publish(i % 3 ? 'c.d' : 'a.b', i)
      expect(byName(await bus.subscriptions())['x']).toMatchObject({ lag: 10 + 10 * round })
    }
    expect(eventReads - reads).toBe(0)
  })
})

describe('deleteSubscription', () => {
  it('returns true, then false; drops the subscription and only its dead letters', async () => {
    const bus = createBus<Events>({ onError: () => {} })
    await bus.subscribe('doomed', 'order.placed', () => {
      throw new NonRetriableError('bad order')
    })
    await bus.subscribe('other', 'order.placed', () => {
      throw new NonRetriableError('also bad')
    })
    await bus.publish('order.placed', { id: 'o1', total: 1 })
    await bus.idle()
    expect((await bus.deadLetters.list()).map((d) => d.subscription).sort()).toEqual([
      'doomed',
      'other',
    ])

    expect(await bus.deleteSubscription('doomed')).toBe(true)
    expect(await bus.deleteSubscription('doomed')).toBe(false)
    expect(await bus.deleteSubscription('never-existed')).toBe(false)

    expect((await bus.deadLetters.list()).map((d) => d.subscription)).toEqual(['other'])
    expect(await bus.deadLetters.list({ subscription: 'doomed' })).toEqual([])
    expect((await bus.subscriptions()).map((s) => s.name)).toEqual(['other'])
    expect((await bus.stats()).map((s) => s.name)).toEqual(['other'])
  })

  it('a deleted name subscribes again fresh, from latest: nothing it missed, nothing it owed', async () => {
    const bus = createBus<Events>()
    const sub = await bus.subscribe('worker', 'order.placed', () => {})
    await sub.close()
    await bus.publish('order.placed', { id: 'missed-1', total: 1 })
    await bus.publish('order.placed', { id: 'missed-2', total: 1 })
    expect((await bus.subscriptions())[0]).toMatchObject({ name: 'worker', lag: 2 })

    expect(await bus.deleteSubscription('worker')).toBe(true)
    await bus.publish('order.placed', { id: 'between', total: 1 })
    const seen: string[] = []
    await bus.subscribe('worker', 'order.placed', (e) => {
      seen.push(e.data.id)
    })
    expect(await bus.subscriptions()).toEqual([
      { name: 'worker', pattern: 'order.placed', attached: true, lag: 0 },
    ])
    await bus.publish('order.placed', { id: 'fresh', total: 1 })
    await bus.idle()
    expect(seen).toEqual(['fresh'])
  })

  it('deleting an attached subscription stops it and drops its pending retries; the old handle cannot close the new one', async () => {
    const clock = manualClock(0)
    const bus = createBus<Events>({ clock })
    const oldRuns: string[] = []
    const old = await bus.subscribe(
      'worker',
      'order.placed',
      (e) => {
        oldRuns.push(e.data.id)
        throw new Error('down')
      },
      { retry: { backoff: { jitter: false, initial: 1_000 } } },
    )
    await bus.publish('order.placed', { id: 'o1', total: 1 })
    await bus.idle()
    expect(oldRuns).toEqual(['o1'])
    expect(byName(await bus.stats())['worker']).toMatchObject({ retrying: 1 })

    expect(await bus.deleteSubscription('worker')).toBe(true)
    const seen: string[] = []
    await bus.subscribe('worker', 'order.placed', (e) => {
      seen.push(e.data.id)
    })
    await clock.advance(60_000)
    expect(oldRuns).toEqual(['o1'])
    expect(seen).toEqual([])
    expect(byName(await bus.stats())['worker']).toMatchObject({
      lag: 0,
      retrying: 0,
      deadLetters: 0,
    })

    await old.close()
    await bus.publish('order.placed', { id: 'o2', total: 1 })
    await bus.idle()
    expect(seen).toEqual(['o2'])
    expect(oldRuns).toEqual(['o1'])
  })
})

describe('subscription expiry', () => {
  it('deletes a subscription 7 days (the default) after its handler let go; an attached one stays', async () => {
    const clock = manualClock(0)
    // A long lease only keeps the number of renewal timers small over ten simulated days.
    const bus = createBus<Events>({ clock, subscriptions: { lease: DAY } })
    const kept: string[] = []
    await bus.subscribe('kept', 'order.placed', (e) => {
      kept.push(e.data.id)
    })
    const gone = await bus.subscribe('gone', 'order.placed', () => {})
    await clock.advance(2 * DAY)
    await gone.close() // detached at day 2: expiry counts from here, not from creation

    await clock.advance(7 * DAY - 60_000)
    expect(byName(await bus.subscriptions())).toEqual({
      kept: { name: 'kept', pattern: 'order.placed', attached: true, lag: 0 },
      gone: { name: 'gone', pattern: 'order.placed', attached: false, lag: 0 },
    })

    await clock.advance(120_000)
    expect(await bus.subscriptions()).toEqual([
      { name: 'kept', pattern: 'order.placed', attached: true, lag: 0 },
    ])
    expect((await bus.stats()).map((s) => s.name)).toEqual(['kept'])
    await bus.publish('order.placed', { id: 'still-working', total: 1 })
    await bus.idle()
    expect(kept).toEqual(['still-working'])
  })

  it('subscriptions.expireAfter shortens it; an expired name subscribes again fresh', async () => {
    const clock = manualClock(0)
    const bus = createBus<Events>({ clock, subscriptions: { expireAfter: 60_000 } })
    await bus.subscribe('kept', 'order.placed', () => {})
    const gone = await bus.subscribe('gone', 'order.placed', () => {})
    await gone.close()
    await bus.publish('order.placed', { id: 'while-away', total: 1 })

    await clock.advance(59_000)
    expect((await bus.subscriptions()).map((s) => s.name).sort()).toEqual(['gone', 'kept'])
    await clock.advance(2_000)
    expect(await bus.subscriptions()).toEqual([
      { name: 'kept', pattern: 'order.placed', attached: true, lag: 0 },
    ])

    const seen: string[] = []
    await bus.subscribe('gone', 'order.placed', (e) => {
      seen.push(e.data.id)
    })
    await bus.publish('order.placed', { id: 'after-expiry', total: 1 })
    await bus.idle()
    expect(seen).toEqual(['after-expiry'])
  })

  it('an expired subscription takes its dead letters with it', async () => {
    const clock = manualClock(0)
    const bus = createBus<Events>({
      clock,
      onError: () => {},
      subscriptions: { expireAfter: 60_000 },
    })
    const sub = await bus.subscribe('gone', 'order.placed', () => {
      throw new NonRetriableError('no')
    })
    await bus.publish('order.placed', { id: 'o1', total: 1 })
    await bus.idle()
    await sub.close()
    expect(await bus.deadLetters.list()).toHaveLength(1)
    await clock.advance(61_000)
    expect(await bus.subscriptions()).toEqual([])
    expect(await bus.deadLetters.list()).toEqual([])
  })

  it('an expired subscription stops pinning retention, without anyone listing subscriptions', async () => {
    const clock = manualClock(0)
    const bus = createBus({
      clock,
      retention: { events: 5 },
      subscriptions: { expireAfter: 60_000 },
    })
    const sub = await bus.subscribe('away', 't', () => {})
    await sub.close()
    for (let i = 1; i <= 10; i++) await bus.publish('t', i)
    expect((await bus.read()).events.map((e) => e.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    await clock.advance(61_000)
    await bus.publish('t', 11)
    await bus.publish('t', 12)
    await bus.idle()
    expect((await bus.read()).events.map((e) => e.data)).toEqual([8, 9, 10, 11, 12])
  })
})

describe('retention pinning', () => {
  it('a closed subscription gets every event published while it was away when it re-subscribes on a new bus', async () => {
    const clock = manualClock(0)
    const store = memoryStore()
    const first = createBus({ store, clock, retention: { events: 5 } })
    const before: unknown[] = []
    const sub = await first.subscribe('pinned', 't', (e) => {
      before.push(e.data)
    })
    await first.publish('t', 'a')
    await first.publish('t', 'b')
    await first.idle()
    expect(before).toEqual(['a', 'b'])
    await sub.close()
    for (let i = 1; i <= 20; i++) await first.publish('t', i)
    await first.close()

    const second = createBus({ store, clock, retention: { events: 5 } })
    const after: unknown[] = []
    await second.subscribe('pinned', 't', (e) => {
      after.push(e.data)
    })
    await second.idle()
    expect(after).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))

    // Once it has caught up, nothing pins the old events any more.
    await second.publish('t', 21)
    await second.idle()
    expect((await second.read()).events.map((e) => e.data)).toEqual([17, 18, 19, 20, 21])
  })
})

describe('subscribe refuses bad input', () => {
  const cases: [string, string, string, object, string][] = [
    ['a name with a slash', 'a/b', 't', {}, 'INVALID_OPTIONS'],
    ['an empty name', '', 't', {}, 'INVALID_OPTIONS'],
    ['a name over 128 characters', 'n'.repeat(129), 't', {}, 'INVALID_OPTIONS'],
    ['an empty pattern segment', 'ok', 'order..placed', {}, 'INVALID_PATTERN'],
    ['a wildcard mixed into a segment', 'ok', 'order.pl*', {}, 'INVALID_PATTERN'],
    ['concurrency 0', 'ok', 't', { concurrency: 0 }, 'INVALID_OPTIONS'],
    ['timeout -1', 'ok', 't', { timeout: -1 }, 'INVALID_OPTIONS'],
    ['retry.attempts 1.5', 'ok', 't', { retry: { attempts: 1.5 } }, 'INVALID_OPTIONS'],
    ['a malformed filter', 'ok', 't', { filter: { data: { total: [] } } }, 'INVALID_FILTER'],
  ]

  it.each(cases)('%s', async (_, name, pattern, options, code) => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    const handler = vi.fn()
    const e = await rejection(bus.subscribe(name, pattern, handler, options))
    expect(e).toBeInstanceOf(TidingsError)
    expect(e.code).toBe(code)
    expect(await bus.subscriptions()).toEqual([])
    expect(await bus.stats()).toEqual([])
    // The refused attempt holds nothing: the name is free and nothing was delivered.
    await bus.publish('t', 1)
    await bus.idle()
    expect(handler).not.toHaveBeenCalled()
    if (name === 'ok') {
      await expect(bus.subscribe('ok', 't', () => {})).resolves.toMatchObject({ name: 'ok' })
      expect(await bus.subscriptions()).toEqual([
        { name: 'ok', pattern: 't', attached: true, lag: 0 },
      ])
    }
  })

  it('refuses a name already attached on this bus with ALREADY_SUBSCRIBED; the first keeps running', async () => {
    const bus = createBus<Events>()
    const seen: string[] = []
    const first = await bus.subscribe('mailer', 'user.created', (e) => {
      seen.push(`first:${e.data.email}`)
    })
    for (const again of [
      bus.subscribe('mailer', 'user.created', () => {
        seen.push('second')
      }),
      bus.subscribe('mailer', 'order.placed', () => {
        seen.push('second')
      }), // a changed pattern too
    ]) {
      const e = await rejection(again)
      expect(e).toBeInstanceOf(TidingsError)
      expect(e.code).toBe('ALREADY_SUBSCRIBED')
    }
    expect(await bus.subscriptions()).toEqual([
      { name: 'mailer', pattern: 'user.created', attached: true, lag: 0 },
    ])
    await bus.publish('user.created', { email: 'a@x.test' })
    await bus.publish('order.placed', { id: 'o1', total: 1 })
    await bus.idle()
    expect(seen).toEqual(['first:a@x.test'])

    // Once closed, the name can be attached again.
    await first.close()
    await expect(bus.subscribe('mailer', 'user.created', () => {})).resolves.toMatchObject({
      name: 'mailer',
    })
  })

  it('of two concurrent subscribes with one name, exactly one is refused', async () => {
    const bus = createBus<Events>()
    const results = await Promise.allSettled([
      bus.subscribe('mailer', 'user.created', () => {}),
      bus.subscribe('mailer', 'user.created', () => {}),
    ])
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect(refused.reason).toMatchObject({ code: 'ALREADY_SUBSCRIBED' })
    expect(await bus.subscriptions()).toHaveLength(1)
  })
})
