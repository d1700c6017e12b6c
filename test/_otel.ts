// The OpenTelemetry side of the span tests, shared by the Node, Chromium and workerd projects: the
// real SDK (BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter) and the cases each
// runtime runs against a bus given `otel({ tracer })`.
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type ContextManager,
} from '@opentelemetry/api'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base'
import { expect } from 'vitest'
import { otel } from '../adapters/otel/index.js'
import type { Bus, BusOptions, Instrumentation } from '../src/index.js'
import { manualClock } from '../src/testing.js'

/**
 * A synchronous context manager: `context.with` makes a context active for the call it wraps.
 * (@opentelemetry/context-async-hooks, the Node one, is not installed here, and no runtime offers
 * one that follows awaits everywhere; the bus reads the active context synchronously in `publish`,
 * and makes the handling span active synchronously around the handler call.)
 */
export class StackContextManager implements ContextManager {
  #active: Context = ROOT_CONTEXT
  active(): Context {
    return this.#active
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const previous = this.#active
    this.#active = ctx
    try {
      return fn.call(thisArg, ...args)
    } finally {
      this.#active = previous
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target
  }
  enable(): this {
    return this
  }
  disable(): this {
    this.#active = ROOT_CONTEXT
    return this
  }
}

/** A tracer over the real SDK that keeps finished spans in memory, and the instrumentation over it. */
export const tracing = () => {
  context.setGlobalContextManager(new StackContextManager())
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const tracer = provider.getTracer('tidings-test')
  const instrumentation: Instrumentation = otel({ tracer })
  return { tracer, instrumentation, spans: (): ReadableSpan[] => exporter.getFinishedSpans() }
}

/** The traceparent a span's context makes. */
export const traceparentOf = (span: ReadableSpan) =>
  `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`
const parentIdOf = (span: ReadableSpan) => span.parentSpanContext?.spanId

type MakeBus = (options: Pick<BusOptions, 'instrumentation' | 'onError' | 'clock'>) => Bus

/**
 * One trace from a producer through a chained event: the producer's active span → `publish order.placed`
 * → `process order.placed` → `publish invoice.sent` → `process invoice.sent`, with the messaging
 * attributes and the events' traceparents naming the publish spans.
 */
export const chainedTrace = async (makeBus: MakeBus) => {
  const { tracer, instrumentation, spans } = tracing()
  const bus = makeBus({ instrumentation })
  await bus.subscribe('billing', 'order.placed', async (_event, ctx) => {
    await ctx.publish('invoice.sent', { n: 1 })
  })
  await bus.subscribe('mailer', 'invoice.sent', () => {})
  const root = tracer.startSpan('checkout')
  const published = context.with(trace.setSpan(context.active(), root), () =>
    bus.publish('order.placed', { total: 5 }),
  )
  const { id } = await published
  root.end()
  await bus.idle()
  const all = spans()
  const byName = (name: string) => {
    const found = all.filter((span) => span.name === name)
    expect(found, name).toHaveLength(1)
    return found[0]!
  }
  const checkout = byName('checkout'),
    publishOrder = byName('publish order.placed'),
    processOrder = byName('process order.placed')
  const publishInvoice = byName('publish invoice.sent'),
    processInvoice = byName('process invoice.sent')
  // One trace, each span the child of the one before.
  for (const span of all) expect(span.spanContext().traceId).toBe(checkout.spanContext().traceId)
  expect(parentIdOf(publishOrder)).toBe(checkout.spanContext().spanId)
  expect(parentIdOf(processOrder)).toBe(publishOrder.spanContext().spanId)
  expect(parentIdOf(publishInvoice)).toBe(processOrder.spanContext().spanId)
  expect(parentIdOf(processInvoice)).toBe(publishInvoice.spanContext().spanId)
  expect([publishOrder.kind, processOrder.kind]).toEqual([SpanKind.PRODUCER, SpanKind.CONSUMER])
  // The stored events carry their publish spans' contexts.
  const { events } = await bus.read({ limit: 10 })
  expect(events.find((event) => event.type === 'order.placed')!.traceparent).toBe(
    traceparentOf(publishOrder),
  )
  const invoice = events.find((event) => event.type === 'invoice.sent')!
  expect(invoice.traceparent).toBe(traceparentOf(publishInvoice))
  expect(publishOrder.attributes).toEqual({
    'messaging.system': 'tidings',
    'messaging.operation.type': 'send',
    'messaging.operation.name': 'publish',
    'messaging.destination.name': 'order.placed',
    'messaging.message.id': id,
  })
  expect(processOrder.attributes).toEqual({
    'messaging.system': 'tidings',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': 'order.placed',
    'messaging.message.id': id,
    'messaging.consumer.group.name': 'billing',
    'tidings.attempt': 1,
  })
  expect(processInvoice.attributes).toMatchObject({
    'messaging.message.id': invoice.id,
    'messaging.consumer.group.name': 'mailer',
    'messaging.message.conversation_id': id,
  })
  expect(processOrder.status.code).toBe(SpanStatusCode.UNSET)
  await bus.close()
}

/** A failed attempt: exception event and status ERROR; the retry is another span with `tidings.attempt` 2. */
export const failedAttempt = async (makeBus: MakeBus) => {
  const { instrumentation, spans } = tracing()
  const clock = manualClock(0)
  const bus = makeBus({ instrumentation, onError: () => {}, clock })
  await bus.subscribe(
    'flaky',
    'job',
    (_event, ctx) => {
      if (ctx.attempt === 1) throw new TypeError('no connection')
    },
    { retry: { attempts: 2, backoff: { initial: 1000, jitter: false } } },
  )
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
  await bus.publish('job', {}, { traceparent })
  await clock.advance(1000)
  await bus.idle()
  const attempts = spans()
    .filter((span) => span.name === 'process job')
    .sort(
      (a, b) => Number(a.attributes['tidings.attempt']) - Number(b.attributes['tidings.attempt']),
    )
  expect(attempts.map((span) => span.attributes['tidings.attempt'])).toEqual([1, 2])
  const [failed, retried] = attempts as [ReadableSpan, ReadableSpan]
  expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no connection' })
  expect(
    failed.events.map((event) => [
      event.name,
      event.attributes?.['exception.type'],
      event.attributes?.['exception.message'],
    ]),
  ).toEqual([['exception', 'TypeError', 'no connection']])
  expect(retried.status.code).toBe(SpanStatusCode.UNSET)
  // A caller's traceparent is the publish span's parent: the trace is the caller's.
  const publish = spans().find((span) => span.name === 'publish job')!
  expect(publish.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c')
  expect(parentIdOf(publish)).toBe('b7ad6b7169203331')
  for (const attempt of attempts) expect(parentIdOf(attempt)).toBe(publish.spanContext().spanId)
  await bus.close()
}
