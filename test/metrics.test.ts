import { describe, expect, it } from 'vitest'
import { busApp } from '../adapters/hono/index.js'
import { createBus } from '../src/bus.js'
import { memoryStore } from '../src/store/memory.js'
import { NonRetriableError } from '../src/errors.js'
import {
  createMetrics,
  DURATION_WINDOW,
  durationSamples,
  percentiles,
} from '../src/subscriptions/metrics.js'
import { manualClock, type ManualClock } from '../src/testing.js'

/** A handler step that takes `ms` of the manual clock's time. */
const takes = (clock: ManualClock, ms: number) =>
  new Promise<void>((resolve) => clock.setTimer(clock.now() + ms, resolve))

describe('stats() metrics', () => {
  it('count handled and failed attempts and take duration percentiles from handlers of known duration', async () => {
    const clock = manualClock(1_000_000)
    const bus = createBus<{ job: { ms: number; fail?: boolean } }>({ clock, onError: () => {} })
    await bus.subscribe(
      'worker',
      'job',
      async (event, ctx) => {
        await takes(clock, event.data.ms)
        if (event.data.fail && ctx.attempt === 1) throw new Error('first try fails')
      },
      { retry: { attempts: 3, backoff: { initial: 1000, jitter: false } } },
    )
    // 100 handlings of 1..100 ms, one at a time; the 100 ms one fails once, then succeeds.
    for (let ms = 1; ms <= 100; ms++)
      await bus.publish('job', { ms, ...(ms === 100 ? { fail: true } : {}) })
    for (let step = 0; step < 200; step++) await clock.advance(100)
    await bus.idle()
    const [row] = await bus.stats()
    expect(row).toMatchObject({ name: 'worker', handled: 100, failed: 1, lag: 0 })
    // 101 attempts: 1..99 ms once, 100 ms twice. Nearest rank: p50 is the 51st, p95 the 96th, p99 the 100th.
    expect(row!.duration).toEqual({ p50: 51, p95: 96, p99: 100, max: 100 })
    expect(row!.lastHandledAt).toBeGreaterThan(1_000_000)
    expect(row!.lastHandledAt).toBeLessThanOrEqual(clock.now())
    await bus.close()
  })

  it('count a timed-out attempt as failed, with its duration the timeout', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock, onError: () => {} })
    await bus.subscribe('slow', 't', () => new Promise(() => {}), {
      timeout: 250,
      retry: { attempts: 1 },
    })
    await bus.publish('t', 1)
    await clock.advance(300)
    await bus.idle()
    const [row] = await bus.stats()
    expect(row).toMatchObject({
      handled: 0,
      failed: 1,
      deadLetters: 1,
      duration: { p50: 250, max: 250 },
      lastHandledAt: null,
    })
    await bus.close()
  })

  it('show zeros for a subscription this bus has not run, and keep counting across a re-attach', async () => {
    const clock = manualClock(0)
    const store = memoryStore()
    const bus = createBus({ clock, store })
    await bus.publish('t', 0)
    const sub = await bus.subscribe('s', 't', async () => {
      await takes(clock, 5)
    })
    await bus.publish('t', 1)
    await clock.advance(10)
    await bus.idle()
    await sub.close()
    const [closed] = await bus.stats()
    expect(closed).toMatchObject({
      handled: 1,
      failed: 0,
      duration: { p50: 5, p95: 5, p99: 5, max: 5 },
    })
    await bus.subscribe('s', 't', async () => {
      await takes(clock, 7)
    })
    await bus.publish('t', 2)
    await clock.advance(10)
    await bus.idle()
    expect((await bus.stats())[0]).toMatchObject({ handled: 2, duration: { p50: 5, max: 7 } })
    // Another bus over the same store has not run it: its metrics are zeros.
    const other = createBus({ clock, store })
    expect((await other.stats())[0]).toMatchObject({
      name: 's',
      handled: 0,
      failed: 0,
      duration: { p50: 0, max: 0 },
      lastHandledAt: null,
    })
    await other.close()
    await bus.close()
  })

  it('count a batch call event by event, and its duration once per call', async () => {
    const clock = manualClock(0)
    const bus = createBus<{ row: number }>({ clock, onError: () => {} })
    await bus.publishMany(Array.from({ length: 9 }, (_, index) => ({ type: 'row', data: index })))
    let call = 0
    await bus.subscribe(
      'rows',
      'row',
      async (events, ctx) => {
        call++
        // 30 ms, one of four events marked failed; then 10 ms and a throw; then past the timeout.
        if (call === 1) {
          await takes(clock, 30)
          ctx.fail(events[1]!, new NonRetriableError('bad row'))
        } else if (call === 2) {
          await takes(clock, 10)
          throw new Error('the batch failed')
        } else await new Promise(() => {})
      },
      { from: 'earliest', batch: { size: 4 }, timeout: 500, retry: { attempts: 1 } },
    )
    await clock.advance(30)
    await clock.advance(10)
    await clock.advance(500)
    await bus.idle()
    const [row] = await bus.stats()
    expect(call).toBe(3)
    // Per event: 3 acked; 1 marked failed, 4 thrown, 1 timed out.
    expect(row).toMatchObject({ handled: 3, failed: 6, deadLetters: 6, lastHandledAt: 30 })
    // Per call: three samples, not nine.
    expect(durationSamples(row!)).toEqual([30, 10, 500])
    expect(row!.duration).toEqual({ p50: 30, p95: 500, p99: 500, max: 500 })
    await bus.close()
  })

  it('are served by GET /stats of tidings/hono', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    await bus.subscribe('mailer', 'user.created', async () => {
      await takes(clock, 40)
    })
    await bus.publish('user.created', {})
    await clock.advance(50)
    await bus.idle()
    const response = await busApp({ bus, auth: false }).request('/stats')
    expect(await response.json()).toEqual({
      subscriptions: [
        {
          name: 'mailer',
          lag: 0,
          inFlight: 0,
          retrying: 0,
          deadLetters: 0,
          oldestAge: 0,
          handled: 1,
          failed: 0,
          duration: { p50: 40, p95: 40, p99: 40, max: 40 },
          lastHandledAt: 40,
        },
      ],
    })
    await bus.close()
  })

  it('record a batch call as one sample and its events as counts', () => {
    const metrics = createMetrics()
    metrics.recordBatch(9, 1, 40, 100)
    metrics.recordBatch(0, 5, 20, 200)
    expect(metrics.samples()).toEqual([40, 20])
    expect(metrics.snapshot()).toEqual({
      handled: 9,
      failed: 6,
      duration: { p50: 20, p95: 40, p99: 40, max: 40 },
      lastHandledAt: 100,
    })
  })

  it('keep a fixed window of the last 1,000 durations', () => {
    const metrics = createMetrics()
    for (let index = 0; index < 5 * DURATION_WINDOW; index++)
      metrics.record(true, index < 4 * DURATION_WINDOW ? 1_000_000 : 1, index)
    expect(metrics.samples()).toHaveLength(DURATION_WINDOW)
    expect(metrics.snapshot()).toEqual({
      handled: 5000,
      failed: 0,
      duration: { p50: 1, p95: 1, p99: 1, max: 1 },
      lastHandledAt: 4999,
    })
  })

  it('take nearest-rank percentiles', () => {
    expect(percentiles([])).toEqual({ p50: 0, p95: 0, p99: 0, max: 0 })
    expect(percentiles([7])).toEqual({ p50: 7, p95: 7, p99: 7, max: 7 })
    expect(percentiles(Array.from({ length: 1000 }, (_, index) => 1000 - index))).toEqual({
      p50: 500,
      p95: 950,
      p99: 990,
      max: 1000,
    })
  })
})
