// Defects a review of the first version found, each pinned by the test that showed it.
import { describe, expect, it } from 'vitest'
import { busApp } from '../adapters/hono/index.js'
import { createBus } from '../src/bus.js'
import { NonRetriableError, TidingsError } from '../src/errors.js'
import { memoryStore } from '../src/store/memory.js'
import type { Store } from '../src/store/store.js'
import { manualClock } from '../src/testing.js'
import { countingStore } from './helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('durable delivery', () => {
  it('an event appended while a subscription reads the log is still delivered (a store with latency)', async () => {
    const inner = memoryStore()
    // Reads answer 20 ms late with what was there when they were asked, as a real backend can.
    const store: Store = {
      ...inner,
      list: async (o) => {
        const r = await inner.list(o)
        await sleep(20)
        return r
      },
    }
    const bus = createBus({ store })
    const seen: unknown[] = []
    const first = await bus.subscribe('s', 't', (e) => {
      seen.push(e.data)
    })
    await bus.publish('t', 0)
    await bus.idle()
    await first.close()
    await bus.subscribe('s', 't', (e) => {
      seen.push(e.data)
    })
    await bus.publish('t', 1) // lands while the new runner's first read is under way
    for (let i = 0; i < 50 && seen.length < 2; i++) await sleep(10)
    await bus.idle()
    expect(seen).toEqual([0, 1])
    expect((await bus.stats())[0]).toMatchObject({ lag: 0 })
    await bus.close()
  })

  it('redrive while the subscription is busy committing acks still lands, and says so', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock, onError: () => {} })
    const seen: unknown[] = []
    let failing = true
    await bus.subscribe('s', 't', (e) => {
      seen.push(e.data)
      if (e.data === 'bad' && failing) throw new NonRetriableError('no')
    })
    await bus.publish('t', 'bad')
    await bus.idle()
    failing = false
    const pubs = Array.from({ length: 20 }, (_, i) => bus.publish('t', i))
    expect(await bus.deadLetters.redrive()).toBe(1)
    await Promise.all(pubs)
    await clock.advance(1000)
    expect(seen.filter((x) => x === 'bad')).toHaveLength(2)
    expect(await bus.deadLetters.list()).toEqual([])
  })

  it('a renewal timer after another bus deleted the subscription does not throw', async () => {
    const clock = manualClock(0)
    const store = memoryStore()
    const errors: unknown[] = []
    const a = createBus({
      store,
      clock,
      onError: (e) => {
        errors.push(e)
      },
      subscriptions: { lease: 3000 },
    })
    const b = createBus({ store, clock })
    await a.subscribe('s', 't', () => {})
    expect(await b.deleteSubscription('s')).toBe(true)
    await a.publish('t', 1)
    await a.idle()
    await clock.advance(5000)
    expect(errors.filter((e) => e instanceof TypeError)).toEqual([])
  })

  it('a bus closed while it takes over a lease hands it back', async () => {
    const held: number[] = []
    for (let k = 0; k < 12; k++) {
      const clock = manualClock(0)
      const store = memoryStore()
      const a = createBus({ store, clock }),
        b = createBus({ store, clock })
      await b.subscribe('s', 't', () => {})
      await a.subscribe('s', 't', () => {})
      const closingB = b.close()
      for (let i = 0; i < k; i++) await new Promise<void>((r) => queueMicrotask(r))
      await Promise.all([closingB, a.close()])
      await sleep(5)
      if (((await store.get('s/s'))!.value as { lease?: unknown }).lease) held.push(k)
    }
    expect(held).toEqual([])
  })
})

describe('schedules and waits', () => {
  it('a tick whose commit fails does not stop the ticks after it', async () => {
    const clock = manualClock(0)
    const { store, stats } = countingStore(memoryStore())
    const bus = createBus({ store, clock, onError: () => {} })
    const seen: number[] = []
    bus.on('tick', (e) => {
      seen.push(e.time)
    })
    await bus.schedule('s', { every: 1000, type: 'tick', data: {} })
    await clock.advance(1000)
    stats.failNext = 1
    stats.error = new TidingsError('STORAGE_FULL', 'transient')
    await clock.advance(1000)
    await clock.advance(5000)
    expect(seen).toEqual([1000, 3000, 4000, 5000, 6000, 7000])
    expect(clock.timers).toBe(1)
  })

  it('a tick whose commit fails is fired a second later by its catch-up policy, with its own id', async () => {
    const clock = manualClock(0)
    const { store, stats } = countingStore(memoryStore())
    const bus = createBus({ store, clock, onError: () => {} })
    await bus.schedule('hourly', { every: 3_600_000, type: 'report', data: {} })
    stats.failNext = 1
    stats.error = new TidingsError('STORAGE_FULL', 'transient')
    await clock.advance(3_600_000)
    expect((await bus.read()).events).toEqual([])
    await clock.advance(1000)
    expect((await bus.read()).events.map((e) => [e.id, e.time])).toEqual([
      ['schedule:hourly:3600000', 3_601_000],
    ])
    await clock.advance(3_600_000)
    expect((await bus.read()).events.map((e) => e.id)).toEqual([
      'schedule:hourly:3600000',
      'schedule:hourly:7200000',
    ])
    expect(clock.timers).toBe(1)
    await bus.close()
  })

  it('close() rejects pending waits with CLOSED and clears their timers', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    const w = bus.waitFor('x', { timeout: 60_000 })
    await bus.idle()
    await bus.close()
    await expect(w).rejects.toMatchObject({ code: 'CLOSED' })
    expect(clock.timers).toBe(0)
  })
})

describe('HTTP', () => {
  it('a body sent without a length is refused once it passes the limit, not read to the end', async () => {
    const bus = createBus()
    const app = busApp({ bus, auth: false, limits: { bodyBytes: 1024 } })
    let pulled = 0
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (++pulled > 50) c.close()
        else c.enqueue(new Uint8Array(64 * 1024))
      },
    })
    const r = await app.request('/events', { method: 'POST', body, duplex: 'half' } as RequestInit)
    expect([r.status, (await r.json()).error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE'])
    expect(pulled).toBeLessThan(5)
  })

  it('a webhook source named like an Object member is unknown (404)', async () => {
    const app = busApp({ bus: createBus(), auth: false, webhooks: {} })
    for (const s of ['constructor', '__proto__', 'toString'])
      expect((await app.request(`/webhooks/${s}`, { method: 'POST', body: '{}' })).status).toBe(404)
  })
})

// Found while building the browser adapter: tabs are other realms (iframes), with their own Promise and Object.
describe('values and handlers from another realm', () => {
  it("a durable handler's thenable (another realm's promise) is awaited before the ack", async () => {
    const { runInNewContext } = await import('node:vm')
    const OtherPromise = runInNewContext('Promise') as PromiseConstructor
    const bus = createBus()
    let release = () => {}
    const done: unknown[] = []
    await bus.subscribe(
      's',
      't',
      (e) =>
        new OtherPromise<void>((r) => {
          release = () => {
            done.push(e.data)
            r()
          }
        }),
    )
    await bus.publish('t', 1)
    await sleep(20)
    expect((await bus.stats())[0]).toMatchObject({ inFlight: 1, lag: 1 })
    release()
    await sleep(20)
    await bus.idle()
    expect(done).toEqual([1])
    expect((await bus.stats())[0]).toMatchObject({ inFlight: 0, lag: 0 })
    await bus.close()
  })

  it('a plain object made in another realm is a payload like any other', async () => {
    const { runInNewContext } = await import('node:vm')
    const bus = createBus()
    const data = runInNewContext('({ order: { id: "o1", lines: [1, 2] } })')
    await bus.publish('t', data)
    expect((await bus.read()).events[0]!.data).toEqual({ order: { id: 'o1', lines: [1, 2] } })
    await expect(bus.publish('t', runInNewContext('new (class Cart {})()'))).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
    })
    await bus.close()
  })
})
