import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { cloudflareBus, r2Event } from '../../adapters/cloudflare/index.js'
import worker from './worker.js'
import { freshBus, shardStub, testEnv } from './helpers.js'

const HOUR = 3_600_000

describe('the alarm drives delays and schedules', () => {
  it('a delayed event beyond the Queues 12 h limit is appended when the alarm fires', async () => {
    const bus = freshBus(1)
    const stub = shardStub(bus.name, 0)
    const r = await bus.publish('reminder.due', { to: 'ann' }, { delay: 13 * HOUR })
    expect(r.seq).toBeUndefined()
    // An append first keeps the alarm within 5 s (an object that dies before its deliveries go out
    // is woken to send them); once that passes, the alarm stands at the earliest of the rest.
    const soon = await runInDurableObject(stub, (_, state) => state.storage.getAlarm())
    expect(soon! - Date.now()).toBeLessThanOrEqual(5_000)
    await stub.advance(6_000)
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    // The object's alarm is set (at the earliest of its timers: lease renewals come first).
    const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm())
    expect(alarm! - Date.now()).toBeGreaterThan(10 * 60_000)
    expect(alarm! - Date.now()).toBeLessThanOrEqual(13 * HOUR)
    // Not due yet: the alarm runs and appends nothing.
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect((await bus.read()).events).toEqual([])
    // Move the object's clock past the due time (an alarm in the past still fires).
    await stub.advance(13 * HOUR + 1000)
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    const { events } = await bus.read()
    expect(events.map((e) => [e.type, e.id])).toEqual([['reminder.due', r.id]])
  })

  it('an alarm-driven schedule in a non-UTC zone fires on its local time', async () => {
    const bus = freshBus(1)
    const stub = shardStub(bus.name, 0)
    const now = await stub.advance(0)
    await bus.schedule('paris-9am', {
      cron: '0 9 * * *',
      timezone: 'Europe/Paris',
      type: 'report.due',
      data: { zone: 'paris' },
    })
    const [info] = await bus.schedules()
    expect(info!.nextAt! - now).toBeLessThanOrEqual(24 * HOUR)
    await stub.advance(info!.nextAt! - now + 1)
    await runDurableObjectAlarm(stub)
    const { events } = await bus.read()
    expect(events.map((e) => e.id)).toEqual([`schedule:paris-9am:${info!.nextAt}`])
    expect(
      new Date(info!.nextAt!).toLocaleString('en-GB', {
        timeZone: 'Europe/Paris',
        hour: '2-digit',
        minute: '2-digit',
      }),
    ).toBe('09:00')
  })
})

describe('Cron Triggers', () => {
  it('scheduled() fires the UTC schedules of that cron; a double fire gives one event', async () => {
    const bus = freshBus(3)
    await bus.schedule('hourly', { cron: '0 * * * *', type: 'report.hourly', data: { n: 1 } })
    await bus.schedule('other', { cron: '*/5 * * * *', type: 'report.other', data: {} })
    await bus.schedule('zoned', {
      cron: '0 * * * *',
      timezone: 'Asia/Tokyo',
      type: 'report.tokyo',
      data: {},
    })
    const scheduledTime = Date.UTC(2026, 10, 22, 12)
    const controller = createScheduledController({ cron: '0 * * * *', scheduledTime })
    const first = await bus.scheduled(controller)
    const second = await bus.scheduled(controller)
    expect(first).toEqual([
      { name: 'hourly', id: `schedule:hourly:${scheduledTime}`, seq: 1, duplicate: false },
    ])
    expect(second).toEqual([{ ...first[0], duplicate: true }])
    const { events } = await bus.read()
    expect(events.map((e) => e.id)).toEqual([`schedule:hourly:${scheduledTime}`])
    expect(events[0]!.data).toEqual({ n: 1 })
  })

  it("the Worker's scheduled handler is wired to the bus", async () => {
    // The test Worker's own bus (default name, 3 shards): schedules on its home shard.
    const bus = cloudflareBus(testEnv.BUS, { shards: 3 })
    await bus.schedule('every-5', { cron: '*/5  * * * *', type: 'tick.five', data: {} })
    const scheduledTime = Date.UTC(2026, 10, 22, 13, 5)
    await worker.scheduled(
      createScheduledController({ cron: '*/5 * * * *', scheduledTime }),
      testEnv,
    )
    const { events } = await bus.read({ pattern: 'tick.*' })
    expect(events.map((e) => e.id)).toEqual([`schedule:every-5:${scheduledTime}`])
  })
})

describe('R2 event notifications', () => {
  const put = {
    account: 'acc',
    bucket: 'uploads',
    action: 'PutObject',
    object: { key: 'img/a.png', size: 3, eTag: 'e1' },
    eventTime: '2026-05-01T00:00:00Z',
  }
  const del = {
    account: 'acc',
    bucket: 'uploads',
    action: 'DeleteObject',
    object: { key: 'img/a.png' },
    eventTime: '2026-05-01T00:01:00Z',
  }

  it('maps a notification to a bus event', async () => {
    const e = await r2Event(put)
    expect(e).toMatchObject({
      type: 'r2.object.create',
      key: 'uploads/img/a.png',
      source: 'r2:uploads',
      data: put,
    })
    expect(e.id).toMatch(/^r2:[0-9a-f]{64}$/)
    expect((await r2Event(del)).type).toBe('r2.object.delete')
    expect((await r2Event({ ...put, action: 'SomethingNew' })).type).toBe('r2.object.other')
    expect((await r2Event({ ...put })).id).toBe(e.id)
    expect((await r2Event({ ...put, eventTime: '2026-05-01T00:00:01Z' })).id).not.toBe(e.id)
    await expect(r2Event({ bucket: 'x' } as never)).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
    })
  })

  it('notifications on a Queue become events once, in order per object', async () => {
    const bus = freshBus(3)
    const msg = (id: string, body: unknown) => ({ id, timestamp: new Date(), attempts: 1, body })
    const batch = createMessageBatch('tidings-r2', [msg('1', put), msg('2', del), msg('3', put)])
    const ctx = createExecutionContext()
    await bus.queue(batch)
    const result = await getQueueResult(batch, ctx)
    expect(result.explicitAcks.sort()).toEqual(['1', '2', '3'])
    const { events } = await bus.read()
    expect(events.map((e) => e.type)).toEqual(['r2.object.create', 'r2.object.delete'])
    expect(events.every((e) => e.key === 'uploads/img/a.png')).toBe(true)
  })
})
