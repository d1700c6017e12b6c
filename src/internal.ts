/**
 * The adapter kit: what adapters (tidings/cloudflare, tidings/otel, ...) use of the core beyond
 * the public API. Not a public entry point: its exports may change with any release.
 *
 * @example
 * import { durationSamples, percentiles, reportDuration } from '../../src/internal.js'
 */
export {
  DURATION_WINDOW,
  durationSamples,
  percentiles,
  reportDuration,
} from './subscriptions/metrics.js'
export type { DurationPercentiles, SubscriptionMetrics } from './subscriptions/metrics.js'
export { tracePublishes } from './instrumentation.js'
export type { HandleSpan, Instrumentation, PublishSpan } from './instrumentation.js'
