import { afterEach, describe, expect, it, vi } from 'vitest'
import { createBus } from '../src/bus.js'
import { realClock } from '../src/clock/clock.js'
import { memoryStore } from '../src/store/memory.js'
import { manualClock } from '../src/testing.js'

describe('delayed events', () => {
  it('are held aside, then appended when due with their seq and time then; listeners and subscriptions see them then', async () => {
    const clock = manualClock(1000)
    const bus = createBus({ clock })
    const heard: unknown[] = []
    const handled: unknown[] = []
    bus.on('**', (e) => {
      heard.push([e.data, e.seq, e.time])
    })
    await bus.subscribe('s', '**', (e) => {
      handled.push(e.data)
    })
    const r = await bus.publish('reminder', 'later', { delay: 5000 })
    expect(r).toEqual({ id: r.id, duplicate: false })
    await bus.publish('now', 'now')
    await clock.advance(4999)
    expect(heard).toEqual([['now', 1, 1000]])
    expect((await bus.read()).events.map((e) => e.data)).toEqual(['now'])
    await clock.advance(1)
    expect(heard).toEqual([
      ['now', 1, 1000],
      ['later', 2, 6000],
    ])
    expect(handled).toEqual(['now', 'later'])
    expect((await bus.read()).events.map((e) => e.id)).toContain(r.id)
  })

  it('a due batch whose commit fails is tried again, not left on the list until the next restart', async () => {
    const clock = manualClock(0)
    const inner = memoryStore()
    let failNext = false
    const store = {
      ...inner,
      commit: (c: Parameters<typeof inner.commit>[0]) => {
        if (failNext && c.mutations.some((m) => m.type === 'delete' && m.key.startsWith('d/'))) {
          failNext = false
          return Promise.reject(new Error('transient storage error'))
        }
        return inner.commit(c)
      },
    }
    const bus = createBus({ clock, store, onError: () => {} })
    await bus.publish('reminder', 'later', { delay: 1000 })
    failNext = true
    await clock.advance(1000)
    expect((await bus.read()).events).toEqual([])
    await clock.advance(60_000)
    expect((await bus.read()).events.map((e) => e.data)).toEqual(['later'])
  })

  it('at: a time in the past appends at once; a Date works', async () => {
    const clock = manualClock(10_000)
    const bus = createBus({ clock })
    expect((await bus.publish('t', 1, { at: 5000 })).seq).toBe(1)
    await bus.publish('t', 2, { at: new Date(20_000) })
    await clock.advance(10_000)
    expect((await bus.read()).events.map((e) => [e.data, e.time])).toEqual([
      [1, 10_000],
      [2, 20_000],
    ])
  })

  it('cancel drops one not yet due; its id stays remembered', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    const { id } = await bus.publish('t', 'x', { delay: 1000, id: 'job-1' })
    expect(await bus.cancel(id)).toBe(true)
    expect(await bus.cancel(id)).toBe(false)
    await clock.advance(2000)
    expect((await bus.read()).events).toEqual([])
    expect(await bus.publish('t', 'again', { id: 'job-1' })).toEqual({
      id: 'job-1',
      duplicate: true,
    })
    const due = await bus.publish('t', 'y', { delay: 10 })
    await clock.advance(10)
    expect(await bus.cancel(due.id)).toBe(false)
  })

  it('dedupe by id from the moment of publish', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    await bus.publish('t', 1, { delay: 1000, id: 'once' })
    expect(await bus.publish('t', 2, { delay: 1000, id: 'once' })).toEqual({
      id: 'once',
      duplicate: true,
    })
    await clock.advance(1000)
    expect((await bus.read()).events.map((e) => e.data)).toEqual([1])
    expect(await bus.publish('t', 3, { id: 'once' })).toMatchObject({
      id: 'once',
      seq: 1,
      duplicate: true,
    })
  })

  it('never block their key before they are due', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    const order: unknown[] = []
    await bus.subscribe('s', 'o', (e) => {
      order.push(e.data)
    })
    await bus.publish('o', 'delayed', { key: 'k', delay: 1000 })
    await bus.publish('o', 'now', { key: 'k' })
    await bus.idle()
    expect(order).toEqual(['now'])
    await clock.advance(1000)
    expect(order).toEqual(['now', 'delayed'])
  })

  it('survive a restart and fire once when two buses share the store', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const a = createBus({ store, clock })
    await a.publish('t', 'kept', { delay: 60_000 })
    await a.close()
    const b = createBus({ store, clock })
    const c = createBus({ store, clock })
    await b.idle()
    await c.idle()
    await clock.advance(60_000)
    await b.idle()
    await c.idle()
    expect((await b.read()).events.map((e) => e.data)).toEqual(['kept'])
  })

  it('fire once when two buses reach the due time together (the loser re-reads the list)', async () => {
    const store = memoryStore()
    const [cb, cc] = [manualClock(0), manualClock(0)]
    const b = createBus({ store, clock: cb })
    const c = createBus({ store, clock: cc })
    await b.publishMany([
      { type: 't', data: 1, delay: 500 },
      { type: 't', data: 2, delay: 500 },
    ])
    await c.idle()
    await b.idle()
    await Promise.all([cb.advance(500), cc.advance(500)])
    await b.idle()
    await c.idle()
    expect((await c.read()).events.map((e) => e.data)).toEqual([1, 2])
  })

  it.each([
    [{ delay: -1 }],
    [{ delay: Number.NaN }],
    [{ at: Number.POSITIVE_INFINITY }],
    [{ delay: 5, at: 5 }],
  ])('refuse %j with INVALID_OPTIONS', async (o) => {
    const bus = createBus({ clock: manualClock(0) })
    await expect(bus.publish('t', 1, o as never)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
  })
})

describe('realClock', () => {
  afterEach(() => {
    vi.useRealTimers()
    vi.restoreAllMocks()
  })

  it('chains delays beyond 2^31-1 ms', () => {
    vi.useFakeTimers({ now: 0 })
    const fn = vi.fn()
    realClock.setTimer(2 ** 31 + 5000, fn)
    vi.advanceTimersByTime(2 ** 31 - 1)
    expect(fn).not.toHaveBeenCalled()
    vi.advanceTimersByTime(5001)
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('re-arms a timer that fires before the clock reaches its time, and can be cleared', () => {
    vi.useFakeTimers({ now: 0 })
    const fn = vi.fn()
    realClock.setTimer(1000, fn)
    // setTimeout fires, but Date.now() still reads a little short of the target (as Node can).
    const real = Date.now
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => real() - 3)
    vi.advanceTimersByTime(1000)
    expect(fn).not.toHaveBeenCalled()
    spy.mockRestore()
    vi.advanceTimersByTime(3)
    expect(fn).toHaveBeenCalledTimes(1)
    const never = vi.fn()
    const h = realClock.setTimer(Date.now() + 10, never)
    realClock.clearTimer(h)
    vi.advanceTimersByTime(20)
    expect(never).not.toHaveBeenCalled()
  })
})
