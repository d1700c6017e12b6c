// Batch handlers at the edge (issue 18): the object makes the batches, each goes out as one Queue
// message, the Worker's queue() runs the batch handler; a poison event inside a batch ends in the
// dead letters while the others ack, and a failed key holds its later events.
import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  runDurableObjectAlarm,
  SELF,
} from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { BusEvent } from '../../src/event.js'
import {
  cloudflareBus,
  defineSubscriptions,
  type EdgeBatchContext,
} from '../../adapters/cloudflare/index.js'
import { eventually, freshBus, shardStub, testEnv } from './helpers.js'

const all = async (bus: ReturnType<typeof freshBus>) => {
  const events: BusEvent[] = []
  for (let from: string | undefined; ;) {
    const page = await bus.read({ ...(from ? { from } : {}), limit: 1000 })
    events.push(...page.events)
    if (!page.events.length) return events
    from = page.next
  }
}
// Chained publishes go to the Worker's own 3-shard view of the bus.
const calls = async (bus: ReturnType<typeof freshBus>, type = 'seen.digest') =>
  (
    await all(
      Object.assign(cloudflareBus(testEnv.BUS, { shards: 3, name: bus.name }), { name: bus.name }),
    )
  )
    .filter((e) => e.type === type)
    .map((e) => e.data as { ids: string[]; attempt: number })
const settled = (bus: ReturnType<typeof freshBus>) =>
  eventually(
    async () =>
      (await bus.stats()).find(
        (s) =>
          s.name === 'digest' &&
          s.lag === 0 &&
          s.inFlight === 0 &&
          s.retrying === 0 &&
          s.deadLetters === 1,
      ),
    'the batch settled',
  )

describe('batch subscriptions delivered through a Cloudflare Queue', () => {
  it('one handler call takes the batch; a poison event inside it is dead-lettered while the others ack', async () => {
    const bus = freshBus(1)
    const results = await bus.publishMany(
      ['r1', 'r2', 'poison', 'r3', 'r4'].map((name) => ({
        type: 'digest.row',
        data: name === 'poison' ? { poison: true } : { name },
      })),
    )
    const ids = results.map((r) => r.id)
    await settled(bus)
    const seen = await calls(bus)
    // The first call had all five, in seq order; the poison ran alone after it, and nothing else ran again.
    expect(seen[0]).toEqual({ ids, attempt: 1 })
    expect(seen.slice(1)).toEqual([{ ids: [ids[2]], attempt: 2 }])
    const [dead] = await bus.deadLetters.list({ subscription: 'digest' })
    expect(dead).toMatchObject({
      attempts: 2,
      event: { id: ids[2] },
      error: { message: `poison ${ids[2]}` },
    })
  })

  it("a failed event holds its key's later events of the batch: they run after it, the other key acks", async () => {
    const bus = freshBus(1)
    const results = await bus.publishMany([
      { type: 'digest.row', data: { name: 'a1' }, key: 'a' },
      { type: 'digest.row', data: { poison: true }, key: 'a' },
      { type: 'digest.row', data: { name: 'b1' }, key: 'b' },
      { type: 'digest.row', data: { name: 'a3' }, key: 'a' },
    ])
    const [a1, poison, b1, a3] = results.map((r) => r.id)
    await settled(bus)
    const seen = await calls(bus)
    expect(seen[0]).toEqual({ ids: [a1, poison, b1, a3], attempt: 1 })
    // The poison alone (its second and last attempt), then a3, which was not acked the first time.
    expect(seen.slice(1)).toEqual([
      { ids: [poison], attempt: 2 },
      { ids: [a3], attempt: 1 },
    ])
  })

  it('defineSubscriptions checks batch options at load time, and types a batch entry by its pattern', () => {
    type Events = { 'order.placed': { total: number }; 'user.created': { email: string } }
    type Placed = BusEvent<'order.placed', { total: number }>
    const defined = defineSubscriptions<Events>({
      rows: {
        pattern: 'order.placed',
        batch: { size: 10 },
        handler: (events: Placed[], ctx: EdgeBatchContext<Events>) => {
          ctx.fail(events[0]!)
        },
      },
      one: { pattern: 'user.created', handler: (e) => e.data.email.toUpperCase() },
    })
    expect(Object.keys(defined)).toEqual(['rows', 'one'])
    defineSubscriptions<Events>({
      // @ts-expect-error a batch entry's events are of its pattern
      rows: {
        pattern: 'order.placed',
        batch: { size: 10 },
        handler: (events: BusEvent<'user.created', { email: string }>[]) => events,
      },
    })
    expect(() =>
      defineSubscriptions({ big: { pattern: 'a', batch: { size: 1001 }, handler: () => {} } }),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        message: expect.stringMatching(
          /subscription "big": batch.size must be an integer from 1 to 1000/,
        ),
      }),
    )
    expect(() =>
      defineSubscriptions({
        slow: { pattern: 'a', batch: { size: 5, wait: -1 }, handler: () => {} },
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }))
  })
})

// The 'held' subscription's Queue messages are held back by the test Worker (kept in its stash,
// acked unrun): these tests hand them to queue() themselves, as the Queue would, in the batches
// and with the duplicates they choose (Miniflare never redelivers by itself).
interface HeldMessage {
  subscription: string
  delivery: string
  object: string
  attempt: number
  events: unknown[]
}
/** The stashed 'held' messages that carry any of these events. */
const stashed = async (ids: readonly string[]) =>
  ((await (await SELF.fetch('http://worker/fixture/stash')).json()) as HeldMessage[]).filter(
    (body) =>
      body.subscription === 'held' &&
      ids.some((id) => JSON.stringify(body.events).includes(`"${id}"`)),
  )
/** Waits until exactly `count` stashed 'held' messages (of `attempt`, if given) carry these events. */
const held = (ids: readonly string[], count: number, attempt?: number) =>
  eventually(async () => {
    const found = (await stashed(ids)).filter(
      (body) => attempt === undefined || body.attempt === attempt,
    )
    return found.length === count ? found : undefined
  }, `${count} held message(s)`)
let delivered = 0
/** Hands these messages to the Worker's queue() in one Queue batch; returns the Queue's result. */
const deliver = async (
  bus: ReturnType<typeof freshBus>,
  bodies: readonly HeldMessage[],
  attempts = 1,
) => {
  const batch = createMessageBatch(
    'tidings-delivery',
    bodies.map((body) => ({ id: `held-${++delivered}`, timestamp: new Date(), attempts, body })),
  )
  await bus.queue(batch)
  return getQueueResult(batch, createExecutionContext())
}
const heldStats = (bus: ReturnType<typeof freshBus>, handled: number) =>
  eventually(
    async () =>
      (await bus.stats()).find(
        (s) => s.name === 'held' && s.handled === handled && s.inFlight === 0 && s.lag === 0,
      ),
    `${handled} held events acked`,
  )

describe('batch messages at the edge, handed in by the test', () => {
  it("stats() count a batch call's events one by one and the duration the Worker measured, not the Queue's round trip", async () => {
    const bus = freshBus(1)
    const results = await bus.publishMany(
      [{ n: 1 }, { poison: true }, { n: 3 }].map((data) => ({ type: 'held.row', data })),
    )
    const ids = results.map((result) => result.id)
    const [body] = await held(ids, 1)
    expect(body!.events).toHaveLength(3)
    // The message waits 30 s on the object's clock before a Worker runs it (its lease is 60 s).
    await shardStub(bus.name, 0).advance(30_000)
    expect((await deliver(bus, [body!])).explicitAcks).toHaveLength(1)
    const row = await eventually(
      async () => (await bus.stats()).find((s) => s.name === 'held' && s.handled === 2),
      'the outcome in stats()',
    )
    // Two events acked, the poison marked failed (its retry is held back, still out).
    expect(row.failed).toBe(1)
    // One call, timed in the Worker: the round trip on the object's clock was over 30 s.
    expect(row.duration.p50).toBe(row.duration.max)
    expect(row.duration.max).toBeLessThan(30_000)
  })

  it('several messages of one batch subscription in one Queue batch are merged into one handler call; each event is acked once', async () => {
    const bus = freshBus(1)
    // Published apart, so the object sends two messages (a batch of one each, both out at once).
    const first = await bus.publish('held.a', { n: 1 })
    const [one] = await held([first.id], 1)
    const second = await bus.publish('held.b', { n: 2 })
    const [two] = await held([second.id], 1)
    expect(one!.delivery).not.toBe(two!.delivery)
    expect((await deliver(bus, [one!, two!])).explicitAcks).toHaveLength(2)
    const row = await heldStats(bus, 2)
    expect(row).toMatchObject({ failed: 0, retrying: 0, deadLetters: 0 })
    expect(await calls(bus, 'seen.held')).toEqual([{ ids: [first.id, second.id], attempt: 1 }])
    // Delivered again, both are acked unrun: no second call, no second ack.
    expect((await deliver(bus, [one!, two!])).explicitAcks).toHaveLength(2)
    expect(await calls(bus, 'seen.held')).toHaveLength(1)
    expect((await bus.stats()).find((s) => s.name === 'held')).toMatchObject({ handled: 2 })
  })

  it('a Worker that dies with a batch out: the lease lapses, the batch runs again; nothing acked runs twice', async () => {
    const bus = freshBus(1)
    const stub = shardStub(bus.name, 0)
    const rows = (from: number, count: number) =>
      Array.from({ length: count }, (_, index) => ({ type: 'held.row', data: { n: from + index } }))
    const acked = (await bus.publishMany(rows(0, 3))).map((result) => result.id)
    const [first] = await held(acked, 1)
    expect((await deliver(bus, [first!])).explicitAcks).toHaveLength(1)
    await heldStats(bus, 3)
    const lost = (await bus.publishMany(rows(3, 2))).map((result) => result.id)
    const [out] = await held(lost, 1, 1)
    expect(out!.events).toHaveLength(2)
    // A Worker claims the batch, as its queue() does before running the handler; then its isolate
    // dies: no outcome ever comes back, and nothing acks or retries the Queue message.
    expect(await stub.claim([{ delivery: out!.delivery, redelivered: false }])).toMatchObject({
      ok: true,
      value: [expect.any(Number)],
    })
    // The lease (60 s) lapses on the object's clock; its alarm finds it.
    await stub.advance(61_000)
    await runDurableObjectAlarm(stub)
    // Each event of the lost batch comes again (a retried event runs alone), at attempt 2.
    const again = await held(lost, 2, 2)
    expect(again.map((body) => body.events.length)).toEqual([1, 1])
    expect((await deliver(bus, again)).explicitAcks).toHaveLength(2)
    const row = await heldStats(bus, 5)
    // The lapse failed each event of the lost call once; none is retrying or dead.
    expect(row).toMatchObject({ failed: 2, retrying: 0, deadLetters: 0 })
    const seen = await calls(bus, 'seen.held')
    // The retries arrived in one Queue batch: merged into one call, in seq order.
    expect(seen).toEqual([
      { ids: acked, attempt: 1 },
      { ids: lost, attempt: 2 },
    ])
    // Delivered again, as the Queue redelivers what the dead isolate never acked (the acked batch,
    // the lapsed one, the retries): all acked unrun.
    expect((await deliver(bus, [first!, out!, ...again], 2)).explicitAcks).toHaveLength(4)
    expect(await calls(bus, 'seen.held')).toEqual(seen)
    expect((await bus.stats()).find((s) => s.name === 'held')).toMatchObject({
      handled: 5,
      failed: 2,
    })
  })

  it('a Worker that dies with a batch out, its message redelivered by the Queue before the lease lapses: that attempt fails at once and the batch runs again', async () => {
    const bus = freshBus(1)
    const stub = shardStub(bus.name, 0)
    const ids = (await bus.publishMany([0, 1].map((n) => ({ type: 'held.row', data: { n } })))).map(
      (result) => result.id,
    )
    const [out] = await held(ids, 1, 1)
    expect(await stub.claim([{ delivery: out!.delivery, redelivered: false }])).toMatchObject({
      ok: true,
      value: [expect.any(Number)],
    })
    // The isolate that claimed it died; the Queue delivers the message it never acked again. The
    // object refuses to run it twice, and counts the attempt lost with the runtime, without waiting.
    expect((await deliver(bus, [out!], 2)).explicitAcks).toHaveLength(1)
    expect(await calls(bus, 'seen.held')).toEqual([])
    const again = await held(ids, 2, 2)
    expect((await deliver(bus, again)).explicitAcks).toHaveLength(2)
    expect(await heldStats(bus, 2)).toMatchObject({ failed: 2, retrying: 0, deadLetters: 0 })
    expect(await calls(bus, 'seen.held')).toEqual([{ ids, attempt: 2 }])
  })
})
