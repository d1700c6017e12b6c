import type { Instrumentation, InstrumentationHooks } from './instrumentation.js'
import { tracePublishes } from './trace-publishes.js'

/**
 * Makes a bus's `instrumentation` from tracing hooks: with a `publish` hook it brings the wrapper
 * that runs each publish under it (checked inputs, a span each, the traceparent on the event, every
 * span ended). The wrapper is a strategy the instrumentation carries, so an app without tracing
 * does not download it. `otel()` is built with it; so can any other tracing library be.
 *
 * @example
 * const instrumentation = instrument({
 *   publish: (type) => ({ traceparent: newTraceparent(), end: ({ id }) => console.log(type, id) }),
 * })
 * const bus = createBus({ instrumentation })
 */
export const instrument = (hooks: InstrumentationHooks): Instrumentation => {
  const { publish, handle } = hooks
  return publish
    ? {
        handle,
        publish,
        wrapPublish: (read, append) => tracePublishes(publish, read, append),
      }
    : { handle }
}
