import { optionsOf, TRACEPARENT } from './check.js'
import type { PublishHook, PublishSpan } from './instrumentation.js'

/**
 * Publishes under the publish hook: each input checked and given a span, the event carrying the
 * span's traceparent, every span ended with the stored id or the refusal. `append` is the untraced
 * publish path. Only `instrument()` uses it (as the instrumentation's `wrapPublish`): the bus does
 * not import it, so a bus without instrumentation does not download it.
 *
 * @example
 * const result = tracePublishes(hooks.publish, () => [{ type, data }], (inputs) => append(inputs, true))
 */
export const tracePublishes = <I extends { type: string; traceparent?: string | undefined }>(
  hook: PublishHook,
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
