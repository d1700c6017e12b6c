import { createExecutionContext, createMessageBatch, getQueueResult, SELF } from 'cloudflare:test'
import { SpanKind } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import { cloudflareBus } from '../../adapters/cloudflare/index.js'
import { createBus } from '../../src/bus.js'
import type { BusEvent } from '../../src/event.js'
import { chainedTrace, failedAttempt, traceparentOf, tracing } from '../_otel.js'
import { eventually, fresh, testEnv } from './helpers.js'
import { subscriptions } from './worker.js'

describe('tidings/otel with the OpenTelemetry SDK, in workerd', () => {
  it('one trace runs from a producer span through a chained event, with the messaging attributes', () =>
    chainedTrace((options) => createBus(options)))
  it('a failed attempt records the exception and sets status ERROR; its retry is a span of its own', () =>
    failedAttempt((options) => createBus(options)))

  it(
    "the Cloudflare bus: the Worker's publish and queue() handler spans make one trace, and stats() count the Worker's duration",
    { timeout: 30_000 },
    async () => {
      const { instrumentation, spans } = tracing()
      const name = fresh()
      const bus = cloudflareBus(testEnv.BUS, { shards: 3, name, subscriptions, instrumentation })
      // 'late' deliveries are held back by the test Worker (acked unrun, kept in its stash): this test
      // hands the delivery to its own instrumented client's queue(), as the Queue would.
      const { id } = await bus.publish('late.one', {}, { key: 'trace-1' })
      type Body = { subscription: string; event: unknown }
      const [body] = await eventually(async () => {
        const stash = (await (await SELF.fetch('http://worker/fixture/stash')).json()) as Body[]
        const mine = stash.filter(
          (b) => b.subscription === 'late' && JSON.stringify(b.event).includes(`"${id}"`),
        )
        return mine.length ? mine : undefined
      }, 'the delivery')
      const batch = createMessageBatch('tidings-delivery', [
        { id: 'traced-1', timestamp: new Date(), attempts: 1, body },
      ])
      await bus.queue(batch, testEnv, createExecutionContext())
      expect((await getQueueResult(batch, createExecutionContext())).explicitAcks).toEqual([
        'traced-1',
      ])

      const byName = (spanName: string) => spans().filter((span) => span.name === spanName)
      const [publish] = byName('publish late.one'),
        [process] = byName('process late.one'),
        [chained] = byName('publish seen.late')
      expect(publish!.kind).toBe(SpanKind.PRODUCER)
      expect(process!.kind).toBe(SpanKind.CONSUMER)
      expect(process!.parentSpanContext?.spanId).toBe(publish!.spanContext().spanId)
      expect(chained!.parentSpanContext?.spanId).toBe(process!.spanContext().spanId)
      for (const span of [process!, chained!])
        expect(span.spanContext().traceId).toBe(publish!.spanContext().traceId)
      expect(process!.attributes).toMatchObject({
        'messaging.system': 'tidings',
        'messaging.operation.type': 'process',
        'messaging.destination.name': 'late.one',
        'messaging.message.id': id,
        'messaging.consumer.group.name': 'late',
        'tidings.attempt': 1,
      })
      // The chained event, stored in its object, carries the chained publish span's context.
      const seen = await eventually(async () => {
        const { events } = await bus.read({ pattern: 'seen.late', limit: 100 })
        return (events as BusEvent[]).find((event) => event.causationId === id)
      }, 'the chained event')
      expect(seen.traceparent).toBe(traceparentOf(chained!))

      const row = await eventually(
        async () => (await bus.stats()).find((s) => s.name === 'late' && s.handled === 1),
        'the ack in stats()',
      )
      expect(row).toMatchObject({ failed: 0, inFlight: 0 })
      expect(row.lastHandledAt).toBeGreaterThan(0)
      expect(row.duration.p50).toBe(row.duration.max)
    },
  )

  it(
    "the object's stats() count the duration the Worker reports with the outcome, not the round trip",
    { timeout: 30_000 },
    async () => {
      const name = fresh()
      const bus = cloudflareBus(testEnv.BUS, { shards: 3, name, subscriptions })
      const published = await Promise.all(
        [1, 2].map((n) => bus.publish('late.measured', { n }, { key: `m${n}` })),
      )
      type Body = { subscription: string; event: unknown; delivery: string; object: string }
      const bodies = await eventually(async () => {
        const stash = (await (await SELF.fetch('http://worker/fixture/stash')).json()) as Body[]
        const mine = stash.filter(
          (b) =>
            b.subscription === 'late' &&
            published.some(({ id }) => JSON.stringify(b.event).includes(`"${id}"`)),
        )
        return mine.length === 2 ? mine : undefined
      }, 'both deliveries')
      // As a Worker's queue() does: claim, run (here: it took 4,321 and 1,234 ms), report the outcome with its duration.
      for (const [index, body] of bodies.entries()) {
        const stub = testEnv.BUS.get(testEnv.BUS.idFromString(body.object))
        expect(await stub.claim([{ delivery: body.delivery, redelivered: false }])).toMatchObject({
          ok: true,
        })
        expect(
          await stub.settle([{ delivery: body.delivery, ok: true, ms: index ? 1234 : 4321 }]),
        ).toEqual({ ok: true, value: 1 })
      }
      const row = await eventually(
        async () => (await bus.stats()).find((s) => s.name === 'late' && s.handled === 2),
        'both acks in stats()',
      )
      // Merged over the shards' windows: the nearest-rank p50 of [1234, 4321] is 1234.
      expect(row.duration).toEqual({ p50: 1234, p95: 4321, p99: 4321, max: 4321 })
      expect(row).toMatchObject({ failed: 0 })
      expect(row).not.toHaveProperty('samples')
    },
  )
})
