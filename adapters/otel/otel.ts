import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api'
import type { BusEvent } from '../../src/index.js'
import { instrument, type Instrumentation } from '../../src/internal.js'

/**
 * Options of {@link otel}.
 *
 * @example
 * const options: OtelOptions = { tracer: provider.getTracer('shop') }
 */
export interface OtelOptions {
  /** Where spans go. Default: `trace.getTracer('tidings')` of the global tracer provider, looked up per span. */
  tracer?: Tracer
}

const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/

/** The context a W3C traceparent names (a remote parent), or undefined when it names none. */
const contextOf = (traceparent: string | undefined): Context | undefined => {
  const parts = traceparent ? TRACEPARENT.exec(traceparent) : null
  if (!parts || parts[1] === 'ff' || /^0+$/.test(parts[2]!) || /^0+$/.test(parts[3]!))
    return undefined
  return trace.setSpanContext(context.active(), {
    traceId: parts[2]!,
    spanId: parts[3]!,
    traceFlags: parseInt(parts[4]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  })
}

/** A span's context as a W3C traceparent (version 00). */
const traceparentOf = (span: Span): string => {
  const { traceId, spanId, traceFlags } = span.spanContext()
  return `00-${traceId}-${spanId}-${(traceFlags & TraceFlags.SAMPLED ? 1 : 0).toString(16).padStart(2, '0')}`
}

/** Records a failure on a span: the exception event and status ERROR with its message. */
const failed = (span: Span, error: unknown): void => {
  const exception = error instanceof Error ? error : { name: 'Error', message: String(error) }
  span.recordException(exception)
  span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message })
}

/**
 * OpenTelemetry tracing for a bus: give it as `createBus({ instrumentation: otel() })` (or to
 * `cloudflareBus`). Each publish makes a PRODUCER span `publish <type>` whose context becomes the
 * event's `traceparent` (a child of the active span, or of the caller's `traceparent`); each
 * handling attempt makes a CONSUMER span `process <type>` whose parent is the event's
 * `traceparent`, active while the handler runs, so chained events (`ctx.publish`) and the spans a
 * handler makes join the same trace. A failed attempt records the exception and sets status ERROR.
 * Attributes follow OpenTelemetry's messaging conventions (`messaging.system` = `tidings`).
 *
 * @example
 * import { createBus } from 'tidings'
 * import { otel } from 'tidings/otel'
 * const bus = createBus({ instrumentation: otel() })
 */
export const otel = (options: OtelOptions = {}): Instrumentation => {
  const tracer = () => options.tracer ?? trace.getTracer('tidings')
  // instrument() adds the wrapper that runs each publish under the publish hook: the bus has none of its own.
  return instrument({
    publish(type, traceparent) {
      const attributes: Attributes = {
        'messaging.system': 'tidings',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'publish',
        'messaging.destination.name': type,
      }
      const span = tracer().startSpan(
        `publish ${type}`,
        { kind: SpanKind.PRODUCER, attributes },
        contextOf(traceparent) ?? context.active(),
      )
      return {
        traceparent: traceparentOf(span),
        end({ id, error }) {
          if (id !== undefined) span.setAttribute('messaging.message.id', id)
          if (error !== undefined) failed(span, error)
          span.end()
        },
      }
    },

    handle(event: BusEvent, subscription, attempt) {
      const attributes: Attributes = {
        'messaging.system': 'tidings',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': event.type,
        'messaging.message.id': event.id,
        'messaging.consumer.group.name': subscription,
        'tidings.attempt': attempt,
      }
      if (event.correlationId !== undefined)
        attributes['messaging.message.conversation_id'] = event.correlationId
      const parent = contextOf(event.traceparent) ?? context.active()
      const span = tracer().startSpan(
        `process ${event.type}`,
        { kind: SpanKind.CONSUMER, attributes },
        parent,
      )
      const active = trace.setSpan(parent, span)
      return {
        traceparent: traceparentOf(span),
        run: (handler) => context.with(active, handler),
        end(failure) {
          if (failure) failed(span, failure.error)
          span.end()
        },
      }
    },
  })
}
