/**
 * The hooks a tracing library plugs into (OpenTelemetry's through `tidings/otel`). The core calls
 * them and knows no tracing library; without `instrumentation` the bus makes no call at all.
 */
import { optionsOf, TRACEPARENT } from './check.js'
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

/**
 * Publishes under the publish hook: each input checked and given a span, the event carrying the
 * span's traceparent, every span ended with the stored id or the refusal. `append` is the bus's
 * untraced publish path; this wraps it only when a hook is given, so a bus without one pays nothing.
 *
 * @example
 * const result = tracePublishes(instrumentation.publish, () => [{ type, data }], (inputs) => append(inputs, true))
 */
export const tracePublishes = <I extends { type: string; traceparent?: string | undefined }>(
  hook: NonNullable<Instrumentation['publish']>,
  read: () => readonly I[],
  append: (read: () => readonly I[]) => Promise<unknown>,
): Promise<unknown> => {
  const spans: (PublishSpan | undefined)[] = []
  const traced = () => {
    const inputs = read()
    // Not an array: append refuses it with its own message.
    if (!Array.isArray(inputs)) return inputs
    return inputs.map((input) => {
      optionsOf(input ?? null, 'publishMany: each event')
      const { type, traceparent } = input
      // A bad type or traceparent gets no span and is refused by append as it stands.
      const span =
        typeof type === 'string' && (traceparent === undefined || TRACEPARENT.test(traceparent))
          ? hook(type, traceparent)
          : undefined
      spans.push(span)
      return span ? { ...input, traceparent: span.traceparent } : input
    })
  }
  return append(traced).then(
    (result) => {
      const results = (Array.isArray(result) ? result : [result]) as { id?: string }[]
      spans.forEach((span, index) => span?.end({ id: results[index]?.id }))
      return result
    },
    (error: unknown) => {
      for (const span of spans) span?.end({ error })
      throw error
    },
  )
}
