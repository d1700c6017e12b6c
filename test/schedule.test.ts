import { describe, expect, it } from 'vitest'
import { createBus } from '../src/bus.js'
import type { BusEvent } from '../src/event.js'
import { memoryStore } from '../src/store/memory.js'
import { manualClock } from '../src/testing.js'

const MIN = 60_000
const HOUR = 60 * MIN
const iso = (t: number) => new Date(t).toISOString()
/** The ids and times of the events a schedule published. */
const fired = async (bus: ReturnType<typeof createBus>, type = '**') =>
  (await bus.read({ pattern: type, limit: 10_000 })).events.map((e) => e.id)

describe('every', () => {
  it('ticks at whole multiples of ms since the epoch, strictly after creation, one event per tick', async () => {
    const clock = manualClock(30_000)
    const bus = createBus({ clock })
    await bus.schedule('hb', { every: MIN, type: 'heartbeat', data: { ok: true } })
    expect(await bus.schedules()).toEqual([
      { name: 'hb', spec: { every: MIN, type: 'heartbeat', data: { ok: true } }, nextAt: MIN },
    ])
    await clock.advance(3 * MIN)
    expect(await fired(bus)).toEqual([
      'schedule:hb:60000',
      'schedule:hb:120000',
      'schedule:hb:180000',
    ])
    const [e] = (await bus.read()).events
    expect(e).toMatchObject({ type: 'heartbeat', data: { ok: true }, time: MIN })
    expect((await bus.schedules())[0]).toMatchObject({ lastFiredAt: 3 * MIN, nextAt: 4 * MIN })
  })

  it('a tick exactly at creation is not fired; the first is strictly after', async () => {
    const clock = manualClock(MIN)
    const bus = createBus({ clock })
    await bus.schedule('hb', { every: MIN, type: 't', data: 0 })
    await clock.advance(MIN)
    expect(await fired(bus)).toEqual(['schedule:hb:120000'])
  })

  it('uses one timer for many schedules', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    for (let i = 0; i < 200; i++)
      await bus.schedule(`s${i}`, { every: (i + 1) * 1000, type: 't', data: i })
    expect(clock.timers).toBe(1)
    await clock.advance(10_000)
    expect(clock.timers).toBe(1)
  })
})

describe('cron', () => {
  it('follows 5- and 6-field expressions in UTC by default', async () => {
    const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'))
    const bus = createBus({ clock })
    await bus.schedule('q', { cron: '*/15 * * * *', type: 'tick', data: null })
    await bus.schedule('s', { cron: '30 0 0 * * *', type: 'sec', data: null })
    await clock.advance(HOUR)
    const times = (await bus.read({ limit: 100 })).events.map((e) => `${e.type}@${iso(e.time)}`)
    expect(times).toEqual([
      'sec@2026-01-01T00:00:30.000Z',
      'tick@2026-01-01T00:15:00.000Z',
      'tick@2026-01-01T00:30:00.000Z',
      'tick@2026-01-01T00:45:00.000Z',
      'tick@2026-01-01T01:00:00.000Z',
    ])
  })

  // The DST rules, as croner 11 does them: a local time that does not exist fires once at the first
  // instant after the gap; a fixed local time that repeats fires at its first occurrence; a
  // wildcard or stepped hour fires on every real occurrence.
  const dst: [string, string, string, string, number, string[]][] = [
    [
      'Europe/Paris, spring forward: 02:30 does not exist',
      'Europe/Paris',
      '30 2 * * *',
      '2026-03-28T12:00:00Z',
      24,
      ['2026-03-29T01:00:00.000Z'],
    ],
    [
      'Europe/Paris, fall back: 02:30 happens twice, fires once',
      'Europe/Paris',
      '30 2 * * *',
      '2026-10-24T12:00:00Z',
      24,
      ['2026-10-25T00:30:00.000Z'],
    ],
    [
      'Europe/Paris, fall back: a wildcard hour fires on both',
      'Europe/Paris',
      '30 * * * *',
      '2026-10-24T23:45:00Z',
      3,
      ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z', '2026-10-25T02:30:00.000Z'],
    ],
    [
      'America/New_York, spring forward: 02:30 does not exist',
      'America/New_York',
      '30 2 * * *',
      '2026-03-07T12:00:00Z',
      24,
      ['2026-03-08T07:00:00.000Z'],
    ],
    [
      'America/New_York, fall back: 01:30 happens twice, fires once',
      'America/New_York',
      '30 1 * * *',
      '2026-10-31T12:00:00Z',
      24,
      ['2026-11-01T05:30:00.000Z'],
    ],
    [
      'America/New_York, fall back: a stepped hour fires on every real one',
      'America/New_York',
      '0 */1 * * *',
      '2026-11-01T04:30:00Z',
      3,
      ['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z'],
    ],
    [
      'UTC has no transitions',
      'UTC',
      '30 2 * * *',
      '2026-03-28T12:00:00Z',
      24,
      ['2026-03-29T02:30:00.000Z'],
    ],
  ]
  it.each(dst)('%s', async (_, timezone, cron, start, hours, want) => {
    const clock = manualClock(Date.parse(start))
    const bus = createBus({ clock })
    await bus.schedule('dst', { cron, timezone, type: 'tick', data: null })
    await clock.advance(hours * HOUR)
    expect((await bus.read()).events.map((e) => iso(e.time))).toEqual(want)
  })
})

describe('at', () => {
  it('fires once, leaves a tombstone, and re-registering it does nothing', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const a = createBus({ store, clock })
    await a.schedule('launch', { at: 5000, type: 'go', data: 1 })
    await clock.advance(10_000)
    expect(await fired(a)).toEqual(['schedule:launch:5000'])
    expect(await a.schedules()).toEqual([])
    await a.close()
    const b = createBus({ store, clock })
    await b.schedule('launch', { at: 5000, type: 'go', data: 1 })
    await clock.advance(10_000)
    expect(await fired(b)).toEqual(['schedule:launch:5000'])
    expect(await b.unschedule('launch')).toBe(false)
  })

  it('a missed at fires late, whatever catchUp says', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const a = createBus({ store, clock })
    await a.schedule('once', { at: 5000, type: 'go', data: 1, catchUp: 'none' })
    await a.close()
    await clock.advance(60_000) // no bus running
    const b = createBus({ store, clock })
    await b.idle()
    expect((await b.read()).events.map((e) => [e.id, e.time])).toEqual([
      ['schedule:once:5000', 60_000],
    ])
  })
})

describe('catch-up after a gap with no bus running', () => {
  const gap = async (catchUp: 'none' | 'latest' | 'all' | undefined, every = MIN, minutes = 10) => {
    const store = memoryStore()
    const clock = manualClock(0)
    const a = createBus({ store, clock })
    await a.schedule('job', { every, type: 'job', data: null, ...(catchUp ? { catchUp } : {}) })
    await clock.advance(2 * MIN) // fires 60000 and 120000
    await a.close()
    await clock.advance(minutes * MIN) // nobody runs
    const b = createBus({ store, clock })
    await b.idle()
    return { b, clock, ids: await fired(b) }
  }

  it("'latest' (the default) fires only the last missed tick", async () => {
    const { ids } = await gap(undefined)
    expect(ids).toEqual(['schedule:job:60000', 'schedule:job:120000', 'schedule:job:720000'])
  })

  it("'all' fires every missed tick, oldest first", async () => {
    const { ids } = await gap('all')
    expect(ids.slice(2)).toEqual(
      Array.from({ length: 10 }, (_, i) => `schedule:job:${(i + 3) * MIN}`),
    )
  })

  it("'all' is capped at the 100 most recent ticks, however long the gap", async () => {
    const { ids } = await gap('all', 1000, 60 * 24 * 7) // a per-second schedule, a week away
    expect(ids).toHaveLength(120 + 100) // 2 minutes of ticks before the gap, then the cap
    const end = (2 + 60 * 24 * 7) * MIN
    expect(ids.slice(120)).toEqual(
      Array.from({ length: 100 }, (_, i) => `schedule:job:${end - (99 - i) * 1000}`),
    )
  })

  it("'none' fires nothing but moves lastFiredAt to the last missed tick", async () => {
    const { b, clock, ids } = await gap('none')
    expect(ids).toEqual(['schedule:job:60000', 'schedule:job:120000'])
    expect((await b.schedules())[0]).toMatchObject({ lastFiredAt: 12 * MIN, nextAt: 13 * MIN })
    await clock.advance(MIN)
    expect((await fired(b)).slice(2)).toEqual(['schedule:job:780000'])
  })

  it('a restart in the middle of a sequence neither misses nor repeats a tick', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const a = createBus({ store, clock })
    await a.schedule('job', { every: MIN, type: 'job', data: null, catchUp: 'all' })
    await clock.advance(3 * MIN)
    await a.close()
    await clock.advance(30_000)
    const b = createBus({ store, clock })
    await b.schedule('job', { every: MIN, type: 'job', data: null, catchUp: 'all' }) // re-registered at boot: no change
    await clock.advance(2 * MIN)
    expect(await fired(b)).toEqual([1, 2, 3, 4, 5].map((i) => `schedule:job:${i * MIN}`))
  })
})

describe('overlap', () => {
  it("'skip' drops a tick while the previous tick's event is unhandled by an attached subscription", async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    let release = () => {}
    const handled: string[] = []
    await bus.subscribe(
      'worker',
      'job',
      async (e: BusEvent) => {
        if (e.id === 'schedule:job:60000')
          await new Promise<void>((r) => {
            release = r
          })
        handled.push(e.id)
      },
      { timeout: 10 * MIN },
    )
    await bus.schedule('job', { every: MIN, type: 'job', data: null, overlap: 'skip' })
    await clock.advance(3 * MIN) // tick 1 runs and hangs; ticks 2 and 3 are skipped
    expect(await fired(bus)).toEqual(['schedule:job:60000'])
    release()
    await clock.advance(MIN)
    expect(await fired(bus)).toEqual(['schedule:job:60000', 'schedule:job:240000'])
    expect(handled).toEqual(['schedule:job:60000', 'schedule:job:240000'])
  })

  it("'allow' (the default) fires every tick", async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    await bus.subscribe('worker', 'job', () => new Promise(() => {}), { timeout: 10 * MIN })
    await bus.schedule('job', { every: MIN, type: 'job', data: null })
    await clock.advance(3 * MIN)
    expect(await fired(bus)).toHaveLength(3)
  })
})

describe('two buses, one store', () => {
  it('fire each tick once', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const a = createBus({ store, clock })
    await a.schedule('job', { every: MIN, type: 'job', data: null })
    const b = createBus({ store, clock })
    await b.idle()
    await b.schedule('job', { every: MIN, type: 'job', data: null })
    await clock.advance(5 * MIN)
    expect(await fired(a)).toEqual([1, 2, 3, 4, 5].map((i) => `schedule:job:${i * MIN}`))
  })

  it('fire each tick once even when both reach it together', async () => {
    const store = memoryStore()
    const [ca, cb] = [manualClock(0), manualClock(0)]
    const a = createBus({ store, clock: ca })
    await a.schedule('job', { every: MIN, type: 'job', data: null })
    const b = createBus({ store, clock: cb })
    await b.idle()
    await Promise.all([ca.advance(3 * MIN), cb.advance(3 * MIN)])
    await a.idle()
    await b.idle()
    expect(await fired(a)).toEqual([1, 2, 3].map((i) => `schedule:job:${i * MIN}`))
  })
})

describe('the other operations', () => {
  it("runSchedule publishes now with a run id or the caller's id", async () => {
    const clock = manualClock(1234)
    const bus = createBus({ clock })
    await bus.schedule('report', { cron: '0 0 * * *', type: 'report', data: { kind: 'daily' } })
    expect(await bus.runSchedule('report')).toMatchObject({
      id: 'schedule:report:run:1234',
      duplicate: false,
    })
    expect(await bus.runSchedule('report', { id: 'req-7' })).toMatchObject({
      id: 'req-7',
      duplicate: false,
    })
    expect(await bus.runSchedule('report', { id: 'req-7' })).toMatchObject({
      id: 'req-7',
      duplicate: true,
    })
    await expect(bus.runSchedule('nope')).rejects.toMatchObject({ code: 'INVALID_SCHEDULE' })
  })

  it('unschedule stops it and says whether it existed', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    await bus.schedule('hb', { every: 1000, type: 't', data: 0 })
    await clock.advance(2000)
    expect(await bus.unschedule('hb')).toBe(true)
    expect(await bus.unschedule('hb')).toBe(false)
    await clock.advance(5000)
    expect(await fired(bus)).toHaveLength(2)
  })

  it('an identical spec changes nothing; a changed one keeps lastFiredAt', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    await bus.schedule('hb', { every: 1000, type: 't', data: 0 })
    await clock.advance(2500)
    await bus.schedule('hb', { every: 1000, type: 't', data: 0 })
    expect((await bus.schedules())[0]).toMatchObject({ lastFiredAt: 2000, nextAt: 3000 })
    await bus.schedule('hb', { every: 5000, type: 't', data: 1 })
    expect((await bus.schedules())[0]).toMatchObject({
      lastFiredAt: 2000,
      nextAt: 5000,
      spec: { every: 5000 },
    })
  })
})

describe('bad input is refused with INVALID_SCHEDULE and nothing stored', () => {
  const cases: [string, object, string][] = [
    ['an invalid cron', { cron: '61 * * * *', type: 't', data: 0 }, 'minute'],
    [
      'an unknown time zone',
      { cron: '* * * * *', timezone: 'Mars/Olympus', type: 't', data: 0 },
      'Mars/Olympus',
    ],
    ['every 0', { every: 0, type: 't', data: 0 }, 'every must be a positive'],
    ['every -5', { every: -5, type: 't', data: 0 }, 'every must be a positive'],
    ['every Infinity', { every: Infinity, type: 't', data: 0 }, 'every must be a positive'],
    ['an at in the past', { at: 500, type: 't', data: 0 }, 'in the past'],
    ['a type that is not a topic', { every: 1000, type: 'a..b', data: 0 }, 'segment 2'],
    ['two kinds at once', { every: 1000, cron: '* * * * *', type: 't', data: 0 }, 'exactly one of'],
    ['no kind', { type: 't', data: 0 }, 'exactly one of'],
    ['a bad catchUp', { every: 1000, type: 't', data: 0, catchUp: 'some' }, 'catchUp'],
  ]
  it.each(cases)('%s', async (_, spec, why) => {
    const bus = createBus({ clock: manualClock(1000) })
    const e = await bus.schedule('s', spec as never).then(
      () => undefined,
      (x: { code: string; message: string }) => x,
    )
    expect(e?.code).toBe('INVALID_SCHEDULE')
    expect(e?.message).toContain(why)
    expect(await bus.schedules()).toEqual([])
  })

  it('a name that is not a token', async () => {
    const bus = createBus({ clock: manualClock(0) })
    await expect(bus.schedule('a/b', { every: 1000, type: 't', data: 0 })).rejects.toMatchObject({
      code: 'INVALID_SCHEDULE',
    })
  })

  it('data that cannot be stored', async () => {
    const bus = createBus({ clock: manualClock(0) })
    await expect(
      bus.schedule('s', { every: 1000, type: 't', data: () => 1 }),
    ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' })
    expect(await bus.schedules()).toEqual([])
  })
})
