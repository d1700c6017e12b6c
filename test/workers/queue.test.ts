import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  runDurableObjectAlarm,
  SELF,
} from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import type { BusEvent } from '../../src/event.js'
import { eventually, freshBus, shardStub } from './helpers.js'

const all = async (bus: ReturnType<typeof freshBus>) => {
  const events: BusEvent[] = []
  for (let from: string | undefined; ;) {
    const page = await bus.read({ ...(from ? { from } : {}), limit: 1000 })
    events.push(...page.events)
    if (!page.events.length) return events
    from = page.next
  }
}
const heal = (healthy: boolean) => SELF.fetch(`http://worker/heal?healthy=${healthy}`)

describe('delivery through a Cloudflare Queue, the object owning retries and dead letters', () => {
  beforeEach(async () => {
    await heal(false)
  })

  it('publish → queue → handler in the Worker → ack by RPC', async () => {
    const bus = freshBus()
    const { id } = await bus.publish(
      'order.placed',
      { total: 5 },
      { key: 'o1', correlationId: 'checkout-1' },
    )
    const done = await eventually(
      async () => (await all(bus)).find((e) => e.type === 'audit.done'),
      'the chained event',
    )
    expect(done.data).toEqual({ of: id, attempt: 1 })
    expect(done.causationId).toBe(id)
    expect(done.correlationId).toBe('checkout-1')
    expect(done.id).toBe(`audit:${id}:0`)
    const stats = await eventually(
      async () =>
        (await bus.stats()).find((s) => s.name === 'audit' && s.lag === 0 && s.inFlight === 0),
      'the ack',
    )
    expect(stats.deadLetters).toBe(0)
  })

  it('a chained publish keeps the trace id with a new span id, as the core does', async () => {
    const bus = freshBus()
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const { id } = await bus.publish('order.placed', { total: 7 }, { key: 'tp1', traceparent })
    const done = await eventually(
      async () => (await all(bus)).find((e) => e.type === 'audit.done' && e.causationId === id),
      'the chained event',
    )
    expect(done.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[\da-f]{16}-01$/)
    expect(done.traceparent).not.toBe(traceparent)
  })

  it('failures follow the backoff, end in dead letters, and a redrive delivers again', async () => {
    const bus = freshBus()
    const { id } = await bus.publish('job.run', { n: 1 })
    const [dead] = await eventually(async () => {
      const d = await bus.deadLetters.list({ subscription: 'job' })
      return d.length ? d : undefined
    }, 'a dead letter')
    expect(dead!.event.id).toBe(id)
    expect(dead!.attempts).toBe(3)
    expect(dead!.error.message).toBe(`job ${id} failed on attempt 3`)
    expect((await bus.stats()).find((s) => s.name === 'job')).toMatchObject({
      deadLetters: 1,
      inFlight: 0,
    })
    await heal(true)
    expect(await bus.deadLetters.redrive([dead!.id])).toBe(1)
    await eventually(
      async () =>
        (await all(bus)).find((e) => e.type === 'done.job' && (e.data as { of: string }).of === id),
      'the redriven delivery',
    )
    await eventually(
      async () => (await bus.deadLetters.list({ subscription: 'job' })).length === 0,
      'the dead letter gone',
    )
  })

  it("a handler's own error with a string code reaches the dead letters as it was thrown", async () => {
    const bus = freshBus()
    await bus.publish('coded.fail', {})
    const [dead] = await eventually(async () => {
      const d = await bus.deadLetters.list({ subscription: 'coded' })
      return d.length ? d : undefined
    }, 'a dead letter')
    expect(dead).toMatchObject({
      attempts: 1,
      error: { name: 'FetchError', message: 'socket hang up' },
    })
  })

  it('a NonRetriableError goes straight to the dead letters', async () => {
    const bus = freshBus()
    await bus.publish('fatal.crash', {})
    const [dead] = await eventually(async () => {
      const d = await bus.deadLetters.list({ subscription: 'fatal' })
      return d.length ? d : undefined
    }, 'a dead letter')
    expect(dead).toMatchObject({
      attempts: 1,
      error: { name: 'NonRetriableError', message: 'never works' },
    })
  })

  it("a delivery that reaches the Queue's own dead-letter queue is recorded in the object", async () => {
    const bus = freshBus()
    const { id } = await bus.publish('lossy.thing', {})
    const [dead] = await eventually(async () => {
      const d = await bus.deadLetters.list({ subscription: 'lossy' })
      return d.length ? d : undefined
    }, 'a dead letter from the DLQ')
    expect(dead!.event.id).toBe(id)
    expect(dead!.error.message).toMatch(/dead-letter queue/)
  })

  it('ordering keys hold end to end: one event in flight per key, in order', async () => {
    const bus = freshBus()
    const keys = ['k1', 'k2', 'k3', 'k4']
    await Promise.all(
      Array.from({ length: 40 }, (_, n) => bus.publish('seq.step', { n }, { key: keys[n % 4]! })),
    )
    const seen = await eventually(
      async () => {
        const s = (await all(bus)).filter((e) => e.type === 'seen.seq')
        return s.length === 40 ? s : undefined
      },
      'every keyed event handled',
      15_000,
    )
    for (const k of keys) {
      const ns = seen.filter((e) => e.key === k).map((e) => (e.data as { n: number }).n)
      expect(ns).toEqual(Array.from({ length: 10 }, (_, i) => i * 4 + keys.indexOf(k)))
    }
  })
})

describe('a Queue message delivered twice, or late, runs nothing (the Worker claims before it runs)', () => {
  type Body = { subscription: string; attempt: number; event: unknown }
  const stashed = async (sub: string, ids: Set<string>) =>
    ((await (await SELF.fetch('http://worker/fixture/stash')).json()) as Body[]).filter(
      (b) =>
        b.subscription === sub &&
        [...ids].some((id) => JSON.stringify(b.event).includes(`"${id}"`)),
    )
  const deliver = async (bus: ReturnType<typeof freshBus>, bodies: unknown[]) => {
    const batch = createMessageBatch(
      'tidings-delivery',
      bodies.map((body, i) => ({ id: `dup-${i}`, timestamp: new Date(), attempts: 1, body })),
    )
    await bus.queue(batch)
    return getQueueResult(batch, createExecutionContext())
  }

  it(
    'a duplicate after the ack is acked unrun: each event handled once, in order per key',
    { timeout: 30_000 },
    async () => {
      // Three shards, as the test Worker's chained publishes assume.
      const bus = freshBus()
      const published = await Promise.all(
        Array.from({ length: 8 }, (_, n) => bus.publish('once.step', { n }, { key: `k${n % 2}` })),
      )
      const seen = async () => (await all(bus)).filter((e) => e.type === 'seen.once')
      await eventually(async () => (await seen()).length === 8, 'every event handled')
      await eventually(
        async () =>
          (await bus.stats()).find((s) => s.name === 'once' && s.lag === 0 && s.inFlight === 0),
        'every ack',
      )
      const copies = await stashed('once', new Set(published.map((p) => p.id)))
      expect(copies).toHaveLength(8)
      // The Queue delivers every message again, after later events of the same key were handled.
      const result = await deliver(bus, copies.reverse())
      expect(result.explicitAcks).toHaveLength(8)
      const after = await seen()
      expect(after).toHaveLength(8)
      for (const k of ['k0', 'k1']) {
        expect(after.filter((e) => e.key === k).map((e) => (e.data as { n: number }).n)).toEqual(
          [0, 2, 4, 6].map((n) => n + Number(k[1])),
        )
      }
    },
  )

  it('a message arriving after its lease lapsed does not start the handler; the object re-sends it', async () => {
    const bus = freshBus()
    const { id } = await bus.publish('late.one', {}, { key: 'l1' })
    const stub = shardStub(bus.name, bus.shardOf('l1'))
    const [first] = await eventually(async () => {
      const c = await stashed('late', new Set([id]))
      return c.length ? c : undefined
    }, 'the first delivery')
    // The lease (60 s) lapses in the object before the message reaches a Worker.
    await stub.advance(61_000)
    await runDurableObjectAlarm(stub)
    const result = await deliver(bus, [first])
    expect(result.explicitAcks).toEqual(['dup-0'])
    expect((await all(bus)).filter((e) => e.type === 'seen.late')).toEqual([])
    // The lapse counted as an attempt: attempt 2 was sent.
    const copies = await eventually(async () => {
      const c = await stashed('late', new Set([id]))
      return c.length === 2 ? c : undefined
    }, 'the second delivery')
    expect(copies[1]!.attempt).toBe(2)
  })
})

describe("handlers reach the Worker's env and waitUntil", () => {
  it('a handler publishes through a binding (env.BUS), and through waitUntil after it returns', async () => {
    const bus = freshBus()
    const { id } = await bus.publish('envy.go', { bus: bus.name })
    const got = await eventually(async () => {
      const e = (await all(bus)).filter((x) => x.type.startsWith('envy.') && x.type !== 'envy.go')
      return e.length === 2 ? e : undefined
    }, 'both publishes')
    expect(got.map((e) => e.id).sort()).toEqual([`later:${id}`, `seen:${id}`])
  })
})
