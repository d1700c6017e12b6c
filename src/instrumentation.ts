/**
 * The hooks a tracing library plugs into (OpenTelemetry's through `tidings/otel`). The core calls
 * them and knows no tracing library; without `instrumentation` the bus makes no call at all.
 */
import type { BusEvent } from './event.js'

/** A span around one publish, as the instrumentation started it. */
export interface PublishSpan {
  /** The W3C traceparent the event carries: this span's context, so handling spans are its children. */
  readonly traceparent: string
  /** The publish was stored (`id` is the event's) or refused. */
  end(result: { id?: string | undefined; error?: unknown }): void
}

/** A span around one handling attempt, as the instrumentation started it. */
export interface HandleSpan {
  /** Runs the handler with this span active, so spans and publishes inside it are its children. */
  run<T>(handler: () => T): T
  /** The traceparent a chained publish (`ctx.publish`) starts from: this span's context. */
  readonly traceparent: string
  /** The attempt ended: without an argument it succeeded; with `{ error }` it failed (thrown, timed out, lost). */
  end(failure?: { error: unknown }): void
}

/**
 * What `createBus({ instrumentation })` takes: a hook per publish and per handling attempt. Either
 * may return undefined to trace nothing for that call.
 *
 * @example
 * const logging: Instrumentation = {
 *   handle: (event, subscription, attempt) => ({
 *     traceparent: event.traceparent ?? '', run: (handler) => handler(),
 *     end: (failure) => console.log(subscription, event.type, attempt, failure ? 'failed' : 'ok'),
 *   }),
 * }
 * const bus = createBus({ instrumentation: logging })
 */
export interface Instrumentation {
  /** A publish of `type` is about to be stored; `traceparent` is the caller's, if given. */
  publish?(type: string, traceparent: string | undefined): PublishSpan | undefined
  /** A handler of `subscription` is about to run on `event` (attempt 1 on the first try). */
  handle?(event: BusEvent, subscription: string, attempt: number): HandleSpan | undefined
}
