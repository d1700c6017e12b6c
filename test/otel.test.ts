import { describe, expect, it } from 'vitest'
import { createBus } from '../src/bus.js'
import { manualClock } from '../src/testing.js'
import { chainedTrace, failedAttempt, tracing } from './_otel.js'

describe('tidings/otel with the OpenTelemetry SDK, in Node', () => {
  it('one trace runs from a producer span through a chained event, with the messaging attributes', () =>
    chainedTrace((options) => createBus(options)))
  it('a failed attempt records the exception and sets status ERROR; its retry is a span of its own', () =>
    failedAttempt((options) => createBus(options)))

  it("a span the handler starts is a child of the attempt's span", async () => {
    const { tracer, instrumentation, spans } = tracing()
    const bus = createBus({ instrumentation })
    await bus.subscribe('mailer', 'user.created', () => {
      tracer.startSpan('smtp send').end()
    })
    await bus.publish('user.created', {})
    await bus.idle()
    const process = spans().find((span) => span.name === 'process user.created')!
    expect(spans().find((span) => span.name === 'smtp send')!.parentSpanContext?.spanId).toBe(
      process.spanContext().spanId,
    )
    await bus.close()
  })

  it('a timed-out attempt ends its span with ERROR and the TIMEOUT error', async () => {
    const { instrumentation, spans } = tracing()
    const clock = manualClock(0)
    const bus = createBus({ instrumentation, clock, onError: () => {} })
    await bus.subscribe('slow', 'job', () => new Promise(() => {}), {
      timeout: 100,
      retry: { attempts: 1 },
    })
    await bus.publish('job', {})
    await clock.advance(100)
    await bus.idle()
    const [process] = spans().filter((span) => span.name === 'process job')
    expect(process!.status.code).toBe(2)
    // The SDK names the exception by its `code` when it has one.
    expect(process!.events[0]!.attributes).toMatchObject({ 'exception.type': 'TIMEOUT' })
    await bus.close()
  })

  it('a refused publish: the caller sees the same refusal, and every span started ends with ERROR', async () => {
    const { instrumentation, spans } = tracing()
    const bus = createBus({ instrumentation })
    await expect(bus.publish('t', {}, { traceparent: 'not-w3c' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    })
    await expect(
      bus.publishMany([
        { type: 'ok', data: 1 },
        { type: '', data: 2 },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_TOPIC' })
    // A bad traceparent starts no span (it is not a parent); the batch's spans end with its refusal.
    expect(spans().map((span) => [span.name, span.status.code])).toEqual([
      ['publish ok', 2],
      ['publish ', 2],
    ])
    await bus.close()
  })

  it('without instrumentation the bus adds no traceparent', async () => {
    const bus = createBus()
    await bus.publish('t', {})
    const {
      events: [event],
    } = await bus.read()
    expect(event).not.toHaveProperty('traceparent')
  })
})
