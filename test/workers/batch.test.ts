// Batch handlers at the edge (issue 18): the object makes the batches, each goes out as one Queue
// message, the Worker's queue() runs the batch handler; a poison event inside a batch ends in the
// dead letters while the others ack, and a failed key holds its later events.
import { describe, expect, it } from 'vitest'
import type { BusEvent } from '../../src/event.js'
import {
  cloudflareBus,
  defineSubscriptions,
  type EdgeBatchContext,
} from '../../adapters/cloudflare/index.js'
import { eventually, freshBus, testEnv } from './helpers.js'

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
const calls = async (bus: ReturnType<typeof freshBus>) =>
  (
    await all(
      Object.assign(cloudflareBus(testEnv.BUS, { shards: 3, name: bus.name }), { name: bus.name }),
    )
  )
    .filter((e) => e.type === 'seen.digest')
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
