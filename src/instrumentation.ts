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

/** A publish of `type` is about to be stored; `traceparent` is the caller's, if given. */
export type PublishHook = (type: string, traceparent: string | undefined) => PublishSpan | undefined

/** A handler of `subscription` is about to run on `event` (attempt 1 on the first try). */
export type HandleHook = (
  event: BusEvent,
  subscription: string,
  attempt: number,
) => HandleSpan | undefined

/**
 * How a publish runs under the publish hook: `read` gives the inputs, `append` stores them (the
 * bus's untraced path). {@link instrument} builds it from a `publish` hook; the bus calls it
 * synchronously (the caller's active span is the parent), and a bus without one ships no wrapper.
 */
export type PublishWrapper = <I extends { type: string; traceparent?: string | undefined }>(
  read: () => readonly I[],
  append: (read: () => readonly I[]) => Promise<unknown>,
) => Promise<unknown>

/**
 * The hooks a tracing library implements: one per publish and one per handling attempt. Either
 * may return undefined to trace nothing for that call. Given to {@link instrument}, which makes
 * the {@link Instrumentation} a bus takes.
 */
export interface InstrumentationHooks {
  publish?: PublishHook | undefined
  handle?: HandleHook | undefined
}

/**
 * What `createBus({ instrumentation })` takes: hooks per publish and per handling attempt, made by
 * {@link instrument} (`otel()` makes one). A `publish` hook comes with the `wrapPublish` strategy
 * that runs publishes under it, so the bus itself carries no tracing code; the type refuses a
 * `publish` hook without it.
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
export type Instrumentation = { handle?: HandleHook | undefined } & (
  | { publish?: undefined; wrapPublish?: undefined }
  | { publish: PublishHook; wrapPublish: PublishWrapper }
)
